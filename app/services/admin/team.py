"""« Équipe »: an operator's administrators (system administrators: any operator's) invite
colleagues, give them a role and sites, close and reopen their accounts; every change is
recorded (StaffEvent) and shown on the person's page. System administrators also invite France
compétences' controllers, each in a control team, and move them between teams.

Two rules keep an operator administrable: an administrator never removes their own admin
role nor closes their own account, and the last active administrator of an operator stays
one. The check reads the operator's administrators with the operator's row locked
(PostgreSQL; SQLite writes one transaction at a time), so that two administrators demoting
each other at once cannot both pass."""

from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, col, delete, select

from app.core.dates import local_today
from app.core.errors import Forbidden, Invalid, NotFound
from app.models.credentials import StaffTotp
from app.models.fields import french_sort_key
from app.models.nomenclatures import Role
from app.models.operators import Operator, Site
from app.models.staff import (
    ControllerInvitation,
    StaffEvent,
    StaffEventKind,
    StaffInvitation,
    StaffSite,
    StaffUser,
)
from app.services.access.account_links import queue_invitation, unusable_password_hash
from app.services.access.scope import get_owned, owned_by
from app.services.access.two_factor import (
    check_code,
    remove_second_factor,
    second_factor_of,
    second_factor_required,
)
from app.services.admin.staff import (
    end_browser_sessions,
    end_sessions_and_tokens,
    record_staff_event,
    revoke_api_keys,
)
from app.services.admin.uo4 import Trainings, trainings_of

MANAGERS = frozenset({Role.OPERATOR_ADMIN, Role.SYSADMIN})


def manages_staff(actor: StaffUser) -> bool:
    return actor.role in MANAGERS


def _require_manager(actor: StaffUser) -> None:
    if not manages_staff(actor):
        raise Forbidden("Seuls les administrateur·rices de l'opérateur gèrent son équipe.")


def managed_operators(*, session: Session, actor: StaffUser) -> list[Operator]:
    """The operators whose staff the actor manages: their own, or all for a sysadmin."""
    _require_manager(actor)
    query = select(Operator).order_by(Operator.code)
    if actor.role != Role.SYSADMIN:
        query = query.where(owned_by(Operator, actor.operator_id))
    return list(session.exec(query))


def _operator(session: Session, actor: StaffUser, operator_id: int | None) -> Operator:
    """The operator asked for, among those the actor manages (their own by default)."""
    operators = managed_operators(session=session, actor=actor)
    if operator_id is None:
        if not operators:
            raise NotFound("Aucun opérateur")
        return operators[0]
    chosen = next((operator for operator in operators if operator.id == operator_id), None)
    if chosen is None:
        raise NotFound()
    return chosen


def managed_operator(
    *, session: Session, actor: StaffUser, operator_id: int | None = None
) -> Operator:
    """The operator asked for among those the actor manages (their own by default); 404
    for any other."""
    return _operator(session, actor, operator_id)


def load_member(*, session: Session, actor: StaffUser, staff_id: int) -> StaffUser:
    """A staff member of an operator the actor manages; 404 anywhere else."""
    _require_manager(actor)
    if actor.role == Role.SYSADMIN:
        user = session.get(StaffUser, staff_id) if staff_id >= 1 else None
        # An operator's staff or a controller; never an observer nor a system administrator.
        managed = user is not None and (
            user.operator_id is not None or user.role == Role.CONTROLLER
        )
        found = user if managed else None
    else:
        found = get_owned(session, StaffUser, staff_id, actor.operator_id)
    if found is None:
        raise NotFound()
    return found


def _site_names(session: Session, staff_ids: list[int]) -> dict[int, list[str]]:
    rows = session.exec(
        select(StaffSite.staff_id, Site.name)
        .join(Site, col(Site.id) == StaffSite.site_id)
        .where(col(StaffSite.staff_id).in_(staff_ids))
    )
    names: dict[int, list[str]] = {staff_id: [] for staff_id in staff_ids}
    for staff_id, name in rows:
        names[staff_id].append(name)
    return {staff_id: sorted(found, key=french_sort_key) for staff_id, found in names.items()}


@dataclass
class TeamPage:
    operator: Operator
    operators: list[Operator]  # more than one for a system administrator
    members: list[tuple[StaffUser, list[str]]]  # each person and the names of their sites
    sites: list[Site]  # the operator's open sites, offered in the invitation form
    controllers: list[StaffUser]  # France compétences' controllers, for a system administrator
    control_teams: list[str]  # their teams' names, offered when inviting or moving one


