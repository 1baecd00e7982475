"""Staff calendars (per counsellor or per site, day or week), attendance marks and no-show rates."""

import secrets
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, func, select

from app.core.dates import format_long_day, format_weekday
from app.core.errors import Conflict, Forbidden, Invalid
from app.models.appointments import (
    Absence,
    Appointment,
    AppointmentStatus,
    AppointmentType,
    BookingChannel,
    OpeningSlot,
    needs_site,
)
from app.models.base import utcnow
from app.models.beneficiaries import Beneficiary
from app.models.cases import Case, Episode, InteractionCreate
from app.models.nomenclatures import InteractionChannel, Role
from app.models.operators import Operator, Site
from app.models.staff import StaffUser
from app.models.triage import TriageRequest
from app.services.access.scope import load_owned, operator_of, owned_by
from app.services.admin.operators import time_zone_of
from app.services.admin.staff import Colleague, list_colleagues
from app.services.admin.supervision import overseen_counsellor
from app.services.booking.reservations import book_appointment
from app.services.booking.slots import free_slots, slot_times
from app.services.cases.interactions import record_interaction

MODE_LABELS = {"on_site": "Sur site", "phone": "Téléphone", "video": "Visio"}
# The statuses a counsellor sets once the appointment's day has come.
ATTENDANCE_MARKS = (
    AppointmentStatus.HONOURED,
    AppointmentStatus.NO_SHOW,
    AppointmentStatus.EXCUSED,
)
CHANNEL_OF_MODE = {
    "on_site": InteractionChannel.ON_SITE,
    "phone": InteractionChannel.PHONE,
    "video": InteractionChannel.VIDEO,
}
_MANAGERS = (Role.MANAGER.value, Role.OPERATOR_ADMIN.value)


def hour_label(value: datetime | time) -> str:
    return f"{value:%H} h {value:%M}"


def is_manager(actor: StaffUser) -> bool:
    return actor.role in _MANAGERS


@dataclass
class CalendarEntry:
    appointment: Appointment
    type_name: str
    beneficiary_name: str
    # The case when there is one, otherwise the triage item the booking landed in.
    link: str | None
    counsellor_name: str
    site_name: str
    start: datetime  # local
    end: datetime  # local
    can_mark: bool

    @property
    def mode_label(self) -> str:
        return MODE_LABELS.get(self.appointment.mode, self.appointment.mode)

    @property
    def status_label(self) -> str:
        return AppointmentStatus(self.appointment.status).label

    @property
    def hours(self) -> str:
        return f"{hour_label(self.start)} – {hour_label(self.end)}"

    @property
    def date_label(self) -> str:
        """« mardi 1er décembre 2026 », the local day."""
        return format_weekday(self.start.date(), year=True)

    @property
    def starts_label(self) -> str:
        """« mardi 8 décembre à 09 h 30 », the local start, as a confirmation says it."""
        return f"{format_weekday(self.start.date())} à {hour_label(self.start)}"


@dataclass
class FreeSpan:
    start: datetime  # local
    end: datetime  # local
    counsellor_name: str

    @property
    def hours(self) -> str:
        return f"{hour_label(self.start)} – {hour_label(self.end)}"


@dataclass
class CalendarDay:
    day: date
    entries: list[CalendarEntry] = field(default_factory=list)
    free: list[FreeSpan] = field(default_factory=list)

    @property
    def label(self) -> str:
        return format_long_day(self.day)


@dataclass
class CalendarView:
    view: str  # "jour" or "semaine"
    day: date
    time_zone: str
    counsellor: StaffUser | None
    site: Site | None
    days: list[CalendarDay]
    counsellors: list[Colleague]
    sites: list[Site]
    can_pick_counsellor: bool
    previous_day: date
    next_day: date
    today: date

    @property
    def title(self) -> str:
        who = (
            self.counsellor.full_name if self.counsellor else (self.site.name if self.site else "")
        )
        if self.view == "semaine":
            return f"Semaine du {format_long_day(self.days[0].day)} — {who}"
        return f"{format_long_day(self.day).capitalize()} — {who}"


def _utc_bounds(first: date, last: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime.combine(first, time.min, tzinfo=zone).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time.min, tzinfo=zone).astimezone(UTC)
    return start, end


