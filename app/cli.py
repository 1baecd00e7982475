"""The `filrouge` command: serve the app, migrate the database, seed demo data, manage users."""

import threading
from pathlib import Path
from typing import Annotated

import typer
from alembic import command
from alembic.config import Config
from sqlmodel import Session

import app
from app.core.config import get_settings
from app.core.db import default_web_workers, get_engine
from app.core.errors import DomainError
from app.core.logging import configure_logging
from app.core.metrics import enable_multiprocess, remove_multiprocess
from app.demo.seed import DemoLogin, demo_logins, seed_demo, seed_demo_if_empty
from app.models.nomenclatures import Role
from app.services.admin.staff import create_staff_user, deactivate_staff_user
from app.services.audit.trail import link_pending, snapshot_engine, verify
from app.services.messaging.mail import describe_destination
from app.services.messaging.sms import describe_sms_destination
from app.services.privacy.retention import retention_listing
from app.web.serving import run_server
from app.worker import (
    run_delivery_loop,
    start_background_delivery,
    start_pack_builder,
    stop_on_signals,
)

cli = typer.Typer(help="Fil rouge — suivi des dossiers CEP.", no_args_is_help=True)
db_cli = typer.Typer(help="Migrations de la base de données.", no_args_is_help=True)
users_cli = typer.Typer(help="Comptes du personnel.", no_args_is_help=True)
privacy_cli = typer.Typer(help="Données personnelles.", no_args_is_help=True)
cli.add_typer(db_cli, name="db")
cli.add_typer(users_cli, name="users")
cli.add_typer(privacy_cli, name="privacy")
audit_cli = typer.Typer(help="Journal des accès aux données personnelles.", no_args_is_help=True)
cli.add_typer(audit_cli, name="audit")
storage_cli = typer.Typer(help="Stockage des fichiers.", no_args_is_help=True)
cli.add_typer(storage_cli, name="storage")


def alembic_config() -> Config:
    """The repository's alembic.ini; the database URL comes from the settings (env.py), the
    logging from app/core/logging.py (the command configured it)."""
    config = Config(str(Path(app.__file__).parent.parent / "alembic.ini"))
    config.attributes["configure_logger"] = False
    return config


@cli.callback()
def _configure_logging() -> None:
    """Before any command: its lines, the migrations' and the server's in one format."""
    configure_logging()


def _fail(error: DomainError) -> None:
    """Print a domain error in French and stop with exit code 1."""
    typer.echo(f"Erreur : {error.message}", err=True)
    for name, message in getattr(error, "fields", {}).items():
        typer.echo(f"  --{name} : {message}", err=True)
    raise typer.Exit(code=1)


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Adresse d'écoute.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port d'écoute.")] = 8000,
    reload: Annotated[
        bool, typer.Option("--reload/--no-reload", help="Recharger à chaque modification.")
    ] = False,
    with_worker: Annotated[
        bool,
        typer.Option(
            "--with-worker/--no-worker",
            help="Envoyer aussi les e-mails en attente depuis ce processus.",
        ),
    ] = True,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Processus web (par défaut : un par cœur plus un sur PostgreSQL, un sur SQLite).",
        ),
    ] = None,
) -> None:
    """Mettre la base à jour puis servir l'application."""
    command.upgrade(alembic_config(), "head")
    stop_delivery = None
    if with_worker:
        typer.echo(describe_destination())
        typer.echo(describe_sms_destination())
        stop_delivery = start_background_delivery(echo=typer.echo)
    else:
        typer.echo("E-mails : envoyés par un autre processus (filrouge worker).")
    processes = 1 if reload else workers or default_web_workers(get_settings().database_url)
    # Several web processes: /metrics adds up their counts, whichever one answers.
    counts = enable_multiprocess() if processes > 1 else None
    try:
        run_server("app.main:app", host=host, port=port, reload=reload, workers=processes)
    finally:
        if stop_delivery is not None:
            stop_delivery()
        if counts is not None:
            remove_multiprocess(counts)


