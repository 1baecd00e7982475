"""The PDF of an issued deliverable version (WeasyPrint), read back with pypdf."""

import copy
import hashlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pypdf import PdfReader

from app.services.deliverables.pdf import (
    PdfUnavailable,
    render_deliverable_html,
    render_deliverable_pdf,
)


def version_content(**changes) -> dict:
    content = {
        "title": "Document de synthèse",
        "kind_label": "Document de synthèse",
        "version": 2,
        "operator_name": "Auvergne-Rhône-Alpes — CEP actifs occupés",
        "site_name": "Lyon Part-Dieu",
        "case_reference": "ARA-2026-000123",
        "beneficiary_name": "Zoé Lefèvre",
        "counsellor_name": "Camille Martin",
        "issued_at": "2026-11-29T16:05:00+00:00",
        "time_zone": "Europe/Paris",
        "sections": [
            {"title": "Votre demande", "body": "Changer de métier.\nRester à Lyon."},
            {"title": "Votre projet", "body": "Devenir conseillère en insertion."},
            {"title": "Points de vigilance", "body": ""},
        ],
        "action_plan": [
            {
                "description": "Déposer le dossier",
                "owner_label": "Bénéficiaire",
                "due_on": "2027-01-15",
                "status_label": "À faire",
            }
        ],
    }
    content.update(changes)
    return content


def long_content() -> dict:
    paragraph = (
        "Vous avez exploré plusieurs métiers du secteur social et rencontré des professionnels. "
        * 6
    )
    body = "\n\n".join([paragraph] * 6)
    return version_content(
        sections=[{"title": f"Partie {n}", "body": body} for n in (1, 2)], action_plan=None
    )


def page_texts(pdf: bytes) -> list[str]:
    reader = PdfReader(io.BytesIO(pdf))
    # Narrow no-break spaces come back as such; compare with plain spaces.
    return [page.extract_text().replace("\u202f", " ") for page in reader.pages]


@pytest.fixture(scope="module")
def pdf() -> bytes:
    return render_deliverable_pdf(version_content())


@pytest.fixture(scope="module")
def long_pdf() -> bytes:
    return render_deliverable_pdf(long_content())


def test_the_pdf_names_the_beneficiary_the_case_and_the_version(pdf):
    text = page_texts(pdf)[0]
    assert "Zoé Lefèvre" in text
    assert "ARA-2026-000123" in text
    assert "Camille Martin" in text
    assert "Lyon Part-Dieu" in text
    assert "Version 2" in text
    assert "29 novembre 2026" in text


def test_the_pdf_prints_the_sections_with_their_line_breaks(pdf):
    text = page_texts(pdf)[0]
    assert "Votre demande\nChanger de métier.\nRester à Lyon." in text
    assert "Votre projet\nDevenir conseillère en insertion." in text


def test_an_empty_section_is_printed_as_not_filled_in(pdf):
    assert "Points de vigilance\n(non renseigné)" in page_texts(pdf)[0]


def test_the_action_plan_is_a_table_with_french_dates(pdf):
    text = page_texts(pdf)[0]
    assert "Action Qui Échéance État" in text
    assert "Déposer le dossier Bénéficiaire 15 janvier 2027 À faire" in text


def test_the_pdf_ends_with_the_closing_line_and_page_numbers(pdf):
    text = page_texts(pdf)[-1]
    assert (
        "Document remis à Zoé Lefèvre dans le cadre du conseil en évolution professionnelle."
        in text
    )
    assert "Page 1 sur 1" in text


def test_long_content_runs_over_pages_numbered_out_of_the_total(long_pdf):
    pages = page_texts(long_pdf)
    assert len(pages) >= 2
    for number, text in enumerate(pages, start=1):
        assert f"Page {number} sur {len(pages)}" in text
    assert "Auvergne-Rhône-Alpes — CEP actifs occupés" in pages[1]  # the running header


def test_pages_are_a4(pdf):
    box = PdfReader(io.BytesIO(pdf)).pages[0].mediabox
    assert float(box.width) == pytest.approx(595.28, abs=1)
    assert float(box.height) == pytest.approx(841.89, abs=1)


def test_metadata_dates_come_from_the_issue_time(pdf):
    metadata = PdfReader(io.BytesIO(pdf)).metadata
    assert metadata["/CreationDate"] == "D:20261129160500Z"
    assert metadata["/ModDate"] == "D:20261129160500Z"
    assert metadata["/Title"] == "Document de synthèse — Zoé Lefèvre — version 2"


def test_the_same_content_gives_the_same_bytes(pdf):
    again = render_deliverable_pdf(copy.deepcopy(version_content()))
    assert again == pdf
    assert hashlib.sha256(again).hexdigest() == hashlib.sha256(pdf).hexdigest()


