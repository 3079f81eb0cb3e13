"""Compiled versions of qvalid's R-exact sequential loops, and the switch between them and the numpy code.

On a small study most of ``analyze()``'s time was the fixed cost of numpy calls in loops that are sequential by
nature: the centroid's reflections and communality iterations (R/centroid.R), varimax's iterations with one
LAPACK SVD each (R's ``stats::varimax``), and on large studies the long double products of R's exact ``cor()``.
``qvalid/core/ckernels.c`` runs those loops in C (issue 24; docs/performance.md says what each bought).

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
from scipy.linalg.blas import dger as _dger

try:
    from . import ckernels as _c
except ImportError:  # pragma: no cover (the extension is optional: no C compiler at install time)
    _c = None

__all__ = ["available", "enabled", "use", "varimax", "centroid", "pearson", "pearson_exact", "unit_columns", "gram",
           "gram_rows", "flag",
           "flag_summary", "weights", "zscores", "factor_arrays", "characteristics", "kept", "stars", "close_ties",
           "off_grid",
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
        if n % 2 == 0 and _c.probe("colsum2", a) != a.reshape(-1, 2).sum(axis=0)[0]:
            return False
    zeros = np.array([-0.0, -0.0])  # the sign of a sum of negative zeros (numpy starts its sums from +0.0 or -0.0)
    for name, numpy_says in (("sum", zeros.sum()), ("colsum2", zeros.reshape(1, 2).sum(axis=0)[0])):
        if np.signbit(_c.probe(name, zeros)) != np.signbit(numpy_says):
            return False
    z = rng.normal(size=(37, 13)) * 10.0 ** rng.uniform(-3, 3, size=(37, 13))
    out = np.empty((13, 13))
    _c.gram(z, out)
    if out.tobytes() != (z.T @ z).tobytes() or out.tobytes() != (z.T.copy() @ z).tobytes():
        return False
    rows = np.empty((37, 37))
    _c.gram_rows(z, rows)
    if rows.tobytes() != (z @ z.T).tobytes():
        return False
    # the centroid's residual: scipy's dger (qvalid.extract._subtract_outer), zeros and signed zeros included
    g = rng.normal(size=40)
    g[[3, 17]] = 0.0, -0.0
    m = rng.normal(size=(40, 40))
    m[5, :] = -0.0
    mine = m.copy()
    _c.subtract_outer(mine, g)
    return mine.tobytes() == _dger(-1.0, g, g, a=m.T.copy(order="F"), overwrite_a=1).T.tobytes()


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


_F64 = np.dtype(np.float64)


def _c_f64(*arrays) -> bool:
    """The compiled path is on and every array is a C-ordered float64 ndarray. The numpy code's summation order
    depends on the memory layout (numpy sums a contiguous axis pairwise, another one in order), so the kernels,
    which reproduce the C-ordered case, take nothing else; the caller's numpy code handles the rest."""
    if not _ON[0]:
        return False
    for a in arrays:
        if type(a) is not np.ndarray or a.dtype is not _F64 or not a.flags.c_contiguous:
            return False
    return True


def _bool(flags) -> np.ndarray:
    return flags if type(flags) is np.ndarray and flags.dtype == bool and flags.flags.c_contiguous else \
        np.ascontiguousarray(flags, dtype=bool)


def varimax(x: np.ndarray, sc, eps: float, max_iter: int, *, normalize: bool = False):
    """``qvalid.core.rotate._varimax_one`` compiled: ``(rotated loadings, T, iterations, converged)``, or None.

    ``x`` (p, k) the loadings, already divided by ``sc`` (p, 1) when Kaiser-normalised; or, with ``normalize``, the
    raw loadings, normalised here as ``qvalid.core.rotate.varimax`` does (``sc`` None). Raises
    ``np.linalg.LinAlgError`` where the numpy code does (LAPACK's SVD did not converge).
    """
    if not (_c_f64(x) if sc is None else _c_f64(x, sc)) or x.ndim != 2 or 0 in x.shape:
        return None
    p, k = x.shape
    z = np.empty((p, k))
    tt = np.empty((k, k))
    done = _c.varimax(x, z, tt, sc, float(eps), int(max_iter), bool(normalize))
    if done is None:  # a NaN or an infinity: the numpy code
        return None
    it, converged, info = done
    if info:
        raise np.linalg.LinAlgError(f"varimax: SVD did not converge (LAPACK info={info})")
    return z, tt, it, bool(converged)


