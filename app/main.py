"""create_app(): logging, routers, middleware, static files and error pages."""

from pathlib import Path
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.core.errors import DomainError, Invalid
from app.core.logging import configure_logging, current_request_id
from app.core.validation import french_message
from app.routes.access import account, auth, passwords, second_step
from app.routes.access import api_clients as client_tokens
from app.routes.admin import api_clients as admin_api_clients
from app.routes.admin import identity as admin_identity
from app.routes.admin import index as admin_index
from app.routes.admin import journal, markets, security, sites, team, uo4
from app.routes.admin import operators as admin_operators
from app.routes.admin import privacy as privacy_admin
from app.routes.admin import rights as admin_rights
from app.routes.booking import appointment_links, availability, calendar, public_api
from app.routes.booking import entry as booking_entry
from app.routes.booking import online as booking
from app.routes.booking import waiting_list as booking_waiting_list
from app.routes.cases import api, beneficiaries, read_reasons, triage
from app.routes.control import api as control_api
from app.routes.control import campaigns as control
from app.routes.control import official, proofs, review, submission
from app.routes.deliverables import action_plan, attachments, case_file, dms_feed
from app.routes.deliverables import archives as deliverable_archives
from app.routes.deliverables import documents as deliverables
from app.routes.deliverables import shared_documents as documents
from app.routes.desk import case_page as cases
from app.routes.desk import home
from app.routes.messaging import messages, notifications
from app.routes.messaging import sms as sms_links
from app.routes.personal_space import pages as personal_space
from app.routes.privacy import notice as privacy_notice
from app.routes.referrals import partners, referrals
from app.routes.reports import activity, feed, indicators, ledger, national
from app.routes.surveys import public as survey_answers
from app.routes.surveys import questionnaires as survey_questionnaires
from app.routes.surveys import results as survey_results
from app.routes.system import api_docs, health, metrics
from app.services.audit.outside_reads import ReasonRequired
from app.web.api_errors import with_exact_errors
from app.web.audit import AuditOrigin
from app.web.deps import LoginRequired, verify_csrf
from app.web.export_purpose import PurposeNeeded, purpose_form
from app.web.middleware import RequestLog, SecurityHeaders, wants_json
from app.web.outside_reads import reason_required
from app.web.rendering import is_htmx, render
from app.web.routing import allowed_methods
from app.web.serving import freeze_startup

STATIC_DIR = Path(__file__).parent / "static"


def create_app() -> FastAPI:
    # Here as well as in the `filrouge` command: a server given `app.main:app` (uvicorn's
    # worker processes, a test) imports the app without it.
    configure_logging()
    app = FastAPI(
        title="Fil rouge",
        summary="Suivi des dossiers du conseil en évolution professionnelle (CEP)",
        version="0.1.0",
        dependencies=[Depends(verify_csrf)],
        # Served by app/routes/system/api_docs.py, from vendored files and to FILROUGE_API_DOCS readers.
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    # Routes are matched in this order, one by one: the public booking, where the traffic
    # peaks come from, first; then the pages counsellors use all day.
    for router in (
        public_api.router,
        booking.router,
        booking_entry.router,
        appointment_links.router,
        booking_waiting_list.router,
        personal_space.router,
        sms_links.router,
        health.router,
        metrics.router,
        auth.router,
        client_tokens.router,
        second_step.router,
        passwords.router,
        home.router,
        triage.router,
        beneficiaries.router,
        read_reasons.router,
        cases.router,
        action_plan.router,
        messages.router,
        notifications.router,
        proofs.router,
        partners.router,
        referrals.router,
        attachments.router,
        case_file.router,
        api.router,
        availability.router,
        admin_index.router,
        admin_operators.router,
        team.router,
        sites.router,
        markets.router,
        uo4.router,
        security.router,
        admin_rights.router,
        journal.router,
        privacy_admin.router,
        admin_identity.router,
        admin_api_clients.router,
        privacy_notice.router,
        survey_questionnaires.router,
        account.router,
        deliverables.router,
        deliverables.api_router,
        dms_feed.api_router,
        documents.router,
        deliverable_archives.router,
        survey_answers.router,
        calendar.router,
        activity.router,
        activity.api_router,
        ledger.router,
        ledger.api_router,
        control.router,
        control_api.api_router,
        official.router,
        submission.router,
        review.router,
        national.router,
        national.api_router,
        indicators.api_router,
        feed.api_router,
        survey_results.router,
        survey_results.api_router,
        api_docs.router,
    ):
        app.include_router(router)

    app.add_middleware(AuditOrigin)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(RequestLog)  # added last: the outermost, it times and sees everything
    app.openapi = with_exact_errors(app.openapi)  # type: ignore[method-assign]

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, _exc: LoginRequired) -> Response:
        if wants_json(request):
            return JSONResponse(
                {"detail": "Authentification requise"},
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        # Quoted: an address may hold any character, a header only Latin-1.
        target = f"/login?next={quote(request.url.path, safe='/')}"
        if is_htmx(request):
            return Response(status_code=204, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)

    # A plain function, run in the thread pool: it names a service's exception.
    app.add_exception_handler(ReasonRequired, reason_required)  # type: ignore[arg-type]

    @app.exception_handler(PurposeNeeded)
    async def purpose_needed(request: Request, exc: PurposeNeeded) -> Response:
        if wants_json(request):
            body = {"detail": exc.message, "fields": exc.fields}
            return JSONResponse(body, status_code=exc.status_code)
        return purpose_form(request, exc)

    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError) -> Response:
        if wants_json(request):
            body = {"detail": exc.message}
            if isinstance(exc, Invalid):
                body["fields"] = exc.fields
            return JSONResponse(body, status_code=exc.status_code)
        fields = exc.fields if isinstance(exc, Invalid) else {}
        context = {"status": exc.status_code, "message": exc.message, "errors": fields}
        if exc.status_code >= 500:  # the server's side (PDF unavailable): a reference to quote
            context["request_id"] = current_request_id()
        return render(request, "errors/error.html", context, status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        fields, shown = {}, {}
        for error in exc.errors():
            location = [str(part) for part in error["loc"] if part not in ("body", "query", "path")]
            name, message = ".".join(location) or "body", french_message(error)
            fields.setdefault(name, message)
            # A page names a path parameter for what it is to the person: the address followed.
            shown.setdefault("adresse" if error["loc"][:1] == ("path",) else name, message)
        if wants_json(request):
            return JSONResponse(
                {"detail": "Certaines informations sont à corriger", "fields": fields},
                status_code=422,
            )
        return render(
            request,
            "errors/error.html",
            {"status": 422, "message": "Adresse ou formulaire invalide.", "errors": shown},
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        messages = {404: "Page introuvable", 405: "Méthode non autorisée"}
        message = messages.get(exc.status_code, str(exc.detail))
        headers = dict(exc.headers or {})
        if exc.status_code == 405:  # RFC 9110: a 405 lists the methods the address takes
            headers["Allow"] = allowed_methods(request)
        if wants_json(request):
            return JSONResponse({"detail": message}, status_code=exc.status_code, headers=headers)
        response = render(
            request,
            "errors/error.html",
            {"status": exc.status_code, "message": message},
            status_code=exc.status_code,
        )
        response.headers.update(headers)
        return response

    return app


app = create_app()
freeze_startup()
