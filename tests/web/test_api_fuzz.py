"""Property-based fuzzing of the JSON API (schemathesis): whatever arrives, never a 500.

Each operation of the OpenAPI schema is one test; its examples run against the in-process app,
inside that test's rolled-back transaction, authenticated as a counsellor whose operator has
a person, a case with an episode, an interaction, an action step, an attachment and an issued
deliverable (edited since, so that it may be issued again), a pending triage request, a partner
and a referral to it; the directory's writes are sent as a manager, who may make them. Every
generated case is sent as generated, then again with its path ids, and the ids its body names,
pointing at those rows, so that the garbage also reaches the services and the database, not
only the 404 branch. FILROUGE_FUZZ_EXAMPLES=300 digs deeper (a few minutes) than the default 25.
"""

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from sqlmodel import select

from app.core.config import get_settings
from app.core.files import Upload
from app.core.security import create_api_token
from app.core.storage import get_storage, sha256_of
from app.main import create_app
from app.models.catalogue import DeliverableKind
from app.models.deliverables import ActionStepWrite, DeliverableDraft
from app.models.nomenclatures import (
    Channel,
    InteractionChannel,
    PartnerType,
    RequestMotive,
    Role,
    StepOwner,
)
from app.models.partners import PartnerCreate, ReferralCreate
from app.models.triage import TriageCreate
from app.services.cases.triage import create_request
from app.services.deliverables.action_plan import add_step
from app.services.deliverables.attachments import add_attachment
from app.services.deliverables.documents import issue_deliverable, save_draft, start_draft
from app.services.referrals.partners import create_partner
from app.services.referrals.workflow import propose_referral
from tests.factories import (
    make_beneficiary,
    make_case,
    make_episode,
    make_interaction,
    make_operator,
    make_site,
    make_staff,
    unit_id,
)

# Read from the app itself: /openapi.json is for signed-in staff only (FILROUGE_API_DOCS).
schema = schemathesis.openapi.from_dict(create_app().openapi())
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"
# Ids a request body may name, filled like the path's: the operation's own rows.
BODY_IDS = ("beneficiary_id", "episode_id", "kind_id", "partner_id", "referent_id", "unit_id")


@pytest.fixture
def counsellor_with_data(session, monkeypatch):
    """A counsellor of ARA and one row of each kind; BRE has rows too, to be kept out.

    Returns the counsellor, a manager of ARA (for the directory's writes) and the rows' ids."""
    # All examples of one operation share a transaction: the public booking API's rate limit
    # would turn the later ones into 429s and hide the paths behind it.
    monkeypatch.setattr(get_settings(), "public_rate_limit", "1000000/minute")
    operator = make_operator(session)
    make_site(session, operator)
    counsellor = make_staff(session, operator)
    colleague = make_staff(session, operator)  # a colleague to hand cases over to
    manager = make_staff(session, operator, Role.MANAGER)
    other = make_staff(session, make_operator(session, "BRE", "Bretagne"))
    make_case(session, other)
    beneficiary = make_beneficiary(session, counsellor, phone="06 12 34 56 78")
    case = make_case(session, counsellor, beneficiary)
    episode = make_episode(session, counsellor, case)
    make_interaction(
        session, counsellor, case, channel=InteractionChannel.VIDEO, episode_id=episode.id
    )
    request = create_request(
        session=session,
        actor=counsellor,
        data=TriageCreate(
            beneficiary_id=beneficiary.id, channel=Channel.WEB, motive=RequestMotive.VAE
        ),
    )
    step = add_step(
        session=session,
        actor=counsellor,
        case_id=case.id,
        data=ActionStepWrite(description="Contacter l'Apec", owner=StepOwner.BENEFICIARY),
    )
    attachment = kept_file(session, counsellor, case)
    kind = session.exec(
        select(DeliverableKind).where(
            DeliverableKind.operator_id == operator.id,
            DeliverableKind.code == "document_synthese",
        )
    ).one()
    partner = create_partner(
        session=session,
        actor=manager,
        data=PartnerCreate(
            name="CIBC Lyon", type=PartnerType.SKILLS_ASSESSMENT, email="cibc@exemple.fr"
        ),
    )
    # Before the deliverable, whose « Orientations proposées » then list it.
    referral = propose_referral(
        session=session,
        actor=counsellor,
        case_id=case.id,
        data=ReferralCreate(partner_id=partner.id, purpose="Bilan de compétences", consent=True),
    )
    with monkeypatch.context() as patch:  # version 1 needs no real PDF: WeasyPrint is slow
        patch.setattr(
            "app.services.deliverables.documents.render_deliverable_pdf", lambda _content: PDF
        )
        deliverable = issued_then_edited(session, counsellor, case, kind, episode)
    real_ids = {
        "beneficiary_id": beneficiary.id,
        "case_id": case.id,
        "episode_id": episode.id,
        "request_id": request.id,
        "step_id": step.id,
        "attachment_id": attachment.id,
        "deliverable_id": deliverable.id,
        "number": 1,
        "partner_id": partner.id,
        "referral_id": referral.id,
        "kind_id": kind.id,
        "referent_id": colleague.id,
        "unit_id": unit_id(session, "UO1"),
    }
    return counsellor, manager, real_ids


