"""Proof requirements as catalogue data, the proof rule, and the managers' gap list."""

from contextlib import contextmanager
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import event
from sqlmodel import select

from app.core.errors import Forbidden, Invalid, NotFound
from app.models.cases import EpisodeEnd, EpisodeStart
from app.models.catalogue import DeliverableKind, DeliverableKindEdit, UnitProofRequirement
from app.models.nomenclatures import Role
from app.services.cases.episodes import end_episode, start_episode
from app.services.control import proof_catalogue
from app.services.control.proofs import ProofState, missing_proofs, proof_status_for_episodes
from app.services.deliverables.sharing import record_handover
from tests.factories import (
    deliverable_kind,
    make_case,
    make_deliverable,
    make_episode,
    make_lot,
    make_market,
    make_operator,
    make_site,
    make_staff,
    unit_id,
    use_proof_rule,
)


def status_of(session, episode):
    found = proof_status_for_episodes(
        session=session, operator_id=episode.operator_id, episodes=[episode]
    )
    return found[episode.id]


def states(proofs) -> dict[str, str]:
    return {item.kind.code: item.state.value for item in proofs.items}


def edit(session, actor, found: DeliverableKind, unit_codes, **changes):
    values = found.model_dump(include=set(DeliverableKindEdit.model_fields) - {"unit_ids"})
    data = DeliverableKindEdit(
        **{**values, **changes}, unit_ids=[unit_id(session, code) for code in unit_codes]
    )
    return proof_catalogue.update_kind(session=session, actor=actor, kind_id=found.id, data=data)


def started(session, actor, case, code, when: datetime):
    data = EpisodeStart(unit_id=unit_id(session, code), started_at=when)
    return start_episode(session=session, actor=actor, case_id=case.id, data=data)[0]


# ---- the catalogue -------------------------------------------------------------------------


def test_each_new_operator_gets_the_default_requirements(session, ara):
    bre = make_operator(session, "BRE", "Bretagne")
    for operator in (ara, bre):
        required = proof_catalogue.requirements_by_unit(session=session, operator_id=operator.id)
        labels = {
            code: [k.label for k in required.get(unit_id(session, code), [])]
            for code in ("UO0", "UO1", "UO2.1", "UO2.2")
        }
        assert labels == {
            "UO0": [],
            "UO1": ["Synthèse de l'entretien"],
            "UO2.1": ["Document de synthèse", "Plan d'action"],
            "UO2.2": ["Suivi de la mise en œuvre"],
        }
        assert all(k.operator_id == operator.id for kinds in required.values() for k in kinds)


def test_admin_renames_a_kind_and_changes_its_parts(session, ara, admin):
    found = deliverable_kind(session, ara.id, "plan_action")
    edit(session, admin, found, ["UO2.1"], label="Plan d'action partagé", includes_referrals=True)
    session.refresh(found)
    assert (found.label, found.includes_referrals, found.code) == (
        "Plan d'action partagé",
        True,
        "plan_action",
    )


def test_admin_creates_a_kind_with_a_code_from_its_label(session, ara, admin):
    data = DeliverableKindEdit(label="Compte rendu d'accueil", unit_ids=[unit_id(session, "UO0")])
    created = proof_catalogue.create_kind(session=session, actor=admin, data=data)
    assert created.code == "compte_rendu_d_accueil"
    assert created.position == 4
    required = proof_catalogue.requirements_by_unit(session=session, operator_id=ara.id)
    assert required[unit_id(session, "UO0")] == [created]


def test_generated_codes_stay_unique_within_the_operator(session, ara, admin):
    edit(
        session,
        admin,
        deliverable_kind(session, ara.id, "plan_action"),
        ["UO2.1"],
        label="Ancien plan",
    )
    created = proof_catalogue.create_kind(
        session=session, actor=admin, data=DeliverableKindEdit(label="Plan action")
    )
    assert created.code == "plan_action_2"


