"""The person asked answers on the public page of the link (issue 17, item 3, and « Bad input
and safety »): the version the invitation asks, partial answers kept, one submission, polite
pages for links that no longer open, the opt-out link, and the rate limit."""

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
from app.models.beneficiaries import Beneficiary
from app.models.surveys import (
    SurveyInvitation,
    SurveyKind,
    SurveyQuestionnaire,
    SurveyResponse,
    SurveyStatus,
)
from app.services.surveys.answers import MAX_TEXT
from app.services.surveys.questionnaires import current_questionnaire
from tests.conftest import alembic_config, scratch_database
from tests.factories import (
    anonymous_csrf,
    log_in,
    make_beneficiary,
    make_case,
    make_episode,
    make_operator,
    make_staff,
    read,
)
from tests.surveys.sent_invitations import answer_path, opt_out_link, sent_invitation

COMPLETE = {
    "q-satisfaction": "plutot_satisfait",
    "q-recommandation": "oui",
    "q-changements": ["formation", "projet"],
    "q-commentaire": "Merci à ma conseillère.",
}


@pytest.fixture
def invitation(session, counsellor, case):
    return sent_invitation(session, counsellor, case)


def responses(session) -> list[SurveyResponse]:
    session.expire_all()
    return list(session.exec(select(SurveyResponse)))


def post(client, path, answers, action="envoyer", csrf=None):
    csrf = csrf or anonymous_csrf(client, path)
    return client.post(path, data={**answers, "action": action, "csrf_token": csrf})


# ---- the page ------------------------------------------------------------------------------


def test_the_page_asks_the_version_the_invitation_names_not_a_newer_one(
    client, session, ara, invitation
):
    first = session.get(SurveyQuestionnaire, invitation.questionnaire_id)
    session.add(
        SurveyQuestionnaire(
            operator_id=ara.id,
            kind=first.kind,
            version=2,
            title="Une version plus récente",
            questions=[],
        )
    )
    session.flush()
    page = read(client.get(answer_path(invitation)))
    assert "Votre avis sur votre premier entretien" in page
    assert "Une version plus récente" not in page


def test_each_question_is_a_fieldset_with_its_legend_and_the_right_controls(client, invitation):
    page = client.get(answer_path(invitation)).text
    assert page.count("<fieldset") == page.count("<legend>") == 4
    assert len(re.findall(r'type="radio" id="q-satisfaction[-"]', page)) == 4
    assert len(re.findall(r'type="radio" id="q-recommandation[-"]', page)) == 3
    assert len(re.findall(r'type="checkbox" id="q-changements[-"]', page)) == 4
    assert '<textarea id="q-commentaire" name="q-commentaire"' in page
    assert re.search(r'<label for="q-satisfaction-2">Plutôt satisfait·e</label>', page)
    # A plain form: it is sent without JavaScript.
    assert re.search(r'<form method="post" action="/enquete/[^"]+" class="survey-form"', page)
    assert "hx-" not in page.split('<main class="container"')[1]


def test_the_page_shows_the_operator_and_nothing_of_the_person_nor_the_staff_menu(
    client, session, counsellor, invitation
):
    log_in(client, session, counsellor)  # a colleague's browser: still no staff menu
    beneficiary = session.get(Beneficiary, invitation.beneficiary_id)
    page = read(client.get(answer_path(invitation)))
    assert '<p class="site-brand public-brand">Auvergne-Rhône-Alpes</p>' in page
    assert "Navigation principale" not in page and "Se déconnecter" not in page
    assert beneficiary.last_name not in page and beneficiary.last_name.upper() not in page
    assert counsellor.full_name not in page


def test_the_page_keeps_its_address_out_of_referers_and_search_engines(client, invitation):
    response = client.get(answer_path(invitation))
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Robots-Tag"] == "noindex"
    assert response.headers["Cache-Control"] == "no-store"


# ---- links that no longer open -------------------------------------------------------------


def test_a_tampered_expired_or_foreign_link_gets_the_same_polite_404(client, session, invitation):
    path = answer_path(invitation)
    tampered = path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB")
    expired = answer_path(invitation, lifetime=timedelta(seconds=-1))
    document = "/enquete/" + create_link_token(
        purpose="document", subject_id=invitation.id, nonce=invitation.link_nonce
    )
    for address in (tampered, expired, document, "/enquete/pas-un-jeton"):
        response = client.get(address)
        page = read(response)
        assert response.status_code == 404, address
        assert "Ce lien n'est pas valable" in page and "expiré" in page
        assert "Votre avis" not in page and "Auvergne" not in page


