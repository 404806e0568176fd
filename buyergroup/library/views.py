"""The library: browse and search, item pages, the guided form, review, comments, files."""

from __future__ import annotations

import json
import re

import click
from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from markupsafe import Markup, escape
from sqlalchemy import func, select
from werkzeug.exceptions import RequestEntityTooLarge

from buyergroup.boundary import service_errors
from buyergroup.core.kept_regions import kept_region
from buyergroup.errors import NotAllowed, NotFound
from buyergroup.extensions import db
from buyergroup.i18n import current_locale_name, format_number, select_locale
from buyergroup.library import browse as browsing
from buyergroup.library import extraction, permissions, service, uploads
from buyergroup.library import fields as library_fields
from buyergroup.library.forms import (
    BODY_HINTS,
    ActionForm,
    CommentForm,
    HideCommentForm,
    ItemForm,
    LinkTranslationForm,
    ReturnForm,
    TranslationKindForm,
    history_name,
    item_form,
)
from buyergroup.library.models import (
    ItemKind,
    ItemStatus,
    ItemVersion,
    LibraryItem,
    TranslationKind,
)
from buyergroup.network.models import Organisation, WorkingGroup
from buyergroup.templating import label, render_markdown

bp = Blueprint("library", __name__, url_prefix="/library")

# The endpoints that take files: they accept a larger request than the rest of the site
# (several files of MAX_UPLOAD_MB each); each file is then checked on its own.
UPLOAD_ENDPOINTS = {"library.new_item", "library.edit_item", "library.translate_item"}


@bp.record_once
def _register_with_search(state) -> None:
    from buyergroup.library.search_documents import register

    # create_app has installed the search hooks; tell them how to index library items.
    register(state.app)
    # Stored files follow the transaction (deleted after a commit or a rollback).
    uploads.install()


@bp.url_value_preprocessor
def _upload_limits(endpoint, values) -> None:
    # Runs before any before_request function, so before CSRFProtect reads the form.
    if endpoint in UPLOAD_ENDPOINTS:
        config = current_app.config
        request.max_content_length = (
            config["MAX_UPLOAD_MB"] * config["LIBRARY_MAX_FILES"] + 1
        ) * 1024 * 1024


#: Result meta lines ("Contract clause · in Dutch · City of Ghent · 2020") by all they show:
#: the same few dozen recur on every list page, and the macro was about 50 microseconds a
#: result (issue 12). Bounded, as the organisation names come from the data.
_META_LINES: dict[tuple, Markup] = {}
_META_LINES_KEPT = 5_000


def result_meta(item: LibraryItem) -> Markup:
    """``item_meta`` of library/_macros.html for a result, made once per language and line."""
    organisation = item.organisation
    named = (organisation.name
             if permissions.can_name_organisation(current_user, organisation) else None)
    key = (current_locale_name(), item.kind, item.language, named, item.year, item.phase)
    line = _META_LINES.get(key)
    if line is None:
        if len(_META_LINES) >= _META_LINES_KEPT:
            _META_LINES.clear()
        macros = current_app.jinja_env.get_template("library/_macros.html").module
        line = _META_LINES[key] = Markup(macros.item_meta(item))
    return line


def facet_checkboxes(name: str, options: list[browsing.FacetOption], prefix: str = "") -> Markup:
    """A facet's options as the list items of library/_results.html: a checkbox, its label
    and its count. A results page has about 110 of them; written out by the template they
    were half of its work (issue 12)."""
    field = escape(name)
    items = []
    for index, option in enumerate(options, 1):
        box = f"f-{field}-{prefix}{index}"
        checked = " checked" if option.selected else ""
        items.append(
            f'<li><input type="checkbox" name="{field}" value="{escape(option.code)}" '
            f'id="{box}"{checked}> <label for="{box}">{escape(option.label)} '
            f'<span class="count">({format_number(option.count)})</span></label></li>')
    return Markup("\n".join(items))


def markdown_under_heading(text: str | None) -> Markup:
    """Sanitised Markdown whose headings sit one level below the section's own <h2>."""
    html = str(render_markdown(text))
    html = re.sub(r"<(/?)h4>", r"<\1h5>", html)
    html = re.sub(r"<(/?)h3>", r"<\1h4>", html)
    html = re.sub(r"<(/?)h2>", r"<\1h3>", html)
    return Markup(html)


