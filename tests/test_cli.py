"""`filrouge users`: accounts created and deactivated from the command line."""

import pytest
from alembic import command
from sqlmodel import Session, select
from typer.testing import CliRunner

from app.cli import cli
from app.core.db import build_engine
from app.models.staff import StaffUser
from tests.conftest import alembic_config, scratch_database


@pytest.fixture
def cli_engine(database_url, tmp_path, monkeypatch):
    with scratch_database(database_url, "cli", tmp_path) as url:
        engine = build_engine(url)
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), "head")
        monkeypatch.setattr("app.cli.get_engine", lambda: engine)
        yield engine
        engine.dispose()


def test_a_created_account_is_deactivated_with_its_tokens(cli_engine):
    created = CliRunner().invoke(
        cli,
        ["users", "create", "--role", "sysadmin", "--email", "Admin@Exemple.fr"]
        + ["--password", "un-long-mot-de-passe"],
    )
    assert created.exit_code == 0, created.output
    result = CliRunner().invoke(cli, ["users", "deactivate", "--email", "admin@exemple.fr"])
    assert result.exit_code == 0, result.output
    assert "Compte désactivé : admin@exemple.fr" in result.output
    with Session(cli_engine) as session:
        user = session.exec(select(StaffUser)).one()
    assert (user.active, user.token_version) == (False, 1)


def test_deactivating_an_unknown_account_fails_in_french(cli_engine):
    result = CliRunner().invoke(cli, ["users", "deactivate", "--email", "personne@exemple.fr"])
    assert result.exit_code == 1
    assert "Erreur : Aucun compte pour personne@exemple.fr" in result.output


def test_a_controller_is_created_in_its_team_and_never_without_one(cli_engine):
    base = ["users", "create", "--role", "controller", "--password", "un-long-mot-de-passe"]
    without = CliRunner().invoke(cli, [*base, "--email", "sans@exemple.fr"])
    assert without.exit_code == 1 and "équipe de contrôle" in without.output
    team = "Contrôle de service fait — national"
    created = CliRunner().invoke(cli, [*base, "--email", "avec@exemple.fr", "--team", team])
    assert created.exit_code == 0, created.output
    with Session(cli_engine) as session:
        user = session.exec(select(StaffUser)).one()
    assert (user.email, user.control_team) == ("avec@exemple.fr", team)