def test_a_link_to_no_invitation_gets_a_404(client, session, invitation):
    token = create_link_token(purpose="survey", subject_id=invitation.id + 1000, nonce="x")
    assert client.get(f"/enquete/{token}").status_code == 404


@pytest.mark.parametrize(
    "status",
    [
        SurveyStatus.CANCELLED,
        SurveyStatus.OPTED_OUT,
        SurveyStatus.UNREACHABLE,
        SurveyStatus.SCHEDULED,
    ],
)
def test_a_closed_survey_gets_a_polite_410(client, session, invitation, status):
    path = answer_path(invitation)
    invitation.status = status
    session.add(invitation)
    session.flush()
    response = client.get(path)
    assert response.status_code == 410
    assert "Ce questionnaire est fermé" in read(response)
    assert "Dans l'ensemble" not in read(response)
    assert post(client, path, COMPLETE).status_code == 410
    assert responses(session) == []


def test_a_link_whose_nonce_was_replaced_no_longer_opens(client, session, invitation):
    old = answer_path(invitation, nonce="un-ancien-nonce")
    assert client.get(old).status_code == 410
    assert client.get(answer_path(invitation)).status_code == 200


def test_a_link_of_another_operators_questionnaire_never_shows_it(
    client, session, counsellor, invitation
):
    bre = make_operator(session, "BRE", "Bretagne")
    foreign = current_questionnaire(session=session, operator_id=bre.id, kind=invitation.kind)
    invitation.questionnaire_id = foreign.id
    session.add(invitation)
    session.flush()
    assert client.get(answer_path(invitation)).status_code == 404
    assert post(client, answer_path(invitation), COMPLETE).status_code == 404


# ---- saving and submitting -----------------------------------------------------------------


def test_saving_for_later_keeps_the_answers_and_the_page_comes_back_filled_in(
    client, session, invitation
):
    path = answer_path(invitation)
    partial = {"q-changements": ["emploi", "rien"], "q-commentaire": "À compléter"}
    response = post(client, path, partial, action="enregistrer")
    assert response.status_code == 200
    assert "Vos réponses sont enregistrées" in read(response)
    [saved] = responses(session)
    assert saved.answers == {"changements": ["emploi", "rien"], "commentaire": "À compléter"}
    assert saved.submitted_at is None and saved.started_at is not None
    session.refresh(invitation)
    assert invitation.status == SurveyStatus.SENT and invitation.link_nonce is not None

    page = client.get(path).text
    assert re.search(r'id="q-changements" name="q-changements" value="emploi" checked', page)
    assert re.search(r'name="q-changements" value="rien" checked', page)
    assert not re.search(r'value="formation" checked', page)
    assert "À compléter</textarea>" in read(client.get(path))


def test_saving_again_updates_the_same_answers(client, session, invitation):
    path = answer_path(invitation)
    post(client, path, {"q-satisfaction": "tres_satisfait"}, action="enregistrer")
    first = responses(session)[0]
    post(client, path, {"q-satisfaction": "plutot_satisfait"}, action="enregistrer")
    [again] = responses(session)
    assert again.id == first.id and again.answers == {"satisfaction": "plutot_satisfait"}
    assert again.updated_at >= again.started_at


def test_submitting_records_the_answers_the_measure_and_the_comment_once(
    client, session, invitation
):
    path = answer_path(invitation)
    response = post(client, path, COMPLETE)
    assert response.status_code == 200
    assert "Merci pour vos réponses" in read(response)
    [saved] = responses(session)
    assert saved.answers == {
        "satisfaction": "plutot_satisfait",
        "recommandation": "oui",
        "changements": ["formation", "projet"],
        "commentaire": "Merci à ma conseillère.",
    }
    assert (saved.satisfied, saved.useful) == (True, None)
    assert saved.comment == "Merci à ma conseillère."
    assert saved.questionnaire_id == invitation.questionnaire_id
    assert saved.operator_id == invitation.operator_id and saved.submitted_at is not None
    session.refresh(invitation)
    assert invitation.status == SurveyStatus.ANSWERED
    assert invitation.answered_at == saved.submitted_at
    assert invitation.link_nonce is None
    assert invitation.positive is True  # what the results count


