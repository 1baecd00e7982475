"""The unit ledger (état de service fait): units delivered in a period, with their proof status."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import aliased
from sqlmodel import Session, case, col, func, select

from app.core.dates import to_local
from app.core.errors import Forbidden, NotFound
from app.core.tables import Table
from app.models.beneficiaries import Beneficiary
from app.models.cases import Case, Episode
from app.models.catalogue import ServiceUnit
from app.models.nomenclatures import Role
from app.models.operators import Operator, Site
from app.models.staff import StaffUser
from app.services.access.scope import operator_of, owned_by
from app.services.control.proofs import EpisodeProofs, lacks_a_proof, proof_status_for_episodes
from app.services.reports.periods import check_period

LEDGER_ROLES = frozenset({Role.MANAGER, Role.OPERATOR_ADMIN})
DRILL_DOWN_LIMIT = 500


@dataclass
class LedgerLine:
    """One unit's deliveries in the period; billable ones are those with complete proofs."""

    unit_id: int
    code: str
    label: str
    billable: bool
    delivered: int
    complete: int

    @property
    def incomplete(self) -> int:
        return self.delivered - self.complete

    @property
    def billable_count(self) -> int:
        return self.complete if self.billable else 0


@dataclass
class Ledger:
    start: date
    end: date
    site_id: int | None
    time_zone: str
    lines: list[LedgerLine]

    @property
    def totals(self) -> "LedgerTotals":
        return LedgerTotals(
            delivered=sum(line.delivered for line in self.lines),
            complete=sum(line.complete for line in self.lines),
            incomplete=sum(line.incomplete for line in self.lines),
            billable_count=sum(line.billable_count for line in self.lines),
        )


@dataclass
class LedgerTotals:
    delivered: int
    complete: int
    incomplete: int
    billable_count: int


@dataclass
class LedgerCase:
    """An episode delivered in the period, for the drill-down."""

    episode: Episode
    case: Case
    beneficiary: Beneficiary
    referent: StaffUser | None
    site: Site | None
    complete: bool
    proofs: EpisodeProofs


def previous_month(today: date) -> tuple[date, date]:
    """The calendar month before `today`'s: the ledger's default period."""
    last = today.replace(day=1) - timedelta(days=1)
    return last.replace(day=1), last


def ledger_operator(session: Session, actor: StaffUser) -> Operator:
    operator_id = operator_of(actor)
    if actor.role not in LEDGER_ROLES:
        raise Forbidden("L'état de service fait est réservé aux responsables et administrateurs.")
    return session.get(Operator, operator_id)


def delivered_in(operator: Operator, start: date, end: date, site_id: int | None) -> list:
    """Episodes ended between `start` and `end` inclusive, as the operator's staff count days,
    cancelled ones aside (also the population a control campaign draws from)."""
    check_period(start, end)
    zone = ZoneInfo(operator.time_zone)
    conditions = [
        owned_by(Episode, operator.id),
        col(Episode.cancelled_at).is_(None),  # started by mistake: never delivered
        col(Episode.ended_at).is_not(None),
        col(Episode.ended_at) >= datetime.combine(start, time(), zone),
        col(Episode.ended_at) < datetime.combine(end + timedelta(days=1), time(), zone),
    ]
    if site_id is not None:
        conditions.append(Case.site_id == site_id)
    return conditions


def unit_ledger(
    *, session: Session, actor: StaffUser, start: date, end: date, site_id: int | None = None
) -> Ledger:
    """Units delivered in the period per code, with proof complete / incomplete and billable."""
    operator = ledger_operator(session, actor)
    conditions = delivered_in(operator, start, end, site_id)
    complete = func.sum(case((~lacks_a_proof(), 1), else_=0))
    statement = (
        select(ServiceUnit.id, func.count(Episode.id), complete)
        .select_from(Episode)
        .join(ServiceUnit, ServiceUnit.id == Episode.unit_id)
        .join(Case, Case.id == Episode.case_id)
        .where(*conditions)
        .group_by(ServiceUnit.id)
    )
    counts = {unit: (delivered, done or 0) for unit, delivered, done in session.exec(statement)}
    # Every active unit gets a line, delivered or not; a retired unit only if it was delivered.
    units = session.exec(
        select(ServiceUnit)
        .where(col(ServiceUnit.active).is_(True) | col(ServiceUnit.id).in_(list(counts)))
        .order_by(ServiceUnit.position, ServiceUnit.code)
    )
    lines = [
        LedgerLine(unit.id, unit.code, unit.label, unit.billable, *counts.get(unit.id, (0, 0)))
        for unit in units
    ]
    return Ledger(start, end, site_id, operator.time_zone, lines)


