"""The data feed for France compétences: one pseudonymised row per unit episode overlapping the
period, that follows its published schema, names no one, and keeps each operator's rows to it."""

import csv
import io
import json
import re
from datetime import UTC, date, datetime

import jsonschema_rs
import pytest
from sqlalchemy import event

from app.models.cases import Episode, Interaction
from app.models.nomenclatures import InteractionChannel, Role
from app.services.admin.markets import episode_lot_id
from app.services.deliverables.pseudonyms import pseudonym
from app.services.reports.departements import departement_of
from app.services.reports.feed import FEED_VERSION, csv_columns
from app.services.reports.periods import period_refusal
from tests.factories import (
    CURRENT_MARKET,
    bearer,
    make_beneficiary,
    make_case,
    make_deliverable,
    make_lot,
    make_staff,
    required_kinds,
    unit_id,
)

FEED = "/api/v1/exports/units"
PURPOSE = {"purpose": "controle_service_fait"}  # required: the rows are personal data
SCHEMA = "/api/v1/exports/units/schema.json"
PERIOD = {
    "from": "2025-01-01",
    "to": "2025-06-30",
    **PURPOSE,
}  # Paris days: 2024-12-31 23:00 UTC on
PERSON = {
    "first_name": "Maëlle",
    "last_name": "Quintrec",
    "email": "maelle.quintrec@exemple.fr",
    "phone": "06 12 34 56 78",
    "postcode": "20167",  # Corse-du-Sud
    "birth_year": 1983,
    "sex": "F",
    "employment_status": "cdd",
    "pcs": "5",
    "naf_section": "Q",
    "company_size": "pme",
    "diploma_level": "4",
    "rqth": "non",
}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def episode(session, case, code, started, ended=None, *, cancelled_by=None) -> Episode:
    row = Episode(
        operator_id=case.operator_id,
        case_id=case.id,
        unit_id=unit_id(session, code),
        started_at=at(started),
        ended_at=at(ended) if ended else None,
        lot_id=episode_lot_id(session, case.operator_id, at(started)),
        cancelled_at=at(started) if cancelled_by else None,
        cancelled_by_id=cancelled_by.id if cancelled_by else None,
    )
    session.add(row)
    session.flush()
    return row


def interaction(session, case, counsellor, channel, when, unit=None) -> None:
    session.add(
        Interaction(
            operator_id=case.operator_id,
            case_id=case.id,
            episode_id=unit.id if unit else None,
            counsellor_id=counsellor.id,
            occurred_at=at(when),
            duration_minutes=45,
            channel=channel,
            summary="Entretien avec Maëlle Quintrec au sujet de sa reconversion",
        )
    )
    session.flush()


@pytest.fixture
def world(session, ara, bre, counsellor):
    """ARA's person with a full profile and a case whose units fall in, across and out of the
    period (by Paris days), ARA in the current market; BRE's one unit, under no market."""
    make_lot(session, ara)
    person = make_beneficiary(session, counsellor, **PERSON)
    case = make_case(session, counsellor, person)
    units = {
        "inside": episode(session, case, "UO1", "2025-02-03T09:00", "2025-02-10T10:00"),
        "running": episode(session, case, "UO2.1", "2024-12-20T09:00"),
        # Ended at midnight on 1 January in Paris: within the period.
        "ended_first_day": episode(session, case, "UO0", "2024-12-01T09:00", "2024-12-31T23:00"),
        # Ended a minute before, still 31 December in Paris: before it.
        "ended_before": episode(session, case, "UO0", "2024-12-01T09:00", "2024-12-31T22:59"),
        # Started at 23:59 on 30 June in Paris: within; at midnight on 1 July: after it.
        "last_minute": episode(session, case, "UO2.2", "2025-06-30T21:59"),
        "after": episode(session, case, "UO2.2", "2025-06-30T22:00"),
        "cancelled": episode(session, case, "UO1", "2025-03-01T09:00", cancelled_by=counsellor),
    }
    for kind in required_kinds(session, ara, "UO1"):
        make_deliverable(session, case, kind, episode=units["inside"], shared=True)
    for channel, when in (("sur_site", "03T09:00"), ("sur_site", "06T14:00"), ("telephone", "07T11:00")):  # fmt: skip
        interaction(session, case, counsellor, channel, f"2025-02-{when}", units["inside"])
    interaction(session, case, counsellor, "visio", "2025-02-20T09:00")  # outside any unit
    bre_counsellor = make_staff(session, bre)
    bre_case = make_case(session, bre_counsellor)
    bre_unit = episode(session, bre_case, "UO1", "2025-04-01T08:00", "2025-04-01T09:00")
    return {"person": person, "case": case, "units": units, "bre": bre_unit}


