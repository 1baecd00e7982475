"""The retention job: who is past the operator's period, what anonymising keeps and erases."""

import logging
from datetime import UTC, date, datetime, timedelta
from itertools import count

import pytest
from sqlmodel import select

from app.core.config import get_settings
from app.core.storage import LocalStorage, get_storage
from app.models.attachments import Attachment
from app.models.audit import AuditEvent
from app.models.base import utcnow
from app.models.beneficiaries import Beneficiary
from app.models.cases import Case, CaseStatus, Episode, Interaction
from app.models.control import CampaignKind, CampaignPhase, ControlCampaign, ControlSampleUnit
from app.models.deliverables import DeliverableVersion
from app.services.privacy.anonymise import anonymise
from app.services.privacy.retention import (
    anonymise_due,
    due_for_anonymisation,
    months_before,
    run_daily_retention,
)
from app.services.reports.activity import activity_report
from app.services.reports.ledger import unit_ledger
from tests.control.test_campaigns import (
    built,
    campaign_of,
    manifest_files,
    pdf_text,
    proven_case,
)
from tests.factories import (
    PDF,
    delivered,
    kept_file,
    make_beneficiary,
    make_case,
    make_interaction,
)

_phones = count(10)
IN_2024 = datetime(2024, 3, 12, 9, tzinfo=UTC)  # far past the default 24 months by NOW


def close(session, case, closed_at: datetime) -> None:
    case.status = CaseStatus.CLOSED.value
    case.close_reason = "completed"
    case.closed_at = closed_at
    session.add(case)
    session.flush()


def followed_in(session, counsellor, moment: datetime, **identity) -> Case:
    """A person followed around `moment`: an interaction with notes, a file, a delivered unit
    with its proofs issued (their PDFs kept), the case closed a week later."""
    phone = f"06123456{next(_phones):02d}"
    profile = {"birth_year": 1980, "postcode": "69003", "phone": phone}
    person = make_beneficiary(session, counsellor, **{**profile, **identity})
    person.created_at = moment - timedelta(days=1)
    case = make_case(session, counsellor, person, request_text="Veut devenir ébéniste")
    case.opened_at = case.last_activity_at = moment - timedelta(days=1)
    make_interaction(
        session, counsellor, case, occurred_at=moment, summary="Parle de son divorce",
        private_notes="Dettes",
    )  # fmt: skip
    kept_file(session, counsellor, case, filename="CV_Dupont.pdf")
    delivered(session, counsellor, "UO1", moment + timedelta(days=2), proofs="acknowledged",
              case=case)  # fmt: skip
    for version in session.exec(select(DeliverableVersion)):
        if not version.storage_key.isalnum():  # the builder's placeholder: keep a real file
            version.storage_key = get_storage().save(PDF)
            session.add(version)
    close(session, case, moment + timedelta(days=7))
    return case


def official_campaign(session, operator_id: int, episode_id: int, closed_at=None):
    campaign = ControlCampaign(
        operator_id=operator_id,
        kind=CampaignKind.OFFICIAL.value,
        period_start=date(2024, 1, 1),
        period_end=date(2024, 12, 31),
        sample_size=1,
        seed=1,
        public_value="42",
        deadline=date(2025, 1, 31),
        phase=CampaignPhase.CLOSED.value if closed_at else CampaignPhase.OPEN.value,
        closed_at=closed_at,
    )
    session.add(campaign)
    session.flush()
    session.add(ControlSampleUnit(campaign_id=campaign.id, episode_id=episode_id, position=1))
    session.flush()
    return campaign


def due_ids(session, operator, now) -> list[int]:
    return [d.beneficiary_id for d in due_for_anonymisation(session=session, operator=operator,
                                                            now=now)]  # fmt: skip


