import re
from functools import partial

from sqlmodel import select

from app.models.beneficiaries import Beneficiary
from app.models.cases import Case, Episode
from app.models.nomenclatures import Role
from app.models.triage import TriageRequest
from app.services.cases.triage import queue
from tests.factories import log_in, make_beneficiary, make_operator, make_staff, read


def setup_counsellor(client, session):
    user = make_staff(session, make_operator(session), full_name="Élodie Martin")
    return user, log_in(client, session, user)


def intake(**overrides):
    return {
        "channel": "telephone",
        "cep_situation": "actif_prive",
        "motive": "reconversion",
        "request_text": "Souhaite quitter la restauration",
        "first_advice": "Consulter France VAE",
        **overrides,
    }


def test_search_ignores_case_and_accents(client, session):
    user, _ = setup_counsellor(client, session)
    make_beneficiary(session, user, first_name="Hélène", last_name="Guérin")
    page = client.get("/triage/new", params={"q": "HELENE guerin"})
    assert "Hélène GUÉRIN" in page.text


def test_search_finds_a_person_by_phone_in_any_format(client, session):
    user, _ = setup_counsellor(client, session)
    make_beneficiary(session, user, last_name="Le Bihan", phone="06 12 34 56 78")
    page = client.get("/triage/new", params={"q": "+33 6 12 34 56 78"})
    assert "LE BIHAN" in page.text


def test_htmx_search_returns_only_the_matches_fragment(client, session):
    user, _ = setup_counsellor(client, session)
    make_beneficiary(session, user, first_name="Noël")
    fragment = client.get("/triage/new", params={"q": "noel"}, headers={"HX-Request": "true"})
    assert "<html" not in fragment.text and "Noël" in fragment.text
    assert fragment.headers["vary"] == "HX-Request"


def test_new_person_and_request_land_in_the_queue(client, session):
    user, csrf = setup_counsellor(client, session)
    response = client.post(
        "/triage/new",
        data=intake(first_name="Loïc", last_name="Kerhervé", phone="0612345678", csrf_token=csrf),
        follow_redirects=False,
    )
    assert response.status_code == 303
    request = session.exec(select(TriageRequest)).one()
    assert request.status == "pending"
    assert "Loïc KERHERVÉ" in client.get("/triage").text


def test_bad_input_shows_french_messages_and_writes_nothing(client, session):
    _, csrf = setup_counsellor(client, session)
    response = client.post(
        "/triage/new",
        data=intake(
            first_name="",
            last_name="Kerhervé",
            phone="123",
            postcode="6900",
            channel="pigeon",
            csrf_token=csrf,
        ),
    )
    assert response.status_code == 200
    assert "Ce champ est obligatoire" in response.text
    assert "Numéro de téléphone français invalide" in response.text
    assert "Code postal invalide" in response.text
    assert "Choix invalide" in response.text
    assert 'value="Kerhervé"' in response.text
    assert session.exec(select(Beneficiary)).all() == []


def test_known_email_is_refused_as_a_duplicate(client, session):
    user, csrf = setup_counsellor(client, session)
    make_beneficiary(session, user, email="zoe@exemple.fr")
    response = client.post(
        "/triage/new",
        data=intake(first_name="Zoé", last_name="Autre", email="ZOE@exemple.fr", csrf_token=csrf),
    )
    assert "semble déjà connue" in response.text
    assert session.exec(select(TriageRequest)).all() == []


def test_opening_a_case_records_the_triage_as_a_uo0_episode(client, session):
    user, csrf = setup_counsellor(client, session)
    person = make_beneficiary(session, user)
    client.post("/triage/new", data=intake(beneficiary_id=person.id, csrf_token=csrf))
    request = session.exec(select(TriageRequest)).one()
    response = client.post(
        f"/triage/{request.id}/open-case",
        data={"referent_id": user.id, "csrf_token": csrf},
        follow_redirects=False,
    )
    case = session.exec(select(Case)).one()
    assert response.headers["location"] == f"/cases/{case.id}"
    episode = session.exec(select(Episode)).one()
    assert (episode.outcome, episode.ended_at is not None) == ("Dossier ouvert", True)
    assert "UO0" in client.get(f"/cases/{case.id}").text


def test_job_seeker_gets_a_suggestion_and_redirection_closes_the_case(client, session):
    user, csrf = setup_counsellor(client, session)
    person = make_beneficiary(session, user)
    client.post(
        "/triage/new",
        data=intake(beneficiary_id=person.id, cep_situation="demandeur_emploi", csrf_token=csrf),
    )
    request = session.exec(select(TriageRequest)).one()
    assert "relève plutôt de : <strong>France Travail" in client.get(f"/triage/{request.id}").text
    client.post(
        f"/triage/{request.id}/redirect",
        data={"redirection": "france_travail", "reason": "Inscrit depuis mars", "csrf_token": csrf},
    )
    case = session.exec(select(Case)).one()
    assert (case.status, case.close_reason) == ("closed", "reoriente")
    assert session.exec(select(Episode)).one().outcome == "Réorienté vers France Travail"