def centroid(r: np.ndarray, nfactors: int, spc: float, max_iter: int, max_steps: int, stop_when_close: bool):
    """``qvalid.extract.centroid`` compiled, on the correlations ``r`` (n, n; not modified):
    ``(status, loadings, iterations, reflections, close)`` or None. Status :data:`CENTROID_FALLBACK`: a guard of the
    numpy code trips (run the numpy code: it raises or warns exactly as before); :data:`CENTROID_CLOSE`: a decision
    was close and ``stop_when_close`` (nothing else is valid)."""
    if not _c_f64(r) or r.ndim != 2 or r.shape[0] < 2 or r.shape[0] != r.shape[1]:
        return None
    out = np.empty((r.shape[0], int(nfactors)))
    status, iters, refl, close = _c.centroid(r, out, float(spc), int(max_iter), int(max_steps),
                                             bool(stop_when_close))
    return status, out, iters, refl, close


def _scores_ok(x) -> bool:
    return _ON[0] and type(x) is np.ndarray and x.ndim == 2 and x.flags.c_contiguous and \
        x.dtype in (np.float64, np.int64) and x.shape[0] >= 2 and x.shape[1] >= 2


def pearson(x: np.ndarray):
    """``qvalid.correlation._pearson`` of one (m, n) matrix of scores (float64, or int64 as the numpy code
    converts it) compiled: unit columns, z'z, clamp, diagonal 1; or None."""
    if not _scores_ok(x):
        return None
    out = np.empty((x.shape[1], x.shape[1]))
    ok = _c.pearson(x if x.dtype == np.float64 else x.astype(np.float64), np.empty(x.shape), out)
    return out if ok else None


def pearson_exact(x: np.ndarray):
    """``qvalid.correlation._pearson_exact`` of one (m, n) matrix of scores compiled (R's ``cor()`` bit for bit),
    or None."""
    if not _scores_ok(x):
        return None
    out = np.empty((x.shape[1], x.shape[1]))
    done = _c.pearson_exact(x if x.dtype == np.float64 else x.astype(np.float64), out)
    return out if done >= 0 else None


def unit_columns(x: np.ndarray):
    """``qvalid.core.correlation.unit_columns`` (Pearson) of one (m, n) matrix of scores compiled, or None."""
    if not _scores_ok(x):
        return None
    z = np.empty(x.shape)
    return z if _c.pearson(x if x.dtype == np.float64 else x.astype(np.float64), z, None) else None


def gram(z: np.ndarray):
    """``z.T @ z`` for one C-ordered (m, n) float64 matrix, summed in order as reference BLAS does, or None."""
    if not _c_f64(z) or z.ndim != 2:
        return None
    out = np.empty((z.shape[1], z.shape[1]))
    return out if _c.gram(z, out) else None


def gram_rows(z: np.ndarray):
    """``z @ z.T`` for one C-ordered (m, n) float64 matrix, summed in order as reference BLAS does, or None."""
    if not _c_f64(z) or z.ndim != 2:
        return None
    out = np.empty((z.shape[0], z.shape[0]))
    return out if _c.gram_rows(z, out) else None


def flag(a: np.ndarray, lim: float, threshold: bool, majority: bool):
    """``qvalid.flag.flag`` of one (n_sorts, k) matrix: significance ``|a| > lim`` (``>=`` with ``threshold``),
    and the majority test; or None."""
    if not _c_f64(a) or a.ndim != 2 or a.shape[1] > 64:
        return None
    out = np.empty(a.shape, dtype=bool)
    _c.flag(a, out, float(lim), bool(threshold), bool(majority))
    return out


def flag_summary(a: np.ndarray, flags):
    """``(negative loading flagged, a sort flagged on several factors, [factor has no flag, ...], a flagged
    |loading| >= 1)`` for one (n_sorts, k) solution, or None."""
    if not _c_f64(a) or a.ndim != 2 or np.shape(flags) != a.shape:
        return None
    return _c.flag_summary(a, _bool(flags))


def weights(a: np.ndarray, flags):
    """``qvalid.scores.weights`` of one (n_sorts, k) solution, or None."""
    if not _c_f64(a) or a.ndim != 2 or np.shape(flags) != a.shape:
        return None
    out = np.empty(a.shape)
    _c.weights(a, _bool(flags), out)
    return out


