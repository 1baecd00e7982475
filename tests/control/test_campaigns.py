"""Control campaigns: a reproducible draw, and a proof pack whose manifest matches the ZIP."""

import csv
import io
import json
import threading
import zipfile
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError
from pypdf import PdfReader
from sqlmodel import select

from app.core.errors import Conflict, Forbidden, Invalid, NotFound
from app.core.storage import get_storage, sha256_of
from app.models.catalogue import ServiceUnit
from app.models.control import CampaignCreate, ControlCampaign, PackStatus
from app.models.deliverables import AcknowledgementMethod, DeliverableDraft
from app.models.nomenclatures import Role
from app.services.control.campaigns import (
    create_campaign,
    draw_rank,
    draw_sample,
    ready_pack,
    sample_size_for,
)
from app.services.control.proof_pack import (
    LEASE,
    MANIFEST_CSV,
    MANIFEST_JSON,
    LeaseLost,
    LeaseReleased,
    _build_claimed,
    _claim,
    build_campaign_pack,
    build_pending_packs,
)
from app.services.deliverables.documents import issue_deliverable, save_draft, start_draft
from app.services.deliverables.pseudonyms import pseudonym
from tests.factories import (
    IN_NOVEMBER,
    deliverable_kind,
    delivered,
    ended_unit,
    make_beneficiary,
    make_case,
    make_interaction,
    make_operator,
    make_staff,
    unit_id,
)

NOVEMBER = {"from": "2026-11-01", "to": "2026-11-30"}


def proven_case(session, counsellor, first_name="Maëlle", last_name="Moreau"):
    """A case with one UO1 ended in November, its summary issued (a real PDF) and acknowledged,
    and an interaction whose summary names the person."""
    person = make_beneficiary(session, counsellor, first_name=first_name, last_name=last_name)
    case = make_case(session, counsellor, beneficiary=person)
    episode = ended_unit(session, case)
    make_interaction(
        session,
        counsellor,
        case,
        episode_id=episode.id,
        summary=f"{first_name} souhaite devenir aide-soignante.",
    )
    kind_id = deliverable_kind(session, case.operator_id, "synthese_entretien").id
    draft = start_draft(
        session=session,
        actor=counsellor,
        case_id=case.id,
        data=DeliverableDraft(kind_id=kind_id, episode_id=episode.id),
    )
    body = f"{first_name} {last_name.upper()} envisage une formation."
    save_draft(
        session=session,
        actor=counsellor,
        deliverable_id=draft.id,
        bodies={s["key"]: body for s in draft.sections},
    )
    version = issue_deliverable(session=session, actor=counsellor, deliverable_id=draft.id)
    version.acknowledged_at = IN_NOVEMBER + timedelta(days=1)
    version.acknowledgement_method = AcknowledgementMethod.ONLINE.value
    session.add(version)
    session.flush()
    return case, episode, version


def campaign_of(session, manager, **asked) -> ControlCampaign:
    request = CampaignCreate.model_validate({**NOVEMBER, "sample_size": 10, **asked})
    return create_campaign(session=session, actor=manager, request=request)


def built(session, campaign) -> zipfile.ZipFile:
    assert build_campaign_pack(session.connection(), campaign.id)
    session.refresh(campaign)
    assert campaign.status == PackStatus.READY, campaign.error
    return zipfile.ZipFile(get_storage().open(campaign.pack_key))


def pdf_text(data: bytes) -> str:
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def manifest_files(archive: zipfile.ZipFile) -> dict[str, str]:
    manifest = json.loads(archive.read(MANIFEST_JSON))
    return {f["chemin"]: f["sha256"] for unit in manifest["unites"] for f in unit["fichiers"]}


# ---- the draw --------------------------------------------------------------------------------


def test_the_draw_takes_the_smallest_ranks_and_depends_only_on_the_seed():
    population = list(range(1, 200))
    sample = draw_sample(population, 10, seed=42)
    ranks = sorted(draw_rank(42, episode_id) for episode_id in population)
    assert [draw_rank(42, e) for e in sample] == ranks[:10]
    assert draw_sample(reversed(population), 10, seed=42) == sample
    assert draw_sample(population, 10, seed=43) != sample


