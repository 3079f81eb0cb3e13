"""Nothing lost, nothing silent (issue 20): the reliability probe of ``scripts/reliability.py`` in CI, and the
mechanisms under it (outputs never over inputs, atomic writes, the one number rule, interrupts, the R probe).

The probe's corpus (malformed and valid files in every format, bad option values, hostile texts, outputs aimed at
inputs, R missing, signals) is built once per run; each family runs as one test that lists every case that did not
hold. CI skips a few slow cases (``Case.ci``: four of the six signals, two of the three reports without R, the
reports of the valid study variants); ``QVALID_HYPOTHESIS_PROFILE=thorough`` runs them all. The counts of
docs/reliability.md come from ``.venv/bin/python scripts/reliability.py --markdown`` (every case).
"""

from __future__ import annotations

import importlib.util
import os
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from qvalid.errors import QInputError
from qvalid.io import read_csv, read_study, write_csv
from qvalid.io import files
from qvalid.numbers import MAX_EXACT, NumberError, number, range_text, shown

ROOT = Path(__file__).resolve().parents[1]
LIPSET = ROOT / "reference" / "data" / "lipset" / "lipset.csv"
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _r import require_r  # noqa: E402

_spec = importlib.util.spec_from_file_location("qvalid_reliability", ROOT / "scripts" / "reliability.py")
probe = sys.modules["qvalid_reliability"] = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(probe)

THOROUGH = os.environ.get("QVALID_HYPOTHESIS_PROFILE") == "thorough"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus")
    return root, probe.build(root)


def _needs_r(case) -> bool:
    return case.family == "determinism" or (case.argv[0] == "crosscheck" and case.expect == "accept")


# ------------------------------------------------------------------------------------------------ outputs
def test_check_outputs_refuses_inputs_by_path_link_and_inode(tmp_path):
    src = tmp_path / "in.csv"
    src.write_bytes(LIPSET.read_bytes())
    os.symlink(src, tmp_path / "sym.csv")
    os.link(src, tmp_path / "hard.csv")
    with files.guard_inputs():
        read_study(src)
        for t in (src, tmp_path / "sym.csv", tmp_path / "hard.csv", tmp_path / "x" / ".." / "in.csv"):
            with pytest.raises(QInputError, match="refusing to overwrite .*in.csv, an input of this command"):
                files.check_outputs([t])
        assert files.check_outputs([tmp_path / "new.csv"]) == [tmp_path / "new.csv"]
    files.check_outputs([src])  # outside the guard, a file read earlier is no input of anything


def test_a_program_can_name_its_own_inputs(tmp_path):
    """note_input(path) (no stat given) inside guard_inputs: that file is then refused as an output; a path that
    does not exist is no input."""
    mine = tmp_path / "mine.csv"
    mine.write_text("x\n")
    with files.guard_inputs():
        files.note_input(mine)
        files.note_input(tmp_path / "missing.csv")
        with pytest.raises(QInputError, match="refusing to overwrite .*mine.csv"):
            files.check_outputs([mine])
        assert files.check_outputs([tmp_path / "missing.csv"]) == [tmp_path / "missing.csv"]


def test_check_outputs_refuses_devices_streams_directories_and_twins(tmp_path):
    os.mkfifo(tmp_path / "fifo")
    os.symlink("/proc/self/fd/1", tmp_path / "stdout")
    (tmp_path / "dir").mkdir()
    for target, why in [("/dev/null", "a device or stream"), (tmp_path / "stdout", "/proc/self/fd/1"),
                        (tmp_path / "fifo", "a named pipe"), (tmp_path / "dir", "is a directory"),
                        ("-", "standard output")]:
        with pytest.raises(QInputError, match=why):
            files.check_outputs([target])
    os.symlink(tmp_path / "a.html", tmp_path / "b.html")
    with pytest.raises(QInputError, match="two outputs of this command are the same file"):
        files.check_outputs([tmp_path / "a.html", tmp_path / "b.html"])
    with pytest.raises(QInputError, match=r"refusing to overwrite .*lipset\.csv, the file this study was read from"):
        files.refuse_source(read_csv(LIPSET), LIPSET)


