"""The data feed for France compétences' information system: one pseudonymised row per unit
episode of a period, its JSON Schema, and the rows written as NDJSON or CSV.

A row names no one: no name, e-mail address, phone number, typed text or birth date; the
episode and its case appear as codes (`Pseudonyms`), the person as the département of their
postcode and the bands of their profile."""

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlmodel import Session, case, col, func, or_, select

from app.core.config import get_settings
from app.core.dates import to_local
from app.core.errors import Forbidden
from app.core.security import Pseudonyms
from app.core.tables import Table, csv_chunks
from app.models.beneficiaries import Beneficiary
from app.models.cases import Case, Episode, Interaction
from app.models.catalogue import ServiceUnit
from app.models.fields import DEPARTEMENT_CODES, departement_order
from app.models.markets import Lot, Market
from app.models.nomenclatures import InteractionChannel, LabelledEnum, Role
from app.models.operators import Operator
from app.models.staff import StaffUser
from app.services.access.scope import operator_of, owned_by
from app.services.control.proofs import lacks_a_proof
from app.services.reports.activity import PROFILE, REPORT_ROLES
from app.services.reports.bands import AGE_BANDS, AGE_UNKNOWN, age_band
from app.services.reports.departements import departement_of
from app.services.reports.periods import check_period, local_midnight

# The row's shape: a new field, or a field of another meaning, is a new version (a field
# added at the end is "1.1", anything else "2.0"), written in every row and in the schema.
FEED_VERSION = "1.0"
SCHEMA_PATH = "/api/v1/exports/units/schema.json"
CHUNK = 1000  # rows fetched at a time from the database
_BUFFER = 64 * 1024  # bytes written at a time to the response
# Codes of another purpose than the control packs' person codes: the two cannot be matched.
_PSEUDONYMS = "flux-unites"
STATUSES = ("en_cours", "terminee")
PROOFS = ("complete", "incomplete")
CHANNELS = [channel.value for channel in InteractionChannel]


@dataclass(frozen=True)
class _Tenant:
    id: int
    code: str
    time_zone: str


@dataclass(frozen=True)
class UnitsFeed:
    """What one request reads: the local days start..end of these operators, in this order."""

    start: date
    end: date
    operators: list[_Tenant]
    scope: str  # the operator's code, or "national"

    @property
    def filename(self) -> str:
        return f"unites-{self.scope}-{self.start.isoformat()}-{self.end.isoformat()}"


def units_feed(*, session: Session, actor: StaffUser, start: date, end: date) -> UnitsFeed:
    """The feed an actor may read: every operator for national observers, their own for an
    operator's managers and administrators; nobody else. Checks the period."""
    if actor.role == Role.NATIONAL_OBSERVER:
        operators, scope = list(session.exec(select(Operator).order_by(Operator.code))), "national"
    elif actor.role in REPORT_ROLES:
        operators = [session.get(Operator, operator_of(actor))]
        scope = operators[0].code
    else:
        raise Forbidden(
            "Le flux des unités est réservé aux observateurs nationaux, aux responsables "
            "et aux administrateurs d'opérateur."
        )
    check_period(start, end, national=True)
    tenants = [_Tenant(o.id, o.code, o.time_zone) for o in operators]
    return UnitsFeed(start, end, tenants, scope)


# ---- the rows ---------------------------------------------------------------------------------


def feed_rows(*, session: Session, feed: UnitsFeed) -> Iterator[dict]:
    """Each episode not cancelled that overlaps the period — started before its end, not ended
    before its start, in the operator's local days — operator by operator, by start.

    Read CHUNK rows at a time (a server-side cursor on PostgreSQL, SQLite's own stepping), so
    memory stays flat whatever the period. Meant for a session of its own, read as it goes."""
    # A reader: on SQLite a deferred transaction, which never holds the write lock while a
    # client downloads.
    session.connection(execution_options={"sqlite_immediate": False})
    pseudonyms = Pseudonyms(_PSEUDONYMS, length=16)
    for tenant in feed.operators:
        lo = local_midnight(feed.start, tenant.time_zone)
        hi = local_midnight(feed.end + timedelta(days=1), tenant.time_zone)
        statement = _episodes(tenant.id, lo, hi).execution_options(yield_per=CHUNK)
        for found in session.exec(statement):
            yield _row(found._mapping, tenant, pseudonyms)


