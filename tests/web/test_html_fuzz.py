"""Property-based fuzzing of the HTML routes (hypothesis): whatever a browser sends, never a 500.

The JSON API is fuzzed from its OpenAPI schema (test_api_fuzz.py); the pages are left out of
that schema, and most of their forms are read whole (app.web.deps.SubmittedForm), so their fields
are not in any signature. Here every HTML route is one test: its path parameters, its query
parameters (from the signature, or from the filter model the route parses its query with) and
its form fields (FORM_FIELDS below) are filled with garbage — huge and negative numbers, dates
of year 1 and 9999, NUL characters, long strings — or with the ids, tokens and dates of real
rows, so that the garbage also reaches the services and the database. Each example is sent
as an anonymous visitor and as a signed-in counsellor or operator admin, with a valid CSRF
token. FILROUGE_FUZZ_EXAMPLES=300 digs deeper (a few minutes) than the default.
"""

import os
from datetime import UTC, date, datetime, timedelta, timezone
from urllib.parse import quote

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import select

from app.core.config import get_settings
from app.core.security import create_link_token
from app.main import create_app
from app.models.api_clients import ApiClientCreate
from app.models.appointments import Absence, AbsenceEdit, AppointmentTypeEdit, OpeningSlotEdit
from app.models.beneficiaries import Beneficiary, BeneficiaryCreate, BeneficiaryUpdate
from app.models.cases import CaseClose, EpisodeEnd, EpisodeStart, InteractionCreate, ReferentChange
from app.models.catalogue import DeliverableKind, DeliverableKindEdit
from app.models.consents import ConsentEntry
from app.models.control import (
    CampaignCreate,
    FindingAnswer,
    OfficialCampaignCreate,
    UnitReview,
)
from app.models.deliverable_archives import ArchiveFilters
from app.models.deliverables import (
    ActionPlanObjective,
    ActionStepMove,
    ActionStepWrite,
    DeliverableVersion,
)
from app.models.markets import BudgetEdit, LotCreate, MarketCreate, MarketUnitEdit, PriceCreate
from app.models.nomenclatures import Role
from app.models.operators import (
    OperatorCreate,
    OperatorFileNames,
    OperatorOutsideReads,
    OperatorPrivacy,
    OperatorRetention,
    OperatorSecurity,
    PermanenceEdit,
    SiteClosing,
    SiteEdit,
    SiteMemberChoice,
)
from app.models.partners import (
    PartnerCreate,
    PartnerDecision,
    PartnerOutcomeReport,
    PartnerUpdate,
    ReferralCreate,
    ReferralTransition,
)
from app.models.rights import RightKind, RightsRequestCreate
from app.models.staff import (
    ControllerInvitation,
    ControlTeamEdit,
    StaffInvitation,
    StaffRoleEdit,
    StaffSitesEdit,
)
from app.models.triage import TriageCreate, TriageOpenCase, TriageRedirect
from app.models.uo4 import Uo4ActionEdit
from app.models.waiting_list import WaitingListEntry, WaitingOfferDelay
from app.routes.admin.uo4 import Uo4Filters
from app.routes.control.proofs import MissingProofFilters
from app.routes.referrals.partners import PartnerFilters
from app.routes.reports.activity import ActivityFilters
from app.routes.reports.ledger import LedgerFilters
from app.routes.reports.national import NationalFilters
from app.services.audit.outside_reads import ReadReason
from app.services.audit.purposes import StatedPurpose
from app.services.booking.messages import manage_link
from app.services.booking.waiting_list_sms import leave_link
from app.services.personal_space.actions import ConsentChoice, ContactDetails, RightChoice
from app.services.personal_space.links import mint_link
from app.services.privacy.access_archive import request_archive
from app.services.privacy.rights import record_request
from app.services.referrals.messages import partner_link
from app.services.referrals.workflow import propose_referral
from app.web.deps import ANON_CSRF_COOKIE, CSRF_FIELD, submitted_form
from tests.app_routes import api_routes, dependants
from tests.factories import (
    PDF,
    issued_then_edited,
    kept_file,
    log_in,
    make_appointment,
    make_appointment_type,
    make_case,
    make_episode,
    make_lot,
    make_openings,
    make_operator,
    make_partner,
    make_site,
    make_staff,
    paris_today,
    unit_id,
    working_day_at,
)
from tests.surveys.sent_invitations import answer_path, opt_out_link, sent_invitation

