"""Hypothesis fuzzing of the readers and of option parsing (issue 20): whatever the bytes, a reader returns a valid
object or raises :class:`QInputError` with a one-line message; never another exception, never a Python warning (the
suite runs with warnings as errors, pyproject ``filterwarnings``), never a silently wrong number.

Inputs are built from pieces that broke readers before (``nan``, ``inf``, ``1e400``, ``0_0``, Arabic and
full-width digits, ``TRUE``, quotes, separators, byte-order marks, NUL bytes) and, to reach deep code, valid files
with one cell or one line replaced. ``QVALID_HYPOTHESIS_PROFILE=thorough`` runs ten times as many examples.
"""

from __future__ import annotations

import math
import os
import re
import string
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qvalid.cli import main
from qvalid.errors import QInputError
from qvalid.io import read_dat, read_flags, read_statement_texts, read_study
from qvalid.io.published import read_loadings, read_table
from qvalid.numbers import NumberError, number
from qvalid.options import OPTION_INFO
from qvalid.study import QStudy

ROOT = Path(__file__).resolve().parents[1]
LIPSET = ROOT / "reference" / "data" / "lipset" / "lipset.csv"
LIPSET_DAT = ROOT / "reference" / "data" / "lipset_kade" / "LIPSET.DAT"
NAV = ROOT / "reference" / "data" / "nav_aap_2023" / "loadings_published.csv"
ARRAYS = ROOT / "reference" / "data" / "nav_aap_2023" / "factor_arrays_reconstructed.csv"

THOROUGH = os.environ.get("QVALID_HYPOTHESIS_PROFILE") == "thorough"
FUZZ = settings(max_examples=600 if THOROUGH else 60, deadline=None, derandomize=not THOROUGH, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

#: Cell texts that broke readers before, or are near a rule's edge.
TOKENS = ["", " ", "0", "1", "-1", "+3", "3.0", "1.5", "-0", "nan", "NaN", "NA", "inf", "-inf", "Infinity", "1e400",
          "1e20", "99999999999999999999", "0_0", "1_0", "\u0663", "\uff13", "TRUE", "FALSE", "0x3", "1,0", '"', '""',
          "x", "é", "\u202e", "\x00", "\t", ";", ",", "\n", "\r\n", "1e-400", "4", "-4", "9", "1e2", ".5", "5."]
token = st.sampled_from(TOKENS)


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def _one_line(err: QInputError) -> None:
    text = str(err)
    assert text and "\n" not in text and "\r" not in text, repr(text)
    assert "Traceback" not in text


def _read(reader, path, *args, **kw):
    """Call a reader: a value or a one-line QInputError; anything else fails the test."""
    try:
        return reader(path, *args, **kw)
    except QInputError as err:
        _one_line(err)
        return None


def _cell_edit(lines: list[str], row: int, col: int, cell: str, sep: str = ",") -> str:
    rows = [line.split(sep) for line in lines]
    row %= len(rows)
    col %= len(rows[row])
    rows[row][col] = cell
    return "\n".join(sep.join(r) for r in rows) + "\n"


# ------------------------------------------------------------------------------------------------ studies
@FUZZ
@given(row=st.integers(0, 40), col=st.integers(0, 10), cell=token)
def test_study_csv_with_one_cell_replaced(tmp_path_factory, row, col, cell):
    p = tmp_path_factory.mktemp("f") / "s.csv"
    p.write_bytes(_cell_edit(_lines(LIPSET), row, col, cell).encode("utf-8", "surrogatepass"))
    s = _read(read_study, p)
    if s is not None:  # accepted: every score is an integer on the grid, read as written
        assert isinstance(s, QStudy) and s.scores.dtype == np.int64
        assert set(np.unique(s.scores)) <= set(s.grid)


@FUZZ
@given(text=st.lists(token, min_size=0, max_size=60).map("".join), suffix=st.sampled_from([".csv", ".tsv", ".DAT"]),
       bom=st.sampled_from([b"", b"\xef\xbb\xbf", b"\xff\xfe"]))
def test_study_files_from_pieces(tmp_path_factory, text, suffix, bom):
    p = tmp_path_factory.mktemp("f") / f"s{suffix}"
    data = text.encode("utf-16-le") if bom == b"\xff\xfe" else text.encode("utf-8")
    p.write_bytes(bom + data)
    s = _read(read_study, p)
    assert s is None or isinstance(s, QStudy)


@FUZZ
@given(line=st.integers(0, 12), cut=st.integers(0, 80), piece=token)
def test_dat_with_one_line_spoiled(tmp_path_factory, line, cut, piece):
    d = tmp_path_factory.mktemp("f")
    lines = _lines(LIPSET_DAT)
    i = line % len(lines)
    lines[i] = lines[i][:cut] + piece + lines[i][cut + len(piece):]
    (d / "S.DAT").write_bytes(("\n".join(lines) + "\n").encode("utf-8"))
    s = _read(read_dat, d / "S.DAT")
    assert s is None or set(np.unique(s.scores)) <= set(s.grid)


@FUZZ
@given(value=st.one_of(st.booleans(), st.floats(allow_nan=True, allow_infinity=True), st.integers(-10**30, 10**30),
                       token, st.datetimes(min_value=__import__("datetime").datetime(1900, 1, 1))),
       row=st.integers(2, 33), col=st.integers(2, 10))
def test_workbook_cells(tmp_path_factory, value, row, col):
    import openpyxl

    rows = [[c.strip('"') for c in line.split(",")] for line in _lines(LIPSET)]
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append([None, *rows[0][1:]])
    for r in rows[1:]:
        ws.append([r[0], *[int(c) for c in r[1:]]])
    if isinstance(value, str):
        value = "".join(ch for ch in value if ch not in "\x00")  # openpyxl refuses control characters
    if isinstance(value, float) and not math.isfinite(value):
        value = str(value)  # a workbook cannot store these as numbers
    ws.cell(row=row + 1, column=col).value = value
    p = tmp_path_factory.mktemp("f") / "s.xlsx"
    try:
        wb.save(p)
    except Exception:  # openpyxl's own refusal of a value it cannot store: not qvalid's business
        return
    s = _read(read_study, p)
    if s is not None:
        assert set(np.unique(s.scores)) <= set(s.grid)


# ------------------------------------------------------------------------------------------------ tables
@FUZZ
@given(row=st.integers(0, 26), col=st.integers(0, 7), cell=token)
def test_loadings_tables_with_one_cell_replaced(tmp_path_factory, row, col, cell):
    p = tmp_path_factory.mktemp("f") / "l.csv"
    p.write_text(_cell_edit(_lines(NAV), row, col, cell), encoding="utf-8")
    got = _read(read_loadings, p)
    if got is not None:  # flag's reader: every loading a finite number in [-1, 1]
        _, _, a = got
        assert np.isfinite(a).all() and (np.abs(a) <= 1).all()
    t = _read(read_table, p, kind="loadings")
    if t is not None:
        known = t.values[~np.isnan(t.values)]
        assert (np.abs(known) <= 1).all() and len(t.ids) == t.values.shape[0] > 0


@FUZZ
@given(row=st.integers(0, 37), col=st.integers(0, 4), cell=token)
def test_arrays_tables_with_one_cell_replaced(tmp_path_factory, row, col, cell):
    p = tmp_path_factory.mktemp("f") / "a.csv"
    p.write_text(_cell_edit(_lines(ARRAYS), row, col, cell), encoding="utf-8")
    t = _read(read_table, p, kind="arrays")
    if t is not None:
        known = t.values[~np.isnan(t.values)]
        assert (known == np.round(known)).all() and np.isfinite(known).all()


@FUZZ
@given(row=st.integers(0, 9), col=st.integers(0, 2), cell=token)
def test_flags_tables_with_one_cell_replaced(tmp_path_factory, row, col, cell):
    ids = [h.strip('"') for h in _lines(LIPSET)[0].split(",")[1:]]
    lines = ["sort,f1,f2"] + [f"{sid},{'X' if i % 2 else ''},{'' if i % 2 else '1'}" for i, sid in enumerate(ids)]
    p = tmp_path_factory.mktemp("f") / "flags.csv"
    p.write_text(_cell_edit(lines, row, col, cell), encoding="utf-8")
    fl = _read(read_flags, p, ids, 2)
    assert fl is None or (fl.dtype == bool and fl.shape == (9, 2))


@FUZZ
@given(text=st.lists(token, max_size=40).map("".join))
def test_statement_texts_from_pieces(tmp_path_factory, text):
    p = tmp_path_factory.mktemp("f") / "t.csv"
    p.write_text(text, encoding="utf-8")
    got = _read(read_statement_texts, p)
    assert got is None or isinstance(got, dict)


# ------------------------------------------------------------------------------------------------ numbers, options
_GRAMMAR = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)


