"""The operator's side of an official campaign (issue 19, items 2 and 5): a deadline, the proofs
added in time recorded with their time and author, the submission that freezes the campaign,
and the history both sides see, download and find in the pack's manifest."""

import io
import json
import zipfile
from datetime import date, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app.core.dates import local_today
from app.core.errors import Conflict, Invalid, NotFound
from app.core.storage import get_storage, sha256_of
from app.models.control import (
    CampaignEventKind,
    CampaignPhase,
    ControlCampaign,
    ControlCampaignEvent,
    OfficialCampaignCreate,
    PackStatus,
)
from app.models.deliverables import DeliverableVersion
from app.models.nomenclatures import Role
from app.services.control.official import open_official_campaign
from app.services.control.proof_pack import build_campaign_pack
from app.services.control.submission import check_added_proofs, submit_campaign
from tests.factories import (
    PDF,
    deliverable_kind,
    ended_unit,
    log_in,
    make_case,
    make_deliverable,
    make_operator,
    make_staff,
    read,
    unit_id,
)

OPERATOR_PAGE = "/rapports/controles"
FORM = {"du": "2026-11-01", "au": "2026-11-30", "sample_size": "3", "public_value": "7 12 25"}


@pytest.fixture
def controller(session):
    return make_staff(session, None, Role.CONTROLLER)


@pytest.fixture
def units(session, counsellor):
    # UO0 needs no proof: each is billable as the ledger counts it (billable_units).
    return [ended_unit(session, make_case(session, counsellor), "UO0") for _ in range(3)]


def opened(session, controller, operator, **changes) -> ControlCampaign:
    request = OfficialCampaignCreate.model_validate({**FORM, "operator_id": operator.id, **changes})
    return open_official_campaign(session=session, actor=controller, request=request)


def require_a_proof_of_uo0(session, operator):
    """The catalogue now asks UO0 for a document de synthèse: the sampled units lack it."""
    from app.models.catalogue import UnitProofRequirement

    kind = deliverable_kind(session, operator.id, "document_synthese")
    session.add(
        UnitProofRequirement(
            operator_id=operator.id, kind_id=kind.id, unit_id=unit_id(session, "UO0")
        )
    )
    session.flush()
    return kind


def hand_over_proof(session, episode, author):
    """The proof issued on the case and e-mailed, its PDF stored as issuing would."""
    case = episode.case_id
    from app.models.cases import Case

    deliverable = make_deliverable(
        session, session.get(Case, case), "document_synthese", episode=episode, shared=True
    )
    version = session.query(DeliverableVersion).filter_by(deliverable_id=deliverable.id).one()
    path = get_storage().temporary_path()
    path.write_bytes(PDF)
    version.storage_key, version.sha256 = get_storage().save_file(path), sha256_of(PDF)
    version.issued_by_id = author.id
    session.add(version)
    session.flush()
    return deliverable


def events(session, campaign) -> list[ControlCampaignEvent]:
    return (
        session.query(ControlCampaignEvent)
        .filter_by(campaign_id=campaign.id)
        .order_by(ControlCampaignEvent.at, ControlCampaignEvent.id)
        .all()
    )


def test_the_deadline_defaults_to_30_days_and_is_at_least_tomorrow(session, controller, ara, units):
    campaign = opened(session, controller, ara)
    today = local_today("Europe/Paris")
    assert campaign.deadline == today + timedelta(days=30)
    with pytest.raises(Invalid) as refused:
        opened(session, controller, ara, echeance=today.isoformat())
    assert "echeance" in refused.value.fields
    assert opened(session, controller, ara, echeance=str(today + timedelta(1))).deadline == (
        today + timedelta(1)
    )


def test_opening_records_opened_and_drawn(session, controller, ara, units):
    campaign = opened(session, controller, ara)
    kinds = [event.kind for event in events(session, campaign)]
    assert kinds == [CampaignEventKind.OPENED, CampaignEventKind.DRAWN]
    assert {event.author_id for event in events(session, campaign)} == {controller.id}