def test_atomic_write_follows_a_symlink_and_keeps_it(tmp_path):
    (tmp_path / "real.txt").write_text("old")
    os.symlink(tmp_path / "real.txt", tmp_path / "link.txt")
    assert files.atomic_write({tmp_path / "link.txt": "new"}) == [tmp_path / "real.txt"]
    assert (tmp_path / "link.txt").is_symlink() and (tmp_path / "real.txt").read_text() == "new"


def test_an_interrupt_during_a_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    target = tmp_path / "t.csv"
    target.write_text("old")

    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(files.os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        files.atomic_write({target: "new", tmp_path / "u.csv": "other"})
    assert target.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["t.csv"]
    assert not files._LIVE


def test_named_temporary_files_fallback_and_removal(tmp_path, monkeypatch):
    monkeypatch.setattr(files, "_unnamed", lambda target, data: None)  # a system without O_TMPFILE
    files.atomic_write({tmp_path / "a.txt": "x"})
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]
    live = tmp_path / ".a.txt.0123abcd.tmp"
    live.write_text("half")
    files._LIVE.add(live)
    files.remove_temporaries()
    assert not live.exists() and not files._LIVE
    stale, fresh = tmp_path / ".a.txt.00000000.tmp", tmp_path / ".a.txt.11111111.tmp"
    stale.write_text("left by kill -9")
    fresh.write_text("another writer, now")
    os.utime(stale, (time.time() - files.STALE_SECONDS - 5,) * 2)
    files.atomic_write({tmp_path / "a.txt": "y"})
    assert not stale.exists() and fresh.exists() and (tmp_path / "a.txt").read_text() == "y"


def test_kill_9_while_writing_leaves_no_temporary_and_no_torn_file(tmp_path):
    code = ("import sys; from qvalid.io.files import atomic_write; "
            "atomic_write({sys.argv[1]: b'q' * 300_000_000})")
    target = tmp_path / "big.bin"
    for delay in (0.15, 0.4, 0.8):
        p = subprocess.Popen([sys.executable, "-c", code, str(target)])
        time.sleep(delay)
        p.kill()
        p.wait()
        names = sorted(x.name for x in tmp_path.iterdir())
        assert not [n for n in names if n.endswith(".tmp")], names
        assert not target.exists() or target.stat().st_size == 300_000_000


def test_reading_a_pipe_with_a_writer_and_refusing_one_without(tmp_path):
    fifo = tmp_path / "p.csv"
    os.mkfifo(fifo)
    with pytest.raises(QInputError, match="a named pipe that no program writes to"):
        files.read_bytes(fifo)
    data = LIPSET.read_bytes()

    def writer():
        with open(fifo, "wb") as fh:
            fh.write(data)

    t = threading.Thread(target=writer)
    t.start()
    for _ in range(100):  # the writer has the pipe open once open() returned in the thread
        time.sleep(0.01)
        try:
            got = files.read_bytes(fifo)
        except QInputError:
            continue
        break
    t.join()
    assert got == data
    with pytest.raises(QInputError, match="character device"):
        files.read_bytes("/dev/zero")


def test_stdout_redirected_onto_an_input(tmp_path):
    p = tmp_path / "s.csv"
    p.write_bytes(LIPSET.read_bytes())

    def validate_appending():  # `qvalid validate s.csv >> s.csv`
        with open(p, "ab") as out:
            return subprocess.run([sys.executable, "-m", "qvalid", "validate", str(p)], stdout=out,
                                  stderr=subprocess.PIPE, cwd=tmp_path)

    r = validate_appending()
    assert r.returncode == 2 and b"standard output is redirected to" in r.stderr
    assert p.read_bytes() == LIPSET.read_bytes()
    p.write_bytes(b"")  # `qvalid validate s.csv > s.csv`: the shell emptied it first
    r = validate_appending()
    assert r.returncode == 2 and b"empty file (standard output is redirected to it" in r.stderr


