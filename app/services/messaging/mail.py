"""E-mail as it leaves the app: outbox rows turned into MIME messages, and their transports."""

import base64
import binascii
import mailbox
import smtplib
import socket
import ssl
import time
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import NamedTuple, Protocol

from app.core.config import Settings, get_settings
from app.models.fields import is_control_character
from app.models.outbox import OutboxMessage


class DeliveryError(Exception):
    """A message could not be handed over; `permanent` ones are never retried."""

    def __init__(self, reason: str, *, permanent: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


class WrittenEmail(NamedTuple):
    """An e-mail the worker writes when it sends it (OutboxMessage.template)."""

    subject: str
    text: str
    attachments: list[dict]


class Transport(Protocol):
    def send(self, email: EmailMessage, *, deadline: float | None = None) -> None:
        """Hand the message over; give up by `deadline` (time.monotonic()) if one is given."""

    def close(self) -> None: ...


def build_email(message: OutboxMessage, *, sender: str) -> EmailMessage:
    """The MIME message; raises DeliveryError(permanent) when the row cannot become one."""
    try:
        email = EmailMessage()
        email["From"] = _address(sender)
        email["To"] = _address(message.recipient)
        email["Subject"] = one_line(message.subject)
        email["Message-ID"] = message.message_id
        # The date the message was written, so that every retry carries the same one.
        email["Date"] = format_datetime(message.created_at)
        # Keeps out-of-office replies away from the unattended sender address.
        email["Auto-Submitted"] = "auto-generated"
        email.set_content(message.body_text)
        if message.body_html:
            email.add_alternative(message.body_html, subtype="html")
        for attachment in message.attachments:
            _attach(email, attachment)
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise DeliveryError(f"Message impossible à construire : {exc}", permanent=True) from exc
    return email


def one_line(text: str) -> str:
    """Free text made safe for a header: a line break there would start a header of its own
    (a Bcc:, say). Labels are checked when typed; this is for anything that got past."""
    return " ".join("".join(" " if is_control_character(ch) else ch for ch in text).split())


def _address(address: str) -> str:
    if any(is_control_character(ch) for ch in address):
        raise ValueError("adresse sur plusieurs lignes")
    return address


def _attach(email: EmailMessage, attachment: dict) -> None:
    """`content_type` may carry parameters: "text/calendar; charset=utf-8; method=PUBLISH"."""
    kind, *parameters = (part.strip() for part in attachment["content_type"].split(";"))
    maintype, _, subtype = kind.partition("/")
    params = dict(parameter.partition("=")[::2] for parameter in parameters if "=" in parameter)
    data = base64.b64decode(attachment["content_b64"], validate=True)
    email.add_attachment(
        data,
        maintype=maintype,
        subtype=subtype or "octet-stream",
        filename=attachment["filename"],
        params=params,
    )


_SESSION_ERRORS = (
    smtplib.SMTPConnectError,
    smtplib.SMTPHeloError,
    smtplib.SMTPAuthenticationError,
)


def classify_smtp_error(exc: Exception) -> DeliveryError:
    """5xx answers are permanent; 4xx, lost connections and timeouts are worth a retry."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, text = next(iter(exc.recipients.values()), (0, b""))
    elif isinstance(exc, smtplib.SMTPResponseException):
        code, text = exc.smtp_code, exc.smtp_error
    else:
        return DeliveryError(f"{type(exc).__name__} : {exc}")
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    # A refused greeting, HELO or login is about the server or our settings, not this
    # message: once that is fixed, the message must still go.
    permanent = code >= 500 and not isinstance(exc, _SESSION_ERRORS)
    return DeliveryError(f"{code} {text}".strip(), permanent=permanent)


class _Deadline:
    """Each socket operation waits at most the SMTP timeout, and never past the deadline: a
    server that answers every step just in time cannot stretch one message beyond it."""

    timeout: float
    sock: socket.socket | None

    def __init__(self, *args, deadline: float | None = None, **kwargs):
        self.deadline = deadline  # before the base class connects
        super().__init__(*args, **kwargs)

    def _step_timeout(self, timeout: float) -> float:
        if self.deadline is None:
            return timeout
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("délai d'envoi du message dépassé")
        return min(timeout, left)

    def _get_socket(self, host, port, timeout):
        return super()._get_socket(host, port, self._step_timeout(timeout))  # type: ignore[misc]

    def send(self, s) -> None:
        self._bound_socket()
        super().send(s)  # type: ignore[misc]

    def getreply(self):
        self._bound_socket()
        return super().getreply()  # type: ignore[misc]

    def _bound_socket(self) -> None:
        if self.sock is None:
            return
        try:
            timeout = self._step_timeout(self.timeout)
        except TimeoutError:
            self.close()
            raise
        self.sock.settimeout(timeout)


class _SMTP(_Deadline, smtplib.SMTP):
    pass


class _SMTP_SSL(_Deadline, smtplib.SMTP_SSL):
    pass


class SmtpTransport:
    """Sends over SMTP, keeping one connection open for a whole batch."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._smtp: _SMTP | _SMTP_SSL | None = None

    def send(self, email: EmailMessage, *, deadline: float | None = None) -> None:
        try:
            smtp = self._connection(deadline)
            smtp.deadline = deadline
            smtp.send_message(email)
            smtp.deadline = None
        except (smtplib.SMTPException, OSError) as exc:
            # The session may be half-way through a command: start afresh next time.
            self.close()
            raise classify_smtp_error(exc) from exc

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            smtp.deadline = None  # a QUIT after a missed deadline still gets its timeout
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()

    def _connection(self, deadline: float | None) -> "_SMTP | _SMTP_SSL":
        if self._smtp is None:
            self._smtp = self._connect(deadline)
        return self._smtp

    def _connect(self, deadline: float | None) -> "_SMTP | _SMTP_SSL":
        s = self.settings
        context = ssl.create_default_context()
        # Connecting and logging in count against the first message's deadline.
        smtp: _SMTP | _SMTP_SSL
        if s.smtp_security == "ssl":
            smtp = _SMTP_SSL(
                s.smtp_host,
                s.smtp_port,
                timeout=s.smtp_timeout_seconds,
                context=context,
                deadline=deadline,
            )
        else:
            smtp = _SMTP(
                s.smtp_host, s.smtp_port, timeout=s.smtp_timeout_seconds, deadline=deadline
            )
        try:
            if s.smtp_security == "starttls":
                smtp.starttls(context=context)
            if s.smtp_username:
                smtp.login(s.smtp_username, s.smtp_password)
        except BaseException:
            smtp.close()
            raise
        return smtp


class MaildirTransport:
    """Writes each message to a local Maildir, for developers without an SMTP server."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)

    def send(self, email: EmailMessage, *, deadline: float | None = None) -> None:
        try:
            self.directory.parent.mkdir(parents=True, exist_ok=True)
            mailbox.Maildir(self.directory, create=True).add(email)
        except OSError as exc:
            raise DeliveryError(f"{type(exc).__name__} : {exc}") from exc

    def close(self) -> None:
        pass


def transport_from_settings(settings: Settings | None = None) -> Transport:
    settings = settings or get_settings()
    if settings.smtp_host:
        return SmtpTransport(settings)
    return MaildirTransport(settings.mail_dir)


def describe_destination(settings: Settings | None = None) -> str:
    """Where e-mails go, in one French line for the console."""
    settings = settings or get_settings()
    if settings.smtp_host:
        return f"E-mails : envoyés par SMTP via {settings.smtp_host}:{settings.smtp_port}"
    return f"E-mails : écrits dans {settings.mail_dir} (aucun serveur SMTP configuré)"
