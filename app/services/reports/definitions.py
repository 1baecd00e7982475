"""What each indicator means, written once: its French label and a one-line definition, shown
beside the figure on the report pages (the glossary) and in the API's documentation. The code
that counts each one is in indicators.py and activity.py."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Definition:
    key: str  # the API's key
    label: str
    meaning: str


DEFINITIONS = (
    Definition(
        "entries",
        "Entrées",
        "Dossiers dont le premier épisode de niveau 1 (UO1) a commencé dans la période. Une "
        "demande réorientée à l'accueil n'est pas une entrée.",
    ),
    Definition(
        "people_served",
        "Personnes accompagnées",
        "Personnes distinctes ayant eu au moins un acte de niveau 1 ou de niveau 2 dans la période.",
    ),
    Definition(
        "redirections",
        "Réorientations",
        "Demandes reçues à l'accueil dans la période et réorientées vers un autre réseau "
        "(France Travail, APEC, Cap emploi, Mission locale, CEP de l'employeur public…).",
    ),
    Definition(
        "reaching_level_2",
        "Accès au niveau 2",
        "Parmi les entrées de la période (la base), part des dossiers dont une unité de niveau 2 "
        "(UO2.1, ou UO2.2 dans un parcours sans ordre imposé) a commencé dans les 12 mois (365 "
        "jours) suivant l'entrée.",
    ),
    Definition(
        "delay_to_level_1_days",
        "Délai d'accès au niveau 1",
        "Jours entre le premier contact (demande à l'accueil ou ouverture du dossier) et le "
        "premier entretien de niveau 1, pour les entrées de la période : médiane, et part en "
        "10 jours au plus.",
    ),
    Definition(
        "coverage_30km",
        "Couverture territoriale",
        "Part des personnes accompagnées dont le code postal est situé à 30 km au plus (à vol "
        "d'oiseau) d'un lieu d'accueil ou d'une permanence de leur opérateur ouverts dans la "
        "période ; les codes postaux sans position connue sont hors de la base.",
    ),
    Definition(
        "units_started",
        "Unités d'œuvre commencées",
        "Épisodes non annulés commencés dans la période, par unité ; la part sur site est celle "
        "des actes de l'unité tenus en présentiel.",
    ),
    Definition(
        "hors_uo_share",
        "Part des actes hors UO",
        "Actes de la période enregistrés hors de toute unité d'œuvre, sur l'ensemble des actes.",
    ),
    Definition(
        "by_motive",
        "Motifs de la demande",
        "Entrées de la période selon le motif de la demande noté à l'ouverture du dossier.",
    ),
    Definition(
        "by_channel",
        "Canal d'arrivée",
        "Entrées de la période selon le canal par lequel la demande est arrivée.",
    ),
    Definition(
        "satisfaction",
        "Satisfaction",
        "Part de personnes satisfaites parmi les réponses aux enquêtes de fin de niveau "
        "envoyées dans la période.",
    ),
    Definition(
        "utility",
        "Utilité à six mois",
        "Part de personnes jugeant le conseil utile parmi les réponses aux enquêtes à six mois "
        "envoyées dans la période.",
    ),
)
BY_KEY = {definition.key: definition for definition in DEFINITIONS}
