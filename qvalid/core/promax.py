"""Procrustean oblique rotations after varimax: R's ``stats::promax``, psych's ``Promax`` and ``target.rot``
(psych's ``rotate="cluster"``).

All three take loadings that are *already varimax-rotated* (``stats::varimax`` with its defaults: Kaiser
normalisation, eps = 1e-5) plus the varimax rotation matrix, because that is what the R functions do first; the
varimax itself is qvalid's ``stats::varimax`` transcription. They then fit, by least squares (R ``lm.fit``: a
Householder QR), the matrix U that takes the varimax loadings X closest to a target Q, rescale U's columns so that
the factor correlations have unit diagonal, and return the pattern X U:

- promax (Hendrickson & White 1964): Q = X |X|^(m-1) (the loadings raised to the power m, sign kept), m = 4;
- cluster (psych ``target.rot`` with ``factor2cluster``): Q has, in each row, the sign of the row's largest
  absolute loading in that loading's column and 0 elsewhere (a cluster key); psych's ``target.rot(x, keys)`` with
  a given key matrix is the same with that Q.

Inputs may be stacks (..., n_sorts, k).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["ObliqueRotation", "lm_fit", "promax_step", "stats_promax", "psych_promax", "factor2cluster",
           "target_rot", "cov2cor"]

_EPS = np.finfo(float).eps


@dataclass(frozen=True)
class ObliqueRotation:
    """Loadings, rotation and factor correlations of a Procrustean oblique rotation.

    Attributes
    ----------
    loadings : ndarray of shape (..., n_sorts, k)
        The pattern matrix.
    matrix : ndarray of shape (..., k, k)
        T with ``loadings = start @ matrix`` (``start`` = the loadings before the varimax, when the varimax
        rotation matrix was passed in).
    phi : ndarray of shape (..., k, k)
        Factor correlations.
    """

    loadings: np.ndarray
    matrix: np.ndarray
    phi: np.ndarray


def _t(x):
    return np.swapaxes(x, -1, -2)


def lm_fit(x, y) -> np.ndarray:
    """Least-squares coefficients B minimising ||X B - Y|| through a Householder QR (R's ``lm.fit(x, y)$coefficients``
    for a full-rank X; R's LINPACK ``dqrdc2`` pivots only columns it finds collinear, at tolerance 1e-7)."""
    x = np.asarray(x, dtype=np.float64)
    q, r = np.linalg.qr(x)
    diag = np.abs(np.diagonal(r, axis1=-2, axis2=-1))
    if (diag <= 1e-7 * np.abs(np.diagonal(r, axis1=-2, axis2=-1)).max(axis=-1, keepdims=True)).any():
        raise np.linalg.LinAlgError("the loadings are (nearly) collinear: the least-squares fit is not unique")
    return np.linalg.solve(r, _t(q) @ np.asarray(y, dtype=np.float64))


def cov2cor(v) -> np.ndarray:
    """R's ``cov2cor``: D^-1/2 V D^-1/2 with the diagonal set to exactly 1."""
    v = np.asarray(v, dtype=np.float64)
    s = np.sqrt(1 / np.diagonal(v, axis1=-2, axis2=-1))
    r = s[..., :, None] * v * s[..., None, :]
    k = v.shape[-1]
    r[..., np.arange(k), np.arange(k)] = 1.0
    return r


def _rescale(u, *, fallback: bool):
    """``U %*% diag(sqrt(diag(solve(t(U) %*% U))))``. With ``fallback`` (psych ``Promax``), a singular U'U is
    replaced as psych does: eigenvalues below machine epsilon set to 100 eps, unit diagonal, then inverted."""
    utu = _t(u) @ u
    try:
        if _singular(utu):
            raise np.linalg.LinAlgError("singular")
        d = np.diagonal(np.linalg.inv(utu), axis1=-2, axis2=-1)
    except np.linalg.LinAlgError:
        if not fallback:
            raise np.linalg.LinAlgError("the factors are exactly uncorrelated: the promax solution is singular") \
                from None
        val, vec = np.linalg.eigh(utu)
        val = val[..., ::-1].copy()
        vec = vec[..., ::-1]
        val[val < _EPS] = 100 * _EPS
        uu = (vec * val[..., None, :]) @ _t(vec)
        k = uu.shape[-1]
        uu[..., np.arange(k), np.arange(k)] = 1.0
        d = np.diagonal(np.linalg.inv(uu), axis1=-2, axis2=-1)
    return u * np.sqrt(d)[..., None, :]


def _singular(m) -> bool:
    """R's ``solve()`` refuses a matrix whose reciprocal condition number (1-norm) is below machine epsilon."""
    with np.errstate(divide="ignore", invalid="ignore"):
        c = np.linalg.cond(m, 1)
    return bool(np.any(~np.isfinite(c)) or np.any(1 / c < _EPS))


def promax_step(x, m: float = 4, *, fallback: bool = False):
    """The power step of promax on varimax loadings X: Q = X |X|^(m-1), U = lm.fit(X, Q), columns of U rescaled
    (``diag(solve(U'U))``; ``fallback``: psych's approximation when U'U is singular). Returns ``(X U, U)``."""
    x = np.asarray(x, dtype=np.float64)
    q = x * np.abs(x) ** (m - 1)
    u = _rescale(lm_fit(x, q), fallback=fallback)
    return x @ u, u


def stats_promax(x_varimax, varimax_matrix=None, *, m: float = 4) -> ObliqueRotation:
    """R's ``stats::promax(x, m = 4)`` (R src/library/stats/R/factanal.R) after its ``varimax(x)``, with the factor
    correlations psych::principal(rotate="promax") reports: ``ui <- solve(rotmat); Phi <- cov2cor(ui %*% t(ui))``.

    Parameters
    ----------
    x_varimax : array-like of shape (..., n_sorts, k)
        ``varimax(x)$loadings`` (stats::varimax, normalize = TRUE, eps = 1e-5).
    varimax_matrix : array-like of shape (..., k, k), optional
        ``varimax(x)$rotmat``; the returned ``matrix`` is then ``rotmat %*% U`` as R's (identity when omitted).
    m : float
        The power (R default 4).

    Returns
    -------
    ObliqueRotation

    Notes
    -----
    Verified against: R 4.2.2 stats::promax through psych 2.2.9 ``principal(rotate="promax")`` (qmethod 1.8.4),
    reference/golden/rotations.
    """
    z, u = promax_step(x_varimax, m)
    if varimax_matrix is not None:
        u = np.asarray(varimax_matrix, dtype=np.float64) @ u
    ui = np.linalg.inv(u)
    return ObliqueRotation(z, u, cov2cor(ui @ _t(ui)))


def psych_promax(x_varimax, varimax_matrix=None, *, m: float = 4) -> ObliqueRotation:
    """psych's ``Promax(x, m = 4)`` (psych 2.2.9 R/Promax.R): ``stats::varimax`` then the promax step as
    :func:`stats_promax`, except that a singular U'U is approximated (psych warns "Factors are exactly uncorrelated")
    and Phi = ui ui' is not passed through cov2cor (its diagonal is 1 only up to rounding).

    Notes
    -----
    Verified against: psych 2.2.9 ``principal(rotate="Promax")``, reference/golden/rotations.
    """
    z, u = promax_step(x_varimax, m, fallback=True)
    if varimax_matrix is not None:
        u = np.asarray(varimax_matrix, dtype=np.float64) @ u
    ui = np.linalg.inv(u)
    return ObliqueRotation(z, u, ui @ _t(ui))


def factor2cluster(loadings, cut: float = 0.0) -> np.ndarray:
    """psych's ``factor2cluster(loads, cut = 0)``: for each row, the sign of its largest absolute loading (the first
    one on ties) in that column, 0 elsewhere (and 0 when the loading is not above ``cut`` in absolute value).
    psych then drops the empty columns; here they are kept (all zero), so the caller can say which are empty.

    Parameters
    ----------
    loadings : array-like of shape (..., n_sorts, k)

    Returns
    -------
    ndarray of shape (..., n_sorts, k)
    """
    a = np.asarray(loadings, dtype=np.float64)
    col = np.argmax(np.abs(a), axis=-1)[..., None]
    val = np.take_along_axis(a, col, axis=-1)
    keys = np.zeros_like(a)
    np.put_along_axis(keys, col, np.sign(val) * (np.abs(val) > cut), axis=-1)
    return keys


def target_rot(x, keys=None, *, start_matrix=None) -> ObliqueRotation:
    """psych's ``target.rot(x, keys = NULL)`` (psych 2.2.9 R/target.rot.R): U = lm.fit(X, Q) with Q the cluster key
    (:func:`factor2cluster`) or ``keys``, columns of U rescaled, loadings X U, Phi = ui ui' with ui = U^-1.

    psych::principal(rotate="cluster") calls it on ``stats::varimax`` loadings. When a factor gets no sort in the
    key, psych drops that column and then fails (``solve`` of a non-square U); here that is a ValueError naming the
    factor.

    Parameters
    ----------
    x : array-like of shape (..., n_sorts, k)
    keys : array-like of shape (n_sorts, k), optional
    start_matrix : array-like of shape (..., k, k), optional
        A rotation already applied to x (the varimax's): the returned ``matrix`` is then ``start_matrix @ U``, the
        whole rotation from the loadings before it. (psych reports U alone as ``rot.mat``.)

    Notes
    -----
    Verified against: psych 2.2.9 ``principal(rotate="cluster")`` via qmethod 1.8.4, reference/golden/rotations.
    """
    x = np.asarray(x, dtype=np.float64)
    q = factor2cluster(x) if keys is None else np.broadcast_to(np.asarray(keys, dtype=np.float64), x.shape)
    empty = ~np.any(q != 0, axis=-2)
    if empty.any():
        cols = sorted({int(j) + 1 for j in np.argwhere(empty)[:, -1]})
        raise ValueError(f"cluster rotation: no Q-sort has its largest loading on factor(s) "
                         f"{', '.join(map(str, cols))}, so psych's target.rot cannot form a cluster for it "
                         "(R stops with a non-square matrix)")
    u = _rescale(lm_fit(x, q), fallback=False)
    z = x @ u
    ui = np.linalg.inv(u)
    phi = ui @ _t(ui)
    if start_matrix is not None:
        u = np.asarray(start_matrix, dtype=np.float64) @ u
    return ObliqueRotation(z, u, phi)
