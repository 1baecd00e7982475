"""Where files live: a small interface with a local-directory implementation.

Keys are random and carry no user input, so a name can never point outside the root.
Writing goes through a temporary file renamed into place: a reader never sees half a file."""

import hashlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Protocol

from app.core.config import get_settings

CHUNK = 64 * 1024


class Storage(Protocol):
    def save(self, data: bytes) -> str: ...
    def save_file(self, path: Path) -> str: ...
    def open(self, key: str) -> BinaryIO: ...
    def read(self, key: str) -> bytes: ...
    def delete(self, key: str) -> None: ...
    def temporary_path(self) -> Path: ...


class LocalStorage:
    """Files under one directory, fanned out by the first characters of the key."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        if not key.isalnum():
            raise ValueError("invalid storage key")
        return self.root / key[:2] / key

    def temporary_path(self) -> Path:
        """A fresh path on the same file system, for streaming a file before it is kept."""
        tmp = self.root / "tmp"
        tmp.mkdir(parents=True, exist_ok=True)
        return tmp / secrets.token_hex(16)

    def save_file(self, path: Path) -> str:
        """Keep a file written at a temporary path; returns its key."""
        key = secrets.token_hex(20)
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


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def get_storage() -> LocalStorage:
    return LocalStorage(get_settings().storage_dir)
