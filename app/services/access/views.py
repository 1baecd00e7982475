"""What the signed-in person's « Mon compte » page shows: their account, their second factor,
their recovery codes left and their API keys."""

from dataclasses import dataclass

from sqlmodel import Session

from app.models.credentials import ApiKey, StaffTotp
from app.models.operators import Operator
from app.models.staff import StaffUser
from app.services.access.api_keys import list_api_keys
from app.services.access.two_factor import (
    recovery_codes_left,
    second_factor_of,
    second_factor_required,
)


@dataclass
class AccountPage:
    user: StaffUser
    operator: Operator | None
    second_factor: StaffTotp | None  # confirmed only
    required: bool  # by the operator's setting, for the person's role
    recovery_left: int
    api_keys: list[ApiKey]


def account_view(*, session: Session, user: StaffUser) -> AccountPage:
    return AccountPage(
        user=user,
        operator=session.get(Operator, user.operator_id) if user.operator_id else None,
        second_factor=second_factor_of(session=session, user=user),
        required=second_factor_required(session=session, user=user),
        recovery_left=recovery_codes_left(session=session, user=user),
        api_keys=list_api_keys(session=session, user=user),
    )
