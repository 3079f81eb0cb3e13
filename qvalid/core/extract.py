"""Factor extraction from a correlation matrix between Q-sorts: centroid and principal components.

Both return an :class:`Extraction` (unrotated loadings of shape (n_sorts, nfactors) plus diagnostics).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.linalg.blas import dger as _dger

from .correlation import correlate
from .notes import Note
from .rounding import kround, kround1, ksum
from .rsum import colsums, colsums_batch, seqsum

__all__ = ["Extraction", "BatchExtraction", "centroid", "centroid_on_r_bits", "centroid_batch", "centroid_strict",
           "principal", "psych_sign", "psych_tidy", "brown_centroid", "kade_principal"]


@dataclass(frozen=True)
class Extraction:
    """Unrotated loadings and how they were obtained.

    Attributes
    ----------
    loadings : ndarray of shape (n_sorts, nfactors)
    eigenvalues : ndarray of shape (nfactors,)
        Column sums of squared loadings (for PCA, the eigenvalues of R).
    iterations : tuple of int
        Communality iterations per factor (centroid only).
    reflections : tuple of tuple of int
        Indices of the sorts reflected for each factor, in order (centroid only).
    warnings : tuple of Note
        Coded remarks (registered as warnings in :data:`qvalid.diagnostics.WARNINGS`).
    residual : ndarray of shape (n_sorts, n_sorts) or None
        The residual correlations after the last factor (KADE's Brown centroid and Horst 5.5 only).
    close : bool
        Centroid only: some decision was within rounding of a tie (two minimum column sums, a minimum and 0, or
        a change of squared loading and ``spc``), so it rests on the last bits of the correlation matrix; R's own bits
        (``correlate(..., exact=True)``) are then needed to take it as R does.
    """

    loadings: np.ndarray
    eigenvalues: np.ndarray
    iterations: tuple = ()
    reflections: tuple = ()
    warnings: tuple = field(default=())
    residual: np.ndarray | None = None
    close: bool = False


def centroid(r, nfactors: int = 7, *, spc: float = 1e-5, max_iter: int = 10_000,
             max_reflections: int | None = None) -> Extraction:
    """Centroid factors, exactly as qmethod's ``centroid()`` (F. Hermans; R/centroid.R, after Brown 1980 pp. 208-224).

    For each factor, on the working matrix M (the correlations, later the residuals):

    1. the diagonal of M is set to 0;
    2. reflection: while not every column sum of M is > 0, the column(s) with the minimum sum are reflected
       (row and column negated) and recorded; a sort may be reflected several times;
    3. communalities: d = colsum/(n-1); t = colsum + d; f = t/sqrt(sum t); then repeat d <- f^2 until every
       |d - f^2| < ``spc``;
    4. the factor is f with the entries of reflected sorts negated back (once per reflection);
    5. residual M <- M - f f' in the reflected space, then reflected back.

    No sorting of factors and no sign tidying (qmethod-r-spec §2.2, trap 4).

    Reflection is inherently sequential (each step depends on the last), so it is a Python loop; each step is
    O(n) thanks to incrementally updated column sums (reflecting sort j changes every other column sum by
    -2 M[j, k]). R's arithmetic is followed where it decides anything: close reflection decisions, the column
    sums that start the communalities and R's ``sum()`` are R's sequential long double sums
    (:mod:`qvalid.core.rsum`), and the residual entries are rounded once, as R's row update. With several tied
    minimum columns R's ``tmat[, oo] <- vec`` assignment fills the columns from a transposed block
    (column-major order); that quirk is reproduced exactly. So given R's own correlation matrix, bit for bit
    (:func:`qvalid.core.correlation.correlate` with ``exact=True``), the centroid follows R to the last bit;
    ``Extraction.close`` says when a decision (a reflection, or the last communality test) was close enough for
    those bits to matter.

    Parameters
    ----------
    r : array-like of shape (n_sorts, n_sorts)
        Symmetric correlation matrix.
    nfactors : int
    spc : float
        Tolerance on the change of squared loadings (qmethod default 1e-5; Brown's hand method 0.02).
    max_iter : int
        Guard on communality iterations per factor (R has none and can loop forever): ``FloatingPointError``.
        Slow cases exist where R ends after more (14,196 and 71,147 iterations on two rank-deficient tie-heavy
        studies of issue 8, with meaningless loadings of 8 and 12); qvalid refuses those.
    max_reflections : int, optional
        Guard on reflections per factor, default 50 n + 1000 (R has none and loops forever on a column sum of
        exactly 0). When only rounding noise is left (nfactors > rank) the remaining factors are zero, with a
        warning; otherwise hitting the guard raises ``FloatingPointError``.

    Notes
    -----
    Verified against: qmethod 1.8.4 ``centroid()`` on lipset, k = 1..5, and on the studies and regression cases
    of reference/golden (1e-10; tied and duplicated sorts included).
    """
    m = np.array(r, dtype=np.float64, copy=True)
    n = m.shape[0]
    if m.ndim != 2 or m.shape[1] != n or not np.abs(m - m.T).max(initial=0.0) <= 100 * np.finfo(float).eps:
        raise ValueError("centroid needs a symmetric correlation matrix")
    warnings = []
    if nfactors > n:
        warnings.append(Note("centroid-nfactors-above-sorts",
                              f"nfactors={nfactors} is larger than the number of Q-sorts ({n}); "
                              "qmethod's centroid() allows this with a warning"))
    out = np.zeros((n, nfactors))
    iters, reflections = [], []
    max_steps = 50 * n + 1000 if max_reflections is None else max_reflections
    garbled = False  # set once R's tie quirk has made the working matrix asymmetric
    close = False
    for k in range(nfactors):
        m.flat[::n + 1] = 0.0  # the diagonal (np.fill_diagonal, without its per-call checks)
        try:
            sign, refl, explicit, cs, near = _reflect_to_positive_manifold(m, max_steps, explicit=garbled)
            close = close or near
            t = cs / (n - 1) + cs
            if not seqsum(t) > 0:
                raise FloatingPointError("centroid: the reflected column sums do not add up to a positive total")
        except FloatingPointError:
            r0 = np.asarray(r, dtype=np.float64)
            if np.abs(m).max(initial=0.0) > 1e-12 * np.abs(r0 - np.diag(np.diag(r0))).max(initial=0.0):
                raise
            # only rounding noise is left (nfactors > rank): checked here, off the hot path
            warnings.append(Note("centroid-residuals-exhausted",
                                  f"the residual correlations are exhausted after {k} factor(s): factors "
                                  f"{k + 1}..{nfactors} are zero (R's centroid() loops forever or returns NaN here)"))
            iters += [0] * (nfactors - k)
            reflections += [()] * (nfactors - k)
            break
        garbled = garbled or explicit
        d = cs / (n - 1)
        f = t / _sqrt(float(seqsum(t)))  # R's sum(): long double, sequential
        ff = f * f
        it = 0
        # the hot loop of the centroid (inherently sequential), kept to a few numpy calls per iteration:
        # max |d - f^2| < spc is R's all(abs(d - f^2) < spc), NaN included (NaN fails both)
        while not np.maximum.reduce(np.abs(d - ff), initial=0.0) < spc:
            if it >= max_iter:  # R has no cap and loops forever; its numbers would be meaningless anyway
                raise FloatingPointError(f"centroid: the communalities of factor {k + 1} did not converge in "
                                         f"{max_iter} iterations (R's centroid() has no cap: it loops forever "
                                         "or ends much later, on meaningless loadings)")
            d = ff
            t = cs + d
            f = t / _sqrt(float(seqsum(t)))
            ff = f * f
            it += 1
        close = close or np.abs(np.abs(d - ff) - spc).min() < 1e-12  # the stopping test within rounding of spc
        g = sign * f  # reflected sorts negated back
        out[:, k] = g
        # residual: R subtracts f f' in the reflected space, then negates rows/columns back (R/centroid.R:42-53);
        # with W unreflected that is W - g g' to the last bit (negation is exact). BLAS dger updates in place.
        if explicit:
            _subtract_outer(m, f)
            m *= sign[:, None]
            m *= sign[None, :]
        else:
            _subtract_outer(m, g)
        iters.append(it)
        reflections.append(tuple(refl))
    return Extraction(out, (out * out).sum(axis=0), tuple(iters), tuple(reflections), tuple(warnings), close=close)


def centroid_on_r_bits(scores, nfactors: int, *, cor_method: str = "pearson", spc: float = 1e-5, r=None):
    """qmethod's ``centroid(cor(dataset), ...)`` from the scores, every decision taken as R takes it: ``(r, ext)``.

    :func:`centroid` runs on the fast correlation ``r`` (computed when not given); when a decision was within
    rounding of a tie (``Extraction.close``) or a guard tripped (``FloatingPointError``, possibly a close decision
    taken the other way), it runs again on R's own ``cor()`` bits (``correlate(..., exact=True)``), which is then
    the ``r`` returned. Raises ``FloatingPointError`` only from that second run.
    """
    if r is None:
        r = correlate(scores, method=cor_method)
    try:
        ext = centroid(r, nfactors, spc=spc)
    except FloatingPointError:
        ext = None
    if ext is None or ext.close:
        r = correlate(scores, method=cor_method, exact=True)
        ext = centroid(r, nfactors, spc=spc)
    return r, ext


@dataclass(frozen=True)
class BatchExtraction:
    """Loadings of a stack of correlation matrices and the items to recompute singly.

    Attributes
    ----------
    loadings : ndarray of shape (B, n_sorts, nfactors)
    close : ndarray of bool, shape (B,)
        Items where a decision was too close to take in batch arithmetic (or failed): their loadings are not
        valid; :func:`centroid` on that matrix gives the exact result (or the error).
    """

    loadings: np.ndarray
    close: np.ndarray


def centroid_batch(r, nfactors: int, *, spc: float = 1e-5, ties: str = "joint",
                   max_iter: int = 10_000) -> BatchExtraction:
    """:func:`centroid` on a stack of correlation matrices (B, n, n) at once, for the bootstrap.

    The loops of the centroid run over the whole batch: reflection (each step reflects, in every item that still
    has a column sum <= 0, its minimum column, with the O(n) update of the column sums of :func:`centroid`) and the
    communality iteration are masked loops, so the number of numpy calls grows with the longest item, not with B.
    The arithmetic is :func:`centroid`'s operation for operation (double column sums while reflecting, R's long
    double sums for the communalities with ``ties="joint"``, residuals rounded once).

    ``ties="joint"``: where :func:`centroid` would take a decision on R's exact sums (a minimum column sum within
    rounding of 0 or of another column sum, including exact ties, which R resolves with its ``tmat[, oo] <- vec``
    quirk), the item is marked ``close`` and left for :func:`centroid` (the single-study path, which reproduces
    R). ``ties="strict"``: the first minimum column is reflected, one column at a time (a tie is no special case:
    the tied column is reflected at the next step if its sum is still <= 0); nothing is marked close except
    failures, and this function on one matrix is the single-study path of that rule.
    """
    m = np.array(r, dtype=np.float64, copy=True)
    if m.ndim != 3 or m.shape[1] != m.shape[2]:
        raise ValueError("centroid_batch needs a stack of square matrices (B, n, n)")
    if ties not in ("joint", "strict"):
        raise ValueError(f"unknown centroid tie rule {ties!r}; choose joint or strict")
    b, n, _ = m.shape
    out = np.zeros((b, n, nfactors))
    close = np.zeros(b, dtype=bool)
    diag = np.arange(n)
    rows = np.arange(b)
    max_steps = 50 * n + 1000
    for k in range(nfactors):
        m[:, diag, diag] = 0.0
        sign = np.ones((b, n))
        v = m.sum(axis=1)  # column sums, as m.sum(axis=0) per item in centroid()
        cs = v.copy()
        live = ~close  # items still reflecting
        snap_at, snap = n, None
        for step in range(max_steps):  # reflection: inherently sequential within an item, masked over items
            if not live.any():
                break
            j = cs.argmin(axis=1)
            low = cs[rows, j]
            if ties == "joint":
                tol = 1e-11 * (1.0 + np.abs(cs).max(axis=1))
                near = (np.abs(low) <= tol) | ((cs <= (low + tol)[:, None]).sum(axis=1) > 1) | ~np.isfinite(low)
            else:
                near = ~np.isfinite(low)
            near &= live
            close |= near
            live &= ~near & ~(low > 0)
            # every item takes the step; those not reflecting subtract 0 (exact), so no gathers of live items
            s = sign[rows, j]
            v -= np.where(live, 2.0 * s, 0.0)[:, None] * m[rows, j, :]
            sign[rows, j] = np.where(live, -s, s)
            cs = sign * v
            # Brent's cycle check (from step n on, rarely reached): an item back at a state (signs, column sums)
            # it had before reflects forever (a column sum of exactly 0 flipping between 0 and -0); it stops now
            # instead of after max_steps, with the same outcome (close)
            if step == snap_at:
                snap, snap_at = (sign.copy(), v.copy()), 2 * snap_at
            elif snap is not None:
                cyc = live & (sign == snap[0]).all(axis=1) & (v == snap[1]).all(axis=1)
                close |= cyc
                live &= ~cyc
        else:
            close |= live  # no positive manifold: centroid() raises or gives up there
        ok = ~close
        # communalities on R's sums: colSums of the reflected matrix (long double) and sum() (sequential); the
        # strict rule is qvalid's own and keeps the double sums of the reflection loop
        if ties == "joint":
            cs = colsums_batch(m, sign)
        t = cs / (n - 1) + cs
        tot = seqsum(t)
        close |= ~(tot > 0)
        ok = ~close
        d = cs / (n - 1)
        with np.errstate(invalid="ignore"):
            f = t / np.sqrt(tot.astype(np.float64))[:, None]
        run = ok & ~(np.abs(d - f * f) < spc).all(axis=1)
        # the items still iterating are kept compacted (ir, csr, dr, fr) and written back when they stop
        ir = np.flatnonzero(run)
        csr, dr, fr = cs[ir], d[ir], f[ir]
        for _ in range(max_iter):
            if ir.size == 0:
                break
            dr = fr * fr
            t = csr + dr
            fr = t / np.sqrt(seqsum(t).astype(np.float64))[:, None]
            go = ~(np.abs(dr - fr * fr) < spc).all(axis=1)
            if not go.all():
                stop = ~go
                d[ir[stop]], f[ir[stop]] = dr[stop], fr[stop]
                ir, csr, dr, fr = ir[go], csr[go], dr[go], fr[go]
        else:
            close[ir] = True
        gap = np.abs(np.abs(d - f * f) - spc).min(axis=1)  # a stopping test within rounding of spc
        if ties == "joint":
            close |= ok & (gap < 1e-12)
        g = sign * f
        out[:, :, k] = np.where(close[:, None], 0.0, g)
        g = np.where(close[:, None], 0.0, g)
        m -= g[:, :, None] * g[:, None, :]  # m_ij - g_i g_j rounded once, as _subtract_outer (BLAS dger)
    out[close] = 0.0
    return BatchExtraction(out, close)


def centroid_strict(r, nfactors: int, *, spc: float = 1e-5) -> Extraction:
    """The centroid with one reflection at a time (``Options.centroid_ties="strict"``): :func:`centroid_batch` on one
    matrix. Differs from qmethod's :func:`centroid` only where column sums tie exactly for the minimum (R then
    reflects all tied columns at once and its ``tmat[, oo] <- vec`` assignment scrambles the matrix, e.g. for every
    duplicated Q-sort in a bootstrap resample). ``FloatingPointError`` where :func:`centroid` would fail too."""
    ext = centroid_batch(np.asarray(r, dtype=np.float64)[None], nfactors, spc=spc, ties="strict")
    if ext.close[0]:
        raise FloatingPointError("centroid: no positive manifold or no convergence of the communalities "
                                 "(degenerate correlation matrix, or more factors than its rank)")
    a = ext.loadings[0]
    return Extraction(a, (a * a).sum(axis=0))


def _sqrt(x: float) -> float:
    """The double square root (as ``np.sqrt``, correctly rounded), NaN below 0, without numpy's per-call cost."""
    return math.sqrt(x) if x >= 0 else math.nan