def test_both_sides_see_the_deadline_with_the_days_left(
    client, session, controller, ara, manager, units
):
    campaign = opened(session, controller, ara)
    days = (campaign.deadline - local_today(ara.time_zone)).days
    log_in(client, session, manager)
    page = read(client.get(f"{OPERATOR_PAGE}/{campaign.id}"))
    assert "Échéance" in page and f"{days} jours restants" in page
    assert "Contrôle ouvert" in page and "Échantillon tiré" in page
    log_in(client, session, controller)
    assert f"{days} jours restants" in read(client.get(f"/controle/campagnes/{campaign.id}"))


def test_a_proof_added_before_the_deadline_is_recorded_with_time_and_author(
    client, session, controller, ara, manager, counsellor, units, storage_dir
):
    campaign = opened(session, controller, ara)
    require_a_proof_of_uo0(session, ara)
    csrf = log_in(client, session, manager)
    page = read(client.get(f"{OPERATOR_PAGE}/{campaign.id}"))
    assert page.count("Incomplètes") == 3
    deliverable = hand_over_proof(session, units[0], counsellor)
    answer = client.post(
        f"{OPERATOR_PAGE}/{campaign.id}/verifier-preuves", data={"csrf_token": csrf}
    )
    assert answer.status_code == 200
    added = [e for e in events(session, campaign) if e.kind == CampaignEventKind.PROOF_ADDED]
    assert len(added) == 1 and added[0].episode_id == units[0].id
    assert added[0].author_id == counsellor.id and deliverable.title in added[0].detail
    version = session.query(DeliverableVersion).filter_by(deliverable_id=deliverable.id).one()
    assert added[0].at == version.shared_at
    page = read(client.get(f"{OPERATOR_PAGE}/{campaign.id}"))
    assert "Preuve ajoutée" in page and counsellor.full_name in page
    assert page.count("Incomplètes") == 2
    # Checked again: recorded once.
    assert check_added_proofs(session=session, actor=manager, campaign_id=campaign.id) == 0
    csv = client.get(f"{OPERATOR_PAGE}/{campaign.id}/historique.csv?finalite=controle_service_fait")
    assert csv.status_code == 200 and "Preuve ajoutée" in csv.content.decode("utf-8-sig")


def test_a_proof_completed_before_the_opening_is_not_added(
    session, controller, ara, manager, counsellor, units, storage_dir
):
    require_a_proof_of_uo0(session, ara)
    hand_over_proof(session, units[0], counsellor)  # complete, hence billable and drawn
    campaign = opened(session, controller, ara, sample_size="1")
    assert check_added_proofs(session=session, actor=manager, campaign_id=campaign.id) == 0


def test_after_the_deadline_proofs_and_submission_are_refused(
    client, session, controller, ara, manager, counsellor, units
):
    campaign = opened(session, controller, ara)
    require_a_proof_of_uo0(session, ara)
    campaign.deadline = local_today(ara.time_zone) - timedelta(days=1)
    session.add(campaign)
    session.flush()
    hand_over_proof(session, units[0], counsellor)
    with pytest.raises(Conflict):
        check_added_proofs(session=session, actor=manager, campaign_id=campaign.id)
    with pytest.raises(Conflict):
        submit_campaign(session=session, actor=manager, campaign_id=campaign.id)
    csrf = log_in(client, session, manager)
    assert client.get(f"{OPERATOR_PAGE}/{campaign.id}/soumettre").status_code == 409
    posted = client.post(f"{OPERATOR_PAGE}/{campaign.id}/soumettre", data={"csrf_token": csrf})
    assert posted.status_code == 409
    page = read(client.get(f"{OPERATOR_PAGE}/{campaign.id}"))
    assert "Échéance passée" in page and "Vérifier les preuves" not in page
    assert all(e.kind != CampaignEventKind.PROOF_ADDED for e in events(session, campaign))


