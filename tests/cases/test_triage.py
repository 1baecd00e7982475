"""Triage rules: the queue, the redirection suggested by the CEP situation, and the outcomes."""

from datetime import timedelta

import pytest
from sqlmodel import select

from app.core.errors import Conflict, Invalid, NotFound
from app.models.base import utcnow
from app.models.beneficiaries import Beneficiary, BeneficiaryCreate
from app.models.cases import Case, Episode, Interaction
from app.models.nomenclatures import CepSituation, Channel, Redirection, RequestMotive
from app.models.triage import TriageCreate, TriageOpenCase, TriageRedirect, TriageRequest
from app.services.cases.triage import (
    create_request,
    open_case_from_request,
    queue,
    redirect_request,
    suggest_redirection,
)
from tests.factories import make_beneficiary, make_lot, make_operator, make_staff


@pytest.fixture
def colleague(session, counsellor):
    return make_staff(session, make_operator(session), full_name="Gaëlle Le Gall")


def new_request(session, actor, beneficiary=None, *, person=None, **overrides):
    """A pending request for `beneficiary` (a new one by default), or for a new `person`."""
    if beneficiary is None and person is None:
        beneficiary = make_beneficiary(session, actor)
    values = {"channel": Channel.PHONE, "motive": RequestMotive.RETRAIN, **overrides}
    data = TriageCreate(beneficiary_id=beneficiary.id if beneficiary else None, **values)
    return create_request(session=session, actor=actor, data=data, person=person)


def open_case(session, actor, request, referent, **overrides):
    data = TriageOpenCase(referent_id=referent.id, **overrides)
    return open_case_from_request(session=session, actor=actor, request_id=request.id, data=data)


def redirect(session, actor, request, redirection=Redirection.FRANCE_TRAVAIL, **overrides):
    data = TriageRedirect(redirection=redirection, **overrides)
    return redirect_request(session=session, actor=actor, request_id=request.id, data=data)


def queued(session, actor, **kwargs) -> list[int]:
    return [item.id for item, _person in queue(session=session, actor=actor, **kwargs)]


# ---- suggestion ----------------------------------------------------------------------------

SUGGESTIONS = {
    CepSituation.PRIVATE_WORKER: None,
    CepSituation.MANAGER: Redirection.APEC,
    CepSituation.JOB_SEEKER: Redirection.FRANCE_TRAVAIL,
    CepSituation.YOUNG_NEET: Redirection.MISSION_LOCALE,
    CepSituation.PUBLIC_AGENT: Redirection.PUBLIC_EMPLOYER,
    CepSituation.DISABILITY: Redirection.CAP_EMPLOI,
}


def test_every_cep_situation_has_a_known_suggestion():
    assert set(SUGGESTIONS) == set(CepSituation)


@pytest.mark.parametrize(("situation", "expected"), SUGGESTIONS.items())
def test_the_cep_situation_suggests_a_network(situation, expected):
    assert suggest_redirection(situation.value) == expected


# ---- taking a request ----------------------------------------------------------------------


def test_a_request_for_a_known_person_is_pending_and_dated_now(session, counsellor):
    request = new_request(session, counsellor)
    assert request.status == "pending" and request.case_id is None
    assert utcnow() - request.received_at < timedelta(minutes=1)


def test_a_request_for_a_new_person_creates_her(session, counsellor):
    person = BeneficiaryCreate(first_name="Loïc", last_name="Kerhervé", phone="0612345678")
    request = new_request(session, counsellor, person=person)
    created = session.get(Beneficiary, request.beneficiary_id)
    assert (created.last_name, created.phone) == ("Kerhervé", "+33612345678")


def test_a_request_without_any_person_is_invalid(session, counsellor):
    data = TriageCreate(channel=Channel.PHONE, motive=RequestMotive.RETRAIN)
    with pytest.raises(Invalid) as refused:
        create_request(session=session, actor=counsellor, data=data)
    assert refused.value.fields == {"beneficiary_id": "Choisissez une personne ou saisissez-la"}


def test_a_new_person_who_is_already_known_is_refused(session, counsellor):
    make_beneficiary(session, counsellor, email="loic@exemple.fr")
    person = BeneficiaryCreate(first_name="Loïc", last_name="K", email="Loic@exemple.fr")
    with pytest.raises(Conflict, match="semble déjà connue"):
        new_request(session, counsellor, person=person)


def test_a_request_cannot_be_assigned_to_another_operators_staff(session, counsellor):
    stranger = make_staff(session, make_operator(session, "BRE", "Bretagne"))
    with pytest.raises(Invalid) as refused:
        new_request(session, counsellor, assigned_to_id=stranger.id)
    assert set(refused.value.fields) == {"assigned_to_id"}


def test_a_request_cannot_name_another_operators_person(session, counsellor):
    stranger = make_staff(session, make_operator(session, "BRE", "Bretagne"))
    with pytest.raises(NotFound):
        new_request(session, counsellor, make_beneficiary(session, stranger))


# ---- the queue -----------------------------------------------------------------------------


def test_the_queue_lists_pending_requests_oldest_first(session, counsellor):
    now = utcnow()
    recent = new_request(session, counsellor, received_at=now - timedelta(hours=1))
    older = new_request(session, counsellor, received_at=now - timedelta(days=2))
    assert queued(session, counsellor) == [older.id, recent.id]


def test_mine_only_keeps_requests_assigned_to_me_or_to_nobody(session, counsellor, colleague):
    now = utcnow()
    mine = new_request(session, counsellor, assigned_to_id=counsellor.id, received_at=now)
    nobodys = new_request(session, counsellor, received_at=now - timedelta(hours=1))
    theirs = new_request(session, counsellor, assigned_to_id=colleague.id)
    assert queued(session, counsellor, mine_only=True) == [nobodys.id, mine.id]
    assert theirs.id in queued(session, counsellor)


