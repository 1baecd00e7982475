"""Permanences: a site's part-time presence in a partner's premises, on given weekdays and
hours between two dates, held by some of the operator's staff. Added, edited and ended from
the site's page by the operator's administrators; each change is recorded on the site."""

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, col, delete, select

from app.core.dates import local_today
from app.core.db import all_or_nothing
from app.core.errors import Invalid, NotFound
from app.models.base import utcnow
from app.models.fields import french_sort_key
from app.models.nomenclatures import CASE_ROLES
from app.models.operators import (
    Permanence,
    PermanenceEdit,
    PermanenceStaff,
    Site,
    SiteEventKind,
)
from app.models.staff import StaffUser
from app.services.access.scope import get_owned, owned_by
from app.services.admin.sites import load_site, open_site, position_of, record_site_event


class PermanenceState:
    UPCOMING = "À venir"
    RUNNING = "En cours"
    ENDED = "Terminée"


def permanence_state(permanence: Permanence, today: date) -> str:
    if permanence.ended_at is not None or (
        permanence.ends_on is not None and permanence.ends_on < today
    ):
        return PermanenceState.ENDED
    return PermanenceState.UPCOMING if permanence.starts_on > today else PermanenceState.RUNNING


def schedule_label(permanence: Permanence) -> str:
    """« lundi et jeudi, 9 h 00 – 12 h 30 »."""
    days = permanence.weekday_names
    listed = days[0] if len(days) == 1 else ", ".join(days[:-1]) + " et " + days[-1]
    return f"{listed}, {permanence.start_time:%H h %M} – {permanence.end_time:%H h %M}"


@dataclass
class PermanenceRow:
    permanence: Permanence
    state: str
    schedule: str
    holders: list[StaffUser]


def permanence_rows(*, session: Session, site: Site) -> list[PermanenceRow]:
    """The site's permanences, those still running or to come first, then by venue."""
    today = local_today(site.time_zone)
    permanences = list(session.exec(select(Permanence).where(Permanence.site_id == site.id)))
    holders = _holders(session, [permanence.id for permanence in permanences])
    rows = [
        PermanenceRow(
            permanence=permanence,
            state=permanence_state(permanence, today),
            schedule=schedule_label(permanence),
            holders=holders[permanence.id],
        )
        for permanence in permanences
    ]
    rows.sort(
        key=lambda row: (row.state == PermanenceState.ENDED, french_sort_key(row.permanence.venue))
    )
    return rows


def _holders(session: Session, permanence_ids: list[int]) -> dict[int, list[StaffUser]]:
    found: dict[int, list[StaffUser]] = {permanence_id: [] for permanence_id in permanence_ids}
    rows = session.exec(
        select(PermanenceStaff.permanence_id, StaffUser)
        .join(StaffUser, col(StaffUser.id) == PermanenceStaff.staff_id)
        .where(col(PermanenceStaff.permanence_id).in_(permanence_ids))
    )
    for permanence_id, user in rows:
        found[permanence_id].append(user)
    for users in found.values():
        users.sort(key=lambda user: french_sort_key(user.full_name))
    return found


def staff_offered(*, session: Session, site: Site) -> list[StaffUser]:
    """Who may hold a permanence: the operator's active staff who see cases."""
    staff = session.exec(
        select(StaffUser).where(
            owned_by(StaffUser, site.operator_id),
            col(StaffUser.active).is_(True),
            col(StaffUser.role).in_([role.value for role in CASE_ROLES]),
        )
    )
    return sorted(staff, key=lambda user: french_sort_key(user.full_name))


def load_permanence(
    *, session: Session, actor: StaffUser, site_id: int, permanence_id: int
) -> tuple[Site, Permanence]:
    """A permanence of a site the actor manages; 404 anywhere else."""
    site = load_site(session=session, actor=actor, site_id=site_id)
    permanence = get_owned(session, Permanence, permanence_id, site.operator_id)
    if permanence is None or permanence.site_id != site.id:
        raise NotFound()
    return site, permanence


@dataclass
class PermanencePage:
    site: Site
    permanence: Permanence | None  # None: a new one
    row: PermanenceRow | None
    staff: list[StaffUser]  # who may hold it, and anyone holding it who no longer may
    staff_ids: set[int]


def permanence_view(
    *, session: Session, actor: StaffUser, site_id: int, permanence_id: int | None = None
) -> PermanencePage:
    """The permanence form: a new permanence of the site, or the one to edit."""
    if permanence_id is None:
        site = load_site(session=session, actor=actor, site_id=site_id)
        return PermanencePage(site, None, None, staff_offered(session=session, site=site), set())
    site, permanence = load_permanence(
        session=session, actor=actor, site_id=site_id, permanence_id=permanence_id
    )
    row = next(
        row
        for row in permanence_rows(session=session, site=site)
        if row.permanence.id == permanence.id
    )
    staff = staff_offered(session=session, site=site)
    offered = {user.id for user in staff}
    staff += [user for user in row.holders if user.id not in offered]
    return PermanencePage(
        site=site,
        permanence=permanence,
        row=row,
        staff=staff,
        staff_ids={user.id for user in row.holders},
    )


