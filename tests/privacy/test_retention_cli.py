"""`filrouge privacy retention`: the dry run lists who would go, the run anonymises them."""

from datetime import UTC, datetime

import pytest
from alembic import command
from sqlmodel import Session, select
from typer.testing import CliRunner

from app.cli import cli
from app.core.db import build_engine
from app.models.beneficiaries import Beneficiary
from app.models.cases import Case, CaseStatus
from app.services.admin.operators import create_operator
from tests.conftest import alembic_config, scratch_database

LONG_AGO = datetime(2023, 5, 4, 9, tzinfo=UTC)


@pytest.fixture
def cli_engine(database_url, tmp_path, monkeypatch):
    with scratch_database(database_url, "retention_cli", tmp_path) as url:
        engine = build_engine(url)
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), "head")
        monkeypatch.setattr("app.cli.get_engine", lambda: engine)
        yield engine
        engine.dispose()


@pytest.fixture
def past_person(cli_engine) -> int:
    """A person of ARA whose only case closed long ago; another of BRE, just as old."""
    with Session(cli_engine) as session:
        for code in ("ARA", "BRE"):
            operator = create_operator(session=session, code=code, name=code, region_code="84")
            person = Beneficiary(
                operator_id=operator.id, first_name="Inès", last_name="Garnier",
                email=f"ines@{code.lower()}.fr", created_at=LONG_AGO,
            )  # fmt: skip
            session.add(person)
            session.flush()
            session.add(
                Case(
                    operator_id=operator.id, reference=f"{code}-2023-00001",
                    beneficiary_id=person.id, channel="telephone", motive="reconversion",
                    status=CaseStatus.CLOSED.value, close_reason="completed",
                    opened_at=LONG_AGO, closed_at=LONG_AGO, last_activity_at=LONG_AGO,
                )
            )  # fmt: skip
        session.commit()
        return person.id


def test_the_dry_run_lists_who_would_go_and_changes_nothing(cli_engine, past_person):
    result = CliRunner().invoke(cli, ["privacy", "retention", "--dry-run", "--operator", "ara"])
    assert result.exit_code == 0, result.output
    assert "ARA ARA-2023-00001 — dernier contact le 2023-05-04" in result.output
    assert "BRE" not in result.output
    assert "1 personne serait anonymisée." in result.output
    with Session(cli_engine) as session:
        assert all(p.anonymised_at is None for p in session.exec(select(Beneficiary)))


def test_the_run_anonymises_every_operator(cli_engine, past_person):
    result = CliRunner().invoke(cli, ["privacy", "retention"])
    assert result.exit_code == 0, result.output
    assert "2 personnes anonymisées." in result.output
    with Session(cli_engine) as session:
        names = {p.last_name for p in session.exec(select(Beneficiary))}
    assert names == {"anonymisée"}


def test_an_unknown_operator_fails_in_french(cli_engine):
    result = CliRunner().invoke(cli, ["privacy", "retention", "--dry-run", "--operator", "ZZZ"])
    assert result.exit_code != 0
    assert "Aucun opérateur de code ZZZ" in result.output
