"""The Messages page: managers see their operator's outbox, its states, and retry a failure;
administrators read the login alerts there."""

from app.models.base import utcnow
from app.models.nomenclatures import Role
from app.models.outbox import OutboxMessage
from app.models.staff import LoginAlert
from app.services.messaging.outbox import queue_email
from app.web.rendering import templates
from tests.factories import log_in, make_case, make_operator, make_staff, post_login

HTMX = {"HX-Request": "true"}


def queue(session, operator, **overrides) -> OutboxMessage:
    values = {
        "recipient": "zoe@exemple.fr",
        "subject": "Votre rendez-vous",
        "text": "Bonjour",
        "operator_id": operator.id,
        **overrides,
    }
    return queue_email(session=session, **values)


def set_state(session, message: OutboxMessage, **values) -> None:
    for name, value in values.items():
        setattr(message, name, value)
    session.add(message)
    session.flush()


def manager_of(client, session, code="ARA"):
    operator = make_operator(session, code, name=f"Opérateur {code}")
    user = make_staff(session, operator, role=Role.MANAGER)
    return operator, log_in(client, session, user)


def test_manager_sees_only_the_messages_of_their_operator(client, session):
    ara, _ = manager_of(client, session)
    queue(session, ara, subject="Confirmation pour Zoé")
    queue(session, make_operator(session, "BRE", name="Bretagne"), subject="Message breton")
    page = client.get("/messages")
    assert page.status_code == 200
    assert "Confirmation pour Zoé" in page.text and "En attente d&#39;envoi" in page.text
    assert "Message breton" not in page.text


def test_operator_admin_sees_the_page_too(client, session):
    ara = make_operator(session)
    log_in(client, session, make_staff(session, ara, role=Role.OPERATOR_ADMIN))
    queue(session, ara, subject="Pour l'administratrice")
    assert "Pour l&#39;administratrice" in client.get("/messages").text


def test_counsellor_is_refused(client, session):
    ara = make_operator(session)
    log_in(client, session, make_staff(session, ara, role=Role.COUNSELLOR))
    queue(session, ara, subject="Confidentiel")
    page = client.get("/messages")
    assert page.status_code == 403 and "Confidentiel" not in page.text


def test_filter_by_state_and_link_to_the_case(client, session):
    ara, _ = manager_of(client, session)
    case = make_case(session, make_staff(session, ara))
    failed = queue(session, ara, subject="Refusé", case_id=case.id)
    set_state(session, failed, status="failed", attempts=1, last_error="550 Utilisateur inconnu")
    queue(session, ara, subject="En file")
    page = client.get("/messages", params={"status": "failed"})
    assert "Refusé" in page.text and "En file" not in page.text
    assert "550 Utilisateur inconnu" in page.text
    assert '<option value="failed" selected>' in page.text
    assert f'href="/cases/{case.id}">{case.reference}</a>' in page.text


def test_htmx_filter_returns_only_the_table(client, session):
    ara, _ = manager_of(client, session)
    queue(session, ara, subject="Bienvenue")
    fragment = client.get("/messages", params={"status": "pending"}, headers=HTMX)
    assert "<html" not in fragment.text and "Bienvenue" in fragment.text


def test_unknown_state_is_refused(client, session):
    manager_of(client, session)
    assert client.get("/messages", params={"status": "perdu"}).status_code == 422


def test_manager_retries_a_failed_message(client, session):
    ara, csrf = manager_of(client, session)
    message = queue(session, ara)
    set_state(session, message, status="failed", attempts=8, last_error="421 Timeout")
    answer = client.post(
        f"/messages/{message.id}/retry", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert answer.status_code == 303
    session.refresh(message)
    assert (message.status, message.attempts) == ("pending", 0)


def test_a_message_that_is_not_failed_cannot_be_retried(client, session):
    ara, csrf = manager_of(client, session)
    message = queue(session, ara)
    answer = client.post(f"/messages/{message.id}/retry", data={"csrf_token": csrf})
    assert answer.status_code == 409


def test_another_operators_message_cannot_be_retried(client, session):
    _, csrf = manager_of(client, session)
    bre = make_operator(session, "BRE", name="Bretagne")
    message = queue(session, bre)
    set_state(session, message, status="failed")
    answer = client.post(f"/messages/{message.id}/retry", data={"csrf_token": csrf})
    assert answer.status_code == 404


def render_state(message: OutboxMessage) -> str:
    return templates.get_template("messaging/messages/_partials/message_state.html").render(
        message=message
    )


def test_state_badge_reads_in_french(session):
    message = queue(session, make_operator(session))
    assert "En attente d'envoi" in render_state(message)
    set_state(session, message, status="sent", sent_at=utcnow())
    assert "Envoyé le " in render_state(message)
    set_state(session, message, status="failed", sent_at=None, last_error="550 Inconnu")
    assert "Échec" in render_state(message) and "550 Inconnu" in render_state(message)


# ---- login alerts ------------------------------------------------------------------------


def test_a_spray_of_failed_logins_shows_in_the_operator_admins_messages(app, client, session):
    for n in range(5):
        for _ in range(2):
            post_login(app, ("203.0.113.66", 40000), f"inconnu{n}@exemple.fr", "faux")
    log_in(client, session, make_staff(session, make_operator(session), role=Role.OPERATOR_ADMIN))

    page = client.get("/messages")

    assert "Alertes de connexion" in page.text
    text = page.text.replace("&#39;", "'")
    assert "10 échecs de connexion sur 5 comptes différents depuis l'adresse 203.0.113.66" in text


def test_a_sysadmin_reads_the_login_alerts_and_no_outbox(client, session):
    ara = make_operator(session)
    target = make_staff(session, ara, full_name="Camille Martin")
    session.add(
        LoginAlert(kind="account", operator_id=ara.id, staff_id=target.id, failures=10, spread=4)
    )
    queue(session, ara, subject="Confidentiel")
    log_in(client, session, make_staff(session, None, role=Role.SYSADMIN))

    page = client.get("/messages")

    assert page.status_code == 200
    assert f"sur le compte Camille Martin ({target.email}) depuis 4 adresses" in page.text
    assert "Confidentiel" not in page.text and "Messages récents" not in page.text
    assert 'href="/messages"' in page.text  # in the navigation


def test_a_manager_sees_the_outbox_without_login_alerts(client, session):
    ara, _ = manager_of(client, session)
    session.add(LoginAlert(kind="address", ip="203.0.113.66", failures=10, spread=5))
    page = client.get("/messages")
    assert "Messages récents" in page.text
    assert "Alertes de connexion" not in page.text and "203.0.113.66" not in page.text


def test_a_national_observer_is_refused(client, session):
    log_in(client, session, make_staff(session, None, role=Role.NATIONAL_OBSERVER))
    assert client.get("/messages").status_code == 403
