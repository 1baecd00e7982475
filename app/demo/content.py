"""French content of the demo data: places, names, profiles, texts and their weights."""

from app.models.nomenclatures import (
    CepSituation,
    Channel,
    CloseReason,
    CompanySize,
    DiplomaLevel,
    EmploymentStatus,
    InteractionChannel,
    NafSection,
    Pcs,
    RequestMotive,
    Role,
    Rqth,
)

# fmt: off

_HOURS = "Lundi au vendredi 9h–12h30 et 13h30–17h30 ; le jeudi jusqu'à 19h sur rendez-vous"
_HOURS_SHORT = "Lundi, mardi, jeudi 9h–12h30 et 13h30–17h ; mercredi et vendredi sur rendez-vous"
_ACCESS = (
    "Accès de plain-pied, ascenseur, toilettes adaptées ; boucle magnétique à l'accueil ; "
    "place de stationnement réservée PMR devant l'entrée."
)
_ACCESS_FLOOR = (
    "Bureaux au 2e étage avec ascenseur ; entretiens possibles au rez-de-chaussée sur demande ; "
    "chiens guides bienvenus."
)

# Sites: (name, address, postcode, city, opening hours, accessibility). Permanences: (index of
# the site, index of the counsellor holding it, venue, address, postcode, city, weekdays from
# 0 = Monday, first hour, last hour).
OPERATORS = [
    {
        "code": "ARA", "name": "Auvergne-Rhône-Alpes", "region": "84",
        "sites": [
            ("Lyon Part-Dieu", "19 rue de la Villette", "69003", "Lyon", _HOURS, _ACCESS),
            ("Grenoble Europole", "5 place Robert Schuman", "38000", "Grenoble",
             _HOURS_SHORT, _ACCESS_FLOOR),
            ("Clermont-Ferrand Jaude", "14 place de Jaude", "63000", "Clermont-Ferrand",
             _HOURS_SHORT, _ACCESS),
        ],
        "permanences": [
            (0, 0, "Mairie de Vaulx-en-Velin", "Place de la Nation", "69120", "Vaulx-en-Velin",
             "1", 9, 12),
            (2, 2, "Mairie de Riom", "5 rue Delille", "63200", "Riom", "3", 14, 17),
        ],
        "postcodes": "69001 69003 69007 69008 69100 69200 69500 38000 38100 38400 63000 63100 "
                     "42000 73000 74000 01000 26000 03100 15000 43000".split(),
        "last_names": ["Chabanel", "Dufaud", "Bérard", "Vial", "Jacquemet", "Rochette", "Faure",
                       "Thévenon"],
    },
    {
        "code": "BRE", "name": "Bretagne", "region": "53",
        "sites": [
            ("Rennes Colombier", "22 boulevard de la Liberté", "35000", "Rennes", _HOURS, _ACCESS),
            ("Brest Siam", "48 rue de Siam", "29200", "Brest", _HOURS_SHORT, _ACCESS_FLOOR),
            ("Vannes Port", "9 rue du Port", "56000", "Vannes", _HOURS_SHORT, _ACCESS),
        ],
        "permanences": [
            (1, 1, "Médiathèque de Landerneau", "Rue de la Tour d'Auvergne", "29800",
             "Landerneau", "03", 14, 17),
        ],
        "postcodes": "35000 35200 35700 35400 35300 29200 29000 29600 56000 56100 56300 22000 "
                     "22100 22300".split(),
        "last_names": ["Le Bihan", "Kerhervé", "Le Gall", "Le Goff", "Tanguy", "Quéméner",
                       "Le Floc'h", "Guillou", "Riou", "Cadiou", "Prigent", "Le Roux"],
    },
]

# (operator code, e-mail, full name, role, indexes of the sites worked at)
STAFF = [
    ("ARA", "conseillere@ara.demo", "Élodie Martin", Role.COUNSELLOR, [0]),
    ("ARA", "conseiller2@ara.demo", "François Lefèvre", Role.COUNSELLOR, [1]),
    ("ARA", "conseillere3@ara.demo", "Anaïs Rousseau", Role.COUNSELLOR, [2, 0]),
    ("ARA", "manager@ara.demo", "Benoît Chabert", Role.MANAGER, [0, 1, 2]),
    ("ARA", "admin@ara.demo", "Sandrine Faure", Role.OPERATOR_ADMIN, []),
    ("BRE", "conseillere@bre.demo", "Gaëlle Le Gall", Role.COUNSELLOR, [0]),
    ("BRE", "conseiller2@bre.demo", "Loïc Tanguy", Role.COUNSELLOR, [1]),
    ("BRE", "conseillere3@bre.demo", "Maëlle Guillou", Role.COUNSELLOR, [2]),
    ("BRE", "manager@bre.demo", "Hervé Quéré", Role.MANAGER, [0, 1, 2]),
    ("BRE", "admin@bre.demo", "Nolwenn Le Corre", Role.OPERATOR_ADMIN, []),
    (None, "observateur@demo", "Clémence Duval", Role.NATIONAL_OBSERVER, []),
    (None, "controleur@demo", "Karim Benali", Role.CONTROLLER, []),
    (None, "controleuse@demo", "Juliette Marchand", Role.CONTROLLER, []),
    (None, "sysadmin@demo", "Mathieu Roussel", Role.SYSADMIN, []),
]

