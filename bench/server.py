"""The app under test: uvicorn serving `app.main:app` as in production (one process, no reload),
started by the benchmark on a free port, with the SQL trace hooks switched on."""

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent


class Server:
    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self.port = _free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = Path(tempfile.gettempdir()) / f"filrouge-bench-{self.port}.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        env = os.environ | {
            "FILROUGE_DATABASE_URL": self.database_url,
            "FILROUGE_SQL_TRACE": "1",
            # The booking run comes from one address: lift the public rate limit.
            "FILROUGE_PUBLIC_RATE_LIMIT": "1000000/second",
        }
        command = [sys.executable, "-m", "uvicorn", "app.main:app"]
        command += ["--host", "127.0.0.1", "--port", str(self.port)]
        with self.log_path.open("w") as log:
            self.process = subprocess.Popen(
                command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        self._wait_until_healthy()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def _wait_until_healthy(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"the server stopped; see {self.log_path}")
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise SystemExit(f"the server did not answer /healthz; see {self.log_path}")

    # ---- memory of the server process (Linux) --------------------------------------------

    def reset_peak_memory(self) -> bool:
        """Reset the process's peak RSS (VmHWM); False where the kernel does not allow it."""
        try:
            Path(f"/proc/{self.process.pid}/clear_refs").write_text("5")
            return True
        except OSError:
            return False

    def memory_mb(self, field: str = "VmHWM") -> float | None:
        """VmHWM (peak resident set) or VmRSS (current), in MB."""
        try:
            status = Path(f"/proc/{self.process.pid}/status").read_text()
        except OSError:
            return None
        for line in status.splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
        return None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
