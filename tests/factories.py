"""Small builders for test data; each takes the session and keyword overrides. Also the plain
helpers several test modules share (reading a page, an API header, a free port)."""

import html
import re
import secrets
import socket
from datetime import UTC, date, datetime, timedelta
from itertools import count
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from app.core.dates import local_today
from app.core.files import Upload
from app.core.otp import new_totp_secret, totp_code_at
from app.core.security import create_api_token, hash_password
from app.core.storage import get_storage, sha256_of
from app.models.appointments import Appointment
from app.models.base import utcnow
from app.models.beneficiaries import BeneficiaryCreate
from app.models.cases import CaseOpen, Episode, EpisodeStart, InteractionCreate
from app.models.catalogue import DeliverableKind, ServiceUnit, UnitProofRequirement
from app.models.credentials import StaffTotp
from app.models.deliverables import DeliverableDraft
from app.models.nomenclatures import Channel, InteractionChannel, PartnerType, RequestMotive, Role
from app.models.operators import Operator, Site
from app.models.outbox import OutboxMessage
from app.models.partners import Partner, PartnerCreate
from app.models.staff import StaffUser
from app.services.access.auth import start_session
from app.services.admin.markets import episode_lot_id
from app.services.admin.operators import create_operator
from app.services.cases.beneficiaries import create_beneficiary
from app.services.cases.episodes import start_episode
from app.services.cases.interactions import record_interaction
from app.services.cases.lifecycle import open_case
from app.services.deliverables.attachments import add_attachment
from app.services.deliverables.documents import issue_deliverable, save_draft, start_draft
from app.services.messaging.email_templates import write_email
from app.services.messaging.mail import DeliveryError
from app.services.referrals.partners import add_partner

PASSWORD = "mot-de-passe-de-test"
_PASSWORD_HASH = hash_password(PASSWORD)  # argon2 is slow on purpose: hash once
_seq = count(1)


def paris_today() -> date:
    """Today for the test operators (Europe/Paris), which the app checks dates against: from
    23:00 or 22:00 UTC it is already tomorrow there, while date.today() on a UTC machine is not."""
    return local_today("Europe/Paris")


def make_operator(session: Session, code: str = "ARA", name: str = "Auvergne-Rhône-Alpes"):
    existing = session.exec(select(Operator).where(Operator.code == code)).first()
    if existing:
        return existing
    return create_operator(session=session, code=code, name=name, region_code="84")


def enrol(session: Session, user: StaffUser) -> str:
    """Give `user` a confirmed authenticator app; returns its secret, for totp_code_at."""
    secret = new_totp_secret()
    session.add(StaffTotp(staff_id=user.id, secret=secret, confirmed_at=utcnow()))
    session.flush()
    return secret


def code_now(secret: str, steps: int = 0) -> str:
    """The code the app of `secret` shows now (`steps` time steps of 30 s later or earlier)."""
    return totp_code_at(secret, utcnow(), steps)


def make_site(session: Session, operator: Operator, **overrides) -> Site:
    values = {"name": "Lyon Part-Dieu", "postcode": "69003", "city": "Lyon", **overrides}
    site = Site(operator_id=operator.id, **values)
    session.add(site)
    session.flush()
    return site


def make_staff(
    session: Session, operator: Operator | None = None, role: Role = Role.COUNSELLOR, **overrides
) -> StaffUser:
    n = next(_seq)
    values = {
        "email": f"agent{n}@exemple.fr",
        "full_name": f"Agent {n}",
        "role": role.value,
        "password_hash": _PASSWORD_HASH,
        "password_set_at": utcnow(),
        "operator_id": operator.id if operator else None,
        # Each controller in a team of its own unless told otherwise.
        "control_team": f"Équipe de contrôle {n}" if role == Role.CONTROLLER else None,
        **overrides,
    }
    user = StaffUser(**values)
    session.add(user)
    session.flush()
    return user


