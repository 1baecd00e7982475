"""The daily notification digest: only for who asked, at most one a day, only with something
unread since the last one, through the outbox; the choice is made on « Notifications »."""

from datetime import UTC, datetime, timedelta

from sqlmodel import select

from app.models.notifications import NotificationDigest, NotificationKind
from app.services.messaging.digests import digest_subscribed, queue_digests, set_digest
from app.services.messaging.notifications import notify
from tests.factories import outbox_messages

MORNING = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)  # 7 h in Paris


def tell(session, user, text, at):
    told = notify(
        session=session,
        operator_id=user.operator_id,
        recipient_id=user.id,
        kind=NotificationKind.APPOINTMENT_BOOKED,
        text=text,
        link="/agenda",
    )
    told.created_at = at
    session.add(told)
    session.flush()
    return told


def test_nobody_gets_a_digest_without_asking(session, counsellor):
    tell(session, counsellor, "Nouveau rendez-vous", MORNING - timedelta(hours=2))
    assert queue_digests(session=session, now=MORNING) == 0
    assert outbox_messages(session) == []


def test_one_digest_a_day_listing_the_unread_with_their_links(session, counsellor):
    set_digest(session=session, actor=counsellor, subscribed=True)
    tell(session, counsellor, "Nouveau rendez-vous", MORNING - timedelta(hours=2))
    read = tell(session, counsellor, "Déjà lue", MORNING - timedelta(hours=1))
    read.read_at = MORNING
    assert queue_digests(session=session, now=MORNING) == 1
    assert queue_digests(session=session, now=MORNING + timedelta(hours=3)) == 0  # same day
    [message] = outbox_messages(session)
    assert message.recipient == counsellor.email
    assert message.subject == "Fil rouge : 1 notification non lue"
    assert "Rendez-vous réservé, le 7 décembre 2026 à 05 h 00 : Nouveau rendez-vous" in (
        message.body_text
    )
    assert "/agenda" in message.body_text and "/notifications" in message.body_text
    assert "Déjà lue" not in message.body_text


def test_the_next_day_lists_only_what_arrived_since(session, counsellor):
    set_digest(session=session, actor=counsellor, subscribed=True)
    tell(session, counsellor, "Hier", MORNING - timedelta(hours=2))
    queue_digests(session=session, now=MORNING)
    tomorrow = MORNING + timedelta(days=1)
    assert queue_digests(session=session, now=tomorrow) == 0  # nothing new: no e-mail
    tell(session, counsellor, "Aujourd'hui", tomorrow + timedelta(hours=1))
    assert queue_digests(session=session, now=tomorrow + timedelta(hours=2)) == 0  # served
    assert queue_digests(session=session, now=tomorrow + timedelta(days=1)) == 1
    last = outbox_messages(session)[-1]
    assert "Aujourd'hui" in last.body_text and "Hier" not in last.body_text


def test_stopping_the_digest_stops_it(session, counsellor):
    set_digest(session=session, actor=counsellor, subscribed=True)
    assert digest_subscribed(session=session, actor=counsellor)
    set_digest(session=session, actor=counsellor, subscribed=False)
    assert not digest_subscribed(session=session, actor=counsellor)
    tell(session, counsellor, "Nouveau rendez-vous", MORNING - timedelta(hours=2))
    assert queue_digests(session=session, now=MORNING) == 0


def test_the_choice_is_made_on_the_notifications_page(client, session, counsellor, csrf):
    assert 'name="daily" value="1" checked' not in client.get("/notifications").text
    done = client.post("/notifications/recapitulatif", data={"csrf_token": csrf, "daily": "1"})
    assert 'name="daily" value="1" checked' in done.text
    row = session.exec(select(NotificationDigest)).one()
    assert (row.staff_id, row.subscribed) == (counsellor.id, True)
    client.post("/notifications/recapitulatif", data={"csrf_token": csrf})
    session.refresh(row)
    assert row.subscribed is False
    refused = client.post("/notifications/recapitulatif", data={"csrf_token": "faux", "daily": "1"})
    assert refused.status_code == 403
    session.refresh(row)
    assert row.subscribed is False
