"""The partner directory: search, tenant scope, who edits, validation, CSV import and export."""

import pytest
from sqlmodel import select

from app.core.errors import Forbidden, Invalid, NotFound
from app.demo.partners import seed_partners
from app.models.nomenclatures import PartnerType, Role
from app.models.partners import Partner, PartnerCreate, PartnerUpdate
from app.services.referrals import partners_csv
from app.services.referrals.partners import (
    create_partner,
    get_partner,
    search_partners,
    set_active,
    update_partner,
)
from app.web.forms import parse_form
from tests.factories import make_operator, make_staff, new_partner, partner_count

HEADER = "nom;type;departements;adresse;code_postal;ville;contact;email;telephone;site_web;services;actif"


def names(found) -> list[str]:
    return [p.name for p in found]


# ---- search --------------------------------------------------------------------------------


def test_search_by_type(session, ara, counsellor):
    new_partner(session, ara, "Apec Lyon", PartnerType.APEC)
    new_partner(session, ara, "Cap emploi Rhône", PartnerType.CAP_EMPLOI)
    found = search_partners(session=session, actor=counsellor, type=PartnerType.CAP_EMPLOI)
    assert names(found) == ["Cap emploi Rhône"]
    assert names(search_partners(session=session, actor=counsellor, type="apec")) == ["Apec Lyon"]


def test_departement_matches_whole_codes_only(session, ara, counsellor):
    new_partner(session, ara, "Lyon", departements="69 01")
    new_partner(session, ara, "Nice", departements="06")
    new_partner(session, ara, "Rhin", departements="67 68")

    def serving(code):
        return names(search_partners(session=session, actor=counsellor, departement=code))

    assert serving("69") == ["Lyon"]
    assert serving("6") == ["Nice"]  # read as 06, never as the 6 of 69
    assert serving("1") == ["Lyon"]
    assert serving("9") == []


def test_corsica_and_overseas_codes_are_searchable(session, ara, counsellor):
    new_partner(session, ara, "Ajaccio", departements="2a")
    new_partner(session, ara, "Saint-Denis", departements="974")
    assert names(search_partners(session=session, actor=counsellor, departement="2A")) == [
        "Ajaccio"
    ]
    assert names(search_partners(session=session, actor=counsellor, departement="974")) == [
        "Saint-Denis"
    ]


def test_a_partner_without_departement_serves_the_whole_territory(session, ara, counsellor):
    new_partner(session, ara, "Transitions Pro Auvergne-Rhône-Alpes", PartnerType.TRANSITIONS_PRO)
    new_partner(session, ara, "Apec Grenoble", departements="38")
    found = search_partners(session=session, actor=counsellor, departement="69")
    assert names(found) == ["Transitions Pro Auvergne-Rhône-Alpes"]


def test_words_match_name_city_or_services_ignoring_case_and_accents(session, ara, counsellor):
    new_partner(session, ara, "Épicentre", city="Saint-Étienne", services="Bilans de compétences")
    new_partner(session, ara, "Autre", city="Lyon", services="Création d'entreprise")

    def matching(query):
        return names(search_partners(session=session, actor=counsellor, query=query))

    assert matching("EPICENTRE") == ["Épicentre"]
    assert matching("saint etienne") == ["Épicentre"]
    assert matching("competences bilan") == ["Épicentre"]
    assert matching("creation lyon") == ["Autre"]
    assert matching("creation grenoble") == []


def test_inactive_partners_are_left_out_unless_asked(session, ara, counsellor):
    new_partner(session, ara, "Fermé", active=False)
    new_partner(session, ara, "Ouvert")
    assert names(search_partners(session=session, actor=counsellor)) == ["Ouvert"]
    every = search_partners(session=session, actor=counsellor, active_only=False)
    assert names(every) == ["Fermé", "Ouvert"]


