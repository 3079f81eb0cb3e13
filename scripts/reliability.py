#!/usr/bin/env python3
"""The reliability probe of qvalid (issue 20): a corpus of malformed and valid inputs in every format qvalid reads,
bad option values, hostile texts and outputs aimed at inputs, run against every command.

Every case says what must happen:

- ``refuse``: exit 2, exactly one line on stderr (``qvalid CMD: error: ...``) that contains the case's needles
  (the bad cell quoted as written, the file name, ...), nothing on stdout, no traceback, no Python warning, every
  protected file (the inputs) unchanged byte for byte and no new file beside them;
- ``accept``: one of the allowed exit codes (0, or 0/1 where 1 means "differences found"), no traceback, no Python
  warning, nothing on stderr, and the case's own check (an output written, a report's note, the same bytes twice).

Cases run in this process through :func:`qvalid.cli.main` (fast: no interpreter start), except those that need a
process of their own (a named pipe that never delivers, R missing, signals), which run as ``python -m qvalid`` with a
timeout. The counts go to docs/reliability.md::

    .venv/bin/python scripts/reliability.py                  # corpus in a temporary directory; counts + failures
    .venv/bin/python scripts/reliability.py --markdown       # the counts as the table of docs/reliability.md
    .venv/bin/python scripts/reliability.py --family study --verbose
    .venv/bin/python scripts/reliability.py --keep /tmp/corpus --only study/csv-abc/validate
    .venv/bin/python scripts/reliability.py --no-slow        # skip the cases run in a process of their own
    .venv/bin/python scripts/reliability.py --package DIR    # probe another qvalid (DIR/qvalid), e.g. an old commit's

``tests/test_reliability.py`` runs every case in CI (the slow ones too) and fails on any case that does not hold.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import traceback
import warnings
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
LIPSET = ROOT / "reference" / "data" / "lipset" / "lipset.csv"
LIPSET_TEXTS = ROOT / "reference" / "data" / "lipset" / "lipset_statements.csv"
LIPSET_DAT = ROOT / "reference" / "data" / "lipset_kade" / "LIPSET.DAT"
LIPSET_STA = ROOT / "reference" / "data" / "lipset_kade" / "LIPSET.STA"
NAV_LOADINGS = ROOT / "reference" / "data" / "nav_aap_2023" / "loadings_published.csv"
NAV_ARRAYS = ROOT / "reference" / "data" / "nav_aap_2023" / "factor_arrays_reconstructed.csv"
NAV_GRID = "-5:1,2,3,4,5,6,5,4,3,2,1"

#: Commands that read a study file, with the cheapest arguments that run them through (small resamples, no R where
#: R is not the point). ``{out}`` is a fresh output directory of the case.
STUDY_COMMANDS = {
    "validate": [],
    "analyze": ["-k", "2"],
    "bootstrap": ["-k", "2", "-n", "10"],
    "factors": ["--max-k", "2", "--runs", "10"],
    "report": ["-k", "2", "--no-crosscheck", "--out", "{out}/report.html"],
    "crosscheck": ["-k", "2"],
}


@dataclass
class Case:
    """One run of one command and what must happen."""

    id: str
    family: str
    argv: list
    expect: str                        # "refuse" | "accept"
    needles: tuple = ()                # substrings of the one-line message (refuse) or of stdout (accept)
    codes: tuple = (0,)                # exit codes an accepted case may end with
    protect: tuple = ()                # files that must be left exactly as they are
    watch: tuple = ()                  # directories that must gain no file (refusals: nothing written)
    check: Callable | None = None      # accept: extra check, returns a problem or None
    slow: bool = False                 # run as a process of its own (python -m qvalid)
    env: dict | None = None            # slow cases: environment changes
    timeout: float = 60.0
    stdin: bytes | None = None
    interrupt: tuple | None = None     # (signal name, "group" | "parent"): sent once the command is computing
    ci: bool = True                    # run in CI (tests/test_reliability.py); all cases run for the counts


@dataclass
class Outcome:
    case: Case
    problem: str | None                # None: the case held
    code: object = None
    message: str = ""
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.problem is None


# ------------------------------------------------------------------------------------------------- file helpers
def _lipset_table() -> tuple[list, list]:
    lines = LIPSET.read_text(encoding="utf-8").splitlines()
    rows = [line.split(",") for line in lines]
    return rows[0], rows[1:]


def _csv(rows) -> str:
    return "\n".join(",".join(r) for r in rows) + "\n"


def _lipset_with(cell: str, row: int = 2, col: int = 3) -> str:
    """lipset.csv with the cell of body row ``row`` (0-based), column ``col`` (0 = ids) replaced by ``cell``."""
    header, body = _lipset_table()
    body = [list(r) for r in body]
    body[row][col] = cell
    return _csv([header, *body])


def _write(path: Path, data) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_bytes(data.encode("utf-8"))
    return path


def _lipset_study():
    from qvalid.io import read_csv

    return read_csv(LIPSET)


def _xlsx(path: Path, rows, sheet="Sheet1"):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet
    for r in rows:
        ws.append(list(r))
    wb.save(path)
    return path


def _lipset_rows_typed():
    """lipset as a list of rows with ints in the score cells (for workbooks)."""
    header, body = _lipset_table()
    header = [h.strip('"') for h in header]
    return [header] + [[r[0].strip('"'), *[int(v) for v in r[1:]]] for r in body]


def kade_results_sheets(mutate: Callable | None = None) -> dict:
    """A KADE 1.3 result workbook of Lipset (k = 2, flavour kade) as sheet name -> list of rows, laid out as KADE's
    Excel export (the tables :func:`qvalid.io.read_kade_workbook` reads). ``mutate(sheets)`` may spoil a cell."""
    import numpy as np

    from qvalid.pipeline import analyze

    s = _lipset_study()
    res = analyze(s, 2, flavor="kade")
    k, ids, n = 2, list(s.sort_ids), s.n_statements
    texts = [f"statement {i + 1}" for i in range(n)]
    fac = [f"Factor  {j + 1}" for j in range(k)]
    blank = [[], []]
    sheets = {
        "Project Overview": [["overview"], [], ["Project Name:", "lipset"], [],
                             ["Total Number of Statements:", n], [],
                             ["Q sort Design:", ",".join(str(int(v)) for v in s.qscores)], [],
                             ["Total Number of Q sorts:", s.n_sorts], [], ["KADE Version Number:", "1.3.1"]],
        "statements": [["statements"], [], ["Statement Number", "Statements"]]
        + [[i + 1, t] for i, t in enumerate(texts)],
        "Q sorts": [["sorts"], [], ["Q sorts"], [], ["Participant", *[f"S{i + 1}" for i in range(n)], "Mean",
                                                    "Standard Deviation"]]
        + [[sid, *[int(v) for v in s.scores[:, j]], 0, 2.2] for j, sid in enumerate(ids)],
        "Correlation Matrix": [["correlations"], [], ["Correlation Matrix"], [], ["Participant", *ids]]
        + [[sid, *[int(round(100 * v)) for v in res.correlation[i]]] for i, sid in enumerate(ids)],
        "Unrotated Factor Matrix": [["unrotated"], [], ["Unrotated Factor Matrix"], [], ["Nm", "Participant", *fac]]
        + [[i + 1, sid, *[round(float(v), 4) for v in res.unrotated_loadings[i, :k]]] for i, sid in enumerate(ids)],
        "Factor Loadings": [["matrix"], [], ["Factor Matrix"], [],
                            ["Nm", "Q-sort", *[c for f in fac for c in (f, None)]]]
        + [[i + 1, sid, *[c for j in range(k) for c in (round(float(res.loadings[i, j]), 4),
                                                         "Flagged" if res.flags[i, j] else None)]]
           for i, sid in enumerate(ids)],
        "Factor Loadings Table": [["loadingsTable"], [], ["Loadings Table"], [],
                                  ["Nm", "Q-sort", "Factor Group", *[c for j, f in enumerate(fac)
                                                                     for c in (f, f"F{j + 1}")]]]
        + [[i + 1, sid, "", *[c for j in range(k) for c in (round(float(res.loadings[i, j]), 4), None)]]
           for i, sid in enumerate(ids)],
        "Factor Characteristics": [["facChar"], [], ["Factor Characteristics"], [], [None, *fac],
                                   ["No. of Defining Variables", *[int(v) for v in res.characteristics.nload]],
                                   ["Avg. Rel. Coef.", 0.8, 0.8],
                                   ["Composite Reliability", *[round(float(v), 3)
                                                               for v in res.characteristics.reliability]],
                                   ["S.E. of Factor Z-scores", *[round(float(v), 3)
                                                                 for v in res.characteristics.se_fscores]]],
        "Standard Errors for Diffs": [["stndErr"], [], ["Standard Errors for Differences"], [], [None, *fac]]
        + [[f, *[round(float(v), 3) for v in res.characteristics.sd_dif[j]]] for j, f in enumerate(fac)],
        "Consensus Statements": [["consensus"], [], ["Consensus Statements"], *blank, [], [], [], [],
                                 ["Nm", "Significance", "Statement", "Nm", "Q-SV", "Z-score"]],
    }
    for j in range(k):
        flagged = [i for i in range(len(ids)) if res.flags[i, j]]
        sheets[f"Fac. {j + 1} Sorts Weight"] = [["weights"], [], [fac[j], "Sorts Weight"], [],
                                                ["Nm", "Q-Sort", "Weight"]] + \
            [[i + 1, ids[i], round(float(res.weights[i, j]), 5)] for i in flagged]
        order = np.argsort(-res.zscores[:, j], kind="stable")
        sheets[f"Fac. {j + 1}"] = [["facScore"], [], [None, "Factor Scores"], [],
                                   ["Statement Number", "Statement", "Z-score", "Q Sort Value"]] + \
            [[int(i) + 1, texts[i], round(float(res.zscores[i, j]), 3), int(res.factor_arrays[i, j])] for i in order]
        sheets[f"Dist State Fac. {j + 1}"] = [["distinguishing"], [], ["Distinguishing Statements"], [], [], [],
                                              [], [], [], ["", "", "", fac[j], fac[j], fac[j]],
                                              ["Nm", "Statement", "Nm", "Q-SV", "Z-score", "Significance"]] + \
            [[int(i) + 1, texts[i], int(i) + 1, int(res.factor_arrays[i, j]), round(float(res.zscores[i, j]), 3),
              "*"] for i in order[:2]]
    if mutate is not None:
        mutate(sheets)
    return sheets


def write_kade_results(path: Path, mutate: Callable | None = None) -> Path:
    import openpyxl

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in kade_results_sheets(mutate).items():
        ws = wb.create_sheet(name)
        for r in rows:
            ws.append(list(r))
    wb.save(path)
    return path


def _set(sheet: str, row: int, col: int, value):
    def mutate(sheets):
        sheets[sheet][row][col] = value
    return mutate


def _set_row(sheet: str, label, col: int, value):
    """Set column ``col`` of the first row of ``sheet`` whose first cell is ``label``."""
    def mutate(sheets):
        for r in sheets[sheet]:
            if r and r[0] == label:
                r[col] = value
                return
        raise KeyError(label)
    return mutate


# ------------------------------------------------------------------------------------------------- checks
def _exists(*paths) -> Callable:
    def check(_stdout):
        missing = [str(p) for p in paths if not Path(p).is_file()]
        return f"not written: {', '.join(missing)}" if missing else None
    return check


def _no_huge_numbers(stdout):
    import re

    bad = re.search(r"\binf\b|\d\.?\d*e\+\d{2,}", stdout)
    return f"prints {bad.group(0)!r} (a division by almost zero)" if bad else None


def _html_marks_bidi(path) -> Callable:
    def check(_stdout):
        text = Path(path).read_text(encoding="utf-8")
        raw = [c for c in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069" if c in text]
        return f"bidi control characters unmarked in the report: {raw!r}" if raw else None
    return check


def _note_in_json(path, needle) -> Callable:
    def check(_stdout):
        d = json.loads(Path(path).read_text(encoding="utf-8"))
        cc = d.get("crosscheck") or {}
        return None if (cc.get("available") is False and needle in (cc.get("reason") or "")) else \
            f"no 'not cross-checked' note in the report JSON: {cc}"
    return check


# ------------------------------------------------------------------------------------------------- the corpus
def study_files(d: Path) -> list[tuple]:
    """(name, path, expect, needles) for every study file of the corpus."""
    d.mkdir(parents=True, exist_ok=True)
    header, body = _lipset_table()
    out = []

    def add(name, data, expect="refuse", needles=(), suffix=".csv"):
        p = _write(d / f"{name}{suffix}", data) if data is not None else d / f"{name}{suffix}"
        out.append((name, p, expect, tuple(needles)))

    text = LIPSET.read_text(encoding="utf-8")
    # --- valid controls
    add("ok", text, "accept")
    add("ok-crlf", text.replace("\n", "\r\n"), "accept")
    add("ok-semicolon", text.replace(",", ";"), "accept")
    add("ok-tab", text.replace(",", "\t"), "accept", suffix=".tsv")
    add("ok-utf8-bom", b"\xef\xbb\xbf" + text.encode(), "accept")
    add("ok-utf16-bom", text.encode("utf-16"), "accept")
    add("ok-plus-signs", _lipset_with("+3", 0, 4), "accept")
    add("ok-spaces", _lipset_with(f" {body[2][3]} ", 2, 3), "accept")
    add("ok-decimal-zero", _lipset_with(f"{body[2][3]}.0", 2, 3), "accept")
    # --- files that are no study
    add("empty", "", needles=("empty file",))
    add("blank-lines", "\n \n\t\n", needles=("empty file",))
    add("binary", b"\x00\x01\x02qvalid\x00" * 50, needles=("not a text file",))
    add("zip-as-csv", b"PK\x03\x04" + b"\x00" * 100, needles=("zip-as-csv.csv",))  # "not a text file"/"workbook"
    add("latin1", text.replace("sta_2", "st\xe9_2").encode("latin-1"), needles=("UTF-8",))
    add("header-only", _csv([header]), needles=("needs at least 2",))
    add("one-sort", _csv([[c for c in r[:2]] for r in [header, *body]]), needles=("at least 2 Q-sorts",))
    add("one-statement", _csv([header, body[0]]), needles=("at least 2 statements",))
    add("scores-as-header", _csv(body), needles=("header",))
    add("unequal-rows", _csv([header, *body[:3], body[3][:-1], *body[4:]]), needles=("unequal",))
    add("unbalanced-quote", text.replace('"sta_5"', '"sta_5'), needles=("unbalanced-quote.csv",))
    add("dup-sort", _csv([[*header[:-1], header[1]], *body]), needles=("duplicate sort id",))
    add("dup-statement", _csv([header, *body[:-1], [body[0][0], *body[-1][1:]]]), needles=("duplicate statement",))
    add("empty-sort-id", _csv([[header[0], '""', *header[2:]], *body]), needles=("empty",))
    add("off-grid", _lipset_with("9", 2, 3), needles=("+9", "outside the grid"))
    add("over-filled", _lipset_with(body[3][3], 2, 3) if body[2][3] != body[3][3] else _lipset_with("4", 2, 3),
        needles=("grid allows",))
    # --- one bad cell: quoted as written
    for name, cell in [("abc", "abc"), ("missing", ""), ("na", "NA"), ("fraction", "1.5"), ("inf", "inf"),
                       ("minus-inf", "-inf"), ("nan", "nan"), ("1e400", "1e400"),
                       ("huge-int", "99999999999999999999"), ("1e20", "1e20"), ("underscore", "0_0"),
                       ("underscore-10", "1_0"), ("false", "FALSE"), ("true", "TRUE"), ("arabic-digit", "\u0663"),
                       ("fullwidth-digit", "\uff13"), ("hex", "0x3"), ("comma-decimal", "1,0"),
                       ("infinity-word", "Infinity"), ("plus-minus", "+-1")]:
        if name == "comma-decimal":  # inside quotes, or it would split the row
            data = _lipset_with('"1,0"')
            quoted = ("'1,0'",)
        else:
            data = _lipset_with(cell)
            quoted = ("missing value",) if cell == "" else (f"{cell!r}",) if name != "na" else ("'NA'",)
        add(f"cell-{name}", data, needles=("sort US3", "statement sta_3", *quoted))
    # --- PQMethod .DAT
    dat = LIPSET_DAT.read_text(encoding="utf-8")
    lines = dat.splitlines()
    shutil.copy(LIPSET_DAT, d / "ok-dat.DAT")
    shutil.copy(LIPSET_STA, d / "ok-dat.STA")
    out.append(("ok-dat", d / "ok-dat.DAT", "accept", ()))
    add("dat-title", "\n".join(["xx", *lines[1:]]) + "\n", needles=("line 1",), suffix=".DAT")
    add("dat-grid-width", "\n".join([lines[0], lines[1][:-3], *lines[2:]]) + "\n", needles=("line 2",),
        suffix=".DAT")
    add("dat-grid-text", "\n".join([lines[0], lines[1][:9] + " ab" + lines[1][12:], *lines[2:]]) + "\n",
        needles=("' ab'",), suffix=".DAT")
    add("dat-short-line", "\n".join([*lines[:3], lines[3][:-2], *lines[4:]]) + "\n", needles=(":4",),
        suffix=".DAT")
    bad = lines[3][:12] + " x" + lines[3][14:]
    add("dat-cell-x", "\n".join([*lines[:3], bad, *lines[4:]]) + "\n", needles=("' x'",), suffix=".DAT")
    add("dat-count", "\n".join([lines[0][:3] + "  8" + lines[0][6:], *lines[1:]]) + "\n", needles=("8 Q-sorts",),
        suffix=".DAT")
    _write(d / "dat-sta.DAT", dat)
    _write(d / "dat-sta.STA", "one\ntwo\n")
    out.append(("dat-sta", d / "dat-sta.DAT", "refuse", ("2 statement lines",)))
    # --- spreadsheets
    rows = _lipset_rows_typed()
    _xlsx(d / "ok-xlsx.xlsx", rows)
    out.append(("ok-xlsx", d / "ok-xlsx.xlsx", "accept", ()))
    for name, value, quoted in [("bool", True, "TRUE"), ("1e20", 1e20, "100000000000000000000"), ("text", "abc", "'abc'"),
                                ("fraction", 1.5, "1.5"), ("date", __import__("datetime").datetime(2020, 1, 3),
                                                           "2020-01-03")]:
        r = [list(x) for x in rows]
        r[3][3] = value
        _xlsx(d / f"xlsx-{name}.xlsx", r)
        out.append((f"xlsx-{name}", d / f"xlsx-{name}.xlsx", "refuse", (quoted,)))
    _xlsx(d / "xlsx-empty.xlsx", [])
    out.append(("xlsx-empty", d / "xlsx-empty.xlsx", "refuse", ("no table",)))
    add("xlsx-corrupt", b"PK\x03\x04garbage" * 20, needles=("workbook",), suffix=".xlsx")
    import pandas as pd

    frame = pd.DataFrame([r[1:] for r in rows[1:]], index=[r[0] for r in rows[1:]], columns=rows[0][1:])
    frame.to_excel(d / "ok-ods.ods", engine="odf")
    out.append(("ok-ods", d / "ok-ods.ods", "accept", ()))
    bad_frame = frame.astype(object)
    bad_frame.iloc[2, 2] = "x"
    bad_frame.to_excel(d / "ods-text.ods", engine="odf")
    out.append(("ods-text", d / "ods-text.ods", "refuse", ("'x'",)))
    # KADE type 2 input
    s = _lipset_study()

    def type2(path, pattern=None, cell=None):
        import openpyxl

        wb = openpyxl.Workbook()
        wb.remove(wb.active)
        for name, table in [("name", [["Project Name"], ["lipset"]]),
                            ("sorts", [[sid, *[int(v) for v in s.scores[:, j]]] for j, sid in enumerate(s.sort_ids)]),
                            ("pattern", pattern or [list(range(-6, 14)), [0, 0, 2, 3, 4, 5, 5, 5, 4, 3, 2] + [0] * 9]),
                            ("statements", [["Number", "Statements"]] + [[i + 1, f"t{i + 1}"] for i in range(33)])]:
            ws = wb.create_sheet(name)
            for r in table:
                ws.append(r)
        if cell is not None:
            wb["sorts"].cell(row=2, column=4).value = cell
        wb.save(path)
        return path

    out.append(("ok-kade-type2", type2(d / "ok-kade-type2.xlsx"), "accept", ()))
    out.append(("kade-type2-pattern", type2(d / "kade-type2-pattern.xlsx",
                                            pattern=[list(range(-6, 14)), ["a"] * 20]), "refuse", ("pattern",)))
    out.append(("kade-type2-1e20", type2(d / "kade-type2-1e20.xlsx", cell=1e20), "refuse", ("1e+20",)))
    # KADE result workbooks read as studies
    out.append(("ok-kade-results", write_kade_results(d / "ok-kade-results.xlsx"), "accept", ()))
    out.append(("kade-results-design", write_kade_results(
        d / "kade-results-design.xlsx", _set_row("Project Overview", "Q sort Design:", 1, "a,b,c")),
        "refuse", ("'a,b,c'",)))
    out.append(("kade-results-design-inf", write_kade_results(
        d / "kade-results-design-inf.xlsx", _set_row("Project Overview", "Q sort Design:", 1,
                                                     "-4,inf,0," + ",".join(["0"] * 30))),
        "refuse", ("inf",)))
    # --- not files
    (d / "a-directory.csv").mkdir(exist_ok=True)
    out.append(("directory", d / "a-directory.csv", "refuse", ("directory",)))
    out.append(("missing", d / "no-such-file.csv", "refuse", ("no-such-file.csv",)))
    loop = d / "loop.csv"
    if not loop.is_symlink():
        os.symlink(loop, loop)
    out.append(("symlink-loop", loop, "refuse", ("loop.csv",)))
    add("unknown-type", text, needles=("unknown-type.json",), suffix=".json")  # named .json, holding no JSON
    return out


def study_cases(root: Path) -> list[Case]:
    cases = []
    for name, path, expect, needles in study_files(root / "studies"):
        heavy = expect == "accept" and name not in ("ok", "ok-xlsx", "ok-dat")
        for cmd, extra in STUDY_COMMANDS.items():
            if heavy and cmd not in ("validate", "analyze"):
                continue  # valid variants: read by the two cheap commands; the heavy ones run on three of them
            out = root / "out" / f"study-{name}-{cmd}"
            argv = [cmd, str(path), *[a.replace("{out}", str(out)) for a in extra]]
            check = _exists(out / "report.html") if (cmd == "report" and expect == "accept") else None
            codes = (0, 1) if cmd == "crosscheck" else (0,)
            protect = (path,) if path.is_file() else ()
            cases.append(Case(f"study/{name}/{cmd}", "study", argv, expect,
                              needles=needles if expect == "refuse" else (), codes=codes, protect=protect,
                              check=check, ci=not (expect == "accept" and cmd == "report" and name != "ok")))
    # layouts and grids given on the command line
    sorts = root / "studies" / "ok-sorts-layout.csv"
    header, body = _lipset_table()
    cols = list(zip(*[header, *body]))
    _write(sorts, _csv([["", *[c.strip('"') for c in cols[0][1:]]], *[[c[0].strip('"'), *c[1:]] for c in cols[1:]]]))
    ident = root / "studies" / "identical-sorts.csv"  # every Q-sort the same: a degenerate, but valid, study
    _write(ident, _csv([header] + [[r[0]] + [r[1]] * (len(r) - 1) for r in body]))
    cases.append(Case("study/identical-sorts/factors", "study", ["factors", str(ident), "--runs", "20"], "accept",
                      check=_no_huge_numbers))
    cases += [
        Case("study/sorts-layout/validate", "study", ["validate", str(sorts), "--layout", "sorts"], "accept"),
        Case("study/sorts-layout-wrong/validate", "study", ["validate", str(sorts)], "refuse",
             needles=("did you mean --layout sorts",)),
        Case("study/non-forced/validate", "study", ["validate", str(LIPSET), "--non-forced", "--grid",
                                                    "-4:2,3,4,5,5,5,4,3,2"], "accept"),
    ]
    return cases


def option_cases(root: Path) -> list[Case]:
    """Bad values of every kind of option, per command (and a few good ones)."""
    lip = str(LIPSET)
    out = root / "out" / "options"
    nav = str(NAV_LOADINGS)
    c = []

    def refuse(cid, argv, *needles):
        c.append(Case(f"options/{cid}", "options", argv, "refuse", needles=needles))

    def accept(cid, argv, codes=(0,), check=None):
        c.append(Case(f"options/{cid}", "options", argv, "accept", codes=codes, check=check))

    # options from the one table (qvalid.options.OPTION_INFO), through analyze
    for flag_, val in [("--varimax-max-iter", "-3"), ("--varimax-max-iter", "0"), ("--varimax-max-iter", "1.5"),
                       ("--varimax-max-iter", "1e400"), ("--flag-z", "nan"), ("--flag-z", "inf"),
                       ("--flag-z", "-1"), ("--flag-z", "0"), ("--threshold", "nan"), ("--threshold", "1.5"),
                       ("--threshold", "0"), ("--threshold", "-0.3"), ("--varimax-eps", "nan"),
                       ("--varimax-eps", "0"), ("--spc", "-1"), ("--cor-digits", "-1"), ("--cor-digits", "99"),
                       ("--av-rel-coef", "2"), ("--av-rel-coef", "nan"), ("--horst-max-iter", "0"),
                       ("--horst-tol", "inf"), ("--threshold", "0_5"), ("--threshold", ""), ("--extraction", "pcax")]:
        refuse(f"analyze{flag_}={val or 'empty'}", ["analyze", lip, "-k", "2", f"{flag_}={val}"], flag_.lstrip("-")
               .split("-")[0])
    for val in ("0", "-1", "1.5", "abc", "1e400", "99999999999999999999"):
        refuse(f"analyze-k={val}", ["analyze", lip, f"-k={val}"], repr(val) if val != "99999999999999999999" else val)
    refuse("analyze--flag-z-nan-json", ["analyze", lip, "-k", "2", "--flag-z", "nan", "--format", "json"], "flag")
    for val in ("x:1,2", "-4:2,3,a", "-4:2,-3,4", "1e400:2,3", "-4:", "-4:2,3,4,5,5,5,4,3,2.5"):
        refuse(f"analyze--grid={val}", ["validate", lip, f"--grid={val}"], "--grid")
    refuse("validate--encoding=bogus", ["validate", lip, "--encoding", "bogus-enc"], "bogus-enc")
    accept("analyze--threshold=0.42", ["analyze", lip, "-k", "2", "--threshold", "0.42"])
    # bootstrap
    for flag_, val in [("-n", "0"), ("-n", "-5"), ("-n", "1.5"), ("--seed", "-1"), ("--seed", "1e400"),
                       ("--seed", "abc"), ("--workers", "0"), ("--workers", "-1"), ("--ci", "0"), ("--ci", "1"),
                       ("--ci", "nan"), ("--ci", "1.5")]:
        refuse(f"bootstrap{flag_}={val}", ["bootstrap", lip, "-k", "2", f"{flag_}={val}"], flag_.lstrip("-")[:4]
               if flag_ != "-n" else "-n")
    accept("bootstrap--seed=huge", ["bootstrap", lip, "-k", "2", "-n", "5", "--seed", "99999999999999999999999"])
    # factors
    for flag_, val in [("--runs", "0"), ("--runs", "-1"), ("--centile", "nan"), ("--centile", "0"),
                       ("--centile", "100"), ("--centile", "101"), ("--seed", "-1"), ("--max-k", "0"),
                       ("--max-k", "-1"), ("--max-k", "50"), ("--bootstrap", "-1"), ("-k", "0"), ("-k", "-2")]:
        refuse(f"factors{flag_}={val}", ["factors", lip, "--runs", "10", f"{flag_}={val}"],
               flag_.lstrip("-").split("-")[0] if flag_ != "-k" else "-k")
    refuse("factors--plot=txt", ["factors", lip, "--runs", "10", "--plot", str(out / "scree.txt")], "png")
    # report
    for flag_, val in [("--bootstrap", "-1"), ("--factors", "-1"), ("--seed", "-1"), ("--bootstrap", "nan")]:
        refuse(f"report{flag_}={val}", ["report", lip, "-k", "2", "--no-crosscheck", f"{flag_}={val}", "--out",
                                         str(out / "r.html")], flag_.lstrip("-"))
    # simulate
    for flag_, val in [("--n-studies", "0"), ("--n-studies", "-1"), ("--seed", "-1"), ("--strength", "nan"),
                       ("--strength", "1.5"), ("--cross", "nan"), ("--factor-correlation", "2"),
                       ("--factor-correlation", "nan"), ("--n-statements", "0"), ("--n-statements", "-5"),
                       ("--chunk-size", "0"), ("--jobs", "0"), ("--index", "-1"), ("--index", "99"),
                       ("--planted", "a,b"), ("--planted", "0,0"), ("--planted", "-1,2"), ("--planted", "1e400")]:
        refuse(f"simulate{flag_}={val}", ["simulate", "--planted", "3,3", f"{flag_}={val}", "-o",
                                          str(out / "sim.csv")], flag_.lstrip("-").split("-")[0])
    accept("simulate-planted", ["simulate", "--planted", "3,3", "-o", str(out / "sim-ok.csv")],
           check=_exists(out / "sim-ok.csv"))
    # flag
    for flag_, val in [("--threshold", "nan"), ("--threshold", "inf"), ("--threshold", "0"), ("--threshold", "2"),
                       ("--n-statements", "0"), ("--n-statements", "-5"), ("--n-statements", "1.5"),
                       ("--z", "nan"), ("--z", "inf"), ("--z", "-1"), ("--z", "0")]:
        refuse(f"flag{flag_}={val}", ["flag", nav, f"{flag_}={val}"] + (["--threshold", "0.42"]
                                                                         if flag_ == "--z" else []),
               flag_.lstrip("-").split("-")[0])
    accept("flag--n-statements", ["flag", nav, "--n-statements", "36", "--format", "json"])
    # verify
    base = ["verify", nav, "--threshold", "0.42"]
    for flag_, val in [("--defining-counts", "1.5,3,3,6"), ("--defining-counts", "inf,3,3,6"),
                       ("--defining-counts", "-1,3,3,6"), ("--defining-counts", "a,3,3,6"),
                       ("--total-variance", ""), ("--total-variance", "nan"), ("--total-variance", "inf"),
                       ("--n-statements", "0"), ("--n-statements", "-5"), ("--eigenvalues", "nan,1,1,1"),
                       ("--explained-variance", "inf,1,1,1"), ("--decimals", "-1"), ("--z", "nan"),
                       ("--threshold-p", "0"), ("--threshold-p", "1.5"), ("--threshold-p", "nan"),
                       ("--n-flagged", "-1"), ("--n-flagged", "1.5"), ("--correlations", "2,0,0,0,0,0")]:
        refuse(f"verify{flag_}={val or 'empty'}", [*base, f"{flag_}={val}"], flag_.lstrip("-").split("-")[0])
    accept("verify-counts", [*base, "--defining-counts", "7,3,3,6"], codes=(0, 1))
    # crosscheck
    for val in ("nan", "-1", "inf", "zscores=abc", "nosuch=1e-8"):
        refuse(f"crosscheck--tolerance={val}", ["crosscheck", lip, "-k", "2", f"--tolerance={val}"], "tolerance")
    # compare
    for val in ("0", "-1"):
        refuse(f"compare-k={val}", ["compare", "qmethod", "kade", "--study", lip, f"-k={val}"], "-k")
    accept("compare-flavours", ["compare", "qmethod", "kade", "--study", lip, "-k", "2"])
    return c


def table_cases(root: Path) -> list[Case]:
    """Loadings, arrays, flags and statements tables read by flag, verify, simulate, analyze --align/--flags, report."""
    d = root / "tables"
    d.mkdir(parents=True, exist_ok=True)
    nav = NAV_LOADINGS.read_text(encoding="utf-8")
    lines = nav.splitlines()
    c = []

    def loadings(name, data, expect="refuse", needles=(), suffix=".csv"):
        p = _write(d / f"loadings-{name}{suffix}", data)
        for cmd, argv in [("flag", ["flag", str(p), "--threshold", "0.42"]),
                          ("verify", ["verify", str(p), "--threshold", "0.42"]),
                          ("simulate", ["simulate", "--loadings", str(p), "--grid", NAV_GRID, "-o",
                                        str(root / "out" / f"sim-{name}.csv")])]:
            c.append(Case(f"tables/loadings-{name}/{cmd}", "tables", argv, expect, needles=needles,
                          codes=(0, 1), protect=(p,),
                          check=(_exists(root / "out" / f"sim-{name}.csv") if cmd == "simulate" else None)))

    loadings("ok", nav, "accept")
    loadings("ok-utf16", nav.encode("utf-16"), "accept")
    row = lines[3].split(",")

    def with_cell(v):
        r = list(row)
        r[3] = v
        return "\n".join([*lines[:3], ",".join(r), *lines[4:]]) + "\n"

    for name, v in [("abc", "abc"), ("nan", "nan"), ("inf", "inf"), ("1e400", "1e400"), ("above-one", "2.5"),
                    ("underscore", "0_5"), ("true", "TRUE")]:
        # "nan" (and "NA") is how R and pandas print a missing value: a blank cell of a published table, refused
        # where every loading is needed, by its place
        loadings(f"cell-{name}", with_cell(v), needles=(row[1],) if v == "nan" else (repr(v), row[1]))
    loadings("empty", "", needles=("empty",))
    loadings("header-only", lines[0] + "\n", needles=("no rows",))
    loadings("no-factors", "id,a,b\nx,0.1,0.2\n", needles=("factor columns",))
    loadings("dup-id", "\n".join([*lines, lines[1]]) + "\n", needles=("duplicate",))
    loadings("short-row", "\n".join([*lines[:2], "99,ZZZZ,0.1"]) + "\n", needles=(":3",))  # named by its line
    # arrays and z-scores (verify --arrays, simulate --arrays/--zscores)
    arr = NAV_ARRAYS.read_text(encoding="utf-8").splitlines()

    def arrays(name, data, expect="refuse", needles=()):
        p = _write(d / f"arrays-{name}.csv", data)
        for cmd, argv in [("verify", ["verify", str(NAV_LOADINGS), "--threshold", "0.42", "--arrays", str(p),
                                      "--grid", NAV_GRID]),
                          ("simulate", ["simulate", "--loadings", str(NAV_LOADINGS), "--arrays", str(p), "--grid",
                                        NAV_GRID, "-o", str(root / "out" / f"sim-arrays-{name}.csv")])]:
            c.append(Case(f"tables/arrays-{name}/{cmd}", "tables", argv, expect, needles=needles, codes=(0, 1),
                          protect=(p,)))

    arrays("ok", "\n".join(arr) + "\n", "accept")
    r = arr[2].split(",")
    for name, v in [("text", "x"), ("fraction", "1.5"), ("inf", "inf"), ("huge", "1e20")]:
        rr = list(r)
        rr[2] = v
        arrays(f"cell-{name}", "\n".join([*arr[:2], ",".join(rr), *arr[3:]]) + "\n", needles=(repr(v),))
    arrays("empty", "", needles=("empty",))
    # flags files (analyze --flags)
    ids = [h.strip('"') for h in _lipset_table()[0][1:]]

    def flags(name, rows, expect="refuse", needles=()):
        p = _write(d / f"flags-{name}.csv", _csv(rows))
        c.append(Case(f"tables/flags-{name}/analyze", "tables", ["analyze", str(LIPSET), "-k", "2", "--flags", str(p)],
                      expect, needles=needles, protect=(p,)))

    good = [["sort", "f1", "f2"]] + [[sid, "X" if i % 2 else "", "" if i % 2 else "1"] for i, sid in enumerate(ids)]
    flags("ok", good, "accept")
    bad = [list(x) for x in good]
    bad[2][1] = "maybe"
    flags("maybe", bad, needles=("'maybe'",))
    bad = [list(x) for x in good]
    bad[2][1] = "2"
    flags("two", bad, needles=("'2'",))
    flags("missing-sort", good[:-1], needles=("no row",))
    flags("three-columns", [r + ["0"] for r in good], needles=("factor column",))
    # statement texts (report --statements)
    texts = LIPSET_TEXTS.read_text(encoding="utf-8")
    tl = texts.splitlines()

    def statements(name, data, expect="refuse", needles=()):
        p = _write(d / f"statements-{name}.csv", data)
        out = root / "out" / f"statements-{name}"
        c.append(Case(f"tables/statements-{name}/report", "tables",
                      ["report", str(LIPSET), "-k", "2", "--no-crosscheck", "--statements", str(p), "--out",
                       str(out / "r.html")], expect, needles=needles, protect=(p,),
                      check=_exists(out / "r.html") if expect == "accept" else None))

    statements("ok", texts, "accept")
    statements("no-text", "\n".join([*tl[:3], '"sta_3",""', *tl[4:]]) + "\n", needles=("no text",))
    statements("dup", "\n".join([*tl, tl[1]]) + "\n", needles=("duplicate",))
    statements("empty", "", needles=("empty",))
    statements("binary", b"\x00" * 64, needles=("not a text file",))
    statements("missing-one", "\n".join(tl[:-1]) + "\n", needles=("no text for statement",))
    return c


def kade_cases(root: Path) -> list[Case]:
    """KADE result workbooks with one malformed cell: read completely or refused (compare, validate, --flags)."""
    d = root / "kade"
    d.mkdir(parents=True, exist_ok=True)
    c = []
    spoil = {
        "loading-abc": (_set("Factor Loadings", 6, 2, "abc"), "'abc'"),
        "design-abc": (_set_row("Project Overview", "Q sort Design:", 1, "a,b,c"), "'a,b,c'"),
        "design-inf": (_set_row("Project Overview", "Q sort Design:", 1, "-4,inf,0"), "inf"),
        "statement-inf": (_set("Fac. 1", 6, 0, "inf"), "'inf'"),
        "statement-zero": (_set("Fac. 1", 6, 0, 0), "0"),
        "weight-heavy": (_set("Fac. 1 Sorts Weight", 5, 2, "heavy"), "'heavy'"),
        "zscore-na": (_set("Fac. 1", 6, 2, "n/a"), "'n/a'"),
        "zscore-blank": (_set("Fac. 1", 6, 2, None), "blank"),
        "array-fraction": (_set("Fac. 1", 6, 3, 1.5), "1.5"),
        "correlation-x": (_set("Correlation Matrix", 6, 3, "x"), "'x'"),
        "reliability-foo": (_set_row("Factor Characteristics", "Composite Reliability", 1, "foo"), "'foo'"),
        "sed-nan": (_set("Standard Errors for Diffs", 5, 1, "nan"), "'nan'"),
        "unrotated-1e400": (_set("Unrotated Factor Matrix", 5, 2, "1e400"), "'1e400'"),
        "qsort-score-true": (_set("Q sorts", 6, 3, True), "TRUE"),
    }
    ok = write_kade_results(d / "kade-ok.xlsx")
    for cmd, argv in [("compare", ["compare", "kade", str(ok)]), ("validate", ["validate", str(ok)]),
                      ("analyze-flags", ["analyze", str(ok), "-k", "2", "--flags", str(ok)])]:
        c.append(Case(f"kade/ok/{cmd}", "kade", argv, "accept"))
    for name, (mutate, quoted) in spoil.items():
        p = write_kade_results(d / f"kade-{name}.xlsx", mutate)
        for cmd, argv in [("compare", ["compare", "kade", str(p)]),
                          ("analyze-flags", ["analyze", str(LIPSET), "-k", "2", "--flags", str(p)])]:
            c.append(Case(f"kade/{name}/{cmd}", "kade", argv, "refuse", needles=(quoted,), protect=(p,)))
        if name in ("design-abc", "design-inf", "qsort-score-true"):
            c.append(Case(f"kade/{name}/validate", "kade", ["validate", str(p)], "refuse", needles=(quoted,)))
    return c


def text_cases(root: Path) -> list[Case]:
    """Hostile texts: long ids, bidi overrides, markup; the report must be written without warnings, marked."""
    d = root / "texts"
    d.mkdir(parents=True, exist_ok=True)
    header, body = _lipset_table()
    c = []
    cjk = _write(d / "cjk.csv", _csv([[header[0], "\u6f22\u5b57", "\u30c6\u30b9\u30c8", *header[3:]], *body]))
    c.append(Case("texts/cjk-sort-ids/report", "texts", ["report", str(cjk), "-k", "2", "--no-crosscheck",
                                                       "--bootstrap", "10", "--out", str(root / "out" / "cjk.html")],
                  "accept", check=_exists(root / "out" / "cjk.html")))
    long_id = "L" * 3000
    p = _write(d / "long-id.csv", _csv([[header[0], long_id, *header[2:]], *body]))
    out = root / "out" / "texts"
    c.append(Case("texts/long-sort-id/report", "texts", ["report", str(p), "-k", "2", "--no-crosscheck",
                                                         "--bootstrap", "20", "--out", str(out / "long.html")],
                  "accept", check=_exists(out / "long.html")))
    c.append(Case("texts/long-sort-id/bootstrap-figures", "texts",
                  ["bootstrap", str(p), "-k", "2", "-n", "10", "--figures", str(out / "figs")], "accept",
                  check=_exists(out / "figs" / "loading_intervals.png")))
    rlo = "\u202eevil\u202c"
    p = _write(d / "bidi.csv", _csv([[header[0], f'"US{rlo}"', *header[2:]], *body]))
    texts = _write(d / "bidi-texts.csv", LIPSET_TEXTS.read_text(encoding="utf-8").replace("We accept",
                                                                                          f"We {rlo} accept"))
    c.append(Case("texts/bidi/report", "texts", ["report", str(p), "-k", "2", "--no-crosscheck", "--statements",
                                                 str(texts), "--title", f"T{rlo}", "--out", str(out / "bidi.html")],
                  "accept", check=_html_marks_bidi(out / "bidi.html")))
    return c


def output_cases(root: Path) -> list[Case]:
    """The output-over-input matrix: every command x every output option x every input it reads, aimed at the
    input by its path, through a symlink and through a hard link; then devices, directories, two outputs on one path,
    and ``-`` for standard output."""
    d = root / "outputs"
    d.mkdir(parents=True, exist_ok=True)
    c = []
    lip_text = LIPSET.read_bytes()
    ids = [h.strip('"') for h in _lipset_table()[0][1:]]
    flags_text = _csv([["sort", "f1", "f2"]] + [[sid, "X" if i % 2 else "", "" if i % 2 else "1"]
                                               for i, sid in enumerate(ids)])
    # (command, output option, kind, input option, the file name the input gets, extra args)
    matrix = [
        ("analyze", "--output", "dir", None, "loadings.csv", ["-k", "2"]),
        ("analyze", "--output", "dir", "--flags", "flags.csv", ["-k", "2"]),
        ("analyze", "--output", "dir", "--align", "loadings.csv", ["-k", "2"]),
        ("bootstrap", "--output", "dir", None, "loadings.csv", ["-k", "2", "-n", "10"]),
        ("bootstrap", "--output", "dir", "--flags", "factors.csv", ["-k", "2", "-n", "10"]),
        ("bootstrap", "--figures", "dir", None, "congruence.png", ["-k", "2", "-n", "10"]),
        ("bootstrap", "--figures", "dir", "--flags", "loading_intervals.png", ["-k", "2", "-n", "10"]),
        ("factors", "--plot", "file", None, "study.png", ["--runs", "10", "--max-k", "2"]),
        ("report", "--out", "file", None, "study.csv", ["-k", "2", "--no-crosscheck"]),
        ("report", "--out", "file", "--statements", "texts.csv", ["-k", "2", "--no-crosscheck"]),
        ("report", "--out", "file", "--flags", "flags.csv", ["-k", "2", "--no-crosscheck"]),
        ("report", "--json", "file", None, "study.csv", ["-k", "2", "--no-crosscheck"]),
        ("report", "--json", "file", "--statements", "texts.csv", ["-k", "2", "--no-crosscheck"]),
        ("report", "--json", "file", "--flags", "flags.csv", ["-k", "2", "--no-crosscheck"]),
        ("simulate", "-o", "file", "--loadings", "loadings.csv", ["--grid", NAV_GRID]),
        ("simulate", "-o", "file", "--arrays", "arrays.csv", ["--grid", NAV_GRID]),
        ("simulate", "-o", "file", "--zscores", "zscores.csv", ["--grid", NAV_GRID]),
        ("simulate", "-o", "dir", "--statements", "statements.csv", ["--planted", "3,3", "--n-statements", "33"]),
    ]
    contents = {None: lip_text, "--flags": flags_text.encode(), "--statements": LIPSET_TEXTS.read_bytes(),
                "--align": None, "--loadings": NAV_LOADINGS.read_bytes(), "--arrays": NAV_ARRAYS.read_bytes(),
                "--zscores": _zscores_table()}
    for n, (cmd, oopt, kind, iopt, fname, extra) in enumerate(matrix):
        for how in ("same", "symlink", "hardlink", "dotted"):
            base = d / f"{n:02d}-{cmd}{oopt}-{iopt or 'FILE'}-{how}"
            indir = base / "in"
            indir.mkdir(parents=True, exist_ok=True)
            data = contents[iopt]
            if iopt == "--align":  # a loadings table of lipset's sorts (a paper's table aligned to)
                data = _csv([["sort", "f1", "f2"]] + [[sid, "0.5", "0.1"] for sid in ids]).encode()
            inp = _write(indir / fname, data)
            if how == "same":
                target = inp if kind == "file" else indir
            elif how == "dotted":
                target = (indir / ".." / "in" / fname) if kind == "file" else indir / ".." / "in"
            else:
                link = base / ("link" + (inp.suffix if kind == "file" else ""))
                if how == "symlink":
                    os.symlink(inp if kind == "file" else indir, link)
                    target = link
                elif kind == "file":
                    os.link(inp, link)
                    target = link
                else:  # a hard link to a directory does not exist: the input hard-linked into the output dir
                    outdir = base / "outdir"
                    outdir.mkdir(exist_ok=True)
                    os.link(inp, outdir / fname)
                    target = outdir
            study = str(inp) if iopt is None else str(LIPSET)
            argv = [cmd] + ([] if cmd == "simulate" else [study]) + extra
            if iopt is not None:
                argv += [iopt, str(inp)]
            if cmd == "simulate" and iopt in ("--arrays", "--zscores"):
                argv += ["--loadings", str(NAV_LOADINGS)]
            if cmd == "simulate" and iopt == "--statements":
                target = indir / "study.csv"
            argv += [oopt, str(target)]
            if cmd == "report" and oopt == "--json":
                argv += ["--out", str(base / "report.html")]
            c.append(Case(f"outputs/{cmd}{oopt}/{iopt or 'FILE'}/{how}", "outputs", argv, "refuse",
                          protect=(inp,), watch=(indir,)))
    # devices, streams, directories, two outputs on one path
    lip = str(LIPSET)
    dev = d / "devices"
    dev.mkdir(exist_ok=True)
    null = dev / "null"
    try:
        if not null.exists():
            os.mknod(null, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    except (PermissionError, AttributeError, OSError):
        null = None
    fifo = dev / "fifo"
    if not fifo.exists():
        os.mkfifo(fifo)
    stdout_link = dev / "stdout"
    if not stdout_link.is_symlink():
        os.symlink("/proc/self/fd/1", stdout_link)
    a_dir = dev / "a-dir.html"
    a_dir.mkdir(exist_ok=True)
    a_file = _write(dev / "a-file", "keep me\n")
    specials = [("fifo", fifo), ("stdout-symlink", stdout_link)] + ([("char-device", null)] if null else [])
    for name, target in specials:
        c.append(Case(f"outputs/report--out/{name}", "outputs",
                      ["report", lip, "-k", "2", "--no-crosscheck", "--out", str(target)], "refuse",
                      needles=(target.name,), watch=(dev,)))
        c.append(Case(f"outputs/report--json/{name}", "outputs",
                      ["report", lip, "-k", "2", "--no-crosscheck", "--out", str(dev / "r.html"), "--json",
                       str(target)], "refuse", needles=(target.name,), watch=(dev,)))
    c += [
        Case("outputs/report--out/directory", "outputs", ["report", lip, "-k", "2", "--no-crosscheck", "--out",
                                                          str(a_dir)], "refuse", needles=("directory",),
             watch=(a_dir,)),
        Case("outputs/analyze--output/regular-file", "outputs", ["analyze", lip, "-k", "2", "--output", str(a_file)],
             "refuse", needles=("a-file",), protect=(a_file,)),
        Case("outputs/bootstrap--output/regular-file", "outputs",
             ["bootstrap", lip, "-k", "2", "-n", "10", "--output", str(a_file)], "refuse", needles=("a-file",),
             protect=(a_file,)),
        Case("outputs/report--out=--json", "outputs", ["report", lip, "-k", "2", "--no-crosscheck", "--out",
                                                       str(dev / "same.html"), "--json", str(dev / "same.html")],
             "refuse", needles=("same.html",), watch=(dev,)),
        Case("outputs/report--out=--json-symlink", "outputs",
             ["report", lip, "-k", "2", "--no-crosscheck", "--out", str(dev / "twice.html"), "--json",
              str(dev / "devices-link" / "twice.html")], "refuse", needles=("twice.html",)),
        Case("outputs/bootstrap--output=--figures", "outputs",
             ["bootstrap", lip, "-k", "2", "-n", "10", "--output", str(dev / "both"), "--figures",
              str(dev / "both")], "accept", check=_exists(dev / "both" / "loadings.csv",
                                                          dev / "both" / "congruence.png")),
        Case("outputs/report--out=-", "outputs", ["report", lip, "-k", "2", "--no-crosscheck", "--out", "-"],
             "accept", needles=("<!DOCTYPE html>",)),
        Case("outputs/report--json=-", "outputs", ["report", lip, "-k", "2", "--no-crosscheck", "--out",
                                                   str(dev / "r2.html"), "--json", "-"], "accept",
             needles=('"crosscheck"',)),
        Case("outputs/report--out=---json=-", "outputs", ["report", lip, "-k", "2", "--no-crosscheck", "--out", "-",
                                                          "--json", "-"], "refuse", needles=("standard output",)),
        Case("outputs/simulate-o=-", "outputs", ["simulate", "--planted", "3,3", "-o", "-"], "accept",
             needles=("s01",)),
        Case("outputs/analyze--output=-", "outputs", ["analyze", lip, "-k", "2", "--output", "-"], "refuse",
             needles=("directory",)),
    ]
    (dev / "devices-link").mkdir(exist_ok=True)
    if not (dev / "devices-link" / "twice.html").is_symlink():
        os.symlink(dev / "twice.html", dev / "devices-link" / "twice.html")
    return c


def _zscores_table() -> bytes:
    """Factor z-scores for the NAV loadings' four factors (the arrays, standardised): a valid --zscores table."""
    import numpy as np

    rows = [line.split(",") for line in NAV_ARRAYS.read_text(encoding="utf-8").splitlines()]
    a = np.array([[float(v) if v.strip() else 0.0 for v in r[1:]] for r in rows[1:]])  # blanks (unknown): 0
    z = (a - a.mean(axis=0)) / a.std(axis=0)
    return _csv([rows[0]] + [[r[0], *[f"{v:.4f}" for v in zr]] for r, zr in zip(rows[1:], z)]).encode()