def test_library_writers_refuse_their_sources(tmp_path):
    src = tmp_path / "in.csv"
    src.write_bytes(LIPSET.read_bytes())
    s = read_csv(src)
    with pytest.raises(QInputError, match="the file this study was read from"):
        write_csv(s, tmp_path / "." / "in.csv")
    from qvalid import analyze
    from qvalid.report import Report

    rep = Report(analyze(s, 2), inputs=(str(LIPSET),))
    with pytest.raises(QInputError, match="a file this report was made from"):
        rep.write(tmp_path / "r.html", LIPSET)
    with pytest.raises(QInputError, match="the HTML and the JSON are the same file"):
        rep.write(tmp_path / "r.html", tmp_path / "r.html")
    assert not (tmp_path / "r.html").exists()


# ------------------------------------------------------------------------------------------------ numbers
@pytest.mark.parametrize("text, why", [
    ("nan", "is not a finite number"), ("inf", "is not a finite number"), ("1e400", "is not a finite number"),
    ("0_0", "is not a number"), ("\u0663", "is not a number"), ("\uff13", "is not a number"), ("0x3", "is not a number"),
    ("TRUE", "is not a number"), ("", "is not a number"), ("1,5", "is not a number"), ("+-1", "is not a number")])
def test_number_refusals_quote_the_text(text, why):
    with pytest.raises(NumberError) as err:
        number(text)
    assert str(err.value) == f"{text!r} {why}"


def test_number_values_ranges_and_whole_numbers():
    assert number(" -3 ") == -3.0 and number("+0.42") == 0.42 and number(".5") == 0.5 and number("1e-5") == 1e-5
    assert number("3.0", whole=True) == 3 and type(number("3", whole=True)) is int
    assert number("99999999999999999999999", whole=True) == 99999999999999999999999  # digits: exact
    for bad, kind in [("1.5", "not-whole"), ("1e20", "too-large"), (1e300, "too-large")]:
        with pytest.raises(NumberError) as err:
            number(bad, whole=True)
        assert err.value.kind == kind
    assert number(2 ** 53, whole=True) == MAX_EXACT
    with pytest.raises(NumberError, match=r"'-1' must be >= 0"):
        number("-1", whole=True, low=0)
    with pytest.raises(NumberError, match=r"'0' must be in \(0, 1\)"):
        number("0", low=0, high=1, low_open=True, high_open=True)
    with pytest.raises(NumberError, match="is a logical value"):
        number(True)
    for odd in (None, [1], b"1", 1j):  # neither a text nor a stored number
        with pytest.raises(NumberError, match="is not a number"):
            number(odd)
    assert range_text(0, 8, whole=True) == "0..8" and range_text(0, None, low_open=True) == "> 0"
    assert range_text(0, None, low_open=True, whole=True) == ">= 1" and range_text(None, 10, whole=True) == "<= 10"
    assert range_text(None, 10, high_open=True, whole=True) == "<= 9" and range_text(None, 1) == "<= 1"
    assert range_text(0.5, 2.5, whole=True) == "1..2" and range_text(-1, 1, True, True) == "in (-1, 1)"
    assert shown(1e20) == "1e+20" and shown(7.0) == "7" and shown(False) == "FALSE" and shown(" 1 ") == "' 1 '"


def test_stored_numbers_that_are_not_finite_are_refused():
    """A spreadsheet cell or a value handed over as a float (not a text) goes through the same rule: NaN and
    infinities are refused, quoted as stored."""
    for value in (float("nan"), float("inf"), np.float64("-inf")):
        with pytest.raises(NumberError, match="is not a finite number") as err:
            number(value)
        assert err.value.kind == "not-finite"
    assert number(np.float64(0.25)) == 0.25


@pytest.mark.parametrize("cell, message", [
    ("99999999999999999999", "value '99999999999999999999' is not an integer grid score"),
    ("1e20", "value '1e20' is not an integer grid score"), ("0_0", "value '0_0' is not a number"),
    ("FALSE", "value 'FALSE' is not a number"), ("\u0663", "value '\u0663' is not a number"),
    (True, "value TRUE is not a number"), (1e20, "value 1e+20 is not an integer grid score")])
