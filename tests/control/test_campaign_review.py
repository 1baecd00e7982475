"""The review of an official campaign (issue 19, items 3 to 5): the controller judges each
sampled unit once the operator submitted (or the deadline passed), the operator answers a
non-conform finding once, the controller closes; the ledger then shows the réfaction, and each
step is in the history."""

import csv
import io
import json
import zipfile
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlmodel import select

from app.core.errors import Conflict, Forbidden, NotFound
from app.models.base import utcnow
from app.models.cases import Case, Episode
from app.models.control import (
    CampaignEventKind,
    CampaignPhase,
    ControlCampaign,
    ControlCampaignEvent,
    FindingAnswer,
    OfficialCampaignCreate,
    UnitReview,
)
from app.models.nomenclatures import Role
from app.services.control.campaigns import drawn_ids
from app.services.control.official import open_official_campaign
from app.services.control.review import answer_finding, close_campaign, review_summary, review_unit
from app.services.control.submission import submit_campaign
from app.services.reports.ledger import ledger_cases, unit_ledger
from tests.factories import (
    bearer,
    ended_unit,
    log_in,
    make_case,
    make_lot,
    make_operator,
    make_staff,
    read,
    unit_id,
)

FORM = {"du": "2026-11-01", "au": "2026-11-30", "sample_size": "3", "public_value": "7 12 25"}
NOVEMBER = (date(2026, 11, 1), date(2026, 11, 30))
CONFORM = UnitReview(verdict="conform")
MISSING = UnitReview(verdict="non_conform", reason="missing_proof", comment="Aucune synthèse")


@pytest.fixture
def controller(session):
    return make_staff(session, None, Role.CONTROLLER)


@pytest.fixture
def units(session, ara, counsellor):
    """Four UO0 units at 120,50 € in ARA's lot (UO0 needs no proof: all billable)."""
    make_lot(session, ara, UO0="120.50")
    return [ended_unit(session, make_case(session, counsellor), "UO0") for _ in range(4)]


def open_on(session, controller, operator) -> ControlCampaign:
    request = OfficialCampaignCreate.model_validate({**FORM, "operator_id": operator.id})
    return open_official_campaign(session=session, actor=controller, request=request)


@pytest.fixture
def campaign(session, controller, ara, manager, units) -> ControlCampaign:
    """Opened on ARA, three units drawn of four, submitted by ARA's manager."""
    opened = open_on(session, controller, ara)
    return submit_campaign(session=session, actor=manager, campaign_id=opened.id)


def review(session, controller, campaign, episode_id, verdict=CONFORM):
    return review_unit(
        session=session,
        actor=controller,
        campaign_id=campaign.id,
        episode_id=episode_id,
        review=verdict,
    )


def answer(session, actor, campaign, episode_id, text="La synthèse a été remise le 9."):
    return answer_finding(
        session=session,
        actor=actor,
        campaign_id=campaign.id,
        episode_id=episode_id,
        answer=FindingAnswer(answer=text),
    )


def close(session, controller, campaign):
    return close_campaign(session=session, actor=controller, campaign_id=campaign.id)


def events(session, campaign, kind: CampaignEventKind) -> list[ControlCampaignEvent]:
    statement = select(ControlCampaignEvent).where(
        ControlCampaignEvent.campaign_id == campaign.id,
        ControlCampaignEvent.kind == kind.value,
    )
    return list(session.exec(statement.order_by(ControlCampaignEvent.id)))


def test_review_waits_for_the_submission_or_the_deadline(session, controller, ara, units):
    opened = open_on(session, controller, ara)
    first = drawn_ids(session, opened.id)[0]
    with pytest.raises(Conflict):
        review(session, controller, opened, first)
    after_deadline = utcnow() + timedelta(days=40)  # the default deadline is 30 days off
    finding = review_unit(
        session=session,
        actor=controller,
        campaign_id=opened.id,
        episode_id=first,
        review=CONFORM,
        now=after_deadline,
    )
    assert finding.conform and finding.amount == Decimal("120.50")


