"""Referrals: proposal with consent, the status machine, partner links, expiry, follow-up,
counts and document lines."""

import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlmodel import select

from app.core.config import get_settings
from app.core.errors import Conflict, Invalid, NotFound
from app.core.security import create_link_token
from app.models.beneficiaries import Beneficiary
from app.models.cases import CaseClose
from app.models.consents import ConsentChannel, ConsentPurpose, ConsentRecord
from app.models.nomenclatures import CloseReason, ReferralOutcome
from app.models.outbox import OutboxMessage
from app.models.partners import (
    Referral,
    ReferralCreate,
    ReferralEvent,
    ReferralStatus,
    ReferralTransition,
)
from app.services.cases.lifecycle import close_case
from app.services.privacy.consents import withdraw
from app.services.referrals.partner_side import (
    InvalidLink,
    LinkUsed,
    open_partner_link,
    partner_decides,
    partner_reports_outcome,
)
from app.services.referrals.views import (
    awaiting_answer,
    follow_up_due,
    referral_counts,
    referral_lines,
    referral_panel,
    referral_timeline_entries,
    referrals_of_case,
)
from app.services.referrals.workflow import (
    TRANSITIONS,
    change_status,
    expire_unanswered,
    mark_sent_manually,
    move,
    propose_referral,
    send_referral,
)
from tests.factories import (
    make_case,
    make_interaction,
    make_operator,
    make_partner,
    make_staff,
    outbox_messages,
    paris_today,
)

# The clock of tests/conftest.py: a follow-up date of today, computed here, stays today (not
# yesterday, hence refused as past) when the service checks it a moment later.
pytestmark = pytest.mark.usefixtures("clock")

S = ReferralStatus
LINK = re.compile(r"https?://\S+/partenaire/orientations/(\S+)")


@pytest.fixture
def case(session, counsellor):
    return make_case(session, counsellor, request_text="Demande confidentielle du bénéficiaire")


@pytest.fixture
def partner(session, counsellor):
    operator = make_operator(session)
    return make_partner(session, operator, name="CIBC Lyon", email="accueil@cibc-lyon.fr")


def propose(session, actor, case, partner, **overrides) -> Referral:
    values = {
        "partner_id": partner.id,
        "purpose": "Bilan de compétences pour valider le projet d'aide-soignante",
        "shared_information": "Nom : Zoé Lefèvre\nTéléphone : 06 12 34 56 78",
        "consent": True,
        **overrides,
    }
    return propose_referral(
        session=session, actor=actor, case_id=case.id, data=ReferralCreate(**values)
    )


def events(session, referral) -> list[tuple[str | None, str, str]]:
    rows = session.exec(
        select(ReferralEvent)
        .where(ReferralEvent.referral_id == referral.id)
        .order_by(ReferralEvent.id)
    )
    return [(e.from_status, e.to_status, e.via) for e in rows]


def token_of(message: OutboxMessage) -> str:
    return LINK.search(message.body_text).group(1)


def sent(session, counsellor, case, partner, **overrides) -> tuple[Referral, str]:
    """A referral e-mailed to the partner, and the token of its decision link."""
    referral = propose(session, counsellor, case, partner, **overrides)
    message = send_referral(session=session, actor=counsellor, referral_id=referral.id)
    return referral, token_of(message)


# ---- proposing ----------------------------------------------------------------------------


def test_proposal_records_consent_and_history_and_touches_the_case(
    session, counsellor, case, partner
):
    before = case.last_activity_at
    referral = propose(session, counsellor, case, partner, follow_up_on=paris_today())
    assert referral.status == "proposed" and referral.consent_at is not None
    assert referral.created_by_id == counsellor.id and referral.follow_up_on == paris_today()
    assert events(session, referral) == [(None, "proposed", "counsellor")]
    assert case.last_activity_at >= before
    assert outbox_messages(session) == []