def test_study_cells_are_quoted_as_written(cell, message):
    from qvalid.study import QStudy

    raw = np.array([[-1, 0, 1], [0, 1, -1], [1, -1, 0]], dtype=object)
    raw[1, 2] = cell
    with pytest.raises(QInputError) as err:
        QStudy.from_array(raw)
    assert str(err.value) == f"sort s3, statement sta_2: {message}"
    with pytest.raises(QInputError, match="value TRUE is not a number"):
        QStudy.from_array(np.array([[True, False], [False, True]]))


# ------------------------------------------------------------------------------------------------ the rest
def test_map_is_undefined_when_no_unique_variance_is_left():
    from qvalid.factors.criteria import velicer_map

    r = np.ones((5, 5))
    map2, map4 = velicer_map(r)
    assert map2[0] == 0.0 or np.isfinite(map2[0])
    assert np.isnan(map2[1:]).all() and np.isnan(map4[1:]).all()
    r = np.eye(5) * 0.5 + 0.5
    map2, _ = velicer_map(r)
    assert np.isfinite(map2).all()


def test_command_line_defaults_are_the_documented_ones():
    from qvalid.cli import make_parser

    p = make_parser()
    b = p.parse_args(["bootstrap", "s.csv", "-k", "2"])
    assert (b.resamples, b.seed, b.workers, b.ci) == (1000, 0, 1, 0.95)
    f = p.parse_args(["factors", "s.csv"])
    assert (f.runs, f.centile, f.seed, f.bootstrap) == (2000, 95.0, 0, 0)
    r = p.parse_args(["report", "s.csv", "-k", "2"])
    assert (r.bootstrap, r.factors, r.seed, r.out, r.json) == (1000, 500, 0, "report.html", None)
    s = p.parse_args(["simulate", "--planted", "3,3", "-o", "x.csv"])
    assert (s.strength, s.cross, s.factor_correlation, s.n_studies, s.seed, s.chunk_size, s.jobs) == \
        (0.7, 0.0, 0.0, 1, 0, 50, 1)
    v = p.parse_args(["verify", "l.csv"])
    assert v.z == 1.96 and p.parse_args(["flag", "l.csv"]).z == 1.96


