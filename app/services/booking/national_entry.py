"""The national way in to booking (/rendez-vous without an operator's code): from a postcode or
a commune's name to the regional operator that serves it, with its nearest sites and the remote
modes it offers (whether the CEP serves the person at all: app/services/booking/orientation.py)."""

from dataclasses import dataclass

from sqlmodel import Session, select

from app.core.errors import Invalid
from app.models.nomenclatures import REGIONS_BY_INSEE
from app.models.operators import Operator, Site
from app.services.access.rate_limits import check_rate, rate_limit_target
from app.services.booking.geography import (
    Commune,
    communes_named,
    communes_of_postcode,
    distance_km,
    postcode_position,
)
from app.services.booking.reservations import bookable_types, sites_for_booking
from app.services.reports.departements import DEPARTEMENT_NAMES, departement_of

ENTRY_BUCKET = "public_entry"
NEAREST_SITES = 3
FIELD = "recherche"

# The départements of each region (INSEE region code, as `Operator.region_code`). Overseas
# collectivities (975, 977, 978, 986–989) belong to no region: no CEP operator of the market.
_REGION_DEPARTEMENTS = {
    "84": "01 03 07 15 26 38 42 43 63 69 73 74",
    "27": "21 25 39 58 70 71 89 90",
    "53": "22 29 35 56",
    "24": "18 28 36 37 41 45",
    "94": "2A 2B",
    "44": "08 10 51 52 54 55 57 67 68 88",
    "32": "02 59 60 62 80",
    "11": "75 77 78 91 92 93 94 95",
    "28": "14 27 50 61 76",
    "75": "16 17 19 23 24 33 40 47 64 79 86 87",
    "76": "09 11 12 30 31 32 34 46 48 65 66 81 82",
    "52": "44 49 53 72 85",
    "93": "04 05 06 13 83 84",
    "01": "971",
    "02": "972",
    "03": "973",
    "04": "974",
    "06": "976",
}
REGION_OF_DEPARTEMENT = {
    departement: region
    for region, departements in _REGION_DEPARTEMENTS.items()
    for departement in departements.split()
}


@dataclass(frozen=True)
class NearbySite:
    site: Site
    km: int | None  # as the crow flies, rounded; None when a position is unknown


@dataclass(frozen=True)
class EntryMatch:
    """The operator serving the person's place, its nearest sites and its remote modes."""

    operator: Operator
    postcode: str
    place: str  # « 69003 » or « Lyon (69003) »
    sites: list[NearbySite]
    remote_modes: list[str]  # "phone", "video", as its motifs offer them


class NotServed(Exception):
    """The place is known but no operator of the market serves it (yet)."""

    def __init__(self, place: str) -> None:
        super().__init__(place)
        self.place = place


def find_serving_operator(
    *, session: Session, ip: str | None, query: str
) -> EntryMatch | list[Commune]:
    """The operator for a postcode or a commune's name; several communes of that name: the list
    to choose from. Invalid when the place reads as none; NotServed when no operator serves it."""
    check_rate(session_or_engine=rate_limit_target(session), bucket=ENTRY_BUCKET, keys=[ip])
    query = " ".join(query.split())[:80]
    if query.isdigit():
        return _match(session=session, postcode=query, place=_postcode_place(query))
    communes = communes_named(query)
    if not communes:
        raise Invalid(
            {FIELD: "Aucune commune ne porte ce nom. Vérifiez-le, ou tapez votre code postal."}
        )
    if len(communes) > 1:
        return communes
    commune = communes[0]
    postcode = commune.postcodes[0]
    return _match(session=session, postcode=postcode, place=f"{commune.name} ({postcode})")


def _postcode_place(postcode: str) -> str:
    """« Lyon (69007) » when the postcode is one commune's, else « le code postal 01400 »."""
    communes = communes_of_postcode(postcode)
    if len(communes) == 1:
        return f"{communes[0].name} ({postcode})"
    return f"le code postal {postcode}"


def _match(*, session: Session, postcode: str, place: str) -> EntryMatch:
    departement = departement_of(postcode) if communes_of_postcode(postcode) else None
    if departement is None:
        raise Invalid(
            {FIELD: "Ce code postal n'existe pas. Vérifiez-le, ou tapez le nom de votre commune."}
        )
    region = REGION_OF_DEPARTEMENT.get(departement)
    operator = _operator_of_region(session=session, region=region) if region else None
    if operator is None:
        raise NotServed(f"{DEPARTEMENT_NAMES.get(departement, departement)} ({departement})")
    types = bookable_types(session=session, operator_id=operator.id)
    modes = {mode for kind in types for mode in kind.modes.split()}
    return EntryMatch(
        operator=operator,
        postcode=postcode,
        place=place,
        sites=_nearest_sites(session, operator, postcode) if "on_site" in modes else [],
        remote_modes=[mode for mode in ("phone", "video") if mode in modes],
    )


def _operator_of_region(*, session: Session, region: str) -> Operator | None:
    # One lot per region; should two operators share one, the first created keeps it.
    if region not in REGIONS_BY_INSEE:
        return None
    statement = select(Operator).where(Operator.region_code == region).order_by(Operator.id)
    return session.exec(statement).first()


def _nearest_sites(session: Session, operator: Operator, postcode: str) -> list[NearbySite]:
    here = postcode_position(postcode)
    nearest = sites_for_booking(session=session, operator_id=operator.id, postcode=postcode)
    return [NearbySite(site, _km(here, site)) for site in nearest[:NEAREST_SITES]]


def _km(here: tuple[float, float] | None, site: Site) -> int | None:
    there = postcode_position(site.postcode)
    if here is None or there is None:
        return None
    return round(distance_km(here, there))