@bp.record_once
def _template_helpers(state) -> None:
    state.app.jinja_env.filters["markdown_section"] = markdown_under_heading
    state.app.jinja_env.globals.update(
        # The group page lists the group's latest items without the network views
        # having to know about the library.
        library_items_of_group=lambda group, limit=5: service.latest_for_group(
            group, current_user, limit
        ),
        snapshot_label=service.snapshot_label,
        library_result_meta=result_meta,
        library_facet_checkboxes=facet_checkboxes,
        # The item page's sections and facts and the form's fieldsets, from library.fields.
        library_text_sections=library_fields.text_sections,
        library_facts=library_fields.facts,
        library_form_sections=library_fields.SECTIONS,
        # Templates ask the rule, they do not restate it.
        can_name_organisation=lambda organisation: permissions.can_name_organisation(
            current_user, organisation
        ),
    )


@bp.context_processor
def _library_helpers():
    def without_filter(facet: str, code: str) -> str:
        args = request.args.to_dict(flat=False)
        args[facet] = [v for v in args.get(facet, []) if v.lower() != code.lower()]
        args.pop("page", None)
        return url_for("library.index", **args)

    def field_names(changed: str) -> str:
        return ", ".join(history_name(name) for name in changed.split())

    return {"without_filter": without_filter, "field_names": field_names}


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(error):
    # Raised while the request body is read, before any view ran: nothing to roll back.
    return render_template(
        "library/too_large.html",
        max_mb=current_app.config["MAX_UPLOAD_MB"],
        max_files=current_app.config["LIBRARY_MAX_FILES"],
    ), 413


# --- Browse and search ------------------------------------------------------------------------


@bp.get("")
def index():
    # The account itself, not Flask-Login's proxy: the results' permission checks ask it
    # about fifty questions, each through the proxy's lookups.
    me = _me()

    def results() -> str:
        return render_template(
            "library/_results.html",
            result=browsing.browse(request.args, me, lean=True),
            sort_choices=browsing.sort_choices(),
        )

    # The results and filters are most of the page, and the same for every reader of one
    # audience: kept (a member's kept library page costs 40 % of a made one, issue 12).
    region = kept_region("library.results", browsing.results_audience(request.args, me),
                         results)
    review_count = None
    can_review = permissions.can_review(current_user)
    if can_review:
        review_count = db.session.scalar(
            select(func.count()).select_from(service.review_queue().subquery())
        )
    return render_template(
        "library/index.html",
        results_region=region,
        query_text=browsing.query_text(request.args),
        review_count=review_count,
        can_review=can_review,
        can_share=permissions.can_create_item(current_user),
    )


# --- Reading ----------------------------------------------------------------------------------


@bp.get("/<int:item_id>")
def item(item_id: int):
    # With its files, translations, related items and other domains' companions.
    item, neighbours = service.item_page(item_id, current_user)
    history = service.all_versions(item)  # read once: the history and what may be restored
    versions = service.visible_versions(item, current_user, history)
    return render_template(
        "library/item.html",
        item=item,
        d=service.snapshot(item),
        translations=neighbours.translations,
        related=neighbours.related,
        versions=versions,
        # The versions this reader may restore (``permissions.can_restore_version``).
        restorable=service.restorable_versions(item, current_user, versions, history),
        comments=service.comments_of(item),
        can_edit=permissions.can_edit(current_user, item),
        can_submit=permissions.can_submit(current_user, item),
        can_comment=permissions.can_comment(current_user, item),
        can_translate=permissions.can_translate(current_user, item),
        can_review=permissions.can_review(current_user),
        can_link_translations=permissions.can_link_translations(current_user),
        can_moderate_comments=permissions.can_moderate_comments(current_user),
        comment_form=CommentForm(),
        hide_form=HideCommentForm(),
        return_form=ReturnForm(),
        action_form=ActionForm(),
        kind_form=TranslationKindForm(translation_kind=item.translation_kind.value),
        link_form=LinkTranslationForm(prefix="link"),
        TranslationKind=TranslationKind,
    )


@bp.get("/<int:item_id>/versions/<int:number>")
def version(item_id: int, number: int):
    item = service.get_item(item_id, current_user)
    # A version saved for a narrower audience than the reader's is no version to them.
    version = service.get_version(item, number, current_user)
    data = service.version_data(version)
    organisation = (
        db.session.get(Organisation, data["organisation_id"])
        if data.get("organisation_id") else None
    )
    group = db.session.get(WorkingGroup, data["group_id"]) if data.get("group_id") else None
    latest = db.session.scalar(
        select(func.max(ItemVersion.number)).where(ItemVersion.item_id == item.id)
    )
    return render_template(
        "library/version.html", item=item, version=version, data=data,
        organisation=organisation, group=group,
        # The first version is the item as created: every field is "new", none "changed".
        changed=version.changed_fields.split() if version.number > 1 else [],
        latest_number=latest,
    )


