"""« Sécurité »: which of an operator's roles must sign in with a second factor, set by its
administrators (system administrators: any operator's). By default its administrators and
managers. Staff of a role newly required who have not enrolled are signed out at once: they
enrol at their next sign-in, before anything else. The same page holds the operator's
« Durée de conservation » of personal data, and how many people its next run anonymises, and
whether a reason is asked before reading a file outside one's own cases, and whether the
person's name goes into the file names of documents taken out."""

import logging
from dataclasses import dataclass

from sqlalchemy import exists
from sqlmodel import Session, col, select

from app.core.errors import Invalid
from app.models.base import utcnow
from app.models.credentials import StaffTotp
from app.models.fields import french_sort_key
from app.models.nomenclatures import Role
from app.models.operators import (
    Operator,
    OperatorFileNames,
    OperatorOutsideReads,
    OperatorRetention,
    OperatorSecurity,
)
from app.models.staff import StaffUser
from app.services.access.scope import owned_by
from app.services.access.two_factor import second_factor_of
from app.services.admin.staff import end_browser_sessions
from app.services.admin.team import managed_operator, managed_operators
from app.services.privacy.retention import due_for_anonymisation

log = logging.getLogger(__name__)


def _without_second_factor(session: Session, operator_id: int, roles) -> list[StaffUser]:
    """Active staff of the operator in `roles` who have no confirmed second factor."""
    enrolled = exists().where(
        col(StaffTotp.staff_id) == StaffUser.id, col(StaffTotp.confirmed_at).is_not(None)
    )
    query = select(StaffUser).where(
        owned_by(StaffUser, operator_id),
        col(StaffUser.active).is_(True),
        col(StaffUser.role).in_([role.value for role in roles]),
        ~enrolled,
    )
    found = list(session.exec(query))
    return sorted(found, key=lambda user: (french_sort_key(user.full_name), user.id))


@dataclass
class SecurityPage:
    operator: Operator
    operators: list[Operator]  # more than one for a system administrator
    # Staff of a required role without a second factor: asked to enrol at their next sign-in.
    not_enrolled: list[StaffUser]
    # The people the retention job would anonymise if it ran now (its next run, within a day).
    due_next_run: int


def security_view(
    *, session: Session, actor: StaffUser, operator_id: int | None = None
) -> SecurityPage:
    operator = managed_operator(session=session, actor=actor, operator_id=operator_id)
    return SecurityPage(
        operator=operator,
        operators=managed_operators(session=session, actor=actor),
        not_enrolled=_without_second_factor(session, operator.id, operator.two_factor_roles),
        due_next_run=len(due_for_anonymisation(session=session, operator=operator, now=utcnow())),
    )


def save_retention(
    *, session: Session, actor: StaffUser, operator_id: int | None, data: OperatorRetention
) -> Operator:
    """Set the months after the last contact past which the operator's people are anonymised."""
    operator = managed_operator(session=session, actor=actor, operator_id=operator_id)
    operator.retention_months = data.retention_months
    session.add(operator)
    session.flush()
    log.info("operator %d: retention set to %d months", operator.id, data.retention_months)
    return operator


def save_outside_reads(
    *, session: Session, actor: StaffUser, operator_id: int | None, data: OperatorOutsideReads
) -> Operator:
    """Ask, or stop asking, for a reason before reading a file outside one's own cases."""
    operator = managed_operator(session=session, actor=actor, operator_id=operator_id)
    operator.reason_for_outside_reads = data.reason_for_outside_reads
    session.add(operator)
    session.flush()
    log.info("operator %d: reason for outside reads %s", operator.id, data.reason_for_outside_reads)
    return operator


def save_file_names(
    *, session: Session, actor: StaffUser, operator_id: int | None, data: OperatorFileNames
) -> Operator:
    """Put, or stop putting, the person's name in the file names of documents taken out."""
    operator = managed_operator(session=session, actor=actor, operator_id=operator_id)
    operator.person_names_in_file_names = data.person_names_in_file_names
    session.add(operator)
    session.flush()
    log.info(
        "operator %d: person names in file names %s", operator.id, data.person_names_in_file_names
    )
    return operator


def save_security(
    *, session: Session, actor: StaffUser, operator_id: int | None, data: OperatorSecurity
) -> tuple[Operator, int]:
    """Set the roles that must sign in with a second factor; the operator, and how many
    people were signed out to enrol."""
    operator = managed_operator(session=session, actor=actor, operator_id=operator_id)
    if (
        data.two_factor_admins
        and actor.role == Role.OPERATOR_ADMIN
        and second_factor_of(session=session, user=actor) is None
    ):
        raise Invalid(
            {"two_factor_admins": "Activez d'abord votre propre double authentification (page "
             "« Mon compte ») : ce réglage vous l'imposerait dès maintenant."}
        )  # fmt: skip
    before = operator.two_factor_roles
    operator.two_factor_counsellors = data.two_factor_counsellors
    operator.two_factor_managers = data.two_factor_managers
    operator.two_factor_admins = data.two_factor_admins
    session.add(operator)
    session.flush()
    newly_required = operator.two_factor_roles - before
    signed_out = _without_second_factor(session, operator.id, newly_required)
    for user in signed_out:
        end_browser_sessions(session=session, user=user)
    log.info(
        "operator %d: second factor required of %s; %d accounts signed out to enrol",
        operator.id, sorted(operator.two_factor_roles), len(signed_out),
    )  # fmt: skip
    return operator, len(signed_out)
