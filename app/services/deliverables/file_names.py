"""File names for issued deliverables taken out of Fil rouge (a case's file, a period's archive,
the feed for document management systems): plain ASCII that any file system, ZIP tool or
document system keeps as it is, e.g. `ARA-2026-000163_document-de-synthese_v2_2026-12-06.pdf`.
No personal name unless the operator's admin asks for one (`person_name`)."""

from datetime import datetime

from app.core.dates import to_local
from app.core.typography import ascii_slug

# Long enough for any kind's label, short enough for the 255-byte limit of most file systems
# once the reference, the version and the date are added.
_MAX_PART = 60


def deliverable_file_name(
    reference: str,
    kind_label: str,
    version: int,
    issued_at: datetime,
    *,
    person_name: str | None = None,
    time_zone: str | None = None,
    extension: str = "pdf",
) -> str:
    """`{reference}_{kind}_v{version}_{issue day}[_{person}].{extension}`. The issue day is the
    calendar day in `time_zone` (the site's; the default zone otherwise), as printed."""
    parts = [
        case_folder_name(reference),
        safe_part(kind_label) or "document",
        f"v{version}",
        to_local(issued_at, time_zone).date().isoformat(),
    ]
    if person_name and (person := safe_part(person_name)):
        parts.append(person)
    return "_".join(parts) + f".{extension}"


def case_folder_name(reference: str) -> str:
    """A case's reference as it names its folder or its files: `ARA-2026-000163`."""
    return safe_part(reference).upper() or "DOSSIER"


def safe_part(text: str) -> str:
    """One part of a name: lower-case ASCII letters, digits and hyphens, `_MAX_PART` at most."""
    return ascii_slug(text)[:_MAX_PART].strip("-")