HTML_ROUTES = [
    (method, route)
    for route in api_routes(create_app())
    if not route.include_in_schema
    for method in sorted(route.methods)
]


def _names(*models) -> tuple[str, ...]:
    """The fields of input models as a form names them (validation aliases included)."""
    names = []
    for model in models:
        for name, info in model.model_fields.items():
            alias = info.validation_alias
            choices = getattr(alias, "choices", [alias] if isinstance(alias, str) else [])
            names += [name, *(c for c in choices if isinstance(c, str))]
    return tuple(dict.fromkeys(names))


# The default end-of-level questionnaire's fields (app/services/surveys/questionnaires.py).
SURVEY_ANSWERS = ("q-satisfaction", "q-recommandation", "q-changements", "q-commentaire")
PERSON = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "postcode",
    "request",
    "consent",
    "survey_consent",
    "motive",
    "situation",
)
FLOW = ("operateur", "motif", "mode", "lieu")
# What an export with personal data asks before sending it (app/web/export_purpose.py).
PURPOSE = _names(StatedPurpose)
# Fields read from the whole form or from the query string, not from the route's signature.
FORM_FIELDS = {
    ("POST", "/login"): (),  # its fields are in its signature; the throttle reads the e-mail
    ("POST", "/notifications/recapitulatif"): ("daily",),
    ("POST", "/rendez-vous/trouver"): ("situation", "recherche"),
    ("POST", "/rendez-vous/lieu"): (*FLOW, "postcode"),
    ("POST", "/rendez-vous/coordonnees"): (*FLOW, "debut", "idempotency_key", "site_web", *PERSON),
    ("POST", "/rendez-vous/rappel"): (*FLOW, "site_web", *PERSON),
    ("POST", "/rendez-vous/liste-attente"): (*FLOW, "jours", "moments", "site_web", *PERSON),
    ("POST", "/admin/liste-attente/delai"): _names(WaitingOfferDelay),
    ("POST", "/triage/new"): _names(TriageCreate, BeneficiaryCreate),
    ("POST", "/triage/{request_id}/open-case"): _names(TriageOpenCase),
    ("POST", "/triage/{request_id}/redirect"): _names(TriageRedirect),
    ("POST", "/beneficiaries/{beneficiary_id}"): _names(BeneficiaryUpdate),
    ("POST", "/cases/{case_id}/episodes"): (*_names(EpisodeStart), "confirm"),
    ("POST", "/cases/{case_id}/episodes/{episode_id}/end"): _names(EpisodeEnd),
    ("POST", "/cases/{case_id}/episodes/{episode_id}/cancel"): (),
    ("POST", "/cases/{case_id}/interactions"): _names(InteractionCreate),
    ("POST", "/cases/{case_id}/referent"): _names(ReferentChange),
    ("POST", "/cases/{case_id}/close"): _names(CaseClose),
    ("POST", "/cases/{case_id}/reopen"): (),
    ("POST", "/cases/{case_id}/plan/steps"): _names(ActionStepWrite),
    ("POST", "/cases/{case_id}/plan/steps/{step_id}"): _names(ActionStepWrite),
    ("POST", "/cases/{case_id}/plan/steps/{step_id}/move"): _names(ActionStepMove),
    ("POST", "/cases/{case_id}/plan/steps/{step_id}/delete"): (),
    ("POST", "/cases/{case_id}/plan/objective"): _names(ActionPlanObjective),
    ("POST", "/admin/livrables"): _names(DeliverableKindEdit),
    ("POST", "/admin/livrables/{kind_id}"): _names(DeliverableKindEdit),
    ("POST", "/admin/equipe"): _names(StaffInvitation),
    ("POST", "/admin/equipe/{staff_id}/role"): _names(StaffRoleEdit),
    ("POST", "/admin/equipe/{staff_id}/sites"): _names(StaffSitesEdit),
    ("POST", "/admin/equipe/controleurs"): _names(ControllerInvitation),
    ("POST", "/admin/equipe/{staff_id}/equipe-de-controle"): _names(ControlTeamEdit),
    ("POST", "/admin/operateurs"): _names(OperatorCreate),
    ("POST", "/admin/sites"): _names(SiteEdit),
    ("POST", "/admin/sites/{site_id}/modifier"): _names(SiteEdit),
    ("POST", "/admin/sites/{site_id}/rattacher"): _names(SiteMemberChoice),
    ("POST", "/admin/sites/{site_id}/permanences"): _names(PermanenceEdit),
    ("POST", "/admin/sites/{site_id}/permanences/{permanence_id}"): _names(PermanenceEdit),
    ("POST", "/admin/sites/{site_id}/fermer"): _names(SiteClosing),
    ("POST", "/admin/uo4"): (*_names(Uo4ActionEdit), "attendee_ids", "hours_1"),
    ("POST", "/admin/uo4/{action_id}"): (*_names(Uo4ActionEdit), "attendee_ids", "hours_1"),
    ("POST", "/admin/equipe/{staff_id}/double-authentification"): ("reset_code",),
    ("POST", "/admin/securite"): ("operator_id", *_names(OperatorSecurity)),
    ("POST", "/admin/securite/conservation"): ("operator_id", *_names(OperatorRetention)),
    ("POST", "/admin/droits"): ("q", *_names(RightsRequestCreate)),
    ("POST", "/admin/droits/{request_id}/reponse"): ("outcome", "refus"),
    ("POST", "/admin/droits/{request_id}/effacement"): ("reference",),
    ("POST", "/admin/securite/motif"): ("operator_id", *_names(OperatorOutsideReads)),
    ("POST", "/admin/securite/noms-de-fichiers"): ("operator_id", *_names(OperatorFileNames)),
    ("POST", "/admin/clients-api"): _names(ApiClientCreate),
    # The period's fields are « du » and « au » on the form.
    ("POST", "/admin/archives-livrables"): ("du", "au", *_names(ArchiveFilters)),
    ("POST", "/beneficiaries/{beneficiary_id}/motif"): ("suite", *_names(ReadReason)),
    ("POST", "/admin/protection-donnees"): ("operator_id", *_names(OperatorPrivacy)),
    ("POST", "/admin/identite/logo"): ("logo",),
    ("POST", "/beneficiaries/{beneficiary_id}/consentements"): _names(ConsentEntry),
    ("POST", "/mon-espace/{token}/coordonnees"): _names(ContactDetails),
    ("POST", "/mon-espace/{token}/consentements"): _names(ConsentChoice),
    ("POST", "/mon-espace/{token}/droits"): _names(RightChoice),
    ("POST", "/admin/enquetes/{kind}"): (
        *("action", "based_on", "title", "intro", "measure", "positive"),
        *("q0-key", "q0-label", "q0-help", "q0-type", "q0-required", "q0-options"),
        *("q1-label", "q1-type", "q1-options"),
    ),
    ("POST", "/compte/double-authentification"): ("code",),
    ("POST", "/compte/codes-de-secours"): ("codes_code",),
    ("POST", "/compte/double-authentification/desactiver"): ("off_code",),
    ("POST", "/compte/cles-api"): ("key_name", "key_code"),
    ("POST", "/partenaires/nouveau"): _names(PartnerCreate),
    ("POST", "/partenaires/import"): ("fichier",),
    ("POST", "/partenaires/import/confirmer"): ("contenu",),
    ("POST", "/partenaires/{partner_id}"): _names(PartnerUpdate),
    ("POST", "/partenaires/{partner_id}/activation"): ("actif",),
    ("POST", "/cases/{case_id}/referrals"): _names(ReferralCreate),
    ("POST", "/referrals/{referral_id}/send"): (),
    ("POST", "/referrals/{referral_id}/status"): _names(ReferralTransition),
    ("POST", "/partenaire/orientations/{token}/decision"): _names(PartnerDecision),
    ("POST", "/partenaire/orientations/{token}/issue"): _names(PartnerOutcomeReport),
    ("POST", "/enquete/{token}"): ("action", *SURVEY_ANSWERS),
    ("POST", "/admin/motifs"): _names(AppointmentTypeEdit),
    ("POST", "/admin/motifs/{type_id}"): _names(AppointmentTypeEdit),
    ("POST", "/admin/disponibilites/ouvertures"): _names(OpeningSlotEdit),
    ("POST", "/admin/disponibilites/absences"): _names(AbsenceEdit),
    ("POST", "/cases/{case_id}/deliverables"): ("kind_id", "episode_id"),
    ("POST", "/deliverables/{deliverable_id}/draft"): ("section-synthese", "section-x"),
    ("POST", "/deliverables/{deliverable_id}/issue"): ("section-synthese",),
    ("POST", "/deliverables/{deliverable_id}/preview"): ("section-synthese", "section-x"),
    ("POST", "/deliverables/{deliverable_id}/versions/{number}/share"): (),
    ("POST", "/deliverables/{deliverable_id}/versions/{number}/revoke-link"): (),
    ("POST", "/deliverables/{deliverable_id}/versions/{number}/handed-over"): (),
    ("POST", "/admin/marches"): _names(MarketCreate),
    ("POST", "/admin/marches/{market_id}/lots"): _names(LotCreate),
    ("POST", "/admin/marches/{market_id}/unites/{unit_id}"): (*_names(MarketUnitEdit), "operateur"),
    ("POST", "/admin/lots/{lot_id}/prix"): _names(PriceCreate),
    ("POST", "/admin/lots/{lot_id}/budget"): _names(BudgetEdit),
    ("POST", "/rapports/controles"): _names(CampaignCreate),
    ("POST", "/controle/campagnes"): _names(OfficialCampaignCreate),
    ("POST", "/rapports/controles/{campaign_id}/verifier-preuves"): (),
    ("POST", "/rapports/controles/{campaign_id}/soumettre"): (),
    ("POST", "/controle/campagnes/{campaign_id}/unites/{episode_id}"): _names(UnitReview),
    ("POST", "/controle/campagnes/{campaign_id}/clore"): (),
    ("POST", "/rapports/controles/{campaign_id}/unites/{episode_id}/reponse"): _names(
        FindingAnswer
    ),
    ("GET", "/preuves-manquantes"): _names(MissingProofFilters),
    ("GET", "/partenaires"): _names(PartnerFilters),
    ("GET", "/rapports/activite"): _names(ActivityFilters),
    ("GET", "/rapports/activite/{section}.{fmt}"): _names(ActivityFilters),
    ("GET", "/rapports/etat-de-service"): _names(LedgerFilters),
    ("GET", "/rapports/etat-de-service.{fmt}"): _names(LedgerFilters),
    ("GET", "/rapports/etat-de-service/{unit_id:int}"): _names(LedgerFilters),
    ("GET", "/rapports/etat-de-service/{unit_id:int}.{fmt}"): (*_names(LedgerFilters), *PURPOSE),
    ("GET", "/rapports/controles/{campaign_id}/dossier-de-preuves.zip"): PURPOSE,
    ("GET", "/cases/{case_id}/dossier.zip"): ("pieces", "pseudonymise", *PURPOSE),
    ("GET", "/controle/campagnes/{campaign_id}/dossier-de-preuves.zip"): PURPOSE,
    ("GET", "/rapports/controles/{campaign_id}/historique.csv"): PURPOSE,
    ("GET", "/controle/campagnes/{campaign_id}/historique.csv"): PURPOSE,
    ("GET", "/rapports/enquetes/commentaires.{fmt}"): (*_names(ActivityFilters), *PURPOSE),
    ("GET", "/rapports/national"): _names(NationalFilters),
    ("GET", "/rapports/national/{section}.{fmt}"): _names(NationalFilters),
    ("GET", "/admin/uo4"): _names(Uo4Filters),
    ("GET", "/admin/uo4/export/{table}.{fmt}"): _names(Uo4Filters),
}

