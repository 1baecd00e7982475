"""« Sécurité » (the roles that must sign in with a second factor) and the reset of a
colleague's second factor from « Équipe », which asks for the administrator's own code."""

import re

import pytest
from sqlmodel import select

from app.models.credentials import RecoveryCode, StaffTotp
from app.models.nomenclatures import Role
from app.models.staff import StaffEvent, StaffEventKind
from app.services.access.auth import find_session, start_session
from app.services.access.two_factor import confirm_enrolment, enrolment
from tests.factories import code_now, enrol, log_in, make_operator, make_staff, read


def wrong(secret: str) -> str:
    return "000000" if code_now(secret) != "000000" else "111111"


@pytest.fixture
def enrolled_admin(client, session, ara):
    """ARA's administrator, with an authenticator app, signed in: (user, secret, csrf)."""
    admin = make_staff(session, ara, Role.OPERATOR_ADMIN)
    secret = enrol(session, admin)
    return admin, secret, log_in(client, session, admin)


def save(client, csrf: str, operator_id: int, *roles: str, **extra):
    form = {"csrf_token": csrf, "operator_id": str(operator_id), **extra}
    form.update({f"two_factor_{role}": "1" for role in roles})
    return client.post("/admin/securite", data=form, follow_redirects=False)


# ---- the operator's setting ---------------------------------------------------------------------


def test_the_security_page_shows_the_default_and_who_has_not_enrolled(
    client, session, ara, enrolled_admin
):
    manager = make_staff(session, ara, Role.MANAGER, full_name="Hélène Roux")
    page = client.get("/admin/securite")
    assert page.status_code == 200
    text = read(page)
    checked = re.findall(r'name="(two_factor_\w+)"\s+value="1" checked', text)
    assert sorted(checked) == ["two_factor_admins", "two_factor_managers"]
    assert "Pas encore activée (1)" in text and manager.full_name in text


def test_requiring_it_of_counsellors_signs_out_those_not_enrolled(
    client, session, ara, enrolled_admin
):
    _admin, _secret, csrf = enrolled_admin
    counsellor = make_staff(session, ara)
    enrolled_counsellor = make_staff(session, ara)
    enrol(session, enrolled_counsellor)
    token, _row = start_session(session=session, user=counsellor)
    kept, _row = start_session(session=session, user=enrolled_counsellor)
    response = save(client, csrf, ara.id, "admins", "managers", "counsellors")
    assert response.status_code == 303
    assert response.headers["location"].endswith("&fait=enregistre&deconnexions=1#fait")
    session.refresh(ara)
    assert Role.COUNSELLOR in ara.two_factor_roles
    assert find_session(session=session, token=token) is None
    assert find_session(session=session, token=kept) is not None
    page = read(client.get(response.headers["location"]))
    assert "Réglage enregistré. 1 personne déconnectée" in page


def test_an_admin_without_second_factor_cannot_require_it_of_admins(client, session, ara):
    admin = make_staff(session, ara, Role.OPERATOR_ADMIN)
    csrf = log_in(client, session, admin)
    response = save(client, csrf, ara.id, "admins", "managers")
    assert response.status_code == 200
    assert "Activez d'abord votre propre double authentification" in read(response)
    # Turning it off for admins is accepted (and then they may save without enrolling).
    assert save(client, csrf, ara.id, "managers").status_code == 303
    session.refresh(ara)
    assert ara.two_factor_roles == {Role.MANAGER}


def test_the_setting_needs_the_csrf_token(client, session, ara, enrolled_admin):
    response = client.post("/admin/securite", data={"operator_id": str(ara.id)})
    assert response.status_code == 403


def test_another_operators_admin_gets_404_and_changes_nothing(client, session, ara, bre):
    outsider = make_staff(session, bre, Role.OPERATOR_ADMIN)
    enrol(session, outsider)
    csrf = log_in(client, session, outsider)
    assert client.get(f"/admin/securite?operateur={ara.id}").status_code == 404
    assert save(client, csrf, ara.id).status_code == 404
    session.refresh(ara)
    assert ara.two_factor_roles == {Role.MANAGER, Role.OPERATOR_ADMIN}


def test_a_counsellor_or_a_manager_may_not_see_the_page(client, session, ara):
    for role in (Role.COUNSELLOR, Role.MANAGER):
        client.cookies.clear()
        log_in(client, session, make_staff(session, ara, role))
        assert client.get("/admin/securite").status_code == 403


def test_a_system_administrator_sets_any_operator(client, session, ara, bre):
    sysadmin = make_staff(session, None, Role.SYSADMIN)
    csrf = log_in(client, session, sysadmin)
    page = read(client.get(f"/admin/securite?operateur={bre.id}"))
    assert "Sécurité — Bretagne" in page
    assert save(client, csrf, bre.id, "counsellors").status_code == 303
    session.refresh(bre)
    assert bre.two_factor_roles == {Role.COUNSELLOR}


# ---- a colleague's reset ----------------------------------------------------------------------


def member_with_second_factor(session, ara):
    member = make_staff(session, ara, Role.MANAGER)
    enrolment(session=session, user=member)
    secret = session.exec(select(StaffTotp.secret).where(StaffTotp.staff_id == member.id)).one()
    confirm_enrolment(session=session, user=member, code=code_now(secret), ip="10.0.0.2")
    return member


