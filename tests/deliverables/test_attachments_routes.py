"""Attachments over HTTP: upload by form, htmx and API; download only by the case's operator."""

import io
import zipfile

import pytest
from sqlmodel import func, select

from app.core.config import get_settings
from app.core.security import create_api_token
from app.models.attachments import Attachment
from app.models.cases import Case
from tests.factories import PDF, confirmations, log_in, make_operator, make_staff

pytestmark = pytest.mark.usefixtures("storage_dir")  # files in a directory of their own

HTMX = {"HX-Request": "true"}
ELF = b"\x7fELF\x02\x01\x01" + b"\x00" * 100
MB = 1024 * 1024


def stored(root) -> list:
    return [path for path in root.rglob("*") if path.is_file()]


def attachment_count(session) -> int:
    session.expire_all()
    return session.exec(select(func.count()).select_from(Attachment)).one()


def assert_nothing_kept(session, storage_dir):
    assert attachment_count(session) == 0
    assert stored(storage_dir) == []


def zip_bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", b"<Types/>")
        with archive.open("word/document.xml", "w", force_zip64=True) as entry:
            for _ in range(200):
                entry.write(bytes(MB))
    return buffer.getvalue()


def upload(client, case, csrf, content=PDF, name="bulletin.pdf", headers=None, **fields):
    return client.post(
        f"/cases/{case.id}/attachments",
        data={"csrf_token": csrf, **fields},
        files={"file": (name, content, "application/pdf")},
        headers=headers or {},
        follow_redirects=False,
    )


# ---- pages --------------------------------------------------------------------------------


def test_plain_upload_keeps_the_file_and_goes_back_to_the_case(
    client, session, case, csrf, storage_dir
):
    response = upload(client, case, csrf, description="Bulletin de mars")
    assert response.status_code == 303
    assert response.headers["location"] == f"/cases/{case.id}?section=pieces-jointes#pieces-jointes"
    attachment = session.exec(select(Attachment)).one()
    assert (attachment.case_id, attachment.filename, attachment.content_type) == (
        case.id,
        "bulletin.pdf",
        "application/pdf",
    )
    assert attachment.description == "Bulletin de mars" and attachment.size_bytes == len(PDF)
    assert stored(storage_dir) == [
        storage_dir / attachment.storage_key[:2] / attachment.storage_key
    ]


def test_htmx_upload_returns_the_section_with_the_new_file(client, session, case, csrf, counsellor):
    response = upload(client, case, csrf, headers=HTMX)
    assert response.status_code == 200
    assert "<html" not in response.text
    assert 'id="pieces-jointes"' in response.text
    assert "Pièce jointe « bulletin.pdf » ajoutée." in response.text
    assert counsellor.full_name in response.text and "PDF" in response.text


def test_an_upload_is_confirmed_below_the_form_with_a_link_to_the_new_file(
    client, session, case, csrf
):
    upload(client, case, csrf, name="ancien.pdf")
    response = upload(client, case, csrf, headers=HTMX)
    attachment = session.exec(select(Attachment).where(Attachment.filename == "bulletin.pdf")).one()
    assert confirmations(response) == [
        "[focus] Pièce jointe « bulletin.pdf » ajoutée. Voir la pièce jointe"
    ]
    assert f'<a href="#piece-{attachment.id}">' in response.text
    assert response.text.count("autofocus") == 1
    # The new file heads the list (newest first); the message is said by the form.
    text = response.text
    assert text.index(f'id="piece-{attachment.id}"') < text.index("ancien.pdf")
    assert text.index("Ajouter la pièce jointe</button>") < text.index('class="alert success done"')


def test_a_refused_upload_confirms_nothing(client, session, case, csrf):
    response = upload(client, case, csrf, content=ELF, name="facture.pdf", headers=HTMX)
    assert response.status_code == 422 and confirmations(response) == []
    assert response.text.count("autofocus") == 1  # the file field in error


def test_the_page_lists_attachments_with_size_date_and_author(
    client, session, counsellor, case, csrf
):
    upload(client, case, csrf, description="Pièce d'identité")
    page = client.get(f"/cases/{case.id}/attachments")
    assert page.status_code == 200
    attachment = session.exec(select(Attachment)).one()
    assert f'href="/attachments/{attachment.id}/download"' in page.text
    assert (
        "Pièce d&#39;identité" in page.text
        and "octets" in page.text
        and counsellor.full_name in page.text
    )


