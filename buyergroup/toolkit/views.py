"""Tender baskets on the web: the list, one basket, adding items, exports, recorded uses."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, Response, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape
from werkzeug.datastructures import MultiDict

from buyergroup.boundary import service_errors
from buyergroup.core.kept_regions import reader_part
from buyergroup.errors import NotFound, ValidationFailed
from buyergroup.extensions import db
from buyergroup.library import browse as browsing
from buyergroup.library import permissions as library_permissions
from buyergroup.library import service as library_service
from buyergroup.library.fields import CLAUSE_KINDS
from buyergroup.library.models import LibraryItem
from buyergroup.network.models import WorkingGroup
from buyergroup.network.permissions import active_group_roles
from buyergroup.security import safe_next_url
from buyergroup.toolkit import exports, permissions, service
from buyergroup.toolkit.forms import (
    EXPORT_FORMATS,
    ActionForm,
    AddItemForm,
    BasketForm,
    BasketSettingsForm,
    HideUseForm,
    MoveForm,
    NoteForm,
    UseForm,
    VariantForm,
    output_language_choices,
)
from buyergroup.toolkit.models import Basket, BasketShare

bp = Blueprint("toolkit", __name__, url_prefix="/baskets")


@bp.record_once
def _extend_item_json(state) -> None:
    from buyergroup.library.api import ITEM_JSON_EXTRAS
    from buyergroup.toolkit.api import item_json_extras

    if item_json_extras not in ITEM_JSON_EXTRAS:
        ITEM_JSON_EXTRAS.append(item_json_extras)
    # "Most used" on the library's sort menu, and reuse as a mild boost of relevance.
    browsing.EXTRA_SORTS.setdefault("most_used", browsing.ExtraSort(
        label=lambda: _("Most used in tenders"), values=service.uses_counts))
    if service.use_boosts not in browsing.RANK_BOOSTS:
        browsing.RANK_BOOSTS.append(service.use_boosts)


# --- What other pages show (the item page, the search results) ------------------------------


def _item(item_id: int) -> LibraryItem:
    """The library's loader, after refusing ids no database column holds (404, not 500)."""
    if not 0 < item_id < 2**31:
        raise NotFound()
    return library_service.get_item(item_id, current_user)


def _baskets() -> list[Basket]:
    """The reader's baskets, looked up once per request (the add-to-basket forms and the
    item page's "in your baskets" both ask)."""
    if "toolkit_baskets" not in g:
        g.toolkit_baskets = service.baskets_for(current_user)
    return g.toolkit_baskets


def _editable_baskets() -> list[Basket]:
    return service.editable_baskets_for(current_user, _baskets())


def add_form_for(item: LibraryItem) -> AddItemForm | None:
    """The item page's "add to a basket" form, or None where it has no place."""
    if not _may_add(item):
        return None
    baskets = _editable_baskets()
    form = AddItemForm(baskets=baskets, item_id=str(item.id), prefix=f"add{item.id}",
                       next=request.full_path.rstrip("?"))
    form.basket_id.data = _preselected(baskets)
    return form


def _preselected(baskets: list[Basket]) -> str | None:
    """The basket an add-to-basket menu starts on: the first the reader may change."""
    return str(baskets[0].id) if baskets else None


@dataclass(frozen=True)
class _BasketMenu:
    """What every search result's "add to a basket" controls share, made once per request
    and escaped once: the menu's options (the reader's baskets), the form's address, token
    and way back, the label (with ``_TITLE`` where each result's title goes) and the
    button's text, translated."""

    options: Markup
    action: str
    csrf_token: str
    next: str
    label: str
    add: str


def _basket_menu() -> _BasketMenu:
    if "toolkit_basket_menu" not in g:
        # The search results' menu names the baskets and needs none of their entries.
        baskets = g.get("toolkit_baskets")
        if baskets is None:
            baskets = service.baskets_for(current_user, with_entries=False)
        baskets = service.editable_baskets_for(current_user, baskets)
        chosen = _preselected(baskets)
        options = Markup("").join(
            Markup('<option value="{}"{}>{}</option>').format(
                value, Markup(" selected") if value == chosen else "", text)
            for value, text in AddItemForm.basket_choices(baskets))
        g.toolkit_basket_menu = _BasketMenu(
            options, *(str(escape(text)) for text in (
                url_for("toolkit.add"), generate_csrf(), request.full_path.rstrip("?"),
                _("Basket for “%(title)s”", title=_TITLE), _("Add to basket"))))
    return g.toolkit_basket_menu


#: Stands for a result's title in the menu's translated label (escaping leaves it alone).
_TITLE = "\x00"


