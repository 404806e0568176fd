"""The rules of joint statements: drafting versions, opening for signature, signing,
authorising signatories, and keeping the roadmap. Every function flushes, none commits."""

from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from buyergroup.accounts import service as accounts
from buyergroup.accounts.models import User
from buyergroup.database import utcnow
from buyergroup.errors import AlreadyExists, Conflict, NotAllowed, NotFound, ValidationFailed
from buyergroup.extensions import db
from buyergroup.network.models import Organisation, WorkingGroup
from buyergroup.statements import permissions
from buyergroup.statements.models import (
    ActionStatus,
    RoadmapAction,
    Signature,
    SigningAuthority,
    Statement,
    StatementState,
    StatementVersion,
)

MAX_TITLE = 200
MAX_BODY = 50_000


def get_statement(statement_id: int, user: User | None) -> Statement:
    """The one loader for statement pages, exports and the API: 404 unless readable."""
    statement = db.session.get(Statement, statement_id)
    if statement is None or not permissions.can_read(user, statement):
        raise NotFound()
    return statement


def statements_of_group(group: WorkingGroup, user: User | None) -> list[Statement]:
    statements = db.session.scalars(
        select(Statement)
        .options(selectinload(Statement.versions), selectinload(Statement.signatures))
        .where(Statement.group_id == group.id)
        .order_by(Statement.created_at.desc(), Statement.id.desc())
    )
    return [s for s in statements if permissions.can_read(user, s)]


def public_statements() -> list[Statement]:
    return list(
        db.session.scalars(
            select(Statement)
            .options(selectinload(Statement.versions), selectinload(Statement.signatures),
                     selectinload(Statement.group))
            .where(Statement.state != StatementState.draft)
            .order_by(Statement.opened_at.desc(), Statement.id.desc())
        )
    )


def _clean(title: str, body: str) -> tuple[str, str]:
    title = " ".join((title or "").split())
    body = (body or "").replace("\r\n", "\n").replace("\x00", "").strip()
    if not title:
        raise ValidationFailed(_("Please give the statement a title."), field="title")
    if len(title) > MAX_TITLE:
        raise ValidationFailed(_("Please keep the title under %(n)d characters.", n=MAX_TITLE),
                               field="title")
    if not body:
        raise ValidationFailed(_("Please write the text of the statement."), field="body")
    if len(body) > MAX_BODY:
        raise ValidationFailed(_("Please keep the text under %(n)d characters.", n=MAX_BODY),
                               field="body")
    return title, body


def create_statement(actor: User | None, group: WorkingGroup, *, title: str, body: str,
                     key: str | None = None) -> Statement:
    """A draft with its first version (``actor`` None: a trusted caller such as the seed)."""
    if actor is not None and not permissions.can_draft(actor, group):
        raise NotAllowed(_("Only organisers of this group can draft a statement."))
    title, body = _clean(title, body)
    statement = Statement(group=group, key=key, created_by_id=getattr(actor, "id", None))
    statement.versions.append(StatementVersion(number=1, title=title, body=body,
                                               created_by_id=getattr(actor, "id", None)))
    db.session.add(statement)
    db.session.flush()
    return statement


def add_version(actor: User | None, statement: Statement, *, title: str, body: str,
                note: str = "") -> StatementVersion:
    """A new version of a draft; the old ones stay readable."""
    if actor is not None and not permissions.can_edit(actor, statement):
        if statement.state is not StatementState.draft:
            raise Conflict(_("A statement open for signature can no longer be changed."))
        raise NotAllowed(_("Only organisers of this group can change the statement."))
    title, body = _clean(title, body)
    current = statement.current
    if current is not None and current.title == title and current.body == body:
        raise ValidationFailed(_("Nothing has changed."), field="body")
    version = StatementVersion(
        number=(current.number + 1) if current else 1, title=title, body=body,
        note=" ".join((note or "").split())[:300], created_by_id=getattr(actor, "id", None),
    )
    statement.versions.append(version)
    db.session.flush()
    return version


def get_version(statement: Statement, number: int) -> StatementVersion:
    version = next((v for v in statement.versions if v.number == number), None)
    if version is None:
        raise NotFound()
    return version


def open_for_signature(actor: User | None, statement: Statement) -> Statement:
    if actor is not None and not permissions.can_change_state(actor, statement):
        raise NotAllowed(_("Only organisers of this group can open the statement."))
    if statement.state is StatementState.draft:
        statement.state = StatementState.open
        statement.opened_at = utcnow()
        db.session.flush()
    return statement