def test_results_are_sorted_by_name_ignoring_case_and_accents(session, ara, counsellor):
    for name in ("apec", "Zèbre", "École", "Bilan"):
        new_partner(session, ara, name)
    found = search_partners(session=session, actor=counsellor)
    assert names(found) == ["apec", "Bilan", "École", "Zèbre"]
    assert names(search_partners(session=session, actor=counsellor, limit=2)) == ["apec", "Bilan"]


@pytest.mark.parametrize(
    ("filters", "field"),
    [
        ({"departement": "20"}, "departement"),
        ({"departement": "6x"}, "departement"),
        ({"type": "astrologue"}, "type"),
    ],
)
def test_bad_search_filters_are_invalid(session, counsellor, filters, field):
    with pytest.raises(Invalid) as caught:
        search_partners(session=session, actor=counsellor, **filters)
    assert field in caught.value.fields


# ---- tenant scope and roles ----------------------------------------------------------------


def test_another_operators_partners_are_never_found(session, ara, bre):
    theirs = new_partner(session, bre, "Apec Rennes")
    reader = make_staff(session, ara)
    assert search_partners(session=session, actor=reader) == []
    with pytest.raises(NotFound):
        get_partner(session=session, actor=reader, partner_id=theirs.id)
    editor = make_staff(session, ara, Role.OPERATOR_ADMIN)
    data = PartnerUpdate(name="Pirate", type=PartnerType.OTHER)
    with pytest.raises(NotFound):
        update_partner(session=session, actor=editor, partner_id=theirs.id, data=data)
    with pytest.raises(NotFound):
        set_active(session=session, actor=editor, partner_id=theirs.id, active=False)
    assert theirs.name == "Apec Rennes" and theirs.active


def test_roles_without_personal_data_find_nothing(session, ara):
    new_partner(session, ara)
    observer = make_staff(session, None, Role.NATIONAL_OBSERVER)
    with pytest.raises(NotFound):
        search_partners(session=session, actor=observer)


def test_counsellors_read_but_do_not_edit(session, ara, counsellor):
    existing = new_partner(session, ara)
    assert get_partner(session=session, actor=counsellor, partner_id=existing.id) is existing
    data = PartnerCreate(name="Nouveau", type=PartnerType.OTHER)
    with pytest.raises(Forbidden):
        create_partner(session=session, actor=counsellor, data=data)
    with pytest.raises(Forbidden):
        update_partner(session=session, actor=counsellor, partner_id=existing.id, data=data)
    with pytest.raises(Forbidden):
        set_active(session=session, actor=counsellor, partner_id=existing.id, active=False)
    assert partner_count(session, ara) == 1 and existing.name == "Apec Lyon"


@pytest.mark.parametrize("role", [Role.MANAGER, Role.OPERATOR_ADMIN])
def test_managers_and_admins_keep_the_directory(session, ara, role):
    editor = make_staff(session, ara, role)
    data = PartnerCreate(name="Cap emploi Rhône", type=PartnerType.CAP_EMPLOI, departements="69")
    created = create_partner(session=session, actor=editor, data=data)
    assert (created.operator_id, created.departements) == (ara.id, "69")
    change = PartnerUpdate(name="Cap emploi Rhône", type=PartnerType.CAP_EMPLOI, city="Lyon")
    update_partner(session=session, actor=editor, partner_id=created.id, data=change)
    assert (created.city, created.departements) == ("Lyon", "")
    set_active(session=session, actor=editor, partner_id=created.id, active=False)
    assert created.active is False


# ---- validation ----------------------------------------------------------------------------


def test_names_are_unique_per_operator_whatever_the_case_and_accents(session, ara, bre, admin):
    new_partner(session, ara, "Apec Lyon")
    for name in ("Apec Lyon", "APEC LYON", "Àpec lyon"):
        with pytest.raises(Invalid) as caught:
            create_partner(
                session=session, actor=admin, data=PartnerCreate(name=name, type=PartnerType.APEC)
            )
        assert caught.value.fields == {
            "name": "Un autre partenaire de votre annuaire porte déjà ce nom"
        }
    new_partner(session, bre, "Apec Lyon")  # another operator's directory is its own


