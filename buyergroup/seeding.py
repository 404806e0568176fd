"""Load the demo content (organisations, members, working groups) from the YAML in ``seed/``.

Everything is created through the services, never with raw inserts, so the demo data obeys the
same rules as data entered on the site. Loading is idempotent: organisations and groups are
matched by name and members by email, and whatever already exists is left as it is (a second
run must not reset a password or undo changes made on the site since). The loader flushes but
does not commit; the CLI command owns the transaction.

The files are read and checked in full before anything is written, so a mistake in any of them
is reported as a :class:`SeedError` naming the file and entry, and nothing is half-loaded.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import yaml
from sqlalchemy import func, select

from buyergroup.accounts.models import Role, User
from buyergroup.accounts.service import create_user, get_user_by_email
from buyergroup.errors import DomainError
from buyergroup.extensions import db
from buyergroup.i18n import LANGUAGES, is_valid_timezone
from buyergroup.library.models import (
    ItemKind,
    ItemRelation,
    ItemStatus,
    LibraryItem,
    TranslationKind,
)
from buyergroup.network.models import (
    GroupRole,
    JoinPolicy,
    Organisation,
    OrganisationKind,
    WorkingGroup,
)
from buyergroup.network.service import (
    add_affiliation,
    add_member,
    get_organisation_by_name,
    save_group,
    save_organisation,
)
from buyergroup.vocabulary import COUNTRIES, EXPERTISE, SPOKEN_LANGUAGES

DEFAULT_PASSWORD = "buyergroup-demo"
ORGANISATIONS_FILE = "organisations.yaml"
MEMBERS_FILE = "members.yaml"
GROUPS_FILE = "groups.yaml"
GLOSSARY_FILE = "glossary.yaml"
LIBRARY_FOLDER = "library"
FILES_FOLDER = "files"

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
        if self.unreadable_files:
            lines.append("Files whose text could not be read: " + ", ".join(self.unreadable_files))
        if self.demo_accounts:
            lines.append("Demo sign-ins:")
            lines.extend(f"  {email} ({role})" for email, role in self.demo_accounts)
        return "\n".join(lines)


# --- Parsed entries -------------------------------------------------------------------------


@dataclass(frozen=True)
class AffiliationSeed:
    name: str
    since: date | None
    until: date | None
    note: str


@dataclass(frozen=True)
class OrganisationSeed:
    where: str
    name: str
    short_name: str
    kind: OrganisationKind
    country: str | None
    website: str
    description: str
    is_public: bool
    affiliations: tuple[AffiliationSeed, ...]


@dataclass(frozen=True)
class MemberSeed:
    where: str
    email: str
    name: str
    role: Role
    organisation: str | None
    job_title: str
    country: str | None
    languages: tuple[str, ...]
    expertise: tuple[str, ...]
    bio: str
    locale: str | None
    timezone: str | None
    demo_login: bool


@dataclass(frozen=True)
class GroupSeed:
    where: str
    name: str
    summary: str
    description: str
    languages: tuple[str, ...]
    join_policy: JoinPolicy
    is_public: bool
    founded_on: date | None
    host_organisation: str | None
    organisers: tuple[str, ...]
    members: tuple[str, ...]


@dataclass(frozen=True)
class ConceptSeed:
    where: str
    key: str
    note: str
    terms: dict[str, tuple[str, ...]]


@dataclass(frozen=True)
class CommentSeed:
    author: str
    body: str


@dataclass(frozen=True)
class ItemSeed:
    where: str
    seed_key: str
    status: ItemStatus
    created_by: str | None
    authors: tuple[str, ...]
    organisation: str | None
    group: str | None
    translation_of: str | None
    translation_kind: TranslationKind | None
    related: tuple[str, ...]
    attachments: tuple[str, ...]
    comments: tuple[CommentSeed, ...]
    fields: dict[str, Any]  # the item's own fields, as create_item takes them


@dataclass(frozen=True)
class SeedData:
    organisations: tuple[OrganisationSeed, ...]
    members: tuple[MemberSeed, ...]
    groups: tuple[GroupSeed, ...]
    concepts: tuple[ConceptSeed, ...] = ()
    items: tuple[ItemSeed, ...] = ()
    events: EventsSeed | None = None


# --- Reading and checking -------------------------------------------------------------------


class _Entry:
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


def _entries(seed_dir: Path, filename: str, top_key: str, label_key: str) -> list[tuple[str, Any]]:
    """The list under ``top_key`` in ``filename``, each item paired with a readable location."""
    path = seed_dir / filename
    try:
        with path.open(encoding="utf-8") as stream:
            document = yaml.safe_load(stream)
    except FileNotFoundError:
        raise SeedError(f"{filename}: file not found in {seed_dir}") from None
    except yaml.YAMLError as error:
        raise SeedError(f"{filename}: not valid YAML: {error}") from error
    if document is None:
        return []
    if not isinstance(document, Mapping) or not isinstance(document.get(top_key) or [], list):
        raise SeedError(f"{filename}: expected a top-level '{top_key}:' list")
    items = document.get(top_key) or []
    located = []
    for number, item in enumerate(items, start=1):
        label = str(item.get(label_key) or "") if isinstance(item, Mapping) else ""
        where = f"{filename}: {top_key} entry {number}" + (f" ({label})" if label else "")
        located.append((where, item))
    return located


def _parse_organisations(seed_dir: Path) -> tuple[OrganisationSeed, ...]:
    fields = ("name", "short_name", "kind", "country", "website", "description", "is_public",
              "affiliations")  # fmt: skip
    result: list[OrganisationSeed] = []
    for where, raw in _entries(seed_dir, ORGANISATIONS_FILE, "organisations", "name"):
        entry = _Entry(where, raw, fields)
        website = entry.text("website", max_length=300)
        if website and not website.startswith("https://"):
            raise entry.error("website", "must start with https://")
        affiliations_raw = entry.data.get("affiliations") or []
        if not isinstance(affiliations_raw, list):
            raise entry.error("affiliations", "expected a list")
        affiliations = []
        for number, item in enumerate(affiliations_raw, start=1):
            affiliation = _Entry(f"{where}: affiliation {number}", item,
                                 ("name", "since", "until", "note"))  # fmt: skip
            since, until = affiliation.day("since"), affiliation.day("until")
            if since and until and until < since:
                raise affiliation.error("until", "is before since")
            affiliations.append(
                AffiliationSeed(
                    name=affiliation.text("name", required=True, max_length=200),
                    since=since,
                    until=until,
                    note=affiliation.text("note", max_length=300),
                )
            )
        result.append(
            OrganisationSeed(
                where=where,
                name=entry.text("name", required=True, max_length=200),
                short_name=entry.text("short_name", max_length=40),
                kind=entry.choice("kind", OrganisationKind, OrganisationKind.other),
                country=entry.country(),
                website=website,
                description=entry.text("description"),
                is_public=entry.flag("is_public", True),
                affiliations=tuple(affiliations),
            )
        )
    _refuse_duplicates(ORGANISATIONS_FILE, "organisation name", (o.name for o in result))
    return tuple(result)


def _parse_members(seed_dir: Path) -> tuple[MemberSeed, ...]:
    fields = ("email", "name", "role", "organisation", "job_title", "country", "languages",
              "expertise", "bio", "locale", "timezone", "demo_login")  # fmt: skip
    result: list[MemberSeed] = []
    for where, raw in _entries(seed_dir, MEMBERS_FILE, "members", "email"):
        entry = _Entry(where, raw, fields)
        email = entry.text("email", required=True, max_length=254).lower()
        if "@" not in email:
            raise entry.error("email", f"{email!r} is not an email address")
        locale = entry.optional_text("locale")
        if locale is not None and locale not in LANGUAGES:
            raise entry.error("locale", f"{locale!r} is not one of: {', '.join(LANGUAGES)}")
        timezone = entry.optional_text("timezone")
        if timezone is not None and not is_valid_timezone(timezone):
            raise entry.error("timezone", f"{timezone!r} is not a known time zone")
        result.append(
            MemberSeed(
                where=where,
                email=email,
                name=entry.text("name", required=True, max_length=120),
                role=entry.choice("role", Role, Role.member),
                organisation=entry.optional_text("organisation"),
                job_title=entry.text("job_title", max_length=160),
                country=entry.country(),
                languages=entry.codes("languages", SPOKEN_LANGUAGES),
                expertise=entry.codes("expertise", EXPERTISE),
                bio=entry.text("bio"),
                locale=locale,
                timezone=timezone,
                demo_login=entry.flag("demo_login", False),
            )
        )
    _refuse_duplicates(MEMBERS_FILE, "email", (m.email for m in result))
    return tuple(result)


def _parse_groups(seed_dir: Path) -> tuple[GroupSeed, ...]:
    fields = ("name", "summary", "description", "languages", "join_policy", "is_public",
              "founded_on", "host_organisation", "organisers", "members")  # fmt: skip
    result: list[GroupSeed] = []
    for where, raw in _entries(seed_dir, GROUPS_FILE, "groups", "name"):
        entry = _Entry(where, raw, fields)
        organisers = tuple(email.lower() for email in entry.codes("organisers"))
        members = tuple(email.lower() for email in entry.codes("members"))
        if not organisers:
            # The services keep every group with at least one organiser; start that way too.
            raise entry.error("organisers", "a group needs at least one organiser")
        both = sorted(set(organisers) & set(members))
        if both:
            raise entry.error("members", f"also listed as organisers: {', '.join(both)}")
        result.append(
            GroupSeed(
                where=where,
                name=entry.text("name", required=True, max_length=200),
                summary=entry.text("summary", max_length=300),
                description=entry.text("description"),
                languages=entry.codes("languages", SPOKEN_LANGUAGES),
                join_policy=entry.choice("join_policy", JoinPolicy, JoinPolicy.approval),
                is_public=entry.flag("is_public", True),
                founded_on=entry.day("founded_on"),
                host_organisation=entry.optional_text("host_organisation"),
                organisers=organisers,
                members=members,
            )
        )
    _refuse_duplicates(GROUPS_FILE, "group name", (g.name for g in result))
    return tuple(result)


def _refuse_duplicates(filename: str, what: str, values: Iterable[str]) -> None:
    seen: set[str] = set()
    for value in values:
        # Names are unique regardless of case in the database, so compare them that way here.
        if value.lower() in seen:
            raise SeedError(f"{filename}: {what} {value!r} appears more than once")
        seen.add(value.lower())


def _check_references(data: SeedData) -> None:
    """Every organisation and email referred to is in the files or already in the database."""
    organisation_names = {o.name.lower() for o in data.organisations}
    emails = {m.email for m in data.members}

    def check_organisation(where: str, key: str, name: str | None) -> None:
        if name and name.lower() not in organisation_names and not get_organisation_by_name(name):
            raise SeedError(
                f"{where}: {key}: unknown organisation {name!r} "
                f"(not in {ORGANISATIONS_FILE} nor in the database)"
            )

    for member in data.members:
        check_organisation(member.where, "organisation", member.organisation)
    for group in data.groups:
        check_organisation(group.where, "host_organisation", group.host_organisation)
        for key, listed in (("organisers", group.organisers), ("members", group.members)):
            for email in listed:
                if email not in emails and get_user_by_email(email) is None:
                    raise SeedError(
                        f"{group.where}: {key}: unknown member {email!r} "
                        f"(not in {MEMBERS_FILE} nor in the database)"
                    )


def read_seed(seed_dir: Path) -> SeedData:
    """Parse and check all the files without writing anything."""
    data = SeedData(
        organisations=_parse_organisations(seed_dir),
        members=_parse_members(seed_dir),
        groups=_parse_groups(seed_dir),
        concepts=_parse_glossary(seed_dir),
        items=_parse_library(seed_dir),
        events=_parse_events(seed_dir),
    )
    _check_references(data)
    _check_library_references(data, seed_dir)
    _check_event_references(data)
    return data


# --- Loading --------------------------------------------------------------------------------


def load_seed(seed_dir: Path, *, password: str = DEFAULT_PASSWORD) -> SeedReport:
    """Create the organisations, members, groups, glossary and library in ``seed_dir``.

    Existing records (same organisation or group name, same email, same glossary key, same
    library ``seed_key``) are kept unchanged and counted as existing. Flushes but does not
    commit. Raises :class:`SeedError` when a file is invalid or refers to something unknown.
    """
    data = read_seed(Path(seed_dir))
    report = SeedReport()
    for organisation in data.organisations:
        _load_organisation(organisation, report)
    for member in data.members:
        _load_member(member, password, report)
    for group in data.groups:
        _load_group(group, report)
    for concept in data.concepts:
        _load_concept(concept, report)
    _load_library(data.items, Path(seed_dir), report)
    if data.events is not None:
        _load_events(data.events, report)
    db.session.flush()
    return report


def _load_organisation(seed: OrganisationSeed, report: SeedReport) -> Organisation:
    organisation = get_organisation_by_name(seed.name)
    report.organisations.count(created=organisation is None)
    if organisation is None:
        with _located(seed.where):
            organisation = save_organisation(
                None,
                name=seed.name,
                short_name=seed.short_name,
                kind=seed.kind.value,
                country=seed.country,
                website=seed.website,
                description=seed.description,
                is_public=seed.is_public,
            )
    # Affiliations are added even to an existing organisation, so new ones in the file arrive;
    # add_affiliation returns the existing record for the same name and start date.
    for affiliation in seed.affiliations:
        known = any(
            a.name == affiliation.name and a.since == affiliation.since
            for a in organisation.affiliations
        )
        with _located(f"{seed.where}: affiliation {affiliation.name!r}"):
            add_affiliation(
                None,
                organisation,
                name=affiliation.name,
                since=affiliation.since,
                until=affiliation.until,
                note=affiliation.note,
            )
        report.affiliations.count(created=not known)
    return organisation


def _load_member(seed: MemberSeed, password: str, report: SeedReport) -> User:
    user = get_user_by_email(seed.email)
    report.users.count(created=user is None)
    if user is None:
        organisation = _organisation(seed.where, seed.organisation)
        with _located(seed.where):
            user = create_user(
                email=seed.email,
                name=seed.name,
                password=password,
                role=seed.role,
                organisation=organisation,
                job_title=seed.job_title,
                country=seed.country,
                bio=seed.bio,
                locale=seed.locale,
                timezone=seed.timezone,
                languages=list(seed.languages),
                expertise=list(seed.expertise),
            )
    if seed.demo_login:
        # Report the role the account really has, in case an admin changed it since.
        report.demo_accounts.append((user.email, user.role.value))
    return user


def _load_group(seed: GroupSeed, report: SeedReport) -> WorkingGroup:
    group = db.session.scalar(
        select(WorkingGroup).where(func.lower(WorkingGroup.name) == seed.name.lower())
    )
    report.groups.count(created=group is None)
    if group is None:
        with _located(seed.where):
            group = save_group(
                None,
                name=seed.name,
                summary=seed.summary,
                description=seed.description,
                languages=list(seed.languages),
                join_policy=seed.join_policy.value,
                is_public=seed.is_public,
                founded_on=seed.founded_on,
                host_organisation=_organisation(seed.where, seed.host_organisation),
            )
    for role, emails in ((GroupRole.organiser, seed.organisers), (GroupRole.member, seed.members)):
        for email in emails:
            user = get_user_by_email(email)
            if user is None:  # _check_references makes this impossible; fail loudly if not
                raise SeedError(f"{seed.where}: unknown member {email!r}")
            # An existing membership is left alone: its role or state may have been changed on
            # the site, and reloading the demo must not undo that.
            if group.membership_of(user) is None:
                add_member(group, user, role=role)
                report.memberships.count(created=True)
            else:
                report.memberships.count(created=False)
    return group


def _organisation(where: str, name: str | None) -> Organisation | None:
    if not name:
        return None
    organisation = get_organisation_by_name(name)
    if organisation is None:  # checked up front; this guards against a broken invariant
        raise SeedError(f"{where}: unknown organisation {name!r}")
    return organisation


@contextmanager
def _located(where: str) -> Iterator[None]:
    """Turn a service's DomainError into a SeedError that says which entry caused it."""
    try:
        yield
    except DomainError as error:
        raise SeedError(f"{where}: {error}") from error


