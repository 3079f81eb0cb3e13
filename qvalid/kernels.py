"""Compiled versions of qvalid's R-exact sequential loops, and the switch between them and the numpy code.

On a small study most of ``analyze()``'s time was the fixed cost of numpy calls in loops that are sequential by
nature: the centroid's reflections and communality iterations (R/centroid.R), varimax's iterations with one
LAPACK SVD each (R's ``stats::varimax``), and on large studies the long double products of R's exact ``cor()``.
``qvalid/_kernels.c`` runs those loops in C (issue 24; docs/performance.md says what each bought).

The C code does the same IEEE operations in the same order as the numpy code it replaces, so both give the same
bits: numpy's summation orders are reproduced, BLAS and LAPACK (dgemm, dger, dgesdd) are called through scipy's
own function pointers with the arguments numpy and scipy pass, long double is x87 extended as numpy's. The numpy
code stays the reference and the fallback: it runs when the extension was not built (no C compiler), when
``QVALID_KERNELS=numpy`` is set, or when the import-time check below finds that the C helpers would not reproduce
this numpy's bits (e.g. an optimised BLAS whose products are not summed in order, or long double that is not
80-bit). ``tests/test_kernels.py`` runs both paths on the same inputs and compares the bytes.

Each function returns None when the compiled path is off; the caller then runs its numpy code.
"""

from __future__ import annotations

import os
from contextlib import contextmanager

import numpy as np

try:
    from . import _kernels as _c
except ImportError:  # pragma: no cover (the extension is optional: no C compiler at install time)
    _c = None

__all__ = ["available", "enabled", "use", "varimax", "centroid", "pearson", "pearson_exact", "gram",
           "CENTROID_OK", "CENTROID_FALLBACK", "CENTROID_CLOSE"]

#: :func:`centroid` status: done; a guard of the numpy code trips here (run it: it raises or warns); a decision
#: was close and ``stop_when_close`` was asked.
CENTROID_OK, CENTROID_FALLBACK, CENTROID_CLOSE = 0, 1, 2


def _matches_numpy() -> bool:
    """Do the C helpers give this numpy's bits? Sums (pairwise, long double), argmin and a product that reference
    BLAS sums in order; False disables the compiled path (the numpy code is then used throughout)."""
    if _c.LD_MANT_DIG != np.finfo(np.longdouble).nmant + 1 or _c.LD_MANT_DIG != 64:
        return False
    rng = np.random.default_rng(20261206)
    for n in (1, 5, 8, 100, 129, 1000, 9000):
        a = rng.normal(size=n) * 10.0 ** rng.uniform(-6, 6, size=n)
        if _c.probe("sum", a) != a.sum() or _c.probe("argmin", a) != a.argmin():
            return False
        if _c.probe("seqsum_ld", a) != float(np.add.accumulate(a, dtype=np.longdouble)[-1]):
            return False
    z = rng.normal(size=(37, 13)) * 10.0 ** rng.uniform(-3, 3, size=(37, 13))
    out = np.empty((13, 13))
    _c.gram(z, out)
    return out.tobytes() == (z.T @ z).tobytes() and out.tobytes() == (z.T.copy() @ z).tobytes()


_AVAILABLE = _c is not None and _matches_numpy()
_ON = [_AVAILABLE and os.environ.get("QVALID_KERNELS", "c") != "numpy"]


def available() -> bool:
    """Whether the compiled kernels are built and reproduce this numpy's bits."""
    return _AVAILABLE


def enabled() -> bool:
    """Whether qvalid uses the compiled kernels now (available, and not switched off)."""
    return _ON[0]


@contextmanager
def use(compiled: bool):
    """Use the compiled kernels (if available) or the numpy code inside a ``with`` block (tests run both)."""
    before = _ON[0]
    _ON[0] = bool(compiled) and _AVAILABLE
    try:
        yield
    finally:
        _ON[0] = before


def varimax(x: np.ndarray, sc, eps: float, max_iter: int):
    """``qvalid.rotate._varimax_one`` compiled: ``(rotated loadings, T, iterations, converged)``, or None.

    ``x`` (p, k) the loadings (already divided by ``sc`` when Kaiser-normalised), ``sc`` (p, 1) or None.
    Raises ``np.linalg.LinAlgError`` where the numpy code does (LAPACK's SVD did not converge).
    """
    if not _ON[0]:
        return None
    x = np.ascontiguousarray(x, dtype=np.float64)
    p, k = x.shape
    z = np.empty((p, k))
    tt = np.empty((k, k))
    if sc is not None:
        sc = np.ascontiguousarray(sc, dtype=np.float64)
    it, converged, info = _c.varimax(x, z, tt, sc, float(eps), int(max_iter))
    if info:
        raise np.linalg.LinAlgError(f"varimax: SVD did not converge (LAPACK info={info})")
    return z, tt, it, bool(converged)


def centroid(m: np.ndarray, nfactors: int, spc: float, max_iter: int, max_steps: int, stop_when_close: bool):
    """``qvalid.extract.centroid``'s loop compiled, on the working copy ``m`` (n, n) of the correlations (it is
    overwritten): ``(status, loadings, iterations, reflections, close)`` or None. Status
    :data:`CENTROID_FALLBACK`: a guard of the numpy code trips (run the numpy code on the correlations: it raises
    or warns exactly as before); :data:`CENTROID_CLOSE`: a decision was close and ``stop_when_close``."""
    if not _ON[0] or m.shape[0] < 2 or m.dtype != np.float64 or not m.flags.c_contiguous:
        return None
    out = np.empty((m.shape[0], int(nfactors)))
    status, iters, refl, close = _c.centroid(m, out, float(spc), int(max_iter), int(max_steps),
                                             bool(stop_when_close))
    return status, out, iters, refl, close


def pearson(x: np.ndarray):
    """``qvalid.correlation._pearson`` of one (m, n) matrix compiled (unit columns, z'z, clamp, diagonal 1), or
    None."""
    if not _ON[0] or x.ndim != 2 or 0 in x.shape:
        return None
    x = np.ascontiguousarray(x, dtype=np.float64)
    out = np.empty((x.shape[1], x.shape[1]))
    _c.pearson(x, np.empty(x.shape), out)
    return out


def pearson_exact(x: np.ndarray):
    """``qvalid.correlation._pearson_exact`` of one (m, n) matrix compiled (R's ``cor()`` bit for bit), or None."""
    if not _ON[0] or x.ndim != 2 or 0 in x.shape:
        return None
    x = np.ascontiguousarray(x, dtype=np.float64)
    out = np.empty((x.shape[1], x.shape[1]))
    _c.pearson_exact(x, out)
    return out


def gram(z: np.ndarray):
    """``z.T @ z`` for one (m, n) matrix, summed in order as reference BLAS does, or None."""
    if not _ON[0] or z.ndim != 2:
        return None
    z = np.ascontiguousarray(z, dtype=np.float64)
    out = np.empty((z.shape[1], z.shape[1]))
    _c.gram(z, out)
    return out
