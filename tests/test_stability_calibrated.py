"""The calibrated parts of the bootstrap (issue 18): the verdict's curve and words, the belt and pivot intervals, the
parametric bootstrap's world and replicates. Expected values by hand or from known truth."""

from __future__ import annotations

import math

import numpy as np
import pytest

from qvalid import analyze
from qvalid.datasets import load_lipset
from qvalid.simulate import latent_scores, planted_loadings, simulate_sorts
from qvalid.stability import intervals, parametric, verdict
from qvalid.stability.calibration import BANDS, Population, oriented, population_truth, run_study
from qvalid.study import QStudy

NAV = {-5: 1, -4: 2, -3: 3, -2: 4, -1: 5, 0: 6, 1: 5, 2: 4, 3: 3, 4: 2, 5: 1}


# ---------------------------------------------------------------------- verdict
def test_recovery_probability_is_the_logistic_curve_by_hand():
    b0, b1, b2, b3 = verdict.COEFFICIENTS[0.85]
    s = 0.6
    eta = b0 + b1 * math.log(0.6 / 0.4) + b2 * math.log(40 / 25) + b3 * 1
    assert verdict.recovery_probability(s, 0.85, 40, "pca") == pytest.approx(1 / (1 + math.exp(-eta)), rel=1e-12)
    c0, c1, c2, c3 = verdict.COEFFICIENTS[0.95]
    eta = c0 + c1 * math.log(0.3 / 0.7) + c2 * math.log(15 / 25)
    assert verdict.recovery_probability(0.3, 0.95, 15, "centroid") == pytest.approx(1 / (1 + math.exp(-eta)))
    # more sorts, same share: more likely recovered; PCA's shares are higher than the centroid's for the same truth
    p = verdict.recovery_probability(np.array([0.5, 0.5]), 0.85, 25, "centroid")
    assert verdict.recovery_probability(0.5, 0.85, 60, "centroid") > p[0]
    assert verdict.recovery_probability(0.5, 0.85, 25, "pca") < p[0]
    # shares of 0 and 1 are clipped to 1/400 and 399/400: finite, and equal to those
    lo, hi = verdict.recovery_probability(np.array([0.0, 1.0]), 0.85, 25, "pca")
    assert lo == verdict.recovery_probability(1 / 400, 0.85, 25, "pca") and 0 < lo < hi < 1
    assert hi == verdict.recovery_probability(399 / 400, 0.85, 25, "pca")
    assert np.isnan(verdict.recovery_probability(np.nan, 0.85, 25, "pca"))
    assert verdict.clip_share(0.5) == 0.5 and verdict.clip_share(0.001) == 1 / 400


def test_probability_band():
    b1 = verdict.COEFFICIENTS[0.85][1]
    s = np.array([0.5, 0.8, 0.999])
    lo, hi = verdict.probability_band(np.array([0.5, 0.9, 1.0]), s, 0.85, 100)
    sd = 0.4 * 0.25 + b1 * 0.25 / math.sqrt(0.5 * 0.5 * 100)  # share 0.5: s (1 - s) = 1/4
    assert lo[0] == pytest.approx(0.5 - 1.645 * sd) and hi[0] == pytest.approx(0.5 + 1.645 * sd)
    sd = 0.4 * 0.09 + b1 * 0.09 / math.sqrt(0.8 * 0.2 * 100)
    assert hi[1] == pytest.approx(min(1.0, 0.9 + 1.645 * sd)) and lo[1] == pytest.approx(0.9 - 1.645 * sd)
    assert lo[2] == hi[2] == 1.0  # p (1 - p) = 0: no band
    lo, hi = verdict.probability_band(np.array([0.02]), np.array([0.05]), 0.85, 4)  # wide band clipped at 0
    assert lo[0] == 0.0 and hi[0] > 0.02