def test_submission_freezes_the_campaign_and_rebuilds_the_pack_once(
    client, session, controller, ara, manager, counsellor, units, storage_dir
):
    campaign = opened(session, controller, ara)
    assert build_campaign_pack(session.connection(), campaign.id)
    session.expire_all()  # the builder wrote on a session of its own
    first_key = session.get(ControlCampaign, campaign.id).pack_key
    assert first_key is not None
    require_a_proof_of_uo0(session, ara)
    hand_over_proof(session, units[1], counsellor)
    csrf = log_in(client, session, manager)
    confirm = client.get(f"{OPERATOR_PAGE}/{campaign.id}/soumettre")
    assert confirm.status_code == 200 and "Confirmer la soumission" in read(confirm)
    answer = client.post(f"{OPERATOR_PAGE}/{campaign.id}/soumettre", data={"csrf_token": csrf})
    assert answer.status_code == 200
    session.expire_all()
    campaign = session.get(ControlCampaign, campaign.id)
    assert campaign.phase == CampaignPhase.SUBMITTED and campaign.submitted_by_id == manager.id
    assert campaign.status == PackStatus.READY and campaign.pack_key != first_key  # rebuilt
    kinds = [event.kind for event in events(session, campaign)]
    assert kinds[-2:] == [CampaignEventKind.PROOF_ADDED, CampaignEventKind.SUBMITTED]
    manifest = json.loads(
        zipfile.ZipFile(
            io.BytesIO(
                client.get(
                    f"{OPERATOR_PAGE}/{campaign.id}/dossier-de-preuves.zip?finalite=controle_service_fait"
                ).content
            )
        ).read("manifeste.json")
    )
    assert [step["etape"] for step in manifest["historique"]] == kinds
    proof = manifest["historique"][-2]
    assert proof["unite_id"] == units[1].id and proof["auteur"] == counsellor.full_name
    assert manifest["campagne"]["soumis_le"] is not None
    # Frozen: nothing more to submit, check or rebuild.
    for path in ("soumettre", "verifier-preuves", "relancer"):
        posted = client.post(f"{OPERATOR_PAGE}/{campaign.id}/{path}", data={"csrf_token": csrf})
        assert posted.status_code == 409
    assert not build_campaign_pack(session.connection(), campaign.id)
    session.expire_all()
    assert session.get(ControlCampaign, campaign.id).pack_sha256 == campaign.pack_sha256
    page = read(client.get(f"{OPERATOR_PAGE}/{campaign.id}"))
    assert "Soumis le" in page and "Vérifier les preuves" not in page


def test_the_controller_sees_the_timeline_and_the_submission(
    client, session, controller, ara, manager, units
):
    campaign = opened(session, controller, ara)
    submit_campaign(session=session, actor=manager, campaign_id=campaign.id)
    log_in(client, session, controller)
    page = read(client.get(f"/controle/campagnes/{campaign.id}"))
    assert "Soumis le" in page and "Dossier soumis" in page and manager.full_name in page
    assert "soumis le" in read(client.get("/controle/campagnes"))
    csv = client.get(
        f"/controle/campagnes/{campaign.id}/historique.csv?finalite=controle_service_fait"
    )
    assert csv.status_code == 200 and "Dossier soumis" in csv.content.decode("utf-8-sig")


def test_another_operator_gets_404(client, session, controller, ara, units):
    campaign = opened(session, controller, ara)
    bre_manager = make_staff(session, make_operator(session, "BRE", "Bretagne"), Role.MANAGER)
    csrf = log_in(client, session, bre_manager)
    for path in ("soumettre", "historique.csv"):
        assert client.get(f"{OPERATOR_PAGE}/{campaign.id}/{path}").status_code == 404
    for path in ("soumettre", "verifier-preuves"):
        posted = client.post(f"{OPERATOR_PAGE}/{campaign.id}/{path}", data={"csrf_token": csrf})
        assert posted.status_code == 404
    with pytest.raises(NotFound):
        submit_campaign(session=session, actor=bre_manager, campaign_id=campaign.id)
    assert session.get(ControlCampaign, campaign.id).phase == CampaignPhase.OPEN


def test_an_event_is_never_updated_nor_deleted(session, controller, ara, units):
    campaign = opened(session, controller, ara)
    for statement in (
        "UPDATE control_campaign_events SET detail = 'x'",
        "DELETE FROM control_campaign_events",
    ):
        with pytest.raises(DBAPIError), session.begin_nested():
            session.execute(text(statement))
    assert len(events(session, campaign)) == 2


def test_a_self_check_is_not_submitted(session, manager, units):
    from app.models.control import CampaignCreate
    from app.services.control.campaigns import create_campaign

    own = create_campaign(
        session=session,
        actor=manager,
        request=CampaignCreate.model_validate(
            {"from": "2026-11-01", "to": "2026-11-30", "sample_size": 1}
        ),
    )
    with pytest.raises(Conflict):
        submit_campaign(session=session, actor=manager, campaign_id=own.id)
    assert date.today() and events(session, own) == []
