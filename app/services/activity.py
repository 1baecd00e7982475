"""The activity report: an operator's figures for a period, each section a small table."""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement
from sqlmodel import Session, and_, case, col, func, or_, select

from app.dates import format_day
from app.errors import Forbidden, Invalid, NotFound
from app.exports import Table
from app.models.appointments import Appointment
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
from app.services.scope import operator_of

REPORT_ROLES = frozenset({Role.MANAGER, Role.OPERATOR_ADMIN})
MAX_DAYS = 5 * 366  # one CASE branch per month: keep the month grouping small
UNKNOWN = "Non renseigné"
SUMMARY = "synthese"


@dataclass
class Bar:
    label: str
    value: float
    fraction: float  # of the largest value, 0..1


@dataclass
class Section:
    """One table of the report; `chart_column` is the numeric column drawn as bars."""

    key: str
    title: str
    columns: list[str]
    rows: list[tuple]
    chart_column: int | None = 1
    ends_with_total: bool = False  # the total row is in the table, not among the bars

    def bars(self) -> list[Bar]:
        if self.chart_column is None:
            return []
        drawn = self.rows[:-1] if self.ends_with_total else self.rows
        values = [(str(row[0]), row[self.chart_column] or 0) for row in drawn]
        peak = max((value for _, value in values), default=0)
        return [Bar(label, value, value / peak if peak else 0.0) for label, value in values]


@dataclass
class ActivityReport:
    start: date
    end: date
    operator_code: str
    sections: list[Section] = field(default_factory=list)

    def section(self, key: str) -> Section:
        for section in self.sections:
            if section.key == key:
                return section
        raise NotFound("Tableau inconnu")

    def table(self, key: str) -> Table:
        """The section as a downloadable table."""
        section = self.section(key)
        filename = f"activite-{self.operator_code}-{self.start}-{self.end}-{key}"
        return Table(section.title, section.columns, section.rows, filename)


@dataclass
class _Scope:
    """The operator, the period as UTC bounds of local days, and the optional filters."""

    operator_id: int
    time_zone: str
    lo: datetime
    hi: datetime
    site_id: int | None
    counsellor_id: int | None

    def within(self, column) -> ColumnElement[bool]:
        return and_(column >= self.lo, column < self.hi)

    def cases(self) -> list:
        """Case-attached rows are filtered by their case's site and referent."""
        conditions = [Case.operator_id == self.operator_id]
        if self.site_id is not None:
            conditions.append(Case.site_id == self.site_id)
        if self.counsellor_id is not None:
            conditions.append(Case.referent_id == self.counsellor_id)
        return conditions


def _local_midnight(day: date, time_zone: str) -> datetime:
    return datetime.combine(day, time(), ZoneInfo(time_zone))


def default_period(*, session: Session, actor: StaffUser) -> tuple[date, date]:
    """From 1 January of the current year to today, in the operator's time zone."""
    time_zone = session.get(Operator, operator_of(actor)).time_zone
    today = datetime.now(ZoneInfo(time_zone)).date()
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
    if end < start:
        raise Invalid({"au": "La fin de la période précède son début"})
    if (end - start).days > MAX_DAYS:
        raise Invalid({"au": "La période ne peut dépasser cinq ans"})
    operator = session.get(Operator, operator_of(actor))
    scope = _Scope(
        operator_id=operator.id,
        time_zone=operator.time_zone,
        lo=_local_midnight(start, operator.time_zone),
        hi=_local_midnight(end + timedelta(days=1), operator.time_zone),
        site_id=site_id,
        counsellor_id=counsellor_id,
    )
    sections = [
        _entries_per_month(session, scope, start, end),
        _episodes_per_unit(session, scope),
        _interactions_per_channel(session, scope),
        *_profile(session, scope, end.year),
        _triage_outcomes(session, scope),
        _referrals(session, scope),
        _attendance(session, scope),
    ]
    summary = _summary(sections)
    return ActivityReport(start, end, operator.code, [summary, *sections])


# ---- sections ---------------------------------------------------------------------------------


def _months(start: date, end: date) -> list[date]:
    first, months = date(start.year, start.month, 1), []
    while first <= end:
        months.append(first)
        first = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return months


