"""What a beneficiary is offered after cancelling or moving: the way back into the public
booking (the slot step with the same operator, motif, mode and site), and which messages
really tell them about the change.

The address carries only ids, never the person's data."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode

from sqlmodel import Session

from app.core.config import get_settings
from app.models.appointments import needs_site
from app.models.base import utcnow
from app.services.booking.details import AppointmentDetails
from app.services.messaging.short_links import shorten
from app.services.messaging.sms import may_get_sms

# An SMS's short link to book again: it leads to public pages only, so it may outlive the
# appointment; it still expires, as every short code does.
REBOOK_SHORT_LINK_LIFETIME = timedelta(days=60)


def rebook_path(details: AppointmentDetails) -> str:
    """The slot step of the same choice while its motif, mode and site are still offered online;
    else the operator's first step."""
    appointment, operator = details.appointment, details.operator
    if not _still_offered(details):
        return f"/rendez-vous?{urlencode({'operateur': operator.code})}"
    query = {
        "operateur": operator.code,
        "motif": appointment.appointment_type_id,
        "mode": appointment.mode,
    }
    if needs_site(appointment.mode):
        query["lieu"] = appointment.site_id
    return f"/rendez-vous/creneaux?{urlencode(query)}"


def _still_offered(details: AppointmentDetails) -> bool:
    """The checks of reservations.public_choice, on what is loaded already (that module sends
    the confirmation through messages.py, which needs this one: it cannot be imported here)."""
    kind, mode, site = details.appointment_type, details.appointment.mode, details.site
    if not (kind.active and kind.online_bookable and mode in kind.modes.split()):
        return False
    return not needs_site(mode) or (site is not None and site.active)


def rebook_link(details: AppointmentDetails) -> str:
    """The same, as a full address for an e-mail."""
    base = get_settings().public_base_url.rstrip("/")
    return base + rebook_path(details)


def short_rebook_link(
    *, session: Session, details: AppointmentDetails, now: datetime | None = None
) -> str:
    """The same, as a short link that fits an SMS."""
    return shorten(
        session=session,
        link=rebook_link(details),
        expires_at=(now or utcnow()) + REBOOK_SHORT_LINK_LIFETIME,
        operator_id=details.operator.id,
    )


@dataclass(frozen=True)
class NoticeChannels:
    """How the notice of a change reaches the person, as messages.py sends it: an e-mail to
    any address on file, an SMS to a mobile number that did not answer STOP."""

    email: bool
    sms: bool


def notice_channels(details: AppointmentDetails) -> NoticeChannels:
    beneficiary = details.beneficiary
    return NoticeChannels(email=bool(beneficiary.email), sms=may_get_sms(beneficiary))