def reset(client, csrf: str, member, code: str):
    return client.post(
        f"/admin/equipe/{member.id}/double-authentification",
        data={"reset_code": code, "csrf_token": csrf},
        follow_redirects=False,
    )


def test_the_reset_asks_for_the_admins_own_code_and_ends_the_persons_sessions(
    client, session, ara, enrolled_admin
):
    admin, secret, csrf = enrolled_admin
    member = member_with_second_factor(session, ara)
    token, _row = start_session(session=session, user=member)
    page = read(client.get(f"/admin/equipe/{member.id}"))
    assert "Code de votre application d'authentification" in page
    refused = reset(client, csrf, member, wrong(secret))
    assert refused.status_code == 200 and "Code incorrect" in read(refused)
    assert session.exec(select(StaffTotp).where(StaffTotp.staff_id == member.id)).first()

    done = reset(client, csrf, member, code_now(secret))
    assert done.status_code == 303
    assert session.exec(select(StaffTotp).where(StaffTotp.staff_id == member.id)).first() is None
    assert (
        session.exec(select(RecoveryCode).where(RecoveryCode.staff_id == member.id)).first() is None
    )
    assert find_session(session=session, token=token) is None
    event = session.exec(
        select(StaffEvent).where(StaffEvent.staff_id == member.id).order_by(StaffEvent.id.desc())
    ).first()
    assert event.kind == StaffEventKind.TOTP_RESET and event.actor_id == admin.id
    page = read(client.get(done.headers["location"]))
    assert "Double authentification réinitialisée" in page and "Non activée" in page


def test_an_admin_without_second_factor_cannot_reset_a_colleagues(client, session, ara):
    admin = make_staff(session, ara, Role.OPERATOR_ADMIN)
    csrf = log_in(client, session, admin)
    member = member_with_second_factor(session, ara)
    page = read(client.get(f"/admin/equipe/{member.id}"))
    assert "activez d'abord votre propre double authentification" in page
    response = reset(client, csrf, member, "123456")
    assert response.status_code == 200
    assert "La réinitialisation demande votre propre double authentification" in read(response)
    assert session.exec(select(StaffTotp).where(StaffTotp.staff_id == member.id)).first()


def test_a_code_used_for_one_reset_does_not_serve_for_another(client, session, ara, enrolled_admin):
    _admin, secret, csrf = enrolled_admin
    first, second = member_with_second_factor(session, ara), member_with_second_factor(session, ara)
    code = code_now(secret)
    assert reset(client, csrf, first, code).status_code == 303
    again = reset(client, csrf, second, code)
    assert again.status_code == 200 and "déjà utilisé" in read(again)
    assert session.exec(select(StaffTotp).where(StaffTotp.staff_id == second.id)).first()


def test_changing_a_role_to_one_that_requires_it_signs_the_person_out(
    client, session, ara, enrolled_admin
):
    _admin, _secret, csrf = enrolled_admin
    counsellor = make_staff(session, ara)
    token, _row = start_session(session=session, user=counsellor)
    client.post(f"/admin/equipe/{counsellor.id}/role", data={"role": "manager", "csrf_token": csrf})
    assert find_session(session=session, token=token) is None


def test_another_operators_admin_cannot_reset(client, session, ara, bre):
    outsider = make_staff(session, make_operator(session, "BRE", "Bretagne"), Role.OPERATOR_ADMIN)
    secret = enrol(session, outsider)
    csrf = log_in(client, session, outsider)
    member = member_with_second_factor(session, ara)
    assert reset(client, csrf, member, code_now(secret)).status_code == 404
    assert session.exec(select(StaffTotp).where(StaffTotp.staff_id == member.id)).first()


# ---- the retention period -----------------------------------------------------------------------


def save_retention(client, csrf: str, operator_id: int, months: str):
    form = {"csrf_token": csrf, "operator_id": str(operator_id), "retention_months": months}
    return client.post("/admin/securite/conservation", data=form, follow_redirects=False)


def test_the_retention_period_is_24_months_and_the_next_run_is_counted(
    client, session, ara, enrolled_admin
):
    text = read(client.get("/admin/securite"))
    assert re.search(r'name="retention_months"[^>]*value="24"', text)
    assert "Prochain passage : 0 personne anonymisée." in text


def test_the_retention_period_is_saved(client, session, ara, enrolled_admin):
    _admin, _secret, csrf = enrolled_admin
    response = save_retention(client, csrf, ara.id, "36")
    assert response.status_code == 303 and response.headers["location"].endswith("#conservation")
    session.refresh(ara)
    assert ara.retention_months == 36


@pytest.mark.parametrize("months", ["5", "61", "deux ans", ""])
def test_a_retention_period_out_of_bounds_is_refused_in_french(
    client, session, ara, enrolled_admin, months
):
    _admin, _secret, csrf = enrolled_admin
    response = save_retention(client, csrf, ara.id, months)
    assert response.status_code == 200
    text = read(response)
    assert "Certaines informations sont à corriger." in text
    assert re.search(rf'name="retention_months"[^>]*value="{months}"', text)
    session.refresh(ara)
    assert ara.retention_months == 24
