"""The case page in sections: the open section, the history's filter and page in the address;
each action answers where it was done, with a link to the entry it added."""

import gc
import html
import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event
from sqlmodel import select

from app.models.base import utcnow
from app.models.cases import Interaction
from app.services.desk.case_page import TIMELINE_PAGE_SIZE
from tests.factories import log_in, make_episode, make_interaction, make_staff, unit_id

HTMX = {"HX-Request": "true"}
AUTOFOCUS = re.compile(r"\sautofocus[\s>]")


def text_of(response) -> str:
    return html.unescape(response.text)


def current_tab(page: str) -> str:
    return re.search(r'<a id="onglet-([a-z-]+)"[^>]*aria-current="page"', page).group(1)


def entries(page: str) -> list[str]:
    return re.findall(r'<li id="(historique-[a-z]+-\d+)" class="timeline-item', page)


def interviews(session, counsellor, case, count: int, *, hours_ago: int = 1) -> None:
    for n in range(count):
        make_interaction(
            session,
            counsellor,
            case,
            occurred_at=utcnow() - timedelta(hours=hours_ago + n),
            summary=f"Entretien n° {n + 1}",
        )


# ---- sections ------------------------------------------------------------------------------


def test_the_default_view_is_the_history_with_the_interview_form_just_above(client, case, csrf):
    page = text_of(client.get(f"/cases/{case.id}"))
    assert current_tab(page) == "historique"
    history = page.split('id="historique"', 1)[1]
    assert history.index("Enregistrer un entretien") < history.index("Rien d'enregistré")
    assert "Démarrer une unité d'œuvre" not in page and "Clore le dossier" not in page


@pytest.mark.parametrize(
    ("section", "shows"),
    [
        ("unites", "Démarrer une unité d'œuvre"),
        ("orientations", "Orientations vers des partenaires"),
        ("documents", "Plan d'action"),
        ("pieces-jointes", "Ajouter la pièce jointe"),
        ("rendez-vous", "Aucun rendez-vous pour ce dossier."),
        ("dossier", "Changer de référent·e"),
    ],
)
def test_a_section_opens_from_the_address_and_only_it(client, case, csrf, section, shows):
    page = text_of(client.get(f"/cases/{case.id}", params={"section": section}))
    assert current_tab(page) == section and shows in page
    assert "Enregistrer un entretien" not in page  # the history is not rendered as well


def test_the_htmx_tab_is_the_same_as_the_page_part(client, case, csrf):
    url = f"/cases/{case.id}?section=unites"
    fragment = client.get(url, headers=HTMX).text.strip()
    assert "<html" not in fragment and fragment in client.get(url).text


def test_the_header_links_each_fact_to_its_section(client, session, counsellor, case, csrf):
    make_episode(session, counsellor, case, "UO1")
    page = text_of(client.get(f"/cases/{case.id}"))
    header = page.split('<header class="case-header">', 1)[1].split("</header>", 1)[0]
    for section in ("dossier", "unites", "rendez-vous", "documents"):
        assert f'href="/cases/{case.id}?section={section}"' in header
    assert "UO1" in header and "Aucun" in header  # no appointment yet


@pytest.mark.parametrize(
    "query",
    ["section=nimporte", "filtre=tout-sauf", "section=&filtre=&page=1", "section=HISTORIQUE"],
)
def test_unknown_codes_open_the_default_view(client, case, csrf, query):
    response = client.get(f"/cases/{case.id}?{query}")
    assert response.status_code == 200
    page = text_of(response)
    assert current_tab(page) == "historique"
    assert re.search(r'id="filtre-tout"[^>]*aria-current="true"', page)


@pytest.mark.parametrize(
    "query", ["page=abc", "page=0", "page=-3", "page=1e9", "section=" + "x" * 41]
)
def test_a_bad_page_or_an_overlong_code_gets_a_french_422(client, case, csrf, query):
    response = client.get(f"/cases/{case.id}?{query}")
    assert response.status_code == 422
    assert "Adresse ou formulaire invalide." in text_of(response)


def test_another_operators_case_is_not_found_in_any_section(client, session, bre, case):
    log_in(client, session, make_staff(session, bre))
    for query in ("", "?section=documents", "?section=dossier", "?filtre=entretiens&page=2"):
        assert client.get(f"/cases/{case.id}{query}").status_code == 404


# ---- the history: filter and pages ------------------------------------------------------------