def snapshot_cases(root: Path) -> list[Case]:
    """``qvalid snapshot`` and ``qvalid diff`` (issue 23): a snapshot aimed at its study, malformed snapshot files
    (not JSON, not a snapshot, truncated, a tampered field), a malformed R result, ``diff``'s reports aimed at the
    snapshot, bad tolerances. The good snapshot is written at build time by the probed qvalid (``-m qvalid``)."""
    d = root / "snapshots"
    d.mkdir(parents=True, exist_ok=True)
    study = _write(d / "study.csv", LIPSET.read_bytes())
    good = d / "good.qsnap.json"
    if not good.is_file():
        subprocess.run([sys.executable, "-m", "qvalid", "snapshot", str(study), "-k", "2", "-o", str(good)],
                       env=dict(os.environ, PYTHONPATH=str(PACKAGE or ROOT)), capture_output=True, timeout=120)
    text = good.read_text() if good.is_file() else "{}"
    bad = {  # name: (content, what the one line must name beside the file)
        "not-json": ("this is not a snapshot\n", "not JSON"),
        "json-list": ("[1, 2, 3]\n", "not a qvalid snapshot"),
        "empty-object": ("{}\n", "not a qvalid snapshot"),
        "truncated": (text[: len(text) // 2], "not JSON"),
        "nfactors-text": (text.replace('"nfactors": 2', '"nfactors": "two"', 1), "analysis.nfactors"),
        "study-cell": (text.replace('"scores": [', '"scores": ["x", ', 1), "study.scores"),
    }
    c = [Case("snapshots/snapshot/ok", "snapshots", ["snapshot", str(study), "-k", "2", "-o", str(d / "new.qsnap.json")],
              "accept", check=_exists(d / "new.qsnap.json"), protect=(study,)),
         Case("snapshots/snapshot-o-over-study", "snapshots", ["snapshot", str(study), "-k", "2", "-o", str(study)],
              "refuse", needles=("study.csv",), protect=(study,), watch=(d,)),
         Case("snapshots/snapshot-o-directory", "snapshots", ["snapshot", str(study), "-k", "2", "-o", str(d)],
              "refuse", protect=(study,)),
         Case("snapshots/snapshot-k-nan", "snapshots", ["snapshot", str(study), "-k", "nan", "-o",
                                                        str(d / "k.qsnap.json")], "refuse", needles=("nan",),
              watch=(d,)),
         Case("snapshots/diff/ok", "snapshots", ["diff", str(good)], "accept", needles=("SAME",), protect=(good,)),
         Case("snapshots/diff--junit-over-snapshot", "snapshots", ["diff", str(good), "--junit", str(good)], "refuse",
              needles=("good.qsnap.json",), protect=(good,), watch=(d,)),
         Case("snapshots/diff--markdown-over-snapshot", "snapshots", ["diff", str(good), "--markdown", str(good)],
              "refuse", needles=("good.qsnap.json",), protect=(good,), watch=(d,)),
         Case("snapshots/diff--markdown-over-study", "snapshots", ["diff", str(good), "--markdown", str(study)],
              "refuse", needles=("study.csv",), protect=(good, study), watch=(d,))]
    for name, (body, needle) in bad.items():
        p = _write(d / f"{name}.qsnap.json", body)
        c.append(Case(f"snapshots/diff/{name}", "snapshots", ["diff", str(p)], "refuse", needles=(p.name, needle),
                      protect=(p,), watch=(d,)))
    garbage = _write(d / "garbage.txt", "Results of qmethod\nnot really\n")
    c.append(Case("snapshots/diff/r-result-garbage", "snapshots", ["diff", str(good), str(garbage)], "refuse",
                  needles=("garbage.txt",), protect=(good, garbage), watch=(d,)))
    for val in ("nan", "-1", "loadings=abc", "nosuchoutput=1e-3"):
        c.append(Case(f"snapshots/diff--tolerance={val}", "snapshots", ["diff", str(good), "--tolerance", val],
                      "refuse", needles=(val.split("=")[-1] if val != "nosuchoutput=1e-3" else "nosuchoutput",),
                      protect=(good,), watch=(d,)))
    return c


def determinism_cases(root: Path) -> list[Case]:
    """Same inputs, same bytes: the report's JSON twice (with the live cross-check, whose timing must not leak)."""
    out = root / "out" / "determinism"
    c = []
    for i in (1, 2):
        c.append(Case(f"determinism/report-json-{i}", "determinism",
                      ["report", str(LIPSET), "-k", "2", "--bootstrap", "10", "--seed", "3", "--out",
                       str(out / "r.html"), "--json", str(out / "r.json")], "accept", codes=(0, 1),
                      check=_same_file_bytes(out / "r.json", out / "r.first.json", i)))
        c.append(Case(f"determinism/crosscheck-json-{i}", "determinism",
                      ["crosscheck", str(LIPSET), "-k", "2", "--format", "json"], "accept", codes=(0, 1),
                      check=_same_stdout(out / "crosscheck.json", i)))
    return c


def _same_file_bytes(path: Path, store: Path, i: int) -> Callable:
    """Run 1 keeps a copy of ``path``; run 2 must write the same bytes."""
    def check(_stdout):
        if not path.is_file():
            return f"{path} not written"
        if i == 1:
            shutil.copy(path, store)
            return None
        return None if store.read_bytes() == path.read_bytes() else f"{path.name} differs between two runs"
    return check


def _same_stdout(store: Path, i: int) -> Callable:
    def check(stdout):
        if i == 1:
            store.parent.mkdir(parents=True, exist_ok=True)
            store.write_text(stdout, encoding="utf-8")
            return None
        return None if store.read_text(encoding="utf-8") == stdout else "the second run printed other bytes"
    return check


def slow_cases(root: Path) -> list[Case]:
    """Cases that need a process of their own: a named pipe as input, R missing, a redirection onto an input."""
    d = root / "slow"
    d.mkdir(parents=True, exist_ok=True)
    fifo = d / "pipe.csv"
    if not fifo.exists():
        os.mkfifo(fifo)
    lip = str(LIPSET)
    out = root / "out" / "slow"
    nowhere = str(d / "no-r-home")
    no_r_path = str(d / "no-r-bin")
    Path(no_r_path).mkdir(exist_ok=True)
    c = [
        Case("slow/named-pipe/validate", "slow", ["validate", str(fifo)], "refuse", needles=("pipe",), slow=True,
             timeout=20),
        Case("slow/r-home-nowhere/crosscheck", "slow", ["crosscheck", lip, "-k", "2"], "refuse",
             needles=("R",), slow=True, env={"R_HOME": nowhere}),
        Case("slow/r-home-nowhere/report", "slow",
             ["report", lip, "-k", "2", "--out", str(out / "nor.html"), "--json", str(out / "nor.json")], "accept",
             slow=True, env={"R_HOME": nowhere}, check=_note_in_json(out / "nor.json", "R")),
        Case("slow/r-not-on-path/crosscheck", "slow", ["crosscheck", lip, "-k", "2"], "refuse", needles=("R",),
             slow=True, env={"PATH": no_r_path, "R_HOME": None}),
        Case("slow/r-not-on-path/report", "slow",
             ["report", lip, "-k", "2", "--out", str(out / "nop.html"), "--json", str(out / "nop.json")], "accept",
             slow=True, env={"PATH": no_r_path, "R_HOME": None}, check=_note_in_json(out / "nop.json", "R"),
             ci=False),
    ]
    broken = d / "broken-r-home"  # an R installation that dies at start, as a broken R_HOME makes R do
    (broken / "bin").mkdir(parents=True, exist_ok=True)
    script = broken / "bin" / "Rscript"
    script.write_text("#!/bin/sh\necho 'Fatal error: unable to open the base package' >&2\nexit 2\n")
    script.chmod(0o755)
    c += [
        Case("slow/r-broken/crosscheck", "slow", ["crosscheck", lip, "-k", "2"], "refuse",
             needles=("unable to open the base package",), slow=True, env={"R_HOME": str(broken)}),
        Case("slow/r-broken/report", "slow",
             ["report", lip, "-k", "2", "--out", str(out / "brk.html"), "--json", str(out / "brk.json")], "accept",
             slow=True, env={"R_HOME": str(broken)}, check=_note_in_json(out / "brk.json", "R"), ci=False),
        Case("slow/r-no-packages/crosscheck", "slow", ["crosscheck", lip, "-k", "2"], "refuse",
             needles=("not installed",), slow=True, env={"R_LIBS_SITE": "/usr/lib/R/library",
                                                         "R_LIBS_USER": nowhere}),
    ]
    # `qvalid validate study.csv >> study.csv`: standard output appended to the input
    app = _write(d / "append.csv", LIPSET.read_bytes())
    c.append(Case("slow/stdout-appends-to-input/validate", "slow", ["validate", str(app)], "refuse",
                  needles=("standard output",), slow=True, protect=(app,), env={"__STDOUT_APPEND__": str(app)}))
    return c


def signal_cases(root: Path) -> list[Case]:
    """SIGINT (to the whole process group, as Ctrl-C does) and SIGTERM (to the command alone) in the middle of a
    long batch: exit 130/143 within a second, one line, no temporary file, no process left."""
    d = root / "signals"
    d.mkdir(parents=True, exist_ok=True)
    big = d / "big.csv"
    if not big.exists():
        from qvalid.io import write_study
        from qvalid.simulate import planted_loadings, quasi_normal_grid, simulate_studies

        sim = simulate_studies(planted_loadings([100, 100, 100, 100], strength=0.6, rng=1), quasi_normal_grid(60), 1,
                               seed=1)
        write_study(sim.study(0), big)
    out = root / "out" / "signals"
    b = str(big)
    runs = [
        ("bootstrap", ["bootstrap", b, "-k", "4", "-n", "100000", "--output", str(out / "boot")], ("SIGINT", "group")),
        ("bootstrap-workers", ["bootstrap", b, "-k", "4", "-n", "100000", "--workers", "2", "--output",
                               str(out / "bootw")], ("SIGINT", "group")),
        ("bootstrap-workers-term", ["bootstrap", b, "-k", "4", "-n", "100000", "--workers", "2"], ("SIGTERM", "parent")),
        ("factors", ["factors", b, "--runs", "1000000", "--plot", str(out / "scree.png")], ("SIGINT", "group")),
        ("simulate-jobs", ["simulate", "--planted", "100,100", "--n-statements", "60", "--n-studies", "1000000",
                           "--jobs", "2", "-o", str(out / "sims")], ("SIGTERM", "parent")),
        ("report", ["report", b, "-k", "4", "--bootstrap", "100000", "--no-crosscheck", "--out",
                    str(out / "report.html")], ("SIGINT", "group")),
    ]
    in_ci = ("bootstrap-workers-term", "report")  # the watchdog path (one process) and the workers' path
    return [Case(f"signals/{name}-{sig[0]}", "signals", argv, "interrupt", slow=True, interrupt=sig, watch=(out,),
                 timeout=120, ci=name in in_ci) for name, argv, sig in runs]


def build(root: Path, *, slow: bool = True) -> list[Case]:
    cases = (study_cases(root) + option_cases(root) + table_cases(root) + kade_cases(root) + text_cases(root)
             + output_cases(root) + snapshot_cases(root) + determinism_cases(root))
    if slow:
        cases += slow_cases(root) + signal_cases(root)
    return cases


# ------------------------------------------------------------------------------------------------- running
def _fingerprint(paths) -> dict:
    out = {}
    for p in paths:
        p = Path(p)
        try:
            st = os.lstat(p)
        except OSError:
            out[str(p)] = None
            continue
        data = hashlib.sha256(p.read_bytes()).hexdigest() if stat.S_ISREG(st.st_mode) else None
        out[str(p)] = (stat.S_IFMT(st.st_mode), data)
    return out


def root_files(dirs):
    for d in dirs:
        if Path(d).is_dir():
            yield from Path(d).rglob("*")


def _listing(dirs) -> dict:
    return {str(d): sorted(os.listdir(d)) if Path(d).is_dir() else None for d in dirs}


def _run_inprocess(case: Case):
    from qvalid.cli import main

    out_bytes = io.BytesIO()
    out = io.TextIOWrapper(out_bytes, encoding="utf-8", newline="")
    err = io.StringIO()
    tb = None
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), \
            warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            code = main(list(case.argv))
        except SystemExit as ex:  # argparse's --help/--version or a usage error
            code = ex.code if isinstance(ex.code, int) else (0 if ex.code is None else 2)
        except BaseException:  # noqa: BLE001 - what a user would see as a traceback
            code, tb = "traceback", traceback.format_exc()
        try:
            out.flush()
        except ValueError:
            pass
    stdout = out_bytes.getvalue().decode("utf-8", errors="replace")
    msgs = [f"{w.category.__name__}: {w.message}" for w in caught]
    return code, stdout, err.getvalue(), tb, msgs


#: The directory whose ``qvalid`` package is probed (``--package``); None: the one imported here (this checkout,
#: or a mutant's copy under scripts/mutate.py).
PACKAGE = None


def _run_subprocess(case: Case, cwd):
    import qvalid

    env = dict(os.environ)
    env["PYTHONPATH"] = str(PACKAGE or Path(qvalid.__file__).resolve().parents[1])
    append = None
    for k, v in (case.env or {}).items():
        if k == "__STDOUT_APPEND__":
            append = v
        elif v is None:
            env.pop(k, None)
        else:
            env[k] = v
    cmd = [sys.executable, "-W", "always", "-m", "qvalid", *case.argv]
    if case.interrupt is not None:
        return _run_interrupted(case, cmd, env, cwd)
    stdout_target = open(append, "ab") if append else subprocess.PIPE  # noqa: SIM115
    try:
        p = subprocess.run(cmd, stdout=stdout_target, stderr=subprocess.PIPE, env=env, timeout=case.timeout,
                           input=case.stdin, cwd=cwd)
    except subprocess.TimeoutExpired:
        return "timeout", "", f"no answer within {case.timeout:g} s", None, []
    finally:
        if append:
            stdout_target.close()
    err = p.stderr.decode("utf-8", errors="replace")
    stdout = "" if append else p.stdout.decode("utf-8", errors="replace")
    tb = err if "Traceback (most recent call last)" in err else None
    msgs = [line for line in err.splitlines() if "Warning:" in line]
    return p.returncode, stdout, err, tb, msgs


def _session_cpu(sid: int) -> float:
    """CPU seconds used so far by the processes of session ``sid`` (Linux /proc)."""
    ticks = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == sid:
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def _session_alive(sid: int) -> list:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[3]) == sid and fields[0] != "Z":
                out.append(int(entry))
    return out


