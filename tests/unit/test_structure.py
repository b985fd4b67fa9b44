"""The package's shape: no import cycle (imports inside functions count too), modules of a readable size."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "qa"
MAX_LINES = 250  # a longer module says why in its docstring ("longer than" ...)


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports() -> dict[str, set[str]]:
    """Each ``qa`` module and the ``qa`` modules it imports anywhere in its code."""
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        found = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("qa"):
                found |= {f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in modules else node.module for a in node.names}
            elif isinstance(node, ast.Import):
                found |= {a.name for a in node.names if a.name.startswith("qa")}
        graph[name] = {m for m in found if m in modules and m != name}
    return graph


def test_no_import_cycle():
    graph = imports()
    done, path = set(), []

    def visit(module: str) -> None:
        if module in path:
            raise AssertionError("import cycle: " + " -> ".join(path[path.index(module):] + [module]))
        if module in done:
            return
        path.append(module)
        for other in sorted(graph[module]):
            visit(other)
        path.pop()
        done.add(module)

    for module in sorted(graph):
        visit(module)


def test_modules_stay_readable():
    long = [
        f"{p.relative_to(ROOT)}: {n} lines"
        for p in PACKAGE.rglob("*.py")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES and "longer than" not in (ast.get_docstring(ast.parse(p.read_text(encoding="utf-8"))) or "")
    ]
    assert not long, long


# The data path, bottom up: a module may import its own layer and those below it, never above.
# Reading and retrieval are siblings (neither imports the other); evaluation and training sit
# beside the front ends, above everything the answering path is made of.
LAYERS = (
    ("qa.types",),
    ("qa.text",),
    ("qa.ingest",),
    ("qa.encoders",),
    ("qa.settings",),
    ("qa.retrieval", "qa.reading"),
    ("qa.answering",),
    ("qa.conversation",),
    ("qa.assistant", "qa.reader", "qa"),
    ("qa.evaluation", "qa.training"),
    ("qa.frontends",),
    ("qa.__main__",),
)
ROOT_MODULES = 8  # the package root holds the public entry points only


def layer_of(module: str) -> tuple[int, str]:
    """The layer index of ``module`` and the prefix that placed it there (longest first)."""
    found = [(len(prefix), i, prefix) for i, prefixes in enumerate(LAYERS) for prefix in prefixes if module == prefix or module.startswith(prefix + ".")]
    assert found, f"{module} is in no layer: add its package to LAYERS"
    _, index, prefix = max(found)
    return index, prefix


def test_imports_follow_the_data_path():
    against = []
    for module, imported in imports().items():
        here, own = layer_of(module)
        for other in imported:
            there, theirs = layer_of(other)
            if there > here or (there == here and own != theirs and "qa" not in (own, theirs)):
                against.append(f"{module} -> {other}")
    assert not against, against


def test_reading_never_imports_answering_and_the_answering_path_never_imports_evaluation_or_training():
    graph = imports()
    answering_path = [m for m in graph if layer_of(m)[0] < layer_of("qa.evaluation")[0]]
    assert not [m for m in graph if m.startswith("qa.reading") and any(o.startswith("qa.answering") for o in graph[m])]
    assert not [(m, o) for m in answering_path for o in graph[m] if o.startswith(("qa.evaluation", "qa.training", "qa.frontends"))]


def test_the_package_root_holds_only_the_entry_points():
    modules = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(modules) <= ROOT_MODULES, modules
