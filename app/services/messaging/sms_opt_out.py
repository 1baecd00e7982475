"""The SMS opt-out: a « STOP » answered to one of our SMS, as the gateway reports it.

A STOP is a withdrawal of the consent to SMS, recorded as such for each person with that
number (app/services/privacy/consents.py); `sms_opt_out_at` stamps the number itself, so that
an SMS queued before the STOP is not sent. Nothing else reads Beneficiary.sms_opt_out_at."""

from datetime import datetime

from sqlmodel import Session, col, select

from app.models.base import utcnow
from app.models.beneficiaries import Beneficiary
from app.models.consents import ConsentChannel, ConsentPurpose
from app.services.privacy.consents import withdraw


def record_sms_opt_out(*, session: Session, number: str, at: datetime | None = None) -> int:
    """Every person with that number (E.164) gets no more SMS: the gateway's sender is the
    whole service's, so the STOP is not one operator's. Returns how many people it reached."""
    at = at or utcnow()
    people = session.exec(
        select(Beneficiary).where(
            Beneficiary.phone == number, col(Beneficiary.sms_opt_out_at).is_(None)
        )
    ).all()
    for person in people:
        person.sms_opt_out_at = at
        withdraw(
            session=session,
            person=person,
            purpose=ConsentPurpose.SMS,
            actor=None,
            now=at,
            how=ConsentChannel.SMS_STOP,
        )
    return len(people)


def sms_opted_out(*, session: Session, number: str) -> bool:
    """True when someone with that number answered STOP: an SMS queued before is not sent."""
    query = select(Beneficiary.id).where(
        Beneficiary.phone == number, col(Beneficiary.sms_opt_out_at).is_not(None)
    )
    return session.exec(query.limit(1)).first() is not None
