"""The « Preuves manquantes » page, the admin's deliverable kinds, and the proof badges."""

import html
from datetime import UTC, datetime

import pytest
from sqlmodel import select

from app.models.cases import EpisodeStart
from app.models.catalogue import DeliverableKind, UnitProofRequirement
from app.models.nomenclatures import Role
from app.services.cases.episodes import start_episode
from app.services.control.proofs import EpisodeProofs, ProofItem, ProofState
from app.web.rendering import templates
from tests.factories import (
    deliverable_kind,
    log_in,
    log_in_as,
    make_case,
    make_deliverable,
    make_episode,
    make_operator,
    make_site,
    make_staff,
    read,
    unit_id,
)

HTMX = {"HX-Request": "true"}


def required_units(session, found: DeliverableKind) -> set[int]:
    query = select(UnitProofRequirement.unit_id).where(UnitProofRequirement.kind_id == found.id)
    return set(session.exec(query))


# ---- « Preuves manquantes » ----------------------------------------------------------------


def test_manager_sees_each_gap_with_a_link_to_fix_it(client, session, ara, counsellor):
    case = make_case(session, counsellor)
    episode = make_episode(session, counsellor, case, "UO2.1")
    make_deliverable(session, case, "plan_action", episode=episode)
    log_in_as(client, session, ara, Role.MANAGER)
    page = client.get("/preuves-manquantes")
    assert page.status_code == 200
    assert case.reference in read(page) and counsellor.full_name in read(page)
    assert f'href="/cases/{case.id}?section=documents#livrables"' in read(page)
    assert "Manque : Document de synthèse" in read(page)
    assert "À envoyer ou remettre en main propre : Plan d'action" in read(page)
    assert "1 unité d'œuvre avec des preuves incomplètes" in read(page)


def test_empty_list_says_so(client, session, ara):
    log_in_as(client, session, ara, Role.OPERATOR_ADMIN)
    assert "Aucune preuve manquante." in read(client.get("/preuves-manquantes"))


def test_complete_episodes_are_not_listed(client, session, ara, counsellor):
    case = make_case(session, counsellor)
    episode = make_episode(session, counsellor, case, "UO1")
    make_deliverable(session, case, "synthese_entretien", episode=episode, acknowledgement="online")
    log_in_as(client, session, ara, Role.MANAGER)
    assert case.reference not in read(client.get("/preuves-manquantes"))


def test_filters_are_read_from_the_query_string(client, session, ara, counsellor):
    lyon = make_site(session, ara)
    colleague = make_staff(session, ara)
    n1 = make_case(session, counsellor, site_id=lyon.id)
    make_episode(session, counsellor, n1, "UO1")
    n2 = make_case(session, colleague)
    start_episode(
        session=session,
        actor=colleague,
        case_id=n2.id,
        data=EpisodeStart(
            unit_id=unit_id(session, "UO2.2"), started_at=datetime(2026, 3, 10, 9, tzinfo=UTC)
        ),
    )
    log_in_as(client, session, ara, Role.MANAGER)
    filters = {
        "site": {"site": lyon.id},
        "counsellor": {"conseiller": colleague.id},
        "unit": {"unite": unit_id(session, "UO2.2")},
        "period": {"du": "2026-03-10", "au": "2026-03-10"},
    }
    expected = {"site": n1, "counsellor": n2, "unit": n2, "period": n2}
    for name, params in filters.items():
        page = read(client.get("/preuves-manquantes", params=params))
        shown = {c.reference for c in (n1, n2) if c.reference in page}
        assert shown == {expected[name].reference}, name
    kept = read(client.get("/preuves-manquantes", params={"du": "2026-03-10", "site": lyon.id}))
    assert 'value="2026-03-10"' in kept and f'<option value="{lyon.id}" selected' in kept


def test_bad_dates_are_explained_next_to_the_filter(client, session, ara, counsellor):
    make_episode(session, counsellor, make_case(session, counsellor))
    log_in_as(client, session, ara, Role.MANAGER)
    page = client.get("/preuves-manquantes", params={"du": "2026-07-02", "au": "2026-07-01"})
    assert page.status_code == 200
    assert "La fin de la période précède son début" in read(page)
    assert 'id="au" name="au"' in read(page) and 'aria-invalid="true"' in read(page)
    assert "Date invalide" in read(client.get("/preuves-manquantes", params={"du": "demain"}))


def test_htmx_filter_gets_the_results_only(client, session, ara, counsellor):
    case = make_case(session, counsellor)
    make_episode(session, counsellor, case)
    log_in_as(client, session, ara, Role.MANAGER)
    fragment = client.get("/preuves-manquantes", headers=HTMX)
    assert "<html" not in read(fragment) and case.reference in read(fragment)
    assert fragment.headers["Vary"] == "HX-Request"
    assert read(fragment).strip() in read(client.get("/preuves-manquantes"))


