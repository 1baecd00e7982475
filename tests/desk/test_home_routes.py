"""The counsellor's home page shows the first lines of each list of today's work, their total
and a link to all of them, and links to the other lists; the full lists page through the rest."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import event

from app.models.base import utcnow
from app.models.beneficiaries import Beneficiary
from app.models.nomenclatures import CepSituation, Channel, RequestMotive, Role
from app.models.operators import Operator
from app.models.partners import Referral
from app.models.triage import TriageRequest
from app.routes.desk.home import HOME_ROWS, PAGE_ROWS
from tests.factories import (
    log_in,
    make_appointment,
    make_beneficiary,
    make_case,
    make_episode,
    make_partner,
    make_staff,
    paris_today,
)


@pytest.fixture
def logged_in(client, session, counsellor):
    log_in(client, session, counsellor)
    return client


def cases(session, counsellor, count: int, *, idle_days: int = 0) -> list:
    """`count` open cases; with `idle_days`, the first one the longest without activity."""
    made = []
    for n in range(count):
        case = make_case(session, counsellor)
        if idle_days:
            case.last_activity_at = utcnow() - timedelta(days=idle_days + count - n)
            session.add(case)
        made.append(case)
    session.flush()
    return made


def referrals(session, counsellor, count: int, **values) -> list[Referral]:
    """One referral to a partner for each of `count` new cases, oldest first."""
    partner = make_partner(session, session.get(Operator, counsellor.operator_id))
    made = []
    for n, case in enumerate(cases(session, counsellor, count)):
        referral = Referral(
            operator_id=counsellor.operator_id,
            case_id=case.id,
            partner_id=partner.id,
            purpose="Bilan de compétences",
            consent_at=utcnow(),
            sent_at=utcnow() - timedelta(days=count - n),
            **values,
        )
        if "follow_up_on" in values:
            referral.follow_up_on = paris_today() - timedelta(days=count - n)
        session.add(referral)
        made.append(referral)
    session.flush()
    return made


def section(page: str, title_id: str) -> str:
    start = page.index(f'aria-labelledby="{title_id}"')
    return page[start : page.index("</section>", start)]


def first_case(html: str) -> str:
    return re.search(r'<a href="/cases/\d+">([^<]+)</a>', html).group(1)


def rows(html: str) -> int:
    return html.count("<tr>") - html.count("<thead>")


def lines(html: str) -> int:
    return html.count("<li>")


def shortcuts(page: str) -> str:
    start = page.index('aria-label="Mes autres listes"')
    return page[start : page.index("</nav>", start)]


def test_home_links_to_my_other_lists_with_their_counts(logged_in, session, counsellor):
    cases(session, counsellor, 3)
    cases(session, counsellor, 2, idle_days=40)
    referrals(session, counsellor, 4, status="sent")
    part = shortcuts(logged_in.get("/").text)
    assert '<a href="/mes-dossiers">Mes dossiers ouverts (9)</a>' in part  # 4 for the referrals
    assert '<a href="/mes-dossiers/sans-activite">Sans activité depuis 30 jours ou plus (2)' in part
    assert '<a href="/mes-orientations/en-attente">Orientations en attente de réponse (4)' in part


def test_my_open_cases_come_latest_activity_first(logged_in, session, counsellor):
    made = cases(session, counsellor, 3)
    assert first_case(logged_in.get("/mes-dossiers").text) == made[-1].reference


def test_my_idle_cases_come_longest_idle_first(logged_in, session, counsellor):
    oldest, *_ = cases(session, counsellor, 3, idle_days=40)
    assert first_case(logged_in.get("/mes-dossiers/sans-activite").text) == oldest.reference


def test_referrals_awaiting_an_answer_come_oldest_sent_first(logged_in, session, counsellor):
    oldest, *_, newest = referrals(session, counsellor, 3, status="sent")
    page = logged_in.get("/mes-orientations/en-attente").text
    assert page.index(f"#ref-{oldest.id}") < page.index(f"#ref-{newest.id}")


def test_home_shows_todays_appointments_still_to_come_next_first(
    logged_in, session, counsellor, clock
):
    over = make_appointment(session, starts_at=clock - timedelta(hours=2), counsellor=counsellor)
    later = make_appointment(session, starts_at=clock + timedelta(hours=4), counsellor=counsellor)
    soon = make_appointment(session, starts_at=clock + timedelta(hours=1), counsellor=counsellor)
    make_appointment(
        session, starts_at=clock + timedelta(hours=6), counsellor=counsellor, status="cancelled"
    )
    make_appointment(session, starts_at=clock + timedelta(days=1), counsellor=counsellor)
    part = section(logged_in.get("/").text, "appointments-title")
    assert "Mes rendez-vous à venir aujourd'hui" in part and "(2)" in part
    names = [session.get(Beneficiary, a.beneficiary_id).full_name for a in (soon, later, over)]
    assert names[2] not in part
    assert part.index(names[0]) < part.index(names[1])
    assert "11 h 00 – " in part  # 9:00 UTC, 10:00 in Paris, plus an hour


def test_home_without_appointment_left_today_says_so(logged_in):
    part = section(logged_in.get("/").text, "appointments-title")
    assert "Plus aucun rendez-vous aujourd'hui." in part and "Voir tout" not in part


def test_home_caps_the_missing_proofs_ended_episodes_first(logged_in, session, counsellor):
    running = make_episode(session, counsellor, make_case(session, counsellor))
    ended = []
    for n in range(HOME_ROWS):
        episode = make_episode(session, counsellor, make_case(session, counsellor))
        episode.started_at = utcnow() - timedelta(days=30)
        episode.ended_at = utcnow() - timedelta(days=HOME_ROWS - n)
        session.add(episode)
        ended.append(episode)
    session.flush()
    part = section(logged_in.get("/").text, "proofs-title")
    assert part.count("<li>") == HOME_ROWS and f"({HOME_ROWS + 1})" in part
    assert f"/cases/{ended[0].case_id}?section=documents#livrables" in part
    assert (
        f"/cases/{running.case_id}?section=documents#livrables" not in part
    )  # still running: less urgent
    assert f'<a class="see-all" href="/preuves-manquantes">Voir tout ({HOME_ROWS + 1})' in part


def test_home_caps_the_referrals_to_follow_up_most_overdue_first(logged_in, session, counsellor):
    oldest, *_, newest = referrals(
        session, counsellor, HOME_ROWS + 4, status="accepted", follow_up_on=paris_today()
    )
    part = section(logged_in.get("/").text, "referrals-due-title")
    assert lines(part) == HOME_ROWS and f"({HOME_ROWS + 4})" in part
    assert f"#ref-{oldest.id}" in part and f"#ref-{newest.id}" not in part
    assert f'href="/mes-orientations/a-relancer">Voir tout ({HOME_ROWS + 4})' in part


def test_home_caps_the_triage_queue_and_links_to_the_queue_page(logged_in, session, counsellor):
    for _ in range(HOME_ROWS + 2):
        person = make_beneficiary(session, counsellor)
        session.add(
            TriageRequest(
                operator_id=counsellor.operator_id,
                beneficiary_id=person.id,
                channel=Channel.PHONE,
                motive=RequestMotive.RETRAIN,
                cep_situation=CepSituation.PRIVATE_WORKER,
            )
        )
    session.flush()
    part = section(logged_in.get("/").text, "triage-title")
    assert lines(part) == HOME_ROWS and f"({HOME_ROWS + 2})" in part
    assert f'href="/triage?mine=true">Voir tout ({HOME_ROWS + 2})' in part


def test_a_list_that_fits_has_no_see_all_link(logged_in, session, counsellor):
    referrals(session, counsellor, 2, status="accepted", follow_up_on=paris_today())
    page = logged_in.get("/").text
    assert lines(section(page, "referrals-due-title")) == 2
    assert "Voir tout" not in page


def test_the_full_list_of_open_cases_pages_through_them(logged_in, session, counsellor):
    made = cases(session, counsellor, PAGE_ROWS + 5)
    first = logged_in.get("/mes-dossiers").text
    assert rows(first) == PAGE_ROWS and f"({PAGE_ROWS + 5})" in first
    assert "Page 1 sur 2" in first and 'href="/mes-dossiers?page=2" rel="next"' in first
    second = logged_in.get("/mes-dossiers?page=2").text
    assert rows(second) == 5 and made[0].reference in second
    assert 'href="/mes-dossiers?page=1" rel="prev">Page précédente' in second


@pytest.mark.parametrize(
    ("url", "empty"),
    [
        ("/mes-dossiers/sans-activite", "Aucun dossier en sommeil."),
        ("/mes-orientations/en-attente", "Aucune orientation en attente de réponse."),
        ("/mes-orientations/a-relancer", "Aucune orientation à relancer aujourd&#39;hui."),
    ],
)
def test_an_empty_full_list_says_so(logged_in, url, empty):
    page = logged_in.get(url)
    assert page.status_code == 200 and empty in page.text and "Pagination" not in page.text


def test_full_lists_stay_closed_to_roles_without_cases(client, session):
    log_in(client, session, make_staff(session, None, role=Role.SYSADMIN))
    assert client.get("/mes-dossiers").status_code == 403


def test_the_home_page_costs_the_same_queries_however_long_the_lists(
    logged_in, session, counsellor, engine, clock
):
    statements = []

    def count(*_args):
        statements.append(1)

    def queries() -> int:
        statements.clear()
        event.listen(engine, "before_cursor_execute", count)
        try:
            assert logged_in.get("/").status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return len(statements)

    referrals(session, counsellor, 1, status="sent")
    few = queries()
    referrals(session, counsellor, HOME_ROWS + 5, status="sent")
    referrals(session, counsellor, HOME_ROWS + 5, status="accepted", follow_up_on=paris_today())
    cases(session, counsellor, HOME_ROWS + 5, idle_days=40)
    for n, case in enumerate(cases(session, counsellor, HOME_ROWS + 1)):
        make_episode(session, counsellor, case)
        make_appointment(
            session,
            starts_at=clock + timedelta(minutes=30 + 90 * n),
            counsellor=counsellor,
            case_id=case.id,
        )
    assert queries() == few