def _channel_mix(operator_id: int, episodes):
    """Each of these episodes' interactions per channel, all its life long: one grouped pass
    over the operator's interactions (a subquery per channel and row would visit every row's
    interactions five times)."""
    counts = [
        func.count().filter(Interaction.channel == channel).label(channel) for channel in CHANNELS
    ]
    return (
        select(Interaction.episode_id, *counts)
        .where(owned_by(Interaction, operator_id), col(Interaction.episode_id).in_(episodes))
        .group_by(Interaction.episode_id)
        .subquery("channel_mix")
    )


def _episodes(operator_id: int, lo: datetime, hi: datetime):
    # The ledger's proof status: complete when every proof the unit requires is, by the rule
    # of the market the episode started under (app/services/control/proofs.py).
    proof = case((lacks_a_proof(), "incomplete"), else_="complete")
    profile = [getattr(Beneficiary, attribute) for _, _, attribute, _ in PROFILE]
    overlapping = [
        owned_by(Episode, operator_id),
        col(Episode.cancelled_at).is_(None),
        Episode.started_at < hi,
        or_(col(Episode.ended_at).is_(None), col(Episode.ended_at) >= lo),
    ]
    mix = _channel_mix(operator_id, select(Episode.id).where(*overlapping))
    return (
        select(
            Episode.id,
            Episode.case_id,
            ServiceUnit.code.label("unit"),
            Market.name.label("market"),
            Episode.started_at,
            Episode.ended_at,
            proof.label("proof"),
            Beneficiary.postcode,
            Beneficiary.birth_year,
            *profile,
            *(func.coalesce(mix.c[channel], 0).label(channel) for channel in CHANNELS),
        )
        .select_from(Episode)
        .join(ServiceUnit, col(ServiceUnit.id) == Episode.unit_id)
        .join(Case, col(Case.id) == Episode.case_id)
        .join(Beneficiary, col(Beneficiary.id) == Case.beneficiary_id)
        .outerjoin(Lot, col(Lot.id) == Episode.lot_id)
        .outerjoin(Market, col(Market.id) == Lot.market_id)
        .outerjoin(mix, mix.c.episode_id == Episode.id)
        .where(*overlapping)
        .order_by(Episode.started_at, Episode.id)
    )


def _row(found, tenant: _Tenant, pseudonyms: Pseudonyms) -> dict:
    started_at = found["started_at"]
    row = {
        "version": FEED_VERSION,
        "operator": tenant.code,
        "episode": "E-" + pseudonyms.of("episode", found["id"]),
        "case": "D-" + pseudonyms.of("case", found["case_id"]),
        "unit": found["unit"],
        "market": found["market"],
        "start": _utc(started_at),
        "end": _utc(found["ended_at"]),
        "status": "en_cours" if found["ended_at"] is None else "terminee",
        "proof": found["proof"],
        "channels": {channel: found[channel] for channel in CHANNELS},
        "departement": departement_of(found["postcode"]),
        # Age reached in the year the episode started, where the operator lives.
        "age_band": age_band(found["birth_year"], to_local(started_at, tenant.time_zone).year),
    }
    for _, _, attribute, enum in PROFILE:
        row[attribute] = _listed(found[attribute], enum)
    return row


