"""Demo UO4 actions of an operator, over the last fifteen months: trainings attended by its
counsellors, a communication campaign, a partnership, accessibility work, a tool."""

from datetime import date, timedelta

from sqlmodel import Session

from app.models.operators import Site
from app.models.staff import StaffUser
from app.models.uo4 import Uo4ActionEdit
from app.services.admin.uo4 import cancel_action, create_action

# days ago, kind, title, amount, hours of a training, counsellors attending (index: hours or
# None for the whole training), site index or None, description.
_ACTIONS = [
    (20, "formation", "Entretien motivationnel : les bases", "1800", "7", {0: None, 1: None, 2: "3,5"}, None,
     "Une journée avec un organisme de formation, pour toute l'équipe."),
    (45, "communication", "Campagne d'affichage « Faire le point sur sa carrière »", "4200", None, {}, None,
     "Affiches dans les gares et les médiathèques, et une page sur le site de l'opérateur."),
    (95, "site", "Rampe d'accès et boucle magnétique", "6350,40", None, {}, 1,
     "Accès des personnes en fauteuil roulant et des personnes malentendantes."),
    (150, "formation", "Le marché du travail régional en 2026", "950", "3,5", {0: None, 2: None}, None,
     "Demi-journée animée par l'observatoire régional emploi-formation."),
    (210, "partenariat", "Permanences communes avec la Maison de l'emploi", "1500", None, {}, 0,
     "Convention annuelle : une permanence par mois dans ses locaux."),
    (260, "outils", "Licences de visioconférence", "720", None, {}, None, ""),
    (330, "formation", "Accueillir les personnes en situation de handicap", "2400", "14", {1: None}, None,
     "Deux jours ; l'une des personnes inscrites n'a pas pu venir."),
    (400, "communication", "Salon de l'orientation", "1100", None, {}, 0, ""),
]  # fmt: skip


def seed_uo4(
    *, session: Session, admin: StaffUser, sites: list[Site], counsellors: list[StaffUser],
    today: date,
) -> None:  # fmt: skip
    """The operator's UO4 actions, recorded by its administrator; one is then cancelled."""
    for days_ago, kind, title, amount, hours, attending, site, description in _ACTIONS:
        attendees = [
            {"staff_id": counsellors[index].id, "hours": own}
            for index, own in attending.items()
            if index < len(counsellors)
        ]
        data = Uo4ActionEdit.model_validate(
            {
                "kind": kind,
                "title": title,
                "starts_on": today - timedelta(days=days_ago),
                "amount": amount,
                "hours": hours,
                "attendees": attendees,
                "site_id": sites[site].id if site is not None and site < len(sites) else None,
                "description": description,
            }
        )
        create_action(session=session, actor=admin, data=data)
    # A duplicate entered by mistake, then cancelled: it shows, and counts nowhere.
    duplicate = Uo4ActionEdit.model_validate(
        {"kind": "outils", "title": "Licences de visioconférence (en double)", "amount": "720",
         "starts_on": today - timedelta(days=259)}
    )  # fmt: skip
    mistake = create_action(session=session, actor=admin, data=duplicate)
    cancel_action(session=session, actor=admin, action_id=mistake.id)
