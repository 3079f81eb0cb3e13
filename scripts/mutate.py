#!/usr/bin/env python3
"""A small AST mutation tester for qvalid's numerical core (not part of CI; see docs/mutation.md).

It lists every mutation site of the core modules, samples ``-n`` of them with a fixed seed, and for each mutant
runs the fast test subset against a copy of the package that contains the mutant. Mutants run one after the other
(the machine has 2 shared cores): each in a fresh temporary copy of ``qvalid/``, put on ``PYTHONPATH`` and run with ``python -P`` (no current
directory on ``sys.path``) so that it shadows the worktree and the editable install (``--baseline`` checks this),
without bytecode caches. A mutant is *killed* when the subset fails (or times out),
*survives* when it passes.

Mutation operators:

- ``cmp``: a comparison flipped (``<`` <-> ``<=``, ``>`` <-> ``>=``, ``==`` <-> ``!=``, ``in`` <-> ``not in``,
  ``is`` <-> ``is not``);
- ``const``: a number tweaked (int n -> n + 1 and n - 1; float x -> 1.1 x, 0.0 -> 1.0);
- ``binop``: an arithmetic or bitwise operator swapped (+ <-> -, * <-> /, // -> /, ** -> *, & <-> |, @ -> *),
  ``and`` <-> ``or``, a unary ``not`` or ``-`` dropped;
- ``delete``: a ``raise`` or a warning (``.append(QWarning(...))``) or an augmented assignment (``ok &= ...``)
  replaced by ``pass``;
- ``early``: an ``if`` condition forced to True or to False (guards that return early always / never).

Skipped: docstrings and other string constants, the inside of f-strings (message formatting only), type
annotations (never evaluated) and ``__all__``.

The test subset is every test not marked ``r`` (``-m "not r"``): the hand-computed cases, the golden files (R's
outputs stored, no R needed), the warnings and refusals, the properties (profile ``ci``), I/O, CLI and validation.
It is representative because everything the live-R tests check of qvalid's own numbers is also checked against
the stored R outputs of the golden files; the R tests add the live bridge, which is not under mutation. It runs in
about 12 s; with ``-x`` a killed mutant usually stops much earlier.

Usage::

    .venv/bin/python scripts/mutate.py -n 200 --seed 14 --out mutants.jsonl     # sample and run
    .venv/bin/python scripts/mutate.py --list | wc -l                          # number of sites
    .venv/bin/python scripts/mutate.py --show 'qvalid/core/flag.py:45:cmp:0'        # the diff of one mutant
    .venv/bin/python scripts/mutate.py --only ID [--only ID ...]               # re-run given mutants
"""

from __future__ import annotations

import argparse
import ast
import difflib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: The default modules: the numerical core and the model and pipeline around it (``--modules`` picks others, e.g.
#: ``--modules 'qvalid/stability/*.py'``).
CORE = ("qvalid/core/*.py", "qvalid/pipeline.py", "qvalid/study.py", "qvalid/options.py", "qvalid/chunks.py",
        "qvalid/jsonable.py")
PYTEST = ["-P", "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", "-m", "not r", "tests"]

CMP_FLIP = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq,
            ast.NotEq: ast.Eq, ast.In: ast.NotIn, ast.NotIn: ast.In, ast.Is: ast.IsNot, ast.IsNot: ast.Is}
BIN_SWAP = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult, ast.FloorDiv: ast.Div,
            ast.Pow: ast.Mult, ast.BitAnd: ast.BitOr, ast.BitOr: ast.BitAnd, ast.MatMult: ast.Mult,
            ast.Mod: ast.FloorDiv}


@dataclass(frozen=True)
class Site:
    path: str      # relative to ROOT
    line: int
    kind: str
    index: int     # position among the sites of this kind on this line
    what: str

    @property
    def id(self) -> str:
        return f"{self.path}:{self.line}:{self.kind}:{self.index}"