def test_a_partner_keeps_its_own_name_when_edited(session, ara, admin):
    existing = new_partner(session, ara, "Apec Lyon")
    data = PartnerUpdate(name="APEC Lyon", type=PartnerType.APEC)
    update_partner(session=session, actor=admin, partner_id=existing.id, data=data)
    assert existing.name == "APEC Lyon"
    other = new_partner(session, ara, "Apec Grenoble")
    with pytest.raises(Invalid):
        update_partner(session=session, actor=admin, partner_id=other.id, data=data)


def test_departements_are_normalised():
    data = PartnerCreate(name="x", type="autre", departements="69, 1;2a  974 69 2B 38")
    assert data.departements == "01 2A 2B 38 69 974"
    assert PartnerCreate(name="x", type="autre", departements=["69", "1"]).departements == "01 69"


def test_contacts_are_normalised():
    data = PartnerCreate(
        name="  Apec  ", type="apec", phone="04 72 00 00 00", website="www.apec.fr", email=""
    )
    assert (data.name, data.phone, data.website, data.email) == (
        "Apec",
        "+33472000000",
        "https://www.apec.fr",
        None,
    )


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", " ", "Ce champ est obligatoire"),
        ("type", "astrologue", "Choix invalide"),
        ("departements", "69 20", "Département inconnu : « 20 » (ex. 01, 69, 2A, 974)"),
        ("departements", "977", "Département inconnu : « 977 » (ex. 01, 69, 2A, 974)"),
        ("departements", "690", "Département inconnu : « 690 » (ex. 01, 69, 2A, 974)"),
        ("email", "accueil@", "Adresse e-mail invalide"),
        ("phone", "12", "Numéro de téléphone français invalide (ex. 06 12 34 56 78)"),
        ("postcode", "6900", "Code postal invalide : 5 chiffres (ex. 69003)"),
        ("website", "javascript:alert(1)", "Adresse de site invalide (ex. https://www.exemple.fr)"),
        ("website", "ftp://exemple.fr", "Adresse de site invalide (ex. https://www.exemple.fr)"),
        ("services", "x" * 2001, "Trop long : 2000 caractères au plus"),
    ],
)
def test_bad_values_get_a_french_message(field, value, message):
    form = {"name": "Apec Lyon", "type": "apec", field: value}
    with pytest.raises(Invalid) as caught:
        parse_form(PartnerCreate, form)
    assert caught.value.fields == {field: message}


# ---- CSV import ----------------------------------------------------------------------------


def csv_text(*lines: str, header: str = HEADER) -> str:
    return "\r\n".join([header, *lines]) + "\r\n"


def test_a_valid_file_is_checked_without_writing_anything(session, ara, admin):
    new_partner(session, ara, "Apec Lyon")
    text = csv_text(
        "APEC Lyon;apec;69 01;;;Lyon;;lyon@apec.exemple.fr;04 72 00 00 00;;Cadres;oui",
        "Cap emploi Rhône;Cap emploi;69;;69006;Lyon;;;;;;",
    )
    report = partners_csv.check_import(session=session, actor=admin, text=text)
    assert report.valid and (report.to_create, report.to_update) == (1, 1)
    assert [line.number for line in report.lines] == [2, 3]
    assert partner_count(session, ara) == 1


def test_the_import_creates_new_names_and_updates_known_ones(session, ara, admin):
    known = new_partner(session, ara, "Apec Lyon", city="Villeurbanne", services="Cadres")
    text = csv_text(
        "APEC Lyon;apec;69 01;;;Lyon;;lyon@apec.exemple.fr;04 72 00 00 00;;Cadres;oui",
        "Cap emploi Rhône;Cap emploi;69;;69006;Lyon;;;;;;non",
    )
    report = partners_csv.run_import(session=session, actor=admin, text=text)
    assert report.valid and partner_count(session, ara) == 2
    assert (known.name, known.city, known.phone) == ("APEC Lyon", "Lyon", "+33472000000")
    created = search_partners(session=session, actor=admin, type="cap_emploi", active_only=False)
    assert [(p.postcode, p.active) for p in created] == [("69006", False)]


