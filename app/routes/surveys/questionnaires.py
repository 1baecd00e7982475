"""« Enquêtes »: the operator's three questionnaires, each with its versions; the editor's form
saves a new version, and rearranges its questions (add, remove, move) without JavaScript by
showing the form again, unsaved."""

from fastapi import Request
from fastapi.responses import RedirectResponse

from app.core.errors import Invalid
from app.models.bounds import OptionalRowId
from app.models.surveys import QuestionType, SurveyKind
from app.services.surveys.drafts import (
    MAX_QUESTIONS,
    POSITIVE_WORD,
    SAVE,
    read_draft,
    rearranged,
)
from app.services.surveys.editing import (
    questionnaire_view,
    questionnaires_view,
    restore_defaults,
    save_questionnaire,
    survey_kind,
)
from app.web.deps import CurrentStaff, SessionDep, SubmittedForm
from app.web.rendering import render
from app.web.routing import new_router

router = new_router(include_in_schema=False)

# What the questionnaire's page says after each action (?fait=…).
DONE = {
    "enregistree": "Nouvelle version enregistrée : les prochaines invitations la posent.",
    "inchangee": "Rien n'a changé : aucune nouvelle version.",
    "defaut": "Nouvelle version enregistrée avec les questions par défaut.",
}


@router.get("/admin/enquetes")
def questionnaires_page(
    request: Request, session: SessionDep, user: CurrentStaff, operateur: OptionalRowId = None
):
    page = questionnaires_view(session=session, actor=user, operator_id=operateur)
    return render(request, "surveys/questionnaires/list.html", {"page": page})


def _page(request, page, *, draft, done="", notice=None, errors=None):
    return render(
        request,
        "surveys/questionnaires/questionnaire.html",
        {
            "page": page,
            "edited": draft,
            "form": draft.as_form(),
            "errors": errors or {},
            "done_message": DONE.get(done),
            "notice": notice,  # (question's position or None, message) after a rearrangement
            "types": QuestionType.choices(),
            "positive_word": POSITIVE_WORD[page.measure],
            "max_questions": MAX_QUESTIONS,
            # Only a system administrator chooses the operator: the address says which.
            "query": f"?operateur={page.operator.id}" if len(page.operators) > 1 else "",
        },
    )


@router.get("/admin/enquetes/{kind}")
def questionnaire_page(
    request: Request,
    session: SessionDep,
    user: CurrentStaff,
    kind: str,
    operateur: OptionalRowId = None,
    fait: str = "",
):
    page = questionnaire_view(
        session=session, actor=user, kind=survey_kind(kind), operator_id=operateur
    )
    return _page(request, page, draft=page.draft(), done=fait)


def _back(kind: SurveyKind, operator_id: int | None, done: str) -> RedirectResponse:
    chosen = f"operateur={operator_id}&" if operator_id else ""
    return RedirectResponse(f"/admin/enquetes/{kind.value}?{chosen}fait={done}#fait", 303)


@router.post("/admin/enquetes/{kind}")
def edit_questionnaire(
    request: Request,
    session: SessionDep,
    user: CurrentStaff,
    kind: str,
    form: SubmittedForm,
    operateur: OptionalRowId = None,
):
    asked = survey_kind(kind)
    draft = read_draft(form)
    action = str(form.get("action", SAVE))
    if action != SAVE:
        page = questionnaire_view(
            session=session, actor=user, kind=asked, operator_id=operateur, edit=True
        )
        draft, where, said = rearranged(draft, action)
        return _page(request, page, draft=draft, notice=(where, said) if said else None)
    try:
        saved = save_questionnaire(
            session=session, actor=user, kind=asked, draft=draft, operator_id=operateur
        )
    except Invalid as exc:
        page = questionnaire_view(
            session=session, actor=user, kind=asked, operator_id=operateur, edit=True
        )
        if "based_on" in exc.fields:  # the next save applies the changes to the newest
            draft.based_on = str(page.current.questionnaire.version)
        return _page(request, page, draft=draft, errors=exc.fields)
    return _back(asked, operateur, "enregistree" if saved else "inchangee")


@router.post("/admin/enquetes/{kind}/defaut")
def restore_default_questions(
    request: Request,
    session: SessionDep,
    user: CurrentStaff,
    kind: str,
    operateur: OptionalRowId = None,
):
    asked = survey_kind(kind)
    saved = restore_defaults(session=session, actor=user, kind=asked, operator_id=operateur)
    return _back(asked, operateur, "defaut" if saved else "inchangee")
