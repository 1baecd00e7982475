"""« Sites »: an operator's sites and their permanences, created, edited and closed by its
administrators (system administrators: any operator's)."""

from fastapi import Request
from fastapi.responses import RedirectResponse

from app.core.errors import Invalid
from app.models.bounds import OptionalRowId, RowId
from app.models.nomenclatures import Role
from app.models.operators import (
    WEEKDAY_NAMES,
    AppointmentsOnClosing,
    PermanenceEdit,
    SiteClosing,
    SiteEdit,
    SiteMemberChoice,
)
from app.services.admin.permanences import (
    add_permanence,
    end_permanence,
    load_permanence,
    permanence_view,
    update_permanence,
)
from app.services.admin.site_closing import close_site, closing_view
from app.services.admin.site_views import site_view, sites_view
from app.services.admin.sites import (
    attach_member,
    create_site,
    detach_member,
    load_site,
    update_site,
)
from app.web.deps import CurrentStaff, SessionDep, SubmittedForm
from app.web.forms import form_errors, parse_form
from app.web.rendering import render
from app.web.routing import new_router

router = new_router(include_in_schema=False)

WEEKDAYS = list(enumerate(WEEKDAY_NAMES))
CLOSING_CHOICES = [(choice.value, choice.label) for choice in AppointmentsOnClosing]
# What the site's page says after each action (?fait=…).
DONE = {
    "cree": "Site créé.",
    "modifie": "Site enregistré.",
    "rattache": "Personne rattachée au site.",
    "detache": "Personne détachée du site.",
    "permanence": "Permanence ajoutée.",
    "permanence-modifiee": "Permanence enregistrée.",
    "permanence-terminee": "Permanence terminée.",
    "ferme": "Site fermé : il n'est plus proposé à la réservation ni dans les listes de sites.",
}


def _with_lists(form, *names: str) -> dict:
    """The form as typed; the checkbox groups come as lists."""
    return {**dict(form.items()), **{name: form.getlist(name) for name in names}}


# ---- the list ---------------------------------------------------------------------------------


def _sites_page(request, session, user, *, operator_id=None, form=None, errors=None):
    page = sites_view(session=session, actor=user, operator_id=operator_id)
    return render(
        request,
        "admin/sites/sites.html",
        {
            "page": page,
            "is_sysadmin": user.role == Role.SYSADMIN,
            "form": form or {},
            "errors": errors or {},
            "creating": bool(errors),
        },
    )


@router.get("/admin/sites")
def sites_page(
    request: Request, session: SessionDep, user: CurrentStaff, operateur: OptionalRowId = None
):
    return _sites_page(request, session, user, operator_id=operateur)


@router.post("/admin/sites")
def add_site(request: Request, session: SessionDep, user: CurrentStaff, form: SubmittedForm):
    typed = dict(form.items())
    try:
        site = create_site(session=session, actor=user, data=parse_form(SiteEdit, typed))
    except Invalid as exc:
        chosen = typed.get("operator_id")
        operator_id = int(chosen) if str(chosen or "").isdigit() else None
        return _sites_page(
            request, session, user, operator_id=operator_id, form=typed, errors=exc.fields
        )
    return RedirectResponse(f"/admin/sites/{site.id}?fait=cree", 303)


# ---- one site ---------------------------------------------------------------------------------


def _site_page(request, session, user, site_id, *, done=None, form=None, errors=None):
    page = site_view(session=session, actor=user, site_id=site_id)
    return render(
        request,
        "admin/sites/site.html",
        {
            "page": page,
            "done_message": DONE.get(done or ""),
            "form": form or {},
            "errors": errors or {},
        },
    )


@router.get("/admin/sites/{site_id}")
def site_page(
    request: Request, session: SessionDep, user: CurrentStaff, site_id: RowId, fait: str = ""
):
    return _site_page(request, session, user, site_id, done=fait)


def _act(request, session, user, site_id: int, done: str, action, form=None):
    """Run one action on the site (404 or 403 before any form error), then show the page."""
    load_site(session=session, actor=user, site_id=site_id)
    try:
        action()
    except Invalid as exc:
        return _site_page(request, session, user, site_id, form=form, errors=form_errors(exc))
    return RedirectResponse(f"/admin/sites/{site_id}?fait={done}#fait", 303)


def _edit_page(request, session, user, site_id, *, form=None, errors=None):
    page = site_view(session=session, actor=user, site_id=site_id)
    site = page.site
    typed = form or {
        "name": site.name,
        "address": site.address,
        "postcode": site.postcode,
        "city": site.city,
        "phone": page.phone,
        "accessibility": site.accessibility,
        "opening_hours": site.opening_hours,
    }
    return render(
        request,
        "admin/sites/edit.html",
        {"page": page, "form": typed, "errors": errors or {}},
    )


@router.get("/admin/sites/{site_id}/modifier")
def edit_page(request: Request, session: SessionDep, user: CurrentStaff, site_id: RowId):
    return _edit_page(request, session, user, site_id)


@router.post("/admin/sites/{site_id}/modifier")
def save_site(
    request: Request, session: SessionDep, user: CurrentStaff, site_id: RowId, form: SubmittedForm
):
    load_site(session=session, actor=user, site_id=site_id)
    typed = dict(form.items())
    try:
        data = parse_form(SiteEdit, typed)
        update_site(session=session, actor=user, site_id=site_id, data=data)
    except Invalid as exc:
        return _edit_page(request, session, user, site_id, form=typed, errors=form_errors(exc))
    return RedirectResponse(f"/admin/sites/{site_id}?fait=modifie#fait", 303)


