"""`filrouge storage copy`: move an existing local store into S3, key for key, every object
read back and its SHA-256 compared with the file on disk. Run it again after a failure: what
is already there and identical is left alone, what differs is uploaded again."""

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from app.core.storage import CHUNK, LocalStorage
from app.core.storage_s3 import S3Storage


@dataclass
class CopyReport:
    copied: int = 0
    already_there: int = 0
    # Found in the bucket with other bytes (a corrupted or partial copy): uploaded again.
    replaced: list[str] = field(default_factory=list)
    # Still different when read back after the upload: to look into, the copy is not done.
    failed: list[str] = field(default_factory=list)

    @property
    def checked(self) -> int:
        return self.copied + self.already_there + len(self.replaced) + len(self.failed)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def copy_store(source: LocalStorage, target: S3Storage) -> CopyReport:
    report = CopyReport()
    for key in source.keys():
        path = source.root / key[:2] / key
        expected = file_sha256(path)
        found = target.sha256(key)
        if found == expected:
            report.already_there += 1
            continue
        target.put_file(key, path)
        if target.sha256(key) != expected:
            report.failed.append(key)
        elif found is None:
            report.copied += 1
        else:
            report.replaced.append(key)
    return report