@pytest.mark.parametrize("partner_id", [999_999, 2_147_483_647])
def test_an_unknown_partner_is_refused(session, counsellor, case, partner_id):
    with pytest.raises(Invalid) as refused:
        propose(session, counsellor, case, SimpleNamespace(id=partner_id))
    assert refused.value.fields == {"partner_id": "Partenaire inconnu"}
    assert session.exec(select(Referral)).all() == []


def test_a_partner_of_another_operator_is_unknown(session, counsellor, case):
    other = make_partner(session, make_operator(session, "BRE", "Bretagne"))
    with pytest.raises(Invalid) as refused:
        propose(session, counsellor, case, other)
    assert refused.value.fields["partner_id"] == "Partenaire inconnu"


def test_an_inactive_partner_is_refused(session, counsellor, case, partner):
    partner.active = False
    with pytest.raises(Invalid) as refused:
        propose(session, counsellor, case, partner)
    assert "plus actif" in refused.value.fields["partner_id"]


def test_a_closed_case_takes_no_referral(session, counsellor, case, partner):
    close_case(
        session=session,
        actor=counsellor,
        case_id=case.id,
        data=CaseClose(reason=CloseReason.COMPLETED),
    )
    with pytest.raises(Conflict, match="Ce dossier est clos"):
        propose(session, counsellor, case, partner)
    assert session.exec(select(Referral)).all() == []


NOT_AGREED = "pas donné son accord pour que ses informations soient transmises à CIBC Lyon"


def test_a_referral_without_the_persons_agreement_to_share_is_refused(
    session, counsellor, case, partner
):
    unchecked = ReferralCreate(partner_id=partner.id, purpose="Bilan", consent=False)
    with pytest.raises(Invalid) as refused:
        propose_referral(session=session, actor=counsellor, case_id=case.id, data=unchecked)
    assert NOT_AGREED in refused.value.fields["consent"]
    assert session.exec(select(Referral)).all() == []


def test_the_box_ticked_records_the_agreement_with_the_text_shown(
    session, counsellor, case, partner
):
    referral = propose(session, counsellor, case, partner)
    record = session.exec(select(ConsentRecord)).one()
    assert (record.purpose, record.partner_id, record.given) == (
        "partner_share",
        partner.id,
        True,
    )
    assert (record.text_code, record.text_version, record.channel) == (
        "partage-partenaire",
        1,
        "interview",
    )
    assert record.recorded_by_id == counsellor.id and referral.consent_at == record.at


def test_an_agreement_already_recorded_for_the_partner_is_enough(
    session, counsellor, case, partner
):
    propose(session, counsellor, case, partner)
    again = ReferralCreate(partner_id=partner.id, purpose="Second bilan", consent=False)
    propose_referral(session=session, actor=counsellor, case_id=case.id, data=again)
    assert len(session.exec(select(Referral)).all()) == 2
    assert len(session.exec(select(ConsentRecord)).all()) == 1


def test_a_withdrawn_agreement_stops_the_referral_from_being_sent(
    session, counsellor, case, partner
):
    referral = propose(session, counsellor, case, partner)
    person = session.get(Beneficiary, case.beneficiary_id)
    withdraw(
        session=session,
        person=person,
        purpose=ConsentPurpose.PARTNER_SHARE,
        actor=counsellor,
        how=ConsentChannel.PHONE,
        partner_id=partner.id,
    )
    with pytest.raises(Conflict, match="a retiré son accord au partage"):
        send_referral(session=session, actor=counsellor, referral_id=referral.id)
    again = ReferralCreate(partner_id=partner.id, purpose="Bilan", consent=False)
    with pytest.raises(Invalid):
        propose_referral(session=session, actor=counsellor, case_id=case.id, data=again)


@pytest.mark.parametrize("days", [-1, 400])
def test_follow_up_date_is_not_past_nor_beyond_a_year(session, counsellor, case, partner, days):
    with pytest.raises(Invalid) as refused:
        propose(session, counsellor, case, partner, follow_up_on=paris_today() + timedelta(days))
    assert "follow_up_on" in refused.value.fields


