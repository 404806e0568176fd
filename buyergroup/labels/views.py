"""The labels register on the web: the register, generations' status, an item's citations."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from buyergroup.boundary import service_errors
from buyergroup.errors import NotAllowed, NotFound
from buyergroup.labels import permissions, service
from buyergroup.labels.forms import (
    CitationsForm,
    DeleteForm,
    GenerationForm,
    LabelForm,
    StatusForm,
)
from buyergroup.library import service as library_service
from buyergroup.vocabulary import PRODUCT_GROUPS

bp = Blueprint("labels", __name__, url_prefix="/labels")


@bp.app_context_processor
def _labels_globals() -> dict:
    return {
        "labels_of_item": _item_context,
        "labels_product_group": lambda code: str(PRODUCT_GROUPS.get(code, code)),
    }


def _item_context(item) -> dict:
    """What the item page's two label panels show, looked up once per request and item (the
    notice above the text and the list in the sidebar both ask)."""
    made = g.setdefault("labels_item_context", {})
    if item.id not in made:
        made[item.id] = _new_item_context(item)
    return made[item.id]


def _new_item_context(item) -> dict:
    cited = service.cited_generations(item)
    stale = [generation for generation, flagged in cited if flagged]
    return {
        "citations": [generation for generation, _flagged in cited],
        "stale": stale,
        "notices": [service.notice_text(generation) for generation in stale],
        "can_cite": permissions.can_cite(current_user, item),
    }


@bp.get("")
def index():
    return render_template("labels/index.html", labels=service.all_labels(),
                           can_manage=permissions.can_manage_labels(current_user),
                           status_form=StatusForm(), generation_form=GenerationForm(),
                           label_form=LabelForm())


@bp.post("")
@login_required
def add_label():
    if not permissions.can_manage_labels(current_user):
        raise NotAllowed(_("Only organisers keep the labels register."))
    form = LabelForm()
    if form.validate_on_submit():
        with service_errors(form) as outcome:
            label = service.save_label(
                current_user, name=form.name.data, issuer=form.issuer.data or "",
                scope=form.scope.data or None, product_groups=form.product_groups.data or [],
                url=form.url.data or "")
        if outcome.ok:
            flash(_("Label added. Add its generations below."), "success")
            return redirect(url_for("labels.index") + f"#label-{label.id}")
    return render_template("labels/index.html", labels=service.all_labels(), can_manage=True,
                           status_form=StatusForm(), generation_form=GenerationForm(),
                           label_form=form), 400


@bp.post("/generations/<int:generation_id>/status")
@login_required
def set_status(generation_id: int):
    if not permissions.can_manage_labels(current_user):
        raise NotAllowed(_("Only organisers keep the labels register."))
    generation = service.get_generation(generation_id)
    form = StatusForm()
    if form.validate_on_submit():
        with service_errors(form) as outcome:
            service.set_status(current_user, generation, form.status.data)
        if outcome.ok:
            flash(_("Saved. Criteria that cite it are flagged at the next check."), "success")
    return redirect(url_for("labels.index") + f"#label-{generation.label_id}")


def _manager() -> None:
    if not permissions.can_manage_labels(current_user):
        raise NotAllowed(_("Only organisers keep the labels register."))


@bp.route("/<int:label_id>/edit", methods=["GET", "POST"])
@login_required
def edit_label(label_id: int):
    _manager()
    label = service.get_label(label_id)
    form = LabelForm() if request.method == "POST" else _label_form(label)
    if form.validate_on_submit():
        with service_errors(form) as outcome:
            service.save_label(
                current_user, name=form.name.data, issuer=form.issuer.data or "",
                scope=form.scope.data or None, product_groups=form.product_groups.data or [],
                url=form.url.data or "", label=label)
        if outcome.ok:
            flash(_("Label saved."), "success")
            return redirect(url_for("labels.index") + f"#label-{label.id}")
    return _label_page(label, form)


def _label_form(label) -> LabelForm:
    """The form filled in with what the register holds now."""
    form = LabelForm(formdata=None, obj=label)
    form.product_groups.data = label.product_groups
    form.scope.data = label.scope.value if label.scope else ""
    return form


def _generation_form(generation) -> GenerationForm:
    form = GenerationForm(formdata=None, obj=generation)
    form.status.data = generation.status.value
    return form


def _label_page(label, form, status: int | None = None):
    status = status or (400 if form.errors else 200)
    return render_template(
        "labels/edit_label.html", label=label, form=form, delete_form=DeleteForm(),
        cited=sum(service.citation_counts(label.generations).values())), status


@bp.post("/<int:label_id>/delete")
@login_required
def delete_label(label_id: int):
    _manager()
    label = service.get_label(label_id)
    if not DeleteForm().validate_on_submit():
        return redirect(url_for("labels.edit_label", label_id=label.id))
    name = label.name
    with service_errors() as outcome:
        service.delete_label(current_user, label)
    if not outcome.ok:  # cited: the page again, with the reason, and nothing lost
        return _label_page(label, _label_form(label), 409)
    flash(_("%(label)s is removed from the register.", label=name), "success")
    return redirect(url_for("labels.index"))


@bp.route("/generations/<int:generation_id>/edit", methods=["GET", "POST"])
@login_required
def edit_generation(generation_id: int):
    _manager()
    generation = service.get_generation(generation_id)
    form = GenerationForm() if request.method == "POST" else _generation_form(generation)
    if form.validate_on_submit():
        before = generation.status
        with service_errors(form) as outcome:
            service.save_generation(current_user, generation.label, name=form.name.data,
                                    published_on=form.published_on.data,
                                    status=form.status.data, url=form.url.data or "",
                                    generation=generation)
        if outcome.ok:
            flash(_("Saved. Criteria that cite it are flagged at the next check.")
                  if generation.status is not before else _("Generation saved."), "success")
            return redirect(url_for("labels.index") + f"#label-{generation.label_id}")
    return _generation_page(generation, form)


def _generation_page(generation, form, status: int | None = None):
    status = status or (400 if form.errors else 200)
    return render_template(
        "labels/edit_generation.html", generation=generation, label=generation.label,
        form=form, delete_form=DeleteForm(),
        cited=service.citation_counts([generation])[generation.id]), status


@bp.post("/generations/<int:generation_id>/delete")
@login_required
def delete_generation(generation_id: int):
    _manager()
    generation = service.get_generation(generation_id)
    if not DeleteForm().validate_on_submit():
        return redirect(url_for("labels.edit_generation", generation_id=generation.id))
    label_id, title = generation.label_id, generation.title
    with service_errors() as outcome:
        service.delete_generation(current_user, generation)
    if not outcome.ok:
        return _generation_page(generation, _generation_form(generation), 409)
    flash(_("%(generation)s is removed from the register.", generation=title), "success")
    return redirect(url_for("labels.index") + f"#label-{label_id}")


@bp.post("/<int:label_id>/generations")
@login_required
def add_generation(label_id: int):
    if not permissions.can_manage_labels(current_user):
        raise NotAllowed(_("Only organisers keep the labels register."))
    label = service.get_label(label_id)
    form = GenerationForm()
    if form.validate_on_submit():
        with service_errors(form) as outcome:
            service.save_generation(current_user, label, name=form.name.data,
                                    published_on=form.published_on.data,
                                    status=form.status.data, url=form.url.data or "")
        if outcome.ok:
            flash(_("Generation added."), "success")
            return redirect(url_for("labels.index") + f"#label-{label.id}")
    return render_template("labels/index.html", labels=service.all_labels(), can_manage=True,
                           status_form=StatusForm(), generation_form=form,
                           label_form=LabelForm(formdata=None), form_label_id=label.id), 400


@bp.route("/items/<int:item_id>/citations", methods=["GET", "POST"])
@login_required
def citations(item_id: int):
    if not 0 < item_id < 2**31:
        raise NotFound()
    item = library_service.get_item(item_id, current_user)
    if not permissions.can_cite(current_user, item):
        raise NotAllowed(_("You cannot change this item."))
    labels = service.all_labels()
    form = CitationsForm()
    form.generations.choices = [
        (str(g.id), f"{label.name} – {g.name} ({g.status.label})")
        for label in labels for g in label.generations
    ]
    if form.validate_on_submit():
        with service_errors(form) as outcome:
            service.set_citations(current_user, item, form.generations.data)
        if outcome.ok:
            flash(_("Label citations saved."), "success")
            return redirect(url_for("library.item", item_id=item.id))
    elif not form.is_submitted():
        form.generations.data = [str(g.id) for g in service.citations_of(item)]
    return render_template("labels/citations.html", item=item, form=form, labels=labels)