def _holders_checked(session: Session, site: Site, staff_ids, held=frozenset()) -> list[StaffUser]:
    chosen = []
    offered = {user.id for user in staff_offered(session=session, site=site)}
    for staff_id in dict.fromkeys(staff_id for staff_id in staff_ids if staff_id is not None):
        if staff_id not in offered and staff_id not in held:
            raise Invalid({"staff_ids": "Personne inconnue ou inactive"})
        chosen.append(session.get(StaffUser, staff_id))
    return chosen


def _describe(permanence: Permanence, holders: list[StaffUser]) -> str:
    names = ", ".join(sorted((user.full_name for user in holders), key=french_sort_key))
    until = f" au {permanence.ends_on:%d/%m/%Y}" if permanence.ends_on else ""
    return (
        f"{permanence.venue}, {permanence.postcode} {permanence.city} : "
        f"{schedule_label(permanence)}, du {permanence.starts_on:%d/%m/%Y}{until}. "
        f"Tenue par : {names or 'personne'}"
    )


def _apply(permanence: Permanence, data: PermanenceEdit) -> None:
    position_of(data.postcode)
    permanence.venue = data.venue
    permanence.address = data.address
    permanence.postcode = data.postcode
    permanence.city = data.city
    permanence.weekdays = "".join(str(day) for day in data.weekdays)
    permanence.start_time = data.start_time
    permanence.end_time = data.end_time
    permanence.starts_on = data.starts_on
    permanence.ends_on = data.ends_on


def _set_holders(session: Session, permanence: Permanence, holders: list[StaffUser]) -> None:
    session.exec(delete(PermanenceStaff).where(col(PermanenceStaff.permanence_id) == permanence.id))
    session.add_all(
        PermanenceStaff(permanence_id=permanence.id, staff_id=user.id) for user in holders
    )
    session.flush()


@all_or_nothing
def add_permanence(
    *, session: Session, actor: StaffUser, site_id: int, data: PermanenceEdit
) -> Permanence:
    site = open_site(session=session, actor=actor, site_id=site_id)
    holders = _holders_checked(session, site, data.staff_ids)
    permanence = Permanence(operator_id=site.operator_id, site_id=site.id)
    _apply(permanence, data)
    session.add(permanence)
    session.flush()
    _set_holders(session, permanence, holders)
    record_site_event(
        session=session,
        site=site,
        actor=actor,
        kind=SiteEventKind.PERMANENCE_ADDED,
        detail=_describe(permanence, holders),
    )
    return permanence


@all_or_nothing
def update_permanence(
    *, session: Session, actor: StaffUser, site_id: int, permanence_id: int, data: PermanenceEdit
) -> Permanence:
    site, permanence = load_permanence(
        session=session, actor=actor, site_id=site_id, permanence_id=permanence_id
    )
    open_site(session=session, actor=actor, site_id=site.id)
    if permanence.ended_at is not None:
        raise Invalid({"__all__": "Cette permanence est terminée : elle ne se modifie plus."})
    held = _holders(session, [permanence.id])[permanence.id]
    holders = _holders_checked(session, site, data.staff_ids, {user.id for user in held})
    before = _describe(permanence, held)
    _apply(permanence, data)
    after = _describe(permanence, holders)
    if before == after:
        return permanence
    session.add(permanence)
    _set_holders(session, permanence, holders)
    record_site_event(
        session=session,
        site=site,
        actor=actor,
        kind=SiteEventKind.PERMANENCE_EDITED,
        detail=f"Avant : {before}. Après : {after}",
    )
    return permanence


def end_running_permanences(session: Session, site: Site) -> list[Permanence]:
    """End every permanence of the site not ended yet (when the site closes)."""
    now = utcnow()
    running = list(
        session.exec(
            select(Permanence).where(
                Permanence.site_id == site.id, col(Permanence.ended_at).is_(None)
            )
        )
    )
    for permanence in running:
        permanence.ended_at = now
        session.add(permanence)
    session.flush()
    return running


@all_or_nothing
def end_permanence(
    *, session: Session, actor: StaffUser, site_id: int, permanence_id: int
) -> Permanence:
    site, permanence = load_permanence(
        session=session, actor=actor, site_id=site_id, permanence_id=permanence_id
    )
    if permanence.ended_at is not None:
        return permanence
    permanence.ended_at = utcnow()
    session.add(permanence)
    record_site_event(
        session=session,
        site=site,
        actor=actor,
        kind=SiteEventKind.PERMANENCE_ENDED,
        detail=f"{permanence.venue}, {permanence.postcode} {permanence.city}",
    )
    return permanence
