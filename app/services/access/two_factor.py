"""Two-factor sign-in for staff: who must have a second factor (the operator's « Sécurité »
setting), enrolling an authenticator app (TOTP, RFC 6238), the ten single-use recovery codes,
and checking a code — at sign-in, or to confirm a sensitive action.

Every code checked counts as a login attempt (app/services/access/login_limits.py), for the
account's e-mail and the client's address: wrong codes are throttled exactly like wrong
passwords. A TOTP code is accepted one step either side of the clock and only once: the step
of the last code accepted is kept, and a code of that step or an earlier one is refused."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, or_, update
from sqlmodel import Session, col, select

from app.core.errors import Conflict, Invalid
from app.core.otp import (
    grouped,
    matching_step,
    new_recovery_codes,
    new_totp_secret,
    provisioning_uri,
    qr_code_svg,
    shown_recovery_code,
    typed_recovery_code,
)
from app.core.security import token_digest
from app.models.base import utcnow
from app.models.credentials import RecoveryCode, StaffTotp
from app.models.nomenclatures import Role
from app.models.operators import Operator
from app.models.staff import StaffEventKind, StaffUser
from app.services.access.login_limits import check_login_allowed, record_attempt
from app.services.admin.staff import record_staff_event

WRONG_CODE = "Code incorrect, expiré ou déjà utilisé : attendez le code suivant de l'application."
WRONG_RECOVERY_CODE = "Code de secours incorrect ou déjà utilisé."
NOT_ENROLLED = "Activez d'abord la double authentification (page « Mon compte »)."


# ---------- Who has, and who must have, a second factor ----------


def second_factor_of(*, session: Session, user: StaffUser) -> StaffTotp | None:
    """The account's confirmed authenticator app, if any (not an enrolment under way)."""
    return session.exec(
        select(StaffTotp).where(
            StaffTotp.staff_id == user.id, col(StaffTotp.confirmed_at).is_not(None)
        )
    ).first()


def second_factor_required(*, session: Session, user: StaffUser) -> bool:
    """Whether the operator's setting makes this account's role sign in with a second factor."""
    if user.operator_id is None:
        return False  # observers and system administrators: their own choice
    operator = session.get(Operator, user.operator_id)
    return user.role in operator.two_factor_roles


def must_use_second_factor(*, session: Session, user: StaffUser) -> bool:
    """Whether a password alone is not enough: the account has a second factor or needs one."""
    return second_factor_of(session=session, user=user) is not None or second_factor_required(
        session=session, user=user
    )


# ---------- Enrolment ----------


@dataclass
class Enrolment:
    """What the person needs to add the account to an authenticator app."""

    qr_svg: str  # inline <svg>
    key: str  # the secret, in groups of four, for typing by hand
    issuer: str
    account: str


def _issuer(session: Session, user: StaffUser) -> str:
    operator = session.get(Operator, user.operator_id) if user.operator_id else None
    return f"Fil rouge {operator.code}" if operator else "Fil rouge"


def enrolment(*, session: Session, user: StaffUser) -> Enrolment:
    """Start enrolling (or show again the enrolment under way, with the same secret)."""
    row = session.exec(select(StaffTotp).where(StaffTotp.staff_id == user.id)).first()
    if row is not None and row.confirmed_at is not None:
        raise Conflict("La double authentification est déjà activée pour ce compte.")
    if row is None:
        row = StaffTotp(staff_id=user.id, secret=new_totp_secret())
        session.add(row)
        session.flush()
    issuer = _issuer(session, user)
    uri = provisioning_uri(row.secret, account=user.email, issuer=issuer)
    title = f"QR code à scanner avec votre application d'authentification ({issuer})"
    return Enrolment(
        qr_svg=qr_code_svg(uri, title=title),
        key=grouped(row.secret),
        issuer=issuer,
        account=user.email,
    )


def confirm_enrolment(
    *, session: Session, user: StaffUser, code: str, ip: str, now: datetime | None = None
) -> list[str]:
    """Turn the enrolment under way on once a first code verifies; the recovery codes, shown
    once (only their hash is kept). A wrong code stays counted, for the login limits."""
    now = now or utcnow()
    check_login_allowed(session=session, email=user.email, ip=ip[:45], now=now)
    row = session.exec(select(StaffTotp).where(StaffTotp.staff_id == user.id)).first()
    if row is None or row.confirmed_at is not None:
        raise Conflict("Aucune activation en cours : rechargez la page.")
    step = matching_step(row.secret, code, at=now, after=None)
    record_attempt(
        session=session, email=user.email, ip=ip[:45], user=user, ok=step is not None, now=now
    )
    if step is None:
        raise Invalid({"code": WRONG_CODE})
    row.confirmed_at, row.last_counter = now, step
    session.add(row)
    record_staff_event(session=session, user=user, actor=user, kind=StaffEventKind.TOTP_ENROLLED)
    return _new_recovery_codes(session, user)


