"""The app under test: uvicorn serving `bench.app:app` (the app and the benchmark's hooks) as
`filrouge serve` serves `app.main:app` in production (same options, as many web processes),
started by the benchmark on a free port: `python -m bench.server PORT WORKERS`."""

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


class Server:
    def __init__(self, database_url: str, workers: int) -> None:
        self.database_url = database_url
        self.workers = workers
        self.port = _free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = Path(tempfile.gettempdir()) / f"filrouge-bench-{self.port}.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        env = os.environ | {
            "FILROUGE_DATABASE_URL": self.database_url,
            "BENCH_SQL_TRACE_FILE": str(self.log_path.with_suffix(".trace.json")),
            # The booking run comes from one address: lift the public rate limit.
            "FILROUGE_PUBLIC_RATE_LIMIT": "1000000/second",
        }
        command = [sys.executable, "-m", "bench.server", str(self.port), str(self.workers)]
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
        import httpx  # here: the server process, which imports this module too, has no use of it

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

    # ---- memory of the server's processes (Linux) ------------------------------------------

    def _pids(self) -> list[int]:
        """The web processes: uvicorn's supervisor and its workers, or the only process."""
        pid = self.process.pid
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            children = []
        return [pid, *map(int, children)]

    def reset_peak_memory(self) -> bool:
        """Reset each process's peak RSS (VmHWM); False where the kernel does not allow it."""
        try:
            for pid in self._pids():
                Path(f"/proc/{pid}/clear_refs").write_text("5")
            return True
        except OSError:
            return False

    def memory_mb(self, field: str = "VmHWM") -> float | None:
        """The largest VmHWM (peak resident set) or VmRSS (current) of one process, in MB:
        a proof pack is built in the one process that received its request."""
        sizes = [_status_kb(pid, field) for pid in self._pids()]
        sizes = [size for size in sizes if size is not None]
        return max(sizes) / 1024 if sizes else None


def _status_kb(pid: int, field: str) -> int | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def main() -> None:
    """The server process: what `filrouge serve` runs (its logging, its uvicorn options), on
    bench.app:app."""
    from app.core.logging import configure_logging
    from app.web.serving import run_server

    port, workers = int(sys.argv[1]), int(sys.argv[2])
    configure_logging()
    run_server("bench.app:app", host="127.0.0.1", port=port, workers=workers)


if __name__ == "__main__":
    main()
