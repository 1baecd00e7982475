"""After cancelling or moving from the link: the reason kept for the counsellor, « Reprendre
rendez-vous » with the same choice (or the operator's first step when that choice is no longer
offered online), a notice that says what is really sent, and the links in the e-mails and SMS."""

import re
from datetime import UTC, datetime, time, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from app.core.config import get_settings
from app.models.appointments import OpeningSlot
from app.models.base import utcnow
from app.models.beneficiaries import Beneficiary
from app.services.booking.messages import manage_link
from app.services.messaging.sms_templates import write_sms
from app.services.messaging.sms_text import SMS_LIMIT, gsm7_length
from tests.factories import (
    anonymous_csrf,
    log_in,
    make_appointment,
    make_appointment_type,
    make_beneficiary,
    make_case,
    make_operator,
    make_site,
    make_staff,
    outbox_messages,
    read,
    sms_messages,
)

# The clock of tests/conftest.py: the slots listed stay beyond the notice while the test runs.
pytestmark = pytest.mark.usefixtures("clock")

REBOOK = re.compile(r'<a class="button" href="([^"]+)">Reprendre rendez-vous</a>')


def path_of(appointment) -> str:
    return "/rendez-vous/gerer/" + manage_link(appointment).rsplit("/", 1)[1]


@pytest.fixture
def counsellor(session):
    return make_staff(session, make_operator(session), full_name="Camille Martin")


def booked(session, counsellor, *, mode="on_site", kind=None, **person):
    """An appointment in 10 days at a site where the counsellor receives every morning."""
    operator = make_operator(session)
    site = make_site(session, operator, address="10 rue de la Part-Dieu")
    kind = kind or make_appointment_type(session, operator, name="Premier rendez-vous CEP")
    for weekday in range(7):
        session.add(
            OpeningSlot(
                operator_id=operator.id,
                counsellor_id=counsellor.id,
                site_id=site.id if mode == "on_site" else None,
                weekday=weekday,
                start_time=time(9, 0),
                end_time=time(12, 0),
                valid_from=(utcnow() - timedelta(days=1)).date(),
            )
        )
    start = datetime.combine(utcnow().date() + timedelta(days=10), time(13, 0), tzinfo=UTC)
    person = {"email": "zoe.rebook@exemple.fr", **person}
    return make_appointment(
        session,
        starts_at=start,
        mode=mode,
        site=site if mode == "on_site" else None,
        counsellor=counsellor,
        appointment_type=kind,
        beneficiary=make_beneficiary(session, counsellor, **person),
    )


def cancel(client, appointment, reason=""):
    path = path_of(appointment)
    token = anonymous_csrf(client, f"{path}/annuler")
    return client.post(
        f"{path}/annuler", data={"csrf_token": token, "reason": reason}, follow_redirects=True
    )


def move(client, appointment):
    path = path_of(appointment)
    page = client.get(f"{path}/deplacer")
    start = page.text.split('name="start" value="', 1)[1].split('"', 1)[0]
    token = client.cookies.get("filrouge_csrf")
    return client.post(
        f"{path}/deplacer", data={"csrf_token": token, "start": start}, follow_redirects=True
    )


