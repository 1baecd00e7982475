"""Proof status: which required deliverables each episode has, and the managers' gap list."""

from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Exists, bindparam, join
from sqlalchemy.orm import aliased
from sqlmodel import Session, and_, case, col, func, or_, select, true

from app.models.beneficiaries import Beneficiary
from app.models.cases import Case, Episode
from app.models.catalogue import DeliverableKind, ServiceUnit, UnitProofRequirement
from app.models.deliverables import Deliverable, DeliverableVersion
from app.models.markets import Lot, MarketUnit, ProofRule
from app.models.nomenclatures import LabelledEnum, Role
from app.models.operators import Site
from app.models.staff import StaffUser
from app.services.access.scope import operator_of, owned_by
from app.services.admin.catalogue import list_units
from app.services.admin.operators import list_sites, time_zone_of
from app.services.admin.staff import Colleague, list_colleagues


class ProofState(LabelledEnum):
    COMPLETE = "complete", "Complète"
    AWAITING_HANDOVER = "awaiting_handover", "À envoyer ou remettre en main propre"
    AWAITING_ACKNOWLEDGEMENT = "awaiting_acknowledgement", "En attente d'accusé de lecture"
    MISSING = "missing", "Manquante"


# ---- the proof rule: `proof_state` states it; everything else here asks it ----------------------


def episode_proof_rule() -> ColumnElement[str]:
    """The proof rule of the episode's unit in the market it started under (`Episode.lot_id`),
    for the `episodes` row of the enclosing query; « remis », the specification's, when the
    episode started under no lot."""
    rule = (
        select(MarketUnit.proof_rule)
        .join(Lot, Lot.market_id == MarketUnit.market_id)
        .where(Lot.id == Episode.lot_id, MarketUnit.unit_id == Episode.unit_id)
        .correlate(Episode)
        .scalar_subquery()
    )
    return func.coalesce(rule, ProofRule.HANDED_OVER.value)


def _reached(version, reached: str) -> ColumnElement[bool]:
    """`version` reached "issued" (any version), "handed_over" (sent by e-mail, handed over in
    person, or acknowledged) or "acknowledged"."""
    acknowledged = col(version.acknowledged_at).is_not(None)
    if reached == "acknowledged":
        return acknowledged
    if reached == "handed_over":
        return (
            col(version.shared_at).is_not(None)
            | col(version.handed_over_at).is_not(None)
            | acknowledged
        )
    return true()


def _proof_exists(episode_id, kind_id, *, reached: str) -> Exists:
    """Some deliverable of `kind_id` attached to `episode_id` has a version that `reached`
    that far (`_reached`)."""
    deliverable = aliased(Deliverable)
    version = aliased(DeliverableVersion)
    return (
        select(1)
        .select_from(deliverable)
        .join(version, version.deliverable_id == deliverable.id)
        .where(
            deliverable.episode_id == episode_id,
            deliverable.kind_id == kind_id,
            _reached(version, reached),
        )
        # The episode and kind may come from a query two levels up (the gap list).
        .correlate_except(deliverable, version)
        .exists()
    )


def proof_complete(episode_id, kind_id) -> ColumnElement[bool]:
    """The rule's "complete" (see `proof_state`): what the gap list looks for the absence of."""
    rule = episode_proof_rule()
    return or_(
        and_(
            rule == ProofRule.HANDED_OVER.value,
            _proof_exists(episode_id, kind_id, reached="handed_over"),
        ),
        and_(
            rule == ProofRule.ACKNOWLEDGED.value,
            _proof_exists(episode_id, kind_id, reached="acknowledged"),
        ),
    )