def load_calendar(
    *,
    session: Session,
    actor: StaffUser,
    counsellor_id: int | None = None,
    site_id: int | None = None,
    day: date | None = None,
    view: str = "jour",
    now: datetime | None = None,
) -> CalendarView:
    """A counsellor's (by default the actor's) or a site's appointments and free opening time."""
    operator_id = operator_of(actor)
    site = load_owned(session, Site, site_id, actor) if site_id else None
    if counsellor_id is not None and counsellor_id != actor.id:
        if not is_manager(actor):
            raise Forbidden("Seul·e un·e responsable consulte l'agenda d'un·e collègue.")
        counsellor = load_owned(session, StaffUser, counsellor_id, actor)
    elif counsellor_id is None and site is not None and is_manager(actor):
        counsellor = None  # the whole site
    else:
        counsellor = actor
    time_zone = time_zone_of(
        session=session, operator_id=operator_id, site_id=site.id if site else None
    )
    zone = ZoneInfo(time_zone)
    today = (now or utcnow()).astimezone(zone).date()
    day = day or today
    view = "semaine" if view == "semaine" else "jour"
    first = day - timedelta(days=day.weekday()) if view == "semaine" else day
    last = first + timedelta(days=6 if view == "semaine" else 0)
    step = timedelta(days=7 if view == "semaine" else 1)
    days = _fill_days(session, operator_id, counsellor, site, first, last, zone, today)
    return CalendarView(
        view=view,
        day=day,
        time_zone=time_zone,
        counsellor=counsellor,
        site=site,
        days=days,
        counsellors=list_colleagues(session=session, operator_id=operator_id)
        if is_manager(actor)
        else [actor],
        sites=list(
            session.exec(
                select(Site)
                .where(owned_by(Site, operator_id), Site.active.is_(True))
                .order_by(Site.name)
            )
        ),
        can_pick_counsellor=is_manager(actor),
        previous_day=day - step,
        next_day=day + step,
        today=today,
    )


def _entry_link(appointment: Appointment, triage: TriageRequest | None) -> str | None:
    """The case when there is one, otherwise the triage item the booking landed in."""
    if appointment.case_id:
        return f"/cases/{appointment.case_id}"
    if triage is None:
        return None
    return f"/cases/{triage.case_id}" if triage.case_id else f"/triage/{triage.id}"


def appointments_to_come_today(
    *,
    session: Session,
    actor: StaffUser,
    limit: int,
    time_zone: str | None = None,
    now: datetime | None = None,
) -> tuple[list[CalendarEntry], int]:
    """The actor's appointments of today (in `time_zone`, by default their operator's) not over
    yet, the next first (the first `limit` of them), and how many there are: one query, the
    count taken over the whole list."""
    operator_id = operator_of(actor)
    zone = ZoneInfo(time_zone or time_zone_of(session=session, operator_id=operator_id))
    now = now or utcnow()
    today = now.astimezone(zone).date()
    _, end_of_day = _utc_bounds(today, today, zone)
    query = (
        select(Appointment, AppointmentType, Beneficiary, TriageRequest, Site, func.count().over())
        .join(AppointmentType, AppointmentType.id == Appointment.appointment_type_id)
        .join(Beneficiary, Beneficiary.id == Appointment.beneficiary_id)
        .outerjoin(TriageRequest, TriageRequest.id == Appointment.triage_request_id)
        .outerjoin(Site, Site.id == Appointment.site_id)
        .where(
            owned_by(Appointment, operator_id),
            Appointment.counsellor_id == actor.id,
            Appointment.status != AppointmentStatus.CANCELLED,
            Appointment.ends_at > now,
            Appointment.starts_at < end_of_day,
        )
        .order_by(Appointment.starts_at, Appointment.id)
        .limit(limit)
    )
    found = list(session.exec(query))
    entries = []
    for appointment, kind, person, triage, site, _total in found:
        entries.append(
            CalendarEntry(
                appointment=appointment,
                type_name=kind.name,
                beneficiary_name=person.full_name,
                link=_entry_link(appointment, triage),
                counsellor_name=actor.full_name,
                site_name=site.name if site else "À distance",
                start=appointment.starts_at.astimezone(zone),
                end=appointment.ends_at.astimezone(zone),
                can_mark=appointment.status == AppointmentStatus.BOOKED,
            )
        )
    return entries, found[0][-1] if found else 0


