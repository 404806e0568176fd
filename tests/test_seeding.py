"""The demo seed loader: real seed files load, reload without duplicates, and bad input fails."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from buyergroup import create_app
from buyergroup.accounts.models import Role, User
from buyergroup.accounts.service import authenticate, get_user_by_email
from buyergroup.extensions import db
from buyergroup.network.models import (
    Affiliation,
    GroupMembership,
    GroupRole,
    JoinPolicy,
    Organisation,
    WorkingGroup,
)
from buyergroup.network.service import get_organisation_by_name
from buyergroup.seeding import SeedError, load_seed

SEED_DIR = Path(__file__).resolve().parent.parent / "seed"
PASSWORD = "buyergroup-demo"


# This file builds its own app (rather than using conftest fixtures) so it runs on its own.
@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": "sqlite://",
            "INSTANCE_PATH": str(tmp_path / "instance"),
            # The seed now brings library files and fills the search index: keep both out
            # of the project's own instance folder.
            "UPLOAD_FOLDER": str(tmp_path / "instance" / "uploads"),
            "INDEX_FOLDER": str(tmp_path / "instance" / "index"),
            "MAIL_FOLDER": str(tmp_path / "instance" / "mail"),
            "WTF_CSRF_ENABLED": False,
        }
    )
    with app.app_context():
        db.create_all()
        yield app
        db.session.remove()
        db.drop_all()


def _counts() -> dict[str, int]:
    models = (Organisation, Affiliation, User, WorkingGroup, GroupMembership)
    return {
        model.__name__: db.session.scalar(select(func.count()).select_from(model))
        for model in models
    }


def _group(name: str) -> WorkingGroup:
    group = db.session.scalar(select(WorkingGroup).where(WorkingGroup.name == name))
    assert group is not None, name
    return group


def _write_seed(directory: Path, organisations: str, members: str, groups: str) -> Path:
    directory.mkdir()
    (directory / "organisations.yaml").write_text(organisations, encoding="utf-8")
    (directory / "members.yaml").write_text(members, encoding="utf-8")
    (directory / "groups.yaml").write_text(groups, encoding="utf-8")
    return directory


MINIMAL_ORGANISATIONS = """
organisations:
  - name: Test Agency
    kind: regional_authority
    country: BE
    description: Demo organisation.
"""

MINIMAL_MEMBERS = """
members:
  - email: alice@example.org
    name: Alice Example
    organisation: Test Agency
"""

MINIMAL_GROUPS = """
groups:
  - name: Test group
    host_organisation: Test Agency
    organisers: [alice@example.org]
