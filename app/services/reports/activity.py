"""The activity report: an operator's figures for a period, each section a small table."""

from collections import Counter
from datetime import date

from sqlmodel import Session, col, func, select, tuple_

from app.core.dates import format_month, local_today
from app.core.errors import Forbidden
from app.models.appointments import Appointment, AppointmentStatus
from app.models.beneficiaries import Beneficiary
from app.models.cases import Case
from app.models.nomenclatures import (
    Channel,
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
    RequestMotive,
    Role,
    Rqth,
    Sex,
)
from app.models.operators import Operator
from app.models.partners import Partner, Referral
from app.models.staff import StaffUser
from app.models.triage import TriageStatus
from app.services.access.scope import operator_of
from app.services.admin.operators import time_zone_of
from app.services.reports import indicators
from app.services.reports.bands import UNKNOWN, age_band_column, age_band_rows
from app.services.reports.departements import DEPARTEMENT_NAMES
from app.services.reports.headings import filters_label
from app.services.reports.periods import check_period
from app.services.reports.scope import (
    ReportScope,
    count_and_median,
    days_between,
    sorted_median,
)
from app.services.reports.tables import ActivityReport, Median, Section, Share
from app.services.surveys.results import (
    SATISFACTION,
    UTILITY,
    SurveyTallies,
    levels_section,
    survey_tallies,
)

REPORT_ROLES = frozenset({Role.MANAGER, Role.OPERATOR_ADMIN})
SUMMARY = "synthese"
# The report's tabs, each with the sections it shows (the key figures open the page above them).
TABS = (
    ("activite", "Activité", ("entrees", "operateurs", "unites", "actes")),
    ("personnes", "Personnes", ("profil-", "motifs", "canaux")),
    ("territoire", "Territoire", ("territoire",)),
    ("qualite", "Qualité", ("niveau-2", "delai-niveau-1", "delai", "rendez-vous", "enquetes")),
    ("partenaires", "Partenaires", ("accueil", "orientations")),
)


def tab_of(section_key: str) -> str | None:
    """The tab a section is shown in (the key figures are in none); profiles by prefix."""
    for key, _, sections in TABS:
        if any(
            section_key == s or (s.endswith("-") and section_key.startswith(s)) for s in sections
        ):
            return key
    return None


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
    scope = ReportScope(operator_id, time_zone, start, end, site_id, counsellor_id)
    entered = indicators.entries(session, scope)
    triaged = indicators.triage(session, scope)
    delays = indicators.delay_to_level_1(session, scope)
    interactions = indicators.interaction_counts(session, scope)
    profile, places = _profile(session, scope, end.year)
    covered = indicators.coverage(session, scope, places)
    served = Counter()
    for (operator_id, _), n in places.items():
        served[operator_id] += n
    surveys = _surveys(session, scope)
    sections = [
        _entries_per_month(scope, entered, triaged),
        *(
            [_per_operator(session, scope, entered, triaged, served, covered, delays)]
            if by_operator
            else []
        ),
        _units(session, scope, interactions),
        _interactions_per_channel(interactions),
        *profile,
        _labelled_section(
            "motifs", "Entrées par motif de la demande", RequestMotive, entered.by_motive
        ),
        _labelled_section("canaux", "Entrées par canal d'arrivée", Channel, entered.by_channel),
        _territory(covered),
        _reaching_level_2(entered),
        _delay_to_level_1(entered, delays[None] if None in delays else Median(None, 0)),
        _first_appointment_delay(session, scope),
        _attendance(session, scope),
        levels_section(surveys),
        _triage_outcomes(triaged),
        _referrals(session, scope),
    ]
    return [_summary(sections, served, surveys), *sections]


# ---- sections ---------------------------------------------------------------------------------


def _entries_per_month(scope: ReportScope, entered, triaged) -> Section:
    """Entries and redirections per local month: two different things, side by side."""
    rows = [
        (
            format_month(month),
            entered.per_month[month.isoformat()],
            triaged.redirected_per_month[month.isoformat()],
        )
        for month in indicators.month_starts(scope)
    ]
    columns = ["Mois", "Entrées", "Réorientations"]
    return Section("entrees", "Entrées et réorientations par mois", columns, rows)


def _units(session: Session, scope: ReportScope, interactions: Counter) -> Section:
    rows = [
        (
            code,
            unit.label,
            unit.started,
            unit.ended,
            unit.interactions,
            Share(unit.on_site, unit.interactions),
        )
        for code, unit in indicators.unit_activity(session, scope, interactions).items()
    ]
    columns = [
        "Unité",
        "Libellé",
        "Commencées",
        "Terminées",
        "Actes",
        "Part des actes sur site (%)",
    ]
    title = "Unités d'œuvre commencées et terminées"
    return Section("unites", title, columns, rows, 2)


def _interactions_per_channel(interactions: Counter) -> Section:
    """Interactions per channel, and those outside any unit (hors UO)."""
    counts: dict[str, list[int]] = {}
    for (unit_id, channel), n in interactions.items():
        tally = counts.setdefault(channel, [0, 0])
        tally[0] += n
        tally[1] += n if unit_id is None else 0
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


