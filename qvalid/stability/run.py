"""``qvalid.bootstrap()``: the bootstrap of a k-factor Q solution (resample, re-analyse, align, summarise)."""

from __future__ import annotations

import numpy as np

from ..chunks import chunk_sizes, run_chunks, seeds
from ..errors import QInputError
from ..options import OPTION_INFO
from ..pipeline import analyze
from ..study import QStudy
from .engine import Job, run_chunk
from .summaries import BootstrapResult

__all__ = ["bootstrap", "RESAMPLE", "ALIGN", "CHUNK_SIZE"]

RESAMPLE = ("sorts", "statements")
ALIGN = ("hungarian", "procrustes", "qindtest")
#: Replicates per chunk. Fixed (not derived from the number of workers) so that the chunks, their seeds and
#: therefore every byte of the result are the same on one core, many processes or a cluster.
CHUNK_SIZE = 250


def bootstrap(study: QStudy, nfactors: int, n_resamples: int = 1000, *, resample: str = "sorts",
              balanced: bool = True, indices=None, align: str = "hungarian", seed: int = 0, executor=None,
              progress: bool = False, flavor: str = "qmethod", manual_flags=None, ci: float = 0.95,
              **options) -> BootstrapResult:
    """Bootstrap the stability of a k-factor solution.

    Each replicate resamples the Q-sorts (or, with ``resample="statements"``, the statements) with replacement,
    runs exactly the analysis of the full sample (:func:`qvalid.analyze` with the same flavour and options:
    centroid or PCA, varimax or none, correlation, flag rule, array ties), and is aligned to the full-sample
    solution before it is summarised. No replicate is dropped silently: each has a status and its congruences.

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
        Seed of :class:`numpy.random.SeedSequence`; each chunk of :data:`CHUNK_SIZE` replicates draws from its own
        spawned child, so the result is the same whatever ``executor``.
    executor : concurrent.futures.Executor, optional
        Where chunks run (e.g. ``ProcessPoolExecutor``, dask's ``client.get_executor()``); default: here.
    progress : bool
        A tqdm progress bar (on stderr) over chunks.
    flavor, manual_flags, **options
        As :func:`qvalid.analyze` (``manual_flags`` = its ``flags``). With manual flags a replicate uses the
        flags of the sorts it contains, on the aligned factors.
    ci : float
        Coverage of the percentile intervals (default 0.95: 2.5 % and 97.5 % quantiles, R's type 7).

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
    full = analyze(study, nfactors, flavor=flavor, flags=manual_flags, **options)
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
    job = Job(scores=study.scores.astype(np.float64), qscores=study.qscores, nfactors=k, options=full.options,
              target=np.array(full.loadings), manual_flags=None if manual_flags is None else np.array(full.flags),
              resample=resample, balanced=bool(balanced), align=align, forced=study.forced)
    sizes = chunk_sizes(n_resamples, CHUNK_SIZE)
    starts = np.cumsum([0] + sizes[:-1])
    tasks = [(job, n, sd, None if indices is None else indices[s:s + n])
             for s, n, sd in zip(starts, sizes, seeds(seed, len(sizes)))]
    parts = run_chunks(run_chunk, tasks, executor=executor, progress=progress, desc="bootstrap")
    raw = {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}
    return BootstrapResult(full=full, n_resamples=n_resamples, resample=resample, balanced=bool(balanced),
                           align=align, seed=seed, ci=ci, indices_given=indices is not None, raw=raw)


def _check_batchable(opts) -> None:
    """Refuse options whose arithmetic the replicates would not follow (never a silently different number): the
    values each option's :class:`~qvalid.options.OptionInfo` declares ``batched``."""
    bad = [f"{name}={getattr(opts, name)!r}" for name, info in OPTION_INFO.items()
           if info.batched is not True and getattr(opts, name) not in info.batched]
    if bad:
        raise QInputError("the bootstrap replicates follow R qmethod's arithmetic (flavor qmethod, extraction pca or "
                          f"centroid); these options are not bootstrapped yet: {', '.join(bad)}")
