"""Asking for the reason of a read outside one's own cases (app/services/audit/outside_reads.py):
the API's `reason` parameter, and the page a refused read sends the browser to."""

from typing import Annotated
from urllib.parse import quote

from fastapi import Query, Request, Response
from fastapi.responses import RedirectResponse

from app.models.audit import MAX_REASON
from app.services.audit.outside_reads import ReasonRequired
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


def ask_reason(request: Request, exc: ReasonRequired) -> Response:
    """Send the browser to the reason's page, then back to what it asked for."""
    wanted = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    target = f"/beneficiaries/{exc.beneficiary_id}/motif?suite={quote(wanted, safe='')}"
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)
