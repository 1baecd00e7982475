"""Schemathesis over the whole JSON API, with all its checks: what the OpenAPI document says
is what the API does. Valid input is accepted, invalid input refused, every status answered is
documented for its operation, every body matches its schema, a 405 names the allowed methods,
the token is required where it is declared — and nothing answers a 500.

Each operation of the document is one test; its examples (the document's own, boundary values,
then FILROUGE_FUZZ_EXAMPLES drawn ones, 10 by default) run against the in-process app, inside
that test's rolled-back transaction, in a world with one row of each kind: an operator with a
site open to online booking, staff, a person, a case with an episode, an interaction, an action
step, an attachment, a deliverable issued and edited since, a triage request, a partner and a
referral, a control campaign, and a billable unit ended last week.

Generated ids name no row, so before each request every id the schema accepts is pointed at the
world's row of its kind (an id the schema refuses is sent as generated, to be refused). Some
rules no JSON Schema can state — a moment not in the future, a period that does not end before
it starts — are then applied the same way: a value the schema accepts, which such a rule would
refuse, is replaced by one it accepts (`realistic`). A value the schema refuses is never touched,
so what the check expects of the request stays true."""

import os
from base64 import b64decode
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.parser import BytesParser
from email.policy import HTTP
from zoneinfo import ZoneInfo

import jsonschema_rs
import phonenumbers
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from phonenumbers import PhoneNumberFormat, PhoneNumberType
from pydantic import TypeAdapter, ValidationError
from schemathesis.checks import not_a_server_error
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)
from sqlmodel import select

from app.core.config import get_settings
from app.core.security import create_api_token
from app.main import create_app
from app.models.base import utcnow
from app.models.bounds import FIRST_DAY, LAST_DAY, MAX_ROW_ID
from app.models.cases import EpisodeEnd
from app.models.catalogue import DeliverableKind
from app.models.control import CampaignCreate
from app.models.deliverables import ActionStepWrite, DeliverableVersion
from app.models.fields import RequiredText, normalise_phone, search_key
from app.models.nomenclatures import (
    Channel,
    InteractionChannel,
    PartnerType,
    RequestMotive,
    Role,
    StepOwner,
)
from app.models.partners import PartnerCreate, ReferralCreate
from app.models.triage import TriageCreate
from app.services.cases.episodes import end_episode
from app.services.cases.triage import create_request
from app.services.control.campaigns import create_campaign
from app.services.deliverables.action_plan import add_step
from app.services.deliverables.dms_feed import MAX_CURSOR_LENGTH, feed_cursor
from app.services.referrals.partners import create_partner
from app.services.referrals.workflow import propose_referral
from app.services.reports.periods import FIRST_NATIONAL_DAY
from tests.factories import (
    PDF,
    issued_then_edited,
    kept_file,
    make_appointment_type,
    make_beneficiary,
    make_case,
    make_episode,
    make_interaction,
    make_openings,
    make_operator,
    make_site,
    make_staff,
    paris_today,
    unit_id,
)

# Read from the app itself: /openapi.json is for signed-in staff only (FILROUGE_API_DOCS).
# Each operation is then called on the `app` fixture, the run's one app.
schema = schemathesis.openapi.from_dict(create_app().openapi())


STYLES = (PhoneNumberFormat.NATIONAL, PhoneNumberFormat.INTERNATIONAL, PhoneNumberFormat.E164)


def french_numbers() -> list[str]:
    """Valid numbers of every kind, metropolitan and overseas, written the ways people do."""
    found = []
    for region in ("FR", "GP", "MQ", "GF", "RE", "YT"):
        for kind in (PhoneNumberType.FIXED_LINE, PhoneNumberType.MOBILE):
            number = phonenumbers.example_number_for_type(region, kind)
            found += [phonenumbers.format_number(number, style) for style in STYLES]
    return found


