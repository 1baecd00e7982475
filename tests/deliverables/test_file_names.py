"""Names of deliverables taken out of Fil rouge: ASCII, stable, no personal name by default."""

from datetime import UTC, datetime

from app.services.deliverables.file_names import case_folder_name, deliverable_file_name

ISSUED = datetime(2026, 12, 6, 9, 30, tzinfo=UTC)


def test_the_name_carries_reference_kind_version_and_issue_day():
    name = deliverable_file_name("ARA-2026-000163", "Document de synthèse", 2, ISSUED)
    assert name == "ARA-2026-000163_document-de-synthese_v2_2026-12-06.pdf"


def test_the_issue_day_is_the_sites_calendar_day():
    late_evening_utc = datetime(2026, 12, 6, 23, 30, tzinfo=UTC)
    name = deliverable_file_name("ARA-1", "Plan d’action", 1, late_evening_utc)
    assert name == "ARA-1_plan-d-action_v1_2026-12-07.pdf"  # Paris is an hour ahead
    in_reunion = deliverable_file_name(
        "REU-1", "Plan d’action", 1, ISSUED, time_zone="Indian/Reunion"
    )
    assert in_reunion.endswith("_2026-12-06.pdf")


def test_a_person_name_only_when_asked_and_always_ascii():
    name = deliverable_file_name(
        "ARA-1", "Synthèse N1", 1, ISSUED, person_name="Zoé N'Diaye-Œuvray"
    )
    assert name == "ARA-1_synthese-n1_v1_2026-12-06_zoe-n-diaye-oeuvray.pdf"
    assert name.isascii()


def test_nothing_a_file_system_refuses_survives():
    hostile = deliverable_file_name("../ARA/1", 'a/b\\c:d*?"<>|' + "x" * 300, 3, ISSUED)
    assert "/" not in hostile and "\\" not in hostile and ".." not in hostile
    assert len(hostile) < 120
    assert deliverable_file_name("ARA-1", "東京", 1, ISSUED).startswith("ARA-1_document_v1")


def test_a_case_folder_is_its_reference():
    assert case_folder_name("ara-2026-000163") == "ARA-2026-000163"
    assert case_folder_name("///") == "DOSSIER"
