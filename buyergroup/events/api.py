"""Events in API v1: the calendar, one event, and registering with a bearer token.

Registered on the API blueprint by ``buyergroup.api.views``; the same loader and service
rules as the web pages apply. Paths and schemas for the OpenAPI document are at the end.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask_babel import gettext as _
from sqlalchemy import or_, select

from buyergroup.accounts.service import external_url
from buyergroup.api.auth import api_user, token_required
from buyergroup.errors import NotFound
from buyergroup.events import permissions, service
from buyergroup.events.models import Event, EventKind, EventMode, RegistrationState
from buyergroup.events.times import iso_local
from buyergroup.extensions import db
from buyergroup.network.models import WorkingGroup
from buyergroup.openapi_schemas import page_of

MAX_PER_PAGE = 100


def _iso(moment) -> str | None:
    return moment.isoformat() if moment is not None else None


def registration_json(registration) -> dict | None:
    if registration is None:
        return None
    return {
        "state": registration.state.value,
        "waiting_position": service.waiting_position(registration),
        "registered_at": _iso(registration.registered_at),
        "show_name": registration.show_name,
    }


_LOOK_UP = object()


def event_json(event: Event, user, counts: tuple[int, int] | None = None,
               *, full: bool = False, registration=_LOOK_UP) -> dict:
    """``counts`` and ``registration`` (``user``'s, or None): given by a list that built
    them once for all its events."""
    registered, waiting = counts if counts is not None else service.counts(event)
    if registration is _LOOK_UP:
        registration = event.registration_of(user)
    show_link = permissions.may_see_private_details(user, event, registration)
    data = {
        "id": event.id,
        "uid": event.uid,
        "url": external_url("events.detail", event_id=event.id),
        "ics_url": external_url("events.event_ics", event_id=event.id),
        "title": event.title,
        "kind": event.kind.value,
        "mode": event.mode.value,
        "status": event.status.value,
        "group": {"id": event.group.id, "slug": event.group.slug, "name": event.group.name},
        "series": (
            {"id": event.series.id, "name": event.series.name, "number": event.series_number}
            if event.series else None
        ),
        "timezone": event.timezone,
        "language": event.language,
        "starts_at": _iso(event.starts_at),
        "ends_at": _iso(event.ends_at),
        "local_starts_at": iso_local(event.starts_at, event.timezone),
        "local_ends_at": iso_local(event.ends_at, event.timezone),
        "venue": (
            {"name": event.venue_name, "address": event.venue_address}
            if event.mode is EventMode.venue else None
        ),
        "video_url": (event.video_url or None) if show_link else None,
        "capacity": event.capacity,
        "registered_count": registered,
        "waiting_count": waiting,
        "seats_left": None if event.capacity is None else max(event.capacity - registered, 0),
        "is_public": event.is_public,
        "registration_opens_at": _iso(event.registration_opens_at),
        "registration_closes_at": _iso(event.registration_closes_at),
        "registration_open": service.registration_window_open(event),
        "my_registration": registration_json(registration),
    }
    if full:
        data["description"] = event.description
        data["agenda"] = [
            {
                "starts_at": _iso(item.starts_at),
                "title": item.title,
                "speakers": item.speakers,
                "library_items": [li.id for li in item.library_items],
            }
            for item in event.agenda_items
        ]
    return data


def list_events():
    user = api_user()
    group_id = None
    if group_ref := request.args.get("group", "").strip():
        group = db.session.scalar(
            select(WorkingGroup).where(
                or_(WorkingGroup.slug == group_ref,
                    WorkingGroup.id == (int(group_ref) if group_ref.isdigit() else -1))
            )
        )
        group_id = group.id if group is not None else -1
    filters = service.EventFilters(
        when="past" if request.args.get("when") == "past" else "upcoming",
        group_id=group_id,
        language=request.args.get("language", "")[:8],
        kind=request.args.get("kind", ""),
    )
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    per_page = min(max(request.args.get("per_page", 20, type=int) or 20, 1), MAX_PER_PAGE)
    result = db.paginate(service.visible_events_query(user, filters), page=page,
                         per_page=per_page, error_out=False)
    counts = service.counts_for(list(result.items))
    mine = service.registrations_of(user, result.items)
    return jsonify({
        "items": [event_json(e, user, counts[e.id], registration=mine.get(e.id))
                  for e in result.items],
        "page": result.page,
        "per_page": result.per_page,
        "total": result.total,
        "pages": result.pages,
    })


def get_event(event_id: int):
    user = api_user()
    return jsonify(event_json(service.get_event(event_id, user), user, full=True))


@token_required
def register(event_id: int):
    user = api_user()
    event = service.get_event(event_id, user)
    # An optional {"show_name": true}: the member agrees that other participants see their
    # name (never assumed; no body, or anything else, means no).
    body = request.get_json(silent=True) if request.content_length else None
    show_name = isinstance(body, dict) and body.get("show_name") is True
    registration = service.register(user, event, show_name=show_name)
    return jsonify(registration_json(registration)), 201


@token_required
def unregister(event_id: int):
    user = api_user()
    event = service.get_event(event_id, user)
    registration = event.registration_of(user)
    if registration is None or registration.state is RegistrationState.cancelled:
        raise NotFound(_("You have no registration for this event."))
    registration = service.cancel_registration(user, event)
    return jsonify(registration_json(registration))


def register_routes(bp: Blueprint) -> None:
    bp.add_url_rule("/events", "events", list_events, methods=["GET"])
    bp.add_url_rule("/events/<int:event_id>", "event", get_event, methods=["GET"])
    bp.add_url_rule("/events/<int:event_id>/registration", "register_for_event", register,
                    methods=["POST"])
    bp.add_url_rule("/events/<int:event_id>/registration", "cancel_event_registration",
                    unregister, methods=["DELETE"])


# --- OpenAPI ----------------------------------------------------------------------------------


def _json(ref: str, description: str) -> dict:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": ref}}}}


_EVENT_ID = {"name": "event_id", "in": "path", "required": True, "schema": {"type": "integer"}}
_ERROR = "#/components/schemas/Error"
_UNAUTHORIZED = {"$ref": "#/components/responses/Unauthorized"}

OPENAPI_PATHS: dict[str, dict] = {
    "/api/v1/events": {
        "get": {
            "summary": "Upcoming or past events the caller may see",
            "description": (
                "Events of public working groups for everyone; of every group with a token. "
                "Upcoming events come soonest first, past events latest first."
            ),
            "operationId": "listEvents",
            "parameters": [
                {"name": "page", "in": "query",
                 "schema": {"type": "integer", "minimum": 1, "default": 1}},
                {"name": "per_page", "in": "query",
                 "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}},
                {"name": "when", "in": "query",
                 "schema": {"type": "string", "enum": ["upcoming", "past"],
                            "default": "upcoming"}},
                {"name": "group", "in": "query", "description": "Working group slug or id",
                 "schema": {"type": "string"}},
                {"name": "language", "in": "query", "schema": {"type": "string",
                                                               "example": "nl"}},
                {"name": "kind", "in": "query",
                 "schema": {"type": "string", "enum": [k.value for k in EventKind]}},
            ],
            "responses": {"200": _json("#/components/schemas/EventPage", "A page of events")},
        }
    },
    "/api/v1/events/{event_id}": {
        "get": {
            "summary": "One event with its description and agenda",
            "operationId": "getEvent",
            "parameters": [_EVENT_ID],
            "responses": {
                "200": _json("#/components/schemas/EventDetail", "The event"),
                "404": _json(_ERROR, "No such event, or not visible to you"),
            },
        }
    },
    "/api/v1/events/{event_id}/registration": {
        "post": {
            "summary": "Register for an event (or join its waiting list when it is full)",
            "description": (
                "Members of the event's working group may register; for a public event, "
                "every member. Seats go first come, first served; when the event is full the "
                "registration joins the waiting list (state 'waiting') and is promoted "
                "automatically when a seat frees up."
            ),
            "operationId": "registerForEvent",
            "security": [{"bearerAuth": []}],
            "parameters": [_EVENT_ID],
            "requestBody": {
                "required": False,
                "content": {"application/json": {"schema": {
                    "type": "object",
                    "properties": {"show_name": {
                        "type": "boolean", "default": False,
                        "description": "Show my name on the participant list (to the other "
                                       "participants; the organisers always see it)"}},
                }}},
            },
            "responses": {
                "201": _json("#/components/schemas/EventRegistration",
                             "Registered, or on the waiting list"),
                "400": _json(_ERROR, "Registration is closed or the event is cancelled"),
                "401": _UNAUTHORIZED,
                "403": _json(_ERROR, "Only members of the working group may register"),
                "404": _json(_ERROR, "No such event, or not visible to you"),
                "409": _json(_ERROR, "Already registered or on the waiting list"),
            },
        },
        "delete": {
            "summary": "Cancel your registration (or leave the waiting list)",
            "operationId": "cancelEventRegistration",
            "security": [{"bearerAuth": []}],
            "parameters": [_EVENT_ID],
            "responses": {
                "200": _json("#/components/schemas/EventRegistration",
                             "Cancelled; the seat went to the waiting list"),
                "400": _json(_ERROR, "The event is over"),
                "401": _UNAUTHORIZED,
                "404": _json(_ERROR, "No such event, or no registration to cancel"),
            },
        },
    },
}

_NULLABLE_TIME = {"type": ["string", "null"], "format": "date-time"}

OPENAPI_SCHEMAS: dict[str, dict] = {
    "EventRegistration": {
        "type": "object",
        "required": ["state", "waiting_position"],
        "properties": {
            "state": {"type": "string", "enum": [s.value for s in RegistrationState]},
            "waiting_position": {"type": ["integer", "null"], "minimum": 1},
            "registered_at": _NULLABLE_TIME,
            "show_name": {"type": "boolean"},
        },
    },
    "Event": {
        "type": "object",
        "required": ["id", "uid", "url", "title", "kind", "mode", "status", "group",
                     "timezone", "language", "starts_at", "ends_at"],
        "properties": {
            "id": {"type": "integer"},
            "uid": {"type": "string", "description": "The iCalendar UID"},
            "url": {"type": "string", "format": "uri"},
            "ics_url": {"type": "string", "format": "uri"},
            "title": {"type": "string"},
            "kind": {"type": "string", "enum": [k.value for k in EventKind]},
            "mode": {"type": "string", "enum": [m.value for m in EventMode]},
            "status": {"type": "string", "enum": ["scheduled", "cancelled"]},
            "group": {
                "type": "object",
                "required": ["id", "slug", "name"],
                "properties": {"id": {"type": "integer"}, "slug": {"type": "string"},
                               "name": {"type": "string"}},
            },
            "series": {
                "type": ["object", "null"],
                "properties": {"id": {"type": "integer"}, "name": {"type": "string"},
                               "number": {"type": "integer"}},
            },
            "timezone": {"type": "string", "description": "IANA time zone of the event",
                         "example": "Europe/Brussels"},
            "language": {"type": "string"},
            "starts_at": {"type": "string", "format": "date-time", "description": "UTC"},
            "ends_at": {"type": "string", "format": "date-time", "description": "UTC"},
            "local_starts_at": {"type": "string", "format": "date-time",
                                "description": "In the event's time zone"},
            "local_ends_at": {"type": "string", "format": "date-time"},
            "venue": {
                "type": ["object", "null"],
                "properties": {"name": {"type": "string"}, "address": {"type": "string"}},
            },
            "video_url": {"type": ["string", "null"],
                          "description": "Only for registered participants and organisers"},
            "capacity": {"type": ["integer", "null"], "minimum": 1},
            "registered_count": {"type": "integer", "minimum": 0},
            "waiting_count": {"type": "integer", "minimum": 0},
            "seats_left": {"type": ["integer", "null"], "minimum": 0},
            "is_public": {"type": "boolean",
                          "description": "Open to every member, not only the group's"},
            "registration_opens_at": _NULLABLE_TIME,
            "registration_closes_at": _NULLABLE_TIME,
            "registration_open": {"type": "boolean"},
            "my_registration": {
                "oneOf": [{"$ref": "#/components/schemas/EventRegistration"},
                          {"type": "null"}],
            },
        },
    },
    "EventDetail": {
        "allOf": [
            {"$ref": "#/components/schemas/Event"},
            {
                "type": "object",
                "properties": {
                    "description": {"type": "string", "description": "Markdown"},
                    "agenda": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "starts_at": {"type": "string", "format": "date-time"},
                                "title": {"type": "string"},
                                "speakers": {"type": "string"},
                                "library_items": {"type": "array",
                                                  "items": {"type": "integer"}},
                            },
                        },
                    },
                },
            },
        ]
    },
    "EventPage": page_of("Event"),
}
