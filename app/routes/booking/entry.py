"""The national booking entry: /rendez-vous without an operator asks the person's situation and
postcode (or commune), then names the operator serving them, its nearest sites and remote
modes, before its own booking pages. The postcode and the situation travel in a POST body and
cookies only."""

from fastapi import Request

from app.core.config import get_settings
from app.core.errors import Invalid, TooManyAttempts
from app.models.nomenclatures import CepSituation
from app.routes.booking.public_pages import booking_page, remember_postcode, remember_situation
from app.services.booking.national_entry import (
    FIELD,
    EntryMatch,
    NotServed,
    find_serving_operator,
)
from app.services.booking.orientation import orientation_of
from app.web.client_address import client_address
from app.web.deps import SessionDep, SubmittedForm
from app.web.routing import new_router

router = new_router(prefix="/rendez-vous", include_in_schema=False)


def entry_page(request: Request, *, form=None, errors=None, status_code: int = 200, **extra):
    """The first page: what the CEP is, the person's situation, their postcode or commune."""
    phone = get_settings().national_phone
    context = {
        "situations": CepSituation.choices(),
        "field": FIELD,
        "national_phone": phone,
        # What a phone dials: « 09 70 00 00 00 » or « 09.70… » as 0970000000.
        "national_tel": "".join(c for c in phone if c.isdigit() or c == "+"),
        "form": form or {},
        "errors": errors or {},
        "communes": [],
        "not_served": None,
        **extra,
    }
    return booking_page(request, "entry.html", context, status_code=status_code)


@router.post("/trouver")
def find_operator(request: Request, session: SessionDep, form: SubmittedForm):
    values = {key: str(value) for key, value in form.items() if key != "csrf_token"}
    try:
        orientation = orientation_of(values.get("situation", ""))
        if orientation.elsewhere:
            return booking_page(request, "orientation.html", {"orientation": orientation})
        found = find_serving_operator(
            session=session, ip=client_address(request), query=values.get(FIELD, "")
        )
    except TooManyAttempts as exc:
        return booking_page(request, "too_many.html", {"message": exc.message}, status_code=429)
    except Invalid as exc:
        return entry_page(request, form=values, errors=exc.fields, status_code=422)
    except NotServed as exc:
        return entry_page(request, form=values, not_served=exc.place)
    if not isinstance(found, EntryMatch):
        # Several communes bear that name: the person picks hers, by its postcode.
        return entry_page(request, form=values, communes=found)
    context = {"match": found, "orientation": orientation, "operator": found.operator}
    response = booking_page(request, "operator.html", context)
    # Said once: the booking form pre-fills « Votre situation » and does not ask the postcode.
    remember_situation(request, response, orientation.situation)
    return remember_postcode(request, response, found.postcode)
