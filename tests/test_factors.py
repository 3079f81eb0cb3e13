"""qvalid.factors: the number-of-factors criteria, parallel analysis on the study's grid, MAP, sensitivity."""

from __future__ import annotations

import json
import math
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import numpy as np
import pytest

from qvalid import QStudy, analyze
from qvalid.core.correlation import correlate
from qvalid.datasets import load_lipset, nav_grid
from qvalid.errors import QInputError
from qvalid.core.extract import centroid
from qvalid.factors import (grid_template, null_eigenvalues, number_of_factors, population_sorts, principal_axis,
                            random_sorts, velicer_map)
from qvalid.simulate import planted_study

from _r import GOLDEN

LIPSET_K5 = GOLDEN / "lipset" / "pca_none_pearson_k5.json"


@pytest.fixture(scope="module")
def lipset_factors():
    return number_of_factors(load_lipset(), 5, n_runs=1000, seed=1)


# ------------------------------------------------------------------------------------------- criteria by hand
def test_lipset_criteria_by_hand_from_r(lipset_factors):
    """Criteria recomputed with plain numpy from R's own numbers (psych 2.2.9 via qmethod 1.8.4, golden file
    ``lipset/pca_none_pearson_k5.json``: the correlation matrix and the 5 unrotated components).

    Hand computation (N = 33 statements, 9 sorts; 2 SE = 2/sqrt(33) = 0.3482; 1/N = 0.0303):

    ========  ==========  ============  ===============================  ==========================
    factor    eigenvalue  Kaiser (> 1)  Humphrey: top two |a|, product   MSR after k (go on > .0303)
    ========  ==========  ============  ===============================  ==========================
    1         2.384       yes           0.491 > .348 yes                 0.0439 go on
    2         2.015       yes           0.484 yes                        0.0206 stop
    3         1.341       yes           0.320 no                         0.0133
    4         1.127       yes           0.357 yes                        0.0076
    5         0.732       no            0.166 no                         0.0041
    ========  ==========  ============  ===============================  ==========================

    So Kaiser supports 4, Humphrey 2 (factor 3 fails first), Horst 2 (the residual after 2 factors is below
    1/N), % variance of factor 1 = 100 * 2.384 / 9 = 26.5.
    """
    g = json.loads(LIPSET_K5.read_text())
    r = np.array(g["correlation"], float)
    u = np.array(g["unrotated_loadings"], float)
    ev = (u * u).sum(axis=0)
    top2 = np.sort(np.abs(u), axis=0)[-2:]
    prod = top2[0] * top2[1]
    off = ~np.eye(9, dtype=bool)
    msr = [float(((r - u[:, :k] @ u[:, :k].T)[off] ** 2).mean()) for k in range(1, 6)]
    np.testing.assert_allclose(ev, [2.384, 2.015, 1.341, 1.127, 0.732], atol=5e-4)
    np.testing.assert_allclose(prod, [0.491, 0.484, 0.320, 0.357, 0.166], atol=5e-4)
    np.testing.assert_allclose(msr, [0.0439, 0.0206, 0.0133, 0.0076, 0.0041], atol=5e-5)

    c = lipset_factors.criteria
    np.testing.assert_allclose(c.eigenvalue, ev, atol=1e-12)
    np.testing.assert_allclose(c.pct_variance, 100 * ev / 9, atol=1e-10)
    np.testing.assert_allclose(c.humphrey_product, prod, atol=1e-12)
    np.testing.assert_allclose(c.msr, msr, atol=1e-12)
    assert c.kaiser.tolist() == [True, True, True, True, False]
    assert c.humphrey.tolist() == [True, True, False, True, False]
    assert c.horst.tolist() == [True, False, False, False, False]
    s = lipset_factors.suggestions
    assert (s["kaiser"], s["humphrey"], s["horst"]) == (4, 2, 2)