def _skip_nodes(tree: ast.AST) -> set[int]:
    """ids of nodes never mutated: docstrings, f-string insides, ``__all__``."""
    skip = set()
    for node in ast.walk(tree):
        for ann in (getattr(node, "annotation", None), getattr(node, "returns", None)):
            if ann is not None:  # annotations are never evaluated (from __future__ import annotations)
                skip.update(id(n) for n in ast.walk(ann))
        if isinstance(node, ast.JoinedStr) or (isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets)):
            skip.update(id(n) for n in ast.walk(node))
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef)) and node.body and \
                isinstance(node.body[0], ast.Expr) and isinstance(getattr(node.body[0], "value", None), ast.Constant):
            skip.update(id(n) for n in ast.walk(node.body[0]))
    return skip


def _is_warning_append(node: ast.stmt) -> bool:
    return (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)
            and isinstance(node.value.func, ast.Attribute) and node.value.func.attr == "append"
            and any(isinstance(a, ast.Call) and getattr(a.func, "id", "") == "QWarning" for a in node.value.args))


def _mutations(node: ast.AST):
    """(kind, description, mutate) for one node; ``mutate`` edits a copy of the node in place or returns a node."""
    out = []
    if isinstance(node, ast.Compare):
        for i, op in enumerate(node.ops):
            if type(op) in CMP_FLIP:
                new = CMP_FLIP[type(op)]

                def m(n, i=i, new=new):
                    n.ops[i] = new()
                out.append(("cmp", f"{type(op).__name__} -> {new.__name__}", m))
    elif isinstance(node, ast.Constant) and type(node.value) in (int, float):
        v = node.value
        alts = [v + 1, v - 1] if isinstance(v, int) else [v * 1.1 if v else 1.0]
        for alt in alts:
            def m(n, alt=alt):
                n.value = alt
            out.append(("const", f"{v!r} -> {alt!r}", m))
    elif isinstance(node, ast.BinOp) and type(node.op) in BIN_SWAP:
        new = BIN_SWAP[type(node.op)]

        def m(n, new=new):
            n.op = new()
        out.append(("binop", f"{type(node.op).__name__} -> {new.__name__}", m))
    elif isinstance(node, ast.BoolOp):
        new = ast.Or if isinstance(node.op, ast.And) else ast.And

        def m(n, new=new):
            n.op = new()
        out.append(("binop", f"{type(node.op).__name__} -> {new.__name__}", m))
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.Not, ast.USub)):
        out.append(("binop", f"drop unary {type(node.op).__name__}", lambda n: n.operand))
    elif isinstance(node, ast.Raise) or _is_warning_append(node) or isinstance(node, ast.AugAssign):
        what = "raise" if isinstance(node, ast.Raise) else "warning" if _is_warning_append(node) else "augassign"
        out.append(("delete", f"delete {what}", lambda n: ast.Pass()))
    if isinstance(node, ast.If):
        for value in (True, False):
            def m(n, value=value):
                n.test = ast.Constant(value)
            out.append(("early", f"if condition -> {value}", m))
    return out


def sites(paths) -> list[tuple[Site, object]]:
    out = []
    for path in paths:
        tree = ast.parse((ROOT / path).read_text())
        skip = _skip_nodes(tree)
        counter = {}
        for node in ast.walk(tree):
            if id(node) in skip or not hasattr(node, "lineno"):
                continue
            for kind, what, fn in _mutations(node):
                key = (node.lineno, kind)
                counter[key] = counter.get(key, -1) + 1
                out.append((Site(path, node.lineno, kind, counter[key], what), fn))
    return out


