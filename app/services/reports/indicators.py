"""France compétences' indicators, counted its way (the definitions: definitions.py).

Every figure is counted per operator, so that the national view gets each operator's and their
sum from the same statements; an operator's report has one operator. Each statement is one
grouped pass over its table, read from indexes built for it (app/models/cases.py)."""

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlmodel import Session, case, col, func, select

from app.models.cases import Case, Episode, Interaction
from app.models.catalogue import ServiceUnit
from app.models.nomenclatures import InteractionChannel
from app.models.operators import Permanence, Site
from app.models.triage import TriageRequest, TriageStatus
from app.services.booking.geography import distance_km, postcode_position
from app.services.reports.departements import departement_of
from app.services.reports.periods import local_midnight, months_between
from app.services.reports.scope import ReportScope, days_between, sorted_median
from app.services.reports.tables import Median, Share

LEVEL_2_WITHIN_DAYS = 365  # « within 12 months » of the entry
DELAY_TARGET_DAYS = 10
COVERAGE_KM = 30.0
ON_SITE = InteractionChannel.ON_SITE.value


@dataclass
class Entries:
    """The entries of the period (cases whose first level-1 episode started in it)."""

    count: int = 0
    per_operator: Counter = field(default_factory=Counter)
    per_month: Counter = field(default_factory=Counter)  # local month (ISO first day) → count
    by_motive: Counter = field(default_factory=Counter)
    by_channel: Counter = field(default_factory=Counter)
    level_2: Counter = field(default_factory=Counter)  # per operator: reached within 12 months
    timed: Counter = field(default_factory=Counter)  # per operator: with a level-1 interview
    within_target: Counter = field(default_factory=Counter)  # per operator: within 10 days

    def reaching_level_2(self, operator_id: int | None = None) -> Share:
        if operator_id is None:
            return Share(sum(self.level_2.values()), self.count)
        return Share(self.level_2[operator_id], self.per_operator[operator_id])

    def within_ten_days(self, operator_id: int | None = None) -> Share:
        if operator_id is None:
            return Share(sum(self.within_target.values()), sum(self.timed.values()))
        return Share(self.within_target[operator_id], self.timed[operator_id])


def entries(session: Session, scope: ReportScope) -> Entries:
    """One grouped pass over the cases entering level 1 in the period."""
    started = col(Case.level_1_started_at)
    reached = days_between(session, Case.level_2_started_at, started) <= LEVEL_2_WITHIN_DAYS
    delay = days_between(session, Case.level_1_interview_at, Case.first_contact_at)
    month = _month_bucket(scope, started)
    statement = (
        select(
            Case.operator_id,
            month,
            Case.motive,
            Case.channel,
            func.count(),
            func.sum(case((reached, 1), else_=0)),
            func.count(Case.level_1_interview_at),
            func.sum(case((delay <= DELAY_TARGET_DAYS, 1), else_=0)),
        )
        .where(*scope.cases(), scope.within(started))
        .group_by(Case.operator_id, month, Case.motive, Case.channel)
    )
    found = Entries()
    for operator_id, month_start, motive, channel, n, level_2, timed, fast in session.exec(
        statement
    ):
        found.count += n
        found.per_operator[operator_id] += n
        found.per_month[month_start] += n
        found.by_motive[motive] += n
        found.by_channel[channel] += n
        found.level_2[operator_id] += int(level_2 or 0)
        found.timed[operator_id] += timed
        found.within_target[operator_id] += int(fast or 0)
    return found