def test_lipset_defining_and_significant_counts(lipset_factors):
    """Per-solution criteria: counts of |a| > 1.96/sqrt(33) = 0.3412 and of flags, per rotated factor."""
    c = lipset_factors.criteria
    for k in range(1, 6):
        res = analyze(load_lipset(), k)
        nsig = (np.abs(res.loadings) > 1.96 / math.sqrt(33)).sum(axis=0)
        assert c.loc[k, "min_significant"] == nsig.min()
        assert c.loc[k, "defining"] == "/".join(str(x) for x in res.flags.sum(axis=0))
    # k = 3 is the solution qmethod's docs show (3/2/3 flagged: README); k = 5 has a factor with one defining sort
    assert c.loc[3, "min_defining"] >= 2 and c.loc[5, "min_defining"] < 2
    assert lipset_factors.suggestions["defining_sorts"] == max(k for k in c.index if c.loc[k, "min_defining"] >= 2)


def test_centroid_kaiser_uses_unrotated_column_sums_of_squares():
    """For centroid the 'eigenvalue' is the unrotated column sum of squares (R's centroid, golden file)."""
    g = json.loads((GOLDEN / "lipset" / "centroid_none_pearson_k5.json").read_text())
    u = np.array(g["unrotated_loadings"], float)
    fr = number_of_factors(load_lipset(), 5, n_runs=200, extraction="centroid")
    np.testing.assert_allclose(fr.criteria.eigenvalue, (u * u).sum(axis=0), atol=1e-10)
    assert "pa_centroid" in fr.criteria and "centroid_centile" in fr.parallel


# ------------------------------------------------------------------------------------------- parallel analysis
@pytest.mark.parametrize("k,noise,n_sorts,seed", [(2, 0.6, 20, 0), (3, 0.6, 24, 1), (4, 0.6, 28, 2)])
def test_parallel_analysis_recovers_strong_planted_factors(k, noise, n_sorts, seed):
    """Sorts that are noisy copies of k prototypes (loadings ~ 1/sqrt(1 + 0.36) = 0.86): PA finds exactly k."""
    study, _ = planted_study(36, n_sorts, k, noise=noise, seed=seed)
    fr = number_of_factors(study, 6, n_runs=300, seed=seed)
    assert fr.suggestions["parallel_grid"] == k
    assert fr.nfactors == k


@pytest.mark.parametrize("seed", [0, 3])
def test_parallel_analysis_recovers_weak_planted_factors_where_kaiser_overextracts(seed):
    """Weak factors (noise 1.0: sort-prototype correlation ~ 0.7, 10 sorts per factor) are still found by PA,
    while Kaiser-Guttman over-extracts, as it is known to (Zwick & Velicer 1986)."""
    study, _ = planted_study(36, 30, 3, noise=1.0, seed=seed)
    fr = number_of_factors(study, 6, n_runs=300, seed=seed)
    assert fr.suggestions["parallel_grid"] == 3
    assert fr.suggestions["kaiser"] > 3


def test_random_grid_filling_studies_stay_inside_the_band():
    """Studies of random sorts on the grid are the null itself: the first eigenvalue exceeds the 95th centile of
    the null in 5% of them, so no factor is found in ~95%. With 400 independent studies the exceedance count is
    Binomial(400, 0.05) (mean 20, sd 4.4) plus the small error of the centile estimated from 2000 runs (its
    coverage has sd sqrt(.05 * .95 / 2000) = 0.5%, i.e. 2 studies): we allow 20 +- 4 sd, i.e. 2..38."""
    grid = nav_grid()
    band = null_eigenvalues(grid_template(grid, 25), 2000, seed=11).centile(95)
    x = random_sorts(grid_template(grid, 25), 400, np.random.default_rng(12))
    ev = np.linalg.eigvalsh(correlate(x))[:, ::-1]
    exceed = int((ev[:, 0] > band[0]).sum())
    assert 2 <= exceed <= 38, exceed
    # end to end on one random study: no factor above the band
    study = QStudy.from_array(x[0].astype(int), grid=grid)
    fr = number_of_factors(study, 4, n_runs=500, seed=5)
    assert (ev[0, 0] > band[0]) or fr.suggestions["parallel_grid"] == 0


