"""« Équipe » pages: who reaches them, CSRF, tenant 404, the forms and their French errors,
and a deactivation that signs the person out of the browser and the API on their next request."""

import pytest

from app.models.nomenclatures import Role
from app.models.staff import StaffUser
from tests.factories import bearer, log_in, make_site, make_staff, outbox_messages, read


@pytest.fixture
def admin_csrf(client, session, admin) -> str:
    return log_in(client, session, admin)


def test_the_team_page_lists_the_operators_staff_only(client, session, admin_csrf, counsellor, bre):
    make_staff(session, bre, full_name="Anne Autre")
    page = client.get("/admin/equipe")
    assert page.status_code == 200
    text = read(page)
    assert "Camille Martin" in text and counsellor.email in text and "Anne Autre" not in text
    assert 'href="/admin" aria-current="page"' in page.text


@pytest.mark.parametrize("role", [Role.COUNSELLOR, Role.MANAGER])
def test_other_roles_are_refused(client, session, ara, counsellor, role):
    log_in(client, session, make_staff(session, ara, role))
    assert client.get("/admin/equipe").status_code == 403
    assert client.get(f"/admin/equipe/{counsellor.id}").status_code == 403
    assert "/admin/equipe" not in client.get("/").text


def test_another_operators_person_is_404(client, session, admin_csrf, bre):
    stranger = make_staff(session, bre)
    assert client.get(f"/admin/equipe/{stranger.id}").status_code == 404
    response = client.post(
        f"/admin/equipe/{stranger.id}/desactiver", data={"csrf_token": admin_csrf}
    )
    assert response.status_code == 404
    session.refresh(stranger)
    assert stranger.active


def test_a_post_without_the_csrf_token_is_refused(client, session, admin_csrf, counsellor):
    response = client.post(f"/admin/equipe/{counsellor.id}/desactiver", data={})
    assert response.status_code == 403
    session.refresh(counsellor)
    assert counsellor.active


def test_inviting_shows_the_person_with_the_invitation_sent(client, session, admin_csrf, ara):
    site = make_site(session, ara, name="Annecy")
    form = {
        "csrf_token": admin_csrf,
        "full_name": "Léa Fontaine",
        "email": "lea@exemple.fr",
        "role": "counsellor",
        "site_ids": [str(site.id)],
        "operator_id": str(ara.id),
    }
    response = client.post("/admin/equipe", data=form)
    assert response.status_code == 200
    text = read(response)
    assert "Invitation envoyée." in text and "Invitation en attente" in text and "Annecy" in text
    assert [m.recipient for m in outbox_messages(session)] == ["lea@exemple.fr"]


def test_a_bad_invitation_is_shown_again_with_its_errors(client, session, admin_csrf):
    form = {"csrf_token": admin_csrf, "full_name": "Léa", "email": "pas-une-adresse", "role": "x"}
    response = client.post("/admin/equipe", data=form)
    assert response.status_code == 200
    assert 'id="email-error"' in response.text and 'id="role-error"' in response.text
    assert 'value="Léa"' in response.text
    assert outbox_messages(session) == []


def test_the_last_admin_is_told_why_they_cannot_step_down(client, session, admin, admin_csrf):
    response = client.post(
        f"/admin/equipe/{admin.id}/role", data={"csrf_token": admin_csrf, "role": "manager"}
    )
    assert response.status_code == 200
    assert "propre rôle" in read(response)
    assert session.get(StaffUser, admin.id).role == Role.OPERATOR_ADMIN


def test_deactivation_signs_the_person_out_of_the_browser_and_the_api_at_once(
    app, client, session, admin_csrf, counsellor
):
    from fastapi.testclient import TestClient

    theirs = TestClient(app)
    log_in(theirs, session, counsellor)
    api = TestClient(app, headers=bearer(counsellor))
    assert theirs.get("/", follow_redirects=False).status_code == 200
    assert api.get("/api/v1/cases").status_code == 200
    response = client.post(
        f"/admin/equipe/{counsellor.id}/desactiver", data={"csrf_token": admin_csrf}
    )
    assert "Compte désactivé" in read(response)
    assert theirs.get("/", follow_redirects=False).headers["location"] == "/login?next=/"
    assert api.get("/api/v1/cases").status_code == 401
    text = read(client.get(f"/admin/equipe/{counsellor.id}"))
    assert "Compte désactivé" in text and "Réactiver le compte" in text


def test_a_sysadmin_reaches_any_operators_team(client, session, ara, bre):
    log_in(client, session, make_staff(session, None, Role.SYSADMIN))
    make_staff(session, bre, full_name="Anne Autre")
    page = read(client.get(f"/admin/equipe?operateur={bre.id}"))
    assert "Équipe — Bretagne" in page and "Anne Autre" in page
