"""The « Partenaires » pages (search, add, edit, CSV import and export) and /api/v1/partners."""

import base64
import re

import pytest
from sqlmodel import select

from app.core.config import get_settings
from app.models.nomenclatures import PartnerType, Role
from app.models.partners import Partner
from app.routes.referrals.partners import CARRIED_MAX
from app.services.referrals import partners_csv
from tests.factories import (
    bearer,
    log_in_as,
    make_staff,
    new_partner,
    partner_count,
    read,
)

HTMX = {"HX-Request": "true"}
HEADER = "nom;type;departements;adresse;code_postal;ville;contact;email;telephone;site_web;services;actif"


def partner_form(**overrides) -> dict:
    form = {
        "name": "Cap emploi Rhône",
        "type": "cap_emploi",
        "departements": "69",
        "address": "30 rue Garibaldi",
        "postcode": "69006",
        "city": "Lyon",
        "contact_name": "Chargé de maintien dans l'emploi",
        "email": "contact@capemploi69.exemple.fr",
        "phone": "04 72 00 00 00",
        "website": "",
        "services": "Maintien dans l'emploi",
        "active": "1",
    }
    return {**form, **overrides}


# ---- the directory page --------------------------------------------------------------------


def test_counsellors_search_the_directory(client, session, ara):
    new_partner(
        session,
        ara,
        "Cap emploi Rhône",
        PartnerType.CAP_EMPLOI,
        departements="69",
        city="Lyon",
        contact_name="Mme Roux",
        email="contact@capemploi69.exemple.fr",
        phone="04 72 00 00 00",
    )
    new_partner(session, ara, "Transitions Pro Auvergne-Rhône-Alpes", PartnerType.TRANSITIONS_PRO)
    log_in_as(client, session, ara)
    page = client.get("/partenaires")
    assert page.status_code == 200
    text = read(page)
    for shown in ("Cap emploi Rhône", "Cap emploi", "Lyon", "Mme Roux", "04 72 00 00 00"):
        assert shown in text
    assert 'href="mailto:contact@capemploi69.exemple.fr"' in text
    assert "Tout le territoire" in text and "2 partenaires" in text
    assert '<a href="/partenaires" aria-current="page">Partenaires</a>' in text
    assert "Ajouter un partenaire" not in text and "Importer" not in text


def test_filters_by_type_and_whole_departement_codes(client, session, ara):
    new_partner(session, ara, "Apec Lyon", departements="69")
    new_partner(session, ara, "Apec Nice", departements="06")
    new_partner(session, ara, "Cap emploi Rhône", PartnerType.CAP_EMPLOI, departements="69")
    log_in_as(client, session, ara)

    def shown(**params):
        text = read(client.get("/partenaires", params=params))
        return {name for name in ("Apec Lyon", "Apec Nice", "Cap emploi Rhône") if name in text}

    assert shown(departement="69") == {"Apec Lyon", "Cap emploi Rhône"}
    assert shown(departement="6") == {"Apec Nice"}
    assert shown(type="apec", departement="69") == {"Apec Lyon"}
    assert shown(q="rhone") == {"Cap emploi Rhône"}
    kept = read(client.get("/partenaires", params={"type": "apec", "departement": "69"}))
    assert '<option value="apec" selected' in kept and 'value="69"' in kept


def test_inactive_partners_appear_only_when_asked(client, session, ara):
    new_partner(session, ara, "Point relais fermé", active=False)
    log_in_as(client, session, ara)
    assert "Point relais fermé" not in read(client.get("/partenaires"))
    page = read(client.get("/partenaires", params={"inactifs": "1"}))
    assert "Point relais fermé" in page and "Inactif" in page


def test_a_bad_departement_is_explained(client, session, ara):
    log_in_as(client, session, ara)
    page = client.get("/partenaires", params={"departement": "20"})
    assert page.status_code == 200
    assert "Département inconnu : « 20 » (ex. 01, 69, 2A, 974)" in read(page)
    assert 'aria-invalid="true"' in read(page)


def test_htmx_search_gets_the_results_only(client, session, ara):
    new_partner(session, ara)
    log_in_as(client, session, ara)
    fragment = client.get("/partenaires", headers=HTMX)
    assert "<html" not in fragment.text and "Apec Lyon" in read(fragment)
    assert fragment.headers["Vary"] == "HX-Request"
    assert read(fragment).strip() in read(client.get("/partenaires"))


