"""The documents' feed for document management systems: issued versions in issue order, a
page at a time behind a signed cursor, and each version's PDF with its SHA-256 as ETag."""

import string
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from app.core.config import get_settings
from app.core.security import sign_value
from app.core.storage import get_storage, sha256_of
from app.models.audit import AuditEvent
from app.models.base import utcnow
from app.models.deliverables import DeliverableVersion
from app.models.nomenclatures import Role
from app.services.deliverables.dms_feed import CURSOR_PURPOSE, feed_cursor, feed_page
from app.services.deliverables.documents import issue_deliverable
from tests.factories import (
    PDF,
    bearer,
    draft,
    make_case,
    make_deliverable,
    make_episode,
    make_staff,
)

FEED = "/api/v1/deliverable-versions"


@pytest.fixture
def reader(client, session, admin):
    """The test client calling the API as ARA's operator admin."""
    client.headers.update(bearer(admin))
    return client


def _issued(session, case, count: int) -> list[DeliverableVersion]:
    versions = []
    for _ in range(count):
        deliverable = make_deliverable(session, case, "document_synthese")
        query = select(DeliverableVersion).where(
            DeliverableVersion.deliverable_id == deliverable.id
        )
        versions.append(session.exec(query).one())
    return versions


def _all_pages(client, limit: int) -> list[dict]:
    seen, since = [], None
    while True:
        params = {"limit": limit} | ({"since": since} if since else {})
        page = client.get(FEED, params=params).json()
        seen += page["versions"]
        since = page["next"]
        if not page["has_more"]:
            return seen


def test_pages_list_the_versions_in_issue_order_with_no_gap_nor_repeat(session, reader, ara, case):
    versions = _issued(session, case, 7)
    seen = _all_pages(reader, limit=3)
    assert [item["id"] for item in seen] == [v.id for v in versions]


def test_the_numbers_follow_the_issue_order_within_each_operator(session, ara, bre, case):
    other = make_case(session, make_staff(session, bre))
    ours = _issued(session, case, 2) + _issued(session, other, 1) + _issued(session, case, 1)
    assert [v.feed_seq for v in ours] == [1, 2, 1, 3]


def test_an_empty_page_gives_back_a_cursor_to_resume_from(session, reader, case):
    _issued(session, case, 2)
    first = reader.get(FEED).json()
    assert len(first["versions"]) == 2 and first["has_more"] is False
    later = _issued(session, case, 1)
    resumed = reader.get(FEED, params={"since": first["next"]}).json()
    assert [item["id"] for item in resumed["versions"]] == [later[0].id]
    again = reader.get(FEED, params={"since": resumed["next"]}).json()
    assert again["versions"] == [] and again["next"] == resumed["next"]


def test_a_cursor_gives_the_same_page_each_time(session, reader, case):
    _issued(session, case, 4)
    cursor = reader.get(FEED, params={"limit": 1}).json()["next"]
    first = reader.get(FEED, params={"since": cursor, "limit": 2}).json()
    assert reader.get(FEED, params={"since": cursor, "limit": 2}).json() == first


def test_each_item_says_what_the_document_is(
    session, reader, counsellor, case, storage_dir, monkeypatch
):
    # Behind the TLS proxy, the request says http://: the address given is the public one.
    monkeypatch.setattr(get_settings(), "public_base_url", "https://filrouge.example.fr/")
    episode = make_episode(session, counsellor, case, "UO1")
    deliverable = draft(session, counsellor, case, episode=episode)
    version = issue_deliverable(session=session, actor=counsellor, deliverable_id=deliverable.id)
    # Issued late in the evening, UTC: already the next day at the case's site or operator (Paris), whose day the
    # file name gives, whatever the hour the test runs at.
    version.issued_at = datetime(2026, 12, 6, 23, 30, tzinfo=UTC)
    session.add(version)
    session.flush()
    (item,) = reader.get(FEED).json()["versions"]
    assert item["case_reference"] == case.reference
    assert item["kind"] == {"code": "document_synthese", "label": "Document de synthèse"}
    assert item["unit"] == {"code": "UO1", "label": item["unit"]["label"], "episode_id": episode.id}
    assert item["version"] == 1 and item["sha256"] == version.sha256
    assert item["size_bytes"] == version.size_bytes
    assert item["file_name"] == f"{case.reference}_document-de-synthese_v1_2026-12-07.pdf"
    assert item["download_url"] == f"https://filrouge.example.fr{FEED}/{version.id}/pdf"
    assert item["file_deleted_at"] is None


