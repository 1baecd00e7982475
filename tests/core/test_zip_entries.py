"""ZIP entries for files taken out of Fil rouge: UTF-8 flag on every entry, one timestamp,
files copied from the storage in chunks with their SHA-256 checked, nothing left on failure."""

import hashlib
import struct
import tracemalloc
import zipfile
from datetime import datetime

import pytest

from app.core.zip_entries import UTF8_FLAG, HashMismatch, StoredFileMissing, zip_archive

WHEN = datetime(2026, 12, 6, 14, 30, 12)


def local_header_flags(path, info: zipfile.ZipInfo) -> int:
    """The flags of an entry's local header, read from the bytes (zipfile reads the central
    directory's)."""
    with open(path, "rb") as handle:
        handle.seek(info.header_offset)
        signature, _version, flags = struct.unpack("<IHH", handle.read(8))
    assert signature == 0x04034B50
    return flags


def test_every_entry_is_flagged_utf8_in_both_headers_ascii_names_too(tmp_path):
    path = tmp_path / "a.zip"
    with zip_archive(path, stamp=WHEN) as archive:
        archive.add_bytes("ARA-2026-000163/manifeste.csv", b"a;b\n")
        archive.add_bytes("ARA-2026-000163/Relevé d'activité.txt", "é".encode())
    with zipfile.ZipFile(path) as zipped:
        infos = zipped.infolist()
        assert [i.filename for i in infos] == [
            "ARA-2026-000163/manifeste.csv",
            "ARA-2026-000163/Relevé d'activité.txt",
        ]
        for info in infos:
            assert info.flag_bits & UTF8_FLAG
            assert local_header_flags(path, info) & UTF8_FLAG


def test_every_entry_carries_the_archives_one_timestamp(tmp_path):
    path = tmp_path / "a.zip"
    with zip_archive(path, stamp=WHEN) as archive:
        archive.add_bytes("a.txt", b"a")
        archive.add_bytes("b.txt", b"b", compress=False)
    with zipfile.ZipFile(path) as zipped:
        # ZIP dates count seconds by twos.
        assert {i.date_time for i in zipped.infolist()} == {(2026, 12, 6, 14, 30, 12)}


def test_a_stored_file_is_copied_whole_with_its_sha256(tmp_path, storage):
    data = bytes(range(256)) * 1000
    key = storage.save(data)
    path = tmp_path / "a.zip"
    with zip_archive(path) as archive:
        entry = archive.add_from_storage(
            "doc.pdf", key, expected_sha256=hashlib.sha256(data).hexdigest(), storage=storage
        )
    assert entry.size == len(data) and entry.sha256 == hashlib.sha256(data).hexdigest()
    with zipfile.ZipFile(path) as zipped:
        assert zipped.read("doc.pdf") == data
        assert zipped.getinfo("doc.pdf").compress_type == zipfile.ZIP_STORED


def test_a_file_that_changed_in_the_storage_fails_naming_it_and_leaves_nothing(
    tmp_path, storage_dir
):
    from app.core.storage import get_storage

    key = get_storage().save(b"%PDF altered")
    path = tmp_path / "a.zip"
    with pytest.raises(HashMismatch) as raised:
        with zip_archive(path) as archive:
            archive.add_bytes("manifeste.csv", b"x")
            archive.add_from_storage(
                "doc.pdf", key, expected_sha256="0" * 64, label="« Document de synthèse » v2"
            )
    assert "« Document de synthèse » v2" in raised.value.message
    assert "empreinte SHA-256" in raised.value.message
    assert not path.exists()


def test_a_name_already_in_the_archive_gets_a_number(tmp_path):
    path = tmp_path / "a.zip"
    with zip_archive(path) as archive:
        names = [archive.add_bytes("X/doc_v1.pdf", b"a").name for _ in range(3)]
        names.append(archive.add_bytes("X/sans-extension", b"b").name)
        names.append(archive.add_bytes("X/sans-extension", b"c").name)
    assert names == [
        "X/doc_v1.pdf",
        "X/doc_v1-2.pdf",
        "X/doc_v1-3.pdf",
        "X/sans-extension",
        "X/sans-extension-2",
    ]
    with zipfile.ZipFile(path) as zipped:
        assert zipped.namelist() == names


def test_the_entries_written_are_listed(tmp_path):
    path = tmp_path / "a.zip"
    with zip_archive(path) as archive:
        archive.add_bytes("a.txt", b"abc")
        assert [(e.name, e.size, e.sha256) for e in archive.entries] == [
            ("a.txt", 3, hashlib.sha256(b"abc").hexdigest())
        ]


def test_a_local_file_is_added_in_chunks(tmp_path):
    source = tmp_path / "manifeste.json"
    source.write_bytes(b"{}" * 100_000)
    path = tmp_path / "a.zip"
    with zip_archive(path) as archive:
        entry = archive.add_file("manifeste.json", source)
    assert entry.size == 200_000
    with zipfile.ZipFile(path) as zipped:
        assert zipped.read("manifeste.json") == source.read_bytes()


def test_copying_a_large_stored_file_keeps_memory_flat(tmp_path, storage_dir):
    from app.core.storage import get_storage

    data = b"%PDF" + bytes(8 * 1024 * 1024)
    key = get_storage().save(data)
    del data
    path = tmp_path / "a.zip"
    tracemalloc.start()
    try:
        with zip_archive(path) as archive:
            archive.add_from_storage("big.pdf", key)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1024 * 1024  # a few chunks, never the file


def test_a_file_missing_from_the_storage_fails_naming_it_and_leaves_nothing(tmp_path, storage):
    path = tmp_path / "a.zip"
    with pytest.raises(StoredFileMissing, match="« Relevé » est introuvable"):
        with zip_archive(path) as archive:
            archive.add_from_storage("a.pdf", "0" * 40, label="« Relevé »", storage=storage)
    assert not path.exists()