def proof_state(episode_id, kind_id) -> ColumnElement[str]:
    """The proof rule, as one SQL expression for an episode E and a kind K its unit requires.

    The rule is the one of E's unit in the market E started under (`episode_proof_rule`):
    under « remis » (the default), K is "complete" for E when some deliverable of kind K
    attached to E has an issued version that was sent to the beneficiary (e-mailed link),
    handed over in person, or acknowledged; under « accusé de lecture », only once the
    beneficiary acknowledged it (online, or a signed scan). An issued version that is not yet
    that far is "awaiting_handover" (remis) or "awaiting_acknowledgement" (accusé); "missing"
    otherwise: a draft has no version, so it never counts, nor does a deliverable of another
    kind, or one attached to another episode or to none.
    Which kinds a unit requires is catalogue data (`requirements_by_unit`); an episode is
    complete when all of them are, so a unit requiring nothing (UO0 by default) is complete.
    The case page and the gap list both ask this expression (or `proof_complete`; one
    referent's gap list, `_proven_under` with the rule joined)."""
    return case(
        (proof_complete(episode_id, kind_id), ProofState.COMPLETE.value),
        (
            _proof_exists(episode_id, kind_id, reached="issued"),
            case(
                (
                    episode_proof_rule() == ProofRule.ACKNOWLEDGED.value,
                    ProofState.AWAITING_ACKNOWLEDGEMENT.value,
                ),
                else_=ProofState.AWAITING_HANDOVER.value,
            ),
        ),
        else_=ProofState.MISSING.value,
    )


def _best_deliverable(episode_id, kind_id):
    """The deliverable to open for a proof: acknowledged first, then handed over, then issued,
    then the latest."""
    deliverable = aliased(Deliverable)
    version = aliased(DeliverableVersion)
    versions = select(1).select_from(version).where(version.deliverable_id == deliverable.id)
    acknowledged = versions.where(col(version.acknowledged_at).is_not(None)).exists()
    handed_over = versions.where(
        col(version.shared_at).is_not(None) | col(version.handed_over_at).is_not(None)
    ).exists()
    rank = case((acknowledged, 3), (handed_over, 2), (versions.exists(), 1), else_=0)
    return (
        select(deliverable.id)
        .where(deliverable.episode_id == episode_id, deliverable.kind_id == kind_id)
        .order_by(rank.desc(), deliverable.id.desc())
        .limit(1)
        .scalar_subquery()
    )


# ---- one episode's proofs ---------------------------------------------------------------------


@dataclass
class ProofItem:
    kind: DeliverableKind
    state: ProofState
    deliverable_id: int | None = None


@dataclass
class EpisodeProofs:
    """The required proofs of one episode; none required means complete."""

    items: list[ProofItem] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return all(item.state == ProofState.COMPLETE for item in self.items)

    @property
    def missing(self) -> list[ProofItem]:
        return [item for item in self.items if item.state == ProofState.MISSING]

    @property
    def awaiting(self) -> list[ProofItem]:
        """Issued, not yet as far as the rule asks (handed over, or acknowledged)."""
        waiting = (ProofState.AWAITING_HANDOVER, ProofState.AWAITING_ACKNOWLEDGEMENT)
        return [item for item in self.items if item.state in waiting]


def proof_status_for_episodes(
    *, session: Session, operator_id: int, episodes: list[Episode]
) -> dict[int, EpisodeProofs]:
    """Each episode's proofs, by episode id, in one query whatever the number of episodes."""
    status = {episode.id: EpisodeProofs() for episode in episodes}
    if not status:
        return status
    parameters = {"operator_id": operator_id, "episode_ids": list(status)}
    for episode_id, kind, state, deliverable_id in session.exec(
        _episode_proofs_statement(), params=parameters
    ):
        status[episode_id].items.append(ProofItem(kind, ProofState(state), deliverable_id))
    return status


