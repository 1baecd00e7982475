"""« Journal des accès »: an operator's trail as its administrators read and export it, filtered
by person, staff member, period (the operator's days) and action, newest first.

Read by `at` (then id, only to break ties), never by the chain's order: entries are filtered
by the columns the trail indexes. The operator's administrators only: system administrators
read no operator's personal data (app/services/access/scope.py), and the trail names people."""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import and_, or_
from sqlmodel import Session, col, select

from app.core.errors import Forbidden
from app.models.attachments import Attachment
from app.models.audit import AuditAction, AuditEvent
from app.models.beneficiaries import Beneficiary
from app.models.cases import Case
from app.models.deliverables import Deliverable
from app.models.fields import french_sort_key
from app.models.nomenclatures import Role
from app.models.operators import Operator
from app.models.staff import StaffUser
from app.services.access.scope import operator_of, owned_by
from app.services.audit.outside_reads import is_own_file
from app.services.cases.beneficiaries import search_beneficiaries
from app.services.reports.periods import local_midnight

PAGE_SIZE = 50
# Enough for any name typed: the trail of more namesakes than this is searched by reference.
PEOPLE_MATCHED = 200

# Every kind of record the trail names (reads, changes, exports, sign-ins), in the page's words:
# tests/audit/test_journal.py checks that each kind the app writes has one.
RECORD_KINDS = {
    "case": "Dossier",
    "beneficiary": "Personne",
    "episode": "Unité d'œuvre",
    "interaction": "Échange",
    "appointment": "Rendez-vous",
    "triage_request": "Demande de premier contact",
    "deliverable": "Livrable",
    "deliverable_version": "Version émise d'un livrable",
    "deliverable_editor": "Livrable (rédaction)",
    "action_plan": "Plan d'action",
    "action_step": "Étape du plan d'action",
    "attachment": "Pièce jointe",
    "referral": "Orientation",
    "access_archive": "Archive des données de la personne",
    "deliverable_archive": "Archive des livrables (téléchargement)",
    "case_file": "Dossier complet (téléchargement)",
    "case_file_pseudonymised": "Dossier complet pseudonymisé (téléchargement)",
    "case_interactions": "Échanges d'un dossier",
    "case_list": "Liste des dossiers",
    "beneficiary_list": "Liste des personnes",
    "beneficiary_search": "Recherche de personnes",
    "triage_list": "Liste des demandes de premier contact",
    "ledger_cases": "Relevé d'unités (dossiers)",
    "proof_pack": "Pack de preuves",
    "control_history": "Historique d'un contrôle",
    "survey_comments": "Commentaires des enquêtes",
    "units_feed": "Flux des unités",
    "staff_session": "Session navigateur",
    "api_token": "Jeton d'API",
    "api_client": "Client d'API",
    "staff_user": "Compte",
    "audit_trail": "Journal des accès",
}
CASE_REFERENCE = re.compile(r"^[A-Z]{2,8}-\d{4}-\d{3,}$")


def require_trail_reader(actor: StaffUser) -> int:
    """The operator whose trail the actor reads: their own, for its administrators only."""
    if actor.role != Role.OPERATOR_ADMIN:
        raise Forbidden("Le journal des accès est réservé aux administrateur·rices de l'opérateur.")
    return operator_of(actor)


@dataclass(frozen=True)
class TrailFilters:
    person: str = ""  # a case reference, a person's number, or a name
    staff_id: int | None = None
    start: date | None = None  # the operator's days, both included
    end: date | None = None
    action: str = ""

    @property
    def query(self) -> dict[str, str]:
        """The filters as the page's address writes them (for its links and its export)."""
        values = {
            "personne": self.person,
            "agent": str(self.staff_id or ""),
            "du": self.start.isoformat() if self.start else "",
            "au": self.end.isoformat() if self.end else "",
            "action": self.action,
        }
        return {name: value for name, value in values.items() if value}


