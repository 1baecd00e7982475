"""Drafts written by the work: each section of each kind starts from what the case recorded."""

from datetime import datetime, timedelta

from app.core.dates import format_date
from app.models.base import utcnow
from app.models.beneficiaries import Beneficiary
from app.models.cases import EpisodeEnd
from app.models.deliverables import ActionStepWrite, DeliverableDraft, StepStatus
from app.models.nomenclatures import StepOwner
from app.models.partners import ReferralCreate, ReferralTransition
from app.services.cases.episodes import cancel_episode, end_episode
from app.services.deliverables.action_plan import add_step, set_objective
from app.services.deliverables.documents import start_draft
from app.services.referrals.workflow import change_status, propose_referral
from tests.factories import (
    deliverable_kind,
    make_case,
    make_episode,
    make_interaction,
    make_operator,
    make_partner,
)

PARIS = "Europe/Paris"


def draft(session, actor, case, code, episode=None) -> dict[str, str]:
    data = DeliverableDraft(
        kind_id=deliverable_kind(session, case.operator_id, code).id,
        episode_id=episode.id if episode else None,
    )
    deliverable = start_draft(session=session, actor=actor, case_id=case.id, data=data)
    return {s["title"]: s["body"] for s in deliverable.sections}


def step(description, status=StepStatus.TODO, owner=StepOwner.BENEFICIARY, due_on=None):
    return ActionStepWrite(description=description, owner=owner, status=status, due_on=due_on)


def test_the_request_section_gives_the_motive_the_request_and_the_situation(session, counsellor):
    case = make_case(session, counsellor, request_text="Quitter la logistique pour le soin")
    beneficiary = session.get(Beneficiary, case.beneficiary_id)
    beneficiary.employment_status, beneficiary.diploma_level = "cdi", "4"
    session.add(beneficiary)
    body = draft(session, counsellor, case, "document_synthese")["Votre demande"]
    assert body == (
        "Motif : Se reconvertir.\n\nQuitter la logistique pour le soin\n\n"
        "Situation : CDI ; diplôme : Niveau 4 (baccalauréat)."
    )


def test_each_shared_summary_is_dated_in_order_and_private_notes_stay_out(session, counsellor):
    case = make_case(session, counsellor)
    now = utcnow()
    later, earlier = now - timedelta(days=2), now - timedelta(days=9)
    make_interaction(session, counsellor, case, occurred_at=later, summary="Deuxième point")
    make_interaction(
        session, counsellor, case, occurred_at=earlier, summary="Premier", private_notes="Fatigue"
    )
    make_interaction(session, counsellor, case, summary="", private_notes="Rien de partagé")
    body = draft(session, counsellor, case, "synthese_entretien")[
        "Ce que nous avons travaillé ensemble"
    ]
    assert body == (
        f"Entretien du {format_date(earlier, PARIS)} (téléphone) : Premier\n\n"
        f"Entretien du {format_date(later, PARIS)} (téléphone) : Deuxième point"
    )
    assert "Fatigue" not in body and "Rien de partagé" not in body


def test_interviews_typed_before_the_unit_was_started_belong_to_it(session, counsellor):
    """The issue's case: three interviews recorded « hors UO », then UO1 started and its
    synthesis drafted; they were left out and only « Votre demande » was filled."""
    case = make_case(session, counsellor, request_text="Faire le point")
    for days, summary in ((3, "Parcours"), (2, "Valeurs"), (1, "Pistes")):
        at = utcnow() - timedelta(days=days)
        make_interaction(session, counsellor, case, occurred_at=at, summary=summary)
    episode = make_episode(session, counsellor, case, "UO1")
    body = draft(session, counsellor, case, "synthese_entretien", episode)[
        "Ce que nous avons travaillé ensemble"
    ]
    assert [p.split(" : ")[1] for p in body.split("\n\n")] == ["Parcours", "Valeurs", "Pistes"]


def test_interviews_of_other_units_or_before_the_previous_unit_stay_out(session, counsellor):
    case = make_case(session, counsellor)
    first = make_episode(session, counsellor, case, "UO1")
    first.started_at = utcnow() - timedelta(days=20)
    session.add(first)
    at = utcnow() - timedelta(days=30)
    make_interaction(session, counsellor, case, occurred_at=at, summary="Avant tout")
    make_interaction(session, counsellor, case, episode_id=first.id, summary="Entretien N1")
    at = utcnow() - timedelta(days=5)
    make_interaction(session, counsellor, case, occurred_at=at, summary="Entre deux")
    second = make_episode(session, counsellor, case, "UO2.1")
    make_interaction(session, counsellor, case, episode_id=second.id, summary="Projet")
    body = draft(session, counsellor, case, "document_synthese", second)[
        "Ce que nous avons travaillé ensemble"
    ]
    assert "Entre deux" in body and "Projet" in body
    assert "Avant tout" not in body and "Entretien N1" not in body