def _fill_days(session, operator_id, counsellor, site, first, last, zone, today):
    start, end = _utc_bounds(first, last, zone)
    query = (
        select(Appointment, AppointmentType, Beneficiary, StaffUser, TriageRequest)
        .join(AppointmentType, AppointmentType.id == Appointment.appointment_type_id)
        .join(Beneficiary, Beneficiary.id == Appointment.beneficiary_id)
        .join(StaffUser, StaffUser.id == Appointment.counsellor_id)
        .outerjoin(TriageRequest, TriageRequest.id == Appointment.triage_request_id)
        .where(
            owned_by(Appointment, operator_id),
            Appointment.starts_at < end,
            Appointment.ends_at > start,
        )
        .order_by(Appointment.starts_at, Appointment.id)
    )
    if counsellor is not None:
        query = query.where(Appointment.counsellor_id == counsellor.id)
    if site is not None:
        query = query.where(Appointment.site_id == site.id)
    site_names = {
        s.id: s.name for s in session.exec(select(Site).where(owned_by(Site, operator_id)))
    }
    days = {
        first + timedelta(days=n): CalendarDay(first + timedelta(days=n))
        for n in range((last - first).days + 1)
    }
    busy: dict[tuple[int, date], list[tuple[datetime, datetime]]] = {}
    for appointment, kind, person, staff, triage in session.exec(query):
        local_start = appointment.starts_at.astimezone(zone)
        if appointment.status != AppointmentStatus.CANCELLED:
            key = (appointment.counsellor_id, local_start.date())
            busy.setdefault(key, []).append(
                (local_start, appointment.blocks_until.astimezone(zone))
            )
        if local_start.date() not in days:
            continue
        days[local_start.date()].entries.append(
            CalendarEntry(
                appointment=appointment,
                type_name=kind.name,
                beneficiary_name=person.full_name,
                link=_entry_link(appointment, triage),
                counsellor_name=staff.full_name,
                site_name=site_names.get(appointment.site_id, "À distance"),
                start=local_start,
                end=appointment.ends_at.astimezone(zone),
                can_mark=appointment.status == AppointmentStatus.BOOKED
                and local_start.date() <= today,
            )
        )
    _add_free_time(session, operator_id, counsellor, site, days, zone, busy, start, end)
    return list(days.values())


def _add_free_time(session, operator_id, counsellor, site, days, zone, busy, start, end):
    """The opening slots of each day minus appointments and absences: shown faintly."""
    first, last = min(days), max(days)
    query = (
        select(OpeningSlot, StaffUser)
        .join(StaffUser, StaffUser.id == OpeningSlot.counsellor_id)
        .where(
            owned_by(OpeningSlot, operator_id),
            OpeningSlot.valid_from <= last,
            (OpeningSlot.valid_until.is_(None)) | (OpeningSlot.valid_until >= first),
        )
    )
    if counsellor is not None:
        query = query.where(OpeningSlot.counsellor_id == counsellor.id)
    if site is not None:
        query = query.where(OpeningSlot.site_id == site.id)
    openings = list(session.exec(query))
    absences = list(
        session.exec(
            select(Absence).where(
                owned_by(Absence, operator_id), Absence.starts_at < end, Absence.ends_at > start
            )
        )
    )
    for day, calendar_day in days.items():
        for opening, staff in openings:
            if opening.weekday != day.weekday() or opening.valid_from > day:
                continue
            if opening.valid_until is not None and opening.valid_until < day:
                continue
            span_start = datetime.combine(day, opening.start_time, tzinfo=zone)
            span_end = datetime.combine(day, opening.end_time, tzinfo=zone)
            taken = list(busy.get((staff.id, day), []))
            taken += [
                (a.starts_at.astimezone(zone), a.ends_at.astimezone(zone))
                for a in absences
                if a.counsellor_id == staff.id
            ]
            for free_start, free_end in _subtract(span_start, span_end, taken):
                calendar_day.free.append(FreeSpan(free_start, free_end, staff.full_name))
        calendar_day.free.sort(key=lambda span: (span.start, span.counsellor_name))


