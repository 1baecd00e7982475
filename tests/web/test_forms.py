"""parse_form: submitted forms become validated models, or one French message per field."""

from datetime import UTC, datetime, timedelta

import pytest

from app.core.errors import Invalid
from app.models.beneficiaries import BeneficiaryCreate
from app.models.cases import EpisodeStart, InteractionCreate
from app.models.catalogue import DeliverableKindEdit
from app.models.fields import normalise_phone
from app.models.triage import TriageCreate
from app.web.forms import parse_form
from tests.conftest import NOW


def person(**fields) -> dict:
    return {"first_name": "Hélène", "last_name": "Guérin", **fields}


def errors_of(model, form: dict, **kwargs) -> dict[str, str]:
    with pytest.raises(Invalid) as refused:
        parse_form(model, form, **kwargs)
    return refused.value.fields


def interaction(**fields) -> dict:
    values = {"occurred_at": "2025-01-05T10:00+01:00", "duration_minutes": "30", "channel": "visio"}
    return {**values, **fields}


# ---- French messages -----------------------------------------------------------------------


@pytest.mark.parametrize("value", [None, "", "   "])
def test_a_missing_or_blank_required_field_is_obligatoire(value):
    form = person(first_name=value) if value is not None else {"last_name": "Guérin"}
    assert errors_of(BeneficiaryCreate, form) == {"first_name": "Ce champ est obligatoire"}


def test_a_too_long_field_says_how_long_it_may_be():
    errors = errors_of(BeneficiaryCreate, person(last_name="x" * 81))
    assert errors == {"last_name": "Trop long : 80 caractères au plus"}


@pytest.mark.parametrize(("field", "value"), [("sex", "X"), ("pcs", "9"), ("rqth", "peut-être")])
def test_a_value_outside_the_list_is_an_invalid_choice(field, value):
    assert errors_of(BeneficiaryCreate, person(**{field: value})) == {field: "Choix invalide"}


@pytest.mark.parametrize("phone", ["123", "01 23", "+44 20 7946 0958", "06 12 34 56 7a"])
def test_a_phone_that_is_not_french_is_refused(phone):
    errors = errors_of(BeneficiaryCreate, person(phone=phone))
    assert errors == {"phone": "Numéro de téléphone français invalide (ex. 06 12 34 56 78)"}


@pytest.mark.parametrize("postcode", ["6900", "690033", "6900A", "00123"])
def test_a_postcode_needs_five_digits(postcode):
    errors = errors_of(BeneficiaryCreate, person(postcode=postcode))
    assert errors == {"postcode": "Code postal invalide : 5 chiffres (ex. 69003)"}


# The range ends with this year's: the clock's (tests/conftest.py), in the check as here, so
# that the years computed when the tests are collected still hold after New Year.
@pytest.mark.usefixtures("clock")
@pytest.mark.parametrize("year", ["1919", str(NOW.year - 13), "3000"])
def test_a_birth_year_out_of_range_says_the_range(year):
    errors = errors_of(BeneficiaryCreate, person(birth_year=year))
    assert errors == {"birth_year": f"Année de naissance entre 1920 et {NOW.year - 14}"}


def test_a_birth_year_that_is_not_a_number_says_so():
    errors = errors_of(BeneficiaryCreate, person(birth_year="mille neuf cent"))
    assert errors == {"birth_year": "Nombre entier attendu"}


def test_an_invalid_email_is_reported_in_french():
    errors = errors_of(BeneficiaryCreate, person(email="helene@"))
    assert errors == {"email": "Adresse e-mail invalide"}


@pytest.mark.parametrize(
    ("minutes", "message"),
    [
        ("0", "Doit être au moins 1"),
        ("601", "Doit être au plus 600"),
        ("1h", "Nombre entier attendu"),
    ],
)
def test_a_duration_out_of_bounds_says_the_bound(minutes, message):
    assert errors_of(InteractionCreate, interaction(duration_minutes=minutes)) == {
        "duration_minutes": message
    }


def test_every_wrong_field_gets_its_message_at_once():
    errors = errors_of(
        BeneficiaryCreate, {"last_name": "", "phone": "123", "postcode": "6900", "sex": "X"}
    )
    assert set(errors) == {"first_name", "last_name", "phone", "postcode", "sex"}


def test_an_interaction_in_the_future_is_refused_next_to_its_date():
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    errors = errors_of(
        InteractionCreate, interaction(occurred_at=tomorrow), datetimes=("occurred_at",)
    )
    assert errors == {"occurred_at": "La date ne peut pas être dans le futur"}


@pytest.mark.parametrize("breaks", ["\r\n", "\n", "\r", "\t", "\u2028", "\u2029", "\x85", "\x1b"])
def test_a_label_that_reaches_an_email_subject_stays_on_one_line(breaks):
    form = {"label": f"Synthèse{breaks}Bcc: tous@exemple.fr"}
    assert errors_of(DeliverableKindEdit, form) == {
        "label": "Sur une seule ligne : ni retour à la ligne, ni tabulation"
    }


