"""Factor weights, factor z-scores and factor arrays (qmethod ``R/qzscores.R``).

All functions take a leading batch dimension: scores (..., n_statements, n_sorts), loadings and flags
(..., n_sorts, k), z-scores (..., n_statements, k).
"""

from __future__ import annotations

import numpy as np

from .correlation import average_ranks
from .rounding import kround, kround1
from .rsum import LD, colsums, seqsum

__all__ = ["weights", "zscores", "zscores_on_r_bits", "close_ties", "factor_arrays", "kade_table_order",
           "kade_zscores", "divide"]


def weights(loadings, flags) -> np.ndarray:
    """Brown/Spearman weights w = a / (1 - a^2) of flagged sorts, 0 elsewhere (R/qzscores.R:10-12).

    The sign is kept (a negatively flagged sort enters reversed). No scaling to a maximum of 1 or 10: it would
    cancel in the standardisation. ``|a| = 1`` gives an infinite weight; :func:`zscores` handles that limit.
    """
    fa = np.where(np.asarray(flags, dtype=bool), np.asarray(loadings, dtype=np.float64), 0.0)
    return divide(fa, 1.0 - fa * fa)


def divide(a, b) -> np.ndarray:
    """``a / b`` without numpy's warnings for 0 divisors (inf or NaN, as numpy gives them); the warnings are
    switched off only when some divisor is 0, since ``np.errstate`` costs more than the division on small arrays."""
    if b.all():  # NaN counts as nonzero: it propagates without a warning
        return a / b
    with np.errstate(invalid="ignore", divide="ignore"):
        return a / b


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
    n = s.shape[-2]
    dev = s - s.sum(axis=-2, keepdims=True) / n  # = s.mean(): numpy's mean is this sum and division
    sd = np.sqrt((dev * dev).sum(axis=-2, keepdims=True) / (n - 1))
    z = divide(dev, sd)
    used = (w != 0).any(axis=-2, keepdims=True)
    return z if used.all() else np.where(used, z, np.nan)


def _unit_limit(w: np.ndarray) -> np.ndarray:
    """Weights with the limit of :func:`zscores` applied where a factor has infinite weights."""
    inf = np.isinf(w)
    if inf.any():
        lim = inf.any(axis=-2, keepdims=True)
        w = np.where(lim, np.where(inf, np.sign(w), 0.0), w)
    return w


def _r_mean(x: np.ndarray) -> np.float64:
    """R's ``mean()`` of doubles (src/main/summary.c, ``real_mean``): a sequential long double sum / n, then the
    correction pass sum(x_i - mean) / n in long double, rounded to double."""
    n = x.shape[0]
    s = seqsum(x) / n
    return np.float64(s + seqsum(x.astype(LD) - s) / n)


def _r_sd(x: np.ndarray) -> np.float64:
    """R's ``sd()`` = sqrt(var()), var from src/library/stats/src/cov.c: the mean as :func:`_r_mean` stored as a
    double, then the sum of squared deviations in long double over n - 1, rounded to double; the root in double."""
    m = LD(_r_mean(x))
    d = x.astype(LD) - m
    return np.sqrt(np.float64(seqsum(d * d) / (x.shape[0] - 1)))


def zscores_on_r_bits(scores, w) -> np.ndarray:
    """Factor z-scores with R's arithmetic, bit for bit (qmethod R/qzscores.R in R 4.2): the weighted scores
    ``t(t(dataset) * w)`` as double products, ``rowSums`` as a sequential long double sum over the sorts
    (src/main/array.c), ``mean`` and ``sd`` as :func:`_r_mean` and :func:`_r_sd`, and ``(S - mean) / sd`` in double.

    :func:`zscores` (one BLAS product) agrees with it to ~1e-15; the difference matters only where two statements'
    weighted sums are mathematically equal: R sees them tie exactly (or not) on these bits and qmethod's tie rule
    gives the tie group one grid value, so the factor arrays follow R's bits (known disagreement 4 of
    reference/golden/README.md, closed). One study (statements x sorts); a flagless factor gets NaN, and infinite
    weights take the limit of :func:`zscores`.
    """
    x = np.asarray(scores, dtype=np.float64)
    w = _unit_limit(np.asarray(w, dtype=np.float64))
    z = np.full((x.shape[0], w.shape[1]), np.nan)
    for f in range(w.shape[1]):  # a loop over factors; R's sums are sequential over the sorts (long double)
        if not (w[:, f] != 0).any():
            continue
        s = colsums((x * w[None, :, f]).T)  # R's rowSums = colSums of the transposed products
        z[:, f] = (s - _r_mean(s)) / _r_sd(s)
    return z