def _subtract_outer(m: np.ndarray, g: np.ndarray) -> None:
    """m -= g g' in place, each entry m_ij - g_i g_j rounded once, as R's ``tmat[n,] - f1[n]*f1``."""
    out = _dger(-1.0, g, g, a=m.T, overwrite_a=1)  # m.T is Fortran-ordered: updated in place
    if not np.shares_memory(out, m):  # pragma: no cover (only if BLAS had to copy)
        m[...] = out.T


def _reflect_to_positive_manifold(m: np.ndarray, max_steps: int, *, explicit: bool = False):
    """Reflect min-column-sum sorts until every column sum is > 0 (R/centroid.R:18-25).

    Returns ``(sign, refl, explicit, colsums, close)``: the net sign of each sort, the reflected indices in
    order, whether ``m`` itself now holds the reflected matrix, that matrix's column sums, and whether some
    decision was within ``tol`` of a tie (then it depends on the last bits of ``m``).

    Normally ``m`` is not touched: with W = ``m`` (symmetric, zero diagonal) and S = diag(sign), the reflected
    matrix is S W S, whose column sums s_k (W s)_k are updated in O(n) per reflection (v = W s loses 2 s_j W[j]
    when sort j flips). These double sums can differ from R's long double ``colSums`` in the last bits, so
    whenever a decision is close (the minimum within ``tol`` of zero or of another column sum) it is taken on
    :func:`qvalid.core.rsum.colsums` (R's long double ``colSums``), exactly as R takes it. When several columns tie exactly for the minimum, R's
    ``tmat[, oo] <- vec`` refills the columns from the transposed block and the matrix becomes asymmetric; from
    then on ``m`` is reflected explicitly and R's row-into-column copy is reproduced, its column sums updated in
    O(n) in the same way and recomputed as R's for every close decision.
    ``explicit=True`` forces that mode from the start (needed once ``m`` is asymmetric).
    """
    n = m.shape[0]
    sign = np.ones(n)
    refl: list = []
    cs = colsums(m) if explicit else m.sum(axis=0)
    v = cs.copy()
    exact = explicit
    steps = 0
    close = False
    tol = 1e-11 * (1.0 + np.abs(cs).max())  # the drift of the double sums is ~1e-15 relative
    while True:
        j = int(cs.argmin())
        low = cs[j]
        if low != low or low == -np.inf:
            raise FloatingPointError("centroid: column sums are not finite (degenerate correlation matrix)")
        # the double sums are safe only if the minimum is clearly away from 0 and clearly unique
        if abs(low) <= tol or np.count_nonzero(cs <= low + tol) > 1:
            close = True
            if not exact:
                cs = colsums(m) if explicit else colsums(m, sign)
                v = sign * cs
                exact = True
                continue
        if low > 0:
            if exact:
                return sign, refl, explicit, cs, close
            cs = colsums(m) if explicit else colsums(m, sign)  # the sums R uses for the communalities
            v = sign * cs
            exact = True
            continue
        steps += 1
        if steps > max_steps:
            raise FloatingPointError(
                f"centroid: no positive manifold after {max_steps} reflections (a column sum of exactly 0 "
                "cannot be made positive; R's centroid() loops forever here)")
        oo = np.flatnonzero(cs == low) if exact else [j]
        if len(oo) > 1 and not explicit:
            m *= sign[:, None]
            m *= sign[None, :]
            explicit = True
        if not explicit:
            v -= (2.0 * sign[j]) * m[j]  # = column j (symmetric); a row is contiguous
            sign[j] = -sign[j]
            cs = sign * v
            refl.append(j)
            exact = False
            continue
        if len(oo) == 1:  # R: vec <- -tmat[j,]; tmat[j,] <- vec; tmat[,j] <- vec: the column gets the row
            row = m[j].copy()
            m[j, :] = -row
            m[:, j] = -row
            # O(n) update as above: row j flips in every other column, column j becomes the negated row; R's
            # long double sums are recomputed (above) whenever a decision is close
            cs = cs - 2.0 * row
            cs[j] = -row.sum()
            exact = False
        else:  # R: vec <- tmat[oo,]*-1; tmat[oo,] <- vec; tmat[,oo] <- vec (column-major refill)
            vec = -m[oo, :]
            m[oo, :] = vec
            m[:, oo] = vec.reshape(-1, order="F").reshape((n, len(oo)), order="F")
            cs = colsums(m)  # R's own long double sums
        sign[oo] = -sign[oo]
        refl.extend(int(i) for i in oo)


