from datetime import date, timedelta

import pytest

from app.core.errors import Conflict, Invalid, NotFound
from app.models.base import utcnow
from app.models.cases import CaseClose
from app.models.deliverables import ActionStepWrite, StepStatus
from app.models.nomenclatures import CloseReason, StepOwner
from app.services.cases import lifecycle as cases
from app.services.deliverables import action_plan
from app.web.forms import parse_form
from tests.factories import make_case, make_operator, make_staff, paris_today


def step(description="Contacter Transitions Pro", **overrides) -> ActionStepWrite:
    values = {"description": description, "owner": StepOwner.BENEFICIARY, **overrides}
    return ActionStepWrite(**values)


def add(session, actor, case, description="Contacter Transitions Pro", **overrides):
    data = step(description, **overrides)
    return action_plan.add_step(session=session, actor=actor, case_id=case.id, data=data)


def descriptions(session, actor, case) -> list[str]:
    found = action_plan.list_steps(session=session, actor=actor, case_id=case.id)
    return [s.description for s in found]


def in_days(days: int) -> date:
    return paris_today() + timedelta(days=days)


def test_steps_are_appended_in_order(session, counsellor, case):
    first = add(session, counsellor, case, "Faire le point CPF")
    second = add(session, counsellor, case, "Rencontrer un organisme")
    assert (first.position, second.position) == (1, 2)
    assert descriptions(session, counsellor, case) == [
        "Faire le point CPF",
        "Rencontrer un organisme",
    ]


def test_a_step_records_who_when_and_status(session, counsellor, case):
    due = in_days(30)  # once: read again, the clock could have passed midnight
    created = add(
        session,
        counsellor,
        case,
        owner=StepOwner.PARTNER,
        due_on=due,
        status=StepStatus.IN_PROGRESS,
    )
    assert (created.owner, created.due_on, created.status) == ("partner", due, "in_progress")
    assert created.operator_id == case.operator_id


def test_adding_a_step_touches_the_case(session, counsellor, case):
    case.last_activity_at = utcnow() - timedelta(days=40)
    session.add(case)
    add(session, counsellor, case)
    assert case.last_activity_at > utcnow() - timedelta(minutes=1)


def test_update_replaces_every_field(session, counsellor, case):
    created = add(session, counsellor, case)
    updated = action_plan.update_step(
        session=session,
        actor=counsellor,
        case_id=case.id,
        step_id=created.id,
        data=step("Déposer le dossier PTP", owner=StepOwner.COUNSELLOR, status=StepStatus.DONE),
    )
    assert (updated.description, updated.owner, updated.status, updated.due_on) == (
        "Déposer le dossier PTP",
        "counsellor",
        "done",
        None,
    )


def test_moving_swaps_with_the_neighbour(session, counsellor, case):
    for text in ("A", "B", "C"):
        add(session, counsellor, case, text)
    c = action_plan.list_steps(session=session, actor=counsellor, case_id=case.id)[2]
    action_plan.move_step(
        session=session, actor=counsellor, case_id=case.id, step_id=c.id, direction="up"
    )
    assert descriptions(session, counsellor, case) == ["A", "C", "B"]
    action_plan.move_step(
        session=session, actor=counsellor, case_id=case.id, step_id=c.id, direction="down"
    )
    assert descriptions(session, counsellor, case) == ["A", "B", "C"]


def test_moving_past_either_end_changes_nothing(session, counsellor, case):
    a = add(session, counsellor, case, "A")
    c = add(session, counsellor, case, "B")
    for moved, direction in ((a, "up"), (c, "down")):
        action_plan.move_step(
            session=session,
            actor=counsellor,
            case_id=case.id,
            step_id=moved.id,
            direction=direction,
        )
    assert descriptions(session, counsellor, case) == ["A", "B"]


def test_moving_heals_tied_positions(session, counsellor, case):
    a, b = add(session, counsellor, case, "A"), add(session, counsellor, case, "B")
    b.position = a.position  # as two concurrent additions could leave them
    session.add(b)
    action_plan.move_step(
        session=session, actor=counsellor, case_id=case.id, step_id=b.id, direction="up"
    )
    assert descriptions(session, counsellor, case) == ["B", "A"]
    assert (b.position, a.position) == (1, 2)


def test_an_unknown_direction_is_refused(session, counsellor, case):
    created = add(session, counsellor, case)
    with pytest.raises(Invalid) as refused:
        action_plan.move_step(
            session=session,
            actor=counsellor,
            case_id=case.id,
            step_id=created.id,
            direction="left",
        )
    assert "direction" in refused.value.fields


def test_deleting_keeps_the_order_of_the_others(session, counsellor, case):
    a, b, c = (add(session, counsellor, case, text) for text in ("A", "B", "C"))
    action_plan.delete_step(session=session, actor=counsellor, case_id=case.id, step_id=b.id)
    assert descriptions(session, counsellor, case) == ["A", "C"]
    assert add(session, counsellor, case, "D").position == c.position + 1


