"""Home, static information pages, the language switcher and the health check."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import (
    Blueprint,
    Response,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    session,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select, text

from buyergroup.accounts.models import User
from buyergroup.accounts.permissions import is_signed_in
from buyergroup.accounts.service import external_url
from buyergroup.database import utcnow
from buyergroup.errors import NotFound
from buyergroup.extensions import csrf, db
from buyergroup.i18n import LANGUAGES, SESSION_LANGUAGE_KEY
from buyergroup.network.service import (
    active_member_counts,
    visible_groups,
    visible_organisations,
)
from buyergroup.security import safe_next_url

bp = Blueprint("core", __name__)


@bp.get("/")
def home():
    if is_signed_in(current_user):
        # Signed-in members get their own page; visitors keep the one below.
        from buyergroup.community.home import personal_home

        return render_template("community/home.html", home=personal_home(current_user))
    groups = db.session.scalars(visible_groups(current_user).limit(6)).all()
    organisations = db.session.scalars(visible_organisations(current_user)).all()
    # Figures count only what this visitor could list, so they match the linked pages.
    visible_organisations_query = visible_organisations(current_user).subquery()
    stats = {
        "members": db.session.scalar(
            select(func.count(User.id)).where(User.is_active_account.is_(True))
        ),
        "organisations": len(organisations),
        "groups": db.session.scalar(
            select(func.count()).select_from(visible_groups(current_user).subquery())
        ),
        "countries": db.session.scalar(
            select(func.count(func.distinct(visible_organisations_query.c.country)))
        ),
    }
    # The tags show short names where there are any: sort by what the reader sees.
    organisations = sorted(organisations, key=lambda o: (o.short_name or o.name).lower())
    return render_template(
        "core/home.html", groups=groups, organisations=organisations, stats=stats,
        # One query for the six groups' member counts, not one per group.
        member_counts=active_member_counts([g.id for g in groups]),
    )


@bp.get("/about")
def about():
    return render_template("core/about.html")


@bp.get("/accessibility")
def accessibility():
    return render_template("core/accessibility.html")


@bp.post("/language")
def set_language():
    """Remember the chosen language: on the account if signed in, else in the session.

    Exempt from the site-wide CSRF check, because a visitor's form carries no token (their
    pages are kept whole for every visitor: ``page_cache``). A forged request could at worst
    change a visitor's language; a member's account is changed only with their form's token.
    """
    signed_in = is_signed_in(current_user)
    if signed_in and current_app.config["WTF_CSRF_ENABLED"]:
        csrf.protect()  # a member's form has its token; without it: 400, nothing changed
    language = request.form.get("language", "")
    if language in LANGUAGES:
        session[SESSION_LANGUAGE_KEY] = language
        if signed_in:
            current_user.locale = language
    return redirect(safe_next_url(request.form.get("next")))


@bp.get("/healthz")
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as error:  # noqa: BLE001 - any failure means the database is not answering
        # The 503 makes the boundary roll the failed transaction back.
        return jsonify(status="error", database="unavailable", detail=type(error).__name__), 503
    return jsonify(status="ok", database="ok")


# --- For crawlers and feed readers: public content only ---------------------------------------
#
# Built for a visitor (user None) whoever asks: a signed-in member fetching the sitemap or a
# feed, or a feed reader that kept their cookie, gets the same public document, so nothing a
# visitor may not see is ever in one (nor in a cache of it).

FEED_LENGTH = 50
SITEMAP_LIMIT = 50_000


def _stamp(moment: datetime | None) -> datetime:
    moment = moment or utcnow()
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _public_items(group=None, limit: int | None = None, *, with_organisations: bool = False):
    """The public items, newest first; ``with_organisations`` for a feed that names each
    item's organisation (joined in the same statement: they were one lookup per entry)."""
    from sqlalchemy.orm import joinedload

    from buyergroup.library.models import LibraryItem
    from buyergroup.library.service import visible_items_query

    query = visible_items_query(None)
    if with_organisations:
        query = query.options(joinedload(LibraryItem.organisation))
    if group is not None:
        query = query.where(LibraryItem.group_id == group.id)
    query = query.order_by(LibraryItem.published_at.desc(), LibraryItem.id.desc())
    return db.session.scalars(query.limit(limit or SITEMAP_LIMIT)).all()


def _public_group(slug: str):
    from buyergroup.network.models import WorkingGroup

    group = db.session.scalar(select(WorkingGroup).where(WorkingGroup.slug == slug))
    if group is None or not group.is_public:
        raise NotFound()
    return group


@bp.get("/robots.txt")
def robots():
    lines = [
        "User-agent: *",
        # Personal, form and feed pages: nothing for a search engine.
        *(f"Disallow: {path}" for path in (
            "/api/", "/manage/", "/profile", "/login", "/password/", "/invitation/",
            "/events/feed/", "/events/mine", "/library/mine", "/library/review",
            "/language",
        )),
        "",
        f"Sitemap: {external_url('core.sitemap')}",
        "",
    ]
    response = Response("\n".join(lines), mimetype="text/plain")
    response.cache_control.public = True
    response.cache_control.max_age = 3600
    return response