def _person_ids(session: Session, actor: StaffUser, typed: str) -> list[int]:
    """The people the « Personne » filter names: a case's, a number's, or a name's matches."""
    typed = typed.strip()
    if CASE_REFERENCE.match(typed.upper()):
        found = session.exec(
            select(Case.beneficiary_id).where(
                owned_by(Case, operator_of(actor)), Case.reference == typed.upper()
            )
        )
        return list(found)
    if typed.isdigit():
        return [int(typed)]
    people = search_beneficiaries(session=session, actor=actor, query=typed, limit=PEOPLE_MATCHED)
    return [person.id for person in people]


def _filtered(session: Session, actor: StaffUser, operator: Operator, filters: TrailFilters):
    query = select(AuditEvent).where(owned_by(AuditEvent, operator.id))
    if filters.person.strip():
        people = _person_ids(session, actor, filters.person)
        query = query.where(col(AuditEvent.beneficiary_id).in_(people))
    if filters.staff_id:
        query = query.where(AuditEvent.actor_id == filters.staff_id)
    if filters.start:
        query = query.where(col(AuditEvent.at) >= local_midnight(filters.start, operator.time_zone))
    if filters.end:
        next_day = filters.end + timedelta(days=1)
        query = query.where(col(AuditEvent.at) < local_midnight(next_day, operator.time_zone))
    if filters.action in {action.value for action in AuditAction}:
        query = query.where(AuditEvent.action == filters.action)
    return query.order_by(col(AuditEvent.at).desc(), col(AuditEvent.id).desc())


@dataclass(frozen=True)
class TrailLine:
    """One entry as the journal shows it: names and labels, the record's link if it is still
    there (and the operator's)."""

    event: AuditEvent
    who: str
    role: str
    kind: str
    href: str | None
    person: str
    person_href: str | None


class _Names:
    """The names an page of entries mentions, each kind fetched in one query."""

    def __init__(self, session: Session, operator_id: int, events: list[AuditEvent]):
        self.session, self.operator_id = session, operator_id
        # The actors may include a controller of no operator (a proof pack of this operator's).
        actor_ids = {e.actor_id for e in events if e.actor_id}
        self.staff = self._by_id(StaffUser, actor_ids, scoped=False)
        people = {e.beneficiary_id for e in events if e.beneficiary_id}
        people |= {e.record_id for e in events if e.record_type == "beneficiary" and e.record_id}
        self.people = self._by_id(Beneficiary, people)
        self.rows = {
            kind: self._by_id(model, {e.record_id for e in events if e.record_type == kind})
            for kind, model in (
                ("case", Case),
                ("case_file", Case),
                ("case_file_pseudonymised", Case),
                ("deliverable", Deliverable),
                ("attachment", Attachment),
                ("staff_user", StaffUser),
            )
        }

    def _by_id(self, model, ids: set, *, scoped: bool = True) -> dict:
        ids = {i for i in ids if i}
        if not ids:
            return {}
        query = select(model).where(col(model.id).in_(ids))
        if scoped:
            query = query.where(owned_by(model, self.operator_id))
        return {row.id: row for row in self.session.exec(query)}

    def href(self, event: AuditEvent) -> str | None:
        kind, rid = event.record_type, event.record_id
        if kind == "beneficiary":
            return f"/beneficiaries/{rid}" if rid in self.people else None
        if kind in ("staff_session", "api_token", "staff_user"):
            return (
                f"/admin/equipe/{rid}"
                if rid in self.staff or rid in self.rows["staff_user"]
                else None
            )
        if rid not in self.rows.get(kind, {}):
            return None
        return {
            "case": f"/cases/{rid}",
            "case_file": f"/cases/{rid}/dossier",
            "case_file_pseudonymised": f"/cases/{rid}/dossier",
            "deliverable": f"/deliverables/{rid}",
            "attachment": f"/attachments/{rid}/download",
        }[kind]

    def line(self, event: AuditEvent) -> TrailLine:
        actor = self.staff.get(event.actor_id)
        person = self.people.get(event.beneficiary_id)
        role = Role(event.actor_role).label if event.actor_role in set(Role) else ""
        return TrailLine(
            event=event,
            who=actor.full_name
            if actor
            else ("—" if not event.actor_id else f"n° {event.actor_id}"),
            role=role,
            kind=RECORD_KINDS.get(event.record_type, event.record_type or "—"),
            href=self.href(event),
            person=person.full_name
            if person
            else (f"n° {event.beneficiary_id}" if event.beneficiary_id else ""),
            person_href=f"/beneficiaries/{person.id}" if person else None,
        )