#: CPU seconds a command must have used before it is interrupted: past Python's start and the imports (Python's
#: own KeyboardInterrupt message is all a Ctrl-C can give while qvalid is still being imported), in its batch.
BUSY_CPU = 1.5


def _run_interrupted(case: Case, cmd, env, cwd):
    """Start the command in a session of its own, wait until it computes, send the signal, and time the exit."""
    name, whom = case.interrupt
    signum = getattr(signal, name)
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=cwd,
                         start_new_session=True)
    t_end = time.monotonic() + case.timeout
    while _session_cpu(p.pid) < BUSY_CPU and p.poll() is None and time.monotonic() < t_end:
        time.sleep(0.1)
    if p.poll() is not None:
        out, err = p.communicate()
        return p.returncode, out.decode(errors="replace"), "finished before it could be interrupted: " + \
            err.decode(errors="replace"), None, []
    t0 = time.monotonic()
    (os.killpg if whom == "group" else os.kill)(p.pid, signum)
    try:
        out, err = p.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.communicate()
        return "timeout", "", f"still running 30 s after {name}", None, []
    latency = time.monotonic() - t0
    time.sleep(0.3)
    left = _session_alive(p.pid)
    for pid in left:  # never leave a process behind
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    err = err.decode("utf-8", errors="replace")
    tb = err if "Traceback (most recent call last)" in err else None
    warned = [line for line in err.splitlines() if "Warning" in line]
    extra = []
    if latency > 1.0:
        extra.append(f"exit took {latency:.2f} s after {name}")
    if left:
        extra.append(f"{len(left)} process(es) still running")
    return (p.returncode, out.decode(errors="replace"), err + "".join(f"\n{e}" for e in extra), tb, warned)


