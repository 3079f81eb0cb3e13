"""Orthogonal rotation of loadings: varimax exactly as R's ``stats::varimax``, or none."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.linalg.lapack import dgesdd as _gesdd

__all__ = ["Rotation", "varimax", "no_rotation"]


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
    x = x0.reshape((-1, p, k))
    sc = None
    if normalize:
        sc = np.sqrt((x * x).sum(axis=-1, keepdims=True))
        x = x / sc
    xt = np.swapaxes(x, -1, -2)
    nb = x.shape[0]
    tt = np.broadcast_to(np.eye(k), (nb, k, k)).copy()
    d = np.zeros(nb)
    n_iter = np.zeros(nb, dtype=np.int64)
    margin = np.full(nb, np.inf)
    active = np.arange(nb)  # items still iterating
    if not batch:  # the common unbatched case, without fancy indexing
        return _varimax_one(x0, x[0], sc[0] if normalize else None, eps, max_iter)
    # the items still running are kept compacted (xa, ta, da, ...); they are re-gathered only when some stop
    xa, xta, ta, da, ma = x, xt, tt.copy(), d.copy(), margin.copy()
    for it in range(1, max_iter + 1):
        z = xa @ ta
        zz = z * z
        b = xta @ (z * (zz - zz.sum(axis=-2, keepdims=True) / p))  # as _varimax_one, operation for operation
        u, s, vt = np.linalg.svd(b)
        ta = u @ vt
        d_new = s.sum(axis=-1)
        gap = d_new - da * (1.0 + eps)
        ma = np.minimum(ma, np.abs(gap) / d_new)
        stop = gap < 0
        da = d_new
        n_iter[active] = it
        if stop.any():
            tt[active[stop]], margin[active[stop]] = ta[stop], ma[stop]
            keep = ~stop
            active, xa, xta, ta, da, ma = active[keep], xa[keep], xta[keep], ta[keep], da[keep], ma[keep]
            if active.size == 0:
                break
    tt[active], margin[active] = ta, ma
    converged = np.ones(nb, dtype=bool)
    converged[active] = False
    z = x @ tt
    if normalize:
        z = z * sc
    z, tt = z.reshape(x0.shape), tt.reshape(batch + (k, k))
    if not batch:
        return Rotation(z, tt, int(n_iter[0]), bool(converged[0]))
    return Rotation(z, tt, n_iter.reshape(batch), converged.reshape(batch), margin.reshape(batch))


def _varimax_one(x0, x, sc, eps, max_iter) -> Rotation:
    """:func:`varimax` for one (p, k) matrix ``x`` (already normalised when ``sc`` is given): same steps."""
    p, k = x.shape
    xt = x.T
    tt = np.eye(k)
    d = 0.0
    converged = False
    for it in range(1, max_iter + 1):
        z = x @ tt
        zz = z * z
        u, s, vt, info = _gesdd(xt @ (z * (zz - zz.sum(axis=0) / p)))  # LAPACK dgesdd, as R's La.svd
        if info:
            raise np.linalg.LinAlgError(f"varimax: SVD did not converge (LAPACK info={info})")
        tt = u @ vt
        d_past, d = d, s.sum()
        if d < d_past * (1.0 + eps):
            converged = True
            break
    z = x @ tt
    if sc is not None:
        z = z * sc
    return Rotation(z.reshape(x0.shape), tt.reshape(x0.shape[:-2] + (k, k)), it, converged)