def ledger_cases(
    *,
    session: Session,
    actor: StaffUser,
    unit_id: int,
    start: date,
    end: date,
    site_id: int | None = None,
    complete: bool | None = None,
    limit: int | None = DRILL_DOWN_LIMIT,
) -> tuple[ServiceUnit, list[LedgerCase], int]:
    """The episodes behind one ledger line, latest ended first, and how many there are in all."""
    operator = ledger_operator(session, actor)
    unit = session.get(ServiceUnit, unit_id)
    if unit is None:
        raise NotFound()
    conditions = delivered_in(operator, start, end, site_id) + [Episode.unit_id == unit.id]
    is_complete = ~lacks_a_proof()
    if complete is not None:
        conditions.append(is_complete if complete else lacks_a_proof())
    total = session.exec(
        select(func.count(Episode.id))
        .select_from(Episode)
        .join(Case, Case.id == Episode.case_id)
        .where(*conditions)
    ).one()
    referent = aliased(StaffUser)
    statement = (
        select(Episode, Case, Beneficiary, referent, Site, is_complete)
        .select_from(Episode)
        .join(Case, Case.id == Episode.case_id)
        .join(Beneficiary, Beneficiary.id == Case.beneficiary_id)
        .outerjoin(referent, referent.id == Case.referent_id)
        .outerjoin(Site, Site.id == Case.site_id)
        .where(*conditions)
        .order_by(col(Episode.ended_at).desc(), col(Episode.id).desc())
        .limit(limit)
    )
    found = list(session.exec(statement))
    proofs = proof_status_for_episodes(
        session=session, operator_id=operator.id, episodes=[row[0] for row in found]
    )
    rows = [LedgerCase(*row[:5], bool(row[5]), proofs[row[0].id]) for row in found]
    return unit, rows, total


# ---- downloads ------------------------------------------------------------------------------


def _period_name(start: date, end: date) -> str:
    return f"{start:%Y-%m-%d}_{end:%Y-%m-%d}"


def ledger_table(ledger: Ledger) -> Table:
    """The ledger as a download: one row per unit, then the totals."""
    columns = ("Unité", "Libellé", "Facturable", "Réalisées", "Preuves complètes")
    columns += ("Preuves incomplètes", "Facturables")
    rows = [
        (
            line.code,
            line.label,
            "oui" if line.billable else "non",
            line.delivered,
            line.complete,
            line.incomplete,
            line.billable_count,
        )
        for line in ledger.lines
    ]
    totals = ledger.totals
    rows.append(
        (
            "Total",
            "",
            "",
            totals.delivered,
            totals.complete,
            totals.incomplete,
            totals.billable_count,
        )
    )
    name = f"etat-de-service_{_period_name(ledger.start, ledger.end)}"
    return Table("État de service fait", columns, rows, name)


def ledger_cases_table(
    unit: ServiceUnit, rows: list[LedgerCase], *, start: date, end: date, time_zone: str
) -> Table:
    """The drill-down as a download: one row per episode, dates in the operator's time zone."""
    columns = ("Dossier", "Bénéficiaire", "Référent·e", "Lieu d'accueil", "Unité")
    columns += ("Début", "Fin", "Preuves")
    values = [
        (
            row.case.reference,
            row.beneficiary.full_name,
            row.referent.full_name if row.referent else "",
            row.site.name if row.site else "",
            unit.code,
            to_local(row.episode.started_at, time_zone).date(),
            to_local(row.episode.ended_at, time_zone).date(),
            "Complètes" if row.complete else "Incomplètes",
        )
        for row in rows
    ]
    name = f"etat-de-service_{unit.code}_{_period_name(start, end)}"
    return Table(f"État de service {unit.code}"[:31], columns, values, name)
