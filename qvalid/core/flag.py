"""Flagging of defining Q-sorts."""

from __future__ import annotations

import math

import numpy as np

from . import kernels
from .rounding import kround

__all__ = ["flag", "kade_flag"]


def flag(loadings, n_statements: int, *, z: float = 1.96, threshold: float | None = None,
         majority: bool = True) -> np.ndarray:
    """Automatic pre-flagging of defining sorts.

    Default (qmethod ``qflag()``, R/qflag.R:8-19): sort i is flagged on factor f when

        a_if^2 > h_i^2 - a_if^2   (majority: the factor explains more than all others together)
        and |a_if| > z / sqrt(n_statements)   (significant; z = 1.96 for p < .05)

    Both inequalities are strict and use absolute values, so negative loadings are flagged (qmethod #376).
    With ``threshold`` set, the significance test becomes ``|a_if| >= threshold`` (a published cut-off, e.g. the
    NAV study's 0.42, applied as "at least"); ``majority=False`` drops the first test (then a sort can be flagged
    on several factors).

    Parameters
    ----------
    loadings : array-like of shape (..., n_sorts, k)
    n_statements : int
    z : float
    threshold : float, optional
    majority : bool

    Returns
    -------
    ndarray of bool, shape (..., n_sorts, k)
    """
    lim = z / math.sqrt(n_statements) if threshold is None else threshold  # correctly rounded, as np.sqrt
    if isinstance(lim, (int, float)):  # one study, compiled: the same decisions
        fast = kernels.flag(loadings, float(lim), threshold is not None, majority)
        if fast is not None:
            return fast
    a = np.asarray(loadings, dtype=np.float64)
    a2 = a * a
    if threshold is None:
        ok = np.abs(a) > lim
    else:
        ok = np.abs(a) >= lim
    if majority:
        ok &= a2 > a2.sum(axis=-1, keepdims=True) - a2
    return ok


def kade_flag(loadings, n_statements: int, *, z: float = 1.96, threshold: float | None = None,
              majority: bool = True) -> np.ndarray:
    """KADE's automatic flagging ("Auto-Flag"; PQMethod's pre-flagging), KADE
    ``Rotation/varimaxLogic/2calculateSigCriterionValues.js:9-75`` and ``2calculateCommunalities.js``.

    With s_ik = round5(a_ik^2), L = round5(z * (1 / sqrt(n_statements))) and L2 = round5(L^2), sort i is flagged on
    factor k when s_ik > L2 and, with ``majority`` (KADE's default "majority of common variance"),
    s_ik > round5(sum_{j != k} s_ij). Both tests are strict ``>`` as in KADE's code (the KADE help text and the
    issue speak of "at least"; the code, which produced the workbooks, is followed). Negative loadings are
    flagged too. KADE's p-levels map to z: 0.2 -> 1.28, 0.15 -> 1.44, 0.1 -> 1.645, 0.05 -> 1.96, 0.01 -> 2.575,
    0.005 -> 2.807, 0.001 -> 3.291, 0.0005 -> 3.481, 0.0001 -> 3.891 (``autoFlagFactors.js:22-33``).
    ``threshold`` (not a KADE option) replaces L. A sort can be flagged on several factors only without
    ``majority``.
    """
    a = np.asarray(loadings, dtype=np.float64)
    s = kround(a * a, 5)
    k = a.shape[-1]
    others = np.zeros_like(s)
    for j in range(k):  # KADE: reduce over the other factors in order (k <= 8), then round
        rest = np.delete(s, j, axis=-1)
        others[..., j] = kround(np.cumsum(rest, axis=-1)[..., -1], 5) if k > 1 else 0.0
    lim = kround(z * (1.0 / math.sqrt(n_statements)), 5) if threshold is None else float(threshold)
    ok = s > kround(lim * lim, 5)
    if majority:
        ok &= s > others
    return ok
