"""The tenant scope is written once: every tenant-owned table is declared with its path to the
operator, the helpers keep to it, and no service or route compares an operator by hand."""

import ast
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy.orm import aliased
from sqlmodel import SQLModel, func, select

from app.core.errors import NotFound
from app.models.catalogue import ServiceUnit
from app.models.control import ControlCampaign, ControlSampleUnit, PackStatus
from app.models.nomenclatures import Role
from app.models.operators import Operator, Site
from app.models.partners import Partner
from app.models.staff import StaffSite, StaffUser
from app.services.access.scope import (
    TENANT_PATHS,
    Through,
    get_owned,
    load_owned,
    operator_of,
    owned_by,
    owner_of,
    readable,
)
from tests.factories import (
    make_beneficiary,
    make_case,
    make_episode,
    make_operator,
    make_partner,
    make_site,
    make_staff,
)

APP = Path(__file__).resolve().parents[2] / "app"
# Where rows are read for an actor: the scope must come from app/services/access/scope.py.
SCOPED_CODE = ("services", "routes", "web")
SCOPE_MODULE = APP / "services" / "access" / "scope.py"


# ---- every tenant-owned table is declared --------------------------------------------------


def tenant_owned_tables() -> set[str]:
    """Tables with an operator column, and those with a foreign key path to one of them."""
    tables = SQLModel.metadata.tables.values()
    owned = {"operators"} | {t.name for t in tables if "operator_id" in t.c}
    while True:
        reached = {
            t.name
            for t in tables
            if any(fk.column.table.name in owned for fk in t.foreign_keys) and t.name not in owned
        }
        if not reached:
            return owned
        owned |= reached


def test_every_tenant_owned_table_is_declared_with_its_path_to_the_operator():
    declared = {model.__tablename__ for model in TENANT_PATHS}
    assert sorted(tenant_owned_tables() - declared) == []
    assert sorted(declared - tenant_owned_tables()) == []


def test_the_tables_left_undeclared_belong_to_no_operator():
    """The national unit catalogue and markets, the national view's monthly snapshots (figures
    across operators), what is kept per e-mail or address before sign-in, and the audit
    trail's chain head and purge permits (one chain for all operators), and the workers'
    heartbeats."""
    declared = {model.__tablename__ for model in TENANT_PATHS}
    undeclared = set(SQLModel.metadata.tables) - declared
    national = {ServiceUnit.__tablename__, "markets", "market_units", "report_snapshots"}
    trail = {"audit_chain", "audit_purge_permits"}
    assert undeclared == national | trail | {
        "login_attempts",
        "rate_limit_hits",
        "worker_heartbeats",
    }


@pytest.mark.parametrize("model", list(TENANT_PATHS), ids=lambda model: model.__tablename__)
def test_each_declared_path_leads_to_the_operator(model):
    path = TENANT_PATHS[model]
    if isinstance(path, Through):
        assert path.column.class_ is model
        assert [fk.column for fk in path.column.property.columns[0].foreign_keys] == [
            path.parent.__table__.c.id
        ]
        assert path.parent in TENANT_PATHS
    elif model is Operator:
        assert path is Operator.id
    else:
        assert path.class_ is model
        [column] = path.property.columns
        assert [fk.column for fk in column.foreign_keys] == [Operator.__table__.c.id]


@pytest.mark.parametrize("model", list(TENANT_PATHS), ids=lambda model: model.__tablename__)
def test_each_scope_runs_on_the_engine_and_splits_the_rows_between_operators(session, two, model):
    """Each row is counted for exactly one operator, and none for an operator that is not."""

    def count(*where) -> int:
        return session.exec(select(func.count()).select_from(model).where(*where)).one()

    operators = [staff.operator_id for staff, _, _ in two.values()]
    nobody = max(operators) + 1000
    assert sum(count(owned_by(model, operator)) for operator in operators) == count()
    assert count(owned_by(model, nobody)) == 0


def test_the_rows_the_scope_is_checked_on_are_there(session, two):
    """The split above is tried on rows, not on empty tables: two of each of these."""
    for model in (Operator, StaffUser, Partner, Site):
        assert session.exec(select(func.count()).select_from(model)).one() == 2, model


# ---- the helpers ---------------------------------------------------------------------------


@pytest.fixture
def two(session):
    """Two operators, each with a counsellor, a partner and a site."""
    rows = {}
    for code in ("ARA", "BRE"):
        operator = make_operator(session, code, code)
        rows[code] = (
            make_staff(session, operator),
            make_partner(session, operator, name=f"Partenaire {code}"),
            make_site(session, operator, name=f"Lieu {code}"),
        )
    return rows


