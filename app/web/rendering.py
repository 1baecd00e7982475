"""Templates: one render helper for whole pages and their htmx fragments, and French filters."""

from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qsl

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import StrictUndefined

from app.core.dates import (
    format_date,
    format_datetime,
    format_day,
    format_month,
    format_recent_day,
    input_datetime,
)
from app.core.typography import de, french_euros, french_hours, french_number, french_percent
from app.models import nomenclatures
from app.models.appointments import AppointmentStatus
from app.models.cases import CaseStatus
from app.models.consents import STAFF_CHANNELS, ConsentPurpose
from app.models.control import PackStatus
from app.models.deliverable_archives import ArchiveContent, ArchiveStatus
from app.models.deliverables import AcknowledgementMethod, DeliverableStatus, StepStatus
from app.models.fields import display_phone
from app.models.markets import ProofRule
from app.models.operators import Operator
from app.models.outbox import MessageStatus
from app.models.partners import ReferralStatus
from app.models.rights import RightKind, RightStatus
from app.models.triage import TriageStatus
from app.models.waiting_list import OfferOutcome, WaitingStatus
from app.services.admin.operator_identity import PublicBrand, brand_of
from app.services.audit.purposes import ExportPurpose
from app.services.booking.video_rooms import joining_note
from app.services.privacy.consent_texts import CURRENT
from app.services.reports.departements import shaded_map
from app.web.deps import expected_csrf_token

templates = Jinja2Templates(directory=Path(__file__).resolve().parents[1] / "templates")
templates.env.undefined = StrictUndefined

# The states templates compare with ({% if a.status == AppointmentStatus.CANCELLED %}), offer
# in forms and label (|label("ReferralStatus")), each defined beside its table.
STATES = {
    states.__name__: states
    for states in (
        AcknowledgementMethod,
        AppointmentStatus,
        ArchiveContent,
        ArchiveStatus,
        CaseStatus,
        DeliverableStatus,
        MessageStatus,
        PackStatus,
        ProofRule,
        ReferralStatus,
        RightKind,
        RightStatus,
        StepStatus,
        TriageStatus,
        WaitingStatus,
        OfferOutcome,
    )
}


def label(value: str | None, enum_name: str) -> str:
    """French label of a stored code, e.g. {{ b.sex|label('Sex') }}."""
    if value in (None, ""):
        return "Non renseigné"
    enum = STATES.get(enum_name) or getattr(nomenclatures, enum_name)
    try:
        return enum(value).label
    except ValueError:
        return value


def options(rows, label_attr: str) -> list[tuple[int, str]]:
    """(id, label) pairs for a select, e.g. {{ sites|options("name") }}."""
    return [(row.id, getattr(row, label_attr)) for row in rows]


def file_size(size: int | None) -> str:
    """1 234 octets, 56 ko, 7,8 Mo: French units, decimal comma."""
    size = size or 0
    if size < 1000:
        return f"{size} octet{'s' if size > 1 else ''}"
    if size < 1_000_000:
        return f"{round(size / 1000)} ko"
    return f"{size / 1_000_000:.1f} Mo".replace(".", ",")


def number(value, decimals: int | None = None):
    """{{ total|number }}: « 1 234 », « 12,5 »; text (a label, a hidden cell) is left as it is."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return value
    return french_number(value, decimals)


def euros(value: Decimal | None) -> str:
    """{{ amount|euros }}: « 1 234,50 € »; « — » when there is no amount (no price set)."""
    return "—" if value is None else french_euros(value)


def percent(value: int | float | Decimal, decimals: int | None = None) -> str:
    """{{ rate|percent }}: « 12,5 % »."""
    return french_percent(value, decimals)


def hours(value: Decimal | None) -> str:
    """{{ attendee.hours|hours }}: « 7 h », « 3,5 h »; nothing for none."""
    return "" if value is None else french_hours(value)


templates.env.filters.update(
    de=de,
    euros=euros,
    hours=hours,
    number=number,
    percent=percent,
    file_size=file_size,
    options=options,
    datetime=format_datetime,
    date=format_date,
    day=format_day,
    month_name=format_month,
    recent_day=format_recent_day,
    input_datetime=input_datetime,
    label=label,
    phone=display_phone,
    # A query string as its (name, value) pairs: the hidden fields of a form that downloads.
    query_pairs=lambda query: parse_qsl(query or "", keep_blank_values=True),
)
templates.env.globals["nomenclatures"] = nomenclatures
templates.env.globals["export_purposes"] = ExportPurpose.choices()
# reports/_partials/map.html draws what this computes from the shares it is given.
templates.env.globals["shaded_map"] = shaded_map
# booking/_joining.html: how a remote appointment is joined, worded as in its e-mails.
templates.env.globals["joining_note"] = joining_note
templates.env.globals.update(STATES)
# The consent texts shown today, with their version: forms show exactly what gets recorded.
templates.env.globals["consent_texts"] = {purpose.value: text for purpose, text in CURRENT.items()}
templates.env.globals["share_consent_text"] = CURRENT[ConsentPurpose.PARTNER_SHARE]
templates.env.globals["consent_channels"] = STAFF_CHANNELS
templates.env.globals["consent_purposes"] = ConsentPurpose.choices()


def is_htmx(request: Request) -> bool:
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def privacy_notice_url(context: dict) -> str:
    """The public pages' footer link: the notice of the operator the page is about, else the
    list of every operator's."""
    operator = context.get("operator")
    if isinstance(operator, Operator):
        return f"/mentions-information/{operator.code}"
    return "/mentions-information"


def public_brand(context: dict) -> PublicBrand | None:
    """The header of a page seen without an account: the operator the page is about, by its
    name and logo; None: the application's own name (sign-in pages)."""
    operator = context.get("operator")
    return brand_of(operator) if isinstance(operator, Operator) else None


def render(
    request: Request,
    page: str,
    context: dict,
    *,
    fragment: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """The whole page, or only `fragment` when htmx asks; either way `Vary: HX-Request`."""
    context = {
        "user": getattr(request.state, "user", None),
        "csrf_token": expected_csrf_token(request) or "",
        # Counted with the browser session (app/web/deps.py): the header shows it.
        "unread_notifications": getattr(request.state, "unread_notifications", 0),
        "errors": {},
        "form": {},
        **context,
    }
    context.setdefault("privacy_notice_url", privacy_notice_url(context))
    # Staff see the application's header whatever page they look at.
    context["brand"] = None if context["user"] else context.get("brand") or public_brand(context)
    template = fragment if fragment and is_htmx(request) else page
    response = templates.TemplateResponse(request, template, context, status_code=status_code)
    response.headers["Vary"] = "HX-Request"
    response.headers["Cache-Control"] = "no-store"
    return response
