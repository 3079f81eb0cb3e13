"""R's summation, reproduced: sequential sums in long double, rounded to double.

R accumulates ``colSums``/``rowSums`` (src/main/array.c) and ``sum`` (src/main/summary.c) in a C ``long double``,
element after element. qmethod's centroid takes exact decisions on such sums (``min(colSums(tmat)) ==
colSums(tmat)``, ``all(colSums(tmat) > 0)``), so where such a decision is within rounding of a tie qvalid takes it
on these sums instead of numpy's double ones. ``np.cumsum`` is sequential;
numpy's ``longdouble`` is the same 80-bit x87 format as R's ``long double`` on x86-64 (on platforms where it is
plain double, results are still correct to rounding, but last-bit ties may fall differently from R).
"""

from __future__ import annotations

import numpy as np

__all__ = ["seqsum", "colsums", "colsums_batch"]

LD = np.longdouble


def seqsum(a, axis: int = -1) -> np.ndarray:
    """Sequential long double sum along ``axis`` (first to last element), still in long double."""
    c = np.add.accumulate(a, axis=axis, dtype=LD)  # = np.cumsum: each element made long double (exactly), in order
    return c[-1] if c.ndim == 1 else np.take(c, -1, axis=axis)


def colsums(m, sign=None) -> np.ndarray:
    """R's ``colSums(m)``, or of the reflected matrix S m S when ``sign`` (the diagonal of S) is given.

    Negation is exact, so the reflected sums are sign_k * colSums(sign_i m_ik).
    """
    a = np.ascontiguousarray(m, dtype=np.float64)
    if sign is not None:
        a = a * sign[:, None]
    # a reduction over axis 0 of a C-contiguous matrix adds row after row (numpy's pairwise summation applies
    # only along the contiguous axis), so this is the same sequential long double sum as seqsum, without the
    # long double copy of the matrix (tests/test_numerics.py checks the two agree)
    out = np.add.reduce(a, axis=0, dtype=LD).astype(np.float64)
    return out if sign is None else sign * out


def colsums_batch(m, sign) -> np.ndarray:
    """:func:`colsums` of each reflected matrix S_b m_b S_b of a stack m (B, n, n), signs (B, n): the same sequential
    long double sums (over axis 1, row after row), rounded to double."""
    a = np.asarray(m, dtype=np.float64) * sign[:, :, None]
    return sign * np.add.reduce(a, axis=1, dtype=LD).astype(np.float64)