def close_ties(z, scores=None, w=None, *, rel: float = 1e-9) -> bool:
    """Whether two z-scores of one factor (columns of ``z``, one study) are equal or within ``rel`` of each other
    (relative to the column's largest |z|): then the factor arrays' tie decisions depend on the last bits, and
    :func:`zscores_on_r_bits` must take them.

    With ``scores`` and ``w`` given, an exact tie of two statements whose scores agree on every sort with a
    nonzero weight is certain in any arithmetic (the same numbers summed in the same order) and does not count.
    """
    z = np.asarray(z, dtype=np.float64)
    for f in range(z.shape[1]):  # a loop over factors
        col = z[:, f]
        order = np.argsort(col, kind="stable")
        zs = col[order]
        scale = np.nanmax(np.abs(zs), initial=0.0)
        gap = np.diff(zs)
        with np.errstate(invalid="ignore"):
            near = np.flatnonzero(gap <= rel * scale)
        if near.size and scores is not None:
            used = np.asarray(w)[:, f] != 0
            x = np.asarray(scores)[:, used]
            same = (x[order[near]] == x[order[near + 1]]).all(axis=1)
            near = near[~(same & (gap[near] == 0))]
        if near.size:
            return True
    return False


def factor_arrays(z, qscores, *, ties: str = "mean-rank") -> np.ndarray:
    """Round z-scores into the grid: the factor arrays (qmethod ``zsc_n``).

    Statements are ranked by z (ascending) and receive the ascending grid values ``qscores``.

    ``ties="mean-rank"`` (R/qzscores.R:50-78): ranks are R's average ranks and a statement gets
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
    if ties == "mean-rank":
        if z.ndim == 2:  # one study: mean rank of a tie group = (first + last position) / 2, by binary search
            zs = np.sort(z, axis=0)
            idx = np.empty(z.shape, dtype=np.intp)
            for j in range(z.shape[1]):  # a loop over factors
                idx[:, j] = zs[:, j].searchsorted(z[:, j], "left") + zs[:, j].searchsorted(z[:, j], "right")
            idx -= 1
            idx //= 2  # floor of the 1-based mean rank, made 0-based: 0 <= first < last <= n, so within 0..n-1
        else:
            idx = np.clip(np.floor(average_ranks(z, axis=-2)).astype(np.int64) - 1, 0, n - 1)
        out = q[idx]
    elif ties == "strict":
        order = _strict_order(z)
        out = np.empty_like(z)
        np.put_along_axis(out, order, np.broadcast_to(q[:, None], z.shape), axis=-2)
    else:
        raise ValueError(f"unknown tie rule {ties!r}; choose mean-rank or strict")
    nan = np.isnan(z)
    return np.where(nan, np.nan, out) if nan.any() else out


def _strict_order(z: np.ndarray) -> np.ndarray:
    """Statement indices in the order they receive the ascending grid values: by z, ties later-listed first."""
    n = z.shape[-2]
    flipped = np.flip(z, axis=-2)  # later statements first; a stable sort keeps that order within ties
    return (n - 1) - np.argsort(flipped, axis=-2, kind="stable")


# ------------------------------------------------------------------------------------------ KADE / PQMethod
def kade_table_order(loadings) -> np.ndarray:
    """Row order of KADE's loadings table ("Factor Loadings Table"), which KADE's output steps follow.

    KADE ``Loadings/loadingsLogic/sortByFactorGroup.js``: each sort goes to the factor of its largest loading in
    absolute value (the signed maximum when round8(|max| - |min|) >= 0, else the minimum; the first such factor
    on ties); sorts are ordered by that factor, then by the size of that loading, descending; ties keep the sort
    order (a stable sort).
    """
    a = np.asarray(loadings, dtype=np.float64)
    mx, mn = a.max(axis=1), a.min(axis=1)
    use_max = kround(np.abs(mx) - np.abs(mn), 8) >= 0
    group = np.where(use_max, (a == mx[:, None]).argmax(axis=1), (a == mn[:, None]).argmax(axis=1))
    size = np.where(use_max, mx, np.abs(mn))
    return np.lexsort((-size, group))


def kade_zscores(scores, loadings, flags, *, order=None, score_min=None) -> tuple[np.ndarray, np.ndarray]:
    """KADE's factor weights and z-scores, with every rounding of KADE's output steps
    (``Output/calcualteOutputLogic/3_*.js``; the Brown/Spearman weights of PQMethod).

    1. Loadings as the loadings table shows them, rounded to 4 dp, taken in the table's row order ``order``
       (default :func:`kade_table_order`); one entry per flag (a sort flagged twice counts on both factors).
    2. Weight w = round5(f / round5(1 - f2)) with f2 = round5(f^2) (``3_computeFactorWeights.js``; f2 = 1 gives
       w = f, f2 > 1 gives f / (f2 - 1)).
    3. Scaling to a largest weight of 10, with KADE's quirk (``3_findLargestFactorWeights.js``): the i-th factor
       (in order of first appearance in the table) is scaled by 10 / max|w| of the factor of the table's i-th
       entry, so factors after the first are often scaled by another factor's maximum; w <- round5(w * d * 10).
       Relative weights are unchanged; only the 3-dp sums below see it.
    4. Each Q-sort is standardised, z = round3((x - mean) / sd), on the scores shifted to be positive, with KADE's
       8-dp mean and sample SD (``3_weightRawSorts.js``, ``Utils/standardDeviation.js``).
    5. Per factor, the weighted sorts round5(z w) are summed in table order, the running sum rounded to 3 dp
       (``3_combineWeightedSorts.js:53``); the sums are standardised the same way and rounded to 3 dp twice.

    Returns ``(weights, z)``: the scaled weights (n_sorts, k) as KADE's "Sorts Weight" sheets, 0 where not flagged;
    z-scores (n_statements, k), NaN for a factor without flags (KADE stops there). The running sums are
    inherently sequential: a loop over flagged sorts, vectorised over statements.

    Notes
    -----
    Verified against: the polycrisis KADE 1.3.1 workbooks, k = 2..5 with their own flags (tests/test_kade.py).
    """
    x = np.asarray(scores, dtype=np.float64)
    fl = np.asarray(flags, dtype=bool)
    n_st, n_so = x.shape
    k = fl.shape[1]
    table = kround(np.asarray(loadings, dtype=np.float64), 4)
    order = kade_table_order(loadings) if order is None else np.asarray(order)
    # KADE's output list: one entry per flag, in table order. The weight scaling below depends on an entry's
    # *position* (KADE's quirk), so this is built as the ordered list KADE builds (O(n_sorts) Python, once).
    entries = []  # (factor or None, sort, weight)
    for i in order:
        hits = np.flatnonzero(fl[i])
        entries += [(int(j), int(i), _kade_weight(table[i, j])) for j in hits] or [(None, int(i), None)]
    factors = list(dict.fromkeys(e[0] for e in entries))
    w = np.zeros((n_so, k))
    seq = {}  # factor -> flagged sorts in summation order
    for pos, f in enumerate(factors):
        if f is None:
            continue
        ref = entries[pos][0]  # KADE looks the maximum up by table position, not by factor
        ref = f if ref is None else ref  # (KADE would produce NaN here; qvalid uses the factor's own maximum)
        d = min(kround1(abs(1.0 / e[2]), 8) for e in entries if e[0] == ref)
        seq[f] = [e[1] for e in entries if e[0] == f]
        for e in entries:
            if e[0] == f:
                w[e[1], f] = kround1(e[2] * d * 10, 5)
    shift = x - (x.min() if score_min is None else score_min) + 1.0  # posShiftSort
    zs = kround((shift - _kade_mean(shift)) / _kade_sd(shift), 3)
    z = np.full((n_st, k), np.nan)
    for f, sorts in seq.items():
        total = np.zeros(n_st)
        for i in sorts:  # inherently sequential: every partial sum is rounded
            total = kround(total + kround(zs[:, i] * w[i, f], 5), 3)
        z[:, f] = kround(kround((total - _kade_mean(total)) / _kade_sd(total), 3), 3)
    return w, z


def _kade_weight(f: float) -> float:
    f2 = kround1(f * f, 5)
    if f2 == 1:
        return kround1(f / f2, 5)
    one_minus = kround1(1 - f2, 5)
    return kround1(f / (-one_minus if f2 > 1 else one_minus), 5)


def _kade_mean(v: np.ndarray) -> np.ndarray:
    """``Utils/average.js``: sequential sum / n, rounded to 8 dp (over axis 0)."""
    return kround(np.cumsum(v, axis=0)[-1] / v.shape[0], 8)


def _kade_sd(v: np.ndarray) -> np.ndarray:
    """``Utils/standardDeviation.js``: sample SD with the 8-dp mean, variance and root (over axis 0)."""
    d = v - _kade_mean(v)
    return kround(np.sqrt(kround(np.cumsum(d * d, axis=0)[-1] / (v.shape[0] - 1), 8)), 8)