# --- Glossary and library -------------------------------------------------------------------


def _parse_glossary(seed_dir: Path) -> tuple[ConceptSeed, ...]:
    """``glossary.yaml``: a list of {key, note, terms: {en: [...], nl: [...], ...}}.

    Optional: a seed folder without it has no glossary.
    """
    from buyergroup.glossary.service import GLOSSARY_LANGUAGES, KEY_RE

    path = seed_dir / GLOSSARY_FILE
    if not path.exists():
        return ()
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise SeedError(f"{GLOSSARY_FILE}: not valid YAML: {error}") from error
    if isinstance(document, Mapping):
        document = document.get("concepts")
    if document is None:
        return ()
    if not isinstance(document, list):
        raise SeedError(f"{GLOSSARY_FILE}: expected a list of concepts")
    result = []
    for number, raw in enumerate(document, start=1):
        label = raw.get("key") if isinstance(raw, Mapping) else None
        where = f"{GLOSSARY_FILE}: concept {number}" + (f" ({label})" if label else "")
        entry = _Entry(where, raw, ("key", "note", "terms"))
        key = entry.text("key", required=True, max_length=80)
        if not KEY_RE.match(key):
            raise entry.error("key", "use lower-case letters, digits and hyphens")
        terms_raw = entry.data.get("terms")
        if not isinstance(terms_raw, Mapping) or not terms_raw:
            raise entry.error("terms", "expected a mapping of language to a list of terms")
        terms = {}
        for language, values in terms_raw.items():
            if language not in GLOSSARY_LANGUAGES:
                raise entry.error("terms", f"unknown language {language!r}")
            if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                raise entry.error("terms", f"{language}: expected a list of text values")
            terms[language] = tuple(v.strip() for v in values if v.strip())
        result.append(ConceptSeed(where, key, entry.text("note"), terms))
    _refuse_duplicates(GLOSSARY_FILE, "concept key", (c.key for c in result))
    return tuple(result)