def mutant_source(site: Site, fn) -> str:
    """The module's source with this one mutation applied (sites are re-found by walking in the same order)."""
    tree = ast.parse((ROOT / site.path).read_text())
    skip = _skip_nodes(tree)
    counter = {}
    # ast.walk is breadth-first; enumerate sites in that order first, then apply by identity
    order = [n for n in ast.walk(tree)]
    target = None
    for node in order:
        if id(node) in skip or not hasattr(node, "lineno"):
            continue
        for kind, what, f in _mutations(node):
            key = (node.lineno, kind)
            counter[key] = counter.get(key, -1) + 1
            if (node.lineno, kind, counter[key]) == (site.line, site.kind, site.index):
                assert what == site.what, (what, site.what)
                target = (node, f)
    assert target is not None, site
    node, f = target

    class Replace(ast.NodeTransformer):
        def visit(self, n):
            if n is node:
                new = f(n)
                return ast.copy_location(new, n) if new is not None else n
            return super().visit(n)

    tree = ast.fix_missing_locations(Replace().visit(tree))
    return ast.unparse(tree)


def run_one(site: Site | None, fn, timeout: float, paths=(), tests=("tests",), with_r: bool = False) -> dict:
    """Run the subset on a copy of the package holding the mutant (``site=None``: the baseline, every module of
    ``paths`` only re-printed by ``ast.unparse``, which must pass)."""
    with tempfile.TemporaryDirectory(prefix="qvalid-mutant-") as tmp:
        shutil.copytree(ROOT / "qvalid", Path(tmp) / "qvalid", ignore=shutil.ignore_patterns("__pycache__"))
        if site is None:
            for m in paths:
                (Path(tmp) / m).write_text(ast.unparse(ast.parse((ROOT / m).read_text())))
        else:
            (Path(tmp) / site.path).write_text(mutant_source(site, fn))
        env = dict(os.environ, PYTHONPATH=tmp, PYTHONDONTWRITEBYTECODE="1", QVALID_ALLOW_NO_R="1")
        env.pop("QVALID_HYPOTHESIS_PROFILE", None)
        if site is None:  # the copy, not the worktree, must be what the tests import
            where = subprocess.run([sys.executable, "-P", "-c", "import qvalid; print(qvalid.__file__)"], cwd=ROOT,
                                   env=env, capture_output=True, text=True).stdout.strip()
            assert where.startswith(tmp), f"the tests would import {where}, not the mutant copy"
        marks = [] if with_r else PYTEST[-3:-1]  # -m "not r", unless the live-R tests are wanted too
        status, out, seconds = run_tests([sys.executable, *PYTEST[:-3], *marks, *tests], env, timeout)
    return {"id": site.id if site else "baseline", "what": site.what if site else "", "status": status,
            "seconds": seconds, "by": killed_by(status, out)}


def run_tests(cmd, env, timeout: float) -> tuple:
    """Run a test command in its own session from the checkout; ``(status, output, seconds)``: ``killed`` when it
    fails or runs out of time (the whole session is then killed), ``survived`` when it passes. ``PYTHONSAFEPATH``
    keeps the checkout off ``sys.path`` in every Python the tests start too (``python -c``, pool and dask workers),
    so that they import the mutant copy on ``PYTHONPATH``. Shared with ``scripts/mutate_c.py``."""
    env = dict(env, PYTHONSAFEPATH="1")
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
        status = "survived" if proc.returncode == 0 else "killed"
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        status, out = "killed", out + "\nTIMEOUT"
    return status, out, round(time.monotonic() - t0, 1)


def killed_by(status: str, out: str) -> str:
    """The first failing test of a run's output (or "timeout", or its last line)."""
    failed = [ln.split(" - ")[0] for ln in out.splitlines() if ln.startswith(("FAILED", "ERROR"))]
    return failed[0] if failed else ("timeout" if out.endswith("TIMEOUT") else
                                     (out.strip().splitlines() or [""])[-1][:120] if status == "killed" else "")


