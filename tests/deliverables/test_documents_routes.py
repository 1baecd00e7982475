"""Deliverable pages, the beneficiary's signed link, and the deliverables API."""

import html
import io

import pytest
from pypdf import PdfReader
from sqlmodel import select
from starlette.testclient import TestClient

from app.core.security import create_api_token
from app.core.storage import sha256_of
from app.models.beneficiaries import Beneficiary
from app.models.deliverables import Deliverable, DeliverableVersion
from app.models.outbox import OutboxMessage
from tests.factories import (
    PDF,
    confirmations,
    deliverable_kind,
    log_in,
    make_case,
    make_interaction,
    make_operator,
    make_staff,
)

HTMX = {"HX-Request": "true"}


@pytest.fixture
def setup(client, session):
    user = make_staff(session, make_operator(session))
    csrf = log_in(client, session, user)
    case = make_case(session, user, request_text="Changer de métier")
    make_interaction(session, user, case, summary="Exploration des pistes")
    return user, case, csrf


def start(client, session, case, csrf, code="document_synthese"):
    response = client.post(
        f"/cases/{case.id}/deliverables",
        data={"kind_id": deliverable_kind(session, case.operator_id, code).id, "csrf_token": csrf},
        follow_redirects=False,
    )
    assert response.status_code == 303
    return session.exec(select(Deliverable)).one()


def test_drafting_from_the_case_opens_the_prefilled_editor(client, session, setup):
    _, case, csrf = setup
    deliverable = start(client, session, case, csrf)
    page = client.get(f"/deliverables/{deliverable.id}")
    assert page.status_code == 200
    assert "Changer de métier" in page.text and "Exploration des pistes" in page.text
    assert "Document de synthèse" in client.get(f"/cases/{case.id}?section=documents").text


def test_autosave_answers_with_the_save_status(client, session, setup):
    _, case, csrf = setup
    deliverable = start(client, session, case, csrf)
    response = client.post(
        f"/deliverables/{deliverable.id}/draft",
        data={"section-libre-1": "Aide-soignante", "csrf_token": csrf},
        headers=HTMX,
    )
    assert response.status_code == 200 and "Brouillon enregistré" in response.text
    assert "<html" not in response.text
    session.refresh(deliverable)
    assert deliverable.sections[2]["body"] == "Aide-soignante"