def _entries_per_month(session: Session, scope: _Scope, start: date, end: date) -> Section:
    months = _months(start, end)
    # Month bounds are computed here, in the operator's time zone, so that one portable CASE
    # puts each case in its local month on SQLite and PostgreSQL alike.
    branches = []
    for index, month in enumerate(months):
        following = months[index + 1] if index + 1 < len(months) else None
        bound = _local_midnight(following, scope.time_zone) if following else scope.hi
        branches.append((Case.opened_at < bound, month.isoformat()))
    bucket = case(*branches, else_=None).label("month")
    inner = select(bucket).where(*scope.cases(), scope.within(Case.opened_at)).subquery()
    counts = dict(session.exec(select(inner.c.month, func.count()).group_by(inner.c.month)).all())
    rows = [
        (format_day(month).split(" ", 1)[1], counts.get(month.isoformat(), 0)) for month in months
    ]
    return Section("entrees", "Nouveaux dossiers par mois", ["Mois", "Nouveaux dossiers"], rows)


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
        .join(Case, col(Case.id) == Episode.case_id)
        .join(ServiceUnit, col(ServiceUnit.id) == Episode.unit_id)
        .where(Episode.operator_id == scope.operator_id, *scope.cases(), or_(started, ended))
        .group_by(ServiceUnit.id, ServiceUnit.code, ServiceUnit.label, ServiceUnit.position)
        .order_by(ServiceUnit.position, ServiceUnit.code)
    )
    rows = [(code, label, int(s), int(e)) for code, label, s, e in session.exec(statement)]
    columns = ["Unité", "Libellé", "Commencées", "Terminées"]
    return Section("unites", "Unités d'œuvre commencées et terminées", columns, rows, 2)


def _share(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _interactions_per_channel(session: Session, scope: _Scope) -> Section:
    outside = case((col(Interaction.episode_id).is_(None), 1), else_=0)
    statement = (
        select(Interaction.channel, func.count(), func.sum(outside))
        .select_from(Interaction)
        .join(Case, col(Case.id) == Interaction.case_id)
        .where(
            Interaction.operator_id == scope.operator_id,
            *scope.cases(),
            scope.within(Interaction.occurred_at),
        )
        .group_by(Interaction.channel)
    )
    counts = {channel: (n, int(h)) for channel, n, h in session.exec(statement)}
    rows = []
    for channel in InteractionChannel:
        total, outside_units = counts.get(channel.value, (0, 0))
        rows.append((channel.label, total, outside_units, _share(outside_units, total)))
    total = sum(row[1] for row in rows)
    outside_units = sum(row[2] for row in rows)
    rows.append(("Total", total, outside_units, _share(outside_units, total)))
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
AGE_BANDS = (
    ("moins_26", "Moins de 26 ans"),
    ("26_44", "26 à 44 ans"),
    ("45_54", "45 à 54 ans"),
    ("55_plus", "55 ans et plus"),
    ("nr", UNKNOWN),
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
    return [Beneficiary.operator_id == scope.operator_id, active_case]


def _labelled(counts: dict, enum: type[LabelledEnum]) -> list[tuple[str, int]]:
    rows = [(member.label, counts.pop(member.value, 0)) for member in enum]
    unknown = sum(counts.values())  # NULL, or a code no longer in the list
    if unknown:
        rows.append((UNKNOWN, unknown))
    return rows


def _profile(session: Session, scope: _Scope, year: int) -> list[Section]:
    people = _people(scope)
    sections = []
    columns = ["Caractéristique", "Personnes"]
    for key, title, attribute, enum in PROFILE:
        column = getattr(Beneficiary, attribute)
        statement = select(column, func.count()).where(*people).group_by(column)
        counts = dict(session.exec(statement).all())
        sections.append(Section(f"profil-{key}", title, columns, _labelled(counts, enum)))
    born = col(Beneficiary.birth_year)
    # Age reached in the period's last year.
    band = case(
        (born.is_(None), "nr"),
        (born > year - 26, "moins_26"),
        (born > year - 45, "26_44"),
        (born > year - 55, "45_54"),
        else_="55_plus",
    ).label("band")
    inner = select(band).where(*people).subquery()
    counts = dict(session.exec(select(inner.c.band, func.count()).group_by(inner.c.band)).all())
    ages = [(label, counts.get(code, 0)) for code, label in AGE_BANDS]
    sections.insert(1, Section("profil-age", "Tranche d'âge", columns, ages))
    return sections


def _triage_outcomes(session: Session, scope: _Scope) -> Section:
    conditions = [
        TriageRequest.operator_id == scope.operator_id,
        scope.within(TriageRequest.received_at),
    ]
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
        .join(Case, col(Case.id) == Referral.case_id)
        .where(
            Referral.operator_id == scope.operator_id,
            *scope.cases(),
            scope.within(Referral.created_at),
        )
        .group_by(Partner.type, Referral.outcome)
    )
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
        Appointment.operator_id == scope.operator_id,
        scope.within(Appointment.starts_at),
        col(Appointment.status).in_(("honoured", "no_show")),
    ]
    if scope.site_id is not None:
        conditions.append(Appointment.site_id == scope.site_id)
    if scope.counsellor_id is not None:
        conditions.append(Appointment.counsellor_id == scope.counsellor_id)
    statement = (
        select(Appointment.status, func.count()).where(*conditions).group_by(Appointment.status)
    )
    counts = dict(session.exec(statement).all())
    rows = [("Honorés", counts.get("honoured", 0)), ("Absences", counts.get("no_show", 0))]
    return Section(
        "rendez-vous", "Rendez-vous honorés et absences", ["Rendez-vous", "Nombre"], rows
    )


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
        ("Taux d'absence (%)", _share(no_show, honoured + no_show)),
    ]
    return Section(SUMMARY, "Synthèse", ["Indicateur", "Valeur"], rows, chart_column=None)
