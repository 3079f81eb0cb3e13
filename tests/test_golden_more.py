"""qvalid against the R qmethod 1.8.4 golden files beyond lipset, without R.

The files (reference/golden/<study>/<case>.json) were written by reference/golden/make_golden_more.py through the
rpy2 bridge; they are read back with :func:`tests/_golden.py load_golden` (no rpy2 needed) and compared with
:func:`qvalid.checks.compare.compare`: floats within 1e-10, flags, factor arrays, qdc pairs, stars, labels and the
consensus set exactly. Known disagreements are strict xfails with the reason (tests/_r.py).
"""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest

from qvalid import QInputError, analyze
from qvalid.checks.compare import compare
from qvalid.r.qmethod import as_result
from _golden import load_golden

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from _r import (FIXED, GOLDEN, KNOWN, KNOWN_DISAGREEMENTS, MORE_STUDIES, case_files, case_options,  # noqa: E402
                r_centroid, r_zscores, varimax_unstable)

REGRESSION_DIRS = sorted(d.name for d in (GOLDEN / "regressions").glob("*") if d.is_dir())
CASES = [p for study in MORE_STUDIES for p in case_files(study)]
CASES += [p for d in REGRESSION_DIRS for p in case_files(f"regressions/{d}")]


def _id(path):
    return f"{path.parent.name}/{path.stem}"


def _params():
    out = []
    for p in CASES:
        reason = KNOWN_DISAGREEMENTS.get(_id(p))
        marks = [pytest.mark.xfail(reason=reason, strict=True)] if reason else []
        out.append(pytest.param(p, id=_id(p), marks=marks))
    return out


@pytest.fixture(scope="module")
def golden_cache():
    return {}


def _load(path, cache):
    if path not in cache:
        cache[path] = load_golden(path)
    return cache[path]


def test_the_golden_set_is_complete():
    counts = {s: len(case_files(s)) for s in MORE_STUDIES}
    assert counts == {"nav_synth": 36, "ties": 36, "nonforced": 36, "large": 14, "many_factors": 7}
    for s in MORE_STUDIES:
        assert (GOLDEN / "inputs" / f"{s}.csv").exists()
        assert (GOLDEN / s / "correlation_pearson.json").exists()
    total = sum(p.stat().st_size for s in MORE_STUDIES + ("regressions",) for p in (GOLDEN / s).rglob("*")
                if p.is_file())
    assert total < 5_000_000, f"golden files beyond lipset take {total} bytes"


def test_known_disagreements_are_real_cases():
    ids = {_id(p) for p in CASES}
    assert set(KNOWN_DISAGREEMENTS) <= ids


@pytest.mark.parametrize("path", _params())
def test_qvalid_matches_golden(path, golden_cache):
    rr = _load(path, golden_cache)
    assert rr.versions["qmethod"] == "1.8.4" and rr.versions["psych"] == "2.2.9"
    try:
        mine = analyze(rr.study, rr.nfactors, **case_options(rr))
    except QInputError as err:  # qvalid may refuse what R never finishes (known disagreement 6)
        assert "reached elapsed time limit" in rr.failure_summary() and "did not converge" in str(err)
        return
    diff = compare(mine, as_result(rr), unavailable=rr.missing, names=("qvalid", "qmethod 1.8.4"))
    assert diff.ok, diff.message(f"golden case {_id(path)}")


@pytest.mark.parametrize("path", [p for p in CASES if p.parent.name in ("nonforced",)][:3], ids=_id)
def test_non_forced_cases_pass_the_distribution(path, golden_cache):
    rr = _load(path, golden_cache)
    assert not rr.study.forced
    assert "forced = FALSE" in rr.call and "distribution = c(-3, -3, -2" in rr.call


# ---------------------------------------------------------------------- where qmethod is wrong (no R needed)
def _grid_counts(col):
    vals, counts = np.unique(col[~np.isnan(col)], return_counts=True)
    return dict(zip(vals.astype(int).tolist(), counts.tolist()))


