"""The replicates of a bootstrap, computed in batches: one call of :func:`run_chunk` analyses a chunk of resamples.

Every replicate runs the full sample's analysis (same options) on its resample through the pipeline's own stages
(:func:`qvalid.pipeline.solve`, :func:`~qvalid.pipeline.flag_stage`, :func:`~qvalid.pipeline.score_stage`) on a
stack of resamples. Where the batched arithmetic could take a decision differently from :func:`qvalid.analyze`
(a varimax stopping test, a flag cut-off, a psych sign or order, a centroid tie, a z-score near-tie: within
:data:`qvalid.pipeline.CLOSE` of flipping), that replicate is taken again by the same stages on its own, so every
replicate equals ``analyze()`` on its resample to rounding.

Memory is bounded: a chunk is analysed in sub-batches whose correlation (or Gram) matrices fit in
:data:`MEMORY_BUDGET` bytes, so nothing grows with resamples x sorts^2. A chunk draws its own resamples from its own
seed (:class:`numpy.random.SeedSequence` children, one per chunk of a fixed size), so the result does not depend on
how chunks are spread over workers.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..core.congruence import tucker_congruence
from ..errors import QInputError
from ..options import Options
from ..pipeline import flag_stage, score_stage, solve, stack_stages
from ..study import QStudy
from .align import apply_alignment, hungarian, procrustes_rotation, qindtest
from .resample import balanced_indices, plain_indices

__all__ = ["Job", "run_chunk", "single_loadings", "MEMORY_BUDGET"]

#: Bytes the correlation (or Gram) matrices of one sub-batch may take (the arrays of the chunk's results come on top).
MEMORY_BUDGET = 256 * 2 ** 20


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
    def replicate_options(self) -> Options:
        """The options each replicate is analysed with: the full sample's, except that qmboots' steps
        (``align="qindtest"``, R/qbstep.R) skip psych's post-rotation sort and sign."""
        return replace(self.options, pca_tidy=False) if self.align == "qindtest" else self.options

    @property
    def n_units(self) -> int:
        return self.scores.shape[1] if self.resample == "sorts" else self.scores.shape[0]


_FAILURES = (QInputError, FloatingPointError, np.linalg.LinAlgError, ValueError)


def run_chunk(task) -> dict:
    """Analyse one chunk: ``task = (job, n, seed, indices)``, ``n`` resamples drawn from ``seed`` (a
    :class:`numpy.random.SeedSequence`) or given as ``indices`` (n, n_units).

    Returns a dict of arrays, one row per replicate: ``indices``, ``status``, ``reason``, ``fallback``, ``perm``,
    ``signs``, ``congruence`` (B, k), ``loadings`` and ``flags`` per original sort (B, n_sorts, k; NaN when the sort
    is absent), ``zscores``, ``arrays``, ``distinguishing`` (B, n_statements, k), ``consensus`` (B, n_statements),
    ``n_flagged`` (B, k).
    """
    job, n, seed, indices = task
    if indices is None:
        draw = balanced_indices if job.balanced else plain_indices
        indices = draw(job.n_units, n, np.random.default_rng(seed))
    idx = np.asarray(indices, dtype=np.int64)
    step = _sub_batch(job)
    parts = [_replicates(job, idx[s:s + step]) for s in range(0, len(idx), step)]
    return {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}


def _sub_batch(job: Job) -> int:
    """Replicates per sub-batch: as many as fit their correlation matrices (or, for PCA with more sorts than
    statements, their data and Gram matrices) into :data:`MEMORY_BUDGET`, with a few working copies each."""
    n_st, n_so = job.scores.shape
    m, n = (n_so, n_st) if job.resample == "sorts" else (n_so, n_so)
    gram = job.options.extraction == "pca" and m > n
    per = 8 * (4 * n * m + 2 * n * n if gram else 4 * m * m + n * m)
    return int(max(1, min(250, MEMORY_BUDGET // per)))


def _replicates(job: Job, idx: np.ndarray) -> dict:
    o, k = job.options, job.nfactors
    ro = job.replicate_options
    b = idx.shape[0]
    by_sorts = job.resample == "sorts"
    if by_sorts:
        x = np.moveaxis(job.scores[:, idx], 1, 0)  # (B, n_statements, m)
        sub_target = job.target[idx]
    else:
        x = job.scores[idx, :]                   # (B, m, n_sorts)
        sub_target = np.broadcast_to(job.target, (b,) + job.target.shape)
    n_st = x.shape[1]

    loa, fl, redo = stack_stages(x, k, ro, flag_opts=o, manual_flags=job.manual_flags is not None)
    reason = np.full(b, "", dtype=object)
    for i in np.flatnonzero(redo):  # the few replicates with a close decision: the single-study path
        try:
            loa[i] = single_loadings(job, x[i], ro, by_sorts)
        except _FAILURES as err:
            reason[i] = str(err) or type(err).__name__
            loa[i] = np.nan
            continue
        if fl is not None:
            fl[i] = flag_stage(loa[i], n_st, o)[0]
    failed = reason != ""
    safe = np.where(failed[:, None, None], 1.0, loa)  # failed replicates: placeholders, blanked below

    if job.align == "qindtest":
        perm, signs, status = qindtest(safe, sub_target)
    else:
        perm, signs, status, _ = hungarian(safe, sub_target)
    aligned = apply_alignment(safe, perm, signs)
    if job.align == "procrustes":
        aligned = aligned @ procrustes_rotation(aligned, sub_target)
        fl = None if job.manual_flags is not None else flag_stage(aligned, n_st, o)[0]
    elif fl is not None:
        fl = apply_alignment(fl, perm)
    if job.manual_flags is not None:
        fl = job.manual_flags[idx] if by_sorts else np.broadcast_to(job.manual_flags, aligned.shape)
    cong = np.diagonal(tucker_congruence(sub_target, aligned), axis1=1, axis2=2).copy()

    sc = score_stage(x, job.qscores, aligned, fl, o)
    z, arrays, dist, cons = sc.zscores, sc.factor_arrays, sc.distinguishes, sc.consensus

    n_sorts, n_all_st = job.scores.shape[1], job.scores.shape[0]
    if by_sorts:
        pos = _first_positions(idx, n_sorts)
        loa_by, fl_by = _gather(aligned, pos), _gather(fl, pos)
        z_by, arr_by, dist_by, cons_by = z, arrays, dist, cons
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


def single_loadings(job: Job, x, ro: Options, by_sorts: bool) -> np.ndarray:
    """One resample's loadings on the single-study path (:func:`qvalid.pipeline.solve` on its own), after the
    checks :func:`qvalid.analyze` makes of a study (a resample of statements is a non-forced study)."""
    if ro.pca_tidy and job.qscores is not None:
        values, cells = np.unique(np.asarray(job.qscores, dtype=np.int64), return_counts=True)
        QStudy.from_array(np.asarray(x).astype(np.int64), grid=dict(zip(values.tolist(), cells.tolist())),
                          forced=job.forced and by_sorts)
    return solve(x, job.nfactors, ro).loadings


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
