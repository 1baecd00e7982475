"""Building e-mails from outbox rows, and telling a retry-worthy SMTP error from a final one."""

import smtplib

import pytest

from app.config import get_settings
from app.mail import DeliveryError, SmtpTransport, build_email, classify_smtp_error
from app.models.outbox import OutboxMessage
from tests.smtp import free_port


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


def test_a_header_with_a_line_break_is_refused_for_good():
    with pytest.raises(DeliveryError) as caught:
        build_email(row(subject="Bonjour\r\nBcc: tous@exemple.fr"), sender="a@exemple.fr")
    assert caught.value.permanent


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