@pytest.mark.parametrize("role", [Role.COUNSELLOR, Role.MANAGER])
def test_only_operator_admins_edit_kinds(session, ara, role):
    actor = make_staff(session, ara, role)
    found = deliverable_kind(session, ara.id, "plan_action")
    with pytest.raises(Forbidden):
        edit(session, actor, found, [])
    with pytest.raises(Forbidden):
        proof_catalogue.create_kind(
            session=session, actor=actor, data=DeliverableKindEdit(label="Autre")
        )
    with pytest.raises(Forbidden):
        proof_catalogue.kinds_with_units(session=session, actor=actor)


def test_admin_of_another_operator_gets_not_found(session, ara):
    bre_admin = make_staff(session, make_operator(session, "BRE", "Bretagne"), Role.OPERATOR_ADMIN)
    with pytest.raises(NotFound):
        edit(session, bre_admin, deliverable_kind(session, ara.id, "plan_action"), [])


def test_unknown_unit_is_refused_and_nothing_changes(session, ara, admin):
    found = deliverable_kind(session, ara.id, "plan_action")
    data = DeliverableKindEdit(label="Nouveau libellé", unit_ids=[999_999])
    with pytest.raises(Invalid) as refused:
        proof_catalogue.update_kind(session=session, actor=admin, kind_id=found.id, data=data)
    assert refused.value.fields == {"unit_ids": "Unité d'œuvre inconnue"}
    session.refresh(found)
    assert found.label == "Plan d'action"


def test_two_kinds_cannot_share_a_label(session, ara, admin):
    with pytest.raises(Invalid) as refused:
        edit(
            session,
            admin,
            deliverable_kind(session, ara.id, "plan_action"),
            [],
            label="document de SYNTHÈSE",
        )
    assert refused.value.fields == {"label": "Un autre type de livrable porte déjà ce libellé"}


def test_kinds_with_units_lists_inactive_kinds_too(session, ara, admin):
    edit(session, admin, deliverable_kind(session, ara.id, "plan_action"), ["UO2.1"], active=False)
    listed = proof_catalogue.kinds_with_units(session=session, actor=admin)
    assert [row.kind.code for row in listed] == [
        "synthese_entretien",
        "document_synthese",
        "plan_action",
        "suivi_mise_en_oeuvre",
    ]
    assert listed[2].unit_ids == [unit_id(session, "UO2.1")]


# ---- the proof rule ------------------------------------------------------------------------


def test_a_unit_without_requirement_is_complete(session, counsellor):
    proofs = status_of(
        session, make_episode(session, counsellor, make_case(session, counsellor), "UO0")
    )
    assert proofs.items == [] and proofs.complete


def test_without_deliverable_every_required_kind_is_missing(session, counsellor):
    episode = make_episode(session, counsellor, make_case(session, counsellor), "UO2.1")
    proofs = status_of(session, episode)
    assert states(proofs) == {"document_synthese": "missing", "plan_action": "missing"}
    assert not proofs.complete
    assert [item.kind.label for item in proofs.missing] == ["Document de synthèse", "Plan d'action"]


def test_a_draft_does_not_count(session, counsellor):
    case = make_case(session, counsellor)
    episode = make_episode(session, counsellor, case, "UO1")
    draft = make_deliverable(session, case, "synthese_entretien", episode=episode, issued=False)
    proofs = status_of(session, episode)
    assert states(proofs) == {"synthese_entretien": "missing"}
    assert proofs.items[0].deliverable_id == draft.id


def test_an_issued_version_neither_sent_nor_handed_over_awaits_its_handover(session, counsellor):
    """The specification's rule, « remis », by default: issuing is not yet handing over."""
    case = make_case(session, counsellor)
    episode = make_episode(session, counsellor, case, "UO1")
    issued = make_deliverable(session, case, "synthese_entretien", episode=episode)
    proofs = status_of(session, episode)
    assert states(proofs) == {"synthese_entretien": "awaiting_handover"}
    assert [item.deliverable_id for item in proofs.awaiting] == [issued.id]
    assert not proofs.complete