def ndjson(client, user, **params) -> list[dict]:
    answer = client.get(FEED, params=PERIOD | params, headers=bearer(user))
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/x-ndjson"
    return [json.loads(line) for line in answer.text.splitlines()]


def by_unit_and_start(rows: list[dict]) -> dict[tuple, dict]:
    return {(row["unit"], row["start"]): row for row in rows}


# ---- the rows ---------------------------------------------------------------------------------


def test_every_row_follows_the_published_schema(client, world, manager):
    schema = client.get(SCHEMA)  # public: no token
    assert schema.status_code == 200
    assert schema.headers["content-type"] == "application/schema+json"
    document = schema.json()
    assert document["version"] == FEED_VERSION
    assert document["$id"].endswith(SCHEMA)
    validator = jsonschema_rs.Draft202012Validator(document)
    rows = ndjson(client, manager)
    assert rows
    for row in rows:
        assert [error.message for error in validator.iter_errors(row)] == []


def test_the_schema_refuses_a_row_with_a_name_or_an_unknown_code(client, world, manager):
    validator = jsonschema_rs.Draft202012Validator(client.get(SCHEMA).json())
    row = ndjson(client, manager)[0]
    assert validator.is_valid(row)
    assert not validator.is_valid(row | {"last_name": "Quintrec"})
    assert not validator.is_valid(row | {"age_band": "26_44"})
    assert not validator.is_valid(row | {"departement": "20"})


def test_the_rows_are_the_units_overlapping_the_period_by_local_days(client, world, manager):
    rows = ndjson(client, manager)
    assert sorted((row["unit"], row["start"], row["end"]) for row in rows) == [
        ("UO0", "2024-12-01T09:00:00Z", "2024-12-31T23:00:00Z"),
        ("UO1", "2025-02-03T09:00:00Z", "2025-02-10T10:00:00Z"),
        ("UO2.1", "2024-12-20T09:00:00Z", None),
        ("UO2.2", "2025-06-30T21:59:00Z", None),
    ]
    # In order of start, whatever the order they were recorded in.
    assert [row["start"] for row in rows] == sorted(row["start"] for row in rows)


def test_a_row_gives_the_unit_its_market_proofs_channels_and_the_persons_bands(
    client, world, manager
):
    rows = by_unit_and_start(ndjson(client, manager))
    assert rows[("UO1", "2025-02-03T09:00:00Z")] == {
        "version": FEED_VERSION,
        "operator": "ARA",
        "episode": rows[("UO1", "2025-02-03T09:00:00Z")]["episode"],
        "case": rows[("UO1", "2025-02-03T09:00:00Z")]["case"],
        "unit": "UO1",
        "market": CURRENT_MARKET,
        "start": "2025-02-03T09:00:00Z",
        "end": "2025-02-10T10:00:00Z",
        "status": "terminee",
        "proof": "complete",
        "channels": {"sur_site": 2, "telephone": 1, "visio": 0, "email": 0},
        "departement": "2A",
        "age_band": "36_45",  # 42 in 2025
        "sex": "F",
        "employment_status": "cdd",
        "pcs": "5",
        "naf_section": "Q",
        "company_size": "pme",
        "diploma_level": "4",
        "rqth": "non",
    }
    running = rows[("UO2.1", "2024-12-20T09:00:00Z")]
    # Its documents were never issued; the age band is the one of the year it started.
    assert (running["status"], running["proof"], running["age_band"]) == (
        "en_cours",
        "incomplete",
        "36_45",
    )
    # UO0 requires no proof.
    assert rows[("UO0", "2024-12-01T09:00:00Z")]["proof"] == "complete"