def principal(r, nfactors: int, *, unit_columns=None) -> Extraction:
    """Unrotated principal components as ``psych::principal(r, nfactors, rotate="none")`` (psych R/principal.R).

    1. eigen-decomposition of R; eigenvalues below machine epsilon clamped to epsilon;
       loadings A = V diag(sqrt(lambda)), first ``nfactors`` columns;
    2. sign: each column multiplied by sign(column sum), 0 counting as + (with one factor: flipped if the sum
       is < 0, the same thing).

    psych then rotates and applies :func:`psych_tidy` (sort by sum of squares, sign again); on unrotated
    components that is a no-op, so the pipeline calls :func:`psych_tidy` only after a rotation.

    Parameters
    ----------
    r : array-like of shape (..., n_sorts, n_sorts), or None with ``unit_columns`` (Gram route)
        One correlation matrix or a stack of them (loadings then have shape (..., n_sorts, nfactors)).
    nfactors : int, at most n_sorts
    unit_columns : array-like of shape (..., n_statements, n_sorts), optional
        Z with ``r = Z'Z`` (centred columns of unit length, :func:`qvalid.core.correlation.unit_columns`). When a study
        has more sorts than statements, R has rank < n_statements and its leading eigenpairs are those of the
        small Gram matrix G = Z Z' (n_statements x n_statements): G u = lambda u gives R (Z'u) = lambda (Z'u), so
        the loadings are A = Z'U directly, in O(n_statements^2 n_sorts) instead of the O(n_sorts^3) of a full
        decomposition (60 x 2000: ~1000x less work). Used only when ``nfactors`` < n_statements - 1 (the
        components kept are then inside the rank); the results agree with the full decomposition to ~1e-15
        (tests/test_numerics.py) and with psych's to 1e-10 (benchmarks: every case is cross-checked with R).

    Notes
    -----
    Verified against: psych 2.2.9 via qmethod 1.8.4 on lipset, k = 1..5 (reference/golden, 1e-10).
    """
    z = None if unit_columns is None else np.asarray(unit_columns, dtype=np.float64)
    n = z.shape[-1] if r is None else np.shape(r)[-1]
    if nfactors > n:
        raise ValueError(f"nfactors={nfactors} exceeds the number of Q-sorts ({n}) for principal components")
    if z is not None and nfactors < z.shape[-2] - 1 < n - 1:
        zt = np.swapaxes(z, -1, -2)
        values, u = np.linalg.eigh(z @ zt)
        values, u = values[..., ::-1][..., :nfactors], u[..., ::-1][..., :nfactors]
        a = zt @ u  # = V sqrt(lambda): the unit eigenvectors of R are Z'u / sqrt(lambda)
        return Extraction(psych_sign(a), values.copy())
    if r is None:
        raise ValueError("principal needs the correlation matrix unless the Gram route applies")
    r = np.asarray(r, dtype=np.float64)
    values, vectors = np.linalg.eigh(r)  # a stack (..., n, n) is decomposed matrix by matrix (the bootstrap)
    values, vectors = values[..., ::-1][..., :nfactors], vectors[..., ::-1][..., :nfactors]
    a = psych_sign(vectors * np.sqrt(np.maximum(values, np.finfo(float).eps))[..., None, :])
    return Extraction(a, values.copy())