@router.post("/admin/sites/{site_id}/rattacher")
def attach(
    request: Request, session: SessionDep, user: CurrentStaff, site_id: RowId, form: SubmittedForm
):
    typed = dict(form.items())

    def action():
        staff_id = parse_form(SiteMemberChoice, typed).staff_id
        if staff_id is None:
            raise Invalid({"staff_id": "Choisissez une personne."})
        attach_member(session=session, actor=user, site_id=site_id, staff_id=staff_id)

    return _act(request, session, user, site_id, "rattache", action, typed)


@router.post("/admin/sites/{site_id}/detacher/{staff_id}")
def detach(
    request: Request, session: SessionDep, user: CurrentStaff, site_id: RowId, staff_id: RowId
):
    def action():
        detach_member(session=session, actor=user, site_id=site_id, staff_id=staff_id)

    return _act(request, session, user, site_id, "detache", action)


# ---- permanences ------------------------------------------------------------------------------


def _permanence_page(
    request, session, user, site_id, permanence_id=None, *, form=None, errors=None
):
    """The permanence form: a new one (`permanence_id` None) or one to edit."""
    page = permanence_view(
        session=session, actor=user, site_id=site_id, permanence_id=permanence_id
    )
    permanence = page.permanence
    if form is None and permanence is None:
        form = {"weekdays": [], "staff_ids": []}
    typed = form or {
        "venue": permanence.venue,
        "address": permanence.address,
        "postcode": permanence.postcode,
        "city": permanence.city,
        "weekdays": list(permanence.weekdays),
        "start_time": f"{permanence.start_time:%H:%M}",
        "end_time": f"{permanence.end_time:%H:%M}",
        "starts_on": permanence.starts_on.isoformat(),
        "ends_on": permanence.ends_on.isoformat() if permanence.ends_on else "",
        "staff_ids": [str(staff_id) for staff_id in page.staff_ids],
    }
    return render(
        request,
        "admin/sites/permanence.html",
        {"page": page, "weekdays": WEEKDAYS, "form": typed, "errors": errors or {}},
    )


@router.get("/admin/sites/{site_id}/permanences/nouvelle")
def new_permanence_page(request: Request, session: SessionDep, user: CurrentStaff, site_id: RowId):
    return _permanence_page(request, session, user, site_id)


@router.post("/admin/sites/{site_id}/permanences")
def add_site_permanence(
    request: Request, session: SessionDep, user: CurrentStaff, site_id: RowId, form: SubmittedForm
):
    load_site(session=session, actor=user, site_id=site_id)
    typed = _with_lists(form, "weekdays", "staff_ids")
    try:
        data = parse_form(PermanenceEdit, typed)
        add_permanence(session=session, actor=user, site_id=site_id, data=data)
    except Invalid as exc:
        return _permanence_page(request, session, user, site_id, form=typed, errors=exc.fields)
    return RedirectResponse(f"/admin/sites/{site_id}?fait=permanence#fait", 303)


@router.get("/admin/sites/{site_id}/permanences/{permanence_id}")
def permanence_page(
    request: Request, session: SessionDep, user: CurrentStaff, site_id: RowId, permanence_id: RowId
):
    return _permanence_page(request, session, user, site_id, permanence_id)


@router.post("/admin/sites/{site_id}/permanences/{permanence_id}")
def save_permanence(
    request: Request,
    session: SessionDep,
    user: CurrentStaff,
    site_id: RowId,
    permanence_id: RowId,
    form: SubmittedForm,
):
    load_permanence(session=session, actor=user, site_id=site_id, permanence_id=permanence_id)
    typed = _with_lists(form, "weekdays", "staff_ids")
    try:
        data = parse_form(PermanenceEdit, typed)
        update_permanence(
            session=session, actor=user, site_id=site_id, permanence_id=permanence_id, data=data
        )
    except Invalid as exc:
        return _permanence_page(
            request, session, user, site_id, permanence_id, form=typed, errors=exc.fields
        )
    return RedirectResponse(f"/admin/sites/{site_id}?fait=permanence-modifiee#fait", 303)


@router.post("/admin/sites/{site_id}/permanences/{permanence_id}/terminer")
def end_site_permanence(
    request: Request, session: SessionDep, user: CurrentStaff, site_id: RowId, permanence_id: RowId
):
    def action():
        end_permanence(session=session, actor=user, site_id=site_id, permanence_id=permanence_id)

    return _act(request, session, user, site_id, "permanence-terminee", action)


# ---- closing ----------------------------------------------------------------------------------


def _closing_page(request, session, user, site_id, *, form=None, errors=None):
    page = closing_view(session=session, actor=user, site_id=site_id)
    return render(
        request,
        "admin/sites/close.html",
        {
            "page": page,
            "choices": CLOSING_CHOICES,
            "form": form or {},
            "errors": errors or {},
        },
    )


@router.get("/admin/sites/{site_id}/fermer")
def closing_page(request: Request, session: SessionDep, user: CurrentStaff, site_id: RowId):
    return _closing_page(request, session, user, site_id)


@router.post("/admin/sites/{site_id}/fermer")
def close(
    request: Request, session: SessionDep, user: CurrentStaff, site_id: RowId, form: SubmittedForm
):
    load_site(session=session, actor=user, site_id=site_id)
    typed = dict(form.items())
    try:
        data = parse_form(SiteClosing, typed)
        close_site(session=session, actor=user, site_id=site_id, data=data)
    except Invalid as exc:
        return _closing_page(request, session, user, site_id, form=typed, errors=exc.fields)
    return RedirectResponse(f"/admin/sites/{site_id}?fait=ferme#fait", 303)
