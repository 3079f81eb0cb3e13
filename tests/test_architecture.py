"""The house keeps its shape: the parts of docs/architecture.md and the one-way directions between them, read from
the import statements of every module of the package (no module is imported to check this).

Rules (../shared/docs/architecture.md): core imports nothing of the package; every part imports only the parts
below it; nothing imports the CLI; only the cross-check reaches the R side among the checks; no import circles; no
intra-package import hidden inside a function; no private name taken from another module.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "qvalid"

#: part -> module name prefixes (longest prefix wins). The package's face (qvalid/__init__.py) re-exports the public
#: names and is not a part.
PARTS = {
    "core": ("qvalid.core",),
    "model": ("qvalid.study", "qvalid.options", "qvalid.results", "qvalid.errors", "qvalid.diagnostics",
              "qvalid.numbers", "qvalid.jsonable", "qvalid.chunks", "qvalid._version"),
    "pipeline": ("qvalid.pipeline",),
    "io": ("qvalid.io",),
    "r": ("qvalid.r",),
    "simulation": ("qvalid.simulate",),
    "checks": ("qvalid.checks",),
    "analyses": ("qvalid.stability", "qvalid.factors"),
    "report": ("qvalid.report",),
    "cli": ("qvalid.cli", "qvalid.__main__"),
    "kit": ("qvalid.testing", "qvalid.strategies", "qvalid.datasets", "qvalid.pytest_plugin"),
}
#: part -> the parts it may import (besides itself).
MAY_IMPORT = {
    "core": set(),
    "model": {"core"},
    "pipeline": {"core", "model"},
    "io": {"core", "model"},
    "r": {"core", "model"},
    "simulation": {"core", "model"},
    "checks": {"core", "model", "pipeline", "io", "r", "simulation"},
    "analyses": {"core", "model", "pipeline", "io", "simulation"},
    "report": {"core", "model", "pipeline", "io", "r", "simulation", "checks", "analyses"},
    "cli": {"core", "model", "pipeline", "io", "r", "simulation", "checks", "analyses", "report", "kit"},
    "kit": {"core", "model", "pipeline", "io", "r", "simulation", "checks"},
}
#: Within a part, one-way directions: (importer prefix, imported prefix) pairs that must not exist.
NEVER = [("qvalid.stability", "qvalid.factors"),  # factors uses the bootstrap, never the reverse
         ("qvalid.checks", "qvalid.r")]  # only the cross-check reaches R (allowed below)
ALLOWED_EXCEPTIONS = {("qvalid.checks.crosscheck", "qvalid.r")}


def _name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _modules():
    out = {}
    for p in sorted(PKG.rglob("*.py")):
        out[_name(p)] = (p, ast.parse(p.read_text(encoding="utf-8")))
    return out


MODULES = _modules()


def _target(me: str, is_pkg: bool, node: ast.ImportFrom) -> list[str]:
    """The absolute qvalid modules an ImportFrom names (``from . import x`` names the submodule x when there is
    one)."""
    if node.level:
        base = me.split(".") if is_pkg else me.split(".")[:-1]
        base = base[: len(base) - node.level + 1]
        mod = ".".join(base + ([node.module] if node.module else []))
    else:
        mod = node.module or ""
    if not mod.startswith("qvalid"):
        return []
    subs = [f"{mod}.{a.name}" for a in node.names if f"{mod}.{a.name}" in MODULES]
    return subs or [mod]


def _imports():
    """module -> [(imported module, line, inside a function, names)]"""
    out = {}
    for me, (path, tree) in MODULES.items():
        is_pkg = path.name == "__init__.py"
        inner = {id(n) for fn in ast.walk(tree) if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef))
                 for n in ast.walk(fn)}
        deps = []
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                for t in _target(me, is_pkg, node):
                    deps.append((t, node.lineno, id(node) in inner, [a.name for a in node.names]))
            elif isinstance(node, ast.Import):
                for a in node.names:
                    if a.name.startswith("qvalid"):
                        deps.append((a.name, node.lineno, id(node) in inner, []))
        out[me] = deps
    return out


IMPORTS = _imports()


def part_of(module: str) -> str | None:
    best = None
    for part, prefixes in PARTS.items():
        for p in prefixes:
            if (module == p or module.startswith(p + ".")) and (best is None or len(p) > len(best[1])):
                best = (part, p)
    return None if best is None else best[0]


def test_every_module_belongs_to_a_part():
    loose = [m for m in MODULES if m != "qvalid" and part_of(m) is None]
    assert not loose, f"modules of no part (add them to PARTS and docs/architecture.md): {loose}"


def test_parts_import_only_the_parts_below_them():
    bad = []
    for me, deps in IMPORTS.items():
        mine = part_of(me)
        if mine is None:
            continue
        for dep, line, _, _ in deps:
            theirs = part_of(dep)
            if dep == "qvalid" or theirs is None or theirs == mine:
                continue
            if theirs not in MAY_IMPORT[mine]:
                bad.append(f"{me}:{line} ({mine}) imports {dep} ({theirs})")
    assert not bad, "imports against the direction of the house:\n" + "\n".join(bad)


def test_directions_within_parts():
    bad = []
    for me, deps in IMPORTS.items():
        for dep, line, _, _ in deps:
            for a, b in NEVER:
                if me.startswith(a) and (dep == b or dep.startswith(b + ".")) and not any(
                        me.startswith(x) and dep.startswith(y) for x, y in ALLOWED_EXCEPTIONS):
                    bad.append(f"{me}:{line} imports {dep}")
    assert not bad, "\n".join(bad)


def test_the_package_face_imports_no_cli_and_core_nothing():
    assert all(not d.startswith("qvalid.cli") for d, *_ in IMPORTS["qvalid"])
    for me, deps in IMPORTS.items():
        if part_of(me) == "core":
            assert all(part_of(d) == "core" for d, *_ in deps), me


def test_no_intra_package_import_inside_functions():
    hidden = [f"{me}:{line} -> {dep}" for me, deps in IMPORTS.items() for dep, line, inner, _ in deps if inner]
    assert not hidden, "lazy imports are for heavy third-party packages only:\n" + "\n".join(hidden)


def test_no_private_name_taken_from_another_module():
    bad = [f"{me}:{line} takes {dep}.{n}" for me, deps in IMPORTS.items() for dep, line, _, names in deps
           for n in names if n.startswith("_") and not n.startswith("__") and dep != me]
    assert not bad, "\n".join(bad)


def test_no_import_circles():
    graph = {me: {d for d, *_ in deps if d in MODULES and d != me and d != "qvalid"}
             for me, deps in IMPORTS.items()}
    # a package's __init__ importing its own submodules is not a circle with them (Python loads the package first)
    circles = []
    state: dict = {}

    def visit(m, stack):
        state[m] = 1
        stack.append(m)
        for d in sorted(graph.get(m, ())):
            if state.get(d) == 1:
                cyc = stack[stack.index(d):]
                if not all(x == d or x.startswith(d + ".") for x in cyc):
                    circles.append(" -> ".join(cyc + [d]))
            elif d not in state:
                visit(d, stack)
        stack.pop()
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [])
    assert not circles, "import circles:\n" + "\n".join(circles)


@pytest.mark.parametrize("module", ["qvalid", "qvalid.pipeline", "qvalid.core.extract"])
def test_rule_checks_can_fail(module):
    """The reader above sees the package: each of these modules has imports (so an empty graph cannot pass)."""
    assert IMPORTS[module], module
