"""« Équipe »: an operator's staff, invited, given a role and sites, closed and reopened, by its
administrators (system administrators: any operator's, and France compétences' controllers with
their control teams)."""

from fastapi import Request
from fastapi.responses import RedirectResponse

from app.core.errors import Invalid
from app.models.bounds import OptionalRowId, RowId
from app.models.nomenclatures import Role
from app.models.staff import (
    TEAM_ROLES,
    ControllerInvitation,
    ControlTeamEdit,
    StaffInvitation,
    StaffRoleEdit,
    StaffSitesEdit,
)
from app.services.admin.team import (
    change_control_team,
    change_role,
    change_sites,
    deactivate,
    invite,
    invite_controller,
    load_member,
    member_view,
    reactivate,
    resend_invitation,
    reset_second_factor,
    team_view,
)
from app.web.client_address import client_address
from app.web.deps import CurrentStaff, SessionDep, SubmittedForm
from app.web.forms import form_errors, parse_form
from app.web.rendering import render
from app.web.routing import new_router

router = new_router(include_in_schema=False)

ROLE_CHOICES = [(role.value, role.label) for role in TEAM_ROLES]
# What the person's page says after each action (?fait=…).
DONE = {
    "invitation": "Invitation envoyée.",
    "role": "Rôle enregistré.",
    "sites": "Sites enregistrés.",
    "equipe-de-controle": "Équipe de contrôle enregistrée.",
    "desactive": "Compte désactivé : ses sessions et jetons d'API ont pris fin.",
    "reactive": "Compte réactivé.",
    "double-authentification": "Double authentification réinitialisée : ses sessions ont pris "
    "fin, et elle l'activera de nouveau à sa prochaine connexion si son rôle l'impose.",
}


def _team_page(
    request, session, user, *, operator_id=None, form=None, errors=None, invited="colleague"
):
    """The team page; `invited` names the invitation form the errors belong to (« colleague »
    or « controller »), the other one showing empty."""
    page = team_view(session=session, actor=user, operator_id=operator_id)
    colleague = invited == "colleague"
    return render(
        request,
        "admin/team/team.html",
        {
            "page": page,
            "roles": ROLE_CHOICES,
            "is_sysadmin": user.role == Role.SYSADMIN,
            "form": (colleague and form) or {"role": Role.COUNSELLOR.value, "site_ids": []},
            "errors": (colleague and errors) or {},
            "inviting": colleague and bool(errors),
            "controller_form": (not colleague and form) or {},
            "controller_errors": (not colleague and errors) or {},
        },
    )


@router.get("/admin/equipe")
def team_page(
    request: Request, session: SessionDep, user: CurrentStaff, operateur: OptionalRowId = None
):
    return _team_page(request, session, user, operator_id=operateur)


def _submitted(form) -> dict:
    """The form as typed; the site checkboxes come as a list."""
    return {**dict(form.items()), "site_ids": form.getlist("site_ids")}


@router.post("/admin/equipe")
def invite_colleague(
    request: Request, session: SessionDep, user: CurrentStaff, form: SubmittedForm
):
    typed = _submitted(form)
    try:
        member = invite(session=session, actor=user, data=parse_form(StaffInvitation, typed))
    except Invalid as exc:
        chosen = typed.get("operator_id")
        operator_id = int(chosen) if str(chosen or "").isdigit() else None
        return _team_page(
            request, session, user, operator_id=operator_id, form=typed, errors=exc.fields
        )
    return RedirectResponse(f"/admin/equipe/{member.id}?fait=invitation", 303)


@router.post("/admin/equipe/controleurs")
def invite_controller_page(
    request: Request, session: SessionDep, user: CurrentStaff, form: SubmittedForm
):
    typed = dict(form.items())
    try:
        data = parse_form(ControllerInvitation, typed)
        member = invite_controller(session=session, actor=user, data=data)
    except Invalid as exc:
        return _team_page(
            request, session, user, form=typed, errors=exc.fields, invited="controller"
        )
    return RedirectResponse(f"/admin/equipe/{member.id}?fait=invitation", 303)