def test_probability_band_propagates_the_share_through_the_curve():
    """The Monte-Carlo part of the band is the delta method through the curve itself: its slope by finite
    differences times the binomial SD of the share (the between-population part set apart)."""
    for level in (0.85, 0.95):
        for s in (0.3, 0.7, 0.95):
            n, h = 400, 1e-6
            p = verdict.recovery_probability(s, level, 25, "pca")
            slope = (verdict.recovery_probability(s + h, level, 25, "pca")
                     - verdict.recovery_probability(s - h, level, 25, "pca")) / (2 * h)
            want = slope * math.sqrt(s * (1 - s) / n)
            lo, hi = verdict.probability_band(p, s, level, n, z=1.0)
            got = (p - lo) - 0.4 * p * (1 - p)  # the lower side (the upper one may be clipped at 1)
            assert float(got) == pytest.approx(float(want), rel=1e-5)


@pytest.mark.parametrize("p85,p95,word", [(0.99, 0.80, "stable"), (0.99, 0.7999, "fairly stable"),
                                          (0.70, 0.10, "fairly stable"), (0.6999, 0.10, "unstable"),
                                          (0.2, 0.9, "stable"), (float("nan"), 0.9, "unknown"),
                                          (0.9, float("nan"), "unknown")])
def test_verdict_words_follow_the_probabilities(p85, p95, word):
    assert verdict.verdict_word(p85, p95) == word


def test_verdict_text():
    t = verdict.verdict_text("fairly stable", 0.83, 0.41, no_flags=0.2, n_sorts=80)
    assert t.startswith("fairly stable: another sample would likely find a similar factor (probability 41% of "
                        "congruence >= 0.95, 83% of >= 0.85")
    assert "no defining sort in 20% of resamples" in t and "calibrated for 15-60 sorts, this study has 80" in t
    t = verdict.verdict_text("unstable", 0.3, 0.1, no_flags=0.05, n_sorts=25)
    assert "may well not find" in t and "no defining sort" not in t and "calibrated for" not in t
    assert verdict.verdict_text("stable", 1, 1, n_sorts=15).startswith("stable: another sample would very likely")
    assert "calibrated for" not in verdict.verdict_text("stable", 1, 1, n_sorts=60)
    assert verdict.verdict_text("unknown", np.nan, np.nan).startswith("unknown")
    assert verdict.verdict_text("stable", 1, 1, rotation="none").endswith(
        "; calibrated for varimax, this analysis uses rotation=none")
    assert "varimax" not in verdict.verdict_text("stable", 1, 1, rotation="varimax")


# ---------------------------------------------------------------------- intervals
def test_zscore_belt_inverts_a_known_shrinkage():
    """Replicates shrink the truth by 0.8 and add noise of SD 0.3: the belt's estimate is z / 0.8 and its interval
    (z -+ 1.96 * 0.3) / 0.8, up to the Monte-Carlo error of 4000 replicates."""
    rng = np.random.default_rng(1)
    truth = np.linspace(-2, 2, 41)[:, None]
    zrep = 0.8 * truth[None] + 0.3 * rng.standard_normal((4000, 41, 1))
    zhat = np.array([[1.2], [-0.4], [0.0]])
    est, se, lo, hi, defined = intervals.zscore_belt(np.vstack([zhat, np.zeros((38, 1))]), zrep, truth)
    np.testing.assert_allclose(est[:3, 0], zhat[:, 0] / 0.8, atol=0.02)
    np.testing.assert_allclose(lo[:3, 0], (zhat[:, 0] - 1.96 * 0.3) / 0.8, atol=0.03)
    np.testing.assert_allclose(hi[:3, 0], (zhat[:, 0] + 1.96 * 0.3) / 0.8, atol=0.03)
    np.testing.assert_allclose(se[:, 0], zrep[:, :, 0].std(axis=0, ddof=1))
    assert defined.tolist() == [4000]
    # a 50 % level gives a narrower interval
    _, _, lo50, hi50, _ = intervals.zscore_belt(np.vstack([zhat, np.zeros((38, 1))]), zrep, truth, level=0.5)
    np.testing.assert_allclose(hi50[:3, 0] - lo50[:3, 0], 2 * 0.6745 * 0.3 / 0.8, atol=0.03)


