"""Builders for the personal space's tests: a person's link, read back from the message sent."""

import re

import pytest

from app.core.config import get_settings
from tests.factories import anonymous_csrf, outbox_messages, sms_messages

SPACE_LINK = re.compile(r"/mon-espace/([A-Za-z0-9_-]{43})")


def ask(client, contact: str):
    """Ask for a link at /mon-espace, as a visitor does."""
    token = anonymous_csrf(client, "/mon-espace")
    return client.post(
        "/mon-espace", data={"csrf_token": token, "contact": contact}, follow_redirects=False
    )


def space_paths(session) -> dict[str, str]:
    """The space's path sent in each e-mail, by recipient (the last one wins)."""
    return {
        m.recipient: "/mon-espace/" + SPACE_LINK.search(m.body_text).group(1)
        for m in outbox_messages(session)
        if SPACE_LINK.search(m.body_text)
    }


def space_mails(session) -> list:
    return [m for m in outbox_messages(session) if SPACE_LINK.search(m.body_text)]


def space_sms(session) -> list:
    return [m for m in sms_messages(session) if m.template == "personal_space_link"]


def post(client, path: str, **data):
    token = anonymous_csrf(client, path)
    return client.post(path, data={"csrf_token": token, **data}, follow_redirects=False)


@pytest.fixture(autouse=True)
def _generous_rate_limit(monkeypatch):
    """Each test asks a few times from the same address; the limit itself is tested apart."""
    monkeypatch.setattr(get_settings(), "public_rate_limit", "1000/minute")