def test_ties_break_the_grid_in_qmethod_and_qvalid_reproduces_it(golden_cache):
    # ties study, PCA varimax k = 2: sta_1/sta_2, sta_11/sta_12, sta_21/sta_22 have identical rows, so their
    # z-scores tie exactly; a tie at ranks r, r+1 gets qscores[floor(r + 0.5)] = qscores[r] for both.
    rr = _load(GOLDEN / "ties" / "pca_varimax_pearson_k2.json", golden_cache)
    grid = dict(rr.study.grid)
    r_arrays = rr.outputs["factor_arrays"]
    broken = [j for j in range(2) if _grid_counts(r_arrays[:, j]) != grid]
    assert broken, "R's factor arrays should break the forced grid here"
    ids = list(rr.study.statement_ids)
    z = rr.outputs["zscores"]
    for a, b in (("sta_1", "sta_2"), ("sta_11", "sta_12"), ("sta_21", "sta_22")):
        np.testing.assert_array_equal(z[ids.index(a)], z[ids.index(b)])
    mine = analyze(rr.study, 2)  # qmethod flavour: array_ties="mean-rank"
    np.testing.assert_array_equal(mine.factor_arrays, r_arrays)
    strict = analyze(rr.study, 2, array_ties="strict")
    for j in range(2):
        assert _grid_counts(strict.factor_arrays[:, j]) == grid
    assert not np.array_equal(strict.factor_arrays, r_arrays)
    # strict only moves members of tie groups, by at most one grid step
    changed = np.argwhere(strict.factor_arrays != r_arrays)
    for i, j in changed:
        assert (np.sum(z[:, j] == z[i, j]) > 1), f"{ids[i]} is not tied on f{j + 1}"


@pytest.mark.parametrize("case", ["pca_varimax_pearson_k10", "pca_varimax_pearson_k11",
                                  "centroid_varimax_pearson_k10"])
def test_qdc_labels_with_ten_factors(case, golden_cache):
    rr = _load(GOLDEN / "many_factors" / f"{case}.json", golden_cache)
    k = rr.nfactors
    r_labels = list(rr.outputs["qdc"]["labels"])
    mine = analyze(rr.study, k, **case_options(rr))  # qdc_labels="grep": grep(i, names) as in R
    assert list(mine.distinguishing.labels) == r_labels
    strict = analyze(rr.study, k, qdc_labels="strict", **case_options(rr))
    fixed = list(strict.distinguishing.labels)
    wrong = [i for i, (a, b) in enumerate(zip(fixed, r_labels)) if a != b]
    assert wrong, "qmethod's labels should be wrong somewhere with >= 10 factors"
    # the strict labels follow the definition: recompute them from R's own stars
    stars = rr.outputs["qdc"]["stars"]
    pairs = [tuple(int(x[1:]) - 1 for x in p.split("_")) for p in rr.outputs["qdc"]["pairs"]]
    sig = stars != ""
    for i in wrong:
        expected = _by_definition(sig[i], pairs, k)
        assert fixed[i] == expected, (rr.study.statement_ids[i], fixed[i], expected, r_labels[i])


def _by_definition(sig_row, pairs, k):
    if not sig_row.any():
        return "Consensus"
    label = ""
    for f in range(k):
        inside = np.array([f in pq for pq in pairs])
        all_in, any_out = sig_row[inside].all(), sig_row[~inside].any()
        if all_in and not any_out:
            label = f"Distinguishes f{f + 1} only"
        elif sig_row.all():
            label = "Distinguishes all"
        elif all_in and any_out:
            label += f"Distinguishes f{f + 1} "
    return label


def test_golden_json_records_call_versions_and_study():
    d = json.loads((GOLDEN / "nav_synth" / "pca_varimax_pearson_k4.json").read_text())
    assert d["study"]["input"] == "inputs/nav_synth.csv" and d["study"]["grid"]["-5"] == 1
    assert d["call"].startswith("qmethod(dataset, nfactors = 4")
    assert d["correlation"] is None and d["correlation_file"] == "correlation_pearson.json"
    assert set(d["versions"]) == {"R", "qmethod", "psych", "rpy2"}


