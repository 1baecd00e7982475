"""« Équipe » services: inviting, role and sites, closing and reopening an account, the rules
that keep an operator administrable, the tenant scope and the record of every change."""

import re

import pytest
from sqlmodel import select

from app.core.errors import Forbidden, Invalid, NotFound
from app.core.security import create_api_token
from app.models.nomenclatures import Role
from app.models.staff import StaffEvent, StaffInvitation, StaffSite
from app.services.access.auth import find_session, start_session
from app.services.admin.team import (
    change_role,
    change_sites,
    deactivate,
    invite,
    load_member,
    member_view,
    reactivate,
    resend_invitation,
    team_view,
)
from app.web.deps import LoginRequired, current_api_staff
from tests.factories import make_site, make_staff, outbox_messages


def invitation(**overrides) -> StaffInvitation:
    values = {"email": "Lea.Fontaine@exemple.fr", "full_name": "Léa Fontaine", "role": "counsellor"}
    return StaffInvitation(**{**values, **overrides})


def kinds(session, member) -> list[str]:
    query = select(StaffEvent.kind).where(StaffEvent.staff_id == member.id).order_by(StaffEvent.id)
    return list(session.exec(query))


def test_an_invitation_creates_a_pending_account_with_its_sites_and_emails_a_link(
    session, admin, ara
):
    lyon, grenoble = make_site(session, ara), make_site(session, ara, name="Grenoble")
    member = invite(session=session, actor=admin, data=invitation(site_ids=[lyon.id, grenoble.id]))
    assert (member.email, member.role, member.operator_id) == (
        "lea.fontaine@exemple.fr",
        "counsellor",
        ara.id,
    )
    assert member.invitation_pending and member.active
    held = session.exec(select(StaffSite.site_id).where(StaffSite.staff_id == member.id)).all()
    assert sorted(held) == sorted([lyon.id, grenoble.id])
    [message] = outbox_messages(session)
    assert message.recipient == "lea.fontaine@exemple.fr"
    assert re.search(r"/compte/mot-de-passe/[\w.-]+", message.body_text)
    assert admin.full_name in message.body_text and "ne sert qu'une fois" in message.body_text
    event = session.exec(select(StaffEvent).where(StaffEvent.staff_id == member.id)).one()
    assert (event.kind, event.actor_id) == ("invited", admin.id)
    assert event.detail == "Rôle : Conseiller·ère. Sites : Grenoble, Lyon Part-Dieu"


def test_an_address_already_in_use_is_refused(session, admin, counsellor):
    with pytest.raises(Invalid) as refused:
        invite(session=session, actor=admin, data=invitation(email=counsellor.email.upper()))
    assert "existe déjà" in refused.value.fields["email"]


def test_a_site_of_another_operator_is_refused(session, admin, bre):
    elsewhere = make_site(session, bre, name="Rennes")
    with pytest.raises(Invalid) as refused:
        invite(session=session, actor=admin, data=invitation(site_ids=[elsewhere.id]))
    assert refused.value.fields == {"site_ids": "Site inconnu ou fermé"}


@pytest.mark.parametrize("role", [Role.COUNSELLOR, Role.MANAGER])
def test_only_administrators_manage_the_team(session, ara, counsellor, role):
    actor = make_staff(session, ara, role)
    with pytest.raises(Forbidden):
        team_view(session=session, actor=actor)
    with pytest.raises(Forbidden):
        deactivate(session=session, actor=actor, staff_id=counsellor.id)


def test_another_operators_person_is_not_found(session, admin, bre):
    stranger = make_staff(session, bre)
    for action in (load_member, deactivate, reactivate, resend_invitation):
        with pytest.raises(NotFound):
            action(session=session, actor=admin, staff_id=stranger.id)
    with pytest.raises(NotFound):
        change_role(session=session, actor=admin, staff_id=stranger.id, role="manager")
    with pytest.raises(NotFound):
        team_view(session=session, actor=admin, operator_id=bre.id)