def _by_state_and_name(user: StaffUser) -> tuple:
    return (not user.active, french_sort_key(user.full_name), user.id)


def team_view(*, session: Session, actor: StaffUser, operator_id: int | None = None) -> TeamPage:
    """The operator's staff, active first, then by name; for a system administrator, the
    controllers too, by team."""
    operator = _operator(session, actor, operator_id)
    members = sorted(
        session.exec(select(StaffUser).where(owned_by(StaffUser, operator.id))),
        key=_by_state_and_name,
    )
    sites = _site_names(session, [user.id for user in members])
    controllers = controllers_of(session=session, actor=actor)
    return TeamPage(
        operator=operator,
        operators=managed_operators(session=session, actor=actor),
        members=[(user, sites[user.id]) for user in members],
        sites=_open_sites(session, operator.id),
        controllers=sorted(
            controllers,
            key=lambda user: (french_sort_key(user.control_team), *_by_state_and_name(user)),
        ),
        control_teams=sorted({user.control_team for user in controllers}, key=french_sort_key),
    )


def controllers_of(*, session: Session, actor: StaffUser) -> list[StaffUser]:
    """The controllers a system administrator manages; none for an operator's administrator."""
    if actor.role != Role.SYSADMIN:
        return []
    return list(session.exec(select(StaffUser).where(StaffUser.role == Role.CONTROLLER.value)))


def _open_sites(session: Session, operator_id: int) -> list[Site]:
    query = select(Site).where(owned_by(Site, operator_id), col(Site.active).is_(True))
    return sorted(session.exec(query), key=lambda site: french_sort_key(site.name))


@dataclass
class MemberPage:
    member: StaffUser
    operator: Operator | None  # none for a controller
    sites: list[Site]  # offered: the operator's open sites, and any closed one still held
    site_ids: set[int]  # held
    events: list[tuple[StaffEvent, str | None]]  # newest first, with who made each change
    is_self: bool
    trainings: Trainings | None  # the UO4 trainings the person attended (an operator's staff)
    second_factor: StaffTotp | None  # the person's authenticator app, once confirmed
    second_factor_required: bool  # by the operator's setting, for the person's role
    actor_has_second_factor: bool  # a reset asks for a code of the administrator's own


def member_view(*, session: Session, actor: StaffUser, staff_id: int) -> MemberPage:
    member = load_member(session=session, actor=actor, staff_id=staff_id)
    held = set(session.exec(select(StaffSite.site_id).where(StaffSite.staff_id == member.id)).all())
    sites = _open_sites(session, member.operator_id) if member.operator_id else []
    offered = {site.id for site in sites}
    sites += [session.get(Site, site_id) for site_id in sorted(held - offered)]
    events = session.exec(
        select(StaffEvent, StaffUser.full_name)
        .outerjoin(StaffUser, col(StaffUser.id) == StaffEvent.actor_id)
        .where(StaffEvent.staff_id == member.id)
        .order_by(col(StaffEvent.created_at).desc(), col(StaffEvent.id).desc())
    )
    operator = session.get(Operator, member.operator_id) if member.operator_id else None
    trainings = None
    if operator is not None:
        today = local_today(operator.time_zone)
        trainings = trainings_of(session=session, member=member, today=today)
    return MemberPage(
        member=member,
        operator=operator,
        sites=sites,
        site_ids=held,
        events=[(event, name) for event, name in events],
        is_self=member.id == actor.id,
        trainings=trainings,
        second_factor=second_factor_of(session=session, user=member),
        second_factor_required=second_factor_required(session=session, user=member),
        actor_has_second_factor=second_factor_of(session=session, user=actor) is not None,
    )


def _checked_sites(session: Session, operator_id: int, site_ids, held=frozenset()) -> list[Site]:
    """The chosen sites, each an open site of the operator (or one the person already holds)."""
    chosen = []
    for site_id in dict.fromkeys(site_id for site_id in site_ids if site_id is not None):
        site = get_owned(session, Site, site_id, operator_id)
        if site is None or (not site.active and site_id not in held):
            raise Invalid({"site_ids": "Site inconnu ou fermé"})
        chosen.append(site)
    return chosen


def _sites_detail(sites: list[Site]) -> str:
    names = sorted((site.name for site in sites), key=french_sort_key)
    return "Sites : " + (", ".join(names) if names else "aucun")