def test_another_operator_cannot_refer_from_the_case(session, case, partner):
    stranger = make_staff(session, make_operator(session, "BRE", "Bretagne"))
    with pytest.raises(NotFound):
        propose(session, stranger, case, partner)


# ---- sending ------------------------------------------------------------------------------


def test_the_email_carries_only_the_shared_information_and_a_link(
    session, counsellor, case, partner
):
    make_interaction(
        session, counsellor, case, summary="Synthèse de l'entretien", private_notes="Secret"
    )
    referral = propose(session, counsellor, case, partner, send_now=True)
    [message] = outbox_messages(session)
    assert referral.status == "sent" and referral.link_nonce
    assert message.recipient == "accueil@cibc-lyon.fr" and message.case_id == case.id
    assert message.operator_id == case.operator_id
    text = message.body_text
    assert "Camille Martin" in text and "Auvergne-Rhône-Alpes" in text
    assert "valider le projet d'aide-soignante" in text and "06 12 34 56 78" in text
    for private in ("Secret", "Synthèse de l'entretien", "Demande confidentielle", "zoe"):
        assert private not in text
    assert LINK.search(text)


def test_a_partner_without_email_cannot_be_emailed_but_can_be_marked_sent(
    session, counsellor, case
):
    partner = make_partner(session, make_operator(session), email=None)
    referral = propose(session, counsellor, case, partner)
    with pytest.raises(Conflict, match="n'a pas d'adresse e-mail"):
        send_referral(session=session, actor=counsellor, referral_id=referral.id)
    with pytest.raises(Invalid) as refused:
        propose(session, counsellor, case, partner, send_now=True)
    assert "send_now" in refused.value.fields
    mark_sent_manually(session=session, actor=counsellor, referral_id=referral.id, note="appel")
    assert referral.status == "sent" and referral.link_nonce is None
    assert events(session, referral)[-1] == ("proposed", "sent", "counsellor")
    assert outbox_messages(session) == []


# ---- the status machine -------------------------------------------------------------------

ALL_MOVES = [(a.value, b.value) for a in S for b in S]


@pytest.mark.parametrize(("current", "target"), ALL_MOVES)
def test_the_machine_allows_exactly_its_table(session, counsellor, case, partner, current, target):
    referral = propose(session, counsellor, case, partner)
    referral.status = current
    session.add(referral)
    session.flush()
    count = len(events(session, referral))
    if target in TRANSITIONS[S(current)]:
        move(session, referral, target, actor=counsellor, via="counsellor")
        assert referral.status == target
        assert events(session, referral)[-1] == (current, target, "counsellor")
    else:
        with pytest.raises(Conflict):
            move(session, referral, target, actor=counsellor, via="counsellor")
        assert referral.status == current and len(events(session, referral)) == count


def test_completed_cannot_go_back_to_sent_and_nothing_changes(session, counsellor, case, partner):
    referral = propose(session, counsellor, case, partner)
    for target in ("sent", "accepted"):
        change_status(
            session=session,
            actor=counsellor,
            referral_id=referral.id,
            data=ReferralTransition(to=target),
        )
    done = ReferralTransition(to="completed", outcome="achieved", note="Bilan réalisé")
    change_status(session=session, actor=counsellor, referral_id=referral.id, data=done)
    history = events(session, referral)
    with pytest.raises(Conflict) as refused:
        change_status(
            session=session,
            actor=counsellor,
            referral_id=referral.id,
            data=ReferralTransition(to="sent"),
        )
    assert refused.value.message == (
        "Une orientation terminée ne peut pas repasser à « Envoyée au partenaire »."
    )
    session.refresh(referral)
    assert referral.status == "completed" and referral.outcome == "achieved"
    assert referral.outcome_note == "Bilan réalisé" and referral.closed_at is not None
    assert events(session, referral) == history