def zscores(scores: np.ndarray, w: np.ndarray):
    """``qvalid.scores.zscores`` of one study (scores float64 or int64), or None (also when a weight is infinite:
    the numpy code's limit rule)."""
    if not (_scores_ok(scores) and _c_f64(w)) or w.ndim != 2 or w.shape[1] > 64 or w.shape[0] != scores.shape[1]:
        return None
    out = np.empty((scores.shape[0], w.shape[1]))
    return out if _c.zscores(scores, w, out) else None


def factor_arrays(z: np.ndarray, qscores: np.ndarray):
    """``qvalid.scores.factor_arrays`` with ``ties="qmethod"`` of one study, or None (also when a column of z is
    partly NaN; a factor without flags, all NaN, gets NaN)."""
    if not _c_f64(z) or z.ndim != 2 or np.shape(qscores) != z.shape[:1]:
        return None
    out = np.empty(z.shape)
    return out if _c.factor_arrays(z, np.ascontiguousarray(qscores, dtype=np.float64), out) else None


def characteristics(a: np.ndarray, flags, z: np.ndarray, av_rel_coef: float):
    """The arrays of ``qvalid.characteristics.characteristics`` with ``se_rule="qmethod"`` for one study:
    ``(nload, eigenvals, expl_var, reliability, se_fscores, cor_zsc, sd_dif)``, or None (also when z has a NaN, a
    factor without flags: which NaN numpy's loops propagate is theirs to say)."""
    if not _c_f64(a, z) or a.ndim != 2 or z.ndim != 2 or np.shape(flags) != a.shape or a.shape[1] > 64 or \
            z.shape[1] != a.shape[1] or z.shape[0] < 2:
        return None
    k = a.shape[1]
    nload = np.empty(k, dtype=np.int64)
    ev, pct, rel, se = np.empty(k), np.empty(k), np.empty(k), np.empty(k)
    cor, sed = np.empty((k, k)), np.empty((k, k))
    if not _c.characteristics(a, _bool(flags), z, float(av_rel_coef), nload, ev, pct, rel, se, cor, sed):
        return None
    return nload, ev, pct, rel, se, cor, sed


def kept(z: np.ndarray):
    """The factors (column indices, a tuple) whose z-scores have no NaN, or None."""
    if not _c_f64(z) or z.ndim != 2 or z.shape[1] > 64:
        return None
    return _c.kept(z)


def stars(z: np.ndarray, sed: np.ndarray, a: np.ndarray, b: np.ndarray, mults: np.ndarray):
    """The star levels of ``qvalid.characteristics.distinguishing`` (qmethod rule): ``(diffs, level, code)`` with
    ``diffs = z[:, a] - z[:, b]``, ``level`` the number of ``mults`` exceeded by ``|diffs|`` (as
    ``|diffs| > sed[a, b] * mult``) and ``code`` each statement's significant pairs as bits; or None."""
    if not _c_f64(z, sed, mults) or z.ndim != 2 or len(a) > 62 or len(mults) > 16:
        return None
    m, p = z.shape[0], len(a)
    diffs = np.empty((m, p))
    level = np.empty((m, p), dtype=np.int64)
    code = np.empty(m, dtype=np.int64)
    _c.stars(z, sed, np.ascontiguousarray(a, dtype=np.int64), np.ascontiguousarray(b, dtype=np.int64), mults,
             diffs, level, code)
    return diffs, level, code


def close_ties(z: np.ndarray, scores, w, rel: float):
    """``qvalid.core.scores.close_ties`` of one study compiled (a bool), or None."""
    if not _c_f64(z) or z.ndim != 2:
        return None
    if scores is not None:
        if not (_scores_ok(scores) and _c_f64(w)) or w.ndim != 2 or w.shape != (scores.shape[1], z.shape[1]) or \
                scores.shape[0] != z.shape[0]:
            return None
    return _c.close_ties(z, scores, None if scores is None else w, float(rel))


def off_grid(arrays: np.ndarray, qscores):
    """For each factor of one study, None when its array (with no NaN) holds the grid's scores exactly as often as
    the grid does, else ``[(score, statements given it, statements the grid has), ...]`` for the scores given too
    often, ascending (``qvalid.diagnostics.grid_warnings``); a tuple, or None."""
    if not _c_f64(arrays) or arrays.ndim != 2 or np.shape(qscores) != arrays.shape[:1]:
        return None
    return _c.off_grid(arrays, np.ascontiguousarray(qscores, dtype=np.float64))
