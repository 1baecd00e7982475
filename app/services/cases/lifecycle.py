"""Cases (dossiers): open, read, hand over, close and reopen."""

import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import load_only
from sqlmodel import Session, col, func, select

from app.core.config import get_settings
from app.core.db import all_or_nothing
from app.core.errors import Conflict
from app.models.base import utcnow
from app.models.beneficiaries import Beneficiary
from app.models.cases import Case, CaseClose, CaseOpen, CaseStatus, Episode, ReferentChange
from app.models.fields import without_nul
from app.models.nomenclatures import CloseReason
from app.models.operators import Operator
from app.models.staff import StaffUser
from app.services.access.scope import load_owned, operator_of, owned_by, readable
from app.services.admin.operators import get_site, time_zone_of
from app.services.admin.staff import get_colleague, get_counsellor
from app.services.cases.beneficiaries import get_beneficiary
from app.services.surveys.invitations import on_episode_ended


@dataclass
class CaseRow:
    """A case with the names a list needs, fetched in one query."""

    case: Case
    beneficiary: Beneficiary


def open_case(*, session: Session, actor: StaffUser, data: CaseOpen, opened_at=None) -> Case:
    """Open a case for a known beneficiary; the referent defaults to the actor."""
    operator_id = operator_of(actor)
    get_beneficiary(session=session, actor=actor, beneficiary_id=data.beneficiary_id)
    referent_id = data.referent_id or actor.id
    if data.referent_id:
        get_counsellor(session=session, operator_id=operator_id, staff_id=referent_id)
    else:
        # Who opens a case without choosing (a request redirected at once) is its referent.
        get_colleague(session=session, operator_id=operator_id, staff_id=referent_id)
    if data.site_id is not None:
        get_site(session=session, operator_id=operator_id, site_id=data.site_id)
    now = opened_at or utcnow()
    case = Case(
        operator_id=operator_id,
        # Unique placeholder within the 24 characters, replaced once the id is known.
        reference=f"tmp-{secrets.token_hex(8)}",
        beneficiary_id=data.beneficiary_id,
        site_id=data.site_id,
        referent_id=referent_id,
        channel=data.channel.value,
        motive=data.motive.value,
        request_text=data.request_text,
        opened_at=now,
        last_activity_at=now,
    )
    session.add(case)
    session.flush()
    code = session.get(Operator, operator_id).code
    case.reference = f"{code}-{now.year}-{case.id:06d}"
    session.add(case)
    session.flush()
    return case


def get_case(*, session: Session, actor: StaffUser, case_id: int) -> Case:
    return load_owned(session, Case, case_id, actor)


def case_time_zone(session: Session, case: Case) -> str:
    """Dates about a case are shown in its site's time zone, else its operator's."""
    return time_zone_of(session=session, operator_id=case.operator_id, site_id=case.site_id)


def time_zone_of_case(*, session: Session, actor: StaffUser, case_id: int) -> str:
    """The time zone a case's dates are typed in (a datetime-local field has none)."""
    return case_time_zone(session, get_case(session=session, actor=actor, case_id=case_id))


def touch(case: Case, when=None) -> None:
    """Remember the latest activity on a case (home page ordering, idle list)."""
    when = when or utcnow()
    if when > case.last_activity_at:
        case.last_activity_at = when


@all_or_nothing
def change_referent(
    *, session: Session, actor: StaffUser, case_id: int, data: ReferentChange
) -> Case:
    case = get_case(session=session, actor=actor, case_id=case_id)
    get_counsellor(session=session, operator_id=case.operator_id, staff_id=data.referent_id)
    case.referent_id = data.referent_id
    touch(case)
    session.add(case)
    session.flush()
    return case


@all_or_nothing
def close_case(*, session: Session, actor: StaffUser, case_id: int, data: CaseClose) -> Case:
    case = get_case(session=session, actor=actor, case_id=case_id)
    if not case.is_open:
        raise Conflict("Ce dossier est déjà clos.")
    case.status = CaseStatus.CLOSED
    case.close_reason = data.reason.value
    case.close_note = data.note
    case.closed_at = utcnow()
    _end_running_episodes(session, case)
    touch(case, case.closed_at)
    session.add(case)
    session.flush()
    return case


def _end_running_episodes(session: Session, case: Case) -> None:
    """A closed case has no unit under way: end them with the case.

    Their end asks the person's opinion like any other, but not when the case closes because
    the person could not be reached: the survey would go to someone the counsellor has just
    failed to reach, about a level they did not see through. (Who gave up, or went to another
    network, is asked: why a person stops is what the satisfaction survey is for.) The
    six-month utility survey is still scheduled: the work done before counts."""
    ask = case.close_reason != CloseReason.UNREACHABLE
    running = list(
        session.exec(
            select(Episode).where(
                Episode.case_id == case.id,
                Episode.ended_at.is_(None),
                col(Episode.cancelled_at).is_(None),
            )
        )
    )
    for episode in running:
        episode.ended_at = max(case.closed_at, episode.started_at)
        episode.outcome = episode.outcome or "Terminée à la clôture du dossier"
        session.add(episode)
    session.flush()
    for episode in running:
        on_episode_ended(session=session, episode=episode, ask=ask)


@all_or_nothing
def reopen_case(*, session: Session, actor: StaffUser, case_id: int) -> Case:
    case = get_case(session=session, actor=actor, case_id=case_id)
    if case.is_open:
        raise Conflict("Ce dossier est déjà ouvert.")
    case.status = CaseStatus.OPEN
    case.close_reason = None
    case.close_note = ""
    case.closed_at = None
    touch(case)
    session.add(case)
    session.flush()
    return case


