"""Demo motifs and weekly openings, so that the booking pages offer slots from `make run`."""

from datetime import date, time, timedelta

from sqlmodel import Session, select

from app.models.appointments import AppointmentType, OpeningSlot
from app.models.catalogue import ServiceUnit
from app.models.operators import Operator, Site
from app.models.staff import StaffUser

# (name, description, minutes, modes, unit code)
DEMO_TYPES = [
    (
        "Premier rendez-vous CEP",
        "Faire le point sur votre situation et votre projet, et voir ce que le CEP peut vous apporter.",
        60,
        "on_site phone video",
        "UO1",
    ),
    (
        "Entretien de conseil",
        "Construire votre projet d'évolution professionnelle avec votre conseiller ou conseillère.",
        60,
        "on_site phone video",
        "UO2.1",
    ),
    (
        "Point d'étape",
        "Un court échange pour suivre la mise en œuvre de votre plan d'action.",
        30,
        "phone video",
        "UO2.2",
    ),
]
# What a motif asks at booking: the first interview is prepared from the answer.
DEMO_QUESTIONS = {
    "Premier rendez-vous CEP": "Êtes-vous en emploi, en recherche d'emploi, ou dans une autre situation ?"
}
ON_SITE = "on_site phone video"
REMOTE = "phone video"


def demo_appointment_types(operator_id: int, units: dict[str, int]) -> list[AppointmentType]:
    """The three demo motifs for an operator (also used by the synthetic dataset)."""
    return [
        AppointmentType(
            operator_id=operator_id,
            name=name,
            description=description,
            duration_minutes=minutes,
            modes=modes,
            unit_id=units.get(unit_code),
            position=position,
            buffer_minutes=15 if minutes >= 60 else 0,
            booking_question=DEMO_QUESTIONS.get(name, ""),
        )
        for position, (name, description, minutes, modes, unit_code) in enumerate(DEMO_TYPES)
    ]


def seed_availability(
    *,
    session: Session,
    operator: Operator,
    sites: list[Site],
    counsellors: list[StaffUser],
    today: date | None = None,
) -> list[AppointmentType]:
    """Three motifs and, for each counsellor, a week of openings valid from today for a year:
    mornings on site, two remote afternoons, and one late opening till 19:30."""
    today = today or date.today()
    units = dict(session.exec(select(ServiceUnit.code, ServiceUnit.id)).all())
    types = demo_appointment_types(operator.id, units)
    session.add_all(types)
    until = today + timedelta(days=365)
    for index, counsellor in enumerate(counsellors):
        site = sites[index % len(sites)] if sites else None
        remote_days = (1, 4) if index % 2 == 0 else (0, 2)
        week = [(day, time(9), time(12, 30), site, ON_SITE) for day in range(5)]
        week += [(day, time(14), time(17), None, REMOTE) for day in remote_days]
        week.append((3, time(15), time(19, 30), site, ON_SITE))  # extended hours on Thursdays
        for weekday, start, end, where, modes in week:
            if where is None and modes == ON_SITE:
                continue
            session.add(
                OpeningSlot(
                    operator_id=operator.id,
                    counsellor_id=counsellor.id,
                    site_id=where.id if where else None,
                    weekday=weekday,
                    start_time=start,
                    end_time=end,
                    modes=modes,
                    valid_from=today,
                    valid_until=until,
                )
            )
    session.flush()
    return types
