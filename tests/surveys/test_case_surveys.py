"""What the case page shows of the surveys (issue 17, item 6): which were sent, reminded,
answered or not — never the answers; the counsellor and the manager see the same."""

import html
import re
from datetime import timedelta

import pytest
from sqlmodel import select

from app.models.beneficiaries import Beneficiary
from app.models.surveys import SurveyInvitation, SurveyResponse
from app.services.surveys.invitations import send_due_surveys
from tests.conftest import NOW
from tests.factories import log_in, make_beneficiary, make_case
from tests.surveys.test_sending import end, started

pytestmark = pytest.mark.usefixtures("clock")

COMMENT = "Ma conseillère m'a beaucoup aidée, merci à Jeanne"


def read(page_html: str) -> str:
    """The page's words as read, tags left out and spaces collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page_html)).split())


def units_section(client, session, user, case) -> str:
    log_in(client, session, user)
    page = client.get(f"/cases/{case.id}?section=unites")
    assert page.status_code == 200
    return page.text


def answered_case(session, counsellor):
    """A case whose level-1 survey was sent, reminded and answered, with a comment."""
    person = make_beneficiary(session, counsellor, survey_consent=True)
    case = make_case(session, counsellor, person)
    end(session, counsellor, started(session, counsellor, case, "UO1"))
    invitation = session.exec(
        select(SurveyInvitation).where(
            SurveyInvitation.case_id == case.id, SurveyInvitation.kind == "fin_niveau_1"
        )
    ).one()
    send_due_surveys(session=session, now=invitation.sent_at + timedelta(days=7))
    session.add(
        SurveyResponse(
            operator_id=case.operator_id,
            invitation_id=invitation.id,
            questionnaire_id=invitation.questionnaire_id,
            answers={"satisfaction": "pas_du_tout_satisfait", "commentaire": COMMENT},
            comment=COMMENT,
            satisfied=False,
            submitted_at=NOW + timedelta(days=8),
        )
    )
    invitation.status, invitation.answered_at = "repondue", NOW + timedelta(days=8)
    invitation.link_nonce = None
    session.add(invitation)
    session.flush()
    return case


@pytest.mark.parametrize("who", ["counsellor", "manager"])
def test_the_units_show_the_surveys_state_never_the_answers(
    client, session, counsellor, manager, who
):
    case = answered_case(session, counsellor)
    text = units_section(client, session, {"counsellor": counsellor, "manager": manager}[who], case)
    shown = read(text)
    assert "Enquêtes de satisfaction" in shown
    assert (
        "Fin de niveau 1 UO1 Répondue 2 décembre 2026 le 9 décembre 2026 Reçue le 10 décembre 2026"
        in shown
    )
    assert "Utilité à 6 mois UO1 Programmée pour le 2 juin 2027" in shown
    for answer in (COMMENT, "Jeanne", "satisf", "Pas du tout"):
        assert answer not in text.replace("Enquêtes de satisfaction", "")


def test_a_person_who_did_not_agree_is_said_not_to_be_asked(client, session, counsellor):
    case = make_case(session, counsellor)
    end(session, counsellor, started(session, counsellor, case, "UO1"))
    shown = read(units_section(client, session, counsellor, case))
    assert "n'a pas accepté d'être recontactée" in shown
    assert "Aucune enquête pour l'instant" in shown


def test_a_person_with_a_landline_only_shows_as_not_contactable(client, session, counsellor):
    person = make_beneficiary(
        session, counsellor, email=None, phone="04 72 00 00 00", survey_consent=True
    )
    case = make_case(session, counsellor, person)
    end(session, counsellor, started(session, counsellor, case, "UO1"))
    shown = read(units_section(client, session, counsellor, case))
    assert "Ni adresse e-mail ni numéro de mobile" in shown
    assert "Fin de niveau 1 UO1 Non contactable — — —" in shown


def test_an_opt_out_is_shown_on_the_case(client, session, counsellor):
    case = answered_case(session, counsellor)
    person = session.get(Beneficiary, case.beneficiary_id)
    person.survey_consent_at, person.survey_opt_out_at = None, NOW + timedelta(days=9)
    session.add(person)
    session.flush()
    shown = read(units_section(client, session, counsellor, case))
    assert "désinscrite des enquêtes le 11 décembre 2026" in shown
