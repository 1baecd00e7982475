"""UO4 actions: an operator's administrators record what they fund from UO4 (« qualité du
service », « moyens et pilotage »), edit and cancel it, every change recorded with who made it;
its managers read them. Who attended a training, and for how long, shows on their staff page."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import extract
from sqlmodel import Session, col, delete, select

from app.core.dates import format_day, local_today
from app.core.db import all_or_nothing
from app.core.errors import Forbidden, Invalid, NotFound
from app.core.typography import french_euros, french_hours
from app.models.base import utcnow
from app.models.fields import french_sort_key
from app.models.nomenclatures import Role
from app.models.operators import Operator, Site
from app.models.staff import StaffUser
from app.models.uo4 import (
    Uo4Action,
    Uo4ActionEdit,
    Uo4Attendee,
    Uo4Event,
    Uo4EventKind,
    Uo4Kind,
)
from app.services.access.scope import get_owned, owned_by

READERS = frozenset({Role.OPERATOR_ADMIN, Role.MANAGER})


def reads_uo4(actor: StaffUser) -> bool:
    return actor.role in READERS and actor.operator_id is not None


def edits_uo4(actor: StaffUser) -> bool:
    return actor.role == Role.OPERATOR_ADMIN and actor.operator_id is not None


def uo4_operator(actor: StaffUser, *, edit: bool = False) -> int:
    """The actor's operator, whose UO4 actions they read (managers) or manage (admins)."""
    if not reads_uo4(actor):
        raise Forbidden(
            "Seuls les responsables et administrateur·rices de l'opérateur voient l'UO4."
        )
    if edit and not edits_uo4(actor):
        raise Forbidden("Seuls les administrateur·rices de l'opérateur enregistrent l'UO4.")
    return actor.operator_id


def this_year(*, session: Session, operator_id: int) -> int:
    return local_today(session.get(Operator, operator_id).time_zone).year


def load_action(*, session: Session, actor: StaffUser, action_id: int) -> Uo4Action:
    """An action of the actor's operator; 404 anywhere else."""
    action = get_owned(session, Uo4Action, action_id, uo4_operator(actor))
    if action is None:
        raise NotFound()
    return action


def list_actions(
    *, session: Session, operator_id: int, year: int, kind: str | None = None
) -> list[Uo4Action]:
    """The operator's actions starting in `year` (of one kind), newest first, cancelled too."""
    query = select(Uo4Action).where(
        owned_by(Uo4Action, operator_id), extract("year", Uo4Action.starts_on) == year
    )
    if kind:
        query = query.where(Uo4Action.kind == kind)
    order = (col(Uo4Action.starts_on).desc(), col(Uo4Action.id).desc())
    return list(session.exec(query.order_by(*order)))


def action_years(*, session: Session, operator_id: int, around: int) -> list[int]:
    """The years that have actions, and `around` (this year), newest first."""
    starts = session.exec(select(Uo4Action.starts_on).where(owned_by(Uo4Action, operator_id)))
    return sorted({day.year for day in starts} | {around}, reverse=True)


def offered_staff(
    session: Session, operator_id: int, held: set[int] = frozenset()
) -> list[StaffUser]:
    """Who may be named as attending: the operator's active staff, and anyone already named."""
    query = select(StaffUser).where(owned_by(StaffUser, operator_id))
    people = [user for user in session.exec(query) if user.active or user.id in held]
    return sorted(people, key=lambda user: (french_sort_key(user.full_name), user.id))


def offered_sites(session: Session, operator_id: int, held: int | None = None) -> list[Site]:
    query = select(Site).where(owned_by(Site, operator_id))
    sites = [site for site in session.exec(query) if site.active or site.id == held]
    return sorted(sites, key=lambda site: french_sort_key(site.name))


def attendees_of(session: Session, action_id: int) -> list[tuple[Uo4Attendee, StaffUser]]:
    rows = session.exec(
        select(Uo4Attendee, StaffUser)
        .join(StaffUser, col(StaffUser.id) == Uo4Attendee.staff_id)
        .where(Uo4Attendee.action_id == action_id)
    )
    return sorted(rows, key=lambda row: (french_sort_key(row[1].full_name), row[1].id))


# ---- the form's rules ---------------------------------------------------------------------


def _hours(hours: Decimal | None) -> str:
    return "—" if hours is None else french_hours(hours)