def test_a_version_whose_file_was_deleted_is_listed_without_a_download_url(session, reader, case):
    (version,) = _issued(session, case, 1)
    version.file_deleted_at = utcnow()
    session.add(version)
    (item,) = reader.get(FEED).json()["versions"]
    assert item["download_url"] is None and item["file_deleted_at"] is not None
    answer = reader.get(f"{FEED}/{version.id}/pdf")
    assert answer.status_code == 404 and "anonymisée" in answer.json()["detail"]


@pytest.mark.parametrize(
    "cursor",
    ["nimportequoi", "", "a.b.c", "MTox.AAAA", "%%%", "MToxMA.xyz"],
)
def test_a_cursor_tampered_with_is_refused_with_400(session, reader, case, cursor):
    _issued(session, case, 1)
    answer = reader.get(FEED, params={"since": cursor or "x"})
    assert answer.status_code == 400
    assert "Curseur invalide" in answer.json()["detail"]


def test_a_cursor_with_one_character_changed_is_refused(session, reader, ara, case):
    _issued(session, case, 3)
    cursor = feed_cursor(ara.id, 1)
    payload, mac = cursor.split(".")
    forged = sign_value("autre-usage", f"{ara.id}:0").split(".")[0] + "." + mac
    for tampered in (payload[:-1] + ("A" if payload[-1] != "A" else "B") + "." + mac, forged):
        assert reader.get(FEED, params={"since": tampered}).status_code == 400


def test_a_cursor_altered_without_changing_what_it_decodes_to_is_refused(
    session, reader, ara, case
):
    """Base64 decoding forgives stray characters, `+/`, padding and a last character's unused
    bits: each alteration below decodes to the same signed pair, and is refused all the same."""
    _issued(session, case, 3)
    # A cursor with a `_` in it, to write it with `/` instead.
    cursor = next(c for seq in range(1, 500) if "_" in (c := feed_cursor(ara.id, seq)))
    payload, mac = cursor.split(".")
    alphabet = string.ascii_uppercase + string.ascii_lowercase + string.digits + "-_"
    # The MAC's last character carries 4 bits and 2 unused ones: flip the lowest.
    last = alphabet[alphabet.index(mac[-1]) ^ 1]
    altered = [
        payload[:2] + "!" + payload[2:] + "." + mac,
        cursor.replace("_", "/"),
        " " + cursor,
        cursor + "==",
        payload + "." + mac[:-1] + last,
        cursor + "A" * 200,
    ]
    assert reader.get(FEED, params={"since": cursor}).status_code == 200
    for tampered in altered:
        answer = reader.get(FEED, params={"since": tampered})
        assert answer.status_code == 400, tampered
        assert "Curseur invalide" in answer.json()["detail"]


def test_another_operators_cursor_is_unknown(session, reader, bre, case):
    _issued(session, case, 1)
    answer = reader.get(FEED, params={"since": feed_cursor(bre.id, 0)})
    assert answer.status_code == 404


def test_the_feed_lists_only_the_operators_versions(session, reader, bre, case):
    theirs = _issued(session, make_case(session, make_staff(session, bre)), 2)
    ours = _issued(session, case, 1)
    assert [item["id"] for item in _all_pages(reader, 10)] == [ours[0].id]
    for version in theirs:
        assert reader.get(f"{FEED}/{version.id}/pdf").status_code == 404


def test_the_limit_is_bounded(reader):
    assert reader.get(FEED, params={"limit": 0}).status_code == 422
    assert reader.get(FEED, params={"limit": 1001}).status_code == 422
    assert reader.get(FEED, params={"limit": 1000}).status_code == 200


