"""One small synthetic dataset, generated once for the module's tests into a scratch database
(SQLite, or PostgreSQL when FILROUGE_TEST_DATABASE_URL is set)."""

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from sqlalchemy.engine import Engine

from app.core.db import build_engine
from app.synthetic import Report, generate
from tests.conftest import scratch_database

SCALE = 0.001  # 700 beneficiaries, ~800 cases, 2 counsellors: a few seconds


@dataclass
class Generated:
    engine: Engine
    report: Report
    now: datetime  # the generation's "now"


@pytest.fixture(scope="package")
def generated(database_url, tmp_path_factory) -> Generated:
    with scratch_database(database_url, "synthetic", tmp_path_factory.mktemp("synthetic")) as url:
        engine = build_engine(url)
        now = datetime.now(UTC).replace(microsecond=0)
        report = generate(engine=engine, scale=SCALE, seed=11, now=now)
        yield Generated(engine, report, now)
        engine.dispose()
