"""KADE/PQMethod rounding: half away from zero, the half detected by exact floating equality.

KADE rounds nearly every intermediate result with ``evenRound(value, precision)``
(``src/renderer/src/Utils/evenRound.js:10-40``, mode ``'default'``): v = value * 10^p; when ``v % 1`` is exactly
+-0.5 the result is ``floor(v) + (v > 0)`` (half away from zero), otherwise ``Math.round(v)`` (nearest); then
divided by 10^p. JavaScript's ``%`` keeps the sign of the dividend, like C's ``fmod`` (not Python's ``%``, spec
trap 2). Both functions below do the same IEEE operations in the same order, so they agree with KADE bit for bit.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["kround", "kround1", "ksum"]


def kround(x, digits: int) -> np.ndarray:
    """KADE's ``evenRound(x, digits)`` on an array (elementwise).

    >>> kround([0.125, -0.125, 0.135, 2.5e-5], 2).tolist()
    [0.13, -0.13, 0.14, 0.0]
    """
    m = 10.0 ** int(digits)
    v = np.asarray(x, dtype=np.float64) * m
    half = np.fmod(v, 1.0) == 0.5 * np.sign(v)  # v = 0 counts as a "half" in KADE too; it stays 0
    return np.where(half, np.floor(v) + (v > 0), np.rint(v)) / m


def kround1(x: float, digits: int) -> float:
    """:func:`kround` for one Python float (used in the inherently sequential loops, ~10x faster than numpy)."""
    m = 10.0 ** digits
    v = x * m
    if v != v or v in (math.inf, -math.inf):
        return v / m
    f = math.fmod(v, 1.0)
    if v > 0 and f == 0.5:
        return (math.floor(v) + 1) / m
    if v < 0 and f == -0.5:
        return math.floor(v) / m
    if v == 0:
        return v / m
    return round(v) / m  # not a half: the nearest integer, as Math.round


def ksum(values, digits: int = 8) -> float:
    """KADE's ``sumArrayValues`` (``Utils/sumArrayValues.js``): lodash ``reduce`` without a start value, each
    partial sum rounded: ``round(round(v0 + v1) + v2) ...`` (a single value comes back unrounded).

    Inherently sequential (every partial sum is rounded), so a Python loop over floats.
    """
    it = iter(values.tolist() if isinstance(values, np.ndarray) else values)
    total = next(it)
    for v in it:
        total = kround1(total + v, digits)
    return total
