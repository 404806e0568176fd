"""Forms for events, series, agendas, materials, participants and attendance."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    EmailField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
    URLField,
)
from wtforms.validators import DataRequired, Email, InputRequired, Length, NumberRange, Optional

from buyergroup.events.models import EventKind, EventMode, MaterialVisibility
from buyergroup.events.service import REMINDER_CHOICES, EventData, event_problems
from buyergroup.events.storage import ACCEPT_ATTRIBUTE
from buyergroup.form_fields import MultiCheckboxField, optional_choices
from buyergroup.i18n import timezone_choices
from buyergroup.vocabulary import language_choices

LOCAL_FORMAT = "%Y-%m-%dT%H:%M"
REMINDER_LABELS = {
    10080: _l("1 week before"),
    2880: _l("2 days before"),
    1440: _l("24 hours before"),
    180: _l("3 hours before"),
    60: _l("1 hour before"),
    15: _l("15 minutes before"),
}
IN_EVENT_ZONE = _l("In the event's time zone.")


def _local(label_text, required: bool = False, description=IN_EVENT_ZONE):
    # InputRequired, not DataRequired: the latter replaces "Not a valid datetime value" with
    # "This field is required" when something unreadable was typed.
    validators = [InputRequired()] if required else [Optional()]
    return DateTimeLocalField(label_text, format=LOCAL_FORMAT, validators=validators,
                              description=description)


class EventForm(FlaskForm):
    """An event's own fields; ``data()`` gives them to the service as :class:`EventData`."""

    group_id = SelectField(_l("Working group"), validators=[DataRequired()])
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    kind = SelectField(_l("Kind of event"), validators=[DataRequired()])
    mode = SelectField(_l("Online or at a venue"), validators=[DataRequired()])
    video_url = URLField(
        _l("Video call link"), validators=[Optional(), Length(max=500)],
        description=_l("Shown to registered participants only."),
    )
    venue_name = StringField(_l("Venue"), validators=[Optional(), Length(max=200)],
                             description=_l("For events at a venue."))
    venue_address = TextAreaField(_l("Venue address"), validators=[Optional(), Length(max=1000)],
                                  render_kw={"rows": 3})
    timezone = SelectField(
        _l("Time zone"), validate_choice=False,  # the service explains an unknown zone
        description=_l("The dates and times below are in this zone."),
    )
    language = SelectField(_l("Language"), validators=[DataRequired()])
    starts_local = _local(_l("Starts"), required=True)
    ends_local = _local(_l("Ends"), required=True)
    description = TextAreaField(
        _l("Description"), validators=[Optional(), Length(max=20000)], render_kw={"rows": 8},
        description=_l("You can use Markdown: **bold**, lists with -, links."),
    )
    capacity = IntegerField(
        _l("Capacity"), validators=[Optional(), NumberRange(min=1, max=100000)],
        description=_l("The number of seats. Leave empty for no limit; when it is full, "
                       "members can join the waiting list."),
    )
    registration_opens_local = _local(_l("Registration opens"))
    registration_closes_local = _local(_l("Registration closes"))
    reminder_minutes = MultiCheckboxField(
        _l("Email reminders to participants"), coerce=int,
        description=_l("Sent to each registered participant."),
    )
    is_public = BooleanField(
        _l("Open to every Buyergroup member"),
        description=_l("Otherwise only the members of the working group can register."),
    )
    scope = SelectField(_l("Apply the changes to"), default="this")

    def __init__(self, *args, groups=(), series=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.group_id.choices = [(str(g.id), g.name) for g in groups]
        self.kind.choices = EventKind.choices()
        self.mode.choices = EventMode.choices()
        self.timezone.choices = timezone_choices(self.timezone.data)
        self.language.choices = language_choices()
        self.reminder_minutes.choices = [(m, REMINDER_LABELS[m]) for m in REMINDER_CHOICES]
        self.scope.choices = [
            ("this", _l("This session only")),
            ("future", _l("This session and all later sessions of the series")),
        ]
        if not groups:
            del self.group_id
        if series is None:
            del self.scope

    def validate(self, extra_validators=None) -> bool:
        """The fields' own checks and the service's checks of the whole event together,
        so an organiser sees every problem after one submit, not one per submit."""
        valid = super().validate(extra_validators)
        for name, message in event_problems(self.data_for_service()).items():
            if name in self and not self[name].errors:
                self[name].errors = [*self[name].errors, str(message)]
                valid = False
        return valid

    def fill(self, data: EventData) -> None:
        for name in ("title", "kind", "mode", "video_url", "venue_name", "venue_address",
                     "timezone", "language", "starts_local", "ends_local", "description",
                     "capacity", "registration_opens_local", "registration_closes_local",
                     "reminder_minutes", "is_public"):
            if name in self:
                self[name].data = getattr(data, name)

    def data_for_service(self) -> EventData:
        return EventData(
            title=self.title.data if "title" in self else "",
            kind=self.kind.data, mode=self.mode.data,
            timezone=self.timezone.data or "", language=self.language.data,
            starts_local=self.starts_local.data, ends_local=self.ends_local.data,
            description=self.description.data or "", video_url=self.video_url.data or "",
            venue_name=self.venue_name.data or "", venue_address=self.venue_address.data or "",
            capacity=self.capacity.data,
            registration_opens_local=self.registration_opens_local.data,
            registration_closes_local=self.registration_closes_local.data,
            reminder_minutes=list(self.reminder_minutes.data or []),
            is_public=bool(self.is_public.data),
        )


class SeriesForm(EventForm):
    """A new series and its first sessions."""

    title_pattern = StringField(
        _l("Title of the sessions"), validators=[DataRequired(), Length(max=190)],
        description=_l("Put {n} where the session number goes, for example “Workshop {n}: "
                       "fair laptops”."),
    )
    series_description = TextAreaField(
        _l("About the series"), validators=[Optional(), Length(max=20000)],
        render_kw={"rows": 4},
    )
    count = IntegerField(_l("Number of sessions"), default=1,
                         validators=[DataRequired(), NumberRange(min=1, max=52)])
    every_weeks = IntegerField(
        _l("Every how many weeks"), default=1,
        validators=[DataRequired(), NumberRange(min=1, max=8)],
        description=_l("Each session is at the same local time as the first, also when the "
                       "clocks change."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.title
        self.starts_local.label.text = _l("First session starts")
        self.ends_local.label.text = _l("First session ends")


class SessionsForm(SeriesForm):
    """More sessions for an existing series."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.title_pattern
        del self.series_description


class AgendaItemForm(FlaskForm):
    starts_local = _local(_l("Starts"), required=True)
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    speakers = StringField(_l("Speakers"), validators=[Optional(), Length(max=300)])
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=5000)],
                          render_kw={"rows": 3})
    library_items = StringField(
        _l("Library items"), validators=[Optional(), Length(max=500)],
        description=_l("Numbers or links of library items, separated by commas: "
                       "for example 12, 15."),
    )


class MaterialForm(FlaskForm):
    title = StringField(_l("Title"), validators=[Optional(), Length(max=200)],
                        description=_l("Leave empty to use the file's name."))
    file = FileField(_l("File"), render_kw={"accept": ACCEPT_ATTRIBUTE},
                     description=_l("PDF, Word (.docx), OpenDocument (.odt), text or Markdown."))
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=50000)],
                         render_kw={"rows": 6},
                         description=_l("You can use Markdown: **bold**, lists with -, links."))
    agenda_item_id = SelectField(_l("Agenda item"), validators=[Optional()])
    visibility = SelectField(_l("Who can see it"), validators=[DataRequired()],
                             default=MaterialVisibility.participants.value)
    is_minutes = BooleanField(
        _l("These are the minutes"),
        description=_l("Registered participants are told by email."),
    )

    def __init__(self, *args, event=None, **kwargs):
        super().__init__(*args, **kwargs)
        items = event.agenda_items if event is not None else []
        self.agenda_item_id.choices = optional_choices(
            [(str(i.id), i.title) for i in items], _l("The whole event")
        )
        self.visibility.choices = MaterialVisibility.choices()


class CancelEventForm(FlaskForm):
    reason = TextAreaField(_l("Reason (sent to participants)"),
                           validators=[Optional(), Length(max=2000)], render_kw={"rows": 3})


class SeriesEditForm(FlaskForm):
    """A series as a whole: its name and what it is about."""

    title_pattern = StringField(
        _l("Title of the sessions"), validators=[DataRequired(), Length(max=190)],
        description=_l("Put {n} where the session number goes. Upcoming sessions that still "
                       "carry the series' title are renamed with it."),
    )
    description = TextAreaField(
        _l("About the series"), validators=[Optional(), Length(max=20000)],
        description=_l("You can use Markdown."), render_kw={"rows": 6},
    )


class CancelSeriesForm(FlaskForm):
    reason = TextAreaField(_l("Reason (sent to participants)"),
                           validators=[Optional(), Length(max=2000)], render_kw={"rows": 3})


class AddParticipantForm(FlaskForm):
    email = EmailField(_l("Email address of the member"), validators=[DataRequired(), Email()])


class AttendanceForm(FlaskForm):
    present = MultiCheckboxField(_l("Attended"), coerce=int)

    def __init__(self, *args, registrations=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.present.choices = [(r.id, r.user.name) for r in registrations]


class RegisterForm(FlaskForm):
    """Registering for an event: whether the other participants may see my name."""

    show_name = BooleanField(
        _l("Show my name on the participant list"),
        description=_l("Other participants see the names of those who agree. The organisers "
                       "always see who registered."),
    )