def _subtract(start, end, taken):
    spans = [(start, end)]
    for busy_start, busy_end in sorted(taken):
        next_spans = []
        for s, e in spans:
            if busy_end <= s or busy_start >= e:
                next_spans.append((s, e))
                continue
            if busy_start > s:
                next_spans.append((s, busy_start))
            if busy_end < e:
                next_spans.append((busy_end, e))
        spans = next_spans
    return [(s, e) for s, e in spans if e > s]


# ---- attendance ----------------------------------------------------------------------------


@dataclass
class MarkResult:
    appointment: Appointment
    notice: str


def get_appointment(*, session: Session, actor: StaffUser, appointment_id: int) -> Appointment:
    return load_owned(session, Appointment, appointment_id, actor)


def mark_attendance(
    *,
    session: Session,
    actor: StaffUser,
    appointment_id: int,
    status: str,
    now: datetime | None = None,
) -> MarkResult:
    """Honoured, no-show or excused; honoured pre-records the interaction on the case."""
    appointment = get_appointment(session=session, actor=actor, appointment_id=appointment_id)
    if status not in ATTENDANCE_MARKS:
        raise Invalid({"status": "Choix invalide"})
    if appointment.counsellor_id != actor.id and not is_manager(actor):
        raise Forbidden("Ce rendez-vous est celui d'un·e collègue.")
    if appointment.status != AppointmentStatus.BOOKED:
        label = AppointmentStatus(appointment.status).label.lower()
        raise Conflict(f"Ce rendez-vous est déjà marqué « {label} ».")
    now = now or utcnow()
    zone = ZoneInfo(
        time_zone_of(
            session=session, operator_id=appointment.operator_id, site_id=appointment.site_id
        )
    )
    if appointment.starts_at.astimezone(zone).date() > now.astimezone(zone).date():
        raise Conflict("Ce rendez-vous est à venir : il se marque le jour même ou après.")
    if status == AppointmentStatus.HONOURED and appointment.starts_at > now:
        raise Conflict("Ce rendez-vous n'a pas encore commencé.")
    appointment.status = status
    appointment.updated_at = now
    notice = f"Rendez-vous marqué « {AppointmentStatus(status).label.lower()} »."
    if status == AppointmentStatus.HONOURED:
        notice += " " + _record_honoured(session, actor, appointment)
    session.add(appointment)
    session.flush()
    return MarkResult(appointment, notice.strip())


