"""What a counsellor is told in the app when a beneficiary books, moves or cancels an
appointment with them (app/services/messaging/notifications.py)."""

from sqlmodel import Session

from app.core.dates import format_datetime, to_local
from app.models.appointments import Appointment, AppointmentType
from app.models.notifications import NotificationKind
from app.services.admin.operators import time_zone_of
from app.services.messaging.notifications import notify


def _agenda_link(appointment: Appointment, counsellor_id: int, time_zone: str) -> str:
    day = to_local(appointment.starts_at, time_zone).date()
    return f"/agenda?jour={day.isoformat()}&conseiller={counsellor_id}"


def _tell(
    session: Session,
    appointment: Appointment,
    kind: NotificationKind,
    text: str,
    *,
    counsellor_id: int | None = None,
    counsellor_checked: bool = False,
) -> None:
    # The motif and the clock only: the objects a booking holds answer without a query.
    motif = session.get(AppointmentType, appointment.appointment_type_id)
    time_zone = time_zone_of(
        session=session, operator_id=appointment.operator_id, site_id=appointment.site_id
    )
    counsellor_id = counsellor_id or appointment.counsellor_id
    when = format_datetime(appointment.starts_at, time_zone)
    notify(
        session=session,
        operator_id=appointment.operator_id,
        recipient_id=counsellor_id,
        kind=kind,
        text=text.format(reference=appointment.reference, type=motif.name, when=when),
        link=_agenda_link(appointment, counsellor_id, time_zone),
        case_id=appointment.case_id,
        recipient_checked=counsellor_checked,
    )


def tell_booked(
    *, session: Session, appointment: Appointment, counsellor_checked: bool = False
) -> None:
    """A beneficiary booked online (or through the public API) with this counsellor;
    `counsellor_checked` when the booking has just read them as an active counsellor of the
    operator (counsellors_by_fit), so that they are not read again."""
    _tell(
        session,
        appointment,
        NotificationKind.APPOINTMENT_BOOKED,
        "Nouveau rendez-vous réservé en ligne : {type}, le {when} ({reference}).",
        counsellor_checked=counsellor_checked,
    )


def tell_moved(*, session: Session, appointment: Appointment, previous_counsellor_id: int) -> None:
    """The beneficiary moved it; a counsellor it no longer is with is told too."""
    _tell(
        session,
        appointment,
        NotificationKind.APPOINTMENT_MOVED,
        "Rendez-vous déplacé par la personne : {type}, désormais le {when} ({reference}).",
    )
    if previous_counsellor_id != appointment.counsellor_id:
        _tell(
            session,
            appointment,
            NotificationKind.APPOINTMENT_MOVED,
            "Rendez-vous déplacé par la personne vers un·e collègue, libre à ce nouvel "
            "horaire : {type}, le {when} ({reference}).",
            counsellor_id=previous_counsellor_id,
        )


def tell_cancelled(*, session: Session, appointment: Appointment) -> None:
    """The beneficiary cancelled it."""
    _tell(
        session,
        appointment,
        NotificationKind.APPOINTMENT_CANCELLED,
        "Rendez-vous annulé par la personne : {type}, le {when} ({reference}).",
    )
