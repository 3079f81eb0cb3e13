"""Correlation between Q-sorts (columns): Pearson, Spearman, Kendall tau-b.

Mirrors R's ``cor(dataset, method=cor.method)`` as called in qmethod ``R/qmethod.R:30``. Every function takes
scores of shape (..., n_statements, n_sorts) and returns (..., n_sorts, n_sorts): the leading batch dimension
lets the bootstrap correlate thousands of resamples in one call.

``exact=True`` gives R's ``cor()`` to the last bit (R 4.2.2 src/library/stats/src/cov.c, ``cov_na_1``, the
``use = "everything"`` path qmethod takes): qmethod's centroid takes exact decisions (``==``, ``> 0``) on sums of
correlations, and Q-sort scores are small integers, so exact ties are common and their last bit matters.
"""

from __future__ import annotations

import numpy as np

from . import kernels
from .rounding import kround
from .rsum import LD, seqsum

__all__ = ["correlate", "unit_columns", "average_ranks"]


def correlate(scores, *, method: str = "pearson", digits: int | None = None, exact: bool = False) -> np.ndarray:
    """Correlation matrix between Q-sorts.

    Parameters
    ----------
    scores : array-like of shape (..., n_statements, n_sorts)
    method : {"pearson", "spearman", "kendall"}
        Pearson's r; Spearman's rho = Pearson's r of average ranks (R ``cor(method="spearman")``); Kendall's
        tau-b (R ``cor(method="kendall")``), tau_b = sum_{i<j} sgn(dx) sgn(dy) / sqrt(n_x n_y) where n_x counts
        the statement pairs not tied in x.

    digits : int, optional
        Round to this many decimals, as KADE/PQMethod (5), with KADE's rounding (:func:`qvalid.core.rounding.kround`);
        Pearson's r is then computed from raw sums as KADE does (``getPqmethodCorrelation.js:10-50``:
        (sum xy - sum x sum y / n) / sqrt((sum x^2 - (sum x)^2 / n)(sum y^2 - (sum y)^2 / n))), so that ties at
        the rounding boundary fall as in KADE.
    exact : bool
        Pearson and Spearman: R's ``cor()`` to the last bit (long double arithmetic as R's cov.c, see
        :func:`_pearson_exact`), about 2x (lipset) to 8x (large studies) slower than the default, which differs
        from R by up to ~3e-16. Kendall is always R's to the last bit: R's sums of sign products are integers,
        exact in any precision, and qvalid divides them in R's order, so ``exact`` changes nothing there.

    Returns
    -------
    ndarray of shape (..., n_sorts, n_sorts)

    Notes
    -----
    Verified against: R 4.2.2 ``cor`` on lipset for all three methods (reference/golden, tolerance 1e-10);
    ``exact=True`` and Kendall: bit for bit against live R on studies with exact ties (tests/test_crosscheck.py).
    """
    x = np.asarray(scores, dtype=np.float64)
    if digits is not None:
        r = _pearson_raw_sums(x) if method == "pearson" else correlate(x, method=method)
        return kround(r, digits)
    pearson = _pearson_exact if exact else _pearson
    if method == "pearson":
        return pearson(x)
    if method == "spearman":
        return pearson(average_ranks(x, axis=-2))
    if method == "kendall":
        return _kendall_tau_b(x)
    raise ValueError(f"unknown correlation method {method!r}; choose pearson, spearman or kendall")


def unit_columns(scores, *, method: str = "pearson") -> np.ndarray | None:
    """Z with ``correlate(scores, method) == Z'Z`` up to rounding: centred columns (of the average ranks for
    Spearman) scaled to unit length; None for Kendall, whose tau-b is no such product."""
    if method == "pearson":
        fast = kernels.unit_columns(scores)  # one study, compiled (the same bits)
        if fast is not None:
            return fast
    x = np.asarray(scores, dtype=np.float64)
    if method == "kendall":
        return None
    xc = x - x.mean(axis=-2, keepdims=True) if method == "pearson" else average_ranks(x, axis=-2)
    if method != "pearson":
        xc = xc - xc.mean(axis=-2, keepdims=True)
    xc /= np.sqrt((xc * xc).sum(axis=-2, keepdims=True))
    return xc


