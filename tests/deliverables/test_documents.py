"""Deliverables: drafted from the case, edited, issued as frozen versions, shared, acknowledged."""

from datetime import timedelta

import pytest
from sqlmodel import select

from app.core.errors import Conflict, Invalid, NotFound
from app.core.security import create_link_token
from app.core.storage import sha256_of
from app.models.cases import CaseClose
from app.models.deliverables import DeliverableDraft
from app.models.nomenclatures import CloseReason
from app.models.outbox import OutboxMessage
from app.services.cases.lifecycle import close_case
from app.services.deliverables.documents import (
    deliverables_of_case,
    issue_deliverable,
    save_draft,
    start_draft,
    version_pdf,
)
from app.services.deliverables.sharing import (
    InvalidLink,
    acknowledge_online,
    open_shared_document,
    share_version,
)
from tests.factories import (
    deliverable_kind,
    draft,
    make_case,
    make_episode,
    make_interaction,
    make_operator,
    make_staff,
)


def test_draft_is_prefilled_from_request_and_shared_summaries_never_private_notes(
    session, counsellor
):
    case = make_case(session, counsellor, request_text="Se reconvertir dans le soin")
    make_interaction(
        session, counsellor, case, summary="Point sur le parcours", private_notes="Fatigue"
    )
    make_interaction(session, counsellor, case, summary="Piste aide-soignante")
    deliverable = draft(session, counsellor, case)
    text = " ".join(s["body"] for s in deliverable.sections)
    titles = [s["title"] for s in deliverable.sections]
    assert "Se reconvertir dans le soin" in text
    assert "Point sur le parcours" in text and "Piste aide-soignante" in text
    assert "Fatigue" not in text
    assert titles[:2] == ["Votre demande", "Ce que nous avons travaillé ensemble"]
    assert "Projet retenu" in titles


def test_draft_for_an_episode_takes_only_that_episodes_interactions(session, counsellor):
    case = make_case(session, counsellor)
    first = make_episode(session, counsellor, case, "UO1")
    second = make_episode(session, counsellor, case, "UO2.1")
    make_interaction(session, counsellor, case, episode_id=first.id, summary="Premier accueil")
    make_interaction(session, counsellor, case, episode_id=second.id, summary="Projet co-construit")
    deliverable = draft(session, counsellor, case, episode=second)
    text = " ".join(s["body"] for s in deliverable.sections)
    assert "Projet co-construit" in text and "Premier accueil" not in text


def test_kind_of_another_operator_is_refused(session, counsellor):
    case = make_case(session, counsellor)
    other = make_operator(session, code="BRE", name="Bretagne")
    with pytest.raises(Invalid):
        start_draft(
            session=session,
            actor=counsellor,
            case_id=case.id,
            data=DeliverableDraft(kind_id=deliverable_kind(session, other.id).id),
        )


def test_issuing_freezes_a_version_with_its_pdf_and_hash(session, counsellor):
    case = make_case(session, counsellor)
    deliverable = draft(session, counsellor, case)
    save_draft(
        session=session,
        actor=counsellor,
        deliverable_id=deliverable.id,
        bodies={"libre-1": "Devenir aide-soignante"},
    )
    version = issue_deliverable(session=session, actor=counsellor, deliverable_id=deliverable.id)
    pdf = version_pdf(version)
    assert version.number == 1 and pdf.startswith(b"%PDF")
    assert version.sha256 == sha256_of(pdf) and version.size_bytes == len(pdf)
    assert version.content["sections"][2]["body"] == "Devenir aide-soignante"
    assert version.content["counsellor_name"] == "Camille Martin"
    with pytest.raises(Conflict):
        issue_deliverable(session=session, actor=counsellor, deliverable_id=deliverable.id)


def test_editing_after_issue_prepares_the_next_version_and_keeps_the_first(session, counsellor):
    case = make_case(session, counsellor)
    deliverable = draft(session, counsellor, case)
    first = issue_deliverable(session=session, actor=counsellor, deliverable_id=deliverable.id)
    save_draft(
        session=session, actor=counsellor, deliverable_id=deliverable.id, bodies={"libre-1": "v2"}
    )
    assert deliverable.status == "draft"
    second = issue_deliverable(session=session, actor=counsellor, deliverable_id=deliverable.id)
    assert (first.number, second.number) == (1, 2)
    assert first.content["sections"][2]["body"] == "" and version_pdf(first) != version_pdf(second)


def test_saving_unchanged_text_keeps_the_issued_status(session, counsellor):
    case = make_case(session, counsellor)
    deliverable = draft(session, counsellor, case)
    issue_deliverable(session=session, actor=counsellor, deliverable_id=deliverable.id)
    body = deliverable.sections[0]["body"]
    save_draft(
        session=session, actor=counsellor, deliverable_id=deliverable.id, bodies={"demande": body}
    )
    assert deliverable.status == "issued"


def test_closed_case_refuses_drafts(session, counsellor):
    case = make_case(session, counsellor)
    close_case(
        session=session,
        actor=counsellor,
        case_id=case.id,
        data=CaseClose(reason=CloseReason.COMPLETED),
    )
    with pytest.raises(Conflict):
        draft(session, counsellor, case)


