"""Official lists (shared/reference/NOMENCLATURES.md): stored codes and their French labels."""

from dataclasses import dataclass
from enum import StrEnum


class LabelledEnum(StrEnum):
    """A string enum whose members carry the French label shown to users."""

    label: str

    def __new__(cls, value: str, label: str):
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        return [(m.value, m.label) for m in cls]


class Sex(LabelledEnum):
    FEMALE = "F", "Femme"
    MALE = "M", "Homme"
    UNKNOWN = "NR", "Non renseigné"


class EmploymentStatus(LabelledEnum):
    CDI = "cdi", "CDI"
    CDD = "cdd", "CDD"
    TEMP = "interim", "Intérim"
    WORK_STUDY = "alternance", "Contrat en alternance (apprentissage, professionnalisation)"
    HOUSEHOLD_EMPLOYEE = "particulier_employeur", "Salarié de particulier employeur"
    PERFORMING_ARTS = "intermittent", "Intermittent du spectacle"
    SELF_EMPLOYED = "independant", "Travailleur indépendant / micro-entrepreneur"
    LIBERAL = "liberal", "Profession libérale"
    CRAFT_TRADE = "artisan_commercant", "Artisan, commerçant"
    BUSINESS_OWNER = "chef_entreprise", "Chef d'entreprise"
    OTHER = "autre", "Autre"


class Pcs(LabelledEnum):
    FARMERS = "1", "Agriculteurs exploitants"
    CRAFT_TRADE_OWNERS = "2", "Artisans, commerçants et chefs d'entreprise"
    EXECUTIVES = "3", "Cadres et professions intellectuelles supérieures"
    INTERMEDIATE = "4", "Professions intermédiaires"
    EMPLOYEES = "5", "Employés"
    WORKERS = "6", "Ouvriers"


class NafSection(LabelledEnum):
    A = "A", "Agriculture, sylviculture et pêche"
    B = "B", "Industries extractives"
    C = "C", "Industrie manufacturière"
    D = "D", "Production et distribution d'électricité, de gaz, de vapeur et d'air conditionné"
    E = "E", "Production et distribution d'eau ; assainissement, gestion des déchets et dépollution"
    F = "F", "Construction"
    G = "G", "Commerce ; réparation d'automobiles et de motocycles"
    H = "H", "Transports et entreposage"
    I = "I", "Hébergement et restauration"  # noqa: E741
    J = "J", "Information et communication"
    K = "K", "Activités financières et d'assurance"
    L = "L", "Activités immobilières"
    M = "M", "Activités spécialisées, scientifiques et techniques"
    N = "N", "Activités de services administratifs et de soutien"
    O = "O", "Administration publique"  # noqa: E741
    P = "P", "Enseignement"
    Q = "Q", "Santé humaine et action sociale"
    R = "R", "Arts, spectacles et activités récréatives"
    S = "S", "Autres activités de services"
    T = "T", "Activités des ménages en tant qu'employeurs"
    U = "U", "Activités extra-territoriales"


class CompanySize(LabelledEnum):
    NONE = "sans_salarie", "Sans salarié"
    MICRO = "micro", "Microentreprise (moins de 10 salariés)"
    SME = "pme", "PME (10 à 249)"
    MID = "eti", "ETI (250 à 4 999)"
    LARGE = "ge", "Grande entreprise (5 000 et plus)"
    UNKNOWN = "nr", "Non renseigné"


class DiplomaLevel(LabelledEnum):
    NONE = "0", "Sans diplôme ou niveau inférieur au niveau 3"
    L3 = "3", "Niveau 3 (CAP, BEP)"
    L4 = "4", "Niveau 4 (baccalauréat)"
    L5 = "5", "Niveau 5 (bac + 2 : BTS, DUT, DEUST)"
    L6 = "6", "Niveau 6 (bac + 3 / 4 : licence, BUT, maîtrise)"
    L7 = "7", "Niveau 7 (bac + 5 : master, diplôme d'ingénieur)"
    L8 = "8", "Niveau 8 (doctorat)"


class Rqth(LabelledEnum):
    YES = "oui", "Oui"
    NO = "non", "Non"
    UNKNOWN = "nr", "Non renseigné"


class RequestMotive(LabelledEnum):
    TAKE_STOCK = "point_situation", "Faire le point sur sa situation professionnelle"
    PROGRESS = "evoluer", "Évoluer dans son emploi ou son entreprise"
    RETRAIN = "reconversion", "Se reconvertir"
    RESIGN_RETRAIN = (
        "demission_reconversion",
        ("Démission-reconversion (projet à faire attester par Transitions Pro)"),
    )
    PTP = "ptp", "Projet de transition professionnelle (PTP)"
    BUSINESS = "creation_entreprise", "Créer ou reprendre une entreprise"
    TRAINING = "formation", "Se former (CPF, Mon Compte Formation)"
    VAE = "vae", "Faire valider son expérience (VAE)"
    SKILLS_REVIEW = "bilan", "Faire un bilan de compétences"
    WORK_DIFFICULTY = "difficultes", "Difficultés ou insatisfaction au travail"
    HEALTH = "sante", "Maintien en emploi, santé"
    MOBILITY = "mobilite", "Mobilité géographique"
    OTHER = "autre", "Autre"


class Channel(LabelledEnum):
    """How a request reached the operator (triage)."""

    PHONE = "telephone", "Téléphone"
    EMAIL = "email", "Courriel"
    WALK_IN = "accueil", "Accueil physique"
    WEB = "web", "Site internet"
    PARTNER = "partenaire", "Partenaire"