def psych_tidy(a: np.ndarray) -> np.ndarray:
    """psych's post-rotation step: columns sorted by descending sum of squares (stable), then :func:`psych_sign`."""
    order = np.argsort(-(a * a).sum(axis=-2), axis=-1, kind="stable")
    return psych_sign(a.take(order, axis=1) if a.ndim == 2 else np.take_along_axis(a, order[..., None, :], axis=-1))


def psych_sign(a: np.ndarray) -> np.ndarray:
    """Multiply each column by the sign of its sum, zero counting as positive (psych R/principal.R)."""
    s = np.sign(a.sum(axis=-2, keepdims=True))
    s[s == 0] = 1.0
    return a * s


# ------------------------------------------------------------------------------------------ KADE / PQMethod
def brown_centroid(r, nfactors: int = 7) -> Extraction:
    """Brown's centroid as KADE ports it from PQMethod (KADE ``Factors/centroidLogic/*``; Brown 1980 pp. 208-224).

    For each factor, on the working matrix R (the 5-dp correlations, diagonal 1; later the residuals):

    1. column sums of the off-diagonal entries, c_j = sum_i R_ij - 1, rounded to 8 dp
       (``calculateColumnSums.js``);
    2. reflection one sort at a time: while min c < 0, the column with the most negative sum (ties: the first)
       is reflected (row and column negated), recorded, and all sums recomputed (``calculatePositiveManifold.js``,
       ``calculateMinValueAndIndex.js``); zero sums are allowed;
    3. loadings with an iterated diagonal starting at 0.5 "as used in PQMethod": t = c + 0.5,
       a = t / sqrt(sum t); then t = c + a^2, a = t / sqrt(sum t) until max |a^2 - a^2_prev| <= 0.001, with the
       early return when the first estimate is already within 0.001 of 0.5 (``calculateFactor.js:15-76``); every
       step rounded to 8 dp exactly where KADE rounds (the first total is an unrounded sum, later totals round
       every partial sum);
    4. residual R - a a' in the reflected space, every product and difference rounded to 8 dp, then the
       diagonal reset to 1 (``removeCorrelations.js``);
    5. the recorded reflections undone on the residual and on a, in order (``undoReflection.js``), so reflected
       sorts load negatively even on the first factor.

    No reordering of factors (KADE issue #25) and no sign tidying. The reflection is inherently sequential, a
    Python loop; sums are sequential as in JavaScript (``np.cumsum``).

    Parameters
    ----------
    r : array-like of shape (n_sorts, n_sorts)
        The correlations; KADE passes them rounded to 5 dp (``Options.cor_digits``).
    nfactors : int

    Notes
    -----
    Verified against: KADE's own unit test (``calculateFactorLoadings.test.js``): the first Lipset factor and
    the residual matrix after it, exactly (tests/test_kade.py).
    """
    m = np.array(r, dtype=np.float64, copy=True)
    n = m.shape[0]
    np.fill_diagonal(m, 1.0)
    out = np.zeros((n, nfactors))
    reflections, iters = [], []
    for k in range(nfactors):
        cs = _kade_colsums(m)
        refl = []
        while cs.min() < 0:  # argmin returns the first minimum: KADE's strict "<" scan
            j = int(cs.argmin())
            m[:, j] = -m[:, j]
            m[j, :] = -m[j, :]
            refl.append(j)
            cs = _kade_colsums(m)
            if len(refl) > 50 * n + 1000:  # cannot happen (each flip raises the total by 4|c_j|); a guard
                raise FloatingPointError("brown centroid: no positive manifold")
        a, it = _kade_factor(cs)
        prod = kround(np.multiply.outer(a, a), 8)
        m = kround(m - prod, 8)
        np.fill_diagonal(m, 1.0)
        sign = np.ones(n)
        for j in refl:
            sign[j] = -sign[j]
        m *= sign[:, None]
        m *= sign[None, :]
        out[:, k] = a * sign
        reflections.append(tuple(refl))
        iters.append(it)
    return Extraction(out, (out * out).sum(axis=0), tuple(iters), tuple(reflections), residual=m)


