"""The counsellor's home page shows the first lines of each list, their total and a link to
all of them; the full lists page through the rest."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import event

from app.models.base import utcnow
from app.models.nomenclatures import CepSituation, Channel, RequestMotive, Role
from app.models.operators import Operator
from app.models.partners import Referral
from app.models.triage import TriageRequest
from app.routes.desk.home import HOME_ROWS, PAGE_ROWS
from tests.factories import (
    log_in,
    make_beneficiary,
    make_case,
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


def test_home_shows_the_most_recent_open_cases_their_total_and_a_link_to_all(
    logged_in, session, counsellor
):
    made = cases(session, counsellor, HOME_ROWS + 3)
    part = section(logged_in.get("/").text, "open-title")
    assert rows(part) == HOME_ROWS
    assert f'Mes dossiers ouverts <span class="muted">({HOME_ROWS + 3})</span>' in part
    assert re.search(rf'<a href="/mes-dossiers">Voir tout \({HOME_ROWS + 3}\)<span', part)
    assert f"Affichage : {HOME_ROWS} sur {HOME_ROWS + 3}." in part
    assert first_case(part) == made[-1].reference  # the latest activity first


def test_home_shows_the_longest_idle_cases_first(logged_in, session, counsellor):
    oldest, *_, newest = cases(session, counsellor, HOME_ROWS + 2, idle_days=40)
    part = section(logged_in.get("/").text, "idle-title")
    assert rows(part) == HOME_ROWS and f"({HOME_ROWS + 2})" in part
    assert first_case(part) == oldest.reference and newest.reference not in part
    assert 'href="/mes-dossiers/sans-activite"' in part


def test_home_caps_the_referrals_awaiting_an_answer_oldest_sent_first(
    logged_in, session, counsellor
):
    oldest, *_, newest = referrals(session, counsellor, HOME_ROWS + 1, status="sent")
    part = section(logged_in.get("/").text, "referrals-awaiting-title")
    assert rows(part) == HOME_ROWS and f"({HOME_ROWS + 1})" in part
    assert f"#ref-{oldest.id}" in part and f"#ref-{newest.id}" not in part
    assert f'<a href="/mes-orientations/en-attente">Voir tout ({HOME_ROWS + 1})' in part


def test_home_caps_the_referrals_to_follow_up_most_overdue_first(logged_in, session, counsellor):
    oldest, *_, newest = referrals(
        session, counsellor, HOME_ROWS + 4, status="accepted", follow_up_on=paris_today()
    )
    part = section(logged_in.get("/").text, "referrals-due-title")
    assert rows(part) == HOME_ROWS and f"({HOME_ROWS + 4})" in part
    assert f"#ref-{oldest.id}" in part and f"#ref-{newest.id}" not in part
    assert f'<a href="/mes-orientations/a-relancer">Voir tout ({HOME_ROWS + 4})' in part


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
    assert rows(part) == HOME_ROWS and f"({HOME_ROWS + 2})" in part
    assert f'<a href="/triage?mine=true">Voir tout ({HOME_ROWS + 2})' in part


def test_a_list_that_fits_has_no_see_all_link(logged_in, session, counsellor):
    cases(session, counsellor, 2)
    page = logged_in.get("/").text
    assert rows(section(page, "open-title")) == 2
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
    logged_in, session, counsellor, engine
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
    cases(session, counsellor, HOME_ROWS + 5, idle_days=40)
    assert queries() == few
