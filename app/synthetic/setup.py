"""The small tables of each operator: the operator itself (through the app's own
`create_operator`, which seeds its deliverable kinds and proof requirements), motifs, sites,
staff, openings, partners, questionnaires; and the placeholder PDFs that every issued version
points at."""

import hashlib
import random
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import insert
from sqlalchemy.engine import Connection
from sqlmodel import Session, select

from app.core.security import hash_password
from app.core.storage import get_storage
from app.demo.availability import demo_appointment_types
from app.demo.content import FEMALE_NAMES, LAST_NAMES, MALE_NAMES
from app.demo.documents import EXTRA_TEXTS
from app.models.appointments import AppointmentType, OpeningSlot
from app.models.catalogue import DeliverableKind, ServiceUnit, UnitProofRequirement
from app.models.nomenclatures import PartnerType
from app.models.surveys import SurveyKind, SurveyQuestionnaire
from app.services.admin.operators import create_operator
from app.services.control.proof_catalogue import DEFAULT_KINDS
from app.services.deliverables.pdf import render_deliverable_pdf
from app.services.surveys.questionnaires import current_questionnaire
from app.synthetic import tables as T
from app.synthetic.calendar import LocalClock
from app.synthetic.loader import Loader
from app.synthetic.naming import DOMAIN, staff_email
from app.synthetic.plan import PARTNERS_PER_OPERATOR, OperatorPlan
from app.synthetic.world import AppointmentKind, OperatorWorld, ProofKind

# Every generated staff account shares this password (documented in the command's output).
SYNTHETIC_PASSWORD = "synthetique-filrouge-2026"

_HOURS = "Lundi au vendredi 9h–12h30 et 13h30–17h30 ; le jeudi jusqu'à 19h sur rendez-vous"
_ACCESS = "Accès de plain-pied, ascenseur, toilettes adaptées ; boucle magnétique à l'accueil."
_STREETS = ("rue de la République", "avenue Jean Jaurès", "place de la Mairie", "rue Victor Hugo",
            "boulevard Gambetta", "rue Pasteur", "avenue de la Gare", "rue du Commerce")  # fmt: skip
_PARTNER_NAMES = {
    PartnerType.VAE: "Point relais conseil VAE",
    PartnerType.SKILLS_ASSESSMENT: "Centre de bilan de compétences",
    PartnerType.FRANCE_TRAVAIL: "Agence France Travail",
    PartnerType.APEC: "Centre Apec",
    PartnerType.CAP_EMPLOI: "Cap emploi",
    PartnerType.MISSION_LOCALE: "Mission locale",
    PartnerType.TRANSITIONS_PRO: "Transitions Pro",
    PartnerType.OPCO: "OPCO, délégation territoriale",
    PartnerType.CPF: "Point d'information CPF",
    PartnerType.BUSINESS_CREATION: "Boutique de gestion",
    PartnerType.OCCUPATIONAL_HEALTH: "Service de prévention et de santé au travail",
    PartnerType.SOCIAL_SERVICES: "Centre communal d'action sociale",
}
_PARTNER_TYPES = list(_PARTNER_NAMES)


def create_operators(session: Session, plans: tuple[OperatorPlan, ...]) -> list[int]:
    """The operators, through the app's own creation (kinds and proof requirements), their
    three motifs and the first version of their questionnaires; returns the operators' ids.
    The caller commits."""
    units = dict(session.exec(select(ServiceUnit.code, ServiceUnit.id)).all())
    ids = []
    for plan in plans:
        region = plan.region
        operator = create_operator(
            session=session,
            code=region.code,
            name=region.name,
            region_code=region.insee,
            time_zone=region.time_zone,
        )
        # The benchmark signs its managers in with a password, as the demo does.
        operator.two_factor_managers = operator.two_factor_admins = False
        session.add_all(demo_appointment_types(operator.id, units))
        for kind in SurveyKind:
            current_questionnaire(session=session, operator_id=operator.id, kind=kind)
        ids.append(operator.id)
    session.flush()
    return ids


def render_placeholders(operator_name: str) -> dict[str, tuple[str, str, int]]:
    """One real PDF per default deliverable kind, rendered by the app and stored once:
    kind code → (storage key, sha256, size). Every generated version of that kind points at
    the same file — a placeholder, not the PDF of that version's own content."""
    storage = get_storage()
    placeholders = {}
    for code, label, parts, extra, _units in DEFAULT_KINDS:
        sections = [{"title": "Votre demande", "body": "Faire le point sur mon parcours."}]
        sections += [{"title": t, "body": EXTRA_TEXTS.get(t, "")} for t in extra.splitlines()]
        content = {
            "title": label,
            "kind_label": label,
            "version": 1,
            "operator_name": operator_name,
            "site_name": None,
            "case_reference": "SYNTHETIQUE",
            "beneficiary_name": "Données SYNTHÉTIQUES",
            "counsellor_name": "Conseiller·ère fictif·ve",
            "issued_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
            "time_zone": "Europe/Paris",
            "sections": sections,
            "action_plan": [] if parts.get("includes_action_plan") else None,
        }
        pdf = render_deliverable_pdf(content)
        placeholders[code] = (storage.save(pdf), hashlib.sha256(pdf).hexdigest(), len(pdf))
    return placeholders


