"""The qvalid command line: exit codes, one-line errors, both output formats."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from qvalid.cli import main

ROOT = Path(__file__).resolve().parents[1]
LIPSET = str(ROOT / "reference" / "data" / "lipset" / "lipset.csv")
NAV = str(ROOT / "reference" / "data" / "nav_aap_2023" / "loadings_published.csv")


def test_version(capsys):
    with pytest.raises(SystemExit) as ex:
        main(["--version"])
    assert ex.value.code == 0 and capsys.readouterr().out.startswith("qvalid ")


def test_validate_ok(capsys):
    assert main(["validate", LIPSET]) == 0
    out = capsys.readouterr().out
    assert "33 statements x 9 Q-sorts, forced grid -4..+4 (2,3,4,5,5,5,4,3,2)" in out


def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("id,a,b\nsta_1,1,x\nsta_2,-1,1\n")
    assert main(["validate", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "bad.csv:2" in err and "statement sta_1" in err and "'x'" in err


def test_missing_file_exit_2(capsys):
    assert main(["analyze", "no/such/file.csv", "-k", "2"]) == 2
    assert "no/such/file.csv" in capsys.readouterr().err


def test_bad_option_exit_2(capsys):
    assert main(["analyze", LIPSET, "-k", "12"]) == 2
    assert "exceeds the number of Q-sorts (9)" in capsys.readouterr().err


def test_analyze_text(capsys):
    assert main(["analyze", LIPSET, "-k", "3"]) == 0
    out = capsys.readouterr().out
    assert "Loadings (* = flagged)" in out and "JP5" in out and "Factor arrays" in out


def test_analyze_json_matches_the_api(capsys):
    from qvalid import analyze
    from qvalid.io import read_study

    assert main(["analyze", LIPSET, "-k", "2", "--extraction", "centroid", "--rotation", "none",
                 "--format", "json"]) == 0
    d = json.loads(capsys.readouterr().out)
    res = analyze(read_study(LIPSET), 2, extraction="centroid", rotation="none")
    assert d["loadings"] == res.loadings.tolist() and d["options"]["rotation"] == "none"


def test_flag_published_nav_table(capsys):
    assert main(["flag", NAV, "--threshold", "0.42"]) == 0
    out = capsys.readouterr().out
    assert "counts per factor: 7/3/3/6" in out and "flagged: 19 of 25" in out
    assert "f1:   7  01ZH DDT7 H7OC IW3H KWWU MS1Z V4ND" in out


def test_flag_needs_a_rule(capsys):
    assert main(["flag", NAV]) == 2
    assert "--threshold" in capsys.readouterr().err


def test_console_script_runs_without_traceback(tmp_path):
    bad = tmp_path / "short.csv"
    bad.write_text("id,a\nsta_1,1\nsta_2,-1\n")
    p = subprocess.run([sys.executable, "-m", "qvalid", "validate", str(bad)], capture_output=True, text=True)
    assert p.returncode == 2 and "Traceback" not in p.stderr and "at least 2 Q-sorts" in p.stderr


def test_negative_grid_start_is_accepted(tmp_path, capsys):
    # a non-forced study on a notional grid -2..+2 given as "--grid -2:1,1,2,1,1" (argparse alone rejects it)
    f = tmp_path / "nf.csv"
    f.write_text("id,a,b,c\ns1,2,2,0\ns2,-1,2,1\ns3,0,1,-1\ns4,1,-1,0\ns5,0,0,2\ns6,-2,-2,-2\n")
    assert main(["validate", str(f)]) == 2  # grid from sort a; sort b has +2 twice and 0 once
    assert "sort b: score 0 has 1 statement, grid allows 2; score +2 has 2 statements, grid allows 1" in \
        capsys.readouterr().err
    assert main(["validate", str(f), "--non-forced", "--grid", "-2:1,1,2,1,1"]) == 0
    assert "non-forced grid -2..+2 (1,1,2,1,1)" in capsys.readouterr().out


def test_python_m_qvalid_is_the_qvalid_command():
    p = subprocess.run([sys.executable, "-m", "qvalid", "validate", LIPSET], capture_output=True, text=True)
    assert p.returncode == 0 and "33 statements x 9 Q-sorts" in p.stdout
    p = subprocess.run([sys.executable, "-m", "qvalid", "analyze", "no/such.csv", "-k", "2"],
                       capture_output=True, text=True)
    assert p.returncode == 2 and p.stderr.count("\n") == 1 and "no/such.csv" in p.stderr


def test_library_never_imports_the_cli():
    """../shared/docs/architecture.md: nothing outside qvalid/cli imports it (no import cycle)."""
    import re

    pkg = ROOT / "qvalid"
    offenders = [str(p.relative_to(ROOT)) for p in pkg.rglob("*.py")
                 if "cli" not in p.relative_to(pkg).parts and p.name != "__main__.py"
                 and re.search(r"^\s*(from\s+(\.+|qvalid\.)cli\b|import\s+qvalid\.cli)", p.read_text(), re.M)]
    assert offenders == []


# ================================================================================ issue 12: the usage corpus
# One entry per rough edge a researcher hit (issue 12, points 1-9); each must stay a one-line exit-2 message
# (or the documented behaviour) on every command.
GOLDEN_K3 = ROOT / "reference" / "golden" / "lipset" / "pca_varimax_pearson_k3.json"
COMMANDS = {  # each subcommand that reads a file, with the arguments it needs besides the file
    "validate": [], "analyze": ["-k", "2"], "flag": ["--threshold", "0.4"], "crosscheck": ["-k", "2"],
}


def run_cli(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(code, err, *parts):
    assert code == 2, err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    for p in parts:
        assert p in err, (p, err)


def lipset_rows():
    import csv

    with open(LIPSET, newline="") as fh:
        return list(csv.reader(fh))


def write_csv_rows(path, rows):
    import csv

    with open(path, "w", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)
    return path


def bad_files(tmp_path):
    """Point 1: name -> (path, the reason the message must give)."""
    latin = tmp_path / "latin1.csv"
    latin.write_bytes('"","A","B"\n"caf\xe9",1,-1\n"b",-1,1\n'.encode("latin-1"))
    binary = tmp_path / "binary.csv"
    binary.write_bytes(bytes(range(256)) * 4)
    xlsx = tmp_path / "workbook.csv"
    xlsx.write_bytes(b"PK\x03\x04" + bytes(60))
    empty = tmp_path / "empty.csv"
    empty.write_text(" \n\n")
    folder = tmp_path / "folder.csv"
    folder.mkdir()
    return {
        "latin1": (latin, "latin1.csv:2: not UTF-8 text (byte 0xe9); re-save it as UTF-8 or give its encoding"),
        "binary": (binary, "binary.csv: not a text file"),
        "xlsx": (xlsx, "workbook.csv: not a readable workbook (BadZipFile"),  # sniffed as a workbook by its bytes
        "empty": (empty, "empty.csv: empty file"),
        "directory": (folder, "folder.csv: cannot read the file: Is a directory"),
        "missing": (tmp_path / "nope.csv", "nope.csv: cannot read the file: No such file or directory"),
    }


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize("case", ["latin1", "binary", "xlsx", "empty", "directory", "missing"])
def test_point1_every_read_error_is_one_line_exit_2_on_every_command(tmp_path, capsys, command, case):
    path, reason = bad_files(tmp_path)[case]
    if case == "xlsx" and command == "flag":  # a loadings table, read as text only
        reason = "workbook.csv: not a text file (it looks like an .xlsx/.ods workbook: save it as CSV)"
    code, out, err = run_cli(capsys, command, path, *COMMANDS[command])
    one_line_error(code, err, f"qvalid {command}: error: ", reason)
    assert out == ""


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_point1_permission_denied_is_one_line(tmp_path, capsys, monkeypatch, command):
    # tests run as root in CI, where chmod cannot make a file unreadable: raise what open() raises for others
    import errno

    def denied(self):
        raise PermissionError(errno.EACCES, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", denied)
    code, _, err = run_cli(capsys, command, LIPSET, *COMMANDS[command])
    one_line_error(code, err, f"{LIPSET}: cannot read the file: Permission denied")


def test_point1_latin1_loadings_table_is_read_with_encoding(tmp_path, capsys):
    # the NAV published loadings with a Latin-1 'ø' in one sort id: an error without --encoding, read with it
    text = Path(NAV).read_text(encoding="utf-8").replace("01ZH", "01Z\u00f8", 1)
    p = tmp_path / "nav_latin1.csv"
    p.write_bytes(text.encode("latin-1"))
    code, _, err = run_cli(capsys, "flag", p, "--threshold", "0.42")
    one_line_error(code, err, "nav_latin1.csv:", "not UTF-8 text (byte 0xf8)")
    code, out, _ = run_cli(capsys, "flag", p, "--threshold", "0.42", "--encoding", "latin-1")
    assert code == 0 and "f1:   7  01Z\u00f8 DDT7" in out and "counts per factor: 7/3/3/6" in out


def test_point1_unknown_encoding_is_one_line(capsys):
    code, _, err = run_cli(capsys, "validate", LIPSET, "--encoding", "klingon")
    one_line_error(code, err, "unknown encoding 'klingon'")


def lipset_with_texts(tmp_path, header="text"):
    """lipset.csv with the statement texts of lipset_statements.csv as a last column named ``header``."""
    import csv

    texts_file = ROOT / "reference" / "data" / "lipset" / "lipset_statements.csv"
    with open(texts_file, newline="", encoding="utf-8") as fh:
        texts = [r[-1] for r in csv.reader(fh)][1:]
    rows = lipset_rows()
    rows = [rows[0] + [header]] + [r + [t] for r, t in zip(rows[1:], texts)]
    return write_csv_rows(tmp_path / "lipset_texts.csv", rows), texts


def test_point2_a_text_column_is_detected_and_shown(tmp_path, capsys):
    p, texts = lipset_with_texts(tmp_path)
    assert len(texts) == 33 and texts[0].startswith("We accept improvements")
    code, out, _ = run_cli(capsys, "validate", p)
    assert code == 0 and "33 statements x 9 Q-sorts" in out and "with statement texts" in out
    code, out, _ = run_cli(capsys, "analyze", p, "-k", "3")
    assert code == 0
    line = next(x for x in out.splitlines() if x.startswith("sta_1 "))
    assert line.endswith(" ".join(texts[0].split()))
    code, out, _ = run_cli(capsys, "analyze", p, "-k", "3", "--format", "json")
    d = json.loads(out)
    assert d["statement_texts"] == texts
    # the numbers do not change: same loadings as the file without texts
    code, out2, _ = run_cli(capsys, "analyze", LIPSET, "-k", "3", "--format", "json")
    d2 = json.loads(out2)
    assert d["loadings"] == d2["loadings"] and d2["statement_texts"] is None


def test_point2_text_column_by_name_and_ambiguity(tmp_path, capsys):
    p, texts = lipset_with_texts(tmp_path, header="wording")
    rows = lipset_rows()
    with open(p, newline="") as fh:
        import csv

        rows = list(csv.reader(fh))
    rows = [r + [c] for r, c in zip(rows, ["comment"] + ["note"] * 33)]
    two = write_csv_rows(tmp_path / "two_texts.csv", rows)
    code, _, err = run_cli(capsys, "validate", two)
    one_line_error(code, err, "two_texts.csv:1: columns 'wording', 'comment' hold text, not scores: name the "
                              "statement-text column (--text-column NAME)")
    code, _, err = run_cli(capsys, "validate", p, "--text-column", "nope")
    one_line_error(code, err, "lipset_texts.csv:1: text_column='nope': no such column in the header")
    code, out, _ = run_cli(capsys, "validate", p, "--text-column", "wording", "--format", "json")
    assert code == 0 and json.loads(out)["statement_texts"] == texts


@pytest.mark.parametrize("given, other", [("statements", "sorts"), ("sorts", "statements")])
def test_point3_wrong_orientation_says_did_you_mean(tmp_path, capsys, given, other):
    rows = lipset_rows()
    p = LIPSET if given == "sorts" else write_csv_rows(tmp_path / "one_sort_per_row.csv", list(zip(*rows)))
    code, _, err = run_cli(capsys, "validate", p, "--layout", given)
    one_line_error(code, err, f"did you mean --layout {other}?", "valid study of 33 statements x 9 Q-sorts")
    code, out, _ = run_cli(capsys, "validate", p, "--layout", other)
    assert code == 0 and "33 statements x 9 Q-sorts" in out


def test_point3_no_hint_when_neither_layout_validates(tmp_path, capsys):
    rows = lipset_rows()
    rows[5][3] = "x"
    p = write_csv_rows(tmp_path / "bad.csv", rows)
    code, _, err = run_cli(capsys, "validate", p)
    one_line_error(code, err, "bad.csv:6: sort US3, statement sta_5: value 'x' is not a number")
    assert "did you mean" not in err


def test_point4_closed_pipe_exits_quietly():
    # the reader is gone before qvalid writes (as `qvalid analyze ... | head` once head has exited)
    p = subprocess.Popen([sys.executable, "-m", "qvalid", "analyze", LIPSET, "-k", "3", "--format", "json"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    p.stdout.close()
    err = p.stderr.read()
    assert p.wait(timeout=60) == 141 and err == b""


def test_point4_shell_pipe_into_head(tmp_path):
    script = (f"'{sys.executable}' -m qvalid analyze '{LIPSET}' -k 3 --format json | head -c 10; "
              "echo \" ${PIPESTATUS[0]}\"")
    p = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60)
    assert p.stdout.startswith('{"qvalid_v') and p.stdout.split()[-1] in ("0", "141") and p.stderr == ""


@pytest.mark.parametrize("argv, keys", [
    (["validate", LIPSET], {"qvalid_version", "command", "file", "ok", "study", "sort_ids", "statement_ids",
                            "statement_texts"}),
    (["flag", NAV, "--threshold", "0.42"], {"qvalid_version", "command", "file", "rule", "sort_ids", "factors",
                                             "loadings", "flags", "counts", "n_flagged", "not_flagged", "several"}),
    (["analyze", LIPSET, "-k", "2"], None),
])
def test_point6_every_subcommand_writes_its_json_shape(capsys, argv, keys):
    from qvalid.results import JSON_KEYS

    code, out, _ = run_cli(capsys, *argv, "--format", "json")
    d = json.loads(out)
    assert code == 0 and set(d) == (set(JSON_KEYS) if keys is None else keys)
    if argv[0] == "flag":  # the published NAV counts (Tabell 5): 7/3/3/6, 19 of 25
        assert d["counts"] == [7, 3, 3, 6] and d["n_flagged"] == 19 and len(d["not_flagged"]) == 6
    if argv[0] == "validate":
        assert d["study"]["grid"] == {"-4": 2, "-3": 3, "-2": 4, "-1": 5, "0": 5, "+1": 5, "+2": 4, "+3": 3, "+4": 2}


def test_point6_every_subcommand_has_format_json():
    from qvalid.cli import SUBCOMMANDS, make_parser

    sub = next(a for a in make_parser()._actions if a.dest == "command")
    for name in SUBCOMMANDS:
        fmt = next(a for a in sub.choices[name]._actions if a.dest == "format")
        assert {"text", "json"} <= set(fmt.choices), name


def test_point7_flavor_choices_and_every_option_field_on_the_command_line(capsys):
    from dataclasses import fields

    from qvalid.cli._args import OPTION_FLAGS
    from qvalid.options import FLAVORS, Options

    with pytest.raises(SystemExit):
        main(["analyze", "--help"])
    helptext = capsys.readouterr().out
    assert "--flavor {" + ",".join(FLAVORS) + "}" in helptext
    for f in fields(Options):
        assert OPTION_FLAGS[f.name][0] in helptext, f.name
    with pytest.raises(SystemExit) as ex:
        main(["analyze", LIPSET, "-k", "2", "--flavor", "nosuch"])
    err = capsys.readouterr().err
    one_line_error(ex.value.code, err, "qvalid analyze: error: argument --flavor: invalid choice: 'nosuch'")


def test_point7_options_reach_the_analysis(capsys):
    from qvalid import analyze
    from qvalid.io import read_study

    argv = ["--varimax-eps", "1e-3", "--varimax-max-iter", "1", "--no-varimax-normalize", "--flag-z", "2.58",
            "--array-ties", "strict", "--qdc-labels", "strict", "--av-rel-coef", "0.7", "--no-majority"]
    code, out, _ = run_cli(capsys, "analyze", LIPSET, "-k", "3", "--format", "json", *argv)
    d = json.loads(out)
    o = d["options"]
    assert (o["varimax_eps"], o["varimax_max_iter"], o["varimax_normalize"], o["flag_z"], o["array_ties"],
            o["qdc_labels"], o["av_rel_coef"], o["majority"]) == (1e-3, 1, False, 2.58, "strict", "strict", 0.7,
                                                                  False)
    res = analyze(read_study(LIPSET), 3, varimax_eps=1e-3, varimax_max_iter=1, varimax_normalize=False,
                  flag_z=2.58, array_ties="strict", qdc_labels="strict", av_rel_coef=0.7, majority=False)
    assert d["loadings"] == res.loadings.tolist() and d["flags"] == res.flags.tolist()
    # flags by hand: |a| > 2.58/sqrt(33) = 0.4491, no majority condition
    a = np.array(d["loadings"])
    assert d["flags"] == (np.abs(a) > 2.58 / np.sqrt(33)).tolist()
    assert d["characteristics"]["av_rel_coef"] == [0.7] * 3


def write_loadings_table(path, ids, loadings, names):
    rows = [["sort", *names]] + [[sid, *map(repr, row)] for sid, row in zip(ids, loadings.tolist())]
    return write_csv_rows(path, rows)


def test_point7_align_reorders_and_reflects_to_a_target_table(tmp_path, capsys):
    code, out, _ = run_cli(capsys, "analyze", LIPSET, "-k", "3", "--format", "json")
    d = json.loads(out)
    a = np.array(d["loadings"])
    # a "paper" printing the factors as (f3, -f1, f2), rounded to 2 decimals, sorts in another order
    target = np.round(np.column_stack([a[:, 2], -a[:, 0], a[:, 1]]), 2)
    order = [8, 0, 3, 1, 2, 7, 5, 4, 6]
    p = write_loadings_table(tmp_path / "paper.csv", [d["sort_ids"][i] for i in order], target[order],
                             ["F1", "F2", "F3"])
    code, out, _ = run_cli(capsys, "analyze", LIPSET, "-k", "3", "--format", "json", "--align", p)
    e = json.loads(out)
    assert code == 0 and e["diagnostics"]["alignment"]["permutation"] == [2, 0, 1]
    assert e["diagnostics"]["alignment"]["signs"] == [1, -1, 1]
    assert np.abs(np.array(e["loadings"]) - target).max() <= 0.005
    z, z2 = np.array(d["zscores"]), np.array(e["zscores"])
    assert np.array_equal(z2, np.column_stack([z[:, 2], -z[:, 0], z[:, 1]]))  # reflected exactly
    assert e["flags"] == np.array(d["flags"])[:, [2, 0, 1]].tolist()
    code, out, _ = run_cli(capsys, "analyze", LIPSET, "-k", "3", "--align", p)
    assert f"factors reordered to match {p}: f1=f3 f2=-f1 f3=f2" in out


def test_point7_align_errors_are_one_line(tmp_path, capsys):
    p = write_loadings_table(tmp_path / "two.csv", ["US1", "US2", "XX9"], np.eye(3)[:, :2], ["f1", "f2"])
    code, _, err = run_cli(capsys, "analyze", LIPSET, "-k", "2", "--align", p)
    one_line_error(code, err, "two.csv: sort XX9: the target has 1 Q-sort(s) the study has not: XX9")
    code, _, err = run_cli(capsys, "analyze", LIPSET, "-k", "3", "--align", p)
    one_line_error(code, err, "two.csv: the target loadings have shape (3, 2), expected (3, 3)")


def test_point7_manual_flags_file(tmp_path, capsys):
    from qvalid import analyze
    from qvalid.io import read_study

    rows = [["sort", "f1", "f2"], ["US1", "X", ""], ["US2", "x", ""], ["US3", "", "1"], ["US4", "0", "X"],
            ["JP5", "", ""], ["CA6", "", "X"], ["UK7", "", ""], ["US8", "1", "0"], ["FR9", "", ""]]
    p = write_csv_rows(tmp_path / "flags.csv", rows)
    code, out, _ = run_cli(capsys, "analyze", LIPSET, "-k", "2", "--flags", p, "--format", "json")
    d = json.loads(out)
    want = [[True, False], [True, False], [False, True], [False, True], [False, False], [False, True],
            [False, False], [True, False], [False, False]]
    assert code == 0 and d["flags"] == want and d["options"]["manual_flags"] is True
    res = analyze(read_study(LIPSET), 2, flags=np.array(want))
    assert d["zscores"] == res.zscores.tolist()
    code, out, _ = run_cli(capsys, "analyze", LIPSET, "-k", "2", "--flags", p)
    assert "flags: manual" in out


@pytest.mark.parametrize("edit, message", [
    ({3: ["US3", "", "yes please"]}, "flags.csv:4: sort US3: flag 'yes please' for f2 is not 1/0, X or blank"),
    ({3: ["USX", "", "1"]}, "flags.csv:4: sort USX: no such Q-sort in the study"),
    ({3: ["US2", "", "1"]}, "flags.csv:4: sort US2: second row for this Q-sort (first on line 3)"),
    ({0: ["sort", "f1", "f2", "f3"]}, "flags.csv:1: 3 factor column(s) after the sort id column, the analysis has 2"),
])
def test_point7_bad_flags_file_is_one_line(tmp_path, capsys, edit, message):
    rows = [["sort", "f1", "f2"]] + [[sid, "", ""] for sid in "US1 US2 US3 US4 JP5 CA6 UK7 US8 FR9".split()]
    for i, row in edit.items():
        rows[i] = row
    p = write_csv_rows(tmp_path / "flags.csv", rows)
    code, _, err = run_cli(capsys, "analyze", LIPSET, "-k", "2", "--flags", p)
    one_line_error(code, err, message)


def test_point7_flags_file_missing_a_sort(tmp_path, capsys):
    p = write_csv_rows(tmp_path / "flags.csv", [["sort", "f1"], ["US1", "X"], ["US2", "X"]])
    code, _, err = run_cli(capsys, "analyze", LIPSET, "-k", "1", "--flags", p)
    one_line_error(code, err, "flags.csv: 7 Q-sort(s) of the study have no row: US3, US4, JP5, CA6, UK7, US8, FR9")


def test_point8_text_report_has_pairwise_stars_as_r_qmethod(capsys):
    # stars and labels from R qmethod 1.8.4 (reference/golden, made by make_golden.R), not from qvalid
    g = json.loads(GOLDEN_K3.read_text())["qdc"]
    code, out, _ = run_cli(capsys, "analyze", LIPSET, "-k", "3")
    lines = out.splitlines()
    start = next(i for i, x in enumerate(lines) if x.startswith("Distinguishing and consensus statements"))
    assert lines[start + 1].split()[:5] == ["statement", "f1-f2", "f1-f3", "f2-f3", "label"]
    for i in range(33):
        row = lines[start + 2 + i]
        cells = row.split()
        assert cells[0] == f"sta_{i + 1}"
        got = [row[10 + 12 * j: 10 + 12 * (j + 1)].split()[1:] for j in range(3)]
        want = [[g["sig"][p][i]] if g["sig"][p][i] else [] for p in ("f1_f2", "f1_f3", "f2_f3")]
        assert got == want, row
        assert [float(row[10 + 12 * j: 10 + 12 * j + 8]) for j in range(3)] == \
            [round(g["diffs"][p][i], 2) for p in ("f1_f2", "f1_f3", "f2_f3")]
        assert g["dist_and_cons"][i].strip() in row
    n_cons = sum(lab == "Consensus" for lab in g["dist_and_cons"])
    assert lines[start + 35].startswith(f"consensus statements: {n_cons}")


def test_point8_output_dir_writes_the_tables(tmp_path, capsys):
    import pandas as pd

    out_dir = tmp_path / "tables"
    code, out, _ = run_cli(capsys, "analyze", LIPSET, "-k", "3", "--output", out_dir, "--format", "json")
    d = json.loads(out)
    assert code == 0 and sorted(p.name for p in out_dir.iterdir()) == sorted(
        ["loadings.csv", "flags.csv", "zscores.csv", "arrays.csv", "characteristics.csv", "qdc.csv"])
    loa = pd.read_csv(out_dir / "loadings.csv", index_col=0, float_precision="round_trip")
    assert loa[["f1", "f2", "f3"]].to_numpy().tolist() == d["loadings"]  # full precision round trip
    assert loa[["flag_f1", "flag_f2", "flag_f3"]].to_numpy().astype(bool).tolist() == d["flags"]
    assert pd.read_csv(out_dir / "zscores.csv", index_col=0, float_precision="round_trip").to_numpy().tolist() == d["zscores"]
    assert pd.read_csv(out_dir / "arrays.csv", index_col=0)["fsc_f2"].tolist() == [r[1] for r in d["factor_arrays"]]
    g = json.loads(GOLDEN_K3.read_text())["qdc"]
    qdc = pd.read_csv(out_dir / "qdc.csv", index_col=0, keep_default_na=False)
    assert qdc["sig_f1_f3"].tolist() == g["sig"]["f1_f3"] and qdc["dist.and.cons"].tolist() == g["dist_and_cons"]
    # flags.csv is a --flags file: the same analysis again with manual flags
    code, out, _ = run_cli(capsys, "analyze", LIPSET, "-k", "3", "--flags", out_dir / "flags.csv", "--format", "json")
    assert json.loads(out)["zscores"] == d["zscores"]


def test_point8_output_never_overwrites_the_input(tmp_path, capsys):
    study = tmp_path / "zscores.csv"
    study.write_bytes(Path(LIPSET).read_bytes())
    before = study.read_bytes()
    code, _, err = run_cli(capsys, "analyze", study, "-k", "3", "--output", tmp_path)
    one_line_error(code, err, "refusing to overwrite")
    assert study.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["zscores.csv"]


def test_point9_declared_lower_bounds_admit_the_installed_packages():
    """pyproject's lower bounds must admit what scripts/setup.sh installs (Debian 12) and CI runs."""
    import importlib.metadata as md
    import re

    from packaging.requirements import Requirement

    try:
        import tomllib
    except ImportError:  # Python 3.10: pytest itself depends on tomli there
        import tomli as tomllib

    toml = tomllib.loads((ROOT / "pyproject.toml").read_text())
    meta = toml["project"]
    reqs = [Requirement(r) for r in meta["dependencies"] + toml["build-system"]["requires"]]
    reqs += [Requirement(r) for extra in meta["optional-dependencies"].values() for r in extra]
    checked = []
    for req in reqs:
        try:
            version = md.version(req.name)
        except md.PackageNotFoundError:
            continue
        assert req.specifier.contains(version, prereleases=True), f"{req} excludes the installed {version}"
        checked.append(req.name)
    assert {"numpy", "scipy", "pandas", "pytest", "pytest-benchmark", "hypothesis", "rpy2", "matplotlib",
            "setuptools"} <= set(checked)
    # R < 4.5 (Debian 12 has 4.2) needs rpy2 < 3.6: said where people install
    assert '"rpy2>=3.5,<3.6"' in (ROOT / "README.md").read_text() and "rpy2 3.6 needs R >= 4.5" in \
        (ROOT / "pyproject.toml").read_text()
    # every package the set-up installs from Debian is in scripts/setup.sh's APT_PKGS
    apt = re.search(r"APT_PKGS=\(([^)]*)\)", (ROOT / "scripts" / "setup.sh").read_text()).group(1).split()
    for name in ("numpy", "scipy", "pandas", "rpy2", "hypothesis", "pytest", "pytest-benchmark"):
        assert f"python3-{name}" in apt