def run_case(case: Case, cwd) -> Outcome:
    """Run one case with ``cwd`` as the working directory (a relative output such as ``-`` lands there)."""
    before, listing = _fingerprint(case.protect), _listing(case.watch)
    t0 = time.perf_counter()
    if case.slow:
        code, stdout, err, tb, warned = _run_subprocess(case, cwd)
    else:
        here = os.getcwd()
        os.chdir(cwd)
        try:
            code, stdout, err, tb, warned = _run_inprocess(case)
        finally:
            os.chdir(here)
    seconds = time.perf_counter() - t0
    lines = [line for line in err.splitlines() if line.strip()]
    if case.expect == "accept":  # qvalid's own notes (an unused column, ...) are part of an accepted run
        lines = [line for line in lines if not line.startswith(f"qvalid {case.argv[0]}: warning: ")]
    message = lines[0] if lines else ""
    problem = None
    if tb is not None:
        problem = "traceback: " + (tb.strip().splitlines()[-1] if tb.strip() else "?")
    elif code == "timeout":
        problem = "hangs: " + err
    elif warned:
        problem = "warning reached the user: " + warned[0]
    elif case.expect == "interrupt":
        signum = getattr(signal, case.interrupt[0])
        want = f"qvalid {case.argv[0]}: interrupted ({case.interrupt[0]})"
        if code != 128 + signum:
            problem = f"exit {code} (expected {128 + signum}): {message[:120]}"
        elif lines != [want]:
            problem = f"stderr is not the one line {want!r}: {lines[-1][:120] if lines else ''}"
        else:
            temps = [str(p) for p in root_files(case.watch) if p.name.endswith(".tmp")]
            if temps:
                problem = f"temporary file left: {temps[0]}"
    elif case.expect == "refuse":
        if code == 0:
            problem = "exit 0 on garbage"
        elif code != 2:
            problem = f"exit {code} (expected 2)"
        elif len(lines) != 1:
            problem = f"{len(lines)} lines on stderr (expected one)"
        elif not message.startswith("qvalid"):
            problem = f"not qvalid's message: {message[:120]}"
        elif stdout.strip():
            problem = "refused but printed on stdout"
        else:
            missing = [n for n in case.needles if n not in message]
            if missing:
                problem = f"message lacks {missing[0]!r}"
    else:
        if code not in case.codes:
            problem = f"exit {code} (expected {'/'.join(map(str, case.codes))}): {message[:160]}"
        elif lines:
            problem = f"stderr not empty: {message[:160]}"
        else:
            missing = [n for n in case.needles if n not in stdout]
            if missing:
                problem = f"stdout lacks {missing[0]!r}"
            elif case.check is not None:
                problem = case.check(stdout)
    if problem is None or problem.startswith(("exit 0", "message", "refused")):
        after, listing_after = _fingerprint(case.protect), _listing(case.watch)
        changed = [p for p in before if before[p] != after[p]]
        if changed:
            problem = f"input modified: {Path(changed[0]).name}"
        elif case.expect == "refuse" and listing != listing_after:
            new = {k: sorted(set(listing_after[k] or []) - set(listing[k] or [])) for k in listing}
            problem = f"refused but wrote files: {[n for v in new.values() for n in v][:3]}"
    return Outcome(case, problem, code, message, seconds)