def make_beneficiary(session: Session, actor: StaffUser, **overrides):
    n = next(_seq)
    values = {"first_name": "Zoé", "last_name": f"Lefèvre{n}", "email": f"zoe{n}@exemple.fr"}
    return create_beneficiary(
        session=session, actor=actor, data=BeneficiaryCreate(**{**values, **overrides})
    )


def make_case(session: Session, actor: StaffUser, beneficiary=None, **overrides):
    beneficiary = beneficiary or make_beneficiary(session, actor)
    data = CaseOpen(
        beneficiary_id=beneficiary.id,
        channel=Channel.PHONE,
        motive=RequestMotive.RETRAIN,
        **overrides,
    )
    return open_case(session=session, actor=actor, data=data)


def log_in(client, session: Session, user: StaffUser) -> str:
    """Give the test client a browser session for `user`; returns its CSRF token."""
    token, row = start_session(session=session, user=user)
    client.cookies.set("filrouge_session", token)
    return row.csrf_token


def log_in_as(client, session: Session, operator, role: Role = Role.COUNSELLOR):
    """A new staff member of `operator` with `role`, signed in: (the user, the CSRF token)."""
    user = make_staff(session, operator, role)
    return user, log_in(client, session, user)


def anonymous_csrf(client, path: str) -> str:
    """A visitor's CSRF token (the cookie a first page sets), for the public forms."""
    client.get(path)
    return client.cookies.get("filrouge_csrf")


def bearer(user: StaffUser) -> dict[str, str]:
    """The header that calls the API as `user`."""
    return {"Authorization": f"Bearer {create_api_token(user)}"}


def read(response) -> str:
    """The page as a person reads it: entities such as &#39; decoded."""
    return html.unescape(response.text)


DONE = re.compile(
    r'<p class="alert success done" role="status" tabindex="-1"( autofocus)?>(.*?)</p>', re.S
)


def confirmations(response) -> list[str]:
    """The confirmations an action's answer shows (_partials/done.html), as read: « ✓ » and
    tags left out, spaces collapsed; each starts with « [focus] » when it takes the focus."""
    said = []
    for focus, inner in DONE.findall(response.text):
        text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", inner)).replace("✓", "").split())
        said.append(("[focus] " if focus else "") + text)
    return said


def free_port() -> int:
    """A TCP port free on 127.0.0.1 just now, for a server a test starts."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def post_login(app, address: tuple[str, int], email: str, password: str):
    """Post the login form as a browser connecting from `address` would, cookies and all."""
    client = TestClient(app, client=address)
    page = client.get("/login")
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    form = {"email": email, "password": password, "csrf_token": token}
    return client.post("/login", data=form, follow_redirects=False)


def unit_id(session: Session, code: str) -> int:
    return session.exec(select(ServiceUnit.id).where(ServiceUnit.code == code)).one()


def make_episode(session: Session, actor: StaffUser, case, code: str = "UO1"):
    episode, _warnings = start_episode(
        session=session,
        actor=actor,
        case_id=case.id,
        data=EpisodeStart(unit_id=unit_id(session, code)),
    )
    return episode


def make_interaction(session: Session, actor: StaffUser, case, **overrides):
    values = {
        "occurred_at": utcnow() - timedelta(hours=1),
        "duration_minutes": 30,
        "channel": InteractionChannel.PHONE,
        **overrides,
    }
    return record_interaction(
        session=session, actor=actor, case_id=case.id, data=InteractionCreate(**values)
    )


def make_deliverable(
    session: Session,
    case,
    kind_code: str,
    *,
    episode=None,
    issued: bool = True,
    acknowledgement: str | None = None,
    shared: bool = False,
):
    """A deliverable of the operator's kind `kind_code`, written straight into the tables:
    a draft (`issued=False`), or one issued version, e-mailed (`shared`), acknowledged online
    or by signed scan."""
    # Imported here so that this builder stays one block, appended after the others.
    from app.models.deliverables import Deliverable, DeliverableVersion
    from app.services.deliverables.feed_order import next_feed_seq

    kind = deliverable_kind(session, case.operator_id, kind_code)
    deliverable = Deliverable(
        operator_id=case.operator_id,
        case_id=case.id,
        kind_id=kind.id,
        episode_id=episode.id if episode else None,
        title=kind.label,
        status="issued" if issued else "draft",
        version_count=1 if issued else 0,
    )
    session.add(deliverable)
    session.flush()
    if issued:
        acknowledged_at = utcnow() if acknowledgement else None
        session.add(
            DeliverableVersion(
                operator_id=case.operator_id,
                deliverable_id=deliverable.id,
                number=1,
                storage_key=f"test/{deliverable.id}.pdf",
                sha256="0" * 64,
                size_bytes=1,
                shared_at=utcnow() if shared else None,
                acknowledged_at=acknowledged_at,
                acknowledgement_method=acknowledgement,
                feed_seq=next_feed_seq(session, case.operator_id),
            )
        )
        session.flush()
    return deliverable


# The smallest file that the uploads take for a PDF; version 1 of a deliverable, too, where a
# test replaces the slow rendering with it.
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"


def draft(session: Session, actor: StaffUser, case, code="document_synthese", episode=None):
    """A draft of the operator's kind of deliverable `code`, started through the service."""
    data = DeliverableDraft(
        kind_id=deliverable_kind(session, case.operator_id, code).id,
        episode_id=episode.id if episode else None,
    )
    return start_draft(session=session, actor=actor, case_id=case.id, data=data)


