"""Orthogonal Procrustes: the rotation that takes one loadings matrix closest to another, and that rotation written
as the fewest judgmental (pairwise, Givens) steps.

Given loadings A (the data's factors) and B (a published table), the orthogonal T minimising ||A T - B||_F is
T = U V' from the SVD A'B = U S V' (Schönemann 1966). A published solution that is an orthogonal rotation of A
(varimax, hand rotation, factor reversals and reorderings included) is reproduced exactly by A T, up to the
published rounding; anything else leaves a residual.

``T`` is then split into a signed permutation P (factor order and reversals, applied last) and a proper rotation
R = T P' (det +1), and R into pairwise steps (:class:`~qvalid.core.judgmental.PairStep`, KADE's clockwise
convention) by Givens elimination; the coordinate order of the elimination is searched for the fewest non-zero
angles.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from .judgmental import PairStep, steps_matrix

__all__ = ["ProcrustesFit", "procrustes", "signed_permutation", "givens_steps", "RotationSteps", "rotation_steps",
           "min_steps_bound"]


@dataclass(frozen=True)
class ProcrustesFit:
    """The orthogonal Procrustes fit of ``a`` to ``b``.

    Attributes
    ----------
    matrix : ndarray of shape (..., k, k)
        Orthogonal T minimising ||a T - b||.
    fitted : ndarray of shape (..., n, k)
        a @ T.
    residual : ndarray of shape (..., n, k)
        b - a @ T.
    """

    matrix: np.ndarray
    fitted: np.ndarray
    residual: np.ndarray


def procrustes(a, b) -> ProcrustesFit:
    """Orthogonal Procrustes rotation of ``a`` (..., n, k) towards ``b`` (..., n, k): T = U V' with A'B = U S V'.

    Notes
    -----
    Verified against: recovery of random orthogonal rotations to 1e-12 (tests/test_rotations.py); the formula is
    Schönemann (1966), as in GPArotation's ``targetT`` limit and psych's ``Procrustes``.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"Procrustes needs two loadings matrices of the same shape, got {a.shape} and {b.shape}")
    u, _, vt = np.linalg.svd(np.swapaxes(a, -1, -2) @ b)
    t = u @ vt
    fitted = a @ t
    return ProcrustesFit(t, fitted, b - fitted)


def signed_permutation(t) -> tuple[np.ndarray, np.ndarray]:
    """The signed permutation P closest to an orthogonal ``t`` (k, k) (largest sum of |t_ij| over an assignment,
    signs of those entries), with det(t P') = +1 (if needed, the assigned entry of smallest magnitude changes sign).

    Returns ``(perm, signs)`` with P[i, perm[i]] = signs[i]: ``t = R P`` with R = t P' a rotation close to the
    identity, i.e. after R, factor i becomes column ``perm[i]``, multiplied by ``signs[i]``.
    """
    from scipy.optimize import linear_sum_assignment  # heavy (~0.3 s): imported when first needed

    t = np.asarray(t, dtype=np.float64)
    rows, cols = linear_sum_assignment(-np.abs(t))
    perm = cols[np.argsort(rows)]
    vals = t[np.arange(len(perm)), perm]
    signs = np.where(vals < 0, -1.0, 1.0)
    p = _perm_matrix(perm, signs)
    if np.linalg.det(t @ p.T) < 0:
        i = int(np.argmin(np.abs(vals)))
        signs[i] = -signs[i]
    return perm, signs


def _perm_matrix(perm, signs) -> np.ndarray:
    k = len(perm)
    p = np.zeros((k, k))
    p[np.arange(k), perm] = signs
    return p


def _eliminate(r: np.ndarray, order, tol: float):
    """Givens elimination of a rotation r (det +1) to the identity, columns and rows taken in ``order``:
    returns steps with r = G_1 ... G_m (each G a :func:`~qvalid.core.judgmental.pair_matrix`)."""
    m = r.copy()
    ops = []  # H_1, H_2, ... with H_N ... H_1 r = I, as (x, y, degrees) of the step G = H^T
    for t, c in enumerate(order[:-1]):
        for rr in order[t + 1:]:
            if abs(m[rr, c]) <= tol:
                continue
            # rotate rows c and rr so that m[rr, c] becomes 0 and m[c, c] >= 0
            phi = np.arctan2(m[rr, c], m[c, c])
            cs, sn = np.cos(phi), np.sin(phi)
            rc, rrr = m[c].copy(), m[rr].copy()
            m[c], m[rr] = cs * rc + sn * rrr, -sn * rc + cs * rrr
            ops.append((c, rr, phi))
        if m[c, c] < 0:  # the column is -e_c: turn it by 180 degrees with the next coordinate in the order
            rr = order[t + 1]
            m[c], m[rr] = -m[c], -m[rr]
            ops.append((c, rr, np.pi))
    steps = []
    for c, rr, phi in ops:
        # H mixes rows (c, rr) as [[cs, sn], [-sn, cs]]; its transpose is the pair matrix of (c, rr) with
        # angle theta where, for x = min, y = max: G[x, x] = cos, G[y, x] = sin.
        x, y = min(c, rr), max(c, rr)
        theta = phi if (c, rr) == (x, y) else -phi
        steps.append(PairStep(x, y, float(np.degrees(theta))))
    return steps


