"""Sessions that end: every signed-in browser is a row of ``user_sessions``.

Why a table and not only a signed cookie: Flask's session cookie is signed, not stored, so
before this a cookie captured before sign-out (or the 30-day remember cookie) kept working
until it expired, even after a password reset. Now:

- Signing in creates a ``UserSession`` with a random key and makes Flask-Login's identity
  ``"<user id>:<key>"`` (``User.get_id``). Flask-Login keeps that identity in the session
  cookie and, when "keep me signed in" is ticked, in the remember cookie, so both cookies
  name the same row.
- The user loader (``load_user``) accepts an identity only while its row is active and the
  account is active: one indexed query per request, and no write (GET stays a read).
- Signing out ends that one row: other browsers stay signed in.
- A password change or reset, a deactivation and "sign out everywhere" end every row of
  the member (``end_all``). A password change then starts a fresh session for the browser
  that made it, so its owner is not thrown out, while every copied cookie is dead.

Identities from before this scheme (a bare user id) are refused: everyone signs in once
after the upgrade.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app, request
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import lazyload

from buyergroup.accounts.models import User, UserSession
from buyergroup.database import utcnow
from buyergroup.errors import NotFound
from buyergroup.extensions import db
from buyergroup.tokens import hash_secret, new_secret


def start(user: User, *, user_agent: str = "") -> str:
    """Open a server-side session for ``user``; returns its key (shown to nobody)."""
    key = new_secret()
    db.session.add(UserSession(user=user, key_hash=hash_secret(key), user_agent=user_agent[:200]))
    db.session.flush()
    user.session_key = key
    return key


def sign_in(user: User, *, remember: bool = False) -> None:
    """Start a session for ``user`` in this browser (the one way to sign someone in)."""
    start(user, user_agent=request.headers.get("User-Agent", ""))
    login_user(user, remember=remember)


def sign_out() -> None:
    """End this browser's session on the server too, then forget it here."""
    if getattr(current_user, "session_key", None):
        end(current_user.session_key)
    logout_user()


def end(key: str) -> None:
    db.session.execute(
        update(UserSession)
        .where(UserSession.key_hash == hash_secret(key), UserSession.ended_at.is_(None))
        .values(ended_at=utcnow())
    )


def end_all(user: User) -> None:
    """End every session (and so every remember cookie) of ``user``."""
    db.session.execute(
        update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
        .values(ended_at=utcnow())
    )


def end_one(user: User, session_id: int) -> None:
    """End one of ``user``'s own sessions (another browser); 404 for anyone else's."""
    found = db.session.get(UserSession, session_id)
    if found is None or found.user_id != user.id or not found.is_active:
        raise NotFound()
    found.ended_at = utcnow()


def active_sessions(user: User) -> list[UserSession]:
    return list(
        db.session.scalars(
            select(UserSession)
            .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
            .order_by(UserSession.created_at.desc())
        )
    )


def current_session_id(user: User) -> int | None:
    if not user.session_key:
        return None
    return db.session.scalar(
        select(UserSession.id).where(UserSession.key_hash == hash_secret(user.session_key))
    )


def was_remembered() -> bool:
    """Whether this browser holds a remember cookie (to keep it after a password change)."""
    return current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token") in request.cookies


@functools.lru_cache(maxsize=4)
def _session_user(versions: tuple = ()):
    """The loader's statement, built once (at first use: the mappers must be complete) and
    run on every signed-in request with the session's user id and key hash as parameters;
    building it each time was a fifth of the loader's time. Built again when a companion's
    ``version`` changes (``versions``)."""
    user_id = bindparam("user_id", type_=User.id.type)
    return (
        select(User, *(companion.column(user_id) for companion in _companions))
        .join(UserSession, UserSession.user_id == User.id)
        .where(
            User.id == user_id,
            UserSession.key_hash == bindparam("key_hash"),
            UserSession.ended_at.is_(None),
        )
        # The member's languages and expertise are read by few pages (the profile, their
        # card): loaded when asked, not with the account on every request (2 queries).
        .options(lazyload(User.language_links), lazyload(User.expertise_links))
    )


def load_user(identity: str) -> User | None:
    """Flask-Login's user loader: the member of an active session, else nobody."""
    user_id, _, key = identity.partition(":")
    # More than 18 digits is no id a 64-bit column holds (the driver would refuse the number).
    if not user_id.isdigit() or not key or len(user_id) > 18:
        return None
    statement = _session_user(tuple(companion.version() for companion in _companions))
    row = db.session.execute(statement,
                             {"user_id": int(user_id), "key_hash": hash_secret(key)}).first()
    user = row[0] if row else None
    if user is None or not user.is_active:
        return None
    user.session_key = key
    for companion, value in zip(_companions, row[1:], strict=True):
        companion.receive(user, value)
    return user


@dataclass(frozen=True)
class Companion:
    """Something another domain reads of the signed-in member on nearly every request (their
    groups, the header's count), fetched as a column of the loader's one statement instead
    of by a statement of its own.

    ``column(user_id)`` builds it as SQL (a scalar subquery) about the member whose id is
    the statement's parameter ``user_id``: a parameter, not a correlation with ``users.id``,
    so that the database runs each inner query once (correlated, SQLite ran the header's
    count's subqueries once per notification: 5 ms per request instead of 0.3).
    ``receive`` gets the member and the value; the loader's statement is built again when
    ``version()`` changes."""

    column: Callable[[object], object]
    receive: Callable[[User, object], None]
    version: Callable[[], object] = lambda: None


_companions: list[Companion] = []


def load_with_member(companion: Companion) -> None:
    """Have the loader fetch ``companion`` with the account, from now on."""
    _companions.append(companion)
    _session_user.cache_clear()


# Checked in this order: Edge and Opera also say "Chrome", Chrome also says "Safari".
_BROWSERS = (("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"),
             ("Chrome/", "Chrome"), ("Chromium/", "Chromium"), ("Safari/", "Safari"))
_SYSTEMS = (("Android", "Android"), ("iPhone", "iPhone"), ("iPad", "iPad"),
            ("Windows", "Windows"), ("Mac OS X", "macOS"), ("CrOS", "ChromeOS"),
            ("Linux", "Linux"))


def describe_browser(user_agent: str) -> str:
    """"Firefox on Windows" from a User-Agent header: what a member recognises in the list
    of places they are signed in (the raw header is two lines of version numbers)."""
    browser = next((name for marker, name in _BROWSERS if marker in user_agent), "")
    system = next((name for marker, name in _SYSTEMS if marker in user_agent), "")
    if browser and system:
        return _("%(browser)s on %(system)s", browser=browser, system=system)
    return browser or system or user_agent[:60]
