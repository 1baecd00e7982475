"""The bar charts of the reports: one bar per row of a section; a hidden cell (national view)
keeps its row, drawn as secret, and the chart's text alternative says how many there are."""

import html
import re

from app.services.reports.tables import Bar, Section
from app.web.rendering import templates

TITLE = "Nouveaux dossiers par mois"


def months(*values) -> Section:
    labels = ["janvier", "février", "mars"]
    rows = list(zip(labels, values, strict=True))
    return Section("entrees", TITLE, ["Mois", "Nouveaux dossiers"], rows)


def chart(section: Section) -> str:
    macros = templates.env.get_template("reports/activity/_partials/bars.html").module
    return html.unescape(str(macros.bars(section, hidden="secret")))


def aria_label(svg: str) -> str:
    return re.search(r'aria-label="([^"]*)"', svg).group(1)


def test_a_hidden_value_keeps_its_row_among_the_bars():
    assert months(40, None, 20).bars() == [
        Bar("janvier", 40, 1.0),
        Bar("février", None, 0.0),
        Bar("mars", 20, 0.5),
    ]


def test_the_chart_draws_a_hidden_value_as_secret_and_counts_it():
    svg = chart(months(40, None, 20))

    assert aria_label(svg) == (
        f"{TITLE} : 3 valeurs, dont 1 masquée (« secret »), la plus haute 40 (janvier). "
        "Le détail suit dans le tableau."
    )
    assert svg.count("<rect") == 2  # no bar for February
    assert ">février</text>" in svg
    assert 'class="bar-value bar-hidden">secret</text>' in svg


def test_a_chart_whose_values_are_all_hidden_still_lists_them():
    svg = chart(months(None, None, None))

    assert aria_label(svg) == (
        f"{TITLE} : 3 valeurs, dont 3 masquées (« secret »). Le détail suit dans le tableau."
    )
    assert "<rect" not in svg
    assert svg.count(">secret</text>") == 3


def test_a_chart_with_nothing_hidden_says_nothing_of_secrecy():
    svg = chart(months(40, 10, 20))

    assert (
        aria_label(svg)
        == f"{TITLE} : 3 valeurs, la plus haute 40 (janvier). Le détail suit dans le tableau."
    )
    assert svg.count("<rect") == 3