def test_review_revise_answer_once_close_and_the_summary(session, controller, manager, campaign):
    first, second, third = drawn_ids(session, campaign.id)
    review(session, controller, campaign, first)
    review(session, controller, campaign, second)
    summary = review_summary(session, campaign)
    assert (summary.drawn, summary.reviewed, summary.conform, summary.non_conform) == (3, 2, 2, 0)
    # Revised: the second is not conform after all.
    revised = review(session, controller, campaign, second, MISSING)
    assert revised.reason_label == "Preuve manquante" and revised.amount == Decimal("120.50")
    with pytest.raises(Conflict):  # a unit left to review
        close(session, controller, campaign)
    review(
        session,
        controller,
        campaign,
        third,
        UnitReview(verdict="non_conform", reason="other", reason_text="Unité facturée deux fois"),
    )
    summary = review_summary(session, campaign)
    assert (summary.reviewed, summary.conform, summary.non_conform) == (3, 1, 2)
    assert summary.conformity_rate == pytest.approx(1 / 3)
    assert summary.non_conform_amount == Decimal("241.00")
    assert summary.sample_amount == Decimal("361.50") and summary.unpriced == 0

    answered = answer(session, manager, campaign, second)
    assert answered.answered_by_id == manager.id
    with pytest.raises(Conflict):  # once only
        answer(session, manager, campaign, second, "Encore")
    with pytest.raises(Conflict):  # a conform unit calls for no answer
        answer(session, manager, campaign, first)
    with pytest.raises(Conflict):  # answered: no longer revised
        review(session, controller, campaign, second, CONFORM)

    closed = close(session, controller, campaign)
    assert closed.phase == CampaignPhase.CLOSED and closed.closed_by_id == controller.id
    for refused in (
        lambda: review(session, controller, campaign, first, MISSING),
        lambda: answer(session, manager, campaign, third),
        lambda: close(session, controller, campaign),
        lambda: submit_campaign(session=session, actor=manager, campaign_id=campaign.id),
    ):
        with pytest.raises(Conflict):
            refused()

    reviewed = events(session, campaign, CampaignEventKind.REVIEWED)
    assert [event.episode_id for event in reviewed] == [first, second, second, third]
    assert reviewed[2].detail == "Non conforme : Preuve manquante — Aucune synthèse"
    assert {event.author_id for event in reviewed} == {controller.id}
    (answered_event,) = events(session, campaign, CampaignEventKind.ANSWERED)
    assert (answered_event.author_id, answered_event.episode_id) == (manager.id, second)
    (closed_event,) = events(session, campaign, CampaignEventKind.CLOSED)
    assert closed_event.detail == "1 conforme(s), 2 non conforme(s) sur 3 unité(s)"


def test_who_may_do_what(session, controller, manager, counsellor, campaign):
    first = drawn_ids(session, campaign.id)[0]
    with pytest.raises(Forbidden):  # the operator does not review
        review(session, manager, campaign, first)
    review(session, controller, campaign, first, MISSING)
    with pytest.raises(NotFound):  # the controller belongs to no operator: it does not answer
        answer(session, controller, campaign, first)
    with pytest.raises(Forbidden):  # a counsellor does not read the campaigns
        answer(session, counsellor, campaign, first)
    other_controller = make_staff(session, None, Role.CONTROLLER, email="autre@fc.example")
    with pytest.raises(NotFound):
        review(session, other_controller, campaign, first)
    bre = make_operator(session, "BRE", "Bretagne")
    with pytest.raises(NotFound):
        answer(session, make_staff(session, bre, Role.MANAGER), campaign, first)
    outside = next(iter(set(range(1, 100)) - set(drawn_ids(session, campaign.id))))
    with pytest.raises(NotFound):  # not a sampled unit
        review(session, controller, campaign, outside)


