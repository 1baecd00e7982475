"""The activity report: an operator's figures for a period, each section a small table."""

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement
from sqlmodel import Session, and_, case, col, func, or_, select

from app.core.dates import format_day, local_today
from app.core.errors import Forbidden
from app.models.appointments import Appointment, AppointmentStatus
from app.models.beneficiaries import Beneficiary
from app.models.cases import Case, Episode, Interaction
from app.models.catalogue import ServiceUnit
from app.models.nomenclatures import (
    CompanySize,
    DiplomaLevel,
    EmploymentStatus,
    InteractionChannel,
    LabelledEnum,
    NafSection,
    PartnerType,
    Pcs,
    Redirection,
    ReferralOutcome,
    Role,
    Rqth,
    Sex,
)
from app.models.operators import Operator
from app.models.partners import Partner, Referral
from app.models.staff import StaffUser
from app.models.triage import TriageRequest, TriageStatus
from app.services.access.scope import operator_of, owned_by
from app.services.admin.operators import time_zone_of
from app.services.reports.bands import UNKNOWN, age_band_column, age_band_rows
from app.services.reports.headings import filters_label
from app.services.reports.periods import check_period, local_midnight, months_between
from app.services.reports.tables import ActivityReport, Median, Section, Share
from app.services.surveys.results import levels_section, survey_tallies

REPORT_ROLES = frozenset({Role.MANAGER, Role.OPERATOR_ADMIN})
SUMMARY = "synthese"


@dataclass
class _Scope:
    """The operator, the period as UTC bounds of local days, and the optional filters."""

    operator_id: int | None  # None: every operator (the national view)
    time_zone: str
    lo: datetime
    hi: datetime
    site_id: int | None
    counsellor_id: int | None

    def within(self, column) -> ColumnElement[bool]:
        return and_(column >= self.lo, column < self.hi)

    def owns(self, model) -> list:
        """The tenant condition on a table's rows; none across operators (the national view
        counts every operator's rows together, and never shows one)."""
        return [] if self.operator_id is None else [owned_by(model, self.operator_id)]

    def of_cases(self, statement, case_id_column):
        """Rows attached to a case, joined to it only when the site or referent filters them."""
        if self.site_id is None and self.counsellor_id is None:
            return statement
        return statement.join(Case, col(Case.id) == case_id_column).where(*self.cases())

    def cases(self) -> list:
        """Case-attached rows are filtered by their case's site and referent."""
        conditions = self.owns(Case)
        if self.site_id is not None:
            conditions.append(Case.site_id == self.site_id)
        if self.counsellor_id is not None:
            conditions.append(Case.referent_id == self.counsellor_id)
        return conditions


def default_period(*, session: Session, actor: StaffUser) -> tuple[date, date]:
    """From 1 January of the current year to today, in the operator's time zone."""
    today = local_today(time_zone_of(session=session, operator_id=operator_of(actor)))
    return date(today.year, 1, 1), today


def activity_report(
    *,
    session: Session,
    actor: StaffUser,
    start: date,
    end: date,
    site_id: int | None = None,
    counsellor_id: int | None = None,
) -> ActivityReport:
    """The report for the local days start..end (both included), for managers and admins."""
    if actor.role not in REPORT_ROLES:
        raise Forbidden("Les rapports sont réservés aux responsables et aux administrateurs.")
    check_period(start, end, bounded=True)
    operator = session.get(Operator, operator_of(actor))
    sections = report_sections(
        session=session,
        operator_id=operator.id,
        time_zone=operator.time_zone,
        start=start,
        end=end,
        site_id=site_id,
        counsellor_id=counsellor_id,
    )
    filters = filters_label(
        session=session, operator_id=operator.id, site_id=site_id, counsellor_id=counsellor_id
    )
    return ActivityReport(
        start, end, operator.code, sections, operator_name=operator.name, filters=filters
    )