def _person(rng: random.Random) -> str:
    first = rng.choice(FEMALE_NAMES if rng.random() < 0.7 else MALE_NAMES)
    return f"{first} {rng.choice(LAST_NAMES)}"


def build_world(
    loader: Loader,
    rng: random.Random,
    plan: OperatorPlan,
    operator_id: int,
    *,
    password_hash: str,
    placeholders: dict,
    postcodes: list[str],
    start: date,
    now: datetime,
) -> OperatorWorld:
    """Write the operator's sites, staff, openings and partners; return what stories need."""
    connection = loader.connection
    region = plan.region
    code = region.code
    today = now.date()
    # Sites: the region's towns first, then second sites in the largest towns.
    site_id = loader.ids("sites")
    sites, names, seen = [], {}, {}
    for index in range(plan.sites):
        town, postcode = region.towns[index % len(region.towns)]
        seen[town] = seen.get(town, 0) + 1
        name = town if seen[town] == 1 else f"{town} {seen[town]}"
        row = (site_id(), operator_id, f"CEP {name}", f"{rng.randint(1, 120)} {rng.choice(_STREETS)}",
               postcode, town, region.time_zone, _ACCESS, _HOURS, "", True, None)  # fmt: skip
        sites.append(row[0])
        names[row[0]] = row[2]
        loader.write(T.SITES, [row])
    # Staff: counsellors, managers, admins (numbered per operator).
    staff_id = loader.ids("staff_users")
    counsellors, counsellor_names, home, staff_rows, links = [], {}, {}, [], []
    created = datetime.combine(start - timedelta(days=30), time(9), tzinfo=UTC)
    for number in range(1, plan.counsellors + 1):
        user_id, name = staff_id(), _person(rng)
        staff_rows.append((user_id, operator_id, staff_email("conseiller", number, code), name,
                           "counsellor", password_hash, True, 0, created, created, None))  # fmt: skip
        counsellors.append(user_id)
        counsellor_names[user_id] = name
        home[user_id] = sites[(number - 1) % len(sites)]
        links.append((user_id, home[user_id]))
    for number in range(1, plan.managers + 1):
        user_id = staff_id()
        staff_rows.append((user_id, operator_id, staff_email("responsable", number, code),
                           _person(rng), "manager", password_hash, True, 0, created, created, None))  # fmt: skip
        group = sites[number - 1 :: plan.managers] or sites[:1]
        links += [(user_id, site) for site in group]
    for number in range(1, plan.admins + 1):
        staff_rows.append((staff_id(), operator_id, staff_email("admin", number, code),
                           _person(rng), "operator_admin", password_hash, True, 0, created, created, None))  # fmt: skip
    loader.write(T.STAFF_USERS, staff_rows)
    loader.write(T.STAFF_SITES, links)
    _openings(connection, operator_id, counsellors, home, today)
    partners = _partners(loader, rng, operator_id, region, now)
    return OperatorWorld(
        operator_id=operator_id,
        code=code,
        name=region.name,
        time_zone=region.time_zone,
        clock=LocalClock(region.time_zone, start, (today - start).days + 120),
        units=_units(connection),
        levels=_levels(connection),
        sites=sites,
        site_names=names,
        counsellors=counsellors,
        counsellor_names=counsellor_names,
        home_site=home,
        appointment_kinds=_motifs(connection, operator_id),
        proofs=_proofs(connection, operator_id, placeholders),
        partners=partners,
        postcodes=[p for p in postcodes if _in_region(p, region)] or [t[1] for t in region.towns],
        questionnaires=_questionnaires(connection, operator_id),
    )


def national_staff(loader: Loader, password_hash: str, now: datetime) -> None:
    """Two national observers and one controller (France compétences), and one system
    administrator."""
    staff_id = loader.ids("staff_users")
    rows = [
        (staff_id(), None, staff_email("observateur", n, None), f"Observateur national {n}",
         "national_observer", password_hash, True, 0, now, now, None)
        for n in (1, 2)
    ]  # fmt: skip
    rows.append((staff_id(), None, staff_email("controleur", 1, None), "Contrôleur·euse 1",
                 "controller", password_hash, True, 0, now, now, "Contrôle national"))  # fmt: skip
    rows.append((staff_id(), None, f"sysadmin.0001@national.{DOMAIN}", "Administration système",
                 "sysadmin", password_hash, True, 0, now, now, None))  # fmt: skip
    loader.write(T.STAFF_USERS, rows)