def test_reports_and_ledger_of_a_past_year_are_unchanged_by_anonymisation(
    session, ara, counsellor, manager, clock, storage_dir
):
    for month in (1, 4, 7, 10):
        followed_in(session, counsellor, datetime(2024, month, 8, 9, tzinfo=UTC))
    year = {"start": date(2024, 1, 1), "end": date(2024, 12, 31)}

    def figures():
        report = activity_report(session=session, actor=manager, **year)
        ledger = unit_ledger(session=session, actor=manager, **year)
        return report.sections, ledger.lines, ledger.totals

    before = figures()
    assert before[2].delivered == 4
    assert anonymise_due(session=session, operator=ara, now=clock) == 4
    session.expire_all()
    assert figures() == before


def test_due_lists_exactly_the_people_past_the_limit(session, ara, counsellor, clock, storage_dir):
    past = followed_in(session, counsellor, IN_2024)
    recent = followed_in(session, counsellor, clock - timedelta(days=300))
    still_open = make_case(session, counsellor)
    make_interaction(session, counsellor, still_open, occurred_at=IN_2024)
    session.get(Beneficiary, still_open.beneficiary_id).created_at = IN_2024
    # Followed long ago, but a second case closed within the period is the last contact.
    late = followed_in(session, counsellor, IN_2024)
    again = make_case(session, counsellor, session.get(Beneficiary, late.beneficiary_id))
    close(session, again, clock - timedelta(days=30))
    assert due_ids(session, ara, clock) == [past.beneficiary_id]
    ara.retention_months = 6
    assert set(due_ids(session, ara, clock)) == {
        past.beneficiary_id, recent.beneficiary_id,
    }  # fmt: skip
    assert still_open.beneficiary_id not in due_ids(session, ara, clock)


def test_a_person_in_a_control_in_progress_is_kept(session, ara, counsellor, clock, storage_dir):
    case = followed_in(session, counsellor, IN_2024)
    episode = session.exec(select(Episode).where(Episode.case_id == case.id)).one()
    campaign = official_campaign(session, ara.id, episode.id)
    assert due_ids(session, ara, clock) == []
    # Closed within the legal period: still kept; closed before it: the person goes.
    campaign.phase, campaign.closed_at = CampaignPhase.CLOSED.value, clock - timedelta(days=400)
    campaign.submitted_at = campaign.closed_at
    session.add(campaign)
    session.flush()
    assert due_ids(session, ara, clock) == []
    campaign.closed_at = clock - timedelta(days=4 * 366)
    session.add(campaign)
    session.flush()
    assert due_ids(session, ara, clock) == [case.beneficiary_id]


def test_anonymising_erases_identity_texts_and_files_once(
    session, ara, counsellor, clock, storage_dir
):
    case = followed_in(session, counsellor, IN_2024, first_name="Mathilde", last_name="Dupont")
    person = session.get(Beneficiary, case.beneficiary_id)
    attachment = session.exec(select(Attachment).where(Attachment.case_id == case.id)).one()
    versions = list(session.exec(select(DeliverableVersion)))
    files = [attachment.storage_key, *(v.storage_key for v in versions)]
    assert all((storage_dir / key[:2] / key).exists() for key in files)

    assert anonymise(session=session, person=person, now=clock)
    assert all((storage_dir / key[:2] / key).exists() for key in files)  # until the commit
    session.commit()
    session.expire_all()
    person = session.get(Beneficiary, case.beneficiary_id)
    assert (person.first_name, person.last_name, person.email, person.phone) == (
        "Personne", "anonymisée", None, None,
    )  # fmt: skip
    assert person.anonymised_at == clock and person.search_text == ""
    assert session.get(Case, case.id).request_text == ""
    notes = session.exec(select(Interaction.summary, Interaction.private_notes)).all()
    assert set(notes) == {("", "")}
    assert not any((storage_dir / key[:2] / key).exists() for key in files)
    attachment = session.get(Attachment, attachment.id)
    assert attachment.file_deleted and attachment.sha256 and "Dupont" not in attachment.filename
    for version in session.exec(select(DeliverableVersion)):
        assert version.file_deleted_at == clock and version.sha256
        assert "Mathilde" not in str(version.content)
    assert not anonymise(session=session, person=person, now=clock)
    assert anonymise_due(session=session, operator=ara, now=clock) == 0
    # Audited once, by nobody (the retention job), on the person's file.
    entries = session.exec(select(AuditEvent).where(AuditEvent.action == "anonymise")).all()
    assert [(e.actor_id, e.beneficiary_id, e.operator_id) for e in entries] == [
        (None, person.id, ara.id)
    ]


