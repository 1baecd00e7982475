"""What the person does in their personal space: update their e-mail and phone, give or
withdraw a consent, ask for a copy or the deletion of their data (a request in the operator's
rights queue), read, download and acknowledge a document; and the ways into the space from an
appointment's or a document's link."""

from datetime import datetime
from typing import Literal

from sqlmodel import Session, SQLModel

from app.core.dates import local_today
from app.core.errors import Invalid, NotFound
from app.models.base import utcnow
from app.models.beneficiaries import Beneficiary, OptionalEmail
from app.models.consents import ConsentChannel, ConsentPurpose
from app.models.deliverables import DeliverableVersion
from app.models.fields import OptionalPhone
from app.models.operators import Operator
from app.models.rights import ReceivedVia, RightKind, RightsRequest
from app.services.access.rate_limits import check_rate, rate_limit_target
from app.services.booking.changes import open_by_link
from app.services.cases.beneficiaries import _search_text, find_duplicates
from app.services.deliverables.sharing import (
    SharedDocument,
    acknowledge_shared,
    open_shared_document,
    shared_document,
)
from app.services.personal_space.contents import (
    SPACE_PURPOSES,
    open_requests,
    shared_documents,
)
from app.services.personal_space.links import OpenSpace
from app.services.personal_space.requests import RATE_BUCKET, send_link_on_file
from app.services.privacy.consents import record_consent
from app.services.privacy.rights import one_month_after


class ContactDetails(SQLModel):
    """The e-mail and phone the person keeps on file, validated as booking validates them."""

    email: OptionalEmail = None
    phone: OptionalPhone = None


class ConsentChoice(SQLModel):
    purpose: ConsentPurpose
    decision: Literal["given", "withdrawn"]


class RightChoice(SQLModel):
    kind: Literal["access", "erasure"]


def update_contact(*, session: Session, space: OpenSpace, data: ContactDetails) -> Beneficiary:
    """New contact details from now (the audit trail records the change, by the person)."""
    if not data.email and not data.phone:
        raise Invalid({"email": "Gardez au moins une adresse e-mail ou un numéro de téléphone."})
    person = space.person
    email = data.email.lower() if data.email else None
    _refuse_someone_elses(session, person, email=email, phone=data.phone)
    person.email = email
    person.phone = data.phone
    person.search_text = _search_text(person)
    person.updated_at = utcnow()
    session.add(person)
    session.flush()
    return person


def _refuse_someone_elses(session: Session, person: Beneficiary, *, email, phone) -> None:
    """A new e-mail or phone already another person's is refused: bookings find people by
    them, so taking someone's address would bring their next booking into this space. The one
    kept (a family address shared from the start) stays."""
    new = ContactDetails(
        email=email if email != person.email else None,
        phone=phone if phone != person.phone else None,
    )
    taken = find_duplicates(
        session=session, operator_id=person.operator_id, data=new, exclude_id=person.id
    )
    errors = {}
    for field in ("email", "phone"):
        if getattr(new, field) and any(getattr(t, field) == getattr(new, field) for t in taken):
            errors[field] = "Ne peut pas être enregistré ici : donnez-le à votre conseiller·ère."
    if errors:
        raise Invalid(errors)


def choose_consent(*, session: Session, space: OpenSpace, data: ConsentChoice) -> None:
    if data.purpose not in SPACE_PURPOSES:
        raise Invalid({"purpose": "Ce choix ne se fait pas ici."})
    record_consent(
        session=session,
        person=space.person,
        purpose=data.purpose,
        given=data.decision == "given",
        actor=None,
        how=ConsentChannel.PERSONAL_SPACE,
    )


def ask_right(
    *, session: Session, space: OpenSpace, data: RightChoice, now: datetime | None = None
) -> RightsRequest:
    """A copy (access, art. 15) or the deletion (erasure, art. 17) of their data: a request in
    the operator's queue, due a month later; asked again while open, the same one."""
    kind = RightKind(data.kind)
    for request in open_requests(session=session, space=space):
        if request.kind == kind:
            return request
    operator = session.get(Operator, space.link.operator_id)
    received_on = local_today(operator.time_zone, now=now or utcnow())
    request = RightsRequest(
        operator_id=operator.id,
        beneficiary_id=space.person.id,
        kind=kind.value,
        received_on=received_on,
        received_via=ReceivedVia.PERSONAL_SPACE.value,
        due_on=one_month_after(received_on),
    )
    session.add(request)
    session.flush()
    return request


def space_document(*, session: Session, space: OpenSpace, version_id: int) -> SharedDocument:
    """One of the documents the space lists; NotFound for any other version."""
    if version_id not in {d.version.id for d in shared_documents(session=session, space=space)}:
        raise NotFound("Ce document n'est pas dans votre espace.")
    return shared_document(session=session, version=session.get(DeliverableVersion, version_id))


def acknowledge_document(*, session: Session, space: OpenSpace, version_id: int) -> None:
    shared = space_document(session=session, space=space, version_id=version_id)
    acknowledge_shared(session=session, shared=shared)


# ---- ways in from the other links ----------------------------------------------------------


def space_from_appointment(*, session: Session, token: str, ip: str | None) -> bool:
    """A space link sent to the person an appointment's link is about (its token); whether
    there was a way to send it."""
    person = open_by_link(session=session, token=token).beneficiary
    _count(session, ip)
    return send_link_on_file(session=session, person=person)


def space_from_document(*, session: Session, token: str, ip: str | None) -> bool:
    """A space link sent to the person a document's link was sent to (its token)."""
    shared = open_shared_document(session=session, token=token)
    _count(session, ip)
    person = session.get(Beneficiary, shared.case.beneficiary_id)
    return send_link_on_file(session=session, person=person)


def _count(session: Session, ip: str | None) -> None:
    check_rate(session_or_engine=rate_limit_target(session), bucket=RATE_BUCKET, keys=[ip])
