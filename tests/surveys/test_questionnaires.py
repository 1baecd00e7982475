"""The questionnaires' editor: a save is a new version (the old ones and their answers stay as
they were), an unchanged form writes nothing, a form that would break the reports' figure is
refused with French messages, and only the operator's administrators edit (its managers read)."""

import html

import pytest
from sqlmodel import select

from app.core.errors import Forbidden, Invalid, NotFound
from app.models.base import utcnow
from app.models.nomenclatures import Role
from app.models.surveys import (
    Measure,
    QuestionType,
    SurveyInvitation,
    SurveyKind,
    SurveyResponse,
)
from app.models.surveys import SurveyQuestionnaire as Questionnaire
from app.services.surveys.drafts import (
    MAX_QUESTIONS,
    Draft,
    QuestionDraft,
    checked,
    draft_of,
    read_draft,
    rearranged,
)
from app.services.surveys.editing import (
    questionnaire_view,
    questionnaires_view,
    restore_defaults,
    save_questionnaire,
)
from app.services.surveys.questionnaires import DEFAULTS, current_questionnaire
from tests.factories import (
    log_in,
    make_beneficiary,
    make_case,
    make_episode,
    make_staff,
)

END_1 = SurveyKind.END_LEVEL_1
URL = "/admin/enquetes/fin_niveau_1"


def versions(session, operator, kind=END_1) -> list[Questionnaire]:
    session.expire_all()
    return list(
        session.exec(
            select(Questionnaire)
            .where(Questionnaire.operator_id == operator.id, Questionnaire.kind == kind)
            .order_by(Questionnaire.version)
        )
    )


def opened(session, operator, kind=END_1) -> Draft:
    """The form as an administrator opens it: the version asked now."""
    current = current_questionnaire(session=session, operator_id=operator.id, kind=kind)
    return draft_of(current, kind)


def save(session, actor, draft, kind=END_1, operator_id=None):
    return save_questionnaire(
        session=session, actor=actor, kind=kind, draft=draft, operator_id=operator_id
    )


def refused(draft, kind=END_1) -> dict[str, str]:
    with pytest.raises(Invalid) as caught:
        checked(draft, kind)
    return caught.value.fields


def answered(session, counsellor, questionnaire) -> SurveyResponse:
    """A submitted answer to `questionnaire`."""
    case = make_case(session, counsellor, make_beneficiary(session, counsellor))
    episode = make_episode(session, counsellor, case)
    invitation = SurveyInvitation(
        operator_id=counsellor.operator_id,
        case_id=case.id,
        beneficiary_id=case.beneficiary_id,
        episode_id=episode.id,
        kind=questionnaire.kind,
        level=1,
        due_at=utcnow(),
        questionnaire_id=questionnaire.id,
    )
    session.add(invitation)
    session.flush()
    response = SurveyResponse(
        operator_id=counsellor.operator_id,
        invitation_id=invitation.id,
        questionnaire_id=questionnaire.id,
        answers={"satisfaction": "tres_satisfait"},
        satisfied=True,
        submitted_at=utcnow(),
    )
    session.add(response)
    session.flush()
    return response


# ---- versions ------------------------------------------------------------------------------


def test_the_default_questions_saved_unchanged_write_no_version(session, ara, admin):
    assert save(session, admin, opened(session, ara)) is None
    assert [v.version for v in versions(session, ara)] == [1]


def test_an_edit_writes_version_2_and_leaves_version_1_as_it_was(session, ara, admin):
    draft = opened(session, ara)
    first = versions(session, ara)[0]
    before = (first.title, first.intro, first.questions)
    draft.questions[1].label = "Parleriez-vous de nous à un ami ?"
    saved = save(session, admin, draft)
    first, second = versions(session, ara)
    assert (first.title, first.intro, first.questions) == before
    assert (second.id, second.version, second.created_by_id) == (saved.id, 2, admin.id)
    asked = current_questionnaire(session=session, operator_id=ara.id, kind=END_1)
    assert asked.parsed_questions()[1].label == "Parleriez-vous de nous à un ami ?"
    assert asked.parsed_questions()[1].key == "recommandation"  # its code kept


