"""Inputs that answered 500 (issue 13, and the HTML fuzzing since): each now gets a French
message — the 422 page, or the form again with the message by its field — or a 422 in the API."""

import re
from datetime import UTC, date, datetime, time, timedelta
from html import unescape
from types import UnionType
from typing import Annotated, Union, get_args, get_origin

import pytest
from pydantic import BaseModel, TypeAdapter, ValidationError

from app.core.config import get_settings
from app.main import create_app
from app.models.appointments import (
    AbsenceEdit,
    Appointment,
    AppointmentTypeEdit,
    CallbackChoice,
    OpeningSlotEdit,
    SlotChoice,
)
from app.models.base import utcnow
from app.models.control import CampaignCreate
from app.models.nomenclatures import Role
from app.routes.control.proofs import MissingProofFilters
from app.routes.reports.activity import ActivityFilters
from app.routes.reports.ledger import LedgerFilters
from app.routes.reports.national import NationalFilters
from app.services.booking.messages import manage_link
from tests.app_routes import api_routes, dependants
from tests.factories import (
    bearer,
    log_in,
    make_appointment,
    make_appointment_type,
    make_case,
    make_deliverable,
    make_openings,
    make_operator,
    make_site,
    make_staff,
)

HUGE = "99999999999999999999"  # 20 digits: beyond any integer column
BEYOND_BIGINT = str(2**63)
CSRF = "jeton-de-test"


@pytest.fixture
def agenda(session, monkeypatch):
    """ARA with a site open every morning, a motif and an appointment in ten days."""
    monkeypatch.setattr(get_settings(), "public_rate_limit", "1000/minute")
    operator = make_operator(session)
    site = make_site(session, operator)
    counsellor = make_staff(session, operator)
    make_openings(session, counsellor, site)
    kind = make_appointment_type(session, operator)
    start = datetime.combine(utcnow().date() + timedelta(days=10), time(13), tzinfo=UTC)
    appointment = make_appointment(
        session, starts_at=start, site=site, counsellor=counsellor, appointment_type=kind
    )
    return site, kind, appointment


@pytest.fixture
def visitor(client):
    """An anonymous browser with its CSRF cookie, as after a first page."""
    client.cookies.set("filrouge_csrf", CSRF)
    return client


@pytest.fixture
def manager(client, session):
    user = make_staff(session, make_operator(session), Role.MANAGER)
    return user, log_in(client, session, user)


def shown(response) -> str:
    return unescape(response.text)


def flow(site, kind, **overrides) -> dict:
    return {"operateur": "ARA", "motif": kind.id, "mode": "on_site", "lieu": site.id} | overrides


PERSON = {
    "first_name": "Inès",
    "last_name": "Moreau",
    "email": "ines.moreau@exemple.fr",
    "phone": "06 12 34 56 78",
    "consent": "1",
}


# ---- the public booking pages ------------------------------------------------------------------


def test_moving_an_appointment_to_year_9999_shows_the_move_page_again(visitor, session, agenda):
    _site, _kind, appointment = agenda
    token = manage_link(appointment).rsplit("/", 1)[1]
    answer = visitor.post(
        f"/rendez-vous/gerer/{token}/deplacer",
        data={"csrf_token": CSRF, "start": "9999-12-31T09:00:00+01:00"},
    )
    assert answer.status_code == 422
    assert "Choisissez un des horaires proposés." in shown(answer)
    assert session.get(Appointment, appointment.id).starts_at == appointment.starts_at


@pytest.mark.parametrize("week", ["9999-12-31", "9999-12-25"])
def test_the_slot_page_of_a_week_in_year_9999_is_a_french_422(visitor, agenda, week):
    site, kind, _ = agenda
    answer = visitor.get("/rendez-vous/creneaux", params=flow(site, kind, semaine=week))
    assert answer.status_code == 422
    assert "« semaine » : Date trop lointaine (après 2100)" in shown(answer)


@pytest.mark.parametrize(
    ("method", "path", "field"),
    [
        ("GET", "/rendez-vous/creneaux", "motif"),
        ("GET", "/rendez-vous/coordonnees", "motif"),
        ("POST", "/rendez-vous/coordonnees", "motif"),
        ("GET", "/rendez-vous/rappel", "motif"),
        ("POST", "/rendez-vous/rappel", "motif"),
        ("GET", "/rendez-vous/creneaux", "lieu"),
        ("POST", "/rendez-vous/coordonnees", "lieu"),
        ("POST", "/rendez-vous/rappel", "lieu"),
    ],
)
def test_a_20_digit_motif_or_place_is_a_french_422(visitor, agenda, method, path, field):
    site, kind, appointment = agenda
    values = flow(site, kind, debut=appointment.starts_at.isoformat()) | {field: HUGE}
    if method == "GET":
        answer = visitor.get(path, params=values)
    else:
        answer = visitor.post(path, data=values | PERSON | {"csrf_token": CSRF})
    assert answer.status_code == 422
    assert f"« {field} » : Doit être au plus 2147483647" in shown(answer)


