"""What both storage back-ends share (app/core/storage.py, app/core/storage_s3.py): the random
keys, their check, the local scratch files and the size of a streamed chunk. A module of its own
so that neither back-end imports the other."""

import secrets
from pathlib import Path

CHUNK = 64 * 1024


def new_key() -> str:
    return secrets.token_hex(20)


def check_key(key: str) -> str:
    if not key.isalnum():
        raise ValueError("invalid storage key")
    return key


def scratch_path(root: Path) -> Path:
    """A fresh local path under `root`/tmp, for a file streamed or built before it is kept."""
    tmp = Path(root) / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    return tmp / secrets.token_hex(16)
