"""Public booking API under /api/v1/public: for a national portal or a partner's website to book
into an operator's agenda. No account, no cookie, hence no CSRF; rate-limited per IP, e-mail and
phone. It calls the same services as the public booking pages."""

from datetime import datetime
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from fastapi import Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, StringConstraints, WithJsonSchema

from app.core.errors import Invalid
from app.models import fields
from app.models.appointments import MODES, BookingChannel
from app.models.beneficiaries import OptionalEmail
from app.models.bounds import Day, Moment, RowId
from app.models.fields import BLANK_PATTERN, Flag, OptionalPhone, OptionalPostcode, PersonName
from app.models.nomenclatures import RequestMotive
from app.models.operators import Site
from app.services.booking import reservations as booking
from app.services.booking.orientation import SERVED_HERE
from app.services.booking.public_offer import free_times_between, motif_step, sites_to_visit
from app.web.api_errors import TOO_MANY, refusal
from app.web.client_address import client_address
from app.web.deps import SessionDep
from app.web.routing import new_router

BLANK = {"pattern": BLANK_PATTERN}
# Service errors name the model's fields; the API's body names them differently.
_API_FIELDS = {"appointment_type_id": "appointment_type", "site_id": "site", "last_day": "to"}
_PERSON_FIELDS = {"first_name", "last_name", "email", "phone", "postcode", "consent", "request"}
_PERSON_FIELDS |= {"answer", "motive", "situation"}
# The situations the CEP « actifs occupés » serves: the others are told of their own network by
# the booking pages (/rendez-vous), and refused here by the schema.
ServedSituation = Literal[tuple(situation.value for situation in SERVED_HERE)]  # type: ignore[valid-type]

PUBLIC_ERRORS = {404: refusal("Opérateur, motif ou lieu inconnu")}
router = new_router(prefix="/api/v1/public", tags=["réservation publique"], responses=PUBLIC_ERRORS)


# ---- schemas -------------------------------------------------------------------------------


class PublicSite(BaseModel):
    id: int
    name: str
    address: str
    postcode: str
    city: str
    departement: str
    time_zone: str
    accessibility: str
    opening_hours: str

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 3,
                    "name": "Lyon Part-Dieu",
                    "address": "12 rue de la Villette",
                    "postcode": "69003",
                    "city": "Lyon",
                    "departement": "69",
                    "time_zone": "Europe/Paris",
                    "accessibility": "Accès de plain-pied",
                    "opening_hours": "Du lundi au vendredi, 9 h – 18 h",
                }
            ]
        }
    )


class PublicAppointmentType(BaseModel):
    id: int
    name: str
    description: str
    duration_minutes: int
    modes: list[Literal["on_site", "phone", "video"]]
    # Asked when booking (empty: none); the answer goes in the booking's `answer`.
    question: str

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 1,
                    "name": "Premier rendez-vous CEP",
                    "description": "Faire le point sur votre situation et votre projet",
                    "duration_minutes": 60,
                    "modes": ["on_site", "phone", "video"],
                    "question": "Êtes-vous actuellement en emploi ?",
                }
            ]
        }
    )


class PublicSlot(BaseModel):
    """ISO 8601 with the offset of the site's time zone, e.g. 2026-12-01T09:00:00+01:00."""

    start: datetime
    end: datetime

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"start": "2026-12-01T09:00:00+01:00", "end": "2026-12-01T10:00:00+01:00"}]
        }
    )


class AppointmentRequest(BaseModel):
    appointment_type: RowId
    site: RowId
    start: Moment
    mode: Literal["on_site", "phone", "video"] | None = None
    first_name: PersonName
    last_name: PersonName
    email: OptionalEmail = None
    phone: OptionalPhone = None
    postcode: OptionalPostcode = None
    # The person's agreement to their data being processed: true, or nothing is booked.
    consent: Annotated[Flag, WithJsonSchema({"type": "boolean", "const": True}, mode="validation")]
    request: Annotated[str, StringConstraints(max_length=2000)] = ""
    # The answer to the motif's `question`; kept only when the motif asks one.
    answer: Annotated[str, StringConstraints(max_length=2000)] = ""
    # What brings the person (none: the motif's usual motive, else « autre »), and where they
    # stand (none: in work in the private sector), for the triage request.
    motive: RequestMotive | None = None
    situation: ServedSituation | None = None
    # The same key sent twice books once (a retried request after a timeout).
    idempotency_key: Annotated[str, StringConstraints(min_length=8, max_length=80)]

    model_config = ConfigDict(
        json_schema_extra={
            # Someone to confirm to, or to call back: an e-mail address or a phone number.
            "anyOf": [
                {
                    "required": [name],
                    "properties": {name: {"type": "string", "format": kind, "not": BLANK}},
                }
                for name, kind in (("email", "email"), ("phone", "telephone-fr"))
            ],
            "examples": [
                {
                    "appointment_type": 1,
                    "site": 3,
                    "start": "2026-12-01T09:00:00+01:00",
                    "mode": "on_site",
                    "first_name": "Hélène",
                    "last_name": "Guérin",
                    "email": "helene.guerin@exemple.fr",
                    "phone": "06 12 34 56 78",
                    "postcode": "69003",
                    "consent": True,
                    "request": "Je souhaite me reconvertir dans le paysagisme.",
                    "answer": "Oui, à temps partiel.",
                    "motive": "reconversion",
                    "situation": "actif_prive",
                    "idempotency_key": "portail-7f3c2a9e-1b4d",
                }
            ],
        }
    )


