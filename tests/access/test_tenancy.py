"""Tenant isolation: the staff of BRE never read nor change a row of ARA, on any surface.

Every refusal is a 404 (never a 403, which would confirm the row exists) and shows no data.
Episodes and interactions are read on their case page (whole or as the htmx fragment) and
listed by the case endpoints of the API; those are their read surfaces. Deliverables, action
steps and attachments have pages and endpoints of their own; outbox messages are retried by
managers and deliverable kinds changed by operator admins, who also read the lists of
« Messages », « Preuves manquantes » and « Types de livrables ». Each operator keeps its own
partner directory (read by counsellors, kept by managers and admins, also as CSV) and its own
referrals to those partners, listed on the case and on the counsellor's home page. Its
booking: appointments (on the case's booking panel, marked on the agenda), motifs kept by
admins, counsellors' openings and absences kept by managers, and the sites and staff the
agenda is filtered by. `test_every_route_naming_a_row_is_tried` keeps the matrix whole.
The beneficiary's link /documents/{token} and the partner's link /partenaire/orientations/{token}
are signed, not tenant-scoped: they are not tried here.
"""

import base64
import html
import io
import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from sqlmodel import func, select

from app.core.config import get_settings
from app.core.dates import local_today
from app.core.security import create_api_token, create_client_token, token_digest
from app.core.storage import get_storage
from app.models.api_clients import ApiClient, ApiClientCreate
from app.models.appointments import Absence, Appointment, AppointmentType, OpeningSlot
from app.models.attachments import Attachment
from app.models.base import utcnow
from app.models.beneficiaries import Beneficiary
from app.models.cases import Case, Episode, Interaction
from app.models.catalogue import DeliverableKind, DeliverableKindEdit, UnitProofRequirement
from app.models.control import (
    CampaignKind,
    ControlCampaign,
    ControlFinding,
    FindingReason,
    PackStatus,
    Verdict,
)
from app.models.credentials import ApiKey, StaffTotp
from app.models.deliverable_archives import ArchiveStatus, DeliverableArchive
from app.models.deliverables import (
    ActionStep,
    ActionStepWrite,
    Deliverable,
    DeliverableDraft,
    DeliverableVersion,
)
from app.models.markets import Lot, LotPrice
from app.models.nomenclatures import (
    Channel,
    PartnerType,
    RequestMotive,
    Role,
    StepOwner,
)
from app.models.notifications import Notification, NotificationKind
from app.models.operators import Permanence, PermanenceStaff, Site, SiteEvent
from app.models.outbox import MessageStatus, OutboxMessage
from app.models.partners import Partner, PartnerCreate, Referral, ReferralCreate, ReferralEvent
from app.models.rights import AccessArchive, RightKind, RightsRequest
from app.models.staff import AccountLink, StaffEvent, StaffSite, StaffUser
from app.models.surveys import SurveyKind, SurveyQuestionnaire
from app.models.triage import TriageCreate, TriageRequest
from app.models.uo4 import Uo4Action, Uo4ActionEdit, Uo4Attendee, Uo4Event
from app.models.waiting_list import WaitingListEntry
from app.services.access.api_clients import create_api_client
from app.services.access.scope import owned_by
from app.services.admin.uo4 import create_action
from app.services.cases.lifecycle import case_time_zone
from app.services.cases.triage import create_request
from app.services.control.proof_catalogue import create_kind
from app.services.deliverables.action_plan import add_step
from app.services.deliverables.dms_feed import feed_cursor
from app.services.deliverables.documents import issue_deliverable, save_draft, start_draft
from app.services.deliverables.sharing import share_version
from app.services.messaging.notifications import notify
from app.services.referrals.partners import create_partner
from app.services.referrals.workflow import propose_referral
from app.services.surveys.drafts import draft_of
from app.services.surveys.editing import save_questionnaire
from app.services.surveys.questionnaires import current_questionnaire
from tests.app_routes import api_routes
from tests.factories import (
    PDF,
    kept_file,
    log_in,
    make_appointment_type,
    make_beneficiary,
    make_case,
    make_episode,
    make_interaction,
    make_lot,
    make_operator,
    make_partner,
    make_site,
    make_staff,
    paris_today,
    unit_id,
)
from tests.surveys.survey_rows import invite

HTMX = {"HX-Request": "true"}
# ARA's partner directory and its referrals.
DIRECTORY_SECRETS = (
    "Partenaire confidentiel ARA",
    "Ancien partenaire ARA",
    "Contact confidentiel ARA",
    "partenaire-ara.fr",  # its e-mail address
    "Orientation confidentielle ARA",
    "Partage confidentiel ARA",
)
# What ARA holds about its beneficiary: none of it may ever reach BRE.
SECRETS = (
    "Sidonie",
    "VAUTRIN",
    "Vautrin",
    "sidonie.vautrin@exemple.fr",
    "Note confidentielle",
    "Demande confidentielle",
    "+33698765432",
    "06 98 76 54 32",
    # ARA's documents carry its code: BRE's own, on BRE's pages, never match.
    "Bilan confidentiel ARA",  # ARA's deliverable kind, so its deliverable's and e-mail's title
    "Section confidentielle ARA",
    "Étape confidentielle ARA",
    "releve-confidentiel-ARA",
    "Pièce confidentielle ARA",
    "Refus confidentiel ARA",
    "Notification confidentielle ARA",
    *DIRECTORY_SECRETS,
    # Its booking: a site, a motif, an absence.
    "Lieu confidentiel ARA",
    "Motif confidentiel ARA",
    "Absence confidentielle ARA",
    # What it funds from UO4.
    "Action UO4 confidentielle ARA",
    # Its questionnaires.
    "Questionnaire confidentiel ARA",
)


@dataclass
class Tenant:
    counsellor: StaffUser
    manager: StaffUser
    admin: StaffUser
    beneficiary: Beneficiary
    case: Case
    episode: Episode
    interaction: Interaction
    triage: TriageRequest
    kind: DeliverableKind
    deliverable: Deliverable
    step: ActionStep
    attachment: Attachment
    message: OutboxMessage
    partner: Partner
    former_partner: Partner  # inactive: no longer proposed, kept for past referrals
    referral: Referral  # proposed, to follow up today
    sent_referral: Referral  # e-mailed to the partner, awaiting its answer
    campaign: ControlCampaign  # a control campaign whose proof pack failed
    official: ControlCampaign  # France compétences' campaign on the operator, still open
    site: Site
    motif: AppointmentType
    opening: OpeningSlot  # the counsellor's at the site
    absence: Absence  # the counsellor's, to come
    appointment: Appointment  # with the counsellor at the site, yesterday, not yet marked
    notification: Notification  # the counsellor's, unread, about the case
    permanence: Permanence  # the site's, in a town hall, held by the counsellor
    lot: Lot  # its lot in the current market, priced
    uo4: Uo4Action  # a training the counsellor attended
    api_key: ApiKey  # the counsellor's personal API key
    rights_request: RightsRequest  # the person's access request, its archive ready
    archive: AccessArchive
    waiting: WaitingListEntry  # the person waits for a phone slot of the motif
    period_archive: DeliverableArchive  # an archive of the deliverables, under way
    version: DeliverableVersion  # the deliverable's version 1, in the documents' feed
    api_client: ApiClient  # the document system's client, in force

    @property
    def ids(self) -> dict[str, int | str]:
        return {
            "beneficiary": self.beneficiary.id,
            "case": self.case.id,
            "episode": self.episode.id,
            "interaction": self.interaction.id,
            "triage": self.triage.id,
            "kind": self.kind.id,
            "deliverable": self.deliverable.id,
            "step": self.step.id,
            "attachment": self.attachment.id,
            "message": self.message.id,
            "partner": self.partner.id,
            "former_partner": self.former_partner.id,
            "referral": self.referral.id,
            "sent_referral": self.sent_referral.id,
            "campaign": self.campaign.id,
            "official": self.official.id,
            "counsellor": self.counsellor.id,
            "site": self.site.id,
            "motif": self.motif.id,
            "opening": self.opening.id,
            "absence": self.absence.id,
            "appointment": self.appointment.id,
            "notification": self.notification.id,
            "permanence": self.permanence.id,
            "lot": self.lot.id,
            "uo4": self.uo4.id,
            "api_key": self.api_key.id,
            "rights_request": self.rights_request.id,
            "archive": self.archive.id,
            "waiting": self.waiting.id,
            "period_archive": self.period_archive.id,
            "version": self.version.id,
            "api_client": self.api_client.id,
            "operator": self.counsellor.operator_id,
            "day": self.appointment.starts_at.astimezone(ZoneInfo("Europe/Paris")).date(),
        }


def populate(session, code: str, name: str, **person) -> Tenant:
    """An operator's staff with one of everything: person, case, episode, contact, request,
    a deliverable of its own kind (issued, e-mailed), an action plan, an attachment, partners
    (one active, one no longer), two referrals of the case (one proposed, one sent), and its
    booking: a site, a motif, an opening, an absence and an appointment of the case."""
    operator = make_operator(session, code, name)
    counsellor = make_staff(session, operator)
    manager = make_staff(session, operator, Role.MANAGER)
    admin = make_staff(session, operator, Role.OPERATOR_ADMIN)
    beneficiary = make_beneficiary(session, counsellor, **person)
    case = make_case(session, counsellor, beneficiary)
    episode = make_episode(session, counsellor, case)
    interaction = make_interaction(
        session, counsellor, case, episode_id=episode.id, summary=f"Note confidentielle {code}"
    )
    triage = create_request(
        session=session,
        actor=counsellor,
        data=TriageCreate(
            beneficiary_id=beneficiary.id,
            channel=Channel.PHONE,
            motive=RequestMotive.RETRAIN,
            request_text=f"Demande confidentielle {code}",
        ),
    )
    kind = create_kind(
        session=session,
        actor=admin,
        data=DeliverableKindEdit(
            label=f"Bilan confidentiel {code}",
            extra_sections="Observations",
            unit_ids=[unit_id(session, "UO1")],
        ),
    )
    deliverable = issued_deliverable(session, counsellor, case, kind, episode, code)
    step = add_plan_step(session, counsellor, case, f"Étape confidentielle {code}")
    add_plan_step(session, counsellor, case, "Deuxième étape")  # so that a move shows
    attachment = kept_file(
        session,
        counsellor,
        case,
        filename=f"releve-confidentiel-{code}.pdf",
        description=f"Pièce confidentielle {code}",
    )
    message = failed_email(session, counsellor, deliverable, code)
    partner, former_partner = directory(session, operator, admin, code)
    referral = refer(session, counsellor, case, partner, code)
    sent_referral = refer(session, counsellor, case, partner, code, send_now=True)
    site = make_site(session, operator, name=f"Lieu confidentiel {code}")
    motif = make_appointment_type(session, operator, name=f"Motif confidentiel {code}")
    yesterday = paris_today() - timedelta(days=1)  # so that its appointment may be marked
    edited_questionnaire(session, admin, code)
    return Tenant(
        counsellor,
        manager,
        admin,
        beneficiary,
        case,
        episode,
        interaction,
        triage,
        kind,
        deliverable,
        step,
        attachment,
        message,
        partner,
        former_partner,
        referral,
        sent_referral,
        failed_campaign(session, manager, code),
        official_campaign(session, manager, episode),
        site,
        motif,
        *planning(session, counsellor, site, code),
        appointment_yesterday(session, counsellor, motif, case, site, yesterday),
        told(session, counsellor, case, code),
        held_permanence(session, counsellor, site, code),
        make_lot(session, operator, UO1="111.11"),
        uo4_training(session, admin, counsellor, code),
        personal_key(session, counsellor, code),
        *access_request(session, beneficiary),
        waiting_entry(session, beneficiary, motif),
        deliverables_archive(session, admin),
        session.exec(
            select(DeliverableVersion).where(owned_by(DeliverableVersion, operator.id))
        ).one(),
        create_api_client(session=session, actor=admin, data=ApiClientCreate(name=f"GED {code}"))[
            0
        ],
    )