#: (command and required arguments, option, accepted values, refused values): each range's edges.
RANGES = [
    (["bootstrap", "s.csv", "-k", "2"], "-n", ["1"], ["0"]),
    (["bootstrap", "s.csv", "-k", "2"], "--seed", ["0", "99999999999999999999999"], ["-1", "0.5"]),
    (["bootstrap", "s.csv", "-k", "2"], "--workers", ["1"], ["0"]),
    (["bootstrap", "s.csv", "-k", "2"], "--ci", ["0.01", "0.99"], ["0", "1"]),
    (["analyze", "s.csv"], "-k", ["1"], ["0"]),
    (["analyze", "s.csv", "-k", "2"], "--threshold", ["0.01", "0.99"], ["0", "1"]),
    (["analyze", "s.csv", "-k", "2"], "--flag-z", ["0.01"], ["0"]),
    (["analyze", "s.csv", "-k", "2"], "--varimax-max-iter", ["1"], ["0", "1.5"]),
    (["analyze", "s.csv", "-k", "2"], "--cor-digits", ["0", "15"], ["-1", "16"]),
    (["analyze", "s.csv", "-k", "2"], "--av-rel-coef", ["1", "0.01"], ["0", "1.01"]),
    (["factors", "s.csv"], "-k", ["1"], ["0"]),
    (["factors", "s.csv"], "--max-k", ["1"], ["0"]),
    (["factors", "s.csv"], "--runs", ["1"], ["0"]),
    (["factors", "s.csv"], "--centile", ["0.1", "99.9"], ["0", "100"]),
    (["factors", "s.csv"], "--seed", ["0"], ["-1"]),
    (["factors", "s.csv"], "--bootstrap", ["0"], ["-1"]),
    (["report", "s.csv", "-k", "2"], "--bootstrap", ["0"], ["-1"]),
    (["report", "s.csv", "-k", "2"], "--factors", ["0"], ["-1"]),
    (["report", "s.csv", "-k", "2"], "--seed", ["0"], ["-1"]),
    (["simulate", "-o", "x.csv"], "--strength", ["0.01", "0.99"], ["0", "1"]),
    (["simulate", "-o", "x.csv"], "--cross", ["0", "0.99"], ["-0.01", "1"]),
    (["simulate", "-o", "x.csv"], "--factor-correlation", ["-0.99", "0.99"], ["-1", "1"]),
    (["simulate", "-o", "x.csv"], "--n-statements", ["2"], ["1"]),
    (["simulate", "-o", "x.csv"], "--n-studies", ["1"], ["0"]),
    (["simulate", "-o", "x.csv"], "--index", ["0"], ["-1"]),
    (["simulate", "-o", "x.csv"], "--seed", ["0"], ["-1"]),
    (["simulate", "-o", "x.csv"], "--chunk-size", ["1"], ["0"]),
    (["simulate", "-o", "x.csv"], "--jobs", ["1"], ["0"]),
    (["flag", "l.csv"], "--threshold", ["0.99"], ["1", "0"]),
    (["flag", "l.csv"], "--n-statements", ["2"], ["1"]),
    (["flag", "l.csv"], "--z", ["0.01"], ["0"]),
    (["verify", "l.csv"], "--decimals", ["0", "15"], ["-1", "16"]),
    (["verify", "l.csv"], "--threshold-p", ["0.01", "0.99"], ["0", "1"]),
    (["verify", "l.csv"], "--n-statements", ["2"], ["1"]),
    (["verify", "l.csv"], "--n-flagged", ["0"], ["-1"]),
    (["verify", "l.csv"], "--n-confounded", ["0"], ["-1"]),
    (["verify", "l.csv"], "--n-nonsignificant", ["0"], ["-1"]),
    (["compare", "qmethod", "kade"], "-k", ["1"], ["0"]),
]


@pytest.mark.parametrize("argv, opt, good, bad", RANGES, ids=[f"{a[0]}{o}" for a, o, _, _ in RANGES])
def test_command_line_number_ranges(capsys, argv, opt, good, bad):
    from qvalid.cli import make_parser

    p = make_parser()
    for v in good:
        p.parse_args([*argv, f"{opt}={v}"])
    for v in bad:
        with pytest.raises(SystemExit):
            p.parse_args([*argv, f"{opt}={v}"])
        err = capsys.readouterr().err
        assert f"argument {opt}" in err or f"/{opt}" in err and f"'{v}'" in err, err


@pytest.mark.parametrize("opt, goods, bad", [
    ("--defining-counts", ["0,3,3,6"], "0.5,3,3,6"), ("--eigenvalues", ["0,1,1,1"], "-0.1,1,1,1"),
    ("--explained-variance", ["100,0,0,0"], "100.1,0,0,0"), ("--cumulative-variance", ["0,0,0,100"], "0,0,0,101"),
    ("--total-variance", ["0", "100"], "100.1"), ("--correlations", ["-1,1,0,0,0,0"], "-1.01,1,0,0,0,0"),
    ("--reliability", ["0,0.5,0.9,1"], "1.01,1,1,1"), ("--se", ["0,0,0,0"], "-0.01,0,0,0")])
def test_verify_claims_are_checked_by_their_range(capsys, opt, goods, bad):
    from qvalid.cli import main

    nav = str(ROOT / "reference" / "data" / "nav_aap_2023" / "loadings_published.csv")
    extra = ["--reliability", "1,1,1,1"] if opt == "--se" else ["--se", "0,0,0,0"] if opt == "--reliability" else []
    for good in goods:
        assert main(["verify", nav, "--threshold", "0.42", opt, good, *extra]) in (0, 1)
    capsys.readouterr()
    good = goods[0]
    assert main(["verify", nav, "--threshold", "0.42", opt, bad, *extra]) == 2
    err = capsys.readouterr().err
    first = next(v for v in bad.split(",") if v not in good.split(","))
    assert err.count("\n") == 1 and err.startswith(f"qvalid verify: error: {opt} {bad}: '{first}' ") and \
        ("must be" in err or "whole" in err), err