def test_counsellors_see_their_own_cases_without_a_counsellor_filter(
    client, session, ara, counsellor
):
    own = make_case(session, counsellor)
    make_episode(session, counsellor, own)
    colleague = make_staff(session, ara)
    theirs = make_case(session, colleague)
    make_episode(session, colleague, theirs)
    log_in(client, session, counsellor)
    page = read(client.get("/preuves-manquantes"))
    assert own.reference in page and theirs.reference not in page
    assert 'name="conseiller"' not in page


@pytest.mark.parametrize("role", [Role.NATIONAL_OBSERVER, Role.SYSADMIN])
@pytest.mark.parametrize("url", ["/preuves-manquantes", "/admin/livrables"])
def test_roles_without_personal_data_are_refused(client, session, role, url):
    log_in_as(client, session, None, role)
    assert client.get(url).status_code == 403


def test_another_operators_gaps_never_appear(client, session, ara, counsellor):
    case = make_case(session, counsellor)
    make_episode(session, counsellor, case)
    log_in_as(client, session, make_operator(session, "BRE", "Bretagne"), Role.MANAGER)
    page = read(client.get("/preuves-manquantes"))
    assert case.reference not in page and "Aucune preuve manquante." in page


def test_anonymous_visitors_are_sent_to_login(client):
    response = client.get("/preuves-manquantes", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


# ---- deliverable kinds ---------------------------------------------------------------------


def kind_form(session, **overrides) -> dict:
    form = {
        "label": "Synthèse de l'entretien",
        "includes_request": "1",
        "extra_sections": "Pistes évoquées",
        "active": "1",
        "unit_ids": [unit_id(session, "UO1")],
    }
    return {**form, **overrides}


def test_admin_page_lists_kinds_and_what_each_unit_requires(client, session, ara):
    log_in_as(client, session, ara, Role.OPERATOR_ADMIN)
    page = client.get("/admin/livrables")
    assert page.status_code == 200
    for label in ("Document de synthèse", "Plan d'action", "Suivi de la mise en œuvre"):
        assert label in read(page)
    assert "Document de synthèse, Plan d'action" in read(page)
    assert "Aucune preuve requise" in read(page)  # UO0


@pytest.mark.parametrize("role", [Role.COUNSELLOR, Role.MANAGER])
def test_only_operator_admins_reach_the_kinds(client, session, ara, role):
    _, csrf = log_in_as(client, session, ara, role)
    found = deliverable_kind(session, ara.id, "plan_action")
    assert client.get("/admin/livrables").status_code == 403
    response = client.post(
        f"/admin/livrables/{found.id}", data={**kind_form(session), "csrf_token": csrf}
    )
    assert response.status_code == 403
    session.refresh(found)
    assert found.label == "Plan d'action"


def test_admin_changes_a_kind_and_the_units_requiring_it(client, session, ara, counsellor):
    episode = make_episode(session, counsellor, make_case(session, counsellor), "UO0")
    _, csrf = log_in_as(client, session, ara, Role.OPERATOR_ADMIN)
    found = deliverable_kind(session, ara.id, "synthese_entretien")
    form = kind_form(
        session,
        label="Compte rendu d'accueil",
        extra_sections="Orientation\n\nSuite donnée",
        unit_ids=[unit_id(session, "UO0"), unit_id(session, "UO1")],
    )
    response = client.post(
        f"/admin/livrables/{found.id}", data={**form, "csrf_token": csrf}, follow_redirects=False
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/admin/livrables?enregistre={found.id}#type-{found.id}"
    session.refresh(found)
    assert (found.label, found.extra_sections, found.includes_interactions) == (
        "Compte rendu d'accueil",
        "Orientation\nSuite donnée",
        False,
    )
    assert required_units(session, found) == {unit_id(session, "UO0"), unit_id(session, "UO1")}
    assert "« Compte rendu d'accueil » est enregistré." in read(
        client.get(response.headers["location"])
    )
    gaps = read(client.get("/preuves-manquantes"))
    assert (
        "Manque : Compte rendu d'accueil" in gaps
        and f"/cases/{episode.case_id}?section=documents#" in gaps
    )


def test_unchecking_every_unit_removes_the_requirement(client, session, ara):
    _, csrf = log_in_as(client, session, ara, Role.OPERATOR_ADMIN)
    found = deliverable_kind(session, ara.id, "plan_action")
    form = kind_form(session, label="Plan d'action")
    del form["unit_ids"]
    client.post(f"/admin/livrables/{found.id}", data={**form, "csrf_token": csrf})
    assert required_units(session, found) == set()


def test_invalid_edit_keeps_what_was_typed_and_writes_nothing(client, session, ara):
    _, csrf = log_in_as(client, session, ara, Role.OPERATOR_ADMIN)
    found = deliverable_kind(session, ara.id, "plan_action")
    uo0 = unit_id(session, "UO0")
    form = kind_form(session, label="  ", extra_sections="Rubrique à garder", unit_ids=[uo0])
    page = client.post(f"/admin/livrables/{found.id}", data={**form, "csrf_token": csrf})
    assert page.status_code == 200
    assert "Ce champ est obligatoire" in read(page)
    assert "Rubrique à garder" in read(page)
    assert f'id="k{found.id}-unit-{uo0}" name="unit_ids" value="{uo0}" checked' in read(page)
    session.refresh(found)
    assert found.label == "Plan d'action"
    assert required_units(session, found) == {unit_id(session, "UO2.1")}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"label": "x" * 201}, "Trop long : 200 caractères au plus"),
        ({"unit_ids": ["999999"]}, "Unité d'œuvre inconnue"),
        ({"unit_ids": ["abc"]}, "Nombre entier attendu"),
        ({"label": "Document de synthèse"}, "Un autre type de livrable porte déjà ce libellé"),
        ({"label": "Synthèse\r\nBcc: tous@exemple.fr"}, "Sur une seule ligne"),
    ],
)
def test_each_bad_field_gets_its_french_message(client, session, ara, change, message):
    _, csrf = log_in_as(client, session, ara, Role.OPERATOR_ADMIN)
    found = deliverable_kind(session, ara.id, "plan_action")
    page = client.post(
        f"/admin/livrables/{found.id}", data={**kind_form(session, **change), "csrf_token": csrf}
    )
    assert message in read(page)
    session.refresh(found)
    assert found.label == "Plan d'action"