def close_signature(actor: User | None, statement: Statement) -> Statement:
    if actor is not None and not permissions.can_change_state(actor, statement):
        raise NotAllowed(_("Only organisers of this group can close the statement."))
    if statement.state is StatementState.open:
        statement.state = StatementState.closed
        statement.closed_at = utcnow()
        db.session.flush()
    return statement


def sign(actor: User, statement: Statement, *, on: date | None = None) -> Signature:
    """``actor`` signs on behalf of their organisation, which must have authorised them."""
    if statement.state is not StatementState.open:
        raise Conflict(_("This statement is not open for signature."))
    organisation = actor.organisation if actor is not None else None
    if not permissions.may_sign_for(actor, organisation):
        raise NotAllowed(_("Only a member whom their organisation authorised can sign for it."))
    if statement.signature_of(organisation.id) is not None:
        raise AlreadyExists(_("%(organisation)s has already signed this statement.",
                              organisation=organisation.name))
    signature = Signature(
        organisation=organisation, signed_by=actor, signatory=actor.name,
        signed_on=on or utcnow().date(), version_number=statement.current.number,
    )
    statement.signatures.append(signature)
    db.session.flush()
    return signature


def record_signature(statement: Statement, organisation: Organisation, *, signed_on: date,
                     signatory: str = "") -> Signature:
    """A signature given on paper before the site existed (the seed; a trusted caller)."""
    existing = statement.signature_of(organisation.id)
    if existing is not None:
        return existing
    signature = Signature(organisation=organisation, signatory=signatory, signed_on=signed_on,
                          version_number=statement.current.number)
    statement.signatures.append(signature)
    db.session.flush()
    return signature


def authorise_signatory(actor: User | None, user: User) -> SigningAuthority:
    """Record that ``user``'s organisation authorised them to sign on its behalf."""
    if actor is not None and not permissions.can_grant_authority(actor):
        raise NotAllowed(_("Only organisers and administrators can do this."))
    if user.organisation_id is None:
        raise ValidationFailed(_("This member belongs to no organisation."), field="user_id")
    existing = db.session.scalar(
        select(SigningAuthority).where(SigningAuthority.organisation_id == user.organisation_id,
                                       SigningAuthority.user_id == user.id)
    )
    if existing is not None:
        return existing
    authority = SigningAuthority(organisation_id=user.organisation_id, user_id=user.id,
                                 granted_by_id=getattr(actor, "id", None))
    db.session.add(authority)
    db.session.flush()
    return authority


def withdraw_authority(actor: User, authority: SigningAuthority) -> None:
    if not permissions.can_grant_authority(actor):
        raise NotAllowed(_("Only organisers and administrators can do this."))
    db.session.delete(authority)
    db.session.flush()


def signatory_candidates() -> list[User]:
    """The active members who belong to an organisation: whom an organiser may authorise."""
    return list(db.session.scalars(accounts.listed(
        select(User).where(User.organisation_id.is_not(None), User.is_active_account)
        .order_by(User.name)
    )))


def authorities() -> list[SigningAuthority]:
    return list(db.session.scalars(
        select(SigningAuthority).options(
            selectinload(SigningAuthority.user).lazyload(User.language_links),
            selectinload(SigningAuthority.user).lazyload(User.expertise_links),
            selectinload(SigningAuthority.organisation))
        .order_by(SigningAuthority.granted_at.desc())
    ))


def add_action(actor: User | None, statement: Statement, *, title: str, description: str = "",
               organisation_id: int | None = None, due_on: date | None = None,
               status: ActionStatus | str = ActionStatus.planned) -> RoadmapAction:
    if actor is not None and not permissions.can_keep_roadmap(actor, statement):
        raise NotAllowed(_("Only organisers of this group can change the roadmap."))
    title = " ".join((title or "").split())
    if not title:
        raise ValidationFailed(_("Please name the action."), field="title")
    if organisation_id is not None and db.session.get(Organisation, organisation_id) is None:
        raise ValidationFailed(_("Please choose an organisation from the list."),
                               field="organisation_id")
    try:
        status = ActionStatus(status)
    except ValueError:
        raise ValidationFailed(_("Please choose a status."), field="status") from None
    action = RoadmapAction(
        title=title[:200], description=(description or "").strip(),
        organisation_id=organisation_id, due_on=due_on, status=status,
        position=len(statement.actions),
    )
    statement.actions.append(action)
    db.session.flush()
    return action


def set_action_status(actor: User | None, action: RoadmapAction,
                      status: ActionStatus | str) -> RoadmapAction:
    if actor is not None and not permissions.can_keep_roadmap(actor, action.statement):
        raise NotAllowed(_("Only organisers of this group can change the roadmap."))
    try:
        action.status = ActionStatus(status)
    except ValueError:
        raise ValidationFailed(_("Please choose a status."), field="status") from None
    db.session.flush()
    return action
