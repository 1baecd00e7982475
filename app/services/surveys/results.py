"""Survey results: how many were invited, answered, satisfied or found the advice useful, per
level, site, counsellor and month — counted by the database (GROUP BY), for the results page,
the activity report, the API and the national view.

An invitation counts in the period of its sending (`sent_at`, local days of the operator), and
so does its answer, whenever it came: a period's rate is that of the surveys sent in it.
« Invited » is an invitation sent and not cancelled; « answered », its response submitted."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlmodel import Session, and_, case, col, func, select, tuple_

from app.core.dates import format_month
from app.models.fields import french_sort_key
from app.models.operators import Site
from app.models.staff import StaffUser
from app.models.surveys import SurveyInvitation as Invitation
from app.models.surveys import SurveyKind, SurveyStatus
from app.services.access.scope import owned_by
from app.services.reports.periods import local_midnight, months_between
from app.services.reports.tables import Section, Share

UNKNOWN = "Non renseigné"
LEVELS = (1, 2)


@dataclass(frozen=True)
class Survey:
    """One of the two measures: its key in the API, its titles, and its positive answer."""

    key: str  # satisfaction | utility
    title: str
    positive_key: str  # satisfied | useful: the API's name of the count
    positive_label: str
    share_label: str


SATISFACTION = Survey(
    "satisfaction",
    "Satisfaction en fin de niveau",
    "satisfied",
    "Satisfait·es",
    "Part de satisfait·es (%)",
)
UTILITY = Survey(
    "utility", "Utilité à six mois", "useful", "Jugent le conseil utile", "Part jugeant utile (%)"
)
SURVEYS = (SATISFACTION, UTILITY)


@dataclass(frozen=True)
class Tally:
    invited: int = 0
    answered: int = 0
    positive: int = 0  # satisfied, or useful

    def __add__(self, other: "Tally") -> "Tally":
        return Tally(
            self.invited + other.invited,
            self.answered + other.answered,
            self.positive + other.positive,
        )

    @property
    def rate(self) -> Share:
        """Answers per invitation; « — » when nobody was invited."""
        return Share(self.answered, self.invited)

    @property
    def share(self) -> Share:
        """Satisfied (or useful) answers per answer; « — » when nobody answered."""
        return Share(self.positive, self.answered)


@dataclass
class SurveyTallies:
    """The counts of each survey (its key) per level, and, when asked, per site, counsellor and
    local month (the first day of the month, ISO), levels together."""

    levels: dict[tuple[str, int], Tally] = field(default_factory=lambda: defaultdict(Tally))
    sites: dict[tuple[str, int | None], Tally] = field(default_factory=lambda: defaultdict(Tally))
    counsellors: dict[tuple[str, int | None], Tally] = field(
        default_factory=lambda: defaultdict(Tally)
    )
    months: dict[tuple[str, str], Tally] = field(default_factory=lambda: defaultdict(Tally))

    def total(self, survey: str) -> Tally:
        return sum((self.levels[survey, level] for level in LEVELS), Tally())


def survey_tallies(
    *,
    session: Session,
    operator_id: int | None,
    time_zone: str,
    start: date,
    end: date,
    site_id: int | None = None,
    counsellor_id: int | None = None,
    breakdowns: bool = False,
) -> SurveyTallies:
    """The counts for the local days start..end, unchecked (callers check the actor and the
    period); `operator_id` None counts every operator (the national view).

    One statement: the level totals alone, or with `breakdowns` the site, counsellor and month
    ones too (GROUPING SETS on PostgreSQL, one pass however large the year)."""
    lo, hi = local_midnight(start, time_zone), local_midnight(end + timedelta(days=1), time_zone)
    conditions = [
        col(Invitation.sent_at) >= lo,
        col(Invitation.sent_at) < hi,
        Invitation.status != SurveyStatus.CANCELLED,
    ]
    if operator_id is not None:
        conditions.append(owned_by(Invitation, operator_id))
    if site_id is not None:
        conditions.append(Invitation.site_id == site_id)
    if counsellor_id is not None:
        conditions.append(Invitation.counsellor_id == counsellor_id)
    # The answer's figure is kept on the invitation (answers.py): one table, its indexes alone.
    answered = col(Invitation.answered_at).is_not(None)
    columns = [
        case((Invitation.kind == SurveyKind.UTILITY, UTILITY.key), else_=SATISFACTION.key).label(
            "survey"
        ),
        col(Invitation.level).label("level"),
        case((answered, 1), else_=0).label("answered"),
        case((and_(answered, col(Invitation.positive).is_(True)), 1), else_=0).label("positive"),
    ]
    if breakdowns:
        columns += [
            col(Invitation.site_id).label("site_id"),
            col(Invitation.counsellor_id).label("counsellor_id"),
            _month_bucket(start, end, time_zone, hi).label("month"),
        ]
    inner = select(*columns).select_from(Invitation).where(*conditions).subquery()
    counts = [func.count(), func.sum(inner.c.answered), func.sum(inner.c.positive)]
    base = [inner.c.survey, inner.c.level]
    tallies = SurveyTallies()
    if not breakdowns:
        for survey, level, *n in session.exec(select(*base, *counts).group_by(*base)):
            tallies.levels[survey, level] += Tally(*map(int, n))
        return tallies
    keys = [inner.c.site_id, inner.c.counsellor_id, inner.c.month]
    targets = [tallies.sites, tallies.counsellors, tallies.months]
    if session.get_bind().dialect.name == "postgresql":
        # One small group per survey and level, and per survey, level and each key apart;
        # grouping() says which key a row is grouped by.
        sets = [tuple_(*base), *(tuple_(*base, key) for key in keys)]
        flags = [func.grouping(key) for key in keys]
        statement = select(*base, *keys, *flags, *counts).group_by(func.grouping_sets(*sets))
        for survey, level, *values in session.exec(statement):
            keyed, grouped, n = values[:3], values[3:6], Tally(*map(int, values[6:]))
            if all(grouped):
                tallies.levels[survey, level] += n
                continue
            which = grouped.index(0)
            targets[which][survey, keyed[which]] += n
        return tallies
    # SQLite has no grouping sets: every combination once, each then added to its keys.
    statement = select(*base, *keys, *counts).group_by(*base, *keys)
    for survey, level, *values in session.exec(statement):
        keyed, n = values[:3], Tally(*map(int, values[3:]))
        tallies.levels[survey, level] += n
        for target, value in zip(targets, keyed, strict=True):
            target[survey, value] += n
    return tallies


def _month_bucket(start: date, end: date, time_zone: str, hi):
    """The local month of the sending, as the ISO day its month starts: month bounds computed
    here in the operator's time zone, so that one portable CASE works on both engines."""
    months = months_between(start, end)
    branches = []
    for index, month in enumerate(months):
        following = months[index + 1] if index + 1 < len(months) else None
        bound = local_midnight(following, time_zone) if following else hi
        branches.append((col(Invitation.sent_at) < bound, month.isoformat()))
    return case(*branches, else_=None)


