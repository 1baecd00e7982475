"""Asking for the reason of a read outside one's own cases (app/services/audit/outside_reads.py):
the API's `reason` parameter, and the page a refused read sends the browser to."""

from typing import Annotated
from urllib.parse import quote

from fastapi import Query, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse

from app.models.audit import MAX_REASON
from app.services.audit.outside_reads import ReasonRequired
from app.web.middleware import wants_json
from app.web.rendering import is_htmx

ReasonParam = Annotated[
    str | None,
    Query(
        max_length=MAX_REASON,
        description="Motif de la consultation, demandé pour un dossier hors de votre "
        "portefeuille quand l'opérateur l'exige (réglage « Sécurité ») ; enregistré dans le "
        "journal des accès.",
    ),
]


def local_target(value: str | None) -> str:
    """Where to go once the reason is given: a path of ours, never another site (`//x`)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


def reason_required(request: Request, exc: ReasonRequired) -> Response:
    """The API's refusal; the browser is sent to the reason's page, then back to what it
    asked for."""
    if wants_json(request):
        return JSONResponse({"detail": exc.message}, status_code=exc.status_code)
    wanted = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    target = f"/beneficiaries/{exc.beneficiary_id}/motif?suite={quote(wanted, safe='')}"
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)