def _kade_colsums(m: np.ndarray) -> np.ndarray:
    """Sequential column sums minus the diagonal 1, rounded to 8 dp (``calculateColumnSums.js``)."""
    return kround(np.cumsum(m, axis=0)[-1] - 1.0, 8)


def _kade_factor(cs: np.ndarray) -> tuple[np.ndarray, int]:
    """One Brown-centroid factor from the reflected column sums (``calculateFactor.js``)."""
    t = kround(cs + 0.5, 8)
    total = float(np.cumsum(t)[-1])  # the first total is not rounded (plain reduce)
    a = kround(t / kround1(math.sqrt(total), 8), 8)
    a2 = kround(a * a, 8)
    it = 0
    if np.abs(kround(a2 - 0.5, 8)).max() <= 0.001:
        return a, it
    while True:
        prev = a2
        t = kround(cs + prev, 8)
        total = ksum(t, 8)
        a = kround(t / kround1(math.sqrt(total), 8), 8)
        a2 = kround(a * a, 8)
        it += 1
        if not np.abs(kround(prev - a2, 8)).max() > 0.001:
            return a, it
        if it > 10_000 or not np.isfinite(a).all():  # KADE's loop has no cap
            raise FloatingPointError("Brown centroid: the diagonal estimates (squared loadings) do not converge, "
                                     "KADE/PQMethod would loop forever; too few Q-sorts for this many factors?")