@FUZZ
@given(text=st.one_of(token, st.text(alphabet=string.printable + "\u0663\uff13\u00e9", max_size=12),
                      st.floats().map(repr), st.integers().map(str)))
def test_number_rule(text):
    """A text is accepted exactly when it is ASCII decimal notation of a finite number, and then it is that
    number; a refusal quotes the text as written."""
    written = _GRAMMAR.fullmatch(text.strip()) is not None
    try:
        v = number(text)
    except NumberError as err:
        assert repr(text) in str(err)
        assert not written or not math.isfinite(float(text.strip()))
        return
    assert written and math.isfinite(v) and v == float(text.strip())


@FUZZ
@given(name=st.sampled_from(sorted(n for n, i in OPTION_INFO.items() if i.kind in (int, float))),
       text=st.one_of(token, st.floats().map(repr), st.integers(-10**6, 10**6).map(str)))
def test_option_values_parse_or_refuse_by_the_table(name, text):
    info = OPTION_INFO[name]
    try:
        v = info.parse(text)
    except ValueError as err:
        assert repr(text) in str(err)
        return
    assert info.problem(name, v) is None  # accepted values are in the table's range, finite, whole for ints


@FUZZ
@given(flag_=st.sampled_from(["--threshold", "--z", "--n-statements"]),
       text=st.one_of(token, st.floats().map(repr), st.integers(-100, 100).map(str)))
def test_flag_command_options(capsys, flag_, text):
    args = ["flag", str(NAV), f"{flag_}={text}"] + (["--threshold", "0.42"] if flag_ == "--z" else [])
    code = main(args)
    out, err = capsys.readouterr()
    assert code in (0, 2)
    if code == 2:
        assert err.count("\n") == 1 and err.startswith("qvalid") and out == ""
    else:
        assert err == ""


@FUZZ
@given(grid=st.lists(token, min_size=1, max_size=6).map(":".join))
def test_grid_option(capsys, grid):
    code = main(["validate", str(LIPSET), f"--grid={grid}"])
    out, err = capsys.readouterr()
    assert code in (0, 2) and (code == 0) == (err == "")
    if code == 2:
        assert err.count("\n") == 1 and err.startswith("qvalid validate: error:")


def test_fuzz_corpus_files_exist():
    # the fuzzers start from these files; a test that silently fuzzes nothing would pass for the wrong reason
    for p in (LIPSET, LIPSET_DAT, NAV, ARRAYS):
        assert p.is_file() and p.stat().st_size > 100

