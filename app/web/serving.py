"""How the app is served: uvicorn with the options of production, for `filrouge serve` and for
the benchmark's server (bench/server.py), which imports this rather than the whole command;
and what start-up built, frozen once the app is (app/main.py, bench/app.py)."""

import gc
import signal

import uvicorn

# On SIGTERM the server stops taking connections and lets the requests under way finish, for
# this long at most: within the 30 s an orchestrator usually waits before SIGKILL (Docker's
# default is 10 s: give the container `stop_grace_period: 30s`).
SHUTDOWN_GRACE_SECONDS = 25
STARTUP_SECONDS = 60


def freeze_startup() -> None:
    """Leave what start-up built (modules, routes, templates, the ORM's mappings) out of the
    garbage collector's full passes: it lives as long as the process, and those passes would
    otherwise walk it all and stall a request for 100 ms every few requests."""
    gc.collect()
    gc.freeze()


def run_server(target: str, *, host: str, port: int, workers: int, reload: bool = False) -> None:
    """uvicorn serving `target` ("module:attribute")."""
    # uvicorn alone in its process raises the SIGTERM that stopped it once more when the
    # requests under way have finished: by default that kills the process (status 143) before
    # `filrouge serve` stops its e-mail thread. Here the signal has already done its work.
    previous = signal.signal(signal.SIGTERM, lambda *_: None)
    try:
        _run_uvicorn(target, host=host, port=port, workers=workers, reload=reload)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _run_uvicorn(target: str, *, host: str, port: int, workers: int, reload: bool) -> None:
    uvicorn.run(
        target,
        host=host,
        port=port,
        reload=reload,
        workers=workers,
        # X-Forwarded-For is read by app/web/client_address.py, from trusted proxies only
        # (FILROUGE_TRUSTED_PROXIES); uvicorn's own reading trusts 127.0.0.1 by default,
        # which would let anyone connecting on loopback choose their address.
        proxy_headers=False,
        # The app writes one line per request (app/web/middleware.py, RequestLog) and
        # configures logging itself: uvicorn's lines go through it, with the request id.
        access_log=False,
        log_config=None,
        timeout_graceful_shutdown=SHUTDOWN_GRACE_SECONDS,
        # uvicorn's supervisor kills a web process that has not answered its ping within this
        # time, requests in flight and all. Its default, 5 s, is missed by a process importing
        # the app on a busy machine (a deploy starting every process at once: killed and
        # started again, forever) or building a proof pack; one truly hung is still replaced.
        timeout_worker_healthcheck=STARTUP_SECONDS,
    )
