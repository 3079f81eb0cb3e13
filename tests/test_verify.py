"""qvalid.checks.verify / ``qvalid verify``: published claims of the NAV report (reference/), of the redu_fut study
(../shared, licence) and of small hand-made tables whose claims contradict them."""

import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest

from qvalid import QInputError
from qvalid.cli import main
from qvalid.io.published import PublishedTable, read_table
from qvalid.checks.verify import verify

sys.path.insert(0, str(Path(__file__).parent))
from _shared import shared_path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
NAV = ROOT / "reference" / "data" / "nav_aap_2023"
NAV_GRID = {-5: 1, -4: 2, -3: 3, -2: 4, -1: 5, 0: 6, 1: 5, 2: 4, 3: 3, 4: 2, 5: 1}


def verdicts(res, prefix):
    return [c.verdict for c in res.claims if c.claim.startswith(prefix) or prefix in c.claim]


@pytest.fixture(scope="module")
def nav():
    lo = read_table(NAV / "loadings_published.csv")
    ch = json.loads((NAV / "factor_characteristics.json").read_text(encoding="utf-8"))
    fac = ch["factors"]
    flags = np.array([[sid in f["defining_sorts_tabell5"] for f in fac] for sid in lo.ids])
    return verify(lo, n_statements=36, threshold=0.42, flags=flags,
                  defining_counts=[f["n_defining_sorts"] for f in fac], n_flagged=ch["counts"]["n_flagged"],
                  n_confounded=ch["counts"]["n_confounded"], n_nonsignificant=ch["counts"]["n_nonsignificant"],
                  eigenvalues=[f["eigenvalue"] for f in fac],
                  explained_variance=[f["explained_variance_pct"] for f in fac],
                  cumulative_variance=[f["cumulative_explained_variance_pct"] for f in fac],
                  total_variance=ch["total_explained_variance_pct_text"],
                  arrays=read_table(NAV / "factor_arrays_reconstructed.csv"), grid=NAV_GRID,
                  correlations=ch["factor_score_correlations"]["matrix"], rotation="varimax",
                  threshold_p=0.05)


def test_nav_defining_sorts_and_counts_agree(nav):
    # Tabell 5 at |a| >= 0.42 with the majority rule gives the report's marks (tests/test_nav.py), and no loading is
    # within 0.000005 (half a unit of the 5th decimal) of a boundary, so print rounding cannot change a flag:
    # 7/3/3/6 defining sorts, 19 in all, 4 confounded (3CUL, K3O0, KO7E, RB3U), 2 significant on none (8SM3, S0H3)
    assert set(verdicts(nav, "defining sorts of")) == {"agrees"}
    assert set(verdicts(nav, "number of defining sorts")) == {"agrees"}
    for label in ("sorts defining a factor", "confounded", "significant on no factor"):
        assert verdicts(nav, label) == ["agrees"]


def test_nav_threshold_is_significant_at_p_05_not_01(nav):
    # the report: 0.42 is significant at p < 0.05. With SE 1/sqrt(36) = 1/6, z = 0.42 x 6 = 2.52, two-sided
    # p = 0.0117 < 0.05 (agrees); p < 0.01 would need |a| > 2.576/6 = 0.429 (contradicts)
    assert verdicts(nav, "significant at p < 0.05") == ["agrees"]
    lo = read_table(NAV / "loadings_published.csv")
    res = verify(lo, n_statements=36, threshold=0.42, threshold_p=0.01)
    (c,) = [c for c in res.claims if "significant at" in c.claim]
    assert c.verdict == "contradicts" and c.recomputed == "p = 0.0117" and "0.429" in c.how


def test_nav_unrotated_eigenvalues_only_their_total_can_be_checked(nav):
    # Tabell 4 prints unrotated eigenvalues (9.30894 ...), Tabell 5 rotated loadings: each eigenvalue cannot be
    # checked, but their total must equal the sum of the communalities. Shared README: column sums of squares
    # 4.62118, 2.74574, 1.65459, 4.69189 (total 13.71339) vs 13.71344 printed: 5e-5 apart, more than half a unit of
    # the 5th decimal (so not "agrees") but within the inputs' bound sum 2|a| 0.000005 = 0.00072
    assert verdicts(nav, "eigenvalue (unrotated") == ["cannot be checked"] * 4
    assert np.round(nav.derived["column_ss"], 5).tolist() == [4.62118, 2.74574, 1.65459, 4.69189]
    (total,) = [c for c in nav.claims if c.claim.startswith("sum of eigenvalues")]
    assert total.verdict == "agrees within print rounding" and total.recomputed == "13.71339"