def kade_principal(r, nfactors: int) -> Extraction:
    """Principal components as KADE computes them (``Factors/PcaLogic/*``).

    Eigen-decomposition of the (5-dp) correlation matrix, eigenvalues in descending order; loadings
    a_ji = round8(u_ji sqrt(lambda_i)) (``calcEigenVectors.js:21``); component i is negated when
    round8(sum_j round8(a_ji |a_ji|)) < 0 (``calcEigenVectors.js:25``, ``inflectPrincipalComponents.js``).
    KADE computes the singular value decomposition (Golub-Reinsch) of the symmetric matrix, which for the
    leading (positive) eigenvalues is the same decomposition; the sign rule makes the result independent of the
    solver's signs. KADE keeps min(8, n_sorts, n_statements) components; qvalid extracts ``nfactors``.

    Notes
    -----
    Verified against: the unrotated factor matrices of the polycrisis KADE 1.3.1 workbooks (4 dp printed).
    """
    r = np.asarray(r, dtype=np.float64)
    values, vectors = np.linalg.eigh(r)
    values, vectors = values[::-1][:nfactors], vectors[:, ::-1][:, :nfactors]
    a = kround(vectors * np.sqrt(np.maximum(values, 0.0)), 8)
    crit = kround(np.cumsum(kround(a * np.abs(a), 8), axis=0)[-1], 8)
    a = np.where(crit < 0, -a, a)
    return Extraction(a, values.copy())