def test_a_rate_is_rounded_up_and_a_size_never_exceeds_the_population():
    assert sample_size_for(101, size=None, rate=10) == 11
    assert sample_size_for(3, size=None, rate=0.1) == 1
    assert sample_size_for(5, size=20, rate=None) == 5


def test_a_rate_too_small_for_a_float_still_draws_one_unit():
    # 1 × 5e-324 / 100 is 0.0: the API answered 500, inserting an empty sample.
    assert sample_size_for(1, size=None, rate=5e-324) == 1


def test_a_campaign_records_its_seed_and_draws_the_same_sample_again(session, counsellor, manager):
    episodes = [ended_unit(session, make_case(session, counsellor), "UO0") for _ in range(8)]
    first = campaign_of(session, manager, sample_size=3)
    again = campaign_of(session, manager, sample_size=3, seed=first.seed)
    assert first.population == 8 and first.drawn == 3 and first.cases_total == 3
    assert sampled_ids(session, first) == sampled_ids(session, again)
    assert set(sampled_ids(session, first)) <= {e.id for e in episodes}


def sampled_ids(session, campaign):
    from app.services.control.campaigns import sampled_units

    return [row[0].id for row in sampled_units(session, campaign)]


def test_only_billable_units_ended_in_the_period_can_be_drawn(session, counsellor, manager):
    """UO0 requires no proof: billable once ended. A UO1 without its proof is not billable yet,
    nor is a proven UO2.2 that the catalogue no longer bills."""
    case = make_case(session, counsellor)
    inside = ended_unit(session, case, "UO0")
    ended_unit(session, case, "UO0", ended_at=datetime(2026, 10, 31, 12, tzinfo=UTC))
    ended_unit(session, case, "UO1")
    delivered(session, counsellor, "UO2.2", IN_NOVEMBER, proofs="shared", case=case)
    session.get(ServiceUnit, unit_id(session, "UO2.2")).billable = False
    session.flush()
    campaign = campaign_of(session, manager, sample_rate=100, sample_size=None)
    assert sampled_ids(session, campaign) == [inside.id]


def test_a_period_without_units_is_refused(session, manager):
    with pytest.raises(Invalid) as refused:
        campaign_of(session, manager)
    assert "au" in refused.value.fields


def test_size_and_rate_are_exclusive():
    with pytest.raises(ValueError):
        CampaignCreate.model_validate({**NOVEMBER, "sample_size": 3, "sample_rate": 5})
    with pytest.raises(ValueError):
        CampaignCreate.model_validate(NOVEMBER)


def test_counsellors_cannot_draw_and_other_operators_cannot_read(session, counsellor, manager):
    ended_unit(session, make_case(session, counsellor), "UO0")
    with pytest.raises(Forbidden):
        campaign_of(session, counsellor)
    campaign = campaign_of(session, manager)
    other = make_staff(session, make_operator(session, "BRE", "Bretagne"), Role.MANAGER)
    from app.services.control.campaigns import get_campaign

    with pytest.raises(NotFound):
        get_campaign(session=session, actor=other, campaign_id=campaign.id)


# ---- the proof pack --------------------------------------------------------------------------


def test_every_file_of_the_manifest_is_in_the_zip_with_its_hash_and_nothing_else(
    session, counsellor, manager
):
    for name in ("Moreau", "Petit", "Garcia"):
        proven_case(session, counsellor, last_name=name)
    campaign = campaign_of(session, manager)
    archive = built(session, campaign)
    listed = manifest_files(archive)
    assert set(archive.namelist()) == set(listed) | {MANIFEST_CSV, MANIFEST_JSON}
    for path, digest in listed.items():
        assert sha256_of(archive.read(path)) == digest, path
    assert len([p for p in listed if p.endswith(".pdf")]) == 3


def test_the_pack_holds_the_issued_pdf_as_it_was_stored(session, counsellor, manager):
    case, episode, version = proven_case(session, counsellor)
    archive = built(session, campaign_of(session, manager))
    manifest = json.loads(archive.read(MANIFEST_JSON))
    (unit,) = manifest["unites"]
    assert unit["dossier"] == case.reference and unit["unite"] == "UO1"
    assert unit["preuves_completes"] is True
    assert unit["debut"] == "2026-11-07" and unit["fin"] == "2026-11-10"
    proofs = [f for f in unit["fichiers"] if f["preuve_de_l_unite"]]
    assert [f["sha256"] for f in proofs] == [version.sha256]
    assert archive.read(proofs[0]["chemin"]) == get_storage().read(version.storage_key)
    assert manifest["campagne"]["graine"] == campaign_seed(session)