def test_the_units_of_one_case_share_its_code_and_codes_stay_the_same(client, world, manager):
    first, again = ndjson(client, manager), ndjson(client, manager)
    assert first == again
    assert len({row["case"] for row in first}) == 1
    assert len({row["episode"] for row in first}) == len(first)
    assert all(re.fullmatch(r"E-[A-Z2-7]{16}", row["episode"]) for row in first)
    # Not the control packs' person code either: the two files cannot be matched.
    person = pseudonym(world["case"].operator_id, world["person"].id)
    assert person not in json.dumps(first)


def test_neither_format_holds_a_name_contact_text_or_birth_year(client, world, manager):
    bodies = [
        client.get(FEED, params=PERIOD | {"format": fmt}, headers=bearer(manager)).text
        for fmt in ("ndjson", "csv")
    ]
    secrets = [
        PERSON["first_name"],
        PERSON["last_name"],
        PERSON["email"],
        "06 12 34 56 78",
        "0612345678",
        "612345678",
        str(PERSON["birth_year"]),
        PERSON["postcode"],
        "reconversion",
        world["case"].reference,
    ]
    for body in bodies:
        assert [secret for secret in secrets if secret.casefold() in body.casefold()] == []


def test_the_period_is_read_through_a_streaming_cursor(client, session, world, manager):
    """Rows come from the database as the response goes out, never the whole period at once:
    a server-side cursor on PostgreSQL, SQLite's own stepping through its result."""
    read = []

    def spy(_conn, cursor, statement, _params, context, _many):
        if "FROM episodes" in statement:
            read.append((context.execution_options.get("stream_results"), cursor))

    engine = session.get_bind().engine
    event.listen(engine, "before_cursor_execute", spy)
    try:
        assert len(ndjson(client, manager)) == 4
    finally:
        event.remove(engine, "before_cursor_execute", spy)
    ((streamed, cursor),) = read
    assert streamed is True
    if engine.dialect.name == "postgresql":
        assert cursor.name  # a named cursor is psycopg's server-side one


# ---- CSV ----------------------------------------------------------------------------------------


