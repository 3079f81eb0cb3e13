"""Issue 18's targets on a CI-sized calibration study (qvalid.stability.calibration.SMALL: one population with a
strong, a medium and a weak viewpoint, 25 sorts, PCA; 40 samples, each bootstrapped with 100 resamples and 100
simulated samples, with its own k and with one factor too many). The full study is ``make calibrate``
(docs/calibration.md).

With 40 samples the measured rates have sampling error; a test fails when a target is missed by more than 2.5
standard errors of the measurement (computed from the samples: coverage per sample, binomial for the verdicts), so
it fails on a method that misses the target and not on the noise of a small study. The old method (percentile
intervals of the resampling) fails the coverage test in the |z| > 1.5 band: checked here too.
"""

from __future__ import annotations

import numpy as np
import pytest

from qvalid.stability.calibration import SMALL, TARGETS, Z_BANDS, run_study

K = 2.5  # standard errors of slack
N = 40  # samples


@pytest.fixture(scope="module")
def small():
    return run_study(SMALL, n_samples=N, n_resamples=100, analyses=("pca",))


def _band_coverage(res, strength: str, band: int, key: str = "zcover"):
    """Per sample: the share of the factor's statements in the band whose interval covers the truth."""
    lo, hi = Z_BANDS[band]
    per = [float(r[key][(np.abs(r["ztrue"]) >= lo) & (np.abs(r["ztrue"]) < hi)].mean())
           for r in res.records if r.get("strength") == strength and "ztrue" in r and r["k"] == r["k_true"]]
    per = np.array(per)
    cells = int(((np.abs(res.records[0]["ztrue"]) >= lo) & (np.abs(res.records[0]["ztrue"]) < hi)).sum()) or 1
    floor = np.sqrt(0.05 * 0.95 / (len(per) * cells))  # a band where every sample covers everything has SE > 0
    return per.mean(), max(per.std(ddof=1) / np.sqrt(len(per)), floor)


@pytest.mark.parametrize("strength", ["S", "M"])
@pytest.mark.parametrize("band", range(len(Z_BANDS)))
def test_z_intervals_cover_the_truth_in_every_band(small, strength, band):
    cov, se = _band_coverage(small, strength, band)
    lo, hi = TARGETS["coverage"]
    assert lo - K * se <= cov <= hi + K * se, (cov, se)


def test_the_old_percentile_intervals_miss_the_defining_statements(small):
    """The check above has the power to see the issue's failure: the resampling's percentile interval covers the
    |z| > 1.5 statements of the medium factor far less often than 93 %."""
    cov, se = _band_coverage(small, "M", 3, "zcover_resample")
    assert cov + K * se < TARGETS["coverage"][0], (cov, se)


def test_standard_errors_match_the_true_sampling_sd(small):
    """The true SD of a statement's z-score, from 40 samples, has a relative SE of 11 %; the cells of a factor share
    their samples, so the mean over a strength (16-18 statements x 4 bands) keeps about 7 % of it."""
    lo, hi = TARGETS["se_ratio"]
    rows = [r for r in small.coverage(25) if r["strength"] in ("strong", "medium")]
    assert len(rows) == 8
    for strength in ("strong", "medium"):
        ratio = np.average([r["SE / true SD"] for r in rows if r["strength"] == strength],
                           weights=[r["cells"] for r in rows if r["strength"] == strength])
        assert lo - K * 0.07 <= ratio <= hi + K * 0.07, (strength, ratio)


def test_loading_intervals_cover_the_true_loadings(small):
    """Where loadings matter (|true loading| >= 0.42, the flagging range) the intervals keep the target; below, they
    are wider than needed (0.97-1.00 in the full study)."""
    lo, hi = TARGETS["coverage"]
    for r in small.loadings(25):
        if r["strength"] in ("strong", "medium") and r["sorts"] >= 50:
            se = np.sqrt(0.05 * 0.95 / r["sorts"]) * 2  # clustered within samples: a design effect of about 4
            assert lo - K * se <= r["coverage"], r
            if r["|true loading|"] in ("0.42-0.6", "0.6-1.01"):
                assert r["coverage"] <= hi + K * se, r


def test_verdict_words(small):
    w = small.word_targets()[0]
    n = w["recovered >= .95 (factor-samples)"]
    p = TARGETS["real_unstable_max"]
    assert w["called unstable"] <= p + K * np.sqrt(p * (1 - p) / n), w
    n = w["non-existent (factor-samples)"]
    p = TARGETS["spurious_unstable_min"]
    assert n == N and w["non-existent called unstable"] >= p - K * np.sqrt(p * (1 - p) / n), w


@pytest.mark.parametrize("level", [0.85, 0.95])
def test_recovery_probability_is_calibrated(small, level):
    for r in small.deciles(level):
        n, p = r["factor-samples"], r["mean predicted"]
        if n >= 20:
            slack = TARGETS["decile_error_max"] + K * np.sqrt(max(p * (1 - p), 0.01) / n)
            assert abs(r["observed"] - p) <= slack, r


def test_arrays_stability_is_predicted(small):
    for r in small.arrays(25):
        assert abs(r["array r: predicted"] - r["true"]) < 0.06, r
        assert abs(r["same column: predicted"] - r["true "]) < 0.05, r
