"""Regions of a page that are the same for every reader of one audience, kept (issue 12).

Most of a member's library page, its results and filters, is what every reader who may see
the same things sees: the same search in the same language for the same audience (signed in
or not, the same working groups, a moderator or not) gives the same rows. Such a region is
kept in each process under a key of its name, the path with its query, the language, the
time zone, the audience and the **content generation** (``core/page_cache.py``: every
commit that writes content changes it, the search index's catch-up included), so a
publish, an edit, a hide or a new membership makes every older region unreachable, in
every process at once. Entries live at most ``PAGE_CACHE_SECONDS``.

What differs per reader inside a region (the basket controls with the reader's baskets,
their form token) is a **reader part**: ``reader_part(fill, *args)`` leaves a marker where
the region is made, and the marker is replaced by ``fill(*args)`` each time the region is
served, for the reader it is served to. A region that would still hold the reader's form
token is not kept. The page around the region (its header, its messages, the reader's
menus) is always rendered for the reader.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field

from flask import Flask, current_app, g
from markupsafe import Markup

from buyergroup.core.page_cache import PageCache, holds_form_token, page_key

_PARTS = "kept_region_parts"  # g: the reader parts of the region being made


@dataclass
class _Parts:
    nonce: str = field(default_factory=lambda: secrets.token_hex(8))
    calls: list[tuple[Callable[..., Markup], tuple]] = field(default_factory=list)


@dataclass(frozen=True)
class _Kept:
    html: str
    marker: re.Pattern | None  # None: a region without reader parts
    calls: tuple[tuple[Callable[..., Markup], tuple], ...]

    def for_this_reader(self) -> Markup:
        if self.marker is None:
            return Markup(self.html)
        filled = [str(fill(*args)) for fill, args in self.calls]
        return Markup(self.marker.sub(lambda m: filled[int(m.group(1))], self.html))


def reader_part(fill: Callable[..., Markup], *args: object) -> Markup:
    """``fill(*args)`` for this reader: now, or where a kept region is made, a marker that
    becomes ``fill(*args)`` for each reader the region is served to. ``args`` are plain
    values (an id, a title), never the request's objects: they outlive it."""
    parts: _Parts | None = g.get(_PARTS)
    if parts is None:
        return fill(*args)
    parts.calls.append((fill, args))
    # A NUL and a nonce drawn for this region: no text of the content can be taken for one.
    return Markup(f"\x00{parts.nonce}:{len(parts.calls) - 1}\x00")


def kept_region(name: str, audience: Hashable, render: Callable[[], str]) -> Markup:
    """The region ``name`` of this request's page for ``audience``: kept, or made by
    ``render()`` and kept. ``audience`` must hold everything besides the address, the
    language and the time zone that changes what the region shows (the callers' rule
    functions say what: ``library.browse.results_audience``)."""
    cache: PageCache | None = current_app.extensions.get("kept_regions")
    if cache is None:
        return Markup(render())
    key = page_key(name, audience)
    kept: _Kept | None = cache.get(key)
    if kept is None:
        kept = _made(render)
        # A form token made while the region was (a form built outside a reader part)
        # would tie it to this reader's session.
        if not holds_form_token(kept.html):
            cache.put(key, kept)
    return kept.for_this_reader()


def _made(render: Callable[[], str]) -> _Kept:
    if _PARTS in g:
        raise RuntimeError("kept regions do not nest")
    setattr(g, _PARTS, _Parts())
    try:
        html = str(render())
    finally:
        parts: _Parts = g.pop(_PARTS)
    marker = re.compile(f"\x00{parts.nonce}:(\\d+)\x00") if parts.calls else None
    return _Kept(html, marker, tuple(parts.calls))


def init_app(app: Flask) -> None:
    """Keep regions when ``PAGE_CACHE_SECONDS`` is above 0, as many as
    ``KEPT_REGIONS_SIZE`` per process."""
    seconds = app.config.get("PAGE_CACHE_SECONDS", 0)
    size = app.config.get("KEPT_REGIONS_SIZE", 512)
    if seconds and size:
        app.extensions["kept_regions"] = PageCache(size, seconds)
