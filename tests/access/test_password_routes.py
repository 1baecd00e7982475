"""« Mot de passe oublié ? » and the page an e-mailed link opens: the same answer whether the
address exists or not, throttling, CSRF, a link that serves once."""

import re

from app.core.config import get_settings
from tests.factories import anonymous_csrf, outbox_messages, post_login, read

NEW_PASSWORD = "girafe cerf-volant 1987 pistache"


def ask_reset(client, email: str):
    token = anonymous_csrf(client, "/mot-de-passe-oublie")
    return client.post("/mot-de-passe-oublie", data={"email": email, "csrf_token": token})


def test_the_login_page_offers_a_reset(client):
    assert 'href="/mot-de-passe-oublie"' in client.get("/login").text


def test_the_answer_is_the_same_whether_the_address_exists_or_not(client, session, counsellor):
    known, unknown = ask_reset(client, counsellor.email), ask_reset(client, "x@exemple.fr")
    assert known.status_code == unknown.status_code == 200
    assert read(known) == read(unknown).replace("x@exemple.fr", counsellor.email)
    assert "Si un compte actif existe" in read(known)
    assert [m.recipient for m in outbox_messages(session)] == [counsellor.email]


def test_a_reset_without_the_csrf_token_is_refused(client, session, counsellor):
    response = client.post("/mot-de-passe-oublie", data={"email": counsellor.email})
    assert response.status_code == 403
    assert outbox_messages(session) == []


def test_too_many_resets_from_one_address_are_refused(client, counsellor):
    for _ in range(get_settings().login_max_failures):
        assert ask_reset(client, counsellor.email).status_code == 200
    refused = ask_reset(client, counsellor.email)
    assert refused.status_code == 429 and "Trop de demandes" in read(refused)


def test_the_link_sets_a_password_once_then_the_person_signs_in(app, client, session, counsellor):
    ask_reset(client, counsellor.email)
    path = re.search(r"/compte/mot-de-passe/[\w.-]+", outbox_messages(session)[0].body_text)[0]
    page = client.get(path)
    assert page.status_code == 200 and "Nouveau mot de passe" in read(page)
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    weak = client.post(
        path,
        data={"csrf_token": token, "password": "motdepasse123", "confirmation": "motdepasse123"},
    )
    assert weak.status_code == 200 and "l'un des mots de passe les plus répandus" in read(weak)
    assert 'value="motdepasse123"' not in weak.text
    form = {"csrf_token": token, "password": NEW_PASSWORD, "confirmation": NEW_PASSWORD}
    done = client.post(path, data=form, follow_redirects=False)
    assert done.headers["location"] == "/login?mot_de_passe=enregistre"
    assert "Votre mot de passe est enregistré" in read(client.get(done.headers["location"]))
    again = client.post(path, data=form)
    assert again.status_code == 404 and "n'est plus valable" in read(again)
    assert client.get(path).status_code == 404
    signed_in = post_login(app, ("192.0.2.9", 5000), counsellor.email, NEW_PASSWORD)
    assert signed_in.status_code == 303