# A search result's "add to a basket" controls (in the result, inside the page's search form)
# and their form (after the search form: forms do not nest), with the fields
# ``AddItemForm`` reads back (``add<id>-basket_id``, ``-item_id``, ``-next``). Made here, not
# in a template macro: twenty FlaskForms a page were 10 ms of a member's library page under
# the profiler, and then the two macros per result still a sixth of it (issue 12). Plain
# ``str.format`` with every value escaped first (the id is a number): ``Markup.format``
# escapes through Python's own formatter, and with two translations per result that was
# still 1-2 ms of a member's library page.
_CONTROLS = (
    '<div class="basket-add-inline">'
    '<label for="add{id}-basket_id" class="visually-hidden">{label}</label>'
    '<select id="add{id}-basket_id" name="add{id}-basket_id" form="basket-add-{id}"'
    ' class="select-small">{options}</select>'
    '<button type="submit" form="basket-add-{id}" class="button-small button-secondary">'
    '{add}<span class="visually-hidden">: {title}</span></button></div>')
_FORM = (
    '<form method="post" action="{action}" id="basket-add-{id}" hidden>'
    '<input type="hidden" name="csrf_token" value="{token}">'
    '<input name="add{id}-item_id" type="hidden" value="{id}">'
    '<input name="add{id}-next" type="hidden" value="{next}"></form>')


def inline_controls(item: LibraryItem) -> Markup:
    """The result's controls, or nothing where they have no place. Whether they have is
    the same for every reader of the results' audience; the menu of baskets is the
    reader's own (a reader part: ``core/kept_regions.py``)."""
    if not _may_add(item):
        return Markup("")
    return reader_part(_controls, int(item.id), str(escape(item.title)))


def inline_form(item: LibraryItem) -> Markup:
    if not _may_add(item):
        return Markup("")
    return reader_part(_form, int(item.id))


def _controls(item_id: int, title: str) -> Markup:
    menu = _basket_menu()
    return Markup(_CONTROLS.format(id=item_id, options=menu.options, title=title,
                                   label=menu.label.replace(_TITLE, title), add=menu.add))


def _form(item_id: int) -> Markup:
    menu = _basket_menu()
    return Markup(_FORM.format(id=item_id, action=menu.action, token=menu.csrf_token,
                               next=menu.next))


def _may_add(item: LibraryItem) -> bool:
    """A clause or criterion, a signed-in reader allowed to add it (the reader's groups
    looked up once per request; each result is asked twice, for its controls and form)."""
    if item.kind not in CLAUSE_KINDS or not current_user.is_authenticated:
        return False
    decided = g.setdefault("toolkit_may_add", {})
    if item.id not in decided:
        user = current_user._get_current_object()
        if "toolkit_group_ids" not in g:
            g.toolkit_group_ids = library_permissions.active_group_ids(user)
        decided[item.id] = permissions.can_add_item(user, item, group_ids=g.toolkit_group_ids)
    return decided[item.id]


def baskets_holding(item: LibraryItem) -> list[Basket]:
    return [b for b in _baskets() if any(e.item_id == item.id for e in b.entries)]


@bp.app_context_processor
def _toolkit_globals() -> dict:
    return {
        "toolkit_add_form": add_form_for,
        "toolkit_inline_controls": inline_controls,
        "toolkit_inline_form": inline_form,
        "toolkit_baskets_holding": baskets_holding,
        "toolkit_clean_text": exports.clean_text,
        "toolkit_uses": _uses_context,
        "toolkit_legal_variants": legal_variants_of,
        "toolkit_has_companions": lambda item: bool(legal_variants_of(item)),
    }


def legal_variants_of(item: LibraryItem) -> list[LibraryItem]:
    """The item's national legal variants the reader may see (asked twice by the item page:
    looked up once per request)."""
    if item.kind not in CLAUSE_KINDS:
        return []
    cache = g.setdefault("toolkit_variants", {})
    if item.id not in cache:
        cache[item.id] = service.legal_variants(item, current_user)
    return cache[item.id]


def _uses_context(item: LibraryItem) -> dict:
    uses = service.uses_of(item, include_hidden=permissions.can_hide_use(current_user))
    return {
        "uses": uses,
        "count": sum(1 for u in uses if not u.is_hidden),
        "can_record": permissions.can_record_use(current_user, item),
        "can_hide": permissions.can_hide_use(current_user),
        "form": UseForm(prefix="use"),
        "hide_form": HideUseForm(prefix="hide"),
    }


# --- Baskets ----------------------------------------------------------------------------------


