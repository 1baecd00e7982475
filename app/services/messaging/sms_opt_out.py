"""The SMS opt-out: a « STOP » answered to one of our SMS, as the gateway reports it.

Kept to these two functions so that the consent records (issue 20, item 4) can take their
place: `record_sms_opt_out` says what a STOP does, `sms_opted_out` whether a number may still
get an SMS; nothing else reads Beneficiary.sms_opt_out_at."""

from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from app.models.base import utcnow
from app.models.beneficiaries import Beneficiary


def record_sms_opt_out(*, session: Session, number: str, at: datetime | None = None) -> int:
    """Every person with that number (E.164) gets no more SMS: the gateway's sender is the
    whole service's, so the STOP is not one operator's. Returns how many people it reached."""
    stopped = session.exec(
        update(Beneficiary)
        .where(Beneficiary.phone == number, col(Beneficiary.sms_opt_out_at).is_(None))
        .values(sms_opt_out_at=at or utcnow())
        .execution_options(synchronize_session=False)
    )
    return stopped.rowcount


def sms_opted_out(*, session: Session, number: str) -> bool:
    """True when someone with that number answered STOP: an SMS queued before is not sent."""
    query = select(Beneficiary.id).where(
        Beneficiary.phone == number, col(Beneficiary.sms_opt_out_at).is_not(None)
    )
    return session.exec(query.limit(1)).first() is not None
