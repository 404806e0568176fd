"""Organisations (with their affiliations), members and working groups."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import func, select

from buyergroup.accounts.models import Role, User
from buyergroup.accounts.service import create_user, get_user_by_email
from buyergroup.extensions import db
from buyergroup.i18n import LANGUAGES, is_valid_timezone
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
from buyergroup.seeding.common import (
    Entry,
    SeedError,
    SeedReport,
    located,
    read_entries,
    refuse_duplicates,
)
from buyergroup.vocabulary import EXPERTISE, SPOKEN_LANGUAGES

ORGANISATIONS_FILE = "organisations.yaml"
MEMBERS_FILE = "members.yaml"
GROUPS_FILE = "groups.yaml"


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


def parse_organisations(seed_dir: Path) -> tuple[OrganisationSeed, ...]:
    fields = ("name", "short_name", "kind", "country", "website", "description", "is_public",
              "affiliations")  # fmt: skip
    result: list[OrganisationSeed] = []
    for where, raw in read_entries(seed_dir, ORGANISATIONS_FILE, "organisations", "name"):
        entry = Entry(where, raw, fields)
        website = entry.text("website", max_length=300)
        if website and not website.startswith("https://"):
            raise entry.error("website", "must start with https://")
        affiliations_raw = entry.data.get("affiliations") or []
        if not isinstance(affiliations_raw, list):
            raise entry.error("affiliations", "expected a list")
        affiliations = []
        for number, item in enumerate(affiliations_raw, start=1):
            affiliation = Entry(f"{where}: affiliation {number}", item,
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
    refuse_duplicates(ORGANISATIONS_FILE, "organisation name", (o.name for o in result))
    return tuple(result)


def parse_members(seed_dir: Path) -> tuple[MemberSeed, ...]:
    fields = ("email", "name", "role", "organisation", "job_title", "country", "languages",
              "expertise", "bio", "locale", "timezone", "demo_login")  # fmt: skip
    result: list[MemberSeed] = []
    for where, raw in read_entries(seed_dir, MEMBERS_FILE, "members", "email"):
        entry = Entry(where, raw, fields)
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
    refuse_duplicates(MEMBERS_FILE, "email", (m.email for m in result))
    return tuple(result)


def parse_groups(seed_dir: Path) -> tuple[GroupSeed, ...]:
    fields = ("name", "summary", "description", "languages", "join_policy", "is_public",
              "founded_on", "host_organisation", "organisers", "members")  # fmt: skip
    result: list[GroupSeed] = []
    for where, raw in read_entries(seed_dir, GROUPS_FILE, "groups", "name"):
        entry = Entry(where, raw, fields)
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
    refuse_duplicates(GROUPS_FILE, "group name", (g.name for g in result))
    return tuple(result)


def check_references(organisations: Iterable[OrganisationSeed], members: Iterable[MemberSeed],
                     groups: Iterable[GroupSeed]) -> None:
    """Every organisation and email referred to is in the files or already in the database."""
    members = tuple(members)
    organisation_names = {o.name.lower() for o in organisations}
    emails = {m.email for m in members}

    def check_organisation(where: str, key: str, name: str | None) -> None:
        if name and name.lower() not in organisation_names and not get_organisation_by_name(name):
            raise SeedError(
                f"{where}: {key}: unknown organisation {name!r} "
                f"(not in {ORGANISATIONS_FILE} nor in the database)"
            )

    for member in members:
        check_organisation(member.where, "organisation", member.organisation)
    for group in groups:
        check_organisation(group.where, "host_organisation", group.host_organisation)
        for key, listed in (("organisers", group.organisers), ("members", group.members)):
            for email in listed:
                if email not in emails and get_user_by_email(email) is None:
                    raise SeedError(
                        f"{group.where}: {key}: unknown member {email!r} "
                        f"(not in {MEMBERS_FILE} nor in the database)"
                    )


def load_organisation(seed: OrganisationSeed, report: SeedReport) -> Organisation:
    organisation = get_organisation_by_name(seed.name)
    report.organisations.count(created=organisation is None)
    if organisation is None:
        with located(seed.where):
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
        with located(f"{seed.where}: affiliation {affiliation.name!r}"):
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


def load_member(seed: MemberSeed, password: str, report: SeedReport) -> User:
    user = get_user_by_email(seed.email)
    report.users.count(created=user is None)
    if user is None:
        organisation = organisation_named(seed.where, seed.organisation)
        with located(seed.where):
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


def load_group(seed: GroupSeed, report: SeedReport) -> WorkingGroup:
    group = db.session.scalar(
        select(WorkingGroup).where(func.lower(WorkingGroup.name) == seed.name.lower())
    )
    report.groups.count(created=group is None)
    if group is None:
        with located(seed.where):
            group = save_group(
                None,
                name=seed.name,
                summary=seed.summary,
                description=seed.description,
                languages=list(seed.languages),
                join_policy=seed.join_policy.value,
                is_public=seed.is_public,
                founded_on=seed.founded_on,
                host_organisation=organisation_named(seed.where, seed.host_organisation),
            )
    for role, emails in ((GroupRole.organiser, seed.organisers), (GroupRole.member, seed.members)):
        for email in emails:
            user = get_user_by_email(email)
            if user is None:  # check_references makes this impossible; fail loudly if not
                raise SeedError(f"{seed.where}: unknown member {email!r}")
            # An existing membership is left alone: its role or state may have been changed on
            # the site, and reloading the demo must not undo that.
            if group.membership_of(user) is None:
                add_member(group, user, role=role)
                report.memberships.count(created=True)
            else:
                report.memberships.count(created=False)
    return group


def organisation_named(where: str, name: str | None) -> Organisation | None:
    if not name:
        return None
    organisation = get_organisation_by_name(name)
    if organisation is None:  # checked up front; this guards against a broken invariant
        raise SeedError(f"{where}: unknown organisation {name!r}")
    return organisation


def group_named(name: str) -> WorkingGroup | None:
    return db.session.scalar(
        select(WorkingGroup).where(func.lower(WorkingGroup.name) == name.lower())
    )