def waiting_entry(session, beneficiary, motif) -> WaitingListEntry:
    """The person is on the waiting list for a phone appointment of the motif."""
    entry = WaitingListEntry(
        operator_id=beneficiary.operator_id,
        appointment_type_id=motif.id,
        mode="phone",
        beneficiary_id=beneficiary.id,
        weekdays="0 1 2 3 4",
        half_days="morning",
    )
    session.add(entry)
    session.flush()
    return entry


def deliverables_archive(session, admin) -> DeliverableArchive:
    """The admin asked for the year's deliverables; the archive is ready for a week."""
    archive = DeliverableArchive(
        operator_id=admin.operator_id,
        requested_by_id=admin.id,
        filters={"start": "2026-01-01", "end": "2026-12-31", "content": "issued_versions"},
        status=ArchiveStatus.READY.value,
        documents_total=1,
        storage_key=get_storage().save(b"PK\x05\x06" + bytes(18)),
        sha256="0" * 64,
        size_bytes=22,
        expires_at=utcnow() + timedelta(days=7),
    )
    session.add(archive)
    session.flush()
    return archive


def access_request(session, beneficiary) -> tuple[RightsRequest, AccessArchive]:
    """The person asked for their data; the archive is ready for a week."""
    received = paris_today() - timedelta(days=3)
    request = RightsRequest(
        operator_id=beneficiary.operator_id,
        beneficiary_id=beneficiary.id,
        kind=RightKind.ACCESS.value,
        received_on=received,
        received_via="letter",
        due_on=received + timedelta(days=30),
    )
    session.add(request)
    session.flush()
    archive = AccessArchive(
        operator_id=beneficiary.operator_id,
        request_id=request.id,
        status=PackStatus.READY.value,
        archive_key=get_storage().save(b"PK\x05\x06" + bytes(18)),
        archive_size=22,
        finished_at=utcnow(),
        expires_at=utcnow() + timedelta(days=7),
    )
    session.add(archive)
    session.flush()
    return request, archive


def edited_questionnaire(session, admin, code: str) -> SurveyQuestionnaire:
    """Version 2 of its end-of-level-1 questionnaire, under a title of its own."""
    kind = SurveyKind.END_LEVEL_1
    current = current_questionnaire(session=session, operator_id=admin.operator_id, kind=kind)
    draft = draft_of(current, kind)
    draft.title = f"Questionnaire confidentiel {code}"
    return save_questionnaire(session=session, actor=admin, kind=kind, draft=draft)


def personal_key(session, counsellor, code: str) -> ApiKey:
    key = ApiKey(
        staff_id=counsellor.id, name=f"Clé {code}", key_hash=token_digest(code), hint="frk_test"
    )
    session.add(key)
    session.flush()
    return key


def uo4_training(session, admin, counsellor, code: str) -> Uo4Action:
    data = {"kind": "formation", "title": f"Action UO4 confidentielle {code}", "hours": "7",
            "starts_on": "2026-03-02", "amount": "900",
            "attendees": [{"staff_id": counsellor.id, "hours": ""}]}  # fmt: skip
    return create_action(session=session, actor=admin, data=Uo4ActionEdit.model_validate(data))


def held_permanence(session, counsellor, site, code: str) -> Permanence:
    """The site's permanence in a town hall on Tuesdays, held by the counsellor."""
    permanence = Permanence(
        operator_id=site.operator_id,
        site_id=site.id,
        venue=f"Permanence confidentielle {code}",
        postcode="69120",
        city="Vaulx-en-Velin",
        weekdays="1",
        start_time=time(9),
        end_time=time(12),
        starts_on=paris_today(),
    )
    session.add(permanence)
    session.flush()
    session.add(PermanenceStaff(permanence_id=permanence.id, staff_id=counsellor.id))
    session.flush()
    return permanence


def told(session, counsellor, case, code: str) -> Notification:
    return notify(
        session=session,
        operator_id=counsellor.operator_id,
        recipient_id=counsellor.id,
        kind=NotificationKind.REFERRAL_ANSWERED,
        text=f"Notification confidentielle {code}",
        link=f"/cases/{case.id}",
        case_id=case.id,
    )


def planning(session, counsellor, site, code: str) -> tuple[OpeningSlot, Absence]:
    """The counsellor receives at the site on Mondays, and will be away in three weeks."""
    opening = OpeningSlot(
        operator_id=counsellor.operator_id,
        counsellor_id=counsellor.id,
        site_id=site.id,
        weekday=0,
        start_time=time(9),
        end_time=time(12),
        valid_from=date(2026, 1, 1),
    )
    away = utcnow() + timedelta(days=21)
    absence = Absence(
        operator_id=counsellor.operator_id,
        counsellor_id=counsellor.id,
        starts_at=away,
        ends_at=away + timedelta(days=1),
        reason=f"Absence confidentielle {code}",
    )
    session.add_all([opening, absence])
    session.flush()
    return opening, absence


def appointment_yesterday(session, counsellor, motif, case, site, day: date) -> Appointment:
    """Booked by the counsellor for the case, at the site, on `day` (yesterday) at 9:00."""
    starts_at = datetime.combine(day, time(9), tzinfo=ZoneInfo(site.time_zone))
    ends_at = starts_at + timedelta(minutes=motif.duration_minutes)
    appointment = Appointment(
        operator_id=counsellor.operator_id,
        reference=f"RDV-T-{uuid.uuid4().hex[:8]}",
        appointment_type_id=motif.id,
        counsellor_id=counsellor.id,
        site_id=site.id,
        mode="on_site",
        starts_at=starts_at,
        ends_at=ends_at,
        blocks_until=ends_at,
        beneficiary_id=case.beneficiary_id,
        case_id=case.id,
        booked_via="staff",
        booked_by_id=counsellor.id,
        ics_uid=f"{uuid.uuid4()}@test",
    )
    session.add(appointment)
    session.flush()
    return appointment


def official_campaign(session, manager, episode) -> ControlCampaign:
    """An official control campaign opened on the operator, its deadline years away, with a
    non-conform finding on the case's episode, still to answer."""
    campaign = ControlCampaign(
        operator_id=manager.operator_id,
        kind=CampaignKind.OFFICIAL.value,
        public_value="Tirage public",
        deadline=date(2099, 12, 31),
        period_start=date(2026, 1, 1),
        period_end=date(2026, 1, 31),
        sample_size=10,
        seed=1,
    )
    session.add(campaign)
    session.flush()
    finding = ControlFinding(
        campaign_id=campaign.id,
        episode_id=episode.id,
        verdict=Verdict.NON_CONFORM.value,
        reason=FindingReason.MISSING_PROOF.value,
        reviewed_at=utcnow(),
        reviewed_by_id=manager.id,  # any staff member: only the answer is tried here
    )
    session.add(finding)
    session.flush()
    return campaign


def failed_campaign(session, manager, code: str) -> ControlCampaign:
    """A control campaign of the operator whose pack failed: a manager may build it again."""
    campaign = ControlCampaign(
        operator_id=manager.operator_id,
        created_by_id=manager.id,
        period_start=date(2026, 1, 1),
        period_end=date(2026, 1, 31),
        sample_size=10,
        seed=1,
        status=PackStatus.FAILED.value,
        error=f"Erreur confidentielle {code}",
    )
    session.add(campaign)
    session.flush()
    return campaign


def issued_deliverable(session, counsellor, case, kind, episode, code: str) -> Deliverable:
    """Drafted for the episode, its free section written, version 1 issued (not acknowledged)."""
    draft = DeliverableDraft(kind_id=kind.id, episode_id=episode.id)
    deliverable = start_draft(session=session, actor=counsellor, case_id=case.id, data=draft)
    save_draft(
        session=session,
        actor=counsellor,
        deliverable_id=deliverable.id,
        bodies={"libre-1": f"Section confidentielle {code}"},
    )
    issue_deliverable(session=session, actor=counsellor, deliverable_id=deliverable.id)
    return deliverable


def add_plan_step(session, counsellor, case, description: str) -> ActionStep:
    data = ActionStepWrite(description=description, owner=StepOwner.BENEFICIARY)
    return add_step(session=session, actor=counsellor, case_id=case.id, data=data)


def failed_email(session, counsellor, deliverable, code: str) -> OutboxMessage:
    """Version 1 e-mailed to the beneficiary, and refused by her server: a manager may retry."""
    message = share_version(
        session=session, actor=counsellor, deliverable_id=deliverable.id, number=1
    )
    message.status = MessageStatus.FAILED.value
    message.attempts = 8
    message.last_error = f"550 Refus confidentiel {code}"
    session.add(message)
    session.flush()
    return message


def directory(session, operator, admin, code: str) -> tuple[Partner, Partner]:
    """The operator's partner directory: one partner added by its admin, serving the whole
    territory (so every département filter matches it), and a former one, inactive."""
    former = make_partner(
        session,
        operator,
        name=f"Ancien partenaire {code}",
        departements="",
        email=None,
        active=False,
    )
    data = PartnerCreate(
        name=f"Partenaire confidentiel {code}",
        type=PartnerType.SKILLS_ASSESSMENT,
        city="Ville",
        contact_name=f"Contact confidentiel {code}",
        email=f"orientation@partenaire-{code.lower()}.fr",
        services="Bilan de compétences",
    )
    return create_partner(session=session, actor=admin, data=data), former


def refer(session, counsellor, case, partner, code: str, *, send_now=False) -> Referral:
    """A referral the person agreed to, to follow up today; e-mailed to the partner if asked."""
    data = ReferralCreate(
        partner_id=partner.id,
        purpose=f"Orientation confidentielle {code}",
        shared_information=f"Partage confidentiel {code}",
        consent=True,
        follow_up_on=local_today(case_time_zone(session, case)),
        send_now=send_now,
    )
    return propose_referral(session=session, actor=counsellor, case_id=case.id, data=data)


@pytest.fixture(autouse=True)
def _any_pdf_will_do(monkeypatch):
    """Issuing stores this small PDF instead of rendering one with WeasyPrint (0.1 s each, two
    a test): what is printed is tested elsewhere, and no PDF of ARA's may reach BRE anyway."""
    monkeypatch.setattr(
        "app.services.deliverables.documents.render_deliverable_pdf", lambda _content: PDF
    )


@pytest.fixture
def ara(session) -> Tenant:
    return populate(
        session,
        "ARA",
        "Auvergne-Rhône-Alpes",
        first_name="Sidonie",
        last_name="Vautrin",
        email="sidonie.vautrin@exemple.fr",
        phone="06 98 76 54 32",
    )


@pytest.fixture
def bre(session) -> Tenant:
    return populate(session, "BRE", "Bretagne", first_name="Yann", last_name="Le Goff")


def sign_in(client, session, user: StaffUser) -> str:
    """Give the client a browser session and an API token for `user`; returns the CSRF token."""
    csrf = log_in(client, session, user)
    client.headers["Authorization"] = f"Bearer {create_api_token(user)}"
    return csrf


@pytest.fixture
def as_bre(client, session, bre):
    """The client logged in as BRE's counsellor (browser session) and its CSRF token."""
    return client, sign_in(client, session, bre.counsellor)


def stored_files() -> list[str]:
    root = Path(get_settings().storage_dir)
    return sorted(path.name for path in root.rglob("*") if path.is_file())