# Values that once overflowed something, or that a careless parser would choke on.
NASTY = (
    "",
    " ",
    "1e309",
    "nan",
    "١٢٣",  # Arabic-Indic digits: int() reads them
    "\x00",
    "a\x00b",
    "x" * 5000,
    "é" * 300,
    "Ā",
    "<script>alert(1)</script>",
    "../../etc/passwd",
)
_ZONES = st.sampled_from([UTC, timezone(timedelta(hours=14)), timezone(timedelta(hours=-12))])
GARBAGE = st.one_of(
    st.sampled_from(NASTY),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.dates().map(date.isoformat),
    st.datetimes(timezones=st.none() | _ZONES).map(datetime.isoformat),
    st.text(max_size=30),
)
# What a field holds, guessed from its name; its edges are tried more often than chance would.
EDGES = {
    "number": st.sampled_from(
        ["0", "-1", "2147483647", "2147483648", "9223372036854775808", "99999999999999999999"]
    ),
    "day": st.sampled_from(
        ["0001-01-01", "0001-01-07", "9999-12-31", "9999-12-25", "1999-12-31", "2101-01-01"]
    ),
    "moment": st.sampled_from(
        [
            "0001-01-01T00:00:00+01:00",
            "0001-01-01T00:00",
            "9999-12-31T09:00:00+01:00",
            "9999-12-31T23:59:59-12:00",
            "9999-12-31T23:59",
            "2026-03-29T02:30",  # a local time that does not exist (clocks go forward)
        ]
    ),
}
DAYS = {"du", "au", "jour", "semaine", "from", "to", "valid_from", "valid_until"}
DAYS |= {"period_start", "period_end"}
MOMENTS = {"debut", "start", "creneau"}
NUMBERS = {"motif", "lieu", "conseiller", "site", "unite", "number", "page", "enregistre"}
NUMBERS |= {"annee", "crees", "maj", "sample_size", "seed", "weekday", "birth_year"}