# ---------------------------------------------------------------------- the known disagreements, explained
def _cases_of(cls):
    return [p for p in CASES if KNOWN_DISAGREEMENTS.get(_id(p)) == KNOWN[cls]]


def test_every_regression_case_has_an_explanation():
    assert REGRESSION_DIRS == ["centroid_colsum_tie", "centroid_colsum_values", "centroid_cor_last_bit",
                               "centroid_cor_pearson", "centroid_diverges", "centroid_tie_flat7", "pca_null_components",
                               "pca_zero_sum_sign", "qdc_flagless_first", "unit_loading", "varimax_null_factors",
                               "varimax_square", "zscore_tie_flat7", "zscore_ties"]
    for name in REGRESSION_DIRS:
        for p in case_files(f"regressions/{name}"):
            d = json.loads(p.read_text())
            assert d["explanation"].startswith("Known disagreement ")
            assert d["study"]["input"] == f"inputs/regression_{name}.csv"


def _fixed_cases(cls):
    return [p for p in CASES if _id(p) in FIXED[cls]]


def test_fixed_cases_exist():
    assert len(_fixed_cases(1)) == len(FIXED[1]) == 18
    assert len(_fixed_cases(4)) == len(FIXED[4]) == 2


@pytest.mark.parametrize("path", _fixed_cases(1), ids=_id)
def test_fixed_1_centroid_reflections_follow_r_colsums(path, golden_cache):
    """Former known disagreement 1: R's centroid algorithm with R's long double colSums, on R's correlation matrix,
    gives R's loadings; qvalid now takes the close reflection decisions the same way and agrees (the golden test
    above compares everything). Its exact correlation is R's stored cor() bit for bit."""
    from qvalid.core.correlation import correlate
    from qvalid.core.extract import centroid

    rr = _load(path, golden_cache)
    cor, unrot = rr.outputs["correlation"], rr.outputs["unrotated_loadings"]
    np.testing.assert_allclose(r_centroid(cor, rr.nfactors), unrot, rtol=0, atol=1e-12)
    np.testing.assert_allclose(centroid(cor, rr.nfactors).loadings, unrot, rtol=0, atol=1e-10)
    np.testing.assert_array_equal(correlate(rr.study.scores, method=rr.options["cor_method"], exact=True), cor)


@pytest.mark.parametrize("case", ["centroid_cor_pearson/centroid_none_pearson_k1",
                                  "centroid_tie_flat7/centroid_none_pearson_k1"])
def test_fixed_1_needs_rs_correlation_bits(case, golden_cache):
    """Why the exact correlation is needed: the default (one double matrix product) differs from R's cor() in the
    last bits, and the centroid on it reflects a tied pair one by one instead of R's both at once; the centroid
    sees the decision is close (``Extraction.close``) and analyze() re-runs it on R's bits."""
    from qvalid.core.correlation import correlate
    from qvalid.core.extract import centroid

    rr = _load(GOLDEN / "regressions" / f"{case}.json", golden_cache)
    cor, unrot = rr.outputs["correlation"], rr.outputs["unrotated_loadings"]
    fast = correlate(rr.study.scores)
    assert 0 < np.abs(fast - cor).max() < 1e-15
    ext = centroid(fast, rr.nfactors)
    assert ext.close and np.abs(ext.loadings - unrot).max() > 1e-2
    exact = centroid(correlate(rr.study.scores, exact=True), rr.nfactors)
    assert exact.close
    np.testing.assert_allclose(exact.loadings, unrot, rtol=0, atol=1e-15)
    assert analyze(rr.study, rr.nfactors, extraction="centroid", rotation="none").correlation.tolist() == cor.tolist()


