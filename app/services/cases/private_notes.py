"""Who reads a case's private notes (the counsellor's own remarks on a contact): the case's
counsellors — its referent, and whoever recorded a contact in it — and their managers, the
team managers working at the case's site or at one of its referent's sites. Nobody else: not
an operator administrator as such, nor another counsellor, an observer or a controller; an
API client reads as the staff member whose key it uses.

The same people, and the operator's admins, follow the case (`follows_case`): they are who may
take its whole file out (app/services/deliverables/case_file.py)."""

from sqlmodel import Session, col, select

from app.models.cases import Case, Interaction
from app.models.nomenclatures import Role
from app.models.staff import StaffSite, StaffUser


def reads_private_notes(*, session: Session, actor: StaffUser, case: Case) -> bool:
    """`case` was read within the actor's scope (lifecycle.get_case): the operator is theirs."""
    if case.referent_id == actor.id or _recorded_a_contact(session, actor, case):
        return True
    return actor.role == Role.MANAGER and _manages(session, actor, case)


def follows_case(*, session: Session, actor: StaffUser, case: Case) -> bool:
    """The case's counsellors, their managers and the operator's admins. `case` was read within
    the actor's scope, as for `reads_private_notes`."""
    if actor.role == Role.OPERATOR_ADMIN:
        return True
    return reads_private_notes(session=session, actor=actor, case=case)


def _recorded_a_contact(session: Session, actor: StaffUser, case: Case) -> bool:
    statement = select(Interaction.id).where(
        Interaction.case_id == case.id, Interaction.counsellor_id == actor.id
    )
    return session.exec(statement.limit(1)).first() is not None


def _manages(session: Session, actor: StaffUser, case: Case) -> bool:
    """The manager works at the case's site, or shares one with its referent (whom they then
    oversee, as app/services/admin/supervision.py has it)."""
    their_sites = select(StaffSite.site_id).where(StaffSite.staff_id == actor.id)
    sites = set(session.exec(their_sites))
    if case.site_id in sites:
        return True
    if case.referent_id is None or not sites:
        return False
    referent_sites = select(StaffSite.site_id).where(
        StaffSite.staff_id == case.referent_id, col(StaffSite.site_id).in_(sites)
    )
    return session.exec(referent_sites.limit(1)).first() is not None
