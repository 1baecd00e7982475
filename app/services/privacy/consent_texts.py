"""The consent texts shown to people, versioned: a record keeps the code and version of the text
the person saw, so a text is never edited in place — a new wording is a new version, and the
old ones stay here for the history."""

from dataclasses import dataclass

from app.models.consents import ConsentPurpose


@dataclass(frozen=True)
class ConsentText:
    code: str
    version: int
    text: str

    @property
    def reference(self) -> str:
        return f"{self.code} v{self.version}"


_TEXTS = (
    ConsentText(
        "accompagnement",
        1,
        "J'accepte que mes informations soient utilisées pour traiter ma demande de conseil en "
        "évolution professionnelle.",
    ),
    ConsentText(
        "contact-email",
        1,
        "J'accepte d'être contacté·e par e-mail au sujet de mon accompagnement.",
    ),
    ConsentText(
        "contact-sms",
        1,
        "J'accepte d'être contacté·e par SMS au sujet de mon accompagnement.",
    ),
    ConsentText(
        "enquetes",
        1,
        "J'accepte d'être recontacté·e pour donner mon avis sur le service (enquêtes de "
        "satisfaction, facultatif).",
    ),
    ConsentText(
        "partage-partenaire",
        1,
        "J'accepte que les informations indiquées soient transmises à ce partenaire pour "
        "l'orientation qui m'est proposée.",
    ),
    ConsentText(
        "earlier",
        1,
        "Accord enregistré avant la tenue de l'historique des consentements (texte non conservé).",
    ),
)
TEXTS = {(text.code, text.version): text for text in _TEXTS}

# The text shown today for each purpose.
CURRENT = {
    ConsentPurpose.PROCESSING: TEXTS["accompagnement", 1],
    ConsentPurpose.EMAIL: TEXTS["contact-email", 1],
    ConsentPurpose.SMS: TEXTS["contact-sms", 1],
    ConsentPurpose.SURVEYS: TEXTS["enquetes", 1],
    ConsentPurpose.PARTNER_SHARE: TEXTS["partage-partenaire", 1],
}


def text_of(code: str, version: int) -> str:
    found = TEXTS.get((code, version))
    return found.text if found else ""
