"""Demo partner directories of the two demo operators (fictitious contacts, example e-mails)."""

from sqlmodel import Session

from app.models.nomenclatures import PartnerType as T
from app.models.operators import Operator
from app.models.partners import PartnerCreate
from app.services.referrals.partners import add_partner

# Phone numbers come from the ranges ARCEP keeps for fiction (04 65 71…, 02 61 91…), so that
# nobody real gets a call from someone trying the demo; e-mails are on exemple.fr.
_VAE = "https://vae.gouv.fr"
_FT = "https://www.francetravail.fr"
_APEC = "https://www.apec.fr"
_CPF = "https://www.moncompteformation.gouv.fr"


def _p(
    name,
    type_,
    departements,
    address,
    postcode,
    city,
    contact,
    email,
    phone,
    services,
    website="",
    active=True,
) -> dict:
    return {
        "name": name,
        "type": type_,
        "departements": departements,
        "address": address,
        "postcode": postcode,
        "city": city,
        "contact_name": contact,
        "email": email,
        "phone": phone,
        "services": services,
        "website": website,
        "active": active,
    }


# fmt: off
ARA = [
    _p("France VAE — point relais conseil Lyon", T.VAE, "69 01", "40 rue de la Villette", "69003", "Lyon",
       "Accueil VAE", "vae.lyon@exemple.fr", "04 65 71 10 01",
       "Information sur la VAE, choix de la certification, aide au dossier de recevabilité, "
       "préparation du passage devant le jury.", _VAE),
    _p("France VAE — point relais conseil Grenoble", T.VAE, "38 73", "12 rue Félix Poulat", "38000",
       "Grenoble", "Accueil VAE", "vae.grenoble@exemple.fr", "04 65 71 10 02",
       "Réunions d'information collectives chaque mardi, entretiens individuels sur rendez-vous.", _VAE),
    _p("Point relais conseil VAE de Saint-Étienne (fermé)", T.VAE, "42", "8 place Jean Jaurès", "42000",
       "Saint-Étienne", "", None, None,
       "Fermé : les demandes de la Loire vont au point relais de Lyon.", active=False),
    _p("Rhône-Alpes Évolution — bilans de compétences", T.SKILLS_ASSESSMENT, "69 01 42",
       "27 cours Gambetta", "69007", "Lyon", "Sophie Marcellin", "bilan@rhonealpes-evolution.exemple.fr",
       "04 65 71 10 03",
       "Bilans de compétences de 24 heures finançables par le CPF, en présentiel ou à distance ; "
       "bilans d'orientation pour les 45 ans et plus."),
    _p("Auvergne Bilan Conseil", T.SKILLS_ASSESSMENT, "63 03 15 43", "5 rue Blatin", "63000",
       "Clermont-Ferrand", "Accueil", "contact@auvergne-bilan.exemple.fr", "04 65 71 10 04",
       "Bilans de compétences, bilans d'orientation, tests d'intérêts professionnels."),
    _p("Savoie Mont-Blanc Bilans", T.SKILLS_ASSESSMENT, "73 74", "3 avenue de Chambéry", "74000",
       "Annecy", "", None, "04 65 71 10 05",
       "Activité suspendue depuis le départ de la consultante.", active=False),
    _p("France Travail — agence Lyon Part-Dieu", T.FRANCE_TRAVAIL, "69", "78 rue de Bonnel", "69003",
       "Lyon", "Conseillère entreprises", None, "04 65 71 10 06",
       "Inscription des personnes licenciées ou en fin de contrat, indemnisation, "
       "accompagnement des demandeurs d'emploi.", _FT),
    _p("France Travail — agence Clermont-Ferrand Nord", T.FRANCE_TRAVAIL, "63", "14 rue de Sarliève",
       "63100", "Clermont-Ferrand", "", None, "04 65 71 10 07",
       "Inscription, indemnisation, ateliers de recherche d'emploi.", _FT),
    _p("Apec Lyon", T.APEC, "69 01 07 26 42", "11 rue de la République", "69002", "Lyon",
       "Consultante Apec", "lyon@apec.exemple.fr", "04 65 71 10 08",
       "Conseil aux cadres et jeunes diplômés : projet d'évolution, mobilité, rémunération, "
       "négociation d'une rupture conventionnelle.", _APEC),
    _p("Apec Grenoble", T.APEC, "38 73 74", "2 place Victor Hugo", "38000", "Grenoble", "",
       "grenoble@apec.exemple.fr", "04 65 71 10 09", "Conseil en évolution pour les cadres.", _APEC),
    _p("Cap emploi Rhône", T.CAP_EMPLOI, "69", "30 rue Garibaldi", "69006", "Lyon",
       "Chargé de maintien dans l'emploi", "contact@capemploi69.exemple.fr", "04 65 71 10 10",
       "Accompagnement des personnes en situation de handicap (RQTH) : recherche d'emploi, "
       "aménagement de poste, reconversion après inaptitude."),
    _p("Cap emploi Isère", T.CAP_EMPLOI, "38", "6 rue Professeur Rollet", "38100", "Grenoble", "",
       "contact@capemploi38.exemple.fr", "04 65 71 10 11",
       "Emploi et maintien dans l'emploi des travailleurs handicapés."),
    _p("Mission locale de Lyon", T.MISSION_LOCALE, "69", "4 rue Sala", "69002", "Lyon", "Accueil jeunes",
       "accueil@missionlocale-lyon.exemple.fr", "04 65 71 10 12",
       "Jeunes de 16 à 25 ans sans emploi ni formation : Contrat d'engagement jeune, logement, santé."),
    _p("Mission locale de Clermont-Ferrand", T.MISSION_LOCALE, "63", "22 rue Fontgiève", "63000",
       "Clermont-Ferrand", "", None, "04 65 71 10 13",
       "Accompagnement des 16–25 ans : emploi, formation, mobilité."),
    _p("Transitions Pro Auvergne-Rhône-Alpes", T.TRANSITIONS_PRO, "", "50 avenue Jean Jaurès", "69007",
       "Lyon", "Service instruction des dossiers", "ptp@transitionspro-ara.exemple.fr", "04 65 71 10 14",
       "Projet de transition professionnelle (PTP) : instruction et financement ; "
       "attestation du caractère réel et sérieux des projets de démission-reconversion."),
    _p("OPCO EP — délégation Auvergne-Rhône-Alpes", T.OPCO, "", "17 rue de Gerland", "69007", "Lyon",
       "Conseillère emploi-formation", "ara@opcoep.exemple.fr", "04 65 71 10 15",
       "Financement de la formation des salariés des entreprises de proximité (artisanat, "
       "professions libérales, services) ; Pro-A, plan de développement des compétences."),
    _p("Opco Atlas — délégation Auvergne-Rhône-Alpes", T.OPCO, "", "9 rue Docteur Bouchut", "69003",
       "Lyon", "", "ara@opco-atlas.exemple.fr", None,
       "Formation des salariés des services financiers et du conseil."),
    _p("Mon Compte Formation — Caisse des Dépôts", T.CPF, "", "", None, "", "", None, None,
       "Consultation des droits CPF, recherche et achat de formations, abondements de l'employeur "
       "ou de France Travail. Assistance en ligne uniquement.", _CPF),
    _p("CMA Auvergne-Rhône-Alpes — Rhône", T.BUSINESS_CREATION, "69", "10 rue Paul Montrochet", "69002",
       "Lyon", "Conseiller création", "creation.rhone@cma-ara.exemple.fr", "04 65 71 10 16",
       "Création et reprise d'entreprise artisanale : stage de préparation à l'installation, "
       "immatriculation, étude de marché, financements."),
    _p("CCI Lyon Métropole — espace entreprendre", T.BUSINESS_CREATION, "69 42", "Place de la Bourse",
       "69002", "Lyon", "", "entreprendre@cci-lyon.exemple.fr", "04 65 71 10 17",
       "Ateliers création-reprise, formation « 5 jours pour entreprendre », micro-entreprise."),
    _p("Service de prévention et de santé au travail Lyon-Rhône", T.OCCUPATIONAL_HEALTH, "69",
       "31 rue Paul Bert", "69003", "Lyon", "Cellule prévention de la désinsertion professionnelle",
       "pdp@spst-rhone.exemple.fr", "04 65 71 10 18",
       "Visite de préreprise, aménagement de poste, essai encadré, maintien dans l'emploi après "
       "un arrêt long ou une inaptitude."),
    _p("Service de prévention et de santé au travail du Puy-de-Dôme", T.OCCUPATIONAL_HEALTH, "63",
       "2 rue de l'Éminée", "63000", "Clermont-Ferrand", "", None, "04 65 71 10 19",
       "Suivi de l'état de santé des salariés, maintien en emploi."),
    _p("Carsat Rhône-Alpes — service social", T.SOCIAL_SERVICES, "01 07 26 38 42 69 73 74",
       "35 rue Maurice Flandin", "69003", "Lyon", "Assistante sociale", None, "04 65 71 10 20",
       "Accompagnement social des assurés en arrêt de travail long ou menacés de perdre leur emploi "
       "pour raison de santé."),
    _p("Centre communal d'action sociale de Grenoble", T.SOCIAL_SERVICES, "38", "28 galerie de l'Arlequin",
       "38100", "Grenoble", "", "accueil@ccas-grenoble.exemple.fr", "04 65 71 10 21",
       "Aides financières, accès aux droits, domiciliation."),
    _p("Club RH de la Vallée de l'Arve", T.EMPLOYER, "74", "135 avenue des Lacs", "74300", "Cluses",
       "Responsable du club", "club-rh@arve-industries.exemple.fr", "04 65 71 10 22",
       "Réseau de DRH de l'industrie du décolletage : immersions, mobilité interne, "
       "postes à pourvoir pour les reconversions."),
    _p("Passerelle numérique Lyon", T.OTHER, "69", "7 rue Saint-Polycarpe", "69001", "Lyon", "",
       "bonjour@passerelle-numerique.exemple.fr", None,
       "Ateliers d'inclusion numérique : messagerie, démarches en ligne, création de compte CPF."),
]

