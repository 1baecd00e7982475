"""The beneficiary's manage pages from the e-mailed link: see, cancel (after confirming, with
a reason), move (the booking's slot picker, week by week), book again; the cut-off, tampered
and expired links, CSRF; and the counsellor fallback when the database refuses."""

import base64
import html
import re
from datetime import UTC, datetime, time, timedelta

import pytest
from icalendar import Calendar
from sqlmodel import select

from app.core.config import get_settings
from app.core.security import create_link_token
from app.models.appointments import Appointment, OpeningSlot
from app.models.base import utcnow
from app.services.booking import changes as appointment_changes
from app.services.booking.changes import move_appointment
from app.services.booking.messages import manage_link
from tests.factories import (
    anonymous_csrf,
    make_appointment,
    make_appointment_type,
    make_operator,
    make_site,
    make_staff,
    outbox_messages,
    read,
)

# The clock of tests/conftest.py: the first free slot listed on the move page could fall
# within the minimum notice by the time it is chosen, a quarter hour boundary later.
pytestmark = pytest.mark.usefixtures("clock")


def path_of(appointment) -> str:
    return "/rendez-vous/gerer/" + manage_link(appointment).rsplit("/", 1)[1]


@pytest.fixture
def setup(session):
    """A counsellor who receives at a site every weekday morning, and an appointment in 10 days."""
    operator = make_operator(session)
    site = make_site(session, operator, address="10 rue de la Part-Dieu")
    counsellor = make_staff(session, operator, full_name="Camille Martin")
    kind = make_appointment_type(session, operator, name="Premier rendez-vous CEP")
    for weekday in range(7):
        session.add(
            OpeningSlot(
                operator_id=operator.id,
                counsellor_id=counsellor.id,
                site_id=site.id,
                weekday=weekday,
                start_time=time(9, 0),
                end_time=time(12, 0),
                valid_from=(utcnow() - timedelta(days=1)).date(),
            )
        )
    start = datetime.combine(utcnow().date() + timedelta(days=10), time(13, 0), tzinfo=UTC)
    appointment = make_appointment(
        session, starts_at=start, site=site, counsellor=counsellor, appointment_type=kind
    )
    return appointment


def test_page_shows_the_appointment_privately(client, setup):
    page = client.get(path_of(setup))
    assert page.status_code == 200
    text = read(page)
    assert "Premier rendez-vous CEP" in text
    assert setup.reference in text
    assert "Lyon Part-Dieu, 10 rue de la Part-Dieu" in text
    assert "Annuler le rendez-vous" in text and "Déplacer le rendez-vous" in text
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert page.headers["Cache-Control"] == "no-store"


def test_the_cancel_button_asks_for_confirmation_and_a_get_never_cancels(client, session, setup):
    path = path_of(setup)
    assert f'href="{path}/annuler"' in client.get(path).text
    page = client.get(f"{path}/annuler")
    assert page.status_code == 200
    text = read(page)
    assert setup.reference in text and "Premier rendez-vous CEP" in text
    assert "Motif de l'annulation (facultatif)" in text
    assert "Confirmer l'annulation" in text and "Garder mon rendez-vous" in text
    assert page.headers["Referrer-Policy"] == "no-referrer"
    session.refresh(setup)
    assert (setup.status, setup.ics_sequence) == ("booked", 0)
    assert outbox_messages(session) == []


def test_beneficiary_cancels_from_the_link(client, session, setup):
    path = path_of(setup)
    token = anonymous_csrf(client, f"{path}/annuler")
    done = client.post(f"{path}/annuler", data={"csrf_token": token}, follow_redirects=False)
    assert done.status_code == 303
    session.refresh(setup)
    assert (setup.status, setup.ics_sequence) == ("cancelled", 1)
    assert setup.cancelled_at is not None
    [message] = outbox_messages(session)
    [attachment] = message.attachments
    calendar = Calendar.from_ical(base64.b64decode(attachment["content_b64"]))
    assert calendar["METHOD"] == "PUBLISH"
    [event] = calendar.walk("VEVENT")
    assert (str(event["STATUS"]), event["SEQUENCE"]) == ("CANCELLED", 1)
    assert setup.cancel_reason == ""
    page = client.get(done.headers["location"])
    assert "Votre rendez-vous est annulé" in read(page)
    assert "Annuler le rendez-vous" not in read(page)