@pytest.mark.parametrize("lot", [False, True], ids=["no lot", "lot of the current market"])
def test_under_remis_an_emailed_version_completes_the_proof(session, ara, counsellor, lot, clock):
    if lot:
        use_proof_rule(session, ara, "remis")
    case = make_case(session, counsellor)
    episode = make_episode(session, counsellor, case, "UO1")
    make_deliverable(session, case, "synthese_entretien", episode=episode, shared=True)
    proofs = status_of(session, episode)
    assert states(proofs) == {"synthese_entretien": "complete"} and proofs.complete


def test_under_remis_a_version_handed_over_in_person_completes_the_proof(session, counsellor, case):
    episode = make_episode(session, counsellor, case, "UO1")
    deliverable = make_deliverable(session, case, "synthese_entretien", episode=episode)
    assert not status_of(session, episode).complete
    record_handover(session=session, actor=counsellor, deliverable_id=deliverable.id, number=1)
    assert states(status_of(session, episode)) == {"synthese_entretien": "complete"}


def test_under_accuse_an_emailed_version_awaits_acknowledgement(session, ara, counsellor, clock):
    use_proof_rule(session, ara, "accuse")
    case = make_case(session, counsellor)
    episode = make_episode(session, counsellor, case, "UO1")
    issued = make_deliverable(session, case, "synthese_entretien", episode=episode, shared=True)
    proofs = status_of(session, episode)
    assert states(proofs) == {"synthese_entretien": "awaiting_acknowledgement"}
    assert [item.deliverable_id for item in proofs.awaiting] == [issued.id]
    assert not proofs.complete


def test_under_accuse_a_handover_in_person_is_not_enough(session, ara, counsellor, case, clock):
    use_proof_rule(session, ara, "accuse")
    episode = make_episode(session, counsellor, case, "UO1")
    deliverable = make_deliverable(session, case, "synthese_entretien", episode=episode)
    record_handover(session=session, actor=counsellor, deliverable_id=deliverable.id, number=1)
    assert states(status_of(session, episode)) == {"synthese_entretien": "awaiting_acknowledgement"}


def test_the_rule_is_the_one_of_the_market_the_episode_started_under(
    session, ara, counsellor, clock
):
    """An episode started under an « accusé » market keeps that rule when the operator's next
    lot (a later market) says « remis »; one started under the later market follows it."""
    old_market = make_market(
        session, "Marché 2020-2023", date(2020, 1, 1), date(2023, 12, 31), proof_rule="accuse"
    )
    make_lot(session, ara, old_market)
    make_lot(session, ara)  # the current market: « remis »
    case = make_case(session, counsellor)
    before = start_episode(
        session=session,
        actor=counsellor,
        case_id=case.id,
        data=EpisodeStart(
            unit_id=unit_id(session, "UO1"), started_at=datetime(2023, 12, 31, 22, tzinfo=UTC)
        ),
    )[0]  # 31 December 2023, 23:00 in Paris: the old market
    after = make_episode(session, counsellor, case, "UO1")
    for episode in (before, after):
        make_deliverable(session, case, "synthese_entretien", episode=episode, shared=True)
    found = proof_status_for_episodes(session=session, operator_id=ara.id, episodes=[before, after])
    assert states(found[before.id]) == {"synthese_entretien": "awaiting_acknowledgement"}
    assert states(found[after.id]) == {"synthese_entretien": "complete"}


@pytest.mark.parametrize("method", ["online", "signed_scan"])
def test_an_acknowledged_version_completes_the_proof(session, counsellor, method):
    case = make_case(session, counsellor)
    episode = make_episode(session, counsellor, case, "UO1")
    make_deliverable(session, case, "synthese_entretien", episode=episode, acknowledgement=method)
    proofs = status_of(session, episode)
    assert states(proofs) == {"synthese_entretien": "complete"} and proofs.complete