def _in_region(postcode: str, region) -> bool:
    prefix = postcode[:3] if postcode.startswith("97") else postcode[:2]
    return prefix in region.departements


def _openings(connection: Connection, operator_id, counsellors, home, today: date) -> None:
    """A week of openings per counsellor for the coming year (as the demo gives its own)."""
    rows = []
    for index, counsellor in enumerate(counsellors):
        remote_days = (1, 4) if index % 2 == 0 else (0, 2)
        week = [(day, time(9), time(12, 30), home[counsellor], "on_site phone video") for day in range(5)]  # fmt: skip
        week += [(day, time(13, 30), time(17, 30), None, "phone video") for day in remote_days]
        rows += [
            {"operator_id": operator_id, "counsellor_id": counsellor, "site_id": site,
             "weekday": weekday, "start_time": start, "end_time": end, "modes": modes,
             "valid_from": today, "valid_until": today + timedelta(days=365)}
            for weekday, start, end, site, modes in week
        ]  # fmt: skip
    if rows:
        connection.execute(insert(OpeningSlot), rows)


def _partners(
    loader: Loader, rng, operator_id: int, region, now: datetime
) -> list[tuple[int, str]]:
    partner_id = loader.ids("partners")
    rows, partners, names = [], [], set()
    for index in range(PARTNERS_PER_OPERATOR):
        kind = _PARTNER_TYPES[index % len(_PARTNER_TYPES)]
        town, postcode = region.towns[(index // len(_PARTNER_TYPES)) % len(region.towns)]
        name = f"{_PARTNER_NAMES[kind]} — {town}"
        if name in names:
            name = f"{name} ({index})"
        names.add(name)
        departement = postcode[:3] if postcode.startswith("97") else postcode[:2]
        row_id = partner_id()
        rows.append((row_id, operator_id, name, kind.value, departement,
                     f"{rng.randint(1, 80)} {rng.choice(_STREETS)}", postcode, town, "",
                     f"contact.{row_id}@partenaires.{DOMAIN}", None, "", kind.label, True, now,
                     now))  # fmt: skip
        partners.append((row_id, kind.value))
    loader.write(T.PARTNERS, rows)
    return partners


def _units(connection: Connection) -> dict[str, int]:
    return dict(connection.execute(select(ServiceUnit.code, ServiceUnit.id)).all())


def _levels(connection: Connection) -> dict[str, int]:
    return dict(connection.execute(select(ServiceUnit.code, ServiceUnit.level)).all())


def _questionnaires(connection: Connection, operator_id: int) -> dict[str, tuple[int, list]]:
    """Each kind's latest version: what an invitation sent today asks."""
    table = SurveyQuestionnaire.__table__.c
    statement = (
        select(table.kind, table.id, table.questions)
        .where(table.operator_id == operator_id)
        .order_by(table.version)
    )
    return {kind: (id_, questions) for kind, id_, questions in connection.execute(statement)}


def _motifs(connection: Connection, operator_id: int) -> dict[str, AppointmentKind]:
    statement = (
        select(ServiceUnit.code, AppointmentType.id, AppointmentType.duration_minutes, AppointmentType.buffer_minutes)
        .join(ServiceUnit, ServiceUnit.id == AppointmentType.unit_id)
        .where(AppointmentType.operator_id == operator_id)
    )  # fmt: skip
    return {code: AppointmentKind(i, m, b) for code, i, m, b in connection.execute(statement)}


def _proofs(connection: Connection, operator_id: int, placeholders: dict) -> dict[str, list[ProofKind]]:  # fmt: skip
    kind = DeliverableKind.__table__.c
    statement = (
        select(ServiceUnit.code, kind.id, kind.code, kind.label, kind.includes_request,
               kind.includes_interactions, kind.includes_action_plan, kind.extra_sections)
        .join(UnitProofRequirement, UnitProofRequirement.kind_id == kind.id)
        .join(ServiceUnit, ServiceUnit.id == UnitProofRequirement.unit_id)
        .where(kind.operator_id == operator_id)
        .order_by(kind.position)
    )  # fmt: skip
    proofs: dict[str, list[ProofKind]] = {}
    for unit_code, kind_id, code, label, request, interactions, plan, extra in connection.execute(statement):  # fmt: skip
        titles = tuple(line.strip() for line in extra.splitlines() if line.strip())
        proofs.setdefault(unit_code, []).append(
            ProofKind(
                kind_id, code, label, request, interactions, plan, titles, *placeholders[code]
            )
        )
    return proofs


def password_hash() -> str:
    """Hashed once with the app's hasher: every generated account shares it."""
    return hash_password(SYNTHETIC_PASSWORD)