ITEM_TEXT_FIELDS = (
    "title", "summary", "body", "source_url", "licence", "legal_system", "verification_notes",
    "rationale", "approach", "results", "lessons", "challenges", "next_steps", "reference",
)  # fmt: skip
ITEM_KEYS = (
    *ITEM_TEXT_FIELDS, "seed_key", "kind", "language", "status", "visibility", "group",
    "organisation", "authors", "created_by", "year", "product_groups", "themes", "countries",
    "phase", "ambition", "verification", "label_scope", "translation_of", "translation_kind",
    "related", "attachments", "comments",
)  # fmt: skip


def _parse_library(seed_dir: Path) -> tuple[ItemSeed, ...]:
    """``library/*.yaml``: one item per file (see any of them for the fields)."""
    from buyergroup.library.models import Ambition, LabelScope, Phase, Visibility
    from buyergroup.library.service import ITEM_LANGUAGES
    from buyergroup.vocabulary import PRODUCT_GROUPS, THEMES, VERIFICATION

    folder = seed_dir / LIBRARY_FOLDER
    if not folder.is_dir():
        return ()
    result = []
    for path in sorted(folder.glob("*.yaml")):
        where = f"{LIBRARY_FOLDER}/{path.name}"
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as error:
            raise SeedError(f"{where}: not valid YAML: {error}") from error
        entry = _Entry(where, raw, ITEM_KEYS)
        language = entry.text("language", required=True)
        if language not in ITEM_LANGUAGES:
            raise entry.error("language", f"{language!r} is not one of {', '.join(ITEM_LANGUAGES)}")
        status = entry.choice("status", ItemStatus, ItemStatus.draft)
        if status not in (ItemStatus.draft, ItemStatus.submitted, ItemStatus.published):
            raise entry.error("status", "use published, submitted or draft")
        year = entry.data.get("year")
        if year is not None and (not isinstance(year, int) or not 1990 <= year <= 2100):
            raise entry.error("year", f"expected a year, got {year!r}")
        countries = tuple(c.upper() for c in entry.codes("countries"))
        unknown = [c for c in countries if c not in COUNTRIES]
        if unknown:
            raise entry.error("countries", f"unknown country code(s): {', '.join(unknown)}")
        comments_raw = entry.data.get("comments") or []
        if not isinstance(comments_raw, list):
            raise entry.error("comments", "expected a list")
        comments = []
        for number, item in enumerate(comments_raw, start=1):
            comment = _Entry(f"{where}: comment {number}", item, ("author", "body"))
            comments.append(CommentSeed(
                author=comment.text("author", required=True).lower(),
                body=comment.text("body", required=True),
            ))
        fields: dict[str, Any] = {name: entry.text(name) for name in ITEM_TEXT_FIELDS}
        if not fields["title"]:
            raise entry.error("title", "is required")
        visibility = entry.choice("visibility", Visibility, Visibility.members)
        group = entry.optional_text("group")
        if visibility is Visibility.group and not group:
            raise entry.error("group", "visibility: group needs the name of a working group")
        fields.update(
            kind=entry.choice("kind", ItemKind, ItemKind.report),
            language=language,
            visibility=visibility,
            year=year,
            product_groups=list(entry.codes("product_groups", PRODUCT_GROUPS)),
            themes=list(entry.codes("themes", THEMES)),
            countries=list(countries),
            verification=list(entry.codes("verification", VERIFICATION)),
            phase=entry.data.get("phase") and entry.choice("phase", Phase, None),
            ambition=entry.data.get("ambition") and entry.choice("ambition", Ambition, None),
            label_scope=(
                entry.data.get("label_scope") and entry.choice("label_scope", LabelScope, None)
            ),
        )
        translation_of = entry.optional_text("translation_of")
        translation_kind = None
        if translation_of:
            translation_kind = entry.choice("translation_kind", TranslationKind,
                                            TranslationKind.member)
        seed_key = entry.text("seed_key", required=True, max_length=120)
        result.append(ItemSeed(
            where=where,
            seed_key=seed_key,
            status=status,
            created_by=(entry.optional_text("created_by") or "").lower() or None,
            authors=tuple(a.lower() for a in entry.codes("authors")),
            organisation=entry.optional_text("organisation"),
            group=group,
            translation_of=translation_of,
            translation_kind=translation_kind,
            related=entry.codes("related"),
            attachments=entry.codes("attachments"),
            comments=tuple(comments),
            fields=fields,
        ))
    _refuse_duplicates(LIBRARY_FOLDER, "seed_key", (i.seed_key for i in result))
    return tuple(result)