def test_the_acknowledged_deliverable_is_the_one_linked(session, counsellor):
    case = make_case(session, counsellor)
    episode = make_episode(session, counsellor, case, "UO1")
    signed = make_deliverable(
        session, case, "synthese_entretien", episode=episode, acknowledgement="online"
    )
    make_deliverable(session, case, "synthese_entretien", episode=episode, issued=False)
    assert status_of(session, episode).items[0].deliverable_id == signed.id


def test_another_kind_another_episode_or_no_episode_does_not_count(session, counsellor):
    case = make_case(session, counsellor)
    episode = make_episode(session, counsellor, case, "UO2.1")
    other = make_episode(session, counsellor, case, "UO2.1")
    ack = {"acknowledgement": "online"}
    make_deliverable(session, case, "synthese_entretien", episode=episode, **ack)  # wrong kind
    make_deliverable(session, case, "document_synthese", episode=other, **ack)  # wrong episode
    make_deliverable(session, case, "plan_action", **ack)  # no episode
    assert states(status_of(session, episode)) == {
        "document_synthese": "missing",
        "plan_action": "missing",
    }


def test_an_episode_is_complete_when_all_its_kinds_are(session, counsellor):
    case = make_case(session, counsellor)
    episode = make_episode(session, counsellor, case, "UO2.1")
    make_deliverable(session, case, "document_synthese", episode=episode, acknowledgement="online")
    assert not status_of(session, episode).complete
    make_deliverable(session, case, "plan_action", episode=episode, acknowledgement="signed_scan")
    assert status_of(session, episode).complete


def test_requirements_edited_by_the_admin_change_the_status(session, ara, counsellor, admin):
    case = make_case(session, counsellor)
    triage = make_episode(session, counsellor, case, "UO0")
    n1 = make_episode(session, counsellor, case, "UO1")
    summary = deliverable_kind(session, ara.id, "synthese_entretien")
    edit(session, admin, summary, ["UO0"])  # now proves UO0 instead of UO1
    assert states(status_of(session, triage)) == {"synthese_entretien": "missing"}
    assert status_of(session, n1).complete


def test_a_deactivated_kind_is_no_longer_required(session, ara, counsellor, admin):
    episode = make_episode(session, counsellor, make_case(session, counsellor), "UO2.1")
    edit(session, admin, deliverable_kind(session, ara.id, "plan_action"), ["UO2.1"], active=False)
    assert states(status_of(session, episode)) == {"document_synthese": "missing"}


@contextmanager
def counted_queries(session):
    statements = []
    engine = session.get_bind()

    def count(*_args):
        statements.append(1)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_status_takes_one_query_whatever_the_number_of_episodes(session, counsellor):
    case = make_case(session, counsellor)
    few = [make_episode(session, counsellor, case, "UO2.1")]
    many = [make_episode(session, counsellor, case, code) for code in ("UO1", "UO2.1", "UO2.2") * 3]
    for episode in many:
        make_deliverable(session, case, "plan_action", episode=episode)
    for episodes in (few, many):
        with counted_queries(session) as statements:
            found = proof_status_for_episodes(
                session=session, operator_id=case.operator_id, episodes=episodes
            )
        assert len(statements) == 1 and len(found) == len(episodes)


# ---- the gap list --------------------------------------------------------------------------


def gaps(session, actor, **filters) -> list[int]:
    rows, total = missing_proofs(session=session, actor=actor, **filters)
    assert total == len(rows)
    return [row.episode.id for row in rows]