def test_an_unhappy_answer_counts_as_not_satisfied(client, session, invitation):
    post(client, answer_path(invitation), {"q-satisfaction": "pas_du_tout_satisfait"})
    [saved] = responses(session)
    assert saved.satisfied is False and saved.comment == ""
    session.refresh(invitation)
    assert invitation.positive is False


def test_the_utility_survey_says_whether_the_advice_was_useful(client, session, counsellor, case):
    utility = sent_invitation(session, counsellor, case, kind=SurveyKind.UTILITY)
    post(client, answer_path(utility), {"q-utilite": "tres_utile", "q-changements": "emploi"})
    [saved] = responses(session)
    assert (saved.satisfied, saved.useful) == (None, True)
    session.refresh(utility)
    assert utility.positive is True


def test_a_draft_saved_earlier_is_submitted_in_place(client, session, invitation):
    path = answer_path(invitation)
    post(client, path, {"q-commentaire": "Premier jet"}, action="enregistrer")
    post(client, path, COMPLETE)
    [saved] = responses(session)
    assert saved.submitted_at is not None and saved.comment == "Merci à ma conseillère."


def test_after_submitting_the_link_says_it_was_answered(client, session, invitation):
    path = answer_path(invitation)
    post(client, path, COMPLETE)
    for response in (client.get(path), post(client, path, {"q-satisfaction": "tres_satisfait"})):
        assert response.status_code == 200
        assert "Vous avez déjà répondu, merci" in read(response)
    [saved] = responses(session)
    assert saved.answers["satisfaction"] == "plutot_satisfait"


def test_submitting_without_the_required_answer_is_refused_with_a_summary_linked_to_it(
    client, session, invitation
):
    path = answer_path(invitation)
    response = post(client, path, {"q-recommandation": "non", "q-commentaire": "Bof"})
    page = read(response)
    assert response.status_code == 422
    assert 'role="alert"' in page and "Une réponse est à revoir" in page
    assert '<a href="#q-satisfaction">Question 1 : Répondez à cette question' in page
    assert 'aria-describedby="q-satisfaction-error"' in page
    assert re.search(r'value="non" checked', page) and "Bof</textarea>" in page
    assert responses(session) == []
    session.refresh(invitation)
    assert invitation.status == SurveyStatus.SENT


@pytest.mark.parametrize(
    ("answers", "field", "message"),
    [
        ({"q-satisfaction": "ravi"}, "q-satisfaction", "ne fait pas partie des choix"),
        ({"q-changements": ["emploi", "loterie"]}, "q-changements", "ne fait pas partie"),
        (
            {"q-recommandation": ["oui", "non"]},
            "q-recommandation",
            "Choisissez une seule réponse",
        ),
        ({"q-commentaire": "x" * (MAX_TEXT + 1)}, "q-commentaire", "dépasse 2000 caractères"),
    ],
)
@pytest.mark.parametrize("action", ["envoyer", "enregistrer"])
def test_answers_that_do_not_fit_the_version_are_refused_and_nothing_is_written(
    client, session, invitation, answers, field, message, action
):
    response = post(client, answer_path(invitation), answers, action=action)
    page = read(response)
    assert response.status_code == 422
    assert f'<a href="#{field}">' in page and message in page
    assert responses(session) == []


def test_a_field_that_is_no_question_is_refused(client, session, invitation):
    response = post(client, answer_path(invitation), {**COMPLETE, "q-salaire": "3000"})
    assert response.status_code == 422
    assert "une question qui n'existe pas" in read(response)
    assert responses(session) == []


def test_a_long_text_is_shown_back_to_be_shortened(client, session, invitation):
    text = "é" * (MAX_TEXT + 5)
    page = read(post(client, answer_path(invitation), {"q-commentaire": text}))
    assert f">{text}</textarea>" in page


def test_free_text_is_stored_as_typed_and_escaped_on_the_page(client, session, invitation):
    path = answer_path(invitation)
    typed = '<script>alert("x")</script> & <b>gras</b>'
    post(client, path, {"q-commentaire": typed}, action="enregistrer")
    assert responses(session)[0].answers["commentaire"] == typed
    page = client.get(path).text
    assert "<script>alert" not in page and "<b>gras</b>" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;b&gt;gras&lt;/b&gt;" in page