def _pearson(x: np.ndarray) -> np.ndarray:
    """r = Z' Z with Z the centred columns scaled to unit length; clipped to [-1, 1], diagonal exactly 1 (as R).

    One study: compiled (:func:`qvalid.core.kernels.pearson`, the same bits)."""
    r = kernels.pearson(x)
    if r is not None:
        return r
    xc = unit_columns(x)  # unit columns: r is one matrix product
    return _clamp_unit_diagonal(np.swapaxes(xc, -1, -2) @ xc)


def _pearson_exact(x: np.ndarray) -> np.ndarray:
    """R's ``cor(x)``, bit for bit: R 4.2.2 src/library/stats/src/cov.c, ``MEAN_`` and ``cov_na_1``.

    1. mean m_i: long double sequential sum / n, plus the correction pass sum_k (x_ki - mean) / n, rounded to
       double (``MEAN_``);
    2. c_ij = sum_k (x_ki - m_i)(x_kj - m_j): differences, products and the sequential sum in long double (R's
       ``LDOUBLE``; numpy's ``longdouble`` matmul has no BLAS and adds term after term), divided by n - 1 in long
       double, rounded to double;
    3. r_ij = c_ij / (sqrt(c_ii) sqrt(c_jj)) in double, clamped to [-1, 1]; diagonal exactly 1.

    numpy's ``longdouble`` is x87 80-bit extended on x86-64 Linux, as R's ``LDOUBLE``; where it is plain double
    the result is still correct to rounding but not bit-identical to R.

    One study: compiled (:func:`qvalid.core.kernels.pearson_exact`, the same bits; when the centred scores are small
    multiples of a power of 2, as on a symmetric forced grid, every product and sum is exact and it runs in doubles).
    """
    r = kernels.pearson_exact(x)
    if r is not None:
        return r
    n = x.shape[-2]
    xl = np.asarray(x, dtype=LD)
    tmp = seqsum(xl, axis=-2) / n
    mean = (tmp + seqsum(xl - tmp[..., None, :], axis=-2) / n).astype(np.float64)
    xc = xl - mean[..., None, :]
    cov = ((np.swapaxes(xc, -1, -2) @ xc) / (n - 1)).astype(np.float64)
    sd = np.sqrt(np.diagonal(cov, axis1=-2, axis2=-1))
    return _clamp_unit_diagonal(cov / (sd[..., :, None] * sd[..., None, :]))


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
    """tau-b from the sign matrix of all statement pairs, in R's order of operations (cov.c ``cov_na_1``).

    R sums sgn(dx) sgn(dy) over all ordered pairs (twice S' S, S the signs of the unordered pairs, exact: small
    integers), then divides by sqrt(c_xx) * sqrt(c_yy), the square roots taken separately. Vectorised over sorts.
    """
    n = x.shape[-2]
    i, j = np.triu_indices(n, k=1)
    s = np.sign(x[..., j, :] - x[..., i, :])  # (..., n_pairs, n_sorts)
    num = 2.0 * (np.swapaxes(s, -1, -2) @ s)  # integers: exact in double
    sd = np.sqrt(np.diagonal(num, axis1=-2, axis2=-1))  # s*s is 1 for untied pairs, 0 for ties
    return _clamp_unit_diagonal(num / (sd[..., :, None] * sd[..., None, :]))


def _clamp_unit_diagonal(r: np.ndarray) -> np.ndarray:
    """R's ``CLAMP`` to [-1, 1] and ``ANS(i,i) = 1.0``, in place."""
    np.clip(r, -1.0, 1.0, out=r)
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