def test_another_operator_cannot_see_the_deliverables(session, counsellor):
    case = make_case(session, counsellor)
    draft(session, counsellor, case)
    stranger = make_staff(session, make_operator(session, code="BRE", name="Bretagne"))
    with pytest.raises(NotFound):
        deliverables_of_case(session=session, actor=stranger, case_id=case.id)


def test_sharing_queues_an_email_with_a_link_that_opens_the_version(session, counsellor):
    case = make_case(session, counsellor)
    deliverable = draft(session, counsellor, case)
    version = issue_deliverable(session=session, actor=counsellor, deliverable_id=deliverable.id)
    message = share_version(
        session=session, actor=counsellor, deliverable_id=deliverable.id, number=1
    )
    assert message.case_id == case.id and message.status == "pending"
    assert version.shared_message_id == message.id and version.shared_at is not None
    token = message.body_text.split("/documents/")[1].split()[0]
    assert open_shared_document(session=session, token=token).version.id == version.id


def test_sharing_needs_an_email_address_or_a_mobile(session, counsellor):
    """(By SMS to a mobile: tests/deliverables/test_sharing.py.)"""
    from tests.factories import make_beneficiary

    person = make_beneficiary(session, counsellor, email=None, phone="0478123456")
    case = make_case(session, counsellor, beneficiary=person)
    deliverable = draft(session, counsellor, case)
    issue_deliverable(session=session, actor=counsellor, deliverable_id=deliverable.id)
    with pytest.raises(Conflict):
        share_version(session=session, actor=counsellor, deliverable_id=deliverable.id, number=1)
    assert session.exec(select(OutboxMessage)).all() == []


def test_acknowledging_records_time_and_method_once(session, counsellor):
    case = make_case(session, counsellor)
    deliverable = draft(session, counsellor, case)
    version = issue_deliverable(session=session, actor=counsellor, deliverable_id=deliverable.id)
    token = create_link_token(purpose="document", subject_id=version.id)
    acknowledge_online(session=session, token=token)
    first = version.acknowledged_at
    acknowledge_online(session=session, token=token)
    assert version.acknowledgement_method == "online" and version.acknowledged_at == first


@pytest.mark.parametrize(
    "make_token",
    [
        lambda v: create_link_token(
            purpose="document", subject_id=v, lifetime=timedelta(seconds=-1)
        ),
        lambda v: create_link_token(purpose="document", subject_id=v)[:-3] + "abc",
        lambda v: create_link_token(purpose="partner", subject_id=v),
        lambda v: "not-a-token",
    ],
    ids=["expired", "tampered", "other-purpose", "garbage"],
)
def test_bad_links_are_refused(session, counsellor, make_token):
    case = make_case(session, counsellor)
    deliverable = draft(session, counsellor, case)
    version = issue_deliverable(session=session, actor=counsellor, deliverable_id=deliverable.id)
    with pytest.raises(InvalidLink):
        acknowledge_online(session=session, token=make_token(version.id))
    assert version.acknowledged_at is None


def test_the_issued_pdf_reads_the_beneficiary_the_sections_and_the_version(session, counsellor):
    from io import BytesIO

    from pypdf import PdfReader

    case = make_case(session, counsellor, request_text="Changer de voie après quinze ans")
    deliverable = draft(session, counsellor, case)
    save_draft(
        session=session, actor=counsellor, deliverable_id=deliverable.id, bodies={"libre-1": "v1"}
    )
    issue_deliverable(session=session, actor=counsellor, deliverable_id=deliverable.id)
    save_draft(
        session=session,
        actor=counsellor,
        deliverable_id=deliverable.id,
        bodies={"libre-1": "Reprendre des études d'infirmière"},
    )
    second = issue_deliverable(session=session, actor=counsellor, deliverable_id=deliverable.id)
    reader = PdfReader(BytesIO(version_pdf(second)))
    text = " ".join(page.extract_text() for page in reader.pages).replace("\u202f", " ")
    for expected in ("Zoé", "Votre demande", "Projet retenu", "Version 2", "quinze ans"):
        assert expected in text, expected
    assert "infirmière" in text and "Page 1 sur" in text


def test_a_document_de_synthese_lists_the_referrals_but_not_abandoned_ones(session, counsellor):
    from app.models.partners import ReferralCreate, ReferralTransition
    from app.services.referrals.workflow import change_status, propose_referral
    from tests.factories import make_partner

    case = make_case(session, counsellor)
    operator = make_operator(session)
    kept = make_partner(session, operator, name="Transitions Pro Auvergne-Rhône-Alpes")
    dropped = make_partner(session, operator, name="Apec Lyon")
    for partner in (kept, dropped):
        data = ReferralCreate(partner_id=partner.id, purpose="Financer la formation", consent=True)
        referral = propose_referral(session=session, actor=counsellor, case_id=case.id, data=data)
    change_status(
        session=session,
        actor=counsellor,
        referral_id=referral.id,
        data=ReferralTransition(to="abandoned"),
    )
    sections = {s["title"]: s["body"] for s in draft(session, counsellor, case).sections}
    assert "Transitions Pro Auvergne-Rhône-Alpes" in sections["Orientations proposées"]
    assert "Apec Lyon" not in sections["Orientations proposées"]
    plan = draft(session, counsellor, case, code="plan_action").sections
    assert "Orientations proposées" not in [s["title"] for s in plan]