def test_cancel_without_the_csrf_token_is_refused(client, session, setup):
    path = path_of(setup)
    client.get(path)
    refused = client.post(f"{path}/annuler", data={"csrf_token": "faux"})
    assert refused.status_code == 403
    session.refresh(setup)
    assert setup.status == "booked"


def test_after_the_cut_off_the_page_asks_to_call_and_cancel_is_refused(client, session, setup):
    setup.starts_at = utcnow() + timedelta(hours=3)
    setup.ends_at = setup.blocks_until = setup.starts_at + timedelta(hours=1)
    session.add(setup)
    session.flush()
    path = path_of(setup)
    page = read(client.get(path))
    assert "moins de 24 heures" in page and setup.reference in page
    assert "Annuler le rendez-vous" not in page
    assert "Confirmer l'annulation" not in read(client.get(f"{path}/annuler"))
    token = client.cookies.get("filrouge_csrf")
    refused = client.post(f"{path}/annuler", data={"csrf_token": token})
    assert refused.status_code == 409
    assert "moins de 24 heures" in read(refused)
    session.refresh(setup)
    assert setup.status == "booked"
    assert outbox_messages(session) == []


def test_tampered_link_gets_a_polite_404(client, setup):
    path = path_of(setup)
    page = client.get(path[:-3] + ("abc" if not path.endswith("abc") else "xyz"))
    assert page.status_code == 404
    assert "Ce lien n'est pas valide ou a expiré" in read(page)


def test_expired_link_gets_a_polite_404(client, setup):
    token = create_link_token(
        purpose="appointment", subject_id=setup.id, lifetime=timedelta(seconds=-5)
    )
    page = client.get(f"/rendez-vous/gerer/{token}")
    assert page.status_code == 404
    assert "Ce lien n'est pas valide ou a expiré" in read(page)


def test_link_for_another_purpose_is_refused(client, setup):
    token = create_link_token(purpose="document", subject_id=setup.id)
    assert client.get(f"/rendez-vous/gerer/{token}").status_code == 404


def test_beneficiary_moves_to_a_free_slot(client, session, setup):
    path = path_of(setup)
    page = client.get(f"{path}/deplacer")
    assert page.status_code == 200
    first = page.text.split('name="start" value="', 1)[1].split('"', 1)[0]
    assert 'type="radio"' not in page.text  # a big button per time, as when booking
    new_start = datetime.fromisoformat(html.unescape(first))
    token = client.cookies.get("filrouge_csrf")
    done = client.post(
        f"{path}/deplacer",
        data={"start": new_start.isoformat(), "csrf_token": token},
        follow_redirects=False,
    )
    assert done.status_code == 303
    session.refresh(setup)
    assert setup.starts_at == new_start
    assert setup.ends_at == new_start + timedelta(hours=1)
    assert setup.ics_sequence == 1
    [message] = outbox_messages(session)
    assert "ancien horaire" in message.body_text
    assert "Votre rendez-vous est déplacé" in read(client.get(done.headers["location"]))


def test_moving_to_a_taken_start_offers_the_next_slots(client, session, setup):
    path = path_of(setup)
    token = anonymous_csrf(client, f"{path}/deplacer")
    taken = setup.starts_at + timedelta(days=1, hours=7)  # outside every opening
    answer = client.post(f"{path}/deplacer", data={"start": taken.isoformat(), "csrf_token": token})
    assert answer.status_code == 409
    assert "Ce créneau vient d'être réservé" in read(answer)
    assert 'name="start"' in answer.text
    session.refresh(setup)
    assert setup.ics_sequence == 0 and outbox_messages(session) == []


def test_move_without_a_start_asks_to_choose(client, session, setup):
    path = path_of(setup)
    token = anonymous_csrf(client, f"{path}/deplacer")
    answer = client.post(f"{path}/deplacer", data={"start": "demain", "csrf_token": token})
    assert answer.status_code == 422
    assert "Choisissez un des horaires proposés" in read(answer)


def test_the_move_page_counts_as_a_slot_listing(client, setup, monkeypatch):
    """Getting the page and posting a start that fails both list the free slots."""
    monkeypatch.setattr(get_settings(), "public_rate_limit", "2/minute")
    path = path_of(setup)
    token = anonymous_csrf(client, f"{path}/deplacer")
    refused = client.post(f"{path}/deplacer", data={"start": "demain", "csrf_token": token})
    assert refused.status_code == 422
    assert client.get(f"{path}/deplacer").status_code == 429


