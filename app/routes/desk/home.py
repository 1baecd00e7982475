"""The counsellor's home page, the full lists it opens onto, and the global search."""

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import Query, Request
from fastapi.responses import RedirectResponse
from sqlmodel import Session

from app.core.config import get_settings
from app.core.typography import de
from app.models.bounds import OptionalRowId, PageNumber
from app.models.nomenclatures import Role
from app.models.staff import StaffUser
from app.services.desk import home as desk
from app.web.deps import CaseWorker, CurrentStaff, SessionDep
from app.web.rendering import render
from app.web.routing import new_router

router = new_router(include_in_schema=False)

# The home is one screen for what needs doing today: the first lines of each list, the most
# urgent ones; « Voir tout » leads to the whole list. Rendering every case of a busy counsellor
# made the page slow and 3,000 px long.
HOME_ROWS = 5
PAGE_ROWS = 50


@router.get("/")
def home(request: Request, session: SessionDep, user: CurrentStaff):
    if user.role == Role.NATIONAL_OBSERVER:
        return RedirectResponse("/rapports/national", status_code=303)  # their only page
    if user.role == Role.CONTROLLER:
        return RedirectResponse("/controle/campagnes", status_code=303)  # likewise
    if not user.sees_cases:
        return render(request, "desk/home/no_cases.html", {})
    found = desk.home(session=session, actor=user, rows=HOME_ROWS)
    return render(
        request, "desk/home/home.html", {"home": found, "idle_days": get_settings().idle_case_days}
    )


@dataclass(frozen=True)
class Pager:
    """Page `number` (from 1) of a list shown PAGE_ROWS lines at a time, `total` lines in all
    (known once the page is read)."""

    number: int
    total: int = 0

    @property
    def offset(self) -> int:
        """How many lines come before this page."""
        return (self.number - 1) * PAGE_ROWS

    @property
    def count(self) -> int:
        return max(1, -(-self.total // PAGE_ROWS))


@dataclass(frozen=True)
class HomeList:
    """One of the whole lists the home opens onto: where it is, what reads a page of it, and
    how it is shown (`title` may quote the settings' `idle_days`)."""

    title: str
    path: str
    read: Callable[..., desk.ListPage]  # keywords: session, actor, offset, limit
    empty: str
    table: Literal["cases", "referrals"]
    date_kind: Literal["", "follow_up", "sent"] = ""
    # The title of a counsellor's list, for a manager (`read` takes `counsellor_id` then).
    their_title: str = ""


OPEN_CASES = HomeList(
    title="Mes dossiers ouverts",
    path="/mes-dossiers",
    read=desk.open_cases_page,
    empty="Aucun dossier ouvert.",
    table="cases",
    their_title="Dossiers ouverts {de_counsellor}",
)
IDLE_CASES = HomeList(
    title="Dossiers sans activité depuis {idle_days} jours ou plus",
    path="/mes-dossiers/sans-activite",
    read=desk.idle_cases_page,
    empty="Aucun dossier en sommeil.",
    table="cases",
    their_title="Dossiers {de_counsellor} sans activité depuis {idle_days} jours ou plus",
)
REFERRALS_DUE = HomeList(
    title="Orientations à relancer",
    path="/mes-orientations/a-relancer",
    read=desk.referrals_due_page,
    empty="Aucune orientation à relancer aujourd'hui.",
    table="referrals",
    date_kind="follow_up",
)
REFERRALS_AWAITING = HomeList(
    title="Orientations en attente de réponse du partenaire",
    path="/mes-orientations/en-attente",
    read=desk.referrals_awaiting_page,
    empty="Aucune orientation en attente de réponse.",
    table="referrals",
    date_kind="sent",
)


def _list_page(
    request: Request,
    shown: HomeList,
    *,
    session: Session,
    user: StaffUser,
    page: int,
    counsellor_id: int | None = None,
):
    """Page `page` of one of the home's whole lists (of `counsellor_id`'s, when given)."""
    pager = Pager(page)
    whose = {"counsellor_id": counsellor_id} if counsellor_id is not None else {}
    found = shown.read(session=session, actor=user, offset=pager.offset, limit=PAGE_ROWS, **whose)
    title, path = shown.title, shown.path
    if found.counsellor is not None:
        title = shown.their_title
        path = f"{path}?{urlencode({'conseiller': found.counsellor.id})}"
    words = {"idle_days": get_settings().idle_case_days}
    if found.counsellor is not None:
        words["de_counsellor"] = de(found.counsellor.full_name)
    return render(
        request,
        "desk/home/list.html",
        {
            "title": title.format(**words),
            "path": path,
            "pager": replace(pager, total=found.total),
            "rows": found.rows,
            "empty": shown.empty,
            "table": shown.table,
            "date_kind": shown.date_kind,
        },
    )


@router.get(OPEN_CASES.path)
def my_open_cases_page(
    request: Request,
    session: SessionDep,
    user: CaseWorker,
    page: PageNumber = 1,
    conseiller: OptionalRowId = None,
):
    """The user's open cases; a manager's link from their team view names a counsellor."""
    return _list_page(
        request, OPEN_CASES, session=session, user=user, page=page, counsellor_id=conseiller
    )


@router.get(IDLE_CASES.path)
def my_idle_cases_page(
    request: Request,
    session: SessionDep,
    user: CaseWorker,
    page: PageNumber = 1,
    conseiller: OptionalRowId = None,
):
    return _list_page(
        request, IDLE_CASES, session=session, user=user, page=page, counsellor_id=conseiller
    )


@router.get(REFERRALS_DUE.path)
def referrals_due_page(
    request: Request, session: SessionDep, user: CaseWorker, page: PageNumber = 1
):
    return _list_page(request, REFERRALS_DUE, session=session, user=user, page=page)


@router.get(REFERRALS_AWAITING.path)
def referrals_awaiting_page(
    request: Request, session: SessionDep, user: CaseWorker, page: PageNumber = 1
):
    return _list_page(request, REFERRALS_AWAITING, session=session, user=user, page=page)


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
