"""The access archive (art. 15): everything held on the person, nothing of anyone else; for the
operator's administrators only, until it expires; each download audited."""

import io
import json
import threading
import zipfile
from datetime import timedelta

import pytest
from sqlmodel import select

from app.core.storage import get_storage
from app.models.audit import AuditEvent
from app.models.beneficiaries import Beneficiary
from app.models.control import PackStatus
from app.models.nomenclatures import Role
from app.models.partners import Referral
from app.models.rights import AccessArchive, RightKind, RightsRequestCreate
from app.services.audit.accesses import beneficiary_read
from app.services.jobs.leases import LeaseReleased
from app.services.privacy.access_archive import (
    DATA_FILE,
    build_archive,
    build_pending_archives,
    delete_expired_archives,
    request_archive,
)
from app.services.privacy.anonymise import anonymise
from app.services.privacy.rights import record_request
from tests.factories import log_in, make_appointment, make_partner, make_staff
from tests.privacy.test_retention import IN_2024, followed_in


def demo_person(session, ara, counsellor, hour: int, **identity):
    """A person with something of every kind: a case with an interaction and its private
    notes, a file, a delivered unit with issued PDFs, an appointment, a referral, and reads of
    their file in the audit trail."""
    case = followed_in(session, counsellor, IN_2024, **identity)
    person = session.get(Beneficiary, case.beneficiary_id)
    make_appointment(
        session, starts_at=IN_2024.replace(hour=hour), counsellor=counsellor, beneficiary=person,
        request_text=f"Rendez-vous de {identity['first_name']}",
    )  # fmt: skip
    partner = make_partner(session, ara)
    session.add(
        Referral(
            operator_id=ara.id,
            case_id=case.id,
            partner_id=partner.id,
            purpose="bilan",
            shared_information=f"Projet de {identity['first_name']}",
            consent_at=IN_2024,
        )
    )
    beneficiary_read(session, actor=counsellor, beneficiary_id=person.id)
    session.flush()
    return person, case


@pytest.fixture
def two_people(session, ara, counsellor, admin, clock, storage_dir):
    """Mathilde Dupont, whose archive is asked, and Rémi Vasseur, followed by the same
    counsellor on the same site, who must not appear in it."""
    asked = demo_person(session, ara, counsellor, 9, first_name="Mathilde", last_name="Dupont",
                        email="mathilde.dupont@exemple.fr", consent=True)  # fmt: skip
    other = demo_person(session, ara, counsellor, 14, first_name="Rémi", last_name="Vasseur",
                        email="remi.vasseur@exemple.fr")  # fmt: skip
    return asked, other


def access_request(session, admin, person):
    data = RightsRequestCreate(
        beneficiary_id=person.id,
        kind=RightKind.ACCESS,
        received_on=IN_2024.date(),
        received_via="letter",
    )
    return record_request(session=session, actor=admin, data=data)


def built_archive(session, admin, person) -> tuple[AccessArchive, zipfile.ZipFile]:
    request = access_request(session, admin, person)
    archive = request_archive(session=session, actor=admin, request_id=request.id)
    assert build_pending_archives(session.connection()) == [archive.id]
    session.refresh(archive)
    assert archive.status == PackStatus.READY and archive.progress == 1
    return archive, zipfile.ZipFile(io.BytesIO(get_storage().read(archive.archive_key)))


def test_a_stopping_worker_hands_the_archive_under_way_back_queued(session, admin, two_people):
    (person, _case), _other = two_people
    request = access_request(session, admin, person)
    archive = request_archive(session=session, actor=admin, request_id=request.id)
    bind, stop = session.connection(), threading.Event()
    stop.set()  # SIGTERM: the next file is not packed
    with pytest.raises(LeaseReleased):
        build_archive(bind, archive.id, stop=stop)
    session.refresh(archive)
    assert (archive.status, archive.lease_until, archive.archive_key) == (
        PackStatus.QUEUED,
        None,
        None,
    )
    assert build_pending_archives(bind, stop=stop) == []
    assert build_pending_archives(bind) == [archive.id]


