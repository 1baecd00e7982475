"""Where files live: one small interface, a local directory (the default) or an S3 bucket.

Keys are random and carry no user input, so a name can never point outside the root.
Writing is all or nothing: a reader never sees half a file. Building a file (an archive)
happens at a local `temporary_path`, then `save_file` keeps it in the store. A file named by
rows a transaction changes is deleted once it commits (`delete_after_commit`)."""

import hashlib
import logging
import os
from collections.abc import Iterable, Iterator
from datetime import timedelta
from functools import lru_cache, partial
from pathlib import Path
from typing import BinaryIO, Protocol

from sqlalchemy.orm import Session

from app.core.config import get_settings
from app.core.db import once_committed
from app.core.storage_keys import CHUNK, check_key, new_key, scratch_path, sweep_scratch

logger = logging.getLogger(__name__)

# A scratch file nobody has written to for this long belongs to a process that died.
SCRATCH_ABANDONED_AFTER = timedelta(days=1)


class Storage(Protocol):
    def save(self, data: bytes) -> str: ...
    def save_file(self, path: Path, key: str | None = None) -> str: ...
    def open(self, key: str) -> BinaryIO: ...
    def read(self, key: str) -> bytes: ...
    def iter_chunks(self, key: str) -> Iterator[bytes]: ...
    def delete(self, key: str) -> None: ...
    def keys(self) -> Iterator[str]: ...
    def temporary_path(self) -> Path: ...


class LocalStorage:
    """Files under one directory, fanned out by the first characters of the key."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / check_key(key)

    def temporary_path(self) -> Path:
        """On the same file system as the files: keeping one is a rename."""
        return scratch_path(self.root)

    def save_file(self, path: Path, key: str | None = None) -> str:
        """Keep a file written at a temporary path (moved, not copied); returns its key (`key`
        when given: one recorded before the file is kept, see archive_build.py)."""
        key = key or new_key()
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, target)
        target.chmod(0o440)
        return key

    def save(self, data: bytes) -> str:
        tmp = self.temporary_path()
        tmp.write_bytes(data)
        return self.save_file(tmp)

    def open(self, key: str) -> BinaryIO:
        return self._path(key).open("rb")

    def read(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def iter_chunks(self, key: str) -> Iterator[bytes]:
        with self.open(key) as handle:
            while chunk := handle.read(CHUNK):
                yield chunk

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def keys(self) -> Iterator[str]:
        """Every kept file's key (the scratch directory left out)."""
        for fan in sorted(self.root.iterdir()) if self.root.is_dir() else []:
            if fan.is_dir() and fan.name != "tmp":
                for path in sorted(fan.iterdir()):
                    if path.is_file() and path.name.isalnum() and path.name[:2] == fan.name:
                        yield path.name


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def delete_after_commit(session: Session, keys: Iterable[str]) -> None:
    """Delete these files once the session's transaction commits, not before: a file deleted
    first would be gone although a rollback kept the rows that name it. A transaction or a
    savepoint rolled back deletes none of its files; a delete that fails is logged."""
    for key in keys:
        once_committed(session, partial(_delete_committed, key))


def _delete_committed(key: str) -> None:
    try:
        get_storage().delete(key)
    except Exception as error:  # the rows are committed: a file left over is only space
        logger.warning(
            "file not deleted after commit",
            extra={"storage_key": key, "error": type(error).__name__},
        )


def get_storage(*, probe: bool = False) -> Storage:
    """The configured store: FILROUGE_STORAGE_URL (s3://bucket/prefix) or the local directory.
    `probe`: for /readyz, an object store that fails fast (one attempt, short timeouts)."""
    settings = get_settings()
    if not settings.storage_url:
        return LocalStorage(settings.storage_dir)
    return _s3_storage(
        settings.storage_url,
        settings.storage_endpoint_url,
        settings.storage_region,
        settings.storage_access_key_id,
        settings.storage_secret_access_key.get_secret_value(),
        settings.storage_dir,
        probe,
    )


@lru_cache(maxsize=8)
def _s3_storage(url, endpoint_url, region, access_key_id, secret, scratch_root, probe) -> Storage:
    # One client per configuration, built once: a boto3 client takes tens of milliseconds
    # to make and is safe to share between threads.
    from app.core.storage_s3 import S3Storage

    return S3Storage.from_settings(
        url,
        endpoint_url=endpoint_url,
        region=region,
        access_key_id=access_key_id,
        secret_access_key=secret,
        scratch_root=scratch_root,
        probe=probe,
    )


def sweep_abandoned_scratch(*, session: Session | None = None) -> int:
    """The worker's housekeeping: scratch files (FILROUGE_STORAGE_DIR/tmp, on this machine)
    left by a process killed while building or streaming one; how many were deleted."""
    return sweep_scratch(get_settings().storage_dir, SCRATCH_ABANDONED_AFTER)