def test_another_process_renders_the_same_bytes(pdf):
    """The stored SHA-256 must survive a restart: no hash seed, time or randomness leaks in."""
    script = (
        "import hashlib, json, sys\n"
        "from app.services.deliverables.pdf import render_deliverable_pdf\n"
        "pdf = render_deliverable_pdf(json.load(sys.stdin))\n"
        "print(hashlib.sha256(pdf).hexdigest())\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        input=json.dumps(version_content()),
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, "PYTHONHASHSEED": "7"},
    )
    assert result.stdout.strip() == hashlib.sha256(pdf).hexdigest()


def test_another_version_gives_other_bytes(pdf):
    assert render_deliverable_pdf(version_content(version=3)) != pdf


def test_the_issue_date_is_shown_in_the_site_time_zone():
    html = render_deliverable_html(version_content(issued_at="2026-11-29T23:30:00+00:00"))
    assert "émise le 30 novembre 2026" in html


def test_optional_people_and_places_are_left_out():
    html = render_deliverable_html(
        version_content(counsellor_name=None, site_name=None, action_plan=None)
    )
    assert "Suivi par" not in html
    assert "Lieu d’accueil" not in html
    assert "Plan d’action" not in html


def test_typed_text_is_escaped_and_typeset():
    html = render_deliverable_html(
        version_content(sections=[{"title": "Notes", "body": "<b>l'essentiel</b> : ok"}])
    )
    assert "&lt;b&gt;l’essentiel&lt;/b&gt;\u202f: ok" in html


def test_addresses_are_marked_so_that_they_are_not_hyphenated():
    html = render_deliverable_html(
        version_content(sections=[{"title": "Liens", "body": "Voir https://exemple.fr/a?b=1."}])
    )
    assert 'Voir <span class="address">https://exemple.fr/a?b=1</span>.' in html


def test_a_missing_pango_raises_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "weasyprint", None)  # makes `import weasyprint` fail
    with pytest.raises(PdfUnavailable, match="libpango-1.0-0"):
        render_deliverable_pdf(version_content())


# ---- an accessible document (PDF/UA-1): read the structure back -----------------------------


def structure(pdf: bytes) -> tuple[dict, list[str]]:
    """The document catalog, and the roles of its structure tree in reading order."""
    catalog = PdfReader(io.BytesIO(pdf)).trailer["/Root"]
    roles: list[str] = []

    def walk(node) -> None:
        if "/S" in node:
            roles.append(str(node["/S"]))
        kids = node.get("/K", [])
        for kid in kids if isinstance(kids, list) else [kids]:
            kid = kid.get_object() if hasattr(kid, "get_object") else kid
            if isinstance(kid, dict):  # marked-content ids (integers) are leaves
                walk(kid)

    walk(catalog["/StructTreeRoot"].get_object())
    return catalog, roles


def test_the_pdf_is_tagged_in_french_with_its_title_shown(pdf):
    catalog, _roles = structure(pdf)
    assert catalog["/MarkInfo"]["/Marked"].value is True
    assert catalog["/Lang"] == "fr"
    assert catalog["/ViewerPreferences"]["/DisplayDocTitle"].value is True
    assert PdfReader(io.BytesIO(pdf)).metadata.title.startswith("Document de synthèse — Zoé")


def test_the_structure_tree_has_one_title_then_a_heading_per_section(pdf):
    _catalog, roles = structure(pdf)
    headings = [role for role in roles if role in ("/H1", "/H2")]
    # The title, the three sections and the action plan, in the order they are read.
    assert headings == ["/H1", "/H2", "/H2", "/H2", "/H2"]


def test_the_action_plan_and_the_facts_are_tables_with_header_cells(pdf):
    _catalog, roles = structure(pdf)
    assert roles.count("/Table") == 2  # the facts under the title, the action plan
    # Bénéficiaire, Dossier, Suivi par, Lieu d'accueil; Action, Qui, Échéance, État.
    assert roles.count("/TH") == 8


def test_a_bulleted_section_is_a_list_of_items():
    body = "- Rencontrer une aide-soignante\n- Visiter un EHPAD"
    pdf = render_deliverable_pdf(version_content(sections=[{"title": "Pistes", "body": body}]))
    _catalog, roles = structure(pdf)
    assert "/L" in roles and roles.count("/LI") == 2


def test_a_preview_has_the_same_pages_and_is_marked_as_not_issued(pdf):
    preview = render_deliverable_pdf({**version_content(), "preview": True})
    texts, issued = page_texts(preview), page_texts(pdf)
    assert len(texts) == len(issued)
    assert "Aperçu – non émis" in texts[0] and "Aperçu" not in issued[0]
    assert texts[0].replace("Aperçu – non émis", "").split() == issued[0].split()
