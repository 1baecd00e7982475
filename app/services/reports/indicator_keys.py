"""The indicators as the API gives them: named keys read from the report's sections, so that
the national view's suppressed cells stay suppressed (null) here too."""

from app.models.nomenclatures import Channel, Redirection, RequestMotive
from app.services.reports.periods import months_between
from app.services.reports.tables import ActivityReport, plain


def _rows(report: ActivityReport, key: str) -> list[tuple]:
    return report.section(key).plain_rows()


def _coded(rows: list[tuple], enum) -> dict:
    """Rows in the enum's order (then an unknown row, if any) as {code: count}."""
    counts = {member.value: row[1] for member, row in zip(enum, rows, strict=False)}
    if len(rows) > len(enum):
        counts["nr"] = rows[-1][1]
    return counts


def _summary(report: ActivityReport) -> dict[str, object]:
    return {row[0]: plain(row[1]) for row in report.section("synthese").rows}


def indicator_keys(report: ActivityReport) -> dict:
    """The figures of the issue's API: entries, people served, redirections, units, reaching
    level 2, delay, coverage, shares, breakdowns by motive, channel and month."""
    summary = _summary(report)
    level_2 = _rows(report, "niveau-2")
    delay = _rows(report, "delai-niveau-1")
    territory = _rows(report, "territoire")
    redirected = _rows(report, "accueil")[2:]
    months = months_between(report.start, report.end)
    return {
        "start": report.start.isoformat(),
        "end": report.end.isoformat(),
        "entries": summary["Entrées"],
        "people_served": summary["Personnes accompagnées"],
        "redirections": {
            "total": summary["Réorientations à l'accueil"],
            "by_target": _coded(redirected, Redirection),
        },
        "units_started": {row[0]: row[2] for row in _rows(report, "unites")},
        "units_ended": {row[0]: row[3] for row in _rows(report, "unites")},
        "on_site_share_by_unit": {row[0]: row[5] for row in _rows(report, "unites")},
        "reaching_level_2": {"base": level_2[0][1], "count": level_2[1][1], "share": level_2[2][1]},
        "delay_to_level_1_days": {
            "median": delay[0][1],
            "cases": delay[0][2],
            "share_within_10_days": delay[1][1],
        },
        "coverage_30km": {
            "share": territory[-1][3],
            "by_departement": [
                {
                    "departement": row[0].split(" — ")[0],
                    "people_served": row[1],
                    "within_30km": row[2],
                    "share": row[3],
                    "places": row[4],
                }
                for row in territory[:-1]
            ],
        },
        "hors_uo_share": summary["Part des actes hors UO (%)"],
        "satisfaction_share": summary["Satisfaction en fin de niveau (%)"],
        "utility_share": summary["Utilité à six mois (%)"],
        "by_motive": _coded(_rows(report, "motifs"), RequestMotive),
        "by_channel": _coded(_rows(report, "canaux"), Channel),
        "by_month": [
            {"month": month.isoformat()[:7], "entries": row[1], "redirections": row[2]}
            for month, row in zip(months, _rows(report, "entrees"), strict=True)
        ],
        **_per_operator(report),
    }


def _per_operator(report: ActivityReport) -> dict:
    """The national view's figures operator by operator; nothing in an operator's report."""
    if not any(section.key == "operateurs" for section in report.sections):
        return {}
    keys = (
        "entries",
        "people_served",
        "redirections",
        "reaching_level_2_share",
        "delay_to_level_1_median_days",
        "coverage_30km_share",
    )
    rows = _rows(report, "operateurs")
    return {
        "by_operator": [
            {"operator": row[0], **dict(zip(keys, row[1:], strict=True))} for row in rows
        ]
    }


def flattened(figures: dict, prefix: str = "") -> list[tuple[str, object]]:
    """(dotted key, value) rows, for the CSV and XLSX files of the same figures."""
    rows: list[tuple[str, object]] = []
    for key, value in figures.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            rows += flattened(value, f"{name}.")
        elif isinstance(value, list):
            for index, item in enumerate(value):
                rows += flattened(item, f"{name}.{index}.")
        else:
            rows.append((name, value))
    return rows
