"""The feed for document management systems: issued versions in issue order, a page at a time
(`GET /api/v1/deliverable-versions`), and each one's PDF with its SHA-256 as ETag."""

from typing import Annotated

from fastapi import Query, Request
from fastapi.responses import Response, StreamingResponse

from app.core.config import get_settings
from app.models.bounds import RowId
from app.models.dms_feed import FeedKind, FeedPagePublic, FeedUnit, FeedVersionPublic
from app.services.deliverables import dms_feed as service
from app.web.api_errors import API_ERRORS, DOWNLOAD, refusal
from app.web.deps import ApiFeedReader, SessionDep
from app.web.exports import attachment_disposition
from app.web.routing import new_router

api_router = new_router(prefix="/api/v1", tags=["flux des documents"], responses=API_ERRORS)

Limit = Annotated[
    int,
    Query(
        ge=1, le=service.MAX_LIMIT, description="Versions par page (100 par défaut, 1 000 au plus)"
    ),
]
Since = Annotated[
    str | None,
    # No max_length here: an overlong cursor is one altered, refused with 400 like the others.
    Query(
        description="Le curseur `next` de la page précédente, tel quel ; absent : depuis la "
        "première version émise",
    ),
]
BAD_CURSOR = {400: refusal("Curseur modifié ou illisible")}


@api_router.get("/deliverable-versions", response_model=FeedPagePublic, responses=BAD_CURSOR)
def list_versions(
    request: Request,
    session: SessionDep,
    reader: ApiFeedReader,
    since: Since = None,
    limit: Limit = service.DEFAULT_LIMIT,
) -> FeedPagePublic:
    """Les versions émises de l'opérateur, dans l'ordre d'émission, page par page.

    Chaque page se termine par un curseur opaque (`next`) : le redonner tel quel dans `since`
    donne les versions émises après la dernière lue, sans en sauter ni en répéter aucune, même
    émises pendant la lecture. `has_more` dit s'il en reste dès maintenant ; sinon, garder le
    curseur et revenir plus tard. Un curseur modifié est refusé (400), celui d'un autre
    opérateur est inconnu (404)."""
    page = service.feed_page(
        session=session, operator_id=reader.reading.operator_id, since=since, limit=limit
    )
    return FeedPagePublic(
        versions=[_public(request, version) for version in page.versions],
        next=page.next_cursor,
        has_more=page.has_more,
    )


def _public(request: Request, version: service.FeedVersion) -> FeedVersionPublic:
    unit = None
    if version.unit_code and version.episode_id is not None:
        unit = FeedUnit(
            code=version.unit_code, label=version.unit_label or "", episode_id=version.episode_id
        )
    url = None
    if version.file_deleted_at is None:
        # The public address, as in shared links: behind the TLS proxy the request's own
        # address says http://.
        path = request.app.url_path_for("download_version_pdf", version_id=version.id)
        url = get_settings().public_base_url.rstrip("/") + path
    return FeedVersionPublic(
        id=version.id,
        case_reference=version.case_reference,
        kind=FeedKind(code=version.kind_code, label=version.kind_label),
        unit=unit,
        version=version.number,
        issued_at=version.issued_at,
        sha256=version.sha256,
        size_bytes=version.size_bytes,
        file_name=version.file_name,
        download_url=url,
        file_deleted_at=version.file_deleted_at,
    )


@api_router.get(
    "/deliverable-versions/{version_id}/pdf",
    name="download_version_pdf",
    response_class=Response,
    responses={
        200: {
            "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
            "headers": {
                "Content-Disposition": DOWNLOAD,
                "ETag": {"description": "Le SHA-256 du PDF, entre guillemets",
                         "schema": {"type": "string"}},
            },
        },
        304: {"description": "Inchangé : `If-None-Match` portait déjà ce SHA-256"},
    },
)  # fmt: skip
def download_version_pdf(
    request: Request, session: SessionDep, reader: ApiFeedReader, version_id: RowId
):
    """Le PDF d'une version émise, octet pour octet, avec son SHA-256 comme `ETag` ; avec
    `If-None-Match` portant ce SHA-256, la réponse est 304 sans le fichier."""
    pdf = service.feed_pdf(
        session=session,
        reader=reader.reading,
        version_id=version_id,
        # Several header lines are one list (RFC 9110 §5.3): headers.get gives the first only.
        if_none_match=", ".join(request.headers.getlist("if-none-match")) or None,
    )
    headers = {"ETag": pdf.etag, "Cache-Control": "private, no-cache"}
    if pdf.unchanged:
        return Response(status_code=304, headers=headers)
    headers |= {
        "Content-Disposition": attachment_disposition(pdf.file_name),
        "Content-Length": str(pdf.size_bytes),
    }
    return StreamingResponse(pdf.chunks(), media_type="application/pdf", headers=headers)