def _check_library_references(data: SeedData, seed_dir: Path) -> None:
    emails = {m.email for m in data.members}
    organisations = {o.name.lower() for o in data.organisations}
    groups = {g.name.lower() for g in data.groups}
    keys = {i.seed_key for i in data.items}

    def known_key(key: str) -> bool:
        return key in keys or db.session.scalar(
            select(LibraryItem.id).where(LibraryItem.seed_key == key)
        ) is not None

    for item in data.items:
        people = [("created_by", item.created_by)] if item.created_by else []
        people += [("authors", a) for a in item.authors]
        people += [("comments", c.author) for c in item.comments]
        for key, email in people:
            if email not in emails and get_user_by_email(email) is None:
                raise SeedError(f"{item.where}: {key}: unknown member {email!r}")
        if (item.organisation and item.organisation.lower() not in organisations
                and not get_organisation_by_name(item.organisation)):
            raise SeedError(f"{item.where}: organisation: unknown organisation "
                            f"{item.organisation!r}")
        if item.group and item.group.lower() not in groups and _group_named(item.group) is None:
            raise SeedError(f"{item.where}: group: unknown working group {item.group!r}")
        for key in [item.translation_of] if item.translation_of else []:
            if key == item.seed_key or not known_key(key):
                raise SeedError(f"{item.where}: translation_of: unknown item {key!r}")
        for key in item.related:
            if not known_key(key):
                raise SeedError(f"{item.where}: related: unknown item {key!r}")
        for name in item.attachments:
            if "/" in name or "\\" in name or not (seed_dir / FILES_FOLDER / name).is_file():
                raise SeedError(f"{item.where}: attachments: no file {name!r} in "
                                f"{FILES_FOLDER}/")