def _member_page(request, session, user, staff_id, *, done=None, form=None, errors=None):
    page = member_view(session=session, actor=user, staff_id=staff_id)
    return render(
        request,
        "admin/team/member.html",
        {
            "page": page,
            "roles": ROLE_CHOICES,
            "done_message": DONE.get(done or ""),
            "form": form or {"role": page.member.role},
            "errors": errors or {},
        },
    )


@router.get("/admin/equipe/{staff_id}")
def member_page(
    request: Request, session: SessionDep, user: CurrentStaff, staff_id: RowId, fait: str = ""
):
    return _member_page(request, session, user, staff_id, done=fait)


def _act(request, session, user, staff_id: int, done: str, action, form=None):
    """Run one action on the person (404 or 403 before any form error), then show the page."""
    load_member(session=session, actor=user, staff_id=staff_id)
    try:
        action()
    except Invalid as exc:
        return _member_page(request, session, user, staff_id, form=form, errors=form_errors(exc))
    return RedirectResponse(f"/admin/equipe/{staff_id}?fait={done}#fait", 303)


@router.post("/admin/equipe/{staff_id}/role")
def save_role(
    request: Request, session: SessionDep, user: CurrentStaff, staff_id: RowId, form: SubmittedForm
):
    typed = dict(form.items())

    def action():
        role = parse_form(StaffRoleEdit, typed).role
        change_role(session=session, actor=user, staff_id=staff_id, role=role)

    return _act(request, session, user, staff_id, "role", action, typed)


@router.post("/admin/equipe/{staff_id}/equipe-de-controle")
def save_control_team(
    request: Request, session: SessionDep, user: CurrentStaff, staff_id: RowId, form: SubmittedForm
):
    typed = dict(form.items())

    def action():
        team = parse_form(ControlTeamEdit, typed).control_team
        change_control_team(session=session, actor=user, staff_id=staff_id, control_team=team)

    return _act(request, session, user, staff_id, "equipe-de-controle", action, typed)


@router.post("/admin/equipe/{staff_id}/sites")
def save_sites(
    request: Request, session: SessionDep, user: CurrentStaff, staff_id: RowId, form: SubmittedForm
):
    typed = _submitted(form)

    def action():
        site_ids = parse_form(StaffSitesEdit, typed).site_ids
        change_sites(session=session, actor=user, staff_id=staff_id, site_ids=site_ids)

    return _act(request, session, user, staff_id, "sites", action)


@router.post("/admin/equipe/{staff_id}/desactiver")
def close_account(request: Request, session: SessionDep, user: CurrentStaff, staff_id: RowId):
    def action():
        deactivate(session=session, actor=user, staff_id=staff_id)

    return _act(request, session, user, staff_id, "desactive", action)


@router.post("/admin/equipe/{staff_id}/reactiver")
def reopen_account(request: Request, session: SessionDep, user: CurrentStaff, staff_id: RowId):
    def action():
        reactivate(session=session, actor=user, staff_id=staff_id)

    return _act(request, session, user, staff_id, "reactive", action)


@router.post("/admin/equipe/{staff_id}/invitation")
def send_invitation_again(
    request: Request, session: SessionDep, user: CurrentStaff, staff_id: RowId
):
    def action():
        resend_invitation(session=session, actor=user, staff_id=staff_id)

    return _act(request, session, user, staff_id, "invitation", action)


@router.post("/admin/equipe/{staff_id}/double-authentification")
def reset_colleague_second_factor(
    request: Request, session: SessionDep, user: CurrentStaff, staff_id: RowId, form: SubmittedForm
):
    """A colleague's lost phone: their second factor goes, against the admin's own code (a
    wrong one stays counted: the page is answered, not raised)."""

    def action():
        reset_second_factor(
            session=session,
            actor=user,
            staff_id=staff_id,
            code=str(form.get("reset_code", "")),
            ip=client_address(request),
        )

    return _act(request, session, user, staff_id, "double-authentification", action)