def _checked(session: Session, operator_id: int, data: Uo4ActionEdit, held_site=None):
    """The attendees as (person, hours) once every rule that spans fields holds."""
    errors: dict[str, str] = {}
    if data.ends_on is not None and data.ends_on < data.starts_on:
        errors["ends_on"] = "La date de fin précède la date de début."
    if data.site_id is not None:
        site = get_owned(session, Site, data.site_id, operator_id)
        if site is None or (not site.active and site.id != held_site):
            errors["site_id"] = "Site inconnu ou fermé."
    attendees: list[tuple[StaffUser, Decimal]] = []
    if data.kind == Uo4Kind.TRAINING:
        if data.hours is None:
            errors["hours"] = "Indiquez la durée de la formation, en heures."
        seen: set[int] = set()
        for attendee in data.attendees:
            person = get_owned(session, StaffUser, attendee.staff_id, operator_id)
            if person is None:
                errors["attendees"] = "Personne inconnue dans l'équipe de l'opérateur."
                break
            if person.id in seen:
                continue
            seen.add(person.id)
            hours = attendee.hours if attendee.hours is not None else data.hours
            if data.hours is not None and hours > data.hours:
                errors["attendees"] = (
                    f"{person.full_name} : au plus la durée de la formation ({_hours(data.hours)})."
                )
                break
            attendees.append((person, hours))
        if data.participants is not None and data.participants < len(attendees):
            errors["participants"] = (
                f"Au moins les {len(attendees)} personnes de l'équipe cochées ci-dessous."
            )
    if errors:
        raise Invalid(errors)
    return attendees


def _fill(action: Uo4Action, data: Uo4ActionEdit, attendees: list) -> None:
    training = data.kind == Uo4Kind.TRAINING
    action.kind = data.kind.value
    action.title = data.title
    action.starts_on = data.starts_on
    action.ends_on = data.ends_on
    action.amount = data.amount
    action.site_id = data.site_id
    action.description = data.description
    action.hours = data.hours if training else None
    # Blank: the staff who attended, and nobody else.
    action.participants = (data.participants or len(attendees) or None) if training else None


def _facts(session: Session, action: Uo4Action) -> dict[str, str]:
    """The action in words, field by field, as its history shows what changed."""
    site = session.get(Site, action.site_id) if action.site_id else None
    facts = {
        "Type": action.kind_label,
        "Intitulé": action.title,
        "Date": format_day(action.starts_on),
        "Fin": format_day(action.ends_on) or "—",
        "Montant": french_euros(action.amount),
        "Site": site.name if site else "aucun",
        "Description": action.description or "—",
    }
    if action.kind == Uo4Kind.TRAINING:
        people = attendees_of(session, action.id)
        facts["Durée"] = _hours(action.hours)
        facts["Participants"] = str(action.participants or 0)
        facts["Présent·es"] = (
            ", ".join(f"{person.full_name} ({_hours(row.hours)})" for row, person in people)
            or "aucun·e"
        )
    return facts


def _changes(before: dict[str, str], after: dict[str, str]) -> str:
    changed = [
        f"{name} : {before.get(name, '—')} → {value}"
        for name, value in after.items()
        if before.get(name, "—") != value
    ]
    return "\n".join(changed)[:4000]


def _record(session, action, actor, kind: Uo4EventKind, detail: str = "") -> None:
    session.add(
        Uo4Event(
            operator_id=action.operator_id,
            action_id=action.id,
            actor_id=actor.id if actor else None,
            kind=kind.value,
            detail=detail,
        )
    )


def _set_attendees(session: Session, action: Uo4Action, attendees: list) -> None:
    session.exec(delete(Uo4Attendee).where(col(Uo4Attendee.action_id) == action.id))
    session.add_all(
        Uo4Attendee(action_id=action.id, staff_id=person.id, hours=hours)
        for person, hours in attendees
    )
    session.flush()


@all_or_nothing
def create_action(*, session: Session, actor: StaffUser, data: Uo4ActionEdit) -> Uo4Action:
    """Record an action funded from UO4 (and, for a training, who attended)."""
    operator_id = uo4_operator(actor, edit=True)
    attendees = _checked(session, operator_id, data)
    action = Uo4Action(operator_id=operator_id, amount=data.amount, kind=data.kind.value)
    _fill(action, data, attendees)
    session.add(action)
    session.flush()
    _set_attendees(session, action, attendees)
    detail = "\n".join(f"{name} : {value}" for name, value in _facts(session, action).items())
    _record(session, action, actor, Uo4EventKind.CREATED, detail[:4000])
    return action


