"""Orthogonal rotation of loadings: varimax exactly as R's ``stats::varimax``, or none."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.linalg.lapack import dgesdd as _gesdd

from . import kernels
from .rounding import kround, kround1, ksum

__all__ = ["Rotation", "varimax", "no_rotation", "kaiser_varimax", "kaiser_sweeps", "kaiser_unnormalise"]


@dataclass(frozen=True)
class Rotation:
    """Rotated loadings and the rotation.

    Attributes
    ----------
    loadings : ndarray of shape (..., n_sorts, k)
    matrix : ndarray of shape (..., k, k)
        T with ``loadings = unrotated @ T``.
    n_iter : int or ndarray of int of shape (...)
        Iterations used (0 when nothing was rotated).
    converged : bool or ndarray of bool of shape (...)
    stop_margin : ndarray of shape (...) or None
        Batched varimax only: per item, the smallest relative distance |d - d_prev (1 + eps)| / d of the stopping
        test over its iterations. A tiny margin means a last-bit difference could change the iteration count (the
        bootstrap then recomputes that item on the single-matrix path).
    """

    loadings: np.ndarray
    matrix: np.ndarray
    n_iter: object = 0
    converged: object = True
    stop_margin: object = None


def no_rotation(loadings) -> Rotation:
    a = np.asarray(loadings, dtype=np.float64)
    return Rotation(a.copy(), np.broadcast_to(np.eye(a.shape[-1]), a.shape[:-2] + (a.shape[-1],) * 2).copy())


def varimax(loadings, *, normalize: bool = True, eps: float = 1e-5, max_iter: int = 1000) -> Rotation:
    """Varimax rotation, the algorithm of R's ``stats::varimax`` (R src/library/stats/R/factanal.R).

    With Kaiser normalisation each row x_i is divided by h_i = ||x_i|| (and multiplied back at the end).
    Starting from T = I, each iteration computes Z = X T,
    B = X' (Z*Z*Z - Z diag(1' Z^2) / p), the SVD B = U D V', T = U V', d = sum(D),
    and stops as soon as d < d_prev (1 + eps); at most ``max_iter`` (R: 1000) iterations.
    With fewer than two factors the loadings are returned unchanged (R does the same).

    Works on a batch: ``loadings`` of shape (..., p, k); each item stops on its own rule, the loop runs until
    every item has stopped, and only the items still running are updated.

    Parameters
    ----------
    loadings : array-like of shape (..., n_sorts, k)
    normalize : bool
        Kaiser normalisation (R default TRUE).
    eps : float
        Relative stopping tolerance (R default 1e-5; deliberately loose, so the result is *not* fully converged,
        qmethod-r-spec trap 1).
    max_iter : int
        R hard-codes 1000.

    Returns
    -------
    Rotation
        ``converged`` is False for items that used all ``max_iter`` iterations without meeting the stop rule.

    Notes
    -----
    Verified against: R 4.2.2 ``stats::varimax`` through qmethod 1.8.4 (lipset, PCA and centroid, k = 2..5, 1e-10).
    """
    x0 = np.asarray(loadings, dtype=np.float64)
    batch, (p, k) = x0.shape[:-2], x0.shape[-2:]
    if k < 2:
        return no_rotation(x0)
    if not batch:  # the common unbatched case, without fancy indexing
        fast = kernels.varimax(x0, None, eps, max_iter, normalize=normalize)  # compiled, the same bits
        if fast is not None:
            return Rotation(*fast)
        sc = np.sqrt((x0 * x0).sum(axis=-1, keepdims=True)) if normalize else None
        return _varimax_one(x0 / sc if normalize else x0, sc, eps, max_iter)
    x = x0.reshape((-1, p, k))
    sc = None
    if normalize:
        sc = np.sqrt((x * x).sum(axis=-1, keepdims=True))
        x = x / sc
    nb = x.shape[0]
    tt = np.broadcast_to(np.eye(k), (nb, k, k)).copy()
    d = np.zeros(nb)
    n_iter = np.zeros(nb, dtype=np.int64)
    margin = np.full(nb, np.inf)
    active = np.arange(nb)  # items still iterating
    # the items still running are kept compacted (xa, ta, da, ...); they are re-gathered only when some stop
    xa, ta, da, ma = x, tt.copy(), d.copy(), margin.copy()
    for it in range(1, max_iter + 1):
        z = xa @ ta
        zz = z * z
        # B = X'(Z^3 - Z diag(colsums Z^2) / p), as _varimax_one operation for operation (in place, same bits)
        np.subtract(zz, zz.sum(axis=-2, keepdims=True) / p, out=zz)
        np.multiply(z, zz, out=zz)
        u, s, vt = np.linalg.svd(np.swapaxes(xa, -1, -2) @ zz)
        ta = u @ vt
        d_new = s.sum(axis=-1)
        gap = d_new - da * (1.0 + eps)
        ma = np.minimum(ma, np.abs(gap) / d_new)
        stop = gap < 0
        da = d_new
        if stop.any():
            done = active[stop]
            tt[done], margin[done], n_iter[done] = ta[stop], ma[stop], it
            keep = ~stop
            active, xa, ta, da, ma = active[keep], xa[keep], ta[keep], da[keep], ma[keep]
            if active.size == 0:
                break
    tt[active], margin[active], n_iter[active] = ta, ma, max_iter
    converged = np.ones(nb, dtype=bool)
    converged[active] = False
    z = x @ tt
    if normalize:
        z = z * sc
    z, tt = z.reshape(x0.shape), tt.reshape(batch + (k, k))
    if not batch:
        return Rotation(z, tt, int(n_iter[0]), bool(converged[0]))
    return Rotation(z, tt, n_iter.reshape(batch), converged.reshape(batch), margin.reshape(batch))


def _varimax_one(x, sc, eps, max_iter) -> Rotation:
    """:func:`varimax` for one (p, k) matrix ``x`` (already normalised when ``sc`` is given): the same operations,
    on buffers reused across iterations (fewer numpy calls: this loop is most of a small study's time). The loop
    runs compiled when it can (:func:`qvalid.core.kernels.varimax`: the same LAPACK SVD and BLAS products through
    scipy's pointers, the same bits); this numpy code is its reference."""
    fast = kernels.varimax(x, sc, eps, max_iter)
    if fast is not None:
        return Rotation(*fast)
    p, k = x.shape
    xt = x.T
    tt = np.eye(k)
    z = np.empty((p, k))
    w = np.empty((p, k))
    d = 0.0
    converged = False
    in_order = k < 8  # numpy adds fewer than 8 doubles in order (pairwise beyond): then a Python loop is s.sum()
    for it in range(1, max_iter + 1):
        x.dot(tt, out=z)  # ndarray.dot: the same BLAS product as @, with less call overhead
        np.multiply(z, z, out=w)
        w -= np.add.reduce(w, axis=0) / p
        w *= z  # z * (z^2 - colsums(z^2) / p), operation for operation
        u, s, vt, info = _gesdd(xt.dot(w))  # LAPACK dgesdd, as R's La.svd
        if info:
            raise np.linalg.LinAlgError(f"varimax: SVD did not converge (LAPACK info={info})")
        tt = u.dot(vt)
        d_past, d = d, 0.0
        if in_order:
            for v in s.tolist():
                d += v
        else:
            d = s.sum()
        if d < d_past * (1.0 + eps):
            converged = True
            break
    z = x @ tt
    if sc is not None:
        z *= sc
    return Rotation(z, tt, it, converged)


# ------------------------------------------------------------------------------------------ KADE / PQMethod
_SQRT_HALF_PQ = 0.7071066  # PQMethod's (and KADE's) constant for sqrt(1/2)
_SKIP_TAN = 0.00116  # tan(4 phi) below about one arc-minute: no rotation


def kaiser_varimax(loadings, *, eps: float = 1e-8, max_sweeps: int = 225) -> Rotation:
    """Kaiser's pairwise varimax as KADE ports it from PQMethod (KADE ``Rotation/varimaxLogic/*``, whose comments
    cite PQMethod source lines 3709-3785; the IBM SSP ``VARMX`` lineage, Kaiser 1959).

    1. Kaiser normalisation: h_i^2 = round8(sum_k round8(a_ik^2)); b_ik = round8(a_ik / round8(sqrt(h_i^2)))
       (``2calcSumSquares.js``, ``2calcStandardizedFactorMatrix.js``), 0 for h^2 = 0;
    2. a sweep rotates every pair of factors (1-2, 1-3, ..., (k-1)-k) in place by Kaiser's angle: with
       u = x^2 - y^2 and v = 2xy over the sorts, A = sum u, B = sum v, C = sum(u^2 - v^2), D = sum 2uv,
       numerator T = D - 2AB/n and denominator C - (A^2 - B^2)/n (``4_varimaxCalculations.js``); the angle comes
       from the SSP cascade with its constants and roundings, including its tan/cot quirk in the T > Bd branch
       and the skip when |tan 4phi| < 0.00116 (``5_getComparisonOfNumAndDen.js``); rotated loadings rounded to
       8 dp (``5_doFactorRotations.js``);
    3. the criterion TV = sum_k [n sum_i b^4 - (sum_i b^2)^2] / n^2 (8-dp roundings) is computed before each
       sweep; the loop stops after the sweep in which |TV - TV_prev| < ``eps`` for the fourth time in a row, or
       after ``max_sweeps`` sweeps (``2doVarimaxRotations.js:78-91``);
    4. un-normalise: a = round5(round5(b) round5(sqrt(h^2))); a factor is negated when sum_i a_i |a_i| < 0; no
       reordering (``3_unStandardize.js:19-26``).

    Every sum is KADE's running sum with each partial sum rounded (:func:`qvalid.core.rounding.ksum`), so the pair
    rotations are an inherently sequential Python loop (over sorts for the sums, over pairs and sweeps).

    Parameters
    ----------
    loadings : array-like of shape (n_sorts, k)
    eps : float
        |change of TV| counted as "no change" (KADE 1e-8).
    max_sweeps : int
        KADE 225.

    Returns
    -------
    Rotation
        ``matrix`` is the least-squares T with loadings ~ unrotated @ T (the result is rounded, so only
        approximately orthogonal); ``n_iter`` the number of sweeps; ``converged`` False when ``max_sweeps`` ended it.

    Notes
    -----
    Verified against: KADE's varimax unit test (``2doVarimaxRotations.test.js``, 9 sorts x 8 factors) exactly,
    and the rotated loadings of the polycrisis KADE 1.3.1 workbooks (tests/test_kade.py).
    """
    a0 = np.asarray(loadings, dtype=np.float64)
    n, k = a0.shape
    if k < 2:
        return no_rotation(a0)
    sq = kround(a0 * a0, 8)
    h2 = kround(np.cumsum(sq, axis=1)[:, -1], 8)  # plain running sum, then rounded (calcSumSquares)
    b, sweeps, converged = kaiser_sweeps(_kaiser_normalise(a0, h2), eps=eps, max_sweeps=max_sweeps)
    a, _ = kaiser_unnormalise(b, h2)
    t = np.linalg.lstsq(a0, a, rcond=None)[0] if np.linalg.matrix_rank(a0) == k else np.eye(k)
    return Rotation(a, t, sweeps, converged)


def kaiser_unnormalise(b, h2):
    """KADE's ``3_unStandardize.js``: a = round5(round5(b) round5(sqrt(h^2))), factors with sum a|a| < 0 negated
    (the sum over the unrounded products). Returns ``(a, flipped)``."""
    prod = kround(b, 5) * kround(np.sqrt(h2), 5)[:, None]
    flipped = np.cumsum(prod * np.abs(prod), axis=0)[-1] < 0
    a = kround(prod, 5)
    return np.where(flipped, -a, a), flipped


def _kaiser_normalise(a: np.ndarray, h2: np.ndarray) -> np.ndarray:
    root = kround(np.sqrt(h2), 8)[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(root != 0, kround(a / root, 8), 0.0)


def kaiser_sweeps(b, *, eps: float = 1e-8, max_sweeps: int = 225):
    """The sweep loop of :func:`kaiser_varimax` on normalised loadings ``b`` (n_sorts, k).

    Returns ``(rotated normalised loadings, sweeps, converged)``. Exposed for KADE's varimax unit test, whose input
    is already normalised.
    """
    cols = [np.array(c, dtype=np.float64) for c in np.asarray(b, dtype=np.float64).T]
    n, k = len(cols[0]), len(cols)
    tv = 0.0
    nc = 0
    sweeps = 0
    while True:
        tv_prev = tv
        tv = ksum([_kaiser_tv(c, n) for c in cols], 8)
        sweeps += 1
        if sweeps == 1:
            tv_prev = 0.0
        nc = nc + 1 if abs(tv - tv_prev) < eps else 0
        for i in range(k):  # one sweep: every pair in order, each rotated at once in place
            for j in range(i + 1, k):
                cols[i], cols[j] = _kaiser_pair(cols[i], cols[j])
        if nc > 3 or sweeps >= max_sweeps:
            return np.column_stack(cols), sweeps, nc > 3


def _kaiser_tv(c: np.ndarray, n: int) -> float:
    sq = kround(c * c, 8)
    aa = ksum(sq, 8)
    bb = ksum(kround(sq * sq, 8), 8)
    return kround1((kround1(n * bb, 8) - kround1(aa * aa, 8)) / (n * n), 8)


def _kaiser_pair(x: np.ndarray, y: np.ndarray):
    """One pair rotation (``4_varimaxCalculations.js``, ``5_doFactorRotations.js``)."""
    n = len(x)
    u = (x + y) * (x - y)
    t = x * y
    t2 = t + t
    cc = ksum((u + t2) * (u - t2), 8)
    dd = ksum(2 * u * t2, 8)
    aa = ksum(u, 8)
    bb = ksum(t2, 8)
    cc, dd, aa, bb = (kround1(v, 17) for v in (cc, dd, aa, bb))
    num = kround1(dd - kround1(2 * aa * kround1(bb / n, 17), 17), 17)
    den = kround1(cc - kround1((aa * aa - bb * bb) / n, 8), 8)
    angle = _kaiser_angle(num, den)
    if angle is None:
        return x, y
    sinp, cosp = angle
    return kround(x * cosp + y * sinp, 8), kround(-x * sinp + y * cosp, 8)


def _kaiser_angle(num: float, den: float):
    """(sin phi, cos phi) from the SSP cascade, or None to skip (``5_getComparisonOfNumAndDen.js``)."""
    r8 = kround1
    if num < den:
        tan4 = r8(abs(num) / abs(den), 5) if den != 0 else math.inf
        if tan4 < _SKIP_TAN:
            if den >= 0:
                return None
            return _SQRT_HALF_PQ, _SQRT_HALF_PQ
        if tan4 == math.inf:  # Bd = 0: KADE computes Infinity * 0 = NaN here; qvalid takes the limit
            cos4, sin4 = 0.0, 1.0
        else:
            cos4 = r8(1.0 / r8(math.sqrt(1.0 + tan4 * tan4), 8), 8)
            sin4 = r8(tan4 * cos4, 8)
    elif num == den:
        if num + den < _SKIP_TAN:
            return None
        cos4 = sin4 = _SQRT_HALF_PQ
    else:
        ctn4 = r8(abs(num / den), 5) if den != 0 else math.inf  # the quirk: |T/Bd| used as the cotangent
        if ctn4 < _SKIP_TAN:
            cos4, sin4 = 0.0, 1.0
        elif ctn4 == math.inf:  # Bd = 0: KADE gets NaN (Infinity * 0); qvalid takes the limit
            cos4, sin4 = 1.0, 0.0
        else:
            sin4 = r8(1.0 / r8(math.sqrt(1.0 + ctn4 * ctn4), 8), 8)
            cos4 = r8(ctn4 * sin4, 8)
    cos2 = r8(math.sqrt((1.0 + cos4) / 2.0), 8)
    sin2 = r8(sin4 / (2.0 * cos2), 8)
    cost = r8(math.sqrt((1.0 + cos2) / 2.0), 8)
    sint = r8(sin2 / (2.0 * cost), 8)
    if den <= 0:
        cosp = r8(_SQRT_HALF_PQ * cost + _SQRT_HALF_PQ * sint, 8)
        sinp = r8(abs(_SQRT_HALF_PQ * cost - _SQRT_HALF_PQ * sint), 8)
    else:
        cosp, sinp = cost, sint
    if num <= 0:
        sinp = -sinp
    return sinp, cosp
