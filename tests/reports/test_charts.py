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


def compact(section: Section) -> str:
    macros = templates.env.get_template("reports/activity/_partials/bars.html").module
    return html.unescape(str(macros.bar_list(section, hidden="secret")))


def test_the_compact_chart_writes_each_value_and_a_hidden_one_as_secret():
    drawn = compact(months(40, None, 20))

    assert aria_label(drawn) == (
        f"{TITLE} : 3 valeurs, dont 1 masquée (« secret »), la plus haute 40 (janvier). "
        "Le détail suit dans le tableau."
    )
    assert re.findall(r'<span class="bar-count[^"]*">([^<]*)</span>', drawn) == [
        "40",
        "secret",
        "20",
    ]
    assert re.findall(r'<rect width="([^"]*)"', drawn) == ["100.0%", "50.0%"]  # none for February


def test_a_zero_draws_no_bar_in_the_compact_chart():
    drawn = compact(months(40, 0, 20))

    assert drawn.count("<rect") == 2
    assert re.findall(r'<span class="bar-count">([^<]*)</span>', drawn) == ["40", "0", "20"]


def test_bars_show_every_figure_of_a_table_of_one_count_a_row_only():
    assert months(40, None, 20).bars_show_every_figure()
    several = Section("entrees", TITLE, ["Mois", "Nouveaux", "Clos"], [("janvier", 4, 2)])
    assert not several.bars_show_every_figure()
    rows = [("janvier", 4), ("Total", 4)]
    total = Section("actes", TITLE, ["Mois", "Actes"], rows, ends_with_total=True)
    assert not total.bars_show_every_figure()
    assert not Section(
        "delai", TITLE, ["Indicateur", "Valeur"], [], chart_column=None
    ).bars_show_every_figure()
