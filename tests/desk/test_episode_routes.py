"""The case page asks before a start the rules warn about, and cancels a unit started by mistake."""

import html
from datetime import timedelta

from sqlmodel import select

from app.core.config import get_settings
from app.models.base import utcnow
from app.models.cases import Episode
from tests.factories import make_episode, make_interaction, unit_id

HTMX = {"HX-Request": "true"}


def episodes_of(session, case) -> list[Episode]:
    return list(session.exec(select(Episode).where(Episode.case_id == case.id)))


def start(client, session, case, csrf, code="UO1", *, confirm=False, htmx=False):
    form = {"unit_id": unit_id(session, code), "csrf_token": csrf}
    if confirm:
        form["confirm"] = "1"
    return client.post(
        f"/cases/{case.id}/episodes",
        data=form,
        headers=HTMX if htmx else {},
        follow_redirects=False,
    )


def cancel(client, case, episode, csrf, *, htmx=False):
    return client.post(
        f"/cases/{case.id}/episodes/{episode.id}/cancel",
        data={"csrf_token": csrf},
        headers=HTMX if htmx else {},
        follow_redirects=False,
    )


# ---- asking before starting -----------------------------------------------------------------


def test_plain_post_of_a_unit_under_way_asks_first_and_starts_nothing(
    client, session, counsellor, case, csrf
):
    make_episode(session, counsellor, case, "UO1")
    answer = start(client, session, case, csrf)
    assert answer.status_code == 200 and "<html" in answer.text
    page = html.unescape(answer.text)
    assert "Avant de démarrer UO1" in page
    assert "Un épisode UO1 est déjà en cours sur ce dossier." in page
    assert '<input type="hidden" name="confirm" value="1">' in answer.text
    assert "Confirmer quand même" in page
    assert (
        f'href="/cases/{case.id}?section=unites"' in answer.text and ">Annuler</a>" in answer.text
    )
    assert len(episodes_of(session, case)) == 1


def test_htmx_post_asks_first_in_the_swapped_fragment(client, session, counsellor, case, csrf):
    answer = start(client, session, case, csrf, "UO2.2", htmx=True)
    assert answer.status_code == 200 and "<html" not in answer.text
    assert "UO2.2 sans UO2.1 préalable." in html.unescape(answer.text)
    assert "Confirmer quand même" in html.unescape(answer.text)
    # Focus goes to the question, not to the (empty) status line.
    assert 'id="start-confirmation" role="alert" tabindex="-1" autofocus' in answer.text
    assert 'id="case-status" role="status" aria-live="polite" tabindex="-1" >' in answer.text
    assert episodes_of(session, case) == []


def test_confirming_starts_the_unit(client, session, counsellor, case, csrf):
    make_episode(session, counsellor, case, "UO1")
    answer = start(client, session, case, csrf, confirm=True)
    assert answer.status_code == 303
    assert [e.unit_id for e in episodes_of(session, case)] == [unit_id(session, "UO1")] * 2


def test_confirming_with_htmx_starts_it_without_asking_again(
    client, session, counsellor, case, csrf
):
    make_episode(session, counsellor, case, "UO1")
    answer = start(client, session, case, csrf, confirm=True, htmx=True)
    assert "<html" not in answer.text and "Confirmer quand même" not in html.unescape(answer.text)
    assert len(episodes_of(session, case)) == 2


def test_a_start_without_warning_is_not_asked(client, session, case, csrf):
    answer = start(client, session, case, csrf, htmx=True)
    assert "Confirmer quand même" not in html.unescape(answer.text)
    assert len(episodes_of(session, case)) == 1


# ---- cancelling ------------------------------------------------------------------------------


def test_a_unit_started_by_mistake_is_offered_for_cancelling(
    client, session, counsellor, case, csrf
):
    make_episode(session, counsellor, case, "UO1")
    page = html.unescape(client.get(f"/cases/{case.id}").text)
    assert "Annuler ce démarrage" in page and "Annuler UO1" in page


def test_plain_post_cancels_and_the_history_keeps_it(client, session, counsellor, case, csrf):
    episode = make_episode(session, counsellor, case, "UO1")
    answer = cancel(client, case, episode, csrf)
    assert answer.status_code == 303
    session.refresh(episode)
    assert episode.cancelled_by_id == counsellor.id
    page = html.unescape(client.get(f"/cases/{case.id}").text)
    assert "Aucune unité en cours" in page
    assert "Annulation UO1" in page and "Annulée" in page
    assert f"· {counsellor.full_name}" in page.split("Annulation UO1")[0].rsplit("<li", 1)[1]
    assert "Annuler ce démarrage" not in page  # nothing more to cancel


def test_htmx_cancel_returns_the_case_body(client, session, counsellor, case, csrf):
    episode = make_episode(session, counsellor, case, "UO1")
    answer = cancel(client, case, episode, csrf, htmx=True)
    assert "<html" not in answer.text and "Annulation UO1" in html.unescape(answer.text)


def test_cancelling_with_an_interview_attached_is_refused_in_french(
    client, session, counsellor, case, csrf
):
    episode = make_episode(session, counsellor, case, "UO1")
    make_interaction(session, counsellor, case, episode_id=episode.id)
    answer = cancel(client, case, episode, csrf, htmx=True)
    assert answer.status_code == 200
    assert (
        "1 entretien est rattaché à cette unité : elle ne peut pas être annulée."
        in html.unescape(answer.text)
    )
    session.refresh(episode)
    assert episode.cancelled_at is None


def test_after_the_window_cancelling_is_neither_offered_nor_accepted(
    client, session, counsellor, case, csrf
):
    episode = make_episode(session, counsellor, case, "UO1")
    episode.started_at = utcnow() - timedelta(days=get_settings().episode_cancel_days + 1)
    session.add(episode)
    session.flush()
    assert "Annuler ce démarrage" not in client.get(f"/cases/{case.id}").text
    answer = cancel(client, case, episode, csrf, htmx=True)
    assert "elle ne peut plus être annulée" in html.unescape(answer.text)
    session.refresh(episode)
    assert episode.cancelled_at is None


def test_cancelling_without_the_csrf_token_is_refused(client, session, counsellor, case, csrf):
    episode = make_episode(session, counsellor, case, "UO1")
    answer = cancel(client, case, episode, "")
    assert answer.status_code == 403
    session.refresh(episode)
    assert episode.cancelled_at is None


def test_the_api_cancels_and_lists_the_cancelled_episode(api, session, counsellor, case):
    episode = make_episode(session, counsellor, case, "UO1")
    answer = api.post(f"/api/v1/episodes/{episode.id}/cancel")
    assert answer.status_code == 200 and answer.json()["cancelled_at"]
    listed = api.get(f"/api/v1/cases/{case.id}/episodes").json()
    assert [e["cancelled_at"] is not None for e in listed] == [True]
    again = api.post(f"/api/v1/episodes/{episode.id}/cancel")
    assert again.status_code == 409