def test_readable_holds_only_the_actors_operators_rows(session, two):
    counsellor, partner, _ = two["ARA"]
    assert list(session.exec(readable(Partner, counsellor))) == [partner]


def test_readable_narrows_down_like_any_statement(session, two):
    counsellor, partner, _ = two["ARA"]
    statement = readable(Partner, counsellor).where(Partner.name == two["BRE"][1].name)
    assert list(session.exec(statement)) == []
    statement = readable(Partner, counsellor).where(Partner.name == partner.name)
    assert list(session.exec(statement)) == [partner]


def test_load_owned_returns_the_actors_own_row(session, two):
    counsellor, partner, _ = two["ARA"]
    assert load_owned(session, Partner, partner.id, counsellor) is partner


def test_load_owned_refuses_another_operators_row_with_404(session, two):
    counsellor, _, _ = two["ARA"]
    with pytest.raises(NotFound):
        load_owned(session, Partner, two["BRE"][1].id, counsellor)


@pytest.mark.parametrize("row_id", [0, -1, 2**31, 10**20], ids=["zero", "negative", "big", "huge"])
def test_load_owned_refuses_an_id_no_row_can_have_with_404(session, two, row_id):
    with pytest.raises(NotFound):
        load_owned(session, Partner, row_id, two["ARA"][0])


@pytest.mark.parametrize("role", [Role.NATIONAL_OBSERVER, Role.SYSADMIN])
def test_who_belongs_to_no_operator_reads_no_row(session, two, role):
    """Observers read figures aggregated across operators, never a row: 404, like a stranger."""
    outsider = make_staff(session, None, role)
    with pytest.raises(NotFound):
        load_owned(session, Partner, two["ARA"][1].id, outsider)
    with pytest.raises(NotFound):
        readable(Partner, outsider)


def test_an_operator_role_without_an_operator_reads_no_row(session, two):
    stray = make_staff(session, None, Role.COUNSELLOR)
    with pytest.raises(NotFound):
        operator_of(stray)


def test_get_owned_gives_none_outside_the_operator(session, two):
    counsellor, _, site = two["ARA"]
    operator_id = counsellor.operator_id
    assert get_owned(session, Site, site.id, operator_id) is site
    assert get_owned(session, Site, two["BRE"][2].id, operator_id) is None
    assert get_owned(session, Site, 10**20, operator_id) is None


def test_owned_by_refuses_no_operator():
    """`operator_id == None` would be SQL's « IS NULL »: the rows of no operator, not none."""
    with pytest.raises(ValueError):
        owned_by(Site, None)


def test_get_owned_refuses_no_operator(session):
    """An observer's account belongs to no operator: it is nobody's colleague."""
    observer = make_staff(session, None, Role.NATIONAL_OBSERVER)
    with pytest.raises(ValueError):
        get_owned(session, StaffUser, observer.id, None)


def test_owned_by_takes_a_column_to_join_within_one_operator(session, two):
    """Sites and partners paired only within their operator: two pairs, not four."""
    statement = select(Site.name, Partner.name).join(Partner, owned_by(Partner, Site.operator_id))
    statement = statement.where(Site.name.in_(["Lieu ARA", "Lieu BRE"]))
    assert sorted(session.exec(statement)) == [
        ("Lieu ARA", "Partenaire ARA"),
        ("Lieu BRE", "Partenaire BRE"),
    ]


def test_owned_by_takes_an_alias_of_a_table(session, two):
    other = aliased(Partner)
    statement = select(other.name).where(owned_by(other, two["BRE"][0].operator_id))
    assert list(session.exec(statement)) == ["Partenaire BRE"]


def sample_unit(session, counsellor) -> ControlSampleUnit:
    """A drawn unit: a row whose operator is its campaign's."""
    case = make_case(session, counsellor, make_beneficiary(session, counsellor))
    campaign = ControlCampaign(
        operator_id=counsellor.operator_id,
        created_by_id=counsellor.id,
        period_start=date(2026, 1, 1),
        period_end=date(2026, 1, 31),
        sample_size=1,
        seed=1,
        status=PackStatus.QUEUED.value,
    )
    session.add(campaign)
    session.flush()
    unit = ControlSampleUnit(
        campaign_id=campaign.id, episode_id=make_episode(session, counsellor, case).id, position=1
    )
    session.add(unit)
    session.flush()
    return unit


def test_a_row_reached_through_its_parent_is_scoped_by_the_parents_operator(session, two):
    ara, bre = two["ARA"][0], two["BRE"][0]
    units = {code: sample_unit(session, staff) for code, staff in (("ARA", ara), ("BRE", bre))}
    assert list(session.exec(readable(ControlSampleUnit, ara))) == [units["ARA"]]
    assert owner_of(session, units["BRE"]) == bre.operator_id
    assert load_owned(session, ControlSampleUnit, units["ARA"].id, ara) is units["ARA"]
    with pytest.raises(NotFound):
        load_owned(session, ControlSampleUnit, units["BRE"].id, ara)