class BookingConfirmation(BaseModel):
    reference: str
    start: datetime
    end: datetime
    # A video appointment's meeting room (FILROUGE_VIDEO_BASE_URL); null for other modes.
    video_url: str | None = None

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "reference": "RDV-ARA-000042",
                    "start": "2026-12-01T09:00:00+01:00",
                    "end": "2026-12-01T10:00:00+01:00",
                }
            ]
        }
    )


class SlotTakenAnswer(BaseModel):
    detail: str
    next_slots: list[PublicSlot]

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "detail": "Ce créneau vient d'être réservé",
                    "next_slots": [
                        {"start": "2026-12-01T09:15:00+01:00", "end": "2026-12-01T10:15:00+01:00"}
                    ],
                }
            ]
        }
    )


# ---- reading the operator's offer ----------------------------------------------------------


def _site_out(site: Site) -> PublicSite:
    return PublicSite(
        **site.model_dump(), departement=booking.departement_of_postcode(site.postcode) or ""
    )


def _slot_out(start: datetime, end: datetime, zone: ZoneInfo) -> PublicSlot:
    return PublicSlot(start=start.astimezone(zone), end=end.astimezone(zone))


def _api_invalid(exc: Invalid) -> Invalid:
    return Invalid({_API_FIELDS.get(k, k): v for k, v in exc.fields.items()}, exc.message)


OperatorCode = Annotated[
    fields.OperatorCode, Query(description="Code de l'opérateur régional, ex. ARA")
]


@router.get("/sites", response_model=list[PublicSite])
def public_sites(
    session: SessionDep,
    operator: OperatorCode,
    postcode: Annotated[
        str | None,
        Query(
            pattern=r"^\d{5}$", description="Code postal de la personne : son département d'abord"
        ),
    ] = None,
):
    """The operator's active sites (lieux d'accueil): the asker's département first, then by
    département and name — the order of the public booking pages."""
    sites = sites_to_visit(session=session, operator_code=operator, postcode=postcode)
    return [_site_out(site) for site in sites]


@router.get("/appointment-types", response_model=list[PublicAppointmentType])
def public_appointment_types(session: SessionDep, operator: OperatorCode):
    """The motifs that may be booked online, with their duration and modes."""
    kinds = motif_step(session=session, operator_code=operator).types
    return [
        PublicAppointmentType(
            id=k.id,
            name=k.name,
            description=k.description,
            duration_minutes=k.duration_minutes,
            modes=[m for m in k.modes.split() if m in MODES],
            question=k.booking_question,
        )
        for k in kinds
    ]


@router.get(
    "/slots",
    response_model=list[PublicSlot],
    responses=TOO_MANY,
)
def public_slots(
    request: Request,
    session: SessionDep,
    appointment_type: Annotated[RowId, Query(description="Identifiant du motif")],
    site: Annotated[RowId, Query(description="Identifiant du lieu d'accueil")],
    start_day: Annotated[Day, Query(alias="from", description="Premier jour (AAAA-MM-JJ)")],
    end_day: Annotated[Day, Query(alias="to", description="Dernier jour inclus (AAAA-MM-JJ)")],
    mode: Annotated[Literal["on_site", "phone", "video"] | None, Query()] = None,
):
    """Free slots, earliest first, in the site's time zone (ISO 8601 with its offset; the
    operator's on the phone or by video, which any of its counsellors may hold, wherever they
    work); at most 31 days per call. Rate-limited per address, with the booking pages' slot
    listings."""
    try:
        choice, times = free_times_between(
            session=session,
            ip=client_address(request),
            appointment_type_id=appointment_type,
            mode=mode,
            site_id=site,
            first_day=start_day,
            last_day=end_day,
        )
    except Invalid as exc:
        raise _api_invalid(exc) from exc
    zone = ZoneInfo(choice.time_zone)
    return [_slot_out(start, end, zone) for start, end, _count in times]


@router.post(
    "/appointments",
    response_model=BookingConfirmation,
    status_code=201,
    responses={
        409: refusal("Créneau pris entre-temps", SlotTakenAnswer),
    }
    | TOO_MANY,
)
def public_book(request: Request, session: SessionDep, data: AppointmentRequest):
    """Book a free slot for a person (found by e-mail or phone, or created); the request lands
    in the operator's triage queue and a confirmation is e-mailed. 409 lists the next slots."""
    try:
        booked = booking.book_publicly(
            session=session,
            via=BookingChannel.API,
            ip=client_address(request),
            appointment_type_id=data.appointment_type,
            mode=data.mode,
            site_id=data.site,
            start=data.start,
            person=data.model_dump(include=_PERSON_FIELDS),
            idempotency_key=data.idempotency_key,
        )
    except booking.SlotTaken as exc:
        zone = ZoneInfo(exc.time_zone)
        body = SlotTakenAnswer(
            detail=exc.message, next_slots=[_slot_out(s, e, zone) for s, e, _n in exc.next_slots]
        )
        return JSONResponse(body.model_dump(mode="json"), status_code=409)
    except Invalid as exc:
        raise _api_invalid(exc) from exc
    zone = ZoneInfo(booked.time_zone)
    appointment = booked.appointment
    return BookingConfirmation(
        reference=appointment.reference,
        start=appointment.starts_at.astimezone(zone),
        end=appointment.ends_at.astimezone(zone),
        video_url=appointment.video_url,
    )
