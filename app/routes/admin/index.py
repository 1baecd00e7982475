"""« Administration »: one door to the pages that run an operator, so that the main navigation
keeps to the daily work and to one line."""

from dataclasses import dataclass

from fastapi import Request

from app.core.errors import Forbidden
from app.models.nomenclatures import Role
from app.web.deps import CurrentStaff
from app.web.rendering import render
from app.web.routing import new_router

router = new_router(include_in_schema=False)


@dataclass(frozen=True)
class AdminSection:
    href: str
    title: str
    summary: str
    roles: frozenset[Role]


ADMINS = frozenset({Role.OPERATOR_ADMIN, Role.SYSADMIN})
OPERATOR_ADMIN = frozenset({Role.OPERATOR_ADMIN})
SECTIONS = (
    AdminSection(
        "/admin/operateurs",
        "Opérateurs",
        "Ouvrir l'opérateur d'une région avant d'inviter son administrateur·rice.",
        frozenset({Role.SYSADMIN}),
    ),
    AdminSection(
        "/admin/equipe",
        "Équipe",
        "Inviter une personne, choisir son rôle et ses sites, fermer ou rouvrir un compte.",
        ADMINS,
    ),
    AdminSection(
        "/admin/sites",
        "Sites",
        "Créer, modifier ou fermer un lieu d'accueil, ses permanences chez des partenaires et "
        "les personnes qui y travaillent.",
        ADMINS,
    ),
    AdminSection(
        "/admin/marches",
        "Marchés",
        "Les marchés et leurs unités d'œuvre ; les prix du lot et son budget UO4.",
        ADMINS,
    ),
    AdminSection(
        "/admin/uo4",
        "UO4 — qualité du service, moyens et pilotage",
        "Les actions financées sur l'UO4 (formations, communication, partenariats, "
        "accessibilité, outils), par trimestre, face au budget du lot.",
        frozenset({Role.MANAGER, Role.OPERATOR_ADMIN}),
    ),
    AdminSection(
        "/admin/securite",
        "Sécurité",
        "Les rôles tenus à la double authentification, et qui ne l'a pas encore activée.",
        ADMINS,
    ),
    AdminSection(
        "/admin/droits",
        "Demandes d'exercice des droits",
        "Accès, rectification, effacement, opposition : les demandes des personnes, leur "
        "échéance d'un mois et la réponse donnée.",
        OPERATOR_ADMIN,
    ),
    AdminSection(
        "/admin/journal",
        "Journal des accès",
        "Qui a consulté, exporté ou modifié le dossier d'une personne, et quand ; filtres et "
        "export.",
        OPERATOR_ADMIN,
    ),
    AdminSection(
        "/admin/protection-donnees",
        "Protection des données",
        "Le responsable du traitement et le délégué à la protection des données, le registre "
        "des traitements (article 30) et son export.",
        ADMINS | {Role.MANAGER},
    ),
    AdminSection(
        "/admin/disponibilites",
        "Disponibilités",
        "Les ouvertures de chaque semaine et les absences des conseiller·ères.",
        frozenset({Role.MANAGER, Role.OPERATOR_ADMIN}),
    ),
    AdminSection(
        "/admin/identite",
        "Nom et logo",
        "Le logo que portent les pages publiques (prise de rendez-vous, documents partagés, "
        "questionnaires) à côté du nom de l'opérateur.",
        OPERATOR_ADMIN,
    ),
    AdminSection(
        "/admin/motifs",
        "Motifs de rendez-vous",
        "Durée, battement, modalités, réservation en ligne ou par l'équipe seulement.",
        OPERATOR_ADMIN,
    ),
    AdminSection(
        "/admin/livrables",
        "Types de livrables",
        "Ce que contient chaque livrable et les unités d'œuvre qu'il prouve.",
        OPERATOR_ADMIN,
    ),
    AdminSection(
        "/admin/archives-livrables",
        "Archives des livrables",
        "Les documents émis sur une période, par site, conseiller·ère et type, en un fichier "
        "ZIP avec leur manifeste.",
        frozenset({Role.MANAGER, Role.OPERATOR_ADMIN}),
    ),
    AdminSection(
        "/admin/clients-api",
        "Clients d'API",
        "Les accès de la gestion électronique de documents de l'opérateur au flux des "
        "documents émis : créer un client, révoquer son accès.",
        OPERATOR_ADMIN,
    ),
    AdminSection(
        "/admin/enquetes",
        "Enquêtes de satisfaction et d'utilité",
        "Les questions posées à la fin de chaque niveau et six mois après, et leurs versions.",
        frozenset({Role.MANAGER, Role.OPERATOR_ADMIN, Role.SYSADMIN}),
    ),
)


@router.get("/admin")
def admin_index(request: Request, user: CurrentStaff):
    sections = [section for section in SECTIONS if user.role in section.roles]
    if not sections:
        raise Forbidden("Votre rôle ne donne pas accès à l'administration.")
    return render(request, "admin/index/index.html", {"sections": sections})
