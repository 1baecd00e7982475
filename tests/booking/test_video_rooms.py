"""Video appointments get a room of their own under FILROUGE_VIDEO_BASE_URL, shown wherever the
appointment is; phone appointments say who calls whom; no base, no made-up link."""

import base64
import re
from datetime import timedelta

import pytest
from icalendar import Calendar
from pydantic import ValidationError
from sqlmodel import select

from app.core.config import Settings, get_settings
from app.core.dates import to_local
from app.models.appointments import Appointment
from app.models.base import utcnow
from app.models.operators import Site
from app.services.booking.messages import manage_link, queue_reminder
from app.services.booking.reservations import first_free_start
from app.services.booking.video_rooms import ROOM_BYTES, new_video_url
from tests.factories import (
    anonymous_csrf,
    first_slot_link,
    hidden,
    log_in,
    make_appointment,
    make_appointment_type,
    make_openings,
    make_operator,
    make_site,
    make_staff,
    outbox_messages,
    read,
)

pytestmark = pytest.mark.usefixtures("clock")
BASE = "https://visio.exemple.org/"


@pytest.fixture
def remote(session):
    operator = make_operator(session)
    make_site(session, operator)
    counsellor = make_staff(session, operator, full_name="Camille Martin")
    make_openings(session, counsellor, None, modes="phone video")
    kind = make_appointment_type(session, operator, name="Premier rendez-vous CEP")
    return counsellor, kind


def book_remotely(client, kind, mode):
    token = anonymous_csrf(client, "/rendez-vous?operateur=ARA")
    slots = client.get(f"/rendez-vous/creneaux?operateur=ARA&motif={kind.id}&mode={mode}")
    page = client.get(first_slot_link(slots.text))
    data = {name: hidden(page.text, name) for name in ("operateur", "motif", "mode", "debut")}
    return client.post(
        "/rendez-vous/coordonnees",
        data={
            **data,
            "csrf_token": token,
            "idempotency_key": hidden(page.text, "idempotency_key"),
            "first_name": "Inès",
            "last_name": "Moreau",
            "email": "ines.moreau@exemple.fr",
            "phone": "06 12 34 56 78",
            "consent": "1",
            "site_web": "",
        },
    )


def confirmation_calendar(session):
    [message] = outbox_messages(session)
    [attachment] = message.attachments
    return message, Calendar.from_ical(base64.b64decode(attachment["content_b64"]))


# ---- the room's address ----------------------------------------------------------------------


def test_each_video_room_is_new_and_unguessable(monkeypatch):
    monkeypatch.setattr(get_settings(), "video_base_url", BASE)
    first, second = new_video_url("video"), new_video_url("video")
    assert first.startswith(f"{BASE}cep-") and first != second
    room = first.removeprefix(f"{BASE}cep-")
    assert len(base64.urlsafe_b64decode(room + "==")) == ROOM_BYTES >= 10  # ≥ 80 bits


def test_no_room_without_a_base_or_for_another_mode(monkeypatch):
    monkeypatch.setattr(get_settings(), "video_base_url", "")
    assert new_video_url("video") == ""
    monkeypatch.setattr(get_settings(), "video_base_url", BASE)
    assert new_video_url("phone") == new_video_url("on_site") == ""


def test_the_base_address_is_checked_and_ends_with_a_slash():
    assert Settings(video_base_url="https://bbb.exemple.org/rooms").video_base_url == (
        "https://bbb.exemple.org/rooms/"
    )
    with pytest.raises(ValidationError):
        Settings(video_base_url="javascript:alert(1)")


# ---- wherever the appointment is shown ---------------------------------------------------------


def test_a_video_booking_shows_its_room_everywhere(client, session, remote, monkeypatch):
    monkeypatch.setattr(get_settings(), "video_base_url", BASE)
    counsellor, kind = remote
    confirmed = book_remotely(client, kind, "video")
    appointment = session.exec(select(Appointment)).one()
    link = appointment.video_url
    assert link.startswith(f"{BASE}cep-")
    assert f'href="{link}"' in confirmed.text
    message, calendar = confirmation_calendar(session)
    assert link in message.body_text
    [event] = calendar.walk("VEVENT")
    assert str(event["LOCATION"]) == str(event["URL"]) == link

    log_in(client, session, counsellor)
    day = to_local(appointment.starts_at, "Europe/Paris").date().isoformat()
    agenda = client.get("/agenda", params={"jour": day})
    assert f'<a href="{link}"' in agenda.text and "Ouvrir la visio" in agenda.text


def test_without_a_base_the_counsellor_sends_the_link(client, session, remote, monkeypatch):
    monkeypatch.setattr(get_settings(), "video_base_url", "")
    _counsellor, kind = remote
    confirmed = book_remotely(client, kind, "video")
    assert session.exec(select(Appointment)).one().video_url == ""
    assert "vous enverra le lien de la visio" in read(confirmed)
    message, calendar = confirmation_calendar(session)
    assert "vous enverra le lien de la visio" in message.body_text
    [event] = calendar.walk("VEVENT")
    assert "URL" not in event and str(event["LOCATION"]) == "En visio"
    assert not re.search(r"https?://\S*visio", message.body_text)


def test_a_phone_appointment_says_who_calls_whom(client, session, remote):
    _counsellor, kind = remote
    confirmed = book_remotely(client, kind, "phone")
    note = "Votre conseiller·ère vous appelle au numéro indiqué."
    assert note in read(confirmed)
    message, calendar = confirmation_calendar(session)
    assert note in message.body_text
    [event] = calendar.walk("VEVENT")
    assert note in str(event["DESCRIPTION"])


def test_the_reminder_and_the_manage_page_carry_the_room(client, session):
    link = f"{BASE}cep-Zm9vYmFyYmF6cXV4cXV1eA"
    appointment = make_appointment(
        session, starts_at=utcnow() + timedelta(days=1), mode="video", video_url=link
    )
    queue_reminder(session=session, appointment=appointment)
    [message] = outbox_messages(session)
    assert message.subject.startswith("Rappel") and link in message.body_text
    page = client.get("/rendez-vous/gerer/" + manage_link(appointment).rsplit("/", 1)[1])
    assert f'href="{link}"' in page.text


def test_the_public_api_answers_a_video_booking_with_its_room(client, session, remote, monkeypatch):
    monkeypatch.setattr(get_settings(), "video_base_url", BASE)
    _counsellor, kind = remote
    start = first_free_start(session=session, appointment_type=kind, mode="video", site_id=None)
    body = {
        "appointment_type": kind.id,
        "start": start.isoformat(),
        "mode": "video",
        # The public API names a site of the operator whatever the mode.
        "site": session.exec(select(Site.id).where(Site.operator_id == kind.operator_id)).first(),
        "first_name": "Inès",
        "last_name": "Moreau",
        "email": "ines.moreau@exemple.fr",
        "consent": True,
        "idempotency_key": "portail-visio-1",
    }
    answer = client.post("/api/v1/public/appointments", json=body)
    assert answer.status_code == 201, answer.text
    stored = session.exec(select(Appointment).where(Appointment.mode == "video")).one()
    assert answer.json()["video_url"] == stored.video_url and stored.video_url.startswith(BASE)