def _general_plus_group_study(group_loading, seed):
    """30 sorts on the NAV grid: a strong general factor (loading 0.75 for all) and a bipolar group factor
    (+-``group_loading`` for the two halves): drawn with population_sorts from known loadings."""
    a = np.zeros((30, 2))
    a[:, 0] = 0.75
    a[:15, 1], a[15:, 1] = group_loading, -group_loading
    x = population_sorts(grid_template(nav_grid(), 30), a, 1, np.random.default_rng(seed))[0]
    return QStudy.from_array(x.astype(int), grid=nav_grid())


@pytest.mark.parametrize("seed", [0, 2])
def test_revised_parallel_analysis_finds_a_factor_behind_a_strong_first_one(seed):
    """Turner (1998): after a strong first factor, classic PA compares factor 2 with completely random sorts whose
    second eigenvalue is too large, and misses it; the revised null (Green et al. 2012) draws studies from the
    one-factor model and finds it. Here the planted group factor has loadings +-0.3 under a 0.75 general one."""
    fr = number_of_factors(_general_plus_group_study(0.3, seed), 4, n_runs=300, seed=seed)
    assert fr.suggestions["parallel_grid"] == 1
    assert fr.suggestions["parallel_revised"] == 2
    assert fr.criteria.loc[2, "rpa_centile"] < fr.criteria.loc[2, "observed"] < fr.criteria.loc[2, "pa_centile"]


def test_revised_parallel_analysis_keeps_one_factor_when_there_is_one():
    fr = number_of_factors(_general_plus_group_study(0.0, 1), 4, n_runs=300, seed=1)
    assert fr.suggestions["parallel_revised"] == fr.suggestions["parallel_grid"] == 1


def test_population_sorts_fill_each_sorts_grid_and_follow_the_loadings():
    study, _ = planted_study(36, 8, 2, seed=1)
    a = np.full((8, 1), 0.9)
    x = population_sorts(study.scores, a, 400, np.random.default_rng(0))
    np.testing.assert_array_equal(np.sort(x, axis=1), np.broadcast_to(np.sort(study.scores, axis=0), x.shape))
    r = correlate(x).mean(axis=0)
    off = r[~np.eye(8, dtype=bool)]
    # latent correlation a_i a_j = 0.81, attenuated by ranking into the grid by c^2, c = corr(latent, its grid
    # score) estimated independently here from single normal samples ranked into the same grid
    z = np.random.default_rng(9).standard_normal((4000, 36))
    q = np.sort(study.scores[:, 0]).astype(float)
    c = np.mean([np.corrcoef(zz, q[np.argsort(np.argsort(zz))])[0, 1] for zz in z])
    assert abs(off.mean() - 0.81 * c * c) < 0.01, (off.mean(), c)


def test_principal_axis_recovers_known_loadings():
    a = np.array([[.8, 0], [.7, .1], [.6, 0], [0, .7], [.1, .6], [0, .8]])
    r = a @ a.T
    np.fill_diagonal(r, 1.0)
    got = principal_axis(r, 2, max_iter=2000, tol=1e-12)
    np.testing.assert_allclose(got @ got.T - np.diag(np.diag(got @ got.T)), r - np.eye(6), atol=1e-5)


def _perm_r4(a) -> float:
    """Exact E[r^4] of r = sum_i a_i a_pi(i) over uniform permutations pi (a centred, unit length), summing over the
    15 set partitions of the 4 indices: for each, (injective sum over a)^2 / falling factorial of n."""
    n = len(a)
    u = float((a ** 4).sum())
    f = lambda k: math.perm(n, k)
    return (u * u / n + 4 * u * u / f(2) + 3 * (1 - u) ** 2 / f(2) + 6 * (2 * u - 1) ** 2 / f(3)
            + (3 - 6 * u) ** 2 / f(4))