def _kind(name: str) -> str | None:
    if name in DAYS or name.endswith("_on"):
        return "day"
    if name in MOMENTS or name.endswith("_at"):
        return "moment"
    if name in NUMBERS or name.endswith(("_id", "_ids", "_minutes", "_hours", "_days")):
        return "number"
    return None


@pytest.fixture
def world(session, monkeypatch):
    """ARA with one row of each kind a page can name; returns the users and the real values."""
    # Every example of a route runs in one transaction: the public pages' rate limit would
    # turn the later ones into 429s and hide what is behind it.
    monkeypatch.setattr(get_settings(), "public_rate_limit", "1000000/minute")
    operator = make_operator(session)
    site = make_site(session, operator)
    counsellor = make_staff(session, operator)
    admin = make_staff(session, operator, Role.OPERATOR_ADMIN)
    observer = make_staff(session, None, Role.NATIONAL_OBSERVER)
    controller = make_staff(session, None, Role.CONTROLLER)
    opening = make_openings(session, counsellor, site)[0]
    kind = make_appointment_type(session, operator)
    case = make_case(session, counsellor)
    episode = make_episode(session, counsellor, case)
    kind_of_document = session.exec(
        select(DeliverableKind).where(
            DeliverableKind.operator_id == operator.id, DeliverableKind.code == "document_synthese"
        )
    ).one()
    with monkeypatch.context() as patch:  # version 1 needs no real PDF: WeasyPrint is slow
        patch.setattr(
            "app.services.deliverables.documents.render_deliverable_pdf", lambda _content: PDF
        )
        deliverable = issued_then_edited(session, counsellor, case, kind_of_document, episode)
    version = session.exec(
        select(DeliverableVersion).where(DeliverableVersion.deliverable_id == deliverable.id)
    ).one()
    start = working_day_at(site)
    appointment = make_appointment(
        session, starts_at=start, site=site, counsellor=counsellor, appointment_type=kind
    )
    partner = make_partner(session, operator)
    referral = propose(session, counsellor, case, partner)
    absence = Absence(
        operator_id=operator.id,
        counsellor_id=counsellor.id,
        starts_at=start + timedelta(days=30),
        ends_at=start + timedelta(days=31),
    )
    session.add(absence)
    session.flush()
    attachment = kept_file(session, counsellor, case)
    survey = sent_invitation(session, counsellor, case, episode=episode)
    lot = make_lot(session, operator, UO1="120")
    waiting = WaitingListEntry(
        operator_id=operator.id,
        appointment_type_id=kind.id,
        mode="on_site",
        site_id=site.id,
        beneficiary_id=case.beneficiary_id,
        weekdays="0 1 2 3 4 5 6",
        half_days="morning afternoon",
    )
    session.add(waiting)
    session.flush()
    today = paris_today().isoformat()
    person = session.get(Beneficiary, case.beneficiary_id)
    space_token = mint_link(session=session, person=person).token
    access = RightsRequestCreate(
        beneficiary_id=case.beneficiary_id,
        kind=RightKind.ACCESS,
        received_on=paris_today(),
        received_via="letter",
    )
    rights_request = record_request(session=session, actor=admin, data=access)
    archive = request_archive(session=session, actor=admin, request_id=rights_request.id)
    real = {
        "request_id": rights_request.id,
        "archive_id": archive.id,
        "received_on": today,
        "received_via": ("letter", "email"),
        "reference": case.reference,
        "case_id": case.id,
        "episode_id": episode.id,
        "beneficiary_id": case.beneficiary_id,
        "deliverable_id": deliverable.id,
        "number": 1,
        "kind_id": deliverable.kind_id,
        "type_id": kind.id,
        "motif": kind.id,
        "appointment_type": kind.id,
        "appointment_id": appointment.id,
        "entry_id": waiting.id,
        "jours": ("0", "6"),
        "moments": ("morning", "afternoon"),
        "lieu": site.id,
        "site": site.id,
        "site_id": site.id,
        "conseiller": counsellor.id,
        "counsellor_id": counsellor.id,
        "referent_id": admin.id,
        "partner_id": partner.id,
        "referral_id": referral.id,
        "absence_id": absence.id,
        "opening_id": opening.id,
        "attachment_id": attachment.id,
        "lot_id": lot.id,
        "operator_id": operator.id,
        "market_id": lot.market_id,
        "unit_id": unit_id(session, "UO1"),
        "unite": unit_id(session, "UO1"),
        "operateur": "ARA",
        "mode": "on_site",
        "vue": "semaine",
        "fmt": "csv",
        "section": "synthese",
        # A questionnaire; a right exercised.
        "kind": ("fin_niveau_1", "utilite_6_mois", "access", "erasure", "objection"),
        "q0-type": ("echelle", "texte"),
        "debut": (start + timedelta(days=1)).isoformat(),
        "start": (start + timedelta(days=1)).isoformat(),
        "creneau": (start + timedelta(days=1)).isoformat(),
        "jour": today,
        "semaine": today,
        "du": today,
        "au": today,
        "from": today,
        "to": today,
        "token": (
            manage_link(appointment).rsplit("/", 1)[1],
            create_link_token(purpose="document", subject_id=version.id),
            partner_link(session, referral, lifetime=timedelta(days=1)).rsplit("/", 1)[1],
            answer_path(survey).rsplit("/", 1)[1],
            opt_out_link(survey).rsplit("/", 1)[1],
            leave_link(waiting).rsplit("/", 1)[1],
            space_token,
        ),
        "version_id": version.id,
        # The personal space's forms.
        "contact": ("zoe@exemple.fr", "06 12 34 56 78"),
        "decision": ("given", "withdrawn"),
        "purpose": ("email", "sms", "surveys"),
        # The answer form's buttons, and the questionnaire editor's.
        "action": ("envoyer", "enregistrer", "ajouter", "retirer-0", "monter-1", "actualiser"),
        "q-satisfaction": "plutot_satisfait",
        "q-changements": "emploi",
    }
    users = {"counsellor": counsellor, "admin": admin, "observer": observer}
    return {**users, "controller": controller}, real