def test_nav_explained_variance_follows_the_eigenvalues(nav):
    # 100 x eigenvalue / 25 = 37.24, 6.08, 7.18, 4.36 -> 37/6/7/4; cumulated 37.24, 43.31, 50.49, 54.85 ->
    # 37/43/50/55; total 55 (shared README)
    assert [c.verdict for c in nav.claims if c.table == "variance"] == ["agrees"] * 9


def test_nav_loadings_are_a_varimax_solution_and_communalities_below_one(nav):
    # varimax moves Tabell 5 by 0.0002 (not 0, because of the 5-decimal rounding): "within print rounding"
    assert verdicts(nav, "varimax solution") == ["agrees within print rounding"]
    assert verdicts(nav, "every communality") == ["agrees"]


def test_nav_arrays_fit_the_grid_and_tabell3_cannot_be_checked(nav):
    # the reconstructed arrays over-fill no grid column (shared README); Tabell 3 correlates factor scores, which
    # were not printed: "cannot be checked", with the range the partial arrays allow
    assert verdicts(nav, "factor array fits the grid") == ["agrees"] * 4
    corr = [c for c in nav.claims if c.table == "correlations"]
    assert [c.verdict for c in corr] == ["cannot be checked"] * 6
    assert "correlate" in corr[2].how and corr[2].printed == "0.63701"
    assert not nav.contradicted


def test_array_correlation_range_covers_a_hand_completion():
    # F1 and F4 of the reconstructed arrays, unknown cells filled with the open scores in ascending statement order
    # (F1: 14, 17, 19 <- -1, 0, 0; F4: 28, 29 <- -2, 0): its r must lie in the range verify reports
    from qvalid.checks.verify import _array_r_range

    arr = read_table(NAV / "factor_arrays_reconstructed.csv").values
    f1, f4 = arr[:, 0].copy(), arr[:, 3].copy()
    f1[[13, 16, 18]] = [-1, 0, 0]
    f4[[27, 28]] = [-2, 0]
    lo, hi = _array_r_range(arr[:, 0], arr[:, 3], NAV_GRID)
    assert lo - 1e-12 <= np.corrcoef(f1, f4)[0, 1] <= hi + 1e-12 and hi - lo < 0.05


def test_redu_fut_published_tables_agree():
    # R qmethod's printout of the redu_fut study (PCA + varimax, 3 factors, automatic flags |a| > 1.96/sqrt(36)
    # and the majority rule). loadsandflags_3f.csv has 2-decimal loadings with R's flags; qresults_3f.csv 2-decimal
    # z-scores and the arrays; qreport_3f.txt the characteristics. Expected:
    # - flags and nload 13/17/16: qmethod made them with this rule on unrounded loadings;
    # - eigenvals 8.8/8.3/7.8 are qmethod's column SS of the *rotated* loadings (spec trap 9): from the 2-decimal
    #   loadings 8.809, 8.326, 7.797; expl_var 18/17/16 = 100 SS / 49;
    # - reliability 0.8p/(1+0.8(p-1)) for p = 13: 10.4/10.6 = 0.981 -> 0.98, SE sqrt(1 - 0.981) = 0.137 -> 0.14;
    # - arrays fill the -5..+5 grid and follow the z-score order; cor_zsc 0.48/0.31/0.46 from the z-scores.
    base = shared_path("data/redu_fut_qmethod")
    lo = read_table(base / "loadsandflags_3f.csv", encoding="latin-1")
    lo = _at_least(lo, 2)  # R's write.csv wrote round(x, 2) and dropped trailing zeros ("0.4")
    z = _at_least(read_table(base / "qresults_3f.csv", prefix="zsc_f", encoding="latin-1", id_column="sta_id"), 2)
    arr = read_table(base / "qresults_3f.csv", prefix="fsc_f", encoding="latin-1", id_column="sta_id")
    res = verify(lo, n_statements=36, defining_counts=[13, 17, 16], eigenvalues=["8.8", "8.3", "7.8"],
                 eigenvalues_of="rotated", explained_variance=["18", "17", "16"],
                 nload_reliability=(["0.98", "0.99", "0.98"], ["0.14", "0.12", "0.12"]), arrays=arr, zscores=z,
                 grid=NAV_GRID, correlations=["0.48", "0.31", "0.46"], rotation="varimax")
    assert lo.marks.sum(axis=0).tolist() == [13, 17, 16]
    by = {c.claim: c.verdict for c in res.claims}
    assert set(verdicts(res, "defining sorts of")) == {"agrees"}
    assert set(verdicts(res, "eigenvalue = column sum")) == {"agrees"}
    assert set(verdicts(res, "% explained")) == {"agrees"}
    assert set(verdicts(res, "composite reliability")) | set(verdicts(res, "SE of factor")) == {"agrees"}
    assert set(verdicts(res, "array")) == {"agrees"} and len(verdicts(res, "array")) == 6
    assert [c.verdict for c in res.claims if c.table == "correlations"] == ["agrees"] * 3
    assert by["the loadings are a varimax solution"] == "agrees within print rounding"
    assert res.counts()["contradicts"] == 0


