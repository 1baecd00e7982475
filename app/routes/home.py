"""The counsellor's home page and the global search."""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse

from app.deps import CurrentStaff, SessionDep
from app.models.nomenclatures import Role
from app.rendering import render
from app.services.beneficiaries import search_beneficiaries
from app.services.cases import find_cases, my_idle_cases, my_open_cases
from app.services.referral_views import awaiting_answer, follow_up_due
from app.services.triage import queue

router = APIRouter(include_in_schema=False)


@router.get("/")
def home(request: Request, session: SessionDep, user: CurrentStaff):
    if user.role == Role.NATIONAL_OBSERVER:
        return RedirectResponse("/rapports/national", status_code=303)  # their only page
    if not user.sees_cases:
        return render(request, "home/no_cases.html", {})
    return render(
        request,
        "home/home.html",
        {
            "open_cases": my_open_cases(session=session, actor=user),
            "idle_cases": my_idle_cases(session=session, actor=user),
            "triage_queue": queue(session=session, actor=user, mine_only=True),
            "referrals_awaiting": awaiting_answer(session=session, actor=user),
            "referrals_due": follow_up_due(session=session, actor=user),
        },
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
        "home/search.html",
        {"q": q, "people": people, "cases": cases},
        fragment="home/_partials/search_results.html",
    )
