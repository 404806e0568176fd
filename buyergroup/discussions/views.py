"""Discussion pages under a working group: the list, a thread, asking, replying, moderating."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from buyergroup.boundary import service_errors
from buyergroup.discussions import permissions, service
from buyergroup.discussions.forms import (
    BODY_HINT,
    ActionForm,
    EditPostForm,
    EditQuestionForm,
    GapForm,
    ReasonForm,
    ReplyForm,
    ReportForm,
    ThreadForm,
)
from buyergroup.discussions.models import PostReport
from buyergroup.errors import NotAllowed, NotFound
from buyergroup.extensions import db
from buyergroup.library import service as library_service
from buyergroup.library.models import LibraryItem
from buyergroup.vocabulary import PRODUCT_GROUPS, THEMES

bp = Blueprint("discussions", __name__)

MAX_ITEM_CHOICES = 300


@bp.record_once
def _register(state) -> None:
    from buyergroup.discussions import activity, community, minutes_search
    from buyergroup.discussions.search_documents import register

    register(state.app)
    minutes_search.register(state.app)
    activity.register_template_helpers(state.app)
    community.register()


def _item_choices() -> list[tuple[str, str]]:
    """Library items the reader may link (only ones they can see)."""
    query = (
        library_service.visible_items_query(current_user)
        .with_only_columns(LibraryItem.id, LibraryItem.title, LibraryItem.language)
        .order_by(LibraryItem.title, LibraryItem.id)
        .limit(MAX_ITEM_CHOICES)
    )
    return [(str(item_id), f"{title} ({language})")
            for item_id, title, language in db.session.execute(query)]


def _filters() -> service.ThreadFilters:
    state = request.args.get("state", "all")
    return service.ThreadFilters(
        state=state if state in service.FILTERS else "all",
        product_group=request.args.get("product_group", "")[:40],
        theme=request.args.get("theme", "")[:40],
    )


@bp.get("/groups/<slug>/discussions")
def index(slug: str):
    group = service.get_group(slug, current_user)
    filters = _filters()
    page = request.args.get("page", 1, type=int) or 1
    threads = db.paginate(service.threads_query(group, filters), page=max(page, 1),
                          per_page=service.PER_PAGE, error_out=False)
    can_moderate = permissions.can_moderate(current_user, group)
    return render_template(
        "discussions/index.html",
        group=group,
        threads=threads,
        counts=service.reply_counts(list(threads.items)),
        filters=filters,
        can_start=permissions.can_start_thread(current_user, group),
        can_moderate=can_moderate,
        report_count=service.open_report_count(group) if can_moderate else 0,
        PRODUCT_GROUPS=PRODUCT_GROUPS,
        THEMES=THEMES,
    )


@bp.route("/groups/<slug>/discussions/new", methods=["GET", "POST"])
@login_required
def new_thread(slug: str):
    group = service.get_group(slug, current_user)
    if not permissions.can_start_thread(current_user, group):
        raise NotAllowed(_("Only members of this group can start a discussion."))
    form = ThreadForm(item_choices=_item_choices())
    if request.method == "GET":
        form.language.data = form.language.data or _default_language()
        if request.args.get("item", "").isdigit():
            form.library_items.data = [request.args["item"]]
    if form.validate_on_submit():
        with service_errors(form) as outcome:
            thread = service.start_thread(
                current_user, group,
                title=form.title.data, body=form.body.data, language=form.language.data,
                product_groups=form.product_groups.data, themes=form.themes.data,
                library_items=form.library_items.data, knowledge_gap=form.knowledge_gap.data,
            )
        if outcome.ok:
            flash(_("Your question is posted."), "success")
            return redirect(url_for("discussions.thread", slug=slug, thread_id=thread.id))
    return render_template("discussions/new.html", group=group, form=form, body_hint=BODY_HINT)


def _default_language() -> str:
    from buyergroup.i18n import select_locale

    return str(select_locale() or "en")


def _thread(slug: str, thread_id: int):
    thread = service.get_thread(thread_id, current_user, slug=slug)
    return thread.group, thread


@bp.get("/groups/<slug>/discussions/<int:thread_id>", endpoint="thread")
def thread_page(slug: str, thread_id: int, reply_form: ReplyForm | None = None):
    group, thread = _thread(slug, thread_id)
    view = service.thread_view(thread, current_user)
    can_mark_gap = permissions.can_mark_gap(current_user, thread)
    gap_form = GapForm(
        item_choices=_item_choices() if can_mark_gap else (),
        is_gap=thread.is_knowledge_gap,
        addressed_by=str(thread.addressed_by_id or ""),
    )
    return render_template(
        "discussions/thread.html",
        group=group,
        thread=thread,
        view=view,
        reply_form=reply_form or ReplyForm(),
        reason_form=ReasonForm(),
        report_form=ReportForm(),
        gap_form=gap_form,
        action_form=ActionForm(),
        body_hint=BODY_HINT,
        can_reply=permissions.can_reply(current_user, thread),
        is_member=permissions.can_start_thread(current_user, group),
        can_accept=permissions.can_accept_answer(current_user, thread),
        can_mark_gap=can_mark_gap,
        can_moderate=permissions.can_moderate(current_user, group),
        can_report=lambda post: permissions.can_report(current_user, post),
        can_edit=lambda post: (permissions.can_edit_thread(current_user, thread)
                               if post.is_opening
                               else permissions.can_edit_post(current_user, post)),
        can_see_hidden=lambda post: permissions.can_see_hidden(current_user, post),
        render_post=service.render_post,
        PRODUCT_GROUPS=PRODUCT_GROUPS,
        THEMES=THEMES,
    )


@bp.post("/groups/<slug>/discussions/<int:thread_id>/reply")
@login_required
def reply(slug: str, thread_id: int):
    group, thread = _thread(slug, thread_id)
    form = ReplyForm()
    if form.validate_on_submit():
        with service_errors(form) as outcome:
            post = service.reply(current_user, thread, form.body.data)
        if outcome.ok:
            flash(_("Your reply is posted."), "success")
            return redirect(url_for("discussions.thread", slug=slug, thread_id=thread.id,
                                    _anchor=f"post-{post.id}"))
    elif not permissions.can_reply(current_user, thread) and not thread.is_locked:
        raise NotAllowed(_("Only members of this group can reply."))
    # Show the page again with what was typed and the field's message.
    return thread_page(slug, thread_id, reply_form=form)


def _post_action(slug: str, thread_id: int, post_id: int):
    group, thread = _thread(slug, thread_id)
    return thread, service.get_post(thread, post_id)


def _back(slug: str, thread_id: int, anchor: str | None = None):
    return redirect(url_for("discussions.thread", slug=slug, thread_id=thread_id,
                            _anchor=anchor))


@bp.route("/groups/<slug>/discussions/<int:thread_id>/posts/<int:post_id>/edit",
          methods=["GET", "POST"])
@login_required
def edit_post(slug: str, thread_id: int, post_id: int):
    """The author changes their post; the asker, for the question, its title too."""
    thread, post = _post_action(slug, thread_id, post_id)
    question = post.is_opening
    allowed = (permissions.can_edit_thread(current_user, thread) if question
               else permissions.can_edit_post(current_user, post))
    if not allowed:
        if question and permissions.is_asker(current_user, thread) or (
                not question and post.author_id == current_user.id):
            # Locked, hidden or no longer a member: the thread says which.
            flash(_("This post can no longer be changed."), "error")
            return _back(slug, thread_id, f"post-{post_id}")
        raise NotAllowed(_("Only its author can change a post."))
    if question:
        form = EditQuestionForm(obj=None if request.method == "POST" else post)
        if request.method == "GET":
            form.title.data = thread.title
    else:
        form = EditPostForm(obj=None if request.method == "POST" else post)
    if form.validate_on_submit():
        with service_errors(form) as outcome:
            if question:
                service.edit_thread(current_user, thread, title=form.title.data,
                                    body=form.body.data)
            else:
                service.edit_post(current_user, post, form.body.data)
        if outcome.ok:
            flash(_("Your changes have been saved."), "success")
            return _back(slug, thread_id, f"post-{post_id}")
    return render_template("discussions/edit_post.html", group=thread.group, thread=thread,
                           post=post, form=form, question=question, body_hint=BODY_HINT)


@bp.post("/groups/<slug>/discussions/<int:thread_id>/posts/<int:post_id>/accept")
@login_required
def accept(slug: str, thread_id: int, post_id: int):
    thread, post = _post_action(slug, thread_id, post_id)
    if ActionForm().validate_on_submit():
        with service_errors() as outcome:
            service.accept_answer(current_user, thread, post)
        if outcome.ok:
            flash(_("Marked as the accepted answer."), "success")
    return _back(slug, thread_id, f"post-{post_id}")


@bp.post("/groups/<slug>/discussions/<int:thread_id>/accepted/withdraw")
@login_required
def withdraw_acceptance(slug: str, thread_id: int):
    _group, thread = _thread(slug, thread_id)
    if ActionForm().validate_on_submit():
        with service_errors() as outcome:
            service.withdraw_acceptance(current_user, thread)
        if outcome.ok:
            flash(_("The answer is no longer marked as accepted."), "info")
    return _back(slug, thread_id)


@bp.post("/groups/<slug>/discussions/<int:thread_id>/posts/<int:post_id>/hide")
@login_required
def hide(slug: str, thread_id: int, post_id: int):
    thread, post = _post_action(slug, thread_id, post_id)
    if not permissions.can_moderate(current_user, thread.group):
        raise NotAllowed(_("Only organisers of this group can hide posts."))
    form = ReasonForm()
    if form.validate_on_submit():
        with service_errors(form) as outcome:
            service.hide_post(current_user, post, form.reason.data)
        if outcome.ok:
            flash(_("The post is hidden."), "success")
    else:
        flash(_("Please give a reason for hiding this post."), "error")
    return _back(slug, thread_id, f"post-{post_id}")


@bp.post("/groups/<slug>/discussions/<int:thread_id>/posts/<int:post_id>/restore")
@login_required
def restore(slug: str, thread_id: int, post_id: int):
    thread, post = _post_action(slug, thread_id, post_id)
    if ActionForm().validate_on_submit():
        with service_errors() as outcome:
            service.restore_post(current_user, post)
        if outcome.ok:
            flash(_("The post is shown again."), "success")
    return _back(slug, thread_id, f"post-{post_id}")


@bp.post("/groups/<slug>/discussions/<int:thread_id>/posts/<int:post_id>/report")
@login_required
def report(slug: str, thread_id: int, post_id: int):
    thread, post = _post_action(slug, thread_id, post_id)
    if not permissions.can_report(current_user, post):
        raise NotAllowed(_("You cannot report this post."))
    form = ReportForm()
    if form.validate_on_submit():
        with service_errors(form) as outcome:
            service.report_post(current_user, post, form.reason.data)
        if outcome.ok:
            flash(_("Thank you: the organisers of the group will look at it."), "success")
    else:
        flash(_("Please say what is wrong with this post."), "error")
    return _back(slug, thread_id, f"post-{post_id}")


@bp.post("/groups/<slug>/discussions/<int:thread_id>/<any(lock, unlock):action>")
@login_required
def lock(slug: str, thread_id: int, action: str):
    _group, thread = _thread(slug, thread_id)
    if ActionForm().validate_on_submit():
        with service_errors() as outcome:
            service.lock_thread(current_user, thread, locked=action == "lock")
        if outcome.ok:
            flash(_("The discussion is locked.") if action == "lock"
                  else _("The discussion is open for replies again."), "success")
    return _back(slug, thread_id)


@bp.post("/groups/<slug>/discussions/<int:thread_id>/gap")
@login_required
def gap(slug: str, thread_id: int):
    _group, thread = _thread(slug, thread_id)
    if not permissions.can_mark_gap(current_user, thread):
        raise NotAllowed(_("Only the person who asked or an organiser can change this."))
    form = GapForm(item_choices=_item_choices())
    if form.validate_on_submit():
        addressed = form.addressed_by.data
        with service_errors() as outcome:
            service.set_knowledge_gap(
                current_user, thread, is_gap=form.is_gap.data,
                addressed_by_id=int(addressed) if addressed and addressed.isdigit() else None,
            )
        if outcome.ok:
            flash(_("Saved."), "success")
    else:
        flash(_("Please choose a library item from the list."), "error")
    return _back(slug, thread_id)


@bp.get("/groups/<slug>/discussions/reports")
@login_required
def reports(slug: str):
    group = service.get_group(slug, current_user)
    return render_template(
        "discussions/reports.html",
        group=group,
        reports=service.open_reports(current_user, group),
        action_form=ActionForm(),
        reason_form=ReasonForm(),
    )


@bp.post("/groups/<slug>/discussions/reports/<int:report_id>/dismiss")
@login_required
def dismiss_report(slug: str, report_id: int):
    group = service.get_group(slug, current_user)
    report = db.session.scalar(select(PostReport).where(PostReport.id == report_id))
    if report is None or report.post.thread.group_id != group.id:
        raise NotFound()
    if ActionForm().validate_on_submit():
        with service_errors() as outcome:
            service.dismiss_report(current_user, report)
        if outcome.ok:
            flash(_("The report is closed."), "info")
    return redirect(url_for("discussions.reports", slug=slug))

