"""A control campaign drawn through the API, timed until its proof pack is ready, with the peak
memory of the server process (which builds the pack in a background task) while it is built."""

import time
from dataclasses import dataclass

import httpx

from bench.server import Server

POLL_SECONDS = 0.2


@dataclass
class PackRun:
    seconds: float
    peak_mb: float | None
    peak_is_own: bool  # False: the highest RSS seen while polling, not the kernel's peak
    campaign: dict


def build_pack(server: Server, token: str, *, period, units: int, timeout: float) -> PackRun:
    own_peak = server.reset_peak_memory()
    sampled_peak = server.memory_mb("VmRSS") or 0.0
    headers = {"Authorization": f"Bearer {token}"}
    body = {"from": period[0].isoformat(), "to": period[1].isoformat(), "sample_size": units}
    with httpx.Client(base_url=server.base_url, headers=headers, timeout=60) as client:
        started = time.perf_counter()
        response = client.post("/api/v1/control-campaigns", json=body)
        if response.status_code != 202:
            raise RuntimeError(f"campaign refused ({response.status_code}): {response.text[:300]}")
        location = response.headers["Location"]
        campaign = response.json()
        while campaign["status"] not in ("ready", "failed"):
            if time.perf_counter() - started > timeout:
                raise RuntimeError(f"proof pack not ready after {timeout:.0f} s: {campaign}")
            time.sleep(POLL_SECONDS)
            sampled_peak = max(sampled_peak, server.memory_mb("VmRSS") or 0.0)
            campaign = client.get(location).json()
        seconds = time.perf_counter() - started
    # Without a reset, VmHWM is the peak of the whole run: fall back on RSS sampled while polling.
    peak = server.memory_mb("VmHWM") if own_peak else sampled_peak
    return PackRun(seconds=seconds, peak_mb=peak, peak_is_own=own_peak, campaign=campaign)
