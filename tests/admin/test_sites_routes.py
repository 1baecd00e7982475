"""« Sites » pages: who reaches them, CSRF, tenant 404, the forms and their French errors, and
closing a site with an appointment to come from the browser's side."""

import pytest
from sqlmodel import select

from app.models.appointments import Appointment
from app.models.nomenclatures import Role
from app.models.operators import Permanence, Site
from tests.factories import (
    log_in,
    make_appointment,
    make_site,
    make_staff,
    outbox_messages,
    paris_today,
    read,
    working_day_at,
)


@pytest.fixture
def admin_csrf(client, session, admin) -> str:
    return log_in(client, session, admin)


def site_fields(csrf: str, **overrides) -> dict:
    return {
        "csrf_token": csrf,
        "name": "Villeurbanne Gratte-Ciel",
        "address": "2 avenue Henri Barbusse",
        "postcode": "69100",
        "city": "Villeurbanne",
        "phone": "",
        "accessibility": "",
        "opening_hours": "",
        **overrides,
    }


def sites_of(session, operator) -> list[str]:
    return list(session.exec(select(Site.name).where(Site.operator_id == operator.id)))


def test_the_sites_page_lists_the_operators_sites_only(client, session, admin_csrf, ara, bre):
    make_site(session, ara, name="Lyon Part-Dieu")
    make_site(session, bre, name="Rennes")
    page = client.get("/admin/sites")
    assert page.status_code == 200
    text = read(page)
    assert "Lyon Part-Dieu" in text and "Rennes" not in text
    assert 'href="/admin" aria-current="page"' in page.text
    assert 'href="/admin/sites"' in client.get("/admin").text


@pytest.mark.parametrize("role", [Role.COUNSELLOR, Role.MANAGER])
def test_other_roles_are_refused(client, session, ara, role):
    site = make_site(session, ara)
    log_in(client, session, make_staff(session, ara, role))
    assert client.get("/admin/sites").status_code == 403
    assert client.get(f"/admin/sites/{site.id}").status_code == 403
    assert 'href="/admin/sites"' not in client.get("/").text


def test_another_operators_site_is_404_on_every_page_and_action(client, session, admin_csrf, bre):
    theirs = make_site(session, bre, name="Rennes")
    for path in ("", "/modifier", "/fermer", "/permanences/nouvelle"):
        assert client.get(f"/admin/sites/{theirs.id}{path}").status_code == 404
    for path, form in [
        ("/modifier", site_fields(admin_csrf)),
        ("/fermer", {"csrf_token": admin_csrf}),
        ("/permanences", {"csrf_token": admin_csrf}),
        ("/rattacher", {"csrf_token": admin_csrf}),
    ]:
        assert client.post(f"/admin/sites/{theirs.id}{path}", data=form).status_code == 404
    session.refresh(theirs)
    assert theirs.active and theirs.name == "Rennes"


def test_a_post_without_the_csrf_token_is_refused(client, session, admin_csrf, ara):
    site = make_site(session, ara)
    assert client.post("/admin/sites", data=site_fields("")).status_code == 403
    assert client.post(f"/admin/sites/{site.id}/fermer", data={}).status_code == 403
    session.refresh(site)
    assert site.active and sites_of(session, ara) == ["Lyon Part-Dieu"]


def test_creating_a_site_shows_its_page_with_its_time_zone(client, session, admin_csrf, ara):
    response = client.post("/admin/sites", data=site_fields(admin_csrf, postcode="97200"))
    assert response.status_code == 200
    text = read(response)
    assert "Site créé." in text and "America/Martinique" in text and "Site créé" in text
    assert sites_of(session, ara) == ["Villeurbanne Gratte-Ciel"]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "", "obligatoire"),
        ("name", "x" * 121, "120"),
        ("address", "x" * 201, "200"),
        ("postcode", "99999", "Code postal inconnu"),
        ("postcode", "6910", "5 chiffres"),
        ("phone", "12", "Numéro de téléphone"),
    ],
)
def test_a_bad_site_is_shown_again_with_its_error(
    client, session, admin_csrf, ara, field, value, message
):
    response = client.post("/admin/sites", data=site_fields(admin_csrf, **{field: value}))
    assert response.status_code == 200
    assert f'id="{field}-error"' in response.text and message in read(response)
    assert 'value="Villeurbanne"' in response.text
    assert sites_of(session, ara) == []


