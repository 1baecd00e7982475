"""An appointment with what its messages and pages show (type, site, operator, person,
counsellor, time zone), and its signed link to cancel or move it."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from app.core.config import get_settings
from app.core.dates import format_datetime, to_local
from app.core.security import create_link_token
from app.models.appointments import Appointment, AppointmentType
from app.models.base import utcnow
from app.models.beneficiaries import Beneficiary
from app.models.operators import Operator, Site
from app.models.staff import StaffUser
from app.services.admin.operators import time_zone_of
from app.services.booking.calendar_files import appointment_place

LINK_PURPOSE = "appointment"
# The link still works for a day after the appointment (to read what it was).
LINK_GRACE = timedelta(days=1)


@dataclass
class AppointmentDetails:
    """An appointment with everything its messages and pages show."""

    appointment: Appointment
    appointment_type: AppointmentType
    site: Site | None
    operator: Operator
    beneficiary: Beneficiary
    counsellor_name: str
    time_zone: str

    @property
    def place(self) -> str:
        return appointment_place(self.appointment, self.site)

    def when(self, value: datetime | None = None) -> str:
        """« 3 mars 2027 à 14 h 00 », in the site's time zone."""
        return format_datetime(value or self.appointment.starts_at, self.time_zone)

    def end_time(self) -> str:
        """« 15 h 00 », in the site's time zone."""
        return f"{to_local(self.appointment.ends_at, self.time_zone):%H h %M}"


def appointment_details(*, session: Session, appointment: Appointment) -> AppointmentDetails:
    """Load what goes with the appointment (type, site, operator, beneficiary, counsellor)."""
    site = session.get(Site, appointment.site_id) if appointment.site_id else None
    operator = session.get(Operator, appointment.operator_id)
    counsellor = session.get(StaffUser, appointment.counsellor_id)
    return AppointmentDetails(
        appointment=appointment,
        appointment_type=session.get(AppointmentType, appointment.appointment_type_id),
        site=site,
        operator=operator,
        beneficiary=session.get(Beneficiary, appointment.beneficiary_id),
        counsellor_name=counsellor.full_name if counsellor else "",
        time_zone=time_zone_of(
            session=session, operator_id=operator.id, site_id=appointment.site_id
        ),
    )


def manage_link(appointment: Appointment) -> str:
    """The signed link to cancel or move; it expires a day after the appointment ends."""
    lifetime = max(appointment.ends_at + LINK_GRACE - utcnow(), timedelta(minutes=5))
    token = create_link_token(purpose=LINK_PURPOSE, subject_id=appointment.id, lifetime=lifetime)
    return f"{get_settings().public_base_url.rstrip('/')}/rendez-vous/gerer/{token}"
