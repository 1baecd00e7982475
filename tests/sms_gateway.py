"""A real HTTP SMS gateway in the test process (http.server in a thread) that keeps what it
receives and answers as scripted: 200 with an id by default."""

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOKEN = "jeton-passerelle"


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: dict


@dataclass
class GatewayState:
    received: list[Received] = field(default_factory=list)
    # (status, JSON body) answers to give next, in order; then 200 {"id": …}.
    answers: list[tuple[int, dict]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _handler(state: GatewayState):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            with state.lock:
                state.received.append(Received(self.path, dict(self.headers), body))
                status, answer = (
                    state.answers.pop(0)
                    if state.answers
                    else (200, {"id": f"gw-{len(state.received)}"})
                )
            raw = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def log_message(self, format, *args):  # noqa: A002 - the base class's name
            pass  # the test's output stays readable

    return Handler


class SmsGateway:
    """Start with `with SmsGateway() as gateway:`; read `gateway.received` afterwards."""

    def __init__(self) -> None:
        self.state = GatewayState()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self.state))
        self.url = f"http://127.0.0.1:{self.server.server_port}/sms"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def received(self) -> list[Received]:
        with self.state.lock:
            return list(self.state.received)

    def answer_next(self, status: int, body: dict) -> None:
        with self.state.lock:
            self.state.answers.append((status, body))

    def __enter__(self) -> "SmsGateway":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()
