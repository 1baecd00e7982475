"""« Enquêtes »: an operator's administrators edit its three questionnaires (system
administrators: any operator's), its managers read them. Saving writes a new version and never
touches an old one: each answer keeps the version it answered. A form saved unchanged writes
nothing."""

from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, col, select

from app.core.db import all_or_nothing
from app.core.errors import Forbidden, Invalid, NotFound
from app.models.nomenclatures import Role
from app.models.operators import Operator
from app.models.staff import StaffUser
from app.models.surveys import Measure, Question, SurveyKind, SurveyResponse
from app.models.surveys import SurveyQuestionnaire as Questionnaire
from app.services.access.scope import owned_by
from app.services.surveys.drafts import MEASURE_OF, Draft, checked, draft_of
from app.services.surveys.questionnaires import DEFAULTS, current_questionnaire

READERS = frozenset({Role.MANAGER, Role.OPERATOR_ADMIN, Role.SYSADMIN})
EDITORS = frozenset({Role.OPERATOR_ADMIN, Role.SYSADMIN})


def survey_kind(value: str) -> SurveyKind:
    """The questionnaire named in an address; 404 for any other word."""
    try:
        return SurveyKind(value)
    except ValueError:
        raise NotFound() from None


def readable_operators(*, session: Session, actor: StaffUser) -> list[Operator]:
    """The operators whose questionnaires the actor reads: their own, or all for a sysadmin."""
    if actor.role not in READERS or (actor.role != Role.SYSADMIN and actor.operator_id is None):
        raise Forbidden(
            "Seuls les responsables et administrateur·rices de l'opérateur voient ses enquêtes."
        )
    query = select(Operator).order_by(Operator.code)
    if actor.role != Role.SYSADMIN:
        query = query.where(owned_by(Operator, actor.operator_id))
    return list(session.exec(query))


def _operator(
    session: Session, actor: StaffUser, operator_id: int | None, *, edit: bool = False
) -> tuple[Operator, list[Operator]]:
    """The operator asked for (the actor's own by default), and those the actor may choose."""
    operators = readable_operators(session=session, actor=actor)
    if edit and actor.role not in EDITORS:
        raise Forbidden("Seuls les administrateur·rices de l'opérateur modifient ses enquêtes.")
    if operator_id is None and operators:
        return operators[0], operators
    chosen = next((operator for operator in operators if operator.id == operator_id), None)
    if chosen is None:
        raise NotFound()
    return chosen, operators


def _answers_by_version(session: Session, operator_id: int) -> dict[int, int]:
    """How many submitted answers each version of the operator's questionnaires has."""
    rows = session.exec(
        select(SurveyResponse.questionnaire_id, func.count())
        .where(owned_by(SurveyResponse, operator_id), col(SurveyResponse.submitted_at).isnot(None))
        .group_by(SurveyResponse.questionnaire_id)
    )
    return dict(rows.all())


def _authors(session: Session, versions: list[Questionnaire]) -> dict[int, str]:
    ids = {version.created_by_id for version in versions if version.created_by_id}
    if not ids:
        return {}
    people = session.exec(select(StaffUser).where(col(StaffUser.id).in_(ids)))
    return {person.id: person.full_name for person in people}


@dataclass
class VersionRow:
    questionnaire: Questionnaire
    author: str  # « Questions par défaut » for the version written from the defaults
    answers: int

    @property
    def questions(self) -> list[Question]:
        return self.questionnaire.parsed_questions()


@dataclass
class KindRow:
    kind: SurveyKind
    current: VersionRow
    versions: int
    answers: int  # every version's


@dataclass
class QuestionnairesPage:
    operator: Operator
    operators: list[Operator]  # more than one for a system administrator
    rows: list[KindRow]
    can_edit: bool


def _rows(session: Session, operator: Operator, kind: SurveyKind) -> list[VersionRow]:
    """Every version of one questionnaire, newest first (version 1 written if none yet)."""
    current_questionnaire(session=session, operator_id=operator.id, kind=kind)
    versions = list(
        session.exec(
            select(Questionnaire)
            .where(owned_by(Questionnaire, operator.id), Questionnaire.kind == kind)
            .order_by(col(Questionnaire.version).desc())
        )
    )
    answers = _answers_by_version(session, operator.id)
    authors = _authors(session, versions)
    return [
        VersionRow(
            version,
            authors.get(version.created_by_id or 0, "Questions par défaut"),
            answers.get(version.id, 0),
        )
        for version in versions
    ]


