"""The summary printed at the end of `filrouge generate`: rows, time and speed per table."""

from rich.console import Console
from rich.table import Table

from app.synthetic.generate import Report


def print_summary(console: Console, report: Report) -> None:
    table = Table(title=f"Données synthétiques — échelle {report.plan.scale:g}")
    table.add_column("Table")
    table.add_column("Lignes", justify="right")
    table.add_column("Écriture (s)", justify="right")
    table.add_column("Lignes/s", justify="right")
    for name, count in report.counts.items():
        seconds = report.seconds.get(name, 0.0)
        speed = f"{count / seconds:,.0f}" if seconds > 0 else "—"
        table.add_row(name, f"{count:,}", f"{seconds:.1f}", speed)
    table.add_row("index, contraintes, ANALYZE", "", f"{report.finish_seconds:.1f}", "")
    rows = report.rows
    table.add_row("total", f"{rows:,}", f"{report.elapsed:.1f}", f"{rows / report.elapsed:,.0f}")
    console.print(table)
    console.print(
        f"{len(report.plan.operators)} opérateur(s), {rows:,} lignes en {report.elapsed:.0f} s "
        "(écriture : temps passé à écrire chaque table ; total : génération comprise)."
    )
    console.print(f"\nMot de passe de tous les comptes générés : {report.password}")
    for login in report.logins:
        console.print(f"  {login.email:<50} {login.role:<22} {login.operator}")