def _people(session: Session, scope: ReportScope) -> list:
    """The people served (indicators.served_people)."""
    served = indicators.served_people(session, scope)
    return [*scope.owns(Beneficiary), col(Beneficiary.id).in_(served)]


def _labelled(counts: dict, enum: type[LabelledEnum]) -> list[tuple[str, int]]:
    rows = [(member.label, counts.pop(member.value, 0)) for member in enum]
    unknown = sum(counts.values())  # NULL, or a code no longer in the list
    if unknown:
        rows.append((UNKNOWN, unknown))
    return rows


def _profile(session: Session, scope: ReportScope, year: int) -> tuple[list[Section], Counter]:
    """Every characteristic of the people served, and how many live at each postcode, per
    operator: {(operator id, postcode): people}."""
    # Age reached in the period's last year.
    band = age_band_column(Beneficiary.birth_year, year)
    keys = [band, *(getattr(Beneficiary, attribute) for _, _, attribute, _ in PROFILE)]
    places, ages, *characteristics = _tally_people(session, scope, keys)
    columns = ["Caractéristique", "Personnes"]
    sections = [
        Section(f"profil-{key}", title, columns, _labelled(dict(tally), enum))
        for (key, title, _, enum), tally in zip(PROFILE, characteristics, strict=True)
    ]
    sections.insert(1, Section("profil-age", "Tranche d'âge", columns, age_band_rows(ages)))
    return sections, places


def _tally_people(session: Session, scope: ReportScope, keys: list) -> list[Counter]:
    """People served counted by (operator, postcode), then by each key apart, in one pass over
    them (one pass per key costs that many times more at national scale)."""
    place = (Beneficiary.operator_id, Beneficiary.postcode)
    tallies: list[Counter] = [Counter() for _ in range(len(keys) + 1)]
    people = _people(session, scope)
    if session.get_bind().dialect.name == "postgresql":
        # GROUPING SETS: one small group per value of each key; grouping() says which key.
        flags = [func.grouping(key) for key in (place[0], *keys)]
        sets = func.grouping_sets(tuple_(*place), *keys)
        statement = select(*place, *keys, *flags, func.count()).where(*people).group_by(sets)
        for operator_id, postcode, *values in session.exec(statement):
            which = values[len(keys) : -1].index(0)
            value = (operator_id, postcode) if which == 0 else values[which - 1]
            tallies[which][value] += values[-1]
        return tallies
    # SQLite has no grouping sets: every combination once, each then added to its keys.
    statement = select(*place, *keys, func.count()).where(*people).group_by(*place, *keys)
    for operator_id, postcode, *values, count in session.exec(statement):
        tallies[0][operator_id, postcode] += count
        for tally, value in zip(tallies[1:], values, strict=True):
            tally[value] += count
    return tallies


def _triage_outcomes(triaged: indicators.Triage) -> Section:
    counts = triaged.outcomes
    rows = [
        ("En attente", counts.get((TriageStatus.PENDING, None), 0)),
        ("Dossier ouvert", counts.get((TriageStatus.CASE_OPENED, None), 0)),
    ]
    for destination in Redirection:
        n = counts.get((TriageStatus.REDIRECTED, destination.value), 0)
        rows.append((f"Réorientée — {destination.label}", n))
    columns = ["Issue", "Demandes"]
    return Section("accueil", "Demandes reçues à l'accueil et leur issue", columns, rows)


def _referrals(session: Session, scope: ReportScope) -> Section:
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


def _attendance(session: Session, scope: ReportScope) -> Section:
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


def _first_appointment_delay(session: Session, scope: ReportScope) -> Section:
    """Median days from the first contact to the first appointment not cancelled."""
    # Each case keeps its firsts (app/models/case_firsts.py): one pass over the cases opened.
    inner = (
        select(
            days_between(session, Case.first_appointment_at, Case.first_contact_at).label("days")
        )
        .where(
            *scope.cases(),
            scope.within(Case.opened_at),
            col(Case.first_appointment_at).is_not(None),
        )
        .subquery()
    )
    cases, days = count_and_median(session, inner.c.days)
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
    scope = ReportScope(operator.id, operator.time_zone, start, end)
    days = days_between(session, Case.first_appointment_at, Case.first_contact_at)
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
    return {referent: (len(found), sorted_median(found)) for referent, found in values.items()}


def _surveys(session: Session, scope: ReportScope) -> SurveyTallies:
    """Satisfaction and utility per level, of the surveys sent in the period (by the site and
    the counsellor of the invitation: where and by whom the work was done)."""
    return survey_tallies(
        session=session,
        operator_id=scope.operator_id,
        time_zone=scope.time_zone,
        start=scope.start,
        end=scope.end,
        site_id=scope.site_id,
        counsellor_id=scope.counsellor_id,
    )