def test_grid_null_differs_from_normal_null_as_theory_predicts():
    """Theory. Let r be the correlation of two independent sorts, n statements, p sorts.

    - Normal noise: r has mean 0, E r^2 = 1/(n-1), E r^4 = 3/(n^2-1) (the exact null density of r).
    - Random sorts on a common grid (Pitman 1937, permutation moments): mean 0 and E r^2 = 1/(n-1) exactly as
      for normal noise, so E tr R^2 = p + p(p-1)/(n-1) is the same for both nulls and the mean eigenvalues agree
      to leading order. But E r^4 (computed exactly in ``_perm_r4``) = 3/(n^2-1) + c_n (b2 - 3(n-1)/(n+1))^2,
      with b2 the grid's kurtosis: never below the normal value and above it for any grid whose kurtosis is not
      exactly the normal sample expectation. The squared correlations of pairs sharing a sort are uncorrelated
      under both nulls (given one sort, E r^2 is 1/(n-1) whatever it is), so
      Var tr R^2 = 4 C(p,2) (E r^4 - 1/(n-1)^2) is larger for the grid null.
    - Prediction: with sum(lambda) = p fixed and sum(lambda^2) more variable, the grid-aware eigenvalues spread
      more: the upper centile of the first eigenvalue lies above normal noise's. The effect grows with
      (b2 - b2_normal)^2 / n: on quasi-normal grids of 33-36 statements it is below 0.01 (docs/factors.md), so it
      is shown here on a steep 10-statement grid (-1:1, 0:8, +1:1; b2 = 5 vs 2.45).
    """
    grid = {-1: 1, 0: 8, 1: 1}
    n, p, runs = 10, 20, 6000
    t = grid_template(grid, p)
    gnull = null_eigenvalues(t, runs, kind="grid", seed=1)
    nnull = null_eigenvalues(t, runs, kind="normal", seed=2)
    q = np.repeat(list(grid), list(grid.values())).astype(float)
    a = (q - q.mean()) / np.linalg.norm(q - q.mean())
    e4_grid, e4_norm = _perm_r4(a), 3 / ((n - 1) * (n + 1))
    assert e4_grid > 1.1 * e4_norm
    pairs = p * (p - 1) / 2
    mean_tr2 = p + p * (p - 1) / (n - 1)
    for null, e4 in ((gnull, e4_grid), (nnull, e4_norm)):
        tr2 = (null.eigenvalues ** 2).sum(axis=1)
        var_pred = 4 * pairs * (e4 - 1 / (n - 1) ** 2)
        se_mean = math.sqrt(var_pred / runs)
        assert abs(tr2.mean() - mean_tr2) < 4 * se_mean  # same mean under both nulls
        # sample variance of a sum of many weakly dependent terms: relative SE ~ sqrt(2/runs) (plus kurtosis)
        assert abs(tr2.var() / var_pred - 1) < 0.12, (tr2.var(), var_pred)
    assert gnull.centile(95)[0] > nnull.centile(95)[0] + 0.05
    assert gnull.eigenvalues[:, 0].var() > nnull.eigenvalues[:, 0].var()


def test_permutation_fourth_moment_formula_by_enumeration():
    """``_perm_r4`` against all 8! permutations of a small grid, and its minimum at the normal value."""
    from itertools import permutations

    q = np.array([-2, -1, -1, 0, 0, 1, 1, 2], float)
    a = (q - q.mean()) / np.linalg.norm(q - q.mean())
    perms = np.array(list(permutations(range(8))))
    r = (a[perms] * a).sum(axis=1)
    assert abs((r ** 4).mean() - _perm_r4(a)) < 1e-12
    assert abs((r ** 2).mean() - 1 / 7) < 1e-12


def test_null_is_deterministic_and_executor_independent():
    """Chunks of 250 runs with their own SeedSequence children: same bytes for no executor, threads, processes."""
    t = grid_template({-2: 1, -1: 2, 0: 3, 1: 2, 2: 1}, 7)
    kw = dict(n_runs=620, kind="grid", seed=42, centroid_factors=3)
    base = null_eigenvalues(t, **kw)
    with ThreadPoolExecutor(2) as ex:
        thr = null_eigenvalues(t, executor=ex, **kw)
    with ProcessPoolExecutor(2) as ex:
        proc = null_eigenvalues(t, executor=ex, **kw)
    for other in (thr, proc):
        assert other.eigenvalues.tobytes() == base.eigenvalues.tobytes()
        assert other.centroid.tobytes() == base.centroid.tobytes()
    assert null_eigenvalues(t, **{**kw, "seed": 43}).eigenvalues.tobytes() != base.eigenvalues.tobytes()
    assert base.eigenvalues.shape == (620, 7)
    np.testing.assert_allclose(base.eigenvalues.sum(axis=1), 7.0, atol=1e-10)  # trace of a correlation matrix