def questionnaires_view(
    *, session: Session, actor: StaffUser, operator_id: int | None = None
) -> QuestionnairesPage:
    """The operator's three questionnaires: the version asked now, and their answers."""
    operator, operators = _operator(session, actor, operator_id)
    rows = []
    for kind in SurveyKind:
        versions = _rows(session, operator, kind)
        rows.append(KindRow(kind, versions[0], len(versions), sum(v.answers for v in versions)))
    return QuestionnairesPage(operator, operators, rows, actor.role in EDITORS)


@dataclass
class QuestionnairePage:
    kind: SurveyKind
    measure: Measure
    operator: Operator
    operators: list[Operator]
    versions: list[VersionRow]  # newest (the one asked now) first
    can_edit: bool

    @property
    def current(self) -> VersionRow:
        return self.versions[0]

    def draft(self) -> Draft:
        """The form as it opens: the version asked now."""
        return draft_of(self.current.questionnaire, self.kind)


def questionnaire_view(
    *,
    session: Session,
    actor: StaffUser,
    kind: SurveyKind,
    operator_id: int | None = None,
    edit: bool = False,
) -> QuestionnairePage:
    """One questionnaire: every version, the one asked now first. `edit`: for a form sent
    back to be shown again, which only its editors may send."""
    operator, operators = _operator(session, actor, operator_id, edit=edit)
    versions = _rows(session, operator, kind)
    return QuestionnairePage(
        kind, MEASURE_OF[kind], operator, operators, versions, actor.role in EDITORS
    )


def _content(title: str, intro: str, questions: list) -> tuple:
    """What two versions must share to be the same questionnaire."""
    return title, intro, [Question.model_validate(q).model_dump(mode="json") for q in questions]


def _new_version(
    session: Session, actor: StaffUser, latest: Questionnaire, title, intro, questions
) -> Questionnaire | None:
    if _content(title, intro, questions) == _content(latest.title, latest.intro, latest.questions):
        return None
    version = Questionnaire(
        operator_id=latest.operator_id,
        kind=latest.kind,
        version=latest.version + 1,
        title=title,
        intro=intro,
        questions=[question.model_dump(mode="json") for question in questions],
        created_by_id=actor.id,
    )
    session.add(version)
    session.flush()
    return version


@all_or_nothing
def save_questionnaire(
    *,
    session: Session,
    actor: StaffUser,
    kind: SurveyKind,
    draft: Draft,
    operator_id: int | None = None,
) -> Questionnaire | None:
    """A new version from the form; None when nothing changed. A form opened on an older
    version than the one asked now is refused, so that nobody undoes a colleague's edit
    unknowingly."""
    operator, _ = _operator(session, actor, operator_id, edit=True)
    title, intro, questions = checked(draft, kind)
    latest = current_questionnaire(session=session, operator_id=operator.id, kind=kind)
    same = _content(title, intro, questions) == _content(
        latest.title, latest.intro, latest.questions
    )
    if not same and draft.based_on != str(latest.version):
        raise Invalid(
            {
                "based_on": (
                    f"Une version plus récente (version {latest.version}) a été enregistrée "
                    "pendant que vous modifiiez celle-ci : relisez-la plus bas. Vos changements "
                    "sont gardés dans le formulaire ; enregistrez à nouveau pour les appliquer."
                )
            }
        )
    return _new_version(session, actor, latest, title, intro, questions)


@all_or_nothing
def restore_defaults(
    *, session: Session, actor: StaffUser, kind: SurveyKind, operator_id: int | None = None
) -> Questionnaire | None:
    """A new version holding the default questions again; None if it already does."""
    operator, _ = _operator(session, actor, operator_id, edit=True)
    latest = current_questionnaire(session=session, operator_id=operator.id, kind=kind)
    title, intro, questions = DEFAULTS[kind]
    return _new_version(session, actor, latest, title, intro, questions)