def issued_then_edited(session: Session, counsellor: StaffUser, case, kind, episode):
    """Version 1 issued, then a section changed: the next version's draft, ready to issue."""
    data = DeliverableDraft(kind_id=kind.id, episode_id=episode.id)
    deliverable = start_draft(session=session, actor=counsellor, case_id=case.id, data=data)
    issue_deliverable(session=session, actor=counsellor, deliverable_id=deliverable.id)
    key = deliverable.sections[-1]["key"]
    save_draft(
        session=session,
        actor=counsellor,
        deliverable_id=deliverable.id,
        bodies={key: "Projet confirmé : aide-soignante."},
    )
    return deliverable


def kept_file(
    session: Session,
    counsellor: StaffUser,
    case,
    *,
    filename: str = "releve.pdf",
    description: str = "Relevé",
):
    """A PDF kept with the case, as if it had just been received."""
    path = get_storage().temporary_path()
    path.write_bytes(PDF)
    upload = Upload(
        path=path,
        filename=filename,
        content_type="application/pdf",
        size=len(PDF),
        sha256=sha256_of(PDF),
        fields={},
    )
    return add_attachment(
        session=session, actor=counsellor, case_id=case.id, upload=upload, description=description
    )


# ---------- Episodes ended in the past (control campaigns, the unit ledger) ----------

# Within November 2026, the month that the campaign tests draw from.
IN_NOVEMBER = datetime(2026, 11, 10, 9, tzinfo=UTC)


def ended_unit(session: Session, case, code="UO1", ended_at=IN_NOVEMBER) -> Episode:
    """An episode of unit `code`, three days long, ended at `ended_at`."""
    started_at = ended_at - timedelta(days=3)
    episode = Episode(
        operator_id=case.operator_id,
        case_id=case.id,
        unit_id=unit_id(session, code),
        started_at=started_at,
        ended_at=ended_at,
        lot_id=episode_lot_id(session, case.operator_id, started_at),
    )
    session.add(episode)
    session.flush()
    return episode


def required_kinds(session: Session, operator: Operator, code: str) -> list[str]:
    """The kinds of deliverable that prove the operator's unit `code`."""
    statement = (
        select(DeliverableKind.code)
        .join(UnitProofRequirement, UnitProofRequirement.kind_id == DeliverableKind.id)
        .where(
            UnitProofRequirement.operator_id == operator.id,
            UnitProofRequirement.unit_id == unit_id(session, code),
        )
    )
    return list(session.exec(statement))