@pytest.mark.parametrize("role", [Role.COUNSELLOR, Role.MANAGER])
def test_staff_other_than_operator_admins_are_refused(client, session, ara, role):
    client.headers.update(bearer(make_staff(session, ara, role)))
    assert client.get(FEED).status_code == 403


def test_without_a_token_the_feed_answers_401(client):
    assert client.get(FEED).status_code == 401


# ---- the PDF, its ETag -----------------------------------------------------------------------


@pytest.fixture
def stored(session, case, storage_dir) -> DeliverableVersion:
    (version,) = _issued(session, case, 1)
    version.storage_key = get_storage().save(PDF)
    version.sha256, version.size_bytes = sha256_of(PDF), len(PDF)
    session.add(version)
    session.flush()
    return version


def test_the_pdf_comes_byte_for_byte_with_its_sha256_as_etag(session, reader, case, stored):
    answer = reader.get(f"{FEED}/{stored.id}/pdf")
    assert answer.status_code == 200
    assert answer.content == PDF
    assert answer.headers["etag"] == f'"{sha256_of(PDF)}"'
    assert answer.headers["content-type"] == "application/pdf"
    disposition = answer.headers["content-disposition"]
    assert disposition.startswith(
        f'attachment; filename="{case.reference}_document-de-synthese_v1_'
    )


@pytest.mark.parametrize("held", ['"{}"', 'W/"{}"', '"autre", "{}"', "*"])
def test_a_client_holding_the_pdf_gets_304(reader, stored, held):
    answer = reader.get(
        f"{FEED}/{stored.id}/pdf", headers={"If-None-Match": held.format(stored.sha256)}
    )
    assert answer.status_code == 304
    assert answer.content == b""
    assert answer.headers["etag"] == f'"{stored.sha256}"'


def test_etags_on_several_header_lines_are_one_list(reader, stored):
    headers = [("If-None-Match", '"autre"'), ("If-None-Match", f'"{stored.sha256}"')]
    answer = reader.get(f"{FEED}/{stored.id}/pdf", headers=headers)
    assert answer.status_code == 304


def test_another_etag_gets_the_file(reader, stored):
    answer = reader.get(f"{FEED}/{stored.id}/pdf", headers={"If-None-Match": '"' + "0" * 64 + '"'})
    assert answer.status_code == 200 and answer.content == PDF


def test_each_download_sent_is_in_the_audit_trail(session, reader, admin, stored):
    reader.get(f"{FEED}/{stored.id}/pdf")
    reader.get(f"{FEED}/{stored.id}/pdf", headers={"If-None-Match": f'"{stored.sha256}"'})
    query = select(AuditEvent).where(
        AuditEvent.record_type == "deliverable_version",
        AuditEvent.record_id == stored.id,
        AuditEvent.action == "export",
    )
    (event,) = session.exec(query).all()
    assert event.actor_id == admin.id and event.beneficiary_id is not None


# ---- the service ---------------------------------------------------------------------------


def test_the_service_reads_after_the_cursor(session, ara, case):
    versions = _issued(session, case, 3)
    first = feed_page(session=session, operator_id=ara.id, since=None, limit=2)
    assert [v.id for v in first.versions] == [v.id for v in versions[:2]] and first.has_more
    rest = feed_page(session=session, operator_id=ara.id, since=first.next_cursor, limit=2)
    assert [v.id for v in rest.versions] == [versions[2].id] and not rest.has_more


def test_issue_order_is_not_issue_time(session, ara, case):
    """A version issued with an earlier date (an import) still comes after those before it:
    the feed follows the order of issuing, which never rewinds."""
    versions = _issued(session, case, 2)
    versions[1].issued_at = versions[0].issued_at - timedelta(days=3)
    session.add(versions[1])
    page = feed_page(session=session, operator_id=ara.id, since=None, limit=10)
    assert [v.id for v in page.versions] == [v.id for v in versions]
    assert sign_value(CURSOR_PURPOSE, "x") != page.next_cursor