def invite(*, session: Session, actor: StaffUser, data: StaffInvitation) -> StaffUser:
    """Create the account without a usable password and e-mail the invitation link."""
    operator = _operator(session, actor, data.operator_id)
    email = str(data.email).strip().lower()
    if session.exec(select(StaffUser.id).where(StaffUser.email == email)).first():
        raise Invalid({"email": "Un compte existe déjà pour cette adresse e-mail."})
    sites = _checked_sites(session, operator.id, data.site_ids)
    user = StaffUser(
        email=email,
        full_name=data.full_name,
        role=data.role,
        password_hash=unusable_password_hash(),
        operator_id=operator.id,
    )
    _add_invited(session, actor, user, _sites_detail(sites))
    session.add_all(StaffSite(staff_id=user.id, site_id=site.id) for site in sites)
    return user


def invite_controller(
    *, session: Session, actor: StaffUser, data: ControllerInvitation
) -> StaffUser:
    """A France compétences controller, in its control team (system administrators only)."""
    if actor.role != Role.SYSADMIN:
        raise Forbidden("Seule l'administration système invite les contrôleur·euses.")
    email = str(data.email).strip().lower()
    if session.exec(select(StaffUser.id).where(StaffUser.email == email)).first():
        raise Invalid({"email": "Un compte existe déjà pour cette adresse e-mail."})
    user = StaffUser(
        email=email,
        full_name=data.full_name,
        role=Role.CONTROLLER.value,
        password_hash=unusable_password_hash(),
        control_team=data.control_team,
    )
    return _add_invited(session, actor, user, f"Équipe de contrôle : {data.control_team}")


def _add_invited(session: Session, actor: StaffUser, user: StaffUser, held: str) -> StaffUser:
    """Save the new account, record the invitation and e-mail its link."""
    session.add(user)
    session.flush()
    detail = f"Rôle : {user.role_label}. {held}"
    record_staff_event(
        session=session, user=user, actor=actor, kind=StaffEventKind.INVITED, detail=detail
    )
    queue_invitation(session=session, user=user, inviter=actor)
    return user


def resend_invitation(*, session: Session, actor: StaffUser, staff_id: int) -> StaffUser:
    """A new invitation link (the earlier one stops working), while none was accepted."""
    member = load_member(session=session, actor=actor, staff_id=staff_id)
    if not member.invitation_pending or not member.active:
        raise Invalid({"__all__": "Cette personne a déjà choisi son mot de passe."})
    queue_invitation(session=session, user=member, inviter=actor)
    record_staff_event(
        session=session, user=member, actor=actor, kind=StaffEventKind.INVITATION_RESENT
    )
    return member


def _keep_an_admin(session: Session, actor: StaffUser, member: StaffUser, field: str) -> None:
    """Refuse to take away the operator's last active administrator (or the actor's own
    admin role): called before `member` stops being an active administrator."""
    if member.role != Role.OPERATOR_ADMIN or not member.active:
        return
    if member.id == actor.id:
        raise Invalid(
            {field: "Vous ne pouvez pas retirer votre propre rôle d'administrateur·rice."}
        )
    # Locked, so that a concurrent request taking away another administrator waits for this one.
    session.exec(
        select(Operator.id).where(owned_by(Operator, member.operator_id)).with_for_update()
    )
    others = session.exec(
        select(func.count()).where(
            owned_by(StaffUser, member.operator_id),
            StaffUser.role == Role.OPERATOR_ADMIN,
            col(StaffUser.active).is_(True),
            StaffUser.id != member.id,
        )
    ).one()
    if others == 0:
        raise Invalid(
            {field: "C'est le dernier administrateur·rice actif·ve de l'opérateur : nommez-en "
             "un·e autre d'abord."}
        )  # fmt: skip


def change_role(*, session: Session, actor: StaffUser, staff_id: int, role: str) -> StaffUser:
    member = load_member(session=session, actor=actor, staff_id=staff_id)
    new_role = Role(role)
    if member.operator_id is None:
        raise Invalid({"__all__": "Le rôle d'un·e contrôleur·euse ne change pas."})
    if new_role == member.role:
        return member
    if new_role != Role.OPERATOR_ADMIN:
        _keep_an_admin(session, actor, member, "role")
    detail = f"{member.role_label} → {new_role.label}"
    member.role = new_role.value
    session.add(member)
    record_staff_event(
        session=session, user=member, actor=actor, kind=StaffEventKind.ROLE_CHANGED, detail=detail
    )
    if second_factor_required(session=session, user=member) and not second_factor_of(
        session=session, user=member
    ):
        # The new role signs in with a second factor: the person enrols at their next sign-in.
        end_browser_sessions(session=session, user=member)
    return member