def campaign_seed(session):
    return session.exec(select(ControlCampaign.seed)).first()


def test_the_csv_manifest_has_one_row_per_unit_and_file(session, counsellor, manager):
    proven_case(session, counsellor)
    archive = built(session, campaign_of(session, manager))
    rows = list(
        csv.reader(io.StringIO(archive.read(MANIFEST_CSV).decode("utf-8-sig")), delimiter=";")
    )
    header, *lines = rows
    assert header[0] == "Dossier" and header[-1] == "SHA-256"
    assert {line[-1] for line in lines} == set(manifest_files(archive).values())


def test_the_journal_and_acknowledgements_never_hold_private_notes(session, counsellor, manager):
    case, episode, version = proven_case(session, counsellor)
    make_interaction(session, counsellor, case, summary="Partagé", private_notes="SECRET-NOTE")
    archive = built(session, campaign_of(session, manager))
    journal = archive.read(f"{case.reference}/journal-des-actes.csv").decode("utf-8-sig")
    acknowledgements = archive.read(f"{case.reference}/accuses-de-lecture.csv").decode("utf-8-sig")
    assert "Partagé" in journal and "SECRET-NOTE" not in journal
    assert "Hors UO" in journal
    assert version.sha256 in acknowledgements and "Accusé de lecture en ligne" in acknowledgements


def test_a_pseudonymised_pack_replaces_the_name_by_a_stable_code(session, counsellor, manager):
    case, _, version = proven_case(
        session, counsellor, first_name="Gwendoline", last_name="Quillec"
    )
    archive = built(session, campaign_of(session, manager, pseudonymise=True))
    code = pseudonym(case.operator_id, case.beneficiary_id)
    texts = [
        archive.read(n).decode("utf-8-sig") for n in archive.namelist() if not n.endswith(".pdf")
    ]
    assert all("gwendoline" not in t.lower() and "quillec" not in t.lower() for t in texts)
    assert code in archive.read(MANIFEST_JSON).decode()
    assert "souhaite devenir" in archive.read(f"{case.reference}/journal-des-actes.csv").decode()
    pdf_path = next(n for n in archive.namelist() if n.endswith(".pdf"))
    printed = pdf_text(archive.read(pdf_path))
    assert code in printed and "quillec" not in printed.lower()
    assert "gwendoline" in pdf_text(get_storage().read(version.storage_key)).lower()
    assert manifest_files(archive)[pdf_path] == sha256_of(archive.read(pdf_path))
    again = built(session, campaign_of(session, manager, pseudonymise=True))
    assert code in again.read(MANIFEST_JSON).decode()  # the same person, the same code


def test_a_stored_pdf_that_changed_fails_the_pack_with_a_reason(session, counsellor, manager):
    _, _, version = proven_case(session, counsellor)
    version.storage_key = get_storage().save(b"%PDF-1.7 not what was issued")
    session.add(version)
    session.flush()
    campaign = campaign_of(session, manager)
    with pytest.raises(Exception, match="empreinte"):
        build_campaign_pack(session.connection(), campaign.id)
    session.refresh(campaign)
    assert campaign.status == PackStatus.FAILED and "empreinte" in campaign.error
    with pytest.raises(Conflict):
        ready_pack(session=session, actor=manager, campaign_id=campaign.id)


def test_a_pack_is_built_once_and_an_abandoned_build_is_taken_over(session, counsellor, manager):
    ended_unit(session, make_case(session, counsellor), "UO0")
    campaign = campaign_of(session, manager)
    bind = session.connection()
    assert _claim(bind, campaign.id)
    assert not _claim(bind, campaign.id)  # someone is building it
    assert build_pending_packs(bind) == []
    campaign.lease_until = datetime.now(UTC) - timedelta(seconds=1)
    session.add(campaign)
    session.flush()
    assert build_pending_packs(bind) == [campaign.id]
    session.refresh(campaign)
    assert campaign.status == PackStatus.READY and campaign.progress == 1.0
    assert campaign.pack_sha256 == sha256_of(get_storage().read(campaign.pack_key))
    assert not build_campaign_pack(bind, campaign.id)
    assert LEASE > timedelta(0)