def test_full_counsellor_path_is_kept_in_the_history(session, counsellor, case, partner):
    referral = propose(session, counsellor, case, partner)
    for target in ("sent", "accepted", "in_progress"):
        change_status(
            session=session,
            actor=counsellor,
            referral_id=referral.id,
            data=ReferralTransition(to=target),
        )
    change_status(
        session=session,
        actor=counsellor,
        referral_id=referral.id,
        data=ReferralTransition(to="completed", outcome=ReferralOutcome.PARTLY),
    )
    assert [(a, b) for a, b, _ in events(session, referral)] == [
        (None, "proposed"),
        ("proposed", "sent"),
        ("sent", "accepted"),
        ("accepted", "in_progress"),
        ("in_progress", "completed"),
    ]
    assert referral.answered_at and referral.sent_at


def test_a_refusal_needs_a_reason_and_an_end_needs_an_outcome(session, counsellor, case, partner):
    referral = propose(session, counsellor, case, partner)
    mark_sent_manually(session=session, actor=counsellor, referral_id=referral.id)
    with pytest.raises(Invalid) as no_reason:
        change_status(
            session=session,
            actor=counsellor,
            referral_id=referral.id,
            data=ReferralTransition(to="declined", reason="  "),
        )
    assert "reason" in no_reason.value.fields
    change_status(
        session=session,
        actor=counsellor,
        referral_id=referral.id,
        data=ReferralTransition(to="accepted"),
    )
    with pytest.raises(Invalid) as no_outcome:
        change_status(
            session=session,
            actor=counsellor,
            referral_id=referral.id,
            data=ReferralTransition(to="completed"),
        )
    assert "outcome" in no_outcome.value.fields
    assert referral.status == "accepted"


def test_expiry_is_the_systems_not_a_counsellors(session, counsellor, case, partner):
    referral, _ = sent(session, counsellor, case, partner)
    with pytest.raises(Conflict, match="automatique"):
        change_status(
            session=session,
            actor=counsellor,
            referral_id=referral.id,
            data=ReferralTransition(to="expired"),
        )


# ---- expiry -------------------------------------------------------------------------------


def test_a_referral_expires_after_the_configured_days_without_answer(
    session, counsellor, case, partner
):
    referral, token = sent(session, counsellor, case, partner)
    days = get_settings().referral_answer_days
    deadline = referral.sent_at + timedelta(days=days)
    assert expire_unanswered(session=session, now=deadline - timedelta(minutes=1)) == 0
    assert expire_unanswered(session=session, now=deadline) == 1
    assert referral.status == "expired" and referral.link_nonce is None
    event = session.exec(select(ReferralEvent).order_by(ReferralEvent.id.desc())).first()
    assert (event.via, event.actor_id, event.at) == ("system", None, deadline)
    link = open_partner_link(session=session, token=token)
    assert link.stage == "answered" and "délai de réponse est dépassé" in link.notice
    # Sent again by e-mail: a new link, a new wait.
    message = send_referral(session=session, actor=counsellor, referral_id=referral.id)
    assert referral.status == "sent"
    assert open_partner_link(session=session, token=token_of(message)).stage == "decide"


def test_an_answered_referral_never_expires(session, counsellor, case, partner):
    _referral, token = sent(session, counsellor, case, partner)
    partner_decides(session=session, token=token, accept=True)
    later = referrals_of_case(session=session, actor=counsellor, case_id=case.id)[0]
    assert expire_unanswered(session=session, now=later.referral.sent_at + timedelta(days=400)) == 0


# ---- the partner's links ------------------------------------------------------------------