def _record_honoured(session: Session, actor: StaffUser, appointment: Appointment) -> str:
    if appointment.interaction_id is not None:
        return ""
    case_id = appointment.case_id
    if case_id is None and appointment.triage_request_id is not None:
        triage = session.get(TriageRequest, appointment.triage_request_id)
        case_id = triage.case_id if triage else None
    if case_id is None:
        return (
            "Pas encore de dossier (demande à l'accueil) : l'entretien n'a pas été créé, "
            "saisissez-le une fois le dossier ouvert."
        )
    case = session.get(Case, case_id)
    if not case.is_open:
        return "Le dossier est clos : l'entretien n'a pas été créé."
    kind = session.get(AppointmentType, appointment.appointment_type_id)
    episode_id = None
    if kind.unit_id is not None:
        episode_id = session.exec(
            select(Episode.id)
            .where(Episode.case_id == case.id, Episode.unit_id == kind.unit_id)
            .where(Episode.ended_at.is_(None), col(Episode.cancelled_at).is_(None))
            .order_by(Episode.started_at.desc())
        ).first()
    minutes = int((appointment.ends_at - appointment.starts_at).total_seconds() // 60)
    # Recorded in the name of the appointment's counsellor, even when a manager marks it.
    counsellor = session.get(StaffUser, appointment.counsellor_id)
    author = counsellor if counsellor and counsellor.sees_cases else actor
    interaction = record_interaction(
        session=session,
        actor=author,
        case_id=case.id,
        data=InteractionCreate(
            occurred_at=appointment.starts_at,
            duration_minutes=max(1, min(minutes, 600)),
            channel=CHANNEL_OF_MODE[appointment.mode],
            episode_id=episode_id,
        ),
    )
    appointment.case_id = case.id
    appointment.interaction_id = interaction.id
    return "L'entretien est pré-enregistré dans le dossier : complétez sa synthèse."


# ---- no-show rate --------------------------------------------------------------------------


@dataclass
class NoShowRow:
    name: str
    honoured: int = 0
    no_show: int = 0

    @property
    def seen(self) -> int:
        return self.honoured + self.no_show

    @property
    def rate(self) -> float | None:
        """no-show / (honoured + no-show); None when nothing was marked."""
        return self.no_show / self.seen if self.seen else None


@dataclass
class NoShowReport:
    start: date
    end: date
    by_counsellor: list[NoShowRow]
    by_site: list[NoShowRow]
    total: NoShowRow
    counsellor: Colleague | None = None  # the one counsellor asked for, if any


def _attendance_marked(session: Session, operator_id: int, start: date, end: date) -> list:
    """Appointments of the operator marked honoured or no-show, starting in [start, end] (local
    days of the operator): what a no-show rate counts."""
    zone = ZoneInfo(session.get(Operator, operator_id).time_zone)
    lower, upper = _utc_bounds(start, end, zone)
    return [
        owned_by(Appointment, operator_id),
        Appointment.status.in_((AppointmentStatus.HONOURED, AppointmentStatus.NO_SHOW)),
        Appointment.starts_at >= lower,
        Appointment.starts_at < upper,
    ]


def no_show_report(
    *,
    session: Session,
    actor: StaffUser,
    start: date,
    end: date,
    counsellor_id: int | None = None,
) -> NoShowReport:
    """No-show rate per counsellor and per site, over appointments starting in [start, end];
    only `counsellor_id`'s, one the actor oversees, when given."""
    if not is_manager(actor):
        raise Forbidden("Réservé aux responsables.")
    operator_id = operator_of(actor)
    if end < start:
        raise Invalid({"au": "La fin précède le début"})
    query = (
        select(Appointment.counsellor_id, Appointment.site_id, Appointment.status, func.count())
        .where(*_attendance_marked(session, operator_id, start, end))
        .group_by(Appointment.counsellor_id, Appointment.site_id, Appointment.status)
    )
    counsellor = None
    if counsellor_id is not None:
        counsellor = overseen_counsellor(session=session, actor=actor, counsellor_id=counsellor_id)
        query = query.where(Appointment.counsellor_id == counsellor_id)
    staff = {
        s.id: s.full_name
        for s in session.exec(select(StaffUser).where(owned_by(StaffUser, operator_id)))
    }
    sites = {s.id: s.name for s in session.exec(select(Site).where(owned_by(Site, operator_id)))}
    by_counsellor: dict[int, NoShowRow] = {}
    by_site: dict[int | None, NoShowRow] = {}
    total = NoShowRow("Ensemble")
    for counsellor_id, site_id, status, count in session.exec(query):
        counsellor_row = by_counsellor.setdefault(
            counsellor_id, NoShowRow(staff.get(counsellor_id, "?"))
        )
        site_row = by_site.setdefault(site_id, NoShowRow(sites.get(site_id, "À distance")))
        for row in (counsellor_row, site_row, total):
            setattr(row, status, getattr(row, status) + count)
    return NoShowReport(
        start=start,
        end=end,
        by_counsellor=sorted(by_counsellor.values(), key=lambda r: r.name),
        by_site=sorted(by_site.values(), key=lambda r: r.name),
        total=total,
        counsellor=counsellor,
    )


def attendance_by_counsellor(
    *, session: Session, actor: StaffUser, counsellor_ids: list[int], start: date, end: date
) -> dict[int, NoShowRow]:
    """The no-show report's row of each of these counsellors (no_show_report with their
    filter), in one query; one with nothing marked is left out."""
    if not counsellor_ids:
        return {}
    query = (
        select(Appointment.counsellor_id, Appointment.status, func.count())
        .where(
            *_attendance_marked(session, operator_of(actor), start, end),
            col(Appointment.counsellor_id).in_(counsellor_ids),
        )
        .group_by(Appointment.counsellor_id, Appointment.status)
    )
    rows: dict[int, NoShowRow] = {}
    for counsellor_id, status, count in session.exec(query):
        row = rows.setdefault(counsellor_id, NoShowRow(""))
        setattr(row, status, count)
    return rows


def appointments_by_counsellor(
    *, session: Session, actor: StaffUser, counsellor_ids: list[int], first: date, last: date
) -> dict[int, int]:
    """How many appointments not cancelled each of these counsellors has starting on the
    local days first..last of the operator (the agenda's days with no site chosen), in one
    query; one with none is left out."""
    if not counsellor_ids:
        return {}
    operator_id = operator_of(actor)
    zone = ZoneInfo(time_zone_of(session=session, operator_id=operator_id))
    lower, upper = _utc_bounds(first, last, zone)
    query = (
        select(Appointment.counsellor_id, func.count())
        .where(
            owned_by(Appointment, operator_id),
            col(Appointment.counsellor_id).in_(counsellor_ids),
            # A slot held for the waiting list is nobody's appointment yet.
            col(Appointment.status).not_in(
                (AppointmentStatus.CANCELLED, AppointmentStatus.OFFERED)
            ),
            Appointment.starts_at >= lower,
            Appointment.starts_at < upper,
        )
        .group_by(Appointment.counsellor_id)
    )
    return dict(session.exec(query).all())


# ---- booking on behalf of a beneficiary, from the case ---------------------------------------


@dataclass
class SlotChoice:
    value: str  # the start, ISO 8601 in UTC: what the form posts back
    label: str  # « lundi 30 novembre 2026 à 9 h 00 », local
    free_counsellors: int
    time: str = ""  # « 09 h 00 », local


@dataclass
class SlotDay:
    """The free starts of one local day, under its heading (« mercredi 2 décembre »)."""

    day: date
    label: str
    slots: list[SlotChoice]


@dataclass
class CaseBooking:
    """What the case page's « Prendre rendez-vous » panel shows."""

    case: Case
    time_zone: str
    types: list[AppointmentType]
    sites: list[Site]
    modes: list[tuple[str, str]]
    appointment_type: AppointmentType | None
    mode: str | None
    site: Site | None
    slots: list[SlotChoice]
    appointments: list[CalendarEntry]
    # Set after « Ce créneau vient d'être réservé »: the next free ones.
    next_slots: list[SlotChoice] = field(default_factory=list)
    # One per rendered form: a double submission books once.
    idempotency_key: str = field(default_factory=lambda: f"staff-{secrets.token_urlsafe(24)}")
    # The week shown (its Monday), its free starts day by day, and the weeks around it that
    # may be shown: none before this week, none past the type's booking horizon.
    week: date | None = None
    days: list[SlotDay] = field(default_factory=list)
    previous_week: date | None = None
    next_week: date | None = None
    # The first free start within the horizon (None: nothing free at all).
    first_free: datetime | None = None

    @property
    def searched(self) -> bool:
        return self.appointment_type is not None and self.mode is not None

    @property
    def week_label(self) -> str:
        """« lundi 7 décembre »: the week shown, by its first day."""
        return format_weekday(self.week) if self.week else ""

    @property
    def first_free_week(self) -> date | None:
        """The Monday of the week holding the first free start."""
        if self.first_free is None:
            return None
        return monday_of(self.first_free.astimezone(ZoneInfo(self.time_zone)).date())

    @property
    def first_free_week_label(self) -> str:
        return format_weekday(self.first_free_week) if self.first_free_week else ""

    @property
    def shown_days(self) -> list[SlotDay]:
        """What the form offers: the next free starts after a slot was taken, else the week's."""
        return by_day(self.next_slots, ZoneInfo(self.time_zone)) if self.next_slots else self.days

    def query(self, **extra) -> str:
        """The panel's address parameters (motif, mode, place), with `extra` (the week)."""
        params = {"motif": self.appointment_type.id if self.appointment_type else None}
        params |= {"mode": self.mode, "lieu": self.site.id if self.site else None, **extra}
        return urlencode({name: value for name, value in params.items() if value is not None})


MAX_SLOTS_SHOWN = 40


def slot_choices(slots, zone: ZoneInfo, limit: int | None = MAX_SLOTS_SHOWN) -> list[SlotChoice]:
    """Distinct starts (from slots.slot_times or SlotTaken.next_slots), labelled locally."""
    choices, seen = [], set()
    for item in slots:
        start = item[0] if isinstance(item, tuple) else item.start
        count = item[2] if isinstance(item, tuple) and len(item) > 2 else 1
        if start in seen:
            continue
        seen.add(start)
        local = start.astimezone(zone)
        label = f"{format_long_day(local.date())} à {hour_label(local)}"
        value = start.astimezone(UTC).isoformat()
        choices.append(SlotChoice(value, label, count, time=hour_label(local)))
    return choices[:limit]


def by_day(choices: list[SlotChoice], zone: ZoneInfo, *, today: date | None = None):
    """The starts grouped by local day, earliest first; the year is said when not this one."""
    days: dict[date, list[SlotChoice]] = {}
    for choice in choices:
        local = datetime.fromisoformat(choice.value).astimezone(zone)
        days.setdefault(local.date(), []).append(choice)
    this_year = (today or utcnow().astimezone(zone).date()).year
    return [
        SlotDay(day, format_weekday(day, year=day.year != this_year), slots)
        for day, slots in sorted(days.items())
    ]


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _slot_week(session, kind, mode, site_id, week, zone, now):
    """The week to show (the one of the first free start unless one is asked for, held between
    this week and the horizon's), its free starts by day, the weeks around it, the first free.
    One search over the whole horizon, as the public booking's first_free_start does: it says
    both where the first free start is and what the week holds."""
    today = now.astimezone(zone).date()
    this_week = monday_of(today)
    last_week = monday_of(today + timedelta(days=kind.max_horizon_days))
    found = free_slots(
        session=session,
        appointment_type=kind,
        mode=mode,
        site_id=site_id,
        start=today,
        end=today + timedelta(days=kind.max_horizon_days),
        now=now,
    )
    times = slot_times(found)
    first = times[0][0] if times else None
    if week is None:
        week = first.astimezone(zone).date() if first else today
    week = min(max(monday_of(week), this_week), last_week)
    in_week = [t for t in times if 0 <= (t[0].astimezone(zone).date() - week).days < 7]
    choices = slot_choices(in_week, zone, limit=None)
    previous_week = week - timedelta(days=7) if week > this_week else None
    next_week = week + timedelta(days=7) if week < last_week else None
    return week, choices, by_day(choices, zone, today=today), previous_week, next_week, first


def load_case_booking(
    *,
    session: Session,
    actor: StaffUser,
    case_id: int,
    appointment_type_id: int | None = None,
    mode: str | None = None,
    site_id: int | None = None,
    next_slots=None,
    week: date | None = None,
    now: datetime | None = None,
) -> CaseBooking:
    """The case's appointments and, once a type and a mode are chosen, the free slots of a
    week, day by day: the week of the next free slot unless `week` (any day of it) is asked."""
    case = load_owned(session, Case, case_id, actor)
    operator_id = case.operator_id
    types = list(
        session.exec(
            select(AppointmentType)
            .where(owned_by(AppointmentType, operator_id), AppointmentType.active.is_(True))
            .order_by(AppointmentType.position, AppointmentType.name)
        )
    )
    sites = list(
        session.exec(
            select(Site)
            .where(owned_by(Site, operator_id), Site.active.is_(True))
            .order_by(Site.name)
        )
    )
    kind = next((t for t in types if t.id == appointment_type_id), None)
    site = next((s for s in sites if s.id == site_id), None)
    if site is None and case.site_id:
        site = next((s for s in sites if s.id == case.site_id), None)
    mode = mode if mode in MODE_LABELS else None
    time_zone = time_zone_of(
        session=session, operator_id=operator_id, site_id=site.id if site else None
    )
    zone = ZoneInfo(time_zone)
    now = now or utcnow()
    panel = CaseBooking(
        case=case,
        time_zone=time_zone,
        types=types,
        sites=sites,
        modes=list(MODE_LABELS.items()),
        appointment_type=kind,
        mode=mode,
        site=site,
        slots=[],
        appointments=_case_appointments(session, case, zone, now),
        next_slots=slot_choices(next_slots or [], zone),
    )
    if kind is not None and mode is not None and mode in kind.modes.split():
        place = site.id if site and needs_site(mode) else None
        (
            panel.week,
            panel.slots,
            panel.days,
            panel.previous_week,
            panel.next_week,
            panel.first_free,
        ) = _slot_week(session, kind, mode, place, week, zone, now)
    return panel


def next_case_appointment(
    *, session: Session, case: Case, now: datetime | None = None
) -> Appointment | None:
    """The case's next booked appointment, or None (the case page's header shows it); `case`
    comes already checked against the actor."""
    triage_ids = list(
        session.exec(select(TriageRequest.id).where(TriageRequest.case_id == case.id))
    )
    return session.exec(
        select(Appointment)
        .where(
            (Appointment.case_id == case.id) | (Appointment.triage_request_id.in_(triage_ids)),
            Appointment.status == AppointmentStatus.BOOKED,
            Appointment.starts_at >= (now or utcnow()),
        )
        .order_by(Appointment.starts_at)
        .limit(1)
    ).first()


def _case_appointments(session, case, zone, now) -> list[CalendarEntry]:
    # The request ids are read first: an OR against a subquery would scan every appointment,
    # while an OR of two indexed lookups is answered from both indexes.
    triage_ids = list(
        session.exec(select(TriageRequest.id).where(TriageRequest.case_id == case.id))
    )
    query = (
        select(Appointment, AppointmentType.name, StaffUser.full_name)
        .join(AppointmentType, AppointmentType.id == Appointment.appointment_type_id)
        .join(StaffUser, StaffUser.id == Appointment.counsellor_id)
        .where((Appointment.case_id == case.id) | (Appointment.triage_request_id.in_(triage_ids)))
        .order_by(Appointment.starts_at.desc())
    )
    site_names = dict(
        session.exec(select(Site.id, Site.name).where(owned_by(Site, case.operator_id))).all()
    )
    today = now.astimezone(zone).date()
    return [
        CalendarEntry(
            appointment=a,
            type_name=type_name,
            beneficiary_name="",
            link=None,
            counsellor_name=counsellor_name,
            site_name=site_names.get(a.site_id, "À distance"),
            start=a.starts_at.astimezone(zone),
            end=a.ends_at.astimezone(zone),
            can_mark=a.status == AppointmentStatus.BOOKED
            and a.starts_at.astimezone(zone).date() <= today,
        )
        for a, type_name, counsellor_name in session.exec(query)
    ]


_FORM_FIELDS = {"appointment_type_id": "motif", "site_id": "lieu", "start": "creneau"}


def book_for_case(
    *,
    session: Session,
    actor: StaffUser,
    case_id: int,
    appointment_type_id: int | None,
    mode: str,
    site_id: int | None,
    start: datetime | None,
    idempotency_key: str | None = None,
    now: datetime | None = None,
) -> Appointment:
    """Book on behalf of the case's beneficiary (booking.book_appointment, through
    BookingChannel.STAFF)."""
    case = load_owned(session, Case, case_id, actor)
    errors = {}
    if appointment_type_id is None:
        errors["motif"] = "Choisissez un motif"
    if mode not in MODE_LABELS:
        errors["mode"] = "Choisissez un mode"
    if start is None:
        errors["creneau"] = "Choisissez un créneau"
    if errors:
        raise Invalid(errors)
    try:
        return book_appointment(
            session=session,
            appointment_type_id=appointment_type_id,
            site_id=site_id if needs_site(mode) else None,
            mode=mode,
            start=start,
            person=None,
            idempotency_key=idempotency_key or None,
            via=BookingChannel.STAFF,
            actor=actor,
            beneficiary_id=case.beneficiary_id,
            case_id=case.id,
            now=now,
        )
    except Invalid as exc:
        raise Invalid(
            {_FORM_FIELDS.get(name, name): message for name, message in exc.fields.items()}
        ) from exc


def appointments_of_request(*, session, actor, request_id: int) -> list[tuple]:
    """The appointments booked with a triage request: (appointment, type name, site name)."""
    statement = (
        select(Appointment, AppointmentType.name, Site.name)
        .join(AppointmentType, AppointmentType.id == Appointment.appointment_type_id)
        .outerjoin(Site, Site.id == Appointment.site_id)
        .where(
            Appointment.triage_request_id == request_id,
            owned_by(Appointment, operator_of(actor)),
        )
        .order_by(Appointment.starts_at)
    )
    return list(session.exec(statement).all())
