#!/usr/bin/env python3
"""A small text mutation tester for qvalid's compiled kernels, ``qvalid/core/ckernels.c`` (not part of CI; see
docs/mutation.md). The companion of ``scripts/mutate.py``, which mutates the Python modules.

It lists the mutation sites of the C file (code only: comments, strings and preprocessor lines are left alone),
samples ``-n`` of them with a fixed seed, and for each mutant compiles the mutated file with the flags of
``setup.py`` into a fresh copy of ``qvalid/`` and runs the given tests against that copy (``PYTHONPATH`` plus
``python -P``, ``CI=1`` so that a kernel which the import-time check switches off fails
``test_the_compiled_kernels_are_built_and_on``). A mutant is *killed* when the tests fail, crash or time out,
*survives* when they pass, and is *invalid* when it does not compile (not counted).

Operators: a comparison flipped (``<`` <-> ``<=``, ``>`` <-> ``>=``, ``==`` <-> ``!=``), ``+`` <-> ``-`` (binary,
also ``+=`` <-> ``-=``), ``/`` -> ``*``, ``&&`` <-> ``||``, a number tweaked (an integer n -> n + 1, a float
x -> 1.1 x, 0.0 -> 1.0).

Usage::

    .venv/bin/python scripts/mutate_c.py --list | wc -l
    .venv/bin/python scripts/mutate_c.py -n 60 --seed 24 --out c.jsonl --tests tests/test_kernels.py ...
    .venv/bin/python scripts/mutate_c.py --show 412:cmp:0
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import random
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from mutate import killed_by, run_all, run_tests  # noqa: E402  (shared with the Python mutation tester)
SOURCE = ROOT / "qvalid" / "core" / "ckernels.c"
FLAGS = ["-O2", "-ffp-contract=off", "-fno-fast-math", "-std=c99", "-fPIC", "-shared"]

CMP = {"<=": "<", ">=": ">", "==": "!=", "!=": "==", "<": "<=", ">": ">="}
TOKEN = re.compile(r"(?P<num>(?<![\w.])(?:\d+\.\d*(?:[eE][-+]?\d+)?|\d+[eE][-+]?\d+|\d+)(?![\w.]))"
                   r"|(?P<op>&&|\|\||<=|>=|==|!=|\+=|-=|->|\+\+|--|<<|>>|[<>+\-/])")


def _code_mask(text: str) -> list[bool]:
    """True for characters of code (not in a comment, a string or character literal, or a preprocessor line)."""
    mask = [True] * len(text)
    i, n = 0, len(text)
    line_start = True
    while i < n:
        c = text[i]
        if line_start and text[i:].lstrip(" \t").startswith("#"):
            j = text.find("\n", i)
            j = n if j < 0 else j
            for k in range(i, j):
                mask[k] = False
            i = j
            continue
        if text.startswith("/*", i):
            j = text.find("*/", i + 2) + 2
            for k in range(i, j):
                mask[k] = False
            i = j
            continue
        if text.startswith("//", i):
            j = text.find("\n", i)
            for k in range(i, j):
                mask[k] = False
            i = j
            continue
        if c in "\"'":
            j = i + 1
            while text[j] != c:
                j += 2 if text[j] == "\\" else 1
            for k in range(i, j + 1):
                mask[k] = False
            i = j + 1
            continue
        line_start = c == "\n" or (line_start and c in " \t")
        i += 1
    return mask


def _binary(text: str, start: int, end: int) -> bool:
    """An operator with an operand on its left (so not unary minus, not a pointer or cast)."""
    j = start - 1
    while j >= 0 and text[j] in " \t\n":
        j -= 1
    return j >= 0 and (text[j].isalnum() or text[j] in ")]_")


def sites(text: str) -> list[dict]:
    mask = _code_mask(text)
    out, count = [], {}
    line_of = [0] * (len(text) + 1)
    ln = 1
    for i, c in enumerate(text):
        line_of[i] = ln
        ln += c == "\n"
    for m in TOKEN.finditer(text):
        if not mask[m.start()]:
            continue
        tok = m.group(0)
        if m.group("num"):
            if "." in tok or "e" in tok.lower():
                v = float(tok)
                new = "1.0" if v == 0 else repr(v * 1.1)
            else:
                new = str(int(tok) + 1)
            kind = "const"
        elif tok in CMP:
            if tok in "<>" and text[m.start() - 1:m.start()] == " " and text[m.end():m.end() + 1] != " ":
                continue  # not an operator (e.g. a template-like use); our comparisons are spaced
            new, kind = CMP[tok], "cmp"
        elif tok in ("+", "-") and _binary(text, m.start(), m.end()):
            new, kind = ("-" if tok == "+" else "+"), "binop"
        elif tok in ("+=", "-="):
            new, kind = ("-=" if tok == "+=" else "+="), "binop"
        elif tok == "/":
            new, kind = "*", "binop"
        elif tok in ("&&", "||"):
            new, kind = ("||" if tok == "&&" else "&&"), "binop"
        else:
            continue
        line = line_of[m.start()]
        key = (line, kind)
        count[key] = count.get(key, -1) + 1
        out.append({"id": f"{line}:{kind}:{count[key]}", "start": m.start(), "end": m.end(), "old": tok,
                    "new": new})
    return out


def mutant(text: str, site: dict) -> str:
    return text[:site["start"]] + site["new"] + text[site["end"]:]


def run_one(text: str, site: dict | None, tests: list[str], timeout: float) -> dict:
    with tempfile.TemporaryDirectory(prefix="qvalid-cmutant-") as tmp:
        shutil.copytree(ROOT / "qvalid", Path(tmp) / "qvalid",
                        ignore=shutil.ignore_patterns("__pycache__", "*.so"))
        src = Path(tmp) / "qvalid" / "core" / "ckernels.c"
        src.write_text(text if site is None else mutant(text, site))
        so = src.with_name("ckernels" + sysconfig.get_config_var("EXT_SUFFIX"))
        cc = subprocess.run(["gcc", *FLAGS, f"-I{sysconfig.get_paths()['include']}", str(src), "-o", str(so)],
                            capture_output=True, text=True)
        if cc.returncode:
            return {"id": site["id"] if site else "baseline", "status": "invalid", "seconds": 0,
                    "by": cc.stderr.strip().splitlines()[0][:120] if cc.stderr.strip() else "gcc failed"}
        env = dict(os.environ, PYTHONPATH=tmp, PYTHONDONTWRITEBYTECODE="1", QVALID_ALLOW_NO_R="1", CI="1")
        env.pop("QVALID_KERNELS", None)
        if site is None:
            where = subprocess.run([sys.executable, "-P", "-c", "import qvalid.core.ckernels as c; print(c.__file__)"],
                                   cwd=ROOT, env=env, capture_output=True, text=True).stdout.strip()
            assert where.startswith(tmp), f"the tests would import {where}, not the mutant's build"
        status, out, seconds = run_tests([sys.executable, "-P", "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider",
                                          "-m", "not r", *tests], env, timeout)
    return {"id": site["id"] if site else "baseline", "what": f"{site['old']} -> {site['new']}" if site else "",
            "status": status, "seconds": seconds, "by": killed_by(status, out)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-n", type=int, default=60)
    ap.add_argument("--seed", type=int, default=24)
    ap.add_argument("--timeout", type=float, default=300.0)
    ap.add_argument("--out", type=Path)
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--show", action="append", default=[], metavar="ID")
    ap.add_argument("--only", action="append", default=[], metavar="ID")
    ap.add_argument("--baseline", action="store_true")
    ap.add_argument("--tests", nargs="+", default=["tests/test_kernels.py"])
    args = ap.parse_args(argv)
    text = SOURCE.read_text()
    every = sites(text)
    by_id = {s["id"]: s for s in every}
    lines = text.splitlines()
    if args.list:
        for s in every:
            print(s["id"], s["old"], "->", s["new"], "|", lines[int(s["id"].split(":")[0]) - 1].strip()[:70])
        return 0
    if args.show:
        for i in args.show:
            print("\n".join(difflib.unified_diff(text.splitlines(), mutant(text, by_id[i]).splitlines(),
                                                 "ckernels.c", i, n=1, lineterm="")))
        return 0
    if args.baseline:
        res = run_one(text, None, args.tests, args.timeout)
        print(json.dumps(res))
        return 0 if res["status"] == "survived" else 1
    chosen = [by_id[i] for i in args.only] if args.only else random.Random(args.seed).sample(every, min(args.n,
                                                                                                     len(every)))
    print(f"{len(every)} sites in {SOURCE.relative_to(ROOT)}; running {len(chosen)} mutant(s)", file=sys.stderr)
    run_all(chosen, lambda site: run_one(text, site, args.tests, args.timeout),
            lambda site: f"{site['id']} ({site['old']} -> {site['new']})", args.out,
            statuses=("killed", "survived", "invalid"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
