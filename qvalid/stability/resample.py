"""Resample index matrices: balanced (qmboots' scheme) or plain bootstrap, and qmboots' own ``$resamples``."""

from __future__ import annotations

import numpy as np

__all__ = ["balanced_indices", "plain_indices", "from_qmboots"]


def balanced_indices(n: int, n_resamples: int, rng: np.random.Generator) -> np.ndarray:
    """Balanced bootstrap (Davison & Hinkley 1997, 9.2.1), as R qmethod's ``qmboots`` (R/qmboots.R:69-73).

    The vector ``0..n-1`` repeated ``n_resamples`` times is randomly permuted and cut into ``n_resamples`` rows of
    length ``n``: every unit (sort or statement) appears exactly ``n_resamples`` times overall, duplicates within a
    row are allowed. Returns an int64 array of shape (n_resamples, n).
    """
    return rng.permutation(np.tile(np.arange(n, dtype=np.int64), n_resamples)).reshape(n_resamples, n)


def plain_indices(n: int, n_resamples: int, rng: np.random.Generator) -> np.ndarray:
    """Ordinary bootstrap: each row draws ``n`` units independently with replacement. Shape (n_resamples, n)."""
    return rng.integers(0, n, size=(n_resamples, n), dtype=np.int64)


def from_qmboots(resamples) -> np.ndarray:
    """qmboots' ``$resamples`` (a data frame of n_qsorts rows x n_steps columns ``bsampl_i``, 1-based sort numbers)
    as qvalid's index matrix: shape (n_steps, n_qsorts), 0-based."""
    r = np.asarray(resamples)
    if r.ndim != 2 or not np.issubdtype(r.dtype, np.number) or (r != np.round(r)).any() or r.min() < 1:
        raise ValueError("qmboots resamples must be a matrix of 1-based sort numbers (sorts x steps)")
    return (r.T - 1).astype(np.int64)