@cache
def _episode_proofs_statement():
    """Built once, with bound parameters: building the proof rule's subqueries and their cache
    key cost more than running the query, on every case page."""
    return (
        select(
            Episode.id,
            DeliverableKind,
            proof_state(Episode.id, DeliverableKind.id),
            _best_deliverable(Episode.id, DeliverableKind.id),
        )
        .select_from(Episode)
        .join(
            UnitProofRequirement,
            and_(
                UnitProofRequirement.unit_id == Episode.unit_id,
                owned_by(UnitProofRequirement, Episode.operator_id),
            ),
        )
        .join(DeliverableKind, DeliverableKind.id == UnitProofRequirement.kind_id)
        .where(
            owned_by(Episode, bindparam("operator_id")),
            col(Episode.id).in_(bindparam("episode_ids", expanding=True)),
            DeliverableKind.active.is_(True),
        )
        .order_by(Episode.id, DeliverableKind.position, DeliverableKind.id)
    )


# ---- the managers' gap list -------------------------------------------------------------------


@dataclass
class MissingProofRow:
    episode: Episode
    case: Case
    beneficiary: Beneficiary
    unit: ServiceUnit
    referent: StaffUser | None
    site: Site | None
    proofs: EpisodeProofs


def lacks_a_proof() -> Exists:
    """The episode's unit requires an active kind that no version proves yet, by the rule of
    the market the episode started under."""
    requirement = aliased(UnitProofRequirement)
    kind = aliased(DeliverableKind)
    return (
        select(1)
        .select_from(requirement)
        .join(kind, kind.id == requirement.kind_id)
        .where(
            requirement.unit_id == Episode.unit_id,
            owned_by(requirement, Episode.operator_id),
            kind.active.is_(True),
            ~proof_complete(Episode.id, requirement.kind_id),
        )
        .correlate_except(requirement, kind)
        .exists()
    )


def lacks_a_proof_checked_on_read() -> Exists:
    """`lacks_a_proof`, for a list of one referent's cases (a few hundred episodes).

    PostgreSQL turns `lacks_a_proof` into a semi-join after the other joins, and then prefers
    scanning and hashing every episode of the operator to reading the referent's through their
    cases. Here the market rule is LEFT JOINed once per requirement (`_market_rule_joined`)
    and the proofs looked up in one NOT EXISTS: cheaper per episode, and the join's reference
    to the episode keeps it a filter on the episodes read, so they are read through the cases.
    Not for the whole operator: a filter is checked on every episode before sorting, where the
    semi-join lets a page stop at its last row."""
    requirement = aliased(UnitProofRequirement)
    kind = aliased(DeliverableKind)
    lot = aliased(Lot)
    market_unit = aliased(MarketUnit)
    rule = func.coalesce(market_unit.proof_rule, ProofRule.HANDED_OVER.value)
    return (
        select(1)
        .select_from(requirement)
        .join(kind, kind.id == requirement.kind_id)
        .outerjoin(*_market_rule_joined(lot, market_unit))
        .where(
            requirement.unit_id == Episode.unit_id,
            owned_by(requirement, Episode.operator_id),
            kind.active.is_(True),
            ~_proven_under(rule, Episode.id, requirement.kind_id),
        )
        .correlate_except(requirement, kind, lot, market_unit)
        .exists()
    )


def _market_rule_joined(lot, market_unit):
    """What to LEFT JOIN for `episode_proof_rule`: the episode's lot and its market's line for
    the episode's unit; none when the episode started under no lot (the rule is then
    « remis »). At most one row: a lot has one market, a market one line per unit."""
    return (
        join(lot, market_unit, market_unit.market_id == lot.market_id),
        and_(lot.id == Episode.lot_id, market_unit.unit_id == Episode.unit_id),
    )


def _proven_under(rule, episode_id, kind_id) -> Exists:
    """`proof_complete` for a `rule` already known: some deliverable of `kind_id` attached to
    `episode_id` has a version that reached what the rule asks."""
    deliverable = aliased(Deliverable)
    version = aliased(DeliverableVersion)
    proves = or_(
        and_(rule == ProofRule.HANDED_OVER.value, _reached(version, "handed_over")),
        and_(rule == ProofRule.ACKNOWLEDGED.value, _reached(version, "acknowledged")),
    )
    return (
        select(1)
        .select_from(deliverable)
        .join(version, version.deliverable_id == deliverable.id)
        .where(deliverable.episode_id == episode_id, deliverable.kind_id == kind_id, proves)
        .correlate_except(deliverable, version)
        .exists()
    )