@bp.get("")
@login_required
def index():
    return render_template("toolkit/index.html", baskets=service.baskets_for(current_user),
                           form=BasketForm(language=_default_language()))


def _default_language() -> str:
    from flask_babel import get_locale

    code = str(get_locale() or "en")[:2]
    return code if code in dict(output_language_choices()) else "en"


@bp.post("")
@login_required
def create():
    form = BasketForm()
    if form.validate_on_submit():
        with service_errors(form) as outcome:
            basket = service.create_basket(current_user, form.name.data,
                                           language=form.language.data)
        if outcome.ok:
            flash(_("Basket “%(name)s” created.", name=basket.name), "success")
            return redirect(url_for("toolkit.basket", basket_id=basket.id))
    return render_template("toolkit/index.html", baskets=service.baskets_for(current_user),
                           form=form), 400


@bp.post("/add")
@login_required
def add():
    """Add an item to a chosen basket, or to a new one (from the item page or results)."""
    prefix = next((k[: -len("-item_id")] for k in request.form if k.endswith("-item_id")), "")
    form = AddItemForm(baskets=service.editable_baskets_for(current_user), prefix=prefix)
    back = safe_next_url(form.next.data, "toolkit.index")
    if not form.validate_on_submit():
        flash(_("Please choose a basket."), "error")
        return redirect(back)
    ok = False
    with service_errors() as outcome:
        if form.basket_id.data:
            basket = service.get_basket(form.basket_id.data, current_user, edit=True)
        else:
            name = form.new_basket.data or _("My tender basket")
            basket = service.create_basket(current_user, name, language=_default_language())
        entry = service.add_item(current_user, basket, form.item_id.data)
        ok = True
    if outcome.ok and ok:
        flash(_("“%(title)s” is now in the basket “%(name)s”.", title=entry.item.title,
                name=basket.name), "success")
    return redirect(back)


@bp.get("/<int:basket_id>")
@login_required
def basket(basket_id: int, settings_form: BasketSettingsForm | None = None, status: int = 200):
    basket = service.get_basket(basket_id, current_user)
    view = service.view_of(basket, current_user)
    search = None
    query = (request.args.get("q") or "").strip()
    if query and permissions.can_edit_basket(current_user, basket):
        args = MultiDict([("q", query), ("kind", "criterion"), ("kind", "clause")])
        search = browsing.browse(args, current_user, per_page=10)
    can_manage = permissions.can_manage_basket(current_user, basket)
    if settings_form is None:
        # Only its manager sees the settings (the list of their groups among them).
        settings_form = BasketSettingsForm(
            obj=None, groups=_my_groups() if can_manage else (), name=basket.name,
            language=basket.language,
            share=basket.share.value, group_id=str(basket.group_id or ""),
            editable=basket.shared_editable, prefix="settings",
        )
    from buyergroup.labels.service import stale_notices_of

    entries = view.exportable
    variants_of = service.legal_variants_of([e.item for e in entries], current_user)
    variants = {e.id: variants_of[e.item_id] for e in entries}
    stale_of = stale_notices_of([e.item for e in entries])
    return render_template(
        "toolkit/basket.html",
        basket=basket, view=view, search=search, query=query,
        can_edit=permissions.can_edit_basket(current_user, basket),
        can_manage=can_manage,
        settings_form=settings_form, action_form=ActionForm(),
        variants=variants, languages=output_language_choices(),
        texts=service.texts_for(entries, basket.language, current_user),
        stale={e.id: stale_of.get(e.item_id, []) for e in entries},
        use_form=UseForm(prefix="use"),
        formats=EXPORT_FORMATS,
    ), status


def _my_groups() -> list:
    """The member's groups for the settings' list (id and name): which ones came with the
    account (``active_group_roles``), so a member of none is not asked; the names in one
    column-only statement."""
    group_ids = active_group_roles(current_user)
    if not group_ids:
        return []
    return list(db.session.execute(
        db.select(WorkingGroup.id, WorkingGroup.name)
        .where(WorkingGroup.id.in_(group_ids)).order_by(WorkingGroup.name)
    ))


@bp.post("/<int:basket_id>/settings")
@login_required
def settings(basket_id: int):
    basket = service.get_basket(basket_id, current_user, manage=True)
    form = BasketSettingsForm(groups=_my_groups(), prefix="settings")
    if form.validate_on_submit():
        group = None
        if form.group_id.data and form.group_id.data.isdigit():
            group = db.session.get(WorkingGroup, int(form.group_id.data))
        with service_errors(form) as outcome:
            service.update_basket(
                current_user, basket, name=form.name.data, language=form.language.data,
                share=form.share.data, group=group, editable=form.editable.data,
            )
        if outcome.ok:
            flash(_("Basket saved."), "success")
            return redirect(url_for("toolkit.basket", basket_id=basket.id))
    db.session.refresh(basket)  # show the basket as it is, the form as the member typed it
    return basket_page_with(basket.id, form)


