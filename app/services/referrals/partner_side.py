"""The partner's side of a referral, without an account: a signed single-use link from the
e-mail to accept or decline, then a second one to say how it went."""

from dataclasses import dataclass

from sqlmodel import Session, select

from app.core.db import all_or_nothing
from app.core.errors import Conflict, NotFound
from app.core.security import InvalidToken, read_link_claims, tokens_match
from app.models.bounds import MAX_ROW_ID
from app.models.cases import Case
from app.models.nomenclatures import ReferralOutcome
from app.models.operators import Operator
from app.models.partners import Partner, Referral, ReferralStatus
from app.models.staff import StaffUser
from app.services.cases.lifecycle import case_time_zone
from app.services.referrals.messages import LINK_PURPOSE, queue_outcome_request
from app.services.referrals.workflow import record_answer

S = ReferralStatus
ALREADY_ANSWERED = "Cette réponse a déjà été enregistrée. Merci !"
# Why a link that was genuine no longer acts, by the referral's status.
_CLOSED_NOTICES = {
    S.ABANDONED: "Cette orientation a été abandonnée : aucune réponse n'est plus attendue.",
    S.EXPIRED: (
        "Le délai de réponse est dépassé. Le conseiller ou la conseillère vous recontactera "
        "si l'orientation est toujours d'actualité."
    ),
}


class InvalidLink(NotFound):
    default_message = (
        "Ce lien n'est pas valide ou a expiré. Si vous pensez qu'il s'agit d'une erreur, "
        "contactez le conseiller ou la conseillère qui vous a écrit."
    )


class LinkUsed(Conflict):
    """A genuine link that has done its job; the page says so instead of acting twice."""

    default_message = ALREADY_ANSWERED


@dataclass
class PartnerLink:
    """What the partner's page shows; `stage` is "decide", "report" or "answered"."""

    referral: Referral
    partner: Partner
    operator: Operator
    counsellor: StaffUser | None
    time_zone: str
    stage: str

    @property
    def notice(self) -> str:
        return _CLOSED_NOTICES.get(S(self.referral.status), ALREADY_ANSWERED)


def open_partner_link(*, session: Session, token: str) -> PartnerLink:
    """The referral a link points to and what it still allows; InvalidLink when forged."""
    return _open(session, token, lock=False)


@all_or_nothing
def partner_decides(*, session: Session, token: str, accept: bool, reason: str = "") -> PartnerLink:
    """Accept (a second link to report the outcome follows by e-mail) or decline with a reason."""
    link = _open(session, token, lock=True)
    if link.stage != "decide":
        raise LinkUsed()
    referral = link.referral
    if not accept:
        record_answer(session, referral, S.DECLINED, actor=None, via="partner_link", reason=reason)
        link.stage = "answered"
        return link
    record_answer(session, referral, S.ACCEPTED, actor=None, via="partner_link")
    _send_outcome_link(session, link)
    link.stage = "answered"
    return link


@all_or_nothing
def partner_reports_outcome(
    *,
    session: Session,
    token: str,
    outcome: ReferralOutcome | str | None,
    note: str = "",
    in_progress_only: bool = False,
) -> PartnerLink:
    """Under way (the link keeps working) or completed with its outcome (the link is used up)."""
    link = _open(session, token, lock=True)
    if link.stage != "report":
        raise LinkUsed()
    referral = link.referral
    if in_progress_only:
        if referral.status == S.ACCEPTED:
            record_answer(
                session, referral, S.IN_PROGRESS, actor=None, via="partner_link", note=note
            )
        return link
    record_answer(
        session,
        referral,
        S.COMPLETED,
        actor=None,
        via="partner_link",
        outcome=outcome,
        note=note,
    )
    link.stage = "answered"
    return link


def _open(session: Session, token: str, *, lock: bool) -> PartnerLink:
    try:
        referral_id, nonce = read_link_claims(token, purpose=LINK_PURPOSE)
    except InvalidToken as exc:
        raise InvalidLink() from exc
    referral = _load(session, referral_id, lock=lock) if 1 <= referral_id <= MAX_ROW_ID else None
    if referral is None or not nonce:
        raise InvalidLink()
    case = session.get(Case, referral.case_id)
    return PartnerLink(
        referral=referral,
        partner=session.get(Partner, referral.partner_id),
        operator=session.get(Operator, referral.operator_id),
        counsellor=session.get(StaffUser, referral.created_by_id)
        if referral.created_by_id
        else None,
        time_zone=case_time_zone(session, case),
        stage=_stage(referral, nonce),
    )


def _load(session: Session, referral_id: int, *, lock: bool) -> Referral | None:
    query = select(Referral).where(Referral.id == referral_id)
    if lock:
        # Two clicks at once: the second waits, then finds the link used (PostgreSQL; SQLite
        # already serialises writers).
        query = query.with_for_update().execution_options(populate_existing=True)
    return session.exec(query).first()


def _stage(referral: Referral, nonce: str) -> str:
    if not tokens_match(referral.link_nonce, nonce):
        return "answered"
    if referral.status == S.SENT:
        return "decide"
    if referral.status in (S.ACCEPTED, S.IN_PROGRESS):
        return "report"
    return "answered"


def _send_outcome_link(session: Session, link: PartnerLink) -> None:
    if link.partner.email:  # otherwise the counsellor follows up and records the outcome
        queue_outcome_request(
            session=session,
            referral=link.referral,
            partner=link.partner,
            counsellor=link.counsellor,
        )