@bp.get("/sitemap.xml")
def sitemap():
    """Every page a visitor can read: the main pages, public items, groups, organisations
    and events of public groups."""
    from buyergroup.events.models import Event
    from buyergroup.network.models import WorkingGroup

    pages = [(external_url(endpoint), None) for endpoint in (
        "core.home", "library.index", "glossary.index", "network.groups",
        "network.organisations", "events.index", "core.about", "core.accessibility",
    )]
    pages += [(external_url("library.item", item_id=item.id), item.updated_at)
              for item in _public_items()]
    pages += [(external_url("network.group", slug=group.slug), group.updated_at)
              for group in db.session.scalars(visible_groups(None))]
    pages += [(external_url("network.organisation", slug=o.slug), o.updated_at)
              for o in db.session.scalars(visible_organisations(None))]
    events = db.session.scalars(
        select(Event).join(WorkingGroup, Event.group_id == WorkingGroup.id)
        .where(WorkingGroup.is_public.is_(True))
        .order_by(Event.starts_at.desc()).limit(SITEMAP_LIMIT)
    )
    pages += [(external_url("events.detail", event_id=e.id), e.updated_at) for e in events]
    body = render_template("core/sitemap.xml", pages=pages[:SITEMAP_LIMIT], stamp=_stamp)
    response = Response(body, mimetype="application/xml")
    response.cache_control.public = True
    response.cache_control.max_age = 3600
    return response


def _atom(*, title: str, feed_id: str, alternate: str, entries: list[dict]) -> Response:
    updated = max((e["updated"] for e in entries), default=_stamp(None))
    body = render_template(
        "core/feed.atom.xml", title=title, feed_id=feed_id, self_url=request.base_url,
        alternate=alternate, updated=updated, entries=entries,
    )
    response = Response(body, mimetype="application/atom+xml")
    response.headers["Content-Type"] = "application/atom+xml; charset=utf-8"
    response.cache_control.public = True
    response.cache_control.max_age = 900
    response.add_etag()
    response.last_modified = updated
    return response.make_conditional(request)


def _item_entries(items) -> list[dict]:
    from buyergroup.templating import render_markdown

    entries = []
    for item in items:
        url = external_url("library.item", item_id=item.id)
        summary = item.summary or item.body
        entries.append({
            "id": url, "url": url, "title": item.title, "language": item.language,
            "updated": _stamp(item.updated_at), "published": _stamp(item.published_at),
            "author": item.organisation.name if item.organisation
            and item.organisation.is_public else "Buyergroup",
            "summary": " ".join(str(render_markdown(summary).striptags()).split())[:600],
            "category": item.kind.label,
        })
    return entries


@bp.get("/library/feed.atom")
def library_feed():
    """New library items, site-wide (public ones)."""
    return _atom(
        title=_("Buyergroup library: new items"), feed_id=external_url("core.library_feed"),
        alternate=external_url("library.index"),
        entries=_item_entries(_public_items(limit=FEED_LENGTH, with_organisations=True)),
    )


@bp.get("/groups/<slug>/library.atom")
def group_library_feed(slug: str):
    """New library items of one public working group."""
    group = _public_group(slug)
    return _atom(
        title=_("%(group)s: new library items", group=group.name),
        feed_id=external_url("core.group_library_feed", slug=group.slug),
        alternate=external_url("network.group", slug=group.slug),
        entries=_item_entries(_public_items(group=group, limit=FEED_LENGTH,
                                           with_organisations=True)),
    )


@bp.get("/groups/<slug>/events.atom")
def group_events_feed(slug: str):
    """A public working group's events, newest announcement first."""
    from buyergroup.events.calendar import plain_text
    from buyergroup.events.models import Event
    from buyergroup.events.times import format_span

    group = _public_group(slug)
    events = db.session.scalars(
        select(Event).where(Event.group_id == group.id)
        .order_by(Event.created_at.desc(), Event.id.desc()).limit(FEED_LENGTH)
    ).all()
    entries = []
    for event in events:
        url = external_url("events.detail", event_id=event.id)
        when = format_span(event.starts_at, event.ends_at, event.timezone)
        status = _("Cancelled") + ": " if event.is_cancelled else ""
        entries.append({
            "id": f"urn:uuid:{event.uid.split('@')[0]}" if "@" in event.uid else url,
            "url": url, "title": f"{status}{event.title}", "language": event.language or "",
            "updated": _stamp(event.updated_at), "published": _stamp(event.created_at),
            "author": group.name, "category": event.kind.label,
            "summary": f"{when} ({event.timezone}). {plain_text(event.description)}"[:600],
        })
    return _atom(
        title=_("%(group)s: events", group=group.name),
        feed_id=external_url("core.group_events_feed", slug=group.slug),
        alternate=external_url("network.group", slug=group.slug),
        entries=entries,
    )