def snapshot(session) -> tuple:
    """Everything a refused write could have touched, files included."""
    session.expire_all()
    counts = tuple(
        session.exec(select(func.count()).select_from(model)).one()
        for model in (
            Beneficiary,
            Case,
            Episode,
            Interaction,
            TriageRequest,
            DeliverableKind,
            UnitProofRequirement,
            Deliverable,
            DeliverableVersion,
            ActionStep,
            Attachment,
            OutboxMessage,
            Partner,
            Referral,
            ReferralEvent,
            Site,
            AppointmentType,
            OpeningSlot,
            Absence,
            Appointment,
            Notification,
            StaffSite,
            StaffEvent,
            AccountLink,
            Permanence,
            PermanenceStaff,
            SiteEvent,
            Lot,
            LotPrice,
            Uo4Action,
            Uo4Attendee,
            Uo4Event,
            ApiKey,
            StaffTotp,
            SurveyQuestionnaire,
            RightsRequest,
            AccessArchive,
            WaitingListEntry,
            DeliverableArchive,
            ApiClient,
        )
    )

    def values(model, *columns) -> tuple:
        return tuple(session.exec(select(*columns).order_by(model.id)).all())

    rows = (
        values(Beneficiary, Beneficiary.last_name, Beneficiary.email),
        values(Case, Case.status, Case.referent_id, Case.last_activity_at),
        values(Episode, Episode.ended_at, Episode.outcome),
        values(TriageRequest, TriageRequest.status),
        values(DeliverableKind, DeliverableKind.label, DeliverableKind.active),
        values(Deliverable, Deliverable.sections, Deliverable.status, Deliverable.version_count),
        values(
            DeliverableVersion,
            DeliverableVersion.shared_message_id,
            DeliverableVersion.acknowledged_at,
            DeliverableVersion.scan_attachment_id,
            DeliverableVersion.link_revoked_at,
            DeliverableVersion.handed_over_at,
        ),
        values(ActionStep, ActionStep.position, ActionStep.description, ActionStep.status),
        values(Attachment, Attachment.filename, Attachment.description),
        values(OutboxMessage, OutboxMessage.status, OutboxMessage.attempts),
        values(ControlCampaign, ControlCampaign.status, ControlCampaign.error),
        values(Partner, Partner.name, Partner.email, Partner.active, Partner.updated_at),
        values(Referral, Referral.status, Referral.link_nonce, Referral.updated_at),
        values(AppointmentType, AppointmentType.name, AppointmentType.active),
        values(Appointment, Appointment.status, Appointment.updated_at),
        values(Notification, Notification.read_at),
        values(StaffUser, StaffUser.role, StaffUser.active, StaffUser.token_version),
        values(Uo4Action, Uo4Action.title, Uo4Action.amount, Uo4Action.cancelled_at),
        values(ApiKey, ApiKey.revoked_at),
        values(ApiClient, ApiClient.revoked_at),
        values(Site, Site.name, Site.phone, Site.active),
        values(Permanence, Permanence.venue, Permanence.weekdays, Permanence.ended_at),
        values(Lot, Lot.uo4_budget),
        values(LotPrice, LotPrice.amount, LotPrice.effective_from),
        values(RightsRequest, RightsRequest.status, RightsRequest.outcome),
        values(AccessArchive, AccessArchive.status, AccessArchive.archive_key),
        values(WaitingListEntry, WaitingListEntry.status, WaitingListEntry.updated_at),
        values(DeliverableArchive, DeliverableArchive.status, DeliverableArchive.storage_key),
        values(Beneficiary, Beneficiary.survey_opt_out_at, Beneficiary.anonymised_at),
    )
    return counts, rows, stored_files()


def assert_no_secret(text: str) -> None:
    assert [s for s in SECRETS if s in text] == []


@dataclass
class Attempt:
    """One request naming rows by {placeholder}; `form` and uploads get the sender's CSRF token."""

    method: str
    url: str
    headers: dict
    form: dict | None
    json: dict | None
    upload: bool  # multipart: the CSRF token and the form's fields first, then a PDF
    who: str  # which of BRE's staff sends it: counsellor, manager or admin


def surface(
    resource, name, method, url, *, htmx=False, form=None, json=None, upload=False, who="counsellor"
):
    """One way to reach one of ARA's rows."""
    attempt = Attempt(method, url, HTMX if htmx else {}, form, json, upload, who)
    return pytest.param(attempt, id=f"{resource}-{name}")