@cli.command()
def worker(
    interval: Annotated[float, typer.Option(min=0.1, help="Secondes entre deux passages.")] = 5,
    once: Annotated[bool, typer.Option("--once", help="Un seul passage, puis s'arrêter.")] = False,
) -> None:
    """Envoyer les e-mails en attente (avec nouvelles tentatives) et préparer les dossiers de
    preuves des campagnes de contrôle (Ctrl-C pour arrêter)."""
    typer.echo(describe_destination())
    typer.echo(describe_sms_destination())
    stop = threading.Event()
    stop_on_signals(stop, typer.echo)
    builder = None if once else start_pack_builder(echo=typer.echo, stop=stop, interval=interval)
    try:
        run_delivery_loop(echo=typer.echo, stop=stop, interval=interval, once=once)
        if builder is not None:  # the build under way hands its row back at its next batch
            builder.join()
    except KeyboardInterrupt:
        typer.echo("Arrêt immédiat : un message en cours d'envoi sera repris plus tard.")
        return
    if stop.is_set():
        typer.echo("Arrêté : aucun message ni dossier laissé en cours.")


@db_cli.command("upgrade")
def db_upgrade() -> None:
    """Appliquer toutes les migrations (alembic upgrade head)."""
    command.upgrade(alembic_config(), "head")
    typer.echo("Base de données à jour.")


@db_cli.command("downgrade")
def db_downgrade(
    revision: Annotated[str, typer.Argument(help="Révision cible.")] = "base",
) -> None:
    """Revenir à une révision antérieure (par défaut : base vide)."""
    command.downgrade(alembic_config(), revision)
    typer.echo(f"Base de données ramenée à la révision « {revision} ».")


@cli.command()
def demo(
    if_empty: Annotated[
        bool, typer.Option("--if-empty", help="Ne rien faire si un opérateur existe déjà.")
    ] = False,
) -> None:
    """Créer les données de démonstration et afficher les comptes de démo."""
    with Session(get_engine()) as session:
        try:
            if if_empty:
                seeded = seed_demo_if_empty(session=session)
            else:
                seed_demo(session=session)
                seeded = True
        except DomainError as error:
            _fail(error)
        session.commit()
    if seeded:
        typer.echo("Données de démonstration créées.")
    else:
        typer.echo("La base contient déjà des données : rien n'a été ajouté.")
    _print_logins(demo_logins())


def _print_logins(logins: list[DemoLogin]) -> None:
    rows = [("E-mail", "Mot de passe", "Rôle", "Opérateur")]
    rows += [(x.email, x.password, x.role, x.operator) for x in logins]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    typer.echo("\nComptes de démonstration :")
    for index, row in enumerate(rows):
        cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        typer.echo("  ".join(cells).rstrip())
        if index == 0:
            typer.echo("  ".join("-" * width for width in widths))
    typer.echo(
        "\nDouble authentification : désactivée pour les opérateurs de démonstration ; "
        "un·e administrateur·rice l'impose depuis « Sécurité »."
    )
    base = get_settings().public_base_url.rstrip("/")
    typer.echo(f"\nPrise de rendez-vous en ligne (sans compte) : {base}/rendez-vous?operateur=ARA")


@cli.command()
def generate(
    scale: Annotated[
        float,
        typer.Option(
            min=0.0001,
            help="Facteur d'échelle : 1 = national (800 000 dossiers), 0,06 = un opérateur.",
        ),
    ] = 1.0,
    seed: Annotated[int, typer.Option(help="Graine, pour reproduire les mêmes données.")] = 2026,
) -> None:
    """Générer un jeu de données synthétiques en masse, dans une base neuve."""
    # Imported here: the generator (and WeasyPrint) load only when this command runs.
    from rich.console import Console

    from app.synthetic import generate as generate_dataset
    from app.synthetic.summary import print_summary

    console = Console()
    try:
        report = generate_dataset(engine=get_engine(), scale=scale, seed=seed, console=console)
    except DomainError as error:
        _fail(error)
    print_summary(console, report)


@users_cli.command("create")
def users_create(
    role: Annotated[Role, typer.Option(help="Rôle du compte.")],
    email: Annotated[str, typer.Option(help="Adresse e-mail (identifiant de connexion).")],
    password: Annotated[
        str,
        typer.Option(help="Mot de passe (12 caractères au moins, pas un mot de passe courant)."),
    ],
    operator: Annotated[
        str | None,
        typer.Option(help="Code de l'opérateur (ARA, BRE…), sauf observateur et sysadmin."),
    ] = None,
    name: Annotated[str, typer.Option(help="Nom complet.")] = "",
    team: Annotated[
        str | None,
        typer.Option(help="Équipe de contrôle, obligatoire pour un·e contrôleur·euse."),
    ] = None,
) -> None:
    """Créer un compte du personnel, sans question interactive."""
    with Session(get_engine()) as session:
        try:
            user = create_staff_user(
                session=session,
                email=email,
                full_name=name,
                role=role,
                password=password,
                operator_code=operator.strip().upper() if operator else None,
                control_team=team,
            )
        except DomainError as error:
            _fail(error)
        session.commit()
        typer.echo(f"Compte créé : {user.email} ({user.role_label}).")


