"""The action plan on the case: plain form posts, htmx fragments and the JSON API."""

from datetime import timedelta

from sqlmodel import select

from app.models.deliverables import ActionStep, ActionStepWrite
from app.models.nomenclatures import StepOwner
from app.services.deliverables.action_plan import add_step, plan_objective
from tests.factories import (
    confirmations,
    log_in,
    make_case,
    make_operator,
    make_staff,
    paris_today,
)

HTMX = {"HX-Request": "true"}


def add(session, actor, case, description="Mettre à jour le CV", **overrides):
    data = ActionStepWrite(description=description, owner=StepOwner.BENEFICIARY, **overrides)
    return add_step(session=session, actor=actor, case_id=case.id, data=data)


def form(csrf, **overrides) -> dict:
    return {
        "description": "Contacter Transitions Pro",
        "owner": "beneficiary",
        "due_on": (paris_today() + timedelta(days=30)).isoformat(),
        "status": "todo",
        "csrf_token": csrf,
        **overrides,
    }


def steps(session) -> list[ActionStep]:
    return list(session.exec(select(ActionStep).order_by(ActionStep.position)))


# ---- pages ---------------------------------------------------------------------------------


def test_an_empty_plan_invites_to_build_it_with_the_beneficiary(client, case, csrf):
    page = client.get(f"/cases/{case.id}/plan")
    assert page.status_code == 200
    assert "le plan d'action se construit avec le bénéficiaire" in page.text
    assert 'id="plan-new-description"' in page.text


