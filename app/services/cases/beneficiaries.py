"""Beneficiaries: find before creating (no duplicates), create, update."""

from sqlmodel import Session, and_, col, or_, select

from app.core.db import all_or_nothing
from app.core.errors import Conflict
from app.models.base import utcnow
from app.models.beneficiaries import Beneficiary, BeneficiaryCreate, BeneficiaryUpdate
from app.models.consents import ConsentChannel, ConsentPurpose
from app.models.fields import french_sort_key, normalise_phone, search_key
from app.models.staff import StaffUser
from app.services.access.scope import load_owned, operator_of, owned_by, readable
from app.services.privacy.consents import record_consent

SEARCH_LIMIT = 20


def _search_text(b: Beneficiary) -> str:
    digits = (b.phone or "").replace("+33", "0")
    # Accent stripping can lengthen exotic characters (U+FDFA gives 18): keep within the column.
    return search_key(b.first_name, b.last_name, b.email, b.phone, digits)[:600]


def _phone_terms(query: str) -> list[str]:
    """A query that looks like a phone number also matches its E.164 form."""
    try:
        e164 = normalise_phone(query)
    except ValueError:
        return []
    return [search_key(e164)]


def search_beneficiaries(
    *, session: Session, actor: StaffUser, query: str, limit: int = SEARCH_LIMIT
) -> list[Beneficiary]:
    """Match every word of the query against name, e-mail and phone, ignoring case and accents."""
    operator_id = operator_of(actor)
    words = search_key(query).split()
    if not words:
        return []
    text = col(Beneficiary.search_text)
    matches = and_(*[text.contains(word, autoescape=True) for word in words])
    phone_terms = _phone_terms(query)
    if phone_terms:
        matches = or_(matches, text.contains(phone_terms[0], autoescape=True))
    statement = select(Beneficiary).where(owned_by(Beneficiary, operator_id), matches)
    statement = statement.order_by(Beneficiary.last_name, Beneficiary.first_name).limit(limit)
    # No column holds an accent-free surname to sort on in SQL: the page is chosen in code
    # point order, then shown in French order (Éric among the E's, not after Zoé).
    found = session.exec(statement)
    return sorted(
        found, key=lambda b: (french_sort_key(b.last_name), french_sort_key(b.first_name))
    )


def find_duplicates(
    *, session: Session, operator_id: int, data: BeneficiaryCreate, exclude_id: int | None = None
) -> list[Beneficiary]:
    """People of the same operator with the same e-mail or phone."""
    conditions = []
    if data.email:
        conditions.append(Beneficiary.email == data.email.lower())
    if data.phone:
        conditions.append(Beneficiary.phone == data.phone)
    if not conditions:
        return []
    statement = select(Beneficiary).where(owned_by(Beneficiary, operator_id), or_(*conditions))
    if exclude_id is not None:
        statement = statement.where(Beneficiary.id != exclude_id)
    return list(session.exec(statement))


def _apply(beneficiary: Beneficiary, data: BeneficiaryCreate | BeneficiaryUpdate) -> None:
    values = data.model_dump(exclude={"consent", "survey_consent"})
    if values.get("email"):
        values["email"] = values["email"].lower()
    for field, value in values.items():
        setattr(beneficiary, field, value)
    beneficiary.search_text = _search_text(beneficiary)
    beneficiary.updated_at = utcnow()


def create_beneficiary(
    *, session: Session, actor: StaffUser, data: BeneficiaryCreate
) -> Beneficiary:
    """Create a person, refusing one whose e-mail or phone is already known."""
    operator_id = operator_of(actor)
    duplicates = find_duplicates(session=session, operator_id=operator_id, data=data)
    if duplicates:
        raise Conflict(
            f"Cette personne semble déjà connue : {duplicates[0].full_name} "
            "(même e-mail ou téléphone)."
        )
    beneficiary = Beneficiary(operator_id=operator_id, first_name="", last_name="")
    _apply(beneficiary, data)
    session.add(beneficiary)
    session.flush()
    _record_boxes(session, actor, beneficiary, data)
    return beneficiary


def _record_boxes(
    session: Session,
    actor: StaffUser,
    person: Beneficiary,
    data: BeneficiaryCreate | BeneficiaryUpdate,
) -> None:
    """A consent box ticked or unticked on the person's form is an agreement or a withdrawal
    collected by the counsellor; a box left as it was records nothing."""
    boxes = (
        (ConsentPurpose.PROCESSING, data.consent, person.consent_at is not None),
        (ConsentPurpose.SURVEYS, data.survey_consent, person.may_be_surveyed),
    )
    for purpose, ticked, in_force in boxes:
        if ticked != in_force:
            record_consent(
                session=session,
                person=person,
                purpose=purpose,
                given=ticked,
                actor=actor,
                how=ConsentChannel.INTERVIEW,
            )


def get_beneficiary(*, session: Session, actor: StaffUser, beneficiary_id: int) -> Beneficiary:
    return load_owned(session, Beneficiary, beneficiary_id, actor)


@all_or_nothing
def update_beneficiary(
    *, session: Session, actor: StaffUser, beneficiary_id: int, data: BeneficiaryUpdate
) -> Beneficiary:
    beneficiary = get_beneficiary(session=session, actor=actor, beneficiary_id=beneficiary_id)
    duplicates = find_duplicates(
        session=session, operator_id=beneficiary.operator_id, data=data, exclude_id=beneficiary.id
    )
    if duplicates:
        raise Conflict(f"E-mail ou téléphone déjà utilisé par {duplicates[0].full_name}.")
    _apply(beneficiary, data)
    session.add(beneficiary)
    session.flush()
    _record_boxes(session, actor, beneficiary, data)
    return beneficiary


def list_beneficiaries(
    *, session: Session, actor: StaffUser, offset: int = 0, limit: int = 50
) -> list[Beneficiary]:
    statement = readable(Beneficiary, actor).order_by(Beneficiary.id).offset(offset).limit(limit)
    return list(session.exec(statement))