def test_grid_option_bounds():
    from qvalid.cli._args import parse_grid

    assert parse_grid("-1000:1") == {-1000: 1} and parse_grid("1000:0,1") == {1000: 0, 1001: 1}
    for bad in ("1001:1", "-1001:1", "0:1,-1", "0:1.5", "x:1", "0", "0:", "1.5e3:1,1"):
        with pytest.raises(QInputError, match="--grid"):
            parse_grid(bad)


def test_kade_statement_tables_skip_blank_rows_and_take_one_column(tmp_path):
    import openpyxl

    s = read_csv(LIPSET)
    for name, statements in [("blank-row", [["Number", "Statements"], [1, "first"], [None, None], [2, "second"]]
                              + [[i, f"t{i}"] for i in range(3, 34)]),
                             ("one-column", [["Number"]] + [[i] for i in range(1, 34)])]:
        wb = openpyxl.Workbook()
        wb.remove(wb.active)
        for sheet, rows in [("sorts", [[sid, *map(int, s.scores[:, j])] for j, sid in enumerate(s.sort_ids)]),
                            ("pattern", [list(range(-6, 14)), [0, 0, 2, 3, 4, 5, 5, 5, 4, 3, 2] + [0] * 9]),
                            ("statements", statements)]:
            ws = wb.create_sheet(sheet)
            for r in rows:
                ws.append(r)
        wb.save(tmp_path / f"{name}.xlsx")
        got = read_study(tmp_path / f"{name}.xlsx")
        np.testing.assert_array_equal(got.scores, s.scores)
        assert got.statement_texts is None if name == "one-column" else got.statement_texts[:2] == ("first", "second")


def test_the_watchdog_ends_a_process_stuck_in_a_long_call(tmp_path):
    # the main thread is inside one long numpy call (it cannot run the Python handler): the watchdog prints the line
    # on stderr and ends the process with 128 + 15 within a second
    code = ("import numpy as np, sys\n"
            "from qvalid.cli._interrupt import Interruptible\n"
            "a = np.random.default_rng(0).random((4000, 4000))\n"  # one product: seconds in BLAS (GIL released)
            "with Interruptible(lambda s: f'stuck, signal {s}'):\n"
            "    print('ready', flush=True)\n"
            "    for _ in range(100):\n"
            "        b = a @ a\n")
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert p.stdout.readline() == b"ready\n"
    time.sleep(0.3)
    t0 = time.monotonic()
    p.send_signal(signal.SIGTERM)
    out, err = p.communicate(timeout=30)
    assert p.returncode == 143 and err == b"stuck, signal 15\n" and out == b""
    assert time.monotonic() - t0 < 1.5


def _type2(path, *, pattern=None, statements=None):
    """A KADE "XLSX Type 2" input workbook of Lipset (sheets sorts, pattern, statements)."""
    import openpyxl

    s = read_csv(LIPSET)
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for sheet, rows in [("sorts", [[sid, *map(int, s.scores[:, j])] for j, sid in enumerate(s.sort_ids)]),
                        ("pattern", pattern or [list(range(-6, 14)), [0, 0, 2, 3, 4, 5, 5, 5, 4, 3, 2] + [0] * 9]),
                        ("statements", statements or [["Number", "Statements"]] + [[i, f"t{i}"] for i in range(1, 34)])]:
        ws = wb.create_sheet(sheet)
        for r in rows:
            ws.append(r)
    wb.save(path)
    return path


def test_kade_pattern_sheet_refusals(tmp_path):
    with pytest.raises(QInputError, match="must hold the scores in row 1 and their cell counts in row 2"):
        read_study(_type2(tmp_path / "one-row.xlsx", pattern=[list(range(-6, 14))]))
    counts = [0, 0, 2, 3, 4, 5, 5, 5, 4, 3, 2] + [0] * 9
    counts[0] = -1
    with pytest.raises(QInputError, match=r"sheet 'pattern': cell count '?-1'? must be >= 0"):
        read_study(_type2(tmp_path / "negative.xlsx", pattern=[list(range(-6, 14)), counts]))