def test_invalid_lines_are_reported_by_number_and_nothing_is_imported(session, ara, admin):
    text = csv_text(
        "Bon partenaire;apec;69;;;;;;;;;",
        ";apec;69;;;;;;;;;",
        "Département faux;apec;20;;;;;pas-un-mail;;;;peut-être",
        "Type faux;astrologue;69;;;;;;;;;",
        "bon PARTENAIRE;apec;;;;;;;;;;",
    )
    report = partners_csv.run_import(session=session, actor=admin, text=text)
    assert not report.valid and partner_count(session, ara) == 0
    errors = {line.number: line.errors for line in report.invalid_lines}
    assert errors == {
        3: ["nom : Ce champ est obligatoire"],
        4: [
            "actif : « oui » ou « non » attendu",
            "departements : Département inconnu : « 20 » (ex. 01, 69, 2A, 974)",
            "email : Adresse e-mail invalide",
        ],
        5: ["type : « astrologue » n'est pas un type connu (voir la liste)"],
        6: ["nom : « bon PARTENAIRE » figure déjà ligne 2 du fichier"],
    }


def test_line_numbers_count_values_spanning_several_lines(session, admin):
    text = csv_text('Un;apec;;;;;;;;;"Première ligne\nseconde ligne";', "Deux;apec;20;;;;;;;;;")
    report = partners_csv.check_import(session=session, actor=admin, text=text)
    assert [line.number for line in report.invalid_lines] == [4]
    assert report.lines[0].data.services == "Première ligne\nseconde ligne"


@pytest.mark.parametrize(
    "raw",
    [
        "\ufeffnom;type;ville\r\nÉcole des métiers;autre;Saint-Étienne\r\n".encode(),
        "nom;type;ville\r\nÉcole des métiers;autre;Saint-Étienne\r\n".encode("cp1252"),
        'nom,type,ville\n"École des métiers",autre,Saint-Étienne\n'.encode(),
        "Nom;Type;Ville\nÉcole des métiers;Autre;Saint-Étienne\n".encode("cp1252"),
    ],
    ids=["utf8-bom", "cp1252", "comma", "capitalised"],
)
def test_bom_windows_1252_and_commas_are_read(session, admin, raw):
    report = partners_csv.check_import(
        session=session, actor=admin, text=partners_csv.decode_csv(raw)
    )
    assert report.valid
    data = report.lines[0].data
    assert (data.name, data.type, data.city) == ("École des métiers", "autre", "Saint-Étienne")


@pytest.mark.parametrize(
    ("given", "code"),
    [
        ("Transitions Pro (PTP, démission-reconversion)", "transitions_pro"),
        ("transitions pro", "transitions_pro"),
        ("BILAN DE COMPÉTENCES", "bilan_competences"),
        ("Santé au travail", "sante_travail"),
        ("CPF", "cpf"),
        ("france_travail", "france_travail"),
    ],
)
def test_types_are_read_from_their_code_or_french_label(session, admin, given, code):
    report = partners_csv.check_import(
        session=session, actor=admin, text=csv_text(f"X;{given}", header="nom;type")
    )
    assert report.valid and report.lines[0].data.type == code


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("nom;type;telphone\nX;apec;0472000000\n", "Colonne « telphone » inconnue"),
        ("nom;ville\nX;Lyon\n", "Colonne obligatoire absente : type"),
        ("nom;type;nom\nX;apec;Y\n", "Colonne « nom » présente deux fois"),
        ("nom;type\n", "Aucun partenaire dans le fichier, seulement l'en-tête"),
        ('nom;type\n"X;apec\n', "Fichier CSV illisible"),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_whole(session, admin, text, problem):
    report = partners_csv.check_import(session=session, actor=admin, text=text)
    assert not report.valid and report.problems[0].startswith(problem)