def words(page) -> str:
    """The page's text without its tags, spaces collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", read(page)).split())


def rebook_query(page) -> tuple[str, dict[str, list[str]]]:
    [href] = REBOOK.findall(page.text)
    parts = urlsplit(href.replace("&amp;", "&"))
    return parts.path, parse_qs(parts.query)


# ---- the reason, for the counsellor -----------------------------------------------------------


def test_the_reason_given_is_kept_and_shown_in_the_counsellor_agenda_and_case(
    client, session, counsellor
):
    appointment = booked(session, counsellor)
    appointment.case_id = make_case(
        session, counsellor, session.get(Beneficiary, appointment.beneficiary_id)
    ).id
    session.add(appointment)
    session.flush()
    done = cancel(client, appointment, reason="  J'ai trouvé une formation entre-temps.  ")
    assert done.status_code == 200
    session.refresh(appointment)
    assert appointment.status == "cancelled"
    assert appointment.cancel_reason == "J'ai trouvé une formation entre-temps."

    staff = client
    log_in(staff, session, counsellor)
    day = appointment.starts_at.astimezone(UTC).date().isoformat()
    agenda = words(staff.get("/agenda", params={"jour": day}))
    assert "Motif de l'annulation : J'ai trouvé une formation entre-temps." in agenda
    case_page = words(staff.get(f"/cases/{appointment.case_id}/rendez-vous"))
    assert "Motif de l'annulation : J'ai trouvé une formation entre-temps." in case_page


def test_a_reason_too_long_is_refused_and_kept_in_the_form(client, session, counsellor):
    appointment = booked(session, counsellor)
    path = path_of(appointment)
    token = anonymous_csrf(client, f"{path}/annuler")
    answer = client.post(f"{path}/annuler", data={"csrf_token": token, "reason": "trop " * 200})
    assert answer.status_code == 422
    assert "500 caractères au plus" in read(answer)
    assert "trop trop" in answer.text
    session.refresh(appointment)
    assert appointment.status == "booked"


# ---- book again ---------------------------------------------------------------------------


def test_after_cancelling_the_page_offers_to_book_again_with_the_same_choice(
    client, session, counsellor
):
    appointment = booked(session, counsellor)
    page = cancel(client, appointment)
    path, query = rebook_query(page)
    assert path == "/rendez-vous/creneaux"
    assert query == {
        "operateur": ["ARA"],
        "motif": [str(appointment.appointment_type_id)],
        "mode": ["on_site"],
        "lieu": [str(appointment.site_id)],
    }
    # The link opens the slot step with that choice: the motif and site are named there.
    slots = client.get(REBOOK.findall(page.text)[0].replace("&amp;", "&"))
    assert slots.status_code == 200
    assert "Premier rendez-vous CEP" in read(slots) and "Lyon Part-Dieu" in read(slots)
    # Still offered on a later visit of the link.
    assert REBOOK.findall(client.get(path_of(appointment)).text)


def test_after_moving_the_page_offers_to_book_again_too(client, session, counsellor):
    appointment = booked(session, counsellor, mode="phone")
    page = move(client, appointment)
    assert "Votre rendez-vous est déplacé" in read(page)
    path, query = rebook_query(page)
    assert path == "/rendez-vous/creneaux"
    # A phone appointment is held from anywhere: no site in the address.
    assert query == {
        "operateur": ["ARA"],
        "motif": [str(appointment.appointment_type_id)],
        "mode": ["phone"],
    }


def test_a_booked_appointment_page_offers_no_rebooking(client, session, counsellor):
    appointment = booked(session, counsellor)
    assert REBOOK.findall(client.get(path_of(appointment)).text) == []


@pytest.mark.parametrize("change", ["not_online", "inactive", "site_closed"])
def test_when_the_choice_is_no_longer_offered_online_book_again_starts_at_the_operator(
    client, session, counsellor, change
):
    kind = make_appointment_type(session, make_operator(session), name="Bilan de suivi")
    appointment = booked(session, counsellor, kind=kind)
    cancel(client, appointment)
    if change == "site_closed":
        site = appointment_site(session, appointment)
        site.active = False
        session.add(site)
    else:
        setattr(kind, "online_bookable" if change == "not_online" else "active", False)
        session.add(kind)
    session.flush()
    page = client.get(path_of(appointment))
    assert rebook_query(page) == ("/rendez-vous", {"operateur": ["ARA"]})


def appointment_site(session, appointment):
    from app.models.operators import Site

    return session.get(Site, appointment.site_id)


# ---- what the notice promises -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("person", "said", "not_said"),
    [
        (
            {"email": None, "phone": "06 12 34 56 78"},
            "Un SMS de confirmation vous est envoyé.",
            "e-mail",
        ),
        (
            {"email": None, "phone": "04 72 00 00 00"},  # a landline: no SMS
            "Aucun message ne vous est envoyé",
            "de confirmation vous",
        ),
        (
            {"email": "zoe.deux@exemple.fr", "phone": "06 12 34 56 78"},
            "Un e-mail et un SMS de confirmation vous sont envoyés.",
            "Aucun message",
        ),
        ({"email": "zoe.un@exemple.fr"}, "Un e-mail de confirmation vous est envoyé.", "SMS"),
    ],
)
def test_the_cancel_notice_says_what_is_really_sent(
    client, session, counsellor, person, said, not_said
):
    appointment = booked(session, counsellor, **person)
    notice = read(cancel(client, appointment)).split('role="status">', 1)[1].split("</p>", 1)[0]
    assert said in notice
    assert not_said not in notice
    assert len(outbox_messages(session)) == (1 if person.get("email") else 0)


def test_the_move_notice_of_a_person_with_a_mobile_only_says_sms(client, session, counsellor):
    appointment = booked(session, counsellor, email=None, phone="06 12 34 56 78")
    page = read(move(client, appointment))
    assert "Votre rendez-vous est déplacé. Un SMS avec le nouvel horaire vous est envoyé." in page
    assert [sms.template for sms in sms_messages(session)] == ["appointment_moved"]


# ---- the links in the messages --------------------------------------------------------------


def test_the_cancellation_email_carries_the_link_to_book_again(client, session, counsellor):
    appointment = booked(session, counsellor)
    cancel(client, appointment)
    [email] = outbox_messages(session)
    base = get_settings().public_base_url.rstrip("/")
    expected = (
        f"{base}/rendez-vous/creneaux?operateur=ARA&motif={appointment.appointment_type_id}"
        f"&mode=on_site&lieu={appointment.site_id}"
    )
    assert f"Vous pouvez reprendre rendez-vous à tout moment :\n{expected}\n" in email.body_text


def test_the_cancellation_sms_carries_a_short_link_to_book_again(client, session, counsellor):
    appointment = booked(session, counsellor, email=None, phone="06 12 34 56 78")
    cancel(client, appointment)
    [sms] = sms_messages(session)
    text = write_sms(session=session, message=sms)
    assert gsm7_length(text) <= SMS_LIMIT
    short = re.search(r"Reprendre RDV : \S+(/s/[A-Za-z0-9]{16})$", text).group(1)
    session.commit()
    answer = client.get(short, follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == (
        f"/rendez-vous/creneaux?operateur=ARA&motif={appointment.appointment_type_id}"
        f"&mode=on_site&lieu={appointment.site_id}"
    )


def test_the_move_email_and_sms_carry_the_manage_link(client, session, counsellor):
    appointment = booked(session, counsellor, phone="06 12 34 56 78")
    move(client, appointment)
    [email] = outbox_messages(session)
    assert "/rendez-vous/gerer/" in email.body_text
    [sms] = sms_messages(session)
    link = re.search(
        r"Annuler ou déplacer : \S+(/s/[A-Za-z0-9]{16})$", write_sms(session=session, message=sms)
    ).group(1)
    session.commit()
    answer = client.get(link, follow_redirects=False)
    assert answer.headers["location"].startswith("/rendez-vous/gerer/")
