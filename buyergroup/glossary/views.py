"""The glossary pages: members read it, organisers keep it up to date."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import or_, select

from buyergroup.boundary import service_errors
from buyergroup.errors import NotAllowed, NotFound
from buyergroup.extensions import db
from buyergroup.glossary import search_expansions, service
from buyergroup.glossary.forms import ConceptForm, DeleteForm
from buyergroup.glossary.models import Concept, Term
from buyergroup.glossary.permissions import can_edit_glossary

bp = Blueprint("glossary", __name__, url_prefix="/library/glossary")

# About one screen of concepts with their terms in four languages; the search finds the rest.
PER_PAGE = 25
# Beyond any real glossary, and small enough that the OFFSET stays a 64-bit integer.
LAST_PAGE = 10_000


@bp.record_once
def _register_with_search(state) -> None:
    # create_app has installed the search hooks; tell search to expand with the glossary.
    search_expansions.register(state.app)


def get_concept(concept_id: int, *, edit: bool = False) -> Concept:
    concept = db.session.get(Concept, concept_id)
    if concept is None:
        raise NotFound()
    if edit and not can_edit_glossary(current_user):
        raise NotAllowed(_("Only organisers can change the glossary."))
    return concept


def _require_editor() -> None:
    if not can_edit_glossary(current_user):
        raise NotAllowed(_("Only organisers can change the glossary."))


def _page_number() -> int:
    """The ``page`` argument: a number that is not one, or is out of range, is page 1 or the
    last page there could be (never an OFFSET the database cannot take)."""
    number = request.args.get("page", 1, type=int) or 1
    return min(max(number, 1), LAST_PAGE)


@bp.get("")
@login_required
def index():
    text = (request.args.get("q") or "").strip()[:100]
    query = service.concepts_query()
    if text:
        folded = f"%{service.fold(text)}%"
        query = query.where(
            or_(
                Concept.key.ilike(f"%{text}%"),
                Concept.id.in_(select(Term.concept_id).where(Term.folded.like(folded))),
            )
        )
    page = db.paginate(query, page=_page_number(), per_page=PER_PAGE, error_out=False)
    if page.total and page.page > page.pages:
        # A page past the end (an old link after deletions): show the last one.
        page = db.paginate(query, page=page.pages, per_page=PER_PAGE, error_out=False)
    return render_template(
        "glossary/index.html",
        page=page,
        concepts=page.items,
        q=text,
        languages=service.GLOSSARY_LANGUAGES,
        can_edit=can_edit_glossary(current_user),
        delete_form=DeleteForm(),
    )


def _save(form: ConceptForm, concept: Concept | None) -> Concept | None:
    """The saved concept, or None when the form is new, invalid or refused (shown on it).

    Search forgets its cached glossary once the request commits (``search.hooks``).
    """
    if not form.validate_on_submit():
        return None
    with service_errors(form) as outcome:
        saved = service.save_concept(
            current_user._get_current_object(), concept,
            key=form.key.data, terms=form.terms(), note=form.note.data or "",
        )
    return saved if outcome.ok else None


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new_concept():
    _require_editor()
    form = ConceptForm()
    concept = _save(form, None)
    if concept is not None:
        flash(_("The concept “%(key)s” has been added.", key=concept.key), "success")
        return redirect(url_for("glossary.index") + f"#concept-{concept.id}")
    return render_template("glossary/form.html", form=form, concept=None)


@bp.route("/<int:concept_id>/edit", methods=["GET", "POST"])
@login_required
def edit_concept(concept_id: int):
    concept = get_concept(concept_id, edit=True)
    form = ConceptForm(obj=concept)
    if request.method == "GET":
        for code in service.GLOSSARY_LANGUAGES:
            form[f"terms_{code}"].data = "\n".join(concept.terms_in(code))
    saved = _save(form, concept)
    if saved is not None:
        flash(_("The concept “%(key)s” has been saved.", key=saved.key), "success")
        return redirect(url_for("glossary.index") + f"#concept-{saved.id}")
    return render_template("glossary/form.html", form=form, concept=concept)


@bp.post("/<int:concept_id>/delete")
@login_required
def delete_concept(concept_id: int):
    concept = get_concept(concept_id, edit=True)
    if DeleteForm().validate_on_submit():
        key = concept.key
        service.delete_concept(current_user._get_current_object(), concept)
        flash(_("The concept “%(key)s” has been deleted.", key=key), "success")
    return redirect(url_for("glossary.index"))
