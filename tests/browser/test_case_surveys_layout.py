"""The surveys beside the case's units (issue 17, item 6): the counsellor sees each survey's
state, never the answers; the table becomes cards on a phone. axe-core at 1366 and 390 px."""

from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session, select

from app.models.base import utcnow
from app.models.cases import EpisodeEnd, EpisodeStart
from app.models.staff import StaffUser
from app.services.cases import episodes
from tests.browser.conftest import check_accessibility, sign_in
from tests.factories import make_beneficiary, make_case, unit_id

pytestmark = pytest.mark.browser


def _surveyed_case(engine, email: str) -> int:
    """A case whose level 1 ended: its survey sent, the utility survey scheduled."""
    with Session(engine, expire_on_commit=False) as session:
        counsellor = session.exec(select(StaffUser).where(StaffUser.email == email)).one()
        person = make_beneficiary(
            session, counsellor, first_name="Maëlys", last_name="Ortiz", survey_consent=True
        )
        case = make_case(session, counsellor, beneficiary=person)
        episode, _ = episodes.start_episode(
            session=session,
            actor=counsellor,
            case_id=case.id,
            data=EpisodeStart(
                unit_id=unit_id(session, "UO1"), started_at=utcnow() - timedelta(days=3)
            ),
        )
        episodes.end_episode(
            session=session, actor=counsellor, episode_id=episode.id, data=EpisodeEnd()
        )
        session.commit()
        return case.id


def test_the_surveys_of_a_case_read_well_at_1366_and_390_px(page: Page, live_server, engine):
    case_id = _surveyed_case(engine, live_server.counsellor_email)
    sign_in(page, live_server, live_server.counsellor_email)
    for size in ({"width": 1366, "height": 768}, {"width": 390, "height": 844}):
        page.set_viewport_size(size)
        page.goto(f"{live_server.url}/cases/{case_id}?section=unites")
        surveys = page.get_by_role("region", name="Enquêtes de satisfaction")
        expect(surveys).to_contain_text("Fin de niveau 1")
        expect(surveys).to_contain_text("Envoyée")
        expect(surveys).to_contain_text("Utilité à 6 mois")
        assert page.evaluate("document.documentElement.scrollWidth") <= size["width"]
        check_accessibility(page)
