"""What a counsellor is told in the app when a beneficiary books, moves or cancels an
appointment with them (app/services/messaging/notifications.py)."""

from sqlmodel import Session

from app.core.dates import format_datetime, to_local
from app.models.appointments import Appointment
from app.models.notifications import NotificationKind
from app.services.booking.details import appointment_details
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
) -> None:
    details = appointment_details(session=session, appointment=appointment)
    counsellor_id = counsellor_id or appointment.counsellor_id
    when = format_datetime(appointment.starts_at, details.time_zone)
    notify(
        session=session,
        operator_id=appointment.operator_id,
        recipient_id=counsellor_id,
        kind=kind,
        text=text.format(
            reference=appointment.reference, type=details.appointment_type.name, when=when
        ),
        link=_agenda_link(appointment, counsellor_id, details.time_zone),
        case_id=appointment.case_id,
    )


def tell_booked(*, session: Session, appointment: Appointment) -> None:
    """A beneficiary booked online (or through the public API) with this counsellor."""
    _tell(
        session,
        appointment,
        NotificationKind.APPOINTMENT_BOOKED,
        "Nouveau rendez-vous réservé en ligne : {type}, le {when} ({reference}).",
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
