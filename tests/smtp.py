"""A real SMTP server in the test process (aiosmtpd) that keeps what it receives."""

from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.factories import free_port

USERNAME = "filrouge"
PASSWORD = "secret-smtp"


class RecordingHandler:
    """Accepts every message, except the answers scripted with `fail_next` / `reject`."""

    def __init__(self) -> None:
        self.envelopes: list = []
        self.data_replies: list[str] = []
        self.rejected: dict[str, str] = {}
        self.logins: list[str] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.rejected:
            return self.rejected[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.data_replies:
            return self.data_replies.pop(0)
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data == (
            USERNAME.encode(),
            PASSWORD.encode(),
        )
        if ok:
            self.logins.append(auth_data.login.decode())
        return AuthResult(success=ok)


class SmtpServer:
    """Start with `with SmtpServer() as server:`; read `server.messages` afterwards.

    Logging in is optional; when a client does, only USERNAME / PASSWORD are accepted."""

    host = "127.0.0.1"

    def __init__(self) -> None:
        self.handler = RecordingHandler()
        self.port = free_port()
        self.controller = Controller(
            self.handler,
            hostname=self.host,
            port=self.port,
            authenticator=self.handler.authenticate,
            auth_require_tls=False,
        )

    def __enter__(self) -> "SmtpServer":
        self.controller.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.controller.stop()

    def fail_next(self, reply: str = "451 4.3.0 Try again later", times: int = 1) -> None:
        """Answer the next `times` messages with `reply` instead of accepting them."""
        self.handler.data_replies.extend([reply] * times)

    def reject(self, address: str, reply: str = "550 5.1.1 Mailbox unavailable") -> None:
        self.handler.rejected[address] = reply

    @property
    def messages(self) -> list[EmailMessage]:
        return [message_from_bytes(e.content, policy=default) for e in self.handler.envelopes]

    @property
    def message_ids(self) -> list[str]:
        return [message["Message-ID"] for message in self.messages]

    @property
    def logins(self) -> list[str]:
        return self.handler.logins


def body(email: EmailMessage, subtype: str = "plain") -> str:
    """The text or html body with the wire's CRLF turned back into newlines."""
    return email.get_body((subtype,)).get_content().replace("\r\n", "\n")