def test_the_units_delivered_are_listed_with_their_dates_and_results(session, counsellor):
    case = make_case(session, counsellor)
    first = make_episode(session, counsellor, case, "UO1")
    first.started_at = datetime(2026, 10, 1, 8, tzinfo=first.started_at.tzinfo)
    session.add(first)
    data = EpisodeEnd(outcome="Projet à construire")
    end_episode(session=session, actor=counsellor, case_id=case.id, episode_id=first.id, data=data)
    second = make_episode(session, counsellor, case, "UO2.1")
    body = draft(session, counsellor, case, "document_synthese", second)[
        "Étapes de l'accompagnement"
    ]
    lines = body.split("\n")
    assert lines[0].startswith("- UO1 ")
    assert f" : du {format_date(first.started_at, PARIS)} au " in lines[0]
    assert lines[0].endswith(" — Projet à construire")
    assert lines[1].startswith("- UO2.1 ") and "en cours depuis le" in lines[1]


def test_a_unit_started_by_mistake_and_cancelled_is_not_listed(session, counsellor):
    case = make_case(session, counsellor)
    mistake = make_episode(session, counsellor, case, "UO2.2")
    cancel_episode(session=session, actor=counsellor, episode_id=mistake.id)
    kept = make_episode(session, counsellor, case, "UO2.1")
    body = draft(session, counsellor, case, "document_synthese", kept)["Étapes de l'accompagnement"]
    assert body.startswith("- UO2.1 ") and "UO2.2" not in body


def test_a_draft_without_units_has_no_units_section(session, counsellor):
    case = make_case(session, counsellor)
    assert "Étapes de l'accompagnement" not in draft(session, counsellor, case, "document_synthese")


def test_referrals_come_with_what_came_of_them(session, counsellor):
    case = make_case(session, counsellor)
    partner = make_partner(session, make_operator(session), name="Transitions Pro ARA")
    data = ReferralCreate(partner_id=partner.id, purpose="Financer la formation", consent=True)
    referral = propose_referral(session=session, actor=counsellor, case_id=case.id, data=data)
    for to in ("sent", "accepted", "completed"):
        change_status(
            session=session,
            actor=counsellor,
            referral_id=referral.id,
            data=ReferralTransition(to=to, outcome="achieved" if to == "completed" else None),
        )
    body = draft(session, counsellor, case, "document_synthese")["Orientations proposées"]
    assert body.startswith("Transitions Pro ARA (")
    assert "Financer la formation" in body and "Objectif atteint" in body


def test_the_plan_d_action_objective_comes_from_the_action_plan(session, counsellor):
    case = make_case(session, counsellor)
    objective = "Entrer en formation d'aide-soignante en septembre"
    set_objective(session=session, actor=counsellor, case_id=case.id, objective=objective)
    assert draft(session, counsellor, case, "plan_action")["Objectif"] == objective
    assert draft(session, counsellor, case, "document_synthese")["Projet retenu"] == objective


def test_next_steps_and_the_review_come_from_the_plan_steps(session, counsellor):
    case = make_case(session, counsellor)
    due = utcnow().date() + timedelta(days=30)
    for data in (
        step("Faire une immersion", StepStatus.DONE),
        step("Déposer le dossier", StepStatus.IN_PROGRESS, due_on=due),
        step("Contacter l'Apec", StepStatus.DROPPED, owner=StepOwner.COUNSELLOR),
    ):
        add_step(session=session, actor=counsellor, case_id=case.id, data=data)
    upcoming = draft(session, counsellor, case, "synthese_entretien")["Prochaines étapes"]
    assert upcoming.startswith("- Déposer le dossier (bénéficiaire, avant le ")
    assert "immersion" not in upcoming and "Apec" not in upcoming
    review = draft(session, counsellor, case, "suivi_mise_en_oeuvre")["Bilan de la mise en œuvre"]
    assert review.split("\n")[0] == "- Faire une immersion (bénéficiaire) : fait"
    assert review.split("\n")[2] == "- Contacter l'Apec (conseiller·ère) : abandonné"


def test_sections_nothing_was_recorded_for_start_empty(session, counsellor):
    case = make_case(session, counsellor)
    sections = draft(session, counsellor, case, "document_synthese")
    assert sections["Atouts et compétences mobilisables"] == ""
    assert sections["Projet retenu"] == ""
