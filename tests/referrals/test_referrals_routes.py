"""Referral pages on the case (htmx and plain), the partner's pages without an account, the
API, tenant isolation, and one journey through a real SMTP server."""

import html
import re
import threading
from datetime import timedelta

import pytest
from alembic import command
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.core.config import get_settings
from app.core.db import build_engine, get_session, unit_of_work
from app.core.security import create_link_token
from app.models.outbox import OutboxMessage
from app.models.partners import Referral, ReferralCreate, ReferralEvent
from app.services.messaging.mail import transport_from_settings
from app.services.messaging.outbox import deliver_due
from app.services.referrals.views import referral_timeline_entries, referrals_of_case
from app.services.referrals.workflow import propose_referral, send_referral
from app.web.rendering import templates
from app.worker import run_delivery_loop
from tests.conftest import alembic_config, scratch_database
from tests.factories import (
    bearer,
    confirmations,
    log_in,
    make_case,
    make_interaction,
    make_operator,
    make_partner,
    make_staff,
    paris_today,
    read,
)
from tests.smtp import body

HTMX = {"HX-Request": "true"}
LINK = re.compile(r"https?://[^/\s]+(/partenaire/orientations/\S+)")


@pytest.fixture
def partner(session):
    return make_partner(session, make_operator(session), name="CIBC Lyon", email="cibc@exemple.fr")


def proposal(csrf, partner, **overrides) -> dict:
    return {
        "partner_id": str(partner.id),
        "purpose": "Bilan de compétences",
        "shared_information": "Nom : Zoé Lefèvre",
        "consent": "1",
        "follow_up_on": "",
        "csrf_token": csrf,
        **overrides,
    }


def referrals(session) -> list[Referral]:
    return list(session.exec(select(Referral).order_by(Referral.id)))


def proposed(session, counsellor, case, partner, send=False) -> Referral:
    data = ReferralCreate(
        partner_id=partner.id,
        purpose="Bilan de compétences",
        shared_information="Nom : Zoé Lefèvre",
        consent=True,
        send_now=send,
    )
    return propose_referral(session=session, actor=counsellor, case_id=case.id, data=data)


def link_path(session) -> str:
    message = session.exec(select(OutboxMessage).order_by(OutboxMessage.id.desc())).first()
    return LINK.search(message.body_text).group(1)


# ---- the case section ---------------------------------------------------------------------


def test_the_section_lists_partners_by_type_and_suggests_what_to_share(
    client, session, case, partner, csrf
):
    make_partner(session, make_operator(session), name="Apec Lyon", type="apec")
    make_partner(session, make_operator(session), name="Ancien partenaire", active=False)
    page = client.get(f"/cases/{case.id}/referrals")
    assert page.status_code == 200
    assert '<section id="orientations" class="card"' in read(page)
    assert '<optgroup label="Bilan de compétences">' in read(page)
    assert '<optgroup label="Apec">' in read(page) and "Ancien partenaire" not in read(page)
    assert "Seules ces informations seront transmises" in read(page)
    assert "Nom : Zoé" in read(page) and "Aucune orientation pour l'instant." in read(page)


