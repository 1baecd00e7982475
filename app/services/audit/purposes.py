"""Why a file of people's data is sent out: every export with personal data states its
purpose (RGPD article 5, purpose limitation), kept as the reason of its trail entry."""

from typing import Annotated

from sqlmodel import SQLModel

from app.core.errors import Invalid
from app.models.fields import ShortText, blank_to_none
from app.models.nomenclatures import LabelledEnum

PURPOSE_REQUIRED = (
    "Indiquez la finalité de l'export : ce fichier contient des données personnelles."
)
DETAIL_REQUIRED = "Précisez la finalité de l'export."


class ExportPurpose(LabelledEnum):
    SERVICE_CHECK = "controle_service_fait", "Contrôle de service fait"
    ACTIVITY_REPORT = "rapport_activite", "Rapport d'activité"
    PARTNER = "transmission_partenaire", "Transmission à un partenaire"
    PERSONS_REQUEST = "demande_personne", "Demande de la personne"
    ACCESS_REVIEW = "controle_acces", "Contrôle des accès aux données"
    OTHER = "autre", "Autre (à préciser)"


class StatedPurpose(SQLModel):
    """The purpose as the export form (`finalite`, `finalite_precision`) sends it."""

    finalite: Annotated[ExportPurpose | None, blank_to_none] = None
    finalite_precision: ShortText = ""

    @property
    def reason(self) -> str:
        """The trail entry's reason; Invalid when no purpose, or « autre » unexplained."""
        return purpose_reason(self.finalite, self.finalite_precision)


def checked_purpose(purpose: ExportPurpose | None, detail: str) -> None:
    """A purpose is given, and « autre » says which."""
    if purpose is None:
        raise Invalid({"finalite": PURPOSE_REQUIRED})
    if purpose == ExportPurpose.OTHER and not detail.strip():
        raise Invalid({"finalite_precision": DETAIL_REQUIRED})


def purpose_reason(purpose: ExportPurpose | None, detail: str) -> str:
    """The trail entry's reason: the purpose's label, then what the person added."""
    checked_purpose(purpose, detail)
    label = "Autre" if purpose == ExportPurpose.OTHER else ExportPurpose(purpose).label
    detail = " ".join(detail.split())
    return f"{label} : {detail}" if detail else label