def test_issue_then_download_the_pdf_with_its_hash(client, session, setup):
    _, case, csrf = setup
    deliverable = start(client, session, case, csrf)
    response = client.post(
        f"/deliverables/{deliverable.id}/issue",
        data={"section-libre-1": "Projet écrit au dernier moment", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert response.status_code == 303
    version = session.exec(select(DeliverableVersion)).one()
    assert version.content["sections"][2]["body"] == "Projet écrit au dernier moment"
    pdf = client.get(f"/deliverables/{deliverable.id}/versions/1/pdf")
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["content-disposition"].startswith("attachment;")
    assert pdf.headers["x-content-type-options"] == "nosniff"
    assert sha256_of(pdf.content) == version.sha256
    timeline = client.get(f"/cases/{case.id}").text
    assert "Livrable émis" in timeline


def test_issuing_twice_without_changes_shows_a_clear_error(client, session, setup):
    _, case, csrf = setup
    deliverable = start(client, session, case, csrf)
    client.post(f"/deliverables/{deliverable.id}/issue", data={"csrf_token": csrf})
    again = client.post(f"/deliverables/{deliverable.id}/issue", data={"csrf_token": csrf})
    assert "déjà émise" in again.text
    assert len(session.exec(select(DeliverableVersion)).all()) == 1


def test_beneficiary_reads_downloads_and_acknowledges_from_the_link(client, session, setup):
    _, case, csrf = setup
    deliverable = start(client, session, case, csrf)
    client.post(f"/deliverables/{deliverable.id}/issue", data={"csrf_token": csrf})
    client.post(f"/deliverables/{deliverable.id}/versions/1/share", data={"csrf_token": csrf})
    message = session.exec(select(OutboxMessage)).one()
    path = "/documents/" + message.body_text.split("/documents/")[1].split()[0]

    client.cookies.clear()  # the beneficiary has no account
    page = client.get(path)
    assert page.status_code == 200 and "J'ai pris connaissance" in page.text
    assert page.headers["referrer-policy"] == "no-referrer"
    assert client.get(f"{path}/pdf").content.startswith(b"%PDF")
    refused = client.post(f"{path}/acknowledge", data={})
    assert refused.status_code == 403
    token = client.cookies.get("filrouge_csrf")
    done = client.post(f"{path}/acknowledge", data={"csrf_token": token})
    assert "Vous avez indiqué avoir pris connaissance" in done.text
    version = session.exec(select(DeliverableVersion)).one()
    session.refresh(version)
    assert version.acknowledgement_method == "online"


def test_a_tampered_link_gets_a_polite_404(client, session, setup):
    client.cookies.clear()
    page = client.get("/documents/eyJhbGciOiJIUzI1NiJ9.e30.abc")
    assert page.status_code == 404 and "pas valide ou a expiré" in page.text


def test_a_counsellor_revokes_a_shared_link_and_can_share_a_new_one(client, session, setup):
    user, case, csrf = setup
    deliverable = start(client, session, case, csrf)
    client.post(f"/deliverables/{deliverable.id}/issue", data={"csrf_token": csrf})
    share = f"/deliverables/{deliverable.id}/versions/1/share"
    client.post(share, data={"csrf_token": csrf})
    [message] = session.exec(select(OutboxMessage)).all()
    old = "/documents/" + message.body_text.split("/documents/")[1].split()[0]
    page = client.get(f"/deliverables/{deliverable.id}").text
    assert "Révoquer le lien" in page
    revoked = client.post(
        f"/deliverables/{deliverable.id}/versions/1/revoke-link",
        data={"csrf_token": csrf},
        follow_redirects=False,
    )
    assert revoked.status_code == 303
    page = client.get(f"/deliverables/{deliverable.id}").text
    assert "Lien révoqué le" in page and f"par {user.full_name}" in page
    assert "Révoquer le lien" not in page and "Envoyer un nouveau lien" in page

    beneficiary = TestClient(client.app)  # no account, no cookie
    for response in (beneficiary.get(old), beneficiary.get(f"{old}/pdf")):
        assert response.status_code == 410
        assert "Ce lien n'est plus valable" in html.unescape(response.text)
        assert "Contactez votre conseiller·ère" in response.text
        assert response.headers["referrer-policy"] == "no-referrer"
    csrf_cookie = beneficiary.cookies.get("filrouge_csrf")
    acknowledged = beneficiary.post(f"{old}/acknowledge", data={"csrf_token": csrf_cookie})
    assert acknowledged.status_code == 410

    client.post(share, data={"csrf_token": csrf})
    newest = session.exec(select(OutboxMessage).order_by(OutboxMessage.id.desc())).first()
    new = "/documents/" + newest.body_text.split("/documents/")[1].split()[0]
    assert new != old
    assert beneficiary.get(new).status_code == 200
    assert beneficiary.get(old).status_code == 410
    assert "Lien précédent révoqué le" in client.get(f"/deliverables/{deliverable.id}").text


def test_revoking_needs_the_csrf_token_and_a_shared_version(client, session, setup):
    _, case, csrf = setup
    deliverable = start(client, session, case, csrf)
    client.post(f"/deliverables/{deliverable.id}/issue", data={"csrf_token": csrf})
    url = f"/deliverables/{deliverable.id}/versions/1/revoke-link"
    assert client.post(url).status_code == 403
    page = client.post(url, data={"csrf_token": csrf})
    assert "pas de lien à révoquer" in page.text


def test_another_operator_gets_404_on_deliverable_and_pdf(client, session, setup):
    _, case, csrf = setup
    deliverable = start(client, session, case, csrf)
    client.post(f"/deliverables/{deliverable.id}/issue", data={"csrf_token": csrf})
    stranger = make_staff(session, make_operator(session, code="BRE", name="Bretagne"))
    log_in(client, session, stranger)
    assert client.get(f"/deliverables/{deliverable.id}").status_code == 404
    assert client.get(f"/deliverables/{deliverable.id}/versions/1/pdf").status_code == 404


def test_api_drafts_issues_lists_and_downloads(client, session, setup):
    user, case, _ = setup
    headers = {"Authorization": f"Bearer {create_api_token(user)}"}
    kind_id = deliverable_kind(session, case.operator_id).id
    created = client.post(
        f"/api/v1/cases/{case.id}/deliverables", json={"kind_id": kind_id}, headers=headers
    )
    assert created.status_code == 201
    deliverable_id = created.json()["id"]
    saved = client.put(
        f"/api/v1/deliverables/{deliverable_id}/sections",
        json={"libre-1": "Par l'API"},
        headers=headers,
    )
    assert saved.json()["sections"][2]["body"] == "Par l'API"
    issued = client.post(f"/api/v1/deliverables/{deliverable_id}/issue", headers=headers)
    assert issued.status_code == 201 and issued.json()["number"] == 1
    listed = client.get(f"/api/v1/cases/{case.id}/deliverables", headers=headers).json()
    assert listed[0]["versions"][0]["sha256"] == issued.json()["sha256"]
    pdf = client.get(f"/api/v1/deliverables/{deliverable_id}/versions/1/pdf", headers=headers)
    assert sha256_of(pdf.content) == issued.json()["sha256"]
    again = client.post(f"/api/v1/deliverables/{deliverable_id}/issue", headers=headers)
    assert again.status_code == 409


def test_a_signed_scan_acknowledges_the_version_and_joins_the_case_files(client, session, setup):
    _, case, csrf = setup
    deliverable = start(client, session, case, csrf)
    client.post(f"/deliverables/{deliverable.id}/issue", data={"csrf_token": csrf})
    response = client.post(
        f"/deliverables/{deliverable.id}/versions/1/scan",
        data={"csrf_token": csrf},
        files={"file": ("signé.pdf", PDF, "application/pdf")},
        follow_redirects=False,
    )
    assert response.status_code == 303
    version = session.exec(select(DeliverableVersion)).one()
    session.refresh(version)
    assert version.acknowledgement_method == "signed_scan" and version.scan_attachment_id
    assert "Exemplaire signé" in client.get(f"/cases/{case.id}").text
    again = client.post(
        f"/deliverables/{deliverable.id}/versions/1/scan",
        data={"csrf_token": csrf},
        files={"file": ("signé.pdf", PDF, "application/pdf")},
    )
    assert again.status_code == 409 and "déjà pris connaissance" in again.text


def test_an_executable_is_not_a_signed_scan(client, session, setup):
    _, case, csrf = setup
    deliverable = start(client, session, case, csrf)
    client.post(f"/deliverables/{deliverable.id}/issue", data={"csrf_token": csrf})
    response = client.post(
        f"/deliverables/{deliverable.id}/versions/1/scan",
        data={"csrf_token": csrf},
        files={"file": ("scan.pdf", b"\x7fELF\x02\x01\x01" + b"\0" * 200, "application/pdf")},
    )
    assert response.status_code == 422 and "exécutable" in response.text
    version = session.exec(select(DeliverableVersion)).one()
    assert version.acknowledged_at is None


def test_the_deliverable_page_shows_the_state_of_the_sharing_email(client, session, setup):
    _, case, csrf = setup
    deliverable = start(client, session, case, csrf)
    client.post(f"/deliverables/{deliverable.id}/issue", data={"csrf_token": csrf})
    client.post(f"/deliverables/{deliverable.id}/versions/1/share", data={"csrf_token": csrf})
    page = client.get(f"/deliverables/{deliverable.id}")
    assert "En attente d'accusé de lecture" in page.text
    assert "En attente d'envoi" in page.text


def test_the_preview_is_the_pdf_to_issue_and_stores_nothing(client, session, setup):
    _, case, csrf = setup
    deliverable = start(client, session, case, csrf)
    answer = client.get(f"/deliverables/{deliverable.id}/preview")
    assert answer.status_code == 200 and answer.content.startswith(b"%PDF")
    assert answer.headers["content-type"] == "application/pdf"
    assert "apercu-document-de-synth" in answer.headers["content-disposition"]
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(answer.content)).pages)
    assert "Aperçu – non émis" in text and "Version 1" in text and "Exploration des pistes" in text
    session.refresh(deliverable)
    assert deliverable.version_count == 0 and deliverable.status == "draft"
    assert session.exec(select(DeliverableVersion)).all() == []


