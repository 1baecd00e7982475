"""Closing a site. Its appointments to come are listed first and nothing closes until the
administrator says what becomes of them: moved to another open site of the operator at the
same time, turned into phone appointments, or cancelled; each beneficiary is told by e-mail
(the outbox, as for any change). Then the site's weekly openings and permanences end, and
the site leaves the booking pages and the staff pickers while past records keep it."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, delete, or_, select

from app.core.dates import format_datetime, local_today
from app.core.db import all_or_nothing
from app.core.errors import Invalid
from app.models.appointments import Appointment, AppointmentStatus, AppointmentType, OpeningSlot
from app.models.base import utcnow
from app.models.beneficiaries import Beneficiary
from app.models.fields import french_sort_key
from app.models.operators import AppointmentsOnClosing, Site, SiteClosing
from app.models.staff import StaffUser
from app.services.access.scope import get_owned, owned_by
from app.services.admin.permanences import end_running_permanences
from app.services.admin.sites import close_now, load_site, open_site
from app.services.booking.calendar_files import appointment_place
from app.services.booking.changes import cancel_appointment
from app.services.booking.messages import queue_place_changed
from app.services.booking.waiting_list import close_for_site


@dataclass
class ComingAppointment:
    appointment: Appointment
    when: str  # in the site's time zone
    counsellor: str
    beneficiary: str
    motif: str


def coming_appointments(
    session: Session, site: Site, now: datetime | None = None
) -> list[ComingAppointment]:
    """The site's booked appointments that have not started yet, soonest first."""
    rows = session.exec(
        select(Appointment, StaffUser.full_name, Beneficiary, AppointmentType.name)
        .join(StaffUser, col(StaffUser.id) == Appointment.counsellor_id)
        .join(Beneficiary, col(Beneficiary.id) == Appointment.beneficiary_id)
        .join(AppointmentType, col(AppointmentType.id) == Appointment.appointment_type_id)
        .where(
            owned_by(Appointment, site.operator_id),
            Appointment.site_id == site.id,
            Appointment.status == AppointmentStatus.BOOKED,
            col(Appointment.starts_at) > (now or utcnow()),
        )
        .order_by(col(Appointment.starts_at), col(Appointment.id))
    )
    return [
        ComingAppointment(
            appointment=appointment,
            when=format_datetime(appointment.starts_at, site.time_zone),
            counsellor=counsellor,
            beneficiary=f"{beneficiary.first_name} {beneficiary.last_name}",
            motif=motif,
        )
        for appointment, counsellor, beneficiary, motif in rows
    ]


def _other_open_sites(session: Session, site: Site) -> list[Site]:
    query = select(Site).where(
        owned_by(Site, site.operator_id), col(Site.active).is_(True), Site.id != site.id
    )
    return sorted(session.exec(query), key=lambda other: french_sort_key(other.name))


@dataclass
class ClosingPage:
    site: Site
    appointments: list[ComingAppointment]
    targets: list[Site]  # where the appointments may move: the operator's other open sites


def closing_view(
    *, session: Session, actor: StaffUser, site_id: int, now: datetime | None = None
) -> ClosingPage:
    site = load_site(session=session, actor=actor, site_id=site_id)
    return ClosingPage(
        site=site,
        appointments=coming_appointments(session, site, now) if site.active else [],
        targets=_other_open_sites(session, site),
    )


def _target(session: Session, site: Site, target_site_id: int | None) -> Site:
    target = get_owned(session, Site, target_site_id, site.operator_id) if target_site_id else None
    if target is None or not target.active or target.id == site.id:
        raise Invalid({"target_site_id": "Choisissez un autre site ouvert de l'opérateur."})
    return target


def _change_place(session: Session, appointment: Appointment, site: Site, now: datetime, **values):
    previous_place = appointment_place(appointment, site)
    for name, value in values.items():
        setattr(appointment, name, value)
    appointment.ics_sequence += 1
    appointment.updated_at = now
    session.add(appointment)
    session.flush()
    queue_place_changed(session=session, appointment=appointment, previous_place=previous_place)


def _end_openings(session: Session, site: Site) -> int:
    """End the site's weekly openings: yesterday was their last day; those not begun go."""
    today = local_today(site.time_zone)
    running = or_(col(OpeningSlot.valid_until).is_(None), col(OpeningSlot.valid_until) >= today)
    at_site = (OpeningSlot.site_id == site.id, running)
    openings = list(session.exec(select(OpeningSlot).where(*at_site)))
    for opening in openings:
        if opening.valid_from < today:
            opening.valid_until = today - timedelta(days=1)
            session.add(opening)
    session.exec(delete(OpeningSlot).where(*at_site, col(OpeningSlot.valid_from) >= today))
    session.flush()
    return len(openings)


@all_or_nothing
def close_site(
    *,
    session: Session,
    actor: StaffUser,
    site_id: int,
    data: SiteClosing,
    now: datetime | None = None,
) -> Site:
    """Close the site once the fate of its appointments to come is chosen (see the module)."""
    now = now or utcnow()
    site = open_site(session=session, actor=actor, site_id=site_id)
    coming = coming_appointments(session, site, now)
    if coming and data.choice is None:
        raise Invalid({"choice": "Choisissez ce que deviennent les rendez-vous à venir."})
    if len(coming) != data.listed:
        raise Invalid(
            {"__all__": "Les rendez-vous à venir ont changé depuis l'affichage de la page : "
             "vérifiez la liste ci-dessous et choisissez à nouveau."}
        )  # fmt: skip
    done = ""
    if data.choice == AppointmentsOnClosing.MOVE and coming:
        target = _target(session, site, data.target_site_id)
        for item in coming:
            _change_place(session, item.appointment, site, now, site_id=target.id)
        done = f"{len(coming)} rendez-vous à venir déplacé(s) vers {target.name}"
    elif data.choice == AppointmentsOnClosing.PHONE and coming:
        for item in coming:
            _change_place(session, item.appointment, site, now, mode="phone", site_id=None)
        done = f"{len(coming)} rendez-vous à venir transformé(s) en rendez-vous par téléphone"
    elif data.choice == AppointmentsOnClosing.CANCEL and coming:
        for item in coming:
            cancel_appointment(
                session=session, appointment_id=item.appointment.id, by="staff", now=now
            )
        done = f"{len(coming)} rendez-vous à venir annulé(s)"
    close_for_site(session=session, site_id=site.id, now=now)
    openings = _end_openings(session, site)
    permanences = end_running_permanences(session, site)
    detail = "; ".join(
        part
        for part in (
            done or "Aucun rendez-vous à venir",
            f"{openings} ouverture(s) de planning terminée(s)" if openings else "",
            f"{len(permanences)} permanence(s) terminée(s)" if permanences else "",
        )
        if part
    )
    return close_now(session, site, actor, detail)
