"""`filrouge generate`: a synthetic national dataset, loaded in bulk (COPY on PostgreSQL,
executemany on SQLite), with a progress bar per table and a summary of what was written.

Rows are written directly, never through the services (far too slow at this size). Stories
are told a few thousand people at a time and written table by table, parents first, so that
memory stays bounded whatever the scale; every chunk is committed.
"""

import csv
import random
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from alembic import command
from alembic.config import Config
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

import app
from app.core.config import get_settings
from app.core.errors import Conflict
from app.models.operators import Operator
from app.services.deliverables.feed_order import number_all_versions
from app.synthetic import tables as T
from app.synthetic.loader import Loader
from app.synthetic.naming import DOMAIN
from app.synthetic.plan import Plan, make_plan
from app.synthetic.setup import (
    SYNTHETIC_PASSWORD,
    build_world,
    create_operators,
    national_staff,
    password_hash,
    render_placeholders,
)
from app.synthetic.stories import Batch, Storyteller
from app.synthetic.surveys import SurveyTeller

START = date(2023, 1, 1)
CHUNK = 2_000  # people per written chunk
_ROOT = Path(app.__file__).parent
# Rows per case each story table gets on average (for the progress bars' totals).
_PER_CASE = {
    "triage_requests": 0.92, "episodes": 2.3, "interactions": 3.75, "appointments": 1.9,
    "deliverables": 0.75, "deliverable_versions": 0.75, "referrals": 0.15,
    "referral_events": 0.45, "survey_invitations": 1.75, "survey_responses": 0.5,
    "consent_records": 2.0,
}  # fmt: skip


@dataclass(frozen=True)
class Login:
    email: str
    role: str
    operator: str


@dataclass
class Report:
    plan: Plan
    counts: dict[str, int]
    seconds: dict[str, float]
    elapsed: float
    finish_seconds: float = 0.0  # indexes, constraints and checks put back, ANALYZE
    logins: list[Login] = field(default_factory=list)
    password: str = SYNTHETIC_PASSWORD

    @property
    def rows(self) -> int:
        return sum(self.counts.values())


def migrate(engine: Engine) -> None:
    """Bring the database to the latest schema (as `filrouge db upgrade`)."""
    config = Config(str(_ROOT.parent / "alembic.ini"))
    config.attributes["configure_logger"] = False
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def generate(
    *,
    engine: Engine,
    scale: float = 1.0,
    seed: int = 2026,
    now: datetime | None = None,
    console: Console | None = None,
    chunk: int = CHUNK,
) -> Report:
    """Migrate, then fill an empty database with the synthetic dataset at `scale`."""
    started = time.perf_counter()
    now = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    plan = make_plan(scale)
    rng = random.Random(seed)
    migrate(engine)
    with Session(engine) as session:
        if session.exec(select(Operator.id)).first() is not None:
            raise Conflict(
                "La base contient déjà des opérateurs : générez les données dans une base neuve "
                "(FILROUGE_DATABASE_URL=… filrouge generate)."
            )
        operator_ids = create_operators(session, plan.operators)
        session.commit()
    placeholders = render_placeholders(plan.operators[0].region.name)
    hashed = password_hash()
    postcodes = _postcodes()
    console = console or Console(quiet=True)
    with engine.connect() as connection:
        loader = Loader(connection, lifted_tables=tuple(t.name for t in T.STORY_TABLES))
        loader.start()
        try:
            worlds = [
                build_world(loader, rng, op, operator_id, password_hash=hashed,
                            placeholders=placeholders, postcodes=postcodes, start=START, now=now)
                for op, operator_id in zip(plan.operators, operator_ids, strict=True)
            ]  # fmt: skip
            national_staff(loader, hashed, now)
            connection.commit()
            # The surveys draw from their own generator: the rest is the same with or without them.
            surveys_rng = random.Random(f"surveys-{seed}")
            _tell_stories(loader, worlds, plan, (rng, surveys_rng), now, console, chunk)
            number_all_versions(connection)  # the feed's order (feed_order.py)
            connection.commit()
            finishing = time.perf_counter()
            loader.finish()
            connection.commit()
            finish_seconds = time.perf_counter() - finishing
            loader.close()
        except BaseException:
            loader.abort()
            raise
    return Report(
        plan=plan,
        counts=dict(loader.counts),
        seconds=dict(loader.seconds),
        elapsed=time.perf_counter() - started,
        finish_seconds=finish_seconds,
        logins=_logins(plan),
    )


def _tell_stories(loader: Loader, worlds, plan: Plan, rngs, now, console: Console, chunk: int):
    """Every operator's beneficiaries, `chunk` people at a time, one commit per chunk."""
    ids = {table.name: loader.ids(table.name) for table in T.STORY_TABLES}
    rng, surveys_rng = rngs
    settings = get_settings()
    with _progress(console) as progress:
        tasks = _tasks(progress, plan)
        for world, operator in zip(worlds, plan.operators, strict=True):
            surveys = SurveyTeller(world, surveys_rng, ids, now, settings)
            teller = Storyteller(world, rng, ids, now, surveys)
            remaining = operator.beneficiaries
            while remaining:
                size = min(chunk, remaining)
                remaining -= size
                batch = Batch()
                for _ in range(size):
                    teller.person(batch)
                for table in T.STORY_TABLES:
                    written = loader.write(table, batch.rows[table.name])
                    progress.advance(tasks[table.name], written)
                loader.connection.commit()
        for table in T.STORY_TABLES:  # the totals were estimates
            done = loader.counts.get(table.name, 0)
            progress.update(tasks[table.name], total=done, completed=done)


def _logins(plan: Plan) -> list[Login]:
    """A few accounts to try, in the first operator, a national observer and a controller."""
    code = plan.operators[0].region.code
    area = f"{code.lower()}.{DOMAIN}"
    return [
        Login(f"conseiller.0001@{area}", "Conseiller·ère", code),
        Login(f"responsable.0001@{area}", "Responsable", code),
        Login(f"admin.0001@{area}", "Administrateur·rice", code),
        Login(f"observateur.0001@national.{DOMAIN}", "Observateur national", "—"),
        Login(f"controleur.0001@national.{DOMAIN}", "Contrôleur·euse France compétences", "—"),
    ]


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description:<22}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )


def _tasks(progress: Progress, plan: Plan) -> dict[str, int]:
    cases = plan.expected("cases")
    totals = {"beneficiaries": plan.beneficiaries, "cases": cases}
    totals |= {name: round(cases * share) for name, share in _PER_CASE.items()}
    return {table.name: progress.add_task(table.name, total=totals[table.name]) for table in T.STORY_TABLES}  # fmt: skip


def _postcodes() -> list[str]:
    with (_ROOT / "data" / "postcode_positions.csv").open(encoding="utf-8") as handle:
        return [row["postcode"] for row in csv.DictReader(handle)]
