"""A person's name replaced by a stable code in what leaves the service pseudonymised: a control
campaign's proof pack (app/services/control/proof_pack.py) and a case's whole file
(app/services/deliverables/case_file*.py). The same code everywhere, meaningless without the
key; every spelling of the name in a document's texts is replaced by it, and the document is
printed again from those texts (a PDF as issued, or a signed scan, carries the name)."""

import re
import unicodedata

from app.core.security import Pseudonyms
from app.models.beneficiaries import Beneficiary

# Printed fields that are not the beneficiary's: left as they are when names are replaced.
NOT_THE_PERSON = frozenset(
    {"counsellor_name", "operator_name", "site_name", "case_reference", "issued_at", "time_zone"}
)


def pseudonym(operator_id: int, beneficiary_id: int) -> str:
    """A stable code for a person: the same in every campaign and file, meaningless without
    the key."""
    return "P-" + Pseudonyms("pseudonyme").of(operator_id, beneficiary_id)


class PersonNames:
    """The beneficiary as a file shows them: their name, or (`active`) their code in every
    text."""

    def __init__(self, beneficiary: Beneficiary, operator_id: int, *, active: bool):
        self.active = active
        if not active:
            self.display = beneficiary.full_name
            return
        self.display = pseudonym(operator_id, beneficiary.id)
        first, last = nfc(beneficiary.first_name), nfc(beneficiary.last_name)
        spellings = {f"{first} {last}", f"{last} {first}", first, last}
        # Each part of a compound name too ("Dupont" of "Martin-Dupont", "Pierre" of
        # "Jean-Pierre"), but not the short particles ("de", "La") that would erase words.
        spellings |= {part for part in re.split(r"[\s'’-]+", f"{first} {last}") if len(part) >= 3}
        # Longest first, so that "Maëlle MOREAU" becomes one code, not two.
        pattern = "|".join(re.escape(s) for s in sorted(spellings, key=len, reverse=True) if s)
        self.pattern = re.compile(rf"\b(?:{pattern})\b", re.IGNORECASE)

    def scrub(self, text: str | None) -> str:
        if not self.active or not text:
            return text or ""
        return self.pattern.sub(self.display, nfc(text))

    def scrub_content(self, content: dict) -> dict:
        """A version's content with the person's name replaced, to print it again."""
        scrubbed = {
            key: value if key in NOT_THE_PERSON else self._scrub_value(value)
            for key, value in content.items()
        }
        scrubbed["beneficiary_name"] = self.display
        return scrubbed

    def _scrub_value(self, value):
        if isinstance(value, str):
            return self.scrub(value)
        if isinstance(value, list):
            return [self._scrub_value(item) for item in value]
        if isinstance(value, dict):
            return {key: self._scrub_value(item) for key, item in value.items()}
        return value


def nfc(text: str) -> str:
    """One spelling per accented letter, so that "é" typed either way is matched."""
    return unicodedata.normalize("NFC", text)