def _group_named(name: str) -> WorkingGroup | None:
    return db.session.scalar(
        select(WorkingGroup).where(func.lower(WorkingGroup.name) == name.lower())
    )


def _load_concept(seed: ConceptSeed, report: SeedReport) -> None:
    from buyergroup.glossary.service import get_concept_by_key, save_concept

    existing = get_concept_by_key(seed.key)
    report.concepts.count(created=existing is None)
    if existing is None:
        with _located(seed.where):
            save_concept(None, key=seed.key, note=seed.note,
                         terms={lang: list(terms) for lang, terms in seed.terms.items()})


def _translation_order(items: tuple[ItemSeed, ...]) -> list[ItemSeed]:
    """Originals before their translations (a translation joins an existing item)."""
    by_key = {i.seed_key: i for i in items}
    ordered: list[ItemSeed] = []
    placed: set[str] = set()

    def place(item: ItemSeed, path: tuple[str, ...] = ()) -> None:
        if item.seed_key in placed:
            return
        if item.seed_key in path:
            raise SeedError(f"{item.where}: translation_of goes round in a circle")
        parent = by_key.get(item.translation_of or "")
        if parent is not None:
            place(parent, (*path, item.seed_key))
        ordered.append(item)
        placed.add(item.seed_key)

    for item in items:
        place(item)
    return ordered


def _item_by_key(key: str) -> LibraryItem | None:
    return db.session.scalar(select(LibraryItem).where(LibraryItem.seed_key == key))