@bp.get("/<int:item_id>/files/<int:attachment_id>")
def download(item_id: int, attachment_id: int):
    item = service.get_item(item_id, current_user)
    attachment = service.get_attachment(item, attachment_id)
    response = send_from_directory(
        uploads.upload_folder(),
        attachment.stored_name,
        as_attachment=True,
        download_name=attachment.original_name,
        mimetype=attachment.content_type,
        max_age=0,
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- Writing ----------------------------------------------------------------------------------


def _item_form(item: LibraryItem | None = None, **kwargs) -> ItemForm:
    organisations = db.session.scalars(
        select(Organisation).order_by(func.lower(Organisation.name))
    ).all()
    if permissions.can_share_with_any_group(current_user):
        groups = db.session.scalars(select(WorkingGroup).order_by(func.lower(WorkingGroup.name)))
    else:
        ids = permissions.active_group_ids(current_user)
        if item is not None and item.group_id:
            ids.add(item.group_id)
        groups = db.session.scalars(
            select(WorkingGroup)
            .where(WorkingGroup.id.in_(ids))
            .order_by(func.lower(WorkingGroup.name))
        )
    return item_form(
        organisations=organisations,
        groups=list(groups),
        attachments=item.attachments if item is not None else (),
        **kwargs,
    )


def _checked_files(form: ItemForm) -> list[tuple[bytes, str, str]] | None:
    """Read and check the chosen files; None (with the reason by the field) if one fails."""
    files = [f for f in request.files.getlist(form.files.name) if f and f.filename]
    limit = current_app.config["LIBRARY_MAX_FILES"]
    if len(files) > limit:
        form.files.errors = [
            ngettext("You can attach at most %(num)d file at a time.",
                     "You can attach at most %(num)d files at a time.", limit)
        ]
        return None
    checked, errors = [], []
    for storage in files:
        try:
            checked.append(uploads.check_upload(storage.stream, storage.filename))
        except uploads.UploadRefused as refusal:
            errors.append(str(refusal.message))
    if errors:
        errors.append(_("Nothing has been saved yet: please choose the files again."))
        form.files.errors = errors
        return None
    return checked


def _me():
    return current_user._get_current_object()


def _action() -> str:
    action = request.form.get("action", "save")
    return action if action in ("save", "submit", "publish") else "save"


def _after_save(item: LibraryItem, action: str) -> None:
    if action == "submit":
        service.submit(_me(), item)
    elif action == "publish":
        service.publish(_me(), item)


def _saved_message(item: LibraryItem) -> str:
    if item.status is ItemStatus.submitted:
        return _("Thank you. Your item has been sent to the organisers for review.")
    if item.status is ItemStatus.published:
        return _("The item has been published.")
    if item.status is ItemStatus.draft:
        return _("Your draft has been saved. Only you and the organisers can see it.")
    return _("Your changes have been saved.")


def _save(form: ItemForm, save) -> tuple[LibraryItem, list[int]] | None:
    """For a valid form, store the files and run ``save(fields, stored_files)``.

    ``save`` returns the item. A refusal from the service is shown by its field (or as the
    page's notice), the request rolls back, and the rollback deletes the files just stored:
    a refused form leaves nothing behind. Returns (item, ids of the new attachments), or
    None to show the form again with what the user typed.
    """
    if not form.validate_on_submit():
        return None
    files = _checked_files(form)
    if files is None:
        return None
    stored = [uploads.store_bytes(data, name, content_type) for data, name, content_type in files]
    names = {file.stored_name for file in stored}
    uploads.delete_on_rollback(names)
    with service_errors(form) as outcome:
        item = save(form.service_fields(_me()), stored)
        _after_save(item, _action())
    if not outcome.ok:
        return None
    return item, [a.id for a in item.attachments if a.stored_name in names]


def _saved(result: tuple[LibraryItem, list[int]]):
    item, new_attachment_ids = result
    flash(_saved_message(item), "success")
    return extraction.extract_after_response(
        redirect(url_for("library.item", item_id=item.id)), new_attachment_ids
    )


def _form_page(form: ItemForm, item=None, original=None):
    config = current_app.config
    form.files.render_kw = {
        "accept": uploads.ACCEPT_ATTRIBUTE,
        "data-max-bytes": uploads.max_upload_bytes(),
        "data-max-files": config["LIBRARY_MAX_FILES"],
        "data-too-large": _("“%%(name)s” is larger than %(mb)d MB, the largest file we accept.",
                            mb=config["MAX_UPLOAD_MB"]),
        "data-too-many": ngettext("You can attach at most %(num)d file at a time.",
                                  "You can attach at most %(num)d files at a time.",
                                  config["LIBRARY_MAX_FILES"]),
    }
    return render_template(
        "library/form.html", form=form, item=item, original=original, body_hints=BODY_HINTS,
        body_hints_json=json.dumps({kind: str(hint) for kind, hint in BODY_HINTS.items()}),
        max_mb=current_app.config["MAX_UPLOAD_MB"],
        max_files=current_app.config["LIBRARY_MAX_FILES"],
        accept=uploads.ACCEPT_ATTRIBUTE,
        can_publish=permissions.can_publish(current_user),
    )


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new_item():
    form = _item_form()
    if request.method == "GET":
        kind = request.args.get("kind", "case_study")
        form.kind.data = kind if kind in ItemKind.__members__ else "case_study"
        form.language.data = select_locale()
        form.authors.data = current_user.name
        form.organisation_id.data = str(current_user.organisation_id or "")
        form.visibility.data = "members"

    def save(fields, files):
        return service.create_item(_me(), note=form.note.data or "", files=files, **fields)

    result = _save(form, save)
    if result is not None:
        return _saved(result)
    return _form_page(form)


@bp.route("/<int:item_id>/edit", methods=["GET", "POST"])
@login_required
def edit_item(item_id: int):
    item = service.get_item(item_id, current_user, edit=True)
    form = _item_form(item)
    if request.method == "GET":
        form.prefill(item)

    def save(fields, files):
        service.update_item(
            _me(), item, note=form.note.data or "", files=files,
            remove_attachments=[int(i) for i in form.remove_attachments.data or []], **fields,
        )
        return item

    result = _save(form, save)
    if result is not None:
        return _saved(result)
    return _form_page(form, item=item)


@bp.route("/<int:item_id>/translate", methods=["GET", "POST"])
@login_required
def translate_item(item_id: int):
    original = service.get_item(item_id, current_user)
    if not permissions.can_translate(current_user, original):
        raise NotFound()
    # Languages it already has, so the form offers only the others: only the versions this
    # member can see (a language missing from the list would tell of a hidden translation).
    taken = service.translated_languages(original, current_user)
    form = _item_form()
    form.language.choices = [c for c in form.language.choices if c[0] not in taken]
    if not permissions.can_mark_official(current_user):
        form.translation_kind.choices = form.translation_kind.choices[:1]
    if request.method == "GET":
        form.prefill(original)
        form.language.data = ""
        form.authors.data = current_user.name
        form.translation_kind.data = TranslationKind.member.value

    def save(fields, files):
        return service.add_translation(
            _me(), original,
            translation_kind=form.translation_kind.data or TranslationKind.member.value,
            files=files, **fields,
        )

    result = _save(form, save)
    if result is not None:
        return _saved(result)
    return _form_page(form, original=original)


@bp.post("/<int:item_id>/submit")
@login_required
def submit_item(item_id: int):
    item = service.get_item(item_id, current_user, edit=True)
    if ActionForm().validate_on_submit():
        with service_errors() as outcome:
            service.submit(_me(), item)
        if outcome.ok:
            flash(_saved_message(item), "success")
    return redirect(url_for("library.item", item_id=item.id))


# --- Review -----------------------------------------------------------------------------------


@bp.get("/review")
@login_required
def review():
    if not permissions.can_review(current_user):
        raise NotAllowed(_("Only organisers can review library items."))
    items = db.session.scalars(service.review_queue()).all()
    return render_template("library/review.html", items=items, action_form=ActionForm(),
                           return_form=ReturnForm())


@bp.post("/<int:item_id>/publish")
@login_required
def publish_item(item_id: int):
    item = service.get_item(item_id, current_user, review=True)
    if ActionForm().validate_on_submit():
        with service_errors() as outcome:
            service.publish(_me(), item)
        if outcome.ok:
            flash(_("“%(title)s” has been published.", title=item.title), "success")
    return _back(item)


@bp.post("/<int:item_id>/return")
@login_required
def return_item(item_id: int):
    item = service.get_item(item_id, current_user, review=True)
    form = ReturnForm()
    if form.validate_on_submit():
        with service_errors() as outcome:
            service.return_to_author(_me(), item, form.reason.data)
        if outcome.ok:
            flash(_("“%(title)s” has been sent back to its author.", title=item.title),
                  "success")
    else:
        _flash_errors(form)
    return _back(item)


def _back(item: LibraryItem):
    """Back to the review queue or the organisers' desk when the decision was taken there,
    else to the item."""
    if request.form.get("next") == "review":
        return redirect(url_for("library.review"))
    if request.form.get("next") == "desk":
        return redirect(url_for("admin.dashboard") + "#reviews-title")
    return redirect(url_for("library.item", item_id=item.id))


def _flash_errors(form) -> None:
    # Say why nothing happened (e.g. an empty reason), where the user will look.
    for errors in form.errors.values():
        flash(" ".join(str(e) for e in errors), "error")


@bp.post("/<int:item_id>/translation-kind")
@login_required
def set_translation_kind(item_id: int):
    item = service.get_item(item_id, current_user, review=True)
    form = TranslationKindForm()
    if form.validate_on_submit():
        with service_errors() as outcome:
            service.set_translation_kind(_me(), item, form.translation_kind.data)
        if outcome.ok:
            flash(_("The translation has been marked as: %(kind)s.",
                    kind=label(item.translation_kind)), "success")
    return redirect(url_for("library.item", item_id=item.id) + "#translations")


@bp.post("/<int:item_id>/link-translation")
@login_required
def link_translation(item_id: int):
    item = service.get_item(item_id, current_user, review=True)
    form = LinkTranslationForm(prefix="link")
    if form.validate_on_submit():
        original_id = form.original_id()
        if original_id is None or original_id == item.id:
            flash(_("Give the address or number of another library item."), "error")
        else:
            original = service.get_item(original_id, current_user)
            with service_errors() as outcome:
                service.link_translation(_me(), item, original, form.translation_kind.data)
            if outcome.ok:
                flash(_("This item is now linked as a translation of “%(title)s”.",
                        title=original.title), "success")
    else:
        _flash_errors(form)
    return redirect(url_for("library.item", item_id=item.id) + "#translations")


# --- Contributions --------------------------------------------------------------------------


@bp.get("/mine")
@login_required
def mine():
    items = db.session.scalars(service.items_of(_me())).all()
    return render_template("library/mine.html", items=items)


# --- Comments ---------------------------------------------------------------------------------


@bp.post("/<int:item_id>/comments")
@login_required
def add_comment(item_id: int):
    item = service.get_item(item_id, current_user)
    form = CommentForm()
    if form.validate_on_submit():
        with service_errors() as outcome:
            comment = service.add_comment(_me(), item, form.body.data)
        if outcome.ok:
            flash(_("Your comment has been added."), "success")
            return redirect(url_for("library.item", item_id=item.id) + f"#comment-{comment.id}")
    else:
        _flash_errors(form)
    return redirect(url_for("library.item", item_id=item.id) + "#comments")


@bp.post("/<int:item_id>/comments/<int:comment_id>/hide")
@login_required
def hide_comment(item_id: int, comment_id: int):
    item = service.get_item(item_id, current_user, review=True)
    comment = service.get_comment(item, comment_id)
    form = HideCommentForm()
    if form.validate_on_submit():
        with service_errors() as outcome:
            service.hide_comment(_me(), comment, form.reason.data)
        if outcome.ok:
            flash(_("The comment is now hidden."), "success")
    else:
        _flash_errors(form)
    return redirect(url_for("library.item", item_id=item.id) + f"#comment-{comment.id}")


@bp.post("/<int:item_id>/comments/<int:comment_id>/restore")
@login_required
def restore_comment(item_id: int, comment_id: int):
    item = service.get_item(item_id, current_user, review=True)
    comment = service.get_comment(item, comment_id)
    if ActionForm().validate_on_submit():
        with service_errors() as outcome:
            service.restore_comment(_me(), comment)
        if outcome.ok:
            flash(_("The comment is visible again."), "success")
    return redirect(url_for("library.item", item_id=item.id) + f"#comment-{comment.id}")


# --- Command line -----------------------------------------------------------------------------


@bp.cli.command("extract")
@click.option("--limit", default=500, show_default=True, help="Files to read at most.")
def extract_command(limit: int) -> None:
    """Read the text of attachments that are still waiting (makes them searchable)."""
    read, failed = extraction.extract_pending(limit=limit)
    click.echo(f"Read {read} file(s); {failed} could not be read.")