def horst55_centroid(r, nfactors: int, *, n_statements: int, extract: int | None = None, max_iter: int = 30,
                     tol: float = 1e-4, autostop: bool = False) -> Extraction:
    """Horst's (1965, ch. 5.5) centroid with iterated communalities, as PQMethod 2.30's ``horst55`` and KADE's
    port (``Factors/centroidLogic/horst55Logic/horstMain.js`` and helpers; variable names are Horst/PQMethod's).

    Each pass moves the diagonal of the working matrix into D and zeroes it; S = sum of squared residuals
    (7-dp running sum). Factors: the row sums w of the matrix and a sign vector v (start all +1; repeatedly flip
    the sort with the smallest w_j v_j, ties to the *last* index, while it is negative, updating
    w_i += 2 R_ij v_j; at most 750 flips, ``calcSignVector.js``); then w <- w + D v and
    a = w / sqrt(sum |w|) (``calcFactorVector.js``); the residual R - a a' with D put back on the diagonal first
    (``calcResidualMatrix.js``), 7-dp rounding throughout. After ``extract`` factors (one more is computed and
    discarded, as in KADE) the communalities become d = min(1, U - residual diagonal) and the extraction restarts
    from the correlations, until max |D| <= ``tol`` or more than ``max_iter`` rounds. ``autostop`` stops adding
    factors when 2 S m - n (n - 1) < 0 (m = ``n_statements``).

    Returns the first ``nfactors`` of the ``extract`` (default ``nfactors``) factors, 8-dp rounded; a warning when
    the communalities did not converge.

    Notes
    -----
    Verified against: KADE's own unit test (``horstMain.test.js``: Lipset, 7 factors, NL = 30, P = 1e-4), every
    value exactly (tests/test_kade.py); there the communalities do not converge in 30 rounds.
    """
    holdr = np.array(r, dtype=np.float64, copy=True)
    n = holdr.shape[0]
    nfax = nfactors if extract is None else max(int(extract), nfactors)
    rm = holdr.copy()
    u = np.diag(rm).copy()
    d = np.zeros(n)
    fmat: list = []
    k = 0
    rounds = 0
    converged = True
    while True:
        d = np.diag(rm).copy()
        np.fill_diagonal(rm, 0.0)
        loop54 = False
        if autostop and _horst_autostop(rm, n, n_statements):
            if k == 0:
                break
            loop54 = True
        elif k >= nfax:
            if k == 0:
                break
            loop54 = True
        rm, w = _horst_factor(rm, d)
        _set_factor(fmat, k, w)
        k += 1
        if loop54:
            s = kround1(max(np.abs(d).max(), 0.0), 7)
            d = kround(np.minimum(1.0, u - d), 7)
            u = d.copy()
            if kround1(s - tol, 7) > 0:
                rounds += 1
                if rounds > max_iter:
                    converged = False
                    break
                k = 0
                rm = holdr.copy()
                np.fill_diagonal(rm, 0.0)
                rm, w = _horst_factor(rm, d)
                _set_factor(fmat, k, w)
                k += 1
            else:
                break
    keep = k - 1 if autostop else nfax
    out = np.zeros((n, nfactors))
    for j, col in enumerate(fmat[:min(keep, nfactors)]):
        out[:, j] = kround(col, 8)
    warnings = () if converged else (Note("horst55-not-converged", f"Horst 5.5: the communalities did not "
                                                                    f"converge in {max_iter} rounds"),)
    return Extraction(out, (out * out).sum(axis=0), (rounds,), warnings=warnings, residual=rm)