def test_a_pdf_another_version_still_shows_is_kept(session, ara, counsellor, clock, storage_dir):
    """The generated datasets print one PDF per kind for every version that proves it."""
    erased = followed_in(session, counsellor, IN_2024, first_name="Mathilde")
    erased_versions = list(session.exec(select(DeliverableVersion)))
    kept = followed_in(session, counsellor, IN_2024, first_name="Louise")
    kept_version = next(
        v for v in session.exec(select(DeliverableVersion)) if v not in erased_versions
    )
    shared_key = erased_versions[0].storage_key
    kept_version.storage_key = shared_key
    session.add(kept_version)
    session.flush()

    assert anonymise(session=session, person=session.get(Beneficiary, erased.beneficiary_id),
                     now=clock)  # fmt: skip
    session.commit()
    assert (storage_dir / shared_key[:2] / shared_key).exists()
    assert session.get(Case, kept.id).request_text
    others = [v.storage_key for v in erased_versions[1:]]
    assert not any((storage_dir / key[:2] / key).exists() for key in others)


@pytest.mark.parametrize(
    ("moment", "months", "expected"),
    [
        (datetime(2026, 12, 2, 9, tzinfo=UTC), 24, datetime(2024, 12, 2, 9, tzinfo=UTC)),
        (datetime(2026, 3, 31, tzinfo=UTC), 1, datetime(2026, 2, 28, tzinfo=UTC)),
        (datetime(2026, 1, 15, tzinfo=UTC), 13, datetime(2024, 12, 15, tzinfo=UTC)),
    ],
)
def test_months_before_counts_calendar_months(moment, months, expected):
    assert months_before(moment, months) == expected


def on_store(storage, key: str) -> bool:
    try:
        storage.read(key)
    except FileNotFoundError:
        return False
    return True


def files_of(session, case: Case) -> list[str]:
    attachments = select(Attachment.storage_key).where(Attachment.case_id == case.id)
    return [*session.exec(attachments), *session.exec(select(DeliverableVersion.storage_key))]


def test_anonymising_deletes_the_files_when_it_commits_and_not_when_it_rolls_back(
    session, counsellor, clock, storage
):
    case = followed_in(session, counsellor, IN_2024)
    session.commit()
    files = files_of(session, case)
    assert files and all(on_store(storage, key) for key in files)
    person = session.get(Beneficiary, case.beneficiary_id)

    assert anonymise(session=session, person=person, now=clock)
    session.rollback()
    assert person.anonymised_at is None
    assert all(on_store(storage, key) for key in files)

    assert anonymise(session=session, person=person, now=clock)
    session.commit()
    assert not any(on_store(storage, key) for key in files)


def test_anonymising_in_a_savepoint_rolled_back_deletes_nothing(
    session, counsellor, clock, storage
):
    case = followed_in(session, counsellor, IN_2024)
    session.commit()
    files = files_of(session, case)
    with pytest.raises(RuntimeError), session.begin_nested():
        anonymise(session=session, person=session.get(Beneficiary, case.beneficiary_id), now=clock)
        raise RuntimeError("the step after it fails")
    session.commit()
    assert all(on_store(storage, key) for key in files)


