"""How the people of the demo and of the synthetic dataset answer the surveys (issue 17): the
market's figures, answers drawn to match them against a questionnaire version's own questions,
and a few short comments that name no one.

Shared by the demo seed (app/demo/surveys.py) and the generator (app/synthetic/surveys.py)."""

import random
from dataclasses import dataclass
from datetime import timedelta

from app.models.surveys import Measure, Question, QuestionType, SurveyKind

# France compétences' figures for the 2020–2023 market: satisfied at the end of each level,
# and finding the advice useful six months after it.
SATISFIED = {1: 0.91, 2: 0.89}
USEFUL = {1: 0.67, 2: 0.87}
# Invitations answered: about a third at the end of a level, fewer six months later.
RESPONSE_RATE = {
    SurveyKind.END_LEVEL_1.value: 0.35,
    SurveyKind.END_LEVEL_2.value: 0.37,
    SurveyKind.UTILITY.value: 0.22,
}
ANSWERED_BEFORE_REMINDER = 0.65
SKIPPED = 0.05  # an optional question left unanswered
COMMENTED = 0.3  # answers with a free comment

# (utility survey, positive answer) → short comments, as people write them.
COMMENTS = {
    (False, True): (
        "Très bonne écoute, je me suis sentie comprise.",
        "Des conseils concrets, merci.",
        "L'entretien m'a aidé à y voir plus clair.",
        "Accueil chaleureux et rendez-vous rapide.",
        "J'ai enfin une piste sérieuse pour ma reconversion.",
        "Merci pour les ressources partagées, très utiles.",
        "Conseillère disponible et bienveillante.",
        "Je recommande, c'est gratuit et sérieux.",
    ),
    (False, False): (
        "Un peu trop général pour ma situation.",
        "J'aurais aimé un rendez-vous plus tôt.",
        "Pas de réponse claire sur le financement de ma formation.",
        "Entretien trop court à mon goût.",
        "Je m'attendais à des offres d'emploi.",
    ),
    (True, True): (
        "J'ai commencé ma formation en septembre.",
        "Le plan d'action m'a servi de fil conducteur.",
        "J'ai changé de poste dans mon entreprise.",
        "Mon dossier de financement a été accepté.",
        "Je sais maintenant ce que je veux faire.",
        "La VAE est en cours, merci pour l'orientation.",
    ),
    (True, False): (
        "Mon projet n'a pas avancé, faute de financement.",
        "Je n'ai pas réussi à engager les démarches seul.",
        "Ma situation a changé depuis, le conseil ne correspond plus.",
        "Rien de concret pour l'instant.",
    ),
}
# A multiple choice's option that excludes the others (« Rien pour l'instant »).
NOTHING = "rien"
# What changed, as weights: a clearer project right after a level, a job or a training later.
CHANGES = {False: {"projet": 4, "formation": 1, "emploi": 1}, True: {"emploi": 3, "formation": 3, "projet": 2}}  # fmt: skip


@dataclass(frozen=True)
class DrawnAnswers:
    """One person's answers, and the report's columns worked out from them."""

    answers: dict
    comment: str
    satisfied: bool | None
    useful: bool | None


class AnswerDrawer:
    """Draws answers to one questionnaire version: only its questions, only their options."""

    def __init__(self, kind: str, questions: list[dict]):
        self.utility = kind == SurveyKind.UTILITY.value
        self.questions = [Question.model_validate(q) for q in questions]
        self.measure = next((q for q in self.questions if q.measure is not None), None)
        self.values = {q.key: [o.value for o in q.options] for q in self.questions}

    def draw(self, rng: random.Random, level: int) -> DrawnAnswers:
        positive = rng.random() < (USEFUL if self.utility else SATISFIED)[level]
        answers: dict = {}
        comment = ""
        for question in self.questions:
            if not question.required and rng.random() < SKIPPED:
                continue
            values = self.values[question.key]
            if question.type == QuestionType.TEXT:
                if rng.random() < COMMENTED:
                    comment = rng.choice(COMMENTS[(self.utility, positive)])
                    answers[question.key] = comment
            elif question is self.measure:
                answers[question.key] = _scale(rng, values, question.positive, positive)
            elif question.type == QuestionType.MULTI:
                answers[question.key] = self._several(rng, values, positive)
            elif {"oui", "non"} <= set(values):
                answers[question.key] = _recommend(rng, values, positive)
            elif values:
                answers[question.key] = rng.choice(values)
        return DrawnAnswers(answers, comment, *self.columns(answers))

    def columns(self, answers: dict) -> tuple[bool | None, bool | None]:
        """(satisfied, useful) as submitting these answers records them."""
        measure = self.measure
        if measure is None or measure.key not in answers:
            return None, None
        hit = answers[measure.key] in measure.positive
        return (None, hit) if measure.measure == Measure.UTILITY else (hit, None)

    def _several(self, rng: random.Random, values: list[str], positive: bool) -> list[str]:
        others = [v for v in values if v != NOTHING]
        if NOTHING in values and (not others or rng.random() < (0.15 if positive else 0.7)):
            return [NOTHING]
        if not others:
            return []
        weights = [CHANGES[self.utility].get(v, 1) for v in others]
        picked = set(rng.choices(others, weights=weights, k=2 if rng.random() < 0.35 else 1))
        return [v for v in others if v in picked]


def _scale(rng: random.Random, values: list[str], good: list[str], positive: bool) -> str:
    """The best of its side a little more often than the other one."""
    side = [v for v in values if (v in good) == positive] or values
    return side[0] if len(side) == 1 or rng.random() < 0.55 else rng.choice(side[1:])


def _recommend(rng: random.Random, values: list[str], positive: bool) -> str:
    draw = rng.random()
    yes, unsure = (0.85, 0.12) if positive else (0.15, 0.4)
    if draw < yes:
        return "oui"
    if draw < yes + unsure and "ne_sait_pas" in values:
        return "ne_sait_pas"
    return "non"


def answer_delay(rng: random.Random, *, reminder_days: int, link_days: int) -> timedelta:
    """How long after the invitation someone answers: within a day or two for most, else in
    the days after the reminder; always before the link expires."""
    if rng.random() < ANSWERED_BEFORE_REMINDER:
        hours = min(rng.expovariate(1 / 20), reminder_days * 24 - 1)
    else:
        left = max((link_days - reminder_days) * 24 - 2, 0)
        hours = reminder_days * 24 + min(rng.expovariate(1 / 48), left)
    return timedelta(minutes=int(hours * 60) + 3)