# The document's own format for the numbers libphonenumber accepts (app/models/fields.py).
schemathesis.openapi.format("telephone-fr", st.sampled_from(french_numbers()))
# Days and moments of the years the app takes (app/models/bounds.py), which the document's
# patterns say: drawn from those years at once, rather than from any year and then filtered.
_MOMENTS = st.datetimes(
    min_value=datetime(FIRST_DAY.year, 1, 2),
    max_value=datetime(LAST_DAY.year, 12, 30),
    timezones=st.sampled_from([UTC, ZoneInfo("Europe/Paris"), ZoneInfo("America/Cayenne")]),
)
schemathesis.openapi.format("date", st.dates(FIRST_DAY, LAST_DAY).map(date.isoformat))
schemathesis.openapi.format("date-time", _MOMENTS.map(datetime.isoformat))
# Files of the types an attachment may be (the document's `encoding`): a PDF, a 1×1 PNG.
PNG = b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGNgAAAAAgABSK+kcQAAAABJRU5ErkJggg=="
)
schemathesis.openapi.media_type("application/pdf", st.just(PDF))
schemathesis.openapi.media_type("image/png", st.just(PNG))
EXAMPLES = int(os.environ.get("FILROUGE_FUZZ_EXAMPLES", "10"))


@dataclass
class World:
    ids: dict[str, int]  # the row each id parameter or field names, by its name
    operator_code: str
    manager: object  # sends every request but the national view's
    observer: object
    controller: object  # opens official control campaigns
    billable_day: date  # when the ended billable unit ended
    partner_names: set[str]  # as search sees them: a partner's name is unique in its directory
    admin: object  # reads the documents' feed


@pytest.fixture
def world(session, monkeypatch, clock) -> World:
    """One row of each kind, on the tests' clock, so that the app and `realistic` read the
    same day; BRE has rows too, to be kept out."""
    # All examples of one operation share a transaction: the public booking API's rate limit
    # would turn the later ones into 429s and hide the paths behind it.
    monkeypatch.setattr(get_settings(), "public_rate_limit", "1000000/minute")
    # A control campaign's proof pack is built after the answer; the worker's tests cover it.
    monkeypatch.setattr("app.routes.control.campaigns._build", lambda *_args: None)
    operator = make_operator(session)
    site = make_site(session, operator)
    counsellor = make_staff(session, operator)
    colleague = make_staff(session, operator)  # a colleague to hand cases over to
    manager = make_staff(session, operator, Role.MANAGER)
    admin = make_staff(session, operator, Role.OPERATOR_ADMIN)
    observer = make_staff(session, None, Role.NATIONAL_OBSERVER)
    controller = make_staff(session, None, Role.CONTROLLER)
    make_case(session, make_staff(session, make_operator(session, "BRE", "Bretagne")))
    kind_of_appointment = make_appointment_type(session, operator, modes="on_site phone video")
    make_openings(session, counsellor, site)
    beneficiary = make_beneficiary(session, counsellor, phone="06 12 34 56 78")
    case = make_case(session, counsellor, beneficiary)
    episode = make_episode(session, counsellor, case)
    billable_day = ended_billable_unit(session, counsellor)
    make_interaction(
        session, counsellor, case, channel=InteractionChannel.VIDEO, episode_id=episode.id
    )
    request = create_request(
        session=session,
        actor=counsellor,
        data=TriageCreate(
            beneficiary_id=beneficiary.id, channel=Channel.WEB, motive=RequestMotive.VAE
        ),
    )
    step = add_step(
        session=session,
        actor=counsellor,
        case_id=case.id,
        data=ActionStepWrite(description="Contacter l'Apec", owner=StepOwner.BENEFICIARY),
    )
    attachment = kept_file(session, counsellor, case)
    kind = session.exec(
        select(DeliverableKind).where(
            DeliverableKind.operator_id == operator.id,
            DeliverableKind.code == "document_synthese",
        )
    ).one()
    partner = create_partner(
        session=session,
        actor=manager,
        data=PartnerCreate(
            name="CIBC Lyon", type=PartnerType.SKILLS_ASSESSMENT, email="cibc@exemple.fr"
        ),
    )
    # Before the deliverable, whose « Orientations proposées » then list it.
    referral = propose_referral(
        session=session,
        actor=counsellor,
        case_id=case.id,
        data=ReferralCreate(partner_id=partner.id, purpose="Bilan de compétences", consent=True),
    )
    with monkeypatch.context() as patch:  # version 1 needs no real PDF: WeasyPrint is slow
        patch.setattr(
            "app.services.deliverables.documents.render_deliverable_pdf", lambda _content: PDF
        )
        deliverable = issued_then_edited(session, counsellor, case, kind, episode)
    campaign = create_campaign(
        session=session,
        actor=manager,
        request=CampaignCreate.model_validate(
            {"from": billable_day, "to": billable_day, "sample_size": 1}
        ),
    )
    ids = {
        "beneficiary_id": beneficiary.id,
        "case_id": case.id,
        "episode_id": episode.id,
        "request_id": request.id,
        "step_id": step.id,
        "attachment_id": attachment.id,
        "deliverable_id": deliverable.id,
        "number": 1,
        "partner_id": partner.id,
        "referral_id": referral.id,
        "campaign_id": campaign.id,
        "kind_id": kind.id,
        "referent_id": colleague.id,
        "assigned_to_id": colleague.id,
        "counsellor_id": counsellor.id,
        "unit_id": unit_id(session, "UO1"),
        "site_id": site.id,
        "site": site.id,
        "appointment_type": kind_of_appointment.id,
        "version_id": session.exec(
            select(DeliverableVersion.id).where(DeliverableVersion.deliverable_id == deliverable.id)
        ).one(),
    }
    names = {search_key(partner.name)}
    ids["operator_id"] = operator.id  # the operator an official campaign is opened on
    return World(ids, operator.code, manager, observer, controller, billable_day, names, admin)