def _at_least(t, d):
    import dataclasses

    return dataclasses.replace(t, decimals=np.where(t.decimals < 0, -1, np.maximum(t.decimals, d)))


def small(values, ids=("A", "B", "C"), marks=None):
    v = np.array(values, dtype=float)
    return PublishedTable(tuple(ids), tuple(f"f{j + 1}" for j in range(v.shape[1])), v,
                          np.full(v.shape, 2), None if marks is None else np.array(marks, dtype=bool), "hand")


def test_hand_made_contradictions():
    # A (0.70, 0.10) defines f1; B (0.20, 0.65) defines f2; C (0.45, 0.30) defines nothing at |a| >= 0.5
    # (0.45 is at most 0.455 whatever the third decimal). Claims: f1 = {A, C} (C cannot reach 0.5: contradicts),
    # f2 has 2 defining sorts (contradicts), rotated SS f1 0.80 vs 0.49 + 0.04 + 0.2025 = 0.7325 (off by 0.0675,
    # bound 2 x 1.35 x 0.005 + 3 x 0.000025 + 0.005 = 0.0186: contradicts), f2 0.53 vs 0.5225 (off 0.0075 within
    # bound 2 x 1.05 x 0.005 + 0.000075 + 0.005 = 0.0156: within print rounding)
    res = verify(small([[.70, .10], [.20, .65], [.45, .30]]), threshold=0.5,
                 flags=[[True, False], [False, True], [True, False]], defining_counts=[1, 2],
                 eigenvalues=["0.80", "0.53"], eigenvalues_of="rotated")
    by = {c.claim: c for c in res.claims}
    assert by["defining sorts of F1 (X marks)"].verdict == "contradicts" and "C" in by[
        "defining sorts of F1 (X marks)"].how
    assert by["defining sorts of F2 (X marks)"].verdict == "agrees"
    assert by["F2: number of defining sorts"].verdict == "contradicts"
    assert by["F1: eigenvalue = column sum of squared loadings"].verdict == "contradicts"
    assert by["F2: eigenvalue = column sum of squared loadings"].verdict == "agrees within print rounding"
    assert res.contradicted


def test_communality_above_one_contradicts():
    # 0.90^2 + 0.50^2 = 1.06 > 1 even at 0.895, 0.495 (1.046): no orthogonal solution has it
    res = verify(small([[.90, .50], [.2, .1], [.1, .3]]), threshold=0.5)
    assert res.claims[0].verdict == "contradicts"


def test_flag_on_the_threshold_is_within_print_rounding():
    # A prints 0.42 (2 decimals, so 0.415..0.425) against |a| >= 0.42: the printed value gives the mark exactly
    # ("agrees"); no mark is also possible with the unprinted decimals ("agrees within print rounding")
    t = small([[.42, .05], [.10, .60], [.05, .10]])
    for marked, verdict in ((True, "agrees"), (False, "agrees within print rounding")):
        res = verify(t, threshold=0.42, flags=[[marked, False], [False, True], [False, False]],
                     defining_counts=[int(marked), 1])
        assert res.claims[1].verdict == verdict
        assert [c.verdict for c in res.claims if "number of" in c.claim] == [verdict, "agrees"]