REASON = {"reason": "Pirate", "suite": "/"}
CONSENT = {"purpose": "surveys", "decision": "withdrawn", "how": "interview"}
PERSON_FORM = {"first_name": "Pirate", "last_name": "Pirate", "email": "pirate@exemple.fr"}
INTERACTION = {"duration_minutes": 20, "channel": "telephone", "summary": "Pirate"}
OPEN_CASE = {"beneficiary_id": "{beneficiary}", "channel": "telephone", "motive": "vae"}
HAND_OVER = {"referent_id": "{bre_counsellor}"}
SECTION = {"section-libre-1": "Pirate"}
STEP = {"description": "Pirate", "owner": "counsellor", "status": "done"}
OBJECTIVE = {"objective": "Pirate"}
DOWN = {"direction": "down"}
KIND = {"label": "Pirate", "active": "1"}
PARTNER = {"name": "Pirate", "type": "apec", "email": "pirate@exemple.fr", "active": "1"}
REFERRAL = {
    "partner_id": "{partner}",
    "purpose": "Pirate",
    "shared_information": "Pirate",
    "consent": "1",
}
ABANDON = {"to": "abandoned"}
MOTIF = {"name": "Pirate", "duration_minutes": "45", "modes": "phone", "active": "1"}
NO_SHOW = {"status": "no_show"}
UO4 = {"kind": "autre", "title": "Pirate", "starts_on": "2026-03-02", "amount": "1"}
QUESTIONNAIRE = {"title": "Pirate", "based_on": "2", "q0-label": "Pirate ?", "q0-type": "texte"}
SITE = {"name": "Pirate", "postcode": "69003", "city": "Lyon", "phone": "04 72 00 00 00"}
PERMANENCE = {
    "venue": "Pirate",
    "postcode": "69120",
    "city": "Vaulx-en-Velin",
    "weekdays": "4",
    "start_time": "09:00",
    "end_time": "10:00",
    "starts_on": "2030-01-07",
}
RIGHTS_REQUEST = {
    "beneficiary_id": "{beneficiary}",
    "kind": "erasure",
    "received_on": "2026-11-02",
    "received_via": "email",
}
SURFACES = [
    surface(
        "counsellor",
        "team_second_factor",
        "POST",
        "/admin/equipe/{counsellor}/double-authentification",
        form={"reset_code": "123456"},
        who="admin",
    ),
    # « Mon compte »: a person's API keys are theirs alone.
    surface("api_key", "revoke", "POST", "/compte/cles-api/{api_key}/revoquer", form={}),
    # The documents' feed: its PDFs, read by the operator's admins and its API clients.
    surface(
        "version", "feed_pdf", "GET", "/api/v1/deliverable-versions/{version}/pdf", who="admin"
    ),
    # « Clients d'API »: the operator's admins revoke its clients.
    surface(
        "api_client",
        "revoke",
        "POST",
        "/admin/clients-api/{api_client}/revoquer",
        form={},
        who="admin",
    ),
    # UO4: the actions an operator's admins record (its managers read them).
    surface("uo4", "page", "GET", "/admin/uo4/{uo4}", who="manager"),
    surface("uo4", "form", "POST", "/admin/uo4/{uo4}", form=UO4, who="admin"),
    surface("uo4", "cancel", "POST", "/admin/uo4/{uo4}/annuler", form={}, who="admin"),
    surface("uo4", "restore", "POST", "/admin/uo4/{uo4}/retablir", form={}, who="admin"),
    # Its questionnaires: a system administrator names the operator, anyone else is refused.
    surface("questionnaire", "list", "GET", "/admin/enquetes?operateur={operator}", who="manager"),
    surface(
        "questionnaire",
        "page",
        "GET",
        "/admin/enquetes/fin_niveau_1?operateur={operator}",
        who="manager",
    ),
    surface(
        "questionnaire",
        "form",
        "POST",
        "/admin/enquetes/fin_niveau_1?operateur={operator}",
        form=QUESTIONNAIRE,
        who="admin",
    ),
    surface(
        "questionnaire",
        "defaults",
        "POST",
        "/admin/enquetes/fin_niveau_1/defaut?operateur={operator}",
        form={},
        who="admin",
    ),
    surface("beneficiary", "page", "GET", "/beneficiaries/{beneficiary}"),
    # « Motif de la consultation », asked before reading a file outside one's own cases.
    surface("beneficiary", "reason_page", "GET", "/beneficiaries/{beneficiary}/motif"),
    surface(
        "beneficiary", "reason_form", "POST", "/beneficiaries/{beneficiary}/motif", form=REASON
    ),
    surface(
        "beneficiary", "fragment", "GET", "/triage/new?beneficiary_id={beneficiary}", htmx=True
    ),
    surface("beneficiary", "form", "POST", "/beneficiaries/{beneficiary}", form=PERSON_FORM),
    surface(
        "beneficiary",
        "consent_form",
        "POST",
        "/beneficiaries/{beneficiary}/consentements",
        form=CONSENT,
    ),
    surface(
        "beneficiary",
        "space_close",
        "POST",
        "/beneficiaries/{beneficiary}/espace-personnel/fermer",
        form={},
    ),
    surface("beneficiary", "api_get", "GET", "/api/v1/beneficiaries/{beneficiary}"),
    surface(
        "beneficiary", "api_write", "PUT", "/api/v1/beneficiaries/{beneficiary}", json=PERSON_FORM
    ),
    surface("case", "page", "GET", "/cases/{case}"),
    surface("case", "fragment", "GET", "/cases/{case}", htmx=True),
    *[
        surface("case", f"section_{section}", "GET", f"/cases/{{case}}?section={section}")
        for section in ("unites", "orientations", "documents", "pieces-jointes", "rendez-vous")
        + ("dossier",)
    ],
    surface("case", "history_page", "GET", "/cases/{case}?filtre=entretiens&page=2", htmx=True),
    surface("case", "form", "POST", "/cases/{case}/close", htmx=True, form={"reason": "termine"}),
    surface("case", "form_reopen", "POST", "/cases/{case}/reopen", form={}),
    surface("case", "form_referent", "POST", "/cases/{case}/referent", htmx=True, form=HAND_OVER),
    surface("case", "api_get", "GET", "/api/v1/cases/{case}"),
    surface("case", "api_write", "POST", "/api/v1/cases/{case}/close", json={"reason": "termine"}),
    surface("case", "api_reopen", "POST", "/api/v1/cases/{case}/reopen", json={}),
    surface("case", "api_referent", "PUT", "/api/v1/cases/{case}/referent", json=HAND_OVER),
    surface("episode", "page", "GET", "/cases/{case}"),
    surface("episode", "fragment", "GET", "/cases/{case}", htmx=True),
    surface(
        "episode",
        "form",
        "POST",
        "/cases/{case}/episodes/{episode}/end",
        htmx=True,
        form={"outcome": "Pirate"},
    ),
    surface("episode", "form_start", "POST", "/cases/{case}/episodes", form={"unit_id": "{uo1}"}),
    surface(
        "episode",
        "form_cancel",
        "POST",
        "/cases/{case}/episodes/{episode}/cancel",
        htmx=True,
        form={},
    ),
    surface("episode", "api_get", "GET", "/api/v1/cases/{case}/episodes"),
    surface(
        "episode", "api_write", "POST", "/api/v1/episodes/{episode}/end", json={"outcome": "x"}
    ),
    surface(
        "episode", "api_start", "POST", "/api/v1/cases/{case}/episodes", json={"unit_id": "{uo1}"}
    ),
    surface("episode", "api_cancel", "POST", "/api/v1/episodes/{episode}/cancel", json={}),
    surface("interaction", "page", "GET", "/cases/{case}"),
    surface("interaction", "fragment", "GET", "/cases/{case}", htmx=True),
    surface(
        "interaction",
        "form",
        "POST",
        "/cases/{case}/interactions",
        htmx=True,
        form={**INTERACTION, "occurred_at": "2026-01-05T10:00"},
    ),
    surface("interaction", "api_get", "GET", "/api/v1/cases/{case}/interactions"),
    surface(
        "interaction",
        "api_write",
        "POST",
        "/api/v1/cases/{case}/interactions",
        json={**INTERACTION, "occurred_at": "2026-01-05T10:00:00+01:00"},
    ),
    surface("triage", "page", "GET", "/triage/{triage}"),
    surface("triage", "fragment", "GET", "/triage/{triage}", htmx=True),
    surface("triage", "form", "POST", "/triage/{triage}/open-case", form=HAND_OVER),
    surface(
        "triage",
        "form_redirect",
        "POST",
        "/triage/{triage}/redirect",
        htmx=True,
        form={"redirection": "apec"},
    ),
    surface("triage", "api_write", "POST", "/api/v1/triage/{triage}/open-case", json=HAND_OVER),
    surface(
        "triage",
        "api_redirect",
        "POST",
        "/api/v1/triage/{triage}/redirect",
        json={"redirection": "apec"},
    ),
    # BRE's own forms and endpoints, naming one of ARA's rows.
    surface("beneficiary", "form_intake", "POST", "/triage/new", form=OPEN_CASE),
    surface("beneficiary", "api_open_case", "POST", "/api/v1/cases", json=OPEN_CASE),
    surface("beneficiary", "api_triage", "POST", "/api/v1/triage", json=OPEN_CASE),
    surface(
        "episode",
        "form_own_case",
        "POST",
        "/cases/{bre_case}/episodes/{episode}/end",
        form={"outcome": "Pirate"},
    ),
    surface(
        "episode",
        "form_own_case_cancel",
        "POST",
        "/cases/{bre_case}/episodes/{episode}/cancel",
        form={},
    ),
    surface("step", "form_own_case", "POST", "/cases/{bre_case}/plan/steps/{step}/delete", form={}),
    surface(
        "step", "api_own_case", "PUT", "/api/v1/cases/{bre_case}/action-steps/{step}", json=STEP
    ),
    # Deliverables: the editor, its actions on version 1, the PDF, drafting on ARA's case.
    surface("deliverable", "page", "GET", "/deliverables/{deliverable}"),
    surface("deliverable", "fragment", "GET", "/deliverables/{deliverable}", htmx=True),
    surface("deliverable", "form", "POST", "/deliverables/{deliverable}/draft", form=SECTION),
    surface(
        "deliverable",
        "form_autosave",
        "POST",
        "/deliverables/{deliverable}/draft",
        htmx=True,
        form=SECTION,
    ),
    surface("deliverable", "form_issue", "POST", "/deliverables/{deliverable}/issue", form=SECTION),
    surface(
        "deliverable", "form_share", "POST", "/deliverables/{deliverable}/versions/1/share", form={}
    ),
    surface(
        "deliverable",
        "form_handed_over",
        "POST",
        "/deliverables/{deliverable}/versions/1/handed-over",
        form={},
    ),
    surface(
        "deliverable",
        "form_scan",
        "POST",
        "/deliverables/{deliverable}/versions/1/scan",
        upload=True,
    ),
    surface("deliverable", "pdf", "GET", "/deliverables/{deliverable}/versions/1/pdf"),
    surface("deliverable", "preview", "GET", "/deliverables/{deliverable}/preview"),
    surface(
        "deliverable", "form_preview", "POST", "/deliverables/{deliverable}/preview", form=SECTION
    ),
    surface(
        "deliverable",
        "form_revoke",
        "POST",
        "/deliverables/{deliverable}/versions/1/revoke-link",
        form={},
    ),
    surface(
        "deliverable",
        "form_draft",
        "POST",
        "/cases/{case}/deliverables",
        form={"kind_id": "{kind}"},
    ),
    surface("deliverable", "api_get", "GET", "/api/v1/cases/{case}/deliverables"),
    surface("deliverable", "api_pdf", "GET", "/api/v1/deliverables/{deliverable}/versions/1/pdf"),
    surface(
        "deliverable",
        "api_write",
        "PUT",
        "/api/v1/deliverables/{deliverable}/sections",
        json={"libre-1": "Pirate"},
    ),
    surface("deliverable", "api_issue", "POST", "/api/v1/deliverables/{deliverable}/issue"),
    surface(
        "deliverable",
        "api_draft",
        "POST",
        "/api/v1/cases/{case}/deliverables",
        json={"kind_id": "{kind}"},
    ),
    # The action plan of ARA's case.
    surface("step", "page", "GET", "/cases/{case}/plan"),
    surface("step", "fragment", "GET", "/cases/{case}/plan", htmx=True),
    surface("step", "form", "POST", "/cases/{case}/plan/steps/{step}", htmx=True, form=STEP),
    surface("step", "form_add", "POST", "/cases/{case}/plan/steps", form=STEP),
    surface("step", "form_objective", "POST", "/cases/{case}/plan/objective", form=OBJECTIVE),
    surface("step", "form_move", "POST", "/cases/{case}/plan/steps/{step}/move", form=DOWN),
    surface(
        "step", "form_delete", "POST", "/cases/{case}/plan/steps/{step}/delete", htmx=True, form={}
    ),
    surface("step", "api_get", "GET", "/api/v1/cases/{case}/action-steps"),
    surface("step", "api_write", "PUT", "/api/v1/cases/{case}/action-steps/{step}", json=STEP),
    surface("step", "api_add", "POST", "/api/v1/cases/{case}/action-steps", json=STEP),
    surface("step", "api_move", "POST", "/api/v1/cases/{case}/action-steps/{step}/move", json=DOWN),
    surface("step", "api_delete", "DELETE", "/api/v1/cases/{case}/action-steps/{step}"),
    # Attachments of ARA's case.
    surface("attachment", "page", "GET", "/cases/{case}/attachments"),
    surface("attachment", "fragment", "GET", "/cases/{case}/attachments", htmx=True),
    surface("attachment", "form", "POST", "/cases/{case}/attachments", htmx=True, upload=True),
    surface("attachment", "form_plain", "POST", "/cases/{case}/attachments", upload=True),
    surface("attachment", "download", "GET", "/attachments/{attachment}/download"),
    surface("attachment", "api_get", "GET", "/api/v1/cases/{case}/attachments"),
    surface("attachment", "api_content", "GET", "/api/v1/attachments/{attachment}/content"),
    surface("attachment", "api_write", "POST", "/api/v1/cases/{case}/attachments", upload=True),
    # A case's whole file: its page, its ZIP, and BRE's own case's ZIP naming ARA's attachment.
    surface("case_file", "page", "GET", "/cases/{case}/dossier"),
    surface("case_file", "zip", "GET", "/cases/{case}/dossier.zip?finalite=demande_personne"),
    surface(
        "case_file",
        "zip_own_case",
        "GET",
        "/cases/{bre_case}/dossier.zip?finalite=demande_personne&pieces={attachment}",
    ),
    # What only supervisors do: retry an e-mail, change a deliverable kind.
    surface("message", "form", "POST", "/messages/{message}/retry", form={}, who="manager"),
    surface("notification", "form", "POST", "/notifications/{notification}/ouvrir", form={}),
    surface("message", "form_admin", "POST", "/messages/{message}/retry", form={}, who="admin"),
    surface("kind", "form", "POST", "/admin/livrables/{kind}", form=KIND, who="admin"),
    surface("campaign", "page", "GET", "/rapports/controles/{campaign}", who="manager"),
    surface(
        "campaign",
        "fragment",
        "GET",
        "/rapports/controles/{campaign}/progression",
        htmx=True,
        who="manager",
    ),
    surface(
        "campaign", "form", "POST", "/rapports/controles/{campaign}/relancer", form={}, who="admin"
    ),
    surface(
        "campaign",
        "download",
        "GET",
        "/rapports/controles/{campaign}/dossier-de-preuves.zip?finalite=controle_service_fait",
        who="manager",
    ),
    surface("campaign", "api_get", "GET", "/api/v1/control-campaigns/{campaign}", who="manager"),
    surface(
        "official",
        "history",
        "GET",
        "/rapports/controles/{official}/historique.csv?finalite=autre&finalite_precision=test",
        who="manager",
    ),
    surface(
        "official", "submit_page", "GET", "/rapports/controles/{official}/soumettre", who="admin"
    ),
    surface(
        "official",
        "submit",
        "POST",
        "/rapports/controles/{official}/soumettre",
        form={},
        who="admin",
    ),
    surface(
        "official",
        "answer_page",
        "GET",
        "/rapports/controles/{official}/unites/{episode}/reponse",
        who="manager",
    ),
    surface(
        "official",
        "answer",
        "POST",
        "/rapports/controles/{official}/unites/{episode}/reponse",
        form={"answer": "Pirate"},
        who="admin",
    ),
    surface(
        "official",
        "check_proofs",
        "POST",
        "/rapports/controles/{official}/verifier-preuves",
        form={},
        who="manager",
    ),
    surface(
        "campaign",
        "api_pack",
        "GET",
        "/api/v1/control-campaigns/{campaign}/proof-pack?purpose=controle_service_fait",
        who="admin",
    ),
    surface(
        "campaign",
        "api_drawn",
        "GET",
        "/api/v1/control-campaigns/{campaign}/drawn-units",
        who="manager",
    ),
    surface(
        "campaign",
        "api_population",
        "GET",
        "/api/v1/control-campaigns/{campaign}/population",
        who="admin",
    ),
    surface(
        "campaign", "api_units", "GET", "/api/v1/control-campaigns/{campaign}/units", who="manager"
    ),
    surface("official", "api_get", "GET", "/api/v1/control-campaigns/{official}", who="manager"),
    surface(
        "official",
        "api_history",
        "GET",
        "/api/v1/control-campaigns/{official}/history",
        who="manager",
    ),
    surface(
        "official",
        "api_check_proofs",
        "POST",
        "/api/v1/control-campaigns/{official}/verify-proofs",
        who="manager",
    ),
    surface(
        "official", "api_submit", "POST", "/api/v1/control-campaigns/{official}/submit", who="admin"
    ),
    surface(
        "official",
        "api_answer",
        "POST",
        "/api/v1/control-campaigns/{official}/units/{episode}/answer",
        json={"answer": "Pirate"},
        who="admin",
    ),
    surface(
        "official",
        "api_findings",
        "GET",
        "/api/v1/control-campaigns/{official}/findings",
        who="manager",
    ),
    surface(
        "official",
        "api_summary",
        "GET",
        "/api/v1/control-campaigns/{official}/summary",
        who="manager",
    ),
    # ARA's partner directory: counsellors read it, managers and admins keep it.
    surface("partner", "page", "GET", "/partenaires/{partner}"),
    surface("partner", "fragment", "GET", "/partenaires/{partner}", htmx=True),
    surface("partner", "page_manager", "GET", "/partenaires/{partner}", who="manager"),
    surface("partner", "form", "POST", "/partenaires/{partner}", form=PARTNER, who="manager"),
    surface("partner", "form_admin", "POST", "/partenaires/{partner}", form=PARTNER, who="admin"),
    surface(
        "partner",
        "form_activation",
        "POST",
        "/partenaires/{partner}/activation",
        form={"actif": "non"},
        who="manager",
    ),
    surface("partner", "api_get", "GET", "/api/v1/partners/{partner}"),
    surface(
        "partner",
        "api_write",
        "PUT",
        "/api/v1/partners/{partner}",
        json={**PARTNER, "active": True},  # JSON's own boolean: a form's "1" is not one
        who="admin",
    ),
    # Referrals of ARA's case, and what is done with them.
    surface("referral", "page", "GET", "/cases/{case}/referrals"),
    surface("referral", "fragment", "GET", "/cases/{case}/referrals", htmx=True),
    surface("referral", "form", "POST", "/cases/{case}/referrals", htmx=True, form=REFERRAL),
    surface(
        "referral",
        "form_own_partner",
        "POST",
        "/cases/{case}/referrals",
        form={**REFERRAL, "partner_id": "{bre_partner}"},
    ),
    surface("referral", "form_send", "POST", "/referrals/{referral}/send", htmx=True, form={}),
    surface("referral", "form_send_plain", "POST", "/referrals/{referral}/send", form={}),
    surface("referral", "form_status", "POST", "/referrals/{referral}/status", form=ABANDON),
    surface(
        "referral",
        "form_answer",
        "POST",
        "/referrals/{sent_referral}/status",
        htmx=True,
        form={"to": "accepted"},
    ),
    surface("referral", "api_get", "GET", "/api/v1/cases/{case}/referrals"),
    surface("referral", "api_detail", "GET", "/api/v1/referrals/{referral}"),
    surface(
        "referral",
        "api_write",
        "POST",
        "/api/v1/cases/{case}/referrals",
        json={**REFERRAL, "consent": True},
    ),
    surface("referral", "api_send", "POST", "/api/v1/referrals/{referral}/send"),
    surface(
        "referral",
        "api_transition",
        "POST",
        "/api/v1/referrals/{referral}/transitions",
        json=ABANDON,
    ),
    surface(
        "referral",
        "api_answer",
        "POST",
        "/api/v1/referrals/{sent_referral}/transitions",
        json={"to": "declined", "reason": "Pirate"},
    ),
    # Booking: the case's appointments, booking on ARA's case, marking one on the agenda.
    surface("appointment", "page", "GET", "/cases/{case}/rendez-vous"),
    surface("appointment", "fragment", "GET", "/cases/{case}/rendez-vous", htmx=True),
    surface(
        "appointment",
        "form",
        "POST",
        "/agenda/rendez-vous/{appointment}/presence",
        htmx=True,
        form=NO_SHOW,
        who="manager",
    ),
    surface(
        "appointment",
        "form_own",
        "POST",
        "/agenda/rendez-vous/{appointment}/presence",
        form=NO_SHOW,
    ),
    surface(
        "appointment",
        "form_book",
        "POST",
        "/cases/{case}/rendez-vous",
        form={"motif": "{motif}", "mode": "on_site", "lieu": "{site}"},
    ),
    surface("waiting", "form", "POST", "/agenda/liste-attente/{waiting}/retirer", form={}),
    # What admins and managers keep of it, and what a manager's agenda is filtered by.
    surface("motif", "form", "POST", "/admin/motifs/{motif}", form=MOTIF, who="admin"),
    surface("motif", "form", "POST", "/admin/motifs/{motif}/desactiver", form={}, who="admin"),
    surface("motif", "form", "POST", "/admin/motifs/{motif}/reactiver", form={}, who="admin"),
    surface(
        "opening",
        "form",
        "POST",
        "/admin/disponibilites/ouvertures/{opening}/supprimer",
        form={},
        who="manager",
    ),
    surface(
        "absence",
        "form",
        "POST",
        "/admin/disponibilites/absences/{absence}/supprimer",
        form={},
        who="manager",
    ),
    surface("site", "agenda", "GET", "/agenda?lieu={site}&jour={day}", who="manager"),
    surface("site", "agenda_fragment", "GET", "/agenda?lieu={site}", htmx=True, who="manager"),
    surface("counsellor", "agenda", "GET", "/agenda?conseiller={counsellor}", who="manager"),
    # « Équipe »: what an operator's admins do to its staff accounts.
    surface("counsellor", "team_page", "GET", "/admin/equipe/{counsellor}", who="admin"),
    surface(
        "counsellor",
        "team_role",
        "POST",
        "/admin/equipe/{counsellor}/role",
        form={"role": "manager"},
        who="admin",
    ),
    surface(
        "counsellor",
        "team_sites",
        "POST",
        "/admin/equipe/{counsellor}/sites",
        form={"site_ids": "{bre_site}"},
        who="admin",
    ),
    surface(
        "counsellor",
        "team_control_team",
        "POST",
        "/admin/equipe/{counsellor}/equipe-de-controle",
        form={"control_team": "Pirate"},
        who="admin",
    ),
    surface(
        "counsellor",
        "team_off",
        "POST",
        "/admin/equipe/{counsellor}/desactiver",
        form={},
        who="admin",
    ),
    surface(
        "counsellor",
        "team_on",
        "POST",
        "/admin/equipe/{counsellor}/reactiver",
        form={},
        who="admin",
    ),
    surface(
        "counsellor",
        "team_invite",
        "POST",
        "/admin/equipe/{counsellor}/invitation",
        form={},
        who="admin",
    ),
    # « Sites »: what an operator's admins do to its sites and their permanences.
    surface("site", "site_page", "GET", "/admin/sites/{site}", who="admin"),
    surface("site", "site_edit_page", "GET", "/admin/sites/{site}/modifier", who="admin"),
    surface("site", "site_edit", "POST", "/admin/sites/{site}/modifier", form=SITE, who="admin"),
    surface("site", "site_close_page", "GET", "/admin/sites/{site}/fermer", who="admin"),
    surface(
        "site",
        "site_close",
        "POST",
        "/admin/sites/{site}/fermer",
        form={"choice": "cancel", "listed": "0"},
        who="admin",
    ),
    surface(
        "site",
        "site_attach",
        "POST",
        "/admin/sites/{site}/rattacher",
        form={"staff_id": "{bre_counsellor}"},
        who="admin",
    ),
    surface(
        "site",
        "site_detach",
        "POST",
        "/admin/sites/{site}/detacher/{bre_counsellor}",
        form={},
        who="admin",
    ),
    surface(
        "counsellor",
        "site_attach",
        "POST",
        "/admin/sites/{bre_site}/rattacher",
        form={"staff_id": "{counsellor}"},
        who="admin",
    ),
    surface(
        "counsellor",
        "site_detach",
        "POST",
        "/admin/sites/{bre_site}/detacher/{counsellor}",
        form={},
        who="admin",
    ),
    surface(
        "site",
        "permanence_new_page",
        "GET",
        "/admin/sites/{site}/permanences/nouvelle",
        who="admin",
    ),
    surface(
        "site",
        "permanence_add",
        "POST",
        "/admin/sites/{site}/permanences",
        form=PERMANENCE,
        who="admin",
    ),
    surface(
        "permanence",
        "page",
        "GET",
        "/admin/sites/{site}/permanences/{permanence}",
        who="admin",
    ),
    surface(
        "permanence",
        "form",
        "POST",
        "/admin/sites/{site}/permanences/{permanence}",
        form=PERMANENCE,
        who="admin",
    ),
    surface(
        "permanence",
        "end",
        "POST",
        "/admin/sites/{site}/permanences/{permanence}/terminer",
        form={},
        who="admin",
    ),
    # ARA's permanence under BRE's own site is not found either.
    surface(
        "permanence",
        "other_site",
        "GET",
        "/admin/sites/{bre_site}/permanences/{permanence}",
        who="admin",
    ),
    # « Marchés »: an operator's admins set their own lot's prices and UO4 budget.
    surface(
        "lot",
        "lot_price",
        "POST",
        "/admin/lots/{lot}/prix",
        form={"unit_id": "{uo1}", "amount": "99,90", "effective_from": "2027-06-01"},
        who="admin",
    ),
    surface(
        "lot",
        "lot_budget",
        "POST",
        "/admin/lots/{lot}/budget",
        form={"uo4_budget": "10"},
        who="admin",
    ),
    surface("rights_request", "page", "GET", "/admin/droits/{rights_request}", who="admin"),
    surface(
        "rights_request", "progress", "GET", "/admin/droits/{rights_request}/archive", who="admin"
    ),
    surface(
        "rights_request",
        "record",
        "POST",
        "/admin/droits",
        form=RIGHTS_REQUEST,
        who="admin",
    ),
    *(
        surface(
            "rights_request",
            name,
            "POST",
            f"/admin/droits/{{rights_request}}/{path}",
            form=form,
            who="admin",
        )
        for name, path, form in (
            ("take", "prise-en-charge", {}),
            ("answer", "reponse", {"outcome": "Pirate"}),
            ("erase", "effacement", {"reference": "Pirate"}),
            ("objection", "opposition", {}),
            ("archive", "archive", {}),
        )
    ),
    surface("archive", "download", "GET", "/admin/droits/archives/{archive}.zip", who="admin"),
    *(
        surface(
            "period_archive",
            name,
            "GET",
            f"/admin/archives-livrables/{{period_archive}}{path}",
            who="admin",
        )  # fmt: skip
        for name, path in (
            ("page", ""),
            ("progress", "/progression"),
            ("download", "/archive.zip?finalite=autre&finalite_precision=Pirate"),
        )
    ),
    surface(
        "period_archive",
        "cancel",
        "POST",
        "/admin/archives-livrables/{period_archive}/annuler",
        form={},
        who="admin",
    ),
]