def test_kade_results_without_flags_on_the_last_factor(tmp_path):
    from qvalid.io import read_kade_workbook

    def unflag_last(sheets):
        for row in sheets["Factor Loadings"][5:]:
            row[5] = None  # nobody flagged on factor 2: the sheet's last column is empty

    p = probe.write_kade_results(tmp_path / "k.xlsx", unflag_last)
    wb = read_kade_workbook(p)
    assert not wb.flags[:, 1].any() and wb.flags[:, 0].any()


def test_report_to_standard_output_prints_the_report_only(tmp_path, capsys):
    from qvalid.cli import main

    assert main(["report", str(LIPSET), "-k", "2", "--no-crosscheck", "--out", "-"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("<!DOCTYPE html>") and out.rstrip().endswith("</html>") and "wrote" not in out
    assert main(["report", str(LIPSET), "-k", "2", "--no-crosscheck", "--out", str(tmp_path / "r.html")]) == 0
    assert f"wrote {tmp_path / 'r.html'}" in capsys.readouterr().out


def test_number_lists_and_counts(capsys):
    from qvalid.cli import main

    nav = str(ROOT / "reference" / "data" / "nav_aap_2023" / "loadings_published.csv")
    for opt, bad, why in [("--eigenvalues", "1,,1,1", "expected numbers separated by commas"),
                          ("--total-variance", "37,55", "expected 1 number"),
                          ("--total-variance", "", "expected numbers separated by commas")]:
        assert main(["verify", nav, "--threshold", "0.42", f"{opt}={bad}"]) == 2
        assert why in capsys.readouterr().err
    assert main(["simulate", "--planted", "0,3", "-o", "x.csv"]) == 2
    assert "--planted 0,3: '0' must be >= 1" in capsys.readouterr().err
    assert number(float(2 ** 53), whole=True) == 2 ** 53  # the largest whole double held exactly
    with pytest.raises(NumberError, match="too large"):
        number(float(2 ** 53 + 2), whole=True)


def test_option_info_parse_of_choices():
    from qvalid.options import OPTION_INFO

    assert OPTION_INFO["extraction"].parse("PCA") == "pca" and OPTION_INFO["pca_rule"].parse("kade") == "qpca"
    with pytest.raises(ValueError, match="'nosuch' is not one of"):
        OPTION_INFO["extraction"].parse("nosuch")
    with pytest.raises(ValueError, match="a switch takes no value"):
        OPTION_INFO["majority"].parse("yes")


def test_verify_library_refusals():
    from qvalid.checks.verify import verify
    from qvalid.io.published import PublishedTable

    empty = PublishedTable((), ("f1",), np.zeros((0, 1)), np.zeros((0, 1), dtype=np.int64), None, "t.csv")
    with pytest.raises(ValueError, match="no rows"):
        verify(empty, threshold=0.4)
    one = PublishedTable(("a", "b"), ("f1",), np.array([[0.5], [0.6]]), np.full((2, 1), 1), None, "t.csv")
    assert verify(one, n_statements=2) is not None  # the smallest study has 2 statements
    for bad in (1, 1.5, True):
        with pytest.raises(ValueError, match="n_statements"):
            verify(one, n_statements=bad)


def test_stop_workers_kills_a_worker_that_ignores_sigterm():
    import multiprocessing

    from qvalid.cli._interrupt import stop_workers

    p = multiprocessing.get_context("fork").Process(target=_stubborn)
    p.start()
    time.sleep(0.3)
    t0 = time.monotonic()
    stop_workers(timeout=0.3)
    assert not p.is_alive() and p.exitcode == -signal.SIGKILL and time.monotonic() - t0 < 5


def test_stop_workers_without_waiting_kills_at_once():
    """stop_workers(timeout=0) (what end_process uses): SIGKILL at once, so even a worker ignoring SIGTERM ends."""
    import multiprocessing

    from qvalid.cli._interrupt import stop_workers

    p = multiprocessing.get_context("fork").Process(target=_stubborn)
    p.start()
    time.sleep(0.3)
    stop_workers(timeout=0)
    p.join(5)
    assert not p.is_alive() and p.exitcode == -signal.SIGKILL


def _stubborn():
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    time.sleep(60)


def test_the_report_marks_bidirectional_controls():
    from qvalid.report._html import esc

    assert esc("a\u202eb<c") == "a[U+202E]b&lt;c" and esc('\u2066"') == "[U+2066]&quot;"


def test_r_probe_names_what_is_missing(tmp_path, monkeypatch):
    from qvalid.r.session import probe_r

    monkeypatch.setenv("R_HOME", str(tmp_path / "nowhere"))
    assert "holds no R installation" in probe_r.__wrapped__()
    (tmp_path / "bin").mkdir()
    rscript = tmp_path / "bin" / "Rscript"
    rscript.write_text("#!/bin/sh\necho 'Fatal error: unable to open the base package' >&2\nexit 2\n")
    rscript.chmod(rscript.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("R_HOME", str(tmp_path))
    assert probe_r.__wrapped__() == f"R at {tmp_path} does not start: Fatal error: unable to open the base package"
    rscript.write_text("#!/bin/sh\necho TRUE FALSE\n")
    assert probe_r.__wrapped__() == "R package(s) psych not installed"
    monkeypatch.delenv("R_HOME")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert probe_r.__wrapped__() == "R is not on the PATH and R_HOME is not set"


def test_interruptible_raises_once_and_restores_the_handlers():
    from qvalid.cli._interrupt import Interrupted, Interruptible

    def mine(signum, frame):  # a program's own handlers, which must be back afterwards
        pass

    saved = signal.signal(signal.SIGTERM, mine), signal.signal(signal.SIGINT, mine)
    reached = []
    try:
        with pytest.raises(Interrupted) as err:
            with Interruptible(lambda s: "x"):
                try:
                    os.kill(os.getpid(), signal.SIGTERM)
                    for _ in range(100):
                        time.sleep(0.01)
                except Interrupted:
                    os.kill(os.getpid(), signal.SIGINT)  # a second signal while unwinding: no second raise
                    for _ in range(20):
                        time.sleep(0.01)
                    reached.append(True)
                    raise
        assert err.value.code == 143 and err.value.name == "SIGTERM" and reached == [True]
        assert signal.getsignal(signal.SIGTERM) is mine and signal.getsignal(signal.SIGINT) is mine
    finally:
        signal.signal(signal.SIGTERM, saved[0])
        signal.signal(signal.SIGINT, saved[1])


# ------------------------------------------------------------------------------------------------ the probe
# (last: the slowest tests of the file)
@pytest.mark.parametrize("family", list(probe.FAMILIES))
def test_every_case_of_the_probe_holds(corpus, family):
    root, cases = corpus
    cases = [c for c in cases if c.family == family and (c.ci or THOROUGH)]
    if any(_needs_r(c) for c in cases):
        require_r()
    outcomes = probe.run(cases, root)
    bad = [f"{o.case.id}: {o.problem} [{o.message[:200]}]" for o in outcomes if not o.ok]
    assert not bad, f"{len(bad)} of {len(outcomes)} cases did not hold:\n" + "\n".join(bad)
    assert outcomes and all(o.ok for o in outcomes)


def test_the_probe_covers_every_command_and_format(corpus):
    from qvalid.cli import SUBCOMMANDS

    _, cases = corpus
    assert {c.argv[0] for c in cases} == set(SUBCOMMANDS)
    names = " ".join(" ".join(c.argv) for c in cases)
    for ext in (".csv", ".tsv", ".DAT", ".xlsx", ".ods"):
        assert ext in names, ext
    counts = {e: sum(c.expect == e for c in cases) for e in ("refuse", "accept", "interrupt")}
    assert counts["refuse"] > 500 and counts["accept"] > 60 and counts["interrupt"] == 6