def delivered(session, counsellor, code, ended_at, *, proofs="none", case=None) -> Episode:
    """An episode of `code` ended at `ended_at`, its required deliverables in state `proofs`:
    none, draft, issued (neither sent nor acknowledged), shared (e-mailed, not acknowledged)
    or acknowledged."""
    case = case or make_case(session, counsellor)
    started_at = ended_at - timedelta(days=2)
    episode = Episode(
        operator_id=case.operator_id,
        case_id=case.id,
        unit_id=unit_id(session, code),
        started_at=started_at,
        ended_at=ended_at,
        lot_id=episode_lot_id(session, case.operator_id, started_at),
    )
    session.add(episode)
    session.flush()
    if proofs != "none":
        operator = make_operator(session)  # the test operator, already there
        for kind_code in required_kinds(session, operator, code):
            make_deliverable(
                session,
                case,
                kind_code,
                episode=episode,
                issued=proofs != "draft",
                acknowledgement="online" if proofs == "acknowledged" else None,
                shared=proofs == "shared",
            )
    return episode


def make_partner(session: Session, operator: Operator, **overrides):
    """A partner of the operator's directory (a bilan de compétences centre by default)."""
    n = next(_seq)
    values = {
        "name": f"Centre de bilan {n}",
        "type": "bilan_competences",
        "departements": "69",
        "contact_name": "Nadia Benali",
        "email": f"bilan{n}@partenaire.fr",
        **overrides,
    }
    partner = Partner(operator_id=operator.id, **values)
    session.add(partner)
    session.flush()
    return partner


# ---------- Appointments (online booking) ----------


def make_appointment_type(session: Session, operator: Operator, **overrides):
    from app.models.appointments import AppointmentType

    values = {
        "name": f"Premier rendez-vous CEP {next(_seq)}",
        "duration_minutes": 60,
        "min_notice_hours": 2,
        "max_horizon_days": 30,
        **overrides,
    }
    kind = AppointmentType(operator_id=operator.id, **values)
    session.add(kind)
    session.flush()
    return kind


def make_openings(session: Session, counsellor: StaffUser, site: Site | None, **overrides):
    """Every day of the week, 9:00–12:00 local, from today on."""
    from datetime import time

    from app.models.appointments import OpeningSlot

    rows = []
    for weekday in range(7):
        values = {
            "weekday": weekday,
            "start_time": time(9),
            "end_time": time(12),
            "valid_from": utcnow().date() - timedelta(days=1),
            **overrides,
        }
        rows.append(
            OpeningSlot(
                operator_id=counsellor.operator_id,
                counsellor_id=counsellor.id,
                site_id=site.id if site else None,
                **values,
            )
        )
    session.add_all(rows)
    session.flush()
    return rows


def working_day_at(site: Site, days_ahead: int = 10, hour: int = 9):
    """An aware start `days_ahead` from now at `hour` local, moved past public holidays."""
    from datetime import datetime

    from app.services.booking.slots import holiday_subdivision, is_public_holiday

    day = utcnow().date() + timedelta(days=days_ahead)
    while is_public_holiday(day, holiday_subdivision(postcode=site.postcode)):
        day += timedelta(days=1)
    zone = ZoneInfo(site.time_zone)
    return datetime(day.year, day.month, day.day, hour, tzinfo=zone)