def test_the_editor_previews_the_text_as_typed_without_saving_it(client, session, setup):
    _, case, csrf = setup
    deliverable = start(client, session, case, csrf)
    page = client.get(f"/deliverables/{deliverable.id}")
    assert f'formaction="/deliverables/{deliverable.id}/preview"' in page.text
    answer = client.post(
        f"/deliverables/{deliverable.id}/preview",
        data={"section-libre-1": "Devenir infirmière", "csrf_token": csrf},
    )
    assert answer.status_code == 200 and answer.content.startswith(b"%PDF")
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(answer.content)).pages)
    assert "Devenir infirmière" in text
    session.refresh(deliverable)
    assert all(s["body"] != "Devenir infirmière" for s in deliverable.sections)
    assert session.exec(select(DeliverableVersion)).all() == []


def test_previewing_needs_the_csrf_token_when_it_sends_text(client, session, setup):
    _, case, csrf = setup
    deliverable = start(client, session, case, csrf)
    answer = client.post(f"/deliverables/{deliverable.id}/preview", data={"section-libre-1": "x"})
    assert answer.status_code == 403


# ---- every action answers: the page it comes back to says what was done -----------------------


def test_each_action_comes_back_to_a_page_that_confirms_it_where_it_was_done(
    client, session, setup
):
    _, case, csrf = setup
    deliverable = start(client, session, case, csrf)
    url = f"/deliverables/{deliverable.id}"
    email = session.get(Beneficiary, case.beneficiary_id).email

    def act(path: str, said: str, location: str, **post) -> str:
        answer = client.post(f"{url}{path}", data={"csrf_token": csrf}, **post)
        assert answer.history[0].status_code == 303
        assert answer.history[0].headers["location"] == f"{url}{location}"
        assert confirmations(answer) == [f"[focus] {said}"]
        assert answer.text.count("autofocus") == 1
        return answer.text

    drafted = client.get(f"{url}?fait=brouillon")
    assert confirmations(drafted) == ["[focus] Brouillon créé, pré-rempli à partir du dossier."]
    page = act("/draft", "Brouillon enregistré.", "?fait=enregistre")
    assert page.index("Enregistrer le brouillon") < page.index('class="alert success done"')
    page = act("/issue", "Version 1 émise.", "?fait=emise&version=1")
    assert page.index('id="version-1"') < page.index('class="alert success done"')
    act("/versions/1/share", f"Version 1 envoyée à {email}.", "?fait=envoyee&version=1")
    act(
        "/versions/1/revoke-link",
        "Lien de la version 1 révoqué.",
        "?fait=lien-revoque&version=1",
    )
    act(
        "/versions/1/scan",
        "Exemplaire signé de la version 1 déposé : la version est accusée.",
        "?fait=scan&version=1",
        files={"file": ("signé.pdf", PDF, "application/pdf")},
    )


def test_drafting_from_the_case_lands_on_a_confirmed_editor(client, session, setup):
    _, case, csrf = setup
    kind = deliverable_kind(session, case.operator_id, "document_synthese")
    answer = client.post(
        f"/cases/{case.id}/deliverables", data={"kind_id": kind.id, "csrf_token": csrf}
    )
    assert answer.history[0].headers["location"].endswith("?fait=brouillon")
    assert confirmations(answer) == ["[focus] Brouillon créé, pré-rempli à partir du dossier."]


def test_a_refusal_or_an_address_that_does_not_match_confirms_nothing(client, session, setup):
    _, case, csrf = setup
    deliverable = start(client, session, case, csrf)
    url = f"/deliverables/{deliverable.id}"
    client.post(f"{url}/issue", data={"csrf_token": csrf})
    again = client.post(f"{url}/issue", data={"csrf_token": csrf})
    assert "déjà émise" in again.text and confirmations(again) == []
    assert confirmations(client.get(f"{url}?fait=emise&version=2")) == []  # no version 2
    assert confirmations(client.get(f"{url}?fait=emise")) == []
    assert client.get(f"{url}?fait=Bravo").status_code == 422