@all_or_nothing
def update_action(
    *, session: Session, actor: StaffUser, action_id: int, data: Uo4ActionEdit
) -> Uo4Action:
    uo4_operator(actor, edit=True)
    action = load_action(session=session, actor=actor, action_id=action_id)
    attendees = _checked(session, action.operator_id, data, held_site=action.site_id)
    before = _facts(session, action)
    _fill(action, data, attendees)
    session.add(action)
    _set_attendees(session, action, attendees)
    detail = _changes(before, _facts(session, action))
    if detail:
        _record(session, action, actor, Uo4EventKind.UPDATED, detail)
    return action


@all_or_nothing
def cancel_action(*, session: Session, actor: StaffUser, action_id: int) -> Uo4Action:
    """The action stays, with its history, but counts nowhere (sums, training hours)."""
    uo4_operator(actor, edit=True)
    action = load_action(session=session, actor=actor, action_id=action_id)
    if action.cancelled_at is None:
        action.cancelled_at = utcnow()
        session.add(action)
        _record(session, action, actor, Uo4EventKind.CANCELLED)
    return action


@all_or_nothing
def restore_action(*, session: Session, actor: StaffUser, action_id: int) -> Uo4Action:
    uo4_operator(actor, edit=True)
    action = load_action(session=session, actor=actor, action_id=action_id)
    if action.cancelled_at is not None:
        action.cancelled_at = None
        session.add(action)
        _record(session, action, actor, Uo4EventKind.RESTORED)
    return action


# ---- what the pages show -------------------------------------------------------------------


@dataclass
class ActionPage:
    action: Uo4Action | None  # None: a new action
    attendees: dict[int, Decimal]  # staff id -> hours
    staff: list[StaffUser]
    sites: list[Site]
    history: list[tuple[Uo4Event, str | None]]  # newest first, with who made each change
    can_edit: bool


def action_view(*, session: Session, actor: StaffUser, action_id: int | None = None) -> ActionPage:
    """The form of a new action (`action_id` None), or an action with its attendees and history."""
    operator_id = uo4_operator(actor)
    if action_id is None:
        uo4_operator(actor, edit=True)
        return ActionPage(
            None, {}, offered_staff(session, operator_id), offered_sites(session, operator_id),
            [], True,
        )  # fmt: skip
    action = load_action(session=session, actor=actor, action_id=action_id)
    attendees = {row.staff_id: row.hours for row, _ in attendees_of(session, action.id)}
    events = session.exec(
        select(Uo4Event, StaffUser.full_name)
        .outerjoin(StaffUser, col(StaffUser.id) == Uo4Event.actor_id)
        .where(Uo4Event.action_id == action.id)
        .order_by(col(Uo4Event.created_at).desc(), col(Uo4Event.id).desc())
    )
    return ActionPage(
        action=action,
        attendees=attendees,
        staff=offered_staff(session, operator_id, set(attendees)),
        sites=offered_sites(session, operator_id, action.site_id),
        history=[(event, name) for event, name in events],
        can_edit=edits_uo4(actor),
    )


@dataclass
class Trainings:
    """A staff member's UO4 trainings: the hours of `year`, and every training attended."""

    year: int
    hours_this_year: Decimal
    attended: list[tuple[Uo4Action, Decimal]]  # newest first, with the person's hours


def trainings_of(*, session: Session, member: StaffUser, today: date) -> Trainings:
    """What a staff page shows of the trainings its person attended (cancelled ones left out)."""
    rows = session.exec(
        select(Uo4Action, Uo4Attendee.hours)
        .join(Uo4Attendee, col(Uo4Attendee.action_id) == Uo4Action.id)
        .where(
            owned_by(Uo4Action, member.operator_id),
            Uo4Attendee.staff_id == member.id,
            col(Uo4Action.cancelled_at).is_(None),
        )
        .order_by(col(Uo4Action.starts_on).desc(), col(Uo4Action.id).desc())
    )
    attended = [(action, hours) for action, hours in rows]
    total = sum((h for a, h in attended if a.starts_on.year == today.year), Decimal("0"))
    return Trainings(year=today.year, hours_this_year=total, attended=attended)
