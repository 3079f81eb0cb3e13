"""Tucker's congruence coefficient and the factor matching built on it (used by the checks, the bootstrap, the
number-of-factors sensitivity and the recovery of simulated studies).

Tucker (1951); thresholds in Lorenzo-Seva & ten Berge (2006, Methodology 2(2):57-64): >= 0.95 the factors can be
considered equal, 0.85-0.94 fair similarity.
"""

from __future__ import annotations

import numpy as np

__all__ = ["tucker_congruence", "align_factors"]


def tucker_congruence(x, y) -> np.ndarray:
    """Tucker's congruence coefficients between the columns of x and y: phi_ij = x_i'y_j / sqrt(x_i'x_i y_j'y_j).

    x, y of shape (..., n, k): a leading batch dimension gives one (k, k) matrix per item (the bootstrap).
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    num = np.swapaxes(x, -1, -2) @ y
    den = np.sqrt((x * x).sum(axis=-2)[..., :, None] * (y * y).sum(axis=-2)[..., None, :])
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / den, 0.0)


def align_factors(a_loadings, b_loadings) -> tuple[tuple, tuple, tuple]:
    """Match b's factors to a's: Hungarian assignment maximising total |congruence|, sign = sign of congruence.

    Returns ``(permutation, signs, congruence)``: a's factor j corresponds to ``signs[j]`` times b's factor
    ``permutation[j]``, with signed congruence ``congruence[j]``.
    """
    from scipy.optimize import linear_sum_assignment  # heavy (~0.3 s): imported when first needed

    phi = tucker_congruence(a_loadings, b_loadings)
    rows, cols = linear_sum_assignment(-np.abs(phi))
    perm = tuple(int(c) for c in cols[np.argsort(rows)])
    cong = tuple(float(phi[j, p]) for j, p in enumerate(perm))
    signs = tuple(-1 if c < 0 else 1 for c in cong)
    return perm, signs, cong