def run(cases: list[Case], cwd, *, verbose: bool = False) -> list[Outcome]:
    outcomes = []
    for case in cases:
        o = run_case(case, cwd)
        outcomes.append(o)
        if verbose:
            print(f"{'ok  ' if o.ok else 'FAIL'} {o.seconds:6.2f}s {case.id}: {o.problem or o.message}",
                  file=sys.stderr)
    return outcomes


#: How failures are grouped in the counts (first match of the problem's start).
KINDS = (("traceback", "traceback"), ("exit 0 on garbage", "exit 0 on garbage"), ("hangs", "hangs"),
         ("warning", "a Python warning reached the user"), ("input modified", "an input was overwritten"),
         ("refused but wrote", "refused but wrote a file"), ("message lacks", "the message does not quote or name "
                                                                              "what it must"),
         ("exit", "a wrong exit code"), ("stderr", "more than one line, or stray lines, on stderr"),
         ("", "the output or the case's own check is wrong"))


def kind(problem: str) -> str:
    if " lines on stderr" in problem:
        return "more than one line, or stray lines, on stderr"
    return next(name for start, name in KINDS if problem.startswith(start))


def counts(outcomes: list[Outcome]) -> dict:
    """Per family: tried, refused cleanly (refuse cases that held), accepted correctly (accept cases that held),
    failed, and the failures by kind."""
    fams = {}
    for o in outcomes:
        f = fams.setdefault(o.case.family, Counter())
        f["tried"] += 1
        if o.ok:
            f[{"refuse": "refused cleanly", "accept": "accepted correctly", "interrupt": "stopped cleanly"}[
                o.case.expect]] += 1
        else:
            f["failed"] += 1
            f["kind: " + kind(o.problem)] += 1
    total = Counter()
    for f in fams.values():
        total.update(f)
    fams["all"] = total
    return fams


