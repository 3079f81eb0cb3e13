"""The stability verdict: the probability that another sample of participants recovers a factor, and its word.

A factor is *recovered* by a sample when the sample's factor has a Tucker congruence of at least 0.85 (Lorenzo-Seva &
ten Berge 2006: "fair similarity") or 0.95 ("equal") with the population's factor. The share of bootstrap
replicates (resamples of the Q-sorts) that reproduce the full-sample factor at those levels tracks the recovery
probability but is not one: a resample duplicates participants, and duplicated participants pull the factors apart
(docs/calibration.md), so the raw shares understate recovery (strong factors that recover in 95 % of samples reach
0.85 in 80-90 % of resamples). The calibration study (:mod:`qvalid.stability.calibration`, ``make calibrate``)
measured the relation on populations with known truth; :func:`recovery_probability` is the logistic curve fitted
there:

    logit P(recovered at c) = b0 + b1 logit(share_c) + b2 log(n_sorts / 25) + b3 [PCA]

with the share clipped to [1/400, 399/400]. Across the calibration study the predicted probabilities are within
0.02 (0.85) and 0.06 (0.95) of the observed rate in every decile bin when each configuration is predicted from a
curve fitted without it; for one population the observed rate can differ from the prediction by the band
:func:`probability_band` gives (0.4 p (1 - p) standard deviations across populations, plus the Monte-Carlo error).

Words (:func:`verdict_word`), tied to the probabilities:

- **stable**: P(congruence >= 0.95) >= 0.8: another sample would very likely find the same factor;
- **fairly stable**: P(congruence >= 0.85) >= 0.7, not stable: another sample would likely find a similar factor;
- **unstable**: P(congruence >= 0.85) < 0.7: another sample may well not find it.

Measured on the calibration study: a factor whose sample recovers it at >= 0.95 is called unstable in <= 1.5 % of
samples (n >= 25 sorts; 6-7 % at 15 sorts); a factor that does not exist (one factor too many) is called unstable in
95-99 % (n >= 25; 91-98 % at 15 sorts).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["COEFFICIENTS", "WORDS", "STABLE_P95", "FAIR_P85", "recovery_probability", "probability_band",
           "verdict_word", "verdict_text", "clip_share"]

#: Logistic coefficients (b0, b1 logit(share), b2 log(n/25), b3 PCA) per congruence level, fitted by the calibration
#: study (``python scripts/calibrate.py --fit-verdict``; 8 configurations x {k, k + 1} x {centroid, PCA}, 150
#: samples each, 200 resamples per sample).
COEFFICIENTS = {0.85: (1.5309, 2.9309, 1.5328, -1.1285), 0.95: (2.4417, 2.1763, 0.8270, -0.6903)}
#: The calibration study's range of sorts; outside it the curve is extrapolated (said in the verdict text).
CALIBRATED_SORTS = (15, 60)
STABLE_P95 = 0.8
FAIR_P85 = 0.7
WORDS = ("stable", "fairly stable", "unstable")
_CLIP = 1 / 400
_BAND_SD = 0.4  # SD across populations of the observed rate around the prediction: 0.4 p (1 - p)


def clip_share(share) -> np.ndarray:
    """Shares clipped to [1/400, 399/400] (the calibration study's resolution, so that the probability does not
    depend on the number of resamples at the extremes)."""
    return np.clip(np.asarray(share, dtype=float), _CLIP, 1 - _CLIP)


def recovery_probability(share, level: float, n_sorts: int, extraction: str) -> np.ndarray:
    """P(another sample's factor has congruence >= ``level`` with the population factor), from the share of
    resamples of the Q-sorts that reach ``level`` with the full-sample factor (the calibration curve)."""
    b0, b1, b2, b3 = COEFFICIENTS[level]
    s = clip_share(share)
    eta = b0 + b1 * np.log(s / (1 - s)) + b2 * math.log(n_sorts / 25) + b3 * (extraction == "pca")
    out = 1 / (1 + np.exp(-eta))
    return np.where(np.isnan(np.asarray(share, dtype=float)), np.nan, out)


def probability_band(p, share, level: float, n_resamples: int, z: float = 1.645) -> tuple[np.ndarray, np.ndarray]:
    """A 90 % band for the recovery probability ``p`` (:func:`recovery_probability` of ``share`` at ``level``):
    the spread of the observed rate around the calibration curve across the calibration study's populations
    (SD 0.4 p (1 - p)) plus the Monte-Carlo error of the share, binomial over ``n_resamples`` and propagated
    through the curve's slope (delta method: dp/ds = b1 p (1 - p) / (s (1 - s)), SD(s) = sqrt(s (1 - s) / n), so
    b1 p (1 - p) / sqrt(s (1 - s) n), the share clipped as the curve clips it)."""
    p = np.asarray(p, dtype=float)
    s = clip_share(share)
    b1 = COEFFICIENTS[level][1]
    mc = b1 * p * (1 - p) / np.sqrt(s * (1 - s) * max(int(n_resamples), 1))
    sd = _BAND_SD * p * (1 - p) + mc
    return np.clip(p - z * sd, 0, 1), np.clip(p + z * sd, 0, 1)


def verdict_word(p85, p95) -> str:
    """stable / fairly stable / unstable from the two recovery probabilities (module docstring); "unknown" when
    they are not defined."""
    if p85 != p85 or p95 != p95:
        return "unknown"
    if p95 >= STABLE_P95:
        return "stable"
    if p85 >= FAIR_P85:
        return "fairly stable"
    return "unstable"


def verdict_text(word: str, p85: float, p95: float, no_flags: float = 0.0, n_sorts: int | None = None,
                 rotation: str = "varimax") -> str:
    """One line in plain words: the word, what it means and the probabilities it rests on; it says when the study
    lies outside what the calibration covered (the number of sorts, a rotation other than varimax)."""
    if word == "unknown":
        return "unknown: the resamples could not be analysed"
    meaning = {"stable": "another sample would very likely find the same factor",
               "fairly stable": "another sample would likely find a similar factor",
               "unstable": "another sample may well not find this factor"}[word]
    out = (f"{word}: {meaning} (probability {p95:.0%} of congruence >= 0.95, {p85:.0%} of >= 0.85 with the "
           "population factor)")
    if no_flags > 0.05:
        out += f"; no defining sort in {no_flags:.0%} of resamples"
    if n_sorts is not None and not CALIBRATED_SORTS[0] <= n_sorts <= CALIBRATED_SORTS[1]:
        out += f"; calibrated for {CALIBRATED_SORTS[0]}-{CALIBRATED_SORTS[1]} sorts, this study has {n_sorts}"
    if rotation != "varimax":
        out += f"; calibrated for varimax, this analysis uses rotation={rotation}"
    return out
