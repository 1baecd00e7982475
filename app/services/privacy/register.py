"""The record of processing activities (RGPD article 30) and the « Mentions d'information »
shown to the public, both written from the operator's settings and the app's real retention
settings, so that what they say is what the app does."""

from dataclasses import dataclass

from sqlmodel import Session, select

from app.core.config import get_settings
from app.core.errors import Forbidden, NotFound
from app.core.tables import Table
from app.models.nomenclatures import Role
from app.models.operators import Operator, OperatorPrivacy
from app.models.staff import StaffUser
from app.services.admin.team import managed_operator, managed_operators

SECURITY = (
    "Accès nominatif par rôle et par opérateur, second facteur pour les rôles désignés, "
    "sessions révocables ; journal des accès et des exports chaîné et infalsifiable ; "
    "chiffrement des échanges (HTTPS) ; sauvegardes ; anonymisation automatique à échéance."
)
RIGHTS = (
    "droit d'accès, de rectification, d'effacement, de limitation et d'opposition, retrait du "
    "consentement à tout moment pour ce qui en relève"
)


@dataclass(frozen=True)
class Activity:
    name: str
    purposes: str
    legal_basis: str
    people: str
    data: str
    recipients: str
    retention: str
    transfers: str = "Aucun transfert hors de l'Union européenne"
    security: str = SECURITY


def activities(operator: Operator) -> list[Activity]:
    """The operator's processing activities, with the durations the app applies."""
    settings = get_settings()
    kept = f"{operator.retention_months} mois après le dernier contact, puis anonymisation"
    return [
        Activity(
            name="Accompagnement en conseil en évolution professionnelle (CEP)",
            purposes="Accueillir, informer et accompagner les actifs dans leur projet "
            "professionnel ; suivre les dossiers et les prestations ; produire les documents "
            "remis à la personne ; statistiques de l'activité.",
            legal_basis="Mission d'intérêt public (article 6.1.e ; code du travail, "
            "art. L. 6111-6) ; consentement pour le partage avec un partenaire.",
            people="Actifs accompagnés ; conseillers et personnels de l'opérateur.",
            data="Identité, coordonnées, situation professionnelle, diplôme, profil statistique, "
            "reconnaissance de travailleur handicapé (si la personne l'indique), échanges et "
            "documents du dossier, notes du conseiller.",
            recipients="Personnels habilités de l'opérateur ; partenaires vers lesquels la "
            "personne accepte d'être orientée (seules les informations choisies) ; France "
            "compétences (données statistiques).",
            retention=kept,
        ),
        Activity(
            name="Prise de rendez-vous en ligne",
            purposes="Permettre de réserver, déplacer ou annuler un rendez-vous ; envoyer la "
            "confirmation et le rappel.",
            legal_basis="Mission d'intérêt public (article 6.1.e).",
            people="Personnes qui prennent rendez-vous.",
            data="Identité, e-mail, téléphone, code postal, motif et demande exprimée.",
            recipients="Personnels habilités de l'opérateur.",
            retention=kept,
        ),
        Activity(
            name="Enquêtes de satisfaction et d'utilité",
            purposes="Mesurer la satisfaction et l'utilité de l'accompagnement.",
            legal_basis="Consentement (article 6.1.a), retirable à tout moment par le lien "
            "de désinscription ou auprès du conseiller.",
            people="Personnes accompagnées qui ont accepté d'être sollicitées.",
            data="E-mail, réponses aux questionnaires.",
            recipients="Personnels habilités de l'opérateur ; résultats agrégés seulement "
            "pour les conseillers.",
            retention=f"Lien valable {settings.survey_link_days} jours ; réponses : {kept}",
        ),
        Activity(
            name="Preuves du service fait pour France compétences",
            purposes="Justifier les prestations facturées lors des contrôles de France "
            "compétences.",
            legal_basis="Obligation légale et contractuelle de l'opérateur (article 6.1.c).",
            people="Personnes accompagnées dont le dossier est contrôlé.",
            data="Références du dossier, prestations, documents remis et accusés de "
            "réception (pseudonymisés après l'anonymisation).",
            recipients="France compétences et ses contrôleurs.",
            retention=f"{kept} ; pendant un contrôle en cours, jusqu'à sa clôture",
        ),
        Activity(
            name="Journal des accès (traçabilité)",
            purposes="Tracer les consultations, exports, modifications et connexions ; "
            "détecter les accès injustifiés.",
            legal_basis="Obligation de sécurité (article 32) ; intérêt légitime (6.1.f).",
            people="Personnels de l'opérateur.",
            data="Identifiant et rôle, action, objet consulté (sans contenu), date, adresse "
            "IP, navigateur, motif.",
            recipients="Administrateurs de l'opérateur.",
            retention=f"{settings.audit_retention_months} mois, puis purge automatique",
        ),
    ]


def register_table(operator: Operator) -> Table:
    return Table(
        title="Registre des traitements",
        columns=[
            "Traitement",
            "Finalités",
            "Base légale",
            "Personnes concernées",
            "Catégories de données",
            "Destinataires",
            "Transferts hors UE",
            "Durée de conservation",
            "Mesures de sécurité",
        ],
        rows=[
            (
                a.name,
                a.purposes,
                a.legal_basis,
                a.people,
                a.data,
                a.recipients,
                a.transfers,
                a.retention,
                a.security,
            )
            for a in activities(operator)
        ],
        filename=f"registre-traitements-{operator.code}",
        heading=f"Registre des activités de traitement — {controller_name(operator)}",
    )


def controller_name(operator: Operator) -> str:
    return operator.legal_name or operator.name


@dataclass
class RegisterPage:
    operator: Operator
    operators: list[Operator]
    activities: list[Activity]


def register_view(*, session: Session, actor: StaffUser, operator_id: int | None) -> RegisterPage:
    """Operator admins (system administrators: any operator's) and, read-only, managers."""
    if actor.role == Role.MANAGER:
        operator = session.get(Operator, actor.operator_id)
        return RegisterPage(
            operator=operator, operators=[operator], activities=activities(operator)
        )
    operator = managed_operator(session=session, actor=actor, operator_id=operator_id)
    return RegisterPage(
        operator=operator,
        operators=managed_operators(session=session, actor=actor),
        activities=activities(operator),
    )


# ---- the public notice --------------------------------------------------------------------


@dataclass
class Notice:
    operator: Operator
    activities: list[Activity]
    rights: str = RIGHTS


def public_notice(*, session: Session, code: str) -> Notice:
    """The « Mentions d'information » of the operator with this code; NotFound otherwise."""
    operator = session.exec(select(Operator).where(Operator.code == code.upper())).first()
    if operator is None:
        raise NotFound()
    return Notice(operator=operator, activities=activities(operator))


def notice_index(*, session: Session) -> list[Operator]:
    """Every operator, for a visitor who came from a page that names none."""
    return list(session.exec(select(Operator).order_by(Operator.name)))


def save_privacy_settings(
    *, session: Session, actor: StaffUser, operator_id: int | None, data: OperatorPrivacy
) -> Operator:
    """The controller's name and address and its DPO's contact; operator admins only (managers
    read the register)."""
    if actor.role not in (Role.OPERATOR_ADMIN, Role.SYSADMIN):
        raise Forbidden()
    operator = managed_operator(session=session, actor=actor, operator_id=operator_id)
    operator.legal_name = data.legal_name
    operator.postal_address = data.postal_address
    operator.dpo_email = data.dpo_email or ""
    operator.dpo_address = data.dpo_address
    session.add(operator)
    session.flush()
    return operator
