"""SMS without a gateway: which numbers get one, how a text is made to fit one SMS, what the
booking queues (and does not write), the short links and what counts as STOP."""

import math
import re
from datetime import timedelta
from html import unescape

import pytest
from sqlmodel import select

from app.core.config import get_settings
from app.models.base import utcnow
from app.models.beneficiaries import Beneficiary
from app.models.outbox import OutboxMessage
from app.models.short_links import ShortLink
from app.services.booking import sms_texts
from app.services.booking.messages import (
    queue_cancellation,
    queue_confirmation,
    queue_moved,
    queue_place_changed,
    queue_reminder,
)
from app.services.messaging.short_links import (
    CODE_LENGTH,
    new_code,
    purge_expired_links,
    shorten,
)
from app.services.messaging.sms import mobile_number
from app.services.messaging.sms_callbacks import is_stop
from app.services.messaging.sms_templates import write_sms
from app.services.messaging.sms_text import SMS_LIMIT, fit_sms, gsm7_length, to_gsm7
from app.services.privacy.anonymise import anonymise
from tests.factories import (
    make_appointment,
    make_beneficiary,
    make_operator,
    make_site,
    make_staff,
    outbox_messages,
    sms_messages,
    working_day_at,
)

# ---------- Mobile numbers, per territory ----------


@pytest.mark.parametrize(
    ("typed", "e164"),
    [
        ("06 12 34 56 78", "+33612345678"),  # metropolitan France
        ("07 81 23 45 67", "+33781234567"),
        ("+33 6 12 34 56 78", "+33612345678"),
        ("0033612345678", "+33612345678"),
        ("0690 00 12 34", "+590690001234"),  # Guadeloupe
        ("+590 690 00 12 34", "+590690001234"),
        ("0696 20 12 34", "+596696201234"),  # Martinique
        ("0694 20 12 34", "+594694201234"),  # Guyane
        ("0692 12 34 56", "+262692123456"),  # La Réunion
        ("0693 12 34 56", "+262693123456"),
        ("0639 01 23 45", "+262639012345"),  # Mayotte
        ("+262 639 01 23 45", "+262639012345"),
    ],
)
def test_a_french_mobile_number_of_each_territory_gets_sms(typed, e164):
    assert mobile_number(typed) == e164


@pytest.mark.parametrize(
    "typed",
    [
        "04 72 00 00 00",  # a metropolitan landline
        "0590 12 34 56",  # Guadeloupe, landline
        "0262 12 34 56",  # La Réunion, landline
        "0269 61 00 00",  # Mayotte, landline
        "08 00 00 00 00",  # a freephone number
        "+44 7700 900123",  # a British mobile
        "+1 202 555 0123",
        "06 12",
        "06 12 34 56 78 9",
        "zéro six",
        "",
        None,
    ],
)
def test_landlines_foreign_and_malformed_numbers_get_no_sms(typed):
    assert mobile_number(typed) is None


# ---------- One SMS: GSM-7, 160 characters ----------


def test_french_typography_is_brought_into_gsm7():
    text = to_gsm7("« Être » l’été : ça, c’est sûr…\u00a0!")
    assert text == "\"Etre\" l'été : ca, c'est sur... !"
    assert gsm7_length(text) == len(text)


def test_characters_outside_gsm7_force_ucs2_and_extension_ones_count_twice():
    assert gsm7_length("être") is None
    assert gsm7_length("10 €") == 5
    assert gsm7_length("[a]") == 5


def test_a_long_place_is_cut_and_the_link_kept_whole():
    link = "https://rdv.exemple.fr/s/" + "A" * CODE_LENGTH
    text = fit_sms("RDV le lun. 04/03 à 14h00, ", "Médiathèque " * 20, f". Gérer : {link}")
    assert SMS_LIMIT - len("Médiathèque ") < gsm7_length(text) <= SMS_LIMIT
    assert text.startswith("RDV le lun. 04/03 à 14h00, Médiathèque Médiathèque")
    assert text.endswith(f"Médiathèque. Gérer : {link}")


def test_a_text_too_long_even_without_its_place_is_refused():
    with pytest.raises(ValueError):
        fit_sms("x" * 150, "lieu", "y" * 20)


# ---------- Queued by the request, written by the worker ----------


@pytest.fixture
def counsellor(session):
    return make_staff(session, make_operator(session), full_name="Camille Martin")


def appointment_of(session, counsellor, days_ahead=5, **person):
    person = {"email": None, "phone": "06 12 34 56 78", **person}
    site = make_site(
        session,
        make_operator(session),
        name="Maison de l'emploi et de la formation professionnelle du Grand Lyon",
        address="Immeuble Le Britannia, 20 boulevard Eugène Deruelle, bâtiment C, 3e étage",
    )
    return make_appointment(
        session,
        starts_at=working_day_at(site, days_ahead=days_ahead),
        counsellor=counsellor,
        site=site,
        beneficiary=make_beneficiary(session, counsellor, **person),
    )


def test_the_request_queues_the_sms_unwritten(session, counsellor):
    appointment = appointment_of(session, counsellor, email="ines@exemple.fr")
    queue_confirmation(session=session, appointment=appointment)
    [email] = outbox_messages(session)
    [sms] = sms_messages(session)
    assert (sms.recipient, sms.template, sms.body_text) == (
        "+33612345678",
        "appointment_confirmed",
        "",
    )
    assert sms.payload == {
        "appointment_id": appointment.id,
        "starts_at": appointment.starts_at.isoformat(),
    }
    assert (sms.case_id, sms.subject) == (appointment.case_id, "SMS : rendez-vous confirmé")
    assert session.exec(select(ShortLink)).all() == []  # no link made by the request


