"""The labels register on the web: the register, generations' status, an item's citations."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from buyergroup.boundary import service_errors
from buyergroup.errors import NotAllowed, NotFound
from buyergroup.labels import service
from buyergroup.labels.forms import CitationsForm, GenerationForm, LabelForm, StatusForm
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
    flags = {f.generation_id for f in service.flags_of(item)}
    citations = service.citations_of(item)
    return {
        "citations": citations,
        "stale": [g for g in citations if g.id in flags],
        "notices": [service.notice_text(g) for g in citations if g.id in flags],
        "can_cite": service.can_cite(current_user, item),
    }


@bp.get("")
def index():
    return render_template("labels/index.html", labels=service.all_labels(),
                           can_manage=service.can_manage_labels(current_user),
                           status_form=StatusForm(), generation_form=GenerationForm(),
                           label_form=LabelForm())


@bp.post("")
@login_required
def add_label():
    if not service.can_manage_labels(current_user):
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
    if not service.can_manage_labels(current_user):
        raise NotAllowed(_("Only organisers keep the labels register."))
    generation = service.get_generation(generation_id)
    form = StatusForm()
    if form.validate_on_submit():
        with service_errors(form) as outcome:
            service.set_status(current_user, generation, form.status.data)
        if outcome.ok:
            flash(_("Saved. Criteria that cite it are flagged at the next check."), "success")
    return redirect(url_for("labels.index") + f"#label-{generation.label_id}")


@bp.post("/<int:label_id>/generations")
@login_required
def add_generation(label_id: int):
    if not service.can_manage_labels(current_user):
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
    if not service.can_cite(current_user, item):
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