FAMILIES = {
    "study": "malformed and valid study files (CSV/TSV, .DAT/.STA, .xlsx/.ods, KADE workbooks, not-files) x the six "
             "commands that read a study",
    "options": "bad option values of every command (the Options table and the CLI-only options)",
    "tables": "loadings, arrays, flags and statement tables (flag, verify, simulate, analyze --flags, report)",
    "kade": "KADE result workbooks with one malformed cell (compare, validate, analyze --flags)",
    "texts": "hostile texts in reports and figures (3000-character ids, Chinese and Japanese ids, bidi overrides)",
    "outputs": "outputs aimed at inputs (path, symlink, hard link, dotted path), devices, pipes, directories, "
               "one path for two outputs, '-' for standard output",
    "snapshots": "qvalid snapshot and diff: a snapshot aimed at its study, malformed snapshot files and R results, "
                 "diff's reports aimed at its inputs, bad tolerances",
    "determinism": "same inputs, same bytes (report JSON with the live cross-check, crosscheck JSON)",
    "slow": "in a process of their own: a named pipe as input, R missing (R_HOME nowhere, R not on PATH, a broken "
            "R, no qmethod), standard output appended to an input",
    "signals": "SIGINT to the process group (Ctrl-C) or SIGTERM to the command, in the middle of a batch: exit "
               "130/143 within 1 s, one line, no temporary file, no process left",
}