def test_a_landline_or_a_stop_gets_no_sms(session, counsellor):
    landline = appointment_of(session, counsellor, phone="04 72 00 00 00")
    stopped = appointment_of(session, counsellor, days_ahead=6, phone="06 12 34 56 79")
    beneficiary = session.get(Beneficiary, stopped.beneficiary_id)
    beneficiary.sms_opt_out_at = utcnow()
    session.add(beneficiary)
    session.flush()
    queue_confirmation(session=session, appointment=landline)
    queue_confirmation(session=session, appointment=stopped)
    assert sms_messages(session) == []


def test_every_appointment_sms_fits_one_sms_with_a_long_place_and_address(
    session, counsellor, monkeypatch
):
    monkeypatch.setattr(
        get_settings(), "public_base_url", "https://rendez-vous.cep-auvergne-rhone-alpes.fr"
    )
    appointment = appointment_of(session, counsellor)
    queue_confirmation(session=session, appointment=appointment)
    queue_reminder(session=session, appointment=appointment)
    queue_moved(session=session, appointment=appointment, previous_start=appointment.starts_at)
    queue_place_changed(session=session, appointment=appointment, previous_place="Ailleurs")
    queue_cancellation(session=session, appointment=appointment)
    written = {
        sms.template: write_sms(session=session, message=sms) for sms in sms_messages(session)
    }
    assert set(written) == set(sms_texts.SUBJECTS)
    for template, text in written.items():
        assert 0 < gsm7_length(text) <= SMS_LIMIT, (template, text)
    assert written["appointment_reminder"].startswith("Rappel : RDV le ")
    assert re.search(r"/s/[A-Za-z0-9]{16}$", written["appointment_moved"])
    assert re.search(r"Reprendre RDV : \S+/s/[A-Za-z0-9]{16}$", written["appointment_cancelled"])


# ---------- Short links ----------


def test_codes_carry_at_least_80_bits_and_differ():
    assert CODE_LENGTH * math.log2(62) >= 80
    codes = {new_code() for _ in range(1000)}
    assert len(codes) == 1000
    assert all(re.fullmatch(r"[A-Za-z0-9]{16}", code) for code in codes)


def short(session, link="/rendez-vous/gerer/jeton", lifetime=timedelta(days=1)):
    url = shorten(session=session, link=link, expires_at=utcnow() + lifetime)
    session.commit()
    return url.removeprefix(get_settings().public_base_url.rstrip("/"))


def test_a_short_link_leads_to_its_page_of_this_site_only(client, session):
    path = short(session, link="https://ailleurs.exemple/rendez-vous/gerer/jeton?x=1")
    answer = client.get(path, follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/rendez-vous/gerer/jeton?x=1"


@pytest.mark.parametrize("code", ["AAAAAAAAAAAAAAAA", "court", "AAAAAAAAAAAAAAA%C3%A9", "a" * 40])
def test_an_unknown_code_gets_a_french_404(client, session, code):
    short(session)
    answer = client.get(f"/s/{code}")
    assert answer.status_code == 404
    assert "Ce lien n'existe pas ou n'est plus valable." in unescape(answer.text)


def test_an_expired_code_gets_the_same_404(client, session):
    path = short(session, lifetime=timedelta(seconds=-1))
    answer = client.get(path)
    assert answer.status_code == 404
    assert "Ce lien n'existe pas ou n'est plus valable." in unescape(answer.text)


def test_the_worker_deletes_expired_codes_only(session):
    short(session, lifetime=timedelta(seconds=-1))
    kept = short(session)
    assert purge_expired_links(session=session) == 1
    assert [f"/s/{row.code}" for row in session.exec(select(ShortLink))] == [kept]


def test_short_links_are_rate_limited_per_address(client, session, monkeypatch):
    monkeypatch.setattr(get_settings(), "public_rate_limit", "3/minute")
    path = short(session)
    assert [client.get(path, follow_redirects=False).status_code for _ in range(4)] == [
        303,
        303,
        303,
        429,
    ]


# ---------- STOP ----------


@pytest.mark.parametrize("text", ["STOP", "stop", " Stop ", "STOP SMS", "Arrêt", "stop."])
def test_stop_is_read_however_it_is_written(text):
    assert is_stop(text)


@pytest.mark.parametrize("text", ["", "Merci", "stop les relances svp", "STOPPER"])
def test_other_answers_are_not_stop(text):
    assert not is_stop(text)


def test_outbox_rows_say_their_channel(session, counsellor):
    queue_confirmation(session=session, appointment=appointment_of(session, counsellor))
    channels = session.exec(select(OutboxMessage.channel)).all()
    assert channels == ["sms"]


def test_anonymising_the_person_erases_their_sms_and_stops_them(session, counsellor):
    appointment = appointment_of(session, counsellor)
    queue_confirmation(session=session, appointment=appointment)
    person = session.get(Beneficiary, appointment.beneficiary_id)
    assert anonymise(session=session, person=person, now=utcnow())
    [sms] = sms_messages(session)
    session.refresh(sms)
    assert (sms.recipient, sms.status, sms.payload) == ("", "failed", None)