def _load_library(items: tuple[ItemSeed, ...], seed_dir: Path, report: SeedReport) -> None:
    """Items through the library service, files through the upload checks, then relations.

    Attachments are read at once (in the extraction subprocess), so the seeded library is
    searchable as soon as the load is committed.
    """
    from buyergroup.library import extraction, service, uploads

    for seed in _translation_order(items):
        if _item_by_key(seed.seed_key) is not None:
            report.library_items.count(created=False)
            continue
        report.library_items.count(created=True)
        creator = get_user_by_email(seed.created_by) if seed.created_by else None
        stored = []
        for name in seed.attachments:
            with (seed_dir / FILES_FOLDER / name).open("rb") as stream, _located(
                f"{seed.where}: attachment {name}"
            ):
                stored.append(uploads.store_upload(stream, name))
        fields = dict(seed.fields)
        fields.update(
            organisation=_organisation(seed.where, seed.organisation),
            group=_group_named(seed.group) if seed.group else None,
            authors=[get_user_by_email(email) for email in seed.authors],
        )
        with _located(seed.where):
            item = service.create_item(
                None,
                seed_key=seed.seed_key,
                status=seed.status,
                created_by=creator,
                translation_of=_item_by_key(seed.translation_of) if seed.translation_of else None,
                translation_kind=seed.translation_kind,
                files=stored,
                note="Demo content",
                **fields,
            )
        for attachment in item.attachments:
            report.attachments.count(created=True)
            outcome = extraction.extract_file(attachment.stored_name)
            extraction.record(attachment, outcome)
            if not outcome.ok:
                report.unreadable_files.append(f"{attachment.original_name} ({outcome.error})")
        for comment in seed.comments:
            author = get_user_by_email(comment.author)
            with _located(f"{seed.where}: comment by {comment.author}"):
                service.add_comment(author, item, comment.body)
            report.comments.count(created=True)
    counted: set[frozenset[int]] = set()
    for seed in items:
        item = _item_by_key(seed.seed_key)
        for key in seed.related:
            other = _item_by_key(key)
            pair = frozenset((item.id, other.id))
            known = db.session.get(ItemRelation, (item.id, other.id)) is not None
            service.relate(None, item, other)
            if pair not in counted:  # a link listed on both items is one link
                counted.add(pair)
                report.relations.count(created=not known)


# --- Events ---------------------------------------------------------------------------------
#
# ``events.yaml``: series (with their sessions), single events, and demo events dated
# relative to the day of loading. Everything goes through ``buyergroup.events.service``.
# Events and series are matched by ``key``; a demo event is created again (with the load
# date in its key) only when no upcoming copy of it exists, so the demo always has future
# events and a second load on the same day creates nothing.

EVENTS_FILE = "events.yaml"
EVENT_FIELDS = (
    "title", "kind", "mode", "timezone", "language", "description", "video_url", "venue_name",
    "venue_address", "capacity", "is_public", "reminders",
)
EVENT_KEYS = (*EVENT_FIELDS, "key", "group", "starts", "ends", "agenda", "materials",
              "registrations")
DEMO_KEYS = (*EVENT_FIELDS, "key", "group", "in_days", "time", "duration_minutes", "agenda",
             "materials", "registrations")
AGENDA_KEYS = ("at", "title", "speakers", "notes", "library")
MATERIAL_KEYS = ("title", "note", "visibility", "minutes", "agenda_item")


@dataclass(frozen=True)
class AgendaSeed:
    at: str  # "HH:MM" on the event's first day, or "YYYY-MM-DD HH:MM"
    title: str
    speakers: str
    notes: str
    library: tuple[str, ...]  # library seed keys


@dataclass(frozen=True)
class MaterialSeed:
    title: str
    note: str
    visibility: str
    minutes: bool
    agenda_item: int | None  # 1-based position in the agenda


@dataclass(frozen=True)
class EventSeed:
    where: str
    key: str
    group: str
    fields: dict[str, Any]  # EventData fields except the times
    starts: datetime | None  # naive, in the event's zone (fixed dates)
    ends: datetime | None
    in_days: int | None = None  # demo events: relative to the day of loading
    time: str = ""
    duration_minutes: int = 0
    agenda: tuple[AgendaSeed, ...] = ()
    materials: tuple[MaterialSeed, ...] = ()
    registrations: tuple[str, ...] = ()


@dataclass(frozen=True)
class SeriesSeed:
    where: str
    key: str
    group: str
    title_pattern: str
    description: str
    sessions: tuple[EventSeed, ...]


@dataclass(frozen=True)
class EventsSeed:
    series: tuple[SeriesSeed, ...] = ()
    events: tuple[EventSeed, ...] = ()
    demo: tuple[EventSeed, ...] = ()


def _local_time(entry: _Entry, key: str, *, required: bool = True) -> datetime | None:
    value = entry.data.get(key)
    if value is None:
        if required:
            raise entry.error(key, "is required (YYYY-MM-DD HH:MM)")
        return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, str):
        try:
            return datetime.strptime(value.strip(), "%Y-%m-%d %H:%M")
        except ValueError:
            pass
    raise entry.error(key, f"expected a local date and time (YYYY-MM-DD HH:MM), got {value!r}")


def _event_fields(entry: _Entry, defaults: Mapping[str, Any]) -> dict[str, Any]:
    from buyergroup.events.models import EventKind, EventMode

    def pick(key, getter):
        return getter(key) if key in entry.data else defaults.get(key)

    fields: dict[str, Any] = {
        "title": pick("title", lambda k: entry.text(k, max_length=200)) or "",
        "kind": (pick("kind", lambda k: entry.choice(k, EventKind, EventKind.workshop).value)
                 or "workshop"),
        "mode": (pick("mode", lambda k: entry.choice(k, EventMode, EventMode.online).value)
                 or "online"),
        "timezone": pick("timezone", entry.text) or "Europe/Brussels",
        "language": pick("language", entry.text) or "en",
        "description": pick("description", entry.text) or "",
        "video_url": pick("video_url", entry.text) or "",
        "venue_name": pick("venue_name", entry.text) or "",
        "venue_address": pick("venue_address", entry.text) or "",
        "is_public": bool(pick("is_public", lambda k: entry.flag(k, False))),
    }
    if not is_valid_timezone(fields["timezone"]):
        raise entry.error("timezone", f"{fields['timezone']!r} is not an IANA time zone")
    capacity = entry.data.get("capacity", defaults.get("capacity"))
    if capacity is not None and (not isinstance(capacity, int) or capacity < 1):
        raise entry.error("capacity", f"expected a whole number of seats, got {capacity!r}")
    fields["capacity"] = capacity
    reminders = entry.data.get("reminders", defaults.get("reminders"))
    if reminders is not None:
        if not isinstance(reminders, list) or not all(isinstance(m, int) for m in reminders):
            raise entry.error("reminders", "expected a list of minutes, e.g. [1440, 60]")
        fields["reminder_minutes"] = list(reminders)
    return fields