@pytest.mark.r
def test_point7_crosscheck_takes_manual_flags(tmp_path, capsys):
    sys.path.insert(0, str(Path(__file__).parent))
    from _r import require_r

    require_r()
    rows = [["sort", "f1", "f2"]] + [[sid, "X" if sid in ("US1", "US2", "US8") else "",
                                      "X" if sid in ("US3", "US4", "CA6") else ""]
                                     for sid in "US1 US2 US3 US4 JP5 CA6 UK7 US8 FR9".split()]
    p = write_csv_rows(tmp_path / "flags.csv", rows)
    code, out, _ = run_cli(capsys, "crosscheck", LIPSET, "-k", "2", "--flags", p, "--format", "json")
    d = json.loads(out)
    assert code == 0 and d["ok"] and d["outputs"][[o["name"] for o in d["outputs"]].index("flags")]["status"] == "ok"


def test_point8_distinguishing_statements_per_factor_as_r_stars_say(capsys):
    # PQMethod/KADE-style tables: statements on which a factor differs from every other one, with the weakest of
    # its pairs' stars; expected sets and marks derived from R qmethod 1.8.4's qdc stars (reference/golden)
    g = json.loads(GOLDEN_K3.read_text())["qdc"]["sig"]
    order = ["", "*", "**", "***", "6*"]
    code, out, _ = run_cli(capsys, "analyze", LIPSET, "-k", "3")
    lines = out.splitlines()
    for f in (1, 2, 3):
        pairs = [p for p in ("f1_f2", "f1_f3", "f2_f3") if f"f{f}" in p.split("_")]
        want = {f"sta_{i + 1}": min((g[p][i] for p in pairs), key=order.index) for i in range(33)}
        want = {k: v for k, v in want.items() if v}
        start = next(i for i, x in enumerate(lines) if x.startswith(f"Distinguishing statements for f{f} "))
        assert lines[start].startswith(f"Distinguishing statements for f{f} ({len(want)}:")
        rows = lines[start + 2: start + 2 + len(want)]
        got = {r.split()[0]: r.split()[-1] for r in rows}
        assert got == want
        z = [float(r[10 + 14 * (f - 1) + 6: 10 + 14 * (f - 1) + 12]) for r in rows]  # "  +4 (  1.66)"
        assert z == sorted(z, reverse=True)
