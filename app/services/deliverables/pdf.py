"""The PDF of an issued deliverable version, rendered with WeasyPrint from its frozen content."""

import hashlib
import json
import re
from datetime import UTC, date, datetime, time
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape

from app.core.dates import format_date
from app.core.errors import DomainError
from app.core.typography import ADDRESS, french_typography

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "templates"

# Printed documents have no request: a plain environment, not the web one.
_environment = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


class PdfUnavailable(DomainError):
    """WeasyPrint cannot be loaded here (its system libraries are missing)."""

    status_code = 503

    def __init__(self, reason: str) -> None:
        super().__init__(
            "La génération de PDF nécessite la bibliothèque Pango (paquets libpango-1.0-0 et "
            "libpangoft2-1.0-0) et une police comme DejaVu Sans (paquet fonts-dejavu-core) ; "
            f"installez-les sur le serveur puis relancez l’application. Détail : {reason}"
        )


_BULLET = re.compile(r"^[-–—•*]\s+")


def text_blocks(text: str | None) -> list[tuple[str, list[str]]]:
    """("paragraph" | "list", lines) blocks of typed text: blank lines separate blocks, and a
    block whose every line starts with a dash or a bullet is a list."""
    blocks = re.split(r"\n[ \t]*\n", (text or "").replace("\r\n", "\n").strip())
    result = []
    for block in blocks:
        lines = [line.strip() for line in block.split("\n") if line.strip()]
        if lines and all(_BULLET.match(line) for line in lines):
            result.append(("list", [_BULLET.sub("", line) for line in lines]))
        elif lines:
            result.append(("paragraph", lines))
    return result


def typeset(text: str | None) -> Markup:
    """Escaped text in French typography, its web and e-mail addresses marked so that the
    stylesheet breaks them anywhere rather than hyphenating them like words."""
    text = french_typography(text or "")
    pieces = []
    position = 0
    for address in ADDRESS.finditer(text):
        pieces.append(escape(text[position : address.start()]))
        pieces.append(Markup('<span class="address">{}</span>').format(address.group()))
        position = address.end()
    pieces.append(escape(text[position:]))
    return Markup("").join(pieces)


def pdf_date(value: str) -> str:
    """The W3C date WeasyPrint writes into the PDF's metadata, in UTC."""
    return datetime.fromisoformat(value).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def issue_date(value: str, time_zone: str) -> str:
    """29 novembre 2026, from an ISO timestamp, in the site's time zone."""
    return format_date(datetime.fromisoformat(value), time_zone)


def calendar_date(value: str | None) -> str:
    """15 janvier 2027, from an ISO date (a calendar date has no zone to convert from)."""
    if not value:
        return ""
    return format_date(datetime.combine(date.fromisoformat(value), time(), tzinfo=UTC), "UTC")


_environment.filters.update(
    typo=typeset,
    text_blocks=text_blocks,
    pdf_date=pdf_date,
    issue_date=issue_date,
    calendar_date=calendar_date,
)


def render_deliverable_html(content: dict) -> str:
    """The HTML that WeasyPrint lays out; separate so that it can be checked without Pango."""
    return _environment.get_template("deliverables/documents/pdf.html").render(content=content)


# Tagged PDF/UA-1 (ISO 14289-1): a structure tree in reading order, headings, table headers,
# the language and the title shown in the reader's window, so that screen readers and reflow
# work (RGAA asks it of the documents a public service hands out).
PDF_VARIANT = "pdf/ua-1"


def render_deliverable_pdf(content: dict) -> bytes:
    """A4 PDF of a deliverable version; the same content always gives the same bytes.

    A draft's preview goes through here too, its content marked `"preview": True`, so that
    what the counsellor checks is laid out exactly as the version she then issues."""
    try:
        import weasyprint
    except (ImportError, OSError) as error:  # OSError: Pango missing when cffi opens it
        raise PdfUnavailable(str(error)) from error
    html = render_deliverable_html(content)
    # The file /ID comes from the content, and the metadata dates from issued_at (see the
    # template): nothing varies between renders, so the stored SHA-256 can be checked again.
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    identifier = hashlib.sha256(canonical.encode()).hexdigest()[:32].encode()
    return weasyprint.HTML(string=html, base_url=str(TEMPLATES_DIR)).write_pdf(
        pdf_identifier=identifier, pdf_variant=PDF_VARIANT
    )
