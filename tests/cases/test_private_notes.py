"""Private notes are read by the case's counsellors (its referent, whoever recorded a contact
in it) and their managers (working at the case's site or at one of its referent's sites), on
the case page and through the API; by nobody else."""

import pytest

from app.models.nomenclatures import Role
from app.models.staff import StaffSite
from tests.factories import bearer, log_in, make_case, make_interaction, make_site, make_staff

NOTE = "Semble fatiguée, à revoir vite"


@pytest.fixture
def sites(session, ara):
    # Who reads the notes is the question here, not the reason asked outside one's cases.
    ara.reason_for_outside_reads = False
    session.add(ara)
    return make_site(session, ara), make_site(session, ara, name="Clermont-Ferrand")


@pytest.fixture
def noted(session, counsellor, sites):
    """A case at the first site, referent the counsellor (who works there), with a note."""
    session.add(StaffSite(staff_id=counsellor.id, site_id=sites[0].id))
    case = make_case(session, counsellor, site_id=sites[0].id)
    make_interaction(session, counsellor, case, summary="Point d'étape", private_notes=NOTE)
    return case


def _staff_at(session, ara, role, site=None):
    member = make_staff(session, ara, role)
    if site is not None:
        session.add(StaffSite(staff_id=member.id, site_id=site.id))
        session.flush()
    return member


def _case_page_shows_note(client, session, reader, case) -> bool:
    log_in(client, session, reader)
    page = client.get(f"/cases/{case.id}?section=historique")
    assert page.status_code == 200 and "Point d&#39;étape" in page.text
    return NOTE in page.text


def _api_note(client, reader, case):
    answer = client.get(f"/api/v1/cases/{case.id}/interactions", headers=bearer(reader))
    assert answer.status_code == 200
    [interaction] = answer.json()
    return interaction["private_notes"]


def test_the_referent_reads_the_notes(client, session, counsellor, noted):
    assert _case_page_shows_note(client, session, counsellor, noted)
    assert _api_note(client, counsellor, noted) == NOTE


def test_another_counsellor_does_not(client, session, ara, sites, noted):
    colleague = _staff_at(session, ara, Role.COUNSELLOR, sites[0])
    assert not _case_page_shows_note(client, session, colleague, noted)
    assert _api_note(client, colleague, noted) is None


def test_a_counsellor_who_recorded_a_contact_reads_them(client, session, ara, noted):
    colleague = _staff_at(session, ara, Role.COUNSELLOR)
    make_interaction(session, colleague, noted, summary="Remplacement")
    assert _case_page_shows_note(client, session, colleague, noted)


def test_the_manager_of_the_cases_site_reads_them(client, session, ara, sites, noted):
    manager = _staff_at(session, ara, Role.MANAGER, sites[0])
    assert _case_page_shows_note(client, session, manager, noted)
    assert _api_note(client, manager, noted) == NOTE


def test_a_manager_of_another_site_does_not(client, session, ara, sites, noted):
    manager = _staff_at(session, ara, Role.MANAGER, sites[1])
    assert not _case_page_shows_note(client, session, manager, noted)
    assert _api_note(client, manager, noted) is None


def test_the_manager_of_the_referents_other_site_reads_them(
    client, session, ara, sites, counsellor, noted
):
    session.add(StaffSite(staff_id=counsellor.id, site_id=sites[1].id))
    manager = _staff_at(session, ara, Role.MANAGER, sites[1])
    assert _case_page_shows_note(client, session, manager, noted)


def test_an_operator_admin_who_does_not_follow_the_case_does_not(
    client, session, ara, sites, noted
):
    admin = _staff_at(session, ara, Role.OPERATOR_ADMIN, sites[0])
    assert not _case_page_shows_note(client, session, admin, noted)
    assert _api_note(client, admin, noted) is None