def test_a_stopping_worker_hands_the_pack_under_way_back_queued(session, counsellor, manager):
    """SIGTERM mid-build: at its next batch the builder queues the campaign again, without a
    lease, so that another worker takes it at once; it starts no other."""
    ended_unit(session, make_case(session, counsellor), "UO0")
    campaign = campaign_of(session, manager)
    bind, stop = session.connection(), threading.Event()
    lease = _claim(bind, campaign.id, stop)
    stop.set()
    with pytest.raises(LeaseReleased):
        _build_claimed(lease)
    session.refresh(campaign)
    assert (campaign.status, campaign.lease_until, campaign.pack_key) == (
        PackStatus.QUEUED,
        None,
        None,
    )
    assert build_pending_packs(bind, stop=stop) == []  # stopping: none started
    assert build_pending_packs(bind) == [campaign.id]


def test_a_ready_pack_is_found_for_its_operator(session, counsellor, manager):
    ended_unit(session, make_case(session, counsellor), "UO0")
    campaign = campaign_of(session, manager)
    built(session, campaign)
    assert ready_pack(session=session, actor=manager, campaign_id=campaign.id).pack_key


def test_a_builder_that_lost_its_lease_writes_nothing(session, counsellor, manager):
    ended_unit(session, make_case(session, counsellor), "UO0")
    campaign = campaign_of(session, manager)
    bind = session.connection()
    first = _claim(bind, campaign.id)
    campaign.lease_until = datetime.now(UTC) - timedelta(seconds=1)  # it ran past its lease
    session.add(campaign)
    session.flush()
    assert build_campaign_pack(bind, campaign.id)  # another builder took over and finished
    session.refresh(campaign)
    ready = (campaign.status, campaign.pack_key)
    with pytest.raises(LeaseLost):
        first.write(status=PackStatus.FAILED, error="trop tard")
    session.refresh(campaign)
    assert (campaign.status, campaign.pack_key) == ready


def test_a_compound_name_is_replaced_part_by_part(session, counsellor, manager):
    case, _, _ = proven_case(session, counsellor, first_name="Jean-Pierre", last_name="Le Goff")
    make_interaction(session, counsellor, case, summary="Rappeler M. Goff, ou Jean Pierre.")
    archive = built(session, campaign_of(session, manager, pseudonymise=True))
    journal = archive.read(f"{case.reference}/journal-des-actes.csv").decode("utf-8-sig")
    assert "Goff" not in journal and "Pierre" not in journal and "Rappeler M. P-" in journal


def test_a_signed_scan_that_changed_fails_the_pack(session, counsellor, manager):
    from app.models.attachments import Attachment

    case, _, version = proven_case(session, counsellor)
    scan = Attachment(
        operator_id=case.operator_id,
        case_id=case.id,
        filename="accuse.pdf",
        content_type="application/pdf",
        size_bytes=3,
        sha256="0" * 64,  # not the hash of what is stored
        storage_key=get_storage().save(b"%PDF"),
    )
    session.add(scan)
    session.flush()
    version.scan_attachment_id = scan.id
    session.add(version)
    session.flush()
    campaign = campaign_of(session, manager)
    with pytest.raises(Exception, match="exemplaire signé"):
        build_campaign_pack(session.connection(), campaign.id)


def test_an_unexpected_failure_is_told_in_french(session, counsellor, manager):
    _, _, version = proven_case(session, counsellor)
    get_storage().delete(version.storage_key)  # the stored PDF is gone
    campaign = campaign_of(session, manager)
    with pytest.raises(FileNotFoundError):
        build_campaign_pack(session.connection(), campaign.id)
    session.refresh(campaign)
    assert campaign.status == PackStatus.FAILED
    assert campaign.error.startswith("erreur inattendue (FileNotFoundError). Relancez")


def test_a_rate_sent_as_json_true_is_not_one_percent():
    # JSON's true is not the number 1 (schemathesis found the API taking it as 1 %).
    with pytest.raises(ValidationError) as refused:
        CampaignCreate.model_validate(
            {"from": "2026-11-01", "to": "2026-11-30", "sample_rate": True}
        )
    assert refused.value.errors()[0]["msg"].endswith("Nombre attendu")