def test_admin_adds_a_kind(client, session, ara):
    _, csrf = log_in_as(client, session, ara, Role.OPERATOR_ADMIN)
    form = kind_form(session, label="Attestation de présence", unit_ids=[unit_id(session, "UO0")])
    response = client.post(
        "/admin/livrables", data={**form, "csrf_token": csrf}, follow_redirects=False
    )
    assert response.status_code == 303
    created = deliverable_kind(session, ara.id, "attestation_de_presence")
    assert required_units(session, created) == {unit_id(session, "UO0")}


def test_invalid_new_kind_keeps_what_was_typed(client, session, ara):
    _, csrf = log_in_as(client, session, ara, Role.OPERATOR_ADMIN)
    form = kind_form(session, label="", extra_sections="Ma rubrique")
    page = client.post("/admin/livrables", data={**form, "csrf_token": csrf})
    assert "Ce champ est obligatoire" in read(page) and "Ma rubrique" in read(page)
    assert 'id="new-label"' in read(page) and 'aria-invalid="true"' in read(page)
    count = session.exec(select(DeliverableKind).where(DeliverableKind.operator_id == ara.id))
    assert len(count.all()) == 4


def test_another_operators_kind_is_not_found(client, session, ara):
    _, csrf = log_in_as(
        client, session, make_operator(session, "BRE", "Bretagne"), Role.OPERATOR_ADMIN
    )
    found = deliverable_kind(session, ara.id, "plan_action")
    for form in (kind_form(session, label="Pirate"), kind_form(session, label="")):
        response = client.post(f"/admin/livrables/{found.id}", data={**form, "csrf_token": csrf})
        assert response.status_code == 404
        assert "Plan d'action" not in read(response)
    session.refresh(found)
    assert found.label == "Plan d'action"


def test_edits_need_the_csrf_token(client, session, ara):
    log_in_as(client, session, ara, Role.OPERATOR_ADMIN)
    found = deliverable_kind(session, ara.id, "plan_action")
    assert client.post(f"/admin/livrables/{found.id}", data=kind_form(session)).status_code == 403
    assert (
        client.post("/admin/livrables", data=kind_form(session, label="Autre")).status_code == 403
    )
    session.refresh(found)
    assert found.label == "Plan d'action"


# ---- the badges of one episode -------------------------------------------------------------


def badges(items) -> str:
    template = templates.env.get_template("control/proofs/_partials/episode_proofs.html")
    return html.unescape(" ".join(template.render(proofs=EpisodeProofs(items)).split()))


def test_badges_name_what_is_missing_or_awaited():
    summary = DeliverableKind(operator_id=1, code="a", label="Document de synthèse")
    plan = DeliverableKind(operator_id=1, code="b", label="Plan d'action")
    assert "Aucune preuve requise" in badges([])
    assert "Preuves complètes" in badges([ProofItem(summary, ProofState.COMPLETE, 1)])
    mixed = badges(
        [
            ProofItem(summary, ProofState.MISSING),
            ProofItem(plan, ProofState.AWAITING_ACKNOWLEDGEMENT),
        ]
    )
    assert "Manque : Document de synthèse" in mixed
    assert "En attente d'accusé de lecture : Plan d'action" in mixed
    assert "Preuves complètes" not in mixed
    handover = badges([ProofItem(plan, ProofState.AWAITING_HANDOVER)])
    assert "À envoyer ou remettre en main propre : Plan d'action" in handover