def propose(session, counsellor, case, partner):
    data = ReferralCreate(partner_id=partner.id, purpose="Bilan de compétences", consent=True)
    return propose_referral(session=session, actor=counsellor, case_id=case.id, data=data)


def _bad(name: str):
    """The edges of the field's kind, or any garbage."""
    kind = _kind(name)
    return st.one_of(EDGES[kind], GARBAGE) if kind else GARBAGE


def _real(name: str, real: dict):
    """The value of a row of the world, when the field names one."""
    known = real.get(name)
    if known is None:
        return None
    return st.sampled_from([str(c) for c in (known if isinstance(known, tuple) else (known,))])


def _fields(data, names, real: dict, focus: str | None) -> dict[str, str]:
    """With a focus, that field is bad and the others hold real values (or are left out), so
    that the bad value reaches deep; without, every field is drawn at random."""
    values = {}
    for name in names:
        good = _real(name, real)
        if focus is not None:
            drawn = data.draw(_bad(name), label=name) if name == focus else None
            if drawn is None and good is not None:
                drawn = data.draw(good, label=name)
        elif data.draw(st.booleans(), label=f"{name}?"):
            drawn = data.draw(
                st.one_of(_bad(name), *([good] if good is not None else [])), label=name
            )
        else:
            drawn = None
        if drawn is not None:
            values[name] = drawn
    return values