def _new_recovery_codes(session: Session, user: StaffUser) -> list[str]:
    """Ten new recovery codes in place of the earlier ones; as shown to the person."""
    session.exec(delete(RecoveryCode).where(col(RecoveryCode.staff_id) == user.id))
    codes = new_recovery_codes()
    session.add_all(RecoveryCode(staff_id=user.id, code_hash=token_digest(code)) for code in codes)
    session.flush()
    return [shown_recovery_code(code) for code in codes]


def recovery_codes_left(*, session: Session, user: StaffUser) -> int:
    return session.exec(
        select(func.count()).where(
            RecoveryCode.staff_id == user.id, col(RecoveryCode.used_at).is_(None)
        )
    ).one()


def regenerate_recovery_codes(
    *, session: Session, user: StaffUser, code: str, ip: str
) -> list[str]:
    """Ten new recovery codes (the earlier ones stop working), against a code of the app."""
    check_code(session=session, user=user, code=code, ip=ip)
    record_staff_event(
        session=session, user=user, actor=user, kind=StaffEventKind.CODES_REGENERATED
    )
    return _new_recovery_codes(session, user)


def turn_off(*, session: Session, user: StaffUser, code: str, ip: str) -> None:
    """The person removes their own second factor, when their role does not require one."""
    if second_factor_required(session=session, user=user):
        raise Invalid(
            {"code": "Votre rôle impose la double authentification : elle ne peut pas être "
             "désactivée. En cas de téléphone perdu, demandez une réinitialisation à un·e "
             "administrateur·rice."}
        )  # fmt: skip
    check_code(session=session, user=user, code=code, ip=ip)
    remove_second_factor(session=session, user=user)
    record_staff_event(session=session, user=user, actor=user, kind=StaffEventKind.TOTP_DISABLED)


def remove_second_factor(*, session: Session, user: StaffUser) -> None:
    """Forget the account's authenticator app and recovery codes (turned off, or reset)."""
    session.exec(delete(StaffTotp).where(col(StaffTotp.staff_id) == user.id))
    session.exec(delete(RecoveryCode).where(col(RecoveryCode.staff_id) == user.id))
    session.flush()


# ---------- Checking a code ----------


def _claim_step(session: Session, row: StaffTotp, step: int) -> bool:
    """Record `step` as the last one used, unless a request at the same time took it (or a
    later one) first: one UPDATE decides, so that a code serves once even in a race."""
    claimed = session.exec(
        update(StaffTotp)
        .where(
            col(StaffTotp.id) == row.id,
            or_(col(StaffTotp.last_counter).is_(None), col(StaffTotp.last_counter) < step),
        )
        .values(last_counter=step)
        .execution_options(synchronize_session=False)
    )
    session.expire(row)
    return claimed.rowcount == 1


def _use_recovery_code(session: Session, user: StaffUser, typed: str, now: datetime) -> bool:
    """Spend one unused recovery code of the account; a single conditional UPDATE."""
    digest = token_digest(typed_recovery_code(typed))
    used = session.exec(
        update(RecoveryCode)
        .where(
            col(RecoveryCode.staff_id) == user.id,
            col(RecoveryCode.code_hash) == digest,
            col(RecoveryCode.used_at).is_(None),
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    return used.rowcount == 1


def check_code(
    *,
    session: Session,
    user: StaffUser,
    code: str = "",
    recovery_code: str = "",
    ip: str,
    now: datetime | None = None,
) -> bool:
    """Check a code of the account's app (or, where the caller offers it, one of its recovery
    codes), within the login limits; True when a recovery code was spent. A wrong code raises
    Invalid on its field and stays counted: the caller must not roll the attempt back."""
    now, ip = now or utcnow(), ip[:45]
    check_login_allowed(session=session, email=user.email, ip=ip, now=now)
    row = second_factor_of(session=session, user=user)
    if row is None:
        raise Invalid({"code": NOT_ENROLLED})
    field = "recovery_code" if recovery_code and not code else "code"
    if field == "code":
        step = matching_step(row.secret, code, at=now, after=row.last_counter)
        ok = step is not None and _claim_step(session, row, step)
    else:
        ok = _use_recovery_code(session, user, recovery_code, now)
    record_attempt(session=session, email=user.email, ip=ip, user=user, ok=ok, now=now)
    if not ok:
        raise Invalid({field: WRONG_CODE if field == "code" else WRONG_RECOVERY_CODE})
    if field == "recovery_code":
        left = recovery_codes_left(session=session, user=user)
        record_staff_event(
            session=session,
            user=user,
            actor=user,
            kind=StaffEventKind.RECOVERY_CODE_USED,
            detail=f"Codes de secours restants : {left}",
        )
    return field == "recovery_code"


def roles_label(roles) -> str:
    """« Responsable d'équipe, Administrateur·rice de l'opérateur », in the roles' order."""
    ordered = [role for role in Role if role in roles]
    return ", ".join(role.label for role in ordered) if ordered else "aucun"
