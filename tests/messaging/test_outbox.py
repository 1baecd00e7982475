"""Outbox delivery against a real SMTP server and a database whose commits are real."""

import base64
import threading
import time
from datetime import timedelta
from email import message_from_binary_file
from email.policy import default

import pytest
from alembic import command
from sqlalchemy import delete
from sqlmodel import Session, select

from app.core.config import get_settings
from app.core.db import build_engine
from app.models.base import utcnow
from app.models.outbox import OutboxMessage
from app.services.messaging.mail import MaildirTransport, SmtpTransport, transport_from_settings
from app.services.messaging.outbox import deliver_due, queue_email, send_budget
from tests.conftest import alembic_config, scratch_database
from tests.smtp import PASSWORD, USERNAME, body

ICS = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n"


@pytest.fixture(scope="module")
def committed_engine(database_url, tmp_path_factory):
    """A database of its own: workers need data that other connections can see."""
    with scratch_database(database_url, "outbox", tmp_path_factory.mktemp("outbox")) as url:
        engine = build_engine(url)
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), "head")
        yield engine
        engine.dispose()


@pytest.fixture
def engine_(committed_engine):
    yield committed_engine
    with committed_engine.begin() as conn:
        conn.execute(delete(OutboxMessage))


def queue(engine, count=1, **overrides) -> list[OutboxMessage]:
    """Queue messages in a transaction that commits."""
    with Session(engine, expire_on_commit=False) as session:
        messages = [
            queue_email(
                session=session,
                **{
                    "recipient": f"zoe{n}@exemple.fr",
                    "subject": f"Votre rendez-vous n° {n}",
                    "text": "Bonjour,\nVotre rendez-vous est confirmé.",
                    **overrides,
                },
            )
            for n in range(count)
        ]
        session.commit()
    return messages


def stored(engine, message: OutboxMessage) -> OutboxMessage:
    with Session(engine) as session:
        return session.exec(select(OutboxMessage).where(OutboxMessage.id == message.id)).one()


def deliver(engine, when=None, **options):
    return deliver_due(
        engine=engine, transport=transport_from_settings(), now=when or utcnow(), **options
    )


class WorkerKilled(BaseException):
    """What a power cut or `kill -9` looks like from inside: nothing after it runs."""


class DyingTransport:
    """Sends `survive` messages, then dies before (or just after) handing over the next one."""

    def __init__(self, survive: int, *, after_handover: bool = False):
        self.inner = transport_from_settings()
        self.survive = survive
        self.after_handover = after_handover

    def send(self, email, *, deadline=None):
        if self.survive == 0:
            if self.after_handover:
                self.inner.send(email, deadline=deadline)
            raise WorkerKilled()
        self.survive -= 1
        self.inner.send(email, deadline=deadline)

    def close(self):
        self.inner.close()


def test_message_queued_in_a_rolled_back_transaction_is_never_sent(engine_, smtp_server):
    with Session(engine_) as session:
        queue_email(session=session, recipient="zoe@exemple.fr", subject="Annulé", text="…")
        session.rollback()
    report = deliver(engine_)
    assert not report and smtp_server.messages == []


def test_delivery_sends_once_with_headers_body_and_attachment(engine_, smtp_server):
    attachment = {
        "filename": "rendez-vous.ics",
        "content_type": "text/calendar",
        "content_b64": base64.b64encode(ICS).decode(),
    }
    [message] = queue(
        engine_,
        subject="Votre rendez-vous du 3 mars",
        text="Bonjour Zoé,\nÀ bientôt.",
        html="<p>Bonjour Zoé,</p>",
        attachments=[attachment],
    )
    now = utcnow()
    assert deliver(engine_, now).sent == 1
    assert not deliver(engine_, now + timedelta(days=1))
    [email] = smtp_server.messages
    assert email["Message-ID"] == message.message_id
    assert email["From"] == get_settings().mail_sender
    assert email["To"] == "zoe0@exemple.fr"
    assert email["Subject"] == "Votre rendez-vous du 3 mars"
    assert email["Date"]
    assert body(email) == "Bonjour Zoé,\nÀ bientôt.\n"
    assert "<p>Bonjour Zoé,</p>" in body(email, "html")
    [part] = list(email.iter_attachments())
    assert part.get_filename() == "rendez-vous.ics"
    assert part.get_content_type() == "text/calendar"
    assert part.get_payload(decode=True) == ICS
    row = stored(engine_, message)
    assert (row.status, row.sent_at, row.attempts, row.lease_until) == ("sent", now, 1, None)


