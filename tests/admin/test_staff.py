"""Staff accounts: ending API tokens and deactivating an account."""

import pytest
from sqlmodel import select

from app.core.errors import NotFound
from app.models.staff import StaffSession
from app.services.access.auth import find_session, start_session
from app.services.admin.staff import deactivate_staff_user, end_api_tokens
from tests.factories import make_operator, make_staff


def test_ending_api_tokens_raises_the_accounts_token_version_only(session):
    operator = make_operator(session)
    user, colleague = make_staff(session, operator), make_staff(session, operator)
    end_api_tokens(session=session, user=user)
    end_api_tokens(session=session, user=user)
    assert (user.token_version, colleague.token_version) == (2, 0)


def test_deactivating_ends_sign_in_sessions_and_tokens(session):
    user = make_staff(session, make_operator(session))
    token, _row = start_session(session=session, user=user)
    deactivated = deactivate_staff_user(session=session, email=f"  {user.email.upper()} ")
    assert deactivated is user
    assert (user.active, user.token_version) == (False, 1)
    revoked = session.exec(select(StaffSession).where(StaffSession.staff_id == user.id)).one()
    session.refresh(revoked)
    assert revoked.revoked_at is not None
    user.active = True
    assert find_session(session=session, token=token) is None


def test_deactivating_an_unknown_account_says_so(session):
    with pytest.raises(NotFound, match="Aucun compte pour personne@exemple.fr"):
        deactivate_staff_user(session=session, email="personne@exemple.fr")
