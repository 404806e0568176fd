"""Event pages: the calendar, one event, registering, planning, participants, agenda,
materials, and the .ics feeds (event, series, working group, personal secret feed)."""

from __future__ import annotations

from datetime import datetime

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import contains_eager
from werkzeug.exceptions import RequestEntityTooLarge

from buyergroup.accounts.service import external_url, get_user_by_email
from buyergroup.boundary import mark_rollback_only, service_errors
from buyergroup.database import utcnow
from buyergroup.errors import NotAllowed, NotFound
from buyergroup.events import calendar, extraction, permissions, service, storage
from buyergroup.events.forms import (
    AddParticipantForm,
    AgendaItemForm,
    AttendanceForm,
    CancelEventForm,
    CancelSeriesForm,
    EventForm,
    MaterialForm,
    RegisterForm,
    SeriesEditForm,
    SeriesForm,
    SessionsForm,
)
from buyergroup.events.models import (
    AgendaItem,
    Event,
    EventKind,
    EventSeries,
    Registration,
    RegistrationState,
)
from buyergroup.events.times import (
    format_clock,
    format_day,
    format_moment,
    format_span,
    iso_local,
    spans_days,
    viewer_zone,
    wall_clock,
    zone_label,
)
from buyergroup.extensions import db
from buyergroup.i18n import select_timezone
from buyergroup.network.forms import DecisionForm
from buyergroup.network.models import WorkingGroup
from buyergroup.network.permissions import can_manage_group, can_see_group
from buyergroup.network.service import visible_groups
from buyergroup.vocabulary import SPOKEN_LANGUAGES

bp = Blueprint("events", __name__, url_prefix="/events")

PER_PAGE = 20


@bp.record_once
def _template_helpers(state) -> None:
    state.app.jinja_env.globals.update(
        # The working-group page lists the group's next events without the network views
        # having to know about events.
        upcoming_events_of_group=service.upcoming_for_group,
        event_span=format_span,
        event_moment=format_moment,
        event_clock=format_clock,
        event_day=format_day,
        event_spans_days=spans_days,
        event_iso=iso_local,
        zone_label=zone_label,
        viewer_zone=viewer_zone,
    )


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(error):
    mark_rollback_only()
    flash(_("The file is larger than %(mb)d MB, the largest file we accept.",
            mb=current_app.config["MAX_UPLOAD_MB"]), "error")
    return redirect(request.path)


# --- Helpers --------------------------------------------------------------------------------


def _event(event_id: int, *, manage: bool = False) -> Event:
    return service.get_event(event_id, current_user, manage=manage)


def _ics(data: bytes, filename: str, *, private: bool = False,
         entries: list[calendar.Entry] | None = None, cache: str | None = None) -> Response:
    """An .ics response that answers conditional requests: a strong ETag of the bytes (so
    a removed event changes it too) and, for feeds, Last-Modified of the newest change.
    Calendar programs poll feeds; an unchanged one costs them a 304."""
    response = Response(data, mimetype="text/calendar")
    response.headers["Content-Type"] = calendar.CONTENT_TYPE
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    if cache:
        response.headers["Cache-Control"] = cache
    elif private:
        response.headers["Cache-Control"] = "private, no-store"
    if private:
        response.headers["Referrer-Policy"] = "no-referrer"
        response.vary.add("Cookie")
    response.add_etag()
    modified = calendar.last_modified(entries or [])
    if modified is not None:
        response.last_modified = modified
    return response.make_conditional(request)


# --- The calendar ---------------------------------------------------------------------------


