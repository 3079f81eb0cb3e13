"""Factor weights, factor z-scores and factor arrays (qmethod ``R/qzscores.R``).

All functions take a leading batch dimension: scores (..., n_statements, n_sorts), loadings and flags
(..., n_sorts, k), z-scores (..., n_statements, k).
"""

from __future__ import annotations

import numpy as np

from .correlation import average_ranks

__all__ = ["weights", "zscores", "factor_arrays"]


def weights(loadings, flags) -> np.ndarray:
    """Brown/Spearman weights w = a / (1 - a^2) of flagged sorts, 0 elsewhere (R/qzscores.R:10-12).

    The sign is kept (a negatively flagged sort enters reversed). No scaling to a maximum of 1 or 10: it would
    cancel in the standardisation. ``|a| = 1`` gives an infinite weight; :func:`zscores` handles that limit.
    """
    fa = np.where(np.asarray(flags, dtype=bool), np.asarray(loadings, dtype=np.float64), 0.0)
    with np.errstate(divide="ignore"):
        return fa / (1.0 - fa * fa)


def zscores(scores, w) -> np.ndarray:
    """Factor z-scores: z = (S - mean(S)) / sd(S), S = X w, with the sample SD (n - 1) as R's ``sd``.

    Sums are numpy's double ones; R sums in long double (``rowSums``), so z-scores agree to ~1e-15. Statements with
    identical rows tie exactly on both sides; sums that are only mathematically equal (different products) can
    split a tie in one tool and not the other (README of reference/golden, known disagreement 4).

    X holds the raw grid values (not standardised per sort), R/qzscores.R:17-47. A factor whose weights are all
    zero (no flagged sort) gets a NaN column, where qmethod leaves NA. Where a factor has infinite weights
    (flagged loadings of exactly +-1) the limit of the formula is used: only those sorts count, with the signs of
    their loadings (qmethod returns NaN there).
    """
    x = np.asarray(scores, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    inf = np.isinf(w)
    if inf.any():
        lim = inf.any(axis=-2, keepdims=True)
        w = np.where(lim, np.where(inf, np.sign(w), 0.0), w)
    s = x @ w
    dev = s - s.mean(axis=-2, keepdims=True)
    sd = np.sqrt((dev * dev).sum(axis=-2, keepdims=True) / (s.shape[-2] - 1))
    with np.errstate(invalid="ignore", divide="ignore"):
        z = dev / sd
    empty = ~(w != 0).any(axis=-2, keepdims=True)
    return np.where(empty, np.nan, z)


def factor_arrays(z, qscores, *, ties: str = "qmethod") -> np.ndarray:
    """Round z-scores into the grid: the factor arrays (qmethod ``zsc_n``).

    Statements are ranked by z (ascending) and receive the ascending grid values ``qscores``.

    ``ties="qmethod"`` (R/qzscores.R:50-78): ranks are R's average ranks and a statement gets
    ``qscores[floor(rank)]`` (1-based), so every member of a tie group gets the value at the floor of the group's
    mean rank. This can break the forced distribution (qmethod issue #196): a 2-way tie at ranks 10-11 puts both
    statements in the bin of rank 10.

    ``ties="strict"``: always exactly the grid. Ties are broken deterministically as KADE/PQMethod do
    (KADE ``3_assignFactorScores.js:17``): among equal z-scores the statement listed later gets the lower value.

    Parameters
    ----------
    z : array-like of shape (..., n_statements, k)
    qscores : array-like of shape (n_statements,)
        The grid expanded and sorted ascending (:attr:`QStudy.qscores`).

    Returns
    -------
    ndarray of float, shape (..., n_statements, k); NaN where z is NaN (factors without flags).
    """
    z = np.asarray(z, dtype=np.float64)
    q = np.sort(np.asarray(qscores, dtype=np.float64))
    n = z.shape[-2]
    if ties == "qmethod":
        if z.ndim == 2:  # one study: mean rank of a tie group = (first + last position) / 2, by binary search
            zs = np.sort(z, axis=0)
            first = np.column_stack([np.searchsorted(zs[:, j], z[:, j], "left") for j in range(z.shape[1])])
            last = np.column_stack([np.searchsorted(zs[:, j], z[:, j], "right") for j in range(z.shape[1])])
            idx = (first + last - 1) // 2  # floor of the 1-based mean rank, made 0-based
        else:
            idx = np.floor(average_ranks(z, axis=-2)).astype(np.int64) - 1
        out = q[np.clip(idx, 0, n - 1)]
    elif ties == "strict":
        order = _strict_order(z)
        out = np.empty_like(z)
        np.put_along_axis(out, order, np.broadcast_to(q[:, None], z.shape), axis=-2)
    else:
        raise ValueError(f"unknown tie rule {ties!r}; choose qmethod or strict")
    return np.where(np.isnan(z), np.nan, out)


def _strict_order(z: np.ndarray) -> np.ndarray:
    """Statement indices in the order they receive the ascending grid values: by z, ties later-listed first."""
    n = z.shape[-2]
    flipped = np.flip(z, axis=-2)  # later statements first; a stable sort keeps that order within ties
    return (n - 1) - np.argsort(flipped, axis=-2, kind="stable")