def test_an_answer_keeps_the_version_it_answered(session, ara, admin, counsellor):
    v1 = current_questionnaire(session=session, operator_id=ara.id, kind=END_1)
    response = answered(session, counsellor, v1)
    draft = opened(session, ara)
    draft.questions.pop(2)
    save(session, admin, draft)
    session.expire_all()
    assert session.get(SurveyResponse, response.id).questionnaire_id == v1.id
    assert len(session.get(Questionnaire, v1.id).questions) == 4
    page = questionnaire_view(session=session, actor=admin, kind=END_1)
    assert [(row.questionnaire.version, row.answers) for row in page.versions] == [(2, 0), (1, 1)]


def test_the_measured_question_keeps_its_figure_and_positive_answers(session, ara, admin):
    draft = opened(session, ara)
    draft.questions[0].options += "\nassez | Assez satisfait·e"
    draft.positive.append("assez")
    save(session, admin, draft)
    [satisfaction, *others] = versions(session, ara)[-1].parsed_questions()
    assert satisfaction.measure == Measure.SATISFACTION
    assert satisfaction.positive == ["tres_satisfait", "plutot_satisfait", "assez"]
    assert [q.measure for q in others] == [None, None, None]


def test_a_form_opened_on_an_older_version_is_refused_and_the_newer_one_kept(session, ara, admin):
    stale = opened(session, ara)
    newer = opened(session, ara)
    newer.title = "Votre avis compte"
    save(session, admin, newer)
    stale.title = "Un autre titre"
    with pytest.raises(Invalid) as caught:
        save(session, admin, stale)
    assert "version 2" in caught.value.fields["based_on"]
    assert [v.title for v in versions(session, ara)][-1] == "Votre avis compte"


def test_questions_come_back_to_the_defaults_as_a_new_version(session, ara, admin):
    assert restore_defaults(session=session, actor=admin, kind=END_1) is None
    draft = opened(session, ara)
    draft.title = "Autre chose"
    save(session, admin, draft)
    restored = restore_defaults(session=session, actor=admin, kind=END_1)
    assert restored.version == 3
    title, intro, questions = DEFAULTS[END_1]
    assert (restored.title, restored.intro) == (title, intro)
    assert restored.parsed_questions() == questions


def test_each_kind_and_each_operator_has_its_own_versions(session, ara, bre, admin):
    draft = opened(session, ara, SurveyKind.UTILITY)
    draft.intro = "Six mois déjà."
    save(session, admin, draft, SurveyKind.UTILITY)
    assert [v.version for v in versions(session, ara, SurveyKind.UTILITY)] == [1, 2]
    assert [v.version for v in versions(session, ara)] == []
    assert [v.version for v in versions(session, bre, SurveyKind.UTILITY)] == []


# ---- the form's rules ----------------------------------------------------------------------


def test_codes_left_blank_are_taken_from_the_labels(session, ara):
    draft = opened(session, ara)
    draft.questions.append(
        QuestionDraft(
            label="Qu'avez-vous préféré ?",
            type=QuestionType.CHOICE.value,
            options="L'écoute\nLes conseils\nfin | L'écoute !",
        )
    )
    _, _, questions = checked(draft, END_1)
    assert questions[-1].key == "qu_avez_vous_prefere"
    assert [o.value for o in questions[-1].options] == ["l_ecoute", "les_conseils", "fin"]


def test_two_questions_with_the_same_label_get_two_codes(session, ara):
    draft = opened(session, ara)
    draft.questions += [QuestionDraft(label="Autre chose ?", type="texte") for _ in range(2)]
    _, _, questions = checked(draft, END_1)
    assert [q.key for q in questions[-2:]] == ["autre_chose", "autre_chose_2"]


def test_a_questionnaire_keeps_at_least_one_question(session, ara):
    draft = opened(session, ara)
    draft.questions = []
    assert "au moins une question" in refused(draft)["questions"]


def test_two_questions_never_share_a_code(session, ara):
    draft = opened(session, ara)
    draft.questions[2].key = "Satisfaction"
    assert refused(draft)["q2-key"] == "Ce code est déjà celui de la question 1."


def test_a_choice_needs_two_answers_and_a_free_text_none(session, ara):
    draft = opened(session, ara)
    draft.questions[1].options = "Oui"
    draft.questions[3].options = "Oui\nNon"
    errors = refused(draft)
    assert errors["q1-options"] == "Proposez au moins deux réponses, une par ligne."
    assert "texte libre n'a pas de réponses" in errors["q3-options"]