def test_the_ledger_shows_the_refaction_once_closed(session, controller, manager, campaign):
    first, second, third = drawn_ids(session, campaign.id)
    review(session, controller, campaign, first, MISSING)
    review(session, controller, campaign, second)
    review(session, controller, campaign, third)

    def uo0_line():
        found = unit_ledger(session=session, actor=manager, start=NOVEMBER[0], end=NOVEMBER[1])
        return next(line for line in found.lines if line.code == "UO0" and line.delivered)

    assert uo0_line().refactions == 0  # not before the closing
    close(session, controller, campaign)
    line = uo0_line()
    assert (line.refactions, line.refaction_amount) == (1, Decimal("120.50"))
    assert (line.delivered, line.billable_count) == (4, 4)  # counted as before, marked apart
    _, rows, _ = ledger_cases(
        session=session,
        actor=manager,
        unit_id=unit_id(session, "UO0"),
        start=NOVEMBER[0],
        end=NOVEMBER[1],
    )
    marked = {row.episode.id: row.refaction for row in rows if row.refaction}
    assert list(marked) == [first]
    assert (marked[first].campaign_id, marked[first].amount) == (campaign.id, Decimal("120.50"))


# ---- pages -----------------------------------------------------------------------------------


def test_the_journey_through_the_pages(client, session, controller, manager, campaign, storage_dir):
    first, second, third = drawn_ids(session, campaign.id)
    page = f"/controle/campagnes/{campaign.id}"
    csrf = log_in(client, session, controller)
    assert "À contrôler" in read(client.get(page))
    # The unit's page says what is judged: its place in the draw, unit, dates, case, proofs.
    unit_page = read(client.get(f"{page}/unites/{first}"))
    episode = session.get(Episode, first)
    assert "1 sur 3" in unit_page and session.get(Case, episode.case_id).reference in unit_page
    assert "Preuves exigées" in unit_page
    refused = client.post(
        f"{page}/unites/{first}",
        data={"verdict": "non_conform", "reason": "other", "reason_text": "", "csrf_token": csrf},
    )
    assert refused.status_code == 422 and "Précisez le motif « autre »" in read(refused)
    assert client.get(f"{page}/clore").status_code == 409
    for episode_id, verdict in ((first, "non_conform"), (second, "conform"), (third, "conform")):
        data = {"verdict": verdict, "reason": "late_proof" if verdict != "conform" else ""}
        answer_ = client.post(
            f"{page}/unites/{episode_id}", data={**data, "comment": "", "csrf_token": csrf}
        )
        assert answer_.status_code == 200 and answer_.url.path == page
    text = read(client.get(page))
    assert "Preuve postérieure à la fin de l'unité" in text and "Clore le contrôle…" in text
    assert "3 sur 3 tirées" in text and "120,50" in text and "361,50" in text

    operator_page = f"/rapports/controles/{campaign.id}"
    csrf_operator = log_in(client, session, manager)
    assert client.post(
        f"{page}/unites/{first}", data={"verdict": "conform", "csrf_token": csrf_operator}
    ).status_code in (403, 404)
    assert "Répondre" in read(client.get(operator_page))
    listed = read(client.get("/rapports/controles"))
    assert "Constats en attente de votre réponse" in listed
    assert f"/rapports/controles/{campaign.id}/unites/{first}/reponse" in listed
    empty = client.post(
        f"{operator_page}/unites/{first}/reponse", data={"answer": " ", "csrf_token": csrf_operator}
    )
    assert empty.status_code == 422
    sent = client.post(
        f"{operator_page}/unites/{first}/reponse",
        data={"answer": "Remise le 9 novembre, voir la version 2.", "csrf_token": csrf_operator},
    )
    assert sent.status_code == 200 and sent.url.path == operator_page
    again = client.post(
        f"{operator_page}/unites/{first}/reponse",
        data={"answer": "Encore", "csrf_token": csrf_operator},
    )
    assert again.status_code == 409
    assert "Constats en attente" not in read(client.get("/rapports/controles"))

    csrf = log_in(client, session, controller)
    assert "Remise le 9 novembre, voir la version 2." in read(client.get(page))
    confirm = client.get(f"{page}/clore")
    assert confirm.status_code == 200 and "Confirmer la clôture" in read(confirm)
    closed = client.post(f"{page}/clore", data={"csrf_token": csrf})
    assert closed.status_code == 200 and "Clos le" in read(closed)
    assert (
        client.post(
            f"{page}/unites/{second}", data={"verdict": "conform", "csrf_token": csrf}
        ).status_code
        == 409
    )
    history = client.get(f"{page}/historique.csv?finalite=controle_service_fait").text
    rows = list(csv.reader(io.StringIO(history.lstrip("\ufeff")), delimiter=";"))
    steps = [row[1] for row in rows]
    assert steps.count("Unité contrôlée") == 3 and "Réponse de l'opérateur" in steps
    assert "Contrôle clos" in steps
    # The pack holds personal data: the controller reads it for the time of the control only.
    refused = client.get(f"{page}/dossier-de-preuves.zip?finalite=controle_service_fait")
    assert refused.status_code == 409 and "n'est plus accessible" in read(refused)
    assert "Plus accessible depuis la clôture" in read(client.get(page))
    # The operator keeps it, built once more at the closing with the verdicts and the history.
    log_in(client, session, manager)
    pack = client.get(f"{operator_page}/dossier-de-preuves.zip?finalite=controle_service_fait")
    assert pack.status_code == 200
    manifest = json.loads(zipfile.ZipFile(io.BytesIO(pack.content)).read("manifeste.json"))
    findings = manifest["campagne"]["constats"]
    assert [f["unite_id"] for f in findings] == [first, second, third]
    assert findings[0]["verdict"] == "Non conforme" and findings[0]["montant"] == "120.50"
    assert findings[0]["reponse"] == "Remise le 9 novembre, voir la version 2."
    steps = [(step["etape"], step["unite_id"]) for step in manifest["historique"]]
    assert ("answered", first) in steps and steps[-1] == ("closed", None)
    reviewed_by = {step["auteur"] for step in manifest["historique"] if step["etape"] == "reviewed"}
    assert reviewed_by == {controller.full_name}

    ledger = client.get("/rapports/etat-de-service?du=2026-11-01&au=2026-11-30")
    assert "Réfactions" in read(ledger)
    export = client.get("/rapports/etat-de-service.csv?du=2026-11-01&au=2026-11-30").text
    assert "Montant des réfactions (€)" in export and "120,50" in export
    api = client.get("/api/v1/ledger?from=2026-11-01&to=2026-11-30", headers=bearer(manager))
    totals = api.json()["totals"]
    assert (totals["refactions"], totals["refaction_amount"]) == (1, "120.50")


def test_another_controller_and_the_wrong_side_get_nothing(
    client, session, controller, manager, campaign
):
    first = drawn_ids(session, campaign.id)[0]
    review(session, controller, campaign, first, MISSING)
    page = f"/controle/campagnes/{campaign.id}"
    other = make_staff(session, None, Role.CONTROLLER, email="autre@fc.example")
    csrf = log_in(client, session, other)
    assert client.get(f"{page}/unites/{first}").status_code == 404
    assert client.get(f"{page}/clore").status_code == 404
    posted = client.post(f"{page}/unites/{first}", data={"verdict": "conform", "csrf_token": csrf})
    assert posted.status_code == 404
    assert client.post(f"{page}/clore", data={"csrf_token": csrf}).status_code == 404
    # The controller itself has no operator: the operator's answer is not its to give.
    csrf = log_in(client, session, controller)
    answer_url = f"/rapports/controles/{campaign.id}/unites/{first}/reponse"
    refused = client.post(answer_url, data={"answer": "Moi", "csrf_token": csrf})
    assert refused.status_code in (403, 404)
    session.expire_all()
    assert events(session, campaign, CampaignEventKind.ANSWERED) == []
    assert len(events(session, campaign, CampaignEventKind.REVIEWED)) == 1