def basket_page_with(basket_id: int, form: BasketSettingsForm):
    return basket(basket_id, settings_form=form, status=400)


@bp.post("/<int:basket_id>/delete")
@login_required
def delete(basket_id: int):
    basket = service.get_basket(basket_id, current_user, manage=True)
    if ActionForm().validate_on_submit():
        name = basket.name
        service.delete_basket(current_user, basket)
        flash(_("Basket “%(name)s” deleted.", name=name), "success")
    return redirect(url_for("toolkit.index"))


def _entry_action(basket_id: int, entry_id: int):
    basket = service.get_basket(basket_id, current_user, edit=True)
    return basket, service.get_entry(basket, entry_id)


def _back(basket: Basket, entry_id: int | None = None):
    anchor = f"#entry-{entry_id}" if entry_id else ""
    return redirect(url_for("toolkit.basket", basket_id=basket.id) + anchor)


@bp.post("/<int:basket_id>/entries/<int:entry_id>/move")
@login_required
def move(basket_id: int, entry_id: int):
    basket, entry = _entry_action(basket_id, entry_id)
    form = MoveForm()
    if form.validate_on_submit():
        with service_errors():
            service.move_entry(current_user, basket, entry, form.direction.data)
    return _back(basket, entry_id)


@bp.post("/<int:basket_id>/entries/<int:entry_id>/remove")
@login_required
def remove(basket_id: int, entry_id: int):
    basket, entry = _entry_action(basket_id, entry_id)
    if ActionForm().validate_on_submit():
        service.remove_entry(current_user, basket, entry)
        flash(_("Removed from the basket."), "success")
    return _back(basket)


@bp.post("/<int:basket_id>/entries/<int:entry_id>/note")
@login_required
def note(basket_id: int, entry_id: int):
    basket, entry = _entry_action(basket_id, entry_id)
    form = NoteForm(prefix=f"note{entry_id}")
    if form.validate_on_submit():
        with service_errors() as outcome:
            service.set_note(current_user, basket, entry, form.note.data)
        if outcome.ok:
            flash(_("Note saved."), "success")
    else:
        flash(_("The note is too long: at most %(n)d characters.", n=2000), "error")
    return _back(basket, entry_id)


@bp.post("/<int:basket_id>/entries/<int:entry_id>/variant")
@login_required
def variant(basket_id: int, entry_id: int):
    basket, entry = _entry_action(basket_id, entry_id)
    form = VariantForm(prefix=f"variant{entry_id}")
    form.variant_id.choices = [("", "")] + [
        (str(v.id), v.title) for v in service.legal_variants(entry.item, current_user)]
    if form.validate_on_submit():
        with service_errors() as outcome:
            service.set_variant(current_user, basket, entry, form.variant_id.data or None)
        if outcome.ok:
            flash(_("Legal variant saved."), "success")
    else:
        flash(_("Please choose one of the options."), "error")
    return _back(basket, entry_id)


@bp.get("/<int:basket_id>/export")
@login_required
def export(basket_id: int):
    basket = service.get_basket(basket_id, current_user)
    return export_response(basket, request.args.get("format", "docx"),
                           request.args.get("language") or basket.language)


def export_response(basket: Basket, fmt: str, language: str):
    """The document as a download (shared by the page and the API)."""
    from buyergroup.labels.service import stale_warnings

    if fmt not in EXPORT_FORMATS:
        raise ValidationFailed(_("Choose DOCX, ODT, Markdown or text."), field="format")
    if language not in dict(output_language_choices()):
        raise ValidationFailed(_("Please choose one of the languages offered."),
                               field="language")
    annex = exports.build_annex(basket, current_user, language, stale_warnings=stale_warnings)
    if annex.is_empty:
        raise ValidationFailed(_("This basket has no items to export."))
    body = exports.render(annex, fmt)
    return Response(body, content_type=exports.CONTENT_TYPES[fmt], headers={
        "Content-Disposition": f'attachment; filename="{exports.file_name(annex, fmt)}"',
    })


# --- Recorded uses ------------------------------------------------------------------------


