"""Correlation between Q-sorts (columns): Pearson, Spearman, Kendall tau-b.

Mirrors R's ``cor(dataset, method=cor.method)`` as called in qmethod ``R/qmethod.R:30``. Every function takes
scores of shape (..., n_statements, n_sorts) and returns (..., n_sorts, n_sorts): the leading batch dimension
lets the bootstrap correlate thousands of resamples in one call.
"""

from __future__ import annotations

import numpy as np

from .rounding import kround

__all__ = ["correlate", "unit_columns", "average_ranks"]


def correlate(scores, *, method: str = "pearson", digits: int | None = None) -> np.ndarray:
    """Correlation matrix between Q-sorts.

    Parameters
    ----------
    scores : array-like of shape (..., n_statements, n_sorts)
    method : {"pearson", "spearman", "kendall"}
        Pearson's r; Spearman's rho = Pearson's r of average ranks (R ``cor(method="spearman")``); Kendall's
        tau-b (R ``cor(method="kendall")``), tau_b = sum_{i<j} sgn(dx) sgn(dy) / sqrt(n_x n_y) where n_x counts
        the statement pairs not tied in x.

    digits : int, optional
        Round to this many decimals, as KADE/PQMethod (5), with KADE's rounding (:func:`qvalid.rounding.kround`);
        Pearson's r is then computed from raw sums as KADE does (``getPqmethodCorrelation.js:10-50``:
        (sum xy - sum x sum y / n) / sqrt((sum x^2 - (sum x)^2 / n)(sum y^2 - (sum y)^2 / n))), so that ties at
        the rounding boundary fall as in KADE.

    Returns
    -------
    ndarray of shape (..., n_sorts, n_sorts)

    Notes
    -----
    Verified against: R 4.2.2 ``cor`` on lipset for all three methods (reference/golden, tolerance 1e-10).
    """
    x = np.asarray(scores, dtype=np.float64)
    if digits is not None:
        r = _pearson_raw_sums(x) if method == "pearson" else correlate(x, method=method)
        return kround(r, digits)
    if method == "pearson":
        return _pearson(x)
    if method == "spearman":
        return _pearson(average_ranks(x, axis=-2))
    if method == "kendall":
        return _kendall_tau_b(x)
    raise ValueError(f"unknown correlation method {method!r}; choose pearson, spearman or kendall")


def unit_columns(scores, *, method: str = "pearson") -> np.ndarray | None:
    """Z with ``correlate(scores, method) == Z'Z`` up to rounding: centred columns (of the average ranks for
    Spearman) scaled to unit length; None for Kendall, whose tau-b is no such product."""
    x = np.asarray(scores, dtype=np.float64)
    if method == "kendall":
        return None
    xc = x - x.mean(axis=-2, keepdims=True) if method == "pearson" else average_ranks(x, axis=-2)
    if method != "pearson":
        xc = xc - xc.mean(axis=-2, keepdims=True)
    xc /= np.sqrt((xc * xc).sum(axis=-2, keepdims=True))
    return xc


def _pearson(x: np.ndarray) -> np.ndarray:
    """r = Z' Z with Z the centred columns scaled to unit length; clipped to [-1, 1], diagonal exactly 1 (as R)."""
    xc = unit_columns(x)  # unit columns: r is one matrix product
    r = np.swapaxes(xc, -1, -2) @ xc
    np.clip(r, -1.0, 1.0, out=r)
    idx = np.arange(r.shape[-1])
    r[..., idx, idx] = 1.0
    return r


def _pearson_raw_sums(x: np.ndarray) -> np.ndarray:
    """KADE's Pearson r from raw sums (integer scores make every sum exact); 0 where a sort has no variance."""
    n = x.shape[-2]
    s1 = x.sum(axis=-2)
    ss = (x * x).sum(axis=-2)
    num = np.swapaxes(x, -1, -2) @ x - s1[..., :, None] * s1[..., None, :] / n
    dev = ss - s1 * s1 / n
    den = np.sqrt(dev[..., :, None] * dev[..., None, :])
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den == 0, 0.0, num / den)


def _kendall_tau_b(x: np.ndarray) -> np.ndarray:
    """tau-b from the sign matrix of all statement pairs: S' S / sqrt(n_x n_y) (vectorised over sorts)."""
    n = x.shape[-2]
    i, j = np.triu_indices(n, k=1)
    s = np.sign(x[..., j, :] - x[..., i, :])  # (..., n_pairs, n_sorts)
    num = np.swapaxes(s, -1, -2) @ s
    untied = np.diagonal(num, axis1=-2, axis2=-1)  # s*s is 1 for untied pairs, 0 for ties
    r = num / np.sqrt(untied[..., :, None] * untied[..., None, :])
    idx = np.arange(r.shape[-1])
    r[..., idx, idx] = 1.0
    return r


def average_ranks(x, *, axis: int = -2) -> np.ndarray:
    """Ranks 1..n along ``axis`` with ties given their mean rank (R ``rank(ties.method="average")``).

    Ties are exact float equality, as in R. Vectorised over all other axes.
    """
    x = np.moveaxis(np.asarray(x, dtype=np.float64), axis, -1)
    n = x.shape[-1]
    order = np.argsort(x, axis=-1, kind="stable")
    xs = np.take_along_axis(x, order, axis=-1)
    pos = np.broadcast_to(np.arange(n), xs.shape)
    starts = np.ones(xs.shape, dtype=bool)
    starts[..., 1:] = xs[..., 1:] != xs[..., :-1]
    ends = np.ones(xs.shape, dtype=bool)
    ends[..., :-1] = starts[..., 1:]
    first = np.maximum.accumulate(np.where(starts, pos, 0), axis=-1)
    last = np.flip(np.minimum.accumulate(np.flip(np.where(ends, pos, n - 1), -1), axis=-1), -1)
    ranks = np.empty_like(xs)
    np.put_along_axis(ranks, order, (first + last) / 2.0 + 1.0, axis=-1)
    return np.moveaxis(ranks, -1, axis)