@bp.get("")
def index():
    when = "past" if request.args.get("when") == "past" else "upcoming"
    groups = db.session.scalars(visible_groups(current_user)).all()
    group = next((g for g in groups if g.slug == request.args.get("group")), None)
    language = request.args.get("language", "")
    kind = request.args.get("kind", "")
    filters = service.EventFilters(
        when=when,
        group_id=group.id if group else None,
        language=language if language in SPOKEN_LANGUAGES else "",
        kind=kind if kind in {k.value for k in EventKind} else "",
    )
    page = db.paginate(service.visible_events_query(current_user, filters),
                       per_page=PER_PAGE, error_out=False)
    used_languages = sorted(
        set(db.session.scalars(select(Event.language).distinct())) & set(SPOKEN_LANGUAGES)
    )
    return render_template(
        "events/index.html", page=page, filters=filters, groups=groups, group=group,
        languages=used_languages, kinds=list(EventKind),
        counts=service.counts_for(list(page.items)),
        mine=service.registrations_of(current_user, page.items),
        can_plan=service.plans_events(current_user),
    )


@bp.get("/manage")
@login_required
def dashboard():
    groups = service.managed_groups(current_user)
    if not groups:
        raise NotAllowed(_("Only organisers of a working group can plan events."))
    events = service.managed_upcoming(current_user)
    return render_template(
        "events/dashboard.html", events=events, groups=groups,
        counts=service.counts_for(events),
        series=db.session.scalars(
            select(EventSeries).where(EventSeries.group_id.in_([g.id for g in groups]))
            .order_by(EventSeries.id.desc())
        ).all(),
    )


# --- One event ------------------------------------------------------------------------------


@bp.get("/<int:event_id>")
def detail(event_id: int):
    event = _event(event_id)
    registration, registered, waiting = service.own_registration_and_counts(event, current_user)
    can_manage = permissions.can_manage_event(current_user, event)
    library_items = service.visible_library_items(event, current_user)
    materials = service.visible_materials(event, current_user)
    show_link = permissions.may_see_private_details(current_user, event)
    register_form = RegisterForm(
        show_name=bool(getattr(current_user, "listed_on_participant_lists", False))
    )
    return render_template(
        "events/detail.html",
        register_form=register_form,
        # Who else comes: for the participants and the organisers, and only the names of
        # those who agreed (the organisers' participants page lists everyone).
        listed_participants=service.listed_participants(event) if show_link else [],
        event=event,
        registration=registration,
        position=(service.waiting_position(registration, among=event.registrations)
                  if registration else None),
        registered=registered,
        waiting=waiting,
        can_manage=can_manage,
        may_register=permissions.may_register(current_user, event),
        window_open=service.registration_window_open(event),
        show_link=show_link,
        library_items=library_items,
        event_materials=[m for m in materials if m.agenda_item_id is None],
        item_materials=[m for m in materials if m.agenda_item_id is not None],
        hidden_materials=len(event.materials) - len(materials),
        action_form=DecisionForm(),
        cancel_form=CancelEventForm(),
        now=utcnow(),
    )


@bp.get("/<int:event_id>.ics")
def event_ics(event_id: int):
    event = _event(event_id)
    registration = event.registration_of(current_user)
    data = calendar.event_calendar(
        event, registration=registration,
        show_link=permissions.may_see_private_details(current_user, event),
    )
    return _ics(data, calendar.filename_for(event.title),
                private=current_user.is_authenticated)


@bp.post("/<int:event_id>/register")
@login_required
def register(event_id: int):
    event = _event(event_id)
    form = RegisterForm()
    if form.validate_on_submit():
        # A double click racing with itself ends at the unique key: errors.py answers it.
        with service_errors() as outcome:
            registration = service.register(current_user, event,
                                            show_name=form.show_name.data)
        if outcome.ok and registration.is_registered:
            flash(_("You are registered. We have emailed you a confirmation with a calendar "
                    "file."), "success")
        elif outcome.ok:
            flash(_("The event is full: you are number %(n)d on the waiting list. We will "
                    "email you if a seat frees up.",
                    n=service.waiting_position(registration)), "info")
    return redirect(url_for("events.detail", event_id=event_id))