# The demo controllers' team: each reads the campaigns the other opened.
CONTROL_TEAM = "Contrôle de service fait — national"

FEMALE_NAMES = (
    "Zoé Hélène Maëlle Béatrice Léa Agnès Chloé Camille Inès Clémence Amélie Océane Éloïse Nadia "
    "Sophie Aurélie Céline Émilie Mélanie Noémie Laëtitia Gwenaëlle Fatima Sandrine Valérie "
    "Nathalie Manon Lucie Solène Anne-Sophie"
).split()
MALE_NAMES = (
    "Jérôme Noël Loïc Cédric Raphaël Benoît Hugo Théo Grégoire Frédéric Stéphane Joël Gaël "
    "Yannick Karim Antoine Julien Nicolas Sébastien Thierry Rémi Mickaël Olivier Mehdi Erwan "
    "Jean-François"
).split()
LAST_NAMES = (
    "Ménard, Lefèvre, Guérin, Féraud, Martin, Bernard, Dubois, Moreau, Laurent, Girard, Roux, "
    "Fournier, Mercier, Bonnet, Chevalier, Rivière, Gauthier, Perrin, Morel, Benali, Nguyen, "
    "Da Silva, Besson, Carré, Aubert, Brémond, Gaillard, Barbier, N'Diaye, Lemaître"
).split(", ")

# Ages 22–62, most people between 28 and 51 (as in the France compétences figures).
AGES = [*range(22, 63), *range(28, 52)]

STATUS_WEIGHTS = {
    EmploymentStatus.CDI: 55, EmploymentStatus.CDD: 12, EmploymentStatus.TEMP: 6,
    EmploymentStatus.WORK_STUDY: 3, EmploymentStatus.HOUSEHOLD_EMPLOYEE: 2,
    EmploymentStatus.PERFORMING_ARTS: 2, EmploymentStatus.SELF_EMPLOYED: 8,
    EmploymentStatus.LIBERAL: 3, EmploymentStatus.CRAFT_TRADE: 3,
    EmploymentStatus.BUSINESS_OWNER: 2, EmploymentStatus.OTHER: 4,
}
PCS_WEIGHTS = {
    Pcs.FARMERS: 1, Pcs.EXECUTIVES: 15, Pcs.INTERMEDIATE: 24, Pcs.EMPLOYEES: 40, Pcs.WORKERS: 20,
}
NAF_WEIGHTS = {
    NafSection.Q: 22, NafSection.G: 16, NafSection.C: 13, NafSection.N: 7, NafSection.H: 6,
    NafSection.I: 6, NafSection.F: 6, NafSection.M: 6, NafSection.P: 4, NafSection.S: 4,
    NafSection.J: 4, NafSection.K: 3, NafSection.A: 2, NafSection.R: 2, NafSection.L: 2,
    NafSection.E: 1, NafSection.D: 1,
}
SIZE_WEIGHTS = {
    CompanySize.MICRO: 15, CompanySize.SME: 35, CompanySize.MID: 20, CompanySize.LARGE: 22,
    CompanySize.UNKNOWN: 8,
}
DIPLOMA_WEIGHTS = {
    DiplomaLevel.NONE: 8, DiplomaLevel.L3: 20, DiplomaLevel.L4: 24, DiplomaLevel.L5: 20,
    DiplomaLevel.L6: 15, DiplomaLevel.L7: 11, DiplomaLevel.L8: 2,
}
_OWN_BOSS = {"pcs": Pcs.CRAFT_TRADE_OWNERS, "company_size": CompanySize.NONE}
STATUS_PROFILE = {
    EmploymentStatus.SELF_EMPLOYED: _OWN_BOSS,
    EmploymentStatus.CRAFT_TRADE: _OWN_BOSS,
    EmploymentStatus.BUSINESS_OWNER: _OWN_BOSS | {"company_size": CompanySize.MICRO},
    EmploymentStatus.LIBERAL: {"pcs": Pcs.EXECUTIVES, "company_size": CompanySize.NONE,
                               "naf_section": NafSection.M},
    EmploymentStatus.HOUSEHOLD_EMPLOYEE: {"pcs": Pcs.EMPLOYEES, "naf_section": NafSection.T,
                                          "company_size": CompanySize.UNKNOWN},
    EmploymentStatus.PERFORMING_ARTS: {"naf_section": NafSection.R},
}
SITUATION_PROFILE = {
    CepSituation.JOB_SEEKER: {"employment_status": EmploymentStatus.OTHER,
                              "company_size": CompanySize.UNKNOWN},
    CepSituation.YOUNG_NEET: {"employment_status": None, "pcs": None, "naf_section": None,
                              "company_size": CompanySize.UNKNOWN, "diploma_level": None},
    CepSituation.PUBLIC_AGENT: {"employment_status": EmploymentStatus.OTHER,
                                "naf_section": NafSection.O, "company_size": CompanySize.UNKNOWN},
    CepSituation.DISABILITY: {"rqth": Rqth.YES},
    CepSituation.MANAGER: {"employment_status": EmploymentStatus.CDI, "pcs": Pcs.EXECUTIVES,
                           "company_size": CompanySize.LARGE},
}