@pytest.mark.parametrize("path", _fixed_cases(4), ids=_id)
def test_fixed_4_zscore_ties_are_taken_on_r_bits(path, golden_cache, monkeypatch):
    """Former known disagreement 4: R's z-scores are reproduced bit for bit by R's arithmetic (double products, long
    double row sums, R's mean and sd), from R's loadings; the fast z-scores (one BLAS product) split a tie R sees, so
    qmethod's tie rule gives other arrays. analyze() sees the close tie and takes it on R's bits: R's arrays."""
    from qvalid.core.scores import close_ties, factor_arrays, weights, zscores, zscores_on_r_bits

    rr = _load(path, golden_cache)
    out = rr.outputs
    w = weights(out["loadings"], out["flags"])
    z = zscores_on_r_bits(rr.study.scores, w)
    np.testing.assert_array_equal(z, out["zscores"])
    np.testing.assert_array_equal(z, r_zscores(rr.study.scores, out["loadings"], out["flags"]))
    np.testing.assert_array_equal(factor_arrays(z, rr.study.qscores), out["factor_arrays"])
    fast = zscores(rr.study.scores, w)
    assert close_ties(fast, rr.study.scores, w) and np.nanmax(np.abs(fast - z)) < 1e-14
    mine = analyze(rr.study, rr.nfactors, **case_options(rr))
    with monkeypatch.context() as m:  # why R's bits matter: the double arithmetic splits a tie R sees
        m.setattr("qvalid.pipeline.close_ties", lambda *a: False)
        old = analyze(rr.study, rr.nfactors, **case_options(rr))
    assert not np.array_equal(old.factor_arrays, out["factor_arrays"])
    np.testing.assert_allclose(old.zscores, out["zscores"], rtol=0, atol=1e-14)
    np.testing.assert_array_equal(mine.zscores, out["zscores"])
    np.testing.assert_array_equal(mine.factor_arrays, out["factor_arrays"])


def test_close_ties_is_a_tie_within_rounding_only():
    from qvalid.core.scores import close_ties

    z = np.array([[-1.0, 0.5], [0.0, -0.5], [1.0, 0.0]])
    assert not close_ties(z)
    assert close_ties(np.array([[-1.0], [1.0], [1.0]]))                       # an exact tie
    assert close_ties(np.array([[-1.0], [0.5], [0.5 + 4e-10]]))               # within 1e-9 of the largest |z|
    assert not close_ties(np.array([[-1.0], [0.5], [0.5 + 2e-9]]))
    assert not close_ties(np.array([[np.nan], [np.nan], [np.nan]]))           # a flagless factor
    x = np.array([[1, 2, 0], [1, 2, 5], [2, 1, 0]])                            # statements 1, 2 agree on sorts 1, 2
    w = np.array([[0.5], [0.25], [0.0]])
    tie = np.array([[1.0], [1.0], [-1.0]])
    assert not close_ties(tie, x, w)                                           # a certain tie: same numbers summed
    assert close_ties(tie, x, np.array([[0.5], [0.25], [0.1]]))                # sort 3 counts: not the same numbers
    assert close_ties(np.array([[1.0], [1.0 + 1e-15], [-1.0]]), x, w)          # same numbers, yet split: R's bits


@pytest.mark.parametrize("path", _fixed_cases(2), ids=_id)
def test_fixed_2_qdc_compares_a_flagless_factor_as_r(path, golden_cache):
    """Former known disagreement 2: when the last factor has no flags R's qdc compares f1..f(k-m) by position and
    pairs a flagless factor (an all-NA table); the qmethod flavour does the same and warns, 'skip' leaves the
    flagless factors out."""
    rr = _load(path, golden_cache)
    q = rr.outputs["qdc"]
    nload = rr.outputs["characteristics"]["nload"]
    assert nload[-1] == 0 and (nload == 0).sum() >= 2
    flagless = {f"f{j + 1}" for j in np.flatnonzero(nload == 0)}
    assert q["pairs"] == ("f1_f2",) and set(q["pairs"][0].split("_")) & flagless  # R pairs up a flagless factor
    assert np.isnan(q["diffs"]).all() and set(q["stars"].ravel()) == {None} and set(q["labels"]) == {None}
    mine = analyze(rr.study, rr.nfactors, **case_options(rr))
    assert mine.distinguishing.pair_names(mine.factors) == ["f1_f2"] and np.isnan(mine.distinguishing.diffs).all()
    assert "qdc-compares-flagless-factor" in mine.warning_codes
    assert "(all NA" not in mine.summary() and "NA" in mine.summary()
    js = mine.to_dict()["distinguishing"]
    assert js["consensus"] == [] and js["per_statement"][0]["label"] is None
    assert js["per_statement"][0]["stars"] == {"f1_f2": None}
    skip = analyze(rr.study, rr.nfactors, qdc_flagless="skip", **case_options(rr))
    assert not any(set(p.split("_")) & flagless for p in skip.distinguishing.pair_names(skip.factors))
    assert "qdc-compares-flagless-factor" not in skip.warning_codes