def make_appointment(
    session: Session,
    *,
    starts_at: datetime,
    mode: str = "on_site",
    email: str | None = "",
    site=None,
    counsellor=None,
    appointment_type=None,
    beneficiary=None,
    **overrides,
):
    """A booked appointment written straight into the table, with what it needs around it:
    unless given, ARA's counsellor Camille Martin, a site (on site), a type and a beneficiary.
    The appointment is the counsellor's operator's."""
    if counsellor is None:
        counsellor = make_staff(session, make_operator(session), full_name="Camille Martin")
    operator = session.get(Operator, counsellor.operator_id)
    if site is None and mode == "on_site":
        site = make_site(session, operator, address="10 rue de la Part-Dieu")
    kind = appointment_type or make_appointment_type(session, operator)
    if beneficiary is None:
        # An empty e-mail means a fresh one: beneficiaries are de-duplicated on it.
        email = f"zoe.{secrets.token_hex(4)}@exemple.fr" if email == "" else email
        beneficiary = make_beneficiary(session, counsellor, email=email)
    ends_at = starts_at + timedelta(minutes=kind.duration_minutes)
    appointment = Appointment(
        operator_id=operator.id,
        reference=f"RDV-{secrets.token_hex(4).upper()}",
        appointment_type_id=kind.id,
        counsellor_id=counsellor.id,
        site_id=site.id if site else None,
        mode=mode,
        starts_at=starts_at,
        ends_at=ends_at,
        blocks_until=ends_at + timedelta(minutes=kind.buffer_minutes),
        beneficiary_id=beneficiary.id,
        ics_uid=f"{secrets.token_hex(12)}@filrouge",
        **overrides,
    )
    session.add(appointment)
    session.flush()
    return appointment


# ---------- The public booking pages, as a browser without JavaScript goes through them ----------


def links(page_html: str) -> list[str]:
    """Every address a page links to or posts to."""
    return [html.unescape(u) for u in re.findall(r'(?:href|action)="([^"]*)"', page_html)]


def first_slot_link(page_html: str) -> str:
    """The first slot a page of slots offers: the address of its contact form."""
    return next(u for u in links(page_html) if u.startswith("/rendez-vous/coordonnees?"))


def hidden(page_html: str, name: str) -> str:
    """The value of the form's hidden field `name`."""
    return html.unescape(re.search(rf'name="{name}" value="([^"]*)"', page_html).group(1))


def contact_page(client, agenda, postcode: str = "69003"):
    """The contact form of the first on-site slot of `agenda` (operator ARA, site, type) and
    the visitor's CSRF token; `postcode` is typed at the first step. Under the `clock`: that
    slot, listed a moment before a quarter hour, would otherwise fall within the minimum
    notice when booked a moment after."""
    operator, site, kind = agenda
    token = anonymous_csrf(client, "/rendez-vous?operateur=ARA")
    page = client.post(
        "/rendez-vous/lieu",
        data={
            "csrf_token": token,
            "operateur": "ARA",
            "motif": kind.id,
            "mode": "on_site",
            "postcode": postcode,
        },
    )
    assert site.name in page.text
    slots = client.get(
        f"/rendez-vous/creneaux?operateur=ARA&motif={kind.id}&mode=on_site&lieu={site.id}"
    )
    assert slots.status_code == 200
    return client.get(first_slot_link(slots.text)), token


def submit(client, page, token, **overrides):
    """Post the contact form of `page` filled in for Inès Moreau; `overrides` change fields."""
    data = {
        name: hidden(page.text, name)
        for name in ("operateur", "motif", "mode", "lieu", "debut", "idempotency_key")
    }
    data.update(
        csrf_token=token,
        first_name="Inès",
        last_name="Moreau",
        email="ines.moreau@exemple.fr",
        phone="06 12 34 56 78",
        postcode="69003",
        consent="1",
        request="Reconversion",
        site_web="",
    )
    data.update(overrides)
    return client.post("/rendez-vous/coordonnees", data=data, follow_redirects=False)


# ---------- Reading back what the app wrote ----------


def outbox_messages(session: Session) -> list:
    """Every e-mail queued in the outbox, in order; those the worker writes when it sends
    them (a confirmation) written as it would write them now, when there is something to say."""
    query = select(OutboxMessage).where(OutboxMessage.channel == "email")
    messages = list(session.exec(query.order_by(OutboxMessage.id)))
    for message in messages:
        if message.template and not message.body_text:
            try:
                write_email(session=session, message=message)
            except DeliveryError:
                pass  # the worker would not send it: left as queued
    return messages


