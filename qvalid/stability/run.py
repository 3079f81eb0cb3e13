"""``qvalid.bootstrap()``: the bootstrap of a k-factor Q solution (resample, re-analyse, align, summarise)."""

from __future__ import annotations

import numpy as np

from ..chunks import chunk_sizes, run_chunks, seeds
from ..errors import QInputError
from ..options import OPTION_INFO, resolve_options
from ..pipeline import analyze
from ..study import QStudy
from .engine import Job, run_chunk
from .parametric import WORLD_SORTS, ParametricJob, build_world, run_parametric_chunk
from .summaries import BootstrapResult

__all__ = ["bootstrap", "RESAMPLE", "ALIGN", "CHUNK_SIZE"]

RESAMPLE = ("sorts", "statements")
ALIGN = ("hungarian", "procrustes", "qindtest")
#: Replicates per chunk. Fixed (not derived from the number of workers) so that the chunks, their seeds and
#: therefore every byte of the result are the same on one core, many processes or a cluster.
CHUNK_SIZE = 250


def bootstrap(study: QStudy, nfactors: int, n_resamples: int = 1000, *, resample: str = "sorts",
              balanced: bool = True, indices=None, align: str = "hungarian", seed: int = 0, executor=None,
              progress: bool = False, flavor: str = "qmethod", manual_flags=None, ci: float = 0.95, then=(),
              parametric: bool | None = None, world_sorts: int = WORLD_SORTS, chunk_size: int = CHUNK_SIZE,
              **options) -> BootstrapResult:
    """Bootstrap the stability of a k-factor solution: how far each factor and each statement's place would move in
    another sample of participants from the same population.

    Two bootstraps run (docs/bootstrap.md, calibrated in docs/calibration.md):

    - the **resampling** of the Q-sorts (or, with ``resample="statements"``, the statements) with replacement, as
      qmethod's qmboots: every replicate runs exactly the analysis of the full sample (:func:`qvalid.analyze` with
      the same flavour and options) and is aligned to the full-sample solution. How often a replicate reproduces a
      factor, through the calibration curve, gives the probability that another sample recovers it and the
      verdict (:mod:`qvalid.stability.verdict`);
    - the **parametric** bootstrap (default for ``resample="sorts"`` with Hungarian or Procrustes alignment and no
      given ``indices``): samples of new participants simulated from the fitted solution, analysed the same way
      (:mod:`qvalid.stability.parametric`); it gives the standard errors and intervals of the z-scores and loadings,
      flag frequencies and array stability (:mod:`qvalid.stability.intervals`). Resampling duplicates
      participants, which distorts a factor analysis of participants; the simulated participants are all distinct.

    No replicate is dropped silently: each has a status, and failed replicates count as not reproducing a factor.
    With the centroid and no explicit ``centroid_ties``, the bootstrap uses ``centroid_ties="strict"`` (one
    reflection at a time): qmethod's joint reflection scrambles the matrix whenever sorts are duplicated, as in every
    resample; the full-sample analysis then equals qmethod's wherever the study has no exactly tied column sums.
    The result's ``notes`` say so.

    Parameters
    ----------
    study : QStudy
    nfactors : int
    n_resamples : int
        Number of replicates (ignored when ``indices`` is given).
    resample : {"sorts", "statements"}
        What is resampled: the participants (stability of the factors to the P-set, as qmboots) or the items
        (stability of the factor arrays to the Q-set; the grid of the full study is used for the arrays).
    balanced : bool
        Balanced bootstrap (each unit exactly ``n_resamples`` times overall, as qmboots) or plain resampling.
    indices : array-like of int, shape (n_resamples, n_units), optional
        Explicit 0-based resample indices, e.g. ``resample.from_qmboots(qmboots_result$resamples)`` to replay R.
    align : {"hungarian", "procrustes", "qindtest"}
        Hungarian: order and sign by optimal assignment on Tucker congruence with the full-sample loadings of
        the resampled sorts. Procrustes: the same, then the orthogonal rotation closest to the target (flags are
        then re-taken on the rotated loadings). qindtest: R qmethod's greedy rule (R/qindtest.R) on unsorted
        varimax loadings as in R/qbstep.R; replicates it cannot reorder are ``rejected`` and left out of the
        summaries, as qmboots does.
    seed : int
        Seed of :class:`numpy.random.SeedSequence`; each chunk of ``chunk_size`` replicates draws from its own
        spawned child, so the result is the same whatever ``executor``.
    chunk_size : int
        Replicates per chunk (default :data:`CHUNK_SIZE`). The result depends on it (the chunks' seeds), never on
        where the chunks run. Larger chunks mean fewer tasks (less of a cluster's per-task cost) and less
        parallelism; what a chunk ships grows with its replicates (BENCHMARKS.md measures 250 and 1000).
    executor : concurrent.futures.Executor, optional
        Where chunks run (e.g. ``ProcessPoolExecutor``, dask's ``client.get_executor()``); default: here.
    progress : bool
        A tqdm progress bar (on stderr) over chunks.
    flavor, manual_flags, **options
        As :func:`qvalid.analyze` (``manual_flags`` = its ``flags``). With manual flags a replicate uses the
        flags of the sorts it contains, on the aligned factors.
    ci : float
        Coverage of the intervals (default 0.95; the resampling's percentiles are R's quantile type 7).
    parametric : bool, optional
        Run the parametric bootstrap (``n_resamples`` simulated samples). Default: yes for ``resample="sorts"``
        with Hungarian or Procrustes alignment and no ``indices``; a qmboots replay (``indices``, ``qindtest``)
        is the resampling alone.
    world_sorts : int
        Participants in the parametric bootstrap's world (its truth), default :data:`~qvalid.stability.parametric.
        WORLD_SORTS`.
    then : sequence of PairStep, optional
        Judgmental steps of the full-sample solution (:func:`qvalid.analyze`'s ``then``). They are *not* replayed
        on the replicates: they were chosen by looking at the full sample's factors, and a replicate's factors come
        in another order, sign and orientation, so the same angles would turn a different configuration. Instead
        the hand-rotated full-sample solution is the target and each replicate (named rotation only) is turned
        onto it by the orthogonal rotation closest to it: ``align="procrustes"`` is required, and the bootstrap
        then measures how stable the factor space is in which the hand rotation was made. The calibration covers
        named rotations only: with steps there is no calibrated verdict and no parametric bootstrap (said in
        ``notes``).

    Returns
    -------
    BootstrapResult

    Examples
    --------
    >>> from qvalid.datasets import load_lipset
    >>> b = bootstrap(load_lipset(), 3, 100, seed=1)
    >>> b.counts["used"]
    100
    """
    if resample not in RESAMPLE:
        raise QInputError(f"resample={resample!r}: choose one of {', '.join(RESAMPLE)}")
    if align not in ALIGN:
        raise QInputError(f"align={align!r}: choose one of {', '.join(ALIGN)}")
    if not 0 < ci < 1:
        raise QInputError(f"ci={ci!r} must lie between 0 and 1")
    notes = []
    if "centroid_ties" not in options and analyze_options(flavor, options).extraction == "centroid":
        options = {**options, "centroid_ties": "strict"}
        notes.append("centroid ties: strict (one reflection at a time), because every resample duplicates sorts and "
                     "qmethod's joint reflection of tied columns scrambles the matrix; pass centroid_ties='joint' to "
                     "replay qmethod")
    if then and align != "procrustes":
        raise QInputError(f"judgmental rotation steps are not replayed on bootstrap replicates (their factors come in "
                          f"another order, sign and orientation); with steps the replicates are turned onto the "
                          f"hand-rotated solution: use align='procrustes' (--align procrustes), not {align!r}")
    full = analyze(study, nfactors, flavor=flavor, flags=manual_flags, then=then, **options)
    _check_batchable(full.options)
    k = full.nfactors
    n_units = study.n_sorts if resample == "sorts" else study.n_statements
    if indices is not None:
        indices = np.asarray(indices)
        if (indices.ndim != 2 or indices.shape[1] != n_units or not np.issubdtype(indices.dtype, np.integer)
                or indices.min(initial=0) < 0 or indices.max(initial=0) >= n_units):
            raise QInputError(f"indices must be a (n_resamples, {n_units}) matrix of 0-based {resample} numbers")
        n_resamples = indices.shape[0]
    if isinstance(n_resamples, bool) or int(n_resamples) != n_resamples or n_resamples < 1:
        raise QInputError(f"n_resamples={n_resamples!r} must be a whole number >= 1")
    n_resamples = int(n_resamples)
    if isinstance(chunk_size, bool) or int(chunk_size) != chunk_size or chunk_size < 1:
        raise QInputError(f"chunk_size={chunk_size!r} must be a whole number >= 1")
    chunk_size = int(chunk_size)
    job = Job(scores=study.scores.astype(np.float64), qscores=study.qscores, nfactors=k, options=full.options,
              target=np.array(full.loadings), manual_flags=None if manual_flags is None else np.array(full.flags),
              resample=resample, balanced=bool(balanced), align=align, forced=study.forced)
    sizes = chunk_sizes(n_resamples, chunk_size)
    starts = np.cumsum([0] + sizes[:-1])
    root = np.random.SeedSequence(seed)  # children 0..c-1: the resampling's chunks (as before), then the world's
    tasks = [(job, n, sd, None if indices is None else indices[s:s + n])
             for s, n, sd in zip(starts, sizes, seeds(root, len(sizes)))]
    parts = run_chunks(run_chunk, tasks, executor=executor, progress=progress, desc="bootstrap")
    raw = {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}
    if then:
        notes.append("judgmental rotation steps: no calibrated verdict and no parametric bootstrap (the calibration "
                     "covers named rotations); the resampling's shares and percentiles are reported as they are")
    if parametric is None:
        parametric = resample == "sorts" and align != "qindtest" and indices is None and not then
    par = world = None
    if parametric:
        par, world = _parametric(full, manual_flags, n_resamples, root, world_sorts, executor, progress, notes,
                                 chunk_size)
    return BootstrapResult(full=full, n_resamples=n_resamples, resample=resample, balanced=bool(balanced),
                           align=align, seed=seed, ci=ci, indices_given=indices is not None, raw=raw,
                           parametric=par, world=world, notes=tuple(notes), judgmental=bool(then))