def test_plain_post_adds_a_step_and_redirects_to_the_plan(client, session, case, csrf):
    answer = client.post(f"/cases/{case.id}/plan/steps", data=form(csrf), follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/cases/{case.id}?section=documents#plan-action"
    assert [s.description for s in steps(session)] == ["Contacter Transitions Pro"]


def test_htmx_post_returns_the_plan_fragment(client, session, case, csrf):
    answer = client.post(f"/cases/{case.id}/plan/steps", data=form(csrf), headers=HTMX)
    assert answer.status_code == 200
    assert "<html" not in answer.text
    assert answer.text.strip().startswith('<section id="plan-action"')
    assert "Contacter Transitions Pro" in answer.text
    assert "Étape ajoutée au plan d&#39;action." in answer.text


def test_swapped_fragment_equals_the_part_of_the_full_page(client, session, counsellor, case, csrf):
    add(session, counsellor, case, due_on=paris_today() - timedelta(days=3))
    fragment = client.get(f"/cases/{case.id}/plan", headers=HTMX).text.strip()
    assert fragment.startswith("<section") and fragment in client.get(f"/cases/{case.id}/plan").text


def test_bad_input_keeps_what_was_typed_and_writes_nothing(client, session, case, csrf):
    answer = client.post(
        f"/cases/{case.id}/plan/steps",
        data=form(csrf, description="Rencontrer l'APEC", due_on="2099-01-01"),
        headers=HTMX,
    )
    assert answer.status_code == 200
    assert "Échéance trop lointaine (5 ans au plus)" in answer.text
    assert 'value="Rencontrer l&#39;APEC"' in answer.text
    assert 'id="plan-new-due_on" name="due_on" aria-invalid="true"' in answer.text
    assert steps(session) == []


def test_an_empty_description_is_required(client, session, case, csrf):
    answer = client.post(
        f"/cases/{case.id}/plan/steps", data=form(csrf, description="  "), headers=HTMX
    )
    assert "Ce champ est obligatoire" in answer.text
    assert steps(session) == []


def test_plain_post_with_bad_input_shows_the_plan_page_with_errors(client, session, case, csrf):
    answer = client.post(f"/cases/{case.id}/plan/steps", data=form(csrf, due_on="31/02/2027"))
    assert answer.status_code == 200
    assert "<html" in answer.text and "Date invalide" in answer.text


def test_inline_status_change_keeps_the_other_fields(client, session, counsellor, case, csrf):
    step = add(session, counsellor, case, due_on=paris_today() + timedelta(days=5))
    answer = client.post(
        f"/cases/{case.id}/plan/steps/{step.id}",
        data={
            "inline": "1",
            "description": step.description,
            "owner": step.owner,
            "due_on": step.due_on.isoformat(),
            "status": "done",
            "csrf_token": csrf,
        },
        headers=HTMX,
    )
    assert answer.status_code == 200
    session.refresh(step)
    assert (step.status, step.description) == ("done", "Mettre à jour le CV")
    assert '<option value="done" selected>Fait</option>' in answer.text


def test_editing_a_step_with_bad_input_opens_its_form(client, session, counsellor, case, csrf):
    step = add(session, counsellor, case)
    answer = client.post(
        f"/cases/{case.id}/plan/steps/{step.id}",
        data=form(csrf, description="", owner="nobody"),
        headers=HTMX,
    )
    assert f'id="step-{step.id}-edit-description"' in answer.text
    assert (
        "Choix invalide" in answer.text
        and '<details class="disclosure plan-edit" open>' in answer.text
    )
    session.refresh(step)
    assert step.description == "Mettre à jour le CV"


def test_moving_a_step_reorders_the_plan(client, session, counsellor, case, csrf):
    _first, second = add(session, counsellor, case, "A"), add(session, counsellor, case, "B")
    answer = client.post(
        f"/cases/{case.id}/plan/steps/{second.id}/move",
        data={"direction": "up", "csrf_token": csrf},
        headers=HTMX,
    )
    assert [s.description for s in steps(session)] == ["B", "A"]
    # The moved step is now first: the focus falls on its remaining arrow.
    down = answer.text.split(f'id="step-{second.id}-down"')[1].split(">")[0]
    assert "autofocus" in down


def test_deleting_a_step(client, session, counsellor, case, csrf):
    step = add(session, counsellor, case)
    answer = client.post(
        f"/cases/{case.id}/plan/steps/{step.id}/delete",
        data={"csrf_token": csrf},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert steps(session) == []


def test_overdue_steps_say_so_in_words(client, session, counsellor, case, csrf):
    add(session, counsellor, case, due_on=paris_today() - timedelta(days=3))
    assert "En retard" in client.get(f"/cases/{case.id}/plan").text


def test_a_closed_case_shows_the_plan_read_only(client, session, counsellor, case, csrf):
    step = add(session, counsellor, case)
    client.post(f"/cases/{case.id}/close", data={"reason": "termine", "csrf_token": csrf})
    page = client.get(f"/cases/{case.id}/plan").text
    assert "Mettre à jour le CV" in page and "lecture seule" in page
    assert "Ajouter une étape" not in page and f"/plan/steps/{step.id}/delete" not in page
    answer = client.post(
        f"/cases/{case.id}/plan/steps/{step.id}/delete", data={"csrf_token": csrf}, headers=HTMX
    )
    assert "rouvrez-le pour modifier le plan d&#39;action" in answer.text
    assert len(steps(session)) == 1


def test_a_post_without_csrf_token_is_refused(client, session, case, csrf):
    answer = client.post(f"/cases/{case.id}/plan/steps", data=form(""))
    assert answer.status_code == 403
    assert steps(session) == []


def test_htmx_post_may_carry_the_csrf_token_in_a_header(client, session, case, csrf):
    answer = client.post(
        f"/cases/{case.id}/plan/steps",
        data=form(""),
        headers={**HTMX, "X-CSRF-Token": csrf},
    )
    assert answer.status_code == 200 and len(steps(session)) == 1


def test_counsellor_of_other_operator_gets_404(client, session, counsellor, case):
    step = add(session, counsellor, case)
    stranger = make_staff(session, make_operator(session, "BRE", "Bretagne"))
    csrf = log_in(client, session, stranger)
    assert client.get(f"/cases/{case.id}/plan").status_code == 404
    answer = client.post(f"/cases/{case.id}/plan/steps/{step.id}/delete", data={"csrf_token": csrf})
    assert answer.status_code == 404
    assert len(steps(session)) == 1


def test_a_step_of_another_case_gets_404(client, session, counsellor, case, csrf):
    step = add(session, counsellor, case)
    other = make_case(session, counsellor)
    answer = client.post(
        f"/cases/{other.id}/plan/steps/{step.id}/delete", data={"csrf_token": csrf}
    )
    assert answer.status_code == 404
    assert len(steps(session)) == 1


# ---- JSON API ------------------------------------------------------------------------------


def test_api_round_trip(api, case):
    url = f"/api/v1/cases/{case.id}/action-steps"
    due = (paris_today() + timedelta(days=14)).isoformat()
    created = api.post(url, json={"description": "Contacter l'APEC", "owner": "partner"})
    assert created.status_code == 201
    body = created.json()
    assert (body["position"], body["status"], body["due_on"]) == (1, "todo", None)
    api.post(url, json={"description": "Mettre à jour le CV", "owner": "beneficiary"})

    updated = api.put(
        f"{url}/{body['id']}",
        json={
            "description": "Contacter l'APEC",
            "owner": "partner",
            "due_on": due,
            "status": "done",
        },
    )
    assert updated.status_code == 200 and updated.json()["due_on"] == due

    moved = api.post(f"{url}/{body['id']}/move", json={"direction": "down"})
    assert [s["description"] for s in moved.json()] == ["Mettre à jour le CV", "Contacter l'APEC"]

    assert api.delete(f"{url}/{body['id']}").status_code == 204
    assert [s["description"] for s in api.get(url).json()] == ["Mettre à jour le CV"]


def test_api_refuses_an_absurd_due_date_in_french(api, case):
    answer = api.post(
        f"/api/v1/cases/{case.id}/action-steps",
        json={"description": "Contacter l'APEC", "owner": "partner", "due_on": "2099-12-31"},
    )
    assert answer.status_code == 422
    assert answer.json()["fields"] == {"due_on": "Échéance trop lointaine (5 ans au plus)"}


def test_api_refuses_a_due_date_out_of_any_plan_in_french(api, case):
    answer = api.post(
        f"/api/v1/cases/{case.id}/action-steps",
        json={"description": "Contacter l'APEC", "owner": "partner", "due_on": "1999-12-31"},
    )
    assert answer.status_code == 422
    assert answer.json()["fields"] == {"due_on": "Date trop ancienne (avant 2000)"}


def test_api_answers_409_on_a_closed_case(api, case):
    api.post(f"/api/v1/cases/{case.id}/close", json={"reason": "termine"})
    answer = api.post(
        f"/api/v1/cases/{case.id}/action-steps", json={"description": "X", "owner": "partner"}
    )
    assert answer.status_code == 409
    assert answer.json() == {
        "detail": "Ce dossier est clos : rouvrez-le pour modifier le plan d'action."
    }


def test_api_hides_other_operators_plans(api, session):
    stranger = make_staff(session, make_operator(session, "BRE", "Bretagne"))
    their_case = make_case(session, stranger)
    step = add(session, stranger, their_case)
    url = f"/api/v1/cases/{their_case.id}/action-steps"
    assert api.get(url).status_code == 404
    assert api.delete(f"{url}/{step.id}").status_code == 404


def test_api_without_token_gets_401(client, case):
    assert client.get(f"/api/v1/cases/{case.id}/action-steps").status_code == 401


# ---- the objective --------------------------------------------------------------------------


def test_the_objective_is_written_on_the_plan_and_announced(client, session, case, csrf):
    objective = "Devenir aide-soignante d'ici un an"
    answer = client.post(
        f"/cases/{case.id}/plan/objective",
        data={"objective": f"  {objective} ", "csrf_token": csrf},
        headers=HTMX,
    )
    assert answer.status_code == 200 and "<html" not in answer.text
    assert "Objectif du plan d&#39;action enregistré." in answer.text
    assert "Devenir aide-soignante d&#39;ici un an</textarea>" in answer.text
    assert plan_objective(session, case.id) == objective


def test_an_objective_too_long_is_refused_and_kept_in_the_form(client, session, case, csrf):
    answer = client.post(
        f"/cases/{case.id}/plan/objective",
        data={"objective": "x" * 1001, "csrf_token": csrf},
        headers=HTMX,
    )
    assert answer.status_code == 200
    assert 'id="plan-objective-error"' in answer.text and "x" * 1001 in answer.text
    assert plan_objective(session, case.id) == ""


# ---- every action answers where it was done ---------------------------------------------------


def test_an_added_step_is_confirmed_between_it_and_the_form(client, session, case, csrf):
    answer = client.post(f"/cases/{case.id}/plan/steps", data=form(csrf), headers=HTMX)
    [step] = steps(session)
    assert confirmations(answer) == ["[focus] Étape ajoutée au plan d'action."]
    assert answer.text.count("autofocus") == 1
    # The new step is the table's last row, just above the message; Tab goes on to the form.
    text = answer.text
    assert text.index(f'id="step-{step.id}"') < text.index('class="alert success done"')
    assert text.index('class="alert success done"') < text.index('id="plan-new-title"')


def test_the_objective_is_confirmed_below_its_form(client, session, case, csrf):
    answer = client.post(
        f"/cases/{case.id}/plan/objective",
        data={"objective": "Devenir aide-soignante", "csrf_token": csrf},
        headers=HTMX,
    )
    assert confirmations(answer) == ["[focus] Objectif du plan d'action enregistré."]
    said = answer.text.index('class="alert success done"')
    assert answer.text.index('id="plan-objective"') < said < answer.text.index("Aucune étape")


def test_an_edited_step_is_confirmed_in_its_row(client, session, counsellor, case, csrf):
    first, second = add(session, counsellor, case, "A"), add(session, counsellor, case, "B")
    answer = client.post(
        f"/cases/{case.id}/plan/steps/{first.id}",
        data=form(csrf, description="A, précisée"),
        headers=HTMX,
    )
    assert confirmations(answer) == ["[focus] Étape enregistrée."]
    said = answer.text.index('class="alert success done"')
    assert answer.text.index(f'id="step-{first.id}"') < said
    assert said < answer.text.index(f'id="step-{second.id}"')


def test_a_status_saved_on_change_is_confirmed_and_its_select_keeps_the_focus(
    client, session, counsellor, case, csrf
):
    step = add(session, counsellor, case)
    data = {"inline": "1", "description": step.description, "owner": step.owner}
    answer = client.post(
        f"/cases/{case.id}/plan/steps/{step.id}",
        data=data | {"due_on": "", "status": "done", "csrf_token": csrf},
        headers=HTMX,
    )
    assert confirmations(answer) == ["État enregistré : « Fait »."]  # said, not focused
    assert answer.text.count("autofocus") == 1
    assert f'<select id="step-{step.id}-state" name="status" autofocus>' in answer.text


def test_a_moved_step_is_confirmed_and_its_arrow_keeps_the_focus(
    client, session, counsellor, case, csrf
):
    first, _second = add(session, counsellor, case, "A"), add(session, counsellor, case, "B")
    answer = client.post(
        f"/cases/{case.id}/plan/steps/{first.id}/move",
        data={"direction": "down", "csrf_token": csrf},
        headers=HTMX,
    )
    assert confirmations(answer) == ["Étape déplacée."] and answer.text.count("autofocus") == 1
    assert "autofocus" in answer.text.split(f'id="step-{first.id}-up"')[1].split(">")[0]


def test_a_deleted_step_is_confirmed_where_the_steps_are(client, session, counsellor, case, csrf):
    step = add(session, counsellor, case)
    answer = client.post(
        f"/cases/{case.id}/plan/steps/{step.id}/delete", data={"csrf_token": csrf}, headers=HTMX
    )
    assert confirmations(answer) == ["[focus] Étape supprimée du plan d'action."]
    assert f'id="step-{step.id}"' not in answer.text


def test_a_refused_step_confirms_nothing(client, session, case, csrf):
    answer = client.post(
        f"/cases/{case.id}/plan/steps", data=form(csrf, description=""), headers=HTMX
    )
    assert "Ce champ est obligatoire" in answer.text
    assert confirmations(answer) == [] and answer.text.count("autofocus") == 1