def show(site: Site, fn) -> str:
    before = ast.unparse(ast.parse((ROOT / site.path).read_text())).splitlines()
    after = mutant_source(site, fn).splitlines()
    return "\n".join(difflib.unified_diff(before, after, site.path, f"{site.id} ({site.what})", n=2, lineterm=""))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-n", type=int, default=200, help="number of mutants to sample (default 200)")
    ap.add_argument("--seed", type=int, default=14)
    ap.add_argument("--timeout", type=float, default=180.0, help="seconds per mutant (default 180)")
    ap.add_argument("--out", type=Path, help="append one JSON line per mutant here")
    ap.add_argument("--list", action="store_true", help="print every site and exit")
    ap.add_argument("--show", action="append", default=[], metavar="ID", help="print the diff of a mutant")
    ap.add_argument("--only", action="append", default=[], metavar="ID", help="run only these mutants")
    ap.add_argument("--baseline", action="store_true", help="run the unmutated (re-printed) core once and exit")
    ap.add_argument("--skip", type=Path, help="a JSONL file of mutants already run: do not run them again")
    ap.add_argument("--modules", nargs="+", default=list(CORE), metavar="GLOB",
                    help="modules to mutate, as paths or globs relative to the repository (default: the core, "
                         "pipeline, study, options, chunks, jsonable)")
    ap.add_argument("--tests", nargs="+", default=["tests"], metavar="PATH",
                    help="test files (or node ids) to run per mutant (default: the whole non-R suite); a subset makes "
                         "runs on one module affordable, at the risk of counting as survivors mutants that other "
                         "files would kill")
    ap.add_argument("--with-r", action="store_true",
                    help="also run the tests marked r (live R; for modules only those reach, e.g. qvalid/r/)")
    args = ap.parse_args(argv)

    paths = sorted({str(p.relative_to(ROOT)) for g in args.modules for p in ROOT.glob(g)
                    if p.suffix == ".py" and p.name != "__init__.py"})
    every = sites(paths)
    by_id = {s.id: (s, f) for s, f in every}
    if args.list:
        for s, _ in every:
            print(s.id, s.what)
        return 0
    if args.show:
        for i in args.show:
            print(show(*by_id[i]))
        return 0
    if args.baseline:
        res = run_one(None, None, args.timeout, paths, args.tests, args.with_r)
        print(json.dumps(res))
        return 0 if res["status"] == "survived" else 1
    if args.only:
        chosen = [by_id[i] for i in args.only]
    else:
        chosen = random.Random(args.seed).sample(every, min(args.n, len(every)))
    if args.skip and args.skip.exists():
        done = {json.loads(ln)["id"] for ln in args.skip.read_text().splitlines() if ln.strip()}
        chosen = [c for c in chosen if c[0].id not in done]
    print(f"{len(every)} sites in {len(paths)} modules ({', '.join(args.modules)}); running {len(chosen)} mutant(s)",
          file=sys.stderr)
    run_all(chosen, lambda c: run_one(*c, args.timeout, tests=args.tests, with_r=args.with_r),
            lambda c: f"{c[0].id} ({c[0].what})", args.out)
    return 0


def run_all(chosen, run, label, out=None, statuses=("killed", "survived")) -> dict:
    """Run every mutant in ``chosen`` (``run(item)`` -> a result with ``status``, ``seconds``, ``by``), printing one
    line each (``label(item)``) and appending the results to ``out`` (JSON lines); returns and prints the counts.
    Shared with ``scripts/mutate_c.py``."""
    counts = dict.fromkeys(statuses, 0)
    for n, item in enumerate(chosen, 1):
        res = run(item)
        counts[res["status"]] += 1
        print(f"[{n}/{len(chosen)}] {res['status']:<8} {res['seconds']:6.1f}s {label(item)} {res['by']}",
              file=sys.stderr, flush=True)
        if out:
            with out.open("a") as fh:
                fh.write(json.dumps(res) + "\n")
    print(json.dumps(counts), file=sys.stderr)
    return counts


if __name__ == "__main__":
    sys.exit(main())