def fill(value, ids: dict):
    """Put the ids into a URL or into every string of a body (or of a list)."""
    if isinstance(value, str):
        return value.format(**ids)
    if isinstance(value, dict):
        return {key: fill(item, ids) for key, item in value.items()}
    if isinstance(value, list):
        return [fill(item, ids) for item in value]
    return value


def all_ids(session, target: Tenant, own: Tenant) -> dict:
    """The rows of `target`, and the sender's own rows where a request names them (bre_*)."""
    return {
        **target.ids,
        "bre_case": own.case.id,
        "bre_counsellor": own.counsellor.id,
        "bre_kind": own.kind.id,
        "bre_partner": own.partner.id,
        "bre_motif": own.motif.id,
        "bre_site": own.site.id,
        "uo1": unit_id(session, "UO1"),
    }


def send(client, csrf: str, attempt: Attempt, ids: dict):
    body = {}
    if attempt.json is not None:
        body["json"] = fill(attempt.json, ids)
    if attempt.form is not None or attempt.upload:
        body["data"] = {"csrf_token": csrf, **fill(attempt.form or {}, ids)}
    if attempt.upload:
        body["files"] = {"file": ("pirate.pdf", PDF, "application/pdf")}
    url = fill(attempt.url, ids)
    return client.request(
        attempt.method, url, headers=attempt.headers, follow_redirects=False, **body
    )


EVERYWHERE = ("page", "fragment", "form", "api_get", "api_write")
EXPECTED = {
    "beneficiary": EVERYWHERE,
    "case": EVERYWHERE,
    "episode": EVERYWHERE,
    "interaction": EVERYWHERE,
    "triage": ("page", "fragment", "form", "api_write"),  # no api_get: see the queue test
    "deliverable": EVERYWHERE,
    "step": EVERYWHERE,
    "attachment": EVERYWHERE,
    "case_file": ("page", "zip", "zip_own_case"),  # no API, no fragment: a page and its ZIP
    "message": ("form",),  # listed on « Messages » only: see the supervisors' lists
    "kind": ("form",),  # listed on « Types de livrables » only, likewise
    "notification": ("form",),  # listed on « Notifications », its recipient's own: see below
    "partner": EVERYWHERE,  # its lists and its CSV files: see the directory's lists
    "referral": EVERYWHERE,  # and the home page's: see the counsellor's follow-up lists
    # Managers' and admins' only; no api_write: a draw only ever takes the operator's own units.
    "campaign": ("page", "fragment", "form", "api_get"),
    # No API; listed on the agenda, see the booking lists.
    "appointment": ("page", "fragment", "form"),
    "motif": ("form",),  # listed on « Motifs » only, see the booking lists
    "opening": ("form",),  # listed on « Disponibilités » only, likewise
    "absence": ("form",),  # likewise
    # The agenda's filters; « Sites », its admins' only (no API).
    "site": ("agenda", "site_page", "site_edit", "site_close", "permanence_add"),
    "permanence": ("page", "form", "end"),
    "counsellor": (
        "agenda",
        "team_page",
        "team_role",
        "team_sites",
        "team_off",
        "team_on",
        "site_attach",
        "site_detach",
        "team_second_factor",
    ),
    "api_key": ("revoke",),
    "version": ("feed_pdf",),
    "api_client": ("revoke",),
    "uo4": ("page", "form", "cancel", "restore"),
    "questionnaire": ("list", "page", "form", "defaults"),
    "lot": ("lot_price", "lot_budget"),
    # The operator's admins' « Demandes d'exercice des droits » (no API, no list elsewhere).
    "rights_request": (
        "page",
        "progress",
        "record",
        "take",
        "answer",
        "erase",
        "objection",
        "archive",
    ),
    "archive": ("download",),  # its prices are listed on the market's page, see below
    # « Archives des livrables »: the managers' and admins' own (no API, no list elsewhere).
    "period_archive": ("page", "progress", "download", "cancel"),
}


def test_every_resource_is_tried_on_every_surface():
    tried = {param.id for param in SURFACES}
    expected = {f"{resource}-{name}" for resource, names in EXPECTED.items() for name in names}
    assert sorted(expected - tried) == []


