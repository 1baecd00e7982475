"""France compétences' controllers in « Équipe »: the system administrator invites them in a
control team, moves them between teams and closes their accounts like anyone else's; an
operator's administrator can do none of it, and only a controller has a team."""

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from app.models.nomenclatures import Role
from app.models.staff import StaffEvent, StaffEventKind, StaffUser
from tests.factories import log_in, make_staff, outbox_messages, read

TEAM = "Contrôle de service fait — national"
INVITATION = {"full_name": "Juliette Marchand", "email": "juliette@exemple.fr"}


@pytest.fixture
def sysadmin_csrf(client, session) -> str:
    return log_in(client, session, make_staff(session, None, Role.SYSADMIN))


def test_the_sysadmin_invites_a_controller_in_a_team(client, session, sysadmin_csrf, ara):
    form = {**INVITATION, "control_team": f"  {TEAM} ", "csrf_token": sysadmin_csrf}
    page = client.post("/admin/equipe/controleurs", data=form)
    invited = session.exec(select(StaffUser).where(StaffUser.email == INVITATION["email"])).one()
    assert (invited.role, invited.control_team, invited.operator_id) == ("controller", TEAM, None)
    assert page.status_code == 200 and page.url.path == f"/admin/equipe/{invited.id}"
    text = read(page)
    assert "Invitation envoyée." in text and f"Équipe de contrôle : {TEAM}" in text
    assert "Sites où" not in text and "Formations (UO4)" not in text
    message = outbox_messages(session)[-1]
    assert message.recipient == INVITATION["email"] and TEAM in message.body_text
    listed = read(client.get("/admin/equipe"))
    assert "Contrôleurs France compétences (1)" in listed and TEAM in listed


def test_a_controller_invitation_needs_a_team(client, session, sysadmin_csrf, ara):
    form = {**INVITATION, "control_team": "  ", "csrf_token": sysadmin_csrf}
    page = client.post("/admin/equipe/controleurs", data=form)
    assert page.status_code == 200  # the page again, as the team's other forms answer
    assert 'id="controller-control_team" name="control_team"' in page.text
    assert 'aria-describedby="controller-control_team-error"' in page.text
    assert INVITATION["full_name"] in page.text  # kept as typed
    assert (
        session.exec(select(StaffUser).where(StaffUser.email == INVITATION["email"])).first()
        is None
    )


def test_the_sysadmin_moves_a_controller_to_another_team_and_closes_its_account(
    client, session, sysadmin_csrf
):
    controller = make_staff(session, None, Role.CONTROLLER, control_team="Contrôle régional")
    url = f"/admin/equipe/{controller.id}"
    client.post(
        f"{url}/equipe-de-controle", data={"control_team": TEAM, "csrf_token": sysadmin_csrf}
    )
    session.refresh(controller)
    assert controller.control_team == TEAM
    event = session.exec(select(StaffEvent).where(StaffEvent.staff_id == controller.id)).one()
    assert event.kind == StaffEventKind.CONTROL_TEAM_CHANGED
    assert event.detail == f"Contrôle régional → {TEAM}"
    client.post(f"{url}/desactiver", data={"csrf_token": sysadmin_csrf})
    session.refresh(controller)
    assert not controller.active
    refused = client.post(f"{url}/role", data={"role": "counsellor", "csrf_token": sysadmin_csrf})
    assert "Le rôle d'un·e contrôleur·euse ne change pas." in read(refused)
    session.refresh(controller)
    assert controller.role == Role.CONTROLLER


def test_an_operator_admin_can_neither_invite_nor_reach_a_controller(client, session, admin, ara):
    controller = make_staff(session, None, Role.CONTROLLER)
    csrf = log_in(client, session, admin)
    form = {**INVITATION, "control_team": TEAM, "csrf_token": csrf}
    assert client.post("/admin/equipe/controleurs", data=form).status_code == 403
    as_colleague = {**form, "role": "controller", "operator_id": str(ara.id)}
    assert 'id="role-error"' in client.post("/admin/equipe", data=as_colleague).text
    assert client.get(f"/admin/equipe/{controller.id}").status_code == 404
    moved = client.post(f"/admin/equipe/{controller.id}/equipe-de-controle", data=form)
    assert moved.status_code == 404
    assert "Contrôleurs France compétences" not in read(client.get("/admin/equipe"))
    assert (
        session.exec(select(StaffUser).where(StaffUser.email == INVITATION["email"])).first()
        is None
    )


@pytest.mark.parametrize(
    ("role", "team"), [(Role.COUNSELLOR, TEAM), (Role.CONTROLLER, None), (Role.CONTROLLER, "")]
)
def test_only_a_controller_has_a_team_and_always_one(session, ara, role, team):
    with pytest.raises(IntegrityError), session.begin_nested():
        make_staff(session, ara if role == Role.COUNSELLOR else None, role, control_team=team)
