"""Building e-mails from outbox rows, and telling a retry-worthy SMTP error from a final one."""

import smtplib
import time

import pytest
from pydantic import ValidationError

from app.core.config import Settings, get_settings
from app.models.outbox import OutboxMessage
from app.services.messaging.mail import (
    _SMTP,
    DeliveryError,
    SmtpTransport,
    build_email,
    classify_smtp_error,
)
from tests.factories import free_port


def row(**overrides) -> OutboxMessage:
    values = {
        "recipient": "zoe@exemple.fr",
        "subject": "Rendez-vous",
        "body_text": "Bonjour",
        "message_id": "<abc@filrouge>",
        **overrides,
    }
    return OutboxMessage(**values)


@pytest.mark.parametrize(
    ("error", "permanent"),
    [
        (smtplib.SMTPRecipientsRefused({"x@exemple.fr": (550, b"No such user")}), True),
        (smtplib.SMTPRecipientsRefused({"x@exemple.fr": (452, b"Mailbox full")}), False),
        (smtplib.SMTPDataError(554, b"Rejected as spam"), True),
        (smtplib.SMTPDataError(451, b"Try later"), False),
        (smtplib.SMTPSenderRefused(553, b"Bad sender", "a@b"), True),
        (smtplib.SMTPAuthenticationError(535, b"Bad credentials"), False),
        (smtplib.SMTPConnectError(554, b"Go away"), False),
        (smtplib.SMTPServerDisconnected("Connection unexpectedly closed"), False),
        (TimeoutError("timed out"), False),
        (ConnectionRefusedError(111, "Connection refused"), False),
    ],
)
def test_only_5xx_answers_about_the_message_are_permanent(error, permanent):
    assert classify_smtp_error(error).permanent is permanent


def test_error_reason_keeps_the_server_reply():
    error = classify_smtp_error(smtplib.SMTPDataError(554, b"5.7.1 Rejet\xc3\xa9"))
    assert error.reason == "554 5.7.1 Rejeté"


@pytest.mark.parametrize("breaks", ["\r\n", "\n", "\r", "\u2028", "\x85", "\t", "\x00"])
def test_a_line_break_in_the_subject_never_starts_a_header_of_its_own(breaks):
    subject = f"Votre document : Synthèse{breaks}Bcc: tous@exemple.fr"
    email = build_email(row(subject=subject), sender="a@exemple.fr")
    assert email["Subject"] == "Votre document : Synthèse Bcc: tous@exemple.fr"
    assert email["Bcc"] is None
    assert b"\nBcc:" not in email.as_bytes()


@pytest.mark.parametrize(
    "field", [{"recipient": "zoe@exemple.fr\r\nBcc: tous@exemple.fr"}, {"sender": "a@b.fr\nX: y"}]
)
def test_an_address_on_several_lines_is_refused_for_good(field):
    sender = field.pop("sender", "a@exemple.fr")
    with pytest.raises(DeliveryError) as caught:
        build_email(row(**field), sender=sender)
    assert caught.value.permanent


def test_a_sender_setting_on_several_lines_is_refused_at_start():
    with pytest.raises(ValidationError, match="one line"):
        Settings(mail_sender="Fil rouge <a@exemple.fr>\r\nBcc: tous@exemple.fr")


def test_a_broken_attachment_is_refused_for_good():
    attachment = {"filename": "a.ics", "content_type": "text/calendar", "content_b64": "@@"}
    with pytest.raises(DeliveryError) as caught:
        build_email(row(attachments=[attachment]), sender="a@exemple.fr")
    assert caught.value.permanent


def test_unreachable_server_is_a_temporary_failure(monkeypatch):
    settings = get_settings()
    monkeypatch.setattr(settings, "smtp_host", "127.0.0.1")
    monkeypatch.setattr(settings, "smtp_port", free_port())
    monkeypatch.setattr(settings, "smtp_security", "none")
    with pytest.raises(DeliveryError) as caught:
        SmtpTransport(settings).send(build_email(row(), sender="a@exemple.fr"))
    assert not caught.value.permanent


# ---- one message's exchange ends by its deadline (inside the worker's lease) -------------------


def test_a_message_past_its_deadline_is_not_sent_and_is_retried(smtp_server):
    transport = SmtpTransport(get_settings())
    with pytest.raises(DeliveryError) as caught:
        transport.send(build_email(row(), sender="a@exemple.fr"), deadline=time.monotonic() - 1)
    assert not caught.value.permanent and "délai" in caught.value.reason
    assert smtp_server.messages == []


def test_an_open_connection_stops_at_the_deadline_too_then_starts_afresh(smtp_server):
    transport = SmtpTransport(get_settings())
    email = build_email(row(), sender="a@exemple.fr")
    transport.send(email, deadline=time.monotonic() + 60)
    with pytest.raises(DeliveryError):
        transport.send(email, deadline=time.monotonic() - 1)
    transport.send(email)
    transport.close()
    assert len(smtp_server.messages) == 2


class RecordingSocket:
    def __init__(self):
        self.timeouts: list[float] = []

    def settimeout(self, value: float) -> None:
        self.timeouts.append(value)


@pytest.mark.parametrize(("left", "longest"), [(None, 30), (5, 5), (300, 30)])
def test_each_step_waits_the_timeout_or_what_is_left_before_the_deadline(left, longest):
    smtp = _SMTP(timeout=30)  # no host: not connected
    smtp.sock = RecordingSocket()
    smtp.deadline = None if left is None else time.monotonic() + left
    smtp._bound_socket()
    [waited] = smtp.sock.timeouts
    assert 0 < waited <= longest and (left is not None or waited == 30)


def test_the_lease_must_leave_room_for_a_whole_smtp_step_and_the_outcome():
    assert Settings(smtp_timeout_seconds=30).outbox_lease_seconds == 120
    with pytest.raises(ValidationError, match="at least twice"):
        Settings(outbox_lease_seconds=50, smtp_timeout_seconds=30)
