"""The file store's interface, the same tests on both back-ends: the local directory and a
real S3 server (SeaweedFS)."""

import hashlib
import os
import time
import tracemalloc

import pytest

from app.core.storage import CHUNK

MB = 1024 * 1024


def test_saved_bytes_read_back_whole_and_in_chunks(storage):
    data = bytes(range(256)) * 1000
    key = storage.save(data)
    assert storage.read(key) == data
    assert b"".join(storage.iter_chunks(key)) == data
    with storage.open(key) as handle:
        assert handle.read(CHUNK) == data[:CHUNK]


def test_keys_are_random_hex_whatever_is_saved(storage):
    keys = {storage.save(b"same bytes") for _ in range(3)}
    assert len(keys) == 3
    assert all(len(key) == 40 and int(key, 16) >= 0 for key in keys)


def test_a_kept_scratch_file_leaves_its_temporary_path(storage):
    path = storage.temporary_path()
    path.write_bytes(b"built here first")
    key = storage.save_file(path)
    assert not path.exists()
    assert storage.read(key) == b"built here first"


def test_a_missing_key_is_file_not_found(storage):
    with pytest.raises(FileNotFoundError):
        storage.open("0" * 40)
    with pytest.raises(FileNotFoundError):
        storage.read("0" * 40)


def test_a_deleted_file_is_gone_and_deleting_again_is_harmless(storage):
    key = storage.save(b"to forget")
    storage.delete(key)
    storage.delete(key)
    with pytest.raises(FileNotFoundError):
        storage.read(key)


@pytest.mark.parametrize("key", ["../etc/passwd", "ab/cd", "", "a b"])
def test_a_key_that_could_name_a_path_is_refused(storage, key):
    with pytest.raises(ValueError):
        storage.read(key)


def _write_big_file(path, size):
    block = hashlib.sha256(b"seed").digest() * (MB // 32)
    digest = hashlib.sha256()
    with path.open("wb") as handle:
        for _ in range(size // MB):
            handle.write(block)
            digest.update(block)
    return digest.hexdigest()


def test_a_big_file_goes_in_and_out_with_flat_memory(storage):
    size = 64 * MB
    path = storage.temporary_path()
    expected = _write_big_file(path, size)
    tracemalloc.start()
    try:
        key = storage.save_file(path)
        _, peak_in = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        digest = hashlib.sha256()
        for chunk in storage.iter_chunks(key):
            digest.update(chunk)
        _, peak_out = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert digest.hexdigest() == expected
    # A couple of upload parts at most, whatever the size: a quarter of this file.
    assert peak_in < 16 * MB, peak_in
    assert peak_out < 2 * MB, peak_out


def test_the_worker_sweeps_the_scratch_files_a_dead_process_left(storage):
    from app.core.storage import SCRATCH_ABANDONED_AFTER, sweep_abandoned_scratch
    from app.worker import _HOUSEKEEPING

    abandoned, in_use = storage.temporary_path(), storage.temporary_path()
    abandoned.write_bytes(b"half an archive, its builder killed")
    in_use.write_bytes(b"an archive being written")
    stale = time.time() - SCRATCH_ABANDONED_AFTER.total_seconds() - 60
    os.utime(abandoned, (stale, stale))
    assert sweep_abandoned_scratch() == 1
    assert not abandoned.exists() and in_use.read_bytes() == b"an archive being written"
    assert sweep_abandoned_scratch in [job for job, *_ in _HOUSEKEEPING]  # on every pass