def test_a_sysadmin_manages_every_operator_but_not_accounts_of_none(session, ara, bre, observer):
    sysadmin = make_staff(session, None, Role.SYSADMIN)
    member = invite(session=session, actor=sysadmin, data=invitation(operator_id=bre.id))
    assert member.operator_id == bre.id
    page = team_view(session=session, actor=sysadmin, operator_id=bre.id)
    assert [user.email for user, _sites in page.members] == [member.email]
    assert {operator.code for operator in page.operators} == {"ARA", "BRE"}
    with pytest.raises(NotFound):
        load_member(session=session, actor=sysadmin, staff_id=observer.id)


def test_role_and_sites_changes_are_recorded_with_their_author(session, admin, counsellor, ara):
    site = make_site(session, ara, name="Annecy")
    change_role(session=session, actor=admin, staff_id=counsellor.id, role="manager")
    change_sites(session=session, actor=admin, staff_id=counsellor.id, site_ids=[site.id])
    change_sites(session=session, actor=admin, staff_id=counsellor.id, site_ids=[site.id])
    page = member_view(session=session, actor=admin, staff_id=counsellor.id)
    assert [(e.kind, e.detail, name) for e, name in page.events] == [
        ("sites_changed", "Sites : Annecy", admin.full_name),
        ("role_changed", "Conseiller·ère → Responsable d'équipe", admin.full_name),
    ]
    assert page.site_ids == {site.id}


def test_deactivation_ends_an_open_session_and_an_api_token_at_once(session, admin, counsellor):
    token, _row = start_session(session=session, user=counsellor)
    api_token = create_api_token(counsellor)
    deactivate(session=session, actor=admin, staff_id=counsellor.id)
    assert find_session(session=session, token=token) is None
    with pytest.raises(LoginRequired):
        current_api_staff(session, api_token)
    reactivate(session=session, actor=admin, staff_id=counsellor.id)
    assert counsellor.active
    assert find_session(session=session, token=token) is None  # ended for good
    with pytest.raises(LoginRequired):
        current_api_staff(session, api_token)
    assert kinds(session, counsellor) == ["deactivated", "reactivated"]


def test_an_admin_cannot_deactivate_themself_nor_drop_their_own_admin_role(session, admin, ara):
    make_staff(session, ara, Role.OPERATOR_ADMIN)  # another admin: not the last-admin rule
    with pytest.raises(Invalid) as refused:
        deactivate(session=session, actor=admin, staff_id=admin.id)
    assert "propre compte" in refused.value.fields["__all__"]
    with pytest.raises(Invalid) as refused:
        change_role(session=session, actor=admin, staff_id=admin.id, role="manager")
    assert "propre rôle" in refused.value.fields["role"]
    assert admin.active and admin.role == Role.OPERATOR_ADMIN


def test_the_last_active_admin_of_an_operator_stays_one(session, ara, bre):
    sysadmin = make_staff(session, None, Role.SYSADMIN)
    last = make_staff(session, ara, Role.OPERATOR_ADMIN)
    make_staff(session, ara, Role.OPERATOR_ADMIN, active=False)  # an inactive one does not count
    make_staff(session, bre, Role.OPERATOR_ADMIN)  # nor another operator's
    with pytest.raises(Invalid) as refused:
        change_role(session=session, actor=sysadmin, staff_id=last.id, role="counsellor")
    assert "dernier administrateur" in refused.value.fields["role"]
    with pytest.raises(Invalid):
        deactivate(session=session, actor=sysadmin, staff_id=last.id)
    second = make_staff(session, ara, Role.OPERATOR_ADMIN)
    deactivate(session=session, actor=sysadmin, staff_id=last.id)
    with pytest.raises(Invalid):
        change_role(session=session, actor=sysadmin, staff_id=second.id, role="manager")


def test_an_invitation_is_sent_again_only_while_pending(session, admin, counsellor):
    member = invite(session=session, actor=admin, data=invitation())
    resend_invitation(session=session, actor=admin, staff_id=member.id)
    assert len(outbox_messages(session)) == 2
    assert kinds(session, member) == ["invited", "invitation_resent"]
    with pytest.raises(Invalid):
        resend_invitation(session=session, actor=admin, staff_id=counsellor.id)
