"""Load the demo content (organisations, members, working groups, glossary, library, events,
statements, discussions, recent activity) from the YAML in ``seed/``.

Everything is created through the services, never with raw inserts, so the demo data obeys the
same rules as data entered on the site. Loading is idempotent: organisations and groups are
matched by name, members by email, concepts by key, library items and events by their seed key,
and whatever already exists is left as it is (a second run must not reset a password or undo
changes made on the site since). The loader flushes but does not commit; the CLI command owns
the transaction.

The files are read and checked in full before anything is written, so a mistake in any of them
is reported as a :class:`SeedError` naming the file and entry, and nothing is half-loaded.

One module per domain (``network``, ``glossary``, ``library``, ``events``), each with its
``parse_*``, ``check_references`` and ``load_*``; ``common`` holds the checked reading of
entries and the report. This module only puts them in order; ``activity`` comes last (an
item published, an event changed), so that the demo members find notifications.

What the load does tells the followers as the site would (notifications, the header's
badge), but nothing is emailed: the members are fictional, and the activity happened only
on paper (``community.service.without_email``; services called by the loader as a trusted
caller, ``actor=None``, send no mail of their own either).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from buyergroup.community import service as community
from buyergroup.extensions import db
from buyergroup.seeding import activity, events, library, network, toolkit
from buyergroup.seeding import statements as statements_seed
from buyergroup.seeding.common import SeedError, SeedReport, Tally
from buyergroup.seeding.events import EventsSeed
from buyergroup.seeding.glossary import ConceptSeed, load_concept, parse_glossary
from buyergroup.seeding.library import ItemSeed
from buyergroup.seeding.network import GroupSeed, MemberSeed, OrganisationSeed

__all__ = ["DEFAULT_PASSWORD", "SeedData", "SeedError", "SeedReport", "Tally", "load_seed",
           "read_seed"]

DEFAULT_PASSWORD = "buyergroup-demo"


@dataclass(frozen=True)
class SeedData:
    organisations: tuple[OrganisationSeed, ...]
    members: tuple[MemberSeed, ...]
    groups: tuple[GroupSeed, ...]
    concepts: tuple[ConceptSeed, ...] = ()
    items: tuple[ItemSeed, ...] = ()
    events: EventsSeed | None = None
    statements: statements_seed.StatementsSeed | None = None
    toolkit: toolkit.ToolkitSeed | None = None
    activity: activity.ActivitySeed | None = None


def read_seed(seed_dir: Path) -> SeedData:
    """Parse and check all the files without writing anything."""
    data = SeedData(
        organisations=network.parse_organisations(seed_dir),
        members=network.parse_members(seed_dir),
        groups=network.parse_groups(seed_dir),
        concepts=parse_glossary(seed_dir),
        items=library.parse_library(seed_dir),
        events=events.parse_events(seed_dir),
        statements=statements_seed.parse(seed_dir),
        activity=activity.parse_activity(seed_dir),
    )
    data = replace(data, toolkit=toolkit.parse_toolkit(
        seed_dir, item_keys={i.seed_key for i in data.items},
        emails={m.email for m in data.members}))
    network.check_references(data.organisations, data.members, data.groups)
    emails = {m.email for m in data.members}
    groups = {g.name.lower() for g in data.groups}
    library.check_references(data.items, seed_dir, emails=emails, groups=groups,
                             organisations={o.name.lower() for o in data.organisations})
    if data.events is not None:
        events.check_references(data.events, emails=emails, groups=groups,
                                item_keys={i.seed_key for i in data.items})
    if data.statements is not None:
        statements_seed.check_references(
            data.statements, emails=emails, groups=groups,
            organisations={o.name.lower() for o in data.organisations},
            item_keys={i.seed_key for i in data.items},
        )
    if data.activity is not None:
        activity.check_references(
            data.activity, emails=emails, item_keys={i.seed_key for i in data.items},
            demo_event_keys={e.key for e in data.events.demo} if data.events else set(),
        )
    return data


def load_seed(seed_dir: Path, *, password: str = DEFAULT_PASSWORD) -> SeedReport:
    """Create the organisations, members, groups, glossary, library and events in ``seed_dir``.

    Existing records (same organisation or group name, same email, same glossary key, same
    library or event ``seed_key``) are kept unchanged and counted as existing. Flushes but does
    not commit. Raises :class:`SeedError` when a file is invalid or refers to something unknown.
    """
    data = read_seed(Path(seed_dir))
    with community.without_email():
        report = _load(data, Path(seed_dir), password)
    db.session.flush()
    return report


def _load(data: SeedData, seed_dir: Path, password: str) -> SeedReport:
    report = SeedReport()
    for organisation in data.organisations:
        network.load_organisation(organisation, report)
    for member in data.members:
        network.load_member(member, password, report)
    for group in data.groups:
        network.load_group(group, report)
    for concept in data.concepts:
        load_concept(concept, report)
    library.load_library(data.items, seed_dir, report)
    if data.toolkit is not None:
        report.other_lines.extend(toolkit.summary(toolkit.load_toolkit(data.toolkit, report)))
    if data.events is not None:
        events.load_events(data.events, report)
    if data.statements is not None:
        report.other_lines.append(statements_seed.load(data.statements).summary())
    if data.activity is not None:
        report.other_lines.append(activity.load_activity(data.activity).summary())
    return report