def test_zscore_belt_counts_and_leaves_undefined_factors_empty():
    rng = np.random.default_rng(2)
    truth = np.linspace(-2, 2, 20)[:, None].repeat(3, axis=1)
    zrep = truth[None] + 0.2 * rng.standard_normal((30, 20, 3))
    zrep[:25, :, 1] = np.nan  # factor 2 without defining sort in 25 of 30 replicates: 5 < MIN_DEFINED
    zrep[:3, :, 0] = np.nan   # factor 1 in 3: still estimated from 27
    zhat = truth.copy()
    zhat[:, 2] = np.nan       # factor 3 has no z-scores in the study
    est, se, lo, hi, defined = intervals.zscore_belt(zhat, zrep, truth)
    assert defined.tolist() == [27, 5, 30]
    assert not np.isnan(est[:, 0]).any() and np.isnan(est[:, 1:]).all() and np.isnan(lo[:, 1:]).all()
    np.testing.assert_allclose(se[:, 0], zrep[3:, :, 0].std(axis=0, ddof=1))
    assert intervals.MIN_DEFINED == 10
    # a study z-score far beyond the belt's reach has no interval
    zfar = truth.copy()
    zfar[0, 0] = 50.0
    _, _, lo, _, _ = intervals.zscore_belt(zfar, zrep, truth)
    assert np.isnan(lo[0, 0]) and not np.isnan(lo[1, 0])


def test_loading_pivot_by_hand():
    err = np.array([[0.1, -0.2], [0.0, 0.3], [0.2, 0.1]])  # three participants of type 0
    s1, s2, c = err.sum(axis=0)[None], (err ** 2).sum(axis=0)[None], np.array([3.0])
    est, se, lo, hi = intervals.loading_pivot(np.array([[0.7, 0.1]]), s1, s2, c)
    np.testing.assert_allclose(est[0], [0.7 - 0.1, 0.1 - 0.2 / 3])
    np.testing.assert_allclose(se[0], err.std(axis=0, ddof=1))
    np.testing.assert_allclose(hi[0] - lo[0], 2 * 1.959963984540054 * err.std(axis=0, ddof=1))
    est, se, lo, hi = intervals.loading_pivot(np.array([[0.7, 0.1]]), s1 / 3, s2 / 3, np.array([1.0]))
    assert np.isnan(se).all() and np.isnan(lo).all()  # one participant: no spread


# ---------------------------------------------------------------------- parametric
def test_principal_axis_recovers_a_common_factor_structure():
    lam = np.array([[0.8, 0.0], [0.7, 0.1], [0.6, 0.0], [0.0, 0.7], [0.1, 0.6], [0.0, 0.8], [0.5, 0.5]])
    r = lam @ lam.T
    np.fill_diagonal(r, 1.0)
    a = parametric.principal_axis(r, 2, tol=1e-10, max_iter=5000)
    np.testing.assert_allclose(a @ a.T - np.diag(np.diag(a @ a.T)), r - np.eye(7), atol=1e-6)
    np.testing.assert_allclose((a * a).sum(axis=1), (lam * lam).sum(axis=1), atol=1e-5)


def test_projected_loadings_of_rotated_components_are_the_loadings():
    """For PCA + varimax the least-squares factor scores are the rotated component scores: a sort's correlation
    with them is exactly its loading."""
    res = analyze(load_lipset(), 3)
    x = np.asarray(res.study.scores, float)
    f = parametric.factor_scores(x, res.loadings)
    np.testing.assert_allclose(parametric.projected_loadings(x, f), res.loadings, atol=1e-12)
    np.testing.assert_allclose(f.std(axis=0, ddof=1), 1.0)
    np.testing.assert_allclose(parametric.projected_loadings(x[None].repeat(2, 0), f)[1], res.loadings, atol=1e-12)