def test_a_20_digit_motif_on_the_first_step_is_refused_by_the_motif(visitor, agenda):
    site, kind, _ = agenda
    answer = visitor.post(
        "/rendez-vous/lieu", data=flow(site, kind, motif=HUGE) | {"csrf_token": CSRF}
    )
    assert answer.status_code == 422
    assert "Doit être au plus 2147483647" in shown(answer)


@pytest.mark.parametrize(
    "start", ["9999-12-31T23:59:00+00:00", "0001-01-01T00:00:00+01:00", "2030-01-07T09:00:00"]
)
def test_a_slot_out_of_range_or_without_offset_is_a_french_422(visitor, agenda, start):
    site, kind, _ = agenda
    shown_page = visitor.get("/rendez-vous/coordonnees", params=flow(site, kind, debut=start))
    posted = visitor.post(
        "/rendez-vous/coordonnees",
        data=flow(site, kind, debut=start) | PERSON | {"csrf_token": CSRF},
    )
    for answer in (shown_page, posted):
        assert answer.status_code == 422
        assert "« debut » : Date" in shown(answer)


def test_a_nul_in_the_operator_code_is_a_french_422(visitor, agenda):
    site, kind, _ = agenda
    answer = visitor.post(
        "/rendez-vous/lieu", data=flow(site, kind, operateur="\x00") | {"csrf_token": CSRF}
    )
    assert answer.status_code == 422
    assert "« operateur » : Valeur invalide" in shown(answer)


def test_a_nul_in_the_email_of_a_callback_request_is_counted_without_it(visitor, agenda):
    """The rate limit stores the e-mail as a key: PostgreSQL refused the NUL with a 500."""
    answer = visitor.post(
        "/rendez-vous/rappel",
        data={"csrf_token": CSRF, "operateur": "ARA"} | PERSON | {"email": "ines\x00@exemple.fr"},
    )
    assert answer.status_code == 422
    assert "Adresse e-mail invalide" in shown(answer)


# ---- staff pages -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "expected"),
    [("9999-12-31", "Date trop lointaine (après 2100)"), ("0001-01-01", "Date trop ancienne")],
)
@pytest.mark.parametrize("view", ["jour", "semaine"])
def test_the_agenda_of_year_1_or_9999_is_a_french_422(client, manager, day, expected, view):
    answer = client.get("/agenda", params={"jour": day, "vue": view})
    assert answer.status_code == 422
    assert f"« jour » : {expected}" in shown(answer)


@pytest.mark.parametrize("params", [{"du": "0001-01-01"}, {"au": "9999-12-31"}])
def test_no_show_rates_over_years_1_or_9999_are_a_french_422(client, manager, params):
    answer = client.get("/agenda/absenteisme", params=params)
    assert answer.status_code == 422
    assert "Date trop" in shown(answer)


def test_the_ledger_page_over_years_1_to_9999_shows_the_messages_by_the_fields(client, manager):
    answer = client.get(
        "/rapports/etat-de-service", params={"du": "0001-01-01", "au": "9999-12-31"}
    )
    assert answer.status_code == 200
    assert "Date trop ancienne (avant 2000)" in shown(answer)
    assert "Date trop lointaine (après 2100)" in shown(answer)


def test_the_ledger_of_a_unit_beyond_the_integer_range_is_a_french_422(client, manager):
    answer = client.get(f"/rapports/etat-de-service/{BEYOND_BIGINT}")
    assert answer.status_code == 422
    assert "« adresse » : Doit être au plus 2147483647" in shown(answer)


def test_a_control_draw_over_years_1_to_9999_shows_the_messages_by_the_fields(client, manager):
    _user, csrf = manager
    answer = client.post(
        "/rapports/controles",
        data={"csrf_token": csrf, "du": "0001-01-01", "au": "9999-12-31", "sample_size": "1"},
    )
    assert answer.status_code == 422
    assert "Date trop ancienne (avant 2000)" in shown(answer)


@pytest.mark.parametrize("number", [BEYOND_BIGINT, "2147483648"])
@pytest.mark.parametrize("action", ["GET pdf", "POST scan"])
def test_a_version_number_beyond_the_integer_range_is_a_french_422(
    client, session, manager, number, action
):
    user, csrf = manager
    deliverable = make_deliverable(session, make_case(session, user), "document_synthese")
    method, last = action.split()
    path = f"/deliverables/{deliverable.id}/versions/{number}/{last}"
    answer = client.request(method, path, data={"csrf_token": csrf} if method == "POST" else None)
    assert answer.status_code == 422
    assert "« adresse » : Doit être au plus 2147483647" in shown(answer)


def test_a_confirmed_import_that_is_not_ascii_shows_the_import_page(client, manager):
    _user, csrf = manager
    answer = client.post(
        "/partenaires/import/confirmer", data={"csrf_token": csrf, "contenu": "é" * 8}
    )
    assert answer.status_code == 200
    assert "Le fichier à confirmer est illisible" in shown(answer)  # « é » is not base64