def test_a_subject_with_a_line_break_goes_out_on_one_line_to_its_one_recipient(
    engine_, smtp_server
):
    # A label stored before labels were checked, say: it must not add a Bcc.
    queue(engine_, subject="Votre document : Synthèse\r\nBcc: tous@exemple.fr")
    assert deliver(engine_).sent == 1
    [envelope] = smtp_server.handler.envelopes
    assert envelope.rcpt_tos == ["zoe0@exemple.fr"]
    [email] = smtp_server.messages
    assert email["Subject"] == "Votre document : Synthèse Bcc: tous@exemple.fr"
    assert email["Bcc"] is None


def test_temporary_failure_is_retried_after_a_backoff(engine_, smtp_server):
    [message] = queue(engine_)
    smtp_server.fail_next("451 4.3.0 Mailbox busy")
    now = utcnow()
    assert deliver(engine_, now).retried == 1
    row = stored(engine_, message)
    assert (row.status, row.attempts) == ("pending", 1)
    assert row.next_attempt_at == now + timedelta(minutes=1)
    assert row.last_error.startswith("451")
    assert not deliver(engine_, now + timedelta(seconds=59))
    assert deliver(engine_, now + timedelta(minutes=1)).sent == 1
    assert smtp_server.message_ids == [message.message_id]
    assert stored(engine_, message).attempts == 2


def test_backoff_doubles_after_each_temporary_failure(engine_, smtp_server):
    [message] = queue(engine_)
    smtp_server.fail_next(times=2)
    now = utcnow()
    deliver(engine_, now)
    later = now + timedelta(minutes=1)
    deliver(engine_, later)
    assert stored(engine_, message).next_attempt_at == later + timedelta(minutes=2)


def test_permanent_refusal_fails_at_once(engine_, smtp_server):
    smtp_server.reject("inconnu@exemple.fr", "550 5.1.1 Utilisateur inconnu")
    [message] = queue(engine_, recipient="inconnu@exemple.fr")
    assert deliver(engine_).failed == 1
    row = stored(engine_, message)
    assert (row.status, row.attempts) == ("failed", 1)
    assert row.last_error == "550 5.1.1 Utilisateur inconnu"
    assert smtp_server.messages == []


def test_message_fails_after_the_last_allowed_attempt(engine_, smtp_server, monkeypatch):
    monkeypatch.setattr(get_settings(), "outbox_max_attempts", 2)
    smtp_server.fail_next(times=5)
    [message] = queue(engine_)
    now = utcnow()
    assert deliver(engine_, now).retried == 1
    assert deliver(engine_, now + timedelta(hours=1)).failed == 1
    row = stored(engine_, message)
    assert (row.status, row.attempts) == ("failed", 2)
    assert not deliver(engine_, now + timedelta(days=2))


def test_worker_crash_mid_batch_loses_and_duplicates_nothing(engine_, smtp_server):
    messages = queue(engine_, count=5)
    now = utcnow()
    with pytest.raises(WorkerKilled):
        deliver_due(engine=engine_, transport=DyingTransport(survive=2), now=now)
    assert len(smtp_server.messages) == 2
    # The next run sends the untouched ones; the one in flight waits for its lease to end.
    assert deliver(engine_, now + timedelta(minutes=1)).sent == 2
    assert stored(engine_, messages[2]).status == "sending"
    lease = timedelta(seconds=get_settings().outbox_lease_seconds)
    assert deliver(engine_, now + lease + timedelta(seconds=1)).sent == 1
    ids = smtp_server.message_ids
    assert sorted(ids) == sorted(m.message_id for m in messages)
    assert {stored(engine_, m).status for m in messages} == {"sent"}


def test_crash_after_the_server_accepted_sends_again_with_the_same_message_id(engine_, smtp_server):
    [message] = queue(engine_)
    now = utcnow()
    with pytest.raises(WorkerKilled):
        transport = DyingTransport(survive=0, after_handover=True)
        deliver_due(engine=engine_, transport=transport, now=now)
    lease = timedelta(seconds=get_settings().outbox_lease_seconds)
    deliver(engine_, now + lease + timedelta(seconds=1))
    # The only duplicate possible, and receivers can tell it is one.
    assert smtp_server.message_ids == [message.message_id] * 2