def test_a_decision_link_works_once_then_a_second_link_reports_the_outcome(
    session, counsellor, case, partner
):
    referral, token = sent(session, counsellor, case, partner)
    link = open_partner_link(session=session, token=token)
    assert link.stage == "decide" and link.counsellor.id == counsellor.id
    partner_decides(session=session, token=token, accept=True)
    assert referral.status == "accepted" and referral.answered_at
    assert events(session, referral)[-1] == ("sent", "accepted", "partner_link")
    assert open_partner_link(session=session, token=token).stage == "answered"
    with pytest.raises(LinkUsed, match="déjà été enregistrée"):
        partner_decides(session=session, token=token, accept=False, reason="Trop tard")
    assert referral.status == "accepted"

    second = outbox_messages(session)[-1]
    assert second.recipient == "accueil@cibc-lyon.fr" and "issue" in second.subject
    outcome_token = token_of(second)
    assert open_partner_link(session=session, token=outcome_token).stage == "report"
    partner_reports_outcome(
        session=session, token=outcome_token, outcome=None, in_progress_only=True
    )
    assert referral.status == "in_progress"
    assert open_partner_link(session=session, token=outcome_token).stage == "report"
    partner_reports_outcome(
        session=session, token=outcome_token, outcome="achieved", note="Bilan remis"
    )
    assert (referral.status, referral.outcome, referral.outcome_note) == (
        "completed",
        "achieved",
        "Bilan remis",
    )
    with pytest.raises(LinkUsed):
        partner_reports_outcome(session=session, token=outcome_token, outcome="partly")


def test_a_partner_declines_with_a_reason_only(session, counsellor, case, partner):
    referral, token = sent(session, counsellor, case, partner)
    with pytest.raises(Invalid):
        partner_decides(session=session, token=token, accept=False, reason="")
    assert (
        referral.status == "sent"
        and open_partner_link(session=session, token=token).stage == "decide"
    )
    partner_decides(session=session, token=token, accept=False, reason="Hors territoire")
    assert (referral.status, referral.decline_reason) == ("declined", "Hors territoire")
    assert len(outbox_messages(session)) == 1  # no second link after a refusal


def test_the_outcome_needs_a_known_value(session, counsellor, case, partner):
    referral, token = sent(session, counsellor, case, partner)
    partner_decides(session=session, token=token, accept=True)
    outcome_token = token_of(outbox_messages(session)[-1])
    with pytest.raises(Invalid) as refused:
        partner_reports_outcome(session=session, token=outcome_token, outcome="excellent")
    assert "outcome" in refused.value.fields and referral.status == "accepted"


def test_tampered_expired_and_foreign_links_are_refused(session, counsellor, case, partner):
    referral, token = sent(session, counsellor, case, partner)
    forged = [
        token[:-3] + ("abc" if not token.endswith("abc") else "xyz"),
        create_link_token(
            purpose="referral",
            subject_id=referral.id,
            lifetime=timedelta(seconds=-1),
            nonce=referral.link_nonce,
        ),
        create_link_token(purpose="document", subject_id=referral.id, nonce=referral.link_nonce),
        create_link_token(purpose="referral", subject_id=referral.id),  # no nonce
        create_link_token(purpose="referral", subject_id=999_999, nonce="x"),
        "pas-un-jeton",
    ]
    for bad in forged:
        with pytest.raises(InvalidLink):
            open_partner_link(session=session, token=bad)
        with pytest.raises(InvalidLink):
            partner_decides(session=session, token=bad, accept=True)
    assert referral.status == "sent"


def test_a_genuine_link_with_an_old_nonce_says_already_answered(session, counsellor, case, partner):
    referral, _ = sent(session, counsellor, case, partner)
    old = create_link_token(purpose="referral", subject_id=referral.id, nonce="ancien")
    assert open_partner_link(session=session, token=old).stage == "answered"


def test_an_abandoned_referral_tells_the_partner_so(session, counsellor, case, partner):
    referral, token = sent(session, counsellor, case, partner)
    change_status(
        session=session,
        actor=counsellor,
        referral_id=referral.id,
        data=ReferralTransition(to="abandoned"),
    )
    link = open_partner_link(session=session, token=token)
    assert link.stage == "answered" and "abandonnée" in link.notice