def test_swapped_fragment_equals_the_part_of_the_full_page(client, case, csrf):
    upload(client, case, csrf)
    fragment = client.get(f"/cases/{case.id}/attachments", headers=HTMX).text.strip()
    assert fragment.startswith('<section id="pieces-jointes"')
    assert fragment in client.get(f"/cases/{case.id}/attachments").text


def test_a_closed_case_still_takes_attachments(client, session, case, csrf):
    client.post(f"/cases/{case.id}/close", data={"reason": "termine", "csrf_token": csrf})
    assert upload(client, case, csrf).status_code == 303
    assert attachment_count(session) == 1


@pytest.mark.parametrize("headers", [HTMX, {}], ids=["htmx", "plain"])
def test_an_executable_renamed_pdf_is_refused_next_to_the_field(
    client, session, case, csrf, storage_dir, headers
):
    response = upload(client, case, csrf, content=ELF, name="facture.pdf", headers=headers)
    assert response.status_code == 422
    assert "fichier exécutable détecté" in response.text
    assert 'id="attachment-file-error" role="alert"' in response.text
    assert ("<html" in response.text) == (headers == {})
    assert_nothing_kept(session, storage_dir)


def test_a_zip_bomb_disguised_as_docx_is_refused(client, session, case, csrf, storage_dir):
    response = upload(client, case, csrf, content=zip_bomb(), name="rapport.docx", headers=HTMX)
    assert "Archive suspecte (bombe de décompression) : fichier refusé." in response.text
    assert_nothing_kept(session, storage_dir)


def test_an_oversized_file_is_refused_and_what_was_typed_stays(
    client, session, case, csrf, storage_dir, monkeypatch
):
    monkeypatch.setattr(get_settings(), "max_upload_mb", 1)
    response = upload(
        client, case, csrf, content=PDF + bytes(2 * MB), description="Scan", headers=HTMX
    )
    assert response.status_code == 422
    assert "Fichier trop volumineux : 1 Mo au maximum." in response.text
    assert 'value="Scan"' in response.text
    assert_nothing_kept(session, storage_dir)


def test_a_too_long_description_is_refused_next_to_its_field(
    client, session, case, csrf, storage_dir
):
    response = upload(client, case, csrf, description="x" * 201, headers=HTMX)
    assert 'id="attachment-description-error"' in response.text
    assert "200 caractères au plus" in response.text
    assert_nothing_kept(session, storage_dir)


def test_no_file_chosen_asks_for_one(client, session, case, csrf, storage_dir):
    response = upload(client, case, csrf, content=b"", name="", headers=HTMX)
    assert "Choisissez un fichier à ajouter." in response.text
    assert_nothing_kept(session, storage_dir)


# ---- CSRF ---------------------------------------------------------------------------------


def test_missing_csrf_token_is_refused_and_nothing_is_stored(
    client, session, case, csrf, storage_dir
):
    response = client.post(
        f"/cases/{case.id}/attachments", files={"file": ("a.pdf", PDF, "application/pdf")}
    )
    assert response.status_code == 403
    assert_nothing_kept(session, storage_dir)


