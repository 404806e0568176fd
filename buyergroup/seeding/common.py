"""What every seed module shares: the error, the report, and the checked reading of entries."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

import yaml

from buyergroup.errors import DomainError
from buyergroup.vocabulary import COUNTRIES

EnumT = TypeVar("EnumT", bound=enum.Enum)


class SeedError(ValueError):
    """The seed files are invalid or refer to something that does not exist."""


# --- Report ---------------------------------------------------------------------------------


@dataclass
class Tally:
    """How many records of one kind the load created, and how many were already there."""

    created: int = 0
    existing: int = 0

    def count(self, created: bool) -> None:
        if created:
            self.created += 1
        else:
            self.existing += 1


@dataclass
class SeedReport:
    """What :func:`load_seed` did, per kind, plus the demo sign-ins to print."""

    organisations: Tally = field(default_factory=Tally)
    affiliations: Tally = field(default_factory=Tally)
    users: Tally = field(default_factory=Tally)
    groups: Tally = field(default_factory=Tally)
    memberships: Tally = field(default_factory=Tally)
    concepts: Tally = field(default_factory=Tally)
    library_items: Tally = field(default_factory=Tally)
    attachments: Tally = field(default_factory=Tally)
    comments: Tally = field(default_factory=Tally)
    relations: Tally = field(default_factory=Tally)
    event_series: Tally = field(default_factory=Tally)
    events: Tally = field(default_factory=Tally)
    registrations: Tally = field(default_factory=Tally)
    unreadable_files: list[str] = field(default_factory=list)
    demo_accounts: list[tuple[str, str]] = field(default_factory=list)
    # One line each from the loaders that keep their own counts (statements, discussions).
    other_lines: list[str] = field(default_factory=list)

    def summary(self) -> str:
        lines = [
            f"{kind:<14} {tally.created:>3} created, {tally.existing:>3} already there"
            for kind, tally in (
                ("organisations", self.organisations),
                ("affiliations", self.affiliations),
                ("members", self.users),
                ("groups", self.groups),
                ("memberships", self.memberships),
                ("glossary", self.concepts),
                ("library items", self.library_items),
                ("attachments", self.attachments),
                ("comments", self.comments),
                ("related links", self.relations),
                ("event series", self.event_series),
                ("events", self.events),
                ("registrations", self.registrations),
            )
        ]
        lines.extend(self.other_lines)
        if self.unreadable_files:
            lines.append("Files whose text could not be read: " + ", ".join(self.unreadable_files))
        if self.demo_accounts:
            lines.append("Demo sign-ins:")
            lines.extend(f"  {email} ({role})" for email, role in self.demo_accounts)
        return "\n".join(lines)


class Entry:
    """One mapping from a seed file, with typed getters whose errors say where the value is."""

    def __init__(self, where: str, data: Any, allowed: Iterable[str]):
        self.where = where
        if not isinstance(data, Mapping):
            raise SeedError(f"{where}: expected a mapping of fields, got {type(data).__name__}")
        unknown = sorted(set(map(str, data)) - set(allowed))
        if unknown:
            # Usually a typo; silently ignoring it would drop data without anyone noticing.
            raise SeedError(f"{where}: unknown field(s) {', '.join(unknown)}")
        self.data = data

    def error(self, key: str, message: str) -> SeedError:
        return SeedError(f"{self.where}: {key}: {message}")

    def text(self, key: str, *, required: bool = False, max_length: int | None = None) -> str:
        value = self.data.get(key)
        if value is None:
            value = ""
        if not isinstance(value, str):
            # YAML turns bare NO, yes, on, 2021-01-01 ... into booleans and dates.
            raise self.error(key, f"expected text, got {value!r} (put it in quotes)")
        value = value.strip()
        if required and not value:
            raise self.error(key, "is required")
        if max_length is not None and len(value) > max_length:
            raise self.error(key, f"is longer than {max_length} characters")
        return value

    def optional_text(self, key: str, *, max_length: int | None = None) -> str | None:
        return self.text(key, max_length=max_length) or None

    def flag(self, key: str, default: bool) -> bool:
        value = self.data.get(key, default)
        if not isinstance(value, bool):
            raise self.error(key, f"expected true or false, got {value!r}")
        return value

    def day(self, key: str) -> date | None:
        value = self.data.get(key)
        if value is None:
            return None
        # PyYAML already turns an unquoted 2021-06-14 into a date; a quoted one stays text.
        if isinstance(value, datetime):
            raise self.error(key, f"expected a date (YYYY-MM-DD), got a date and time {value}")
        if isinstance(value, date):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value.strip())
            except ValueError:
                pass
        raise self.error(key, f"expected a date (YYYY-MM-DD), got {value!r}")

    def choice(self, key: str, enum_class: type[EnumT], default: EnumT) -> EnumT:
        raw = self.data.get(key)
        if raw is None:
            return default
        try:
            return enum_class(raw)
        except ValueError:
            options = ", ".join(str(member.value) for member in enum_class)
            raise self.error(key, f"{raw!r} is not one of: {options}") from None

    def codes(self, key: str, allowed: Iterable[str] | None = None) -> tuple[str, ...]:
        value = self.data.get(key) or []
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise self.error(key, f"expected a list of text values, got {value!r}")
        items = tuple(item.strip() for item in value)
        if allowed is not None:
            known = set(allowed)
            unknown = [item for item in items if item not in known]
            if unknown:
                raise self.error(key, f"unknown code(s): {', '.join(unknown)}")
        return items

    def country(self, key: str = "country") -> str | None:
        code = self.optional_text(key)
        if code is None:
            return None
        code = code.upper()
        if code not in COUNTRIES:
            raise self.error(key, f"{code!r} is not a country of the network")
        return code


#: libyaml's parser where PyYAML was built with it (as its wheels are): the seed's 55 files
#: parsed in 1.27 s with the pure-Python one, a tenth of loading the seed. The documents
#: are built by the same safe constructor either way.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse_yaml(source):
    """``yaml.safe_load`` of ``source`` (text or a text stream), with libyaml when it is
    there."""
    return yaml.load(source, Loader=_YAML_LOADER)  # noqa: S506 - a safe loader


def read_entries(seed_dir: Path, filename: str, top_key: str,
                 label_key: str) -> list[tuple[str, Any]]:
    """The list under ``top_key`` in ``filename``, each item paired with a readable location."""
    path = seed_dir / filename
    try:
        with path.open(encoding="utf-8") as stream:
            document = parse_yaml(stream)
    except FileNotFoundError:
        raise SeedError(f"{filename}: file not found in {seed_dir}") from None
    except yaml.YAMLError as error:
        raise SeedError(f"{filename}: not valid YAML: {error}") from error
    if document is None:
        return []
    if not isinstance(document, Mapping) or not isinstance(document.get(top_key) or [], list):
        raise SeedError(f"{filename}: expected a top-level '{top_key}:' list")
    items = document.get(top_key) or []
    found = []
    for number, item in enumerate(items, start=1):
        label = str(item.get(label_key) or "") if isinstance(item, Mapping) else ""
        where = f"{filename}: {top_key} entry {number}" + (f" ({label})" if label else "")
        found.append((where, item))
    return found


def refuse_duplicates(filename: str, what: str, values: Iterable[str]) -> None:
    seen: set[str] = set()
    for value in values:
        # Names are unique regardless of case in the database, so compare them that way here.
        if value.lower() in seen:
            raise SeedError(f"{filename}: {what} {value!r} appears more than once")
        seen.add(value.lower())


@contextmanager
def located(where: str) -> Iterator[None]:
    """Turn a service's DomainError into a SeedError that says which entry caused it."""
    try:
        yield
    except DomainError as error:
        raise SeedError(f"{where}: {error}") from error
