"""The replicates of a bootstrap, computed in batches: one call of :func:`run_chunk` analyses a block of resamples.

Every replicate runs the full sample's analysis (same options) on its resample: stacked correlation matrices,
batched extraction, varimax, flags, weights, z-scores and arrays (the kernels take a leading batch dimension).
Where the batched arithmetic could take a decision differently from :func:`qvalid.analyze` (a varimax stopping
test, a flag cut-off, a psych sign or order, a z-score near-tie: within 1e-10 of flipping), that replicate is
recomputed on the single-study path, so every replicate equals ``analyze()`` on its resample to rounding.

A chunk draws its own resamples from its own seed (:class:`numpy.random.SeedSequence` children, one per chunk of a
fixed size), so the result does not depend on how chunks are spread over workers.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from ..core.characteristics import characteristics, distinguishing_consensus
from ..core.congruence import tucker_congruence
from ..core.correlation import correlate
from ..core.extract import centroid_batch, centroid_on_r_bits, centroid_strict, principal, psych_tidy
from ..core.flag import flag
from ..core.rotate import varimax
from ..core.scores import factor_arrays, weights, zscores
from ..errors import QInputError
from ..options import Options
from ..pipeline import analyze
from ..study import QStudy
from .align import apply_alignment, hungarian, procrustes_rotation, qindtest
from .resample import balanced_indices, plain_indices

__all__ = ["Job", "run_chunk", "single_loadings", "CLOSE"]

#: A decision within this distance of flipping is re-taken on the single-study path.
CLOSE = 1e-10


@dataclass(frozen=True)
class Job:
    """Everything a worker needs for a chunk (picklable)."""

    scores: np.ndarray          # (n_statements, n_sorts) float
    qscores: np.ndarray         # ascending grid values
    nfactors: int
    options: Options
    target: np.ndarray          # full-sample loadings (n_sorts, k)
    manual_flags: np.ndarray | None
    resample: str               # "sorts" | "statements"
    balanced: bool
    align: str                  # "hungarian" | "procrustes" | "qindtest"
    forced: bool = True         # the study's grid is forced (a resample of statements never is)

    @property
    def tidy(self) -> bool:
        """psych's post-rotation sort and sign, as analyze() does for PCA; qmboots' steps skip it (R/qbstep.R)."""
        return self.options.extraction == "pca" and self.align != "qindtest"

    @property
    def n_units(self) -> int:
        return self.scores.shape[1] if self.resample == "sorts" else self.scores.shape[0]


_FAILURES = (QInputError, FloatingPointError, np.linalg.LinAlgError, ValueError)


def single_loadings(x, k: int, o: Options, tidy: bool, qscores=None, forced: bool = True) -> np.ndarray:
    """The loadings of one resample (n_statements, m) on the single-study path.

    With ``tidy`` (the loadings :func:`qvalid.analyze` returns) and the grid values ``qscores``, that is
    ``analyze()`` itself on the resample as a study (every decision taken exactly as there). Otherwise (qindtest
    mode: R/qbstep.R's unsorted varimax loadings) the same kernels without psych's final sort and sign.
    """
    if tidy and qscores is not None:
        values, cells = np.unique(np.asarray(qscores, dtype=np.int64), return_counts=True)
        study = QStudy.from_array(np.asarray(x).astype(np.int64), grid=dict(zip(values.tolist(), cells.tolist())),
                                  forced=forced)
        return np.array(analyze(study, k, **asdict(o)).loadings)
    r = correlate(x, method=o.cor_method)
    if o.extraction == "pca":
        a = principal(r, k).loadings
    else:
        a = (centroid_on_r_bits(x, k, cor_method=o.cor_method, spc=o.spc, r=r)[1] if o.centroid_ties == "joint"
             else centroid_strict(r, k, spc=o.spc)).loadings
    if o.rotation == "varimax" and k > 1:
        if o.varimax_normalize and not ((a * a).sum(axis=1) > 0).all():
            raise QInputError("zero communality: varimax's Kaiser normalisation divides by 0")
        a = varimax(a, normalize=o.varimax_normalize, eps=o.varimax_eps, max_iter=o.varimax_max_iter).loadings
    return psych_tidy(a) if tidy else a


def _batch_loadings(x, k: int, o: Options, tidy: bool):
    """Loadings of a stack of resamples (B, n_statements, m) and a mask of replicates to redo singly."""
    r = correlate(x, method=o.cor_method)
    if o.extraction == "pca":
        a = principal(r, k).loadings
        close = (np.abs(a.sum(axis=-2)) < CLOSE).any(axis=-1)  # psych's sign of a column summing to ~0
    else:
        ext = centroid_batch(r, k, spc=o.spc, ties=o.centroid_ties)
        a, close = ext.loadings, ext.close
    if o.rotation == "varimax" and k > 1:
        ok = ((a * a).sum(axis=-1) > 0).all(axis=-1) & np.isfinite(a).all(axis=(-1, -2)) & ~close
        close = close | ~ok
        if ok.any():
            rot = varimax(a[ok], normalize=o.varimax_normalize, eps=o.varimax_eps, max_iter=o.varimax_max_iter)
            a = a.copy()
            a[ok] = rot.loadings
            close[np.flatnonzero(ok)[rot.stop_margin < 1e-9]] = True
    if tidy:
        ss = np.sort((a * a).sum(axis=-2), axis=-1)
        close |= (np.diff(ss, axis=-1) < CLOSE * ss[..., 1:]).any(axis=-1)
        a = psych_tidy(a)
        close |= (np.abs(a.sum(axis=-2)) < CLOSE).any(axis=-1)
    return a, close


def _flag_close(a, n_statements: int, o: Options) -> np.ndarray:
    """Replicates with a loading within :data:`CLOSE` of a flagging cut-off (qflag's two inequalities)."""
    cut = o.threshold if o.threshold is not None else o.flag_z / np.sqrt(n_statements)
    close = np.abs(np.abs(a) - cut) < CLOSE
    if o.majority:
        a2 = a * a
        close |= np.abs(2 * a2 - a2.sum(axis=-1, keepdims=True)) < CLOSE
    return close.any(axis=(-1, -2))


def _near_ties(z) -> np.ndarray:
    """Replicates where two z-scores of a factor differ, but by less than :data:`CLOSE` (array ties)."""
    d = np.diff(np.sort(z, axis=-2), axis=-2)
    with np.errstate(invalid="ignore"):
        return ((d > 0) & (d < CLOSE)).any(axis=(-1, -2))


def _first_positions(idx, n_units: int) -> np.ndarray:
    """(B, n_units): the position of each unit's first occurrence in its resample, -1 when absent (qmboots keeps
    the first duplicate's values, R/qmboots.R:96-103)."""
    b, m = idx.shape
    pos = np.full((b, n_units), m, dtype=np.int64)
    np.minimum.at(pos, (np.repeat(np.arange(b), m), idx.ravel()), np.tile(np.arange(m), b))
    pos[pos == m] = -1
    return pos


def _gather(x, pos):
    """x (B, m, k) rows at ``pos`` (B, n) with NaN where pos is -1."""
    out = np.asarray(x, dtype=float)[np.arange(len(pos))[:, None], np.maximum(pos, 0)]
    out[pos < 0] = np.nan
    return out


def run_chunk(job: Job, n: int, seed=None, indices=None) -> dict:
    """Analyse ``n`` resamples (drawn from ``seed``, a SeedSequence, or given as ``indices`` (n, m)).

    Returns a dict of arrays, one row per replicate: ``indices``, ``status``, ``reason``, ``fallback``, ``perm``,
    ``signs``, ``congruence`` (B, k), ``loadings`` and ``flags`` per original sort (B, n_sorts, k; NaN when the sort
    is absent), ``zscores``, ``arrays``, ``distinguishing`` (B, n_statements, k), ``consensus`` (B, n_statements),
    ``n_flagged`` (B, k).
    """
    o, k = job.options, job.nfactors
    if indices is None:
        draw = balanced_indices if job.balanced else plain_indices
        indices = draw(job.n_units, n, np.random.default_rng(seed))
    idx = np.asarray(indices, dtype=np.int64)
    b = idx.shape[0]
    by_sorts = job.resample == "sorts"
    if by_sorts:
        x = np.moveaxis(job.scores[:, idx], 1, 0)  # (B, n_statements, m)
        sub_target = job.target[idx]
    else:
        x = job.scores[idx, :]                   # (B, m, n_sorts)
        sub_target = np.broadcast_to(job.target, (b,) + job.target.shape)
    n_st = x.shape[1]

    loa, redo = _batch_loadings(x, k, o, job.tidy)
    fl = None
    if job.manual_flags is None:
        fl = flag(loa, n_st, z=o.flag_z, threshold=o.threshold, majority=o.majority)
        redo |= _flag_close(loa, n_st, o)
    reason = np.full(b, "", dtype=object)
    for i in np.flatnonzero(redo):  # the few replicates with a close decision: the exact single-study path
        try:
            loa[i] = single_loadings(x[i], k, o, job.tidy, job.qscores, job.forced and by_sorts)
        except _FAILURES as err:
            reason[i] = str(err) or type(err).__name__
            loa[i] = np.nan
            continue
        if fl is not None:
            fl[i] = flag(loa[i], n_st, z=o.flag_z, threshold=o.threshold, majority=o.majority)
    failed = reason != ""
    safe = np.where(failed[:, None, None], 1.0, loa)  # failed replicates: placeholders, blanked below

    if job.align == "qindtest":
        perm, signs, status = qindtest(safe, sub_target)
    else:
        perm, signs, status, _ = hungarian(safe, sub_target)
    aligned = apply_alignment(safe, perm, signs)
    if job.align == "procrustes":
        aligned = aligned @ procrustes_rotation(aligned, sub_target)
        fl = None if job.manual_flags is not None else flag(aligned, n_st, z=o.flag_z, threshold=o.threshold,
                                                            majority=o.majority)
    elif fl is not None:
        fl = apply_alignment(fl, perm)
    if job.manual_flags is not None:
        fl = job.manual_flags[idx] if by_sorts else np.broadcast_to(job.manual_flags, aligned.shape)
    cong = np.diagonal(tucker_congruence(sub_target, aligned), axis1=1, axis2=2).copy()

    w = weights(aligned, fl)
    z = zscores(x, w)
    arrays = factor_arrays(z, job.qscores, ties=o.array_ties)
    for i in np.flatnonzero(_near_ties(z) & ~failed):  # near-tied z-scores: the single-study arithmetic
        z[i] = zscores(x[i], w[i])
        arrays[i] = factor_arrays(z[i], job.qscores, ties=o.array_ties)
    sed = characteristics(aligned, fl, z, av_rel_coef=o.av_rel_coef).sd_dif
    dist, cons = distinguishing_consensus(z, sed)

    n_sorts, n_all_st = job.scores.shape[1], job.scores.shape[0]
    if by_sorts:
        pos = _first_positions(idx, n_sorts)
        loa_by, fl_by = _gather(aligned, pos), _gather(fl, pos)
        z_by, arr_by, dist_by = z, arrays, dist
        cons_by = cons
    else:
        pos = _first_positions(idx, n_all_st)
        loa_by, fl_by = aligned.astype(float), np.asarray(fl, dtype=float)
        z_by, arr_by, dist_by = _gather(z, pos), _gather(arrays, pos), _gather(dist, pos)
        cons_by = _gather(cons[:, :, None], pos)[..., 0]
    status = np.where(failed, "failed", status).astype(object)
    for a in (loa_by, fl_by, z_by, arr_by, dist_by, cons_by, cong):
        a[failed] = np.nan
    return {"indices": idx, "status": status, "reason": reason, "fallback": redo & ~failed, "perm": perm,
            "signs": signs, "congruence": cong, "loadings": loa_by, "flags": fl_by, "zscores": z_by,
            "arrays": arr_by, "distinguishing": dist_by, "consensus": cons_by,
            "n_flagged": np.where(failed[:, None], -1, np.asarray(fl, dtype=bool).sum(axis=1))}

