"""Whether the CEP « actifs occupés » serves a person at all, from the situation they choose,
as triage decides it: the national entry and the booking pages ask, and send job seekers,
public agents and young people without a job to their own network."""

from dataclasses import dataclass

from app.core.errors import Invalid
from app.models.nomenclatures import CepSituation, Redirection
from app.services.cases.triage import suggest_redirection

# Whom triage sends to another network outright; a cadre or a person whose disability is the
# main question may stay, and is only told of the other network.
SERVED_ELSEWHERE = frozenset(
    {CepSituation.JOB_SEEKER, CepSituation.YOUNG_NEET, CepSituation.PUBLIC_AGENT}
)
SERVED_HERE = tuple(situation for situation in CepSituation if situation not in SERVED_ELSEWHERE)


@dataclass(frozen=True)
class Orientation:
    """What the situation means for booking: `elsewhere` stops it, `also` is a mere mention."""

    situation: CepSituation
    network: Redirection | None

    @property
    def elsewhere(self) -> bool:
        return self.situation in SERVED_ELSEWHERE


class ServedElsewhere(Invalid):
    """A booking for someone another network serves: they are told which, nothing is booked."""

    def __init__(self, orientation: Orientation):
        network = orientation.network.label if orientation.network else "un autre réseau"
        super().__init__({"situation": f"Dans votre situation, adressez-vous à {network}."})
        self.orientation = orientation


def orientation_of(situation: str) -> Orientation:
    """Triage's suggestion for the situation the person chose (Invalid when none is chosen)."""
    try:
        chosen = CepSituation(situation)
    except ValueError:
        raise Invalid({"situation": "Choisissez votre situation."}) from None
    return Orientation(chosen, suggest_redirection(chosen.value))


def check_served(situation: CepSituation | None) -> None:
    """Raise ServedElsewhere when the situation belongs to another network; none said is fine
    (an API client that does not ask)."""
    if situation is not None and situation in SERVED_ELSEWHERE:
        raise ServedElsewhere(orientation_of(situation))