BRE = [
    _p("France VAE — point relais conseil Rennes", T.VAE, "35", "3 rue de Paris", "35000", "Rennes",
       "Accueil VAE", "vae.rennes@exemple.fr", "02 61 91 20 01",
       "Information sur la VAE, choix de la certification, accompagnement au dossier.", _VAE),
    _p("France VAE — point relais conseil Brest", T.VAE, "29", "16 rue Jean Jaurès", "29200", "Brest",
       "", "vae.brest@exemple.fr", "02 61 91 20 02",
       "Réunions d'information VAE chaque premier jeudi du mois.", _VAE),
    _p("Point relais conseil VAE de Saint-Malo (fermé)", T.VAE, "35", "4 rue de la Harpe", "35400",
       "Saint-Malo", "", None, None, "Fermé : orienter vers le point relais de Rennes.", active=False),
    _p("Bretagne Évolution — bilans de compétences", T.SKILLS_ASSESSMENT, "35 22", "9 rue d'Isly",
       "35000", "Rennes", "Yannick Le Corre", "bilan@bretagne-evolution.exemple.fr", "02 61 91 20 03",
       "Bilans de compétences finançables par le CPF, en présentiel à Rennes et Saint-Brieuc "
       "ou à distance."),
    _p("Centre de bilan de compétences de Quimper", T.SKILLS_ASSESSMENT, "29", "2 rue du Parc", "29000",
       "Quimper", "", "contact@cbc-quimper.exemple.fr", "02 61 91 20 04",
       "Bilans de compétences et bilans de fin de carrière."),
    _p("Côtes-d'Armor Avenir — bilans de compétences", T.SKILLS_ASSESSMENT, "22", "7 rue Saint-Guillaume",
       "22000", "Saint-Brieuc", "", None, "02 61 91 20 23",
       "N'accepte plus de nouveaux bilans : orienter vers Bretagne Évolution.", active=False),
    _p("France Travail — agence Rennes Sud", T.FRANCE_TRAVAIL, "35", "8 rue de Châtillon", "35200",
       "Rennes", "", None, "02 61 91 20 05",
       "Inscription, indemnisation, accompagnement des demandeurs d'emploi.", _FT),
    _p("France Travail — agence Lorient", T.FRANCE_TRAVAIL, "56", "21 rue Paul Guieysse", "56100",
       "Lorient", "", None, "02 61 91 20 06", "Inscription, indemnisation, ateliers.", _FT),
    _p("Apec Rennes", T.APEC, "35 22 56", "1 place de la Gare", "35000", "Rennes", "Consultant Apec",
       "rennes@apec.exemple.fr", "02 61 91 20 07",
       "Conseil aux cadres : projet d'évolution, mobilité, transition vers l'entrepreneuriat.", _APEC),
    _p("Apec Brest", T.APEC, "29", "32 rue de Lyon", "29200", "Brest", "", "brest@apec.exemple.fr",
       "02 61 91 20 08", "Conseil en évolution pour les cadres du Finistère.", _APEC),
    _p("Cap emploi Ille-et-Vilaine", T.CAP_EMPLOI, "35", "12 rue Saint-Hélier", "35000", "Rennes",
       "Chargée de maintien dans l'emploi", "contact@capemploi35.exemple.fr", "02 61 91 20 09",
       "Emploi et maintien dans l'emploi des personnes en situation de handicap."),
    _p("Cap emploi Finistère", T.CAP_EMPLOI, "29", "5 rue Amiral Linois", "29200", "Brest", "",
       "contact@capemploi29.exemple.fr", "02 61 91 20 10",
       "Accompagnement des travailleurs handicapés, aménagement de poste."),
    _p("Mission locale du bassin d'emploi de Rennes", T.MISSION_LOCALE, "35", "6 cours des Alliés",
       "35000", "Rennes", "Accueil jeunes", "accueil@ml-rennes.exemple.fr", "02 61 91 20 11",
       "Jeunes de 16 à 25 ans : Contrat d'engagement jeune, formation, logement."),
    _p("Mission locale du Pays de Vannes", T.MISSION_LOCALE, "56", "10 rue Thiers", "56000", "Vannes",
       "", None, "02 61 91 20 12", "Accompagnement des 16–25 ans vers l'emploi et la formation."),
    _p("Transitions Pro Bretagne", T.TRANSITIONS_PRO, "", "2 avenue de la Préfecture", "35000",
       "Rennes", "Service des projets de transition", "ptp@transitionspro-bretagne.exemple.fr",
       "02 61 91 20 13",
       "Projet de transition professionnelle (PTP), attestation des projets de "
       "démission-reconversion, Transco."),
    _p("Akto — délégation Bretagne", T.OPCO, "", "26 rue de la Rabine", "35000", "Rennes", "",
       "bretagne@akto.exemple.fr", "02 61 91 20 14",
       "Formation des salariés des services à forte intensité de main-d'œuvre (propreté, "
       "hôtellerie-restauration, travail temporaire)."),
    _p("OPCO 2i — délégation Bretagne", T.OPCO, "", "4 rue du Bignon", "35000", "Rennes",
       "Conseiller emploi-formation", "bretagne@opco2i.exemple.fr", None,
       "Formation des salariés de l'industrie ; reconversion ou promotion par alternance (Pro-A)."),
    _p("Mon Compte Formation — Caisse des Dépôts", T.CPF, "", "", None, "", "", None, None,
       "Consultation des droits CPF, recherche et achat de formations, abondements. "
       "Assistance en ligne uniquement.", _CPF),
    _p("CMA Bretagne — Ille-et-Vilaine", T.BUSINESS_CREATION, "35", "2 cours des Alliés", "35000",
       "Rennes", "Conseillère création", "creation35@cma-bretagne.exemple.fr", "02 61 91 20 15",
       "Création et reprise d'entreprise artisanale : stage de préparation, immatriculation, "
       "financements."),
    _p("BGE Bretagne — Brest", T.BUSINESS_CREATION, "29", "40 rue de Siam", "29200", "Brest", "",
       "brest@bge-bretagne.exemple.fr", "02 61 91 20 16",
       "Accompagnement des créateurs : étude du projet, couveuse, formation à la gestion."),
    _p("Service de prévention et de santé au travail d'Ille-et-Vilaine", T.OCCUPATIONAL_HEALTH, "35",
       "27 rue du Pré Botté", "35000", "Rennes", "Cellule maintien en emploi",
       "maintien@spst35.exemple.fr", "02 61 91 20 17",
       "Prévention de la désinsertion professionnelle, visite de préreprise, aménagement de poste."),
    _p("Service de prévention et de santé au travail du Finistère", T.OCCUPATIONAL_HEALTH, "29",
       "18 rue de Kerfautras", "29200", "Brest", "", None, "02 61 91 20 18",
       "Suivi de santé des salariés, maintien en emploi après un arrêt long."),
    _p("Carsat Bretagne — service social", T.SOCIAL_SERVICES, "", "236 rue de Châteaugiron", "35000",
       "Rennes", "Assistant social", None, "02 61 91 20 19",
       "Accompagnement social des assurés malades ou en risque de perdre leur emploi."),
    _p("Centre communal d'action sociale de Rennes", T.SOCIAL_SERVICES, "35", "Place de la Mairie",
       "35000", "Rennes", "", "ccas@rennes.exemple.fr", "02 61 91 20 20",
       "Aides financières, accès aux droits, accompagnement budgétaire."),
    _p("Groupement d'employeurs Bretagne Sud", T.EMPLOYER, "56 29", "15 rue du Port", "56100",
       "Lorient", "Responsable RH", "rh@ge-bretagnesud.exemple.fr", "02 61 91 20 21",
       "Postes partagés entre entreprises de l'agroalimentaire et du nautisme, "
       "découverte des métiers, périodes d'immersion."),
    _p("Maison de l'emploi du Pays de Saint-Brieuc", T.OTHER, "22", "5 rue du Combat des Trente",
       "22000", "Saint-Brieuc", "", "accueil@mde-saintbrieuc.exemple.fr", "02 61 91 20 22",
       "Point d'information sur les métiers qui recrutent, forums emploi, ateliers numériques."),
]
# fmt: on

DIRECTORIES = {"ARA": ARA, "BRE": BRE}


def seed_partners(*, session: Session, operator: Operator) -> int:
    """Give a demo operator its partner directory, checked by the same rules as the forms."""
    entries = DIRECTORIES.get(operator.code, [])
    assert operator.id is not None
    for entry in entries:
        add_partner(session=session, operator_id=operator.id, data=PartnerCreate(**entry))
    return len(entries)
