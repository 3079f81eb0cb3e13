"""NaN-aware statistics over replicates: numpy's quantiles for all columns at once, and silence for the warnings
of empty slices that NaN-by-design inputs give (absent sorts, flagless factors, cells without replicates)."""

from __future__ import annotations

import numpy as np

__all__ = ["nanquantile", "quiet_nan_warnings"]


def nanquantile(x, probs) -> np.ndarray:
    """``np.nanquantile(x, probs, axis=0)`` (linear interpolation = R's quantile type 7; NaN ignored, NaN where a
    column has no value), with numpy's arithmetic (index (n - 1) p, its two-sided lerp) but for all columns at once
    (numpy loops over the columns of an array with NaNs). Shape ``(len(probs),) + x.shape[1:]``."""
    x = np.asarray(x, dtype=float)
    s = np.sort(x, axis=0)  # NaN sort last
    n = (~np.isnan(x)).sum(axis=0)
    out = []
    for p in probs:
        h = (n - 1) * float(p)
        lo = np.floor(h)
        t = h - lo
        i = np.clip(lo, 0, None).astype(np.int64)
        a = np.take_along_axis(s, i[None], axis=0)[0]
        b = np.take_along_axis(s, np.clip(i + 1, None, np.maximum(n - 1, 0))[None], axis=0)[0]
        d = b - a
        v = np.where(t >= 0.5, b - d * (1 - t), a + d * t)
        out.append(np.where(n > 0, v, np.nan))
    return np.array(out)


class quiet_nan_warnings:
    """Silence numpy's RuntimeWarnings of empty or all-NaN slices ("mean of empty slice"): absent sorts, flagless
    factors and cells without replicates give NaN on purpose (the bootstrap summaries and :mod:`qvalid.checks.tables`)."""

    def __enter__(self):
        import warnings

        self._w = warnings.catch_warnings()
        self._w.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc):
        return self._w.__exit__(*exc)