def test_simulated_participants_keep_their_types_distribution_and_correlate_as_loaded():
    rng = np.random.default_rng(3)
    lat = latent_scores(36, 2, rng=rng)
    a = np.array([[0.9, 0.0], [0.0, 0.9], [0.2, 0.2]])
    values = np.sort(np.repeat(np.arange(-5, 6), [1, 2, 3, 4, 5, 6, 5, 4, 3, 2, 1]))[:, None].repeat(3, 1)
    values[:, 2] = np.sort(np.arange(36) % 5)  # a third type with a free distribution of its own
    types = np.array([[0, 1, 2, 0, 0], [2, 2, 1, 1, 0]])
    x = parametric.simulate_participants(a, lat, values, types, np.random.default_rng(4))
    assert x.shape == (2, 36, 5)
    for b in range(2):
        for j in range(5):
            np.testing.assert_array_equal(np.sort(x[b, :, j]), values[:, types[b, j]])
    again = parametric.simulate_participants(a, lat, values, types, np.random.default_rng(4))
    np.testing.assert_array_equal(x, again)
    many = parametric.simulate_participants(a, lat, values, np.zeros((1, 400), int), np.random.default_rng(5))[0]
    r = np.corrcoef(many.T, lat.T)[:400, 400:]
    assert 0.8 < r[:, 0].mean() < 0.92 and abs(r[:, 1].mean()) < 0.05


def test_world_of_a_planted_study_reproduces_its_factors():
    rng = np.random.default_rng(6)
    a = planted_loadings([8, 8, 8], strength=0.75, rng=rng)
    x = simulate_sorts(a, latent_scores(36, 3, rng=rng), NAV, rng)
    full = analyze(QStudy.from_array(x, grid=NAV), 3)
    w = parametric.build_world(full, np.random.default_rng(1), 1200)
    assert (w.congruence > 0.95).all()
    for j in range(3):
        assert np.corrcoef(w.zscores[:, j], full.zscores[:, j])[0, 1] > 0.95
    assert w.loadings.shape == (24, 3) and ((w.loadings ** 2).sum(axis=1) <= parametric.MAX_COMMUNALITY + 1e-12).all()
    np.testing.assert_allclose(np.corrcoef(w.latent.T), np.eye(3), atol=1e-10)  # orthogonalised
    job = parametric.ParametricJob(w, 3, full.options, full.study.qscores)
    out = parametric.run_parametric_chunk((job, 12, np.random.SeedSequence(3)))
    assert out["types"].shape == (12, 24) and out["zscores"].shape == (12, 36, 3)
    ok = ~out["failed"]
    assert out["type_count"].sum() == ok.sum() * 24
    np.testing.assert_array_equal(out["type_count"], np.bincount(out["types"][ok].ravel(), minlength=24))
    assert (np.nanmin(out["congruence"][ok], axis=0) > 0.8).all()
    assert out["flag_count"].sum() == out["n_flagged"][ok].sum()


# ---------------------------------------------------------------------- calibration study (mechanics)
def test_population_draws_participants_in_their_bands():
    pop = Population("t", "SMW", n_sorts=25)
    a = pop.participants(6000, np.random.default_rng(1))
    null = (np.abs(a) <= 0.25).all(axis=1)
    assert 0.08 < null.mean() < 0.12 + 0.02  # null participants, plus a few whose draw happens to be small
    own = np.abs(a[~null]).argmax(axis=1)
    for j, s in enumerate("SMW"):
        v = np.abs(a[~null][own == j, j])
        lo, hi = BANDS[s]
        assert v.min() >= lo - 1e-12 and v.max() <= hi and abs(v.mean() - (lo + hi) / 2) < 0.01
    np.testing.assert_allclose(np.corrcoef(pop.latent().T), np.eye(3), atol=1e-10)
    assert abs(np.corrcoef(Population("r", "SS", correlation=0.4).latent().T)[0, 1] - 0.4) < 1e-10


def test_population_truth_labels_its_factors_by_viewpoint():
    pop = Population("t", "SM", grid="flat")
    t = population_truth(pop, "pca", n_sorts=1500, repeats=2)
    assert sorted(t.strengths) == ["M", "S"] and t.zscores.shape == (36, 2) and t.mc_error < 0.06
    np.testing.assert_allclose(t.zscores.std(axis=0, ddof=1), 1.0)


