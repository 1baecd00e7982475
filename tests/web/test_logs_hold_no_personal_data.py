"""No log line holds personal data (README, Logs): a person books online, a counsellor signs
in (a mistyped password first), searches for them, opens their case from triage and records an
interaction; the app's loggers at DEBUG and the access lines hold none of the names, e-mail
addresses, phone numbers or texts typed on the way, and each line carries its request id."""

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from app.models.appointments import Appointment
from app.models.cases import Case, Interaction
from tests.app_routes import api_routes
from tests.factories import (
    PASSWORD,
    contact_page,
    make_appointment_type,
    make_openings,
    make_operator,
    make_site,
    make_staff,
    paris_today,
    submit,
)

# The clock of tests/conftest.py, as in tests/booking/test_online_routes.py whose steps this
# journey takes: the first slot, listed a moment before a quarter hour, would fall within the
# minimum notice if it were booked a moment after (409).
pytestmark = pytest.mark.usefixtures("clock")

BENEFICIARY = {
    "first_name": "Anaïs",
    "last_name": "Quéméner",
    "email": "anais.quemener@exemple.fr",
    "phone": "06 98 76 54 32",
    "request": "Je voudrais devenir ébéniste",
}
COUNSELLOR = {"full_name": "Bérénice Fauchard", "email": "berenice.fauchard@exemple.fr"}
INTERACTION = {"summary": "Projet de menuiserie en Bretagne", "private_notes": "Loyer en retard"}
PERSONAL = [
    *BENEFICIARY.values(),
    "Quemener",
    "QUÉMÉNER",
    "0698765432",
    "+33698765432",
    "698765432",
    *COUNSELLOR.values(),
    *INTERACTION.values(),
]


def _csrf(page) -> str:
    return re.search(r'name="csrf-token" content="([^"]*)"', page.text).group(1)


def test_a_journey_through_booking_triage_and_a_case_logs_no_personal_data(app, session, log_lines):
    operator = make_operator(session)
    site = make_site(session, operator)
    counsellor = make_staff(session, operator, **COUNSELLOR)
    make_openings(session, counsellor, site)
    kind = make_appointment_type(session, operator)
    client = TestClient(app)
    responses = []
    client.event_hooks["response"] = [responses.append]

    # A person books online.
    page, token = contact_page(client, (operator, site, kind))
    booked = submit(client, page, token, **BENEFICIARY)
    assert booked.status_code == 200
    appointment = session.exec(select(Appointment)).one()

    # Their counsellor signs in, mistyping the password first, and looks for them.
    login = {"email": COUNSELLOR["email"], "csrf_token": _csrf(client.get("/login"))}
    assert client.post("/login", data=login | {"password": "pas-le-bon"}).status_code == 200
    signed_in = client.post("/login", data=login | {"password": PASSWORD}, follow_redirects=False)
    assert signed_in.status_code == 303
    csrf = _csrf(client.get("/triage"))
    assert "QUÉMÉNER" in client.get("/triage/new", params={"q": "Quéméner 0698765432"}).text

    # The request booked online becomes a case, where an interaction is recorded.
    request_id = appointment.triage_request_id
    client.get(f"/triage/{request_id}")
    opened = client.post(
        f"/triage/{request_id}/open-case",
        data={"referent_id": counsellor.id, "csrf_token": csrf},
        follow_redirects=False,
    )
    assert opened.status_code == 303
    case = session.exec(select(Case)).one()
    occurred = f"{paris_today() - timedelta(days=1)}T10:30"
    client.post(
        f"/cases/{case.id}/interactions",
        data={
            "occurred_at": occurred,
            "duration_minutes": "45",
            "channel": "telephone",
            "csrf_token": csrf,
            **INTERACTION,
        },
    )
    assert session.exec(select(Interaction).where(Interaction.case_id == case.id)).all()
    assert INTERACTION["summary"] in client.get(f"/cases/{case.id}").text

    lines = log_lines()
    # The journey was logged: one access line per request, and the services' own lines.
    ids = [response.headers["x-request-id"] for response in responses]
    access = [line for line in lines if line["logger"] == "app.access"]
    assert sorted(line["request_id"] for line in access) == sorted(ids)
    loggers = {line["logger"] for line in lines}
    assert {"app.services.access.auth", "app.services.messaging.outbox"} <= loggers
    # Every line carries the id of the request it was written for.
    assert all(line.get("request_id") in ids for line in lines)
    # Routes are logged as templates: the addresses hold ids and search terms.
    templates = {route.path_format for route in api_routes(app)}
    assert {line["route"] for line in access} <= templates
    # And none of what people typed, nor anyone's name, address or phone number.
    text = "\n".join(repr(line) for line in lines).casefold()
    assert [value for value in PERSONAL if value.casefold() in text] == []