@bp.post("/<int:event_id>/show-name")
@login_required
def show_name(event_id: int):
    """Change one's consent to appear on this event's participant list."""
    event = _event(event_id)
    form = RegisterForm()
    if form.validate_on_submit():
        with service_errors() as outcome:
            service.set_name_shown(current_user, event, form.show_name.data)
        if outcome.ok:
            flash(_("Other participants now see your name.") if form.show_name.data
                  else _("Your name is no longer shown to other participants."), "success")
    return redirect(url_for("events.detail", event_id=event_id) + "#participants")


@bp.post("/<int:event_id>/unregister")
@login_required
def unregister(event_id: int):
    event = _event(event_id)
    if DecisionForm().validate_on_submit():
        was_waiting = bool(event.registration_of(current_user)
                           and event.registration_of(current_user).is_waiting)
        with service_errors() as outcome:
            service.cancel_registration(current_user, event)
        if outcome.ok:
            flash(_("You have left the waiting list.") if was_waiting
                  else _("Your registration has been cancelled."), "info")
    return redirect(url_for("events.detail", event_id=event_id))


# --- Planning -------------------------------------------------------------------------------


def _new_event_defaults(form: EventForm) -> None:
    form.timezone.data = select_timezone()
    form.reminder_minutes.data = [1440, 60]


def _planning_form(form_class):
    """The groups the organiser plans for, and a new event or series form for them.

    On first display the form starts in the group named by ``?group=`` (else the first one),
    in that group's first working language.
    """
    groups = service.managed_groups(current_user)
    if not groups:
        raise NotAllowed(_("Only organisers of a working group can plan events."))
    form = form_class(groups=groups)
    if request.method == "GET":
        _new_event_defaults(form)
        chosen = next((g for g in groups if g.slug == request.args.get("group")), groups[0])
        form.group_id.data = str(chosen.id)
        form.language.data = chosen.languages[0] if chosen.languages else "en"
    return groups, form


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new_event():
    groups, form = _planning_form(EventForm)
    if form.validate_on_submit():
        group = next(g for g in groups if str(g.id) == form.group_id.data)
        with service_errors(form) as outcome:
            event = service.create_event(current_user, group, form.data_for_service())
        if outcome.ok:
            flash(_("The event has been created. Add its agenda when you are ready."),
                  "success")
            return redirect(url_for("events.detail", event_id=event.id))
    return render_template("events/form.html", form=form, event=None)


@bp.route("/<int:event_id>/edit", methods=["GET", "POST"])
@login_required
def edit(event_id: int):
    event = _event(event_id, manage=True)
    if event.is_cancelled:
        flash(_("This event has been cancelled and can no longer be changed."), "error")
        return redirect(url_for("events.detail", event_id=event.id))
    form = EventForm(series=event.series)
    if request.method == "GET":
        form.fill(service.EventData.of(event))
    if form.validate_on_submit():
        scope = form.scope.data if "scope" in form else "this"
        with service_errors(form) as outcome:
            changed = service.update_event(current_user, event, form.data_for_service(),
                                           scope=scope)
        if outcome.ok:
            if scope == "future" and len(changed) > 1:
                flash(ngettext("%(num)d session has been changed.",
                               "%(num)d sessions have been changed.", len(changed)), "success")
            else:
                flash(_("The event has been saved."), "success")
            return redirect(url_for("events.detail", event_id=event.id))
    return render_template("events/form.html", form=form, event=event)


@bp.post("/<int:event_id>/cancel")
@login_required
def cancel(event_id: int):
    event = _event(event_id, manage=True)
    form = CancelEventForm()
    if form.validate_on_submit():
        service.cancel_event(current_user, event, form.reason.data or "")
        flash(_("The event has been cancelled. Participants have been told."), "info")
    return redirect(url_for("events.detail", event_id=event_id))


# --- Series ---------------------------------------------------------------------------------


