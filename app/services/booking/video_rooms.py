"""How a remote appointment is joined: a video room of its own under FILROUGE_VIDEO_BASE_URL
(Jitsi, BigBlueButton… create a room on first visit), or who calls whom for a phone one."""

import secrets

from app.core.config import get_settings
from app.models.appointments import Appointment

# 16 random bytes: 128 bits, far beyond guessing one room among all (≥ 80 bits asked).
ROOM_BYTES = 16
PHONE_NOTE = "Votre conseiller·ère vous appelle au numéro indiqué."
NO_LINK_YET = "Votre conseiller·ère vous enverra le lien de la visio avant le rendez-vous."


def new_video_url(mode: str) -> str:
    """A fresh room's address for a video appointment; "" otherwise or when no base is set."""
    base = get_settings().video_base_url
    if mode != "video" or not base:
        return ""
    return f"{base}cep-{secrets.token_urlsafe(ROOM_BYTES)}"


def joining_note(appointment: Appointment) -> str:
    """One sentence on how the person joins a remote appointment; "" for a visit."""
    if appointment.mode == "phone":
        return PHONE_NOTE
    if appointment.mode == "video":
        if appointment.video_url:
            return f"Rejoignez la visio à l'heure du rendez-vous : {appointment.video_url}"
        return NO_LINK_YET
    return ""
