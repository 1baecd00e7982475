"""How the app is served: uvicorn with the options of production, for `filrouge serve` and for
the benchmark's server (bench/server.py), which imports this rather than the whole command;
and what start-up built, frozen once the app is (app/main.py, bench/app.py)."""

import gc

import uvicorn

WORKER_PING_SECONDS = 30


def freeze_startup() -> None:
    """Leave what start-up built (modules, routes, templates, the ORM's mappings) out of the
    garbage collector's full passes: it lives as long as the process, and those passes would
    otherwise walk it all and stall a request for 100 ms every few requests."""
    gc.collect()
    gc.freeze()


def run_server(target: str, *, host: str, port: int, workers: int, reload: bool = False) -> None:
    """uvicorn serving `target` ("module:attribute")."""
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
        # uvicorn's supervisor kills a web process that has not answered its ping (a thread
        # of that process) within this many seconds, requests in flight and all. Its default,
        # 5 s, is missed by a process importing the app, or building a proof pack, on a busy
        # machine: seen as processes killed in a loop at start-up and as dropped connections
        # under `make load` (bench/load.py). A process truly hung is still replaced.
        timeout_worker_healthcheck=WORKER_PING_SECONDS,
    )