def _utc(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _listed(value: str | None, enum: type[LabelledEnum]) -> str | None:
    """The code, if the nomenclature still lists it; None otherwise, as for no answer."""
    return value if value in enum._value2member_map_ else None


# ---- files ------------------------------------------------------------------------------------


def ndjson_chunks(rows: Iterable[dict]) -> Iterator[bytes]:
    """One JSON object per line, UTF-8, in pieces of about _BUFFER bytes."""
    lines: list[str] = []
    size = 0
    for row in rows:
        line = json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n"
        lines.append(line)
        size += len(line)
        if size > _BUFFER:
            yield "".join(lines).encode()
            lines, size = [], 0
    yield "".join(lines).encode()


def csv_columns() -> list[str]:
    """The row's fields in order, the channel mix spread as one `channel_<code>` column each."""
    return [column for field in row_schema()["properties"] for column in _columns(field)]


def _columns(field: str) -> list[str]:
    return [f"channel_{c}" for c in CHANNELS] if field == "channels" else [field]


def feed_csv_chunks(rows: Iterable[dict], filename: str) -> Iterator[bytes]:
    """The rows as the app's CSV files are written: `;`, UTF-8 with a BOM; null as empty."""
    fields = list(row_schema()["properties"])
    flat = ([cell for field in fields for cell in _cells(row, field)] for row in rows)
    return csv_chunks(Table("Unités d'œuvre", csv_columns(), flat, filename))


def _cells(row: dict, field: str) -> list:
    if field == "channels":
        return [row["channels"][c] for c in CHANNELS]
    return ["" if row[field] is None else row[field]]


# ---- the schema -------------------------------------------------------------------------------


def schema_url() -> str:
    return get_settings().public_base_url.rstrip("/") + SCHEMA_PATH


def _codes(enum: type[LabelledEnum]) -> dict:
    listed = "; ".join(f"{member.value} : {member.label}" for member in enum)
    return {"enum": [*(member.value for member in enum), None], "description": listed}


def row_schema() -> dict:
    """The JSON Schema (draft 2020-12) of one row; its properties are in the row's order."""
    moment = {
        "type": "string",
        "format": "date-time",
        "pattern": r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$",
    }
    departements = sorted(DEPARTEMENT_CODES, key=departement_order)
    ages = [code for code, _, _ in AGE_BANDS] + [AGE_UNKNOWN]
    properties = {
        "version": {"const": FEED_VERSION, "description": "Version du format de la ligne"},
        "operator": {"type": "string", "description": "Code de l'opérateur CEP"},
        "episode": {
            "type": "string",
            "pattern": "^E-[A-Z2-7]{16}$",
            "description": "Code stable de l'unité (pseudonyme : ni l'identifiant, ni le nom)",
        },
        "case": {
            "type": "string",
            "pattern": "^D-[A-Z2-7]{16}$",
            "description": "Code stable du dossier : les unités d'un même parcours le partagent",
        },
        "unit": {"type": "string", "description": "Code de l'unité d'œuvre (UO1, UO2.1…)"},
        "market": {
            "type": ["string", "null"],
            "description": "Marché sous lequel l'unité a commencé (null : aucun lot ce jour-là)",
        },
        "start": {**moment, "description": "Début, en UTC"},
        "end": {
            **moment,
            "type": ["string", "null"],
            "description": "Fin, en UTC (null : en cours)",
        },
        "status": {"enum": list(STATUSES), "description": "État au moment de l'export"},
        "proof": {
            "enum": list(PROOFS),
            "description": "Preuves : complete quand chaque preuve que l'unité exige est remise "
            "(ou accusée, selon la règle du marché) ; une unité sans preuve exigée est complete",
        },
        "channels": {
            "type": "object",
            "description": "Nombre d'actes de l'unité par canal, sur toute sa durée",
            "properties": {c: {"type": "integer", "minimum": 0} for c in CHANNELS},
            "required": CHANNELS,
            "additionalProperties": False,
        },
        "departement": {
            "enum": [*departements, None],
            "description": "Département de résidence, lu dans le code postal (null : inconnu)",
        },
        "age_band": {
            "enum": ages,
            "description": "Tranche d'âge atteint l'année du début : "
            + "; ".join(f"{code} : {label}" for code, label, _ in AGE_BANDS)
            + f"; {AGE_UNKNOWN} : non renseigné",
        },
    }
    for _, title, attribute, enum in PROFILE:
        properties[attribute] = {**_codes(enum), "title": title}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": schema_url(),
        "title": "Flux des unités d'œuvre CEP : une ligne",
        "description": "Une unité d'œuvre non annulée qui chevauche la période demandée, "
        "pseudonymisée : aucun nom, courriel, téléphone, texte libre ni date de naissance.",
        "version": FEED_VERSION,
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }
