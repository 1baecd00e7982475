"""Every request has an id (X-Request-ID, kept when sane, else made), returned in the response,
carried by every line written for it, and quoted on the 500 page; one access line each."""

import asyncio
import logging
import re
import socket
import threading

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient

from app.main import create_app
from app.services.deliverables.pdf import PdfUnavailable
from app.web.routing import new_router
from tests.factories import log_in, make_case, make_operator, make_staff

HEX_ID = re.compile(r"[0-9a-f]{16}")


def access_lines(lines: list[dict]) -> list[dict]:
    return [line for line in lines if line["logger"] == "app.access"]


def test_a_sane_incoming_request_id_is_kept_and_returned(client, log_lines):
    response = client.get("/login", headers={"X-Request-ID": "lb-7f3a.2026:42_x"})

    assert response.headers["x-request-id"] == "lb-7f3a.2026:42_x"
    [line] = access_lines(log_lines())
    assert line["request_id"] == "lb-7f3a.2026:42_x"


def test_without_one_each_request_gets_a_new_id(client):
    first, second = client.get("/login"), client.get("/login")

    assert HEX_ID.fullmatch(first.headers["x-request-id"])
    assert HEX_ID.fullmatch(second.headers["x-request-id"])
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


@pytest.mark.parametrize(
    "hostile",
    [
        "x" * 65,  # longer than any id a proxy makes
        "zoe.martin@exemple.fr",  # personal data passed off as an id
        "id with spaces",
        '"}{"level": "ERROR"',  # a forged JSON field
        "%0aINFO fake line",
        "",
    ],
)
def test_a_hostile_request_id_is_replaced(client, log_lines, hostile):
    response = client.get("/login", headers={"X-Request-ID": hostile})

    request_id = response.headers["x-request-id"]
    assert HEX_ID.fullmatch(request_id)
    [line] = access_lines(log_lines())
    assert line["request_id"] == request_id
    assert not hostile or hostile not in repr(log_lines())


def test_one_access_line_per_request_names_the_route_template_not_the_address(
    client, session, log_lines
):
    user = make_staff(session, make_operator(session))
    log_in(client, session, user)
    case = make_case(session, user)

    response = client.get(f"/cases/{case.id}?onglet=notes")

    [line] = access_lines(log_lines())
    assert line["method"] == "GET"
    assert line["route"] == "/cases/{case_id}"
    assert line["status"] == response.status_code == 200
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert line["request_id"] == response.headers["x-request-id"]
    assert line["message"].startswith("GET /cases/{case_id} 200 ")
    assert "onglet" not in repr(line)


def test_an_unknown_address_is_logged_without_it(client, log_lines):
    client.get("/jeton-secret-abc123")

    [line] = access_lines(log_lines())
    assert (line["route"], line["status"]) == (None, 404)
    assert "abc123" not in str(line)


def test_what_a_thread_pool_endpoint_logs_carries_the_request_id(own_app, log_lines):
    """Plain `def` endpoints run in anyio's worker threads: the context is copied there."""
    router = new_router()

    @router.get("/essai-journal")
    def writes_a_line() -> dict:
        logging.getLogger("app.services.essai").info("done in a worker thread")
        return {}

    own_app.include_router(router)

    response = TestClient(own_app).get("/essai-journal")

    [service_line] = [line for line in log_lines() if line["logger"] == "app.services.essai"]
    assert service_line["request_id"] == response.headers["x-request-id"]


@pytest.fixture
def broken_app(own_app):
    app = own_app

    @app.get("/casse")
    def broken() -> None:
        raise RuntimeError("boom")

    @app.get("/api/v1/casse")
    def broken_api() -> None:
        raise RuntimeError("boom")

    @app.get("/pdf-indisponible")
    def no_pdf() -> None:
        raise PdfUnavailable("pango absent")

    return app


def test_the_500_page_quotes_the_request_id(broken_app, log_lines):
    client = TestClient(broken_app, raise_server_exceptions=False)

    response = client.get("/casse", headers={"X-Request-ID": "panne-42"})

    assert response.status_code == 500
    assert response.headers["x-request-id"] == "panne-42"
    assert "text/html" in response.headers["content-type"]
    assert "<code>panne-42</code>" in response.text
    [line] = access_lines(log_lines())
    assert (line["route"], line["status"], line["request_id"]) == ("/casse", 500, "panne-42")


def test_a_refusal_from_the_servers_side_quotes_the_request_id_and_a_404_does_not(broken_app):
    client = TestClient(broken_app, raise_server_exceptions=False)

    unavailable = client.get("/pdf-indisponible", headers={"X-Request-ID": "panne-43"})
    missing = client.get("/nulle-part", headers={"X-Request-ID": "panne-44"})

    assert unavailable.status_code == 503
    assert "<code>panne-43</code>" in unavailable.text
    assert missing.status_code == 404
    assert "panne-44" not in missing.text


def test_an_api_500_gives_the_request_id_in_json(broken_app):
    client = TestClient(broken_app, raise_server_exceptions=False)

    response = client.get("/api/v1/casse")

    assert response.status_code == 500
    assert response.json() == {
        "detail": "Erreur interne du serveur",
        "request_id": response.headers["x-request-id"],
    }


def test_other_error_pages_do_not_show_a_reference(client):
    page = client.get("/page-inconnue")

    assert page.status_code == 404 and "<code>" not in page.text


def test_the_servers_line_about_an_unhandled_error_has_the_traceback_and_the_request_id(
    log_lines,
):
    """As `filrouge serve` runs it: uvicorn logs the error after the app has returned, through
    the app's handler; the request's id is still in that task's context."""
    app = create_app()

    @app.get("/casse")
    def broken() -> None:
        raise RuntimeError("boom")

    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    listening.listen()  # connections wait in the backlog until the server accepts them
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False))
    thread = threading.Thread(target=asyncio.run, args=(server.serve([listening]),))
    thread.start()
    try:
        port = listening.getsockname()[1]
        response = httpx.get(f"http://127.0.0.1:{port}/casse", timeout=30)
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        listening.close()
    assert not thread.is_alive(), "the server did not stop"

    assert response.status_code == 500
    request_id = response.headers["x-request-id"]
    [error] = [line for line in log_lines() if line["level"] == "ERROR"]
    assert (error["logger"], error["request_id"]) == ("uvicorn.error", request_id)
    assert error["exception"].startswith("Traceback (most recent call last)")
    assert error["exception"].endswith("RuntimeError: boom")
    [access] = access_lines(log_lines())
    assert (access["status"], access["request_id"]) == (500, request_id)