def delay_to_level_1(session: Session, scope: ReportScope) -> dict[int | None, Median]:
    """Median days from the first contact to the first level-1 interview, of the entries of
    the period: across them (key None) and per operator."""
    days = days_between(session, Case.level_1_interview_at, Case.first_contact_at)
    conditions = [
        *scope.cases(),
        scope.within(Case.level_1_started_at),
        col(Case.level_1_interview_at).is_not(None),
    ]
    values: dict[int | None, list[float]] = defaultdict(list)
    if session.get_bind().dialect.name == "postgresql":
        median = func.percentile_cont(0.5).within_group(days)
        statement = (
            select(Case.operator_id, func.count(), median)
            .where(*conditions)
            .group_by(func.grouping_sets(Case.operator_id, ()))
        )
        return {
            operator_id: Median(None if value is None else round(float(value), 1), n)
            for operator_id, n, value in session.exec(statement)
        }
    # SQLite has no percentile: each operator's values in order (an operator's year is small).
    statement = select(Case.operator_id, days).where(*conditions).order_by(days)
    for operator_id, value in session.exec(statement):
        values[operator_id].append(float(value))
        values[None].append(float(value))
    medians = {key: Median(sorted_median(found), len(found)) for key, found in values.items()}
    return medians or {None: Median(None, 0)}


def _month_bucket(scope: ReportScope, column):
    """The local month a moment falls in (its first day, ISO), as one portable CASE: month
    bounds are computed here in the scope's time zone."""
    months = months_between(scope.start, scope.end)
    branches = []
    for index, month in enumerate(months):
        following = months[index + 1] if index + 1 < len(months) else None
        bound = local_midnight(following, scope.time_zone) if following else scope.hi
        branches.append((column < bound, month.isoformat()))
    return case(*branches, else_=None).label("month")


@dataclass
class Triage:
    """The requests received at triage in the period: those redirected per operator and per
    local month (its first day, ISO); all of them per (status, target network)."""

    redirected: Counter = field(default_factory=Counter)  # per operator
    redirected_per_month: Counter = field(default_factory=Counter)
    outcomes: Counter = field(default_factory=Counter)  # (status, target or None) → requests


def triage(session: Session, scope: ReportScope) -> Triage:
    """One grouped pass over the requests received in the period."""
    conditions = [*scope.owns(TriageRequest), scope.within(TriageRequest.received_at)]
    if scope.site_id is not None:
        conditions.append(TriageRequest.site_id == scope.site_id)
    if scope.counsellor_id is not None:
        conditions.append(TriageRequest.handled_by_id == scope.counsellor_id)
    month = _month_bucket(scope, TriageRequest.received_at)
    keys = (TriageRequest.operator_id, month, TriageRequest.status, TriageRequest.redirection)
    statement = select(*keys, func.count()).where(*conditions).group_by(*keys)
    found = Triage()
    for operator_id, month_start, status, target, n in session.exec(statement):
        found.outcomes[status, target] += n
        if status == TriageStatus.REDIRECTED:
            found.redirected[operator_id] += n
            found.redirected_per_month[month_start] += n
    return found


def level_units(session: Session) -> list[int]:
    """The units of level 1 and 2: their interactions make people served."""
    return list(session.exec(select(ServiceUnit.id).where(col(ServiceUnit.level).in_((1, 2)))))


def served_people(session: Session, scope: ReportScope):
    """The people served: an interaction in the period within a unit of level 1 or 2 (a
    subquery of beneficiary ids, read from the interactions' index alone)."""
    statement = select(Interaction.beneficiary_id).where(
        *scope.owns(Interaction),
        scope.within(Interaction.occurred_at),
        col(Interaction.unit_id).in_(level_units(session)),
    )
    return scope.of_cases(statement, Interaction.case_id)


def interaction_counts(session: Session, scope: ReportScope) -> Counter:
    """The period's interactions per (unit id, channel); unit None is outside any unit."""
    statement = (
        select(Interaction.unit_id, Interaction.channel, func.count())
        .where(*scope.owns(Interaction), scope.within(Interaction.occurred_at))
        .group_by(Interaction.unit_id, Interaction.channel)
    )
    statement = scope.of_cases(statement, Interaction.case_id)
    return Counter({(unit_id, channel): n for unit_id, channel, n in session.exec(statement)})


@dataclass
class UnitActivity:
    """Per unit code: episodes started and ended, interactions and those on site."""

    label: str
    started: int = 0
    ended: int = 0
    interactions: int = 0
    on_site: int = 0


