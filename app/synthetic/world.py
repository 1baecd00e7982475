"""What the stories need to know about one operator: ids of its catalogue, sites, staff,
partners and questionnaires, its clock and its counsellors' calendars."""

import bisect
import itertools
import random
from dataclasses import dataclass, field

from app.synthetic.calendar import Calendar, LocalClock


class Picker:
    """Draw from weighted choices quickly (the weights are summed once)."""

    def __init__(self, weights: dict):
        self.values = list(weights)
        self.cumulative = list(itertools.accumulate(weights.values()))
        self.total = self.cumulative[-1]

    def __call__(self, rng: random.Random):
        return self.values[bisect.bisect_right(self.cumulative, rng.random() * self.total)]


def pick_count(rng: random.Random, weights: tuple[int, ...]) -> int:
    """0, 1, 2… drawn with the given weights (in percent)."""
    draw = rng.random() * 100
    for count, weight in enumerate(weights):
        if draw < weight:
            return count
        draw -= weight
    return len(weights) - 1


@dataclass(frozen=True)
class AppointmentKind:
    id: int
    minutes: int
    buffer: int


@dataclass(frozen=True)
class ProofKind:
    """A deliverable kind and the shared placeholder PDF its versions point at."""

    id: int
    code: str
    label: str
    includes_request: bool
    includes_interactions: bool
    includes_action_plan: bool
    extra_titles: tuple[str, ...]
    storage_key: str
    sha256: str
    size_bytes: int


@dataclass
class OperatorWorld:
    operator_id: int
    code: str
    name: str
    time_zone: str
    clock: LocalClock
    units: dict[str, int]  # unit code → id
    levels: dict[str, int]  # unit code → level (0 triage, 1, 2)
    sites: list[int]
    site_names: dict[int, str]
    counsellors: list[int]
    counsellor_names: dict[int, str]
    home_site: dict[int, int]
    appointment_kinds: dict[str, AppointmentKind]  # unit code → motif
    proofs: dict[str, list[ProofKind]]  # unit code → kinds required
    partners: list[tuple[int, str]]  # (id, type)
    postcodes: list[str]
    # survey kind → (id, questions) of the version it asks (version 1, from the defaults)
    questionnaires: dict[str, tuple[int, list[dict]]] = field(default_factory=dict)
    calendars: dict[int, Calendar] = field(default_factory=dict)

    def calendar(self, counsellor_id: int) -> Calendar:
        calendar = self.calendars.get(counsellor_id)
        if calendar is None:
            calendar = self.calendars[counsellor_id] = Calendar(self.clock)
        return calendar