def _agenda(entry: _Entry) -> tuple[AgendaSeed, ...]:
    raw = entry.data.get("agenda") or []
    if not isinstance(raw, list):
        raise entry.error("agenda", "expected a list of items")
    items = []
    for number, data in enumerate(raw, start=1):
        item = _Entry(f"{entry.where}: agenda item {number}", data, AGENDA_KEYS)
        at = item.text("at", required=True)
        items.append(AgendaSeed(at, item.text("title", required=True, max_length=200),
                                item.text("speakers", max_length=300), item.text("notes"),
                                item.codes("library")))
    return tuple(items)


def _materials(entry: _Entry) -> tuple[MaterialSeed, ...]:
    raw = entry.data.get("materials") or []
    if not isinstance(raw, list):
        raise entry.error("materials", "expected a list")
    result = []
    for number, data in enumerate(raw, start=1):
        item = _Entry(f"{entry.where}: material {number}", data, MATERIAL_KEYS)
        visibility = item.text("visibility") or "members"
        if visibility not in ("public", "members", "participants"):
            raise item.error("visibility", "expected public, members or participants")
        position = item.data.get("agenda_item")
        if position is not None and not isinstance(position, int):
            raise item.error("agenda_item", "expected the item's number in the agenda")
        result.append(MaterialSeed(item.text("title", required=True, max_length=200),
                                   item.text("note", required=True), visibility,
                                   item.flag("minutes", False), position))
    return tuple(result)


def _event_seed(where: str, data: Any, *, group: str | None = None,
                defaults: Mapping[str, Any] = {}, demo: bool = False) -> EventSeed:  # noqa: B006
    allowed = DEMO_KEYS if demo else EVENT_KEYS
    entry = _Entry(where, data, allowed)
    key = entry.text("key", required=True, max_length=100)
    fields = _event_fields(entry, defaults)
    common = {
        "where": where, "key": key, "group": entry.text("group") or group or "",
        "fields": fields, "agenda": _agenda(entry), "materials": _materials(entry),
        "registrations": entry.codes("registrations"),
    }
    if not common["group"]:
        raise entry.error("group", "is required")
    if demo:
        in_days, duration = entry.data.get("in_days"), entry.data.get("duration_minutes", 90)
        if not isinstance(in_days, int) or in_days < 1:
            raise entry.error("in_days", "expected a number of days from the day of loading")
        if not isinstance(duration, int) or duration < 15:
            raise entry.error("duration_minutes", "expected minutes (at least 15)")
        time_text = entry.text("time", required=True)
        try:
            datetime.strptime(time_text, "%H:%M")
        except ValueError:
            raise entry.error("time", f"expected HH:MM, got {time_text!r}") from None
        return EventSeed(starts=None, ends=None, in_days=in_days, time=time_text,
                         duration_minutes=duration, **common)
    return EventSeed(starts=_local_time(entry, "starts"), ends=_local_time(entry, "ends"),
                     **common)


def _parse_events(seed_dir: Path) -> EventsSeed | None:
    """``events.yaml`` (optional): ``series``, ``events`` and ``demo`` lists."""
    path = seed_dir / EVENTS_FILE
    if not path.exists():
        return None
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        raise SeedError(f"{EVENTS_FILE}: not valid YAML: {error}") from error
    if not isinstance(document, Mapping) or set(document) - {"series", "events", "demo"}:
        raise SeedError(f"{EVENTS_FILE}: expected top-level 'series', 'events' and 'demo' lists")
    series = []
    for number, raw in enumerate(document.get("series") or [], start=1):
        where = f"{EVENTS_FILE}: series {number}"
        entry = _Entry(where, raw, ("key", "group", "title_pattern", "description",
                                     "defaults", "sessions"))
        defaults = entry.data.get("defaults") or {}
        unknown = set(defaults) - set(EVENT_FIELDS)
        if not isinstance(defaults, Mapping) or unknown:
            raise entry.error("defaults", f"unknown field(s) {sorted(unknown)}")
        group = entry.text("group", required=True)
        sessions = tuple(
            _event_seed(f"{where}: session {n}", data, group=group, defaults=defaults)
            for n, data in enumerate(entry.data.get("sessions") or [], start=1)
        )
        pattern = entry.text("title_pattern", required=True, max_length=190)
        if "{n}" not in pattern:
            raise entry.error("title_pattern", "must contain {n}")
        series.append(SeriesSeed(where, entry.text("key", required=True), group, pattern,
                                 entry.text("description"), sessions))
    events = tuple(
        _event_seed(f"{EVENTS_FILE}: events entry {n}", raw)
        for n, raw in enumerate(document.get("events") or [], start=1)
    )
    demo = tuple(
        _event_seed(f"{EVENTS_FILE}: demo entry {n}", raw, demo=True)
        for n, raw in enumerate(document.get("demo") or [], start=1)
    )
    all_keys = [s.key for s in series] + [e.key for s in series for e in s.sessions]
    all_keys += [e.key for e in (*events, *demo)]
    _refuse_duplicates(EVENTS_FILE, "key", all_keys)
    return EventsSeed(tuple(series), events, demo)