def test_extra_values_on_a_line_are_reported(session, admin):
    text = "nom;type\nX;apec;en trop\nY;apec;;\n"
    report = partners_csv.check_import(session=session, actor=admin, text=text)
    assert [line.number for line in report.invalid_lines] == [2]
    assert "3 valeurs pour 2 colonnes" in report.invalid_lines[0].errors[0]


def test_columns_absent_from_the_file_keep_existing_values(session, ara, admin):
    known = new_partner(session, ara, "Apec Lyon", email="lyon@apec.exemple.fr", active=False)
    partners_csv.run_import(
        session=session, actor=admin, text="nom;type;ville\nApec Lyon;apec;Lyon\n"
    )
    assert (known.city, known.email, known.active) == ("Lyon", "lyon@apec.exemple.fr", False)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "Le fichier est vide"),
        (b"PK\x03\x04\x00\x00", "Ce n'est pas un fichier CSV : enregistrez-le au format CSV"),
        (b"nom;type\n" + b"x" * partners_csv.MAX_BYTES, "Fichier trop volumineux : 1 Mo au plus"),
        (b"nom;type\n\x81\x8d;apec\n", "Encodage illisible : enregistrez le fichier en CSV UTF-8"),
    ],
)
def test_unreadable_files_are_refused(raw, message):
    with pytest.raises(Invalid) as caught:
        partners_csv.decode_csv(raw)
    assert caught.value.fields == {"fichier": message}


def test_counsellors_cannot_import(session, counsellor):
    with pytest.raises(Forbidden):
        partners_csv.check_import(session=session, actor=counsellor, text=csv_text("X;apec"))


# ---- CSV export ----------------------------------------------------------------------------


def exported(session, actor) -> bytes:
    rows = partners_csv.export_rows(session=session, actor=actor)
    return b"".join(partners_csv.csv_chunks(rows))


def test_the_export_opens_in_excel_with_its_accents(session, ara, counsellor):
    new_partner(session, ara, "École", departements="69 01", phone="04 72 00 00 00", active=False)
    content = exported(session, counsellor)
    assert content.startswith(b"\xef\xbb\xbf" + HEADER.encode() + b"\r\n")
    assert "École;apec;01 69;;;;;;04 72 00 00 00;;;non\r\n".encode() in content


def test_export_then_import_changes_nothing(session, ara, bre, admin):
    seed_partners(session=session, operator=ara)
    new_partner(session, ara, "=SOMME(A1)", services="- premier\n- second", address='"Le Forum"')
    new_partner(session, bre, "Apec Rennes")  # never in ARA's export
    before = [p.model_dump(exclude={"updated_at"}) for p in _all(session, ara)]
    content = exported(session, admin)
    assert b"Apec Rennes" not in content and b"'=SOMME(A1)" in content
    report = partners_csv.run_import(
        session=session, actor=admin, text=partners_csv.decode_csv(content)
    )
    assert report.valid and (report.to_create, report.to_update) == (0, len(before))
    assert [p.model_dump(exclude={"updated_at"}) for p in _all(session, ara)] == before


def _all(session, operator) -> list[Partner]:
    query = select(Partner).where(Partner.operator_id == operator.id).order_by(Partner.id)
    return list(session.exec(query))


# ---- demo directory ------------------------------------------------------------------------


@pytest.mark.parametrize(("code", "name"), [("ARA", "Auvergne-Rhône-Alpes"), ("BRE", "Bretagne")])
def test_each_demo_region_has_a_full_directory(session, code, name):
    operator = make_operator(session, code, name)
    assert 20 <= seed_partners(session=session, operator=operator) <= 30
    seeded = _all(session, operator)
    assert {p.type for p in seeded} == set(PartnerType)
    assert sum(not p.active for p in seeded) >= 2
    assert any(p.email is None for p in seeded)
    assert all(p.email.endswith("exemple.fr") for p in seeded if p.email)