def givens_steps(r, *, tol: float = 1e-12, max_orders: int = 5040) -> list:
    """Pairwise steps whose product is the rotation ``r`` (det +1), as few as the search finds.

    The Givens elimination (column by column, each sub-diagonal entry zeroed by a rotation in the plane of its row
    and column) is run for every order of the coordinates (at most ``max_orders``, in lexicographic order), on r and
    on r' (whose steps, reversed and negated, also give r), and the shortest list is kept (ties: the first found).
    Entries within ``tol`` of zero need no step. A rotation that leaves factors untouched involves only the others.

    Returns
    -------
    list of PairStep
        ``steps_matrix(k, steps)`` equals ``r`` to rounding.
    """
    r = np.asarray(r, dtype=np.float64)
    k = r.shape[0]
    if r.shape != (k, k) or not np.allclose(r @ r.T, np.eye(k), atol=1e-8):
        raise ValueError("givens_steps needs an orthogonal matrix")
    if np.linalg.det(r) < 0:
        raise ValueError("givens_steps needs a proper rotation (det +1); split off reflections first "
                         "(signed_permutation)")
    best = None
    for n, order in enumerate(itertools.permutations(range(k))):
        if n >= max_orders:
            break
        for transpose in (False, True):
            steps = _eliminate(r.T if transpose else r, order, tol)
            if transpose:
                steps = [st.inverse() for st in reversed(steps)]
            if best is None or len(steps) < len(best):
                best = steps
        if best is not None and len(best) <= min_steps_bound(r, tol=tol):
            break  # cannot do better
    return best


def min_steps_bound(r, *, tol: float = 1e-12) -> int:
    """A lower bound on the number of pairwise steps giving ``r``: the moved factors fall into groups linked by
    non-zero off-diagonal entries; a group of s >= 2 factors needs at least s - 1 steps (each step links two
    factors), and factors moved without any link (a diagonal -1: a half turn) need a step per two of them."""
    r = np.asarray(r, dtype=np.float64)
    k = r.shape[0]
    moved = (np.abs(r - np.eye(k)) > tol).any(axis=1)
    adj = (np.abs(r) > tol) & ~np.eye(k, dtype=bool)
    seen = np.zeros(k, dtype=bool)
    linked, single = 0, 0
    for i in np.flatnonzero(moved):
        if seen[i]:
            continue
        size, stack = 0, [i]
        while stack:  # the group of i, through non-zero off-diagonal entries
            j = stack.pop()
            if seen[j]:
                continue
            seen[j] = True
            size += 1
            stack.extend(np.flatnonzero(adj[j] & ~seen).tolist())
        if size == 1:
            single += 1
        else:
            linked += size - 1
    return linked + (single + 1) // 2


@dataclass(frozen=True)
class RotationSteps:
    """An orthogonal matrix written as judgmental steps followed by a reordering/reversal of the factors.

    ``t = steps_matrix(k, steps) @ P`` with ``P[i, perm[i]] = signs[i]``: rotate by the steps, then factor i becomes
    column perm[i], multiplied by signs[i].
    """

    steps: list
    perm: np.ndarray
    signs: np.ndarray
    lower_bound: int

    def matrix(self) -> np.ndarray:
        k = len(self.perm)
        return steps_matrix(k, self.steps) @ _perm_matrix(self.perm, self.signs)


def rotation_steps(t, *, reorder: bool = True, tol: float = 1e-12, max_orders: int = 5040) -> RotationSteps:
    """Split an orthogonal ``t`` into the fewest pairwise steps found and a signed permutation (see the module
    docstring). ``lower_bound`` is :func:`min_steps_bound` of the rotation part: when ``len(steps)`` equals it, no
    shorter list exists.

    With ``reorder=False`` the factors keep their order: P is the identity, or (when det t = -1) reverses the factor
    whose diagonal entry is smallest. Otherwise P is the signed permutation closest to t (a hand rotation by more than
    45 degrees then reads as a swap of the two factors plus a rotation by less than 45 degrees)."""
    t = np.asarray(t, dtype=np.float64)
    if reorder:
        perm, signs = signed_permutation(t)
    else:
        perm, signs = np.arange(t.shape[0]), np.ones(t.shape[0])
        if np.linalg.det(t) < 0:
            signs[int(np.argmin(np.diag(t)))] = -1.0
    r = t @ _perm_matrix(perm, signs).T
    steps = givens_steps(r, tol=tol, max_orders=max_orders)
    return RotationSteps(steps, perm, signs, min_steps_bound(r, tol=tol))