def test_one_persons_saved_answers_never_show_on_anothers_page(
    client, session, counsellor, invitation
):
    post(client, answer_path(invitation), {"q-commentaire": "Mon secret"}, action="enregistrer")
    other = sent_invitation(session, counsellor, make_case(session, counsellor))
    page = read(client.get(answer_path(other)))
    assert "Mon secret" not in page and " checked" not in page


def test_a_link_can_only_write_its_own_invitation(client, session, counsellor, invitation):
    other = sent_invitation(session, counsellor, make_case(session, counsellor))
    post(client, answer_path(invitation), COMPLETE)
    session.refresh(other)
    assert other.status == SurveyStatus.SENT
    assert [r.invitation_id for r in responses(session)] == [invitation.id]


def test_a_post_without_the_csrf_token_is_refused(client, session, invitation):
    path = answer_path(invitation)
    client.get(path)
    response = client.post(path, data={**COMPLETE, "action": "envoyer"})
    assert response.status_code == 403
    assert responses(session) == []


def test_a_flood_of_submissions_from_one_address_is_held_back(
    client, session, invitation, monkeypatch
):
    monkeypatch.setattr(get_settings(), "public_rate_limit", "3/minute")
    path = answer_path(invitation)
    csrf = anonymous_csrf(client, path)
    for _ in range(3):
        assert post(client, path, {"q-recommandation": "oui"}, "enregistrer", csrf).status_code
    response = post(client, path, COMPLETE, csrf=csrf)
    assert response.status_code == 429
    assert "Réessayez dans une minute" in read(response)
    session.refresh(invitation)
    assert invitation.status == SurveyStatus.SENT


# ---- opting out ----------------------------------------------------------------------------


@pytest.fixture
def several(session, counsellor, case):
    """One person's surveys in each state about one episode, and somebody else's to answer."""
    episode = make_episode(session, counsellor, case)

    def one(kind, status):
        return sent_invitation(session, counsellor, case, kind=kind, status=status, episode=episode)

    stranger = make_case(session, counsellor, make_beneficiary(session, counsellor))
    return {
        "sent": one(SurveyKind.END_LEVEL_1, SurveyStatus.SENT),
        "scheduled": one(SurveyKind.UTILITY, SurveyStatus.SCHEDULED),
        "answered": one(SurveyKind.END_LEVEL_2, SurveyStatus.ANSWERED),
        "somebody_else": sent_invitation(session, counsellor, stranger),
    }


def test_opening_the_opt_out_link_changes_nothing_until_the_person_confirms(
    client, session, several
):
    sent = several["sent"]
    response = client.get(opt_out_link(sent))
    page = read(response)
    assert response.status_code == 200
    assert "Confirmer : ne plus recevoir de questionnaire" in page
    assert re.search(r'<form method="post" action="/enquete/desinscription/[^"]+">', page)
    session.refresh(sent)
    beneficiary = session.get(Beneficiary, sent.beneficiary_id)
    assert sent.status == SurveyStatus.SENT and beneficiary.survey_opt_out_at is None


def test_opting_out_closes_every_survey_to_come_for_that_person_at_once(client, session, several):
    sent = several["sent"]
    beneficiary = session.get(Beneficiary, sent.beneficiary_id)
    beneficiary.survey_consent_at = sent.created_at
    session.add(beneficiary)
    session.flush()
    link = opt_out_link(sent)
    response = client.post(link, data={"csrf_token": anonymous_csrf(client, link)})
    assert response.status_code == 200 and "C'est noté" in read(response)
    session.expire_all()
    statuses = {name: session.get(SurveyInvitation, i.id).status for name, i in several.items()}
    assert statuses == {
        "sent": SurveyStatus.OPTED_OUT,
        "scheduled": SurveyStatus.OPTED_OUT,
        "answered": SurveyStatus.ANSWERED,
        "somebody_else": SurveyStatus.SENT,
    }
    beneficiary = session.get(Beneficiary, sent.beneficiary_id)
    assert beneficiary.survey_consent_at is None and beneficiary.survey_opt_out_at is not None
    assert client.get(answer_path(sent)).status_code == 410


