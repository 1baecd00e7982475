import re

from sqlmodel import select

from app.models.cases import Episode, Interaction
from app.models.fields import french_sort_key
from app.models.nomenclatures import Role
from tests.factories import (
    log_in,
    make_case,
    make_episode,
    make_operator,
    make_staff,
    read,
    unit_id,
)

HTMX = {"HX-Request": "true"}


def setup_case(client, session):
    user = make_staff(session, make_operator(session))
    csrf = log_in(client, session, user)
    return user, make_case(session, user), csrf


def test_case_page_shows_header_and_empty_timeline(client, session):
    _, case, _ = setup_case(client, session)
    page = client.get(f"/cases/{case.id}")
    assert page.status_code == 200
    assert case.reference in page.text and "Rien d'enregistré" in page.text


def test_plain_post_starts_a_unit_and_redirects(client, session):
    _, case, csrf = setup_case(client, session)
    response = client.post(
        f"/cases/{case.id}/episodes",
        data={"unit_id": unit_id(session, "UO1"), "csrf_token": csrf},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert session.exec(select(Episode)).one().case_id == case.id


def test_htmx_post_returns_the_case_body_with_the_order_warning(client, session):
    _, case, csrf = setup_case(client, session)
    response = client.post(
        f"/cases/{case.id}/episodes",
        data={"unit_id": unit_id(session, "UO2.2"), "csrf_token": csrf},
        headers=HTMX,
    )
    assert "<html" not in response.text
    assert "UO2.2 sans UO2.1 préalable" in response.text


def test_swapped_fragment_equals_the_part_of_the_full_page(client, session):
    _, case, _ = setup_case(client, session)
    fragment = client.get(f"/cases/{case.id}", headers=HTMX).text.strip()
    assert fragment in client.get(f"/cases/{case.id}").text


def test_n1_n2_and_back_to_n1_then_close_and_reopen(client, session):
    _, case, csrf = setup_case(client, session)
    for code in ("UO1", "UO2.1", "UO1"):  # UO1 again: asked first, then confirmed
        client.post(
            f"/cases/{case.id}/episodes",
            data={"unit_id": unit_id(session, code), "csrf_token": csrf, "confirm": "1"},
        )
    assert len(session.exec(select(Episode)).all()) == 3
    client.post(f"/cases/{case.id}/close", data={"reason": "termine", "csrf_token": csrf})
    assert "Rouvrir le dossier" in client.get(f"/cases/{case.id}").text
    client.post(f"/cases/{case.id}/reopen", data={"csrf_token": csrf})
    assert "Clore le dossier" in client.get(f"/cases/{case.id}?section=dossier").text


def test_interaction_form_reads_dates_in_the_site_time_zone(client, session):
    _, case, csrf = setup_case(client, session)
    client.post(
        f"/cases/{case.id}/interactions",
        data={
            "occurred_at": "2026-07-01T10:30",
            "duration_minutes": "45",
            "channel": "visio",
            "summary": "Point sur le projet",
            "private_notes": "Fatiguée",
            "csrf_token": csrf,
        },
    )
    interaction = session.exec(select(Interaction)).one()
    assert interaction.occurred_at.isoformat() == "2026-07-01T08:30:00+00:00"  # CEST is UTC+2
    page = client.get(f"/cases/{case.id}").text
    assert "1er juillet 2026 à 10 h 30" in page and "Hors UO" in page


def test_invalid_interaction_keeps_input_and_writes_nothing(client, session):
    _, case, csrf = setup_case(client, session)
    response = client.post(
        f"/cases/{case.id}/interactions",
        data={
            "occurred_at": "",
            "duration_minutes": "0",
            "channel": "visio",
            "summary": "À garder",
            "csrf_token": csrf,
        },
        headers=HTMX,
    )
    assert "Ce champ est obligatoire" in response.text
    assert "Doit être au moins 1" in response.text
    assert "À garder" in response.text
    assert session.exec(select(Interaction)).all() == []


def test_referent_can_be_handed_over_to_a_colleague(client, session):
    user, case, csrf = setup_case(client, session)
    colleague = make_staff(session, make_operator(session), full_name="Gaëlle Le Gall")
    client.post(
        f"/cases/{case.id}/referent", data={"referent_id": colleague.id, "csrf_token": csrf}
    )
    # No longer hers (no interaction of hers on it): she says why she reads it again.
    reason = {"reason": "Vérifier le transfert", "suite": f"/cases/{case.id}", "csrf_token": csrf}
    page = client.post(f"/beneficiaries/{case.beneficiary_id}/motif", data=reason)
    header_fact = page.text.split("Référent·e")[1].split("</dd>")[0]
    assert "Gaëlle Le Gall" in header_fact


def test_home_lists_my_open_cases(client, session):
    _, case, _ = setup_case(client, session)
    assert 'href="/mes-dossiers">Mes dossiers ouverts (1)' in client.get("/").text
    assert case.reference in client.get("/mes-dossiers").text


def test_an_episode_cannot_be_ended_through_another_case(client, session):
    user, case, csrf = setup_case(client, session)
    other_case = make_case(session, user)
    episode = make_episode(session, user, case)
    response = client.post(
        f"/cases/{other_case.id}/episodes/{episode.id}/end", data={"csrf_token": csrf}
    )
    assert response.status_code == 404
    session.refresh(episode)
    assert episode.ended_at is None


def test_only_active_counsellors_are_offered_as_referent_in_french_order(client, session):
    user, case, _ = setup_case(client, session)
    operator = make_operator(session)
    make_staff(session, operator, full_name="Élise Bernard")
    make_staff(session, operator, full_name="Zacharie Petit")
    make_staff(session, operator, full_name="Eric Dumas")
    make_staff(session, operator, Role.MANAGER, full_name="Estelle Responsable")
    make_staff(session, operator, full_name="Emma Partie", active=False)

    page = read(client.get(f"/cases/{case.id}?section=dossier"))

    offered = page.split('name="referent_id"', 1)[1].split("</select>", 1)[0]
    names = re.findall(r"<option [^>]*>([^<]*)</option>", offered)
    assert names == sorted(
        ["Élise Bernard", "Eric Dumas", "Zacharie Petit", user.full_name], key=french_sort_key
    )
    assert names.index("Élise Bernard") < names.index("Eric Dumas") < names.index("Zacharie Petit")


def test_a_manager_cannot_be_made_referent(client, session):
    user, case, csrf = setup_case(client, session)
    manager = make_staff(session, make_operator(session), Role.MANAGER)

    response = client.post(
        f"/cases/{case.id}/referent", data={"referent_id": manager.id, "csrf_token": csrf}
    )

    assert "Choisissez un·e conseiller·ère, pas un·e responsable" in read(response)
    session.refresh(case)
    assert case.referent_id == user.id
