"""The data feed for France compétences' information system: the unit episodes of a period,
streamed as NDJSON or CSV, and the JSON Schema of one row at a stable address."""

from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import Query
from fastapi.responses import JSONResponse, StreamingResponse

from app.models.bounds import Day
from app.services.audit import accesses
from app.services.reports.feed import (
    FEED_VERSION,
    SCHEMA_PATH,
    feed_csv_chunks,
    feed_rows,
    ndjson_chunks,
    row_schema,
    schema_url,
    units_feed,
)
from app.web.api_errors import API_ERRORS, DOWNLOAD
from app.web.deps import ApiStaff, SessionDep, StreamingReadSessionDep
from app.web.export_purpose import PurposeDetailParam, PurposeParam, api_export_reason
from app.web.routing import new_router

api_router = new_router(prefix="/api/v1", tags=["flux France compétences"])

MEDIA_TYPES = {"ndjson": "application/x-ndjson", "csv": "text/csv; charset=utf-8"}
VERSION_HEADER = {
    "description": "Version du format des lignes (aussi dans chaque ligne, `version`)",
    "required": True,
    "schema": {"type": "string", "const": FEED_VERSION},
}
FEED_ANSWER = {
    200: {
        "description": "Une ligne par unité : un objet JSON par ligne, ou un CSV `;` en UTF-8 "
        "avec BOM (les canaux en colonnes `channel_<code>`)",
        "content": {
            "application/x-ndjson": {"schema": {"type": "string"}},
            "text/csv": {"schema": {"type": "string"}},
        },
        "headers": {"Content-Disposition": DOWNLOAD, "X-Feed-Version": VERSION_HEADER},
    }
}


@api_router.get(
    "/exports/units", response_class=StreamingResponse, responses=API_ERRORS | FEED_ANSWER
)
def get_units_feed(
    session: SessionDep,
    reader: StreamingReadSessionDep,
    user: ApiStaff,
    start: Annotated[Day, Query(alias="from")],
    end: Annotated[Day, Query(alias="to")],
    purpose: PurposeParam,
    format: Literal["ndjson", "csv"] = "ndjson",
    purpose_detail: PurposeDetailParam = "",
):
    """One pseudonymised row per unit episode not cancelled that overlaps the local days
    `from`..`to` (started before the end, not ended before the start): national observers
    read every operator, an operator's managers and administrators their own.

    At most three years, from 1 January 2020. Each row follows the JSON Schema at
    `/api/v1/exports/units/schema.json`, whose version is in every row and in `X-Feed-Version`.

    Pseudonymised rows are still personal data: `purpose` says why the feed is pulled (with
    `purpose_detail` for `autre`), and is kept in the operator's audit trail."""
    reason = api_export_reason(purpose, purpose_detail)
    feed = units_feed(session=session, actor=user, start=start, end=end)
    accesses.exported(session, actor=user, record_type="units_feed", purpose=reason)
    rows = feed_rows(session=reader, feed=feed)
    chunks = ndjson_chunks(rows) if format == "ndjson" else feed_csv_chunks(rows, feed.filename)
    headers = {
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(feed.filename)}.{format}",
        "Cache-Control": "no-store",
        "X-Feed-Version": FEED_VERSION,
        "Link": f'<{schema_url()}>; rel="describedby"',
    }
    return StreamingResponse(chunks, media_type=MEDIA_TYPES[format], headers=headers)


class SchemaResponse(JSONResponse):
    media_type = "application/schema+json"


@api_router.get(SCHEMA_PATH.removeprefix("/api/v1"), response_class=SchemaResponse)
def get_units_feed_schema() -> SchemaResponse:
    """The JSON Schema (draft 2020-12) of one row of `/exports/units`, with its `version`.

    Public, without a token: it holds no data, only the fields and the codes of public
    nomenclatures, and whoever reads the feed validates against its `$id` from anywhere."""
    return SchemaResponse(row_schema(), headers={"Cache-Control": "public, max-age=3600"})
