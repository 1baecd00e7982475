"""Beneficiary rules: find before creating, no duplicates, search that forgives typing habits."""

import pytest

from app.core.errors import Conflict, NotFound
from app.models.beneficiaries import BeneficiaryUpdate
from app.models.nomenclatures import Role
from app.services.cases.beneficiaries import (
    get_beneficiary,
    list_beneficiaries,
    search_beneficiaries,
    update_beneficiary,
)
from tests.factories import make_beneficiary, make_operator, make_staff


@pytest.fixture
def other_operator_counsellor(session):
    return make_staff(session, make_operator(session, "BRE", "Bretagne"))


def search(session, actor, query, **kwargs):
    return search_beneficiaries(session=session, actor=actor, query=query, **kwargs)


def names(people) -> list[str]:
    return [p.last_name for p in people]


# ---- search --------------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["helene guerin", "HÉLÈNE GUÉRIN", "Hélène", "guérin", "GUERIN"])
def test_search_ignores_case_and_accents(session, counsellor, query):
    make_beneficiary(session, counsellor, first_name="Hélène", last_name="Guérin")
    assert names(search(session, counsellor, query)) == ["Guérin"]


def test_search_with_accents_finds_a_name_typed_without_them(session, counsellor):
    make_beneficiary(session, counsellor, first_name="Helene", last_name="Guerin")
    assert names(search(session, counsellor, "Hélène Guérin")) == ["Guerin"]


def test_search_ignores_cedillas(session, counsellor):
    make_beneficiary(session, counsellor, first_name="François", last_name="Garçon")
    assert names(search(session, counsellor, "francois garcon")) == ["Garçon"]


def test_search_reads_ligatures_as_their_two_letters(session, counsellor):
    make_beneficiary(session, counsellor, first_name="Lætitia", last_name="Lecœur")
    assert names(search(session, counsellor, "laetitia lecoeur")) == ["Lecœur"]


def test_every_word_of_the_query_must_match(session, counsellor):
    make_beneficiary(session, counsellor, first_name="Hélène", last_name="Guérin")
    make_beneficiary(session, counsellor, first_name="Hélène", last_name="Martin")
    assert names(search(session, counsellor, "hélène martin")) == ["Martin"]


def test_search_finds_a_person_by_part_of_her_email(session, counsellor):
    make_beneficiary(session, counsellor, last_name="Kerhervé", email="loic.k@exemple.fr")
    assert names(search(session, counsellor, "LOIC.K@")) == ["Kerhervé"]


@pytest.mark.parametrize(
    "query",
    [
        "0612345678",
        "06 12 34 56 78",
        "06.12.34.56.78",
        "+33 6 12 34 56 78",
        "+33612345678",
        "0033 6 12 34 56 78",
        "34 56 78",
    ],
)
def test_search_finds_a_phone_typed_in_any_format(session, counsellor, query):
    make_beneficiary(session, counsellor, last_name="Le Bihan", phone="06-12-34-56-78")
    assert names(search(session, counsellor, query)) == ["Le Bihan"]


@pytest.mark.parametrize("query", ["0692 12 34 56", "0692123456", "+262 692 12 34 56"])
def test_search_finds_an_overseas_phone_in_any_format(session, counsellor, query):
    make_beneficiary(session, counsellor, last_name="Payet", phone="+262692123456")
    assert names(search(session, counsellor, query)) == ["Payet"]


@pytest.mark.parametrize("query", ["", "   ", "\u0301"])
def test_a_blank_query_finds_nobody(session, counsellor, query):
    make_beneficiary(session, counsellor)
    assert search(session, counsellor, query) == []


@pytest.mark.parametrize("query", ["%", "_", "/", "zo%"])
def test_like_wildcards_in_the_query_are_taken_literally(session, counsellor, query):
    make_beneficiary(session, counsellor, first_name="Zoé")
    assert search(session, counsellor, query) == []


def test_results_are_sorted_by_name_and_limited(session, counsellor):
    for last_name in ("Martin", "Bernard", "Durand"):
        make_beneficiary(session, counsellor, first_name="Camille", last_name=last_name)
    assert names(search(session, counsellor, "camille", limit=2)) == ["Bernard", "Durand"]


def test_search_stays_within_the_actors_operator(session, counsellor, other_operator_counsellor):
    make_beneficiary(session, other_operator_counsellor, first_name="Hélène", last_name="Guérin")
    assert search(session, counsellor, "guerin") == []