def test_arrays_overfilled_or_out_of_z_order_contradict():
    grid = {-1: 1, 0: 1, 1: 1}
    lo = small([[.7, .1], [.1, .7], [.5, .5]])
    arr = small([[1, -1], [1, 0], [-1, 1]], ids=("s1", "s2", "s3"))  # f1 gives +1 twice: the grid has one +1 cell
    res = verify(lo, threshold=0.4, arrays=arr, grid=grid)
    assert [c.verdict for c in res.claims if c.table == "arrays"] == ["contradicts", "agrees"]
    # s1 has the highest z on f2 (0.9 > 0.1 > -1.0 beyond the 2-decimal rounding) but the lowest array value
    z = small([[0.5, 0.9], [0.4, 0.1], [-0.9, -1.0]], ids=("s1", "s2", "s3"))
    arr = small([[1, -1], [0, 0], [-1, 1]], ids=("s1", "s2", "s3"))
    res = verify(lo, threshold=0.4, arrays=arr, zscores=z, grid=grid)
    order = [c for c in res.claims if "z-score order" in c.claim]
    assert [c.verdict for c in order] == ["agrees", "contradicts"] and "s1/s2" in order[1].how


def test_wrong_correlation_of_complete_arrays_contradicts():
    # arrays (1, 0, -1) and (1, -1, 0): r = 0.5 exactly; a printed 0.80 contradicts, 0.50 agrees
    grid = {-1: 1, 0: 1, 1: 1}
    arr = small([[1, 1], [0, -1], [-1, 0]], ids=("s1", "s2", "s3"))
    lo = small([[.7, .1], [.1, .7], [.5, .5]])
    for claim, verdict in (("0.80", "contradicts"), ("0.50", "agrees")):
        res = verify(lo, threshold=0.4, arrays=arr, grid=grid, correlations=[claim], correlations_of="arrays")
        assert res.claims[-1].verdict == verdict


NAV_ARGS = [str(NAV / "loadings_published.csv"), "--threshold", "0.42", "--n-statements", "36", "--threshold-p", "0.05",
            "--defining", "01ZH DDT7 H7OC IW3H KWWU MS1Z V4ND", "--defining", "7CFW EKOP LZRR",
            "--defining", "8RIH CMS4 L7TG", "--defining", "4JJY 8YS7 KX2M T135 VOF1 XQ87",
            "--defining-counts", "7,3,3,6", "--n-flagged", "19", "--n-confounded", "4", "--n-nonsignificant", "2",
            "--eigenvalues", "9.30894,1.51978,1.79467,1.09005", "--explained-variance", "37,6,7,4",
            "--cumulative-variance", "37,43,50,55", "--total-variance", "55", "--rotation", "varimax",
            "--correlations", "0.36602,0.16892,0.63701,0.09432,0.46355,0.36704",
            "--arrays", str(NAV / "factor_arrays_reconstructed.csv"), "--grid=-5:1,2,3,4,5,6,5,4,3,2,1",
            "--unchecked", "Tabell 4: Standard avvik|0.05|the report does not say what it measures"]


