"""Details of snapshots and their diff that the mutation runs asked for (docs/mutation.md): argument checks, what the
text, JUnit and notes say in the less common cases, and what an R result's brief carries into a snapshot."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from qvalid import analyze
from qvalid.checks.snapshot import (diff_snapshot, dumps, load_snapshot, parse_snapshot, qvalid_side, snapshot_dict,
                                    version_notes)
from qvalid.datasets import load_lipset
from qvalid.r.saved import parse_export_qm

sys.path.insert(0, str(Path(__file__).parent))
from _cli import run_cli, snapshot_in  # noqa: E402
from _junit import validate_junit  # noqa: E402
from _r import GOLDEN, r_session, require_r, run_r  # noqa: E402,F401

ROOT = Path(__file__).resolve().parents[1]
LIPSET = ROOT / "reference" / "data" / "lipset" / "lipset.csv"
EXPORTS = GOLDEN / "export_qm"


@pytest.fixture
def snap(tmp_path, capsys):
    return snapshot_in(tmp_path, capsys, LIPSET)


def edit(path, fn):
    d = json.loads(path.read_text())
    fn(d)
    path.write_text(json.dumps(d))


def test_snapshot_dict_needs_known_sides():
    res = analyze(load_lipset(), 2)
    with pytest.raises(ValueError, match=r"sides must be some of qvalid, r, got \[\]"):
        snapshot_dict(res.study, 2, res.options, {})
    with pytest.raises(ValueError, match=r"sides must be some of qvalid, r, got \['kade', 'qvalid'\]"):
        snapshot_dict(res.study, 2, res.options, {"qvalid": qvalid_side(res), "kade": qvalid_side(res)})


def test_the_study_name_and_versions_survive_the_file():
    res = analyze(load_lipset(), 2)
    d = json.loads(dumps(snapshot_dict(res.study, 2, res.options, {"qvalid": qvalid_side(res)},
                                       versions={"qmethod": "1.8.4"})))
    snap = parse_snapshot(d)
    assert snap.study.name == "lipset" and snap.title().startswith("lipset (33 statements x 9 Q-sorts)")
    assert snap.versions["qmethod"] == "1.8.4" and diff_snapshot(snap).ok


def test_version_notes():
    assert version_notes({"a": "1", "b": "2", "c": "3"}, {"a": "1", "b": "3"}) == [
        "versions differ from the snapshot's (b 2 -> 3): compared anyway"]
    assert version_notes({"R": "R version 4.2.2"}, {"R": "R version 4.4.1"}, ["R"]) == [
        "versions differ from the snapshot's (R 4.2.2 -> 4.4.1): compared anyway"]
    assert version_notes({"a": "1"}, {"a": "1"}) == []


def test_export_qm_summary_lines_are_the_info():
    s = parse_export_qm((EXPORTS / "lipset_pca_varimax_pearson_k3.txt").read_text(), path="x.txt")
    assert len(s.info) == 10 and s.info[0] == "Q-method analysis." and s.info[-1].startswith("Correlation coefficient")


def test_fail_on_reported_lists_no_numerical_lines(snap, capsys):
    res = analyze(load_lipset(), 3)
    edit(snap, lambda d: d["outputs"]["qvalid"]["result"]["loadings"][0].__setitem__(1, res.loadings[0, 1] + 1e-6))
    code, out, _ = run_cli(capsys, "diff", snap, "--fail-on", "reported")
    assert code == 0 and "SAME (numerical only: loadings)" in out and "  loadings:" not in out
    assert out.rstrip().endswith("result: same (exit 0); fail-on reported")
    code, out, _ = run_cli(capsys, "diff", snap)
    assert code == 1 and "  loadings: numerical only: 1 of 27 cells beyond 1e-10, max |diff| 1e-06" in out


def test_print_digits_fifteen_is_allowed(snap, capsys):
    assert run_cli(capsys, "diff", snap, "--print-digits", "loadings=15")[0] == 0


def test_junit_failure_messages(snap, tmp_path, capsys):
    res = analyze(load_lipset(), 3)
    edit(snap, lambda d: d["outputs"]["qvalid"]["result"]["zscores"][0].__setitem__(0, res.zscores[0, 0] + 0.5))
    src = tmp_path / "study.csv"
    src.write_text(src.read_text().replace("US1", "US01", 1))
    junit = tmp_path / "j.xml"
    code, _, _ = run_cli(capsys, "diff", snap, "--junit", junit)
    root = validate_junit(junit)
    msgs = {tc.get("name"): tc.find("failure").get("message") for tc in root.iter("testcase")
            if tc.find("failure") is not None}
    assert code == 1
    assert msgs["input"] == "input: reported; sort ids differ: 1 gone (US1), 1 new (US01)"
    assert msgs["ids"].startswith("ids: reported; sort ids [US1, US2, US3, US4, ...] (9) vs [US01, US2, US3, US4, ...]")
    edit(snap, lambda d: d["outputs"]["qvalid"]["result"]["loadings"][0].__setitem__(1, 0.5))
    code, _, _ = run_cli(capsys, "diff", snap, "--embedded", "--junit", junit)
    root = validate_junit(junit)
    loa = next(tc for tc in root.iter("testcase") if tc.get("name") == "loadings").find("failure")
    assert loa.get("message").startswith("loadings: reported, 1 of 27 cells, max |diff| 0.266; sort US1, f2: 0.5 "
                                         "(snapshot) vs 0.7658")
    assert loa.get("type") == "reported" and "sort US1, f2: 0.5 (snapshot) vs " in loa.text


def test_another_source_is_a_note(tmp_path, capsys):
    shutil.copy(GOLDEN / "inputs" / "lipset.csv", tmp_path / "study.csv")
    text = EXPORTS / "lipset_pca_varimax_pearson_k3.txt"
    snap = tmp_path / "s.qsnap.json"
    assert run_cli(capsys, "snapshot", tmp_path / "study.csv", "-k", 3, "-o", snap)[0] == 0
    code, out, _ = run_cli(capsys, "diff", snap, text)
    assert code == 0, out
    assert f"  note: the snapshot's qvalid side was qvalid's analysis; now an export.qm text ({text})" in out


@pytest.mark.r
def test_manual_flags_of_an_r_result_are_the_snapshots(r_session, tmp_path, capsys):
    csv, rds = tmp_path / "study.csv", tmp_path / "qz.rds"
    shutil.copy(LIPSET, csv)
    run_r(f'd <- read.csv("{csv}", row.names = 1, check.names = FALSE); '
          f'r <- qmethod(d, nfactors = 3, silent = TRUE); f <- r$flagged; f["US1", "flag_f2"] <- FALSE; '
          f'saveRDS(qzscores(d, 3, loa = r$loa, flagged = f), "{rds}")')
    snap = tmp_path / "s.qsnap.json"
    code, _, err = run_cli(capsys, "snapshot", csv, "--r-result", rds, "-o", snap)
    assert code == 0, err
    d = json.loads(snap.read_text())
    flags = np.array(d["analysis"]["flags"])
    res = analyze(load_lipset(), 3)
    expected = res.flags.copy()
    expected[0, 1] = False
    assert (flags == expected).all()  # the R script's hand-made flags, used by qvalid's side too
    q = d["outputs"]["qvalid"]["result"]
    assert q["options"]["manual_flags"] is True and q["flags"] == expected.tolist()
    code, out, _ = run_cli(capsys, "diff", snap, rds, "--against", "both")
    assert code == 0, out


def test_a_qzscores_text_manual_flags_unknown_options_no_qdc(tmp_path, capsys):
    """qzscores() (the R way to flag by hand) prints no qdc table and no extraction: the snapshot takes the options
    from the command line, the flags from the text, and does not compare the distinguishing statements."""
    from qvalid.r.saved import NO_QDC

    text = EXPORTS / "lipset_qzscores_k3.txt"
    s = parse_export_qm(text.read_text(), path=str(text))
    assert s.manual_flags and s.options == {"extraction": None, "rotation": None, "cor_method": None, "spc": None}
    assert s.missing["qdc"] == NO_QDC and s.result.distinguishing is None
    res = analyze(load_lipset(), 3)
    expected = res.flags.copy()
    expected[0, 1] = False
    assert (s.result.flags == expected).all()
    shutil.copy(LIPSET, tmp_path / "study.csv")
    snap = tmp_path / "s.qsnap.json"
    code, _, err = run_cli(capsys, "snapshot", tmp_path / "study.csv", "--r-result", text, "-o", snap)
    assert code == 0, err
    d = json.loads(snap.read_text())
    assert d["analysis"]["flags"] == expected.tolist() and d["outputs"]["r"]["missing"]["qdc"] == NO_QDC
    assert d["command"].endswith(f"--r-result {text} -o {snap}") and " -k " not in d["command"]
    code, out, _ = run_cli(capsys, "diff", snap, text, "--against", "both")
    assert code == 0, out
    assert "[r] snapshot vs lipset_qzscores_k3.txt: SAME: 15 outputs identical (not compared: correlation, " \
           "unrotated_loadings, qdc.pairs, qdc.diffs, qdc.stars, qdc.labels, consensus)" in out


def test_brief_options_of_a_text(tmp_path):
    from qvalid.checks.snapshot import Side, compare_side

    text = (EXPORTS / "nav_synth_centroid_varimax_pearson_k4.txt").read_text()
    s = parse_export_qm(text, path="x.txt")
    assert s.options == {"extraction": "centroid", "rotation": "varimax", "cor_method": "pearson", "spc": 1e-5}
    t = parse_export_qm(text.replace("centroid (threshold = 1e-05)", "centroid (threshold = 1e-04)"), path="x.txt")
    assert t.options["spc"] == 1e-4 and t.result.options.spc == 1e-4
    lip = parse_export_qm((EXPORTS / "lipset_pca_varimax_pearson_k3.txt").read_text(), path="x.txt")
    assert lip.options == {"extraction": "pca", "rotation": "varimax", "cor_method": "pearson", "spc": None}
    res = analyze(load_lipset(), 3)
    side = Side(lip.result, "export.qm", missing=lip.missing, decimals=lip.decimals, brief={**lip.options,
                                                                                            "cor_method": "spearman"})
    d = compare_side(qvalid_side(res), side)
    o = d["options"]
    assert not d.ok and o.klass == "reported" and o.n_cells == 3 and o.worst.where == "cor_method"
    assert (o.worst.a, o.worst.b) == ("pearson", "spearman")
    assert o.note == "the R result was made with other options: cor_method"
    ok = compare_side(qvalid_side(res), Side(lip.result, "export.qm", missing=lip.missing, decimals=lip.decimals,
                                             brief=dict(lip.options)))
    assert ok.ok and ok["options"].status == "ok"


def test_na_cells_of_a_text_are_nan():
    text = (EXPORTS / "lipset_pca_varimax_pearson_k3.txt").read_text()
    assert "zsc_f1   1.00  -0.01   0.15" in text
    s = parse_export_qm(text.replace("zsc_f1   1.00  -0.01   0.15", "zsc_f1   1.00     NA   0.15"), path="x.txt")
    assert np.isnan(s.result.characteristics.cor_zsc[0, 1]) and s.decimals["cor_zsc"][0, 1] == 0


def test_side_line_names_what_was_not_compared(tmp_path, capsys):
    shutil.copy(LIPSET, tmp_path / "study.csv")
    text = EXPORTS / "lipset_pca_varimax_pearson_k3.txt"
    snap = tmp_path / "s.qsnap.json"
    assert run_cli(capsys, "snapshot", tmp_path / "study.csv", "--r-result", text, "-o", snap)[0] == 0
    code, out, _ = run_cli(capsys, "diff", snap, text)
    assert code == 0
    assert "[r] snapshot vs lipset_pca_varimax_pearson_k3.txt: SAME: 20 outputs identical (not compared: " \
           "correlation, unrotated_loadings)\n" in out


def test_ids_listed_in_notes_are_the_first_three():
    from qvalid.checks.snapshot import compare_studies

    st = load_lipset()
    o = compare_studies(st, st.replace(sort_ids=("A", "B", "C", "D", *st.sort_ids[4:])))
    assert o.note == "sort ids differ: 4 gone (US1, US2, US3, ...), 4 new (A, B, C, ...)"
    o = compare_studies(st, st.replace(sort_ids=("A", "B", "C", *st.sort_ids[3:])))
    assert o.note == "sort ids differ: 3 gone (US1, US2, US3), 3 new (A, B, C)"


def test_monte_carlo_quantile_of_no_cells():
    from qvalid.checks.tables import mc_z

    assert mc_z(0) == mc_z(1) == pytest.approx(2.5758, abs=1e-4)


def test_compare_factors_tables_of_one_row():
    from qvalid.checks.tables import compare_factors

    base = {"nfactors": 1, "max_k": 1, "n_runs": 10, "centile": 95.0, "seed": 1, "options": {}, "study": {},
            "suggestions": {"kaiser": 1}, "criteria": [{"k": 1, "eigenvalue": 2.5, "kaiser": True}]}
    other = json.loads(json.dumps(base))
    other["criteria"][0]["eigenvalue"] = 2.6
    d = compare_factors(base, other)
    o = d["criteria.eigenvalue"]
    assert not d.ok and o.worst.where == "k 1" and o.klass == "reported" and d["criteria.kaiser"].passed


def test_compare_factors_column_kinds_and_a_changed_set_of_columns():
    """Floats (None allowed) at tolerance; ints, booleans and text exactly; the same rows with another set of
    columns is a shape difference, not a crash."""
    from qvalid.checks.tables import compare_factors

    base = {"nfactors": 2, "max_k": 2, "n_runs": 10, "centile": 95.0, "seed": 1, "options": {}, "study": {},
            "suggestions": {"kaiser": 1},
            "criteria": [{"k": 1, "eigenvalue": 2.5, "n": 3, "kaiser": True, "note": 0.5},
                         {"k": 2, "eigenvalue": None, "n": 4, "kaiser": False, "note": "n/a"}]}
    d = compare_factors(base, json.loads(json.dumps(base)))
    assert d.ok and d["criteria.eigenvalue"].kind == "float"
    assert d["criteria.n"].kind == d["criteria.kaiser"].kind == d["criteria.note"].kind == "exact"
    other = json.loads(json.dumps(base))
    for r in other["criteria"]:
        r.pop("n")
    d = compare_factors(base, other)
    assert d["criteria"].status == "shape" and d["criteria"].klass == "reported"


def test_markdown_names_each_side_compared(snap, capsys):
    code, out, _ = run_cli(capsys, "diff", snap, "--format", "markdown")
    assert code == 0 and "**qvalid**: snapshot vs " in out


def test_an_r_only_snapshot_from_an_export_qm_text_records_no_qvalid_side(tmp_path, capsys):
    """--r-result TEXT --r-only: the R side only, with the qmethod version export.qm printed."""
    shutil.copy(LIPSET, tmp_path / "study.csv")
    out = tmp_path / "r.qsnap.json"
    code, _, err = run_cli(capsys, "snapshot", tmp_path / "study.csv", "--r-result",
                           EXPORTS / "lipset_pca_varimax_pearson_k3.txt", "--r-only", "-o", out)
    assert code == 0, err
    d = json.loads(out.read_text())
    assert list(d["outputs"]) == ["r"]
    assert d["outputs"]["r"]["versions"].get("qmethod"), d["outputs"]["r"]["versions"]


def test_a_snapshot_whose_distinguishing_table_lacks_statements_is_refused(snap, capsys):
    def cut(d):
        d["outputs"]["qvalid"]["result"]["distinguishing"]["per_statement"].pop()
    edit(snap, cut)
    code, _, err = run_cli(capsys, "diff", snap)
    assert code == 2 and err.count("\n") == 1 and "distinguishing: 32 statements, expected 33" in err


@pytest.mark.r
def test_an_rds_result_is_an_input_no_report_may_replace(snap, tmp_path, capsys, r_session):
    """An R result read through rpy2 (saveRDS) is recorded as an input like any file qvalid reads itself."""
    rds = tmp_path / "qm.rds"
    run_r(f'saveRDS(qmethod(lipset[[1]], nfactors = 3, silent = TRUE), "{rds}")')
    before = rds.read_bytes()
    code, _, err = run_cli(capsys, "diff", snap, rds, "--markdown", rds)
    assert code == 2 and err.count("\n") == 1 and "qm.rds" in err and rds.read_bytes() == before


def test_a_snapshot_is_never_written_over_the_r_result_it_records(tmp_path, capsys):
    shutil.copy(LIPSET, tmp_path / "study.csv")
    text = tmp_path / "qm.txt"
    shutil.copy(EXPORTS / "lipset_pca_varimax_pearson_k3.txt", text)
    before = text.read_bytes()
    code, _, err = run_cli(capsys, "snapshot", tmp_path / "study.csv", "--r-result", text, "-o", text)
    assert code == 2 and err.count("\n") == 1 and "qm.txt" in err and text.read_bytes() == before