def test_gap_list_holds_incomplete_episodes_only(session, manager, counsellor):
    case = make_case(session, counsellor)
    missing = make_episode(session, counsellor, case, "UO1")
    awaiting = make_episode(session, counsellor, case, "UO1")
    make_deliverable(session, case, "synthese_entretien", episode=awaiting)
    complete = make_episode(session, counsellor, case, "UO1")
    make_deliverable(
        session, case, "synthese_entretien", episode=complete, acknowledgement="online"
    )
    make_episode(session, counsellor, case, "UO0")
    assert sorted(gaps(session, manager)) == sorted([missing.id, awaiting.id])


def test_gap_rows_say_what_is_missing_and_where(session, ara, manager, counsellor):
    lyon = make_site(session, ara)
    case = make_case(session, counsellor, site_id=lyon.id)
    episode = make_episode(session, counsellor, case, "UO2.1")
    make_deliverable(session, case, "plan_action", episode=episode)
    (row,), total = missing_proofs(session=session, actor=manager)
    assert total == 1
    assert (row.case.reference, row.unit.code, row.referent.id, row.site.name) == (
        case.reference,
        "UO2.1",
        counsellor.id,
        "Lyon Part-Dieu",
    )
    assert row.beneficiary.id == case.beneficiary_id
    assert [i.kind.code for i in row.proofs.missing] == ["document_synthese"]
    assert [i.kind.code for i in row.proofs.awaiting] == ["plan_action"]
    assert row.proofs.awaiting[0].state == ProofState.AWAITING_HANDOVER


def test_gap_list_filters_by_site(session, ara, manager, counsellor):
    lyon, grenoble = make_site(session, ara), make_site(session, ara, name="Grenoble")
    here = make_episode(session, counsellor, make_case(session, counsellor, site_id=lyon.id))
    make_episode(session, counsellor, make_case(session, counsellor, site_id=grenoble.id))
    make_episode(session, counsellor, make_case(session, counsellor))
    assert gaps(session, manager, site_id=lyon.id) == [here.id]


def test_gap_list_filters_by_counsellor(session, ara, manager, counsellor):
    colleague = make_staff(session, ara)
    mine = make_episode(session, counsellor, make_case(session, counsellor))
    make_episode(session, colleague, make_case(session, colleague))
    assert gaps(session, manager, counsellor_id=counsellor.id) == [mine.id]


def test_gap_list_filters_by_unit(session, manager, counsellor):
    case = make_case(session, counsellor)
    make_episode(session, counsellor, case, "UO1")
    n2 = make_episode(session, counsellor, case, "UO2.2")
    assert gaps(session, manager, unit_id=unit_id(session, "UO2.2")) == [n2.id]


def test_gap_list_filters_by_ended_episodes(session, manager, counsellor):
    case = make_case(session, counsellor)
    make_episode(session, counsellor, case, "UO1")
    ended = make_episode(session, counsellor, case, "UO2.1")
    end_episode(session=session, actor=counsellor, episode_id=ended.id, data=EpisodeEnd())
    assert gaps(session, manager, ended_only=True) == [ended.id]


def test_period_is_read_in_the_operators_time_zone(session, manager, counsellor):
    case = make_case(session, counsellor)
    # 00:30 on 2 July in Paris is still 1 July in UTC.
    episode = started(session, counsellor, case, "UO1", datetime(2026, 7, 1, 22, 30, tzinfo=UTC))
    july_1, july_2 = date(2026, 7, 1), date(2026, 7, 2)
    assert gaps(session, manager, started_from=july_2, started_to=july_2) == [episode.id]
    assert gaps(session, manager, started_from=july_1, started_to=july_1) == []
    assert gaps(session, manager, started_from=july_2) == [episode.id]
    assert gaps(session, manager, started_to=july_1) == []