OPERATOR_PLAN = {"people": 100, "closed": 20}
REDIRECTED = [
    CepSituation.JOB_SEEKER, CepSituation.JOB_SEEKER, CepSituation.JOB_SEEKER,
    CepSituation.JOB_SEEKER, CepSituation.YOUNG_NEET, CepSituation.YOUNG_NEET,
    CepSituation.PUBLIC_AGENT, CepSituation.PUBLIC_AGENT, CepSituation.DISABILITY,
    CepSituation.MANAGER,
]

CHANNEL_WEIGHTS = {
    Channel.PHONE: 40, Channel.WEB: 25, Channel.EMAIL: 15, Channel.WALK_IN: 15, Channel.PARTNER: 5,
}
MOTIVE_WEIGHTS = {
    RequestMotive.TAKE_STOCK: 18, RequestMotive.PROGRESS: 12, RequestMotive.RETRAIN: 22,
    RequestMotive.RESIGN_RETRAIN: 6, RequestMotive.PTP: 6, RequestMotive.BUSINESS: 8,
    RequestMotive.TRAINING: 8, RequestMotive.VAE: 5, RequestMotive.SKILLS_REVIEW: 5,
    RequestMotive.WORK_DIFFICULTY: 5, RequestMotive.HEALTH: 3, RequestMotive.MOBILITY: 1,
    RequestMotive.OTHER: 1,
}
REQUEST_TEXTS = {
    RequestMotive.TAKE_STOCK: [
        "Après quinze ans dans la même entreprise, j'aimerais faire le point sur mon parcours.",
        "Je ne sais plus trop où j'en suis professionnellement, j'ai besoin d'en parler.",
    ],
    RequestMotive.PROGRESS: [
        "Je voudrais évoluer vers un poste d'encadrement dans mon entreprise actuelle.",
        "Mon employeur propose une mobilité interne, je voudrais préparer ma candidature.",
    ],
    RequestMotive.RETRAIN: [
        "Aide-soignante depuis dix ans, je souhaite me reconvertir vers un métier moins physique.",
        "Je travaille dans la grande distribution et je pense à une reconversion dans le social.",
        "Envie de quitter la logistique pour un métier manuel, peut-être l'ébénisterie.",
    ],
    RequestMotive.RESIGN_RETRAIN: [
        "Je veux démissionner pour me former en boulangerie : comment faire attester le projet ?",
    ],
    RequestMotive.PTP: [
        "Je souhaite monter un dossier de projet de transition professionnelle pour devenir "
        "infirmière.",
    ],
    RequestMotive.BUSINESS: [
        "Projet de création d'une micro-entreprise de services à domicile, je cherche des "
        "conseils.",
        "Je voudrais reprendre le commerce de mon patron qui part à la retraite.",
    ],
    RequestMotive.TRAINING: [
        "J'ai des droits CPF et je voudrais me former en comptabilité.",
        "Quelle formation choisir pour passer le permis poids lourd avec mon CPF ?",
    ],
    RequestMotive.VAE: [
        "Je fais ce métier depuis huit ans sans diplôme, je voudrais faire une VAE.",
    ],
    RequestMotive.SKILLS_REVIEW: [
        "On m'a parlé du bilan de compétences, je voudrais savoir si c'est adapté à ma situation.",
    ],
    RequestMotive.WORK_DIFFICULTY: [
        "Je ne me sens plus à ma place dans mon équipe depuis la réorganisation.",
    ],
    RequestMotive.HEALTH: [
        "Suite à un arrêt maladie, je ne peux plus porter de charges lourdes : quel avenir ?",
    ],
    RequestMotive.MOBILITY: [
        "Mon conjoint est muté, je cherche à retrouver un poste similaire dans la région.",
    ],
    RequestMotive.OTHER: [
        "Je souhaite être rappelé pour une question sur mon parcours professionnel.",
    ],
}
FIRST_ADVICE = [
    "Présentation du CEP et de son fonctionnement ; premier rendez-vous proposé sur site.",
    "Information sur le CPF et sur Mon Compte Formation ; rendez-vous N1 fixé.",
    "Demande précisée au téléphone ; la personne est rassurée, entretien en visio proposé.",
    "Orientation vers la conseillère du lieu d'accueil le plus proche du domicile.",
]
REDIRECT_REASONS = {
    CepSituation.JOB_SEEKER: "Personne inscrite comme demandeuse d'emploi depuis trois mois.",
    CepSituation.YOUNG_NEET: "Jeune de moins de 26 ans sans emploi ni formation.",
    CepSituation.PUBLIC_AGENT: "Agent de la fonction publique territoriale.",
    CepSituation.DISABILITY: "Question principale : le handicap (RQTH) et le maintien en emploi.",
    CepSituation.MANAGER: "Cadre souhaitant un accompagnement spécialisé, préfère l'APEC.",
}
REDIRECT_ADVICE = {
    "france_travail": "Coordonnées de l'agence France Travail transmises, démarche expliquée.",
    "mission_locale": "Adresse de la Mission locale la plus proche donnée par téléphone.",
    "employeur_public": "Invitée à contacter le conseiller mobilité RH de sa collectivité.",
    "cap_emploi": "Coordonnées de Cap emploi transmises ; rappel possible si besoin.",
    "apec": "Lien vers le service CEP de l'APEC envoyé par courriel.",
}

