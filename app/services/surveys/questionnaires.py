"""Each operator's questionnaires: the defaults every operator starts from, and the current
version of each kind (the highest; version 1 is written from the defaults the first time it
is needed, so that an operator who never edits them still has versioned answers)."""

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.models.surveys import Measure, Option, Question, QuestionType, SurveyKind
from app.models.surveys import SurveyQuestionnaire as Questionnaire
from app.services.access.scope import owned_by

SATISFACTION = Question(
    key="satisfaction",
    type=QuestionType.SCALE,
    label="Dans l'ensemble, êtes-vous satisfait·e de l'accompagnement que vous avez reçu ?",
    required=True,
    options=[
        Option(value="tres_satisfait", label="Très satisfait·e"),
        Option(value="plutot_satisfait", label="Plutôt satisfait·e"),
        Option(value="plutot_pas_satisfait", label="Plutôt pas satisfait·e"),
        Option(value="pas_du_tout_satisfait", label="Pas du tout satisfait·e"),
    ],
    measure=Measure.SATISFACTION,
    positive=["tres_satisfait", "plutot_satisfait"],
)

UTILITY = Question(
    key="utilite",
    type=QuestionType.SCALE,
    label="Avec six mois de recul, ce conseil vous a-t-il été utile ?",
    required=True,
    options=[
        Option(value="tres_utile", label="Très utile"),
        Option(value="plutot_utile", label="Plutôt utile"),
        Option(value="plutot_pas_utile", label="Plutôt pas utile"),
        Option(value="pas_du_tout_utile", label="Pas du tout utile"),
    ],
    measure=Measure.UTILITY,
    positive=["tres_utile", "plutot_utile"],
)

RECOMMEND = Question(
    key="recommandation",
    type=QuestionType.CHOICE,
    label="Recommanderiez-vous le conseil en évolution professionnelle à un proche ?",
    options=[
        Option(value="oui", label="Oui"),
        Option(value="non", label="Non"),
        Option(value="ne_sait_pas", label="Je ne sais pas"),
    ],
)

CHANGES = Question(
    key="changements",
    type=QuestionType.MULTI,
    label="Qu'est-ce qui a changé pour vous depuis ?",
    help="Plusieurs réponses possibles.",
    options=[
        Option(value="emploi", label="Un nouvel emploi ou un changement de poste"),
        Option(value="formation", label="Une formation commencée ou prévue"),
        Option(value="projet", label="Un projet plus clair"),
        Option(value="rien", label="Rien pour l'instant"),
    ],
)

COMMENT = Question(
    key="commentaire",
    type=QuestionType.TEXT,
    label="Voulez-vous ajouter quelque chose ?",
    help="Facultatif. Ne donnez pas d'informations sur votre santé ou celle d'autres personnes.",
)

DEFAULTS: dict[SurveyKind, tuple[str, str, list[Question]]] = {
    SurveyKind.END_LEVEL_1: (
        "Votre avis sur votre premier entretien",
        "Quelques questions, deux minutes au plus. Vos réponses servent à améliorer le "
        "service ; votre conseiller·ère ne les voit pas.",
        [SATISFACTION, RECOMMEND, CHANGES, COMMENT],
    ),
    SurveyKind.END_LEVEL_2: (
        "Votre avis sur votre accompagnement",
        "Quelques questions, deux minutes au plus. Vos réponses servent à améliorer le "
        "service ; votre conseiller·ère ne les voit pas.",
        [SATISFACTION, RECOMMEND, CHANGES, COMMENT],
    ),
    SurveyKind.UTILITY: (
        "Six mois après : ce conseil vous a-t-il servi ?",
        "Il y a six mois, vous avez été accompagné·e dans votre projet professionnel. "
        "Deux minutes pour nous dire ce qu'il en est aujourd'hui.",
        [UTILITY, CHANGES, RECOMMEND, COMMENT],
    ),
}


def current_questionnaire(*, session: Session, operator_id: int, kind: SurveyKind) -> Questionnaire:
    """The version of `kind` asked from now on; version 1 from the defaults if none yet."""
    latest = latest_version(session=session, operator_id=operator_id, kind=kind)
    if latest is not None:
        return latest
    title, intro, questions = DEFAULTS[kind]
    first = Questionnaire(
        operator_id=operator_id,
        kind=kind,
        version=1,
        title=title,
        intro=intro,
        questions=[q.model_dump(mode="json") for q in questions],
    )
    try:
        with session.begin_nested():  # another request may write version 1 at the same time
            session.add(first)
    except IntegrityError:
        return latest_version(session=session, operator_id=operator_id, kind=kind)
    return first


def latest_version(*, session: Session, operator_id: int, kind: SurveyKind) -> Questionnaire | None:
    return session.exec(
        select(Questionnaire)
        .where(owned_by(Questionnaire, operator_id), Questionnaire.kind == kind)
        .order_by(col(Questionnaire.version).desc())
        .limit(1)
    ).first()
