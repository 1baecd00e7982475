"""An official campaign's history: each step (opened, drawn, proof added, submitted) written
once, with its time and author, and read back as a timeline, a manifest list and a CSV.

Only `record_event` writes here, and it only inserts: no service updates or deletes an event,
and the migration's triggers refuse both on either engine."""

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from app.core.dates import to_local
from app.core.tables import Table
from app.models.cases import Case, Episode
from app.models.control import CampaignEventKind, ControlCampaign, ControlCampaignEvent
from app.models.staff import StaffUser


def record_event(
    session: Session,
    campaign: ControlCampaign,
    kind: CampaignEventKind,
    *,
    at: datetime,
    author_id: int | None,
    detail: str = "",
    episode_id: int | None = None,
    deliverable_kind_id: int | None = None,
) -> ControlCampaignEvent:
    event = ControlCampaignEvent(
        campaign_id=campaign.id,
        kind=kind.value,
        at=at,
        author_id=author_id,
        detail=detail[:300],
        episode_id=episode_id,
        deliverable_kind_id=deliverable_kind_id,
    )
    session.add(event)
    session.flush()
    return event


@dataclass
class HistoryLine:
    event: ControlCampaignEvent
    author: str  # the staff member's name, or « — » for none
    case_reference: str | None  # a proof's case


def campaign_history(session: Session, campaign_id: int) -> list[HistoryLine]:
    """The campaign's events in the order they happened (ties in the order they were written)."""
    statement = (
        select(ControlCampaignEvent, StaffUser.full_name, Case.reference)
        .outerjoin(StaffUser, col(StaffUser.id) == ControlCampaignEvent.author_id)
        .outerjoin(Episode, col(Episode.id) == ControlCampaignEvent.episode_id)
        .outerjoin(Case, col(Case.id) == Episode.case_id)
        .where(ControlCampaignEvent.campaign_id == campaign_id)
        .order_by(ControlCampaignEvent.at, ControlCampaignEvent.id)
    )
    return [
        HistoryLine(event, author or "—", reference)
        for event, author, reference in session.exec(statement)
    ]


def history_manifest(lines: list[HistoryLine]) -> list[dict]:
    """The pack manifest's `historique`: one entry per step, times in UTC (ISO 8601)."""
    return [
        {
            "etape": line.event.kind,
            "libelle": line.event.kind_label,
            "le": line.event.at.isoformat(),
            "auteur": line.author,
            "unite_id": line.event.episode_id,
            "detail": line.event.detail,
        }
        for line in lines
    ]


HISTORY_COLUMNS = ["Date", "Étape", "Auteur", "Unité", "Dossier", "Détail"]


def history_table(campaign: ControlCampaign, lines: list[HistoryLine], time_zone: str) -> Table:
    rows = [
        [
            to_local(line.event.at, time_zone).strftime("%Y-%m-%d %H:%M:%S"),
            line.event.kind_label,
            line.author,
            line.event.episode_id,
            line.case_reference,
            line.event.detail,
        ]
        for line in lines
    ]
    title = f"Historique du contrôle n° {campaign.id}"
    return Table(title, HISTORY_COLUMNS, rows, f"historique-controle-{campaign.id}", title)
