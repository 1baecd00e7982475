"""The message outbox: write messages inside the caller's transaction; the worker delivers them."""

import secrets

from sqlmodel import Session

from app.models.outbox import OutboxMessage


def new_message_id() -> str:
    return f"<{secrets.token_hex(16)}@filrouge>"


def queue_email(
    *,
    session: Session,
    recipient: str,
    subject: str,
    text: str,
    html: str | None = None,
    operator_id: int | None = None,
    case_id: int | None = None,
    attachments: list[dict] | None = None,
) -> OutboxMessage:
    """Queue an e-mail; it is sent only if the caller's transaction commits."""
    message = OutboxMessage(
        operator_id=operator_id,
        case_id=case_id,
        recipient=recipient,
        subject=subject,
        body_text=text,
        body_html=html,
        attachments=attachments or [],
        message_id=new_message_id(),
    )
    session.add(message)
    session.flush()
    return message