@bp.route("/<int:basket_id>/uses", methods=["GET", "POST"])
@login_required
def record_basket_use(basket_id: int):
    basket = service.get_basket(basket_id, current_user)
    form = UseForm(prefix="use")
    if form.validate_on_submit():
        with service_errors(form) as outcome:
            uses = service.record_basket_use(current_user, basket,
                                             service.UseData(**form.data_fields()))
        if outcome.ok:
            flash(ngettext("Use recorded for %(num)d item.", "Use recorded for %(num)d items.",
                           len(uses)), "success")
            return redirect(url_for("toolkit.basket", basket_id=basket.id))
    view = service.view_of(basket, current_user)
    status = 400 if request.method == "POST" else 200
    return render_template("toolkit/use_form.html", form=form, basket=basket, item=None,
                           view=view,
                           action=url_for("toolkit.record_basket_use", basket_id=basket.id)), status


@bp.route("/items/<int:item_id>/uses", methods=["GET", "POST"])
@login_required
def record_item_use(item_id: int):
    item = _item(item_id)
    if not permissions.can_record_use(current_user, item):
        raise NotFound()
    form = UseForm(prefix="use")
    if form.validate_on_submit():
        with service_errors(form) as outcome:
            service.record_use(current_user, item, service.UseData(**form.data_fields()))
        if outcome.ok:
            flash(_("Use recorded. Thank you: others can learn from it."), "success")
            return redirect(url_for("library.item", item_id=item.id) + "#uses")
    status = 400 if request.method == "POST" else 200
    return render_template("toolkit/use_form.html", form=form, basket=None, item=item,
                           action=url_for("toolkit.record_item_use", item_id=item.id)), status


@bp.post("/items/<int:item_id>/uses/<int:use_id>/hide")
@login_required
def hide_use(item_id: int, use_id: int):
    item = _item(item_id)
    use = service.get_use(item, use_id)
    form = HideUseForm(prefix="hide")
    if form.validate_on_submit():
        with service_errors(form) as outcome:
            service.hide_use(current_user, use, form.reason.data)
        if outcome.ok:
            flash(_("The use record is hidden."), "success")
    else:
        flash(_("Please give a reason."), "error")
    return redirect(url_for("library.item", item_id=item.id) + "#uses")


def is_visible_item(item: LibraryItem) -> bool:
    return item.is_published and library_permissions.can_see(current_user, item)


__all__ = ["bp", "BasketShare"]


# --- Versions compared and restored, texts side by side (under the library's URLs) ------

items_bp = Blueprint("toolkit_items", __name__, url_prefix="/library")


@items_bp.get("/<int:item_id>/compare")
def compare(item_id: int):
    from buyergroup.toolkit import versions

    item = _item(item_id)
    history = library_service.all_versions(item)  # read once for both questions below
    visible = library_service.visible_versions(item, current_user, history)  # newest first
    numbers = [v.number for v in visible]
    if not numbers:
        raise NotFound()
    newest = request.args.get("to", type=int) or numbers[0]
    oldest = request.args.get("from", type=int) or (
        numbers[1] if len(numbers) > 1 else numbers[0])
    if newest not in numbers or oldest not in numbers:
        raise NotFound()
    old = library_service.get_version(item, oldest, current_user)
    new = library_service.get_version(item, newest, current_user)
    return render_template(
        "toolkit/compare.html", item=item, old=old, new=new, numbers=numbers,
        diffs=versions.compare(library_service.version_data(old),
                               library_service.version_data(new)),
        can_restore=old.number in library_service.restorable_versions(
            item, current_user, [old], history),
        action_form=ActionForm(),
    )


@items_bp.post("/<int:item_id>/versions/<int:number>/restore")
@login_required
def restore(item_id: int, number: int):
    from buyergroup.toolkit import versions

    item = _item(item_id)
    if ActionForm().validate_on_submit():
        with service_errors() as outcome:
            restored = versions.restore(current_user, item, number)
        if outcome.ok and restored:
            flash(_("Version %(n)d restored as a new version.", n=number), "success")
        elif outcome.ok:
            flash(_("Version %(n)d is the current text already: nothing to restore.",
                    n=number), "info")
    return redirect(url_for("library.item", item_id=item.id) + "#history")


@items_bp.get("/<int:item_id>/side-by-side")
def side_by_side(item_id: int):
    from buyergroup.toolkit import versions

    item = _item(item_id)
    variants = legal_variants_of(item)
    choices = versions.companions(item, current_user, variants)
    other_id = request.args.get("with") or (choices[0].id if choices else None)
    other, rows = versions.side_by_side(item, other_id, current_user, choices)
    variant_ids = {v.id for v in variants}
    return render_template(
        "toolkit/side_by_side.html", item=item, other=other, rows=rows,
        translations=[c for c in choices if c.id not in variant_ids],
        variants=[c for c in choices if c.id in variant_ids],
        other_is_variant=other.id in variant_ids)