def report_sections(
    *,
    session: Session,
    operator_id: int | None,
    time_zone: str,
    start: date,
    end: date,
    site_id: int | None = None,
    counsellor_id: int | None = None,
    by_operator: bool = False,
) -> list[Section]:
    """The summary and the sections, unchecked: callers check the actor and the period.

    `operator_id` None counts every operator; `by_operator` adds their side-by-side table."""
    scope = _Scope(
        operator_id=operator_id,
        time_zone=time_zone,
        lo=local_midnight(start, time_zone),
        hi=local_midnight(end + timedelta(days=1), time_zone),
        site_id=site_id,
        counsellor_id=counsellor_id,
    )
    entries, opened = _entries_per_month(session, scope, start, end)
    profile, served = _profile(session, scope, end.year)
    sections = [
        entries,
        *([_per_operator(session, scope, opened, served)] if by_operator else []),
        _episodes_per_unit(session, scope),
        _interactions_per_channel(session, scope),
        *profile,
        _triage_outcomes(session, scope),
        _referrals(session, scope),
        _attendance(session, scope),
        _first_appointment_delay(session, scope),
        _surveys(session, scope, start, end),
    ]
    return [_summary(sections), *sections]


# ---- sections ---------------------------------------------------------------------------------


def _entries_per_month(
    session: Session, scope: _Scope, start: date, end: date
) -> tuple[Section, Counter]:
    """New cases per local month, and per operator for the national view's table."""
    months = months_between(start, end)
    # Month bounds are computed here, in the operator's time zone, so that one portable CASE
    # puts each case in its local month on SQLite and PostgreSQL alike.
    branches = []
    for index, month in enumerate(months):
        following = months[index + 1] if index + 1 < len(months) else None
        bound = local_midnight(following, scope.time_zone) if following else scope.hi
        branches.append((Case.opened_at < bound, month.isoformat()))
    bucket = case(*branches, else_=None).label("month")
    inner = (
        select(bucket, Case.operator_id)
        .where(*scope.cases(), scope.within(Case.opened_at))
        .subquery()
    )
    statement = select(inner.c.month, inner.c.operator_id, func.count()).group_by(
        inner.c.month, inner.c.operator_id
    )
    per_month: Counter = Counter()
    per_operator: Counter = Counter()
    for month, operator_id, n in session.exec(statement):
        per_month[month] += n
        per_operator[operator_id] += n
    rows = [(format_day(month).split(" ", 1)[1], per_month[month.isoformat()]) for month in months]
    columns = ["Mois", "Nouveaux dossiers"]
    return Section("entrees", "Nouveaux dossiers par mois", columns, rows), per_operator


def _episodes_per_unit(session: Session, scope: _Scope) -> Section:
    started = scope.within(Episode.started_at)
    ended = scope.within(Episode.ended_at)
    statement = (
        select(
            ServiceUnit.code,
            ServiceUnit.label,
            func.sum(case((started, 1), else_=0)),
            func.sum(case((ended, 1), else_=0)),
        )
        .select_from(Episode)
        .join(ServiceUnit, col(ServiceUnit.id) == Episode.unit_id)
        .where(*scope.owns(Episode), col(Episode.cancelled_at).is_(None), or_(started, ended))
        .group_by(ServiceUnit.id, ServiceUnit.code, ServiceUnit.label, ServiceUnit.position)
        .order_by(ServiceUnit.position, ServiceUnit.code)
    )
    statement = scope.of_cases(statement, Episode.case_id)
    rows = [(code, label, int(s), int(e)) for code, label, s, e in session.exec(statement)]
    columns = ["Unité", "Libellé", "Commencées", "Terminées"]
    return Section("unites", "Unités d'œuvre commencées et terminées", columns, rows, 2)


def _interactions_per_channel(session: Session, scope: _Scope) -> Section:
    outside = case((col(Interaction.episode_id).is_(None), 1), else_=0)
    statement = (
        select(Interaction.channel, func.count(), func.sum(outside))
        .where(*scope.owns(Interaction), scope.within(Interaction.occurred_at))
        .group_by(Interaction.channel)
    )
    statement = scope.of_cases(statement, Interaction.case_id)
    counts = {channel: (n, int(h)) for channel, n, h in session.exec(statement)}
    rows = []
    for channel in InteractionChannel:
        total, outside_units = counts.get(channel.value, (0, 0))
        rows.append((channel.label, total, outside_units, Share(outside_units, total)))
    total = sum(row[1] for row in rows)
    outside_units = sum(row[2] for row in rows)
    rows.append(("Total", total, outside_units, Share(outside_units, total)))
    columns = ["Canal", "Actes", "dont hors UO", "Part hors UO (%)"]
    title = "Actes par canal et part hors unité d'œuvre"
    return Section("actes", title, columns, rows, ends_with_total=True)