def test_handled_requests_leave_the_queue(session, counsellor):
    opened = new_request(session, counsellor)
    redirected = new_request(session, counsellor)
    waiting = new_request(session, counsellor)
    open_case(session, counsellor, opened, counsellor)
    redirect(session, counsellor, redirected)
    assert queued(session, counsellor) == [waiting.id]


def test_the_queue_holds_only_the_operators_requests(session, counsellor):
    stranger = make_staff(session, make_operator(session, "BRE", "Bretagne"))
    new_request(session, stranger)
    assert queued(session, counsellor) == []


# ---- outcome: case opened ------------------------------------------------------------------


def test_opening_a_case_gives_it_to_the_chosen_referent(session, counsellor, colleague):
    request = new_request(session, counsellor, request_text="Veut devenir ébéniste")
    case = open_case(session, counsellor, request, colleague)
    assert (case.referent_id, case.status) == (colleague.id, "open")
    assert (case.beneficiary_id, case.request_text) == (
        request.beneficiary_id,
        request.request_text,
    )


def test_opening_a_case_records_the_triage_as_an_ended_uo0_episode(session, counsellor):
    received = utcnow() - timedelta(days=1)
    request = new_request(session, counsellor, received_at=received)
    case = open_case(session, counsellor, request, counsellor)
    episode = session.exec(select(Episode).where(Episode.case_id == case.id)).one()
    assert (episode.started_at, episode.outcome) == (received, "Dossier ouvert")
    assert episode.ended_at is not None
    assert case.opened_at == received


def test_the_triage_episode_stores_the_lot_in_force_when_the_request_came(session, counsellor):
    operator = make_operator(session)
    lot = make_lot(session, operator)
    request = new_request(session, counsellor, received_at=utcnow() - timedelta(days=1))
    case = open_case(session, counsellor, request, counsellor)
    episode = session.exec(select(Episode).where(Episode.case_id == case.id)).one()
    assert episode.lot_id == lot.id


def test_opening_a_case_records_the_contact_and_the_first_advice(session, counsellor):
    request = new_request(
        session, counsellor, channel=Channel.WALK_IN, request_text="Souhaite une VAE"
    )
    case = open_case(session, counsellor, request, counsellor, first_advice="Voir France VAE")
    contact = session.exec(select(Interaction).where(Interaction.case_id == case.id)).one()
    assert (contact.channel, contact.summary, contact.private_notes) == (
        "sur_site",
        "Voir France VAE",
        "Souhaite une VAE",
    )


@pytest.mark.parametrize(
    ("channel", "recorded_as"),
    [
        (Channel.PHONE, "telephone"),
        (Channel.EMAIL, "email"),
        (Channel.WEB, "email"),
        (Channel.WALK_IN, "sur_site"),
        (Channel.PARTNER, "telephone"),
    ],
)
def test_every_request_channel_maps_to_an_interaction_channel(
    session, counsellor, channel, recorded_as
):
    request = new_request(session, counsellor, channel=channel)
    case = open_case(session, counsellor, request, counsellor)
    contact = session.exec(select(Interaction).where(Interaction.case_id == case.id)).one()
    assert contact.channel == recorded_as


def test_an_opened_request_points_to_its_case(session, counsellor):
    request = new_request(session, counsellor)
    case = open_case(session, counsellor, request, counsellor)
    handled = session.get(TriageRequest, request.id)
    assert (handled.status, handled.case_id, handled.handled_by_id) == (
        "case_opened",
        case.id,
        counsellor.id,
    )


def test_a_referent_of_another_operator_is_refused_and_nothing_is_written(session, counsellor):
    stranger = make_staff(session, make_operator(session, "BRE", "Bretagne"))
    request = new_request(session, counsellor)
    with pytest.raises(Invalid):
        open_case(session, counsellor, request, stranger)
    assert session.exec(select(Case)).all() == []


# ---- outcome: redirected -------------------------------------------------------------------


def test_a_redirection_closes_the_case_at_once(session, counsellor):
    request = new_request(session, counsellor, cep_situation=CepSituation.JOB_SEEKER)
    case = redirect(session, counsellor, request, reason="Inscrit depuis mars")
    assert (case.status, case.close_reason, case.close_note) == (
        "closed",
        "reoriente",
        "Inscrit depuis mars",
    )


def test_a_redirection_names_the_network_on_the_uo0_episode(session, counsellor):
    request = new_request(session, counsellor)
    case = redirect(session, counsellor, request, Redirection.CAP_EMPLOI)
    episode = session.exec(select(Episode).where(Episode.case_id == case.id)).one()
    assert episode.outcome == "Réorienté vers Cap emploi"
    handled = session.get(TriageRequest, request.id)
    assert (handled.status, handled.redirection) == ("redirected", "cap_emploi")


def test_a_manager_may_stay_with_us_despite_the_apec_suggestion(session, counsellor):
    request = new_request(session, counsellor, cep_situation=CepSituation.MANAGER)
    assert open_case(session, counsellor, request, counsellor).status == "open"


# ---- a request is handled once -------------------------------------------------------------


@pytest.mark.parametrize("first", ["open", "redirect"])
@pytest.mark.parametrize("second", ["open", "redirect"])
def test_a_handled_request_is_a_conflict(session, counsellor, first, second):
    request = new_request(session, counsellor)
    outcomes = {
        "open": lambda: open_case(session, counsellor, request, counsellor),
        "redirect": lambda: redirect(session, counsellor, request),
    }
    outcomes[first]()
    with pytest.raises(Conflict, match="déjà été traitée"):
        outcomes[second]()
    assert len(session.exec(select(Case)).all()) == 1