def _per_operator(session, scope, entered, triaged, served, covered, delays) -> Section:
    """Each operator's key figures side by side (the national view)."""
    operators = select(Operator).where(*scope.owns(Operator)).order_by(Operator.name)
    rows = [
        (
            operator.name,
            entered.per_operator[operator.id],
            served[operator.id],
            triaged.redirected[operator.id],
            entered.reaching_level_2(operator.id),
            delays.get(operator.id, Median(None, 0)),
            covered.share(operator.id),
        )
        for operator in session.exec(operators)
    ]
    columns = [
        "Opérateur",
        "Entrées",
        "Personnes accompagnées",
        "Réorientations",
        "Accès au niveau 2 (%)",
        "Délai médian d'accès au niveau 1 (jours)",
        "Couverture à 30 km (%)",
    ]
    return Section("operateurs", "Chiffres clés par opérateur", columns, rows)


def _labelled_section(key: str, title: str, enum: type[LabelledEnum], counts: Counter) -> Section:
    rows = _labelled(dict(counts), enum)
    return Section(key, title, ["Modalité", "Entrées"], rows)


def _territory(covered: indicators.Coverage) -> Section:
    """Per département of residence: people served, those within 30 km, and the places."""
    codes = sorted(set(covered.departements) | set(covered.sites), key=lambda c: c or "")
    rows = []
    for code in codes:
        near, located = covered.departements.get(code, (0, 0))
        name = UNKNOWN if code is None else f"{code} — {DEPARTEMENT_NAMES.get(code, code)}"
        rows.append((name, located, near, Share(near, located), covered.sites[code]))
    rows.append(
        (
            "Total",
            sum(r[1] for r in rows),
            sum(r[2] for r in rows),
            covered.share(),
            sum(r[4] for r in rows),
        )
    )
    columns = [
        "Département de résidence",
        "Personnes accompagnées",
        "dont à 30 km au plus d'un lieu",
        "Couverture à 30 km (%)",
        "Lieux d'accueil et permanences",
    ]
    title = "Couverture territoriale par département"
    return Section("territoire", title, columns, rows, 3, ends_with_total=True)


def _reaching_level_2(entered: indicators.Entries) -> Section:
    share = entered.reaching_level_2()
    rows = [
        ("Entrées de la période (base)", entered.count),
        ("dont niveau 2 commencé dans les 12 mois", share.part),
        ("Accès au niveau 2 (%)", share),
    ]
    columns = ["Indicateur", "Valeur"]
    return Section("niveau-2", "Accès au niveau 2", columns, rows, None)


def _delay_to_level_1(entered: indicators.Entries, median: Median) -> Section:
    rows = [
        ("Délai médian (jours)", median, median.cases),
        (
            "Part en 10 jours au plus (%)",
            entered.within_ten_days(),
            entered.within_ten_days().whole,
        ),
    ]
    columns = ["Indicateur", "Valeur", "Entrées"]
    title = "Délai entre le premier contact et le premier entretien de niveau 1"
    return Section("delai-niveau-1", title, columns, rows, None)


def _summary(sections: list[Section], served: Counter, surveys: SurveyTallies) -> Section:
    """Key figures, read from the sections already computed: the first ones open the page."""
    by_key = {section.key: section for section in sections}
    units = by_key["unites"].rows
    interactions = by_key["actes"].rows[-1]
    honoured, no_show = (row[1] for row in by_key["rendez-vous"].rows)
    level_2 = by_key["niveau-2"].rows
    delay = by_key["delai-niveau-1"].rows
    territory = by_key["territoire"].rows[-1]
    rows = [
        ("Entrées", sum(row[1] for row in by_key["entrees"].rows)),
        ("Personnes accompagnées", sum(served.values())),
        ("Accès au niveau 2 (%)", level_2[2][1]),
        ("Délai médian d'accès au niveau 1 (jours)", delay[0][1]),
        ("Part des entrées vues en 10 jours au plus (%)", delay[1][1]),
        ("Couverture à 30 km (%)", territory[3]),
        ("Satisfaction en fin de niveau (%)", surveys.total(SATISFACTION.key).share),
        ("Utilité à six mois (%)", surveys.total(UTILITY.key).share),
        ("Réorientations à l'accueil", sum(row[2] for row in by_key["entrees"].rows)),
        ("Unités d'œuvre commencées", sum(row[2] for row in units)),
        ("Unités d'œuvre terminées", sum(row[3] for row in units)),
        ("Actes", interactions[1]),
        ("Part des actes hors UO (%)", interactions[3]),
        ("Orientations vers un partenaire", sum(row[1] for row in by_key["orientations"].rows)),
        ("Rendez-vous honorés", honoured),
        ("Taux d'absence (%)", Share(no_show, honoured + no_show)),
        ("Délai médian premier contact → premier rendez-vous (jours)", by_key["delai"].rows[0][1]),
    ]
    return Section(SUMMARY, "Chiffres clés", ["Indicateur", "Valeur"], rows, chart_column=None)