PROFILE = (
    ("sexe", "Sexe", "sex", Sex),
    ("emploi", "Situation d'emploi", "employment_status", EmploymentStatus),
    ("pcs", "Catégorie socioprofessionnelle (PCS)", "pcs", Pcs),
    ("naf", "Secteur d'activité (section NAF)", "naf_section", NafSection),
    ("taille", "Taille de l'entreprise", "company_size", CompanySize),
    ("diplome", "Niveau de diplôme", "diploma_level", DiplomaLevel),
    ("rqth", "Reconnaissance de travailleur handicapé (RQTH)", "rqth", Rqth),
)


def _people(scope: _Scope) -> list:
    """Beneficiaries with a case open at some moment of the period."""
    active_case = (
        select(1)
        .where(
            Case.beneficiary_id == Beneficiary.id,
            *scope.cases(),
            Case.opened_at < scope.hi,
            or_(col(Case.closed_at).is_(None), col(Case.closed_at) >= scope.lo),
        )
        .correlate(Beneficiary)
        .exists()
    )
    return [*scope.owns(Beneficiary), active_case]


def _labelled(counts: dict, enum: type[LabelledEnum]) -> list[tuple[str, int]]:
    rows = [(member.label, counts.pop(member.value, 0)) for member in enum]
    unknown = sum(counts.values())  # NULL, or a code no longer in the list
    if unknown:
        rows.append((UNKNOWN, unknown))
    return rows


def _profile(session: Session, scope: _Scope, year: int) -> tuple[list[Section], Counter]:
    """Every characteristic of the people served, and how many each operator served."""
    # Age reached in the period's last year.
    band = age_band_column(Beneficiary.birth_year, year)
    keys = [Beneficiary.operator_id, band]
    keys += [getattr(Beneficiary, attribute) for _, _, attribute, _ in PROFILE]
    tallies = _tally_people(session, scope, keys)
    per_operator, ages, *characteristics = tallies
    columns = ["Caractéristique", "Personnes"]
    sections = [
        Section(f"profil-{key}", title, columns, _labelled(dict(tally), enum))
        for (key, title, _, enum), tally in zip(PROFILE, characteristics, strict=True)
    ]
    sections.insert(1, Section("profil-age", "Tranche d'âge", columns, age_band_rows(ages)))
    return sections, per_operator


def _tally_people(session: Session, scope: _Scope, keys: list) -> list[Counter]:
    """People served counted by each key apart, in one pass over them (one pass per key costs
    that many times more at national scale)."""
    tallies: list[Counter] = [Counter() for _ in keys]
    people = _people(scope)
    if session.get_bind().dialect.name == "postgresql":
        # GROUPING SETS: one small group per value of each key; grouping() says which key.
        flags = [func.grouping(key) for key in keys]
        statement = select(*keys, *flags, func.count()).where(*people)
        for row in session.exec(statement.group_by(func.grouping_sets(*keys))):
            which = list(row[len(keys) : 2 * len(keys)]).index(0)
            tallies[which][row[which]] += row[-1]
        return tallies
    # SQLite has no grouping sets: every combination once, each then added to its keys.
    statement = select(*keys, func.count()).where(*people).group_by(*keys)
    for *values, count in session.exec(statement):
        for tally, value in zip(tallies, values, strict=True):
            tally[value] += count
    return tallies


def _triage_outcomes(session: Session, scope: _Scope) -> Section:
    conditions = [*scope.owns(TriageRequest), scope.within(TriageRequest.received_at)]
    if scope.site_id is not None:
        conditions.append(TriageRequest.site_id == scope.site_id)
    if scope.counsellor_id is not None:
        conditions.append(TriageRequest.handled_by_id == scope.counsellor_id)
    statement = (
        select(TriageRequest.status, TriageRequest.redirection, func.count())
        .where(*conditions)
        .group_by(TriageRequest.status, TriageRequest.redirection)
    )
    counts = {(status, redirection): n for status, redirection, n in session.exec(statement)}
    rows = [
        ("En attente", counts.get((TriageStatus.PENDING, None), 0)),
        ("Dossier ouvert", counts.get((TriageStatus.CASE_OPENED, None), 0)),
    ]
    for destination in Redirection:
        n = counts.get((TriageStatus.REDIRECTED, destination.value), 0)
        rows.append((f"Réorientée — {destination.label}", n))
    columns = ["Issue", "Demandes"]
    return Section("accueil", "Demandes reçues à l'accueil et leur issue", columns, rows)


