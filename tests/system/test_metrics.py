"""/metrics: for the bearer of FILROUGE_METRICS_TOKEN only, the requests' durations per route
template, the bookings, and the figures read from the database; never anyone's data."""

from datetime import timedelta

import pytest
from prometheus_client import REGISTRY
from pydantic import SecretStr

from app.core.config import get_settings
from app.models.base import utcnow
from app.models.beneficiaries import Beneficiary
from app.models.outbox import MessageStatus
from app.models.system import WorkerHeartbeat
from app.services.booking.reservations import BookingPerson, SlotTaken, book_appointment
from app.services.messaging.outbox import queue_email
from app.services.system.figures import read_figures
from tests.factories import (
    make_appointment_type,
    make_openings,
    make_site,
    make_staff,
    working_day_at,
)

TOKEN = "jeton-de-supervision-assez-long"
METRICS = (  # their families, named before any sample is taken
    "filrouge_http_request_duration_seconds",
    "filrouge_bookings_total",
    "filrouge_outbox_queue_depth",
    "filrouge_outbox_oldest_due_age_seconds",
    "filrouge_outbox_failed_messages",
    "filrouge_background_builds",
    "filrouge_worker_heartbeat_age_seconds",
)


@pytest.fixture
def metrics_token(monkeypatch):
    monkeypatch.setattr(get_settings(), "metrics_token", SecretStr(TOKEN))


def scrape(client) -> str:
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


def test_metrics_are_not_there_while_no_token_is_set(client, monkeypatch):
    monkeypatch.setattr(get_settings(), "metrics_token", None)
    assert client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 404


@pytest.mark.parametrize("header", [None, "Bearer mauvais-jeton", TOKEN, f"Basic {TOKEN}"])
def test_metrics_are_refused_without_the_token(client, metrics_token, header):
    headers = {"Authorization": header} if header else {}
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert "filrouge_" not in response.text


def test_metrics_name_every_figure_with_the_token(client, metrics_token):
    text = scrape(client)
    for name in METRICS:
        assert f"\n# TYPE {name} " in text, name


def test_request_durations_are_labelled_with_the_route_template(
    client, metrics_token, counsellor, case
):
    client.get(f"/cases/{case.id}")
    client.get("/adresse-que-personne-ne-connait/12345")
    text = scrape(client)
    assert 'route="/cases/{case_id}"' in text and 'status="200"' in text
    assert 'route="unmatched"' in text
    # Words of the addresses, not their numbers: a series' timestamp (`_created`) may hold « 12345 ».
    assert f"/cases/{case.id}" not in text and "personne-ne-connait" not in text


def test_request_methods_outside_the_usual_ones_are_counted_as_other(client, metrics_token):
    """A client may send any word as its method: each would otherwise make a series."""
    client.request("BREW", "/healthz")
    client.request("PROPFIND", "/healthz")
    client.request("DELETE", "/healthz")
    text = scrape(client)
    assert 'method="OTHER"' in text and 'method="DELETE"' in text
    assert "BREW" not in text and "PROPFIND" not in text


@pytest.fixture
def agenda(session, ara):
    site = make_site(session, ara)
    make_openings(session, make_staff(session, ara), site)
    return site, make_appointment_type(session, ara)


def booking(session, agenda, email: str, key: str):
    site, kind = agenda
    person = BookingPerson(
        first_name="Inès",
        last_name="Moreau-Quintard",
        email=email,
        phone="06 12 34 56 78",
        postcode="69003",
        consent=True,
    )
    return book_appointment(
        session=session,
        appointment_type_id=kind.id,
        site_id=site.id,
        mode="on_site",
        start=working_day_at(site),
        person=person,
        idempotency_key=key,
    )


def bookings(outcome: str) -> float:
    labels = {"operator": "ARA", "channel": "online", "outcome": outcome}
    return REGISTRY.get_sample_value("filrouge_bookings_total", labels) or 0


def test_bookings_made_and_refused_are_counted(session, agenda):
    made, refused = bookings("made"), bookings("refused")
    booking(session, agenda, "ines.moreau@exemple.fr", "cle-1")
    booking(session, agenda, "ines.moreau@exemple.fr", "cle-1")  # the same, sent twice
    with pytest.raises(SlotTaken):  # one counsellor: the slot is gone
        booking(session, agenda, "autre.personne@exemple.fr", "cle-2")
    assert (bookings("made"), bookings("refused")) == (made, refused + 1)  # not committed yet
    session.commit()
    assert (bookings("made"), bookings("refused")) == (made + 1, refused + 1)


def test_a_booking_rolled_back_was_never_made(session, agenda):
    made = bookings("made")
    booking(session, agenda, "ines.moreau@exemple.fr", "cle-1")
    session.rollback()
    session.commit()
    assert bookings("made") == made


def test_metrics_hold_no_personal_data(client, session, agenda, metrics_token, case):
    booking(session, agenda, "ines.moreau@exemple.fr", "cle-1")
    queue_email(session=session, recipient="ines.moreau@exemple.fr", subject="Votre RDV", text="x")
    session.commit()
    client.get(f"/cases/{case.id}")
    text = scrape(client)
    assert 'operator="ARA"' in text
    beneficiary = session.get(Beneficiary, case.beneficiary_id)
    for secret in ("ines.moreau", "Moreau-Quintard", "Inès", "exemple.fr", "Votre RDV"):
        assert secret not in text
    for secret in (beneficiary.email, beneficiary.last_name, case.reference):
        assert not secret or secret not in text


def test_figures_read_the_queue_the_builds_and_the_heartbeats(session, ara):
    now = utcnow()
    due = queue_email(session=session, recipient="a@exemple.fr", subject="s", text="t")
    due.next_attempt_at = now - timedelta(minutes=10)
    later = queue_email(session=session, recipient="b@exemple.fr", subject="s", text="t")
    later.next_attempt_at = now + timedelta(hours=1)  # waiting for its retry: not late
    failed = queue_email(session=session, recipient="c@exemple.fr", subject="s", text="t")
    failed.status = MessageStatus.FAILED.value
    session.add(WorkerHeartbeat(worker="machine-1:42", beaten_at=now - timedelta(seconds=7)))
    session.add(WorkerHeartbeat(worker="machine-2:43", beaten_at=now - timedelta(hours=3)))
    session.add_all([due, later, failed])
    session.flush()

    figures = read_figures(session, now=now)

    assert figures.waiting == {"email": 2, "sms": 0}
    assert figures.failed == {"email": 1, "sms": 0}
    assert figures.oldest_due_seconds == pytest.approx(600)
    assert figures.heartbeat_age_seconds == pytest.approx(7)
    assert figures.building == {"proof_pack": 0, "access_archive": 0, "deliverable_archive": 0}


def test_no_heartbeat_ever_reads_as_none(session):
    assert read_figures(session).heartbeat_age_seconds is None