# Routes whose address names no row of an operator: signed links and SMS short links (the token
# or code is the right to read, tested with each link), report formats and sections, the national catalogue's units
# (the ledger of a unit lists the reader's own episodes: see the booking and reports lists
# below) and the national markets (a market's page shows the reader's own lot only: see the
# markets' test below), an operator's public « Mentions d'information » (by its code, no one's
# data: tests/privacy/test_notice_and_register.py). The controller's pages and API steps name an official campaign by its
# author, not by its operator: no operator's staff passes their role guard (403 whatever the
# id), and another controller gets 404 (tests/control/test_official_campaigns.py,
# tests/control/test_campaign_review_api.py).
NOT_A_ROW = re.compile(
    r"\{token\}|\{fmt\}|\{section\}|^/rapports/etat-de-service/\{unit_id|^/admin/marches/\{market_id"
    r"|^/controle/campagnes/\{campaign_id\}"
    r"|^/mentions-information/\{code\}$|^/s/\{code\}$|^/logos/\{code\}$"
    r"|^/api/v1/control-campaigns/\{campaign_id\}/(close|units/\{unit_id\}/finding)$"
)


def test_every_route_naming_a_row_is_tried(app):
    """A new page or endpoint whose address holds an id is tried here, or this test fails."""
    tried = {(p.values[0].method, p.values[0].url.split("?")[0]) for p in SURFACES}
    untried = []
    for route in api_routes(app):
        if "{" not in route.path or NOT_A_ROW.search(route.path):
            continue
        pattern = re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", route.path) + "$")
        for method in route.methods:
            if not any(m == method and pattern.match(url) for m, url in tried):
                untried.append(f"{method} {route.path}")
    assert sorted(untried) == []


@pytest.mark.parametrize("attempt", SURFACES)
def test_staff_of_another_operator_get_404_and_no_data(client, session, ara, bre, attempt):
    csrf = sign_in(client, session, getattr(bre, attempt.who))
    ids = all_ids(session, ara, bre)
    before = snapshot(session)
    response = send(client, csrf, attempt, ids)
    assert response.status_code == 404
    assert_no_secret(response.text)
    assert snapshot(session) == before


@pytest.mark.parametrize("attempt", SURFACES)
def test_the_same_request_on_the_senders_own_rows_is_not_refused(client, session, bre, attempt):
    """So each 404 above comes from the rows' operator, not from a wrong address, id or body."""
    csrf = sign_in(client, session, getattr(bre, attempt.who))
    response = send(client, csrf, attempt, all_ids(session, bre, bre))
    assert response.status_code < 400 or response.status_code == 409  # found, in another state


def test_linking_an_interaction_to_another_operators_episode_is_refused(as_bre, session, ara, bre):
    client, _ = as_bre
    before = snapshot(session)
    response = client.post(
        f"/api/v1/cases/{bre.case.id}/interactions",
        json={
            **INTERACTION,
            "occurred_at": "2026-01-05T10:00:00+01:00",
            "episode_id": ara.episode.id,
        },
    )
    assert response.status_code == 422
    assert response.json()["fields"] == {"episode_id": "Cet épisode n'appartient pas au dossier"}
    assert snapshot(session) == before


# ---- lists and search ----------------------------------------------------------------------

SEARCHES = ["Vautrin", "sidonie", "sidonie.vautrin@exemple.fr", "06 98 76 54 32", "+33698765432"]


@pytest.mark.parametrize("query", SEARCHES)
@pytest.mark.parametrize(
    ("url", "headers"),
    [("/search", {}), ("/search", HTMX), ("/triage/new", {}), ("/triage/new", HTMX)],
    ids=["search-page", "search-fragment", "intake-page", "intake-fragment"],
)
def test_search_pages_never_show_another_operators_people(as_bre, ara, url, headers, query):
    client, _ = as_bre
    response = client.get(url, params={"q": query}, headers=headers)
    assert response.status_code == 200
    assert_no_secret(response.text.replace(query, ""))  # the query itself is echoed back
    assert f'/beneficiaries/{ara.beneficiary.id}"' not in response.text


@pytest.mark.parametrize("query", SEARCHES)
def test_api_search_never_returns_another_operators_people(as_bre, ara, query):
    client, _ = as_bre
    assert client.get("/api/v1/beneficiaries", params={"q": query}).json() == []


def test_search_finds_the_same_person_for_her_own_operator(client, session, ara):
    """The searches above would find her: they return nothing only because of the operator."""
    client.headers["Authorization"] = f"Bearer {create_api_token(ara.counsellor)}"
    for query in SEARCHES:
        found = client.get("/api/v1/beneficiaries", params={"q": query}).json()
        assert [p["id"] for p in found] == [ara.beneficiary.id]


def test_search_by_case_reference_never_shows_another_operators_case(as_bre, ara):
    client, _ = as_bre
    page = client.get("/search", params={"q": ara.case.reference})
    assert f'/cases/{ara.case.id}"' not in page.text
    assert_no_secret(page.text)


@pytest.mark.parametrize(
    "url", ["/api/v1/beneficiaries", "/api/v1/cases", "/api/v1/triage", "/api/v1/partners"]
)
def test_api_lists_hold_only_the_operators_own_rows(as_bre, ara, bre, url):
    client, _ = as_bre
    listed = client.get(url).json()
    own = {
        "/api/v1/beneficiaries": bre.beneficiary,
        "/api/v1/cases": bre.case,
        "/api/v1/triage": bre.triage,
        "/api/v1/partners": bre.partner,  # active ones only, by default
    }[url]
    assert [row["id"] for row in listed] == [own.id]


def test_the_documents_feed_lists_only_the_operators_own_versions(client, session, ara, bre):
    """Read by BRE's admin, and by BRE's API client: BRE's version only; ARA's cursor is
    unknown to both."""
    for token in (create_api_token(bre.admin), create_client_token(bre.api_client.id)):
        client.headers["Authorization"] = f"Bearer {token}"
        listed = client.get("/api/v1/deliverable-versions").json()["versions"]
        assert [row["id"] for row in listed] == [bre.version.id]
        assert_no_secret(str(listed))
        theirs = {"since": feed_cursor(ara.admin.operator_id, 0)}
        assert client.get("/api/v1/deliverable-versions", params=theirs).status_code == 404


def test_the_campaigns_api_lists_only_the_operators_own(client, ara, bre):
    """Both kinds, each operator's own: ARA's self-check and official campaign are not there."""
    client.headers["Authorization"] = f"Bearer {create_api_token(bre.manager)}"
    listed = client.get("/api/v1/control-campaigns").json()
    assert sorted(row["id"] for row in listed) == sorted([bre.campaign.id, bre.official.id])


@pytest.mark.parametrize("url", ["/", "/triage", "/triage?mine=true"])
def test_home_and_queue_never_list_another_operators_rows(as_bre, ara, bre, url):
    client, _ = as_bre
    page = client.get(url)
    assert page.status_code == 200
    assert "Le Goff".upper() in page.text  # BRE's own request is there…
    assert_no_secret(page.text)  # …ARA's unassigned one is not
    assert ara.case.reference not in page.text


def test_notifications_list_and_count_only_the_readers_own(as_bre, session, ara, bre):
    client, csrf = as_bre
    page = client.get("/notifications")
    assert "Notification confidentielle BRE" in page.text
    assert_no_secret(page.text)
    assert ara.case.reference not in page.text
    client.post("/notifications/tout-lu", data={"csrf_token": csrf})
    session.expire_all()
    assert session.get(Notification, bre.notification.id).read_at is not None
    assert session.get(Notification, ara.notification.id).read_at is None


# ---- handing a case over -------------------------------------------------------------------


def test_api_refuses_a_referent_of_another_operator_and_writes_nothing(as_bre, session, ara, bre):
    client, _ = as_bre
    before = snapshot(session)
    response = client.put(
        f"/api/v1/cases/{bre.case.id}/referent", json={"referent_id": ara.counsellor.id}
    )
    assert response.status_code == 422
    assert response.json()["fields"] == {"referent_id": "Conseiller·ère inconnu·e"}
    assert snapshot(session) == before


def test_form_refuses_a_referent_of_another_operator_and_writes_nothing(as_bre, session, ara, bre):
    client, csrf = as_bre
    before = snapshot(session)
    response = client.post(
        f"/cases/{bre.case.id}/referent",
        data={"referent_id": ara.counsellor.id, "csrf_token": csrf},
        headers=HTMX,
    )
    assert "Conseiller·ère inconnu·e" in response.text
    assert ara.counsellor.full_name not in response.text
    assert snapshot(session) == before


def test_opening_a_case_for_a_referent_of_another_operator_is_refused(as_bre, session, ara, bre):
    client, _ = as_bre
    before = snapshot(session)
    response = client.post(
        "/api/v1/cases",
        json={
            "beneficiary_id": bre.beneficiary.id,
            "channel": "email",
            "motive": "vae",
            "referent_id": ara.counsellor.id,
        },
    )
    assert response.status_code == 422
    assert snapshot(session) == before


def test_triage_refuses_a_referent_of_another_operator(as_bre, session, ara, bre):
    client, _ = as_bre
    before = snapshot(session)
    response = client.post(
        f"/api/v1/triage/{bre.triage.id}/open-case", json={"referent_id": ara.counsellor.id}
    )
    assert response.status_code == 422
    assert snapshot(session) == before


def test_triage_refuses_a_site_of_another_operator(as_bre, session, ara, bre):
    client, _ = as_bre
    lyon = make_site(session, make_operator(session, "ARA"))
    before = snapshot(session)
    response = client.post(
        f"/api/v1/triage/{bre.triage.id}/open-case",
        json={"referent_id": bre.counsellor.id, "site_id": lyon.id},
    )
    assert response.status_code == 422
    assert response.json()["fields"] == {"site_id": "Lieu d'accueil inconnu"}
    assert snapshot(session) == before


# ---- deliverables: drafting on BRE's own case ----------------------------------------------

DRAFTS = [
    pytest.param({"kind_id": "{kind}"}, {"kind_id": "Type de livrable inconnu"}, id="kind"),
    pytest.param(
        {"kind_id": "{bre_kind}", "episode_id": "{episode}"},
        {"episode_id": "Cette unité n'appartient pas au dossier"},
        id="episode",
    ),
]


@pytest.mark.parametrize(("draft", "fields"), DRAFTS)
def test_api_refuses_a_draft_naming_another_operators_kind_or_episode(
    as_bre, session, ara, bre, draft, fields
):
    client, _ = as_bre
    before = snapshot(session)
    response = client.post(
        f"/api/v1/cases/{bre.case.id}/deliverables", json=fill(draft, all_ids(session, ara, bre))
    )
    assert response.status_code == 422
    assert response.json()["fields"] == fields
    assert snapshot(session) == before


@pytest.mark.parametrize(("draft", "fields"), DRAFTS)
def test_form_refuses_a_draft_naming_another_operators_kind_or_episode(
    as_bre, session, ara, bre, draft, fields
):
    client, csrf = as_bre
    before = snapshot(session)
    response = client.post(
        f"/cases/{bre.case.id}/deliverables",
        data={**fill(draft, all_ids(session, ara, bre)), "csrf_token": csrf},
        follow_redirects=False,
    )
    assert response.status_code == 422
    assert_no_secret(response.text)
    assert snapshot(session) == before


# ---- the partner directory -----------------------------------------------------------------

# What BRE's staff list of the directory, and which of BRE's own partners each list shows.
OWN_PARTNER = "Partenaire confidentiel BRE"
FORMER_PARTNER = "Ancien partenaire BRE"
DIRECTORY_LISTS = [
    pytest.param("/partenaires", {}, [OWN_PARTNER], id="page"),
    pytest.param("/partenaires", HTMX, [OWN_PARTNER], id="fragment"),
    pytest.param("/partenaires?q=partenaire+confidentiel", {}, [OWN_PARTNER], id="search"),
    pytest.param(
        "/partenaires?q=bilan&type=bilan_competences&departement=69",
        HTMX,
        [OWN_PARTNER],
        id="filters",
    ),
    pytest.param("/partenaires?inactifs=1", {}, [OWN_PARTNER, FORMER_PARTNER], id="inactive"),
    pytest.param("/partenaires?q=ancien&inactifs=1", HTMX, [FORMER_PARTNER], id="former"),
    pytest.param("/partenaires/export.csv", {}, [OWN_PARTNER, FORMER_PARTNER], id="export"),
]


