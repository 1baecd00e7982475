"""E-mail as it leaves the app: outbox rows turned into MIME messages, and their transports."""

import base64
import binascii
import mailbox
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Protocol

from app.config import Settings, get_settings
from app.models.fields import is_control_character
from app.models.outbox import OutboxMessage


class DeliveryError(Exception):
    """A message could not be handed over; `permanent` ones are never retried."""

    def __init__(self, reason: str, *, permanent: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


class Transport(Protocol):
    def send(self, email: EmailMessage) -> None: ...

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
    maintype, _, subtype = attachment["content_type"].partition("/")
    data = base64.b64decode(attachment["content_b64"], validate=True)
    email.add_attachment(
        data,
        maintype=maintype,
        subtype=subtype or "octet-stream",
        filename=attachment["filename"],
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


class SmtpTransport:
    """Sends over SMTP, keeping one connection open for a whole batch."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None

    def send(self, email: EmailMessage) -> None:
        try:
            self._connection().send_message(email)
        except (smtplib.SMTPException, OSError) as exc:
            # The session may be half-way through a command: start afresh next time.
            self.close()
            raise classify_smtp_error(exc) from exc

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()

    def _connection(self) -> smtplib.SMTP:
        if self._smtp is None:
            self._smtp = self._connect()
        return self._smtp

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        context = ssl.create_default_context()
        if s.smtp_security == "ssl":
            smtp = smtplib.SMTP_SSL(
                s.smtp_host, s.smtp_port, timeout=s.smtp_timeout_seconds, context=context
            )
        else:
            smtp = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout_seconds)
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

    def send(self, email: EmailMessage) -> None:
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