def test_an_answer_without_label_or_twice_the_same_code_is_pointed_at_by_its_line(session, ara):
    draft = opened(session, ara)
    draft.questions[1].options = "oui | Oui\nnon |\noui | Bien sûr"
    message = refused(draft)["q1-options"]
    assert "ligne 2 : le libellé manque" in message
    assert "lignes 1 et 3 : même code « oui »" in message


def test_the_lengths_and_counts_are_bounded(session, ara):
    draft = opened(session, ara)
    draft.title = "T" * 201
    draft.questions[0].label = "Q" * 301
    draft.questions[1].options = "\n".join(f"Réponse {n}" for n in range(13))
    errors = refused(draft)
    assert errors["title"] == "200 caractères au plus (201 ici)."
    assert errors["q0-label"] == "300 caractères au plus (301 ici)."
    assert errors["q1-options"] == "12 réponses au plus (13 ici)."
    draft = opened(session, ara)
    draft.questions += [QuestionDraft(label="Encore ?", type="texte")] * MAX_QUESTIONS
    assert refused(draft)["questions"] == f"{MAX_QUESTIONS} questions au plus."


def test_a_blank_title_or_question_is_asked_for(session, ara):
    draft = opened(session, ara)
    draft.title = "   "
    draft.questions[2].label = ""
    errors = refused(draft)
    assert "Donnez un titre" in errors["title"]
    assert errors["q2-label"] == "Écrivez la question."


@pytest.mark.parametrize(
    ("kind", "word"),
    [(SurveyKind.END_LEVEL_2, "satisfaction"), (SurveyKind.UTILITY, "utilité")],
)
def test_the_figure_needs_its_question(session, ara, kind, word):
    draft = opened(session, ara, kind)
    draft.measure = ""
    assert word in refused(draft, kind)["measure"]


def test_removing_the_measured_question_is_refused(session, ara):
    draft, _, _ = rearranged(opened(session, ara), "retirer-0")
    assert draft.measure == ""
    assert "satisfaction" in refused(draft)["measure"]


def test_the_figure_comes_from_a_required_single_answer_question(session, ara):
    draft = opened(session, ara)
    draft.measure = "2"  # « Qu'est-ce qui a changé », several answers
    assert "une seule réponse" in refused(draft)["measure"]
    draft = opened(session, ara)
    draft.questions[0].required = False
    assert "doit être obligatoire" in refused(draft)["measure"]


def test_the_figure_needs_a_positive_and_a_negative_answer(session, ara):
    draft = opened(session, ara)
    draft.positive = []
    assert refused(draft)["positive"] == (
        "Cochez au moins une réponse qui compte comme « satisfait·e »."
    )
    draft.positive = [line.split(" | ")[0] for line in draft.questions[0].options.splitlines()]
    assert "toujours 100 %" in refused(draft)["positive"]


def test_positive_answers_that_no_longer_exist_are_asked_again(session, ara):
    draft = opened(session, ara, SurveyKind.UTILITY)
    draft.questions[0].options = "Oui\nNon"
    assert "cochez à nouveau" in refused(draft, SurveyKind.UTILITY)["positive"]


# ---- rearranging ---------------------------------------------------------------------------


def test_moving_a_question_keeps_the_measured_one(session, ara):
    draft, where, said = rearranged(opened(session, ara), "descendre-0")
    assert [q.key for q in draft.questions[:2]] == ["recommandation", "satisfaction"]
    assert (draft.measure, where) == ("1", 1)
    assert "question 2" in said and "Rien n'est enregistré" in said
    draft, _, _ = rearranged(draft, "monter-1")
    assert (draft.questions[0].key, draft.measure) == ("satisfaction", "0")


def test_adding_and_removing_questions(session, ara):
    draft, where, _ = rearranged(opened(session, ara), "ajouter")
    assert (len(draft.questions), where, draft.questions[-1].label) == (5, 4, "")
    draft, where, _ = rearranged(draft, "retirer-1")
    assert [q.key for q in draft.questions] == ["satisfaction", "changements", "commentaire", ""]
    assert (draft.measure, where) == ("0", 1)