# Scripts played by _play: '+UOx' starts a unit, 'suivi' follows up, 'hors' is outside any
# unit, '-' ends the running unit ('-pause': back to level 1).
OPEN_SCRIPTS = {
    "n1": ["+UO1", "suivi"],
    "n1_hors": ["+UO1", "hors", "suivi"],
    "n2_1": ["+UO1", "-", "+UO2.1", "suivi"],
    "n2_2": ["+UO1", "-", "+UO2.1", "suivi", "-", "+UO2.2", "hors"],
    "n1_n2_n1": ["+UO1", "-", "+UO2.1", "-pause", "+UO1"],
    "idle": ["+UO1", "suivi"],
}
OPEN_KINDS = ["n1", "n2_1", "idle", "n2_2", "n1_hors", "n1_n2_n1", "n2_1", "idle"]
_HORS_KINDS = ("hors téléphone", "hors téléphone", "hors courriel")

CLOSE_WEIGHTS = {
    CloseReason.COMPLETED: 12, CloseReason.WITHDRAWN: 3, CloseReason.UNREACHABLE: 3,
    CloseReason.OTHER: 2,
}
CLOSED_SCRIPTS = {
    CloseReason.COMPLETED: [
        ["+UO1", "-"],
        ["+UO1", "-", "+UO2.1", "suivi", "-"],
        ["+UO1", "-", "+UO2.1", "suivi", "-", "+UO2.2", "-"],
    ],
    CloseReason.WITHDRAWN: [["+UO1", "suivi", "-"]],
    CloseReason.UNREACHABLE: [["+UO1", "-", "hors"]],
    CloseReason.OTHER: [["+UO1", "-", "hors"]],
}
CLOSE_NOTES = {
    CloseReason.COMPLETED: "Projet abouti : plan d'action mis en œuvre, la personne est autonome.",
    CloseReason.WITHDRAWN: "La personne ne souhaite pas poursuivre pour le moment.",
    CloseReason.UNREACHABLE: "Trois relances sans réponse (téléphone et courriel).",
    CloseReason.OTHER: "Déménagement hors de la région, coordonnées du CEP local transmises.",
}

