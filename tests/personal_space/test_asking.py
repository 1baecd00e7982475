"""Asking for a link at /mon-espace: the same answer whoever types what, one link per person
(two people sharing a family e-mail each get their own), by e-mail or SMS, rate-limited."""

import html

import pytest
from sqlmodel import select

from app.core.config import get_settings
from app.core.errors import TooManyAttempts
from app.models.base import utcnow
from app.models.personal_space import PersonalSpaceLink
from app.services.personal_space.requests import ask_for_links
from app.services.privacy.anonymise import anonymise
from tests.factories import make_beneficiary, make_staff, outbox_messages, read
from tests.personal_space.conftest import ask, space_mails, space_paths, space_sms


def sharing(session, person, email: str):
    """Staff refuse a second person with a known e-mail; people still share one (a family's,
    typed at different times): written straight into the row."""
    person.email = email
    session.add(person)
    session.flush()
    return person


def links_of(session, person) -> list:
    query = select(PersonalSpaceLink).where(PersonalSpaceLink.beneficiary_id == person.id)
    return list(session.exec(query))


SAME_ANSWER = "Si ces coordonnées sont connues, un lien vous a été envoyé"


def test_a_known_and_an_unknown_address_get_the_same_answer(client, session, counsellor):
    make_beneficiary(session, counsellor, email="zoe.martin@exemple.fr")
    known = ask(client, "Zoe.Martin@exemple.fr")
    unknown = ask(client, "personne@exemple.fr")
    assert known.status_code == unknown.status_code == 200
    assert SAME_ANSWER in read(known)
    assert read(known) == read(unknown).replace(
        html.escape("personne@exemple.fr"), html.escape("Zoe.Martin@exemple.fr")
    )
    [mail] = space_mails(session)
    assert mail.recipient == "zoe.martin@exemple.fr"
    assert known.headers["Referrer-Policy"] == "no-referrer"


def test_something_neither_an_email_nor_a_phone_is_asked_again(client, session):
    page = ask(client, "bonjour")
    assert page.status_code == 422
    assert "Saisissez une adresse e-mail ou un numéro de téléphone portable" in read(page)


def test_a_family_email_gives_each_person_their_own_link_naming_only_them(
    client, session, counsellor
):
    zoe = make_beneficiary(session, counsellor, first_name="Zoé", email="famille@exemple.fr")
    sharing(session, make_beneficiary(session, counsellor, first_name="Hugo"), "famille@exemple.fr")
    ask(client, "famille@exemple.fr")
    mails = space_mails(session)
    assert len(mails) == 2
    tokens = {m.body_text.split("/mon-espace/")[1].split()[0] for m in mails}
    assert len(tokens) == 2
    by_name = {("Zoé" in m.body_text, "Hugo" in m.body_text): m for m in mails}
    assert set(by_name) == {(True, False), (False, True)}
    zoe_path = "/mon-espace/" + by_name[True, False].body_text.split("/mon-espace/")[1].split()[0]
    page = read(client.get(zoe_path))
    assert "Bonjour Zoé" in page and "Hugo" not in page and zoe.first_name in page


def test_people_of_two_operators_with_one_address_each_get_a_link(client, session, ara, bre):
    for operator in (ara, bre):
        staff = make_staff(session, operator)
        make_beneficiary(session, staff, email="lea@exemple.fr")
    ask(client, "lea@exemple.fr")
    assert len(space_mails(session)) == 2


def test_a_mobile_number_gets_the_link_by_sms(client, session, counsellor):
    make_beneficiary(session, counsellor, email=None, phone="06 12 34 56 78")
    page = ask(client, "+33 6 12 34 56 78")
    assert SAME_ANSWER in read(page)
    [sms] = space_sms(session)
    assert sms.recipient == "+33612345678"
    assert sms.payload["link"].startswith(get_settings().public_base_url.rstrip("/") + "/s/")
    assert space_mails(session) == []


def test_a_landline_gets_nothing_and_the_same_answer(client, session, counsellor):
    make_beneficiary(session, counsellor, email=None, phone="04 72 00 00 00")
    assert SAME_ANSWER in read(ask(client, "04 72 00 00 00"))
    assert space_sms(session) == []


def test_an_anonymised_person_gets_nothing(client, session, counsellor):
    person = make_beneficiary(session, counsellor, email="partie@exemple.fr")
    ask(client, "partie@exemple.fr")
    path = space_paths(session)["partie@exemple.fr"]
    anonymise(session=session, person=person, now=utcnow())
    assert links_of(session, person) == []  # anonymisation deleted them
    sent = len(outbox_messages(session))
    assert SAME_ANSWER in read(ask(client, "partie@exemple.fr"))
    assert len(outbox_messages(session)) == sent
    assert links_of(session, person) == []
    assert client.get(path).status_code == 404


def test_asking_too_often_is_refused(client, session, monkeypatch):
    monkeypatch.setattr(get_settings(), "public_rate_limit", "2/minute")
    assert ask(client, "a@exemple.fr").status_code == 200
    assert ask(client, "a@exemple.fr").status_code == 200
    refused = ask(client, "a@exemple.fr")
    assert refused.status_code == 429
    assert "beaucoup de demandes" in read(refused)


def test_the_count_comes_before_looking_anyone_up(session, counsellor, monkeypatch):
    monkeypatch.setattr(get_settings(), "public_rate_limit", "1/minute")
    make_beneficiary(session, counsellor, email="b@exemple.fr")
    assert ask_for_links(session=session, typed="b@exemple.fr", ip="203.0.113.9") == 1
    with pytest.raises(TooManyAttempts):
        ask_for_links(session=session, typed="B@exemple.fr", ip="203.0.113.10")