def _case_rows(session: Session, statement) -> list[CaseRow]:
    return [CaseRow(case=c, beneficiary=b) for c, b in session.exec(statement)]


def _with_beneficiary(operator_id: int):
    return (
        select(Case, Beneficiary)
        .join(Beneficiary, Beneficiary.id == Case.beneficiary_id)
        .where(owned_by(Case, operator_id))
    )


def my_open_cases(
    *,
    session: Session,
    actor: StaffUser,
    offset: int = 0,
    limit: int = 100,
    referent_id: int | None = None,
) -> list[CaseRow]:
    """The actor's open cases (or those of `referent_id`, a colleague of the actor's operator
    whom the caller checked they oversee), most recent activity first."""
    statement = (
        _my_case_lines(actor, referent_id)
        .order_by(Case.last_activity_at.desc(), Case.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return _case_rows(session, statement)


def my_idle_cases(
    *,
    session: Session,
    actor: StaffUser,
    offset: int = 0,
    limit: int = 100,
    referent_id: int | None = None,
) -> list[CaseRow]:
    """The actor's (or `referent_id`'s, as in my_open_cases) open cases without activity for
    `idle_case_days` days, oldest first."""
    statement = (
        _my_case_lines(actor, referent_id)
        .where(Case.last_activity_at < _idle_since())
        .order_by(Case.last_activity_at, Case.id)
        .offset(offset)
        .limit(limit)
    )
    return _case_rows(session, statement)


@dataclass(frozen=True)
class MyCaseCounts:
    open: int
    idle: int


def my_case_counts(
    *, session: Session, actor: StaffUser, referent_id: int | None = None
) -> MyCaseCounts:
    """How many open cases the actor (or `referent_id`, as in my_open_cases) follows, and how
    many of them are idle: one query."""
    opened, idle = session.exec(
        select(func.count(), func.count().filter(Case.last_activity_at < _idle_since())).where(
            *_my_open_cases_scope(actor, referent_id)
        )
    ).one()
    return MyCaseCounts(open=opened, idle=idle)


def case_counts_by_referent(
    *, session: Session, actor: StaffUser, referent_ids: list[int]
) -> dict[int, MyCaseCounts]:
    """my_case_counts of each of these colleagues of the actor's operator, in one query; a
    referent following no open case is left out."""
    if not referent_ids:
        return {}
    statement = (
        select(
            Case.referent_id,
            func.count(),
            func.count().filter(Case.last_activity_at < _idle_since()),
        )
        .where(
            owned_by(Case, operator_of(actor)),
            col(Case.referent_id).in_(referent_ids),
            Case.status == CaseStatus.OPEN,
        )
        .group_by(Case.referent_id)
    )
    return {
        referent: MyCaseCounts(open=opened, idle=idle)
        for referent, opened, idle in session.exec(statement)
    }


def _my_open_cases_scope(actor: StaffUser, referent_id: int | None = None) -> list:
    # The operator comes first so that ix_cases_operator_referent_status answers.
    return [
        owned_by(Case, operator_of(actor)),
        Case.referent_id == (actor.id if referent_id is None else referent_id),
        Case.status == CaseStatus.OPEN,
    ]


def _my_case_lines(actor: StaffUser, referent_id: int | None = None):
    """The actor's (or `referent_id`'s) open cases with their beneficiary, loading only the
    columns a list shows."""
    return (
        select(Case, Beneficiary)
        .join(Beneficiary, Beneficiary.id == Case.beneficiary_id)
        .where(*_my_open_cases_scope(actor, referent_id))
        .options(
            load_only(Case.id, Case.reference, Case.status, Case.motive, Case.last_activity_at),
            load_only(Beneficiary.id, Beneficiary.first_name, Beneficiary.last_name),
        )
    )


def _idle_since():
    return utcnow() - timedelta(days=get_settings().idle_case_days)


def cases_of_beneficiary(*, session: Session, actor: StaffUser, beneficiary_id: int) -> list[Case]:
    statement = (
        readable(Case, actor)
        .where(Case.beneficiary_id == beneficiary_id)
        .order_by(Case.opened_at.desc())
    )
    return list(session.exec(statement))


def find_cases(*, session: Session, actor: StaffUser, reference: str) -> list[CaseRow]:
    """Cases whose reference contains the text typed (global search).

    A reference (ARA-2026-000123) always has digits: a name typed in the search box is not
    looked for among them, which on SQLite meant reading every case of the operator."""
    if not any(character.isdigit() for character in reference):
        return []
    statement = (
        _with_beneficiary(operator_of(actor))
        # References are written in capitals: the typed text is raised to match them, so that
        # the column stays bare and its trigram index (PostgreSQL) can answer.
        .where(Case.reference.contains(without_nul(reference).strip().upper(), autoescape=True))
        .order_by(Case.opened_at.desc())
        .limit(20)
    )
    return _case_rows(session, statement)


def list_cases(
    *,
    session: Session,
    actor: StaffUser,
    status: str | None = None,
    offset: int = 0,
    limit: int = 50,
) -> list[Case]:
    statement = readable(Case, actor)
    if status:
        statement = statement.where(Case.status == status)
    return list(session.exec(statement.order_by(Case.id).offset(offset).limit(limit)))