def test_a_plain_proposal_comes_back_to_the_case(client, session, case, partner, csrf):
    response = client.post(
        f"/cases/{case.id}/referrals", data=proposal(csrf, partner), follow_redirects=False
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/cases/{case.id}?section=orientations#orientations"
    [referral] = referrals(session)
    assert referral.status == "proposed" and referral.shared_information == "Nom : Zoé Lefèvre"


def test_an_htmx_proposal_sent_at_once_answers_with_the_section(
    client, session, case, partner, csrf
):
    response = client.post(
        f"/cases/{case.id}/referrals", data=proposal(csrf, partner, send_now="1"), headers=HTMX
    )
    assert response.status_code == 200 and "<html" not in read(response)
    assert read(response).lstrip().startswith('<section id="orientations"')
    assert "Orientation envoyée à CIBC Lyon." in read(response)
    assert "En attente d'envoi" in read(response)  # the e-mail's state
    assert referrals(session)[0].status == "sent"


def test_a_proposal_is_confirmed_by_the_form_with_a_link_to_the_new_referral(
    client, session, case, partner, csrf
):
    response = client.post(
        f"/cases/{case.id}/referrals", data=proposal(csrf, partner), headers=HTMX
    )
    [referral] = referrals(session)
    assert confirmations(response) == [
        "[focus] Orientation proposée à CIBC Lyon. Voir l'orientation"
    ]
    assert (
        f'<a href="#ref-{referral.id}">' in response.text
        and f'id="ref-{referral.id}"' in response.text
    )
    assert response.text.count("autofocus") == 1
    # Said where the counsellor acted: just above the proposal form, below the list.
    said = response.text.index('class="alert success done"')
    assert response.text.index(f'id="ref-{referral.id}"') < said
    assert said < response.text.index("<summary>Orienter vers un partenaire</summary>")


@pytest.mark.parametrize(
    ("moves", "form", "said"),
    [
        ([], {"to": "sent"}, "Orientation envoyée à CIBC Lyon."),
        (["sent"], {"to": "accepted"}, "Acceptation de CIBC Lyon enregistrée."),
        (["sent"], {"to": "declined", "reason": "Complet"}, "Refus de CIBC Lyon enregistré."),
        (["sent", "accepted"], {"to": "in_progress"}, "Accompagnement par CIBC Lyon commencé."),
        (
            ["sent", "accepted"],
            {"to": "completed", "outcome": "achieved"},
            "Issue de l'orientation vers CIBC Lyon enregistrée.",
        ),
        ([], {"to": "abandoned"}, "Orientation vers CIBC Lyon abandonnée."),
    ],
)
def test_each_move_is_confirmed_in_the_referral_it_changed(
    client, session, counsellor, case, partner, csrf, moves, form, said
):
    other = proposed(session, counsellor, case, partner)
    referral = proposed(session, counsellor, case, partner)
    url = f"/referrals/{referral.id}/status"
    for target in moves:
        client.post(url, data={"to": target, "csrf_token": csrf})
    response = client.post(url, data={**form, "csrf_token": csrf}, headers=HTMX)
    assert confirmations(response) == [f"[focus] {said}"]
    assert response.text.count("autofocus") == 1
    where = response.text.index('class="alert success done"')
    assert response.text.index(f'id="ref-{referral.id}"') < where
    assert where < response.text.index(f'id="ref-{other.id}"')  # newest first: the next one


def test_an_email_sent_from_the_section_is_confirmed_with_its_address(
    client, session, counsellor, case, partner, csrf
):
    referral = proposed(session, counsellor, case, partner)
    response = client.post(
        f"/referrals/{referral.id}/send", data={"csrf_token": csrf}, headers=HTMX
    )
    assert confirmations(response) == ["[focus] Orientation envoyée à CIBC Lyon (cibc@exemple.fr)."]


def test_a_refused_action_says_what_is_wrong_and_confirms_nothing(
    client, session, counsellor, case, partner, csrf
):
    referral = proposed(session, counsellor, case, partner)
    url = f"/referrals/{referral.id}/status"
    client.post(url, data={"to": "sent", "csrf_token": csrf})
    refused = client.post(
        url, data={"to": "declined", "reason": "", "csrf_token": csrf}, headers=HTMX
    )
    assert f'id="ref-{referral.id}-declined-reason-error"' in refused.text
    assert confirmations(refused) == [] and refused.text.count("autofocus") == 1
    # The person agreed to share with CIBC Lyon (above), not with this other partner.
    other = make_partner(session, make_operator(session), name="Mission locale")
    form = proposal(csrf, other, consent="")
    refused = client.post(f"/cases/{case.id}/referrals", data=form, headers=HTMX)
    assert "pas donné son accord pour que ses informations soient transmises" in read(refused)
    assert 'id="ref-new-consent-error"' in read(refused)
    assert confirmations(refused) == []


@pytest.mark.parametrize("headers", [HTMX, {}])
def test_bad_input_keeps_what_was_typed_and_writes_nothing(
    client, session, case, partner, csrf, headers
):
    form = proposal(csrf, partner, consent="", purpose="", shared_information="Mon texte")
    response = client.post(f"/cases/{case.id}/referrals", data=form, headers=headers)
    assert response.status_code == 200
    assert 'id="ref-new-purpose-error">Ce champ est obligatoire' in read(response)
    assert "Mon texte" in read(response)
    assert ("<html" in read(response)) is not bool(headers)
    past = proposal(csrf, partner, follow_up_on="2001-01-01")
    response = client.post(f"/cases/{case.id}/referrals", data=past, headers=headers)
    assert "La date de relance ne peut pas être passée" in read(response)
    assert referrals(session) == []


def test_an_unknown_partner_is_reported_next_to_the_field(client, session, case, csrf):
    form = {**proposal(csrf, type("P", (), {"id": 999_999})), "partner_id": "999999"}
    response = client.post(f"/cases/{case.id}/referrals", data=form, headers=HTMX)
    assert 'id="ref-new-partner_id-error">Partenaire inconnu' in read(response)
    empty = client.post(f"/cases/{case.id}/referrals", data={**form, "partner_id": ""})
    assert "Choisissez un partenaire" in read(empty)
    assert referrals(session) == []


def test_a_post_without_csrf_token_is_refused(client, session, case, partner, csrf):
    form = proposal(csrf, partner)
    del form["csrf_token"]
    assert client.post(f"/cases/{case.id}/referrals", data=form).status_code == 403
    assert referrals(session) == []


def test_counsellor_moves_a_referral_and_a_forbidden_move_changes_nothing(
    client, session, counsellor, case, partner, csrf
):
    referral = proposed(session, counsellor, case, partner)
    url = f"/referrals/{referral.id}/status"
    for target in ("sent", "accepted"):
        client.post(url, data={"to": target, "csrf_token": csrf}, headers=HTMX)
    done = client.post(
        url,
        data={"to": "completed", "outcome": "", "csrf_token": csrf},
        headers=HTMX,
    )
    assert f'id="ref-{referral.id}-completed-outcome-error"' in read(done)
    client.post(url, data={"to": "completed", "outcome": "achieved", "csrf_token": csrf})
    session.refresh(referral)
    assert referral.status == "completed"
    count = len(session.exec(select(ReferralEvent)).all())
    again = client.post(url, data={"to": "sent", "csrf_token": csrf}, headers=HTMX)
    assert "Une orientation terminée ne peut pas repasser à « Envoyée au partenaire »" in read(
        again
    )
    session.refresh(referral)
    assert (
        referral.status == "completed" and len(session.exec(select(ReferralEvent)).all()) == count
    )
    assert "Objectif atteint" in read(again)


def test_only_the_actions_the_machine_allows_are_offered(
    client, session, counsellor, case, partner, csrf
):
    referral = proposed(session, counsellor, case, partner)
    section = read(client.get(f"/cases/{case.id}/referrals", headers=HTMX))
    assert "Envoyer par e-mail à cibc@exemple.fr" in section
    assert "Le partenaire a accepté" not in section
    client.post(f"/referrals/{referral.id}/send", data={"csrf_token": csrf})
    section = read(client.get(f"/cases/{case.id}/referrals", headers=HTMX))
    assert "Envoyer par e-mail" not in section and "Le partenaire a accepté" in section
    assert "Le partenaire a refusé" in section and "Accompagnement commencé" not in section


def test_an_overdue_follow_up_is_marked_in_words(client, session, counsellor, case, partner, csrf):
    referral = proposed(session, counsellor, case, partner)
    referral.follow_up_on = paris_today() - timedelta(days=2)
    session.add(referral)
    assert "Date de relance dépassée" in read(client.get(f"/cases/{case.id}/referrals"))


def test_the_home_page_lists_referrals_awaiting_an_answer_and_to_follow_up(
    client, session, counsellor, case, partner, csrf
):
    empty = read(client.get("/"))
    assert "Orientations en attente de réponse (0)" in empty
    assert "Aucune orientation à relancer aujourd'hui." in empty
    assert "Aucune orientation en attente de réponse." in read(
        client.get("/mes-orientations/en-attente")
    )
    waiting = proposed(session, counsellor, case, partner, send=True)
    waiting.follow_up_on = paris_today()
    session.add(waiting)
    home = read(client.get("/"))
    assert "Orientations en attente de réponse (1)" in home
    assert f'href="/cases/{case.id}?section=orientations#ref-{waiting.id}"' in home
    assert home.count("CIBC Lyon") == 1 and "Envoyée au partenaire" in home
    awaiting = read(client.get("/mes-orientations/en-attente"))
    in_list = f'href="/cases/{case.id}?section=orientations#ref-{waiting.id}"'
    assert in_list in awaiting and "CIBC Lyon" in awaiting


# ---- the partner's pages ------------------------------------------------------------------


def test_the_partner_accepts_once_without_an_account(client, session, counsellor, case, partner):
    make_interaction(session, counsellor, case, private_notes="Note privée à ne pas montrer")
    proposed(session, counsellor, case, partner, send=True)
    path = link_path(session)
    client.cookies.clear()
    page = client.get(path)
    assert page.status_code == 200 and "Accepter l'orientation" in read(page)
    assert page.headers["referrer-policy"] == "no-referrer"
    assert "Nom : Zoé Lefèvre" in read(page) and "Note privée" not in read(page)
    assert client.post(f"{path}/decision", data={"decision": "accept"}).status_code == 403
    token = client.cookies.get("filrouge_csrf")
    done = client.post(f"{path}/decision", data={"decision": "accept", "csrf_token": token})
    assert done.status_code == 200 and "votre acceptation est enregistrée" in read(done)
    assert done.headers["referrer-policy"] == "no-referrer"
    twice = client.post(f"{path}/decision", data={"decision": "decline", "csrf_token": token})
    assert twice.status_code == 409 and "Cette réponse a déjà été enregistrée" in read(twice)
    assert "Traceback" not in read(twice)
    assert referrals(session)[0].status == "accepted"
    assert "Cette réponse a déjà été enregistrée" in read(client.get(path))


def test_a_refusal_without_reason_is_asked_again(client, session, counsellor, case, partner):
    proposed(session, counsellor, case, partner, send=True)
    path = link_path(session)
    client.cookies.clear()
    client.get(path)
    token = client.cookies.get("filrouge_csrf")
    form = {"decision": "decline", "reason": "", "csrf_token": token}
    refused = client.post(f"{path}/decision", data=form)
    assert refused.status_code == 422 and "Indiquez le motif du refus" in read(refused)
    assert referrals(session)[0].status == "sent"
    form["reason"] = "Hors de notre territoire"
    assert "votre refus est enregistré" in read(client.post(f"{path}/decision", data=form))
    assert referrals(session)[0].decline_reason == "Hors de notre territoire"


def test_the_partner_reports_progress_then_the_outcome(client, session, counsellor, case, partner):
    proposed(session, counsellor, case, partner, send=True)
    client.cookies.clear()
    path = link_path(session)
    client.get(path)
    token = client.cookies.get("filrouge_csrf")
    client.post(f"{path}/decision", data={"decision": "accept", "csrf_token": token})
    outcome_path = link_path(session)
    assert outcome_path != path
    page = client.get(outcome_path)
    assert "L'accompagnement a commencé" in read(page)
    going = client.post(f"{outcome_path}/issue", data={"in_progress": "1", "csrf_token": token})
    assert "l'accompagnement est en cours" in read(going)
    missing = client.post(f"{outcome_path}/issue", data={"outcome": "", "csrf_token": token})
    assert missing.status_code == 422 and "Indiquez l'issue" in read(missing)
    form = {"outcome": "partly", "note": "Bilan remis", "csrf_token": token}
    done = client.post(f"{outcome_path}/issue", data=form)
    assert "l'issue de l'orientation est enregistrée" in read(done)
    referral = referrals(session)[0]
    session.refresh(referral)
    assert (referral.status, referral.outcome) == ("completed", "partly")


@pytest.mark.parametrize("kind", ["tampered", "expired", "garbage"])
def test_a_bad_link_gets_a_polite_404(client, session, counsellor, case, partner, kind):
    referral = proposed(session, counsellor, case, partner, send=True)
    path = link_path(session)
    paths = {
        "tampered": path[:-2] + ("xx" if not path.endswith("xx") else "yy"),
        "expired": "/partenaire/orientations/"
        + create_link_token(
            purpose="referral",
            subject_id=referral.id,
            lifetime=timedelta(seconds=-5),
            nonce=referral.link_nonce,
        ),
        "garbage": "/partenaire/orientations/pas-un-jeton",
    }
    client.cookies.clear()
    page = client.get(paths[kind])
    assert page.status_code == 404 and "Ce lien n'est pas valide ou a expiré" in read(page)
    assert page.headers["referrer-policy"] == "no-referrer"
    token = client.cookies.get("filrouge_csrf")
    post = client.post(f"{paths[kind]}/decision", data={"decision": "accept", "csrf_token": token})
    assert post.status_code == 404
    assert referrals(session)[0].status == "sent"


# ---- API ----------------------------------------------------------------------------------


@pytest.mark.usefixtures("clock")  # today's follow-up stays today, not past, in the app
def test_api_proposes_sends_moves_and_lists(client, session, counsellor, case, partner):
    headers = bearer(counsellor)
    body_ = {
        "partner_id": partner.id,
        "purpose": "Bilan",
        "shared_information": "Nom : Zoé",
        "consent": True,
        "follow_up_on": paris_today().isoformat(),
    }
    created = client.post(f"/api/v1/cases/{case.id}/referrals", json=body_, headers=headers)
    assert created.status_code == 201
    data = created.json()
    assert data["status"] == "proposed" and data["partner_name"] == "CIBC Lyon"
    assert data["partner_type"] == "bilan_competences" and "link_nonce" not in data
    referral_id = data["id"]
    sent = client.post(f"/api/v1/referrals/{referral_id}/send", headers=headers)
    assert sent.status_code == 200 and sent.json()["status"] == "sent"
    url = f"/api/v1/referrals/{referral_id}/transitions"
    refused = client.post(url, json={"to": "declined"}, headers=headers)
    assert refused.status_code == 422 and refused.json()["fields"] == {
        "reason": "Indiquez le motif du refus"
    }
    declined = client.post(url, json={"to": "declined", "reason": "Complet"}, headers=headers)
    assert declined.json()["decline_reason"] == "Complet"
    again = client.post(url, json={"to": "accepted"}, headers=headers)
    assert again.status_code == 409 and "refusée" in again.json()["detail"]
    detail = client.get(f"/api/v1/referrals/{referral_id}", headers=headers).json()
    assert [e["to_status"] for e in detail["events"]] == ["proposed", "sent", "declined"]
    listed = client.get(f"/api/v1/cases/{case.id}/referrals", headers=headers).json()
    assert [r["id"] for r in listed] == [referral_id]


def test_api_refuses_without_consent_and_on_unknown_partner(
    client, session, counsellor, case, partner
):
    headers = bearer(counsellor)
    url = f"/api/v1/cases/{case.id}/referrals"
    response = client.post(
        url, json={"partner_id": partner.id, "purpose": "Bilan", "consent": False}, headers=headers
    )
    assert response.status_code == 422
    assert "pas donné son accord" in response.json()["fields"]["consent"]
    unknown = client.post(
        url, json={"partner_id": 999_999, "purpose": "Bilan", "consent": True}, headers=headers
    )
    assert unknown.status_code == 422
    assert unknown.json()["fields"] == {"partner_id": "Partenaire inconnu"}
    assert referrals(session) == []


# ---- tenant isolation ---------------------------------------------------------------------


def test_another_operator_gets_404_everywhere(client, session, counsellor, case, partner):
    referral = proposed(session, counsellor, case, partner)
    stranger = make_staff(session, make_operator(session, "BRE", "Bretagne"))
    own_partner = make_partner(session, make_operator(session, "BRE", "Bretagne"))
    csrf = log_in(client, session, stranger)
    form = {"csrf_token": csrf}
    attempts = [
        client.get(f"/cases/{case.id}/referrals"),
        client.get(f"/cases/{case.id}/referrals", headers=HTMX),
        client.post(f"/cases/{case.id}/referrals", data=proposal(csrf, own_partner)),
        client.post(f"/referrals/{referral.id}/send", data=form),
        client.post(f"/referrals/{referral.id}/status", data={**form, "to": "abandoned"}),
    ]
    headers = bearer(stranger)
    attempts += [
        client.get(f"/api/v1/cases/{case.id}/referrals", headers=headers),
        client.get(f"/api/v1/referrals/{referral.id}", headers=headers),
        client.post(f"/api/v1/referrals/{referral.id}/send", headers=headers),
        client.post(
            f"/api/v1/referrals/{referral.id}/transitions", json={"to": "sent"}, headers=headers
        ),
    ]
    assert [a.status_code for a in attempts] == [404] * len(attempts)
    assert all("CIBC Lyon" not in read(a) for a in attempts)
    session.refresh(referral)
    assert referral.status == "proposed" and len(referrals(session)) == 1


def test_the_strangers_own_case_cannot_use_another_operators_partner(client, session, partner):
    stranger = make_staff(session, make_operator(session, "BRE", "Bretagne"))
    own_case = make_case(session, stranger)
    csrf = log_in(client, session, stranger)
    response = client.post(f"/cases/{own_case.id}/referrals", data=proposal(csrf, partner))
    assert "Partenaire inconnu" in read(response) and referrals(session) == []


# ---- a real SMTP server -------------------------------------------------------------------


@pytest.fixture
def committed_app(database_url, tmp_path_factory):
    """The app on a database of its own whose commits are real, as the worker needs."""
    tmp = tmp_path_factory.mktemp("referrals")
    with scratch_database(database_url, "referrals", tmp) as url:
        engine = build_engine(url)
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), "head")
        from app.main import create_app

        application = create_app()
        application.dependency_overrides[get_session] = lambda: (yield from unit_of_work(engine))
        yield application, engine
        engine.dispose()


