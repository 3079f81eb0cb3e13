"""``qvalid snapshot`` / ``qvalid diff`` (issue 23): round trips on the bundled and golden studies, every kind of
change classified (a perturbed option, an upgraded version, a flipped flag, a moved array cell, a 1e-13 drift, a
printed change, a changed input), the refusals (schema, malformed, missing input, missing side), the renderers
(text, markdown, JSON, JUnit XML validated against the common JUnit schema), and the R results read back: the
export.qm texts of reference/golden/export_qm checked cell by cell against the golden R outputs without R; live R
(--with-r, saveRDS files) in the tests marked ``r``."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from qvalid import analyze
from qvalid.checks.diff import PRINT_DIGITS, printed
from qvalid.checks.snapshot import (SCHEMA, Side, compare_side, diff_snapshot, dumps, load_snapshot, parse_snapshot,
                                    qvalid_side, result_from_dict, snapshot_dict, study_sha256)
from qvalid.datasets import load_lipset
from qvalid.r.qmethod import as_result
from qvalid.r.saved import NOT_SAVED, parse_export_qm

sys.path.insert(0, str(Path(__file__).parent))
from _golden import load_golden  # noqa: E402
from _cli import one_line, run_cli, snapshot_in  # noqa: E402
from _junit import validate_junit  # noqa: E402
from _r import GOLDEN, r_session, require_r, run_r  # noqa: E402,F401

ROOT = Path(__file__).resolve().parents[1]
NAV_SYNTH = ROOT / "reference" / "data" / "nav_synth" / "nav_synth.csv"
LIPSET = ROOT / "reference" / "data" / "lipset" / "lipset.csv"
EXPORTS = GOLDEN / "export_qm"


@pytest.fixture
def lipset_snap(tmp_path, capsys):
    """lipset.csv copied to a temporary folder and its 3-factor snapshot (qvalid side)."""
    return snapshot_in(tmp_path, capsys, LIPSET)


def edit(path, fn) -> Path:
    d = json.loads(path.read_text())
    fn(d)
    path.write_text(json.dumps(d))
    return path


# ------------------------------------------------------------------------------------------- round trips
def test_snapshot_file_holds_input_options_versions_and_the_json_contract(lipset_snap, tmp_path):
    from qvalid.options import OPTION_INFO
    from qvalid.results import JSON_KEYS

    d = json.loads(lipset_snap.read_text())
    assert d["qvalid_snapshot"] == SCHEMA == 1 and d["kind"] == "analysis"
    assert d["input"]["file"] == "study.csv"  # relative to the snapshot's folder
    import hashlib

    assert d["input"]["sha256"] == hashlib.sha256((tmp_path / "study.csv").read_bytes()).hexdigest()
    assert d["input"]["study_sha256"] == study_sha256(load_lipset())
    assert d["study"]["sort_ids"] == list(load_lipset().sort_ids) and len(d["study"]["scores"]) == 33
    assert set(d["analysis"]["options"]) == set(OPTION_INFO)  # every option, defaults made explicit
    assert d["analysis"]["options"]["flag_z"] == 1.96 and d["analysis"]["options"]["threshold"] is None
    assert set(d["versions"]) >= {"qvalid", "numpy", "scipy", "python"}
    assert set(d["outputs"]) == {"qvalid"} and set(d["outputs"]["qvalid"]["result"]) == set(JSON_KEYS)
    assert d["command"] == f"qvalid snapshot {tmp_path / 'study.csv'} -k 3 -o {lipset_snap}"
    # a matrix row is one line (a changed cell is one changed line in a version-control diff)
    text = lipset_snap.read_text()
    assert "\n   [-1, -1, 2, 3, -4, 1, 2, -2, 3],\n" in text  # sta_1's scores
    assert json.loads(text) == d and text == dumps(d)


def test_round_trip_bundled_study_exit_0(tmp_path, capsys):
    """The bundled default study, its main analysis (docs: scripts/demo.sh): centroid + varimax, |a| >= 0.42."""
    snap = tmp_path / "nav.qsnap.json"
    code, out, err = run_cli(capsys, "snapshot", NAV_SYNTH, "-k", 4, "--extraction", "centroid", "--centroid-ties",
                             "strict", "--threshold", "0.42", "-o", snap)
    assert code == 0, err
    assert out.startswith(f"wrote {snap}: nav_synth.csv (36 statements x 25 Q-sorts), 4 factor(s), centroid + "
                          "varimax, pearson")
    code, out, err = run_cli(capsys, "diff", snap)
    assert code == 0, out + err
    assert "[qvalid] snapshot vs qvalid " in out and ": SAME: 21 outputs identical" in out
    assert out.rstrip().endswith("result: same (exit 0)")
    cmd = json.loads(snap.read_text())["command"]
    assert "--extraction centroid --centroid-ties strict --threshold 0.42" in cmd


GOLDEN_CASES = [  # (input, qvalid snapshot arguments): one case of every golden study
    ("lipset.csv", ["-k", "5", "--extraction", "centroid", "--rotation", "none"]),
    ("nav_synth.csv", ["-k", "7", "--cor", "spearman"]),
    ("ties.csv", ["-k", "3", "--extraction", "centroid"]),
    ("nonforced.csv", ["-k", "3", "--non-forced", "--grid=-3:2,3,5,10,5,3,2"]),
    ("large.csv", ["-k", "5"]),
    ("many_factors.csv", ["-k", "10", "--cor", "kendall"]),
]


@pytest.mark.parametrize("name, args", GOLDEN_CASES, ids=[c[0] for c in GOLDEN_CASES])
def test_round_trip_golden_studies_exit_0(tmp_path, capsys, name, args):
    shutil.copy(GOLDEN / "inputs" / name, tmp_path / name)
    snap = tmp_path / "s.qsnap.json"
    code, _, err = run_cli(capsys, "snapshot", tmp_path / name, *args, "-o", snap)
    assert code == 0, err
    code, out, err = run_cli(capsys, "diff", snap, "--format", "json")
    d = json.loads(out)
    assert code == 0 and d["ok"] and d["exit_code"] == 0, out
    side = d["sides"]["qvalid"]
    assert side["verdict"] == "same" and all(o["class"] in ("same", "not compared") for o in side["outputs"])
    if "--non-forced" in args:
        assert json.loads(snap.read_text())["study"]["forced"] is False


def test_library_round_trip_through_the_json_contract():
    res = analyze(load_lipset(), 3)
    back = result_from_dict(json.loads(json.dumps(res.to_dict())), res.study)
    for name in ("correlation", "loadings", "zscores", "factor_arrays", "unrotated_loadings"):
        np.testing.assert_array_equal(getattr(back, name), getattr(res, name))
    assert back.warning_codes == res.warning_codes and back.flags.tolist() == res.flags.tolist()
    np.testing.assert_array_equal(back.distinguishing.diffs, res.distinguishing.diffs)
    assert back.options == res.options and np.isnan(back.weights).all()
    d = snapshot_dict(res.study, 3, res.options, {"qvalid": qvalid_side(res)})
    snap = parse_snapshot(json.loads(dumps(d)))
    sd = diff_snapshot(snap)
    assert sd.ok and sd.exit_code == 0 and sd.diffs["qvalid"].verdict == "same"


# ------------------------------------------------------------------------------------------- every kind of change
def test_flipped_flag_is_reported_naming_the_sort(lipset_snap, capsys):
    def flip(d):
        d["outputs"]["qvalid"]["result"]["flags"][2][0] = False  # US3, f1 was flagged
    edit(lipset_snap, flip)
    code, out, _ = run_cli(capsys, "diff", lipset_snap)
    assert code == 1
    assert "[qvalid] snapshot vs qvalid " in out and "DIFFERS: 1 of 21 outputs; reported: flags" in out
    assert "  flags: reported: 1 of 27 cells; sort US3, f1: False (snapshot) vs True (qvalid " in out
    assert "to accept them, re-run: qvalid snapshot" in out


def test_moved_array_cell_is_reported(lipset_snap, capsys):
    edit(lipset_snap, lambda d: d["outputs"]["qvalid"]["result"]["factor_arrays"][6].__setitem__(1, 2))
    code, out, _ = run_cli(capsys, "diff", lipset_snap, "--format", "json")
    d = json.loads(out)
    fa = next(o for o in d["sides"]["qvalid"]["outputs"] if o["name"] == "factor_arrays")
    assert code == 1 and fa["class"] == "reported" and fa["n_bad"] == 1
    assert fa["worst"]["where"] == "statement sta_7, f2" and fa["worst"]["a"] == 2 and fa["worst"]["b"] == 1


@pytest.mark.parametrize("drift, tol, fail_on, code, klass", [
    (1e-13, None, "any", 0, "within tolerance"),
    (1e-13, "0", "any", 1, "numerical only"),
    (1e-13, "0", "reported", 0, "numerical only"),
    (-0.006, None, "any", 1, "reported"),  # 2 dp: a loading printed differently
    (0.004, "loadings=0.01", "any", 0, "within tolerance"),
])
def test_drift_is_numerical_only_below_print_precision(lipset_snap, capsys, drift, tol, fail_on, code, klass):
    res = analyze(load_lipset(), 3)
    v = res.loadings[0, 1]  # 0.76583...: -0.006 prints 0.76, +1e-13 does not move it
    assert printed(v - 0.006, 2) != printed(v, 2) and printed(v + 1e-13, 2) == printed(v, 2)
    edit(lipset_snap, lambda d: d["outputs"]["qvalid"]["result"]["loadings"][0].__setitem__(1, v + drift))
    argv = ["diff", lipset_snap, "--format", "json", "--fail-on", fail_on] + (["--tolerance", tol] if tol else [])
    c, out, err = run_cli(capsys, *argv)
    d = json.loads(out)
    o = next(o for o in d["sides"]["qvalid"]["outputs"] if o["name"] == "loadings")
    assert c == code and o["class"] == klass, (out, err)
    assert o["worst"]["where"] == "sort US1, f2"
    if klass == "reported":
        assert o["worst_reported"]["where"] == "sort US1, f2" and o["n_reported"] == 1 and o["digits"] == 2


def test_perturbed_option_changes_the_rerun_and_is_reported(lipset_snap, capsys):
    edit(lipset_snap, lambda d: d["analysis"]["options"].__setitem__("threshold", 0.6))
    code, out, _ = run_cli(capsys, "diff", lipset_snap)
    res, thr = analyze(load_lipset(), 3), analyze(load_lipset(), 3, threshold=0.6)
    assert code == 1 and (res.flags != thr.flags).any()
    assert "reported: flags" in out and "  flags: reported: " in out


def test_upgraded_version_is_compared_with_a_note(lipset_snap, capsys):
    def old(d):
        d["versions"].update(qvalid="0.0.9", numpy="1.21.0")
    edit(lipset_snap, old)
    code, out, _ = run_cli(capsys, "diff", lipset_snap)
    assert code == 0
    assert "note: versions differ from the snapshot's (qvalid 0.0.9 -> " in out and "numpy 1.21.0 -> " in out
    assert "compared anyway" in out


def test_changed_input_is_reported_and_analysed(lipset_snap, tmp_path, capsys):
    src = tmp_path / "study.csv"
    rows = src.read_text().splitlines()
    # swap two scores of sort US1 (column 1): statements sta_1 (-1) and sta_2 (0): still a valid forced sort
    a, b = rows[1].split(","), rows[2].split(",")
    a[1], b[1] = b[1], a[1]
    rows[1], rows[2] = ",".join(a), ",".join(b)
    src.write_text("\n".join(rows) + "\n")
    code, out, _ = run_cli(capsys, "diff", lipset_snap)
    assert code == 1
    assert "  input: reported: 2 of 297 cells; statement sta_1, sort US1: -1 (snapshot) vs 0 (qvalid" in out
    code, out, _ = run_cli(capsys, "diff", lipset_snap, "--embedded")  # the recorded study: the same
    assert code == 0, out


def test_same_study_other_bytes_is_a_note(lipset_snap, tmp_path, capsys):
    src = tmp_path / "study.csv"
    src.write_bytes(src.read_bytes().replace(b"\n", b"\r\n"))
    code, out, _ = run_cli(capsys, "diff", lipset_snap)
    assert code == 0 and "note: the input file's bytes changed but the study read from it is the same" in out


def test_manual_flags_file_change_is_reported(tmp_path, capsys):
    shutil.copy(LIPSET, tmp_path / "study.csv")
    res = analyze(load_lipset(), 3)
    flags = tmp_path / "flags.csv"
    write = lambda fl: flags.write_text("sort,f1,f2,f3\n" + "".join(  # noqa: E731
        f"{s},{','.join(str(int(x)) for x in row)}\n" for s, row in zip(res.sort_ids, fl)))
    write(res.flags)
    snap = tmp_path / "m.qsnap.json"
    assert run_cli(capsys, "snapshot", tmp_path / "study.csv", "-k", 3, "--flags", flags, "-o", snap)[0] == 0
    assert json.loads(snap.read_text())["input"]["flags_file"] == "flags.csv"
    assert run_cli(capsys, "diff", snap)[0] == 0
    fl = res.flags.copy()
    fl[8] = [True, False, False]  # FR9 moved to f1
    write(fl)
    code, out, _ = run_cli(capsys, "diff", snap)
    assert code == 1 and "  input.flags: reported: 2 of 27 cells; sort FR9, f1: False (snapshot) vs True" in out
    assert "  characteristics.reliability: reported: 2 of 3 cells beyond 1e-10" in out  # 0.923 -> 0.889 at 3 dp
    assert "numerical only" not in out


# ------------------------------------------------------------------------------------------- refusals (exit 2)
@pytest.mark.parametrize("how, message", [
    (lambda d: d.__setitem__("qvalid_snapshot", 2),
     "snapshot schema 2 cannot be read by qvalid"),
    (lambda d: d.pop("qvalid_snapshot"), "not a qvalid snapshot (no 'qvalid_snapshot' schema key)"),
    (lambda d: d["analysis"]["options"].__setitem__("oblimin_gamma", 0.0),
     "the snapshot records option(s) oblimin_gamma that qvalid"),
    (lambda d: d.pop("outputs"), "invalid snapshot: missing key 'outputs'"),
    (lambda d: d["outputs"]["qvalid"]["result"].__setitem__("loadings", [[1.0]]),
     "invalid snapshot: loadings has shape (1, 1), expected (9, 3)"),
    (lambda d: d["study"]["scores"].__setitem__(slice(0, 2), d["study"]["scores"][1::-1]),  # sta_1, sta_2 swapped
     "invalid snapshot: the embedded study does not match its recorded hash"),
    (lambda d: d.__setitem__("kind", "movie"), "invalid snapshot: unknown kind 'movie'"),
])
def test_bad_snapshots_are_refused_in_one_line(lipset_snap, capsys, how, message):
    edit(lipset_snap, how)
    code, out, err = run_cli(capsys, "diff", lipset_snap)
    one_line(code, err, "qvalid diff: error: ", "analysis.qsnap.json", message)
    assert out == ""


def test_not_json_and_missing_input_and_missing_side(lipset_snap, tmp_path, capsys):
    bad = tmp_path / "bad.qsnap.json"
    bad.write_text("{not json")
    one_line(*run_cli(capsys, "diff", bad)[::2], "bad.qsnap.json:1: not a qvalid snapshot: not JSON")
    one_line(*run_cli(capsys, "diff", tmp_path / "nope.json")[::2], "nope.json: cannot read the file")
    one_line(*run_cli(capsys, "diff", lipset_snap, "--against", "r")[::2],
             "the snapshot has no r side (make it with --with-r)")
    (tmp_path / "study.csv").unlink()
    one_line(*run_cli(capsys, "diff", lipset_snap)[::2], "study.csv: cannot read the file")
    assert run_cli(capsys, "diff", lipset_snap, "--study", LIPSET)[0] == 0
    one_line(*run_cli(capsys, "diff", lipset_snap, "--print-digits", "loadings=x")[::2],
             "--print-digits 'loadings=x': expected OUTPUT=DECIMALS")
    one_line(*run_cli(capsys, "diff", lipset_snap, "--embedded", "--junit", lipset_snap)[::2],
             "refusing to overwrite")


def test_snapshot_refusals(tmp_path, capsys):
    shutil.copy(LIPSET, tmp_path / "study.csv")
    one_line(*run_cli(capsys, "snapshot", tmp_path / "study.csv")[::2], "give -k K (the number of factors)")
    one_line(*run_cli(capsys, "snapshot", tmp_path / "study.csv", "-k", 2, "-o", tmp_path / "study.csv")[::2],
             "refusing to overwrite")
    one_line(*run_cli(capsys, "snapshot", tmp_path / "study.csv", "-k", 2, "--r-only")[::2],
             "--r-only needs --r-result FILE")


def test_missing_option_in_an_old_snapshot_takes_its_default_with_a_note(lipset_snap, capsys):
    edit(lipset_snap, lambda d: d["analysis"]["options"].pop("qdc_labels"))
    code, out, _ = run_cli(capsys, "diff", lipset_snap)
    assert code == 0 and "option(s) not recorded in the snapshot" in out and "qdc_labels='grep'" in out


# ------------------------------------------------------------------------------------------- renderers
def test_junit_xml_is_valid_and_counts_failures_and_skips(lipset_snap, tmp_path, capsys):
    junit, md = tmp_path / "diff.xml", tmp_path / "diff.md"
    code, _, _ = run_cli(capsys, "diff", lipset_snap, "--junit", junit, "--markdown", md)
    root = validate_junit(junit)
    assert code == 0 and root.get("tests") == "21" and root.get("failures") == "0"
    edit(lipset_snap, lambda d: d["outputs"]["qvalid"]["result"]["flags"][2].__setitem__(0, False))
    code, _, _ = run_cli(capsys, "diff", lipset_snap, "--junit", junit, "--markdown", md, "--tolerance", "0")
    root = validate_junit(junit)
    suite = root.find("testsuite")
    assert code == 1 and suite.get("failures") == "1" and root.get("failures") == "1"
    [fail] = suite.iter("failure")
    assert fail.get("type") == "reported"
    assert fail.get("message") == ("flags: reported, 1 of 27 cells; sort US3, f1: False (snapshot) vs True "
                                   f"(qvalid {__import__('qvalid').__version__})")
    tc = [t for t in suite.iter("testcase") if t.find("failure") is not None]
    assert [t.get("name") for t in tc] == ["flags"] and tc[0].get("classname") == "qvalid.diff.qvalid"
    text = md.read_text()
    assert text.startswith("### \u274c qvalid diff `analysis.qsnap.json`: differs")
    assert "| flags | reported | 1 / 27 |" in text and "<details><summary>every output</summary>" in text


def test_junit_skipped_for_outputs_a_text_does_not_print(lipset_snap, tmp_path, capsys):
    text = EXPORTS / "lipset_pca_varimax_pearson_k3.txt"
    junit = tmp_path / "j.xml"
    code, out, err = run_cli(capsys, "diff", lipset_snap, text, "--junit", junit)
    assert code == 0, out + err
    root = validate_junit(junit)
    skipped = [t.get("name") for t in root.iter("testcase") if t.find("skipped") is not None]
    assert skipped == ["correlation", "unrotated_loadings"]
    assert root.find("testsuite").find("testcase[@name='correlation']/skipped").get("message") == NOT_SAVED


def test_text_summary_is_short_and_json_has_the_shape(lipset_snap, capsys):
    code, out, _ = run_cli(capsys, "diff", lipset_snap)
    assert code == 0 and len(out.splitlines()) == 3
    code, out, _ = run_cli(capsys, "diff", lipset_snap, "--format", "json")
    d = json.loads(out)
    assert set(d) == {"qvalid_version", "snapshot", "schema", "kind", "title", "ok", "exit_code", "fail_on",
                      "summary", "notes", "sides"}
    assert d["sides"]["qvalid"]["verdict"] == "same"
    code, out, _ = run_cli(capsys, "diff", lipset_snap, "-v")
    assert "characteristics.se_fscores" in out  # the whole table
    code, out, _ = run_cli(capsys, "diff", lipset_snap, "--format", "markdown")
    assert out.startswith("### \u2705 qvalid diff")


def test_print_digits_option_changes_the_class(lipset_snap, capsys):
    res = analyze(load_lipset(), 3)
    v = res.loadings[0, 1]
    edit(lipset_snap, lambda d: d["outputs"]["qvalid"]["result"]["loadings"][0].__setitem__(1, v + 8e-4))
    assert printed(v + 8e-4, 2) == printed(v, 2) and printed(v + 8e-4, 3) != printed(v, 3)
    code, out, _ = run_cli(capsys, "diff", lipset_snap, "--fail-on", "reported")
    assert code == 0 and "numerical only: loadings" in out
    code, out, _ = run_cli(capsys, "diff", lipset_snap, "--fail-on", "reported", "--print-digits", "loadings=3")
    assert code == 1 and "reported: loadings" in out


def test_print_digits_table_covers_every_float_output():
    from qvalid.checks.diff import FLOAT_OUTPUTS

    assert set(PRINT_DIGITS) == set(FLOAT_OUTPUTS)
    assert PRINT_DIGITS["loadings"] == 2 and PRINT_DIGITS["zscores"] == 3


# ------------------------------------------------------------------------------------------- export.qm without R
EXPORT_CASES = [("lipset_pca_varimax_pearson_k3", "lipset/pca_varimax_pearson_k3"),
                ("nav_synth_centroid_varimax_pearson_k4", "nav_synth/centroid_varimax_pearson_k4"),
                ("many_factors_pca_varimax_pearson_k10", "many_factors/pca_varimax_pearson_k10"),
                ("nonforced_pca_varimax_pearson_k3", "nonforced/pca_varimax_pearson_k3")]


@pytest.mark.parametrize("name, case", EXPORT_CASES, ids=[c[0] for c in EXPORT_CASES])
def test_export_qm_text_equals_the_golden_r_outputs_as_printed(name, case):
    """Every printed cell of R's export.qm (wrapped tables, scientific notation in many_factors' qdc) is R's full
    precision output rounded to that cell's decimals."""
    rr = load_golden(GOLDEN / f"{case}.json")
    s = parse_export_qm((EXPORTS / f"{name}.txt").read_text(), path=name,
                        grid=None if rr.study.forced else dict(rr.study.grid))
    assert s.source == "export.qm" and s.version == "1.8.4" and s.nfactors == rr.nfactors
    assert s.result.study.replace(name=rr.study.name) == rr.study
    assert s.options["extraction"] == rr.options["extraction"] and s.options["cor_method"] == "pearson"
    assert set(s.missing) == {"correlation", "unrotated_loadings"}
    d = compare_side(Side(as_result(rr), "rpy2", missing=dict(rr.missing)),
                     Side(s.result, "export.qm", missing=s.missing, decimals=s.decimals), names=("R", "text"))
    assert d.ok and d.verdict == "same", d.to_text()
    assert d["flags"].n_cells == rr.study.n_sorts * rr.nfactors and d["qdc.stars"].n_cells > 0
    # and a changed number in the text is a reported difference at the text's precision
    dec = s.decimals["zscores"][0, 0]
    z = s.result.zscores.copy()
    z[0, 0] += 10.0 ** -dec
    from dataclasses import replace
    moved = Side(replace(s.result, zscores=z), "export.qm", missing=s.missing, decimals=s.decimals)
    d = compare_side(Side(as_result(rr), "rpy2", missing=dict(rr.missing)), moved)
    assert not d.ok and d["zscores"].klass == "reported" and d["zscores"].n_bad == 1


