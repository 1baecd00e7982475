"""A partner declines a referral: the counsellor sees the count in the header, reads the
notification, opens it onto the referral, and the count is gone. The page passes axe-core's
WCAG 2.1 A/AA check at 1366 and 390 px."""

import re

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session, select

from app.models.operators import Operator
from app.models.partners import ReferralCreate
from app.models.staff import StaffUser
from app.services.messaging.notifications import mark_all_read
from app.services.referrals.partner_side import partner_decides
from app.services.referrals.workflow import propose_referral
from tests.browser.conftest import check_accessibility
from tests.factories import make_beneficiary, make_case, make_partner

pytestmark = pytest.mark.browser


def _declined_referral(engine, email: str) -> tuple[int, int]:
    """A case of the counsellor's whose referral the partner declined: (case id, referral id).
    What other journeys on the shared server told the counsellor is read first: this one is
    then her only unread notification, whatever ran before."""
    with Session(engine, expire_on_commit=False) as session:
        counsellor = session.exec(select(StaffUser).where(StaffUser.email == email)).one()
        mark_all_read(session=session, actor=counsellor)
        operator = session.get(Operator, counsellor.operator_id)
        partner = make_partner(
            session, operator, name="Mission locale Villeurbanne", email="ml@exemple.fr"
        )
        person = make_beneficiary(session, counsellor, first_name="Anaïs", last_name="Étienne")
        case = make_case(session, counsellor, beneficiary=person)
        referral = propose_referral(
            session=session,
            actor=counsellor,
            case_id=case.id,
            data=ReferralCreate(
                partner_id=partner.id, purpose="Accompagnement CEJ", consent=True, send_now=True
            ),
        )
        session.commit()
        token = re.search(r"/partenaire/orientations/(\S+)", _last_body(session)).group(1)
        partner_decides(session=session, token=token, accept=False, reason="Public hors âge")
        session.commit()
        return case.id, referral.id


def _last_body(session) -> str:
    from app.models.outbox import OutboxMessage

    return session.exec(select(OutboxMessage).order_by(OutboxMessage.id.desc())).first().body_text


def test_the_counsellor_is_told_that_the_partner_declined(page: Page, live_server, engine):
    case_id, referral_id = _declined_referral(engine, live_server.counsellor_email)
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(f"{live_server.url}/login")
    page.get_by_label("Adresse e-mail").fill(live_server.counsellor_email)
    page.get_by_label("Mot de passe").fill(live_server.password)
    page.get_by_label("Mot de passe").press("Enter")

    nav = page.get_by_role("navigation", name="Navigation principale")
    link = nav.get_by_role("link", name=re.compile(r"^Notifications 1 non lue$"))
    expect(link).to_be_visible()
    link.click()
    expect(page.get_by_role("heading", level=1, name="Notifications")).to_be_visible()
    item = page.locator(".notification", has_text="Mission locale Villeurbanne a refusé")
    expect(item.get_by_text("Non lue", exact=True)).to_be_visible()
    expect(item.get_by_text("Anaïs ÉTIENNE", exact=True)).to_be_visible()
    check_accessibility(page)
    page.set_viewport_size({"width": 390, "height": 844})
    check_accessibility(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.set_viewport_size({"width": 1366, "height": 768})

    item.get_by_role("button", name=re.compile("^Ouvrir")).click()
    expect(page).to_have_url(
        re.compile(rf"/cases/{case_id}\?section=orientations#ref-{referral_id}$")
    )
    expect(nav.get_by_role("link", name="Notifications", exact=True)).to_be_visible()
    page.goto(f"{live_server.url}/notifications")
    expect(page.get_by_text("Non lue", exact=True)).to_have_count(0)
    expect(page.get_by_role("button", name="Tout marquer comme lu")).to_have_count(0)