@bp.route("/series/new", methods=["GET", "POST"])
@login_required
def new_series():
    groups, form = _planning_form(SeriesForm)
    if form.validate_on_submit():
        group = next(g for g in groups if str(g.id) == form.group_id.data)
        with service_errors(form) as outcome:
            series = service.create_series(
                current_user, group, title_pattern=form.title_pattern.data,
                description=form.series_description.data or "",
            )
            sessions = service.add_sessions(
                current_user, series, form.data_for_service(), count=form.count.data,
                every_weeks=form.every_weeks.data,
            )
        if outcome.ok:
            flash(ngettext("The series has been created with %(num)d session.",
                           "The series has been created with %(num)d sessions.", len(sessions)),
                  "success")
            return redirect(url_for("events.series", series_id=series.id))
    return render_template("events/series_form.html", form=form, series=None)


@bp.get("/series/<int:series_id>")
def series(series_id: int):
    series = service.get_series(series_id, current_user)
    return render_template(
        "events/series.html", series=series,
        can_manage=can_manage_group(current_user, series.group),
        counts=service.counts_for(series.events),
        mine=service.registrations_of(current_user, series.events),
        cancel_form=CancelSeriesForm(),
        upcoming=[e for e in series.events if not e.is_past and not e.is_cancelled],
    )


def _managed_series(series_id: int):
    series = service.get_series(series_id, current_user)
    permissions.require_manager(current_user, series.group)
    return series


@bp.route("/series/<int:series_id>/edit", methods=["GET", "POST"])
@login_required
def edit_series(series_id: int):
    series = _managed_series(series_id)
    form = SeriesEditForm(data={"title_pattern": series.title_pattern,
                                "description": series.description})
    if form.validate_on_submit():
        with service_errors(form) as outcome:
            renamed = service.rename_series(current_user, series,
                                            title_pattern=form.title_pattern.data,
                                            description=form.description.data or "")
        if outcome.ok:
            if renamed:
                flash(ngettext("The series has been saved; %(num)d upcoming session was "
                               "renamed.", "The series has been saved; %(num)d upcoming "
                               "sessions were renamed.", len(renamed)), "success")
            else:
                flash(_("The series has been saved."), "success")
            return redirect(url_for("events.series", series_id=series.id))
    return render_template("events/series_edit.html", form=form, series=series)


@bp.post("/series/<int:series_id>/cancel")
@login_required
def cancel_series(series_id: int):
    series = _managed_series(series_id)
    form = CancelSeriesForm()
    if form.validate_on_submit():
        cancelled = service.cancel_series(current_user, series, form.reason.data or "")
        flash(ngettext("%(num)d upcoming session has been cancelled. Participants have been "
                       "told.", "%(num)d upcoming sessions have been cancelled. Participants "
                       "have been told.", len(cancelled)), "info")
    return redirect(url_for("events.series", series_id=series_id))


@bp.route("/series/<int:series_id>/sessions/new", methods=["GET", "POST"])
@login_required
def add_sessions(series_id: int):
    series = service.get_series(series_id, current_user, manage=True)
    form = SessionsForm()
    if request.method == "GET":
        defaults = service.next_session_defaults(series)
        if defaults is not None:
            form.fill(defaults)
        else:
            _new_event_defaults(form)
    if form.validate_on_submit():
        with service_errors(form) as outcome:
            sessions = service.add_sessions(
                current_user, series, form.data_for_service(), count=form.count.data,
                every_weeks=form.every_weeks.data,
            )
        if outcome.ok:
            flash(ngettext("%(num)d session has been added.",
                           "%(num)d sessions have been added.", len(sessions)), "success")
            return redirect(url_for("events.series", series_id=series.id))
    return render_template("events/series_form.html", form=form, series=series)


@bp.get("/series/<int:series_id>.ics")
def series_ics(series_id: int):
    series = service.get_series(series_id, current_user)
    entries = service.feed_entries(series.events, current_user)
    return _ics(calendar.build(entries, name=series.name, refresh_hours=6),
                calendar.filename_for(series.name), private=current_user.is_authenticated,
                entries=entries)