def sms_messages(session: Session) -> list:
    """Every SMS queued in the outbox, in order."""
    query = select(OutboxMessage).where(OutboxMessage.channel == "sms")
    return list(session.exec(query.order_by(OutboxMessage.id)))


def deliverable_kind(session: Session, operator_id: int, code: str = "document_synthese"):
    """The operator's kind of deliverable `code` (each operator gets the catalogue's kinds)."""
    query = select(DeliverableKind).where(
        DeliverableKind.operator_id == operator_id, DeliverableKind.code == code
    )
    return session.exec(query).one()


def new_partner(
    session: Session, operator: Operator, name="Apec Lyon", type=PartnerType.APEC, **overrides
) -> Partner:
    """A partner added to the operator's directory through the service, as an admin would."""
    data = PartnerCreate(name=name, type=type, **overrides)
    return add_partner(session=session, operator_id=operator.id, data=data)


def partner_count(session: Session, operator: Operator) -> int:
    query = select(func.count()).select_from(Partner).where(Partner.operator_id == operator.id)
    return session.exec(query).one()


def report_rows(report, key: str) -> dict:
    """A section of a report (activity, national) as {row label: the other cells}."""
    return {row[0]: row[1:] for row in report.section(key).rows}


# ---------- Markets and lots ----------

CURRENT_MARKET = "Marché 2024-2027"  # the one the migrations create


def make_market(session: Session, name: str, starts_on: date, ends_on: date, **unit_terms):
    """A market with every unit of the catalogue; `unit_terms` (billable, proof_rule) apply
    to all of them."""
    from app.models.markets import Market, MarketUnit

    market = Market(name=name, starts_on=starts_on, ends_on=ends_on)
    session.add(market)
    session.flush()
    for unit in session.exec(select(ServiceUnit).order_by(ServiceUnit.position)):
        session.add(
            MarketUnit(market_id=market.id, unit_id=unit.id, position=unit.position, **unit_terms)
        )
    session.flush()
    return market


def make_lot(session: Session, operator: Operator, market=None, **prices):
    """The operator's lot in `market` (the current one by default); `prices` give a price from
    the lot's first day, per unit code with its dot written as an underscore (UO2_1="300")."""
    from decimal import Decimal

    from app.models.markets import Lot, LotPrice, Market

    if market is None:
        market = session.exec(select(Market).where(Market.name == CURRENT_MARKET)).one()
    lot = Lot(
        market_id=market.id,
        operator_id=operator.id,
        starts_on=market.starts_on,
        ends_on=market.ends_on,
    )
    session.add(lot)
    session.flush()
    for code, amount in prices.items():
        session.add(
            LotPrice(
                lot_id=lot.id,
                unit_id=unit_id(session, code.replace("_", ".")),
                amount=Decimal(amount),
                effective_from=lot.starts_on,
                effective_at=datetime.combine(
                    lot.starts_on, datetime.min.time(), ZoneInfo(operator.time_zone)
                ),
            )
        )
    session.flush()
    return lot


def use_proof_rule(session: Session, operator: Operator, rule: str):
    """The operator's episodes from now on follow `rule` (« remis » or « accuse »): a lot in
    the current market, whose units all take that rule."""
    from app.models.markets import MarketUnit

    lot = make_lot(session, operator)
    for terms in session.exec(select(MarketUnit).where(MarketUnit.market_id == lot.market_id)):
        terms.proof_rule = rule
        session.add(terms)
    session.flush()
    return lot


# The purpose an export with personal data states (app/services/audit/purposes.py): as a page's
# form sends it, and as an API client does.
EXPORT_PURPOSE = "finalite=controle_service_fait"
API_PURPOSE = "purpose=controle_service_fait"