def _local_midnight(day: date, time_zone: str) -> datetime:
    return datetime.combine(day, time(), ZoneInfo(time_zone))


def _gap_conditions(
    session: Session,
    actor: StaffUser,
    *,
    site_id: int | None,
    counsellor_id: int | None,
    unit_id: int | None,
    started_from: date | None,
    started_to: date | None,
    ended_only: bool,
) -> list:
    operator_id = operator_of(actor)
    # A cancelled episode owes no proof. The case's operator too: a referent's cases are then
    # read from the cases' (operator, referent) index, not from all its entries for the referent.
    # One referent's few hundred episodes are best checked as they are read; the operator's
    # tens of thousands through the semi-join a page can stop early (see both functions).
    one_referent = actor.role == Role.COUNSELLOR or counsellor_id is not None
    conditions = [
        owned_by(Episode, operator_id),
        owned_by(Case, operator_id),
        col(Episode.cancelled_at).is_(None),
        lacks_a_proof_checked_on_read() if one_referent else lacks_a_proof(),
    ]
    if actor.role == Role.COUNSELLOR:
        conditions.append(Case.referent_id == actor.id)  # their own cases only
    if site_id is not None:
        conditions.append(Case.site_id == site_id)
    if counsellor_id is not None:
        conditions.append(Case.referent_id == counsellor_id)
    if unit_id is not None:
        conditions.append(Episode.unit_id == unit_id)
    if ended_only:
        conditions.append(col(Episode.ended_at).is_not(None))
    if started_from is None and started_to is None:
        return conditions
    # Days as the operator's staff live them, not as UTC cuts them.
    time_zone = time_zone_of(session=session, operator_id=operator_id)
    if started_from is not None:
        conditions.append(Episode.started_at >= _local_midnight(started_from, time_zone))
    if started_to is not None:
        next_day = started_to + timedelta(days=1)
        conditions.append(Episode.started_at < _local_midnight(next_day, time_zone))
    return conditions


def missing_proofs(
    *,
    session: Session,
    actor: StaffUser,
    site_id: int | None = None,
    counsellor_id: int | None = None,
    unit_id: int | None = None,
    started_from: date | None = None,
    started_to: date | None = None,
    ended_only: bool = False,
    limit: int = 200,
) -> tuple[list[MissingProofRow], int]:
    """Episodes with a required proof not complete, latest first, and how many there are in all.

    Managers and operator admins see the whole operator; counsellors their own cases.
    The database does the filtering: the cost follows the page, not the operator's history."""
    conditions = _gap_conditions(
        session,
        actor,
        site_id=site_id,
        counsellor_id=counsellor_id,
        unit_id=unit_id,
        started_from=started_from,
        started_to=started_to,
        ended_only=ended_only,
    )
    total = session.exec(
        select(func.count(Episode.id))
        .select_from(Episode)
        .join(Case, Case.id == Episode.case_id)
        .where(*conditions)
    ).one()
    referent = aliased(StaffUser)
    statement = (
        select(Episode, Case, Beneficiary, ServiceUnit, referent, Site)
        .select_from(Episode)
        .join(Case, Case.id == Episode.case_id)
        .join(Beneficiary, Beneficiary.id == Case.beneficiary_id)
        .join(ServiceUnit, ServiceUnit.id == Episode.unit_id)
        .outerjoin(referent, referent.id == Case.referent_id)
        .outerjoin(Site, Site.id == Case.site_id)
        .where(*conditions)
        .order_by(col(Episode.started_at).desc(), col(Episode.id).desc())
        .limit(limit)
    )
    found = list(session.exec(statement))
    proofs = proof_status_for_episodes(
        session=session, operator_id=operator_of(actor), episodes=[row[0] for row in found]
    )
    return [MissingProofRow(*row, proofs=proofs[row[0].id]) for row in found], total