@users_cli.command("deactivate")
def users_deactivate(
    email: Annotated[str, typer.Option(help="Adresse e-mail du compte.")],
) -> None:
    """Désactiver un compte : plus de connexion ; ses sessions et jetons d'API prennent fin."""
    with Session(get_engine()) as session:
        try:
            user = deactivate_staff_user(session=session, email=email)
        except DomainError as error:
            _fail(error)
        session.commit()
        typer.echo(f"Compte désactivé : {user.email} ; ses sessions et jetons d'API sont révoqués.")


@privacy_cli.command("retention")
def privacy_retention(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Lister sans rien anonymiser.")
    ] = False,
    operator: Annotated[
        str | None, typer.Option(help="Code d'un opérateur (ARA, BRE…) ; tous sinon.")
    ] = None,
) -> None:
    """Anonymiser les personnes dont la durée de conservation est écoulée (ou les lister)."""
    with Session(get_engine()) as session:
        try:
            found = retention_listing(
                session=session, operator_code=operator, anonymise=not dry_run
            )
        except DomainError as error:
            _fail(error)
        session.commit()
    verb = "serait anonymisée" if dry_run else "anonymisée"
    for code, due in found:
        for person in due:
            references = ", ".join(person.references) or f"personne n° {person.beneficiary_id}"
            last = person.last_contact_at.date().isoformat()
            typer.echo(f"{code} {references} — dernier contact le {last}")
    count = sum(len(due) for _, due in found)
    typer.echo(f"{count} personne{'s' if count > 1 else ''} {verb}{'s' if count > 1 else ''}.")


@audit_cli.command("verify")
def audit_verify() -> None:
    """Chaîner les entrées en attente, puis vérifier la chaîne du journal d'accès depuis le
    dernier point de purge : la première entrée altérée, supprimée ou insérée est signalée
    (code de sortie 1)."""
    engine = get_engine()
    with Session(engine) as session, session.begin():
        link_pending(session, batch=None)
    with Session(snapshot_engine(engine)) as session:
        verdict = verify(session)
    if not verdict.intact:
        typer.echo(
            f"Journal d'accès altéré à l'entrée n° {verdict.broken_seq} : {verdict.problem}"
            f" ({verdict.checked} entrées vérifiées avant elle).",
            err=True,
        )
        raise typer.Exit(code=1)
    typer.echo(f"Journal d'accès intact : {verdict.checked} entrées vérifiées.")
    if verdict.unlinked:
        # Committed after the linking above: the worker's next pass chains them.
        typer.echo(f"Entrées pas encore chaînées : {verdict.unlinked}.")


@storage_cli.command("copy")
def storage_copy(
    source: Annotated[
        Path,
        typer.Option(
            "--from", exists=True, file_okay=False, help="Le répertoire des fichiers (local)."
        ),
    ],
    target: Annotated[
        str, typer.Option("--to", help="Le seau de destination : s3://seau/préfixe.")
    ],
) -> None:
    """Copier les fichiers d'un répertoire local dans un seau S3 (point d'accès, région et clés :
    réglages FILROUGE_STORAGE_*), puis relire chaque objet et comparer son empreinte SHA-256.
    Relancer la commande reprend là où elle s'est arrêtée ; un objet différent est recopié."""
    from app.core.storage import LocalStorage
    from app.core.storage_copy import copy_store
    from app.core.storage_s3 import S3Storage

    settings = get_settings()
    try:
        bucket = S3Storage.from_settings(
            target,
            endpoint_url=settings.storage_endpoint_url,
            region=settings.storage_region,
            access_key_id=settings.storage_access_key_id,
            secret_access_key=settings.storage_secret_access_key.get_secret_value(),
            scratch_root=source,
        )
        report = copy_store(LocalStorage(source), bucket)
    except ValueError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(code=2) from None
    except DomainError as error:
        _fail(error)
    for key in report.replaced:
        typer.echo(f"Objet différent du fichier, recopié : {key}", err=True)
    for key in report.failed:
        typer.echo(f"Empreinte différente après la copie : {key}", err=True)
    typer.echo(
        f"{report.checked} fichiers vérifiés : {report.copied} copiés, "
        f"{report.already_there} déjà présents, {len(report.replaced)} recopiés, "
        f"{len(report.failed)} en échec."
    )
    if report.failed:
        raise typer.Exit(code=1)


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