def unit_activity(
    session: Session, scope: ReportScope, interactions: Counter
) -> dict[str, UnitActivity]:
    """Episodes started and ended in the period per unit, with the `interaction_counts`."""
    units = session.exec(select(ServiceUnit).order_by(ServiceUnit.position)).all()
    found = {unit.code: UnitActivity(unit.label) for unit in units}
    code_of = {unit.id: unit.code for unit in units}
    started, ended = scope.within(Episode.started_at), scope.within(Episode.ended_at)
    statement = (
        select(
            Episode.unit_id,
            func.sum(case((started, 1), else_=0)),
            func.sum(case((ended, 1), else_=0)),
        )
        .where(*scope.owns(Episode), col(Episode.cancelled_at).is_(None), started | ended)
        .group_by(Episode.unit_id)
    )
    for unit_id, s, e in session.exec(scope.of_cases(statement, Episode.case_id)):
        found[code_of[unit_id]].started += int(s)
        found[code_of[unit_id]].ended += int(e)
    for (unit_id, channel), n in interactions.items():
        if unit_id is not None:
            found[code_of[unit_id]].interactions += n
            found[code_of[unit_id]].on_site += n if channel == ON_SITE else 0
    return {code: unit for code, unit in found.items() if unit.started or unit.ended}


@dataclass
class Coverage:
    """People served whose postcode lies within 30 km of an open site or permanence of their
    operator, per operator and per département of residence; people whose postcode has no
    known position are left out of the base."""

    near: Counter = field(default_factory=Counter)  # per operator
    located: Counter = field(default_factory=Counter)  # per operator
    unlocated: int = 0
    departements: dict[str, list[int]] = field(default_factory=dict)  # code → [near, located]
    sites: Counter = field(default_factory=Counter)  # département → places open in the period

    def share(self, operator_id: int | None = None) -> Share:
        if operator_id is None:
            return Share(sum(self.near.values()), sum(self.located.values()))
        return Share(self.near[operator_id], self.located[operator_id])


def coverage(session: Session, scope: ReportScope, people: Counter) -> Coverage:
    """The coverage of the people served, counted {(operator id, postcode): people}."""
    places = _open_places(session, scope)
    found = Coverage()
    for _, postcode, _ in places:
        found.sites[departement_of(postcode)] += 1
    positions: dict[int, list[tuple]] = defaultdict(list)
    for operator_id, _, position in places:
        positions[operator_id].append(position)
    for (operator_id, postcode), n in people.items():
        position = postcode_position(postcode)
        if position is None:
            found.unlocated += n
            continue
        near = n if _near(position, positions[operator_id]) else 0
        found.near[operator_id] += near
        found.located[operator_id] += n
        counts = found.departements.setdefault(departement_of(postcode), [0, 0])
        counts[0] += near
        counts[1] += n
    return found


def _near(position: tuple, places: list[tuple]) -> bool:
    return any(distance_km(position, place) <= COVERAGE_KM for place in places)


def _open_places(session: Session, scope: ReportScope) -> list[tuple[int, str, tuple]]:
    """The sites and permanences open at some moment of the period: (operator, postcode,
    position), those whose postcode has a known position."""
    sites = select(Site.operator_id, Site.postcode).where(
        *scope.owns(Site), (col(Site.closed_at).is_(None)) | (col(Site.closed_at) >= scope.lo)
    )
    permanences = select(Permanence.operator_id, Permanence.postcode).where(
        *scope.owns(Permanence),
        col(Permanence.starts_on) <= scope.end,
        col(Permanence.ends_on).is_(None) | (col(Permanence.ends_on) >= scope.start),
        col(Permanence.ended_at).is_(None) | (col(Permanence.ended_at) >= scope.lo),
    )
    places = []
    for statement in (sites, permanences):
        for operator_id, postcode in session.exec(statement):
            position = postcode_position(postcode)
            if position is not None:
                places.append((operator_id, postcode, position))
    return places


def month_starts(scope: ReportScope) -> list[date]:
    return months_between(scope.start, scope.end)