def test_national_observer_cannot_search(session, counsellor):
    make_beneficiary(session, counsellor, last_name="Guérin")
    observer = make_staff(session, None, Role.NATIONAL_OBSERVER)
    with pytest.raises(NotFound):
        search(session, observer, "guerin")


def test_a_renamed_person_is_found_by_her_new_name_only(session, counsellor):
    person = make_beneficiary(session, counsellor, first_name="Anne", last_name="Morel")
    update_beneficiary(
        session=session,
        actor=counsellor,
        beneficiary_id=person.id,
        data=BeneficiaryUpdate(first_name="Anne", last_name="Le Floch", email=person.email),
    )
    assert names(search(session, counsellor, "floch")) == ["Le Floch"]
    assert search(session, counsellor, "morel") == []


# ---- creation and duplicates ---------------------------------------------------------------


def test_email_is_stored_lower_case_and_phone_in_e164(session, counsellor):
    person = make_beneficiary(session, counsellor, email="Zoe.Roux@Exemple.FR", phone="0612345678")
    assert (person.email, person.phone) == ("zoe.roux@exemple.fr", "+33612345678")


def test_a_known_email_is_refused_whatever_its_case(session, counsellor):
    make_beneficiary(session, counsellor, email="zoe@exemple.fr")
    with pytest.raises(Conflict, match="semble déjà connue"):
        make_beneficiary(session, counsellor, email="ZOE@Exemple.fr")


def test_a_known_phone_is_refused_whatever_its_format(session, counsellor):
    make_beneficiary(session, counsellor, phone="06 12 34 56 78")
    with pytest.raises(Conflict, match="même e-mail ou téléphone"):
        make_beneficiary(session, counsellor, phone="+33 6 12 34 56 78")


def test_the_same_person_may_be_known_by_two_operators(
    session, counsellor, other_operator_counsellor
):
    make_beneficiary(session, counsellor, email="zoe@exemple.fr")
    other = make_beneficiary(session, other_operator_counsellor, email="zoe@exemple.fr")
    assert other.id is not None


def test_people_without_email_nor_phone_are_never_duplicates(session, counsellor):
    make_beneficiary(session, counsellor, first_name="Zoé", last_name="Roux", email=None)
    twin = make_beneficiary(session, counsellor, first_name="Zoé", last_name="Roux", email=None)
    assert twin.id is not None


def test_update_keeping_ones_own_email_is_no_duplicate(session, counsellor):
    person = make_beneficiary(session, counsellor, email="zoe@exemple.fr")
    updated = update_beneficiary(
        session=session,
        actor=counsellor,
        beneficiary_id=person.id,
        data=BeneficiaryUpdate(first_name="Zoé", last_name="Roux", email="zoe@exemple.fr"),
    )
    assert updated.last_name == "Roux"


def test_update_to_another_persons_phone_is_refused(session, counsellor):
    make_beneficiary(session, counsellor, phone="0612345678")
    person = make_beneficiary(session, counsellor)
    with pytest.raises(Conflict, match="déjà utilisé"):
        update_beneficiary(
            session=session,
            actor=counsellor,
            beneficiary_id=person.id,
            data=BeneficiaryUpdate(first_name="Zoé", last_name="Roux", phone="06 12 34 56 78"),
        )


# ---- consent, reading, listing -------------------------------------------------------------


def test_consent_is_dated_when_given_and_cleared_when_withdrawn(session, counsellor):
    person = make_beneficiary(session, counsellor, consent=True)
    given_at = person.consent_at
    assert given_at is not None

    def update(consent: bool):
        data = BeneficiaryUpdate(first_name="Zoé", last_name="Roux", consent=consent)
        return update_beneficiary(
            session=session, actor=counsellor, beneficiary_id=person.id, data=data
        )

    assert update(True).consent_at == given_at  # confirming keeps the original date
    assert update(False).consent_at is None


def test_a_person_of_another_operator_is_not_found(session, counsellor, other_operator_counsellor):
    person = make_beneficiary(session, other_operator_counsellor)
    with pytest.raises(NotFound):
        get_beneficiary(session=session, actor=counsellor, beneficiary_id=person.id)


def test_listing_pages_through_the_operators_people_only(
    session, counsellor, other_operator_counsellor
):
    mine = [make_beneficiary(session, counsellor) for _ in range(3)]
    make_beneficiary(session, other_operator_counsellor)
    listed = list_beneficiaries(session=session, actor=counsellor, offset=1, limit=5)
    assert [p.id for p in listed] == [p.id for p in mine[1:]]