def test_qdc_flagless_positional_follows_r_rule():
    """R/qdc.R:4-7 on z-score columns with NaN (flagless) factors: the all-NA table only when the last factor is
    flagless and a flagless factor is among the first k - m; otherwise the flagged factors are compared."""
    from qvalid.core.characteristics import distinguishing

    rng = np.random.default_rng(3)
    base = rng.standard_normal((9, 5))
    sed = np.full((5, 5), 0.3)

    def pairs(nan_cols, k=5):
        z = base[:, :k].copy()
        z[:, nan_cols] = np.nan
        d = distinguishing(z, sed[:k, :k], flagless="positional")
        return None if d is None else d.pairs

    assert pairs([1, 3], k=4) == ((0, 1),)            # nload x,0,x,0: R compares f1 with f2 (all NA)
    assert pairs([0, 3], k=4) == ((0, 1),)            # 0,x,x,0: f1 (flagless) with f2
    assert pairs([1, 3, 4]) == ((0, 1),)              # x,0,x,0,0: reduced 2
    assert pairs([3, 4]) == ((0, 1), (0, 2), (1, 2))  # flagless only at the end: the flagged ones, as skip
    assert pairs([1, 4]) == ((0, 2), (0, 3), (2, 3))  # reduced 3 with f2 flagless: R errors; qvalid skips
    assert pairs([1]) == ((0, 2), (0, 3), (0, 4), (2, 3), (2, 4), (3, 4))  # not last: R stops; qvalid skips
    assert pairs([1, 2, 3, 4]) is None                # one flagged factor
    assert pairs([0, 2, 3, 4]) is None
    z = base[:, :4].copy()
    z[:, [1, 3]] = np.nan
    assert distinguishing(z, sed[:4, :4], flagless="skip").pairs == ((0, 2),)


@pytest.mark.parametrize("path", _cases_of(3), ids=_id)
def test_known_3_pca_null_components_differ_only_at_noise_level(path, golden_cache):
    rr = _load(path, golden_cache)
    mine = analyze(rr.study, rr.nfactors, **case_options(rr))
    ev = np.linalg.eigvalsh(rr.outputs["correlation"])[::-1]
    assert (ev[: rr.nfactors] < 1e-12).any(), "more components than the rank"
    diff = compare(mine, as_result(rr), tolerances={"unrotated_loadings": 1e-7, "loadings": 1e-7})
    assert diff.ok, diff.message()


@pytest.mark.parametrize("path", _cases_of(5), ids=_id)
def test_known_5_varimax_differs_from_the_same_start(path, golden_cache):
    from qvalid.core.rotate import varimax

    rr = _load(path, golden_cache)
    assert varimax_unstable(rr.outputs["unrotated_loadings"]) == (rr.study.n_sorts > rr.nfactors)
    if rr.study.n_sorts > rr.nfactors:  # near-null factors: the start agrees, the rotation is decided by rounding
        mine = analyze(rr.study, rr.nfactors, **case_options(rr))
        np.testing.assert_allclose(mine.unrotated_loadings, rr.outputs["unrotated_loadings"], rtol=0, atol=1e-14)
        assert (rr.outputs["characteristics"]["eigenvals"][1:] < 1e-5).all()
        diff = compare(mine, as_result(rr))
        assert {o.name for o in diff.failures} <= {"loadings", "characteristics.eigenvals",
                                                    "characteristics.expl_var"}, diff.message()
        return
    v = varimax(rr.outputs["unrotated_loadings"]).loadings  # R's unrotated loadings as the start
    d = np.abs(v - rr.outputs["loadings"]).max()
    assert 1e-10 < d < 1e-7
    mine = analyze(rr.study, rr.nfactors, **case_options(rr))
    assert compare(mine, as_result(rr), tolerances={"loadings": 1e-7, "zscores": 1e-7, "qdc": 1e-7,
                                                     "characteristics": 1e-7, "cor_zsc": 1e-7}).ok