def _referrals(session: Session, scope: _Scope) -> Section:
    # Not referral_counts: it counts types and outcomes apart and knows no site or referent.
    statement = (
        select(Partner.type, Referral.outcome, func.count())
        .select_from(Referral)
        .join(Partner, col(Partner.id) == Referral.partner_id)
        .where(*scope.owns(Referral), scope.within(Referral.created_at))
        .group_by(Partner.type, Referral.outcome)
    )
    statement = scope.of_cases(statement, Referral.case_id)
    outcomes = [outcome.value for outcome in ReferralOutcome]
    table: dict[str, dict] = {}
    for kind, outcome, n in session.exec(statement):
        table.setdefault(kind, {})[outcome if outcome in outcomes else None] = n
    rows = []
    for kind in PartnerType:
        if kind.value in table:
            counts = table[kind.value]
            by_outcome = [counts.get(outcome, 0) for outcome in outcomes]
            rows.append((kind.label, sum(counts.values()), *by_outcome, counts.get(None, 0)))
    columns = ["Type de partenaire", "Orientations"]
    columns += [outcome.label for outcome in ReferralOutcome] + ["Sans issue connue"]
    return Section("orientations", "Orientations par type de partenaire et issue", columns, rows)


def _attendance(session: Session, scope: _Scope) -> Section:
    conditions = [
        *scope.owns(Appointment),
        scope.within(Appointment.starts_at),
        col(Appointment.status).in_((AppointmentStatus.HONOURED, AppointmentStatus.NO_SHOW)),
    ]
    if scope.site_id is not None:
        conditions.append(Appointment.site_id == scope.site_id)
    if scope.counsellor_id is not None:
        conditions.append(Appointment.counsellor_id == scope.counsellor_id)
    statement = (
        select(Appointment.status, func.count()).where(*conditions).group_by(Appointment.status)
    )
    counts = dict(session.exec(statement).all())
    rows = [
        ("Honorés", counts.get(AppointmentStatus.HONOURED, 0)),
        ("Absences", counts.get(AppointmentStatus.NO_SHOW, 0)),
    ]
    return Section(
        "rendez-vous", "Rendez-vous honorés et absences", ["Rendez-vous", "Nombre"], rows
    )


def _days_between(session: Session, later, earlier):
    """Days from `earlier` to `later`, with their fraction: date arithmetic differs by engine."""
    if session.get_bind().dialect.name == "sqlite":
        return func.julianday(later) - func.julianday(earlier)
    return func.extract("epoch", later - earlier) / 86400


def _first_appointment_delay(session: Session, scope: _Scope) -> Section:
    """Median days from the first contact to the first appointment not cancelled."""
    # Each case keeps its firsts (app/models/case_firsts.py): one pass over the cases opened.
    inner = (
        select(
            _days_between(session, Case.first_appointment_at, Case.first_contact_at).label("days")
        )
        .where(
            *scope.cases(),
            scope.within(Case.opened_at),
            col(Case.first_appointment_at).is_not(None),
        )
        .subquery()
    )
    cases, days = _count_and_median(session, inner.c.days)
    rows = [("Délai médian (jours)", Median(days, cases), cases)]
    title = "Délai entre le premier contact et le premier rendez-vous"
    columns = ["Indicateur", "Valeur", "Dossiers"]
    return Section("delai", title, columns, rows, chart_column=None)


