"""Links that set a password (invitation, reset): used once, expiring, replaced by a newer one;
the reset asked from the login page says nothing about the account and is throttled; the
password rules."""

import re
from datetime import timedelta

import pytest
from sqlmodel import select

from app.core.config import get_settings
from app.core.errors import Invalid, NotFound, TooManyAttempts
from app.core.passwords import password_problem
from app.core.security import create_api_token, verify_password
from app.models.staff import AccountLink, StaffEvent, StaffInvitation
from app.services.access.account_links import (
    choose_password,
    open_link,
    request_password_reset,
)
from app.services.access.auth import find_session, start_session
from app.services.admin.team import deactivate, invite
from app.web.deps import LoginRequired, current_api_staff
from tests.factories import outbox_messages

NEW_PASSWORD = "girafe cerf-volant 1987 pistache"
ADDRESS = "198.51.100.7"


def link_in(message) -> str:
    return re.search(r"/compte/mot-de-passe/([\w.-]+)", message.body_text).group(1)


def last_link(session) -> str:
    return link_in(outbox_messages(session)[-1])


@pytest.fixture
def invited(session, admin):
    data = StaffInvitation(email="lea@exemple.fr", full_name="Léa Fontaine", role="counsellor")
    return invite(session=session, actor=admin, data=data)


def choose(session, token, password=NEW_PASSWORD, confirmation=None):
    return choose_password(
        session=session, token=token, password=password, confirmation=confirmation or password
    )


def test_an_invitation_link_sets_the_password_once(session, invited, admin):
    token = last_link(session)
    assert open_link(session=session, token=token).is_invitation
    user = choose(session, token)
    assert user is invited and not user.invitation_pending
    assert verify_password(NEW_PASSWORD, user.password_hash)
    with pytest.raises(NotFound, match="n'est plus valable"):
        open_link(session=session, token=token)
    with pytest.raises(NotFound):
        choose(session, token, "une autre phrase bien longue 42")
    query = select(StaffEvent.kind, StaffEvent.actor_id).where(StaffEvent.staff_id == user.id)
    assert list(session.exec(query)) == [("invited", admin.id), ("password_set", user.id)]


def test_a_link_used_meanwhile_by_another_request_is_refused(session, invited):
    token = last_link(session)
    link = session.exec(select(AccountLink)).one()
    opened = open_link(session=session, token=token)  # both requests read it unused
    link.used_at = link.created_at  # the other one marks it used first
    session.add(link)
    session.flush()
    assert opened.link is link
    with pytest.raises(NotFound):
        choose(session, token)
    assert invited.invitation_pending


def test_an_expired_link_is_refused(session, invited, time_machine):
    token = last_link(session)
    time_machine.move_to(session.exec(select(AccountLink)).one().expires_at + timedelta(seconds=1))
    with pytest.raises(NotFound):
        open_link(session=session, token=token)


def test_a_tampered_or_foreign_token_is_refused(session, invited):
    token = last_link(session)
    for wrong in (token[:-2] + "xx", "n-importe-quoi", create_api_token(invited)):
        with pytest.raises(NotFound):
            open_link(session=session, token=wrong)


def test_a_new_link_replaces_the_unused_one(session, invited, admin):
    first = last_link(session)
    request_password_reset(session=session, email="LEA@exemple.fr ", ip=ADDRESS)
    second = last_link(session)
    assert second != first
    with pytest.raises(NotFound):
        open_link(session=session, token=first)
    assert not open_link(session=session, token=second).is_invitation


def test_deactivation_ends_the_unused_link(session, invited, admin):
    token = last_link(session)
    deactivate(session=session, actor=admin, staff_id=invited.id)
    with pytest.raises(NotFound):
        open_link(session=session, token=token)


def test_a_weak_password_or_a_mistyped_confirmation_leaves_the_link_usable(session, invited):
    token = last_link(session)
    with pytest.raises(Invalid) as weak:
        choose(session, token, "motdepasse123")
    assert "« motdepasse »" in weak.value.fields["password"]
    with pytest.raises(Invalid) as mistyped:
        choose(session, token, NEW_PASSWORD, NEW_PASSWORD + "!")
    assert "confirmation" in mistyped.value.fields
    choose(session, token)


def test_a_reset_ends_every_session_and_api_token_of_the_account(session, counsellor):
    cookie, _row = start_session(session=session, user=counsellor)
    api_token = create_api_token(counsellor)
    request_password_reset(session=session, email=counsellor.email, ip=ADDRESS)
    [message] = outbox_messages(session)
    assert message.recipient == counsellor.email and "une heure" in message.body_text
    choose(session, link_in(message))
    assert find_session(session=session, token=cookie) is None
    with pytest.raises(LoginRequired):
        current_api_staff(session, api_token)
    kinds = session.exec(select(StaffEvent.kind).where(StaffEvent.staff_id == counsellor.id))
    assert list(kinds) == ["reset_requested", "password_reset"]


def test_a_reset_for_an_unknown_or_inactive_address_sends_nothing(session, counsellor):
    counsellor.active = False
    session.add(counsellor)
    request_password_reset(session=session, email=counsellor.email, ip=ADDRESS)
    request_password_reset(session=session, email="personne@exemple.fr", ip=ADDRESS)
    assert outbox_messages(session) == []


def test_resets_are_throttled_like_logins(session, counsellor):
    limit = get_settings().login_max_failures
    for _ in range(limit):
        request_password_reset(session=session, email=counsellor.email, ip=ADDRESS)
    with pytest.raises(TooManyAttempts):
        request_password_reset(session=session, email=counsellor.email, ip=ADDRESS)
    # From elsewhere the answer is the same, but the inbox gets no more than `limit` links.
    request_password_reset(session=session, email=counsellor.email, ip="192.0.2.1")
    assert len(outbox_messages(session)) == limit


@pytest.mark.parametrize(
    ("password", "refused"),
    [
        ("court", "Au moins 12 caractères"),
        ("azertyuiop12", "« azertyuiop »"),
        ("password1234", "les plus répandus"),
        ("123456789012", "les plus répandus"),
        ("fontaineleafontaine", "votre nom"),
        ("x" * 201, "Au plus 200"),
        ("girafe cerf-volant 1987 pistache", None),
    ],
)
def test_password_rules(password, refused):
    problem = password_problem(password, personal=["Léa Fontaine", "lea@exemple.fr"])
    assert (problem is None) if refused is None else (refused in problem)
