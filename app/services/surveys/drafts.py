"""A questionnaire as its editor's form holds it (a draft): read from the form or from a saved
version, rearranged without saving (a question added, removed, moved), then checked into the
questions a new version keeps, with a French message by each field that is wrong."""

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from app.core.errors import Invalid
from app.models.surveys import Measure, Option, Question, QuestionType, SurveyKind
from app.models.surveys import SurveyQuestionnaire as Questionnaire

MAX_QUESTIONS = 20
MAX_OPTIONS = 12
TITLE_MAX = 200
INTRO_MAX = 2000
LABEL_MAX = 300
HELP_MAX = 500
OPTION_MAX = 150
CODE_MAX = 40

# The figure each questionnaire gives the reports, and what a positive answer to it is called.
MEASURE_OF = {
    SurveyKind.END_LEVEL_1: Measure.SATISFACTION,
    SurveyKind.END_LEVEL_2: Measure.SATISFACTION,
    SurveyKind.UTILITY: Measure.UTILITY,
}
POSITIVE_WORD = {Measure.SATISFACTION: "satisfait·e", Measure.UTILITY: "utile"}
# One answer only: the only kinds of question a share of people can be counted on.
MEASURABLE = frozenset({QuestionType.SCALE, QuestionType.CHOICE})
WITH_OPTIONS = MEASURABLE | {QuestionType.MULTI}
SAVE = "enregistrer"


def code_of(text: str, limit: int = CODE_MAX) -> str:
    """A stable code from a label: « Très satisfait·e » → « tres_satisfait_e »."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    code = re.sub(r"[^a-z0-9]+", "_", plain).strip("_")
    if len(code) > limit:
        code = code[:limit].rsplit("_", 1)[0] or code[:limit]
    return code.strip("_")


def _line(text: str) -> str:
    """One line of text as typed, its spaces collapsed and no NUL."""
    return " ".join(text.replace("\x00", "").split())


@dataclass
class QuestionDraft:
    key: str = ""
    label: str = ""
    help: str = ""
    type: str = QuestionType.CHOICE.value
    required: bool = False
    options: str = ""  # one answer a line: « libellé », or « code | libellé »

    @property
    def has_options(self) -> bool:
        return self.type in {kind.value for kind in WITH_OPTIONS}

    def typed_options(self) -> list[tuple[int, str, str]]:
        """(line number, code as typed, label) of each line that is not blank."""
        rows = []
        for number, line in enumerate(self.options.replace("\x00", "").splitlines(), start=1):
            code, bar, label = line.partition("|")
            if not bar:
                code, label = "", code
            if _line(code) or _line(label):
                rows.append((number, code_of(code), _line(label)))
        return rows

    def answer_options(self) -> list[Option]:
        """The answers as they would be saved: a code for each, taken from its label if none
        was typed, never twice the same."""
        taken = {code for _, code, _ in self.typed_options() if code}
        options = []
        for _, code, label in self.typed_options():
            if not code:
                code = _unique(code_of(label, CODE_MAX - 3) or "reponse", taken)
                taken.add(code)
            options.append(Option(value=code, label=label))
        return options


@dataclass
class Draft:
    title: str = ""
    intro: str = ""
    questions: list[QuestionDraft] = field(default_factory=list)
    measure: str = ""  # the position (from 0) of the question that gives the figure
    positive: list[str] = field(default_factory=list)
    based_on: str = ""  # the version the form was opened on

    def measured(self) -> QuestionDraft | None:
        index = int(self.measure) if self.measure.isdigit() else -1
        return self.questions[index] if 0 <= index < len(self.questions) else None

    def question_choices(self) -> list[tuple[str, str]]:
        """The questions as the choice of the measured one lists them."""
        choices = []
        for i, question in enumerate(self.questions):
            label = _line(question.label) or "(sans texte)"
            short = label if len(label) <= 70 else label[:69].rstrip() + "…"
            choices.append((str(i), f"Question {i + 1} — {short}"))
        return choices

    def as_form(self) -> dict:
        """The flat form the template's fields read, named as they are sent back."""
        typed = {
            "title": self.title,
            "intro": self.intro,
            "measure": self.measure,
            "positive": self.positive,
            "based_on": self.based_on,
        }
        for i, question in enumerate(self.questions):
            typed |= {
                f"q{i}-key": question.key,
                f"q{i}-label": question.label,
                f"q{i}-help": question.help,
                f"q{i}-type": question.type,
                f"q{i}-required": "1" if question.required else "",
                f"q{i}-options": question.options,
            }
        return typed