def ended_billable_unit(session, counsellor) -> date:
    """A UO0 of another case, ended a week ago: the population of a control campaign (billable
    as soon as it ends, UO0 requiring no proof)."""
    episode = make_episode(session, counsellor, make_case(session, counsellor), "UO0")
    ended = utcnow() - timedelta(days=7)
    episode.started_at = ended - timedelta(days=1)
    end_episode(session=session, actor=counsellor, episode_id=episode.id, data=EpisodeEnd())
    episode.ended_at = ended
    session.add(episode)
    session.flush()
    return ended.date()


# ---- realistic values ---------------------------------------------------------------------


def _a_cursor(value) -> bool:
    """A cursor the schema takes; only one the app signed is read (any other: 400)."""
    return isinstance(value, str) and len(value) <= MAX_CURSOR_LENGTH


def _is_row_id(value, *, as_text: bool = False) -> bool:
    """An id the schema accepts: a JSON integer (2.0 is one), or `as_text`, as an address
    carries it (in a JSON body, "2" is a string, which the schema refuses)."""
    if as_text and isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    if type(value) is float and value.is_integer():
        value = int(value)
    return type(value) is int and 1 <= value <= MAX_ROW_ID


def _day(value) -> date | None:
    """The day a valid date parameter or field names, else None."""
    try:
        day = date.fromisoformat(value) if isinstance(value, str) and len(value) == 10 else None
    except ValueError:
        return None
    return day if day is not None and FIRST_DAY <= day <= LAST_DAY else None


def _moment(value) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None
    if moment is None or moment.tzinfo is None:
        return None
    return moment if FIRST_DAY.year <= moment.year <= LAST_DAY.year else None