def test_export_qm_refusals():
    text = (EXPORTS / "lipset_pca_varimax_pearson_k3.txt").read_text()
    from qvalid.errors import QInputError

    with pytest.raises(QInputError, match="not an export.qm text"):
        parse_export_qm("hello\n", path="x.txt")
    trunc = text.replace("sta_33  ", "sta_33  ", 1).replace("Q-sort factor loadings :",
                                                            " (...) See item '...$dataset' for the full data.\n\n"
                                                            "Q-sort factor loadings :")
    with pytest.raises(QInputError, match="truncated"):
        parse_export_qm(trunc, path="x.txt")
    with pytest.raises(QInputError, match="PQMethod"):
        parse_export_qm(text + "\nCorrelation Matrix Between Sorts\n", path="x.txt")
    with pytest.raises(QInputError, match="is not a number"):
        parse_export_qm(text.replace("0.191  0.766 -0.168", "0.191  x.766 -0.168"), path="x.txt")
    with pytest.raises(QInputError, match="non-forced"):
        parse_export_qm((EXPORTS / "nonforced_pca_varimax_pearson_k3.txt").read_text(), path="x.txt")


def test_export_qm_text_as_the_snapshot_r_side(tmp_path, capsys):
    """An R group without Python: the snapshot's R side from export.qm, options from its summary."""
    shutil.copy(GOLDEN / "inputs" / "nav_synth.csv", tmp_path / "study.csv")
    text = EXPORTS / "nav_synth_centroid_varimax_pearson_k4.txt"
    snap = tmp_path / "s.qsnap.json"
    code, out, err = run_cli(capsys, "snapshot", tmp_path / "study.csv", "--r-result", text, "-o", snap)
    assert code == 0, err
    d = json.loads(snap.read_text())
    assert d["analysis"]["nfactors"] == 4 and d["analysis"]["options"]["extraction"] == "centroid"
    assert d["outputs"]["r"]["source"] == "export.qm" and d["outputs"]["r"]["decimals"]["loadings"]
    code, out, _ = run_cli(capsys, "diff", snap, text)
    assert code == 0 and "[r] snapshot vs nav_synth_centroid_varimax_pearson_k4.txt: SAME" in out
    # the text compared with qvalid's side (re-run): as printed, the same
    code, out, _ = run_cli(capsys, "diff", snap, text, "--against", "qvalid")
    assert code == 0, out
    one_line(*run_cli(capsys, "snapshot", tmp_path / "study.csv", "--r-result", text, "-k", 3)[::2],
             "-k 3: the R result has 4 factor(s)")
    one_line(*run_cli(capsys, "snapshot", tmp_path / "study.csv", "--r-result", text, "--extraction", "pca")[::2],
             "--extraction pca: the R result was made with extraction='centroid'")
    other = tmp_path / "other.csv"
    shutil.copy(GOLDEN / "inputs" / "lipset.csv", other)
    one_line(*run_cli(capsys, "snapshot", other, "--r-result", text)[::2], "the R result's dataset is not the study")