def test_a_file_the_store_fails_to_delete_after_the_commit_is_logged(
    request, session, counsellor, clock, storage, caplog, tmp_path, monkeypatch
):
    case = followed_in(session, counsellor, IN_2024)
    files = files_of(session, case)
    anonymise(session=session, person=session.get(Beneficiary, case.beneficiary_id), now=clock)
    if isinstance(storage, LocalStorage):  # a directory that became a file: no unlink works
        blocker = tmp_path / "a-file"
        blocker.write_text("not a directory")
        monkeypatch.setattr(get_settings(), "storage_dir", blocker)
    else:
        request.getfixturevalue("s3_outage")
    caplog.set_level(logging.WARNING, logger="app.core.storage")

    session.commit()
    assert session.get(Beneficiary, case.beneficiary_id).anonymised_at == clock
    failed = [r for r in caplog.records if r.getMessage() == "file not deleted after commit"]
    assert sorted(r.storage_key for r in failed) == sorted(files)


def test_the_daily_job_runs_once_a_day_per_operator(session, ara, counsellor, clock, storage_dir):
    case = followed_in(session, counsellor, IN_2024)
    assert run_daily_retention(session=session, now=clock) == 1
    assert ara.retention_run_on == date(2026, 12, 2)
    assert session.get(Beneficiary, case.beneficiary_id).anonymised_at == clock
    followed_in(session, counsellor, IN_2024)
    assert run_daily_retention(session=session, now=clock + timedelta(hours=1)) == 0
    assert run_daily_retention(session=session, now=clock + timedelta(days=1)) == 1


def test_the_daily_job_works_in_batches_each_pass_its_own(
    session, ara, counsellor, clock, storage_dir
):
    """A first run on a large database finds thousands: each pass takes a batch and commits,
    and the operator is done for the day only once a pass finds fewer than it could take."""
    people = [followed_in(session, counsellor, IN_2024).beneficiary_id for _ in range(5)]
    assert run_daily_retention(session=session, now=clock, batch=2) == 2
    assert ara.retention_run_on is None  # more may be due: the next pass goes on
    assert run_daily_retention(session=session, now=clock, batch=2) == 2
    assert run_daily_retention(session=session, now=clock, batch=2) == 1
    assert ara.retention_run_on == date(2026, 12, 2)
    assert all(session.get(Beneficiary, person).anonymised_at == clock for person in people)
    assert run_daily_retention(session=session, now=clock, batch=2) == 0


def test_a_self_check_drawn_after_anonymisation_still_packs_the_proof(
    session, counsellor, manager, clock
):
    case, _episode, version = proven_case(session, counsellor, last_name="Moreau")
    anonymise(session=session, person=session.get(Beneficiary, case.beneficiary_id), now=clock)
    archive = built(session, campaign_of(session, manager))
    listed = manifest_files(archive)
    pdfs = [path for path in listed if path.endswith(".pdf")]
    assert len(pdfs) == 1
    text = pdf_text(archive.read(pdfs[0]))
    assert "ANONYMISÉE" in text and "Moreau".upper() not in text.upper()


def test_anonymising_keeps_the_options_chosen_and_erases_only_what_was_typed(session, counsellor):
    """A question of several choices is answered with a list: kept, as the measures are."""
    from app.models.surveys import SurveyResponse
    from tests.surveys.test_sending import sent_survey

    invitation = sent_survey(session, counsellor)
    response = SurveyResponse(
        operator_id=invitation.operator_id,
        invitation_id=invitation.id,
        questionnaire_id=invitation.questionnaire_id,
        answers={
            "satisfaction": "tres_satisfait",
            "apports": ["confiance", "projet"],
            "remarque": "Ma conseillère m'a aidée pendant mon arrêt",
        },
        comment="Ma conseillère m'a aidée pendant mon arrêt",
    )
    session.add(response)
    session.flush()
    person = session.get(Beneficiary, invitation.beneficiary_id)
    assert anonymise(session=session, person=person, now=utcnow())
    session.refresh(response)
    assert response.answers == {
        "satisfaction": "tres_satisfait",
        "apports": ["confiance", "projet"],
    }
    assert response.comment == ""