# ---- reading ------------------------------------------------------------------------------


def test_case_panel_and_timeline_list_referrals_with_their_history(
    session, counsellor, case, partner
):
    referral, token = sent(session, counsellor, case, partner)
    partner_decides(session=session, token=token, accept=True)
    panel = referral_panel(session=session, actor=counsellor, case_id=case.id)
    [row] = panel.rows
    assert row.partner.name == "CIBC Lyon" and row.message.subject.startswith("Orientation n°")
    assert "issue" in row.message.subject  # the last e-mail about it
    assert row.targets == ["in_progress", "completed", "abandoned"]
    assert panel.partner_groups == [("Bilan de compétences", [(partner.id, "CIBC Lyon")])]
    assert panel.shared_default.startswith("Nom : Zoé")
    entries = referral_timeline_entries(session=session, rows=panel.rows)
    assert [e.event.to_status for e in entries] == ["proposed", "sent", "accepted"]
    assert entries[0].author.id == counsellor.id and entries[-1].author is None


def test_home_lists_follow_the_counsellors_own_cases(session, counsellor, case, partner):
    colleague = make_staff(session, make_operator(session))
    other_case = make_case(session, colleague)
    waiting, _ = sent(session, counsellor, case, partner)
    propose(session, colleague, other_case, partner, send_now=True)
    due = propose(session, counsellor, case, partner, follow_up_on=paris_today())
    assert [r.referral.id for r in awaiting_answer(session=session, actor=counsellor)] == [
        waiting.id
    ]
    tomorrow = paris_today() + timedelta(days=1)
    listed = follow_up_due(session=session, actor=counsellor, today=tomorrow)
    assert [r.referral.id for r in listed] == [due.id]
    assert listed[0].beneficiary.id == case.beneficiary_id
    change_status(
        session=session,
        actor=counsellor,
        referral_id=due.id,
        data=ReferralTransition(to="abandoned"),
    )
    assert follow_up_due(session=session, actor=counsellor, today=tomorrow) == []


def test_counts_by_partner_type_status_and_outcome(session, counsellor, case, partner):
    apec = make_partner(session, make_operator(session), type="apec")
    first, token = sent(session, counsellor, case, partner)
    partner_decides(session=session, token=token, accept=True)
    change_status(
        session=session,
        actor=counsellor,
        referral_id=first.id,
        data=ReferralTransition(to="completed", outcome="achieved"),
    )
    propose(session, counsellor, case, apec)
    propose(session, counsellor, case, partner)
    elsewhere = make_staff(session, make_operator(session, "BRE", "Bretagne"))
    make_partner(session, make_operator(session, "BRE", "Bretagne"))
    make_case(session, elsewhere)
    counts = referral_counts(session=session, operator_id=case.operator_id)
    assert counts == {
        "total": 3,
        "by_partner_type": {"bilan_competences": 2, "apec": 1},
        "by_status": {"completed": 1, "proposed": 2},
        "by_outcome": {"achieved": 1},
    }
    later = first.created_at + timedelta(days=1)
    assert referral_counts(session=session, operator_id=case.operator_id, start=later)["total"] == 0


def test_document_lines_leave_abandoned_referrals_out(session, counsellor, case, partner):
    kept = propose(session, counsellor, case, partner)
    dropped = propose(session, counsellor, case, partner, purpose="Piste abandonnée")
    change_status(
        session=session,
        actor=counsellor,
        referral_id=dropped.id,
        data=ReferralTransition(to="abandoned"),
    )
    lines = referral_lines(session=session, case_id=case.id)
    assert lines == [
        "CIBC Lyon (Bilan de compétences) : Bilan de compétences pour valider le projet "
        "d'aide-soignante — Proposée"
    ]
    assert kept.status == "proposed"