def test_run_study_records_and_tables():
    res = run_study((Population("t", "SM", grid="flat"),), n_samples=3, n_resamples=30, analyses=("pca",),
                    truth_sorts=1000)
    assert len(res.records) == 3 * 2 + 3 * 3  # k = 2 and k = 3 factors per sample
    spur = [r for r in res.records if r["strength"] == "X"]
    assert len(spur) == 3 and all(r["k"] == 3 and np.isnan(r["congruence"]) and "ztrue" not in r for r in spur)
    real = [r for r in res.records if r["strength"] != "X"]
    assert all(0 <= r["congruence"] <= 1 and r["zcover"].shape == (36,) for r in real)
    cov = res.coverage(25)
    assert {r["strength"] for r in cov} == {"strong", "medium"} and all(0 <= r["coverage"] <= 1 for r in cov)
    assert all(r["cells"] % 3 == 0 for r in cov)  # every cell of each of the 3 samples
    for st, name in (("S", "strong"), ("M", "medium")):  # coverage and cells by hand, pooled over bands
        recs = [r for r in real if r["strength"] == st and r["k"] == 2]
        rows = [r for r in cov if r["strength"] == name]
        assert sum(r["cells"] for r in rows) == 36 * len(recs)
        assert sum(r["coverage"] * r["cells"] for r in rows) == pytest.approx(sum(r["zcover"].sum() for r in recs))
        assert sum(r["percentile (old)"] * r["cells"] for r in rows) == pytest.approx(
            sum(r["zcover_resample"].sum() for r in recs))
        lrows = [r for r in res.loadings(25) if r["strength"] == name]
        assert sum(r["sorts"] for r in lrows) == 25 * len(recs)
        assert sum(r["coverage"] * r["sorts"] for r in lrows) == pytest.approx(sum(r["lcover"].sum() for r in recs))
    assert res.coverage(15) == [] and res.loadings(15) == []  # no population of 15 sorts here
    w = res.word_targets()[0]
    assert w["non-existent (factor-samples)"] == 3
    assert sum(r["factor-samples"] for r in res.deciles(0.85)) == len(res.records)
    assert len(res.targets()) == 2 * len(cov) + 2 + 2
    md = res.to_markdown()
    assert "### targets" in md and "| analysis | strength |" in md


def test_fit_verdict_recovers_known_curves():
    """Records whose outcomes follow known logistic curves exactly (at each design point the share of recovered
    factors is the curve's probability, to 1/1000) give those curves back."""
    from qvalid.stability.calibration import CalibrationResult

    true = {0.85: (1.5, 2.0, 1.0, -0.5), 0.95: (0.0, 1.5, 0.5, -1.0)}
    recs = []
    for s in (0.1, 0.3, 0.5, 0.7, 0.9):
        for n in (15, 25, 60):
            for an in ("pca", "centroid"):
                p = {}
                for level, b in true.items():
                    eta = b[0] + b[1] * math.log(s / (1 - s)) + b[2] * math.log(n / 25) + b[3] * (an == "pca")
                    p[level] = 1 / (1 + math.exp(-eta))
                # 1000 factors: round(1000 p95) at congruence 0.97, round(1000 p85) at >= 0.85 in all (p95 < p85
                # at every design point here)
                n95, n85 = round(1000 * p[0.95]), round(1000 * p[0.85])
                assert n95 <= n85
                for i in range(1000):
                    c = 0.97 if i < n95 else 0.9 if i < n85 else 0.5
                    recs.append({"share_085": s, "share_095": s, "n_sorts": n, "analysis": an, "congruence": c})
    fit = CalibrationResult(recs, {}).fit_verdict()
    np.testing.assert_allclose(fit[0.85], true[0.85], atol=0.02)
    np.testing.assert_allclose(fit[0.95], true[0.95], atol=0.02)


# ---------------------------------------------------------------------- summaries of the parametric bootstrap
@pytest.fixture(scope="module")
def lip_boot():
    from qvalid import bootstrap

    return bootstrap(load_lipset(), 3, 60, seed=4)