@pytest.mark.parametrize("which", ["forced", "free"])
def test_random_sorts_fill_the_grid_exactly(which):
    """Forced: every random sort holds the grid; free distributions: every random sort keeps its own sort's
    observed distribution (golden ``nonforced`` input: 16 sorts with different distributions)."""
    if which == "forced":
        scores = planted_study(20, 6, 2, seed=0)[0].scores
    else:
        from qvalid.io import read_study

        scores = read_study(GOLDEN / "inputs" / "nonforced.csv", forced=False,
                            grid={-3: 2, -2: 3, -1: 5, 0: 10, 1: 5, 2: 3, 3: 2}).scores
        assert len({tuple(np.sort(c)) for c in scores.T}) > 1
    x = random_sorts(scores, 50, np.random.default_rng(0))
    assert x.shape == (50,) + scores.shape
    np.testing.assert_array_equal(np.sort(x, axis=1), np.broadcast_to(np.sort(scores, axis=0), x.shape))
    assert not (x == scores).all(axis=(1, 2)).any()


def test_number_of_factors_same_seed_same_bytes():
    s = load_lipset()
    a = number_of_factors(s, 3, n_runs=300, seed=7).to_json()
    assert a == number_of_factors(s, 3, n_runs=300, seed=7).to_json()
    assert a != number_of_factors(s, 3, n_runs=300, seed=8).to_json()


# ------------------------------------------------------------------------------------------- centroid stack, MAP
def test_centroid_null_is_centroid_of_the_same_random_matrices():
    """The centroid sums of squares of the null are those of extract.centroid on the very matrices of the null
    (rebuilt here from the first chunk's SeedSequence child; normal noise: no tied column sums)."""
    t = np.zeros((30, 12))
    null = null_eigenvalues(t, 40, kind="normal", seed=5, centroid_factors=4)
    child = np.random.SeedSequence(5).spawn(1)[0]
    r = correlate(np.random.default_rng(child).standard_normal((40, 30, 12)))
    want = np.array([(centroid(m, 4).loadings ** 2).sum(axis=0) for m in r])
    np.testing.assert_allclose(null.centroid, want, rtol=0, atol=1e-12)
    np.testing.assert_allclose(null.eigenvalues, np.linalg.eigvalsh(r)[:, ::-1], rtol=0, atol=1e-12)


def test_velicer_map_against_an_explicit_loop():
    """Partial correlations after m components, computed one m at a time with an explicit inverse-free formula."""
    study, _ = planted_study(30, 12, 2, noise=0.8, seed=4)
    r = correlate(study.scores)
    map2, map4 = velicer_map(r)
    vals, vecs = np.linalg.eigh(r)
    order = np.argsort(vals)[::-1]
    loads = vecs[:, order] * np.sqrt(vals[order])
    for m in range(len(map2)):
        c = r - loads[:, :m] @ loads[:, :m].T
        pc = c / np.sqrt(np.outer(np.diag(c), np.diag(c)))
        off = pc[~np.eye(12, dtype=bool)]
        assert abs(map2[m] - (off ** 2).mean()) < 1e-12
        assert abs(map4[m] - (off ** 4).mean()) < 1e-12
    assert int(np.argmin(map2)) == 2  # the planted two factors


# ------------------------------------------------------------------------------------------- sensitivity, output
def test_sensitivity_names_the_sorts_that_move(lipset_factors):
    """lipset 2 -> 3: compare defining factors sort by sort through the factor matching."""
    a, b = analyze(load_lipset(), 2), analyze(load_lipset(), 3)
    t = next(t for t in lipset_factors.transitions if t.k == 2)
    from qvalid.core.congruence import align_factors

    perm, _, _ = align_factors(a.loadings, b.loadings)
    assert t.permutation == perm
    da = [np.flatnonzero(f)[0] if f.sum() == 1 else -1 for f in a.flags]
    db = [np.flatnonzero(f)[0] if f.sum() == 1 else -1 for f in b.flags]
    moved = {sid for sid, x, y in zip(a.sort_ids, da, db) if (perm[x] if x >= 0 else -1) != y}
    assert {m[0] for m in t.moved} == moved and moved
    assert lipset_factors.sensitivity.loc["2->3", "sorts_moved"] == len(moved)


