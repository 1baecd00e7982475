"""The counsellor's home page, the full lists it opens onto, and the global search."""

from dataclasses import dataclass
from typing import Annotated

from fastapi import Query, Request
from fastapi.responses import RedirectResponse

from app.core.config import get_settings
from app.models.bounds import PageNumber
from app.models.nomenclatures import Role
from app.services.cases.beneficiaries import search_beneficiaries
from app.services.cases.lifecycle import find_cases, my_case_counts, my_idle_cases, my_open_cases
from app.services.cases.triage import queue, queue_size
from app.services.referrals.views import (
    awaiting_answer,
    follow_up_counts,
    follow_up_due,
    operator_today,
)
from app.web.deps import CaseWorker, CurrentStaff, SessionDep
from app.web.rendering import render
from app.web.routing import new_router

router = new_router(include_in_schema=False)

# The home shows the first lines of each list, the most urgent ones; « Voir tout » leads to
# the whole list. Rendering every case of a busy counsellor made the page slow and long.
HOME_ROWS = 20
PAGE_ROWS = 50


@router.get("/")
def home(request: Request, session: SessionDep, user: CurrentStaff):
    if user.role == Role.NATIONAL_OBSERVER:
        return RedirectResponse("/rapports/national", status_code=303)  # their only page
    if not user.sees_cases:
        return render(request, "desk/home/no_cases.html", {})
    today = operator_today(session=session, actor=user)
    first = {"session": session, "actor": user, "limit": HOME_ROWS}
    return render(
        request,
        "desk/home/home.html",
        {
            "open_cases": my_open_cases(**first),
            "idle_cases": my_idle_cases(**first),
            "case_counts": my_case_counts(session=session, actor=user),
            "triage_queue": queue(**first, mine_only=True),
            "triage_total": queue_size(session=session, actor=user, mine_only=True),
            "referrals_awaiting": awaiting_answer(**first),
            "referrals_due": follow_up_due(**first, today=today),
            "referral_counts": follow_up_counts(session=session, actor=user, today=today),
            "idle_days": get_settings().idle_case_days,
        },
    )


@dataclass(frozen=True)
class Pager:
    """Where a page of PAGE_ROWS lines sits in a list of `total`."""

    number: int
    total: int

    @property
    def offset(self) -> int:
        return (self.number - 1) * PAGE_ROWS

    @property
    def count(self) -> int:
        return max(1, -(-self.total // PAGE_ROWS))


def _list_page(request, *, title, path, pager, rows, empty, table, date_kind=""):
    return render(
        request,
        "desk/home/list.html",
        {
            "title": title,
            "path": path,
            "pager": pager,
            "rows": rows,
            "empty": empty,
            "table": table,
            "date_kind": date_kind,
        },
    )


@router.get("/mes-dossiers")
def my_open_cases_page(
    request: Request, session: SessionDep, user: CaseWorker, page: PageNumber = 1
):
    pager = Pager(page, my_case_counts(session=session, actor=user).open)
    rows = my_open_cases(session=session, actor=user, offset=pager.offset, limit=PAGE_ROWS)
    return _list_page(
        request,
        title="Mes dossiers ouverts",
        path="/mes-dossiers",
        pager=pager,
        rows=rows,
        empty="Aucun dossier ouvert.",
        table="cases",
    )


@router.get("/mes-dossiers/sans-activite")
def my_idle_cases_page(
    request: Request, session: SessionDep, user: CaseWorker, page: PageNumber = 1
):
    pager = Pager(page, my_case_counts(session=session, actor=user).idle)
    rows = my_idle_cases(session=session, actor=user, offset=pager.offset, limit=PAGE_ROWS)
    return _list_page(
        request,
        title=f"Dossiers sans activité depuis {get_settings().idle_case_days} jours ou plus",
        path="/mes-dossiers/sans-activite",
        pager=pager,
        rows=rows,
        empty="Aucun dossier en sommeil.",
        table="cases",
    )


@router.get("/mes-orientations/a-relancer")
def referrals_due_page(
    request: Request, session: SessionDep, user: CaseWorker, page: PageNumber = 1
):
    today = operator_today(session=session, actor=user)
    pager = Pager(page, follow_up_counts(session=session, actor=user, today=today).due)
    rows = follow_up_due(
        session=session, actor=user, today=today, offset=pager.offset, limit=PAGE_ROWS
    )
    return _list_page(
        request,
        title="Orientations à relancer",
        path="/mes-orientations/a-relancer",
        pager=pager,
        rows=rows,
        empty="Aucune orientation à relancer aujourd'hui.",
        table="referrals",
        date_kind="follow_up",
    )


@router.get("/mes-orientations/en-attente")
def referrals_awaiting_page(
    request: Request, session: SessionDep, user: CaseWorker, page: PageNumber = 1
):
    pager = Pager(page, follow_up_counts(session=session, actor=user).awaiting)
    rows = awaiting_answer(session=session, actor=user, offset=pager.offset, limit=PAGE_ROWS)
    return _list_page(
        request,
        title="Orientations en attente de réponse du partenaire",
        path="/mes-orientations/en-attente",
        pager=pager,
        rows=rows,
        empty="Aucune orientation en attente de réponse.",
        table="referrals",
        date_kind="sent",
    )


@router.get("/search")
def search(
    request: Request,
    session: SessionDep,
    user: CurrentStaff,
    q: Annotated[str, Query(max_length=100)] = "",
):
    people = search_beneficiaries(session=session, actor=user, query=q) if q.strip() else []
    cases = find_cases(session=session, actor=user, reference=q) if len(q.strip()) >= 3 else []
    return render(
        request,
        "desk/home/search.html",
        {"q": q, "people": people, "cases": cases},
        fragment="desk/home/_partials/search_results.html",
    )