def test_the_partner_follows_the_links_of_real_emails(committed_app, smtp_server):
    application, engine = committed_app
    with Session(engine, expire_on_commit=False) as session:
        counsellor = make_staff(session, make_operator(session), full_name="Camille Martin")
        case = make_case(session, counsellor)
        partner = make_partner(session, make_operator(session), email="cibc@exemple.fr")
        referral = proposed(session, counsellor, case, partner)
        send_referral(session=session, actor=counsellor, referral_id=referral.id)
        session.commit()

    assert deliver_due(engine=engine, transport=transport_from_settings()).sent == 1
    [email] = smtp_server.messages
    assert email["To"] == "cibc@exemple.fr" and "Nom : Zoé Lefèvre" in body(email)
    client = TestClient(application)
    path = LINK.search(body(email)).group(1)
    assert "Accepter l'orientation" in read(client.get(path))
    token = client.cookies.get("filrouge_csrf")
    client.post(f"{path}/decision", data={"decision": "accept", "csrf_token": token})

    assert deliver_due(engine=engine, transport=transport_from_settings()).sent == 1
    second = smtp_server.messages[-1]
    assert "issue de l'orientation" in second["Subject"]
    outcome_path = LINK.search(body(second)).group(1)
    form = {"outcome": "achieved", "note": "Bilan remis", "csrf_token": token}
    assert "est enregistrée" in read(client.post(f"{outcome_path}/issue", data=form))

    with Session(engine) as session:
        stored = session.get(Referral, referral.id)
        assert (stored.status, stored.outcome) == ("completed", "achieved")
        log_in(client, session, session.get(type(counsellor), counsellor.id))
        session.commit()
    section = read(client.get(f"/cases/{case.id}/referrals"))
    assert "Terminée" in section and "Objectif atteint" in section
    assert "Envoyé le" in section  # the second e-mail's delivery state


