"""What the survey results show: the managers' page (figures and free comments), its files
(comments pseudonymised), the API's figures, and a counsellor's own figures — shown only once
they rest on enough answers for nobody's answer to be told apart."""

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlmodel import Session, col, func, select

from app.core.dates import format_day, to_local
from app.core.errors import Forbidden, Invalid
from app.core.tables import Table, table_heading
from app.models.beneficiaries import Beneficiary
from app.models.nomenclatures import CASE_ROLES
from app.models.operators import Operator, Site
from app.models.staff import StaffUser
from app.models.surveys import SurveyInvitation as Invitation
from app.models.surveys import SurveyKind, SurveyStatus
from app.models.surveys import SurveyResponse as Response
from app.services.access.scope import operator_of, owned_by
from app.services.admin.operators import list_sites, time_zone_of
from app.services.admin.staff import Colleague, list_colleagues
from app.services.reports.activity import REPORT_ROLES, default_period
from app.services.reports.headings import filters_label
from app.services.reports.national import SMALLEST_SHOWN
from app.services.reports.periods import check_period, local_midnight
from app.services.reports.tables import ActivityReport
from app.services.reports.views import Period
from app.services.surveys.results import (
    SURVEYS,
    Tally,
    breakdown_sections,
    figures,
    levels_section,
    survey_tallies,
)

COMMENTS_PER_PAGE = 20
RESULTS_LABEL = "Résultats des enquêtes"
UNKNOWN = "Non renseigné"


def _check_reader(actor: StaffUser) -> None:
    if actor.role not in REPORT_ROLES:
        raise Forbidden(
            "Les résultats des enquêtes sont réservés aux responsables et aux administrateurs."
        )


# ---- the API's figures ----------------------------------------------------------------------


@dataclass
class SurveyFigures:
    figures: dict  # {satisfaction|utility: {level_1|level_2: {invited, answered, ...}}}
    report: ActivityReport  # the same figures as one table, for CSV and XLSX


def survey_figures(*, session: Session, actor: StaffUser, start: date, end: date) -> SurveyFigures:
    """Both surveys level by level over the local days start..end (managers and admins)."""
    _check_reader(actor)
    check_period(start, end, bounded=True)
    operator = session.get(Operator, operator_of(actor))
    tallies = survey_tallies(
        session=session,
        operator_id=operator.id,
        time_zone=operator.time_zone,
        start=start,
        end=end,
    )
    report = ActivityReport(
        start,
        end,
        operator.code,
        [levels_section(tallies)],
        kind="enquetes",
        label=RESULTS_LABEL,
        operator_name=operator.name,
    )
    return SurveyFigures(figures(tallies), report)


# ---- the managers' page ---------------------------------------------------------------------


@dataclass
class Comment:
    """A free comment as managers read it: when, about which survey and where — never whom."""

    day: str  # the answer's local day, written out
    survey: str
    level: int
    site: str
    text: str


@dataclass
class CommentPage:
    rows: list[Comment]
    number: int
    count: int  # pages
    total: int


@dataclass
class SurveyResults:
    report: ActivityReport  # the figures, a section per survey and breakdown
    comments: CommentPage


def _comment_conditions(
    operator: Operator, start: date, end: date, site_id: int | None, counsellor_id: int | None
) -> list:
    lo, hi = _bounds(start, end, operator.time_zone)
    conditions = [
        owned_by(Invitation, operator.id),
        col(Invitation.sent_at) >= lo,
        col(Invitation.sent_at) < hi,
        Invitation.status != SurveyStatus.CANCELLED,
        col(Response.submitted_at).is_not(None),
        Response.comment != "",
    ]
    if site_id is not None:
        conditions.append(Invitation.site_id == site_id)
    if counsellor_id is not None:
        conditions.append(Invitation.counsellor_id == counsellor_id)
    return conditions


def _bounds(start: date, end: date, time_zone: str) -> tuple[datetime, datetime]:
    return local_midnight(start, time_zone), local_midnight(end + timedelta(days=1), time_zone)


def _comment_rows(session: Session, statement, time_zone: str) -> list[Comment]:
    return [
        Comment(
            format_day(to_local(submitted_at, time_zone).date()),
            SurveyKind(kind).label,
            level,
            site or UNKNOWN,
            text,
        )
        for submitted_at, kind, level, site, text in session.exec(statement)
    ]


def _comments_statement(*columns):
    return (
        select(*columns)
        .select_from(Response)
        .join(Invitation, col(Invitation.id) == Response.invitation_id)
        .outerjoin(Site, col(Site.id) == Invitation.site_id)
    )