def test_console_script_exit_codes(tmp_path, lipset_snap):
    exe = Path(sys.executable).with_name("qvalid")
    p = subprocess.run([str(exe), "diff", str(lipset_snap)], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0 and p.stderr == ""
    edit(lipset_snap, lambda d: d["outputs"]["qvalid"]["result"]["flags"][2].__setitem__(0, False))
    p = subprocess.run([str(exe), "diff", str(lipset_snap)], capture_output=True, text=True, timeout=120)
    assert p.returncode == 1
    edit(lipset_snap, lambda d: d.__setitem__("qvalid_snapshot", 99))
    p = subprocess.run([str(exe), "diff", str(lipset_snap)], capture_output=True, text=True, timeout=120)
    assert p.returncode == 2 and p.stderr.count("\n") == 1


# ------------------------------------------------------------------------------------------- live R
@pytest.mark.r
def test_with_r_snapshot_and_diff_both_sides(r_session, tmp_path, capsys):
    shutil.copy(LIPSET, tmp_path / "study.csv")
    snap = tmp_path / "s.qsnap.json"
    assert run_cli(capsys, "snapshot", tmp_path / "study.csv", "-k", 3, "--with-r", "-o", snap)[0] == 0
    d = json.loads(snap.read_text())
    assert d["outputs"]["r"]["source"] == "rpy2" and d["versions"]["qmethod"] == r_session["qmethod"]
    assert d["versions"]["R"] == r_session["R"] and d["versions"]["psych"] == r_session["psych"]
    code, out, _ = run_cli(capsys, "diff", snap)
    assert code == 0 and "[r] snapshot vs qmethod " in out and ": SAME: 21 outputs identical" in out
    edit(snap, lambda x: x["versions"].__setitem__("qmethod", "1.8.3"))
    edit(snap, lambda x: x["outputs"]["r"]["versions"].__setitem__("qmethod", "1.8.3"))
    code, out, _ = run_cli(capsys, "diff", snap, "--against", "r")
    assert code == 0 and "versions differ from the snapshot's (qmethod 1.8.3 -> " in out


@pytest.mark.r
def test_rds_written_by_an_r_script_is_guarded(r_session, tmp_path, capsys):
    shutil.copy(LIPSET, tmp_path / "study.csv")
    csv, rds, rds2 = (tmp_path / n for n in ("study.csv", "qm.rds", "qm_flags.rds"))
    run_r(f'd <- read.csv("{csv}", row.names = 1, check.names = FALSE); '
          f'r <- qmethod(d, nfactors = 3, silent = TRUE); saveRDS(r, "{rds}"); '
          f'f <- r$flagged; f["US1", "flag_f2"] <- FALSE; '
          f'r2 <- qzscores(d, 3, loa = r$loa, flagged = f); saveRDS(r2, "{rds2}")')
    snap = tmp_path / "s.qsnap.json"
    code, out, err = run_cli(capsys, "snapshot", csv, "--r-result", rds, "-o", snap)
    assert code == 0, err
    d = json.loads(snap.read_text())
    assert d["outputs"]["r"]["source"] == "rds" and d["versions"]["qmethod"] == r_session["qmethod"]
    assert "--r-result" in d["command"] and "-k" not in d["command"].split()
    code, out, _ = run_cli(capsys, "diff", snap, rds)
    assert code == 0 and "[r] snapshot vs qm.rds: SAME" in out
    code, out, _ = run_cli(capsys, "diff", snap)  # re-run both sides: qvalid and R through rpy2
    assert code == 0 and "[r] snapshot vs qmethod" in out
    # the R script changed its flags by hand: reported, and the brief says so (qzscores: manual flags)
    code, out, _ = run_cli(capsys, "diff", snap, rds2)
    assert code == 1 and "  flags: reported: 1 of 27 cells; sort US1, f2: True (snapshot) vs False (qm_flags.rds)" \
        in out
    one_line(*run_cli(capsys, "diff", snap, tmp_path / "nope.rds")[::2], "nope.rds: cannot read the file")
    (tmp_path / "junk.rds").write_bytes(b"not an rds")
    one_line(*run_cli(capsys, "diff", snap, tmp_path / "junk.rds")[::2],
             "junk.rds: cannot read it as a saved qmethod result")


@pytest.mark.r
def test_rds_of_a_non_forced_study_takes_the_snapshot_grid(r_session, tmp_path, capsys):
    src = GOLDEN / "inputs" / "nonforced.csv"
    rds = tmp_path / "nf.rds"
    run_r(f'd <- read.csv("{src}", row.names = 1, check.names = FALSE); '
          f'r <- qmethod(d, nfactors = 3, forced = FALSE, distribution = rep(-3:3, c(2,3,5,10,5,3,2)), '
          f'silent = TRUE); saveRDS(r, "{rds}")')
    snap = tmp_path / "s.qsnap.json"
    code, _, err = run_cli(capsys, "snapshot", src, "--non-forced", "--grid=-3:2,3,5,10,5,3,2", "--r-result", rds,
                           "-o", snap)
    assert code == 0, err
    code, out, _ = run_cli(capsys, "diff", snap, rds, "--against", "both")
    assert code == 0 and "[qvalid] snapshot vs nf.rds: SAME" in out and "[r] snapshot vs nf.rds: SAME" in out


def test_export_qm_continued_table_rows_must_match_the_first_block():
    """R wraps a wide table into blocks of columns; a second block whose rows are not the first block's is refused
    (the dataset, whose row names are read from the text itself)."""
    from qvalid.errors import QInputError

    text = (EXPORTS / "nav_synth_centroid_varimax_pearson_k4.txt").read_text().splitlines()
    i = text.index("   16YH 17GM 18YT 19BN 20BX 21CM 22FU 23FD 24UK 25XQ")
    a, b = text[i + 1], text[i + 2]
    text[i + 1], text[i + 2] = b, a  # rows 1 and 2 of the second block swapped
    with pytest.raises(QInputError, match=r"row '2' of a continued table does not match the first block") as e:
        parse_export_qm("\n".join(text) + "\n", path="x.txt")
    assert e.value.line == i + 2
    text = (EXPORTS / "nav_synth_centroid_varimax_pearson_k4.txt").read_text().splitlines()
    del text[i + 36]  # the second block has one row fewer: the rows are of different lengths
    with pytest.raises(QInputError, match="rows of different lengths"):
        parse_export_qm("\n".join(text) + "\n", path="x.txt")


def test_text_side_without_a_qdc_table():
    """One factor: no distinguishing table on either side; the text's precision still applies to the rest."""
    res = analyze(load_lipset(), 1)
    assert res.distinguishing is None
    dec = {"loadings": np.full(res.loadings.shape, 3), "zscores": np.full(res.zscores.shape, 2),
           "qdc.diffs": np.zeros((33, 0), dtype=int)}
    text = Side(replace_loadings(res, printed(res.loadings, 3)), "export.qm", decimals=dec)
    d = compare_side(qvalid_side(res), text)
    assert d.ok and d["loadings"].klass == "same" and d["qdc.pairs"].note == "absent on both sides"
    assert d["zscores"].n_reported == 0 and d["zscores"].digits == 2


def replace_loadings(res, loa):
    from dataclasses import replace

    return replace(res, loadings=loa)


# ------------------------------------------------------------------------------------------- details (mutation)
LIPSET_TEXT = EXPORTS / "lipset_pca_varimax_pearson_k3.txt"


def test_compare_studies_grid_and_forced():
    from qvalid.checks.snapshot import compare_studies

    st = load_lipset()
    same = compare_studies(st, st)
    assert same.passed and same.n_reported == 0 and same.n_cells == 297
    free = st.replace(forced=False)  # same scores and grid, only non-forced
    o = compare_studies(st, free)
    assert o.status == "shape" and o.note == "the grid or forced/non-forced changed" and o.klass == "reported"
    g = dict(st.grid)
    g[-4], g[0] = 1, 6  # another notional grid of a non-forced study
    o = compare_studies(free, free.replace(grid=g))
    assert o.status == "shape" and "grid" in o.note
    o = compare_studies(st, st.replace(sort_ids=tuple(reversed(st.sort_ids))))
    assert o.note == "sort ids differ: the same ids in another order"


def test_compare_flags_and_input_path_and_source(lipset_snap):
    from qvalid.checks.snapshot import compare_flags

    snap = load_snapshot(lipset_snap)
    o = compare_flags(snap, np.zeros((9, 3), dtype=bool))
    assert o.status == "shape" and o.note == "the snapshot has no manual flags" and o.n_reported == 1
    assert snap.study.source == "study.csv" and snap.flavor == "qmethod"
    assert snap.input_path() == lipset_snap.parent / "study.csv"
    d = json.loads(lipset_snap.read_text())
    d["analysis"]["flavor"] = "kade"
    loose = parse_snapshot(d)  # no file: a relative input stays relative
    assert loose.path is None and loose.input_path() == Path("study.csv") and loose.flavor == "kade"
    d["input"]["file"] = str(LIPSET)
    assert parse_snapshot(d, path=lipset_snap).input_path() == LIPSET
    d["input"]["file"] = None
    assert parse_snapshot(d).input_path() is None and "study.csv" not in parse_snapshot(d).title()


def test_rounding_boundary_of_a_printed_cell():
    """Compared as printed: a value within a millionth of a half unit may print either way (R's round() and C's
    formatting differ there); a value further off than half a unit is a printed difference."""
    res = analyze(load_lipset(), 3)
    dec = {"loadings": np.full(res.loadings.shape, 2)}

    def side(v):
        loa = res.loadings.copy()
        loa[0, 0] = v
        return replace_loadings(res, loa)

    text = Side(side(0.13), "export.qm", decimals=dec)  # R printed 0.13
    assert compare_side(qvalid_side(side(0.125)), text).ok  # exactly the half: either rounding
    assert compare_side(qvalid_side(side(0.12500000001)), text).ok
    d = compare_side(qvalid_side(side(0.1249)), text)  # 0.12 as printed, 0.0051 from 0.13
    assert not d.ok and d["loadings"].klass == "reported" and d["loadings"].worst.where == "sort US1, f1"
    assert compare_side(qvalid_side(side(0.1351)), text)["loadings"].klass == "reported"


def test_warning_and_iteration_notes(tmp_path, capsys):
    shutil.copy(LIPSET, tmp_path / "study.csv")
    snap = tmp_path / "s.qsnap.json"
    assert run_cli(capsys, "snapshot", tmp_path / "study.csv", "-k", 3, "--rotation", "none", "-o", snap)[0] == 0

    def old(d):
        diag = d["outputs"]["qvalid"]["result"]["diagnostics"]
        diag["warnings"], diag["varimax_iterations"] = [], 3
    edit(snap, old)
    code, out, _ = run_cli(capsys, "diff", snap)
    assert code == 0
    assert "  note: warnings changed; new: one or more Q-sorts with negative loadings are flagged" in out
    assert "  note: varimax iterations 3 -> 0" in out


def test_text_lines_name_numerical_failures_and_format_numbers(lipset_snap, capsys):
    res = analyze(load_lipset(), 3)

    def drift(d):
        r = d["outputs"]["qvalid"]["result"]
        r["loadings"][0][1] = res.loadings[0, 1] + 1.0         # reported, |diff| exactly 1
        r["zscores"][4][1] = res.zscores[4, 1] + 0.00012345     # numerical only at 3 dp (sta_5, f2 = -0.322...)
    edit(lipset_snap, drift)
    code, out, _ = run_cli(capsys, "diff", lipset_snap)
    assert code == 1
    assert "  loadings: reported: 1 of 27 cells beyond 1e-10, max |diff| 1, 1 print differently at 2 dp; " \
           "sort US1, f2: " in out
    assert "  zscores: numerical only: 1 of 99 cells beyond 1e-10, max |diff| 0.00012; statement sta_5, f2: " in out
    junit = lipset_snap.parent / "j.xml"
    run_cli(capsys, "diff", lipset_snap, "--junit", junit)
    root = validate_junit(junit)
    assert root.get("errors") == "0" and root.find("testsuite").get("errors") == "0"
    assert root.get("failures") == "2"


def test_print_digits_zero_is_allowed(lipset_snap, capsys):
    assert run_cli(capsys, "diff", lipset_snap, "--print-digits", "characteristics.expl_var=0")[0] == 0
    one_line(*run_cli(capsys, "diff", lipset_snap, "--print-digits", "loadings=16")[::2],
             "expected OUTPUT=DECIMALS with 0 to 15 decimals")


def test_export_qm_structure_errors():
    from qvalid.errors import QInputError

    lines = LIPSET_TEXT.read_text().splitlines()
    text = "\n".join(lines) + "\n"
    with pytest.raises(QInputError, match="lacks 'Original data: N statements, M Q-sorts' or 'Number of factors'"):
        parse_export_qm(text.replace("Number of factors:         3\n", ""), path="x.txt")
    with pytest.raises(QInputError, match="no 'Original data' table"):
        parse_export_qm("\n".join(lines[:10]), path="x.txt")  # the summary alone, not even a blank line after it
    with pytest.raises(QInputError, match=r"'Q-sort factor loadings': columns f1 f2 g3, expected f1 f2 f3") as e:
        parse_export_qm(text.replace("        f1     f2     f3\nUS1", "        f1     f2     g3\nUS1"),
                        path="x.txt")
    assert e.value.line == 49
    with pytest.raises(QInputError, match="expected the row of US1") as e:
        parse_export_qm(text.replace("US1  0.191", "US1X 0.191"), path="x.txt")
    assert e.value.line == 50
    with pytest.raises(QInputError, match="expected the row of no more rows"):
        parse_export_qm(text.replace("FR9  0.204 -0.183 -0.448\n", "FR9  0.204 -0.183 -0.448\nXX9  0.1 0.1 0.1\n"),
                        path="x.txt")


def test_export_qm_continued_table_with_an_extra_row():
    from qvalid.errors import QInputError

    text = (EXPORTS / "nav_synth_centroid_varimax_pearson_k4.txt").read_text().splitlines()
    i = text.index("   16YH 17GM 18YT 19BN 20BX 21CM 22FU 23FD 24UK 25XQ")
    text.insert(i + 37, "37   -2   -2   -1    3    3    3   -3   -2    5   -1")
    with pytest.raises(QInputError, match="row '37' of a continued table does not match the first block") as e:
        parse_export_qm("\n".join(text) + "\n", path="x.txt")
    assert e.value.line == i + 38
    text = (EXPORTS / "nav_synth_centroid_varimax_pearson_k4.txt").read_text().splitlines()
    del text[i + 36]  # the last row missing from the second block
    with pytest.raises(QInputError, match="rows of different lengths") as e:
        parse_export_qm("\n".join(text) + "\n", path="x.txt")
    assert e.value.line == 13  # the table's first line (its header)


def test_more_text_lines_and_refusals(lipset_snap, tmp_path, capsys):
    res = analyze(load_lipset(), 3)
    star = res.distinguishing.stars[0, 0]  # sta_1, f1_f2: '6*'
    edit(lipset_snap, lambda d: d["outputs"]["qvalid"]["result"]["distinguishing"]["per_statement"][0]["stars"]
         .__setitem__("f1_f2", "**"))
    code, out, _ = run_cli(capsys, "diff", lipset_snap)
    assert code == 1 and f"  qdc.stars: reported: 1 of 99 cells; statement sta_1, f1_f2: '**' (snapshot) vs " \
        f"'{star}' (qvalid" in out
    one_line(*run_cli(capsys, "diff", lipset_snap, "--print-digits", "flags=2")[::2],
             "--print-digits: unknown output 'flags' in print digits")
    # a renamed sort: the input's ids differ (the note is the line)
    src = tmp_path / "study.csv"
    src.write_text(src.read_text().replace("US1", "US01", 1))
    code, out, _ = run_cli(capsys, "diff", lipset_snap)
    assert code == 1 and "  input: reported: sort ids differ: 1 gone (US1), 1 new (US01)\n" in out


def test_other_sides_and_kinds_are_refused(lipset_snap, capsys):
    from qvalid.checks.snapshot import table_snapshot_dict
    from qvalid.errors import QInputError

    edit(lipset_snap, lambda d: d["outputs"].__setitem__("kade", d["outputs"]["qvalid"]))
    one_line(*run_cli(capsys, "diff", lipset_snap)[::2], "invalid snapshot: 'outputs' must hold some of the sides "
                                                          "qvalid, r")
    boot = lipset_snap.parent / "boot.qsnap.json"
    boot.write_text(dumps(table_snapshot_dict("factors", load_lipset(), {"criteria": []})))
    one_line(*run_cli(capsys, "diff", boot)[::2],
             "this snapshot holds a factors result (written by the qsnapshot pytest fixture): compare it from its test")
    with pytest.raises(QInputError, match="holds a factors result"):
        diff_snapshot(load_snapshot(boot))
    with pytest.raises(ValueError, match="kind must be one of bootstrap, factors"):
        table_snapshot_dict("analysis", load_lipset(), {})


def test_iterations_note_from_zero(lipset_snap, capsys):
    res = analyze(load_lipset(), 3)
    edit(lipset_snap, lambda d: d["outputs"]["qvalid"]["result"]["diagnostics"].__setitem__("varimax_iterations", 0))
    code, out, _ = run_cli(capsys, "diff", lipset_snap)
    assert code == 0 and f"  note: varimax iterations 0 -> {res.varimax_iterations}" in out


def test_coarser_precision_is_taken_cell_by_cell():
    """Two printed texts with other decimals per cell: each cell at the coarser of its two precisions."""
    res = analyze(load_lipset(), 3)
    loa = res.loadings.copy()
    d_ref = np.full(loa.shape, 3)
    d_new = np.full(loa.shape, 3)
    d_new[8, 2] = 2  # one cell printed with 2 decimals in the new text: only that cell is compared at 2 dp
    moved = loa.copy()
    moved[0, 0] += 0.001  # US1 f1 0.191 -> 0.192 at 3 dp
    a = Side(replace_loadings(res, printed(loa, d_ref)), "export.qm", decimals={"loadings": d_ref})
    b = Side(replace_loadings(res, printed(moved, d_new)), "export.qm", decimals={"loadings": d_new})
    d = compare_side(a, b)
    assert not d.ok and d["loadings"].n_bad == 1 and d["loadings"].worst.where == "sort US1, f1"
    assert d["loadings"].klass == "reported" and d["loadings"].digits == 2


def test_export_qm_table_must_start_with_its_header():
    from qvalid.errors import QInputError

    text = LIPSET_TEXT.read_text().replace("        f1     f2     f3\nUS1", "US1", 1)
    with pytest.raises(QInputError, match="expected a table header") as e:
        parse_export_qm(text, path="x.txt")
    assert e.value.line == 49


def test_study_reading_options_are_recorded_and_reused(tmp_path, capsys):
    """A study read with --layout sorts and a named id column is read the same way by qvalid diff."""
    import csv

    with open(LIPSET, newline="") as fh:
        rows = list(csv.reader(fh))
    cols = list(zip(*rows))  # one Q-sort per row; the first row holds the statement ids
    with open(tmp_path / "sorts.csv", "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["who", *cols[0][1:]])
        for c in cols[1:]:
            w.writerow(c)
    snap = tmp_path / "s.qsnap.json"
    code, _, err = run_cli(capsys, "snapshot", tmp_path / "sorts.csv", "--layout", "sorts", "--id-column", "who",
                           "-k", 2, "-o", snap)
    assert code == 0, err
    d = json.loads(snap.read_text())
    assert d["input"]["read"]["layout"] == "sorts" and d["input"]["read"]["id_column"] == "who"
    assert "--layout sorts --id-column who -k 2" in d["command"]
    assert d["study"]["sort_ids"] == list(load_lipset().sort_ids)
    code, out, err = run_cli(capsys, "diff", snap)
    assert code == 0 and ": SAME: 21 outputs identical" in out, out + err