def test_array_stability_columns_by_hand(lip_boot):
    b = lip_boot
    arr, true = b.parametric["arrays"], b.world.factor_arrays
    ok = ~np.isnan(arr[:, 0, 1])
    d = np.abs(arr[ok, 0, 1] - true[0, 1])
    z = b.zscores.loc[(b.full.statement_ids[0], "f2")]
    assert z.keep_exact == pytest.approx((d == 0).mean()) and z.keep_within1 == pytest.approx((d <= 1).mean())
    assert z.move2 == pytest.approx((d >= 2).mean())
    r = [np.corrcoef(a, true[:, 2])[0, 1] for a in arr[:, :, 2] if not np.isnan(a).any()]
    assert b.factors.loc["f3", "array_r"] == pytest.approx(np.mean(r))
    dist = b.parametric["distinguishing"][:, 5, 0]
    assert b.zscores.loc[(b.full.statement_ids[5], "f1")].distinguishing_freq == pytest.approx(np.nanmean(dist))
    est, se, lo, hi, defined = intervals.zscore_belt(b.full.zscores, b.parametric["zscores"], b.world.zscores)
    z = b.wide("zscores", "ci_low").to_numpy()
    np.testing.assert_allclose(z, lo)
    np.testing.assert_array_equal(b.wide("zscores", "n").to_numpy(), np.broadcast_to(defined, z.shape))
    assert b.factors.n_no_flags_parametric.tolist() == (b.parametric["n_flagged"] == 0).sum(axis=0).tolist()


def test_headline_counts_the_words(lip_boot):
    b = lip_boot
    words = list(b.factors.verdict)
    head = b.headline()
    assert head.startswith("3 factor(s): ")
    for w in ("stable", "fairly stable", "unstable"):
        n = words.count(w)
        assert (f"{n} {w}" in head) == (n > 0)
    t = b.summary()
    assert f"Verdict: {head}" in t and all(f"{f}: {v}" in t for f, v in zip(b.factor_names, b.factors.verdict_text))
    d = b.to_dict(replicates=False)
    assert d["replicates"] is None and d["bootstrap"]["parametric"] is True and d["bootstrap"]["calibrated_verdict"]
    assert d["parametric"]["total"] == 60 and len(d["parametric"]["world_congruence"]) == 3
    assert all(0.9 < c <= 1 for c in d["parametric"]["world_congruence"])


def test_intervals_are_reflected_with_the_factor():
    lo, hi = np.array([-0.2, 1.0]), np.array([0.5, 1.8])
    assert [x.tolist() for x in oriented(lo, hi, 1.0)] == [[-0.2, 1.0], [0.5, 1.8]]
    assert [x.tolist() for x in oriented(lo, hi, -1.0)] == [[-0.5, -1.8], [0.2, -1.0]]


def test_shares_count_every_replicate_and_the_thresholds_themselves(lip_boot):
    """A congruence of exactly 0.85 / 0.95 reaches the threshold (>=); a failed replicate counts in the
    denominator, qindtest's rejected ones do not."""
    from dataclasses import replace

    raw = dict(lip_boot.raw)
    raw["status"] = np.array(["ok", "aligned", "failed", "rejected", "ok"], dtype=object)
    raw["congruence"] = np.array([[0.95, 0.85, 0.5], [0.9499, 0.8499, 0.96], [np.nan] * 3, [1, 1, 1],
                                  [0.99, 0.86, 0.84]])
    b = replace(lip_boot, raw=raw)
    s85, s95 = b.shares
    np.testing.assert_allclose(s85, [3 / 4, 2 / 4, 1 / 4])
    np.testing.assert_allclose(s95, [2 / 4, 0, 1 / 4])


def test_markdown_holds_every_table():
    res = run_study((Population("t", "SM", grid="flat"),), n_samples=2, n_resamples=20, analyses=("pca",),
                    truth_sorts=800)
    md = res.to_markdown()
    for rows in (res.coverage(25), res.loadings(25), res.verdicts(), res.word_targets(), res.deciles(0.85),
                 res.deciles(0.95), res.arrays(25), res.targets()):
        for r in rows:
            first = next(iter(r.values()))
            assert f"| {first:.3f} |" in md if isinstance(first, float) else f"| {first} |" in md
        assert "| " + " | ".join(rows[0]) + " |" in md
    assert md.startswith("2 samples per population, analysis and k; 20 resamples")