CAMPAIGNS = "/api/v1/control-campaigns"
FEED = "/api/v1/deliverable-versions"
OPEN_OFFICIAL = "/api/v1/control-campaigns/official/open"
# Moments a counsellor records: they have happened, after the world's rows were made.
PAST_MOMENTS = ("started_at", "ended_at", "occurred_at", "received_at")
# Days a counsellor plans, which the clock bounds: a follow-up within the coming year, an
# action step's deadline within five years.
PLANNED_DAYS = {
    "follow_up_on": lambda day, today: today + timedelta(days=(day - FIRST_DAY).days % 366),
    "due_on": lambda day, today: min(day, today + timedelta(days=4 * 365)),
    # An official campaign's deadline, at the earliest tomorrow.
    "echeance": lambda day, today: today + timedelta(days=1 + (day - FIRST_DAY).days % 366),
}
# A person is 14 or more: the latest birth year is this year's, less 14.
YOUNGEST = 14


def _points_at_rows(values: dict, world: World, *, as_text: bool = False) -> dict:
    return {
        name: world.ids[name] if name in world.ids and _is_row_id(value, as_text=as_text) else value
        for name, value in values.items()
    }


def _period(values: dict, path: str, world: World) -> dict:
    """A period that ends after it starts, as long as the operation allows, over days that
    have data where the operation needs some."""
    start, end = _day(values.get("from")), _day(values.get("to"))
    if start is None or end is None:
        return values
    start, end = min(start, end), max(start, end)
    if path == "/api/v1/reports/national":  # one calendar year
        year = datetime.now(UTC).year
        start, end = date(year, 1, 1), date(year, 12, 31)
    elif path == "/api/v1/public/slots":  # 31 days at most
        end = min(end, start + timedelta(days=30))
    elif path in ("/api/v1/reports/activity", "/api/v1/reports/surveys"):  # five years at most
        end = min(end, start + timedelta(days=5 * 365))
    elif path in ("/api/v1/exports/units", "/api/v1/reports/indicators"):  # 3 years from 2020
        start = max(start, FIRST_NATIONAL_DAY)
        end = min(max(end, start), start + timedelta(days=3 * 365 - 1))
    elif path in (CAMPAIGNS, OPEN_OFFICIAL):  # a sample needs a unit ended in the period
        start, end = min(start, world.billable_day), max(end, world.billable_day)
    return {**values, "from": start.isoformat(), "to": end.isoformat()}


def _new_partner_name(body: dict, world: World) -> dict:
    """A partner's name not yet in the directory: a name taken is refused (422, by the field)."""
    try:
        name = search_key(TypeAdapter(RequiredText).validate_python(body.get("name")))
    except ValidationError:
        return body
    if name in world.partner_names:
        body = {**body, "name": f"Partenaire {len(world.partner_names)}"}
        name = search_key(body["name"])
    world.partner_names.add(name)
    return body


def _a_number(body: dict) -> bool:
    """Whether the body's phone, if any, is what `format: telephone-fr` names. Schemathesis
    cannot check a format of the document's own: its boundary values may take any text for
    one, and call the request valid."""
    phone = body.get("phone")
    if not isinstance(phone, str) or not phone.strip():
        return True
    try:
        normalise_phone(phone.strip())
    except ValueError:
        return False
    return True


def _read_as_a_valid_form(case, response) -> bool:
    """Whether an upload that schemathesis calls invalid is valid as a form reads it: a text
    part it turned into null, a number or true goes out as text. Schemathesis reads the parts
    sent itself, unless one is a file, whose bytes it cannot validate: read here, the file
    itself left to the server (415 for a type it does not take), a part twice refused."""
    if case.media_type != "multipart/form-data" or not case.meta.is_negative_at(
        ParameterLocation.BODY
    ):
        return False
    content_type = response.request.headers["Content-Type"]
    body = response.request.body
    message = BytesParser(policy=HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body
    )
    read = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if name is None or name in read:  # refused by the server (app/web/uploads.py)
            return False
        file = part.get_filename() is not None
        read[name] = "" if file else part.get_payload(decode=True).decode(errors="replace")
    form = case.operation.get_body_for_media_type(case.media_type).optimized_schema
    return jsonschema_rs.validator_for(form).is_valid(read)