def test_the_history_shows_twenty_entries_a_page_newest_first(
    client, session, counsellor, case, csrf
):
    interviews(session, counsellor, case, TIMELINE_PAGE_SIZE + 5)
    first = text_of(client.get(f"/cases/{case.id}"))
    assert len(entries(first)) == TIMELINE_PAGE_SIZE
    assert "Entretien n° 1" in first and f"Entretien n° {TIMELINE_PAGE_SIZE + 1}" not in first
    assert "Page 1 sur 2" in first and "Plus anciens" in first and "Plus récents" not in first
    assert f'href="/cases/{case.id}?page=2"' in first

    second = text_of(client.get(f"/cases/{case.id}?page=2"))
    assert len(entries(second)) == 5 and f"Entretien n° {TIMELINE_PAGE_SIZE + 5}" in second
    assert "Page 2 sur 2" in second and "Plus récents" in second and "Plus anciens" not in second


def test_a_page_past_the_last_shows_the_last(client, session, counsellor, case, csrf):
    interviews(session, counsellor, case, TIMELINE_PAGE_SIZE + 1)
    page = text_of(client.get(f"/cases/{case.id}?page=99"))
    assert len(entries(page)) == 1 and "Page 2 sur 2" in page


def test_the_filter_keeps_only_its_kind_and_the_address_keeps_it(
    client, session, counsellor, case, csrf
):
    episode = make_episode(session, counsellor, case, "UO1")
    interviews(session, counsellor, case, 2)
    interviews_only = text_of(client.get(f"/cases/{case.id}?filtre=entretiens"))
    assert len(entries(interviews_only)) == 2 and "Début UO1" not in interviews_only
    assert re.search(r'id="filtre-entretiens"[^>]*aria-current="true"', interviews_only)
    units_only = text_of(client.get(f"/cases/{case.id}?filtre=unites"))
    assert entries(units_only) == [f"historique-debut-{episode.id}"]
    nothing = text_of(client.get(f"/cases/{case.id}?filtre=orientations"))
    assert entries(nothing) == [] and "Rien de ce type dans l'historique." in nothing


def test_the_history_costs_the_same_queries_however_long(
    client, session, counsellor, case, csrf, engine
):
    statements = []

    def count(_conn, _cursor, statement, *_args):
        # Reads only: the savepoints around the test's own writes come and go with the factories.
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    def queries() -> int:
        # The session's identity map holds rows weakly, and rows in reference cycles go at the
        # collector's next pass: collected now, every request starts from the same rows.
        gc.collect()
        statements.clear()
        event.listen(engine, "before_cursor_execute", count)
        try:
            assert client.get(f"/cases/{case.id}").status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return len(statements)

    make_episode(session, counsellor, case, "UO1")
    interviews(session, counsellor, case, 1)
    queries()  # the rows every request reads once are then in the test's shared session
    few = queries()
    make_episode(session, counsellor, case, "UO2.1")
    interviews(session, counsellor, case, TIMELINE_PAGE_SIZE * 2)
    assert queries() == few
    # The page used to read every section (29 reads on the demo case, 19 now): the history alone.
    assert few <= 20, few


# ---- every action answers where it was done ---------------------------------------------------


def record(client, case, csrf, *, occurred_at="", htmx=True):
    form = {"duration_minutes": "45", "channel": "visio", "summary": "Point d'étape"}
    form |= {"occurred_at": occurred_at, "csrf_token": csrf}
    headers = HTMX if htmx else {}
    return client.post(
        f"/cases/{case.id}/interactions", data=form, headers=headers, follow_redirects=False
    )


def assert_one_autofocus_on_the_confirmation(text: str, message: str) -> str:
    assert len(AUTOFOCUS.findall(text)) == 1
    confirmation = re.search(r'<p class="alert success done"[^>]*autofocus>(.*?)</p>', text, re.S)
    assert confirmation and message in html.unescape(confirmation.group(1))
    return confirmation.group(1)


def test_an_interview_answers_above_the_history_with_a_link_to_its_entry(
    client, session, case, csrf
):
    answer = record(client, case, csrf, occurred_at=_local_now(-1))
    interaction = session.exec(select(Interaction)).one()
    said = assert_one_autofocus_on_the_confirmation(answer.text, "Entretien enregistré.")
    anchor = f"historique-entretien-{interaction.id}"
    assert f'href="#{anchor}"' in said and "Voir dans l'historique" in html.unescape(said)
    assert entries(answer.text)[0] == anchor  # at the top of the history, in view
    assert answer.text.index("Entretien enregistré.") < answer.text.index(f'id="{anchor}"')


def test_a_backdated_interview_links_to_the_page_that_holds_it(
    client, session, counsellor, case, csrf
):
    interviews(session, counsellor, case, TIMELINE_PAGE_SIZE)
    answer = record(client, case, csrf, occurred_at="2026-01-05T10:00")
    interaction = session.exec(select(Interaction).where(Interaction.summary == "Point d'étape"))
    anchor = f"historique-entretien-{interaction.one().id}"
    said = assert_one_autofocus_on_the_confirmation(answer.text, "Entretien enregistré.")
    assert f'href="/cases/{case.id}?page=2#{anchor}"' in said