class RecordingTransport:
    def __init__(self):
        self.deadlines: list[float] = []

    def send(self, email, *, deadline=None):
        self.deadlines.append(deadline)

    def close(self):
        pass


def test_each_message_must_be_handed_over_before_its_lease_runs_out(engine_, smtp_server):
    queue(engine_, count=2)
    transport = RecordingTransport()
    before = time.monotonic()
    assert deliver_due(engine=engine_, transport=transport, now=utcnow()).sent == 2
    after = time.monotonic()
    settings = get_settings()
    budget = settings.outbox_lease_seconds - settings.smtp_timeout_seconds
    assert budget == send_budget(settings) > 0
    assert all(before + budget <= deadline <= after + budget for deadline in transport.deadlines)


def test_message_that_kills_every_worker_ends_up_failed(engine_, smtp_server, monkeypatch):
    monkeypatch.setattr(get_settings(), "outbox_max_attempts", 1)
    [message] = queue(engine_)
    now = utcnow()
    with pytest.raises(WorkerKilled):
        deliver_due(engine=engine_, transport=DyingTransport(survive=0), now=now)
    assert deliver(engine_, now + timedelta(days=1)).failed == 1
    assert stored(engine_, message).status == "failed"


def test_two_workers_at_once_send_each_message_exactly_once(engine_, smtp_server):
    messages = queue(engine_, count=20)
    now = utcnow()
    start = threading.Barrier(2)
    reports = []

    def work():
        start.wait()
        reports.append(
            deliver_due(engine=engine_, transport=SmtpTransport(get_settings()), now=now)
        )

    workers = [threading.Thread(target=work) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert not any(worker.is_alive() for worker in workers), "a worker is stuck"
    assert sum(report.sent for report in reports) == 20
    assert sorted(smtp_server.message_ids) == sorted(m.message_id for m in messages)


def test_stop_event_ends_the_pass_between_two_messages(engine_, smtp_server):
    queue(engine_, count=3)
    stop = threading.Event()
    stop.set()
    assert not deliver(engine_, stop=stop)
    assert smtp_server.messages == []


def test_login_is_used_when_a_username_is_set(engine_, smtp_server, monkeypatch):
    monkeypatch.setattr(get_settings(), "smtp_username", USERNAME)
    monkeypatch.setattr(get_settings(), "smtp_password", PASSWORD)
    queue(engine_)
    assert deliver(engine_).sent == 1
    assert smtp_server.logins == [USERNAME]


def test_without_smtp_host_messages_land_in_a_readable_maildir(engine_, tmp_path, monkeypatch):
    monkeypatch.setattr(get_settings(), "smtp_host", "")
    monkeypatch.setattr(get_settings(), "mail_dir", tmp_path / "var" / "mail")
    [message] = queue(engine_, subject="Bienvenue à Fil rouge", text="Bonjour Zoé")
    assert isinstance(transport_from_settings(), MaildirTransport)
    assert deliver(engine_).sent == 1
    [path] = (tmp_path / "var" / "mail" / "new").iterdir()
    with path.open("rb") as file:
        email = message_from_binary_file(file, policy=default)
    assert email["Subject"] == "Bienvenue à Fil rouge"
    assert email["Message-ID"] == message.message_id
    assert email.get_body(("plain",)).get_content() == "Bonjour Zoé\n"


def test_failures_are_logged_by_the_message_id_never_the_address(engine_, smtp_server, log_lines):
    smtp_server.reject("inconnu@exemple.fr", "550 5.1.1 <inconnu@exemple.fr> Utilisateur inconnu")
    [refused] = queue(engine_, recipient="inconnu@exemple.fr")
    deliver(engine_)
    smtp_server.fail_next("451 4.3.0 Mailbox busy")
    [busy] = queue(engine_, recipient="zoe@exemple.fr")
    deliver(engine_)

    lines = [line for line in log_lines() if line["level"] == "WARNING"]
    assert [(line["outbox_id"], line["message"]) for line in lines] == [
        (refused.id, f"outbox message {refused.id} failed for good"),
        (busy.id, f"outbox message {busy.id} not delivered, to be tried again"),
    ]
    assert "exemple.fr" not in repr(log_lines())