@pytest.mark.parametrize("who", ["counsellor", "manager"])
@pytest.mark.parametrize(("url", "headers", "own"), DIRECTORY_LISTS)
def test_the_directory_never_lists_another_operators_partners(
    client, session, ara, bre, who, url, headers, own
):
    sign_in(client, session, getattr(bre, who))
    page = client.get(url, headers=headers)
    assert page.status_code == 200
    assert [name for name in own if name not in page.text] == []  # BRE's own are there…
    assert_no_secret(page.text)  # …ARA's, which match every one of these searches, are not
    assert f'/partenaires/{ara.partner.id}"' not in page.text
    assert f'/partenaires/{ara.former_partner.id}"' not in page.text


@pytest.mark.parametrize(
    "params",
    [
        {"q": "partenaire confidentiel"},
        {"type": "bilan_competences", "departement": "69"},
        {"active_only": "false"},
        {"q": "ancien", "active_only": "false"},
    ],
    ids=["search", "filters", "inactive", "former"],
)
def test_api_search_never_returns_another_operators_partners(as_bre, ara, bre, params):
    client, _ = as_bre
    found = client.get("/api/v1/partners", params=params)
    assert found.status_code == 200
    assert found.json() != []
    own = {bre.partner.id, bre.former_partner.id}
    assert [p["id"] for p in found.json() if p["id"] not in own] == []
    assert_no_secret(found.text)


PARTNER_NAMES = [
    "Partenaire confidentiel ARA",
    "partenaire confidentiel ara",
    "Ancien partenaire ARA",
]


@pytest.mark.parametrize("query", PARTNER_NAMES)
def test_searching_another_operators_partner_by_its_name_finds_nothing(as_bre, ara, query):
    client, _ = as_bre
    params = {"q": query, "inactifs": "1"}
    for headers in ({}, HTMX):
        page = client.get("/partenaires", params=params, headers=headers)
        assert "Aucun partenaire pour cette recherche." in page.text
        assert_no_secret(page.text.replace(query, ""))  # the query itself is echoed back
    api = client.get("/api/v1/partners", params={"q": query, "active_only": "false"})
    assert api.json() == []


def test_the_same_searches_find_the_partners_for_their_own_operator(client, session, ara):
    """The searches above would find them: they find nothing only because of the operator."""
    sign_in(client, session, ara.counsellor)
    for query in PARTNER_NAMES:
        found = client.get("/api/v1/partners", params={"q": query, "active_only": "false"})
        assert [p["id"] for p in found.json()] in ([ara.partner.id], [ara.former_partner.id])


def partners_of(session, tenant: Tenant) -> list[dict]:
    """Every field of every partner of the tenant's operator."""
    session.expire_all()
    operator_id = tenant.partner.operator_id
    rows = session.exec(
        select(Partner).where(Partner.operator_id == operator_id).order_by(Partner.id)
    )
    return [partner.model_dump() for partner in rows]


def bre_partner_named(session, bre: Tenant, name: str) -> Partner:
    query = select(Partner).where(
        Partner.operator_id == bre.partner.operator_id, Partner.name == name
    )
    return session.exec(query).one()


def upload_csv(client, csrf: str, text: str):
    return client.post(
        "/partenaires/import",
        data={"csrf_token": csrf},
        files={"fichier": ("partenaires.csv", text.encode("utf-8"), "text/csv")},
    )


def carried_content(page) -> str:
    """The checked file the preview carries to the confirmation (base64)."""
    return re.search(r'name="contenu" value="([^"]*)"', page.text).group(1)


@pytest.mark.parametrize("who", ["manager", "admin"])
def test_importing_another_operators_partner_name_creates_the_operators_own(
    client, session, ara, bre, who
):
    """Matched by name, an import line updates a partner of the importer's directory only:
    ARA's partner of that exact name is neither shown, nor counted, nor changed."""
    csrf = sign_in(client, session, getattr(bre, who))
    before = partners_of(session, ara)
    name = ara.partner.name
    preview = upload_csv(client, csrf, f"nom;type;email\n{name};apec;pirate@exemple.fr\n")
    assert "Toutes les lignes sont valides : 1 partenaire à créer, 0 à mettre à jour." in (
        preview.text
    )
    assert_no_secret(preview.text.replace(name, ""))
    done = client.post(
        "/partenaires/import/confirmer",
        data={"contenu": carried_content(preview), "csrf_token": csrf},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert done.headers["location"] == "/partenaires?crees=1&maj=0"
    assert partners_of(session, ara) == before
    created = bre_partner_named(session, bre, name)
    assert (created.type, created.email, created.city) == ("apec", "pirate@exemple.fr", "")


def test_an_import_line_never_borrows_the_fields_of_another_operators_partner(
    client, session, ara, bre
):
    """A line naming an existing partner keeps the fields of the columns the file leaves out:
    for BRE, ARA's partner does not exist, so the line creates a partner with none of them."""
    name = ara.partner.name
    text = f"nom;type\n{name};Bilan de compétences\n"
    csrf = sign_in(client, session, bre.manager)
    before = partners_of(session, ara)
    preview = upload_csv(client, csrf, text)
    assert "1 partenaire à créer, 0 à mettre à jour." in preview.text
    assert_no_secret(preview.text.replace(name, ""))
    # The confirmation carries the file itself: a crafted one is checked again the same way.
    forged = base64.b64encode(text.encode("utf-8")).decode("ascii")
    confirmed = client.post(
        "/partenaires/import/confirmer",
        data={"contenu": forged, "csrf_token": csrf},
        follow_redirects=False,
    )
    assert confirmed.headers["location"] == "/partenaires?crees=1&maj=0"
    assert partners_of(session, ara) == before
    created = bre_partner_named(session, bre, name)
    fields = (created.type, created.contact_name, created.email, created.city, created.services)
    assert fields == ("bilan_competences", "", None, "", "")
    # The same file is an update for ARA, whose partner it names.
    csrf = sign_in(client, session, ara.manager)
    assert "0 partenaire à créer, 1 à mettre à jour." in upload_csv(client, csrf, text).text


NAMING_LIKE_ARA = [
    pytest.param("POST", "/partenaires/nouveau", "form", 303, id="form-new"),
    pytest.param("POST", "/partenaires/{bre_partner}", "form", 303, id="form-rename"),
    pytest.param("POST", "/api/v1/partners", "json", 201, id="api-new"),
    pytest.param("PUT", "/api/v1/partners/{bre_partner}", "json", 200, id="api-rename"),
]


@pytest.mark.parametrize(("method", "url", "body", "status"), NAMING_LIKE_ARA)
def test_a_name_taken_by_another_operators_partner_is_free(
    client, session, ara, bre, method, url, body, status
):
    """Names are unique within a directory: refusing ARA's would tell BRE that ARA has it."""
    csrf = sign_in(client, session, bre.manager)
    before = partners_of(session, ara)
    name = ara.partner.name
    data = {"name": name, "type": "apec", "email": "pirate@exemple.fr", "active": "1"}
    # JSON carries its own boolean, a form its checkbox's "1".
    sent = (
        {"json": {**data, "active": True}}
        if body == "json"
        else {"data": {**data, "csrf_token": csrf}}
    )
    response = client.request(
        method, fill(url, all_ids(session, ara, bre)), follow_redirects=False, **sent
    )
    assert response.status_code == status
    assert_no_secret(response.text.replace(name, ""))
    assert partners_of(session, ara) == before
    assert bre_partner_named(session, bre, name).email == "pirate@exemple.fr"


# ---- referrals -----------------------------------------------------------------------------

PARTNER_IDS = [
    pytest.param("partner", id="active"),
    # "Partenaire inconnu", never "plus actif", which would tell that ARA has it.
    pytest.param("former_partner", id="inactive"),
]


@pytest.mark.parametrize("send_now", [False, True], ids=["kept", "sent"])
@pytest.mark.parametrize("partner", PARTNER_IDS)
def test_api_refuses_a_referral_to_another_operators_partner(
    as_bre, session, ara, bre, partner, send_now
):
    client, _ = as_bre
    before = snapshot(session)
    response = client.post(
        f"/api/v1/cases/{bre.case.id}/referrals",
        json={
            **REFERRAL,
            "consent": True,
            "partner_id": getattr(ara, partner).id,
            "send_now": send_now,
        },
    )
    assert response.status_code == 422
    assert response.json()["fields"] == {"partner_id": "Partenaire inconnu"}
    assert_no_secret(response.text)
    assert snapshot(session) == before


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["plain", "htmx"])
@pytest.mark.parametrize("partner", PARTNER_IDS)
def test_form_refuses_a_referral_to_another_operators_partner(
    as_bre, session, ara, bre, partner, headers
):
    client, csrf = as_bre
    before = snapshot(session)
    response = client.post(
        f"/cases/{bre.case.id}/referrals",
        data={
            **REFERRAL,
            "partner_id": getattr(ara, partner).id,
            "send_now": "1",
            "csrf_token": csrf,
        },
        headers=headers,
        follow_redirects=False,
    )
    assert response.status_code in (200, 422)  # the section again, with the message
    assert "Partenaire inconnu" in response.text
    assert_no_secret(response.text)
    assert snapshot(session) == before


@pytest.mark.parametrize(
    ("url", "headers"),
    [
        ("/cases/{bre_case}", {}),
        ("/cases/{bre_case}", HTMX),
        ("/cases/{bre_case}/referrals", {}),
        ("/cases/{bre_case}/referrals", HTMX),
    ],
    ids=["case-page", "case-fragment", "section-page", "section-fragment"],
)
def test_the_case_proposes_only_the_operators_own_partners(as_bre, session, ara, bre, url, headers):
    client, _ = as_bre
    page = client.get(fill(url, all_ids(session, ara, bre)), headers=headers)
    assert page.status_code == 200
    assert "Partenaire confidentiel BRE" in page.text  # in the select and BRE's referrals…
    # …where ARA's partners and referrals never are (BRE's own notes do say "confidentielle")
    assert [s for s in DIRECTORY_SECRETS if s in page.text] == []


def test_home_lists_only_the_operators_own_referrals(as_bre, ara, bre):
    """« Orientations à relancer » (both, due today) and « en attente de réponse » (the sent
    one): ARA's, due and sent alike, are neither listed nor counted."""
    client, _ = as_bre
    page = client.get("/")
    assert page.status_code == 200
    for referral in (bre.referral, bre.sent_referral):
        assert f'href="/cases/{bre.case.id}?section=orientations#ref-{referral.id}"' in page.text
    assert re.search(r"Orientations à relancer <span[^>]*>\(2\)", page.text)
    assert "Orientations en attente de réponse (1)" in page.text
    assert f"/cases/{ara.case.id}?section=orientations#ref-" not in page.text
    assert_no_secret(page.text)


# ---- what supervisors list -----------------------------------------------------------------

SUPERVISOR_LISTS = [
    pytest.param("manager", "/messages", {}, id="messages-manager"),
    pytest.param("manager", "/messages", HTMX, id="messages-fragment"),
    pytest.param("manager", "/messages?status=failed", {}, id="messages-failed"),
    pytest.param("admin", "/messages", {}, id="messages-admin"),
    pytest.param("manager", "/preuves-manquantes", {}, id="proofs-manager"),
    pytest.param("manager", "/preuves-manquantes", HTMX, id="proofs-fragment"),
    pytest.param("admin", "/preuves-manquantes", {}, id="proofs-admin"),
    pytest.param("counsellor", "/preuves-manquantes", {}, id="proofs-counsellor"),
    pytest.param("admin", "/admin/livrables", {}, id="kinds-admin"),
]


