"""No bare state literal in services, routes or templates: they compare, set and offer states
through the enums defined beside the tables (`AppointmentStatus.CANCELLED`, not "cancelled"),
which the database's check constraints are written from."""

import ast
from pathlib import Path

from jinja2 import nodes

from app.web.rendering import STATES, templates

APP = Path(__file__).resolve().parents[1] / "app"
STATE_VALUES = {state.value for states in STATES.values() for state in states}
# Names that hold something other than a state, though a value may read like one: which date
# a list of referrals shows ("sent" or "follow_up").
NOT_STATES = {"date_kind"}


def _is_state(node) -> bool:
    """A string literal naming a state, alone or in a tuple, list or set of them."""
    if isinstance(node, ast.Constant | nodes.Const):
        return isinstance(node.value, str) and node.value in STATE_VALUES
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return any(_is_state(item) for item in node.elts)
    if isinstance(node, nodes.Tuple | nodes.List):
        return any(_is_state(item) for item in node.items)
    return False


def _names_a_state(name: str | None) -> bool:
    return bool(name) and (name.endswith("status") or name == "acknowledgement_method")


def _target_name(node) -> str | None:
    """The variable or attribute an expression reads (`a.status` → "status"), Python or Jinja."""
    for field in ("attr", "id", "name"):
        if isinstance(getattr(node, field, None), str):
            return getattr(node, field)
    return None


def _compared(sides: list) -> list:
    if any(_target_name(side) in NOT_STATES for side in sides):
        return []
    return [side for side in sides if _is_state(side)]


def _python_literals(tree: ast.AST) -> list[ast.AST]:
    """State literals compared (`==`, `in`, `.in_()`), assigned to a status, passed as one
    (`status="booked"`), given as a status's default, chosen as one (`"a" if x else "b"`) or
    used as a key (`{"booked": …}`)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            found += _compared([node.left, *node.comparators])
        elif isinstance(node, ast.Dict):
            found += [key for key in node.keys if key is not None and _is_state(key)]
        elif isinstance(node, ast.Call):
            if _target_name(node.func) in ("in_", "not_in", "notin_", "get"):
                found += [arg for arg in node.args if _is_state(arg)]
            found += [
                k.value for k in node.keywords if _names_a_state(k.arg) and _is_state(k.value)
            ]
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(_names_a_state(_target_name(t)) for t in targets) and _is_state(node.value):
                found.append(node.value)
        elif isinstance(node, ast.arguments):
            positional = [*node.posonlyargs, *node.args]
            with_default = positional[len(positional) - len(node.defaults) :]
            pairs = [
                *zip(with_default, node.defaults, strict=True),
                *zip(node.kwonlyargs, node.kw_defaults, strict=True),
            ]
            found += [
                d for a, d in pairs if d is not None and _names_a_state(a.arg) and _is_state(d)
            ]
        elif isinstance(node, ast.IfExp) and _is_state(node.body) and _is_state(node.orelse):
            found.append(node.body)
    return found


def _template_literals(tree: nodes.Template) -> list[nodes.Node]:
    """State literals compared, used as keys, or passed to a macro, a method or a filter
    (`values.get("status", "todo")`, `status_form(r, p, "sent", …)`). Plain HTML (`<details
    open>`) is not an expression and is not read."""
    found = []
    for node in tree.find_all((nodes.Compare, nodes.Dict, nodes.Call, nodes.Filter)):
        if isinstance(node, nodes.Compare):
            found += _compared([node.expr, *(op.expr for op in node.ops)])
        elif isinstance(node, nodes.Dict):
            found += [pair.key for pair in node.items if _is_state(pair.key)]
        else:
            found += [arg for arg in node.args if _is_state(arg)]
            found += [k.value for k in node.kwargs if _is_state(k.value)]
    return found


def _shown(node) -> str:
    if isinstance(node, ast.AST):
        return ast.unparse(node)
    return repr(node.value if isinstance(node, nodes.Const) else tuple(e.value for e in node.items))


def _python_files():
    """The app but its demo and the benchmark's generator, which write rows of sample data."""
    yield from sorted(APP.glob("*.py"))
    for package in ("models", "services", "routes", "web"):
        yield from sorted((APP / package).rglob("*.py"))


def test_no_bare_state_literal_in_the_python_code():
    paths = list(_python_files())
    # Each scanned package has modules: a package moved away would be scanned for nothing.
    assert {path.relative_to(APP).parts[0] for path in paths if path.parent != APP} == {
        "models",
        "services",
        "routes",
        "web",
    }
    bare = [
        f"{path.relative_to(APP.parent)}:{node.lineno}: {_shown(node)}"
        for path in paths
        for node in _python_literals(ast.parse(path.read_text()))
    ]
    assert not bare, "use the state enums (app/models):\n" + "\n".join(bare)


def test_no_bare_state_literal_in_templates():
    bare = []
    paths = sorted((APP / "templates").rglob("*.html"))
    assert paths, "no template found"
    for path in paths:
        tree = templates.env.parse(path.read_text())
        bare += [
            f"{path.relative_to(APP.parent)}:{node.lineno}: {_shown(node)}"
            for node in _template_literals(tree)
        ]
    assert not bare, "compare with the enums the templates know (STATES):\n" + "\n".join(bare)


def test_the_scans_find_what_they_look_for():
    python = """
if a.status == "booked" or status in ("honoured", "no_show"):
    query.where(col(Appointment.status).in_(("cancelled",)))
appointment.status = "cancelled"
move(referral, to_status="sent")
def mark(status="excused"): ...
answered = "accepted" if accept else "declined"
counts.get("honoured", 0)
labels = {"draft": "Brouillon"}
"""
    assert sorted(_shown(n) for n in _python_literals(ast.parse(python))) == [
        "'accepted'",
        "'booked'",
        "'cancelled'",
        "'draft'",
        "'excused'",
        "'honoured'",
        "'sent'",
        "('cancelled',)",
        "('honoured', 'no_show')",
    ]
    template = """<details open><p class="sent">{% if a.status == "cancelled" %}{{ f("draft") }}
{% endif %}{{ values.get("status", "todo") }}{{ x|label("ReferralStatus") }}</p></details>
{{ {"ready": "open"}[c.status] }}"""
    found = _template_literals(templates.env.parse(template))
    assert sorted(_shown(n) for n in found) == ["'cancelled'", "'draft'", "'ready'", "'todo'"]


def test_unrelated_strings_are_left_alone():
    python = """
kind = "sent"
list_page(date_kind="sent")
event.add("status", "CANCELLED")
if mode == "on_site" and by == "beneficiary": ...
shown = "Envoyée le" if date_kind == "sent" else "Relance prévue le"
"""
    assert _python_literals(ast.parse(python)) == []
    template = """<details open class="open sent">{% if date_kind == "sent" %}{{ r.sent_at }}
{% endif %}<input type="hidden" name="to" value="{{ ReferralStatus.SENT }}"></details>"""
    assert _template_literals(templates.env.parse(template)) == []