def test_the_archive_holds_every_kind_of_data_and_nothing_of_anyone_else(
    session, admin, two_people
):
    (person, case), (other, other_case) = two_people
    _archive, zipped = built_archive(session, admin, person)
    data = json.loads(zipped.read(DATA_FILE))

    assert data["personne"]["last_name"] == "Dupont" and data["personne"]["consent_at"]
    (held,) = data["dossiers"]
    assert held["reference"] == case.reference and held["request_text"]
    assert held["episodes"] and held["echanges"][0]["private_notes"] == "Dettes"
    assert held["livrables"] and held["livrables"][0]["versions_emises"]
    assert held["pieces_jointes"][0]["filename"] == "CV_Dupont.pdf"
    assert held["orientations"][0]["shared_information"] == "Projet de Mathilde"
    assert data["rendez_vous"][0]["request_text"] == "Rendez-vous de Mathilde"
    accesses = data["acces_a_votre_dossier"]
    assert any(
        {"role": "Conseiller·ère", "action": "Consultation"}.items() <= access.items()
        for access in accesses
    )
    names = zipped.namelist()
    pdfs = [name for name in names if name.startswith("documents/")]
    assert pdfs and all(zipped.read(name).startswith(b"%PDF") for name in pdfs)
    assert any(name.startswith("pieces-jointes/") for name in names)

    everything = " ".join(zipped.read(name).decode("utf-8", "replace") for name in names)
    for trace in ("Vasseur", "Rémi", "remi.vasseur", other_case.reference, "Nadia Benali"):
        assert trace not in everything
    # Nor the other person's reads: each entry of the trail listed is about Mathilde.
    reads = session.exec(select(AuditEvent).where(AuditEvent.beneficiary_id == person.id)).all()
    assert len(data["acces_a_votre_dossier"]) == len(reads)
    assert "link_nonce" not in everything and "search_text" not in everything


def test_only_the_operators_admins_download_it_and_each_download_is_audited(
    client, session, ara, bre, counsellor, admin, two_people
):
    (person, _case), _other = two_people
    archive, _zipped = built_archive(session, admin, person)
    url = f"/admin/droits/archives/{archive.id}.zip"
    for outsider in (counsellor, make_staff(session, bre, Role.OPERATOR_ADMIN)):
        log_in(client, session, outsider)
        assert client.get(url).status_code in (403, 404)
    log_in(client, session, admin)
    answer = client.get(url)
    assert answer.status_code == 200 and answer.content.startswith(b"PK")
    (export,) = session.exec(select(AuditEvent).where(AuditEvent.action == "export")).all()
    assert (export.actor_id, export.record_type, export.beneficiary_id) == (
        admin.id, "access_archive", person.id,
    )  # fmt: skip


def test_an_expired_archive_is_deleted_by_the_worker_and_no_longer_served(
    client, session, admin, two_people, clock, storage_dir
):
    (person, _case), _other = two_people
    archive, _zipped = built_archive(session, admin, person)
    key = archive.archive_key
    assert delete_expired_archives(session=session, now=clock) == 0
    assert delete_expired_archives(session=session, now=clock + timedelta(days=8)) == 1
    assert (storage_dir / key[:2] / key).exists()  # until the commit
    session.commit()
    assert not (storage_dir / key[:2] / key).exists()
    log_in(client, session, admin)
    assert client.get(f"/admin/droits/archives/{archive.id}.zip").status_code == 404


def test_the_page_polls_the_progress_then_offers_the_download(client, session, admin, two_people):
    (person, _case), _other = two_people
    request = access_request(session, admin, person)
    csrf = log_in(client, session, admin)
    page = client.get(f"/admin/droits/{request.id}")
    assert f'action="/admin/droits/{request.id}/archive"' in page.text
    answer = client.post(f"/admin/droits/{request.id}/archive", data={"csrf_token": csrf})
    assert answer.status_code == 200  # the redirect followed, once built in the background
    panel = client.get(f"/admin/droits/{request.id}/archive", headers={"HX-Request": "true"})
    assert "/admin/droits/archives/" in panel.text and "hx-trigger" not in panel.text


def test_erasing_the_person_deletes_their_archive_before_its_expiry(
    session, admin, two_people, clock, storage_dir
):
    (person, _case), _other = two_people
    archive, _zipped = built_archive(session, admin, person)
    key = archive.archive_key
    anonymise(session=session, person=person, now=clock, actor=admin)
    session.commit()
    session.refresh(archive)
    assert archive.archive_key is None and archive.deleted_at == clock
    assert not (storage_dir / key[:2] / key).exists()