def first_appointment_delays_by_referent(
    *, session: Session, actor: StaffUser, referent_ids: list[int], start: date, end: date
) -> dict[int, tuple[int, float]]:
    """The report's « délai » section for each of these referents (the report with their
    counsellor filter over start..end): how many cases, and their median days from the first
    contact to the first appointment, in one query; a referent with none is left out."""
    if not referent_ids:
        return {}
    operator = session.get(Operator, operator_of(actor))
    scope = _Scope(
        operator_id=operator.id,
        time_zone=operator.time_zone,
        lo=local_midnight(start, operator.time_zone),
        hi=local_midnight(end + timedelta(days=1), operator.time_zone),
        site_id=None,
        counsellor_id=None,
    )
    days = _days_between(session, Case.first_appointment_at, Case.first_contact_at)
    conditions = [
        *scope.cases(),
        col(Case.referent_id).in_(referent_ids),
        scope.within(Case.opened_at),
        col(Case.first_appointment_at).is_not(None),
    ]
    if session.get_bind().dialect.name == "postgresql":
        median = func.percentile_cont(0.5).within_group(days)
        statement = (
            select(Case.referent_id, func.count(), median)
            .where(*conditions)
            .group_by(Case.referent_id)
        )
        return {
            referent: (cases, round(float(value), 1))
            for referent, cases, value in session.exec(statement)
        }
    # SQLite has no percentile: each referent's values, in order, then their middle ones.
    values: dict[int, list[float]] = {}
    statement = select(Case.referent_id, days).where(*conditions).order_by(Case.referent_id, days)
    for referent, value in session.exec(statement):
        values.setdefault(referent, []).append(float(value))
    delays = {}
    for referent, found in values.items():
        middle = found[(len(found) - 1) // 2 : len(found) // 2 + 1]
        delays[referent] = (len(found), round(sum(middle) / len(middle), 1))
    return delays


def _count_and_median(session: Session, days) -> tuple[int, float | None]:
    """How many values, and their median rounded to a tenth, computed by the database."""
    if session.get_bind().dialect.name == "postgresql":
        median = func.percentile_cont(0.5).within_group(days)
        cases, value = session.exec(select(func.count(), median)).one()
        return cases, None if value is None else round(float(value), 1)
    # SQLite has no percentile: the one or two middle values, without loading every row.
    cases = session.exec(select(func.count()).select_from(days.table)).one()
    if not cases:
        return 0, None
    middle = select(days).order_by(days).offset((cases - 1) // 2).limit(2 - cases % 2)
    values = [float(value) for value in session.exec(middle)]
    return cases, round(sum(values) / len(values), 1)


def _surveys(session: Session, scope: _Scope, start: date, end: date) -> Section:
    """Satisfaction and utility per level, of the surveys sent in the period (by the site and
    the counsellor of the invitation: where and by whom the work was done)."""
    tallies = survey_tallies(
        session=session,
        operator_id=scope.operator_id,
        time_zone=scope.time_zone,
        start=start,
        end=end,
        site_id=scope.site_id,
        counsellor_id=scope.counsellor_id,
    )
    return levels_section(tallies)


def _per_operator(session: Session, scope: _Scope, opened: Counter, served: Counter) -> Section:
    """New cases and people served, operator by operator (the national view)."""
    operators = select(Operator).where(*scope.owns(Operator)).order_by(Operator.name)
    rows = [
        (operator.name, opened[operator.id], served[operator.id])
        for operator in session.exec(operators)
    ]
    columns = ["Opérateur", "Nouveaux dossiers", "Personnes accompagnées"]
    return Section("operateurs", "Nouveaux dossiers par opérateur", columns, rows)


def _summary(sections: list[Section]) -> Section:
    """Headline figures, read from the sections already computed."""
    by_key = {section.key: section for section in sections}
    units = by_key["unites"].rows
    interactions = by_key["actes"].rows[-1]
    honoured, no_show = (row[1] for row in by_key["rendez-vous"].rows)
    people = sum(row[1] for row in by_key["profil-sexe"].rows)
    rows = [
        ("Nouveaux dossiers", sum(row[1] for row in by_key["entrees"].rows)),
        ("Personnes accompagnées", people),
        ("Unités d'œuvre commencées", sum(row[2] for row in units)),
        ("Unités d'œuvre terminées", sum(row[3] for row in units)),
        ("Actes", interactions[1]),
        ("Part des actes hors UO (%)", interactions[3]),
        ("Demandes reçues à l'accueil", sum(row[1] for row in by_key["accueil"].rows)),
        ("Orientations vers un partenaire", sum(row[1] for row in by_key["orientations"].rows)),
        ("Rendez-vous honorés", honoured),
        ("Absences aux rendez-vous", no_show),
        ("Taux d'absence (%)", Share(no_show, honoured + no_show)),
        ("Délai médian premier contact → premier rendez-vous (jours)", by_key["delai"].rows[0][1]),
    ]
    return Section(SUMMARY, "Synthèse", ["Indicateur", "Valeur"], rows, chart_column=None)