def test_a_handled_request_cannot_be_handled_twice(client, session):
    user, csrf = setup_counsellor(client, session)
    person = make_beneficiary(session, user)
    client.post("/triage/new", data=intake(beneficiary_id=person.id, csrf_token=csrf))
    request = session.exec(select(TriageRequest)).one()
    form = {"referent_id": user.id, "csrf_token": csrf}
    client.post(f"/triage/{request.id}/open-case", data=form)
    again = client.post(f"/triage/{request.id}/open-case", data=form)
    assert "déjà été traitée" in again.text
    assert len(session.exec(select(Case)).all()) == 1


def test_a_nul_character_in_the_global_search_finds_nobody(client, session):
    setup_counsellor(client, session)
    page = client.get("/search", params={"q": "ARA-\x00"})
    assert page.status_code == 200 and "Aucune personne trouvée" in page.text


def test_a_long_queue_says_how_many_wait_beyond_the_oldest_shown(client, session, monkeypatch):
    user, _ = setup_counsellor(client, session)
    monkeypatch.setattr("app.services.cases.views.queue", partial(queue, limit=2))
    for name in ("Anne", "Bruno", "Chloé"):
        person = make_beneficiary(session, user, first_name=name)
        session.add(
            TriageRequest(
                operator_id=user.operator_id,
                beneficiary_id=person.id,
                channel="telephone",
                motive="reconversion",
                cep_situation="actif_prive",
            )
        )
    session.flush()

    page = client.get("/triage").text

    assert 'Demandes en attente <span class="muted">(3)</span>' in page
    assert "Affichage des 2 plus anciennes sur 3" in page


def options_of(page: str, name: str) -> list[str]:
    """The labels a select offers, in order."""
    select = page.split(f'name="{name}"', 1)[1].split("</select>", 1)[0]
    return re.findall(r"<option [^>]*>([^<]*)</option>", select)


def test_a_request_page_names_the_person_with_elision(client, session):
    user, csrf = setup_counsellor(client, session)
    person = make_beneficiary(session, user, first_name="Émilie", last_name="Aubert")
    client.post("/triage/new", data=intake(beneficiary_id=person.id, csrf_token=csrf))
    request = session.exec(select(TriageRequest)).one()

    page = read(client.get(f"/triage/{request.id}"))
    queue_page = read(client.get("/triage"))

    assert '<h1 class="page-title">Demande d\'Émilie AUBERT</h1>' in page
    assert 'Traiter<span class="visually-hidden"> la demande d\'Émilie AUBERT</span>' in queue_page


def test_only_the_operators_active_counsellors_are_offered_as_referent(client, session):
    user, csrf = setup_counsellor(client, session)
    operator = make_operator(session)
    make_staff(session, operator, full_name="Zoé Vidal")
    make_staff(session, operator, full_name="Edgar Faure")
    make_staff(session, operator, Role.MANAGER, full_name="Albane Responsable")
    make_staff(session, operator, Role.OPERATOR_ADMIN, full_name="Arnaud Admin")
    make_staff(session, operator, full_name="Aline Partie", active=False)
    make_staff(session, make_operator(session, code="BRE"), full_name="Anne Bretonne")
    person = make_beneficiary(session, user)
    client.post("/triage/new", data=intake(beneficiary_id=person.id, csrf_token=csrf))
    request = session.exec(select(TriageRequest)).one()

    detail = read(client.get(f"/triage/{request.id}"))
    new = read(client.get("/triage/new"))

    counsellors = ["Edgar Faure", "Élodie Martin", "Zoé Vidal"]
    assert options_of(detail, "referent_id") == counsellors
    assert options_of(new, "assigned_to_id") == ["Personne en particulier", *counsellors]


def test_a_manager_cannot_be_made_referent_of_a_new_case(client, session):
    user, csrf = setup_counsellor(client, session)
    manager = make_staff(session, make_operator(session), Role.MANAGER)
    person = make_beneficiary(session, user)
    client.post("/triage/new", data=intake(beneficiary_id=person.id, csrf_token=csrf))
    request = session.exec(select(TriageRequest)).one()

    response = client.post(
        f"/triage/{request.id}/open-case", data={"referent_id": manager.id, "csrf_token": csrf}
    )

    assert response.status_code == 200
    assert "Choisissez un·e conseiller·ère, pas un·e responsable" in read(response)
    assert session.exec(select(Case)).all() == []


def test_a_queue_of_thousands_counts_with_a_narrow_space(client, session, monkeypatch):
    user, _ = setup_counsellor(client, session)
    monkeypatch.setattr("app.services.cases.views.queue", partial(queue, limit=2))
    person = make_beneficiary(session, user)
    session.add_all(
        TriageRequest(
            operator_id=user.operator_id,
            beneficiary_id=person.id,
            channel="telephone",
            motive="reconversion",
            cep_situation="actif_prive",
        )
        for _ in range(1234)
    )
    session.flush()

    page = client.get("/triage").text

    assert 'Demandes en attente <span class="muted">(1\u202f234)</span>' in page
    assert "Affichage des 2 plus anciennes sur 1\u202f234" in page