_ON_SITE, _VIDEO = InteractionChannel.ON_SITE, InteractionChannel.VIDEO
_PHONE, _EMAIL = InteractionChannel.PHONE, InteractionChannel.EMAIL
# kind → (possible durations in minutes, channel weights)
INTERACTION_SHAPES = {
    "UO1": ((45, 60, 75, 90), {_ON_SITE: 6, _VIDEO: 3, _PHONE: 1}),
    "UO2.1": ((60, 90, 120), {_ON_SITE: 6, _VIDEO: 4}),
    "UO2.2": ((45, 60), {_ON_SITE: 5, _VIDEO: 3, _PHONE: 2}),
    "suivi UO1": ((30, 45, 60), {_ON_SITE: 4, _VIDEO: 3, _PHONE: 3}),
    "suivi UO2.1": ((45, 60, 90), {_ON_SITE: 5, _VIDEO: 4, _PHONE: 1}),
    "suivi UO2.2": ((30, 45), {_ON_SITE: 3, _VIDEO: 3, _PHONE: 4}),
    "hors téléphone": ((5, 10, 15, 20), {_PHONE: 1}),
    "hors courriel": ((5, 10, 15), {_EMAIL: 1}),
    "reouverture": ((20, 30), {_PHONE: 1}),
}
SUMMARIES = {
    "UO1": [
        "Premier entretien : présentation du CEP, analyse de la demande et du parcours. "
        "Synthèse de l'entretien à remettre.",
        "Accueil individualisé : la personne souhaite changer de métier sans perdre en salaire. "
        "Premières pistes identifiées.",
        "Entretien N1 : retour sur le parcours, les compétences et les contraintes familiales. "
        "Informations sur le CPF données.",
        "Reprise du parcours depuis le dernier entretien ; clarification de la demande actuelle.",
    ],
    "suivi UO1": [
        "Point sur les pistes évoquées ; recherches métiers à faire d'ici le prochain rendez-vous.",
        "Échange sur les premières démarches : consultation de fiches métiers et d'offres.",
        "La personne a rencontré un professionnel du secteur visé ; elle confirme son intérêt.",
    ],
    "UO2.1": [
        "Entrée en niveau 2 : co-construction du projet, travail sur les compétences "
        "transférables.",
        "Conseil personnalisé : comparaison de deux projets possibles, critères de choix posés.",
        "Travail sur les valeurs et les conditions de travail recherchées ; enquête métier "
        "proposée.",
    ],
    "suivi UO2.1": [
        "Enquête métier restituée : le projet se précise. Rédaction du plan d'action engagée.",
        "Immersion professionnelle (PMSMP) préparée ; le document de synthèse est en cours.",
        "Relecture du plan d'action avec la personne ; étapes et échéances validées ensemble.",
    ],
    "UO2.2": [
        "Mise en œuvre : dossier de financement CPF en préparation, devis demandés.",
        "Accompagnement à la mise en œuvre : dossier Transitions Pro constitué ensemble.",
        "Suivi du plan d'action : inscription en formation confirmée pour la rentrée.",
    ],
    "suivi UO2.2": [
        "Point d'étape : la formation a commencé, la personne se sent à l'aise.",
        "Relance de l'organisme de formation sur le devis ; plan d'action mis à jour.",
    ],
    "hors téléphone": [
        "Appel rapide : question sur le solde CPF, réponse donnée.",
        "Échange téléphonique : inquiétude avant l'entretien professionnel, réassurance.",
        "Relance téléphonique après un rendez-vous non honoré, nouveau créneau proposé.",
    ],
    "hors courriel": [
        "Envoi de la liste des organismes de formation du secteur visé.",
        "Message de la personne : changement d'horaires de travail, rendez-vous déplacé.",
        "Réponse à une question sur l'attestation employeur demandée par Transitions Pro.",
    ],
    "reouverture": [
        "Réouverture du dossier : la personne revient, son projet de formation a été refusé "
        "par l'employeur. Nouvel entretien N1 programmé.",
    ],
}
PRIVATE_NOTES = [
    "", "", "", "",
    "Préfère être appelée en fin de journée.",
    "Situation personnelle délicate évoquée, à aborder avec tact.",
    "Disponible uniquement le mercredi (garde des enfants).",
]
OUTCOMES = {
    "UO1": "Synthèse de l'entretien remise",
    "UO2.1": "Document de synthèse et plan d'action remis",
    "UO2.2": "Plan d'action mis en œuvre, formation financée",
}
PAUSE_OUTCOME = "Projet suspendu : retour au niveau 1 à la demande de la personne"
# fmt: on