def _horst_autostop(rm: np.ndarray, n: int, m: int) -> bool:
    """2 S m - n (n - 1) < 0, S the sum of squared residuals (``testSigResAvrgsAndS.js``, ``horstMain.js:53``)."""
    s = 0.0
    for v in (rm * rm).ravel().tolist():  # inherently sequential: every partial sum is rounded
        s = kround1(s + v, 7)
    return kround1(2.0 * s * m - n * (n - 1.0), 5) < 0


def _set_factor(fmat: list, k: int, w: np.ndarray) -> None:
    if k < len(fmat):
        fmat[k] = w
    else:
        fmat.append(w)


def _horst_factor(rm: np.ndarray, d: np.ndarray):
    """One Horst factor from the matrix ``rm`` (zero diagonal) and diagonal ``d``; returns (residual, loadings)."""
    n = rm.shape[0]
    w = kround(np.cumsum(rm, axis=1)[:, -1], 7)  # accumulateW
    v = np.ones(n)
    for _ in range(751):  # calcSignVector: inherently sequential
        wv = kround(w * v, 7)
        jj = n - 1 - int(np.argmin(wv[::-1]))  # the last minimum
        if not wv[jj] < 0:
            break
        v[jj] = -v[jj]
        w = kround(w + 2.0 * rm[:, jj] * v[jj], 7)
    w = kround(w + d * v, 7)  # calcNewW
    total = kround1(float(np.cumsum(np.abs(w))[-1]), 7)
    if total == 0:  # nothing left to extract: KADE divides by 0 (NaN loadings); qvalid gives a zero factor
        return rm, np.zeros(n)
    s = kround1(1.0 / math.sqrt(total), 7)
    w = kround(w * s, 7)  # adjustByS
    out = rm.copy()
    np.fill_diagonal(out, d)
    return kround(out - np.multiply.outer(w, w), 7), w  # calcResidualMatrix