def markdown(table: dict) -> str:
    rows = ["| family | what | tried | refused cleanly | accepted correctly | stopped cleanly | failed |",
            "|---|---|---|---|---|---|---|"]
    for fam, c in table.items():
        what = FAMILIES.get(fam, "all families")
        rows.append(f"| {fam} | {what} | {c['tried']} | {c['refused cleanly']} | {c['accepted correctly']} | "
                    f"{c['stopped cleanly']} | {c['failed']} |")
    return "\n".join(rows)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--keep", metavar="DIR", help="build the corpus in DIR and keep it")
    ap.add_argument("--family", action="append", help="only these families")
    ap.add_argument("--only", action="append", metavar="ID", help="only these case ids")
    ap.add_argument("--no-slow", action="store_true", help="skip the cases that run in a process of their own")
    ap.add_argument("--verbose", "-v", action="store_true")
    ap.add_argument("--markdown", action="store_true", help="print the counts as a Markdown table")
    ap.add_argument("--json", metavar="FILE", help="write every outcome as JSON lines")
    ap.add_argument("--package", metavar="DIR", help="probe the qvalid package in DIR (default: this checkout)")
    args = ap.parse_args(argv)
    global PACKAGE
    PACKAGE = Path(args.package).resolve() if args.package else ROOT
    sys.path.insert(0, str(PACKAGE))
    import qvalid

    print(f"probing {Path(qvalid.__file__).parent}", file=sys.stderr)
    root = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="qvalid-reliability-"))
    try:
        cases = build(root, slow=not args.no_slow)
        if args.family:
            cases = [c for c in cases if c.family in args.family]
        if args.only:
            cases = [c for c in cases if c.id in args.only]
        t0 = time.perf_counter()
        outcomes = run(cases, root, verbose=args.verbose)
        seconds = time.perf_counter() - t0
        table = counts(outcomes)
        if args.json:
            with open(args.json, "w", encoding="utf-8") as fh:
                for o in outcomes:
                    fh.write(json.dumps({"id": o.case.id, "family": o.case.family, "expect": o.case.expect,
                                         "ok": o.ok, "problem": o.problem, "code": o.code, "message": o.message,
                                         "seconds": round(o.seconds, 3)}) + "\n")
        if args.markdown:
            print(markdown(table))
        else:
            for fam, c in table.items():
                kinds = ", ".join(f"{k[6:]} {v}" for k, v in sorted(c.items()) if k.startswith("kind: "))
                print(f"{fam:12s} tried {c['tried']:4d}  refused cleanly {c['refused cleanly']:4d}  accepted "
                      f"correctly {c['accepted correctly']:4d}  stopped cleanly {c['stopped cleanly']:3d}  failed "
                      f"{c['failed']:4d}" + (f"  ({kinds})" if kinds else ""))
            for o in outcomes:
                if not o.ok:
                    print(f"FAIL {o.case.id}: {o.problem}  [{o.message[:150]}]")
        print(f"{len(outcomes)} cases in {seconds:.1f} s", file=sys.stderr)
        return 0 if all(o.ok for o in outcomes) else 1
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
