"""The purpose a browser export with personal data states (app/services/audit/purposes.py):
read from the download's query string; when missing, the form asking it is shown again."""

from typing import Annotated, Literal

from fastapi import Query, Request
from fastapi.responses import Response

from app.core.errors import Invalid
from app.services.audit.purposes import (
    DETAIL_REQUIRED,
    PURPOSE_REQUIRED,
    ExportPurpose,
    StatedPurpose,
    purpose_reason,
)
from app.web.forms import parse_form
from app.web.rendering import render

PURPOSE_FIELDS = ("finalite", "finalite_precision")


class PurposeNeeded(Invalid):
    """A download asked without its purpose: answered with the form (main.py's handler)."""


def export_reason(request: Request) -> str:
    """The trail entry's reason for this download; PurposeNeeded when none is stated."""
    try:
        return parse_form(StatedPurpose, request.query_params).reason
    except Invalid as exc:
        message = PURPOSE_REQUIRED if "finalite" in exc.fields else DETAIL_REQUIRED
        raise PurposeNeeded(exc.fields, message) from exc


def purpose_form(request: Request, exc: PurposeNeeded) -> Response:
    """The download's address again, its filters kept, with the purpose to give (422)."""
    params = request.query_params
    hidden = {key: value for key, value in params.items() if key not in PURPOSE_FIELDS}
    context = {
        "action": request.url.path,
        "hidden": hidden,
        "form": {key: params.get(key, "") for key in PURPOSE_FIELDS},
        "errors": exc.fields,
        "message": exc.message,
    }
    return render(request, "audit/export_purpose.html", context, status_code=422)


# The API's bulk exports of personal data take the same purposes, as `purpose` (required) and
# `purpose_detail` (optional): a client states why it pulls the file, as a person does. Without
# « autre », whose precision the published schema could not require.
ApiPurpose = Literal[tuple(p.value for p in ExportPurpose if p != ExportPurpose.OTHER)]  # type: ignore[valid-type]
PurposeParam = Annotated[
    ApiPurpose,
    Query(description="Finalité de l'export, inscrite au journal des accès (RGPD, article 5)"),
]
PurposeDetailParam = Annotated[
    str, Query(max_length=200, description="Précision de la finalité, ajoutée au journal")
]


def api_export_reason(purpose: str, detail: str) -> str:
    return purpose_reason(ExportPurpose(purpose), detail)
