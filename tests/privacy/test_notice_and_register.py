"""The « Mentions d'information » page and the record of processing activities (article 30):
written from the operator's settings, linked from the public pages, exported."""

import csv
import io

from app.models.nomenclatures import Role
from tests.factories import log_in, make_beneficiary, make_staff, read


def test_the_notice_names_the_controller_dpo_and_retention(client, session, ara):
    ara.legal_name, ara.dpo_email = "Association CEP ARA", "dpo@cep-ara.fr"
    ara.postal_address, ara.retention_months = "1 rue du Lac, 69003 Lyon", 30
    session.add(ara)
    session.flush()
    page = read(client.get("/mentions-information/ara"))
    assert "Association CEP ARA" in page and "1 rue du Lac, 69003 Lyon" in page
    assert "dpo@cep-ara.fr" in page and "30 mois après le dernier contact" in page
    assert "CNIL" in page and "Consentement" in page


def test_the_notice_holds_no_personal_data(client, session, ara, counsellor):
    person = make_beneficiary(session, counsellor, first_name="Zoé", last_name="Unique")
    page = read(client.get("/mentions-information/ARA"))
    assert person.last_name not in page and counsellor.email not in page


def test_an_unknown_operator_has_no_notice(client):
    assert client.get("/mentions-information/ZZZ").status_code == 404


def test_public_pages_link_to_their_operators_notice(client, session, ara):
    booking = read(client.get("/rendez-vous?operateur=ARA"))
    assert 'href="/mentions-information/ARA"' in booking
    listing = read(client.get("/mentions-information"))
    assert 'href="/mentions-information/ARA"' in listing


def test_staff_pages_have_no_public_footer(client, session, counsellor):
    log_in(client, session, counsellor)
    assert "Mentions d'information et protection" not in read(client.get("/"))


def test_an_admin_sets_the_dpo_and_the_register_exports_it(client, session, admin, ara):
    csrf = log_in(client, session, admin)
    form = {
        "legal_name": "Association CEP ARA",
        "postal_address": "",
        "dpo_email": "dpo@cep-ara.fr",
        "dpo_address": "",
        "operator_id": str(ara.id),
        "csrf_token": csrf,
    }
    saved = client.post("/admin/protection-donnees", data=form)
    assert "Coordonnées enregistrées" in read(saved)
    assert ara.dpo_email == "dpo@cep-ara.fr"
    exported = client.get(f"/admin/protection-donnees/registre.csv?operateur={ara.id}")
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig")), delimiter=";"))
    names = [row[0] for row in rows]
    assert "Enquêtes de satisfaction et d'utilité" in names
    assert any("24 mois après le dernier contact" in cell for row in rows for cell in row)
    xlsx = client.get(f"/admin/protection-donnees/registre.xlsx?operateur={ara.id}")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"


def test_a_bad_dpo_e_mail_is_said_next_to_the_field(client, session, admin, ara):
    csrf = log_in(client, session, admin)
    form = {"dpo_email": "pas-une-adresse", "operator_id": str(ara.id), "csrf_token": csrf}
    refused = client.post("/admin/protection-donnees", data=form)
    assert 'id="dpo_email-error"' in refused.text and ara.dpo_email == ""


def test_a_manager_reads_the_register_but_cannot_change_the_dpo(client, session, ara):
    manager = make_staff(session, ara, Role.MANAGER)
    csrf = log_in(client, session, manager)
    page = read(client.get("/admin/protection-donnees"))
    assert "Registre des activités de traitement" in page and 'name="dpo_email"' not in page
    form = {"dpo_email": "x@exemple.fr", "operator_id": str(ara.id), "csrf_token": csrf}
    assert client.post("/admin/protection-donnees", data=form).status_code == 403
    assert ara.dpo_email == ""


def test_a_counsellor_has_no_register(client, session, counsellor):
    log_in(client, session, counsellor)
    assert client.get("/admin/protection-donnees").status_code == 403