def _check_event_references(data: SeedData) -> None:
    if data.events is None:
        return
    emails = {m.email for m in data.members}
    groups = {g.name.lower() for g in data.groups}
    keys = {i.seed_key for i in data.items}
    seeds = [e for s in data.events.series for e in s.sessions]
    seeds += [*data.events.events, *data.events.demo]
    for series in data.events.series:
        if series.group.lower() not in groups and _group_named(series.group) is None:
            raise SeedError(f"{series.where}: group: unknown working group {series.group!r}")
    for seed in seeds:
        if seed.group.lower() not in groups and _group_named(seed.group) is None:
            raise SeedError(f"{seed.where}: group: unknown working group {seed.group!r}")
        for email in seed.registrations:
            if email not in emails and get_user_by_email(email) is None:
                raise SeedError(f"{seed.where}: registrations: unknown member {email!r}")
        for item in seed.agenda:
            for key in item.library:
                if key not in keys and _item_by_key(key) is None:
                    raise SeedError(f"{seed.where}: agenda: unknown library item {key!r}")
        for material in seed.materials:
            if material.agenda_item is not None and not (
                1 <= material.agenda_item <= len(seed.agenda)
            ):
                raise SeedError(f"{seed.where}: materials: no agenda item "
                                f"{material.agenda_item}")


def _event_by_key(key: str):
    from buyergroup.events.models import Event

    return db.session.scalar(select(Event).where(Event.seed_key == key))


def _event_data(seed: EventSeed, starts: datetime, ends: datetime):
    from buyergroup.events.service import EventData

    return EventData(starts_local=starts, ends_local=ends, **seed.fields)


def _fill_event(event, seed: EventSeed, report: SeedReport) -> None:
    """Agenda, materials and registrations of a newly created event (through the services)."""
    from buyergroup.events import service

    start_day = event.local_start.date()
    agenda = []
    for item in seed.agenda:
        at = (datetime.strptime(item.at, "%Y-%m-%d %H:%M") if len(item.at) > 5 else
              datetime.combine(start_day, datetime.strptime(item.at, "%H:%M").time()))
        with _located(f"{seed.where}: agenda {item.title!r}"):
            agenda.append(service.save_agenda_item(
                None, event, starts_local=at, title=item.title, speakers=item.speakers,
                notes=item.notes, library_item_ids=[_item_by_key(k).id for k in item.library],
            ))
    for material in seed.materials:
        with _located(f"{seed.where}: material {material.title!r}"):
            service.add_material(
                None, event, title=material.title, note=material.note,
                visibility=material.visibility, is_minutes=material.minutes,
                agenda_item=agenda[material.agenda_item - 1] if material.agenda_item else None,
                notify=False,
            )
    for email in seed.registrations:
        with _located(f"{seed.where}: registration of {email}"):
            service.register(get_user_by_email(email), event, notify=False)
        report.registrations.count(created=True)


def _create_event(seed: EventSeed, key: str, starts: datetime, ends: datetime,
                  report: SeedReport, series=None):
    from buyergroup.events import service

    with _located(seed.where):
        event = service.create_event(None, _group_named(seed.group),
                                     _event_data(seed, starts, ends), series=series,
                                     seed_key=key)
    report.events.count(created=True)
    _fill_event(event, seed, report)
    return event


def _load_events(data: EventsSeed, report: SeedReport) -> None:
    from buyergroup.database import utcnow
    from buyergroup.events import service
    from buyergroup.events.models import Event, EventSeries
    from buyergroup.events.times import wall_clock

    for series_seed in data.series:
        series = db.session.scalar(
            select(EventSeries).where(EventSeries.seed_key == series_seed.key)
        )
        report.event_series.count(created=series is None)
        if series is None:
            with _located(series_seed.where):
                series = service.create_series(
                    None, _group_named(series_seed.group),
                    title_pattern=series_seed.title_pattern,
                    description=series_seed.description, seed_key=series_seed.key,
                )
        for seed in series_seed.sessions:
            if _event_by_key(seed.key) is not None:
                report.events.count(created=False)
                continue
            _create_event(seed, seed.key, seed.starts, seed.ends, report, series=series)
    for seed in data.events:
        if _event_by_key(seed.key) is not None:
            report.events.count(created=False)
            continue
        _create_event(seed, seed.key, seed.starts, seed.ends, report)
    now = utcnow()
    for seed in data.demo:
        upcoming = db.session.scalar(
            select(Event.id).where(Event.seed_key.startswith(f"{seed.key}@"),
                                   Event.ends_at > now)
        )
        today = wall_clock(now, seed.fields["timezone"]).date()
        key = f"{seed.key}@{today.isoformat()}"
        if upcoming is not None or _event_by_key(key) is not None:
            report.events.count(created=False)
            continue
        starts = datetime.combine(today, datetime.strptime(seed.time, "%H:%M").time())
        starts += timedelta(days=seed.in_days)
        _create_event(seed, key, starts, starts + timedelta(minutes=seed.duration_minutes),
                      report)