def test_an_htmx_visitor_on_an_address_with_any_character_is_sent_to_the_login(client):
    answer = client.get("/cases/Ā١", headers={"HX-Request": "true"}, follow_redirects=False)
    assert answer.status_code == 204
    assert answer.headers["HX-Redirect"] == "/login?next=/cases/%C4%80%D9%A1"


# ---- API ---------------------------------------------------------------------------------------

OUT_OF_RANGE = {"from": "Date trop ancienne (avant 2000)", "to": "Date trop lointaine (après 2100)"}


def test_the_api_ledger_over_years_1_to_9999_is_a_422(client, manager):
    user, _ = manager
    answer = client.get(
        "/api/v1/ledger", params={"from": "0001-01-01", "to": "9999-12-31"}, headers=bearer(user)
    )
    assert answer.status_code == 422
    assert answer.json()["fields"] == OUT_OF_RANGE


def test_an_api_control_campaign_over_years_1_to_9999_is_a_422(client, manager):
    user, _ = manager
    body = {"from": "0001-01-01", "to": "9999-12-31", "sample_size": 1}
    answer = client.post("/api/v1/control-campaigns", json=body, headers=bearer(user))
    assert answer.status_code == 422
    assert answer.json()["fields"] == OUT_OF_RANGE


def test_the_api_pdf_of_a_20_digit_version_is_a_422(client, session, manager):
    user, _ = manager
    deliverable = make_deliverable(session, make_case(session, user), "document_synthese")
    answer = client.get(
        f"/api/v1/deliverables/{deliverable.id}/versions/{HUGE}/pdf", headers=bearer(user)
    )
    assert answer.status_code == 422
    assert answer.json()["fields"] == {"number": "Doit être au plus 2147483647"}


def test_the_api_reports_of_year_9999_are_a_422(client, session, manager):
    user, _ = manager
    observer = make_staff(session, None, Role.NATIONAL_OBSERVER)
    year_9999 = {"from": "9999-01-01", "to": "9999-12-31"}
    national = client.get("/api/v1/reports/national", params=year_9999, headers=bearer(observer))
    activity = client.get(
        "/api/v1/reports/activity",
        params={"from": "2026-01-01", "to": "2026-01-31", "site_id": HUGE},
        headers=bearer(user),
    )
    assert national.status_code == 422 and activity.status_code == 422
    assert activity.json()["fields"] == {"site_id": "Doit être au plus 2147483647"}


def test_the_422_page_never_shows_pydantic_english(client, manager):
    answer = client.get("/agenda", params={"jour": "9999-12-31"})
    assert not re.search(r"Input should|less than|greater than", answer.text)


# ---- every route, now and to come --------------------------------------------------------------

BEYOND = {int: HUGE, date: "9999-12-31", datetime: "9999-12-31T09:00:00+01:00"}


def _kind(annotation):
    """int, date or datetime for `X`, `X | None` or an Annotated X; else None."""
    if get_origin(annotation) is Annotated:
        return _kind(get_args(annotation)[0])
    if get_origin(annotation) in (Union, UnionType):
        kinds = {_kind(arg) for arg in get_args(annotation) if arg is not type(None)}
        return kinds.pop() if len(kinds) == 1 else None
    return annotation if annotation in BEYOND else None


def _accepts_beyond(annotation, metadata) -> bool:
    kind = _kind(annotation)
    if kind is None:
        return False
    adapter = TypeAdapter(Annotated[annotation, *metadata] if metadata else annotation)
    try:
        adapter.validate_python(BEYOND[kind])
    except ValidationError:
        return False
    return True


def _model_fields_beyond(model) -> list[str]:
    return [
        f"{model.__name__}.{name}"
        for name, info in model.model_fields.items()
        if _accepts_beyond(info.annotation, info.metadata)
    ]


def test_no_route_takes_a_number_or_a_date_without_bounds():
    """Path, query and form parameters, and the fields of the API's bodies, of every route."""
    offenders = set()
    for route in api_routes(create_app()):
        for dependant in dependants(route.dependant):
            for param in [*dependant.path_params, *dependant.query_params, *dependant.body_params]:
                info = param.field_info
                if isinstance(info.annotation, type) and issubclass(info.annotation, BaseModel):
                    offenders.update(_model_fields_beyond(info.annotation))
                elif _accepts_beyond(info.annotation, info.metadata):
                    offenders.add(f"{route.path}: {param.alias}")
    assert offenders == set()


@pytest.mark.parametrize(
    "model",
    [AbsenceEdit, AppointmentTypeEdit, OpeningSlotEdit, SlotChoice, CallbackChoice]
    + [ActivityFilters, LedgerFilters, MissingProofFilters, NationalFilters, CampaignCreate],
)
def test_the_models_pages_parse_their_forms_into_bound_every_number_and_date(model):
    assert _model_fields_beyond(model) == []