def test_to_json_and_summary_and_figure(lipset_factors, tmp_path):
    d = json.loads(lipset_factors.to_json())
    assert d["suggestions"]["parallel_grid"] == 2 and len(d["criteria"]) == 5
    assert {"observed", "grid_centile", "normal_centile"} <= set(d["parallel"][0])
    text = lipset_factors.summary()
    for word in ("Kaiser", "Humphrey", "Horst", "PA grid", "PA normal", "MAP", "Sensitivity", "Brown 1980",
                 "Watts & Stenner"):
        assert word in text
    fig = lipset_factors.scree_figure()
    out = tmp_path / "scree.png"
    fig.savefig(out)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_bad_arguments_raise_one_line_errors():
    s = load_lipset()
    with pytest.raises(QInputError, match="max_k"):
        number_of_factors(s, 9)
    with pytest.raises(QInputError, match="centile"):
        number_of_factors(s, 3, centile=100)
    with pytest.raises(QInputError, match="n_runs"):
        number_of_factors(s, 3, n_runs=0)
    with pytest.raises(QInputError, match="nfactors"):
        number_of_factors(s, 3, nfactors=4, n_runs=10)


# ------------------------------------------------------------------------------------------- real studies, CLI
def test_redu_fut_parallel_analysis_supports_the_published_three_factors():
    """redu_fut (Orellana et al. 2020; 36 x 49, analysed with R qmethod, 3 factors): the grid-aware parallel
    analysis keeps exactly 3 (eigenvalue 3 = 3.83 is above its 95th centile, about 3.74; 4 = 2.99 is not), while
    Kaiser keeps every k examined. The published k = 3 solution has 13/17/16 defining sorts here (qmethod's
    report lists the same counts: qreport_3f.txt)."""
    import pandas as pd

    from _shared import shared_path

    frame = pd.read_excel(shared_path("data/redu_fut_qmethod/redu_fut_metodoq_public.xlsx"), sheet_name="3 Qsort",
                          index_col=0)
    study = QStudy.from_frame(frame, name="redu_fut")
    fr = number_of_factors(study, 4, n_runs=500, seed=0)
    assert fr.suggestions["parallel_grid"] == 3 and fr.suggestions["kaiser"] == 4
    report = shared_path("data/redu_fut_qmethod/qreport_3f.txt").read_text(encoding="latin-1")
    rows = [line.split() for line in report.splitlines() if line.split()[:2] in (["f1", "0.8"], ["f2", "0.8"],
                                                                                  ["f3", "0.8"])]
    assert fr.criteria.loc[3, "defining"] == "/".join(r[2] for r in rows[:3]) == "13/17/16"


