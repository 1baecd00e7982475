"""How many rows of each kind a run makes: the national figures times the scale factor.

At scale 1 (national): 18 operators, 250 sites, 1,500 counsellors, 700,000 beneficiaries,
800,000 cases, ~3,000,000 interactions, ~1,500,000 appointments, ~600,000 issued deliverables.
Smaller scales keep fewer operators (round(18 × scale), at least one), so that each operator
stays realistically sized: `--scale 0.06` is one operator (ARA) with 15 sites, 90
counsellors, 42,000 beneficiaries and 48,000 cases — "one operator's scale".
"""

from dataclasses import dataclass

from app.synthetic.territory import REGIONS, Region

NATIONAL = {
    "sites": 250,
    "counsellors": 1_500,
    "beneficiaries": 700_000,
    "cases": 800_000,
    "interactions": 3_000_000,
    "appointments": 1_500_000,
    "deliverables": 600_000,
}
PARTNERS_PER_OPERATOR = 25


@dataclass(frozen=True)
class OperatorPlan:
    region: Region
    sites: int
    counsellors: int
    managers: int
    admins: int
    beneficiaries: int


@dataclass(frozen=True)
class Plan:
    scale: float
    operators: tuple[OperatorPlan, ...]

    @property
    def beneficiaries(self) -> int:
        return sum(o.beneficiaries for o in self.operators)

    def expected(self, key: str) -> int:
        """The national figure for `key` times the scale (what the stories aim at)."""
        return round(NATIONAL[key] * self.scale)


def make_plan(scale: float) -> Plan:
    """Split the scaled counts among the operators kept, by population."""
    if scale <= 0:
        raise ValueError("scale must be positive")
    regions = REGIONS[: max(1, min(len(REGIONS), round(len(REGIONS) * scale)))]
    total_weight = sum(r.weight for r in regions)
    operators = []
    for region in regions:
        share = region.weight / total_weight
        counsellors = max(1, round(NATIONAL["counsellors"] * scale * share))
        operators.append(
            OperatorPlan(
                region=region,
                sites=max(1, round(NATIONAL["sites"] * scale * share)),
                counsellors=counsellors,
                managers=max(1, round(counsellors / 10)),
                admins=2 if counsellors >= 10 else 1,
                beneficiaries=max(1, round(NATIONAL["beneficiaries"] * scale * share)),
            )
        )
    return Plan(scale=scale, operators=tuple(operators))