def _parametric(full, manual_flags, n: int, root, world_sorts: int, executor, progress, notes,
                chunk_size: int = CHUNK_SIZE):
    """The parametric bootstrap: its world from the next seed child, then chunks of simulated samples."""
    if isinstance(world_sorts, bool) or int(world_sorts) != world_sorts or world_sorts < 1:
        raise QInputError(f"world_sorts={world_sorts!r} must be a whole number >= 1")
    (world_seed,) = seeds(root, 1)
    try:  # every type at least once: a study with more sorts than world_sorts gets one of each
        world = build_world(full, np.random.default_rng(world_seed), max(int(world_sorts), full.study.n_sorts))
    except (QInputError, FloatingPointError, np.linalg.LinAlgError, ValueError) as err:
        notes.append(f"no parametric bootstrap: its world could not be analysed ({err})")
        return None, None
    job = ParametricJob(world=world, nfactors=full.nfactors, options=full.options, qscores=full.study.qscores,
                        manual_flags=None if manual_flags is None else np.asarray(full.flags, dtype=bool))
    sizes = chunk_sizes(n, chunk_size)
    tasks = [(job, m, sd) for m, sd in zip(sizes, seeds(root, len(sizes)))]
    parts = run_chunks(run_parametric_chunk, tasks, executor=executor, progress=progress, desc="parametric")
    sums = ("loading_error_sum", "loading_error_sq", "flag_count", "type_count")
    out = {key: np.concatenate([p[key] for p in parts]) for key in parts[0] if key not in sums}
    out.update({key: np.sum([p[key] for p in parts], axis=0) for key in sums})
    return out, world


def _check_batchable(opts) -> None:
    """Refuse options whose arithmetic the replicates would not follow (never a silently different number): the
    values each option's :class:`~qvalid.options.OptionInfo` declares ``batched``."""
    bad = [f"{name}={getattr(opts, name)!r}" for name, info in OPTION_INFO.items()
           if info.batched is not True and getattr(opts, name) not in info.batched]
    if bad:
        raise QInputError("the bootstrap replicates follow R qmethod's arithmetic (flavor qmethod, extraction pca or "
                          f"centroid); these options are not bootstrapped yet: {', '.join(bad)}")


def analyze_options(flavor: str, options: dict):
    """The resolved options of ``flavor`` with the option fields of ``options`` (to see the extraction before
    analysing; other keywords of :func:`qvalid.analyze`, such as ``target``, are left to it)."""
    return resolve_options(flavor, **{k: v for k, v in options.items() if k in OPTION_INFO})