# ---- sections -------------------------------------------------------------------------------


def _row(label: str, tally: Tally) -> tuple:
    return (label, tally.invited, tally.answered, tally.rate, tally.positive, tally.share)


LEVELS_KEY = "enquetes"
LEVELS_TITLE = "Enquêtes de satisfaction et d'utilité, par niveau"
LEVELS_COLUMNS = [
    "Enquête",
    "Invitations",
    "Réponses",
    "Taux de réponse (%)",
    "Réponses positives",
    "Part de réponses positives (%)",
]


def levels_section(tallies: SurveyTallies) -> Section:
    """Both surveys, level by level: the section of the activity report, its files, the API's
    files and the national view. Positive: satisfied (satisfaction), useful (utility)."""
    rows = [
        _row(f"{survey.title} — niveau {level}", tallies.levels[survey.key, level])
        for survey in SURVEYS
        for level in LEVELS
    ]
    # Drawn: the share of positive answers, what the section is read for (not the invitations).
    return Section(LEVELS_KEY, LEVELS_TITLE, LEVELS_COLUMNS, rows, len(LEVELS_COLUMNS) - 1)


def survey_columns(survey: Survey, first: str) -> list[str]:
    columns = ["Invitations", "Réponses", "Taux de réponse (%)"]
    return [first, *columns, survey.positive_label, survey.share_label]