def test_gap_list_is_latest_first_and_counts_beyond_the_limit(session, manager, counsellor):
    case = make_case(session, counsellor)
    older = started(session, counsellor, case, "UO1", datetime(2026, 3, 1, 9, tzinfo=UTC))
    newer = started(session, counsellor, case, "UO1", datetime(2026, 3, 2, 9, tzinfo=UTC))
    assert gaps(session, manager) == [newer.id, older.id]
    rows, total = missing_proofs(session=session, actor=manager, limit=1)
    assert [row.episode.id for row in rows] == [newer.id] and total == 2


def test_gap_list_never_shows_another_operators_episodes(session, manager, counsellor):
    bre = make_staff(session, make_operator(session, "BRE", "Bretagne"))
    make_episode(session, bre, make_case(session, bre))
    own = make_episode(session, counsellor, make_case(session, counsellor))
    assert gaps(session, manager) == [own.id]


def test_counsellors_see_the_gaps_of_their_own_cases(session, ara, counsellor):
    colleague = make_staff(session, ara)
    mine = make_episode(session, counsellor, make_case(session, counsellor))
    make_episode(session, colleague, make_case(session, colleague))
    assert gaps(session, counsellor) == [mine.id]
    assert gaps(session, counsellor, counsellor_id=colleague.id) == []


def test_a_referents_gap_list_follows_each_markets_rule_as_the_operators_does(
    session, ara, manager, counsellor, clock
):
    """A list of one referent's cases checks the rule its own way (`lacks_a_proof_checked_on_
    read`): it must find what the whole operator's list finds, under « accusé » and « remis »."""
    old_market = make_market(
        session, "Marché 2020-2023", date(2020, 1, 1), date(2023, 12, 31), proof_rule="accuse"
    )
    make_lot(session, ara, old_market)
    make_lot(session, ara)  # the current market: « remis »
    case = make_case(session, counsellor)
    under_accuse = datetime(2023, 6, 1, 9, tzinfo=UTC)
    shared_only = started(session, counsellor, case, "UO1", under_accuse)
    acknowledged = started(session, counsellor, case, "UO1", under_accuse)
    issued_only = make_episode(session, counsellor, case, "UO1")
    shared = make_episode(session, counsellor, case, "UO1")
    make_episode(session, counsellor, case, "UO0")
    for episode, proof in [
        (shared_only, {"shared": True}),
        (acknowledged, {"acknowledgement": "online"}),
        (issued_only, {}),
        (shared, {"shared": True}),
    ]:
        make_deliverable(session, case, "synthese_entretien", episode=episode, **proof)
    expected = sorted([shared_only.id, issued_only.id])
    assert sorted(gaps(session, manager)) == expected
    assert sorted(gaps(session, manager, counsellor_id=counsellor.id)) == expected
    assert sorted(gaps(session, counsellor)) == expected


@pytest.mark.parametrize("role", [Role.NATIONAL_OBSERVER, Role.SYSADMIN])
def test_roles_without_personal_data_get_no_gap_list(session, role):
    with pytest.raises(NotFound):
        missing_proofs(session=session, actor=make_staff(session, None, role))


def test_gap_list_takes_the_same_queries_for_one_or_many_rows(session, manager, counsellor):
    case = make_case(session, counsellor)
    make_episode(session, counsellor, case, "UO1")
    with counted_queries(session) as one:
        missing_proofs(session=session, actor=manager)
    for code in ("UO1", "UO2.1", "UO2.2") * 3:
        make_episode(session, counsellor, case, code)
    with counted_queries(session) as many:
        missing_proofs(session=session, actor=manager)
    assert len(one) == len(many) <= 4


def test_requirement_rows_belong_to_the_kinds_operator(session, ara, admin):
    data = DeliverableKindEdit(label="Attestation", unit_ids=[unit_id(session, "UO1")])
    created = proof_catalogue.create_kind(session=session, actor=admin, data=data)
    rows = session.exec(
        select(UnitProofRequirement).where(UnitProofRequirement.kind_id == created.id)
    ).all()
    assert [(r.operator_id, r.unit_id) for r in rows] == [(ara.id, unit_id(session, "UO1"))]