"""


# The real seed takes tens of seconds to load: the tests about it share the database that
# tests/conftest.py loads once per run and backend (``seeded_app``, rolled back per test).


def test_real_seed_creates_working_demo_accounts(seeded_app: Flask) -> None:
    report = seeded_app.seed_report

    assert report.demo_accounts == [
        ("admin@example.org", "admin"),
        ("organiser@example.org", "organiser"),
        ("member@example.org", "member"),
    ]
    for email, role in report.demo_accounts:
        user = authenticate(email, PASSWORD)
        assert user is not None, email
        assert user.role is Role(role)
        assert user.organisation is not None
    assert authenticate("member@example.org", "wrong-password") is None
    assert report.users.created >= 25
    assert report.users.existing == 0
    assert "admin@example.org (admin)" in report.summary()


def test_real_seed_content(seeded_app: Flask) -> None:
    report = seeded_app.seed_report

    belgian = _group("Belgian ICT Buyer Group")
    organiser_emails = {user.email for user in belgian.organisers}
    assert "organiser@example.org" in organiser_emails
    assert len(organiser_emails) >= 2
    assert belgian.host_organisation is not None
    assert belgian.host_organisation.short_name == "FIDO / FISD"
    assert belgian.membership_of(get_user_by_email("member@example.org")).role is GroupRole.member
    assert belgian.founded_on == date(2021, 6, 14)

    european = _group("European working group on ethical ICT procurement")
    assert european.join_policy is JoinPolicy.approval
    countries = {m.user.country for m in european.active_memberships}
    assert {"BE", "DK", "FI", "IT", "NL", "AT", "NO", "ES", "GB", "SE", "CH"} <= countries

    agency = get_organisation_by_name("Flemish Agency for Facility Operations")
    assert agency is not None
    watch = [a for a in agency.affiliations if a.name == "Electronics Watch"]
    assert [a.since for a in watch] == [date(2020, 3, 1)]

    # Every member is fictional and every organisation is one from the file.
    users = db.session.scalars(select(User)).all()
    assert all(user.email.endswith("@example.org") for user in users)
    assert all(user.organisation is not None for user in users)
    assert report.groups.created == 3
    assert report.organisations.created == len(db.session.scalars(select(Organisation)).all())


def test_loading_twice_creates_no_duplicates(seeded_app: Flask) -> None:
    first = seeded_app.seed_report
    counts = _counts()

    second = load_seed(SEED_DIR)
    db.session.commit()

    assert _counts() == counts
    for kind in ("organisations", "affiliations", "users", "groups", "memberships"):
        before, after = getattr(first, kind), getattr(second, kind)
        assert after.created == 0, kind
        assert after.existing == before.created, kind
    assert second.demo_accounts == first.demo_accounts
    # Reloading must not reset the password of an existing account.
    assert authenticate("admin@example.org", PASSWORD) is not None


def test_load_flushes_but_does_not_commit(seeded_app: Flask) -> None:
    # Loading the whole seed counted the commits it made itself (none: the CLI commits).
    assert seeded_app.seed_commits == 0
    assert get_user_by_email("admin@example.org") is not None


def test_load_of_a_small_seed_is_undone_by_a_rollback(app: Flask, tmp_path: Path) -> None:
    seed = _write_seed(tmp_path / "seed", MINIMAL_ORGANISATIONS, MINIMAL_MEMBERS, MINIMAL_GROUPS)
    load_seed(seed)
    assert get_user_by_email("alice@example.org") is not None
    db.session.rollback()
    assert get_user_by_email("alice@example.org") is None


def test_other_password(app: Flask, tmp_path: Path) -> None:
    seed = _write_seed(tmp_path / "seed", MINIMAL_ORGANISATIONS, MINIMAL_MEMBERS, MINIMAL_GROUPS)
    load_seed(seed, password="another-long-password")
    assert authenticate("alice@example.org", "another-long-password") is not None
    assert _group("Test group").organisers[0].email == "alice@example.org"


def test_unknown_organisation_is_named(app: Flask, tmp_path: Path) -> None:
    members = MINIMAL_MEMBERS.replace("organisation: Test Agency", "organisation: Nowhere Council")
    seed = _write_seed(tmp_path / "seed", MINIMAL_ORGANISATIONS, members, MINIMAL_GROUPS)

    with pytest.raises(SeedError) as caught:
        load_seed(seed)

    message = str(caught.value)
    assert "members.yaml" in message
    assert "alice@example.org" in message
    assert "Nowhere Council" in message
    # Everything is checked before anything is written.
    assert get_organisation_by_name("Test Agency") is None


def test_unknown_group_member_is_named(app: Flask, tmp_path: Path) -> None:
    groups = MINIMAL_GROUPS + "    members: [ghost@example.org]\n"
    seed = _write_seed(tmp_path / "seed", MINIMAL_ORGANISATIONS, MINIMAL_MEMBERS, groups)

    with pytest.raises(SeedError, match=r"groups\.yaml.*Test group.*ghost@example\.org"):
        load_seed(seed)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("kind: regional_authority", "kind: ministry", "'ministry' is not one of"),
        ("country: BE", "country: NO", "put it in quotes"),
        ("country: BE", "country: XX", "'XX' is not a country"),
        ("description: Demo", "descripton: Demo", "unknown field"),
    ],
)
def test_invalid_organisation_entries(
    app: Flask, tmp_path: Path, old: str, new: str, expected: str
) -> None:
    organisations = MINIMAL_ORGANISATIONS.replace(old, new)
    seed = _write_seed(tmp_path / "seed", organisations, MINIMAL_MEMBERS, MINIMAL_GROUPS)

    with pytest.raises(SeedError, match=rf"organisations\.yaml.*Test Agency.*{expected}"):
        load_seed(seed)


def test_bad_date_and_missing_file(app: Flask, tmp_path: Path) -> None:
    organisations = MINIMAL_ORGANISATIONS + (
        "    affiliations:\n      - name: Electronics Watch\n        since: March 2020\n"
    )
    seed = _write_seed(tmp_path / "seed", organisations, MINIMAL_MEMBERS, MINIMAL_GROUPS)
    with pytest.raises(SeedError, match=r"affiliation 1: since: expected a date"):
        load_seed(seed)

    (seed / "organisations.yaml").write_text(MINIMAL_ORGANISATIONS, encoding="utf-8")
    (seed / "groups.yaml").unlink()
    with pytest.raises(SeedError, match=r"groups\.yaml: file not found"):
        load_seed(seed)
