"""Receiving a file: the streamed size limit, typing by content, zip bombs, CSRF in the body."""

import hashlib
import io
import zipfile
from contextlib import aclosing

import anyio
import pytest
from starlette.requests import Request

from app.core.config import get_settings
from app.core.errors import Forbidden
from app.core.files import (
    DOCX,
    ODT,
    XLSX,
    FileTooLarge,
    FileTypeRefused,
    MalformedUpload,
    MissingFile,
    SuspiciousArchive,
    clean_filename,
    size_label,
)
from app.web.uploads import (
    FORM_OVERHEAD,
    FileRules,
    Received,
    received_upload,
    streamed_upload_under,
)
from tests.factories import PDF

pytestmark = pytest.mark.usefixtures("storage_dir")  # files in a directory of their own

BOUNDARY = "----filrouge-test-boundary"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64
ELF = b"\x7fELF\x02\x01\x01" + b"\x00" * 100
WINDOWS_EXE = b"MZ\x90\x00\x03" + b"\x00" * 100
MB = 1024 * 1024


def left_behind(root) -> list:
    return [path for path in root.rglob("*") if path.is_file()]


def multipart(*parts) -> bytes:
    """Parts are (name, value) fields or (name, filename, content) files, in order."""
    body = b""
    for part in parts:
        name = part[0]
        if len(part) == 2:
            head = f'Content-Disposition: form-data; name="{name}"\r\n\r\n'
            content = part[1].encode()
        else:
            head = (
                f'Content-Disposition: form-data; name="{name}"; filename="{part[1]}"\r\n'
                "Content-Type: application/octet-stream\r\n\r\n"
            )
            content = part[2]
        body += f"--{BOUNDARY}\r\n".encode() + head.encode() + content + b"\r\n"
    return body + f"--{BOUNDARY}--\r\n".encode()


class Body:
    """An ASGI body sent in chunks; counts how many the app asked for."""

    def __init__(self, chunks, *, declared: int | None = None, state: dict | None = None):
        self.chunks = list(chunks)
        self.read = 0
        headers = [(b"content-type", f"multipart/form-data; boundary={BOUNDARY}".encode())]
        if declared is not None:
            headers.append((b"content-length", str(declared).encode()))
        scope = {"type": "http", "method": "POST", "path": "/", "headers": headers}
        self.request = Request({**scope, "state": state or {}}, self.receive)

    async def receive(self):
        if self.read >= len(self.chunks):
            return {"type": "http.disconnect"}
        self.read += 1
        more = self.read < len(self.chunks)
        return {"type": "http.request", "body": self.chunks[self.read - 1], "more_body": more}


def sent_whole(body: bytes, **kwargs) -> Body:
    chunks = [body[i : i + 65536] for i in range(0, len(body), 65536)] or [b""]
    return Body(chunks, declared=len(body), **kwargs)


def receive(body: Body):
    async def run():
        async with received_upload(body.request) as upload:
            return upload, upload.path.read_bytes()

    return anyio.run(run)


def refused(body: Body, error, storage_dir):
    with pytest.raises(error) as caught:
        receive(body)
    assert left_behind(storage_dir) == []
    return caught.value


