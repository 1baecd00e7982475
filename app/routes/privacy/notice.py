"""« Mentions d'information »: what each operator does with personal data and how to exercise
one's rights, public, without personal data, written from the operator's settings."""

from fastapi import Request

from app.models.fields import OperatorCode
from app.services.admin.operator_identity import NEUTRAL_BRAND
from app.services.privacy.register import notice_index, public_notice
from app.web.deps import SessionDep
from app.web.rendering import render
from app.web.routing import new_router

router = new_router(prefix="/mentions-information", include_in_schema=False)


@router.get("")
def notice_list(request: Request, session: SessionDep):
    operators = notice_index(session=session)
    context = {"user": None, "operators": operators, "brand": NEUTRAL_BRAND}
    return render(request, "privacy/index.html", context)


@router.get("/{code}")
def notice_page(request: Request, session: SessionDep, code: OperatorCode):
    notice = public_notice(session=session, code=code)
    context = {"user": None, "notice": notice, "operator": notice.operator}
    return render(request, "privacy/notice.html", context)
