"""Intervals from the parametric bootstrap's known truth (:mod:`qvalid.stability.parametric`).

z-scores: a Neyman confidence belt per factor. In the bootstrap world, the mean and the SD of a statement's
replicate z-score are smooth functions of its true z: the mean shrinks towards 0 (small samples average noise into
the factor), the SD is smaller near the ends of the grid. Per factor, :func:`zscore_belt` fits the mean
m(z) (a cubic) and the SD s(z) (a quadratic) over the statements against the world's true z-scores; the interval
of a statement is every true z whose central range m(z) +- q s(z) holds the study's z-score (Neyman 1937) and its
estimate the z with m(z) equal to the study's z-score. Its standard error is the SD of the statement's z-score over
the simulated samples (how much it would vary from sample to sample). This corrects
the shrinkage that pushed percentile intervals off the statements that define a viewpoint, and lets the width
follow the statement's true place rather than its noisy place in the sample.

Loadings: a pivot per participant. Every simulated participant of type i has a known true loading (its correlation
with the world's true factor scores); the replicate loading minus that truth, pooled over all participants of type
i, has mean d_i and SD s_i; the interval of Q-sort i's population loading is ``loading - d_i +- q s_i`` and its
standard error s_i.

Calibration (docs/calibration.md): at 25 sorts, coverage of the population z-score 0.93-0.98 in every |z| band for
strong and medium factors, SE 0.96-1.2x the true sampling SD.
"""

from __future__ import annotations

from statistics import NormalDist

import numpy as np

__all__ = ["zscore_belt", "loading_pivot", "MIN_DEFINED"]

#: Fewer replicates with a defined z-score than this (per factor): no interval.
MIN_DEFINED = 10
_GRID = np.linspace(-6.0, 6.0, 2401)


def zscore_belt(zhat, zrep, ztrue, level: float = 0.95):
    """The belt intervals (module docstring). ``zhat`` (n, k): the study's z-scores; ``zrep`` (B, n, k): the
    replicates' (NaN where a replicate's factor had no defining sort); ``ztrue`` (n, k): the world's truth.

    Returns ``estimate, se, low, high`` (n, k) and ``defined`` (k,): replicates in which the factor had a z-score;
    ``se`` is the SD of each statement's replicate z-scores (the fitted s at the estimate, the SD at the statement's
    estimated true place, was tried: no better calibrated, docs/calibration.md).
    NaN where the study's or the world's factor has no defining sort, or fewer than :data:`MIN_DEFINED`
    replicates define it. A study z-score beyond the belt's reach gives an open end (the grid's edge, +-6).
    """
    zhat = np.asarray(zhat, dtype=float)
    zrep = np.asarray(zrep, dtype=float)
    ztrue = np.asarray(ztrue, dtype=float)
    q = NormalDist().inv_cdf(0.5 + level / 2)
    n, k = zhat.shape
    est, se, lo, hi = (np.full((n, k), np.nan) for _ in range(4))
    defined = (~np.isnan(zrep).any(axis=1)).sum(axis=0)
    for f in range(k):  # a handful of factors; each fit is vectorised over statements and the grid of z
        rows = ~np.isnan(zrep[:, :, f]).any(axis=1)
        if rows.sum() < MIN_DEFINED or np.isnan(zhat[:, f]).any() or np.isnan(ztrue[:, f]).any():
            continue
        mean, sd = zrep[rows, :, f].mean(axis=0), zrep[rows, :, f].std(axis=0, ddof=1)
        m = np.polyval(np.polyfit(ztrue[:, f], mean, 3), _GRID)
        s = np.maximum(np.polyval(np.polyfit(ztrue[:, f], sd, 2), _GRID), 1e-3)
        inside = (m - q * s <= zhat[:, f, None]) & (zhat[:, f, None] <= m + q * s)  # (n, grid)
        any_in = inside.any(axis=1)
        first = np.argmax(inside, axis=1)
        last = len(_GRID) - 1 - np.argmax(inside[:, ::-1], axis=1)
        lo[:, f] = np.where(any_in, _GRID[first], np.nan)
        hi[:, f] = np.where(any_in, _GRID[last], np.nan)
        est[:, f] = _GRID[np.argmin(np.abs(m[None, :] - zhat[:, f, None]), axis=1)]
        se[:, f] = sd
    return est, se, lo, hi, defined


def loading_pivot(loadings, error_sum, error_sq, count, level: float = 0.95):
    """Pivot intervals of the population loadings (module docstring). ``loadings`` (n, k): the study's;
    ``error_sum``/``error_sq`` (n, k) and ``count`` (n,): sums over all simulated participants of each type of
    (replicate loading - true loading) and its square. Returns ``estimate, se, low, high`` (n, k); NaN for a type
    drawn fewer than 2 times."""
    q = NormalDist().inv_cdf(0.5 + level / 2)
    c = np.asarray(count, dtype=float)[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.asarray(error_sum) / c
        var = (np.asarray(error_sq) - c * mean * mean) / (c - 1)
    sd = np.sqrt(np.clip(var, 0, None))
    sd = np.where(c >= 2, sd, np.nan)
    est = np.asarray(loadings, dtype=float) - mean
    return est, sd, est - q * sd, est + q * sd