def test_the_csv_has_the_same_rows_flattened_for_french_spreadsheets(client, world, manager):
    answer = client.get(FEED, params=PERIOD | {"format": "csv"}, headers=bearer(manager))
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    assert answer.headers["x-feed-version"] == FEED_VERSION
    assert answer.headers["content-disposition"] == (
        "attachment; filename*=UTF-8''unites-ARA-2025-01-01-2025-06-30.csv"
    )
    assert answer.content.startswith(b"\xef\xbb\xbf")
    table = list(csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig")), delimiter=";"))
    assert list(table[0]) == csv_columns()
    rows = by_unit_and_start(ndjson(client, manager))
    assert len(table) == len(rows)
    for line in table:
        row = rows[(line["unit"], line["start"])]
        channels = {c.value: int(line[f"channel_{c.value}"]) for c in InteractionChannel}
        assert channels == row["channels"]
        assert line["end"] == (row["end"] or "")
        assert line["episode"] == row["episode"]
        assert line["departement"] == "2A"


# ---- who reads what ---------------------------------------------------------------------------


def test_an_operators_staff_read_their_own_rows_and_the_observer_every_operators(
    client, session, world, manager, admin, observer, bre
):
    assert {row["operator"] for row in ndjson(client, manager)} == {"ARA"}
    assert {row["operator"] for row in ndjson(client, admin)} == {"ARA"}
    bre_rows = ndjson(client, make_staff(session, bre, Role.MANAGER))
    assert [(row["operator"], row["unit"], row["market"]) for row in bre_rows] == [
        ("BRE", "UO1", None)
    ]
    national = ndjson(client, observer)
    assert [row["operator"] for row in national] == ["ARA"] * 4 + ["BRE"]
    assert bre_rows[0] in national


@pytest.mark.parametrize("role", [Role.COUNSELLOR, Role.SYSADMIN])
def test_counsellors_and_system_administrators_are_refused(client, session, ara, role):
    user = make_staff(session, ara if role == Role.COUNSELLOR else None, role)
    answer = client.get(FEED, params=PERIOD, headers=bearer(user))
    assert answer.status_code == 403
    assert "réservé aux observateurs nationaux" in answer.json()["detail"]


def test_the_feed_needs_a_token_and_its_schema_does_not(client):
    assert client.get(FEED, params=PERIOD).status_code == 401
    assert client.get(SCHEMA).status_code == 200


# ---- periods ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "field", "message"),
    [
        ("2025-03-01", "2025-02-28", "au", "La fin de la période précède son début"),
        ("2021-01-01", "2024-01-01", "au", "La période ne peut dépasser trois ans"),
        (
            "2019-12-31",
            "2020-06-30",
            "du",
            "La période ne peut commencer avant le 1er janvier 2020",
        ),
    ],
)
def test_a_refused_period_gets_422_with_its_french_message(
    client, manager, start, end, field, message
):
    answer = client.get(FEED, params={"from": start, "to": end, **PURPOSE}, headers=bearer(manager))
    assert answer.status_code == 422
    assert answer.json()["fields"] == {field: message}


def test_three_whole_years_from_2020_are_accepted(client, manager):
    period = {"from": "2020-01-01", "to": "2022-12-31", **PURPOSE}
    answer = client.get(FEED, params=period, headers=bearer(manager))
    assert answer.status_code == 200
    assert answer.text == ""


@pytest.mark.parametrize(
    ("start", "end", "refused"),
    [
        (date(2021, 1, 1), date(2023, 12, 31), False),
        (date(2021, 1, 1), date(2024, 1, 1), True),
        (date(2020, 2, 29), date(2023, 2, 28), False),  # three years from a 29 February
        (date(2020, 2, 29), date(2023, 3, 1), True),
        (date(2020, 1, 1), date(2020, 1, 1), False),
    ],
)
def test_a_national_period_is_three_calendar_years_at_most(start, end, refused):
    assert (period_refusal(start, end, national=True) is not None) is refused
    assert period_refusal(start, end) is None  # other reports keep their own limits


# ---- départements -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("postcode", "departement"),
    [
        ("69003", "69"),
        ("01000", "01"),
        ("20000", "2A"),
        ("20190", "2A"),
        ("20200", "2B"),
        ("20600", "2B"),
        ("97411", "974"),
        ("97600", "976"),
        ("98000", None),  # Monaco
        ("00100", None),
        ("6900", None),
        ("", None),
        (None, None),
    ],
)
def test_the_departement_is_read_from_the_postcode(postcode, departement):
    assert departement_of(postcode) == departement


def test_a_person_without_postcode_or_birth_year_is_unknown_not_refused(
    client, session, counsellor, manager
):
    person = make_beneficiary(session, counsellor)
    episode(session, make_case(session, counsellor, person), "UO1", "2025-01-10T09:00")
    (row,) = ndjson(client, manager)
    assert (row["departement"], row["age_band"], row["sex"], row["pcs"]) == (None, "nr", "NR", None)
    assert row["market"] is None  # ARA has no lot here


def test_a_period_with_no_unit_gives_an_empty_body(client, world, manager):
    period = {"from": "2023-01-01", "to": "2023-12-31", **PURPOSE}
    answer = client.get(FEED, params=period | {"format": "csv"}, headers=bearer(manager))
    lines = answer.content.decode("utf-8-sig").splitlines()
    assert lines == [";".join(csv_columns())]
    assert ndjson(client, manager, **period) == []