def test_a_plain_post_of_an_interview_lands_on_its_entry(client, session, case, csrf):
    answer = record(client, case, csrf, occurred_at=_local_now(-1), htmx=False)
    interaction = session.exec(select(Interaction)).one()
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/cases/{case.id}#historique-entretien-{interaction.id}"


def test_an_invalid_interview_focuses_the_errors_not_a_confirmation(client, case, csrf):
    answer = record(client, case, csrf, occurred_at="")
    assert "Ce champ est obligatoire" in text_of(answer)
    assert "alert success done" not in answer.text and len(AUTOFOCUS.findall(answer.text)) == 1


def test_starting_a_unit_answers_in_the_units_section(client, session, case, csrf):
    answer = client.post(
        f"/cases/{case.id}/episodes",
        data={"unit_id": unit_id(session, "UO1"), "csrf_token": csrf},
        headers=HTMX,
    )
    assert current_tab(answer.text) == "unites"
    said = assert_one_autofocus_on_the_confirmation(answer.text, "UO1 démarrée.")
    assert re.search(rf'href="/cases/{case.id}#historique-debut-\d+"', said)


def test_the_question_before_a_start_is_the_only_focus(client, session, counsellor, case, csrf):
    make_episode(session, counsellor, case, "UO1")
    answer = client.post(
        f"/cases/{case.id}/episodes",
        data={"unit_id": unit_id(session, "UO1"), "csrf_token": csrf},
        headers=HTMX,
    )
    assert "Confirmer quand même" in text_of(answer) and "alert success done" not in answer.text
    assert len(AUTOFOCUS.findall(answer.text)) == 1


def test_ending_a_unit_answers_in_the_units_section(client, session, counsellor, case, csrf):
    episode = make_episode(session, counsellor, case, "UO1")
    answer = client.post(
        f"/cases/{case.id}/episodes/{episode.id}/end",
        data={"outcome": "Projet posé", "csrf_token": csrf},
        headers=HTMX,
    )
    said = assert_one_autofocus_on_the_confirmation(answer.text, "UO1 terminée.")
    assert f'href="/cases/{case.id}#historique-fin-{episode.id}"' in said


def test_a_plain_post_ending_a_unit_goes_back_to_the_units(client, session, counsellor, case, csrf):
    episode = make_episode(session, counsellor, case, "UO1")
    answer = client.post(
        f"/cases/{case.id}/episodes/{episode.id}/end",
        data={"outcome": "", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert answer.headers["location"] == f"/cases/{case.id}?section=unites"


def test_cancelling_a_start_answers_above_the_history(client, session, counsellor, case, csrf):
    episode = make_episode(session, counsellor, case, "UO1")
    answer = client.post(
        f"/cases/{case.id}/episodes/{episode.id}/cancel", data={"csrf_token": csrf}, headers=HTMX
    )
    said = assert_one_autofocus_on_the_confirmation(answer.text, "Démarrage de UO1 annulé")
    anchor = f"historique-annulation-{episode.id}"
    assert f'href="#{anchor}"' in said and entries(answer.text)[0] == anchor


def test_the_referent_change_answers_in_the_case_section(client, session, ara, case, csrf):
    colleague = make_staff(session, ara, full_name="Gaëlle Le Gall")
    answer = client.post(
        f"/cases/{case.id}/referent",
        data={"referent_id": colleague.id, "csrf_token": csrf},
        headers=HTMX,
    )
    assert current_tab(answer.text) == "dossier"
    assert_one_autofocus_on_the_confirmation(answer.text, "Dossier confié à Gaëlle Le Gall.")


def test_closing_then_reopening_from_the_history_answer_each_time(client, case, csrf):
    closed = client.post(
        f"/cases/{case.id}/close", data={"reason": "termine", "csrf_token": csrf}, headers=HTMX
    )
    assert_one_autofocus_on_the_confirmation(closed.text, "Dossier clos.")
    history = text_of(client.get(f"/cases/{case.id}"))
    assert "Rouvrir le dossier" in history and 'name="section" value="historique"' in history
    reopened = client.post(
        f"/cases/{case.id}/reopen",
        data={"section": "historique", "csrf_token": csrf},
        headers=HTMX,
    )
    assert current_tab(reopened.text) == "historique"
    assert_one_autofocus_on_the_confirmation(reopened.text, "Dossier rouvert.")
    assert "Enregistrer un entretien" in text_of(reopened)


def _local_now(hours: int) -> str:
    """A moment `hours` from now, as the form's datetime-local field writes it (Paris)."""
    moment = utcnow().astimezone(ZoneInfo("Europe/Paris")) + timedelta(hours=hours)
    return moment.strftime("%Y-%m-%dT%H:%M")
