"""« UO4 » pages: who reaches them, CSRF, tenant 404, the form shown again with its French
errors, the summary and its files, and the trainings on a person's staff page."""

from decimal import Decimal

import pytest
from sqlmodel import select

from app.models.nomenclatures import Role
from app.models.uo4 import Uo4Action, Uo4ActionEdit, Uo4Attendee
from app.services.admin.uo4 import create_action
from tests.factories import confirmations, log_in, make_staff, read


@pytest.fixture
def admin_csrf(client, session, admin) -> str:
    return log_in(client, session, admin)


def form(csrf: str, **values) -> dict:
    return {
        "csrf_token": csrf,
        "kind": "communication",
        "title": "Campagne radio",
        "starts_on": "2026-05-12",
        "ends_on": "",
        "amount": "2 500,00",
        "site_id": "",
        "description": "Spots sur les radios locales",
        **values,
    }


def recorded(session, actor, **values) -> Uo4Action:
    data = {"kind": "communication", "title": "Affiches", "starts_on": "2026-02-10",
            "amount": "800", **values}  # fmt: skip
    return create_action(session=session, actor=actor, data=Uo4ActionEdit.model_validate(data))


def test_an_admin_records_a_training_with_two_attendees(
    client, session, admin_csrf, counsellor, ara
):
    colleague = make_staff(session, ara, full_name="Basile Roux")
    data = form(admin_csrf, kind="formation", title="Entretien motivationnel", amount="1200",
                hours="7", participants="", attendee_ids=[str(counsellor.id), str(colleague.id)],
                **{f"hours_{colleague.id}": "3,5"})  # fmt: skip
    response = client.post("/admin/uo4", data=data)
    assert response.status_code == 200 and "/admin/uo4/" in str(response.url)
    assert confirmations(response) == ["[focus] Action enregistrée."]
    text = read(response)
    assert "Action enregistrée" in text and "Présent·es : Basile Roux (3,5\u00a0h), Camille" in text
    action = session.exec(select(Uo4Action)).one()
    assert action.amount == Decimal("1200.00") and action.participants == 2
    assert len(session.exec(select(Uo4Attendee)).all()) == 2


def test_the_list_shows_the_summary_in_euros_and_no_budget_yet(client, session, admin, admin_csrf):
    recorded(session, admin, amount="1234,5")
    page = client.get("/admin/uo4?annee=2026")
    assert page.status_code == 200
    text = read(page)
    assert "1\u202f234,50\u00a0€" in text
    assert "Budget UO4 du lot non renseigné" in text
    assert 'href="/admin" aria-current="page"' in page.text


def test_the_list_filters_by_kind(client, session, admin, admin_csrf):
    recorded(session, admin, title="Affiches du printemps")
    recorded(session, admin, kind="outils", title="Logiciel de planning")
    text = read(client.get("/admin/uo4?annee=2026&type=outils"))
    assert "Logiciel de planning" in text and "Affiches du printemps" not in text


def test_an_unknown_filter_is_said_next_to_the_filters(client, session, admin_csrf):
    page = client.get("/admin/uo4?annee=1800&type=cadeaux")
    assert page.status_code == 200
    assert "Les filtres sont à corriger" in read(page)


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"amount": "-10"}, "amount"),
        ({"amount": "0"}, "amount"),
        ({"amount": "10,123"}, "amount"),
        ({"kind": "formation", "hours": "5000"}, "hours"),
        ({"kind": "formation", "hours": ""}, "hours"),
        ({"title": ""}, "title"),
        ({"ends_on": "2026-05-01"}, "ends_on"),
    ],
)
def test_bad_input_is_shown_again_with_its_error(client, session, admin_csrf, values, field):
    response = client.post("/admin/uo4", data=form(admin_csrf, **values))
    assert response.status_code == 200
    assert f'id="{field}-error"' in response.text
    assert 'value="Spots sur les radios locales"' not in response.text  # a textarea keeps it
    assert "Spots sur les radios locales" in response.text
    assert session.exec(select(Uo4Action)).all() == []


def test_an_attendee_of_another_operator_is_refused_politely(client, session, admin_csrf, bre):
    stranger = make_staff(session, bre, full_name="Yann Le Goff")
    data = form(admin_csrf, kind="formation", hours="7", attendee_ids=[str(stranger.id)])
    response = client.post("/admin/uo4", data=data)
    assert response.status_code == 200
    assert 'id="attendees-error"' in response.text and "Yann Le Goff" not in response.text
    assert session.exec(select(Uo4Action)).all() == []


