"""The row of key figures a report page opens on: each with its value the same period a year
before and the change, written as a reader takes it in (« +4,2 % », « −1,5 pt », « +2 j »)."""

from dataclasses import dataclass

from app.core.typography import french_number
from app.services.reports.definitions import BY_KEY, Definition
from app.services.reports.tables import ActivityReport, Median, Share, plain

# Summary rows shown as cards, with the definition each one's « i » opens.
CARDS = (
    ("Entrées", "entries"),
    ("Personnes accompagnées", "people_served"),
    ("Accès au niveau 2 (%)", "reaching_level_2"),
    ("Délai médian d'accès au niveau 1 (jours)", "delay_to_level_1_days"),
    ("Couverture à 30 km (%)", "coverage_30km"),
    ("Satisfaction en fin de niveau (%)", "satisfaction"),
    ("Utilité à six mois (%)", "utility"),
)
MINUS = "\u2212"


@dataclass(frozen=True)
class KeyFigure:
    label: str
    value: object  # an int, a Share, a Median, or None when suppressed
    previous: object
    change: str  # empty when either side is unknown
    definition: Definition


def key_figures(report: ActivityReport, previous: ActivityReport | None) -> list[KeyFigure]:
    now = {row[0]: row[1] for row in report.section("synthese").rows}
    before = {row[0]: row[1] for row in previous.section("synthese").rows} if previous else {}
    return [
        KeyFigure(
            label,
            now.get(label),
            before.get(label),
            change(now.get(label), before.get(label)),
            BY_KEY[key],
        )
        for label, key in CARDS
    ]


def change(value, previous) -> str:
    """Counts change in percent, shares in points, delays in days."""
    current, former = plain(value), plain(previous)
    if current is None or former is None:
        return ""
    if isinstance(value, Share):
        return _signed(current - former, " pt")
    if isinstance(value, Median):
        return _signed(current - former, " j")
    if former == 0:
        return ""
    return _signed(100 * (current - former) / former, " %")


def _signed(delta: float, unit: str) -> str:
    delta = round(delta, 1)
    sign = "+" if delta > 0 else MINUS if delta < 0 else "±"
    return f"{sign}{french_number(abs(delta))}\u00a0{unit.strip()}"