class InteractionChannel(LabelledEnum):
    ON_SITE = "sur_site", "Sur site"
    PHONE = "telephone", "Téléphone"
    VIDEO = "visio", "Visioconférence"
    EMAIL = "email", "Courriel"


class CepSituation(LabelledEnum):
    """Where the person stands with regard to the CEP networks (art. L6111-6)."""

    PRIVATE_WORKER = "actif_prive", "Actif du secteur privé ou indépendant"
    MANAGER = "cadre", "Cadre"
    JOB_SEEKER = "demandeur_emploi", "Demandeur d'emploi"
    YOUNG_NEET = "jeune_neet", "16–25 ans sans emploi ni formation"
    PUBLIC_AGENT = "agent_public", "Agent public"
    DISABILITY = "rqth_principal", "Handicap reconnu (RQTH), question principale"


class Redirection(LabelledEnum):
    FRANCE_TRAVAIL = "france_travail", "France Travail"
    APEC = "apec", "APEC"
    CAP_EMPLOI = "cap_emploi", "Cap emploi"
    MISSION_LOCALE = "mission_locale", "Mission locale"
    PUBLIC_EMPLOYER = "employeur_public", "CEP de son employeur public"
    OTHER = "autre", "Autre"


class CloseReason(LabelledEnum):
    COMPLETED = "termine", "Accompagnement terminé"
    REDIRECTED = "reoriente", "Réorienté vers un autre réseau"
    WITHDRAWN = "abandon", "Abandon du bénéficiaire"
    UNREACHABLE = "injoignable", "Injoignable"
    OTHER = "autre", "Autre"


class Role(LabelledEnum):
    COUNSELLOR = "counsellor", "Conseiller·ère"
    MANAGER = "manager", "Responsable d'équipe"
    OPERATOR_ADMIN = "operator_admin", "Administrateur·rice de l'opérateur"
    NATIONAL_OBSERVER = "national_observer", "Observateur national"
    # France compétences' control of « service fait »: national, personal data only through
    # the proof packs of the campaigns the controller opened.
    CONTROLLER = "controller", "Contrôleur·euse France compétences"
    SYSADMIN = "sysadmin", "Administrateur·rice système"


# Roles that may read beneficiaries' personal data (always within their operator).
CASE_ROLES = frozenset({Role.COUNSELLOR, Role.MANAGER, Role.OPERATOR_ADMIN})


class StepOwner(LabelledEnum):
    BENEFICIARY = "beneficiary", "Bénéficiaire"
    COUNSELLOR = "counsellor", "Conseiller·ère"
    PARTNER = "partner", "Partenaire"


class PartnerType(LabelledEnum):
    """Who the CEP refers people to (partner directory)."""

    VAE = "vae", "VAE (France VAE, point relais conseil)"
    SKILLS_ASSESSMENT = "bilan_competences", "Bilan de compétences"
    FRANCE_TRAVAIL = "france_travail", "France Travail"
    APEC = "apec", "Apec"
    CAP_EMPLOI = "cap_emploi", "Cap emploi"
    MISSION_LOCALE = "mission_locale", "Mission locale"
    TRANSITIONS_PRO = "transitions_pro", "Transitions Pro (PTP, démission-reconversion)"
    OPCO = "opco", "OPCO"
    CPF = "cpf", "Mon Compte Formation / CPF"
    BUSINESS_CREATION = "creation_entreprise", "Création ou reprise d'entreprise"
    OCCUPATIONAL_HEALTH = "sante_travail", "Santé au travail / maintien en emploi"
    SOCIAL_SERVICES = "services_sociaux", "Services sociaux"
    EMPLOYER = "employeur_rh", "Employeur / RH"
    OTHER = "autre", "Autre"


class ReferralOutcome(LabelledEnum):
    ACHIEVED = "achieved", "Objectif atteint"
    PARTLY = "partly", "Objectif partiellement atteint"
    NOT_ACHIEVED = "not_achieved", "Objectif non atteint"
    OTHER = "other", "Autre issue"


@dataclass(frozen=True)
class Region:
    """A region, served by one CEP operator per market lot."""

    code: str  # our short code, the operator's usual code
    label: str
    insee: str  # stored as `Operator.region_code`
    time_zone: str


_PARIS = "Europe/Paris"
REGIONS = (
    Region("ARA", "Auvergne-Rhône-Alpes", "84", _PARIS),
    Region("BFC", "Bourgogne-Franche-Comté", "27", _PARIS),
    Region("BRE", "Bretagne", "53", _PARIS),
    Region("CVL", "Centre-Val de Loire", "24", _PARIS),
    Region("COR", "Corse", "94", _PARIS),
    Region("GES", "Grand Est", "44", _PARIS),
    Region("HDF", "Hauts-de-France", "32", _PARIS),
    Region("IDF", "Île-de-France", "11", _PARIS),
    Region("NOR", "Normandie", "28", _PARIS),
    Region("NAQ", "Nouvelle-Aquitaine", "75", _PARIS),
    Region("OCC", "Occitanie", "76", _PARIS),
    Region("PDL", "Pays de la Loire", "52", _PARIS),
    Region("PAC", "Provence-Alpes-Côte d'Azur", "93", _PARIS),
    Region("GUA", "Guadeloupe", "01", "America/Guadeloupe"),
    Region("MTQ", "Martinique", "02", "America/Martinique"),
    Region("GUF", "Guyane", "03", "America/Cayenne"),
    Region("LRE", "La Réunion", "04", "Indian/Reunion"),
    Region("MAY", "Mayotte", "06", "Indian/Mayotte"),
)
REGIONS_BY_INSEE = {region.insee: region for region in REGIONS}