def test_cli_factors_text_json_and_plot(tmp_path, capsys):
    from qvalid.cli import main

    png = tmp_path / "scree.png"
    assert main(["factors", "reference/data/lipset/lipset.csv", "--max-k", "3", "--runs", "200",
                 "--plot", str(png)]) == 0
    out = capsys.readouterr().out
    assert "Criteria per k" in out and "Parallel analysis" in out and "Sensitivity" in out
    assert png.read_bytes()[:4] == b"\x89PNG"
    assert main(["factors", "reference/data/lipset/lipset.csv", "--max-k", "3", "--runs", "200", "-k", "3",
                 "--extraction", "centroid", "--format", "json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["nfactors"] == 3 and d["options"]["extraction"] == "centroid"
    assert main(["factors", "reference/data/lipset/lipset.csv", "--runs", "0"]) == 2
    assert main(["factors", "reference/data/lipset/lipset.csv", "--plot", "x.txt"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 2 and "Traceback" not in err


@pytest.mark.r
def test_normal_null_mean_matches_psych_fa_parallel():
    """psych 2.2.9 ``fa.parallel(x, fa="pc")$pc.sim`` (mean eigenvalues of normal-noise studies of the same size)
    against qvalid's normal null on lipset: equal within 4 Monte Carlo standard errors at every rank. (psych's
    resampled variant ``pc.simr`` draws each column *with* replacement, so its sorts do not fill the grid; qvalid's
    grid null permutes, as pensieve does.)"""
    from _r import require_r

    require_r()
    from qvalid.r.session import require_r as _require_r

    r = _require_r()
    s = load_lipset()
    runs_r, runs = 600, 3000
    with r.localconverter(r.ro.default_converter + r.numpy2ri.converter):
        r.ro.globalenv["qv_x"] = s.scores.astype(float)
        sim = np.asarray(r.ro.r(f'suppressMessages(library(psych)); set.seed(1); invisible(capture.output('
                                f'qv_p <- fa.parallel(qv_x, fa="pc", n.iter={runs_r}, plot=FALSE))); qv_p$pc.sim'))
    nn = null_eigenvalues(s.scores, runs, kind="normal", seed=0)
    se = nn.eigenvalues.std(axis=0) * math.sqrt(1 / runs + 1 / runs_r)
    assert (np.abs(nn.mean() - sim) < 4 * se).all(), (nn.mean(), sim, se)


def test_sensitivity_on_a_planted_study_names_the_split_and_the_planted_sorts():
    """Three planted clusters of 8 sorts: at k = 2 two clusters share a factor, which splits at k = 3 and exactly
    the sorts of one planted cluster move to the new factor; the step to k = 4 only adds noise (no sort moves)."""
    study, member = planted_study(36, 24, 3, noise=0.6, seed=1)
    fr = number_of_factors(study, 3, n_runs=100)
    t2, t3 = (t for t in fr.transitions if t.k in (2, 3))
    assert "splits into" in t2.describe()
    cluster = np.argmax(np.abs(member), axis=1)
    moved = {sid for sid, _, _ in t2.moved}
    assert len(moved) == 8 and len({cluster[study.sort_ids.index(s)] for s in moved}) == 1
    assert t3.moved == () and "is new (no factor of k" in t3.describe()
    assert min(abs(c) for c in t3.congruence) > 0.95


@pytest.mark.r
def test_velicer_map_matches_psych_vss():
    """psych 2.2.9 ``VSS(r, fm = "pc", rotate = "none")$map`` (Velicer's MAP after m = 1..n components) on
    lipset and on a planted 36 x 20 study, to 1e-10."""
    from _r import require_r

    require_r()
    from qvalid.r.session import require_r as _require_r

    rr = _require_r()
    for study in (load_lipset(), planted_study(36, 20, 3, noise=0.9, seed=3)[0]):
        r = correlate(study.scores)
        n = min(7, r.shape[0] - 2)
        with rr.localconverter(rr.ro.default_converter + rr.numpy2ri.converter):
            rr.ro.globalenv["qv_r"] = r
            want = np.asarray(rr.ro.r(
                f'suppressMessages(library(psych)); invisible(capture.output(qv_v <- suppressWarnings(VSS(qv_r, '
                f'n = {n}, fm = "pc", rotate = "none", n.obs = {study.n_statements}, plot = FALSE)))); qv_v$map'))
        np.testing.assert_allclose(velicer_map(r)[0][1:n + 1], want, rtol=0, atol=1e-10)


def test_bootstrap_view_per_k_on_a_planted_study():
    """Three strong planted factors: bootstrapped at k = 3 every factor is recovered (congruence >= 0.85 with the
    full-sample factor) in at least 90% of the resamples and every defining sort keeps its factor; the counts of
    defining sorts are those of the criteria table. Same seed, same bytes."""
    study, _ = planted_study(36, 24, 3, noise=0.6, seed=1)
    fr = number_of_factors(study, 3, n_runs=100, bootstrap=60, seed=3)
    b = fr.bootstrap
    assert list(b.index.get_level_values("k")) == [1, 2, 2, 3, 3, 3]
    k3 = b.loc[3]
    assert (k3["share_085"] >= 0.9).all() and (k3["defining_kept"] == k3["defining"]).all()
    assert "/".join(str(int(x)) for x in k3["defining"]) == fr.criteria.loc[3, "defining"]
    again = number_of_factors(study, 3, n_runs=100, bootstrap=60, seed=3)
    assert again.to_json() == fr.to_json() and "Bootstrap view" in fr.summary()
