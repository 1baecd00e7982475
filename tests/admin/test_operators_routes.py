"""« Opérateurs »: only system administrators open an operator, on its region's clock, with the
default deliverable kinds, and then invite its administrator from « Équipe »."""

import pytest
from sqlmodel import select

from app.models.catalogue import DeliverableKind
from app.models.nomenclatures import Role
from app.models.operators import Operator
from tests.factories import log_in, make_staff, read


@pytest.fixture
def sysadmin_csrf(client, session) -> str:
    return log_in(client, session, make_staff(session, None, Role.SYSADMIN))


def test_a_sysadmin_opens_an_operator_on_its_regions_clock(client, session, sysadmin_csrf, ara):
    response = client.post(
        "/admin/operateurs",
        data={
            "csrf_token": sysadmin_csrf,
            "region_code": "04",
            "code": " lre ",
            "name": "CEP Réunion",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    operator = session.exec(select(Operator).where(Operator.code == "LRE")).one()
    assert (operator.name, operator.region_code, operator.time_zone) == (
        "CEP Réunion",
        "04",
        "Indian/Reunion",
    )
    kinds = session.exec(select(DeliverableKind).where(DeliverableKind.operator_id == operator.id))
    assert kinds.all()
    page = client.get(response.headers["location"])
    text = read(page)
    assert "Opérateur « CEP Réunion » ouvert" in text
    assert f'href="/admin/equipe?operateur={operator.id}#inviter"' in page.text
    assert "La Réunion" in text and "Auvergne-Rhône-Alpes" in text


@pytest.mark.parametrize(
    ("typed", "field", "message"),
    [
        ({"region_code": "99", "code": "XX", "name": "X"}, "region_code", "région de la liste"),
        ({"region_code": "84", "code": "ARA", "name": "Doublon"}, "code", "déjà celui"),
        ({"region_code": "84", "code": "A B", "name": "X"}, "code", ""),
        ({"region_code": "84", "code": "ZZ", "name": "  "}, "name", ""),
    ],
)
def test_bad_input_is_refused_with_the_form_kept(
    client, session, sysadmin_csrf, ara, typed, field, message
):
    before = len(session.exec(select(Operator)).all())
    page = client.post("/admin/operateurs", data={"csrf_token": sysadmin_csrf, **typed})
    assert page.status_code == 200
    assert f'id="{field}-error"' in page.text
    assert message in read(page)
    assert len(session.exec(select(Operator)).all()) == before


def test_without_csrf_nothing_is_opened(client, session, sysadmin_csrf):
    response = client.post(
        "/admin/operateurs", data={"region_code": "53", "code": "BRE2", "name": "X"}
    )
    assert response.status_code == 403
    assert session.exec(select(Operator).where(Operator.code == "BRE2")).first() is None


@pytest.mark.parametrize("role", [Role.OPERATOR_ADMIN, Role.MANAGER, Role.COUNSELLOR])
def test_operator_staff_cannot_open_operators(client, session, ara, role):
    csrf = log_in(client, session, make_staff(session, ara, role))
    assert client.get("/admin/operateurs").status_code == 403
    response = client.post(
        "/admin/operateurs",
        data={"csrf_token": csrf, "region_code": "53", "code": "BRE3", "name": "X"},
    )
    assert response.status_code == 403
    assert session.exec(select(Operator).where(Operator.code == "BRE3")).first() is None