def test_another_operators_partners_never_appear(client, session, ara, bre):
    theirs = new_partner(session, bre, "Apec Rennes")
    log_in_as(client, session, ara, Role.OPERATOR_ADMIN)
    assert "Apec Rennes" not in read(client.get("/partenaires"))
    answer = client.get(f"/partenaires/{theirs.id}")
    assert answer.status_code == 404 and "Apec Rennes" not in read(answer)


def test_another_operators_partner_cannot_be_changed(client, session, ara, bre):
    theirs = new_partner(session, bre, "Apec Rennes")
    _, csrf = log_in_as(client, session, ara, Role.OPERATOR_ADMIN)
    for url, form in (
        (f"/partenaires/{theirs.id}", partner_form(name="Pirate")),
        (f"/partenaires/{theirs.id}", partner_form(name="")),
        (f"/partenaires/{theirs.id}/activation", {"actif": "non"}),
    ):
        answer = client.post(url, data={**form, "csrf_token": csrf})
        assert answer.status_code == 404 and "Apec Rennes" not in read(answer)
    session.refresh(theirs)
    assert (theirs.name, theirs.active) == ("Apec Rennes", True)


@pytest.mark.parametrize("role", [Role.NATIONAL_OBSERVER, Role.SYSADMIN])
def test_roles_without_personal_data_are_refused(client, session, role):
    log_in_as(client, session, None, role)
    assert client.get("/partenaires").status_code == 403