def test_a_staff_members_sites_are_scoped_by_the_staff_members_operator(session, two):
    for counsellor, _, site in two.values():
        session.add(StaffSite(staff_id=counsellor.id, site_id=site.id))
    session.flush()
    ara = two["ARA"][0]
    assert [row.staff_id for row in session.exec(readable(StaffSite, ara))] == [ara.id]


# ---- nobody compares an operator by hand ---------------------------------------------------


def _is_operator_column(node: ast.expr) -> bool:
    """`x.operator_id`, `Operator.id`, or either wrapped in `col(...)`."""
    if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "col" and node.args:
        node = node.args[0]
    if not isinstance(node, ast.Attribute):
        return False
    return node.attr == "operator_id" or (
        node.attr == "id" and getattr(node.value, "id", None) == "Operator"
    )


COMPARING_METHODS = {
    *("in_", "not_in", "notin_", "is_", "is_not", "isnot", "between", "op", "__eq__", "__ne__"),
    *("is_distinct_from", "is_not_distinct_from", "isnot_distinct_from", "any_", "all_"),
}


def _is_none_test(node: ast.Compare) -> bool:
    return (
        len(node.ops) == 1
        and isinstance(node.ops[0], ast.Is | ast.IsNot)
        and isinstance(node.comparators[0], ast.Constant)
        and node.comparators[0].value is None
    )


def hand_written_scopes(source: str) -> list[int]:
    """The lines that compare an operator column themselves: `==`, `!=`, `in`, and the
    column's own `.in_()`, `.is_()`... or `filter_by(operator_id=...)`. Giving a new row its
    operator (`Case(operator_id=...)`), passing one to a function, or asking in Python whether
    there is one (`x.operator_id is None`) is not a comparison."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Compare):
            if _is_none_test(node):
                continue
            if any(_is_operator_column(side) for side in (node.left, *node.comparators)):
                lines.append(node.lineno)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if _is_operator_column(node.func.value) and node.func.attr in COMPARING_METHODS:
                lines.append(node.lineno)
            elif node.func.attr == "filter_by" and any(
                keyword.arg == "operator_id" for keyword in node.keywords
            ):
                lines.append(node.lineno)
    return sorted(set(lines))


@pytest.mark.parametrize(
    "line",
    [
        "select(Case).where(Case.operator_id == actor.operator_id)",
        "select(Case).where(actor.operator_id == Case.operator_id)",
        "query.where(col(Site.operator_id) == operator_id, Site.active)",
        "ok = row is not None and row.operator_id != operator_id",
        "ok = row.operator_id is operator_id",
        "ok = row.operator_id in (1, 2)",
        "query.where(Episode.operator_id.in_(ids))",
        "query.where(col(LoginAlert.operator_id).is_(None))",
        "select(Operator).where(Operator.id == operator_id)",
        "session.query(Case).filter_by(operator_id=operator_id)",
        "join(Partner, Partner.operator_id == Site.operator_id)",
    ],
)
def test_a_hand_written_comparison_is_caught(line):
    assert hand_written_scopes(f"x = 1\n{line}\n") == [2]


@pytest.mark.parametrize(
    "line",
    [
        "case = Case(operator_id=operator_id, status='open')",
        "sites = list_sites(session=session, operator_id=case.operator_id)",
        "query.where(owned_by(Case, operator_of(actor)))",
        "select(Case.operator_id, func.count()).group_by(Case.operator_id)",
        "operator = session.get(Operator, case.operator_id)",
        "row.operator_id = operator_id",
        "scope = [] if self.operator_id is None else [owned_by(Case, self.operator_id)]",
    ],
)
def test_giving_a_row_its_operator_or_passing_it_on_is_not_a_comparison(line):
    assert hand_written_scopes(line) == []


def test_no_service_or_route_compares_an_operator_by_hand():
    """The scope is app/services/access/scope.py's `owned_by`, `readable`, `get_owned` or
    `load_owned`; a comparison written anywhere else would be a second scope to keep right."""
    scanned = {
        folder: [path for path in sorted((APP / folder).rglob("*.py")) if path != SCOPE_MODULE]
        for folder in SCOPED_CODE
    }
    assert all(scanned.values()), scanned  # a folder moved away would be scanned for nothing
    assert SCOPE_MODULE.is_file()
    found = [
        f"{path.relative_to(APP.parent)}:{line}"
        for paths in scanned.values()
        for path in paths
        for line in hand_written_scopes(path.read_text(encoding="utf-8"))
    ]
    assert found == []