def test_each_worker_pass_expires_unanswered_referrals(committed_app):
    _application, engine = committed_app
    days = get_settings().referral_answer_days
    with Session(engine, expire_on_commit=False) as session:
        counsellor = make_staff(session, make_operator(session))
        case = make_case(session, counsellor)
        partner = make_partner(session, make_operator(session))
        referral = proposed(session, counsellor, case, partner, send=True)
        referral.sent_at -= timedelta(days=days, minutes=1)
        session.add(referral)
        session.commit()
    lines: list[str] = []
    run_delivery_loop(echo=lines.append, stop=threading.Event(), once=True, engine=engine)
    assert any("Orientations expirées sans réponse : 1." in line for line in lines)
    with Session(engine) as session:
        assert session.get(Referral, referral.id).status == "expired"


def test_the_timeline_partial_renders_each_status_change(session, counsellor, case, partner):
    proposed(session, counsellor, case, partner, send=True)
    rows = referrals_of_case(session=session, actor=counsellor, case_id=case.id)
    entries = referral_timeline_entries(session=session, rows=rows)
    template = templates.get_template("referrals/referrals/_partials/timeline_entry.html")
    rendered = [
        html.unescape(template.render(referral=e.referral, event=e.event, partner=e.partner))
        for e in entries
    ]
    assert "Orientation proposée" in rendered[0] and "CIBC Lyon" in rendered[0]
    assert "Orientation envoyée au partenaire" in rendered[1]
    assert "Envoyée par e-mail" in rendered[1]  # the event's note