def test_a_token_sent_after_the_file_is_refused(client, session, case, csrf, storage_dir):
    boundary = "limite"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n\r\n'.encode()
        + PDF
        + f'\r\n--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{csrf}'
        f"\r\n--{boundary}--\r\n".encode()
    )
    response = client.post(
        f"/cases/{case.id}/attachments",
        content=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert response.status_code == 403
    assert_nothing_kept(session, storage_dir)


def test_the_csrf_header_is_enough(client, session, case, csrf):
    response = client.post(
        f"/cases/{case.id}/attachments",
        files={"file": ("a.pdf", PDF, "application/pdf")},
        headers={"X-CSRF-Token": csrf, **HTMX},
    )
    assert response.status_code == 200
    assert attachment_count(session) == 1


def test_a_wrong_csrf_header_is_refused_even_with_a_good_field(client, session, case, csrf):
    response = upload(client, case, csrf, headers={"X-CSRF-Token": "faux"})
    assert response.status_code == 403
    assert attachment_count(session) == 0


def test_other_multipart_forms_are_still_checked_before_the_route(client, session, case, csrf):
    response = client.post(
        f"/cases/{case.id}/close",
        data={"reason": "termine"},
        files={"piece": ("a.pdf", PDF, "application/pdf")},
    )
    assert response.status_code == 403
    assert session.get(Case, case.id).is_open


# ---- download -----------------------------------------------------------------------------


def test_download_is_an_attachment_with_safe_headers(client, session, case, csrf):
    upload(client, case, csrf, name="Relevé d'acquis.pdf")
    attachment = session.exec(select(Attachment)).one()
    response = client.get(f"/attachments/{attachment.id}/download")
    assert response.status_code == 200
    assert response.content == PDF
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"
    # Its own policy, not the pages' one added to it.
    csp = response.headers.get_list("content-security-policy")
    assert csp == ["default-src 'none'; sandbox"]
    assert response.headers["content-disposition"] == (
        "attachment; filename=\"Relev__d_acquis.pdf\"; filename*=UTF-8''Relev%C3%A9%20d%27acquis.pdf"
    )


def test_a_file_missing_from_the_storage_is_a_404(client, session, case, csrf, storage_dir):
    upload(client, case, csrf)
    attachment = session.exec(select(Attachment)).one()
    for path in stored(storage_dir):
        path.unlink()
    assert client.get(f"/attachments/{attachment.id}/download").status_code == 404


# ---- another operator -----------------------------------------------------------------------


@pytest.fixture
def intruder(session):
    return make_staff(session, make_operator(session, "BRE", "Bretagne"))


def test_counsellor_of_other_operator_gets_404_everywhere(
    client, session, case, csrf, intruder, storage_dir
):
    upload(client, case, csrf)
    attachment = session.exec(select(Attachment)).one()
    intruder_csrf = log_in(client, session, intruder)
    client.headers["Authorization"] = f"Bearer {create_api_token(intruder)}"
    for url in (
        f"/attachments/{attachment.id}/download",
        f"/cases/{case.id}/attachments",
        f"/api/v1/attachments/{attachment.id}/content",
        f"/api/v1/cases/{case.id}/attachments",
    ):
        response = client.get(url)
        assert response.status_code == 404, url
        assert PDF not in response.content and "bulletin" not in response.text
    posted = upload(client, case, intruder_csrf)
    by_api = client.post(
        f"/api/v1/cases/{case.id}/attachments", files={"file": ("b.pdf", PDF, "application/pdf")}
    )
    assert (posted.status_code, by_api.status_code) == (404, 404)
    assert attachment_count(session) == 1 and len(stored(storage_dir)) == 1


# ---- API ------------------------------------------------------------------------------------


def test_api_upload_list_and_download(api, session, case):
    created = api.post(
        f"/api/v1/cases/{case.id}/attachments",
        data={"description": "Attestation"},
        files={"file": ("attestation", PDF, "application/octet-stream")},
    )
    assert created.status_code == 201
    body = created.json()
    assert body["filename"] == "attestation.pdf" and body["content_type"] == "application/pdf"
    assert body["description"] == "Attestation" and body["size_bytes"] == len(PDF)
    listed = api.get(f"/api/v1/cases/{case.id}/attachments").json()
    assert [row["id"] for row in listed] == [body["id"]]
    content = api.get(f"/api/v1/attachments/{body['id']}/content")
    assert content.content == PDF
    assert content.headers["content-disposition"].startswith("attachment;")
    assert content.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    ("content", "status", "detail"),
    [
        (ELF, 415, "Ce type de fichier n'est pas accepté (fichier exécutable détecté)."),
        (PDF + bytes(2 * MB), 413, "Fichier trop volumineux : 1 Mo au maximum."),
        ("bomb", 422, "Archive suspecte (bombe de décompression) : fichier refusé."),
    ],
    ids=["executable", "too-large", "zip-bomb"],
)
def test_api_refusals_have_their_status_and_a_french_detail(
    api, session, case, storage_dir, monkeypatch, content, status, detail
):
    monkeypatch.setattr(get_settings(), "max_upload_mb", 1)
    content = zip_bomb() if content == "bomb" else content
    response = api.post(
        f"/api/v1/cases/{case.id}/attachments",
        files={"file": ("piece.pdf", content, "application/pdf")},
    )
    assert (response.status_code, response.json()["detail"]) == (status, detail)
    assert_nothing_kept(session, storage_dir)


def test_api_upload_needs_a_multipart_body(api, session, case, storage_dir):
    response = api.post(f"/api/v1/cases/{case.id}/attachments", json={"file": "x"})
    assert response.status_code == 415
    assert_nothing_kept(session, storage_dir)


def test_api_upload_needs_a_token(client, session, case, storage_dir):
    response = client.post(
        f"/api/v1/cases/{case.id}/attachments", files={"file": ("a.pdf", PDF, "application/pdf")}
    )
    assert response.status_code == 401
    assert_nothing_kept(session, storage_dir)


def test_openapi_shows_the_multipart_body(app):
    operation = app.openapi()["paths"]["/api/v1/cases/{case_id}/attachments"]
    schema = operation["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert schema["properties"]["file"] == {"type": "string", "format": "binary"}
