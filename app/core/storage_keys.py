"""What both storage back-ends share (app/core/storage.py, app/core/storage_s3.py): the random
keys, their check, the local scratch files and the size of a streamed chunk. A module of its own
so that neither back-end imports the other."""

import secrets
import time
from datetime import timedelta
from pathlib import Path

CHUNK = 64 * 1024


def new_key() -> str:
    return secrets.token_hex(20)


def check_key(key: str) -> str:
    if not key.isalnum():
        raise ValueError("invalid storage key")
    return key


def _scratch_dir(root: Path) -> Path:
    return Path(root) / "tmp"


def scratch_path(root: Path) -> Path:
    """A fresh local path under `root`/tmp, for a file streamed or built before it is kept."""
    tmp = _scratch_dir(root)
    tmp.mkdir(parents=True, exist_ok=True)
    return tmp / secrets.token_hex(16)


def sweep_scratch(root: Path, older_than: timedelta) -> int:
    """Delete the scratch files under `root`/tmp untouched for `older_than`; how many. Only a
    process killed mid-way leaves one (an archive's builder, a download or an upload): a living
    writer touches its file as it goes, and keeps, deletes or unlinks it when done."""
    tmp = _scratch_dir(root)
    if not tmp.is_dir():
        return 0
    before = time.time() - older_than.total_seconds()
    swept = 0
    for path in tmp.iterdir():
        try:
            if path.is_file() and path.stat().st_mtime < before:
                path.unlink()
                swept += 1
        except FileNotFoundError:  # its writer finished with it meanwhile
            continue
    return swept