def test_anonymous_visitors_are_sent_to_login(client):
    answer = client.get("/partenaires", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/login")


# ---- one partner ---------------------------------------------------------------------------


def test_counsellors_read_a_partner_but_cannot_edit_it(client, session, ara):
    existing = new_partner(session, ara, website="https://www.apec.fr", services="Cadres")
    _, csrf = log_in_as(client, session, ara)
    page = read(client.get(f"/partenaires/{existing.id}"))
    assert "Apec Lyon" in page and 'href="https://www.apec.fr"' in page
    assert "Modifier la fiche" not in page and "Désactiver" not in page
    assert client.get("/partenaires/nouveau").status_code == 403
    assert client.get("/partenaires/import").status_code == 403
    for url, form in (
        ("/partenaires/nouveau", partner_form()),
        (f"/partenaires/{existing.id}", partner_form()),
        (f"/partenaires/{existing.id}/activation", {"actif": "non"}),
        ("/partenaires/import/confirmer", {"contenu": ""}),
    ):
        assert client.post(url, data={**form, "csrf_token": csrf}).status_code == 403
    session.refresh(existing)
    assert (existing.name, existing.active, partner_count(session, ara)) == ("Apec Lyon", True, 1)


@pytest.mark.parametrize("role", [Role.MANAGER, Role.OPERATOR_ADMIN])
def test_managers_and_admins_add_a_partner(client, session, ara, role):
    _, csrf = log_in_as(client, session, ara, role)
    assert "Ajouter un partenaire" in read(client.get("/partenaires"))
    form = client.get("/partenaires/nouveau")
    assert form.status_code == 200 and 'name="departements"' in form.text
    answer = client.post(
        "/partenaires/nouveau", data={**partner_form(), "csrf_token": csrf}, follow_redirects=False
    )
    assert answer.status_code == 303
    created = session.exec(select(Partner).where(Partner.operator_id == ara.id)).one()
    assert answer.headers["location"] == f"/partenaires/{created.id}?enregistre=1"
    assert (created.type, created.phone, created.active) == ("cap_emploi", "+33472000000", True)
    page = read(client.get(answer.headers["location"]))
    assert "La fiche de « Cap emploi Rhône » est enregistrée." in page


def test_a_bad_new_partner_keeps_what_was_typed(client, session, ara):
    new_partner(session, ara, "Cap emploi Rhône", PartnerType.CAP_EMPLOI)
    _, csrf = log_in_as(client, session, ara, Role.MANAGER)
    form = partner_form(name="CAP EMPLOI RHÔNE", departements="69 20", email="contact@")
    page = client.post("/partenaires/nouveau", data={**form, "csrf_token": csrf})
    assert page.status_code == 200
    text = read(page)
    assert "Un autre partenaire de votre annuaire porte déjà ce nom" not in text  # fields first
    assert "Département inconnu : « 20 » (ex. 01, 69, 2A, 974)" in text
    assert "Adresse e-mail invalide" in text
    assert 'value="CAP EMPLOI RHÔNE"' in text and 'value="30 rue Garibaldi"' in text
    duplicate = client.post(
        "/partenaires/nouveau", data={**partner_form(name="CAP EMPLOI RHÔNE"), "csrf_token": csrf}
    )
    assert "Un autre partenaire de votre annuaire porte déjà ce nom" in read(duplicate)
    assert partner_count(session, ara) == 1


def test_an_editor_changes_then_deactivates_a_partner(client, session, ara):
    existing = new_partner(session, ara, "Cap emploi Rhône", PartnerType.CAP_EMPLOI)
    _, csrf = log_in_as(client, session, ara, Role.OPERATOR_ADMIN)
    page = read(client.get(f"/partenaires/{existing.id}"))
    assert 'value="Cap emploi Rhône"' in page and "Désactiver" in page
    answer = client.post(
        f"/partenaires/{existing.id}",
        data={**partner_form(city="Villeurbanne"), "csrf_token": csrf},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    session.refresh(existing)
    assert (existing.city, existing.postcode) == ("Villeurbanne", "69006")
    client.post(f"/partenaires/{existing.id}/activation", data={"actif": "non", "csrf_token": csrf})
    session.refresh(existing)
    assert existing.active is False
    assert "Réactiver" in read(client.get(f"/partenaires/{existing.id}"))


def test_a_bad_edit_changes_nothing(client, session, ara):
    existing = new_partner(session, ara, "Cap emploi Rhône", PartnerType.CAP_EMPLOI)
    _, csrf = log_in_as(client, session, ara, Role.MANAGER)
    form = partner_form(city="Villeurbanne", postcode="6900")
    page = client.post(f"/partenaires/{existing.id}", data={**form, "csrf_token": csrf})
    assert "Code postal invalide : 5 chiffres (ex. 69003)" in read(page)
    assert 'value="Villeurbanne"' in read(page)
    session.refresh(existing)
    assert existing.city == ""


def test_edits_need_the_csrf_token(client, session, ara):
    existing = new_partner(session, ara)
    log_in_as(client, session, ara, Role.OPERATOR_ADMIN)
    assert client.post("/partenaires/nouveau", data=partner_form()).status_code == 403
    assert client.post(f"/partenaires/{existing.id}/activation", data={}).status_code == 403
    assert partner_count(session, ara) == 1 and existing.active


# ---- CSV import and export -----------------------------------------------------------------


def upload(client, csrf, content: bytes, filename="partenaires.csv"):
    return client.post(
        "/partenaires/import",
        data={"csrf_token": csrf},
        files={"fichier": (filename, content, "text/csv")},
    )


def hidden_content(page) -> str:
    return re.search(r'name="contenu" value="([^"]*)"', page.text).group(1)


def test_a_valid_file_is_previewed_then_imported_on_confirmation(client, session, ara):
    new_partner(session, ara, "Apec Lyon")
    _, csrf = log_in_as(client, session, ara, Role.OPERATOR_ADMIN)
    intro = read(client.get("/partenaires/import"))
    assert "Si une ligne est invalide, rien n'est importé : corrigez le fichier" in intro
    content = (
        "\r\n".join(
            [
                HEADER,
                "APEC LYON;Apec;69;;;Lyon;;;;;;oui",
                "Cap emploi Rhône;cap_emploi;69;;69006;Lyon;;;;;;",
                "Transitions Pro Auvergne-Rhône-Alpes;Transitions Pro;;;;;;;;;;",
            ]
        )
        + "\r\n"
    )
    preview = upload(client, csrf, content.encode("utf-8-sig"))
    assert preview.status_code == 200
    assert "Toutes les lignes sont valides : 2 partenaires à créer, 1 à mettre à jour." in read(
        preview
    )
    assert "Confirmer l'import" in read(preview) and partner_count(session, ara) == 1
    answer = client.post(
        "/partenaires/import/confirmer",
        data={"contenu": hidden_content(preview), "csrf_token": csrf},
        follow_redirects=False,
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/partenaires?crees=2&maj=1"
    assert partner_count(session, ara) == 3
    page = read(client.get(answer.headers["location"]))
    assert "Import terminé : 2 partenaires créés, 1 mis à jour." in page


def test_an_invalid_file_is_reported_line_by_line_and_nothing_is_imported(client, session, ara):
    _, csrf = log_in_as(client, session, ara, Role.MANAGER)
    content = "nom,type,departements\nBon,apec,69\n,apec,69\nMauvais,apec,20\n".encode("cp1252")
    report = upload(client, csrf, content)
    text = read(report)
    assert "2 lignes sur 3 sont à corriger." in text
    assert "Rien n'a été importé : corrigez le fichier et envoyez-le à nouveau." in text
    assert re.search(r">3</td>\s*<td[^>]*>\(sans nom\)</td>", text)
    assert "nom : Ce champ est obligatoire" in text
    assert re.search(r">4</td>\s*<td[^>]*>Mauvais</td>", text)
    assert "departements : Département inconnu : « 20 »" in text
    assert 'name="contenu"' not in text and partner_count(session, ara) == 0


def test_files_that_cannot_be_read_get_a_message(client, session, ara):
    _, csrf = log_in_as(client, session, ara, Role.MANAGER)
    no_file = {"fichier": ("", b"", "application/octet-stream")}  # what a browser sends
    assert "Choisissez un fichier CSV" in read(
        client.post("/partenaires/import", data={"csrf_token": csrf}, files=no_file)
    )
    assert "Le fichier est vide" in read(upload(client, csrf, b""))
    workbook = read(upload(client, csrf, b"PK\x03\x04\x00\x00", "partenaires.xlsx"))
    assert "Ce n'est pas un fichier CSV" in workbook
    columns = read(upload(client, csrf, b"nom;categorie\nX;Y\n"))
    assert "Colonne « categorie » inconnue" in columns and "Rien n'a été importé" in columns


def test_a_tampered_confirmation_imports_nothing(client, session, ara):
    _, csrf = log_in_as(client, session, ara, Role.OPERATOR_ADMIN)
    for content in ("pas du base64 !", base64.b64encode(b"nom;type\nX;astrologue\n").decode()):
        page = client.post(
            "/partenaires/import/confirmer", data={"contenu": content, "csrf_token": csrf}
        )
        assert page.status_code == 200 and "Confirmer l'import" not in read(page)
    assert partner_count(session, ara) == 0


def csv_of_size(size: int, lines: int = 1_900) -> bytes:
    """A valid file of exactly `size` bytes, in Windows-1252 with accents: the text it becomes
    weighs twice as much in UTF-8, which a confirmation must still carry."""
    rows = [f"Partenaire n° {n:04d};apec;".encode("cp1252") for n in range(lines)]
    header = b"nom;type;services\r\n"
    room = size - len(header) - sum(len(row) + 2 for row in rows)
    fill, extra = divmod(room, lines)
    body = [row + "é".encode("cp1252") * (fill + (n < extra)) for n, row in enumerate(rows)]
    content = header + b"".join(row + b"\r\n" for row in body)
    assert len(content) == size
    return content


def test_a_file_just_under_the_limit_is_checked_then_imported(client, session, ara):
    _, csrf = log_in_as(client, session, ara, Role.OPERATOR_ADMIN)
    preview = upload(client, csrf, csv_of_size(partners_csv.MAX_BYTES - 1))
    assert "1900 partenaires à créer, 0 à mettre à jour" in read(preview)
    answer = client.post(
        "/partenaires/import/confirmer",
        data={"contenu": hidden_content(preview), "csrf_token": csrf},
        follow_redirects=False,
    )
    assert (
        answer.status_code == 303 and answer.headers["location"] == "/partenaires?crees=1900&maj=0"
    )
    assert partner_count(session, ara) == 1900
    imported = session.exec(select(Partner).where(Partner.name == "Partenaire n° 0000")).one()
    assert imported.services.startswith("éé")


def test_a_file_over_the_limit_is_refused_and_nothing_is_left_behind(
    client, session, ara, tmp_path, monkeypatch
):
    monkeypatch.setattr(get_settings(), "storage_dir", tmp_path)
    _, csrf = log_in_as(client, session, ara, Role.OPERATOR_ADMIN)
    page = read(upload(client, csrf, csv_of_size(partners_csv.MAX_BYTES + 1)))
    assert "Fichier trop volumineux : 1 Mo au plus" in page and 'name="contenu"' not in page
    assert [path for path in tmp_path.rglob("*") if path.is_file()] == []
    assert partner_count(session, ara) == 0


def test_an_import_is_refused_without_the_csrf_token_or_to_a_counsellor(client, session, ara):
    _, csrf = log_in_as(client, session, ara, Role.OPERATOR_ADMIN)
    forged = client.post("/partenaires/import", files={"fichier": ("p.csv", b"nom;type\nX;apec\n")})
    assert forged.status_code == 403
    _, csrf = log_in_as(client, session, ara, Role.COUNSELLOR)
    assert upload(client, csrf, b"nom;type\nX;apec\n").status_code == 403


def test_a_confirmation_longer_than_any_checked_file_imports_nothing(client, session, ara):
    _, csrf = log_in_as(client, session, ara, Role.OPERATOR_ADMIN)
    page = client.post(
        "/partenaires/import/confirmer",
        data={"contenu": "A" * (CARRIED_MAX + 4), "csrf_token": csrf},
    )
    assert "Le fichier à confirmer est absent" in read(page) and partner_count(session, ara) == 0


def test_the_export_round_trips_through_the_import(client, session, ara, bre):
    new_partner(
        session,
        ara,
        "École de la deuxième chance",
        PartnerType.OTHER,
        departements="69 01",
        services="Remise à niveau ; « ateliers »\nsur deux lignes",
        phone="04 72 00 00 00",
    )
    new_partner(session, ara, "Apec Lyon", active=False)
    new_partner(session, bre, "Apec Rennes")
    _, csrf = log_in_as(client, session, ara)  # counsellors may export
    exported = client.get("/partenaires/export.csv")
    assert exported.status_code == 200
    assert exported.headers["content-type"] == "text/csv; charset=utf-8"
    assert "attachment" in exported.headers["content-disposition"]
    assert exported.content.startswith(b"\xef\xbb\xbf" + HEADER.encode())
    assert "Apec Rennes" not in exported.content.decode("utf-8-sig")
    _, csrf = log_in_as(client, session, ara, Role.OPERATOR_ADMIN)
    preview = upload(client, csrf, exported.content)
    assert "0 partenaire à créer, 2 à mettre à jour" in read(preview)


# ---- API -----------------------------------------------------------------------------------


def test_api_searches_with_filters(client, session, ara):
    new_partner(session, ara, "Apec Lyon", departements="69 01")
    new_partner(session, ara, "Apec Nice", departements="06")
    new_partner(session, ara, "Fermé", active=False)
    headers = bearer(make_staff(session, ara))
    answer = client.get("/api/v1/partners", params={"departement": "69"}, headers=headers)
    assert answer.status_code == 200
    assert [p["name"] for p in answer.json()] == ["Apec Lyon"]
    assert answer.json()[0]["departements"] == ["01", "69"]
    every = client.get("/api/v1/partners", params={"active_only": "false"}, headers=headers)
    assert [p["name"] for p in every.json()] == ["Apec Lyon", "Apec Nice", "Fermé"]
    typed = client.get("/api/v1/partners", params={"type": "cap_emploi"}, headers=headers)
    assert typed.json() == []
    wrong = client.get("/api/v1/partners", params={"departement": "20"}, headers=headers)
    assert wrong.status_code == 422 and "departement" in wrong.json()["fields"]


def test_api_create_read_update(client, session, ara):
    headers = bearer(make_staff(session, ara, Role.MANAGER))
    body = {"name": "Cap emploi Rhône", "type": "cap_emploi", "departements": ["69", "1"]}
    created = client.post("/api/v1/partners", json=body, headers=headers)
    assert created.status_code == 201
    partner_id = created.json()["id"]
    assert created.json()["departements"] == ["01", "69"] and created.json()["active"] is True
    fetched = client.get(f"/api/v1/partners/{partner_id}", headers=headers)
    assert fetched.json()["name"] == "Cap emploi Rhône"
    change = {**fetched.json(), "city": "Lyon", "email": "contact@capemploi69.exemple.fr"}
    updated = client.put(f"/api/v1/partners/{partner_id}", json=change, headers=headers)
    assert updated.status_code == 200
    assert (updated.json()["city"], updated.json()["departements"]) == ("Lyon", ["01", "69"])
    duplicate = client.post("/api/v1/partners", json=body, headers=headers)
    assert duplicate.status_code == 422
    assert duplicate.json()["fields"] == {
        "name": "Un autre partenaire de votre annuaire porte déjà ce nom"
    }


def test_api_refuses_edits_by_counsellors_and_hides_other_operators(client, session, ara, bre):
    ours = new_partner(session, ara)
    theirs = new_partner(session, bre, "Apec Rennes")
    headers = bearer(make_staff(session, ara))
    body = {"name": "Pirate", "type": "autre"}
    assert client.get(f"/api/v1/partners/{ours.id}", headers=headers).status_code == 200
    assert client.post("/api/v1/partners", json=body, headers=headers).status_code == 403
    assert client.put(f"/api/v1/partners/{ours.id}", json=body, headers=headers).status_code == 403
    admin = bearer(make_staff(session, ara, Role.OPERATOR_ADMIN))
    for method in ("GET", "PUT"):
        answer = client.request(method, f"/api/v1/partners/{theirs.id}", json=body, headers=admin)
        assert answer.status_code == 404
    session.refresh(theirs)
    assert theirs.name == "Apec Rennes"


def test_api_needs_a_token(client):
    assert client.get("/api/v1/partners").status_code == 401
    assert client.post("/api/v1/partners", json={}).status_code == 401