def _set(case, part: str, values: dict) -> None:
    if values != getattr(case, part):
        setattr(case, part, values)


def realistic(case, world: World) -> None:
    """Every value the schema accepts that names a row, or that a rule the schema cannot state
    would refuse, replaced by the world's row or by a value that rule accepts.

    Schemathesis checks again what it changed (a part set anew is validated again): a part is
    set only when a value did change, as it cannot validate the bytes of a file and would then
    take the upload for invalid data."""
    path = case.operation.path
    if case.path_parameters:
        _set(case, "path_parameters", _points_at_rows(case.path_parameters, world, as_text=True))
    if case.query:
        query = _period(_points_at_rows(case.query, world, as_text=True), path, world)
        if isinstance(query.get("operator"), str) and query["operator"].isalnum():
            query["operator"] = world.operator_code
        if path == FEED and _a_cursor(query.get("since")):
            query["since"] = feed_cursor(world.ids["operator_id"], 0)
        _set(case, "query", query)
    if isinstance(case.body, dict):
        body = _period(_points_at_rows(case.body, world), path, world)
        now, today = utcnow().isoformat(), paris_today()
        body |= {name: now for name in PAST_MOMENTS if _moment(body.get(name)) is not None}
        for name, plan in PLANNED_DAYS.items():
            if (day := _day(body.get(name))) is not None:
                body[name] = plan(day, today).isoformat()
        year = body.get("birth_year")
        if type(year) in (int, float) and year == int(year) and year > today.year - YOUNGEST:
            body["birth_year"] = today.year - YOUNGEST
        if path == "/api/v1/partners":
            body = _new_partner_name(body, world)
        if not case.meta.is_negative_at(ParameterLocation.BODY) and not _a_number(body):
            body["phone"] = "06 12 34 56 78"
        _set(case, "body", body)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,  # the world's ids change from one run to the next: nothing worth replaying
    # One rolled-back transaction per operation: the world is built once for all its examples.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_the_api_does_what_its_document_says(case, app, world):
    sender = {"/api/v1/reports/national": world.observer, OPEN_OFFICIAL: world.controller}.get(
        case.operation.path, world.manager
    )
    if case.operation.path.startswith(FEED):  # the documents' feed: the operator's admins
        sender = world.admin
    realistic(case, world)
    headers = {"Authorization": f"Bearer {create_api_token(sender)}"}
    response = case.call(app=app, headers=headers)
    case.validate_response(
        response,
        headers=headers,
        excluded_checks=[negative_data_rejection] if _read_as_a_valid_form(case, response) else [],
        transport_kwargs={"app": app, "headers": headers},
    )


def _id_parameters(operation) -> list[str]:
    return [
        parameter.name
        for parameter in operation.iter_parameters()
        if parameter.location == ParameterLocation.PATH
        and parameter.definition["schema"].get("type") == "integer"
    ]


ADDRESSED = [result.ok() for result in schema.get_all_operations() if _id_parameters(result.ok())]
TWENTY_DIGITS = 10**19


def test_a_20_digit_id_in_any_address_is_a_documented_422(session, app):
    """The API's own overflow: an id beyond the integer columns once answered 500."""
    operator = make_operator(session)
    # An operator admin: whom every addressed route lets through to its parameters' check (the
    # documents' feed refuses counsellors first).
    sender = make_staff(session, operator, Role.OPERATOR_ADMIN)
    headers = {"Authorization": f"Bearer {create_api_token(sender)}"}
    checks = [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_schema_conformance,
    ]
    answered = {}
    for operation in ADDRESSED:
        names = _id_parameters(operation)
        for name in names:
            ids = {other: 1 for other in names} | {name: TWENTY_DIGITS}
            case = operation.Case(path_parameters=ids, headers=headers)
            response = case.call(app=app)
            case.validate_response(response, checks=checks)
            answered[f"{operation.label} {name}"] = response.status_code
    assert set(answered.values()) == {422}, answered
