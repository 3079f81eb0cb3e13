"""The parametric bootstrap of a Q solution: new participants simulated from the fitted solution.

Resampling the Q-sorts duplicates participants, and in Q the participants are the *variables* of the factor
analysis: a sort drawn twice correlates 1 with its copy, forms a doublet that pulls a factor towards itself, gains
loading and weight, and is flagged more often the more often it is drawn (docs/calibration.md, "duplicates"). The
parametric bootstrap never duplicates anyone. It builds a *bootstrap world* from the fitted solution and draws every
replicate's participants afresh from it, as :func:`qvalid.simulate.simulate_sorts` does:

1. participant types: one per Q-sort of the study, with the common-factor loadings of the study (principal axis
   factoring with iterated communalities, :func:`principal_axis`, varimax, then the orthogonal rotation closest to
   the analysis' own loadings; communalities capped at :data:`MAX_COMMUNALITY`). Principal axis, not the analysis'
   loadings: principal components add each sort's unique variance to its loadings and would make the world more
   structured than the data (calibration: PCA loadings of defining sorts 0.03-0.11 above their population values);
2. statement scores of the factors: the study's factor z-scores, orthogonalised (Löwdin, :func:`qvalid.simulate.
   orthogonalise`; a factor without defining sort takes its least-squares factor scores);
3. a participant of type i ranks ``latent @ a_i + sqrt(1 - h_i^2) e`` into the distribution of Q-sort i (the grid of
   a forced study), with fresh noise ``e`` for every participant;
4. the world's truth: the same analysis on :data:`WORLD_SORTS` participants of the world (every type equally often),
   aligned to the study's factors; its least-squares factor scores define every simulated sort's true loadings
   (:func:`projected_loadings`);
5. a replicate: n participant types drawn with replacement (so the composition varies as in real recruitment), each
   a new participant; the same analysis; factors aligned to the world's truth (Hungarian assignment on the Tucker
   congruence between the replicate's loadings and the true loadings of its participants).

Because the world's truth is known, the replicates tell how a sample's z-scores relate to the truth: they shrink
towards 0 (the slope of the replicate means on the true z is 0.72-0.95) and spread more or less depending on where
the statement lies. :mod:`qvalid.stability.intervals` turns that into intervals for the population z-scores.

Cost: one analysis of the world's sorts (PCA: Gram route, ~0.1 s; centroid on 2000 sorts: 0.3-1 s) and one batched
analysis per replicate, as the resampling bootstrap.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.congruence import tucker_congruence
from ..core.correlation import correlate
from ..core.rotate import varimax
from ..core.scores import factor_arrays
from ..errors import QInputError
from ..options import Options
from ..pipeline import analyze, flag_stage, score_stage, solve, stack_stages
from ..results import QResult
from ..simulate import orthogonalise, standardise
from ..study import QStudy
from .align import apply_alignment, hungarian
from .engine import MEMORY_BUDGET

__all__ = ["World", "ParametricJob", "build_world", "principal_axis", "factor_scores", "projected_loadings",
           "simulate_participants", "run_parametric_chunk", "WORLD_SORTS", "MAX_COMMUNALITY"]

#: Participants in the world's own analysis (its truth); its Monte-Carlo error on the true z-scores is about 0.04.
WORLD_SORTS = 2000
#: Communality cap of a participant type (a loading of 1 would leave no noise).
MAX_COMMUNALITY = 0.95

_FAILURES = (QInputError, FloatingPointError, np.linalg.LinAlgError, ValueError)


def principal_axis(r, nfactors: int, *, max_iter: int = 500, tol: float = 1e-6) -> np.ndarray:
    """Principal axis factoring with iterated communalities (Harman 1976, ch. 8; psych::fa(fm="pa")): the diagonal
    of R is replaced by the communalities, starting from each variable's largest absolute correlation (squared
    multiple correlations need an invertible R, which a study with more sorts than statements does not have), until
    they change by less than ``tol``; communalities are kept within [0, 0.995]. Unrotated loadings (n, k)."""
    r = np.asarray(r, dtype=np.float64)
    n = r.shape[0]
    h2 = np.abs(r - np.eye(n)).max(axis=1)
    diag = np.arange(n)
    a = np.zeros((n, nfactors))
    for _ in range(max_iter):
        m = r.copy()
        m[diag, diag] = h2
        values, vectors = np.linalg.eigh(m)
        values, vectors = values[::-1][:nfactors], vectors[:, ::-1][:, :nfactors]
        a = vectors * np.sqrt(np.clip(values, 0, None))
        new = np.clip((a * a).sum(axis=1), 0.0, 0.995)
        done = np.abs(new - h2).max() < tol
        h2 = new
        if done:
            break
    return a


def factor_scores(x, loadings) -> np.ndarray:
    """Least-squares factor scores over the statements, standardised: F = Z A (A'A)^-1 with Z the standardised
    sorts. For rotated principal components these are the rotated component scores, so a sort's correlation with
    F is exactly its loading (checked on 4000-sort studies: congruence 0.9998-1 also for the centroid). (n_st, k)."""
    z = standardise(x)
    a = np.asarray(loadings, dtype=np.float64)
    return standardise(z @ a @ np.linalg.pinv(a.T @ a))


def projected_loadings(x, f) -> np.ndarray:
    """Each sort's correlation with each factor's scores ``f`` (n_st, k): the sort's loadings on those factors.
    ``x`` (..., n_st, m) -> (..., m, k)."""
    z = standardise(x)
    return np.swapaxes(z, -1, -2) @ f / (z.shape[-2] - 1)


@dataclass(frozen=True)
class World:
    """The bootstrap world built from a fitted solution (:func:`build_world`).

    Attributes
    ----------
    loadings : ndarray (n_types, k)
        Participant types (one per Q-sort of the study).
    latent : ndarray (n_statements, k)
        Orthogonalised statement scores of the factors.
    values : ndarray (n_statements, n_types)
        Each type's distribution (its Q-sort's scores, ascending).
    scores : ndarray (n_statements, k)
        The world's true factor scores (least squares), aligned to the study's factors.
    zscores, factor_arrays : ndarray (n_statements, k)
        The world's true z-scores and factor arrays (NaN for a factor without defining sort there).
    congruence : ndarray (k,)
        Congruence of the study's loadings with the world's true loadings of the study's sorts.
    defining : ndarray (k,)
        Defining participants per factor in the world's own analysis (aligned to the study's factors).
    """

    loadings: np.ndarray
    latent: np.ndarray
    values: np.ndarray
    scores: np.ndarray
    zscores: np.ndarray
    factor_arrays: np.ndarray
    congruence: np.ndarray
    defining: np.ndarray


def build_world(full: QResult, rng, n_world: int = WORLD_SORTS) -> World:
    """The bootstrap world of ``full`` (module docstring, steps 1-4)."""
    study, o, k = full.study, full.options, full.nfactors
    x = np.asarray(study.scores, dtype=np.float64)
    loa = np.asarray(full.loadings, dtype=np.float64)
    a = principal_axis(correlate(x, method=o.cor_method), k)
    if k > 1:
        a = varimax(a, normalize=True, eps=1e-5, max_iter=1000).loadings
    u, _, vt = np.linalg.svd(a.T @ loa)
    a = a @ (u @ vt)  # the orthogonal rotation of the common factors closest to the analysis' loadings
    h2 = (a * a).sum(axis=1)
    big = h2 > MAX_COMMUNALITY
    a[big] *= np.sqrt(MAX_COMMUNALITY / h2[big])[:, None]
    z = np.asarray(full.zscores, dtype=np.float64)
    latent = orthogonalise(np.where(np.isnan(z), factor_scores(x, loa), z))
    values = np.sort(x, axis=0)
    n = x.shape[1]
    types = np.tile(np.arange(n), -(-int(n_world) // n))
    xw = simulate_participants(a, latent, values, types[None], rng)[0]
    world = QStudy.from_array(np.rint(xw).astype(np.int64), grid=dict(study.grid), forced=study.forced)
    flags = np.asarray(full.flags)[types] if full.manual_flags else None  # a type keeps its manual flags
    truth = analyze(world, k, flags=flags, options=o)
    f = factor_scores(xw, truth.loadings)
    perm, signs, _, phi = hungarian(projected_loadings(x, f)[None], loa[None])
    perm, signs = perm[0], signs[0]
    zw = apply_alignment(np.asarray(truth.zscores)[None], perm[None], signs[None])[0]
    aw = np.full(zw.shape, np.nan)
    ok = ~np.isnan(zw).any(axis=0)
    if ok.any():
        aw[:, ok] = factor_arrays(zw[:, ok], study.qscores, ties=o.array_ties)
    cong = np.abs(phi[0][np.arange(k), perm])
    return World(a, latent, values, f[:, perm] * signs, zw, aw, cong, np.asarray(truth.flags).sum(axis=0)[perm])


def simulate_participants(loadings, latent, values, types, rng) -> np.ndarray:
    """New participants of the given types (B, m): each ranks ``latent @ a + sqrt(1 - h^2) e`` into its type's
    distribution ``values[:, type]``. Returns float scores (B, n_statements, m)."""
    a = np.asarray(loadings)[types]  # (B, m, k)
    n_st = latent.shape[0]
    h2 = np.clip((a * a).sum(axis=-1), 0, 1)
    lat = latent @ np.swapaxes(a, -1, -2) + rng.standard_normal((types.shape[0], n_st, types.shape[1])) * \
        np.sqrt(1 - h2)[:, None, :]
    vals = np.moveaxis(np.asarray(values, dtype=np.float64)[:, types], 0, 1)  # (B, n_st, m), ascending
    out = np.empty(lat.shape)
    np.put_along_axis(out, np.argsort(lat, axis=1, kind="stable"), vals, axis=1)
    return out


@dataclass(frozen=True)
class ParametricJob:
    """Everything a worker needs for a chunk of parametric replicates (picklable)."""

    world: World
    nfactors: int
    options: Options
    qscores: np.ndarray
    manual_flags: np.ndarray | None = None


def run_parametric_chunk(task) -> dict:
    """``task = (job, n, seed)``: ``n`` parametric replicates drawn from ``seed`` (a SeedSequence).

    Returns per replicate: ``types`` (B, m), ``failed``, ``fallback``, ``congruence`` (B, k) with the world's truth,
    ``zscores``, ``arrays``, ``distinguishing`` (B, n_statements, k), ``consensus`` (B, n_statements), ``n_flagged``
    (B, k); and per participant type, summed over the chunk: ``loading_error_sum``, ``loading_error_sq``,
    ``flag_count`` (n_types, k) and ``type_count`` (n_types,) (a replicate loading minus the participant's true
    loading in the world).
    """
    job, n, seed = task
    rng = np.random.default_rng(seed)
    w = job.world
    m = w.loadings.shape[0]
    types = rng.integers(0, m, size=(int(n), m))
    n_st = w.latent.shape[0]
    step = int(max(1, min(250, MEMORY_BUDGET // (8 * (4 * m * m + 4 * n_st * m)))))
    parts = [_replicates(job, types[s:s + step], rng) for s in range(0, len(types), step)]
    out = {key: np.concatenate([p[key] for p in parts]) for key in parts[0] if not key.startswith("sum_")}
    for key in parts[0]:
        if key.startswith("sum_"):
            out[key[4:]] = np.sum([p[key] for p in parts], axis=0)
    return out


def _replicates(job: ParametricJob, types, rng) -> dict:
    w, o, k = job.world, job.options, job.nfactors
    b, m = types.shape
    x = simulate_participants(w.loadings, w.latent, w.values, types, rng)
    n_st = x.shape[1]
    loa, fl, redo = stack_stages(x, k, o, manual_flags=job.manual_flags is not None)
    failed = np.zeros(b, dtype=bool)
    for i in np.flatnonzero(redo):  # a close decision: the single-study path
        try:
            loa[i] = solve(x[i], k, o).loadings
        except _FAILURES:
            failed[i] = True
            continue
        if fl is not None:
            fl[i] = flag_stage(loa[i], n_st, o)[0]
    safe = np.where(failed[:, None, None], 1.0, loa)
    target = projected_loadings(x, w.scores)
    perm, signs, _, _ = hungarian(safe, target)
    aligned = apply_alignment(safe, perm, signs)
    fl = apply_alignment(fl, perm) if fl is not None else np.asarray(job.manual_flags, dtype=bool)[types]
    cong = np.diagonal(tucker_congruence(target, aligned), axis1=1, axis2=2).copy()
    sc = score_stage(x, job.qscores, aligned, fl, o)
    z, arrays, dist, cons = (np.array(sc.zscores, dtype=float), np.array(sc.factor_arrays, dtype=float),
                             np.array(sc.distinguishes, dtype=float), np.array(sc.consensus, dtype=float))
    for a in (z, arrays, dist, cons, cong):
        a[failed] = np.nan
    ok = ~failed
    err = (aligned - target)[ok].reshape(-1, k)
    t = types[ok].ravel()
    n_types = w.loadings.shape[0]
    s1, s2, fc = (np.zeros((n_types, k)) for _ in range(3))
    np.add.at(s1, t, err)
    np.add.at(s2, t, err * err)
    np.add.at(fc, t, np.asarray(fl, dtype=float)[ok].reshape(-1, k))
    cnt = np.bincount(t, minlength=n_types).astype(float)
    return {"types": types, "failed": failed, "fallback": redo & ~failed, "congruence": cong, "zscores": z,
            "arrays": arrays, "distinguishing": dist, "consensus": cons,
            "n_flagged": np.where(failed[:, None], -1, np.asarray(fl, dtype=bool).sum(axis=1)),
            "sum_loading_error_sum": s1, "sum_loading_error_sq": s2, "sum_flag_count": fc, "sum_type_count": cnt}