COMMENT_COLUMNS = (
    Response.submitted_at,
    Invitation.kind,
    Invitation.level,
    Site.name,
    Response.comment,
)
NEWEST_FIRST = (col(Response.submitted_at).desc(), col(Response.id).desc())


def survey_comments(
    *,
    session: Session,
    operator: Operator,
    start: date,
    end: date,
    site_id: int | None = None,
    counsellor_id: int | None = None,
    page: int = 1,
) -> CommentPage:
    """One page of the free comments of the surveys sent in the period, the latest answer first."""
    conditions = _comment_conditions(operator, start, end, site_id, counsellor_id)
    total = session.exec(_comments_statement(func.count()).where(*conditions)).one()
    count = max(1, -(-total // COMMENTS_PER_PAGE))
    number = min(page, count)
    statement = (
        _comments_statement(*COMMENT_COLUMNS)
        .where(*conditions)
        .order_by(*NEWEST_FIRST)
        .offset((number - 1) * COMMENTS_PER_PAGE)
        .limit(COMMENTS_PER_PAGE)
    )
    return CommentPage(_comment_rows(session, statement, operator.time_zone), number, count, total)


def survey_results(
    *,
    session: Session,
    actor: StaffUser,
    start: date,
    end: date,
    site_id: int | None = None,
    counsellor_id: int | None = None,
    page: int = 1,
) -> SurveyResults:
    """The results page over the local days start..end (managers and admins): each survey per
    level, site, counsellor and month, and one page of the free comments."""
    _check_reader(actor)
    check_period(start, end, bounded=True)
    operator = session.get(Operator, operator_of(actor))
    tallies = survey_tallies(
        session=session,
        operator_id=operator.id,
        time_zone=operator.time_zone,
        start=start,
        end=end,
        site_id=site_id,
        counsellor_id=counsellor_id,
        breakdowns=True,
    )
    sections = breakdown_sections(
        session=session, tallies=tallies, start=start, end=end, per_counsellor=True
    )
    report = ActivityReport(
        start,
        end,
        operator.code,
        sections,
        kind="enquetes",
        label=RESULTS_LABEL,
        operator_name=operator.name,
        filters=filters_label(
            session=session, operator_id=operator.id, site_id=site_id, counsellor_id=counsellor_id
        ),
    )
    comments = survey_comments(
        session=session,
        operator=operator,
        start=start,
        end=end,
        site_id=site_id,
        counsellor_id=counsellor_id,
        page=page,
    )
    return SurveyResults(report, comments)


def results_of(
    *,
    session: Session,
    actor: StaffUser,
    asked: Period,
    site_id: int | None = None,
    counsellor_id: int | None = None,
    page: int = 1,
) -> SurveyResults:
    """The results; by default from 1 January to today, in the operator's time zone."""
    first, today = default_period(session=session, actor=actor)
    return survey_results(
        session=session,
        actor=actor,
        start=asked.start or first,
        end=asked.end or today,
        site_id=site_id,
        counsellor_id=counsellor_id,
        page=page,
    )


@dataclass
class ResultsView:
    results: SurveyResults | None  # None when the filters or the period were refused
    sites: list[Site]
    colleagues: list[Colleague]
    errors: dict[str, str] = field(default_factory=dict)


def results_view(
    *,
    session: Session,
    actor: StaffUser,
    asked: Period | None,
    site_id: int | None = None,
    counsellor_id: int | None = None,
    page: int = 1,
) -> ResultsView:
    """The page: its results (or why the filters are refused) and what they choose from."""
    _check_reader(actor)
    results, errors = None, {}
    if asked is not None:
        try:
            results = results_of(
                session=session,
                actor=actor,
                asked=asked,
                site_id=site_id,
                counsellor_id=counsellor_id,
                page=page,
            )
        except Invalid as exc:
            errors = exc.fields
    operator_id = operator_of(actor)
    return ResultsView(
        results=results,
        sites=list_sites(session=session, operator_id=operator_id),
        colleagues=list_colleagues(session=session, operator_id=operator_id),
        errors=errors,
    )


# ---- the comments as a file, pseudonymised --------------------------------------------------

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# French numbers (06 12 34 56 78, 06.12.34.56.78, +33 6 12 34 56 78, 0033612345678) and any
# other international one (+ and at least eight digits).
PHONE = re.compile(
    r"(?<!\w)(?:(?:\+|00)\s?33\s?(?:\(0\)\s?)?|0)[1-9](?:[\s.-]?\d){8}(?!\d)"
    r"|\+\d(?:[\s.-]?\d){7,14}(?!\d)"
)


def pseudonymised(text: str, names: list[str]) -> str:
    """The comment without e-mail addresses, phone numbers, nor the given names (the person's,
    the counsellor's), each replaced by what it was."""
    text = EMAIL.sub("[adresse e-mail]", text)
    text = PHONE.sub("[téléphone]", text)
    words = sorted({w for name in names for w in re.split(r"[\s,]+", name) if len(w) > 1}, key=len)
    for word in reversed(words):  # the longest first: « Marie-Anne » before « Marie »
        text = re.sub(rf"(?<!\w){re.escape(word)}(?!\w)", "[nom]", text, flags=re.IGNORECASE)
    return text


def comments_table(
    *,
    session: Session,
    actor: StaffUser,
    asked: Period,
    site_id: int | None = None,
    counsellor_id: int | None = None,
) -> Table:
    """Every free comment of the period as a file: no one's identity, and none in the text."""
    _check_reader(actor)
    first, today = default_period(session=session, actor=actor)
    start, end = asked.start or first, asked.end or today
    check_period(start, end, bounded=True)
    operator = session.get(Operator, operator_of(actor))
    conditions = _comment_conditions(operator, start, end, site_id, counsellor_id)
    statement = (
        _comments_statement(
            *COMMENT_COLUMNS,
            Beneficiary.first_name,
            Beneficiary.last_name,
            StaffUser.full_name,
        )
        .join(Beneficiary, col(Beneficiary.id) == Invitation.beneficiary_id)
        .outerjoin(StaffUser, col(StaffUser.id) == Invitation.counsellor_id)
        .where(*conditions)
        .order_by(*NEWEST_FIRST)
    )
    rows = []
    for submitted_at, kind, level, site, text, first_name, last_name, counsellor in session.exec(
        statement
    ):
        names = [first_name, last_name, counsellor or ""]
        day = to_local(submitted_at, operator.time_zone).date()
        rows.append(
            (day, SurveyKind(kind).label, level, site or UNKNOWN, pseudonymised(text, names))
        )
    columns = ["Date de réponse", "Enquête", "Niveau", "Lieu d'accueil", "Commentaire"]
    filename = f"enquetes-{operator.code}-{start}-{end}-commentaires"
    title = "Commentaires des enquêtes"
    filters = filters_label(
        session=session, operator_id=operator.id, site_id=site_id, counsellor_id=counsellor_id
    )
    heading = table_heading(
        label=RESULTS_LABEL,
        operator=operator.name,
        filters=filters,
        start=start,
        end=end,
        title=title,
    )
    return Table(title, columns, rows, filename, heading)


# ---- a counsellor's own figures -------------------------------------------------------------


@dataclass
class OwnFigures:
    title: str
    tally: Tally | None  # None below SMALLEST_SHOWN answers: not even the number of invitations


@dataclass
class OwnResults:
    year: int
    years: list[int]
    rows: list[OwnFigures]
    smallest: int = SMALLEST_SHOWN


def own_results(*, session: Session, actor: StaffUser, year: int | None) -> OwnResults:
    """The actor's own figures for a calendar year, levels together, each survey shown only when
    it rests on SMALLEST_SHOWN answers or more (the national view's small-count rule): below,
    the person could guess who answered what. Whole years only, so that two overlapping
    periods cannot be subtracted; never anyone else's figures."""
    if actor.role not in CASE_ROLES:
        raise Forbidden("Ces résultats sont ceux d'un·e conseiller·ère.")
    operator_id = operator_of(actor)
    time_zone = time_zone_of(session=session, operator_id=operator_id)
    this_year = default_period(session=session, actor=actor)[1].year
    years = list(range(this_year, this_year - 5, -1))
    year = year or this_year
    if year not in years:
        raise Invalid({"annee": "Choisissez une des cinq dernières années."})
    tallies = survey_tallies(
        session=session,
        operator_id=operator_id,
        time_zone=time_zone,
        start=date(year, 1, 1),
        end=date(year, 12, 31),
        counsellor_id=actor.id,
    )
    rows = []
    for survey in SURVEYS:
        tally = tallies.total(survey.key)
        shown = tally if tally.answered >= SMALLEST_SHOWN else None
        rows.append(OwnFigures(survey.title, shown))
    return OwnResults(year, years, rows)