@pytest.mark.parametrize(("who", "url", "headers"), SUPERVISOR_LISTS)
def test_supervisor_lists_never_show_another_operators_rows(
    client, session, ara, bre, who, url, headers
):
    sign_in(client, session, getattr(bre, who))
    page = client.get(url, headers=headers)
    assert page.status_code == 200
    # BRE's own e-mail, gap or kind is there… (its e-mailed deliverable is « remis », so the
    # gap its case shows is the other kind UO1 requires: the case is what the gap list names)
    own = bre.case.reference if url == "/preuves-manquantes" else "Bilan confidentiel BRE"
    assert own in page.text
    assert_no_secret(page.text)  # …ARA's are not
    assert ara.case.reference not in page.text


# ---- booking -------------------------------------------------------------------------------

# What BRE's staff list of their booking, and what of BRE's own each list shows.
BOOKING_LISTS = [
    pytest.param("admin", "/admin/motifs", {}, ["Motif confidentiel BRE"], id="motifs"),
    pytest.param(
        "manager",
        "/admin/disponibilites",
        {},
        ["Lieu confidentiel BRE", "Absence confidentielle BRE"],
        id="planning",
    ),
    pytest.param("counsellor", "/agenda?jour={day}", {}, ["Motif confidentiel BRE"], id="agenda"),
    pytest.param(
        "counsellor", "/agenda?jour={day}", HTMX, ["Motif confidentiel BRE"], id="agenda-fragment"
    ),
    pytest.param(
        "manager",
        "/agenda?jour={day}&lieu={bre_site}",
        {},
        ["Motif confidentiel BRE", "Lieu confidentiel BRE"],
        id="agenda-site",
    ),
    pytest.param(
        "counsellor", "/agenda/liste-attente", {}, ["Motif confidentiel BRE"], id="waiting-list"
    ),
    pytest.param(
        "counsellor",
        "/cases/{bre_case}/rendez-vous?motif={bre_motif}&mode=on_site",
        {},
        ["Motif confidentiel BRE", "Lieu confidentiel BRE"],
        id="case-booking",
    ),
]


@pytest.mark.parametrize(("who", "url", "headers", "own"), BOOKING_LISTS)
def test_booking_lists_never_show_another_operators_rows(
    client, session, ara, bre, who, url, headers, own
):
    sign_in(client, session, getattr(bre, who))
    page = client.get(fill(url, all_ids(session, bre, bre)), headers=headers)
    assert page.status_code == 200
    assert [name for name in own if name not in page.text] == []  # BRE's own are there…
    assert_no_secret(page.text)  # …ARA's are not
    assert ara.case.reference not in page.text


CASE_BOOKINGS = [
    pytest.param(
        {"motif": "{motif}", "lieu": "{bre_site}"},
        "Ce motif de rendez-vous n'est pas proposé",
        id="motif",
    ),
    pytest.param(
        {"motif": "{bre_motif}", "lieu": "{site}"}, "Ce lieu d'accueil n'est pas proposé", id="site"
    ),
]


@pytest.mark.parametrize(("choice", "message"), CASE_BOOKINGS)
def test_booking_on_the_case_refuses_another_operators_motif_or_site(
    as_bre, session, ara, bre, choice, message
):
    client, csrf = as_bre
    before = snapshot(session)
    choice = fill(choice, all_ids(session, ara, bre))
    response = client.post(
        f"/cases/{bre.case.id}/rendez-vous",
        data={**choice, "mode": "on_site", "creneau": "2030-01-07T09:00+01:00", "csrf_token": csrf},
    )
    assert message in html.unescape(response.text)
    assert_no_secret(response.text)
    assert snapshot(session) == before


def test_missing_proofs_of_another_operators_counsellor_are_not_found(client, session, ara, bre):
    sign_in(client, session, bre.manager)
    page = client.get("/preuves-manquantes", params={"conseiller": ara.counsellor.id})
    assert "Aucune preuve manquante" in page.text
    assert_no_secret(page.text)
    assert ara.case.reference not in page.text


def test_the_market_page_shows_only_the_readers_own_lot(client, session, ara, bre):
    """Markets are national; the lot on their page is the reader's, whatever ?operateur= asks."""
    sign_in(client, session, bre.admin)
    market = ara.lot.market_id
    for url in (
        f"/admin/marches/{market}",
        f"/admin/marches/{market}?operateur={ara.lot.operator_id}",
    ):
        page = client.get(url)
        assert page.status_code == 200
        assert "111,11" in page.text and f"/admin/lots/{bre.lot.id}/prix" in page.text
        assert f"/admin/lots/{ara.lot.id}/" not in page.text
    listed = client.get("/admin/marches").text
    assert "Auvergne" not in listed and "ARA" not in listed


OWN_PAGES = [
    pytest.param(
        "counsellor",
        "/cases/{case}?section=documents",
        ["Bilan confidentiel ARA", "Étape confidentielle ARA"],
        id="case_documents",
    ),
    pytest.param(
        "counsellor",
        "/cases/{case}?section=pieces-jointes",
        ["releve-confidentiel-ARA", "Pièce confidentielle ARA"],
        id="case_attachments",
    ),
    pytest.param(
        "counsellor",
        "/deliverables/{deliverable}",
        ["Section confidentielle ARA"],
        id="deliverable",
    ),
    pytest.param(
        "manager",
        "/messages",
        [
            "Bilan confidentiel ARA",
            "sidonie.vautrin@exemple.fr",
            "Refus confidentiel ARA",
            "orientation@partenaire-ara.fr",  # the referral e-mailed to ARA's partner
        ],
        id="messages",
    ),
    pytest.param(
        # Its e-mailed deliverable is « remis », complete: the gap shown is UO1's other kind.
        "manager",
        "/preuves-manquantes",
        ["VAUTRIN"],
        id="proofs",
    ),
    pytest.param("admin", "/admin/livrables", ["Bilan confidentiel ARA"], id="kinds"),
    pytest.param(
        "counsellor",
        "/",
        [
            f'href="/cases/{{case}}?section=orientations#ref-{{{key}}}"'
            for key in ("referral", "sent_referral")
        ]
        + ["Partenaire confidentiel ARA"],
        id="home",
    ),
    pytest.param(
        "counsellor",
        "/partenaires?inactifs=1",
        [
            "Partenaire confidentiel ARA",
            "Ancien partenaire ARA",
            "Contact confidentiel ARA",
            "orientation@partenaire-ara.fr",
        ],
        id="directory",
    ),
    pytest.param(
        "counsellor",
        "/partenaires/export.csv",
        ["Partenaire confidentiel ARA", "Ancien partenaire ARA", "orientation@partenaire-ara.fr"],
        id="export",
    ),
    pytest.param(
        "counsellor",
        "/partenaires/{partner}",
        [
            "Partenaire confidentiel ARA",
            "Contact confidentiel ARA",
            "orientation@partenaire-ara.fr",
        ],
        id="partner",
    ),
    pytest.param(
        "counsellor",
        "/cases/{case}/referrals",
        [
            "Partenaire confidentiel ARA",
            "Orientation confidentielle ARA",
            "Partage confidentiel ARA",
        ],
        id="referrals",
    ),
    pytest.param(
        "counsellor",
        "/cases/{case}/rendez-vous",
        ["Motif confidentiel ARA", "Lieu confidentiel ARA"],
        id="case-booking",
    ),
    pytest.param("counsellor", "/agenda?jour={day}", ["Motif confidentiel ARA"], id="agenda"),
    pytest.param(
        "manager",
        "/agenda?lieu={site}&jour={day}",
        ["Motif confidentiel ARA", "Lieu confidentiel ARA", "VAUTRIN"],
        id="agenda-site",
    ),
    pytest.param("admin", "/admin/motifs", ["Motif confidentiel ARA"], id="motifs"),
    pytest.param(
        "manager",
        "/admin/enquetes/fin_niveau_1",
        ["Questionnaire confidentiel ARA"],
        id="questionnaire",
    ),
    pytest.param(
        "manager",
        "/admin/disponibilites",
        ["Lieu confidentiel ARA", "Absence confidentielle ARA"],
        id="planning",
    ),
]


@pytest.mark.parametrize(("who", "url", "shown"), OWN_PAGES)
def test_the_secrets_are_shown_to_their_own_operator(client, session, ara, who, url, shown):
    """ARA's staff read them on these pages: the checks above would see them if they leaked."""
    sign_in(client, session, getattr(ara, who))
    page = client.get(fill(url, ara.ids))
    assert [secret for secret in fill(shown, ara.ids) if secret not in page.text] == []


# ---- survey results (issue 17, item 4) --------------------------------------------------------
# Their addresses name no row: the period, the site and the counsellor are filters. ARA's
# surveys, filtered by ARA's own site and counsellor, must count for nothing at BRE.

SURVEY_SENT = datetime(2026, 3, 10, 9, tzinfo=ZoneInfo("UTC"))
SURVEY_PERIOD = "du=2026-01-01&au=2026-06-30"


@pytest.fixture
def ara_surveys(session, ara):
    """Twelve answered surveys of ARA's counsellor at ARA's site, each with a comment."""
    for _ in range(12):
        invite(
            session,
            ara.counsellor,
            sent_at=SURVEY_SENT,
            site=ara.site,
            positive=True,
            comment="Commentaire confidentiel ARA",
        )
    return ara


def survey_text(response) -> str:
    """A page or CSV as its text; a workbook as `;`-separated lines of its cells."""
    if response.headers["content-type"].startswith("application/vnd.openxml"):
        rows = openpyxl.load_workbook(io.BytesIO(response.content)).active.values
        return "\n".join(";".join("" if v is None else str(v) for v in row) for row in rows)
    return html.unescape(response.text)


SURVEY_URLS = [
    f"/rapports/enquetes?{SURVEY_PERIOD}",
    f"/rapports/enquetes?{SURVEY_PERIOD}&lieu={{site}}&conseiller={{counsellor}}",
    f"/rapports/enquetes/satisfaction-lieux.csv?{SURVEY_PERIOD}",
    f"/rapports/enquetes/satisfaction-conseillers.xlsx?{SURVEY_PERIOD}",
    f"/rapports/enquetes/commentaires.xlsx?{SURVEY_PERIOD}&finalite=rapport_activite",
    f"/rapports/activite/enquetes.csv?{SURVEY_PERIOD}&lieu={{site}}",
]
TWELVE = re.compile(r"[>;]12(</td>|;|\r?$)", re.MULTILINE)


@pytest.mark.parametrize("url", SURVEY_URLS)
def test_survey_results_never_count_another_operators_surveys(
    client, session, ara_surveys, bre, url
):
    sign_in(client, session, bre.manager)
    response = client.get(fill(url, ara_surveys.ids))
    assert response.status_code == 200
    text = survey_text(response)
    assert "Commentaire confidentiel ARA" not in text and "Lieu confidentiel ARA" not in text
    assert f">{ara_surveys.counsellor.full_name}<" not in text  # as a row of the table
    assert not TWELVE.search(text)


def test_the_survey_api_counts_only_the_operators_own(client, session, ara_surveys, bre):
    sign_in(client, session, bre.manager)
    body = client.get("/api/v1/reports/surveys?from=2026-01-01&to=2026-06-30").json()
    assert body["satisfaction"]["level_1"]["invited"] == 0
    sign_in(client, session, ara_surveys.manager)
    body = client.get("/api/v1/reports/surveys?from=2026-01-01&to=2026-06-30").json()
    assert body["satisfaction"]["level_1"]["invited"] == 12


def test_a_counsellors_own_survey_figures_never_include_another_operators(
    client, session, ara_surveys, bre
):
    sign_in(client, session, bre.counsellor)
    page = html.unescape(client.get("/rapports/enquetes/mes-resultats?annee=2026").text)
    assert "Moins de 11 réponses" in page and ">12</td>" not in page


@pytest.mark.parametrize("url", SURVEY_URLS)
def test_the_survey_results_are_shown_to_their_own_operator(client, session, ara_surveys, url):
    """So that the checks above would see ARA's surveys if they leaked."""
    sign_in(client, session, ara_surveys.manager)
    text = survey_text(client.get(fill(url, ara_surveys.ids)))
    assert "Commentaire confidentiel ARA" in text or TWELVE.search(text)