def test_a_question_cannot_move_past_either_end(session, ara):
    draft = opened(session, ara)
    assert rearranged(draft, "monter-0")[0] is draft
    assert rearranged(draft, "descendre-3")[0] is draft
    assert rearranged(draft, "retirer-99")[0] is draft


def test_the_form_sent_back_reads_as_the_draft_it_shows(session, ara):
    draft = opened(session, ara)
    sent = {**draft.as_form(), "csrf_token": "x"}
    positive = sent.pop("positive")
    read = read_draft(_Form(sent, positive))
    assert read == draft


class _Form(dict):
    """A form as the browser sends it: `positive` ticked several times."""

    def __init__(self, fields, positive):
        super().__init__(fields)
        self.positive = positive

    def getlist(self, name):
        return self.positive if name == "positive" else [self[name]]


# ---- who may read and edit -----------------------------------------------------------------


def test_managers_read_but_never_edit(session, ara, manager):
    page = questionnaires_view(session=session, actor=manager)
    assert [row.kind for row in page.rows] == list(SurveyKind)
    assert not page.can_edit
    with pytest.raises(Forbidden):
        save(session, manager, opened(session, ara))


@pytest.mark.parametrize("role", [Role.COUNSELLOR, Role.NATIONAL_OBSERVER])
def test_other_roles_are_refused(session, ara, role):
    user = make_staff(session, None if role == Role.NATIONAL_OBSERVER else ara, role)
    with pytest.raises(Forbidden):
        questionnaires_view(session=session, actor=user)


def test_an_administrator_never_reaches_another_operators_questionnaires(session, ara, bre, admin):
    with pytest.raises(NotFound):
        questionnaire_view(session=session, actor=admin, kind=END_1, operator_id=bre.id)
    with pytest.raises(NotFound):
        save(session, admin, opened(session, bre), operator_id=bre.id)
    assert [v.version for v in versions(session, bre)] == [1]  # only the one opened above


def test_a_system_administrator_edits_any_operators(session, ara, bre):
    sysadmin = make_staff(session, None, Role.SYSADMIN)
    draft = opened(session, bre)
    draft.title = "Votre avis, en Bretagne"
    saved = save(session, sysadmin, draft, operator_id=bre.id)
    assert (saved.operator_id, saved.version) == (bre.id, 2)
    page = questionnaires_view(session=session, actor=sysadmin, operator_id=bre.id)
    assert [operator.code for operator in page.operators] == ["ARA", "BRE"]


# ---- the pages -----------------------------------------------------------------------------


@pytest.fixture
def as_admin(client, session, admin):
    return client, log_in(client, session, admin)


def sent(draft: Draft, csrf: str, **changes) -> dict:
    return {**draft.as_form(), "csrf_token": csrf, **changes}


def test_the_list_shows_each_questionnaire_with_its_version_and_answers(
    as_admin, session, ara, admin, counsellor
):
    client, _ = as_admin
    answered(
        session, counsellor, current_questionnaire(session=session, operator_id=ara.id, kind=END_1)
    )
    page = client.get("/admin/enquetes")
    assert page.status_code == 200
    for kind in SurveyKind:
        assert f'href="/admin/enquetes/{kind.value}"' in page.text
    assert '<td data-label="Réponses à cette version">1</td>' in page.text
    assert "Questions par défaut" in page.text


