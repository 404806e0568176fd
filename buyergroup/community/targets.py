"""What can be followed or notified about: one registry, filled by each domain's adapter.

A target type is described once: how to load it by key, who may see it, its URL and label,
and (optionally) an SQL description of the keys a member may see, so the header's unread
count can leave out what became hidden in one query. The built-in types (group, item,
series, organisation, product_group, theme, event, join_request) are registered by
``targets_builtin``; the discussions domain registers ``thread`` the same way::

    register_target("thread", load=..., can_view=..., url=..., label=...,
                    group_of=lambda thread: thread.group_id, visible_keys=...)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import String

from buyergroup.errors import NotFound

#: The type ``visible_keys`` selectables cast ids to (``cast(Item.id, KEY_TYPE)``). One
#: instance for all: SQLAlchemy works out a new type instance's cache key from its class
#: signature on every statement (0.2 ms under a profiler); the header's count builds several.
KEY_TYPE = String()


@dataclass(frozen=True)
class TargetType:
    name: str
    #: keys -> {key: object}; missing keys are gone (deleted).
    load_many: Callable[[list[str]], dict[str, object]]
    can_view: Callable[[object, object], bool]  # (user, target) -> bool
    url: Callable[[object], tuple[str, dict]]  # target -> (endpoint, values)
    label: Callable[[object], str]
    followable: bool = True
    #: target -> working group id (digests group by it), or None.
    group_of: Callable[[object], int | None] = lambda target: None
    #: (user, viewer_id) -> SQL selectable of the keys (as text) the user may see, or None
    #: for "all". ``viewer_id`` is what to compare users' ids with: the header's count builds
    #: its statement once per site role and runs it for every member of that role with
    #: their id as the parameter, so the selectable may depend on ``user`` only through its
    #: role. Without it the header count trusts the decision made when the notification was
    #: made.
    visible_keys: Callable[[object, object], object] | None = None
    #: key as given by a client ("12" or a code) -> the canonical key, or None if malformed.
    parse_key: Callable[[str], str | None] = lambda raw: raw if raw.isdigit() else None
    key_of: Callable[[object], str] = lambda target: str(target.id)
    #: What the type is called on /follows ("Working group"), translated when shown.
    type_label: object = ""


_REGISTRY: dict[str, TargetType] = {}
_generation = 0  # counts registrations: what is built from the registry is built again


def register_target(
    name: str,
    *,
    load: Callable[[str], object | None] | None = None,
    load_many: Callable[[list[str]], dict[str, object]] | None = None,
    can_view: Callable[[object, object], bool],
    url: Callable[[object], str],
    label: Callable[[object], str],
    **options,
) -> TargetType:
    """Describe a target type (``load`` one key, or ``load_many`` keys at once)."""
    if load_many is None:
        if load is None:
            raise TypeError("register_target needs load or load_many")

        def load_many(keys: list[str], _load=load) -> dict[str, object]:
            found = {key: _load(key) for key in keys}
            return {key: obj for key, obj in found.items() if obj is not None}

    target_type = TargetType(name, load_many, can_view, url, label, **options)
    _REGISTRY[name] = target_type
    global _generation
    _generation += 1
    return target_type


def get_type(name: str) -> TargetType:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise NotFound() from None


def known(name: str) -> bool:
    return name in _REGISTRY


def followable_types() -> list[str]:
    return [name for name, t in _REGISTRY.items() if t.followable]


def types() -> Iterable[TargetType]:
    return _REGISTRY.values()


def generation() -> int:
    """Changes whenever a type is registered (for what is built once from ``types()``)."""
    return _generation


def load(name: str, key: str) -> object | None:
    return get_type(name).load_many([key]).get(key)


def load_visible(user, name: str, key: str) -> object:
    """The target, or NotFound when it does not exist or ``user`` may not see it."""
    if not known(name):
        raise NotFound()
    target_type = get_type(name)
    key = target_type.parse_key(str(key))
    if key is None:
        raise NotFound()
    target = target_type.load_many([key]).get(key)
    if target is None or not target_type.can_view(user, target):
        raise NotFound()
    return target


_MISSING = object()


def resolve(pairs: Iterable[tuple[str, str]],
            cache: dict | None = None) -> dict[tuple[str, str], object]:
    """Load many targets with one query per type: {(type, key): target} for those found.

    With ``cache`` (kept by the caller across calls), what was loaded once is not loaded
    again, including what was not found."""
    cache = {} if cache is None else cache
    wanted = set(pairs)
    by_type: dict[str, set[str]] = {}
    for name, key in wanted:
        if (name, key) not in cache:
            by_type.setdefault(name, set()).add(key)
    for name, keys in by_type.items():
        loaded = get_type(name).load_many(sorted(keys)) if known(name) else {}
        for key in keys:
            cache[(name, key)] = loaded.get(key, _MISSING)
    return {pair: cache[pair] for pair in wanted if cache[pair] is not _MISSING}


def path_for(name: str, target: object) -> str:
    """The target's path on the site (works in jobs and commands too: no request needed)."""
    endpoint, values = get_type(name).url(target)
    return current_app.url_map.bind("localhost").build(endpoint, values)


def absolute_url_for(name: str, target: object) -> str:
    return current_app.config["BASE_URL"].rstrip("/") + path_for(name, target)