@pytest.mark.parametrize("path", _cases_of(7), ids=_id)
def test_known_7_zero_sum_component_takes_the_other_sign(path, golden_cache):
    rr = _load(path, golden_cache)
    u = rr.outputs["unrotated_loadings"]
    mine = analyze(rr.study, rr.nfactors, **case_options(rr))
    m = mine.unrotated_loadings
    flipped = [j for j in range(rr.nfactors)
               if np.abs(u[:, j] - m[:, j]).max() > 1e-10 and (u[:, j] ** 2).sum() > 1e-10]
    assert flipped
    for j in flipped:
        assert abs(u[:, j].sum()) < 1e-12  # psych's sign(colSums) decides on ~0
        np.testing.assert_allclose(m[:, j], -u[:, j], rtol=0, atol=1e-12)


@pytest.mark.parametrize("path", _cases_of(8), ids=_id)
def test_known_8_unit_loadings_give_r_infinite_weights(path, golden_cache):
    """Flagged loadings of +-1 (to rounding): R's weights a/(1-a^2) are infinite, its z-scores NaN; qvalid agrees
    on loadings and flags and takes the limit: z-scores of the weighted sum of the sorts loading +-1 only."""
    rr = _load(path, golden_cache)
    loa, fl = rr.outputs["loadings"], rr.outputs["flags"]
    unit = fl & (np.abs(np.abs(loa) - 1) < 1e-12)
    assert unit.any() and np.isnan(rr.outputs["zscores"]).all()
    mine = analyze(rr.study, rr.nfactors, **case_options(rr))
    np.testing.assert_array_equal(mine.flags, fl)
    np.testing.assert_allclose(mine.loadings, loa, rtol=0, atol=1e-12)
    s = rr.study.scores[:, unit[:, 0]] @ np.sign(loa[unit[:, 0], 0])  # the limit, by hand
    np.testing.assert_allclose(mine.zscores[:, 0], (s - s.mean()) / s.std(ddof=1), rtol=0, atol=1e-12)
    assert any("+-1" in w for w in mine.warnings)


def test_known_6_centroid_that_never_converges(golden_cache):
    rr = _load(GOLDEN / "regressions" / "centroid_diverges" / "centroid_varimax_pearson_k2.json", golden_cache)
    assert rr.failure_summary().startswith("R failed: centroid: reached elapsed time limit")
    assert set(rr.missing) == {"unrotated_loadings", "loadings", "flags", "zscores", "factor_arrays",
                               "characteristics", "cor_zsc", "sd_dif", "qdc"}
    assert r_centroid(rr.outputs["correlation"], 2, max_steps=1000) is None  # R's loop does not end either
    try:  # qvalid caps the iteration: a warning with the unconverged loadings, or a refusal
        mine = analyze(rr.study, 2, extraction="centroid")
    except QInputError as err:
        assert "did not converge" in str(err)
        return
    assert any("did not converge" in w for w in mine.warnings)
    assert np.abs(mine.unrotated_loadings).max() > 100


def test_zscores_on_r_bits_take_the_limit_of_unit_weights():
    """Infinite weights (flagged loadings of +-1): zscores_on_r_bits takes the limit as zscores does (known 8)."""
    from qvalid.core.scores import zscores, zscores_on_r_bits

    x = np.array([[1, -1, 2], [0, 1, -1], [-1, 0, -1], [2, 1, 0]], dtype=float)
    w = np.array([[np.inf, 0.5], [-np.inf, 0.0], [0.3, 1.0]])
    np.testing.assert_allclose(zscores_on_r_bits(x, w), zscores(x, w), rtol=0, atol=1e-14)
    assert np.isfinite(zscores_on_r_bits(x, w)).all()