def _unique(code: str, taken: set[str]) -> str:
    found, n = code, 2
    while found in taken:
        found, n = f"{code}_{n}", n + 1
    return found


def draft_of(questionnaire: Questionnaire, kind: SurveyKind) -> Draft:
    """A saved version, as its form shows it."""
    questions = questionnaire.parsed_questions()
    measured = [i for i, q in enumerate(questions) if q.measure == MEASURE_OF[kind]]
    return Draft(
        title=questionnaire.title,
        intro=questionnaire.intro,
        questions=[
            QuestionDraft(
                key=q.key,
                label=q.label,
                help=q.help,
                type=q.type.value,
                required=q.required,
                options="\n".join(f"{o.value} | {o.label}" for o in q.options),
            )
            for q in questions
        ],
        measure=str(measured[0]) if measured else "",
        positive=list(questions[measured[0]].positive) if measured else [],
        based_on=str(questionnaire.version),
    )


def read_draft(form: Mapping) -> Draft:
    """The form as sent, whatever it holds: each question block is there by its type field."""
    questions = [
        QuestionDraft(
            key=str(form.get(f"q{i}-key", ""))[:200],
            label=str(form.get(f"q{i}-label", ""))[:2000],
            help=str(form.get(f"q{i}-help", ""))[:2000],
            type=str(form.get(f"q{i}-type", "")),
            required=form.get(f"q{i}-required", "") not in ("", "0"),
            options=str(form.get(f"q{i}-options", ""))[:10000],
        )
        for i in range(MAX_QUESTIONS + 1)
        if f"q{i}-type" in form
    ]
    positive = form.getlist("positive") if hasattr(form, "getlist") else form.get("positive", [])
    return Draft(
        title=str(form.get("title", ""))[:2000],
        intro=str(form.get("intro", ""))[:10000],
        questions=questions,
        measure=str(form.get("measure", "")),
        positive=[str(value) for value in positive][:MAX_OPTIONS],
        based_on=str(form.get("based_on", "")),
    )


# ---- rearranging without saving ------------------------------------------------------------


def rearranged(draft: Draft, action: str) -> tuple[Draft, int | None, str]:
    """The draft after « ajouter », « retirer-N », « monter-N » or « descendre-N »: the form
    shown again, with where the change happened and what to tell the person there."""
    verb, _, number = action.partition("-")
    questions = list(draft.questions)
    measure = draft.measured()
    if verb == "ajouter":
        if len(questions) >= MAX_QUESTIONS:
            return draft, None, f"{MAX_QUESTIONS} questions au plus : retirez-en une d'abord."
        questions.append(QuestionDraft())
        moved, said = len(questions) - 1, f"Question {len(questions)} ajoutée : écrivez-la."
    elif number.isdigit() and int(number) < len(questions):
        index = int(number)
        if verb == "retirer":
            del questions[index]
            moved, said = min(index, len(questions) - 1), f"Question {index + 1} retirée."
        elif verb in ("monter", "descendre"):
            to = index - 1 if verb == "monter" else index + 1
            if not 0 <= to < len(questions):
                return draft, index, "Cette question est déjà à cette place."
            questions[index], questions[to] = questions[to], questions[index]
            moved, said = to, f"Question déplacée : elle est maintenant la question {to + 1}."
        else:
            return draft, None, ""
    elif verb == "actualiser":
        return draft, None, "Formulaire actualisé : rien n'est enregistré pour l'instant."
    else:
        return draft, None, ""
    kept = next((str(i) for i, q in enumerate(questions) if q is measure), "")
    changed = replace(draft, questions=questions, measure=kept)
    return changed, (moved if moved >= 0 else None), f"{said} Rien n'est enregistré pour l'instant."


# ---- checking ------------------------------------------------------------------------------


def _too_long(text: str, limit: int) -> str | None:
    return f"{limit} caractères au plus ({len(text)} ici)." if len(text) > limit else None