def test_a_label_loses_the_line_break_a_paste_leaves_at_its_end():
    assert parse_form(DeliverableKindEdit, {"label": " Synthèse\r\n"}).label == "Synthèse"


# ---- what valid forms become ---------------------------------------------------------------


def test_blank_optional_fields_become_none():
    data = parse_form(BeneficiaryCreate, person(email="", phone=" ", postcode="", birth_year=""))
    assert (data.email, data.phone, data.postcode, data.birth_year) == (None, None, None, None)


def test_phone_and_postcode_are_normalised():
    data = parse_form(BeneficiaryCreate, person(phone="06.12.34.56.78", postcode=" 69003 "))
    assert (data.phone, data.postcode) == ("+33612345678", "69003")


@pytest.mark.parametrize(
    ("form", "expected"),
    [
        ({}, False),
        ({"consent": "on"}, True),
        ({"consent": "off"}, False),
        ({"consent": "0"}, False),
        ({"consent": ""}, False),
        ({"consent": "1"}, True),
    ],
)
def test_a_checkbox_is_true_only_when_ticked(form, expected):
    assert parse_form(BeneficiaryCreate, person(**form)).consent is expected


def test_the_csrf_token_is_not_part_of_the_data():
    data = parse_form(EpisodeStart, {"unit_id": "3", "csrf_token": "abc"})
    assert data.model_dump() == {"unit_id": 3, "started_at": None}


# ---- datetime-local inputs, read in the site's time zone -----------------------------------


def occurred_at(local: str, time_zone: str) -> datetime:
    form = interaction(occurred_at=local)
    data = parse_form(InteractionCreate, form, datetimes=("occurred_at",), time_zone=time_zone)
    return data.occurred_at.astimezone(UTC)


@pytest.mark.parametrize(
    ("local", "time_zone", "utc"),
    [
        ("2025-07-01T10:30", "Europe/Paris", "2025-07-01T08:30"),  # summer time, UTC+2
        ("2025-01-15T10:30", "Europe/Paris", "2025-01-15T09:30"),  # winter time, UTC+1
        ("2025-03-30T03:30", "Europe/Paris", "2025-03-30T01:30"),  # just after the spring change
        ("2025-10-26T01:30", "Europe/Paris", "2025-10-25T23:30"),  # just before the autumn change
        ("2025-07-01T10:30", "Indian/Reunion", "2025-07-01T06:30"),  # UTC+4 all year
        ("2025-01-15T10:30", "Indian/Reunion", "2025-01-15T06:30"),
        ("2025-01-15T10:30", "America/Guadeloupe", "2025-01-15T14:30"),  # UTC-4
    ],
)
def test_a_datetime_local_input_is_read_in_the_site_time_zone(local, time_zone, utc):
    assert occurred_at(local, time_zone) == datetime.fromisoformat(utc).replace(tzinfo=UTC)


def test_an_ambiguous_autumn_time_is_read_as_the_first_one():
    """02:30 happens twice on the last Sunday of October; we take the summer-time one."""
    assert occurred_at("2025-10-26T02:30", "Europe/Paris") == datetime(
        2025, 10, 26, 0, 30, tzinfo=UTC
    )


def test_a_datetime_with_its_own_offset_keeps_it():
    assert occurred_at("2025-07-01T10:30+00:00", "Indian/Reunion") == datetime(
        2025, 7, 1, 10, 30, tzinfo=UTC
    )


def test_a_blank_optional_datetime_is_left_out():
    form = {"beneficiary_id": "1", "channel": "telephone", "motive": "vae", "received_at": ""}
    data = parse_form(TriageCreate, form, datetimes=("received_at",), time_zone="Europe/Paris")
    assert data.received_at is None


def test_a_blank_required_datetime_is_obligatoire():
    errors = errors_of(InteractionCreate, interaction(occurred_at=""), datetimes=("occurred_at",))
    assert errors == {"occurred_at": "Ce champ est obligatoire"}


@pytest.mark.parametrize("typed", ["demain", "2025-13-01T10:00", "10:00"])
def test_a_datetime_that_cannot_be_read_is_refused_in_french(typed):
    errors = errors_of(
        InteractionCreate,
        interaction(occurred_at=typed),
        datetimes=("occurred_at",),
        time_zone="Europe/Paris",
    )
    assert errors == {"occurred_at": "Date et heure invalides"}


def test_a_datetime_without_a_zone_outside_parse_form_zones_is_refused():
    """A field not listed in `datetimes` is not localised: a bare time has no zone."""
    errors = errors_of(InteractionCreate, interaction(occurred_at="2025-01-05T10:00"))
    assert errors == {"occurred_at": "Date invalide : fuseau horaire manquant"}


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("0269 61 23 45", "+262269612345"),  # Mayotte landline, dialled nationally
        ("0692 12 34 56", "+262692123456"),  # La Réunion mobile
        ("0690 12 34 56", "+590690123456"),  # Guadeloupe mobile
        ("06 12 34 56 78", "+33612345678"),  # metropolitan mobile
        ("+262 269 61 23 45", "+262269612345"),
    ],
)
def test_overseas_numbers_keep_their_own_country_code(typed, stored):
    assert normalise_phone(typed) == stored