def test_an_edit_is_recorded_in_the_history(client, session, admin, admin_csrf):
    action = recorded(session, admin)
    response = client.post(f"/admin/uo4/{action.id}", data=form(admin_csrf, amount="900"))
    assert response.status_code == 200
    text = read(response)
    assert "Modifications enregistrées." in text
    assert "Montant : 800,00\u00a0€ → 900,00\u00a0€" in text


def test_a_cancelled_action_leaves_the_summary(client, session, admin, admin_csrf):
    action = recorded(session, admin, amount="800")
    response = client.post(f"/admin/uo4/{action.id}/annuler", data={"csrf_token": admin_csrf})
    assert "Action annulée" in read(response)
    text = read(client.get("/admin/uo4?annee=2026"))
    assert "Annulée" in text and "800,00" in text  # listed, but no longer summed
    assert text.count("0,00\u00a0€") > 0 and "Engagé en 2026</dt><dd>0,00\u00a0€" in text


def test_managers_read_and_cannot_write(client, session, admin, ara):
    action = recorded(session, admin)
    manager = make_staff(session, ara, Role.MANAGER)
    csrf = log_in(client, session, manager)
    assert client.get("/admin/uo4").status_code == 200
    page = client.get(f"/admin/uo4/{action.id}")
    assert page.status_code == 200 and '<form method="post" action="/admin/uo4/' not in page.text
    assert client.get("/admin/uo4/nouvelle").status_code == 403
    assert client.post("/admin/uo4", data=form(csrf)).status_code == 403
    assert (
        client.post(f"/admin/uo4/{action.id}/annuler", data={"csrf_token": csrf}).status_code == 403
    )


@pytest.mark.parametrize("role", [Role.COUNSELLOR, Role.SYSADMIN])
def test_other_roles_are_refused(client, session, ara, role):
    log_in(client, session, make_staff(session, ara if role == Role.COUNSELLOR else None, role))
    assert client.get("/admin/uo4").status_code == 403
    assert "/admin/uo4" not in client.get("/").text


def test_another_operators_action_is_404(client, session, admin_csrf, bre):
    other = recorded(session, make_staff(session, bre, Role.OPERATOR_ADMIN))
    assert client.get(f"/admin/uo4/{other.id}").status_code == 404
    assert client.post(f"/admin/uo4/{other.id}", data=form(admin_csrf)).status_code == 404
    response = client.post(f"/admin/uo4/{other.id}/annuler", data={"csrf_token": admin_csrf})
    assert response.status_code == 404
    session.refresh(other)
    assert other.cancelled_at is None and other.title == "Affiches"


def test_a_post_without_the_csrf_token_is_refused(client, session, admin, admin_csrf):
    action = recorded(session, admin)
    assert client.post("/admin/uo4", data={**form(""), "csrf_token": ""}).status_code == 403
    assert client.post(f"/admin/uo4/{action.id}/annuler", data={}).status_code == 403
    session.refresh(action)
    assert action.cancelled_at is None


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize("table", ["synthese", "actions"])
def test_the_summary_and_the_list_download(client, session, admin, admin_csrf, table, fmt):
    recorded(session, admin, amount="1234,5")
    response = client.get(f"/admin/uo4/export/{table}.{fmt}?annee=2026")
    assert response.status_code == 200
    assert f"uo4-ARA-2026-{table}.{fmt}" in response.headers["content-disposition"]
    if fmt == "csv":
        text = response.content.decode("utf-8")
        assert text.startswith("\ufeff") and ";1234,50;" in text


def test_an_unknown_table_is_refused(client, session, admin_csrf):
    assert client.get("/admin/uo4/export/budget.csv").status_code == 422


def test_the_staff_page_shows_the_trainings_attended(
    client, session, admin, admin_csrf, counsellor, clock
):
    recorded(session, admin, kind="formation", title="Écoute active", hours="7",
             starts_on="2026-03-04",
             attendees=[{"staff_id": counsellor.id, "hours": "3,5"}])  # fmt: skip
    text = read(client.get(f"/admin/equipe/{counsellor.id}"))
    assert "Formations (UO4)" in text and "Écoute active" in text
    assert "<strong>3,5\u00a0h</strong> de formation en 2026." in text


def test_the_list_and_its_files_hold_only_the_operators_own_actions(
    client, session, admin, admin_csrf, bre
):
    recorded(session, make_staff(session, bre, Role.OPERATOR_ADMIN), title="Action de BRE")
    recorded(session, admin, title="Action d'ARA")
    for url in ("/admin/uo4?annee=2026", "/admin/uo4/export/actions.csv?annee=2026"):
        text = read(client.get(url))
        assert "Action d'ARA" in text and "Action de BRE" not in text
    synthese = client.get("/admin/uo4/export/synthese.csv?annee=2026").content.decode()
    assert "Campagne de communication;800,00;0,00;0,00;0,00;800,00;1" in synthese
