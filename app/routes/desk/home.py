"""The counsellor's home page, the full lists it opens onto, and the global search."""

from dataclasses import dataclass
from typing import Annotated

from fastapi import Query, Request
from fastapi.responses import RedirectResponse

from app.core.config import get_settings
from app.models.bounds import PageNumber
from app.models.nomenclatures import Role
from app.services.desk import home as desk
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
    found = desk.home(session=session, actor=user, rows=HOME_ROWS)
    return render(
        request,
        "desk/home/home.html",
        {
            "open_cases": found.open_cases,
            "idle_cases": found.idle_cases,
            "case_counts": found.case_counts,
            "triage_queue": found.triage_queue,
            "triage_total": found.triage_total,
            "referrals_awaiting": found.referrals_awaiting,
            "referrals_due": found.referrals_due,
            "referral_counts": found.referral_counts,
            "idle_days": get_settings().idle_case_days,
        },
    )


def first_row(page: int) -> int:
    """How many lines come before page `page` (from 1)."""
    return (page - 1) * PAGE_ROWS


@dataclass(frozen=True)
class Pager:
    """Where a page of PAGE_ROWS lines sits in a list of `total`."""

    number: int
    total: int

    @property
    def offset(self) -> int:
        return first_row(self.number)

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
    offset = first_row(page)
    found = desk.open_cases_page(session=session, actor=user, offset=offset, limit=PAGE_ROWS)
    return _list_page(
        request,
        title="Mes dossiers ouverts",
        path="/mes-dossiers",
        pager=Pager(page, found.total),
        rows=found.rows,
        empty="Aucun dossier ouvert.",
        table="cases",
    )


@router.get("/mes-dossiers/sans-activite")
def my_idle_cases_page(
    request: Request, session: SessionDep, user: CaseWorker, page: PageNumber = 1
):
    offset = first_row(page)
    found = desk.idle_cases_page(session=session, actor=user, offset=offset, limit=PAGE_ROWS)
    return _list_page(
        request,
        title=f"Dossiers sans activité depuis {get_settings().idle_case_days} jours ou plus",
        path="/mes-dossiers/sans-activite",
        pager=Pager(page, found.total),
        rows=found.rows,
        empty="Aucun dossier en sommeil.",
        table="cases",
    )


@router.get("/mes-orientations/a-relancer")
def referrals_due_page(
    request: Request, session: SessionDep, user: CaseWorker, page: PageNumber = 1
):
    offset = first_row(page)
    found = desk.referrals_due_page(session=session, actor=user, offset=offset, limit=PAGE_ROWS)
    return _list_page(
        request,
        title="Orientations à relancer",
        path="/mes-orientations/a-relancer",
        pager=Pager(page, found.total),
        rows=found.rows,
        empty="Aucune orientation à relancer aujourd'hui.",
        table="referrals",
        date_kind="follow_up",
    )


@router.get("/mes-orientations/en-attente")
def referrals_awaiting_page(
    request: Request, session: SessionDep, user: CaseWorker, page: PageNumber = 1
):
    offset = first_row(page)
    found = desk.referrals_awaiting_page(
        session=session, actor=user, offset=offset, limit=PAGE_ROWS
    )
    return _list_page(
        request,
        title="Orientations en attente de réponse du partenaire",
        path="/mes-orientations/en-attente",
        pager=Pager(page, found.total),
        rows=found.rows,
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
    found = desk.search(session=session, actor=user, text=q)
    return render(
        request,
        "desk/home/search.html",
        {"q": q, "people": found.people, "cases": found.cases},
        fragment="desk/home/_partials/search_results.html",
    )