def test_a_closed_case_refuses_every_change(session, counsellor, case):
    created = add(session, counsellor, case)
    cases.close_case(
        session=session,
        actor=counsellor,
        case_id=case.id,
        data=CaseClose(reason=CloseReason.COMPLETED),
    )
    attempts = [
        lambda: add(session, counsellor, case),
        lambda: action_plan.update_step(
            session=session, actor=counsellor, case_id=case.id, step_id=created.id, data=step()
        ),
        lambda: action_plan.move_step(
            session=session,
            actor=counsellor,
            case_id=case.id,
            step_id=created.id,
            direction="up",
        ),
        lambda: action_plan.delete_step(
            session=session, actor=counsellor, case_id=case.id, step_id=created.id
        ),
    ]
    for attempt in attempts:
        with pytest.raises(Conflict, match="rouvrez-le pour modifier le plan d'action"):
            attempt()
    assert descriptions(session, counsellor, case) == ["Contacter Transitions Pro"]


def test_counsellor_of_other_operator_gets_404(session, counsellor, case):
    created = add(session, counsellor, case)
    stranger = make_staff(session, make_operator(session, "BRE", "Bretagne"))
    with pytest.raises(NotFound):
        action_plan.list_steps(session=session, actor=stranger, case_id=case.id)
    with pytest.raises(NotFound):
        action_plan.delete_step(
            session=session, actor=stranger, case_id=case.id, step_id=created.id
        )
    stranger_case = make_case(session, stranger)
    with pytest.raises(NotFound):
        action_plan.update_step(
            session=session,
            actor=stranger,
            case_id=stranger_case.id,
            step_id=created.id,
            data=step(),
        )


def test_a_step_cannot_be_changed_through_another_case(session, counsellor, case):
    created = add(session, counsellor, case)
    other = make_case(session, counsellor)
    with pytest.raises(NotFound):
        action_plan.delete_step(
            session=session, actor=counsellor, case_id=other.id, step_id=created.id
        )
    assert descriptions(session, counsellor, case) == ["Contacter Transitions Pro"]


@pytest.mark.parametrize("due_on", [in_days(6 * 366), date(2100, 12, 31)])
def test_absurd_due_dates_are_refused(session, counsellor, case, due_on):
    with pytest.raises(Invalid) as refused:
        add(session, counsellor, case, due_on=due_on)
    assert refused.value.fields == {"due_on": "Échéance trop lointaine (5 ans au plus)"}


@pytest.mark.parametrize(
    ("due_on", "message"),
    [
        ("1999-12-31", "Date trop ancienne (avant 2000)"),
        ("2206-03-01", "Date trop lointaine (après 2100)"),
    ],
)
def test_due_dates_out_of_any_plan_are_refused_before_the_service(due_on, message):
    with pytest.raises(Invalid) as refused:
        parse_form(
            ActionStepWrite,
            {"description": "Contacter l'Apec", "owner": "partner", "due_on": due_on},
        )
    assert refused.value.fields == {"due_on": message}


def test_a_past_due_date_is_kept_and_shown_late(session, counsellor, case):
    late = add(session, counsellor, case, "En retard", due_on=in_days(-10))
    add(session, counsellor, case, "Fait", due_on=in_days(-10), status=StepStatus.DONE)
    add(session, counsellor, case, "Abandonné", due_on=in_days(-10), status=StepStatus.DROPPED)
    add(session, counsellor, case, "À venir", due_on=in_days(10))
    add(session, counsellor, case, "Sans date")
    plan = action_plan.load_plan(session=session, actor=counsellor, case_id=case.id)
    assert [row.step.id for row in plan.rows if row.overdue] == [late.id]


def test_overdue_is_judged_against_the_given_day(session, counsellor, case):
    add(session, counsellor, case, due_on=in_days(20))
    plan = action_plan.load_plan(
        session=session, actor=counsellor, case_id=case.id, today=in_days(21)
    )
    assert plan.rows[0].overdue and plan.editable


def test_snapshot_is_what_documents_print(session, counsellor, case):
    add(
        session,
        counsellor,
        case,
        "Contacter l'APEC",
        owner=StepOwner.PARTNER,
        due_on=in_days(30),
        status=StepStatus.IN_PROGRESS,
    )
    add(session, counsellor, case, "Mettre à jour le CV")
    steps = action_plan.list_steps(session=session, actor=counsellor, case_id=case.id)
    assert action_plan.plan_snapshot(steps) == [
        {
            "description": "Contacter l'APEC",
            "owner_label": "Partenaire",
            "due_on": in_days(30).isoformat(),
            "status_label": "En cours",
        },
        {
            "description": "Mettre à jour le CV",
            "owner_label": "Bénéficiaire",
            "due_on": None,
            "status_label": "À faire",
        },
    ]