@bp.get("/groups/<slug>.ics")
def group_ics(slug: str):
    group = db.session.scalar(select(WorkingGroup).where(WorkingGroup.slug == slug))
    if group is None or not can_see_group(current_user, group):
        raise NotFound()
    entries = service.feed_entries(service.group_events(group), current_user)
    return _ics(calendar.build(entries, name=group.name, refresh_hours=6),
                calendar.filename_for(group.name), private=current_user.is_authenticated,
                entries=entries)


# --- Participants ---------------------------------------------------------------------------


@bp.get("/<int:event_id>/participants")
@login_required
def participants(event_id: int):
    event = _event(event_id, manage=True)
    registered = service.registrations_in(event, RegistrationState.registered)
    return render_template(
        "events/participants.html",
        event=event,
        registered=registered,
        waiting=service.registrations_in(event, RegistrationState.waiting),
        cancelled=service.registrations_in(event, RegistrationState.cancelled),
        add_form=AddParticipantForm(),
        attendance_form=AttendanceForm(registrations=registered),
        action_form=DecisionForm(),
    )


@bp.post("/<int:event_id>/participants")
@login_required
def add_participant(event_id: int):
    event = _event(event_id, manage=True)
    form = AddParticipantForm()
    if form.validate_on_submit():
        user = get_user_by_email(form.email.data)
        if user is None:
            form.email.errors = [_("No member has this email address.")]
        else:
            with service_errors(form) as outcome:
                registration = service.register(user, event, actor=current_user)
            if outcome.ok:
                if registration.is_registered:
                    flash(_("%(name)s is registered.", name=user.name), "success")
                else:
                    flash(_("The event is full: %(name)s is on the waiting list.",
                            name=user.name), "info")
                return redirect(url_for("events.participants", event_id=event.id))
    registered = service.registrations_in(event, RegistrationState.registered)
    return render_template(
        "events/participants.html",
        event=event, registered=registered,
        waiting=service.registrations_in(event, RegistrationState.waiting),
        cancelled=service.registrations_in(event, RegistrationState.cancelled),
        add_form=form, attendance_form=AttendanceForm(registrations=registered),
        action_form=DecisionForm(),
    ), 400


def _registration(event: Event, registration_id: int) -> Registration:
    registration = db.session.get(Registration, registration_id)
    if registration is None or registration.event_id != event.id:
        raise NotFound()
    return registration


@bp.post("/<int:event_id>/participants/<int:registration_id>/remove")
@login_required
def remove_participant(event_id: int, registration_id: int):
    event = _event(event_id, manage=True)
    registration = _registration(event, registration_id)
    if DecisionForm().validate_on_submit():
        name = registration.user.name
        with service_errors() as outcome:
            service.cancel_registration(registration.user, event, actor=current_user)
        if outcome.ok:
            flash(_("%(name)s has been removed.", name=name), "info")
    return redirect(url_for("events.participants", event_id=event_id))


@bp.post("/<int:event_id>/attendance")
@login_required
def attendance(event_id: int):
    event = _event(event_id, manage=True)
    registered = service.registrations_in(event, RegistrationState.registered)
    form = AttendanceForm(registrations=registered)
    if form.validate_on_submit():
        present = service.set_attendance(current_user, event, set(form.present.data or []))
        flash(_("Attendance saved: %(present)d of %(total)d were there.",
                present=present, total=len(registered)), "success")
    else:
        flash(_("Attendance was not saved. Please try again."), "error")
    return redirect(url_for("events.participants", event_id=event_id) + "#attendance")


