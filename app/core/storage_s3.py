"""The S3 back-end of the file store (any S3-compatible server: AWS, SeaweedFS, MinIO, Ceph…).

Objects sit at `<prefix>/<first two characters>/<key>`, as files do on disk, so that a local
store copies over key for key (`filrouge storage copy`). Files bigger than a few megabytes go
up in parts read from disk one after the other, and come down as a stream: memory stays flat
whatever the size. Every failure of the server becomes StorageUnavailable (a French page);
a missing object is FileNotFoundError, as on disk."""

import hashlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit

import boto3
from boto3.exceptions import Boto3Error
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from app.core.errors import StorageUnavailable
from app.core.storage_keys import CHUNK, check_key, new_key, scratch_path

logger = logging.getLogger(__name__)

# Parts of 8 MB, two at a time: an upload holds a few parts' worth of memory at most.
TRANSFER = TransferConfig(
    multipart_threshold=8 * 1024 * 1024,
    multipart_chunksize=8 * 1024 * 1024,
    max_concurrency=2,
)
# A server that does not answer within seconds is down for the person waiting on the page.
# A download holds its connection while it streams: room for as many as the app's threads.
CLIENT_CONFIG = Config(
    max_pool_connections=64,
    connect_timeout=5,
    read_timeout=60,
    retries={"max_attempts": 3, "mode": "standard"},
)
# The readiness probe's own client: a store away fails the probe within seconds, once, rather
# than holding the probe's thread through the timeouts and retries above.
PROBE_CONFIG = CLIENT_CONFIG.merge(
    Config(connect_timeout=2, read_timeout=5, retries={"total_max_attempts": 1, "mode": "standard"})
)
MISSING = {"NoSuchKey", "404", "NotFound"}


def parse_storage_url(url: str) -> tuple[str, str]:
    """s3://bucket/some/prefix → ("bucket", "some/prefix")."""
    parts = urlsplit(url)
    if parts.scheme != "s3" or not parts.netloc or parts.query or parts.fragment:
        raise ValueError("FILROUGE_STORAGE_URL: s3://bucket or s3://bucket/prefix")
    return parts.netloc, parts.path.strip("/")


class S3Storage:
    def __init__(self, client, bucket: str, prefix: str, scratch_root: Path):
        self.client = client
        self.bucket = bucket
        self.prefix = prefix
        self.scratch_root = Path(scratch_root)

    @classmethod
    def from_settings(
        cls,
        url: str,
        *,
        endpoint_url: str,
        region: str,
        access_key_id: str,
        secret_access_key: str,
        scratch_root: Path,
        probe: bool = False,
    ) -> "S3Storage":
        bucket, prefix = parse_storage_url(url)
        if not (access_key_id and secret_access_key):  # never ~/.aws nor AWS_* variables
            raise ValueError(
                "FILROUGE_STORAGE_ACCESS_KEY_ID and FILROUGE_STORAGE_SECRET_ACCESS_KEY are needed"
            )
        client = boto3.session.Session().client(
            "s3",
            endpoint_url=endpoint_url or None,
            region_name=region or None,
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            config=PROBE_CONFIG if probe else CLIENT_CONFIG,
        )
        return cls(client, bucket, prefix, scratch_root)

    def object_name(self, key: str) -> str:
        name = f"{key[:2]}/{check_key(key)}"
        return f"{self.prefix}/{name}" if self.prefix else name

    def temporary_path(self) -> Path:
        """A local scratch file (FILROUGE_STORAGE_DIR/tmp): archives are built there first."""
        return scratch_path(self.scratch_root)

    def save_file(self, path: Path, key: str | None = None) -> str:
        """Upload a file written at a temporary path, then remove the local copy; its key
        (`key` when given)."""
        key = key or new_key()
        self.put_file(key, path)
        Path(path).unlink(missing_ok=True)
        return key

    def put_file(self, key: str, path: Path) -> None:
        """Upload under a given key (in parts when big); copying a store keeps its keys."""
        with self._answering():
            self.client.upload_file(str(path), self.bucket, self.object_name(key), Config=TRANSFER)

    def save(self, data: bytes) -> str:
        key = new_key()
        with self._answering():
            self.client.put_object(Bucket=self.bucket, Key=self.object_name(key), Body=data)
        return key

    def open(self, key: str) -> BinaryIO:
        with self._answering():
            return self.client.get_object(Bucket=self.bucket, Key=self.object_name(key))["Body"]

    def read(self, key: str) -> bytes:
        with self._answering(), self.open(key) as body:
            return body.read()

    def iter_chunks(self, key: str) -> Iterator[bytes]:
        with self._answering(), self.open(key) as body:
            while chunk := body.read(CHUNK):
                yield chunk

    def sha256(self, key: str) -> str | None:
        """The object's SHA-256 as read back from the server; None when it is not there."""
        digest = hashlib.sha256()
        try:
            for chunk in self.iter_chunks(key):
                digest.update(chunk)
        except FileNotFoundError:
            return None
        return digest.hexdigest()

    def keys(self) -> Iterator[str]:
        """Every object's key under the prefix."""
        start = f"{self.prefix}/" if self.prefix else ""
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=start
        )
        with self._answering():
            for page in pages:
                for found in page.get("Contents", []):
                    fan, _, key = found["Key"][len(start) :].partition("/")
                    if key.isalnum() and key[:2] == fan:
                        yield key

    def delete(self, key: str) -> None:
        # Deleting an object that is not there succeeds: a retried clean-up is harmless.
        with self._answering():
            self.client.delete_object(Bucket=self.bucket, Key=self.object_name(key))

    @contextmanager
    def _answering(self) -> Iterator[None]:
        try:
            yield
        except ClientError as error:
            code = str(error.response.get("Error", {}).get("Code", ""))
            if code in MISSING:
                raise FileNotFoundError(code) from error
            self._unavailable(error, code)
        except (BotoCoreError, Boto3Error) as error:
            if isinstance(error.__cause__, FileNotFoundError):
                raise error.__cause__ from None  # the local file to upload is gone
            self._unavailable(error, "")

    def _unavailable(self, error: Exception, code: str) -> None:
        # The error's class and code say what went wrong; never the client's credentials.
        logger.warning(
            "storage unavailable",
            extra={"error": type(error).__name__, "code": code, "bucket": self.bucket},
        )
        raise StorageUnavailable() from error
