"""Asking for a link at /mon-espace: an e-mail address or a mobile number is typed, and each
person of any operator on file with it gets a link of their own, by that same way. The answer
never says whether anyone was found; the form is rate-limited like every public one."""

from datetime import datetime

from pydantic import TypeAdapter, ValidationError
from sqlmodel import Session, col, select

from app.core.dates import format_date
from app.core.errors import Invalid
from app.models.beneficiaries import Beneficiary
from app.models.fields import Email, normalise_phone
from app.models.operators import Operator
from app.services.access.rate_limits import check_rate, rate_limit_target
from app.services.access.scope import owned_by
from app.services.messaging.outbox import queue_email, queue_sms
from app.services.messaging.short_links import shorten
from app.services.messaging.sms import may_get_sms, mobile_number
from app.services.personal_space import sms_texts
from app.services.personal_space.links import mint_link, space_url

RATE_BUCKET = "personal_space"
NOT_A_CONTACT = "Saisissez une adresse e-mail ou un numéro de téléphone portable."
_EMAIL = TypeAdapter(Email)


def read_contact(typed: str) -> tuple[str | None, str | None]:
    """(e-mail, None) or (None, E.164 number); Invalid for anything else."""
    typed = typed.replace("\x00", "").strip()[:254]
    if "@" in typed:
        try:
            return str(_EMAIL.validate_python(typed)).lower(), None
        except ValidationError:
            pass
    else:
        try:
            return None, normalise_phone(typed)
        except ValueError:
            pass
    raise Invalid({"contact": NOT_A_CONTACT})


def ask_for_links(*, session: Session, typed: str, ip: str | None) -> int:
    """Queue one link per person on file with the e-mail or number typed; how many (for tests
    and logs only: the page says the same whatever it is)."""
    try:
        email, phone = read_contact(typed)
    except Invalid:
        _count(session, ip, None)
        raise
    _count(session, ip, email or phone)
    sent = 0
    for person in _people_with(session, email=email, phone=phone):
        sent += _send_link(session, person, by_email=email is not None)
    return sent


def send_link_on_file(*, session: Session, person: Beneficiary) -> bool:
    """A space link sent to the person's own e-mail, else mobile: an appointment's or a
    document's link may be seen by others (a shared calendar, a forwarded e-mail), so it never
    opens the space itself. False when there is nowhere to send it."""
    return bool(_send_link(session, person, by_email=bool(person.email)))


def _count(session: Session, ip: str | None, contact: str | None) -> None:
    """Counted first, on a connection of its own: a refused request still counts."""
    check_rate(session_or_engine=rate_limit_target(session), bucket=RATE_BUCKET, keys=[ip, contact])


def _people_with(session: Session, *, email: str | None, phone: str | None) -> list[Beneficiary]:
    # Any operator's: the person does not know which one serves them. Joined to each operator
    # so that the (operator, e-mail) and (operator, phone) indexes serve the lookup.
    found = col(Beneficiary.email) == email if email else col(Beneficiary.phone) == phone
    query = (
        select(Beneficiary)
        .join(Operator, owned_by(Beneficiary, Operator.id))
        .where(found, col(Beneficiary.anonymised_at).is_(None))
    )
    return list(session.exec(query.order_by(Beneficiary.id)))


def _send_link(session: Session, person: Beneficiary, *, by_email: bool) -> int:
    if not by_email and not may_get_sms(person):
        return 0  # a landline, or a STOP answered: nothing to send to
    link = mint_link(session=session, person=person)
    if by_email:
        operator = session.get(Operator, person.operator_id)
        _queue_email(session, person, operator, space_url(link.token), link.expires_at)
    else:
        _queue_sms(session, person, space_url(link.token), link.expires_at)
    return 1


def _queue_email(
    session: Session, person: Beneficiary, operator: Operator, url: str, expires: datetime
) -> None:
    until = format_date(expires, operator.time_zone)
    text = (
        f"Bonjour {person.first_name},\n\n"
        "Voici le lien vers votre espace personnel, que vous avez demandé :\n"
        f"{url}\n\n"
        "Vous y retrouvez vos rendez-vous, les documents que votre conseiller·ère vous a "
        "transmis et vos orientations ; vous pouvez y mettre à jour vos coordonnées et vos "
        "choix de contact.\n\n"
        f"Ce lien est personnel, réservé à {person.first_name} : ne le transférez pas. Il est "
        f"valable jusqu'au {until}. Si plusieurs personnes utilisent cette adresse, chacune "
        "reçoit son propre lien.\n"
        "Si vous n'êtes pas à l'origine de cette demande, ignorez ce message : personne "
        "n'ouvre votre espace sans ce lien.\n\n"
        f"{operator.name} — conseil en évolution professionnelle\n"
    )
    queue_email(
        session=session,
        recipient=person.email,
        subject="Le lien vers votre espace personnel",
        text=text,
        operator_id=person.operator_id,
    )


def _queue_sms(session: Session, person: Beneficiary, url: str, expires: datetime) -> None:
    # The short link is made now, the text by the worker: the request only inserts rows.
    short = shorten(session=session, link=url, expires_at=expires, operator_id=person.operator_id)
    queue_sms(
        session=session,
        recipient=mobile_number(person.phone),
        template=sms_texts.SPACE_LINK,
        payload=sms_texts.payload(person, short),
        subject=sms_texts.SUBJECTS[sms_texts.SPACE_LINK],
        operator_id=person.operator_id,
    )
