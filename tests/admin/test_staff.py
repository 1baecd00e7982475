"""Staff accounts: ending API tokens, deactivating an account, who may be a referent."""

import pytest
from sqlmodel import select

from app.core.errors import Invalid, NotFound
from app.models.nomenclatures import Role
from app.models.staff import StaffSession
from app.services.access.auth import find_session, start_session
from app.services.admin.staff import (
    deactivate_staff_user,
    end_api_tokens,
    get_counsellor,
    list_colleagues,
    list_counsellors,
)
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


@pytest.fixture
def team(session):
    """An operator's staff of every kind, and a counsellor of another operator."""
    operator = make_operator(session)
    names = ("Zoé Arnaud", "Émilie Blanc", "Edgar Roux", "Eva Morel")
    counsellors = {name: make_staff(session, operator, full_name=name) for name in names}
    return {
        "operator": operator,
        **counsellors,
        "manager": make_staff(session, operator, Role.MANAGER, full_name="Marc Responsable"),
        "admin": make_staff(session, operator, Role.OPERATOR_ADMIN, full_name="Ada Admin"),
        "gone": make_staff(session, operator, full_name="Alice Partie", active=False),
        "elsewhere": make_staff(
            session, make_operator(session, code="BRE", name="Bretagne"), full_name="Anne Autre"
        ),
    }


def test_possible_referents_are_the_operators_active_counsellors_in_french_order(session, team):
    names = [
        c.full_name for c in list_counsellors(session=session, operator_id=team["operator"].id)
    ]
    assert names == ["Edgar Roux", "Émilie Blanc", "Eva Morel", "Zoé Arnaud"]


def test_colleagues_include_supervisors_in_french_order_but_not_closed_accounts(session, team):
    names = [c.full_name for c in list_colleagues(session=session, operator_id=team["operator"].id)]
    assert names == [
        "Ada Admin",
        "Edgar Roux",
        "Émilie Blanc",
        "Eva Morel",
        "Marc Responsable",
        "Zoé Arnaud",
    ]


@pytest.mark.parametrize("who", ["manager", "admin", "gone", "elsewhere"])
def test_only_an_active_counsellor_of_the_operator_can_be_chosen(session, team, who):
    with pytest.raises(Invalid) as refused:
        get_counsellor(session=session, operator_id=team["operator"].id, staff_id=team[who].id)
    assert "referent_id" in refused.value.fields
