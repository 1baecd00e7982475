"""What the « Sites » pages show: the operator's sites, and one site with its people, its
permanences and the record of its changes."""

from dataclasses import dataclass

from sqlmodel import Session, col, select

from app.models.fields import display_phone, french_sort_key
from app.models.operators import Operator, Permanence, Site, SiteEvent
from app.models.staff import StaffSite, StaffUser
from app.services.access.scope import owned_by
from app.services.admin.permanences import PermanenceRow, permanence_rows
from app.services.admin.sites import load_site, managed_operator
from app.services.admin.team import managed_operators
from app.services.booking.geography import postcode_position


@dataclass
class SitesPage:
    operator: Operator
    operators: list[Operator]  # more than one for a system administrator
    # Each site with how many people are attached and how many permanences run from it.
    sites: list[tuple[Site, int, int]]


def sites_view(*, session: Session, actor: StaffUser, operator_id: int | None = None) -> SitesPage:
    """The operator's sites, open first, then by name."""
    operator = managed_operator(session, actor, operator_id)
    sites = list(session.exec(select(Site).where(owned_by(Site, operator.id))))
    sites.sort(key=lambda site: (not site.active, french_sort_key(site.name), site.id))
    ids = [site.id for site in sites]
    people = session.exec(
        select(StaffSite.site_id)
        .join(StaffUser, col(StaffUser.id) == StaffSite.staff_id)
        .where(col(StaffSite.site_id).in_(ids), col(StaffUser.active).is_(True))
    ).all()
    running = session.exec(
        select(Permanence.site_id).where(
            col(Permanence.site_id).in_(ids), col(Permanence.ended_at).is_(None)
        )
    ).all()
    return SitesPage(
        operator=operator,
        operators=managed_operators(session=session, actor=actor),
        sites=[(site, people.count(site.id), running.count(site.id)) for site in sites],
    )


@dataclass
class SitePage:
    site: Site
    operator: Operator
    position: tuple[float, float] | None
    phone: str  # national form
    members: list[StaffUser]  # attached, active first, then by name
    # The operator's active staff not attached yet, offered by « Rattacher ».
    others: list[StaffUser]
    permanences: list[PermanenceRow]
    events: list[tuple[SiteEvent, str | None]]  # newest first, with who made each change


def site_view(*, session: Session, actor: StaffUser, site_id: int) -> SitePage:
    site = load_site(session=session, actor=actor, site_id=site_id)
    staff = list(session.exec(select(StaffUser).where(owned_by(StaffUser, site.operator_id))))
    held = set(session.exec(select(StaffSite.staff_id).where(StaffSite.site_id == site.id)).all())
    staff.sort(key=lambda user: (not user.active, french_sort_key(user.full_name), user.id))
    events = session.exec(
        select(SiteEvent, StaffUser.full_name)
        .outerjoin(StaffUser, col(StaffUser.id) == SiteEvent.actor_id)
        .where(SiteEvent.site_id == site.id)
        .order_by(col(SiteEvent.created_at).desc(), col(SiteEvent.id).desc())
    )
    return SitePage(
        site=site,
        operator=session.get(Operator, site.operator_id),
        position=postcode_position(site.postcode),
        phone=display_phone(site.phone),
        members=[user for user in staff if user.id in held],
        others=[user for user in staff if user.id not in held and user.active],
        permanences=permanence_rows(session=session, site=site),
        events=[(event, name) for event, name in events],
    )
