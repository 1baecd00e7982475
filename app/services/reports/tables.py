"""What a report is made of: sections (small tables drawn as bars), and the values in them
that keep their counts (shares, medians) so that the national view can suppress small cells."""

from dataclasses import dataclass, field
from datetime import date, datetime

from app.core.errors import NotFound
from app.core.tables import Percent, Table, table_heading
from app.core.typography import french_number


@dataclass(frozen=True, eq=False)
class Share:
    """A percentage that keeps its counts, so that small-cell suppression can hide it with them."""

    part: int
    whole: int

    def __eq__(self, other) -> bool:
        # Equal to the percentage it shows, so that readers of the figures need not unwrap it.
        if isinstance(other, Share):
            return (self.part, self.whole) == (other.part, other.whole)
        return self.plain() == other

    def __hash__(self) -> int:
        return hash(self.plain())

    def counts(self) -> tuple[int, ...]:
        # The complement is a count too: a share and its whole would give it away.
        return (self.part, self.whole, self.whole - self.part)

    def plain(self) -> float | None:
        return round(100 * self.part / self.whole, 1) if self.whole else None

    def percent(self) -> Percent | None:
        """The share for a file: the percentage the page shows, as a ratio (14,1 % is 0.141)."""
        value = self.plain()
        return None if value is None else Percent(round(value / 100, 3))

    def __str__(self) -> str:
        value = self.plain()
        return "—" if value is None else french_number(value)


@dataclass(frozen=True)
class Median:
    """A median number of days, with the number of cases it rests on."""

    days: float | None
    cases: int

    def counts(self) -> tuple[int, ...]:
        return (self.cases,)

    def plain(self) -> float | None:
        return self.days

    def __str__(self) -> str:
        return "—" if self.days is None else french_number(self.days)


def plain(value):
    """The value as it goes into JSON: a share or a median becomes its float."""
    return value.plain() if isinstance(value, Share | Median) else value


def typed(value):
    """The value as it goes into a file: a share a percentage, a median its days."""
    if isinstance(value, Share):
        return value.percent()
    return value.plain() if isinstance(value, Median) else value


@dataclass
class Bar:
    label: str
    value: float | None  # None: a hidden cell (national view), drawn as such without a bar
    fraction: float  # of the largest value, 0..1


@dataclass
class Section:
    """One table of the report; `chart_column` is the numeric column drawn as bars."""

    key: str
    title: str
    columns: list[str]
    rows: list[tuple]
    chart_column: int | None = 1
    ends_with_total: bool = False  # the total row is in the table, not among the bars

    def bars(self) -> list[Bar]:
        if self.chart_column is None:
            return []
        drawn = self.rows[:-1] if self.ends_with_total else self.rows
        # A hidden cell keeps its row, with no bar (a bar of 0 would tell a lie): a chart that
        # left it out would read as if there were nothing to count there. A share is drawn as
        # its percentage (the territory's coverage per département).
        values = [(str(row[0]), plain(row[self.chart_column])) for row in drawn]
        peak = max((value for _, value in values if value is not None), default=0)
        return [
            Bar(label, value, value / peak if peak and value is not None else 0.0)
            for label, value in values
        ]

    def bars_show_every_figure(self) -> bool:
        """Whether the bars say all the table does (one count a row, no total): the table may
        then wait behind a « Voir le tableau »."""
        return self.chart_column == 1 and len(self.columns) == 2 and not self.ends_with_total

    def plain_rows(self, hidden: str | None = None) -> list[tuple]:
        """Rows of plain values for JSON; `hidden` stands for a suppressed cell (None there)."""
        return [tuple(hidden if v is None else plain(v) for v in row) for row in self.rows]

    def file_rows(self, hidden: str | None = None) -> list[tuple]:
        """Rows of typed values for files; `hidden` stands for a suppressed cell."""
        return [tuple(hidden if v is None else typed(v) for v in row) for row in self.rows]


@dataclass
class ActivityReport:
    start: date
    end: date
    operator_code: str
    sections: list[Section] = field(default_factory=list)
    kind: str = "activite"  # starts the file names
    hidden_label: str | None = None  # what a suppressed cell reads as in a file
    # What the files' title row says: the report, whose, filtered how (« lieu d'accueil X »).
    label: str = "Rapport d'activité"
    operator_name: str = ""
    filters: str = ""
    # A snapshot's (national view): the figures are what the database held at that moment.
    counted_at: datetime | None = None

    def section(self, key: str) -> Section:
        for section in self.sections:
            if section.key == key:
                return section
        raise NotFound("Tableau inconnu")

    def heading(self, section: Section) -> str:
        return table_heading(
            label=self.label,
            operator=self.operator_name or self.operator_code,
            filters=self.filters,
            start=self.start,
            end=self.end,
            title=section.title,
        )

    def table(self, key: str) -> Table:
        """The section as a downloadable table."""
        section = self.section(key)
        filename = f"{self.kind}-{self.operator_code}-{self.start}-{self.end}-{key}"
        rows = section.file_rows(self.hidden_label)
        return Table(section.title, section.columns, rows, filename, self.heading(section))
