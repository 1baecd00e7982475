"""« Notifications »: the header's unread count, the page, opening one (marked read, then
led to its page), « Tout marquer comme lu », CSRF, and nobody opens another's."""

import re

import pytest

from app.models.nomenclatures import Role
from app.models.notifications import NotificationKind
from app.services.messaging.notifications import notify
from tests.factories import log_in, make_staff


def tell(session, user, text="Le partenaire a répondu.", **overrides):
    values = {
        "session": session,
        "operator_id": user.operator_id,
        "recipient_id": user.id,
        "kind": NotificationKind.REFERRAL_ANSWERED,
        "text": text,
        "link": "/partenaires",
    }
    return notify(**{**values, **overrides})


def header_count(page_text: str) -> str | None:
    found = re.search(r'href="/notifications"[^>]*>Notifications(.*?)</a>', page_text, re.S)
    assert found, "the header links to « Notifications »"
    badge = re.search(
        r'class="badge warning">(\d+)<span class="visually-hidden"> (non lues?)', found.group(1)
    )
    return f"{badge.group(1)} {badge.group(2)}" if badge else None


def test_the_header_counts_the_unread(client, session, counsellor, csrf):
    assert header_count(client.get("/").text) is None
    tell(session, counsellor)
    assert header_count(client.get("/").text) == "1 non lue"
    tell(session, counsellor)
    assert header_count(client.get("/partenaires").text) == "2 non lues"


def test_staff_who_see_no_cases_have_no_notifications_link(client, session, ara):
    log_in(client, session, make_staff(session, None, Role.NATIONAL_OBSERVER))
    assert 'href="/notifications"' not in client.get("/rapports/national").text


def test_the_page_lists_newest_first_and_opening_one_marks_it_read(
    client, session, counsellor, case, csrf
):
    old = tell(session, counsellor, "Ancienne nouvelle", case_id=case.id, link=f"/cases/{case.id}")
    new = tell(session, counsellor, "Dernière nouvelle")
    new.created_at = old.created_at.replace(year=old.created_at.year + 1)
    session.add(new)
    page = client.get("/notifications").text
    assert page.index("Dernière nouvelle") < page.index("Ancienne nouvelle")
    assert page.count("Non lue") == 2 and "Tout marquer comme lu" in page
    opened = client.post(
        f"/notifications/{old.id}/ouvrir", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert opened.status_code == 303 and opened.headers["location"] == f"/cases/{case.id}"
    session.refresh(old)
    assert old.read_at is not None
    assert header_count(client.get("/notifications").text) == "1 non lue"


def test_mark_all_read_clears_the_count(client, session, counsellor, csrf):
    tell(session, counsellor)
    tell(session, counsellor)
    done = client.post("/notifications/tout-lu", data={"csrf_token": csrf})
    assert done.status_code == 200 and str(done.url).endswith("/notifications")
    assert header_count(done.text) is None
    assert "Non lue" not in done.text and "Tout marquer comme lu" not in done.text


@pytest.mark.parametrize("path", ["/notifications/tout-lu", "/notifications/{id}/ouvrir"])
def test_without_the_csrf_token_nothing_is_marked(client, session, counsellor, csrf, path):
    told = tell(session, counsellor)
    response = client.post(path.format(id=told.id), data={"csrf_token": "faux"})
    assert response.status_code == 403
    session.refresh(told)
    assert told.read_at is None


def test_a_colleague_cannot_open_my_notification(client, session, counsellor, ara):
    told = tell(session, counsellor)
    csrf = log_in(client, session, make_staff(session, ara))
    response = client.post(f"/notifications/{told.id}/ouvrir", data={"csrf_token": csrf})
    assert response.status_code == 404
    session.refresh(told)
    assert told.read_at is None


def test_an_empty_list_says_so(client, csrf):
    page = client.get("/notifications")
    assert page.status_code == 200 and "Aucune notification pour le moment." in page.text