def missing_proofs_by_referent(
    *, session: Session, actor: StaffUser, referent_ids: list[int]
) -> dict[int, int]:
    """How many episodes « Preuves manquantes » lists for each of these referents (its
    `counsellor_id` filter, nothing else), in one query; a referent with none is left out."""
    if not referent_ids:
        return {}
    conditions = _gap_conditions(
        session,
        actor,
        site_id=None,
        counsellor_id=None,
        unit_id=None,
        started_from=None,
        started_to=None,
        ended_only=False,
    )
    statement = (
        select(Case.referent_id, func.count(Episode.id))
        .select_from(Episode)
        .join(Case, Case.id == Episode.case_id)
        .where(*conditions, col(Case.referent_id).in_(referent_ids))
        .group_by(Case.referent_id)
    )
    return dict(session.exec(statement).all())


@dataclass
class MissingProofLine:
    """An episode with a proof missing, as the counsellor's home lists it."""

    episode: Episode
    case: Case
    beneficiary: Beneficiary
    unit: ServiceUnit


def most_overdue_proofs(
    *, session: Session, actor: StaffUser, limit: int
) -> tuple[list[MissingProofLine], int]:
    """The episodes of « Preuves manquantes » (unfiltered) that waited longest: the ended ones
    first, longest ended first, then the running ones, oldest started first; and how many
    there are in all. One query: the count is taken over the whole list."""
    conditions = _gap_conditions(
        session,
        actor,
        site_id=None,
        counsellor_id=None,
        unit_id=None,
        started_from=None,
        started_to=None,
        ended_only=False,
    )
    statement = (
        select(Episode, Case, Beneficiary, ServiceUnit, func.count().over())
        .select_from(Episode)
        .join(Case, Case.id == Episode.case_id)
        .join(Beneficiary, Beneficiary.id == Case.beneficiary_id)
        .join(ServiceUnit, ServiceUnit.id == Episode.unit_id)
        .where(*conditions)
        .order_by(
            col(Episode.ended_at).is_(None),
            col(Episode.ended_at),
            col(Episode.started_at),
            col(Episode.id),
        )
        .limit(limit)
    )
    found = list(session.exec(statement))
    lines = [MissingProofLine(*row[:-1]) for row in found]
    return lines, found[0][-1] if found else 0


@dataclass(frozen=True)
class ProofFilters:
    """What « Preuves manquantes » is asked for (see missing_proofs)."""

    site_id: int | None = None
    counsellor_id: int | None = None
    unit_id: int | None = None
    started_from: date | None = None
    started_to: date | None = None
    ended_only: bool = False


@dataclass
class MissingProofsPage:
    """« Preuves manquantes »: the episodes found, and what the filters choose from."""

    rows: list[MissingProofRow]
    total: int
    own_cases_only: bool  # a counsellor sees their own cases, hence no colleague filter
    sites: list[Site]
    colleagues: list[Colleague]
    units: list[ServiceUnit]
    time_zone: str  # the operator's


def missing_proofs_view(
    *, session: Session, actor: StaffUser, filters: ProofFilters | None
) -> MissingProofsPage:
    """The page for `filters`; None when they were refused: nothing is looked for, and the
    filters are shown again."""
    operator_id = operator_of(actor)
    rows, total = [], 0
    if filters is not None:
        rows, total = missing_proofs(session=session, actor=actor, **asdict(filters))
    own_cases_only = actor.role == Role.COUNSELLOR
    colleagues = [] if own_cases_only else list_colleagues(session=session, operator_id=operator_id)
    return MissingProofsPage(
        rows=rows,
        total=total,
        own_cases_only=own_cases_only,
        sites=list_sites(session=session, operator_id=operator_id),
        colleagues=colleagues,
        units=list_units(session=session),
        time_zone=time_zone_of(session=session, operator_id=operator_id),
    )