def kept_file(session, counsellor, case):
    """A PDF kept with the case, as if it had just been received."""
    path = get_storage().temporary_path()
    path.write_bytes(PDF)
    upload = Upload(
        path=path,
        filename="releve.pdf",
        content_type="application/pdf",
        size=len(PDF),
        sha256=sha256_of(PDF),
        fields={},
    )
    return add_attachment(
        session=session, actor=counsellor, case_id=case.id, upload=upload, description="Relevé"
    )


def issued_then_edited(session, counsellor, case, kind, episode):
    """Version 1 issued, then a section changed: the next version's draft, ready to issue."""
    draft = DeliverableDraft(kind_id=kind.id, episode_id=episode.id)
    deliverable = start_draft(session=session, actor=counsellor, case_id=case.id, data=draft)
    issue_deliverable(session=session, actor=counsellor, deliverable_id=deliverable.id)
    key = deliverable.sections[-1]["key"]
    save_draft(
        session=session,
        actor=counsellor,
        deliverable_id=deliverable.id,
        bodies={key: "Projet confirmé : aide-soignante."},
    )
    return deliverable


def with_real_ids(case, real_ids: dict) -> bool:
    """Point the case's path ids and body ids at the rows; False if it names none."""
    changed = False
    if case.path_parameters:
        case.path_parameters = {
            name: real_ids.get(name, value) for name, value in case.path_parameters.items()
        }
        changed = True
    if isinstance(case.body, dict):
        named = [name for name in BODY_IDS if name in case.body]
        case.body = {**case.body, **{name: real_ids[name] for name in named}}
        changed |= bool(named)
    return changed


@schema.parametrize()
@settings(
    max_examples=int(os.environ.get("FILROUGE_FUZZ_EXAMPLES", "25")),
    deadline=None,
    # The DB fixture is function-scoped on purpose (one rolled-back transaction per operation);
    # requests are slowish.
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
    ],
)
def test_api_never_answers_a_server_error(case, app, counsellor_with_data):
    counsellor, manager, real_ids = counsellor_with_data
    # Counsellors only read the directory: its writes are fuzzed past the 403, as a manager.
    sender = manager if case.operation.path.startswith("/api/v1/partners") else counsellor
    headers = {"Authorization": f"Bearer {create_api_token(sender)}"}
    case.call_and_validate(app=app, headers=headers, checks=[not_a_server_error])
    if with_real_ids(case, real_ids):
        case.call_and_validate(app=app, headers=headers, checks=[not_a_server_error])