def breakdown_sections(
    *, session: Session, tallies: SurveyTallies, start: date, end: date, per_counsellor: bool
) -> list[Section]:
    """For each survey, its figures per level, per site, per counsellor (when asked) and per
    month: the results page's tables."""
    site_names = _names(session, Site.id, Site.name, {k for _, k in tallies.sites})
    people = {k for _, k in tallies.counsellors}
    counsellor_names = _names(session, StaffUser.id, StaffUser.full_name, people)
    sections = []
    for survey in SURVEYS:
        key = survey.key
        levels = [_row(f"Niveau {n}", tallies.levels[key, n]) for n in LEVELS]
        levels.append(_row("Ensemble", tallies.total(key)))
        sections.append(
            Section(
                f"{key}-niveaux",
                f"{survey.title}, par niveau",
                survey_columns(survey, "Niveau"),
                levels,
                ends_with_total=True,
            )
        )
        sections.append(
            Section(
                f"{key}-lieux",
                f"{survey.title}, par lieu d'accueil",
                survey_columns(survey, "Lieu d'accueil"),
                _named_rows(tallies.sites, key, site_names),
            )
        )
        if per_counsellor:
            sections.append(
                Section(
                    f"{key}-conseillers",
                    f"{survey.title}, par conseiller·ère",
                    survey_columns(survey, "Conseiller·ère"),
                    _named_rows(tallies.counsellors, key, counsellor_names),
                )
            )
        months = [
            _row(format_month(month), tallies.months[key, month.isoformat()])
            for month in months_between(start, end)
        ]
        sections.append(
            Section(
                f"{key}-mois",
                f"{survey.title}, par mois d'envoi",
                survey_columns(survey, "Mois"),
                months,
            )
        )
    return sections


def _names(session: Session, id_column, name_column, ids: set) -> dict[int, str]:
    wanted = [i for i in ids if i is not None]
    if not wanted:
        return {}
    statement = select(id_column, name_column).where(col(id_column).in_(wanted))
    return {row_id: name for row_id, name in session.exec(statement)}


def _named_rows(tallies: dict, survey: str, names: dict[int, str]) -> list[tuple]:
    """One row per site or counsellor with an invitation, by name; « Non renseigné » last."""
    found = [(key, tally) for (s, key), tally in tallies.items() if s == survey and tally.invited]
    named = sorted(
        ((names.get(key, UNKNOWN), tally) for key, tally in found if key is not None),
        key=lambda pair: french_sort_key(pair[0]),
    )
    unknown = [tally for key, tally in found if key is None]
    rows = [_row(name, tally) for name, tally in named]
    return rows + [_row(UNKNOWN, tally) for tally in unknown]


def figures(tallies: SurveyTallies) -> dict:
    """The API's figures: per survey, per level, the counts and the rate (percent, one decimal,
    None when nobody was invited) and the positive share of the answers (likewise)."""
    body = {}
    for survey in SURVEYS:
        body[survey.key] = {}
        for level in LEVELS:
            tally = tallies.levels[survey.key, level]
            body[survey.key][f"level_{level}"] = {
                "invited": tally.invited,
                "answered": tally.answered,
                survey.positive_key: tally.positive,
                "rate": tally.rate.plain(),
                "share": tally.share.plain(),
            }
    return body