@dataclass
class TrailPage:
    operator: Operator
    lines: list[TrailLine]
    page: int
    has_next: bool
    staff: list[StaffUser]  # the filter's choices: the operator's staff, closed accounts too
    filters: TrailFilters


def trail_page(
    *, session: Session, actor: StaffUser, filters: TrailFilters, page: int = 1
) -> TrailPage:
    operator = session.get(Operator, require_trail_reader(actor))
    query = _filtered(session, actor, operator, filters)
    found = list(session.exec(query.offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)))
    names = _Names(session, operator.id, found[:PAGE_SIZE])
    staff = session.exec(select(StaffUser).where(owned_by(StaffUser, operator.id)))
    return TrailPage(
        operator=operator,
        lines=[names.line(event) for event in found[:PAGE_SIZE]],
        page=page,
        has_next=len(found) > PAGE_SIZE,
        staff=sorted(staff, key=lambda s: (french_sort_key(s.full_name), s.id)),
        filters=filters,
    )


def trail_operator(*, session: Session, actor: StaffUser) -> Operator:
    """The operator whose trail the actor may export (refused before anything is sent)."""
    return session.get(Operator, require_trail_reader(actor))


def trail_lines(
    *, reader: Session, actor: StaffUser, operator: Operator, filters: TrailFilters, batch=500
) -> Iterator[TrailLine]:
    """Every entry the filters keep, for the export, read as the download goes by `reader`
    (a session of its own, kept until the response is sent): by batches of `batch`, each
    named in one query per kind, so that a year of the trail never sits in memory."""
    # On SQLite a deferred transaction, which never holds the write lock while a client downloads.
    reader.connection(execution_options={"sqlite_immediate": False})
    query = _filtered(reader, actor, operator, filters)
    page = query
    while True:
        found = list(reader.exec(page.limit(batch)))
        names = _Names(reader, operator.id, found)
        yield from (names.line(event) for event in found)
        if len(found) < batch:
            return
        # From the last one on (not by offset: entries recorded meanwhile come first).
        last = found[-1]
        page = query.where(
            or_(
                col(AuditEvent.at) < last.at,
                and_(col(AuditEvent.at) == last.at, col(AuditEvent.id) < last.id),
            )
        )


def may_see_accesses(session: Session, *, actor: StaffUser, beneficiary_id: int) -> bool:
    """« Qui a consulté ce dossier » is shown to those whose file it is (see is_own_file): the
    case's counsellors, their managers, the operator's administrators; not to a colleague
    reading it with a reason, who has no one to watch over there."""
    return is_own_file(session, actor=actor, beneficiary_id=beneficiary_id)


def person_accesses(
    *, session: Session, actor: StaffUser, beneficiary_id: int, limit: int = 20
) -> list[TrailLine] | None:
    """The last `limit` entries of the person's file, newest first; None for whoever may not
    see them."""
    if not may_see_accesses(session, actor=actor, beneficiary_id=beneficiary_id):
        return None
    operator_id = operator_of(actor)
    query = (
        select(AuditEvent)
        .where(owned_by(AuditEvent, operator_id), AuditEvent.beneficiary_id == beneficiary_id)
        .order_by(col(AuditEvent.at).desc(), col(AuditEvent.id).desc())
        .limit(limit)
    )
    found = list(session.exec(query))
    names = _Names(session, operator_id, found)
    return [names.line(event) for event in found]