def test_move_tries_the_next_counsellor_when_the_database_refuses(session, setup, monkeypatch):
    operator = make_operator(session)
    other = make_staff(session, operator, full_name="Dominique Petit")
    new_start = setup.starts_at + timedelta(days=1)
    # The usual counsellor took another appointment at that time a moment ago.
    make_appointment(
        session,
        starts_at=new_start,
        site=None,
        mode="phone",
        counsellor=_counsellor(session, setup),
    )
    monkeypatch.setattr(
        appointment_changes,
        "counsellors_free_at",
        lambda **_: [setup.counsellor_id, other.id],
    )
    moved = move_appointment(session=session, appointment_id=setup.id, start=new_start)
    assert (moved.counsellor_id, moved.starts_at, moved.ics_sequence) == (
        other.id,
        new_start,
        1,
    )


def _counsellor(session, appointment):
    from app.models.staff import StaffUser

    return session.get(StaffUser, appointment.counsellor_id)


def test_staff_may_cancel_after_the_cut_off(session, setup):
    from app.services.booking.changes import cancel_appointment

    late = setup.starts_at - timedelta(hours=1)
    cancelled = cancel_appointment(session=session, appointment_id=setup.id, by="staff", now=late)
    assert cancelled.status == "cancelled"
    assert (
        session.exec(select(Appointment).where(Appointment.id == setup.id)).one().ics_sequence == 1
    )


# ---- the move page: the booking's slot picker ------------------------------------------------


def starts_on(page) -> list[datetime]:
    return [
        datetime.fromisoformat(html.unescape(value))
        for value in re.findall(r'name="start" value="([^"]+)"', page.text)
    ]


def week_links(page) -> dict[str, str]:
    found = re.findall(r'<a href="([^"]+)">(Semaine (?:précédente|suivante))</a>', page.text)
    return {label: html.unescape(href) for href, label in found}


def test_the_move_page_shows_a_week_of_day_cards_and_walks_week_by_week(client, setup):
    path = path_of(setup)
    first = client.get(f"{path}/deplacer")
    text = read(first)
    assert "Semaine du " in text and "<h3>" in first.text  # one card per day
    this_week = starts_on(first)
    # Every morning, each of the 7 days shown: one card a day.
    assert len({start.date() for start in this_week}) == 7
    assert first.text.count("<h3>") == 7
    links = week_links(first)
    assert re.fullmatch(
        rf"{path}/deplacer\?semaine=\d{{4}}-\d{{2}}-\d{{2}}", links["Semaine suivante"]
    )

    second = client.get(links["Semaine suivante"])
    assert second.status_code == 200
    next_week = starts_on(second)
    assert min(next_week) > max(this_week)
    assert (min(next_week) - min(this_week)).days == 7
    # The appointment's own time is never offered (it is 13:00, outside the openings anyway).
    assert setup.starts_at not in next_week
    back = client.get(week_links(second)["Semaine précédente"])
    assert starts_on(back) == this_week


def test_the_move_page_never_goes_back_before_today(client, setup):
    page = client.get(f"{path_of(setup)}/deplacer", params={"semaine": "2000-01-03"})
    assert page.status_code == 200
    assert starts_on(page)  # today's week, clamped
    assert "Semaine précédente" not in week_links(page)


def test_the_move_page_stops_at_the_motif_horizon(client, setup):
    path = path_of(setup)
    page = client.get(f"{path}/deplacer", params={"semaine": "2099-01-04"})
    assert page.status_code == 200
    assert "Aucun créneau libre cette semaine." in read(page)
    assert "Semaine suivante" not in week_links(page)


def test_a_start_taken_meanwhile_answers_409_with_the_picker_again(client, session, setup):
    path = path_of(setup)
    page = client.get(f"{path}/deplacer")
    chosen = starts_on(page)[0]
    # Someone else books the only counsellor at that time before the tap.
    make_appointment(
        session,
        starts_at=chosen,
        mode="phone",
        counsellor=_counsellor(session, setup),
    )
    token = client.cookies.get("filrouge_csrf")
    answer = client.post(
        f"{path}/deplacer", data={"start": chosen.isoformat(), "csrf_token": token}
    )
    assert answer.status_code == 409
    assert "Ce créneau vient d'être réservé" in read(answer)
    offered = starts_on(answer)
    assert offered and chosen not in offered
    session.refresh(setup)
    assert (setup.starts_at, setup.ics_sequence) == (
        datetime.combine(setup.starts_at.date(), time(13, 0), tzinfo=UTC),
        0,
    )
