"""« Marchés »: the national markets, their units and lots (system administrators), and each
lot's prices and UO4 budget (the operator's administrators)."""

from fastapi import Request
from fastapi.responses import RedirectResponse

from app.core.errors import Invalid
from app.models.bounds import OptionalRowId, RowId
from app.models.markets import (
    BudgetEdit,
    LotCreate,
    MarketCreate,
    MarketUnitEdit,
    PriceCreate,
    ProofRule,
)
from app.services.admin.markets import (
    create_lot,
    create_market,
    edit_market_unit,
    get_market,
    load_lot,
    market_view,
    markets_view,
    set_price,
    set_uo4_budget,
)
from app.web.deps import CurrentStaff, SessionDep, SubmittedForm
from app.web.forms import form_errors, parse_form
from app.web.rendering import render
from app.web.routing import new_router

router = new_router(include_in_schema=False)

# What the market's page says after each action (?fait=…).
DONE = {
    "marche": "Marché créé, avec les unités du marché précédent : vérifiez-les.",
    "lot": "Lot créé.",
    "unite": "Conditions de l'unité enregistrées.",
    "prix": "Prix enregistré.",
    "budget": "Budget UO4 enregistré.",
}


def _markets_page(request, session, user, *, form=None, errors=None):
    return render(
        request,
        "admin/markets/markets.html",
        {
            "page": markets_view(session=session, actor=user),
            "form": form or {},
            "errors": errors or {},
        },
    )


@router.get("/admin/marches")
def markets_page(request: Request, session: SessionDep, user: CurrentStaff):
    return _markets_page(request, session, user)


@router.post("/admin/marches")
def new_market(request: Request, session: SessionDep, user: CurrentStaff, form: SubmittedForm):
    typed = dict(form.items())
    try:
        market = create_market(session=session, actor=user, data=parse_form(MarketCreate, typed))
    except Invalid as exc:
        return _markets_page(request, session, user, form=typed, errors=form_errors(exc))
    return RedirectResponse(f"/admin/marches/{market.id}?fait=marche", 303)


def _market_page(
    request, session, user, market_id, *, operator_id=None, done=None, form=None, errors=None
):
    page = market_view(session=session, actor=user, market_id=market_id, operator_id=operator_id)
    return render(
        request,
        "admin/markets/market.html",
        {
            "page": page,
            "rules": ProofRule.choices(),
            "done_message": DONE.get(done or ""),
            "form": form or {},
            "errors": errors or {},
        },
    )


@router.get("/admin/marches/{market_id}")
def market_page(
    request: Request,
    session: SessionDep,
    user: CurrentStaff,
    market_id: RowId,
    operateur: OptionalRowId = None,
    fait: str = "",
):
    return _market_page(request, session, user, market_id, operator_id=operateur, done=fait)


def _back(market_id: int, operator_id: int | None, done: str) -> RedirectResponse:
    chosen = f"operateur={operator_id}&" if operator_id else ""
    return RedirectResponse(f"/admin/marches/{market_id}?{chosen}fait={done}#fait", 303)


@router.post("/admin/marches/{market_id}/lots")
def new_lot(
    request: Request, session: SessionDep, user: CurrentStaff, market_id: RowId, form: SubmittedForm
):
    typed = dict(form.items())
    get_market(session=session, actor=user, market_id=market_id)  # 404 before any form error
    try:
        data = parse_form(LotCreate, typed)
        lot = create_lot(session=session, actor=user, market_id=market_id, data=data)
    except Invalid as exc:
        errors = form_errors(exc)
        return _market_page(request, session, user, market_id, form=typed, errors=errors)
    return _back(market_id, lot.operator_id, "lot")


@router.post("/admin/marches/{market_id}/unites/{unit_id}")
def save_unit_terms(
    request: Request,
    session: SessionDep,
    user: CurrentStaff,
    market_id: RowId,
    unit_id: RowId,
    form: SubmittedForm,
):
    typed = dict(form.items())
    get_market(session=session, actor=user, market_id=market_id)
    operator_id = typed.get("operateur")
    chosen = int(operator_id) if str(operator_id or "").isdigit() else None
    try:
        data = parse_form(MarketUnitEdit, typed)
        edit_market_unit(
            session=session, actor=user, market_id=market_id, unit_id=unit_id, data=data
        )
    except Invalid as exc:
        errors = form_errors(exc)
        return _market_page(request, session, user, market_id, form=typed, errors=errors)
    return _back(market_id, chosen, "unite")


def _lot_action(request, session, user, lot_id: int, typed: dict, done: str, action):
    """Run one action on the lot (404 outside the actor's operator before any form error),
    then come back to the market's page, on that lot."""
    lot = load_lot(session=session, actor=user, lot_id=lot_id)
    try:
        action()
    except Invalid as exc:
        return _market_page(
            request,
            session,
            user,
            lot.market_id,
            operator_id=lot.operator_id,
            form=typed,
            errors=form_errors(exc),
        )
    return _back(lot.market_id, lot.operator_id, done)


@router.post("/admin/lots/{lot_id}/prix")
def save_price(
    request: Request, session: SessionDep, user: CurrentStaff, lot_id: RowId, form: SubmittedForm
):
    typed = dict(form.items())

    def action():
        data = parse_form(PriceCreate, typed)
        set_price(session=session, actor=user, lot_id=lot_id, data=data)

    return _lot_action(request, session, user, lot_id, typed, "prix", action)


@router.post("/admin/lots/{lot_id}/budget")
def save_budget(
    request: Request, session: SessionDep, user: CurrentStaff, lot_id: RowId, form: SubmittedForm
):
    typed = dict(form.items())

    def action():
        data = parse_form(BudgetEdit, typed)
        set_uo4_budget(session=session, actor=user, lot_id=lot_id, data=data)

    return _lot_action(request, session, user, lot_id, typed, "budget", action)