def test_the_shipped_curve_is_the_calibration_studys():
    """The coefficients fitted on the calibration study (docs/calibration.md, section 5), and what they give by
    hand at a share of one half, 25 sorts, centroid: logistic(b0)."""
    assert verdict.COEFFICIENTS == {0.85: (1.5309, 2.9309, 1.5328, -1.1285), 0.95: (2.4417, 2.1763, 0.8270, -0.6903)}
    assert verdict.recovery_probability(0.5, 0.85, 25, "centroid") == pytest.approx(1 / (1 + math.exp(-1.5309)))
    assert verdict.recovery_probability(0.5, 0.95, 60, "pca") == pytest.approx(
        1 / (1 + math.exp(-(2.4417 + 0.8270 * math.log(60 / 25) - 0.6903))))
    assert (verdict.STABLE_P95, verdict.FAIR_P85, verdict.CALIBRATED_SORTS) == (0.8, 0.7, (15, 60))


def test_verdict_table_counts_recovery_at_the_threshold():
    """A factor recovered at exactly 0.85 / 0.95 counts as recovered."""
    from qvalid.stability.calibration import CalibrationResult

    recs = [{"analysis": "pca", "n_sorts": 25, "strength": "S", "congruence": c, "share_085": 0.9, "share_095": 0.6}
            for c in (0.85, 0.95, 0.84, 0.97)]
    recs.append({"analysis": "pca", "n_sorts": 25, "strength": "X", "congruence": np.nan, "share_085": 0.1,
                 "share_095": 0.0})
    rows = CalibrationResult(recs, {}).verdicts()
    strong = next(r for r in rows if r["strength"] == "strong")
    assert strong["recovered >= .85"] == 0.75 and strong["recovered >= .95"] == 0.5 and strong["factors"] == 4
    spur = next(r for r in rows if r["strength"] == "does not exist")
    assert spur["recovered >= .85"] == 0.0 and spur["unstable"] == 1.0
    dec = CalibrationResult(recs, {}).deciles(0.85)
    assert sum(r["factor-samples"] for r in dec) == 5
    assert sum(r["observed"] * r["factor-samples"] for r in dec) == 3  # 0.85, 0.95, 0.97


def test_manual_flags_follow_the_participant_types():
    """With manual flags, the world's truth and every simulated participant carry the flags of their Q-sort: a
    factor flagged on one sort only is defined by participants of that type alone."""
    s = load_lipset()
    auto = analyze(s, 3)
    flags = np.zeros((9, 3), dtype=bool)
    flags[np.abs(auto.loadings).argmax(axis=0), [0, 1, 2]] = True  # one defining sort per factor
    manual = analyze(s, 3, flags=flags)
    w = parametric.build_world(manual, np.random.default_rng(2), 900)
    wa = parametric.build_world(auto, np.random.default_rng(2), 900)
    job = parametric.ParametricJob(w, 3, manual.options, s.qscores, manual_flags=flags)
    out = parametric.run_parametric_chunk((job, 20, np.random.SeedSequence(1)))
    np.testing.assert_array_equal(out["n_flagged"], flags[out["types"]].sum(axis=1))
    np.testing.assert_array_equal(out["flag_count"], flags * out["type_count"][:, None])
    # the world's own analysis used the manual flags: one type per factor, 100 copies each
    assert sorted(w.defining.tolist()) == [100, 100, 100]
    assert sorted(wa.defining.tolist()) != [100, 100, 100] and wa.defining.sum() > 300


def test_judgmental_steps_have_no_calibrated_verdict():
    from qvalid import bootstrap
    from qvalid.core.judgmental import PairStep

    b = bootstrap(load_lipset(), 3, 20, seed=2, then=[PairStep(0, 1, 25.0)], align="procrustes")
    assert b.judgmental and not b.calibrated and b.parametric is None
    assert list(b.factors.verdict) == ["n/a"] * 3 and "judgmental rotation steps" in b.factors.verdict_text.iloc[0]
    assert "judgmental rotation steps" in b.notes[-1] and b.headline() == "no calibrated verdict (judgmental " \
        "rotation steps)"
