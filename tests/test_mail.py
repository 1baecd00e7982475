"""Building e-mails from outbox rows, and telling a retry-worthy SMTP error from a final one."""

import smtplib

import pytest
from pydantic import ValidationError

from app.config import Settings, get_settings
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