@bp.get("/<int:event_id>/participants.csv")
@login_required
def participants_csv(event_id: int):
    event = _event(event_id, manage=True)
    # A GET that writes, on purpose: the audit log records who took the personal data away.
    csv_text = service.participants_csv(event, actor=current_user)
    data = "\ufeff" + csv_text  # the BOM makes Excel read UTF-8
    response = Response(data, mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    filename = calendar.filename_for(event.title).removesuffix(".ics")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{filename}-participants.csv"'
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- Agenda ---------------------------------------------------------------------------------


def _agenda_item(event: Event, item_id: int) -> AgendaItem:
    item = db.session.get(AgendaItem, item_id)
    if item is None or item.event_id != event.id:
        raise NotFound()
    return item


def _save_agenda_item(event: Event, form: AgendaItemForm, item: AgendaItem | None):
    """The saved item, or None when the service refused (the form then shows why)."""
    with service_errors(form) as outcome:
        saved = service.save_agenda_item(
            current_user, event, item,
            starts_local=form.starts_local.data, title=form.title.data,
            speakers=form.speakers.data or "", notes=form.notes.data or "",
            library_item_ids=service.parse_library_refs(form.library_items.data or ""),
        )
    return saved if outcome.ok else None


def _picked(form: AgendaItemForm) -> list[dict]:
    """The chosen library items by title, for the agenda form's picker to show back."""
    return [{"id": li.id, "title": li.title, "language": li.language}
            for li in service.picked_library_items(current_user, form.library_items.data)]


@bp.route("/<int:event_id>/agenda", methods=["GET", "POST"])
@login_required
def agenda(event_id: int):
    event = _event(event_id, manage=True)
    form = AgendaItemForm()
    if request.method == "GET":
        last = event.agenda_items[-1] if event.agenda_items else None
        start = last.starts_at if last else event.starts_at
        form.starts_local.data = _wall(start, event)
    if form.validate_on_submit() and _save_agenda_item(event, form, None) is not None:
        flash(_("The agenda item has been added."), "success")
        return redirect(url_for("events.agenda", event_id=event.id))
    return render_template("events/agenda.html", event=event, form=form, item=None,
                           action_form=DecisionForm(), picked=_picked(form))


@bp.route("/<int:event_id>/agenda/<int:item_id>/edit", methods=["GET", "POST"])
@login_required
def edit_agenda_item(event_id: int, item_id: int):
    event = _event(event_id, manage=True)
    item = _agenda_item(event, item_id)
    form = AgendaItemForm(obj=item)
    if request.method == "GET":
        form.starts_local.data = _wall(item.starts_at, event)
        form.library_items.data = ", ".join(str(li.id) for li in item.library_items)
    if form.validate_on_submit() and _save_agenda_item(event, form, item) is not None:
        flash(_("The agenda item has been saved."), "success")
        return redirect(url_for("events.agenda", event_id=event.id))
    return render_template("events/agenda.html", event=event, form=form, item=item,
                           action_form=DecisionForm(), picked=_picked(form))


@bp.post("/<int:event_id>/agenda/<int:item_id>/delete")
@login_required
def delete_agenda_item(event_id: int, item_id: int):
    event = _event(event_id, manage=True)
    item = _agenda_item(event, item_id)
    if DecisionForm().validate_on_submit():
        storage.delete_after_commit(service.delete_agenda_item(current_user, item))
        flash(_("The agenda item has been removed."), "info")
    return redirect(url_for("events.agenda", event_id=event_id))


def _wall(moment: datetime, event: Event) -> datetime:
    return wall_clock(moment, event.timezone)


# --- Materials and minutes ------------------------------------------------------------------


@bp.route("/<int:event_id>/materials/new", methods=["GET", "POST"])
@login_required
def new_material(event_id: int):
    event = _event(event_id, manage=True)
    form = MaterialForm(event=event)
    if request.method == "GET" and request.args.get("minutes"):
        form.is_minutes.data = True
        form.title.data = _("Minutes")
    if form.validate_on_submit():
        upload = form.file.data
        with service_errors(form) as outcome:
            stored = None
            if upload and upload.filename:
                try:
                    stored = storage.store_upload(upload.stream, upload.filename)
                except storage.UploadRefused as refused:
                    refused.field = "file"
                    raise
                # The file is written now; the row only when the request commits.
                storage.discard_unless_committed(stored.stored_name)
            item = (db.session.get(AgendaItem, int(form.agenda_item_id.data))
                    if form.agenda_item_id.data else None)
            material = service.add_material(
                current_user, event, title=form.title.data or "", note=form.note.data or "",
                visibility=form.visibility.data, is_minutes=form.is_minutes.data,
                agenda_item=item, stored=stored,
            )
        if outcome.ok:
            if material.is_minutes:
                flash(_("The minutes have been posted. Registered participants are being "
                        "told by email."), "success")
            else:
                flash(_("The material has been added."), "success")
            return extraction.extract_after_response(
                redirect(url_for("events.detail", event_id=event.id) + "#materials"),
                [material.id] if material.has_file else [],
            )
    return render_template("events/material_form.html", event=event, form=form)


@bp.get("/<int:event_id>/materials/<int:material_id>/file")
def material_file(event_id: int, material_id: int):
    event = _event(event_id)
    material = service.get_material(event, material_id, current_user)
    if not material.has_file:
        raise NotFound()
    response = send_from_directory(
        storage.folder(), material.stored_name, as_attachment=True,
        download_name=material.original_name, mimetype=material.content_type, max_age=0,
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/<int:event_id>/materials/<int:material_id>/delete")
@login_required
def delete_material(event_id: int, material_id: int):
    event = _event(event_id, manage=True)
    material = service.get_material(event, material_id, current_user)
    if DecisionForm().validate_on_submit():
        storage.delete_after_commit([service.delete_material(current_user, material)])
        flash(_("The material has been removed."), "info")
    return redirect(url_for("events.detail", event_id=event_id) + "#materials")


# --- My calendar and the personal feed ------------------------------------------------------


def _my_calendar():
    registrations = db.session.scalars(
        select(Registration)
        .join(Event, Registration.event_id == Event.id)
        .options(contains_eager(Registration.event))
        .where(Registration.user_id == current_user.id,
               Registration.state != RegistrationState.cancelled,
               Event.ends_at >= utcnow())
        .order_by(Event.starts_at)
    ).all()
    feed = service.active_feed(current_user)
    secret = service.feed_secret(feed) if feed is not None else None
    return render_template(
        "events/my_calendar.html",
        registrations=registrations,
        feed=feed,
        feed_link=external_url("events.personal_feed", token=secret) if secret else None,
        action_form=DecisionForm(),
    )


@bp.get("/mine")
@login_required
def my_calendar():
    return _my_calendar()


@bp.post("/mine/feed")
@login_required
def create_feed():
    if not DecisionForm().validate_on_submit():
        return redirect(url_for("events.my_calendar"))
    service.create_feed(current_user)
    # Post/redirect/get: the page shows the link on every visit, so a reload neither asks
    # to send the form again nor replaces the link.
    flash(_("Your new calendar link is ready. Any previous link no longer works."), "success")
    return redirect(url_for("events.my_calendar", _anchor="feed"))


@bp.post("/mine/feed/revoke")
@login_required
def revoke_feed():
    if DecisionForm().validate_on_submit():
        if service.revoke_feed(current_user):
            flash(_("Your calendar link no longer works. Create a new one to subscribe again."),
                  "info")
    return redirect(url_for("events.my_calendar"))


@bp.get("/feed/<token>.ics")
def personal_feed(token: str):
    user = service.user_for_feed(token)
    if user is None:
        raise NotFound(_("This calendar link is not valid, or it has been replaced."))
    locale = user.locale or "en"
    entries = service.personal_entries(user)
    with force_locale(locale):
        # The subscriber's calendar list shows it under the member's own name.
        name = _("Buyergroup events of %(name)s", name=user.name)
    data = calendar.build(entries, name=name, locale=locale, refresh_hours=1)
    # Calendars revalidate (no-cache) but nothing shared keeps it (private).
    return _ics(data, "buyergroup.ics", private=True, entries=entries,
                cache="private, no-cache")

