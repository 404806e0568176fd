"""``statements.yaml`` and ``discussions.yaml``: joint statements with their versions,
signatures and roadmaps, who may sign for their organisation, and demo discussions.

Everything goes through ``buyergroup.statements.service`` and
``buyergroup.discussions.service``. Statements are matched by ``key``, threads by their
group and title: a second load creates nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select

from buyergroup.accounts.service import get_user_by_email
from buyergroup.discussions import service as discussions
from buyergroup.discussions.models import Thread
from buyergroup.extensions import db
from buyergroup.seeding.common import SeedError, located, parse_yaml
from buyergroup.seeding.library import item_by_key
from buyergroup.seeding.network import group_named, organisation_named
from buyergroup.statements import service as statements
from buyergroup.statements.models import ActionStatus, Statement, StatementState

STATEMENTS_FILE = "statements.yaml"
DISCUSSIONS_FILE = "discussions.yaml"


@dataclass
class Counts:
    statements: int = 0
    signatures: int = 0
    actions: int = 0
    threads: int = 0
    posts: int = 0
    existing: int = 0

    def summary(self) -> str:
        # One line per kind, as the other domains' counts are printed.
        return (f"statements     {self.statements:>3} created ({self.signatures} signatures, "
                f"{self.actions} roadmap actions)\n"
                f"discussions    {self.threads:>3} created ({self.posts} posts); "
                f"{self.existing} statements and discussions already there")


@dataclass(frozen=True)
class StatementsSeed:
    signers: tuple[str, ...] = ()
    statements: tuple[dict, ...] = ()
    threads: tuple[dict, ...] = ()
    where: dict[int, str] = field(default_factory=dict)


def _read(path: Path) -> Mapping:
    if not path.exists():
        return {}
    try:
        document = parse_yaml(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise SeedError(f"{path.name}: not valid YAML: {error}") from error
    if document is None:
        return {}
    if not isinstance(document, Mapping):
        raise SeedError(f"{path.name}: expected a mapping at the top")
    return document


def _list(document: Mapping, key: str, filename: str) -> list:
    value = document.get(key) or []
    if not isinstance(value, list):
        raise SeedError(f"{filename}: expected a top-level '{key}:' list")
    return value


def _date(where: str, value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise SeedError(f"{where}: {value!r} is not a date (YYYY-MM-DD)") from None


def parse(seed_dir: Path) -> StatementsSeed:
    """Read both files and check their shape (references are checked in ``check``)."""
    doc = _read(seed_dir / STATEMENTS_FILE)
    threads_doc = _read(seed_dir / DISCUSSIONS_FILE)
    statements_list = _list(doc, "statements", STATEMENTS_FILE)
    threads_list = _list(threads_doc, "threads", DISCUSSIONS_FILE)
    for number, entry in enumerate(statements_list, start=1):
        where = f"{STATEMENTS_FILE}: statements entry {number}"
        if not isinstance(entry, Mapping) or not entry.get("key") or not entry.get("group"):
            raise SeedError(f"{where}: needs a key and a group")
        if entry.get("state", "draft") not in StatementState.__members__:
            raise SeedError(f"{where}: state must be draft, open or closed")
        versions = entry.get("versions") or []
        if not versions or not all(isinstance(v, Mapping) and v.get("title") and v.get("body")
                                   for v in versions):
            raise SeedError(f"{where}: needs versions, each with a title and a body")
        for signature in entry.get("signatures") or []:
            _date(where, signature.get("signed_on"))
            if not signature.get("signed_on"):
                raise SeedError(f"{where}: every signature needs signed_on")
        for action in entry.get("roadmap") or []:
            if action.get("status", "planned") not in ActionStatus.__members__:
                raise SeedError(f"{where}: unknown roadmap status {action.get('status')!r}")
            _date(where, action.get("due_on"))
    for number, entry in enumerate(threads_list, start=1):
        where = f"{DISCUSSIONS_FILE}: threads entry {number}"
        if not isinstance(entry, Mapping) or not all(entry.get(k) for k in
                                                      ("group", "title", "posts")):
            raise SeedError(f"{where}: needs a group, a title and posts")
    signers = _list(doc, "signers", STATEMENTS_FILE)
    return StatementsSeed(signers=tuple(str(s) for s in signers),
                          statements=tuple(statements_list), threads=tuple(threads_list))


def check_references(seed: StatementsSeed, *, emails: set[str], groups: set[str],
                     organisations: set[str], item_keys: set[str]) -> None:
    for email in seed.signers:
        if email not in emails:
            raise SeedError(f"{STATEMENTS_FILE}: signers: unknown member {email!r}")
    for entry in seed.statements:
        where = f"{STATEMENTS_FILE}: statement {entry['key']!r}"
        if entry["group"].lower() not in groups:
            raise SeedError(f"{where}: unknown group {entry['group']!r}")
        for name in [s.get("organisation") for s in entry.get("signatures") or []] + [
                a.get("organisation") for a in entry.get("roadmap") or [] if
                a.get("organisation")]:
            if not name or name.lower() not in organisations:
                raise SeedError(f"{where}: unknown organisation {name!r}")
    for entry in seed.threads:
        where = f"{DISCUSSIONS_FILE}: thread {entry['title']!r}"
        if entry["group"].lower() not in groups:
            raise SeedError(f"{where}: unknown group {entry['group']!r}")
        for post in entry["posts"]:
            if post.get("author") not in emails:
                raise SeedError(f"{where}: unknown author {post.get('author')!r}")
        for key in [*(entry.get("library") or []), *filter(None, [entry.get("addressed_by")])]:
            if key not in item_keys:
                raise SeedError(f"{where}: unknown library item {key!r}")


def load(seed: StatementsSeed) -> Counts:
    counts = Counts()
    for email in seed.signers:
        user = get_user_by_email(email)
        if user is not None and user.organisation_id is not None:
            statements.authorise_signatory(None, user)
    for entry in seed.statements:
        _load_statement(entry, counts)
    for entry in seed.threads:
        _load_thread(entry, counts)
    db.session.flush()
    return counts


def _load_statement(entry: Mapping, counts: Counts) -> None:
    where = f"{STATEMENTS_FILE}: statement {entry['key']!r}"
    if db.session.scalar(select(Statement).where(Statement.key == entry["key"])) is not None:
        counts.existing += 1
        return
    group = group_named(entry["group"])
    versions = entry["versions"]
    with located(where):
        statement = statements.create_statement(None, group, title=versions[0]["title"],
                                                body=versions[0]["body"], key=entry["key"])
        for version in versions[1:]:
            statements.add_version(None, statement, title=version["title"],
                                   body=version["body"], note=version.get("note", ""))
        if versions[0].get("note"):
            statement.versions[0].note = versions[0]["note"]
        state = StatementState(entry.get("state", "draft"))
        if state is not StatementState.draft:
            statements.open_for_signature(None, statement)
        for signature in entry.get("signatures") or []:
            statements.record_signature(
                statement, organisation_named(where, signature["organisation"]),
                signed_on=_date(where, signature["signed_on"]),
                signatory=signature.get("signatory", ""),
            )
            counts.signatures += 1
        for action in entry.get("roadmap") or []:
            owner = organisation_named(where, action.get("organisation"))
            statements.add_action(None, statement, title=action["title"],
                                  organisation_id=owner.id if owner else None,
                                  due_on=_date(where, action.get("due_on")),
                                  status=action.get("status", "planned"))
            counts.actions += 1
        if state is StatementState.closed:
            statements.close_signature(None, statement)
    counts.statements += 1


def _load_thread(entry: Mapping, counts: Counts) -> None:
    where = f"{DISCUSSIONS_FILE}: thread {entry['title']!r}"
    group = group_named(entry["group"])
    exists = db.session.scalar(
        select(Thread.id).where(Thread.group_id == group.id, Thread.title == entry["title"]))
    if exists is not None:
        counts.existing += 1
        return
    posts = entry["posts"]
    with located(where):
        author = get_user_by_email(posts[0]["author"])
        thread = discussions.start_thread(
            author, group, title=entry["title"], body=posts[0]["body"],
            language=entry.get("language", "en"),
            product_groups=entry.get("product_groups") or [], themes=entry.get("themes") or [],
            library_items=[item_by_key(k).id for k in entry.get("library") or []],
            knowledge_gap=bool(entry.get("knowledge_gap")),
        )
        for post in posts[1:]:
            reply = discussions.reply(get_user_by_email(post["author"]), thread, post["body"])
            counts.posts += 1
            if post.get("accepted"):
                discussions.accept_answer(author, thread, reply)
        if entry.get("addressed_by"):
            discussions.set_knowledge_gap(author, thread, is_gap=True,
                                          addressed_by_id=item_by_key(entry["addressed_by"]).id)
        if entry.get("locked"):
            discussions.lock_thread(group.organisers[0], thread)
    counts.threads += 1
    counts.posts += 1