def _query_names(route: APIRoute) -> list[str]:
    return [p.alias for d in dependants(route.dependant) for p in d.query_params]


def _body_names(route: APIRoute) -> list[str]:
    return [p.alias for d in dependants(route.dependant) for p in d.body_params]


def _path_names(route: APIRoute) -> list[str]:
    return [p.alias for p in route.dependant.path_params]


def _send(client: TestClient, method: str, url: str, params: dict, form: dict, htmx: bool):
    headers = {"HX-Request": "true"} if htmx else {}
    if method == "GET":
        return client.get(url, params=params, headers=headers, follow_redirects=False)
    return client.request(
        method, url, params=params, data=form, headers=headers, follow_redirects=False
    )


@pytest.mark.parametrize(
    ("method", "route"), HTML_ROUTES, ids=[f"{m} {r.path}" for m, r in HTML_ROUTES]
)
@settings(
    max_examples=int(os.environ.get("FILROUGE_FUZZ_EXAMPLES", "6")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_html_route_never_answers_a_server_error(app, session, world, method, route, data):
    users, real = world
    extra = FORM_FIELDS.get((method, route.path), ())
    path_names = _path_names(route)
    query_names = [*_query_names(route), *(extra if method == "GET" else ())]
    form_names = [*_body_names(route), *(extra if method != "GET" else ())]
    every = [*path_names, *query_names, *form_names]
    focus = data.draw(st.none() | st.sampled_from(every), label="focus") if every else None
    path = _fields(data, path_names, real, focus)
    # A path parameter is never left out: the route would not match.
    path = {name: path[name] if name in path else data.draw(_bad(name)) for name in path_names}
    params = _fields(data, query_names, real, focus)
    form = _fields(data, form_names, real, focus)
    htmx = data.draw(st.booleans(), label="htmx")
    staff_role = "observer" if "/national" in route.path else None
    staff_role = "controller" if route.path.startswith("/controle/") else staff_role
    staff_role = staff_role or data.draw(st.sampled_from(["counsellor", "admin"]), label="who")
    url = route.path_format.format(**{k: quote(v, safe="") for k, v in path.items()})

    anonymous = TestClient(app)
    anonymous.cookies.set(ANON_CSRF_COOKIE, "jeton-anonyme")
    response = _send(anonymous, method, url, params, {**form, CSRF_FIELD: "jeton-anonyme"}, htmx)
    assert response.status_code < 500, f"anonymous {method} {url} {params} {form}"

    staff = TestClient(app)  # signed in again each time: an example may have signed out
    staff_form = {**form, CSRF_FIELD: log_in(staff, session, users[staff_role])}
    response = _send(staff, method, url, params, staff_form, htmx)
    assert response.status_code < 500, f"{staff_role} {method} {url} {params} {form}"


def test_every_form_read_whole_has_its_fields_listed():
    """A new form route must say which fields it reads, or the fuzzing above skips them."""
    missing = [
        f"{method} {route.path}"
        for method, route in HTML_ROUTES
        if any(d.call is submitted_form for d in dependants(route.dependant))
        and (method, route.path) not in FORM_FIELDS
    ]
    assert missing == []
