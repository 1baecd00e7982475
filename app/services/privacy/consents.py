"""The person's consents: each agreement or withdrawal is a new record (the history is never
rewritten) and takes effect at once. The records are the source of truth; the dates kept on the
person (consent_at, survey_consent_at, survey_opt_out_at), which booking and surveys read,
follow from them here and nowhere else."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from app.core.errors import Invalid
from app.models.base import utcnow
from app.models.beneficiaries import Beneficiary
from app.models.consents import ConsentChannel, ConsentEntry, ConsentPurpose, ConsentRecord
from app.models.partners import Partner
from app.models.staff import StaffUser
from app.models.surveys import SurveyInvitation, SurveyStatus
from app.services.access.scope import get_owned, load_owned, owned_by
from app.services.admin.operators import time_zone_of
from app.services.privacy.consent_texts import CURRENT, ConsentText, text_of

# A survey not yet answered is closed when the person withdraws (as the opt-out link does).
_SURVEYS_TO_COME = (SurveyStatus.SCHEDULED.value, SurveyStatus.SENT.value)


def record_consent(
    *,
    session: Session,
    person: Beneficiary,
    purpose: ConsentPurpose,
    given: bool,
    actor: StaffUser | None,
    how: ConsentChannel,
    now: datetime | None = None,
    partner_id: int | None = None,
    shown: ConsentText | None = None,
) -> ConsentRecord:
    """Record an agreement (`given`) or a withdrawal, with the text shown (today's by default);
    `actor` is None when the person did it themselves."""
    now = now or utcnow()
    if (purpose == ConsentPurpose.PARTNER_SHARE) != (partner_id is not None):
        raise Invalid({"partner_id": "Le partage se consent pour un partenaire donné"})
    if (
        partner_id is not None
        and get_owned(session, Partner, partner_id, person.operator_id) is None
    ):
        raise Invalid({"partner_id": "Partenaire inconnu"})
    shown = shown or CURRENT[purpose]
    record = ConsentRecord(
        operator_id=person.operator_id,
        beneficiary_id=person.id,
        purpose=purpose.value,
        partner_id=partner_id,
        given=given,
        text_code=shown.code,
        text_version=shown.version,
        channel=how.value,
        at=now,
        recorded_by_id=actor.id if actor else None,
    )
    session.add(record)
    _follow_on_person(session, person, purpose, given, now)
    session.flush()
    return record


def withdraw(
    *,
    session: Session,
    person: Beneficiary,
    purpose: ConsentPurpose,
    actor: StaffUser | None,
    now: datetime | None = None,
    how: ConsentChannel,
    partner_id: int | None = None,
) -> ConsentRecord:
    """Withdraw a consent, effective at once: no survey invitation, reminder or referral to the
    partner goes out after it (for the rights queue and the person's page)."""
    return record_consent(
        session=session,
        person=person,
        purpose=purpose,
        given=False,
        actor=actor,
        how=how,
        now=now,
        partner_id=partner_id,
    )


def _follow_on_person(
    session: Session, person: Beneficiary, purpose: ConsentPurpose, given: bool, now: datetime
) -> None:
    """Keep the person's consent dates as the records say."""
    if purpose == ConsentPurpose.PROCESSING:
        person.consent_at = (person.consent_at or now) if given else None
    elif purpose == ConsentPurpose.SURVEYS and given:
        # Given again after an opt-out, it counts from now (Beneficiary.may_be_surveyed).
        if not person.may_be_surveyed:
            person.survey_consent_at = now
    elif purpose == ConsentPurpose.SURVEYS:
        if person.survey_consent_at is not None or person.survey_opt_out_at is None:
            person.survey_consent_at, person.survey_opt_out_at = None, now
        _close_surveys_to_come(session, person)
    else:
        return
    session.add(person)


def _close_surveys_to_come(session: Session, person: Beneficiary) -> None:
    session.execute(
        update(SurveyInvitation)
        .where(
            col(SurveyInvitation.beneficiary_id) == person.id,
            col(SurveyInvitation.status).in_(_SURVEYS_TO_COME),
        )
        .values(status=SurveyStatus.OPTED_OUT.value)
        .execution_options(synchronize_session="fetch")
    )


def _latest(
    session: Session, person_id: int, purpose: ConsentPurpose, partner_id: int | None = None
) -> ConsentRecord | None:
    query = select(ConsentRecord).where(
        ConsentRecord.beneficiary_id == person_id, ConsentRecord.purpose == purpose.value
    )
    if partner_id is not None:
        query = query.where(ConsentRecord.partner_id == partner_id)
    query = query.order_by(col(ConsentRecord.at).desc(), col(ConsentRecord.id).desc()).limit(1)
    return session.exec(query).first()


def share_consent(
    *, session: Session, person: Beneficiary, partner_id: int
) -> ConsentRecord | None:
    """The agreement in force to share with this partner, or None (never given, or withdrawn)."""
    latest = _latest(session, person.id, ConsentPurpose.PARTNER_SHARE, partner_id)
    return latest if latest is not None and latest.given else None


def may_contact(*, session: Session, person: Beneficiary, purpose: ConsentPurpose) -> bool:
    """May the person be written to by e-mail (or SMS)? Only a withdrawal says no: service
    messages went out before these records existed, and the person who gives an address when
    booking expects the confirmation."""
    latest = _latest(session, person.id, purpose)
    return latest is None or latest.given


@dataclass
class ConsentLine:
    """One record as the person's page shows it."""

    record: ConsentRecord
    purpose_label: str
    partner_name: str
    channel_label: str
    text: str
    recorded_by: str


@dataclass
class ConsentState:
    """Where one purpose (or one partner's sharing) stands now."""

    purpose: ConsentPurpose
    partner_id: int | None
    label: str
    latest: ConsentRecord | None

    @property
    def given(self) -> bool:
        return self.latest is not None and self.latest.given


def consent_history(*, session: Session, person: Beneficiary) -> list[ConsentLine]:
    """Every record of the person, newest first."""
    query = (
        select(ConsentRecord)
        .where(ConsentRecord.beneficiary_id == person.id)
        .order_by(col(ConsentRecord.at).desc(), col(ConsentRecord.id).desc())
    )
    records = list(session.exec(query))
    partners = _names(session, Partner, {r.partner_id for r in records}, lambda p: p.name)
    staff = _names(session, StaffUser, {r.recorded_by_id for r in records}, lambda u: u.full_name)
    return [
        ConsentLine(
            record=r,
            purpose_label=ConsentPurpose(r.purpose).label,
            partner_name=partners.get(r.partner_id, ""),
            channel_label=ConsentChannel(r.channel).label,
            text=text_of(r.text_code, r.text_version),
            recorded_by=staff.get(r.recorded_by_id, "La personne elle-même"),
        )
        for r in records
    ]


def _names(session: Session, model, ids: set, name) -> dict:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return {row.id: name(row) for row in session.exec(select(model).where(col(model.id).in_(ids)))}


def current_consents(*, session: Session, person: Beneficiary) -> list[ConsentState]:
    """Each purpose's state now; partner sharing once per partner ever recorded."""
    history = consent_history(session=session, person=person)
    states: dict[tuple, ConsentState] = {}
    for purpose in ConsentPurpose:
        if purpose != ConsentPurpose.PARTNER_SHARE:
            states[purpose, None] = ConsentState(purpose, None, purpose.label, None)
    for line in reversed(history):  # oldest first: the last one written wins
        r = line.record
        key = (ConsentPurpose(r.purpose), r.partner_id)
        label = f"Partage avec {line.partner_name}" if r.partner_id else line.purpose_label
        states[key] = ConsentState(key[0], r.partner_id, label, r)
    return list(states.values())


# ---- the person's page ----------------------------------------------------------------------


@dataclass
class ConsentPanel:
    person: Beneficiary
    states: list[ConsentState]
    history: list[ConsentLine]
    partners: list[tuple[int, str]]  # the operator's active partners, for sharing
    time_zone: str  # the operator's, for the dates shown


def consent_panel(*, session: Session, actor: StaffUser, beneficiary_id: int) -> ConsentPanel:
    person = load_owned(session, Beneficiary, beneficiary_id, actor)
    partners = session.exec(
        select(Partner)
        .where(owned_by(Partner, person.operator_id), col(Partner.active).is_(True))
        .order_by(Partner.name)
    )
    return ConsentPanel(
        person=person,
        states=current_consents(session=session, person=person),
        history=consent_history(session=session, person=person),
        partners=[(p.id, p.name) for p in partners],
        time_zone=time_zone_of(session=session, operator_id=person.operator_id),
    )


def record_from_page(
    *, session: Session, actor: StaffUser, beneficiary_id: int, data: ConsentEntry
) -> ConsentRecord:
    """What the person told the counsellor: an agreement given or withdrawn, from now."""
    person = load_owned(session, Beneficiary, beneficiary_id, actor)
    sharing = data.purpose == ConsentPurpose.PARTNER_SHARE
    if sharing and data.partner_id is None:
        raise Invalid({"partner_id": "Choisissez le partenaire"})
    return record_consent(
        session=session,
        person=person,
        purpose=data.purpose,
        given=data.decision == "given",
        actor=actor,
        how=data.how,
        partner_id=data.partner_id if sharing else None,
    )
