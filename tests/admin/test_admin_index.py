"""« Administration » lists the pages each role may run, and nothing else."""

import pytest

from app.models.nomenclatures import Role
from tests.factories import log_in, make_staff


def _section_links(page) -> list[str]:
    return [line.split('"')[1] for line in page.text.splitlines() if "<h2><a href=" in line]


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (
            Role.OPERATOR_ADMIN,
            [
                "/admin/equipe",
                "/admin/sites",
                "/admin/marches",
                "/admin/uo4",
                "/admin/securite",
                "/admin/droits",
                "/admin/journal",
                "/admin/protection-donnees",
                "/admin/disponibilites",
                "/admin/identite",
                "/admin/motifs",
                "/admin/livrables",
                "/admin/archives-livrables",
                "/admin/clients-api",
                "/admin/enquetes",
            ],
        ),
        (
            Role.MANAGER,
            [
                "/admin/uo4",
                "/admin/protection-donnees",
                "/admin/disponibilites",
                "/admin/archives-livrables",
                "/admin/enquetes",
            ],
        ),
        (
            Role.SYSADMIN,
            [
                "/admin/operateurs",
                "/admin/equipe",
                "/admin/sites",
                "/admin/marches",
                "/admin/securite",
                "/admin/protection-donnees",
                "/admin/enquetes",
            ],
        ),
    ],
)
def test_the_index_lists_the_sections_of_the_role(client, session, ara, role, expected):
    user = make_staff(session, None if role == Role.SYSADMIN else ara, role)
    log_in(client, session, user)
    page = client.get("/admin")
    assert page.status_code == 200
    assert _section_links(page) == expected
    assert 'href="/admin" aria-current="page"' in page.text


@pytest.mark.parametrize("role", [Role.COUNSELLOR, Role.NATIONAL_OBSERVER])
def test_roles_without_administration_are_refused(client, session, ara, role):
    user = make_staff(session, None if role == Role.NATIONAL_OBSERVER else ara, role)
    log_in(client, session, user)
    assert client.get("/admin").status_code == 403
    assert 'href="/admin"' not in client.get("/").text
