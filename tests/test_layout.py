"""The folders show the architecture: arrows go routes -> services -> models/core, never up,
and no module imports itself back through another (../shared/DESIGN.md §4)."""

import ast
from pathlib import Path

APP = Path(__file__).resolve().parents[1] / "app"

# What each layer may import from the app, besides itself.
ALLOWED = {
    "app.core": {"app.core"},
    "app.models": {"app.core", "app.models"},
    "app.services": {"app.core", "app.models", "app.services"},
    "app.demo": {"app.core", "app.models", "app.services", "app.demo"},
    "app.synthetic": {"app.core", "app.models", "app.services", "app.demo", "app.synthetic"},
    "app.web": {"app.core", "app.models", "app.services", "app.web"},
    "app.routes": {"app.core", "app.models", "app.services", "app.web", "app.routes"},
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(APP.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every app module the file imports, at the top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("app"):
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("app"))
    return found


def _graph() -> dict[str, set[str]]:
    modules = {_module_name(path): path for path in APP.rglob("*.py")}
    return {name: {m for m in _imports(path) if m in modules} for name, path in modules.items()}


def _layer(module: str) -> str | None:
    return next(
        (layer for layer in ALLOWED if module == layer or module.startswith(layer + ".")), None
    )


def test_every_layer_has_modules_and_the_graph_has_arrows():
    """The checks below read this graph: a layer of no module would be checked for nothing."""
    graph = _graph()
    assert {_layer(module) for module in graph} >= set(ALLOWED)
    assert "app.models" in graph["app.services.cases.lifecycle"] or any(
        target.startswith("app.models.") for target in graph["app.services.cases.lifecycle"]
    )


def test_no_layer_imports_one_above_it():
    wrong = []
    for module, imported in _graph().items():
        layer = _layer(module)
        if layer is None:
            continue  # the entry points (main, cli, worker) assemble everything
        wrong += [
            f"{module} -> {target}"
            for target in imported
            if _layer(target) not in ALLOWED[layer] and target != "app"
        ]
    assert not wrong, "\n".join(sorted(wrong))


def test_services_are_grouped_by_domain():
    for folder in ("services", "routes"):
        assert [path for path in (APP / folder).iterdir() if (path / "__init__.py").is_file()]
    loose = [path.name for path in (APP / "services").glob("*.py") if path.name != "__init__.py"]
    assert not loose, loose
    loose = [path.name for path in (APP / "routes").glob("*.py") if path.name != "__init__.py"]
    assert not loose, loose


def test_no_import_cycles():
    graph = _graph()
    # A package's __init__ is imported by its modules' importers: skip those edges.
    edges = {
        m: {t for t in targets if t != m and not m.startswith(t + ".")}
        for m, targets in graph.items()
    }
    cycles, state = [], {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = "open"
        for target in sorted(edges.get(node, ())):
            if state.get(target) == "open":
                cycles.append(" -> ".join([*stack[stack.index(target) :], target]))
            elif target not in state:
                visit(target, [*stack, target])
        state[node] = "done"

    for module in sorted(edges):
        if module not in state:
            visit(module, [module])
    assert not cycles, "\n".join(cycles)
