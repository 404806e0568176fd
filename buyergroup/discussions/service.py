"""The rules of discussions: asking, replying, accepting answers, knowledge gaps, moderation.

Every function checks its actor through ``permissions`` and flushes; none commits (the
request or the seed command owns the transaction). After a post is flushed,
``signals.discussion_posted`` announces it with the members it mentions, already limited to
those who may read the thread; ``signals.discussion_answer_accepted`` announces an accepted
answer. Notifications are the community domain's business, not this one's.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from flask import g, has_request_context
from flask_babel import gettext as _
from markupsafe import Markup, escape
from sqlalchemy import bindparam, func, or_, select
from sqlalchemy.orm import joinedload, lazyload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from buyergroup import signals
from buyergroup.accounts.models import User
from buyergroup.accounts.permissions import is_admin, is_signed_in
from buyergroup.accounts.service import with_listed_accounts
from buyergroup.audit import service as audit
from buyergroup.audit.models import AuditAction
from buyergroup.audit.service import Target
from buyergroup.database import slugify, utcnow
from buyergroup.discussions import permissions
from buyergroup.discussions.models import (
    Post,
    PostMention,
    PostReport,
    Thread,
    thread_library_items,
)
from buyergroup.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from buyergroup.extensions import db
from buyergroup.library import permissions as library_permissions
from buyergroup.library.models import LibraryItem
from buyergroup.library.service import ITEM_LANGUAGES
from buyergroup.network.models import GroupMembership, MembershipState, WorkingGroup
from buyergroup.templating import render_markdown
from buyergroup.vocabulary import PRODUCT_GROUPS, THEMES

MAX_TITLE = 200
MAX_BODY = 20_000
MAX_REASON = 300
MAX_LINKS = 10
PER_PAGE = 20

# "@mia-member": a member's handle is their name, folded and hyphenated (``handle_of``).
MENTION = re.compile(r"(?<![\w@./])@([a-z0-9][a-z0-9-]{0,80}[a-z0-9])", re.IGNORECASE)

FILTERS = ("all", "open", "answered", "gaps")


def handle_of(user: User) -> str:
    """How to mention ``user``: "@" and their name as a slug ("Mia Member" -> mia-member)."""
    return slugify(user.name, max_length=80)


# --- Loading ---------------------------------------------------------------------------------


def get_group(slug: str, user: User | None) -> WorkingGroup:
    """The group whose discussions ``user`` may read, else 404 (nothing says it exists)."""
    group = db.session.scalar(select(WorkingGroup).where(WorkingGroup.slug == slug))
    if group is None or not permissions.can_read(user, group):
        raise NotFound()
    return group


@functools.cache
def _threads_statement():
    return (select(Thread).where(Thread.id.in_(bindparam("ids", expanding=True)))
            .options(joinedload(Thread.group)))


def threads_by_id(ids: list[int]) -> dict[int, Thread]:
    """Threads with their groups, by id, in one statement made once (a notification list and
    a search's results load them on every page)."""
    if not ids:
        return {}
    return {thread.id: thread
            for thread in db.session.scalars(_threads_statement(), {"ids": list(ids)})}


def get_thread(thread_id: int, user: User | None, *, slug: str | None = None) -> Thread:
    """The one loader for thread pages and the API: 404 unless ``user`` may read it (and,
    given its group's ``slug``, unless it is in that group). Its group comes with it."""
    thread = db.session.get(Thread, thread_id, options=[joinedload(Thread.group)])
    if thread is None or not permissions.can_read(user, thread.group):
        raise NotFound()
    if slug is not None and thread.group.slug != slug:
        raise NotFound()
    return thread


def get_post(thread: Thread, post_id: int) -> Post:
    post = db.session.get(Post, post_id)
    if post is None or post.thread_id != thread.id:
        raise NotFound()
    return post


@dataclass
class ThreadFilters:
    state: str = "all"  # all, open (no accepted answer), answered, gaps
    product_group: str = ""
    theme: str = ""


def threads_query(group: WorkingGroup, filters: ThreadFilters | None = None, *,
                  with_posts: bool = True):
    """The group's threads, latest activity first (the caller has checked ``can_read``);
    with their authors and posts unless ``with_posts`` is False (a list of titles)."""
    filters = filters or ThreadFilters()
    query = (
        select(Thread)
        .where(Thread.group_id == group.id)
        .order_by(Thread.last_posted_at.desc(), Thread.id.desc())
    )
    if with_posts:
        query = query.options(with_listed_accounts(selectinload(Thread.author)),
                              selectinload(Thread.posts))
    answered = select(Post.id).where(Post.thread_id == Thread.id, Post.is_accepted).exists()
    if filters.state == "open":
        query = query.where(~answered)
    elif filters.state == "answered":
        query = query.where(answered)
    elif filters.state == "gaps":
        query = query.where(Thread.is_knowledge_gap)
    # Codes are stored space-separated; pad both sides so "servers" never matches a prefix.
    if filters.product_group in PRODUCT_GROUPS:
        query = query.where(
            (" " + Thread.product_group_codes + " ").contains(f" {filters.product_group} ")
        )
    if filters.theme in THEMES:
        query = query.where((" " + Thread.theme_codes + " ").contains(f" {filters.theme} "))
    return query


def readable_groups_query(user: User | None, *, user_id=None):
    """Groups whose discussions ``user`` may read (for lists across groups); ``user_id``
    stands for ``user.id`` in the SQL where given (a bind parameter)."""
    query = select(WorkingGroup)
    if is_admin(user):
        return query
    allowed = [WorkingGroup.is_public]
    if is_signed_in(user):
        mine = select(GroupMembership.group_id).where(
            GroupMembership.user_id == (user.id if user_id is None else user_id),
            GroupMembership.state == MembershipState.active,
        )
        allowed.append(WorkingGroup.id.in_(mine))
    return query.where(or_(*allowed))


def recent_threads(group: WorkingGroup, user: User | None, limit: int = 5) -> list[Thread]:
    """The group's latest threads, for lists that show their titles and times only (a
    group's activity): without their authors and posts (two statements fewer)."""
    if not permissions.can_read(user, group):
        return []
    return list(db.session.scalars(threads_query(group, with_posts=False).limit(limit)))


def thread_list_loading() -> tuple:
    """Loader options for a list that shows each thread's links (the API's): the linked
    and the addressing library items with the threads, not two lookups per thread."""
    return (selectinload(Thread.library_items), selectinload(Thread.addressed_by))


def reply_counts(threads: list[Thread]) -> dict[int, int]:
    """Visible replies per thread (hidden ones are not counted: a count reveals nothing)."""
    return {
        thread.id: sum(1 for p in thread.replies if not p.is_hidden) for thread in threads
    }


def visible_links(thread: Thread, user: User | None) -> list[LibraryItem]:
    """The library items a thread links that ``user`` may see (the others are not named)."""
    if "library_items" not in thread.__dict__:
        # Their titles are shown, their authors asked (who may see a draft); not their tags.
        linked = db.session.scalars(
            select(LibraryItem)
            .join(thread_library_items, thread_library_items.c.item_id == LibraryItem.id)
            .where(thread_library_items.c.thread_id == thread.id)
            .order_by(LibraryItem.id)
            .options(lazyload(LibraryItem.tags))
        ).all()
        set_committed_value(thread, "library_items", linked)
    group_ids = library_permissions.active_group_ids(user)
    return [
        item for item in thread.library_items
        if library_permissions.can_see(user, item, group_ids=group_ids)
    ]


def visible_addressed_by(thread: Thread, user: User | None) -> LibraryItem | None:
    item = thread.addressed_by
    if item is None or not library_permissions.can_see(user, item):
        return None
    return item


# --- Mentions --------------------------------------------------------------------------------


def mentionable_members(thread_or_group) -> dict[str, list[User]]:
    """Handles of the members who may be mentioned in a thread of this group."""
    group = thread_or_group.group if isinstance(thread_or_group, Thread) else thread_or_group
    # Asked once per request and group (a thread page renders every post with it), in
    # one query for all the members rather than one per membership.
    cache = g.setdefault("discussion_handles", {}) if has_request_context() else {}
    if group.id in cache:
        return cache[group.id]
    handles: dict[str, list[User]] = {}
    members = db.session.scalars(
        select(User)
        .join(GroupMembership, GroupMembership.user_id == User.id)
        .where(GroupMembership.group_id == group.id,
               GroupMembership.state == MembershipState.active,
               User.is_active_account)
        # Their names make the handles: not their languages and expertise (2 statements).
        .options(lazyload(User.language_links), lazyload(User.expertise_links))
        .order_by(User.id)
    )
    for user in members:
        handles.setdefault(handle_of(user), []).append(user)
    cache[group.id] = handles
    return handles


def mentioned_in(thread: Thread, body: str, *, author: User | None = None) -> list[User]:
    """Members named with "@handle" in ``body`` who may read ``thread``; anyone else (not in
    the group, unknown, the author) is simply not mentioned."""
    handles = mentionable_members(thread)
    found: dict[int, User] = {}
    for match in MENTION.finditer(body or ""):
        for user in handles.get(match.group(1).lower(), []):
            if author is not None and user.id == author.id:
                continue
            if permissions.can_be_mentioned(user, thread):
                found.setdefault(user.id, user)
    return list(found.values())


def render_post(post: Post) -> Markup:
    """The post's Markdown, sanitised like the library's; "@handle" of a group member is
    marked as a mention (of anyone else it stays plain text: nothing says who exists)."""
    html = str(render_markdown(post.body))
    handles = mentionable_members(post.thread)

    def mark(match: re.Match) -> str:
        handle = match.group(1).lower()
        if handle in handles:
            return f'<span class="mention">@{escape(handle)}</span>'
        return match.group(0)

    # Only in text, never inside a tag or an attribute (href="mailto:x@y" stays whole).
    parts = re.split(r"(<[^>]*>)", html)
    return Markup("".join(p if p.startswith("<") else MENTION.sub(mark, p) for p in parts))


# --- Writing ---------------------------------------------------------------------------------


def _clean_text(value: str | None) -> str:
    return (value or "").replace("\r\n", "\n").replace("\x00", "").strip()


def _clean_body(body: str | None) -> str:
    body = _clean_text(body)
    if not body:
        raise ValidationFailed(_("Please write your message."), field="body")
    if len(body) > MAX_BODY:
        raise ValidationFailed(
            _("Please keep messages under %(n)d characters.", n=MAX_BODY), field="body"
        )
    return body


def _clean_title(title: str | None) -> str:
    title = " ".join(_clean_text(title).split())
    if not title:
        raise ValidationFailed(_("Please give your question a title."), field="title")
    if len(title) > MAX_TITLE:
        raise ValidationFailed(
            _("Please keep the title under %(n)d characters.", n=MAX_TITLE), field="title"
        )
    return title


def _clean_codes(values, vocabulary: dict, field_name: str) -> list[str]:
    codes = [str(v).strip() for v in (values or []) if str(v).strip()]
    unknown = [c for c in codes if c not in vocabulary]
    if unknown:
        raise ValidationFailed(
            _("Unknown value: %(value)s.", value=", ".join(unknown[:3])), field=field_name
        )
    return list(dict.fromkeys(codes))


def _linked_items(user: User, item_ids, field_name: str = "library_items") -> list[LibraryItem]:
    ids = []
    for raw in item_ids or []:
        try:
            ids.append(int(raw))
        except (TypeError, ValueError):
            raise ValidationFailed(_("Library items are named by their number."),
                                   field=field_name) from None
    ids = list(dict.fromkeys(ids))
    if len(ids) > MAX_LINKS:
        raise ValidationFailed(_("Link at most %(n)d library items.", n=MAX_LINKS),
                               field="library_items")
    items = []
    for item_id in ids:
        item = db.session.get(LibraryItem, item_id)
        # An item the writer may not see is refused like one that does not exist.
        if item is None or not item.is_published or not library_permissions.can_see(user, item):
            raise ValidationFailed(
                _("There is no library item number %(id)d that you can see.", id=item_id),
                field=field_name,
            )
        items.append(item)
    return items


def start_thread(
    actor: User,
    group: WorkingGroup,
    *,
    title: str,
    body: str,
    language: str = "en",
    product_groups=(),
    themes=(),
    library_items=(),
    knowledge_gap: bool = False,
) -> Thread:
    """Ask a question in ``group``: the thread and its opening post."""
    if not permissions.can_start_thread(actor, group):
        raise NotAllowed(_("Only members of this group can start a discussion."))
    title = _clean_title(title)
    body = _clean_body(body)
    if language not in ITEM_LANGUAGES:
        raise ValidationFailed(_("Please choose a language."), field="language")
    thread = Thread(
        group=group,
        author=actor,
        title=title,
        language=language,
        is_knowledge_gap=bool(knowledge_gap),
        last_posted_at=utcnow(),
    )
    thread.product_groups = _clean_codes(product_groups, PRODUCT_GROUPS, "product_groups")
    thread.themes = _clean_codes(themes, THEMES, "themes")
    thread.library_items = _linked_items(actor, library_items)
    post = Post(author=actor, body=body)
    thread.posts.append(post)
    db.session.add(thread)
    db.session.flush()
    _announce(thread, post, actor, new_thread=True)
    return thread


def reply(actor: User, thread: Thread, body: str) -> Post:
    """Answer in an open thread."""
    if thread.is_locked and permissions.can_start_thread(actor, thread.group):
        raise Conflict(_("This discussion is locked: it takes no more replies."), field="body")
    if not permissions.can_reply(actor, thread):
        raise NotAllowed(_("Only members of this group can reply."))
    post = Post(author=actor, body=_clean_body(body))
    thread.posts.append(post)
    thread.last_posted_at = utcnow()
    db.session.flush()
    _announce(thread, post, actor)
    return post


def _announce(thread: Thread, post: Post, actor: User, *, new_thread: bool = False) -> None:
    mentioned = mentioned_in(thread, post.body, author=actor)
    _record_mentions(post, mentioned)
    signals.discussion_posted.send(thread, post=post, actor=actor, mentioned=mentioned,
                                   new_thread=new_thread)


def _record_mentions(post: Post, users: list[User]) -> None:
    for user in users:
        post.mentions.append(PostMention(user_id=user.id))
    if users:
        db.session.flush()


def _newly_mentioned(post: Post, old_body: str, actor: User) -> list[User]:
    """Whom an edit mentions that the post has not told yet: not those it told (recorded),
    nor those its text already named (posts from before the record was kept)."""
    told = {m.user_id for m in post.mentions}
    told |= {u.id for u in mentioned_in(post.thread, old_body, author=actor)}
    return [u for u in mentioned_in(post.thread, post.body, author=actor) if u.id not in told]


def _refuse_edit(actor: User, post: Post) -> None:
    """Why ``actor`` may not change ``post``, as the domain error that says so."""
    own = is_signed_in(actor) and post.author_id == actor.id
    if own and post.thread.is_locked:
        raise Conflict(_("This discussion is locked: its posts can no longer be changed."),
                       field="body")
    if own and post.is_hidden:
        raise Conflict(_("An organiser has hidden this post: it can no longer be changed."),
                       field="body")
    if own:
        raise NotAllowed(_("Only members of this group can change their posts."))
    raise NotAllowed(_("Only its author can change a post."))


def edit_post(actor: User, post: Post, body: str) -> Post:
    """The author changes their post's text; it shows "edited" with the time. Members it
    newly mentions are told (each once per post); the search index follows (hooks)."""
    if not permissions.can_edit_post(actor, post):
        _refuse_edit(actor, post)
    body = _clean_body(body)
    if body == post.body:
        return post  # nothing changed: not "edited"
    old_body = post.body
    post.body = body
    post.edited_at = utcnow()
    db.session.flush()
    _announce_edit(post, old_body, actor)
    return post


def edit_thread(actor: User, thread: Thread, *, title: str | None = None,
                body: str | None = None) -> Thread:
    """The asker changes the question's title and/or text (``None``: left as it is)."""
    opening = thread.opening_post
    if opening is None or not permissions.can_edit_thread(actor, thread):
        if opening is not None and permissions.is_asker(actor, thread):
            _refuse_edit(actor, opening)
        raise NotAllowed(_("Only the person who asked can change the question."))
    new_title = thread.title if title is None else _clean_title(title)
    new_body = opening.body if body is None else _clean_body(body)
    if (new_title, new_body) == (thread.title, opening.body):
        return thread
    old_body = opening.body
    thread.title = new_title
    opening.body = new_body
    opening.edited_at = utcnow()
    db.session.flush()
    if new_body != old_body:
        _announce_edit(opening, old_body, actor)
    return thread


def _announce_edit(post: Post, old_body: str, actor: User) -> None:
    mentioned = _newly_mentioned(post, old_body, actor)
    _record_mentions(post, mentioned)
    signals.discussion_post_edited.send(post.thread, post=post, actor=actor,
                                        mentioned=mentioned)


def accept_answer(actor: User, thread: Thread, post: Post) -> Post:
    """The asker or an organiser marks ``post`` the accepted answer (replacing another)."""
    if not permissions.can_accept_answer(actor, thread):
        raise NotAllowed(_("Only the person who asked or an organiser can accept an answer."))
    if post.thread_id != thread.id or post.is_opening:
        raise ValidationFailed(_("Only a reply can be the accepted answer."))
    if post.is_hidden:
        raise ValidationFailed(_("A hidden reply cannot be the accepted answer."))
    if post.is_accepted:
        return post
    previous = thread.accepted_post
    if previous is not None:
        previous.is_accepted = False
        previous.accepted_at = None
        previous.accepted_by_id = None
        db.session.flush()  # the unique index allows one accepted post at a time
    post.is_accepted = True
    post.accepted_at = utcnow()
    post.accepted_by_id = actor.id
    db.session.flush()
    signals.discussion_answer_accepted.send(thread, post=post, actor=actor)
    return post


def withdraw_acceptance(actor: User, thread: Thread) -> None:
    if not permissions.can_accept_answer(actor, thread):
        raise NotAllowed(_("Only the person who asked or an organiser can accept an answer."))
    post = thread.accepted_post
    if post is not None:
        post.is_accepted = False
        post.accepted_at = None
        post.accepted_by_id = None
        db.session.flush()


def set_knowledge_gap(
    actor: User, thread: Thread, *, is_gap: bool, addressed_by_id: int | None = None
) -> Thread:
    """Mark (or unmark) a thread as a knowledge gap; name the library item addressing it."""
    if not permissions.can_mark_gap(actor, thread):
        raise NotAllowed(_("Only the person who asked or an organiser can change this."))
    thread.is_knowledge_gap = bool(is_gap) or addressed_by_id is not None
    if addressed_by_id is None:
        thread.addressed_by = None
        thread.addressed_at = None
    else:
        thread.addressed_by = _linked_items(actor, [addressed_by_id], "addressed_by")[0]
        thread.addressed_at = utcnow()
    db.session.flush()
    return thread


def lock_thread(actor: User, thread: Thread, *, locked: bool = True) -> Thread:
    if not permissions.can_moderate(actor, thread.group):
        raise NotAllowed(_("Only organisers of this group can lock a discussion."))
    if locked and not thread.is_locked:
        thread.locked_at = utcnow()
        thread.locked_by_id = actor.id
        audit.record(AuditAction.thread_locked, actor=actor,
                     target=Target("thread", thread.id, thread.title))
    elif not locked:
        thread.locked_at = None
        thread.locked_by_id = None
    db.session.flush()
    return thread


def hide_post(actor: User, post: Post, reason: str) -> Post:
    """Organisers hide a post with a reason; readers then see only that it was hidden."""
    if not permissions.can_moderate(actor, post.thread.group):
        raise NotAllowed(_("Only organisers of this group can hide posts."))
    reason = " ".join(_clean_text(reason).split())
    if not reason:
        raise ValidationFailed(_("Please give a reason for hiding this post."), field="reason")
    post.hidden_at = utcnow()
    post.hidden_by_id = actor.id
    post.hidden_reason = reason[:MAX_REASON]
    if post.is_accepted:
        post.is_accepted = False
        post.accepted_at = None
    for report in post.reports:
        report.resolved_at = report.resolved_at or utcnow()
    db.session.flush()
    audit.record(AuditAction.post_hidden, actor=actor,
                 target=Target("post", post.id, post.thread.title),
                 details={"reason": post.hidden_reason})
    return post


def restore_post(actor: User, post: Post) -> Post:
    if not permissions.can_moderate(actor, post.thread.group):
        raise NotAllowed(_("Only organisers of this group can hide posts."))
    post.hidden_at = None
    post.hidden_by_id = None
    post.hidden_reason = ""
    db.session.flush()
    return post


def report_post(actor: User, post: Post, reason: str) -> PostReport:
    """A member asks the organisers to look at a post (once per member and post)."""
    if not permissions.can_report(actor, post):
        raise NotAllowed(_("You cannot report this post."))
    reason = " ".join(_clean_text(reason).split())
    if not reason:
        raise ValidationFailed(_("Please say what is wrong with this post."), field="reason")
    existing = db.session.scalar(
        select(PostReport).where(PostReport.post_id == post.id,
                                 PostReport.reporter_id == actor.id)
    )
    if existing is not None:
        raise Conflict(_("You have already reported this post."), field="reason")
    report = PostReport(post=post, reporter=actor, reason=reason[:500])
    db.session.add(report)
    db.session.flush()
    return report


def dismiss_report(actor: User, report: PostReport) -> None:
    if not permissions.can_moderate(actor, report.post.thread.group):
        raise NotAllowed(_("Only organisers of this group can read reports."))
    report.resolved_at = utcnow()
    db.session.flush()


def open_reports(actor: User, group: WorkingGroup) -> list[PostReport]:
    """Reports waiting for the group's organisers, oldest first."""
    if not permissions.can_moderate(actor, group):
        raise NotAllowed(_("Only organisers of this group can read reports."))
    return list(
        db.session.scalars(
            select(PostReport)
            .join(Post, PostReport.post_id == Post.id)
            .join(Thread, Post.thread_id == Thread.id)
            .where(Thread.group_id == group.id, PostReport.resolved_at.is_(None))
            .order_by(PostReport.created_at, PostReport.id)
        )
    )


def open_report_count(group: WorkingGroup) -> int:
    return int(
        db.session.scalar(
            select(func.count(PostReport.id))
            .join(Post, PostReport.post_id == Post.id)
            .join(Thread, Post.thread_id == Thread.id)
            .where(Thread.group_id == group.id, PostReport.resolved_at.is_(None))
        )
        or 0
    )


@dataclass
class ThreadView:
    """What a thread page (or the API) shows ``user``: only what they may see."""

    thread: Thread
    posts: list[Post]
    links: list[LibraryItem] = field(default_factory=list)
    addressed_by: LibraryItem | None = None


def thread_view(thread: Thread, user: User | None) -> ThreadView:
    # The posts with their authors and the authors' organisations in two queries, not
    # two per post (the page names both for every post).
    posts = list(db.session.scalars(
        select(Post)
        .options(with_listed_accounts(selectinload(Post.author)))
        .where(Post.thread_id == thread.id)
        .order_by(Post.id)
    ))
    if "posts" not in thread.__dict__:
        # The same list as the relationship's (its order too): not asked again for the
        # accepted answer.
        set_committed_value(thread, "posts", posts)
    return ThreadView(
        thread=thread,
        posts=posts,
        links=visible_links(thread, user),
        addressed_by=visible_addressed_by(thread, user),
    )