def office_document(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def docx(**extra: bytes) -> bytes:
    return office_document(
        {"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>", **extra}
    )


def zeros_deflated(megabytes: int, *names: str) -> bytes:
    """A zip bomb: `megabytes` of zeros per entry, a few hundred kilobytes on the wire."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", b"<Types/>")
        for name in names:
            with archive.open(name, "w", force_zip64=True) as entry:
                for _ in range(megabytes):
                    entry.write(bytes(MB))
    return buffer.getvalue()


# ---- accepted files ---------------------------------------------------------------------


def test_a_pdf_is_received_typed_hashed_and_kept_until_the_block_ends(storage_dir):
    body = sent_whole(multipart(("description", "Bulletin"), ("file", "bulletin.pdf", PDF)))
    upload, content = receive(body)
    assert content == PDF
    assert (upload.content_type, upload.filename, upload.size) == (
        "application/pdf",
        "bulletin.pdf",
        len(PDF),
    )
    assert upload.sha256 == hashlib.sha256(PDF).hexdigest()
    assert upload.fields == {"description": "Bulletin"}
    assert left_behind(storage_dir) == []  # the caller did not keep it


def test_the_content_decides_the_type_and_the_extension_follows(storage_dir):
    upload, _ = receive(sent_whole(multipart(("file", "scan.pdf", PNG))))
    assert (upload.content_type, upload.filename) == ("image/png", "scan.png")


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (docx(), DOCX),
        (office_document({"[Content_Types].xml": b"<T/>", "xl/workbook.xml": b"<w/>"}), XLSX),
        (office_document({"mimetype": ODT.encode(), "content.xml": b"<office/>"}), ODT),
    ],
    ids=["docx", "xlsx", "odt"],
)
def test_office_documents_are_recognised_from_their_entries(content, content_type, storage_dir):
    upload, _ = receive(sent_whole(multipart(("file", "document", content))))
    assert upload.content_type == content_type
    assert upload.filename.startswith("document.")


def test_a_large_file_arrives_in_many_chunks(storage_dir):
    big = PDF + bytes(3 * MB)
    upload, content = receive(sent_whole(multipart(("file", "gros.pdf", big))))
    assert content == big and upload.size == len(big)


# ---- refused files: nothing left behind -------------------------------------------------


@pytest.mark.parametrize(
    "content", [ELF, WINDOWS_EXE, b"#!/bin/sh\nrm -rf ~\n"], ids=["elf", "exe", "script"]
)
def test_an_executable_renamed_pdf_is_refused(content, storage_dir):
    error = refused(
        sent_whole(multipart(("file", "facture.pdf", content))), FileTypeRefused, storage_dir
    )
    assert error.message == "Ce type de fichier n'est pas accepté (fichier exécutable détecté)."
    assert error.status_code == 415


@pytest.mark.parametrize(
    "content",
    [b"Bonjour, simple texte\n", office_document({"photo.jpg": b"x"}), b"GIF89a" + bytes(50)],
    ids=["text", "plain-zip", "gif"],
)
def test_types_outside_the_list_are_refused(content, storage_dir):
    error = refused(
        sent_whole(multipart(("file", "piece.pdf", content))), FileTypeRefused, storage_dir
    )
    assert "n'est pas accepté" in error.message


def test_a_zip_bomb_disguised_as_docx_is_refused(storage_dir):
    bomb = zeros_deflated(200, "word/document.xml")
    assert len(bomb) < MB
    error = refused(
        sent_whole(multipart(("file", "rapport.docx", bomb))), SuspiciousArchive, storage_dir
    )
    assert error.message == "Archive suspecte (bombe de décompression) : fichier refusé."
    assert error.status_code == 422


def test_an_absurd_compression_ratio_is_refused_below_the_size_cap(storage_dir):
    bomb = zeros_deflated(50, "word/document.xml")
    refused(sent_whole(multipart(("file", "rapport.docx", bomb))), SuspiciousArchive, storage_dir)


def test_an_archive_with_escaping_paths_is_refused(storage_dir):
    content = docx(**{"../../etc/cron.d/x": b"* * * * * root sh"})
    refused(sent_whole(multipart(("file", "cv.docx", content))), SuspiciousArchive, storage_dir)


def test_a_document_with_macros_is_refused(storage_dir):
    content = docx(**{"word/vbaProject.bin": b"\xd0\xcf\x11\xe0"})
    error = refused(
        sent_whole(multipart(("file", "cv.docx", content))), FileTypeRefused, storage_dir
    )
    assert "macros" in error.message


def test_a_damaged_archive_is_refused(storage_dir):
    content = docx()[:-30]
    error = refused(
        sent_whole(multipart(("file", "cv.docx", content))), FileTypeRefused, storage_dir
    )
    assert "endommagé" in error.message


# ---- the size limit ---------------------------------------------------------------------


@pytest.fixture
def one_megabyte(monkeypatch):
    monkeypatch.setattr(get_settings(), "max_upload_mb", 1)


def test_an_oversized_stream_stops_soon_after_the_limit(one_megabyte, storage_dir):
    head = multipart(("file", "gros.pdf", b""))[: -len(f"\r\n--{BOUNDARY}--\r\n")]
    chunks = [head + PDF] + [bytes(64 * 1024)] * 80  # 5 MB, length not announced
    body = Body(chunks)
    error = refused(body, FileTooLarge, storage_dir)
    assert error.message == "Fichier trop volumineux : 1 Mo au maximum."
    assert error.status_code == 413
    assert body.read <= 1 + MB // (64 * 1024) + 1


def test_an_announced_length_far_above_the_limit_is_refused_before_reading(
    one_megabyte, storage_dir
):
    body = Body([multipart(("file", "x.pdf", PDF))], declared=500 * MB)
    refused(body, FileTooLarge, storage_dir)
    assert body.read == 0


def test_a_body_a_little_over_the_limit_is_read_to_the_end_but_not_kept(one_megabyte, storage_dir):
    body = sent_whole(multipart(("file", "x.pdf", PDF + bytes(2 * MB))))
    refused(body, FileTooLarge, storage_dir)
    assert body.read == len(body.chunks)  # so that a browser can read the answer


def test_a_file_exactly_at_the_limit_is_accepted(one_megabyte, storage_dir):
    content = PDF + bytes(MB - len(PDF))
    upload, _ = receive(sent_whole(multipart(("file", "x.pdf", content))))
    assert upload.size == MB


# ---- a form with rules of its own (the partner CSV import) -------------------------------

CSV_RULES = FileRules(
    field="fichier",
    max_bytes=100_000,
    too_large_message="Fichier trop volumineux : 100 Ko au plus",
    missing_message="Choisissez un fichier CSV",
    typed=False,
)


def receive_under(rules: FileRules, body: Body) -> Received:
    async def run():
        # As FastAPI runs the dependency: up to its yield, then closed once the endpoint is done.
        async with aclosing(streamed_upload_under(rules)(body.request)) as dependency:
            received = await anext(dependency)
            content = received.upload.path.read_bytes() if received.upload else None
        return received, content

    return anyio.run(run)


def test_a_file_under_its_own_rules_is_handed_over_untyped(storage_dir):
    csv = b"nom;type\nApec Lyon;apec\n"
    body = sent_whole(multipart(("fichier", "partenaires.csv", csv)))
    received, content = receive_under(CSV_RULES, body)
    assert content == csv and received.upload.size == len(csv)
    assert left_behind(storage_dir) == []  # gone once the dependency ends


def test_its_own_limit_stops_the_stream_soon_after_it(storage_dir):
    head = multipart(("fichier", "gros.csv", b""))[: -len(f"\r\n--{BOUNDARY}--\r\n")]
    body = Body([head] + [b"x;apec\n" * 1000] * 200)  # 1.4 MB, length not announced
    received, _ = receive_under(CSV_RULES, body)
    assert isinstance(received.refused, FileTooLarge)
    assert received.refused.message == "Fichier trop volumineux : 100 Ko au plus"
    # The limit, its form overhead (128 Ko) and one chunk: not the 1.4 MB sent.
    assert body.read <= 1 + (100_000 + FORM_OVERHEAD) // 7000 + 1
    assert left_behind(storage_dir) == []


def test_a_file_in_another_field_is_missing_under_its_own_rules(storage_dir):
    body = sent_whole(multipart(("file", "partenaires.csv", b"nom;type\n")))
    received, _ = receive_under(CSV_RULES, body)
    assert isinstance(received.refused, MissingFile)
    assert received.refused.message == "Choisissez un fichier CSV"


# ---- form problems ----------------------------------------------------------------------


def test_no_file_chosen_is_refused(storage_dir):
    refused(sent_whole(multipart(("description", "x"))), MissingFile, storage_dir)
    error = refused(sent_whole(multipart(("file", "", b""))), MissingFile, storage_dir)
    assert error.message == "Choisissez un fichier à ajouter."


def test_an_empty_file_is_refused(storage_dir):
    error = refused(sent_whole(multipart(("file", "vide.pdf", b""))), MissingFile, storage_dir)
    assert error.message == "Le fichier est vide."


def test_a_cut_off_body_is_refused(storage_dir):
    body = multipart(("file", "x.pdf", PDF + bytes(200_000)))
    refused(sent_whole(body[:150_000]), MalformedUpload, storage_dir)


def test_a_field_read_beside_the_file_sent_twice_is_refused_like_a_second_file(storage_dir):
    # One value per field: the API's document says `description` is one text, not a list.
    body = multipart(("description", "a"), ("description", "b"), ("file", "a.pdf", PDF))
    error = refused(sent_whole(body), MalformedUpload, storage_dir)
    assert error.message == "Un seul champ « description » par envoi."


def test_a_field_an_attachment_does_not_carry_is_refused(storage_dir):
    body = multipart(("note", "a"), ("file", "a.pdf", PDF))
    error = refused(sent_whole(body), MalformedUpload, storage_dir)
    assert error.message == "Champ inattendu : « note »."


def test_a_body_that_is_not_multipart_is_refused(storage_dir):
    body = Body([b'{"file": "x"}'])
    body.request.scope["headers"] = [(b"content-type", b"application/json")]
    error = refused(body, FileTypeRefused, storage_dir)
    assert "multipart/form-data" in error.message


# ---- CSRF token in the body ---------------------------------------------------------------

TOKEN = {"csrf_in_body": True, "anon_csrf": "jeton-attendu"}


def test_the_token_before_the_file_lets_it_through(storage_dir):
    body = sent_whole(
        multipart(("csrf_token", "jeton-attendu"), ("file", "a.pdf", PDF)), state=TOKEN
    )
    upload, _ = receive(body)
    assert upload.content_type == "application/pdf"


@pytest.mark.parametrize(
    "parts",
    [
        [("file", "a.pdf", PDF)],
        [("csrf_token", "faux"), ("file", "a.pdf", PDF)],
        [("file", "a.pdf", PDF), ("csrf_token", "jeton-attendu")],
    ],
    ids=["missing", "wrong", "after-the-file"],
)
def test_a_missing_wrong_or_late_token_is_refused_before_anything_is_written(parts, storage_dir):
    body = sent_whole(multipart(*parts), state=TOKEN)
    with pytest.raises(Forbidden):
        receive(body)
    assert not (storage_dir / "tmp").exists() or left_behind(storage_dir) == []


# ---- names ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("C:\\Users\\zoe\\Bulletin de paie.pdf", "Bulletin de paie.pdf"),
        ("../../etc/passwd", "passwd.pdf"),
        ("facture\u202efdp.exe", "facturefdp.pdf"),
        ("ligne\r\nsuivante\x00.PDF", "lignesuivante.pdf"),
        ("   ", "piece-jointe.pdf"),
        ("rapport v2.final", "rapport v2.final.pdf"),
        ("é" * 300 + ".pdf", "é" * 116 + ".pdf"),
    ],
)
def test_names_are_cleaned_for_display_and_download(raw, expected):
    assert clean_filename(raw, "application/pdf") == expected


def test_sizes_read_in_french():
    assert [size_label(n) for n in (850, 12 * 1024, int(1.44 * MB))] == [
        "850 octets",
        "12 Ko",
        "1,4 Mo",
    ]