def test_editing_a_site_records_the_change_on_its_page(client, session, admin_csrf, ara):
    site = make_site(session, ara, name="Lyon")
    form = site_fields(admin_csrf, name="Lyon Part-Dieu", postcode="69003", city="Lyon")
    text = read(client.post(f"/admin/sites/{site.id}/modifier", data=form))
    assert "Site enregistré." in text and "Nom : « Lyon » → « Lyon Part-Dieu »" in text


def test_a_permanence_added_from_the_site_page_is_listed_there(
    client, session, admin_csrf, ara, counsellor
):
    site = make_site(session, ara)
    form = {
        "csrf_token": admin_csrf,
        "venue": "Mairie de Vaulx-en-Velin",
        "postcode": "69120",
        "city": "Vaulx-en-Velin",
        "weekdays": ["1", "3"],
        "start_time": "09:00",
        "end_time": "12:00",
        "starts_on": paris_today().isoformat(),
        "staff_ids": [str(counsellor.id)],
    }
    text = read(client.post(f"/admin/sites/{site.id}/permanences", data=form))
    assert "Permanence ajoutée." in text and "mardi et jeudi, 09 h 00 – 12 h 00" in text
    permanence = session.exec(select(Permanence)).one()
    edit = read(client.get(f"/admin/sites/{site.id}/permanences/{permanence.id}"))
    assert 'value="Mairie de Vaulx-en-Velin"' in edit and "Terminer la permanence" in edit


def test_a_bad_permanence_is_shown_again_with_its_errors(client, session, admin_csrf, ara):
    site = make_site(session, ara)
    form = {
        "csrf_token": admin_csrf,
        "venue": "Mairie",
        "postcode": "69120",
        "city": "Vaulx-en-Velin",
        "start_time": "12:00",
        "end_time": "09:00",
        "starts_on": paris_today().isoformat(),
    }
    response = client.post(f"/admin/sites/{site.id}/permanences", data=form)
    assert response.status_code == 200
    assert 'id="weekdays-error"' in response.text and 'id="end_time-error"' in response.text
    assert 'value="Mairie"' in response.text
    assert session.exec(select(Permanence)).all() == []


def test_attaching_a_person_from_the_site_page_links_to_their_page(
    client, session, admin_csrf, ara, counsellor
):
    site = make_site(session, ara)
    response = client.post(
        f"/admin/sites/{site.id}/rattacher",
        data={"csrf_token": admin_csrf, "staff_id": str(counsellor.id)},
    )
    assert "Personne rattachée au site." in read(response)
    assert f'href="/admin/equipe/{counsellor.id}">Camille Martin</a>' in response.text
    response = client.post(f"/admin/sites/{site.id}/rattacher", data={"csrf_token": admin_csrf})
    assert 'id="staff_id-error"' in response.text


def test_closing_a_site_lists_its_appointment_and_waits_for_a_choice(
    client, session, admin_csrf, ara, counsellor
):
    site = make_site(session, ara)
    appointment = make_appointment(
        session, starts_at=working_day_at(site), site=site, counsellor=counsellor
    )
    assert "Lyon Part-Dieu" in read(client.get("/admin/equipe"))
    page = read(client.get(f"/admin/sites/{site.id}/fermer"))
    assert appointment.reference in page and "Camille Martin" in page and "à 09 h 00" in page
    response = client.post(
        f"/admin/sites/{site.id}/fermer", data={"csrf_token": admin_csrf, "listed": "1"}
    )
    assert response.status_code == 200 and 'id="choice-error"' in response.text
    session.refresh(site)
    assert site.active
    response = client.post(
        f"/admin/sites/{site.id}/fermer",
        data={"csrf_token": admin_csrf, "listed": "1", "choice": "cancel"},
    )
    text = read(response)
    assert "Site fermé" in text and "1 rendez-vous à venir annulé(s)" in text
    assert session.get(Appointment, appointment.id).status == "cancelled"
    assert len(outbox_messages(session)) == 1
    # The staff pickers (here, the invitation's sites) offer it no more.
    assert "Lyon Part-Dieu" not in read(client.get("/admin/equipe"))


def test_a_sysadmin_reaches_any_operators_sites(client, session, ara, bre):
    log_in(client, session, make_staff(session, None, Role.SYSADMIN))
    theirs = make_site(session, bre, name="Rennes")
    assert "Sites — Bretagne" in read(client.get(f"/admin/sites?operateur={bre.id}"))
    assert "Rennes" in read(client.get(f"/admin/sites/{theirs.id}"))