def test_opting_out_twice_keeps_the_first_date(client, session, several):
    link = opt_out_link(several["sent"])
    csrf = anonymous_csrf(client, link)
    client.post(link, data={"csrf_token": csrf})
    session.expire_all()
    first = session.get(Beneficiary, several["sent"].beneficiary_id).survey_opt_out_at
    assert "Vous avez déjà demandé" in read(client.get(link))
    assert client.post(link, data={"csrf_token": csrf}).status_code == 200
    session.expire_all()
    assert session.get(Beneficiary, several["sent"].beneficiary_id).survey_opt_out_at == first


def test_an_opt_out_link_is_not_an_answer_link_nor_the_reverse(client, session, invitation):
    opt_out_token = opt_out_link(invitation).rsplit("/", 1)[1]
    answer_token = answer_path(invitation).rsplit("/", 1)[1]
    assert client.get(f"/enquete/{opt_out_token}").status_code == 404
    assert client.get(f"/enquete/desinscription/{answer_token}").status_code == 404
    csrf = anonymous_csrf(client, "/enquete/desinscription/x")
    response = client.post(f"/enquete/desinscription/{answer_token}", data={"csrf_token": csrf})
    assert response.status_code == 404
    session.refresh(invitation)
    assert invitation.status == SurveyStatus.SENT


def test_an_expired_opt_out_link_gets_the_polite_404(client, invitation):
    response = client.get(opt_out_link(invitation, lifetime=timedelta(seconds=-1)))
    assert response.status_code == 404 and "Ce lien n'est pas valable" in read(response)


def test_the_answer_page_offers_the_opt_out_link(client, session, invitation):
    page = client.get(answer_path(invitation)).text
    link = re.search(r'<a href="(/enquete/desinscription/[^"]+)">Ne plus être sollicité', page)
    assert client.get(link.group(1)).status_code == 200


# ---- two submissions at the same instant, on a database whose commits are real -------------

RUSH = 8


@pytest.fixture(scope="module")
def committed(database_url, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("surveys")
    with scratch_database(database_url, "surveys", tmp) as url:
        engine = build_engine(url)
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), "head")
        from app.main import create_app

        application = create_app()
        application.dependency_overrides[get_session] = lambda: (yield from unit_of_work(engine))
        yield application, engine
        engine.dispose()


@pytest.mark.parametrize("first_action", ["envoyer", "enregistrer"])
def test_simultaneous_submissions_through_the_form_record_one_response(committed, first_action):
    """RUSH browsers post the form of one link at the same instant (say, a double tap, or the
    same link open on two devices): one submission wins, the others see « déjà répondu », and
    there is exactly one response — even when some of them only save."""
    application, engine = committed
    with Session(engine, expire_on_commit=False) as session:
        code = f"R{first_action[:2].upper()}"
        counsellor = make_staff(session, make_operator(session, code, f"Opérateur {code}"))
        invitation = sent_invitation(session, counsellor, make_case(session, counsellor))
        session.commit()
    path = answer_path(invitation)
    clients = [TestClient(application) for _ in range(RUSH)]
    tokens = [anonymous_csrf(each, path) for each in clients]
    barrier = threading.Barrier(RUSH)
    pages: list[tuple[int, str]] = []
    lock = threading.Lock()

    def send(n: int) -> None:
        # The first one may only save: a save racing the submissions must not add a response.
        action = first_action if n == 0 else "envoyer"
        form = {**COMPLETE, "action": action, "csrf_token": tokens[n]}
        barrier.wait()
        response = clients[n].post(path, data=form)
        with lock:
            pages.append((response.status_code, read(response)))

    threads = [threading.Thread(target=send, args=(n,)) for n in range(RUSH)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert len(pages) == RUSH and {status for status, _ in pages} == {200}
    thanks = [page for _, page in pages if "Merci pour vos réponses" in page]
    already = [page for _, page in pages if "Vous avez déjà répondu" in page]
    saved = [page for _, page in pages if "Vos réponses sont enregistrées. Vous pouvez" in page]
    assert len(thanks) == 1
    assert len(already) + len(saved) == RUSH - 1 and len(saved) <= 1
    with Session(engine) as session:
        rows = session.exec(
            select(SurveyResponse).where(SurveyResponse.invitation_id == invitation.id)
        ).all()
        stored = session.get(SurveyInvitation, invitation.id)
    assert len(rows) == 1 and rows[0].submitted_at is not None
    assert stored.status == SurveyStatus.ANSWERED and stored.link_nonce is None