def _checked_options(
    i: int, question: QuestionDraft, kind: QuestionType, errors: dict
) -> list[Option]:
    name = f"q{i}-options"
    rows = question.typed_options()
    if kind not in WITH_OPTIONS:
        if rows:
            errors[name] = (
                "Une question à texte libre n'a pas de réponses à choisir : videz cette liste "
                "ou changez le type."
            )
        return []
    problems = [f"ligne {n} : le libellé manque" for n, _, label in rows if not label]
    problems += [
        f"ligne {n} : {OPTION_MAX} caractères au plus"
        for n, _, lab in rows
        if len(lab) > OPTION_MAX
    ]
    options = question.answer_options()
    seen: dict[str, int] = {}
    for (n, _, _), option in zip(rows, options, strict=True):
        if option.value in seen:
            problems.append(f"lignes {seen[option.value]} et {n} : même code « {option.value} »")
        seen.setdefault(option.value, n)
    if problems:
        errors[name] = "À corriger : " + " ; ".join(problems) + "."
    elif len(options) < 2:
        errors[name] = "Proposez au moins deux réponses, une par ligne."
    elif len(options) > MAX_OPTIONS:
        errors[name] = f"{MAX_OPTIONS} réponses au plus ({len(options)} ici)."
    return options


def _checked_measure(draft: Draft, kind: SurveyKind, questions: list[Question], errors: dict):
    measure = MEASURE_OF[kind]
    index = int(draft.measure) if draft.measure.isdigit() else -1
    if not 0 <= index < len(questions):
        errors["measure"] = (
            f"Choisissez la question qui donne le chiffre « {measure.label.lower()} » du rapport."
        )
        return
    question = questions[index]
    if question.type not in MEASURABLE:
        errors["measure"] = (
            "La question qui donne le chiffre doit être à une seule réponse : "
            "« Échelle » ou « Choix unique »."
        )
        return
    if not question.required:
        errors["measure"] = (
            f"La question qui donne le chiffre doit être obligatoire : cochez « Réponse "
            f"obligatoire » à la question {index + 1}."
        )
        return
    word = POSITIVE_WORD[measure]
    values = [option.value for option in question.options]
    positive = [value for value in values if value in draft.positive]
    if any(value not in values for value in draft.positive):
        errors["positive"] = (
            "Les réponses de cette question ont changé : cochez à nouveau celles qui comptent "
            f"comme « {word} »."
        )
    elif not positive:
        errors["positive"] = f"Cochez au moins une réponse qui compte comme « {word} »."
    elif len(positive) == len(values):
        errors["positive"] = (
            f"Au moins une réponse doit compter comme « pas {word} » : sinon le chiffre "
            "vaudrait toujours 100 %."
        )
    else:
        questions[index] = question.model_copy(update={"measure": measure, "positive": positive})


def checked(draft: Draft, kind: SurveyKind) -> tuple[str, str, list[Question]]:
    """The title, introduction and questions a new version keeps; Invalid with a French
    message by each field that is wrong."""
    errors: dict[str, str] = {}
    title = _line(draft.title)
    intro = draft.intro.replace("\x00", "").strip()
    if not title:
        errors["title"] = "Donnez un titre au questionnaire : la personne le lit en premier."
    elif message := _too_long(title, TITLE_MAX):
        errors["title"] = message
    if message := _too_long(intro, INTRO_MAX):
        errors["intro"] = message
    if not draft.questions:
        errors["questions"] = "Le questionnaire garde au moins une question : ajoutez-en une."
    elif len(draft.questions) > MAX_QUESTIONS:
        errors["questions"] = f"{MAX_QUESTIONS} questions au plus."
    typed_keys = [code_of(q.key) for q in draft.questions]
    taken = {key for key in typed_keys if key}
    questions: list[Question] = []
    for i, question in enumerate(draft.questions[:MAX_QUESTIONS]):
        label, help_text = _line(question.label), _line(question.help)
        if not label:
            errors[f"q{i}-label"] = "Écrivez la question."
        elif message := _too_long(label, LABEL_MAX):
            errors[f"q{i}-label"] = message
        if message := _too_long(help_text, HELP_MAX):
            errors[f"q{i}-help"] = message
        key = typed_keys[i]
        if key and key in typed_keys[:i]:
            errors[f"q{i}-key"] = (
                f"Ce code est déjà celui de la question {typed_keys.index(key) + 1}."
            )
        elif not key:
            key = _unique(code_of(label, CODE_MAX - 3) or f"question_{i + 1}", taken)
            taken.add(key)
        try:
            kind_asked = QuestionType(question.type)
        except ValueError:
            errors[f"q{i}-type"] = "Choisissez un type de question."
            continue
        options = _checked_options(i, question, kind_asked, errors)
        questions.append(
            Question(
                key=key,
                type=kind_asked,
                label=label,
                help=help_text,
                required=question.required,
                options=options,
            )
        )
    if len(questions) == len(draft.questions):
        _checked_measure(draft, kind, questions, errors)
    if errors:
        raise Invalid(errors)
    return title, intro, questions