def test_cli_nav_text_and_json(capsys):
    assert main(["verify", *NAV_ARGS]) == 0
    out = capsys.readouterr().out
    assert "26 agrees, 2 agrees within print rounding, 0 contradicts, 11 cannot be checked" in out
    assert main(["verify", *NAV_ARGS, "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["counts"]["contradicts"] == 0 and len(data["claims"]) == 39


def test_cli_contradiction_exit_1_and_bad_input_exit_2(capsys):
    assert main(["verify", str(NAV / "loadings_published.csv"), "--threshold", "0.42",
                 "--defining-counts", "7,3,3,5"]) == 1
    assert "contradicts" in capsys.readouterr().out
    assert main(["verify", str(NAV / "loadings_published.csv"), "--threshold", "0.42", "--defining", "NOPE",
                 "--defining", "", "--defining", "", "--defining", ""]) == 2
    err = capsys.readouterr().err
    assert "sort(s) NOPE not in the loadings table" in err and err.count("\n") == 1
    assert main(["verify", str(NAV / "loadings_published.csv"), "--threshold", "0.42",
                 "--eigenvalues", "1,2"]) == 2
    assert "eigenvalues has 2 values, expected 4" in capsys.readouterr().err


def test_rotation_moves_variance_between_factors_but_keeps_the_total():
    # docs/verify.md: varimax is an orthogonal T (T T' = I), so each sort's h^2 = |a_i T|^2 = |a_i|^2 is kept and
    # with it the total, while the column sums of squares change. Checked on the bundled synthetic NAV study.
    from qvalid import analyze
    from qvalid.io import read_study

    res = analyze(read_study(ROOT / "reference" / "data" / "nav_synth" / "nav_synth.csv"), 4,
                  extraction="centroid", threshold=0.42)
    unrot, rot = (res.unrotated_loadings ** 2).sum(axis=0), (res.loadings ** 2).sum(axis=0)
    np.testing.assert_allclose(rot.sum(), unrot.sum(), rtol=1e-12)
    np.testing.assert_allclose((res.loadings ** 2).sum(axis=1), (res.unrotated_loadings ** 2).sum(axis=1), rtol=1e-12)
    assert np.abs(rot - unrot).max() > 0.5  # e.g. the first unrotated factor carries far more than any rotated one


def test_xlsx_table_reads_like_the_csv(tmp_path):
    # a spreadsheet holds floats: the decimals come from their shortest repr (0.2724 -> 4, 0.75615 -> 5)
    import pandas as pd

    frame = pd.read_csv(NAV / "loadings_published.csv", dtype={"participant": str})
    frame.to_excel(tmp_path / "t5.xlsx", index=False)
    a, b = read_table(NAV / "loadings_published.csv"), read_table(tmp_path / "t5.xlsx")
    assert a.ids == b.ids and a.factors == b.factors
    np.testing.assert_array_equal(a.values, b.values)
    np.testing.assert_array_equal(a.decimals, b.decimals)


def test_cli_flags_file_of_x_marks(tmp_path, capsys):
    # the report's marks as a table (sorts x factors, X = defining): all four sets agree (as with --defining)
    ch = json.loads((NAV / "factor_characteristics.json").read_text(encoding="utf-8"))
    ids = read_table(NAV / "loadings_published.csv").ids
    rows = ["sort,f1,f2,f3,f4"] + [sid + "," + ",".join("X" if sid in f["defining_sorts_tabell5"] else ""
                                                       for f in ch["factors"]) for sid in ids]
    (tmp_path / "marks.csv").write_text("\n".join(rows) + "\n")
    assert main(["verify", str(NAV / "loadings_published.csv"), "--threshold", "0.42", "--flags",
                 str(tmp_path / "marks.csv"), "--format", "json"]) == 0
    claims = json.loads(capsys.readouterr().out)["claims"]
    assert [c["verdict"] for c in claims if c["claim"].startswith("defining sorts of")] == ["agrees"] * 4


def test_total_variance_is_checkable_without_eigenvalues():
    # the total % explained is rotation invariant: 100 x sum of communalities / 25 = 100 x 13.71339 / 25 = 54.85,
    # printed 55 in the NAV text (agrees); the per-factor % need the unprinted unrotated eigenvalues
    res = verify(read_table(NAV / "loadings_published.csv"), threshold=0.42, explained_variance=[37, 6, 7, 4],
                 total_variance=55)
    assert [c.verdict for c in res.claims if c.table == "variance"] == ["cannot be checked"] * 4 + ["agrees"]
    assert res.claims[-1].recomputed == "54.85"


# ---------------------------------------------------------------------- issue 21: the files papers come in
FIX = Path(__file__).parent / "fixtures"


def test_xls_loadings_with_a_flag_column_are_checked(capsys, tmp_path):
    """A loadings table (.xls) whose column 'flag' holds each sort's defining factor: used as the X marks, never
    dropped (issue 21 item 6); the other columns would be named as not used."""
    t = read_table(FIX / "loadings_flag.xls")
    assert t.ids == ("A1", "A2", "A3", "A4", "A5") and t.factors == ("f1", "f2") and t.notes == ()
    assert t.marks.tolist() == [[True, False], [True, False], [False, True], [False, True], [False, False]]
    assert main(["verify", str(FIX / "loadings_flag.xls"), "--threshold", "0.4"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"defining sorts of F1 \(X marks\) +A1 A2 +A1 A2 +agrees", out) and "3 agrees" in out
    # the same table as CSV with a wrong mark: contradicted (exit 1), not "1 agrees"
    p = tmp_path / "t.csv"
    p.write_text("participant,f1,f2,flag,note\nA1,0.71,0.12,1,x\nA2,0.65,-0.05,2,\nA3,0.08,0.66,2,\n")
    assert main(["verify", str(p), "--threshold", "0.4"]) == 1
    out, err = capsys.readouterr()
    assert "contradicts" in out and "A2 is marked differently" in out
    assert "warning: " in err and "1 column(s) not used: 'note'" in err


@pytest.mark.parametrize("cell, msg", [("X", "'X' names no factor 1..2"), ("3", "'3' names no factor 1..2")])
def test_a_flag_column_that_names_no_factor_is_refused(tmp_path, cell, msg):
    p = tmp_path / "t.csv"
    p.write_text(f"id,f1,f2,flag\nA1,0.71,0.12,1\nA2,0.65,-0.05,{cell}\n")
    with pytest.raises(QInputError, match=msg):
        read_table(p)
    p.write_text("id,f1,f2,flag,fg1,fg2\nA1,0.71,0.12,1,X,\n")
    with pytest.raises(QInputError, match="two sets of defining-sort marks"):
        read_table(p)


def test_verify_without_a_loadings_table(capsys):
    """A paper printing only arrays (here as .xls) and z-scores: their claims are checked, nothing else asked."""
    assert main(["verify", "--arrays", str(FIX / "arrays.xls"), "--grid=-2:1,2,3,2,1"]) == 0
    out, err = capsys.readouterr()
    assert "F1: factor array fits the grid" in out and "2 agrees" in out and "'text'" in err
    assert main(["verify", "--arrays", str(FIX / "arrays.xls"), "--grid=-2:1,1,4,2,1"]) == 1  # another grid
    capsys.readouterr()
    assert main(["verify", "--arrays", str(FIX / "arrays.xls"), "--grid=-2:1,2,3,2,1", "--eigenvalues", "1,2"]) == 2
    assert "--eigenvalues need(s) the loadings table" in capsys.readouterr().err
    assert main(["verify", "--threshold", "0.4"]) == 2
    assert "give the loadings table, or --arrays" in capsys.readouterr().err


def test_verify_on_a_broken_xls_is_one_line_exit_2(capsys, tmp_path):
    bad = tmp_path / "t.xls"
    bad.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(64))
    for argv in (["verify", str(bad), "--threshold", "0.4"],
                 ["verify", str(FIX / "loadings_flag.xls"), "--threshold", "0.4", "--arrays", str(bad),
                  "--grid=-2:1,2,3,2,1"]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "t.xls: not a readable workbook" in err


def test_markdown_tables_are_read(tmp_path, capsys):
    p = tmp_path / "t.md"
    p.write_text("| participant | f1 | f2 |\n|---|---:|:---:|\n| A1 | 0.71 | 0.12 |\n| A2 | 0.08 | 0.66 |\n")
    t = read_table(p)
    assert t.ids == ("A1", "A2") and t.values.tolist() == [[0.71, 0.12], [0.08, 0.66]]
    from qvalid.io.published import read_loadings

    ids, factors, a = read_loadings(p)
    assert ids == ["A1", "A2"] and factors == ["f1", "f2"] and a[1, 1] == 0.66
    assert main(["flag", str(p), "--threshold", "0.4"]) == 0
    assert "A1" in capsys.readouterr().out


def test_published_table_edges(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("participant,f1,f2\nA1,0.71\nA2,0.08,0.66\n")
    with pytest.raises(QInputError, match=r"t\.csv:2: row has 2 fields, the header has 3"):
        read_table(p)
    p.write_text("participant,f1,f2\nA1,0.71,0.12\nA2,0.08,0.66\n")
    with pytest.raises(QInputError, match="no column 'nope' in the header"):
        read_table(p, id_column="nope")
    assert read_table(p, id_column="participant").ids == ("A1", "A2")
    p.write_text("nr,who,f1,f2\n1,A1,0.71,0.12\n2,A2,0.08,0.66\n")  # no id-like name: the column holding text
    t = read_table(p)
    assert t.ids == ("A1", "A2") and t.notes == ("1 column(s) not used: 'nr'",)


def test_flag_column_values_and_lines(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("id,f1,f2,flag\nA1,0.71,0.12,f1\nA2,0.08,0.66,Factor 2\nA3,0.2,0.1,-\n")
    assert read_table(p).marks.tolist() == [[True, False], [False, True], [False, False]]
    p.write_text("id,f1,f2,flag\nA1,0.71,0.12,1\nA2,0.08,0.66,f0\n")
    with pytest.raises(QInputError, match=r"t\.csv:3: column 'flag': 'f0' names no factor 1\.\.2"):
        read_table(p)


def test_verify_without_loadings_refuses_loadings_claims():
    arrays = read_table(FIX / "arrays.xls")
    with pytest.raises(ValueError, match="eigenvalues: these claims are checked against the loadings table"):
        verify(None, arrays=arrays, grid={-2: 1, -1: 2, 0: 3, 1: 2, 2: 1}, eigenvalues=[1, 2])
    with pytest.raises(ValueError, match="nothing to check"):
        verify(None)


def test_an_empty_sheet_is_one_line(tmp_path):
    import pandas as pd

    p = tmp_path / "t.xlsx"
    pd.DataFrame().to_excel(p, index=False)
    with pytest.raises(QInputError, match="sheet 'Sheet1' is empty"):
        read_table(p)
