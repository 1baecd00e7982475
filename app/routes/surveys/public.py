"""The survey as the person asked sees it: no account, the signed link from the message, one
short page that works without JavaScript; and the opt-out link's confirmation."""

from fastapi import Request

from app.core.errors import TooManyAttempts
from app.services.admin.operator_identity import NEUTRAL_BRAND
from app.services.surveys.answers import (
    FIELD_PREFIX,
    MAX_TEXT,
    AlreadyAnswered,
    AnswersInvalid,
    OpenSurvey,
    SurveyLinkInvalid,
    open_survey,
    opt_out,
    opt_out_page,
    opt_out_path,
    save_answers,
)
from app.web.client_address import client_address
from app.web.deps import SessionDep, SubmittedForm
from app.web.rendering import render
from app.web.routing import new_router

router = new_router(prefix="/enquete", include_in_schema=False)

SUBMIT, SAVE = "envoyer", "enregistrer"


def _page(request: Request, template: str, context: dict, status_code: int = 200):
    # No staff header even for a signed-in colleague's browser: the page is the person's,
    # under the operator's name and logo (a neutral name when the link names none).
    context = {"user": None, **context}
    if "operator" not in context:
        context["brand"] = NEUTRAL_BRAND
    response = render(request, f"surveys/public/{template}", context, status_code=status_code)
    # The token is in the address: keep it out of Referer headers and search engines.
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


def _link_ended(request: Request, exc: SurveyLinkInvalid):
    context = {"message": exc.message, "status": exc.status_code}
    return _page(request, "link_ended.html", context, status_code=exc.status_code)


def _answer_page(
    request: Request, survey: OpenSurvey, token: str, *, errors=None, saved=False, status_code=200
):
    context = {
        "operator": survey.operator,
        "survey": survey,
        "token": token,
        "errors": errors or {},
        "saved": saved,
        "field_prefix": FIELD_PREFIX,
        "max_text": MAX_TEXT,
        "opt_out": opt_out_path(survey.invitation),
    }
    return _page(request, "answer.html", context, status_code=status_code)


@router.get("/{token}")
def answer_form(request: Request, session: SessionDep, token: str):
    try:
        survey = open_survey(session=session, token=token)
    except SurveyLinkInvalid as exc:
        return _link_ended(request, exc)
    except AlreadyAnswered as exc:
        return _page(request, "already_answered.html", {"operator": exc.operator})
    return _answer_page(request, survey, token)


@router.post("/{token}")
def answer(request: Request, session: SessionDep, token: str, form: SubmittedForm):
    answers = {
        name: [value if isinstance(value, str) else "" for value in form.getlist(name)]
        for name in form.keys()
    }
    submit = form.get("action") != SAVE
    try:
        survey = save_answers(
            session=session, token=token, form=answers, ip=client_address(request), submit=submit
        )
    except TooManyAttempts as exc:
        return _page(request, "too_many.html", {"message": exc.message}, status_code=429)
    except SurveyLinkInvalid as exc:
        return _link_ended(request, exc)
    except AlreadyAnswered as exc:
        return _page(request, "already_answered.html", {"operator": exc.operator})
    except AnswersInvalid as exc:
        shown = open_survey(session=session, token=token)
        shown.answers = exc.answers
        return _answer_page(request, shown, token, errors=exc.fields, status_code=422)
    if submit:
        return _page(request, "thanks.html", {"operator": survey.operator})
    return _answer_page(request, survey, token, saved=True)


@router.get("/desinscription/{token}")
def opt_out_form(request: Request, session: SessionDep, token: str):
    try:
        asked = opt_out_page(session=session, token=token)
    except SurveyLinkInvalid as exc:
        return _link_ended(request, exc)
    context = {"operator": asked.operator, "asked": asked, "token": token}
    return _page(request, "opt_out.html", context)


@router.post("/desinscription/{token}")
def confirm_opt_out(request: Request, session: SessionDep, token: str):
    try:
        done = opt_out(session=session, token=token, ip=client_address(request))
    except TooManyAttempts as exc:
        return _page(request, "too_many.html", {"message": exc.message}, status_code=429)
    except SurveyLinkInvalid as exc:
        return _link_ended(request, exc)
    return _page(request, "opted_out.html", {"operator": done.operator})