def change_sites(*, session: Session, actor: StaffUser, staff_id: int, site_ids) -> StaffUser:
    member = load_member(session=session, actor=actor, staff_id=staff_id)
    if member.operator_id is None:
        raise Invalid({"__all__": "Un·e contrôleur·euse ne travaille sur aucun site."})
    held = set(session.exec(select(StaffSite.site_id).where(StaffSite.staff_id == member.id)).all())
    sites = _checked_sites(session, member.operator_id, site_ids, held)
    if {site.id for site in sites} == held:
        return member
    session.exec(delete(StaffSite).where(col(StaffSite.staff_id) == member.id))
    session.add_all(StaffSite(staff_id=member.id, site_id=site.id) for site in sites)
    session.flush()
    record_staff_event(
        session=session,
        user=member,
        actor=actor,
        kind=StaffEventKind.SITES_CHANGED,
        detail=_sites_detail(sites),
    )
    return member


def change_control_team(
    *, session: Session, actor: StaffUser, staff_id: int, control_team: str
) -> StaffUser:
    """Move a controller to another team: it then reads that team's campaigns, and no longer
    those of the one it leaves (which keeps them)."""
    member = load_member(session=session, actor=actor, staff_id=staff_id)
    if member.role != Role.CONTROLLER:
        raise Invalid({"control_team": "Seuls les contrôleur·euses ont une équipe de contrôle."})
    if control_team == member.control_team:
        return member
    detail = f"{member.control_team} → {control_team}"
    member.control_team = control_team
    session.add(member)
    record_staff_event(
        session=session,
        user=member,
        actor=actor,
        kind=StaffEventKind.CONTROL_TEAM_CHANGED,
        detail=detail,
    )
    return member


def deactivate(*, session: Session, actor: StaffUser, staff_id: int) -> StaffUser:
    """Close the account: its browser sessions, API tokens and links end at once."""
    member = load_member(session=session, actor=actor, staff_id=staff_id)
    if member.id == actor.id:
        raise Invalid({"__all__": "Vous ne pouvez pas désactiver votre propre compte."})
    if not member.active:
        return member
    _keep_an_admin(session, actor, member, "__all__")
    member.active = False
    session.add(member)
    end_sessions_and_tokens(session=session, user=member)
    revoke_api_keys(session=session, user=member)
    record_staff_event(session=session, user=member, actor=actor, kind=StaffEventKind.DEACTIVATED)
    return member


def reactivate(*, session: Session, actor: StaffUser, staff_id: int) -> StaffUser:
    """Open the account again: the person signs in anew (old sessions and tokens stay ended)."""
    member = load_member(session=session, actor=actor, staff_id=staff_id)
    if member.active:
        return member
    member.active = True
    session.add(member)
    record_staff_event(session=session, user=member, actor=actor, kind=StaffEventKind.REACTIVATED)
    session.flush()
    return member


def reset_second_factor(
    *, session: Session, actor: StaffUser, staff_id: int, code: str, ip: str
) -> StaffUser:
    """Remove a colleague's authenticator app and recovery codes (a lost phone), against a
    code of the administrator's own app; the person's browser sessions end, and they enrol
    again at their next sign-in if their role requires it. A wrong code stays counted."""
    member = load_member(session=session, actor=actor, staff_id=staff_id)
    if member.id == actor.id:
        raise Invalid(
            {"reset_code": "Votre propre double authentification se gère depuis « Mon compte »."}
        )
    if second_factor_of(session=session, user=member) is None:
        raise Invalid(
            {"reset_code": "Cette personne n'a pas de double authentification à réinitialiser."}
        )
    if second_factor_of(session=session, user=actor) is None:
        raise Invalid(
            {"reset_code": "La réinitialisation demande votre propre double authentification : "
             "activez-la d'abord (page « Mon compte »)."}
        )  # fmt: skip
    try:
        check_code(session=session, user=actor, code=code, ip=ip)
    except Invalid as exc:
        raise Invalid({"reset_code": exc.fields.get("code", exc.message)}) from exc
    remove_second_factor(session=session, user=member)
    end_browser_sessions(session=session, user=member)
    record_staff_event(
        session=session,
        user=member,
        actor=actor,
        kind=StaffEventKind.TOTP_RESET,
        detail="Application d'authentification et codes de secours effacés ; sessions terminées",
    )
    return member