def test_saving_the_form_writes_a_version_and_says_so(as_admin, session, ara, admin):
    client, csrf = as_admin
    draft = opened(session, ara)
    response = client.post(
        URL, data=sent(draft, csrf, title="Votre avis, deux minutes"), follow_redirects=False
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"{URL}?fait=enregistree#fait"
    page = html.unescape(client.get(response.headers["location"]).text)
    assert "Nouvelle version enregistrée" in page
    assert "Version 2, posée actuellement" in page
    assert admin.full_name in page and "Version 1 —" in page


def test_saving_the_form_unchanged_writes_nothing(as_admin, session, ara):
    client, csrf = as_admin
    response = client.post(URL, data=sent(opened(session, ara), csrf), follow_redirects=False)
    assert response.headers["location"] == f"{URL}?fait=inchangee#fait"
    assert len(versions(session, ara)) == 1
    assert "Rien n'a changé" in html.unescape(client.get(response.headers["location"]).text)


def test_a_wrong_form_comes_back_with_its_messages_and_what_was_typed(as_admin, session, ara):
    client, csrf = as_admin
    form = sent(opened(session, ara), csrf, **{"q1-options": "Oui", "q1-label": "Et <b>là</b> ?"})
    page = client.post(URL, data=form)
    assert page.status_code == 200
    assert "Proposez au moins deux réponses" in page.text
    assert 'value="Et &lt;b&gt;là&lt;/b&gt; ?"' in page.text
    assert 'aria-invalid="true" aria-describedby="q1-options-hint q1-options-error"' in page.text
    assert len(versions(session, ara)) == 1


def test_moving_a_question_shows_the_form_again_without_saving(as_admin, session, ara):
    client, csrf = as_admin
    page = client.post(URL, data=sent(opened(session, ara), csrf, action="descendre-0"))
    assert page.status_code == 200
    assert "elle est maintenant la question 2" in page.text
    first = page.text.index("<legend>Question 1</legend>")
    assert page.text.index('value="recommandation"', first) < page.text.index("Question 2</legend>")
    assert '<option value="1" selected>Question 2' in page.text  # the figure followed it
    assert len(versions(session, ara)) == 1


def test_adding_a_question_opens_a_blank_one(as_admin, session, ara):
    client, csrf = as_admin
    page = client.post(URL, data=sent(opened(session, ara), csrf, action="ajouter"))
    assert "Question 5 ajoutée" in page.text
    assert "<legend>Question 5</legend>" in page.text
    assert len(versions(session, ara)) == 1


def test_coming_back_to_the_defaults_from_the_page(as_admin, session, ara, admin):
    client, csrf = as_admin
    draft = opened(session, ara)
    client.post(URL, data=sent(draft, csrf, title="Autre"))
    response = client.post(f"{URL}/defaut", data={"csrf_token": csrf}, follow_redirects=False)
    assert response.headers["location"] == f"{URL}?fait=defaut#fait"
    assert [v.version for v in versions(session, ara)] == [1, 2, 3]


def test_a_manager_reads_the_page_without_the_form(client, session, ara, manager):
    csrf = log_in(client, session, manager)
    page = client.get(URL)
    assert page.status_code == 200
    assert "Version 1, posée actuellement" in html.unescape(page.text)
    assert f'action="{URL}"' not in page.text
    assert client.post(URL, data=sent(opened(session, ara), csrf, title="X")).status_code == 403
    assert client.post(f"{URL}/defaut", data={"csrf_token": csrf}).status_code == 403
    assert len(versions(session, ara)) == 1


@pytest.mark.parametrize("role", [Role.COUNSELLOR, Role.NATIONAL_OBSERVER])
def test_the_pages_are_refused_to_other_roles(client, session, ara, role):
    log_in(
        client, session, make_staff(session, None if role == Role.NATIONAL_OBSERVER else ara, role)
    )
    assert client.get("/admin/enquetes").status_code == 403
    assert client.get(URL).status_code == 403


def test_a_post_without_the_csrf_token_is_refused(as_admin, session, ara):
    client, csrf = as_admin
    form = sent(opened(session, ara), csrf, title="Sans jeton")
    del form["csrf_token"]
    assert client.post(URL, data=form).status_code == 403
    assert client.post(f"{URL}/defaut", data={}).status_code == 403
    assert len(versions(session, ara)) == 1


def test_an_unknown_questionnaire_is_not_found(as_admin):
    client, csrf = as_admin
    assert client.get("/admin/enquetes/fin_niveau_3").status_code == 404
    assert client.post("/admin/enquetes/autre", data={"csrf_token": csrf}).status_code == 404


def test_a_system_administrator_chooses_the_operator(client, session, ara, bre):
    csrf = log_in(client, session, make_staff(session, None, Role.SYSADMIN))
    listed = client.get(f"/admin/enquetes?operateur={bre.id}")
    assert f'href="/admin/enquetes/fin_niveau_1?operateur={bre.id}"' in listed.text
    url = f"{URL}?operateur={bre.id}"
    form = sent(opened(session, bre), csrf, title="Breizh")
    response = client.post(url, data=form, follow_redirects=False)
    assert response.headers["location"] == f"{URL}?operateur={bre.id}&fait=enregistree#fait"
    assert [v.title for v in versions(session, bre)][-1] == "Breizh"
    assert len(versions(session, ara)) == 0
