"""The null distributions of the number-of-factors evidence: Horn's parallel analysis on the study's own grid (every
random sort a permutation of the study's distribution, as pensieve ``R/run_parallel.R``), normal noise, and the
revised parallel analysis' (k - 1)-factor populations (Green et al. 2012).

Vectorised: random keys are argsorted into permutations for a whole chunk of runs at once, the chunk is correlated
with the batched :func:`qvalid.core.correlation.correlate` and ``numpy.linalg.eigvalsh`` works on the stack. Chunks
have a fixed size and their own generator from ``numpy.random.SeedSequence(seed).spawn``, so any
``concurrent.futures.Executor`` (or none) gives the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..chunks import chunk_sizes, run_chunks, seeds
from ..core.correlation import correlate
from ..core.extract import centroid_batch
from ..errors import QInputError

__all__ = ["NullSample", "null_eigenvalues", "random_sorts", "population_sorts", "principal_axis", "grid_template",
           "CHUNK"]

#: Runs per chunk of the null distributions (fixed, so that the bytes do not depend on the number of workers).
CHUNK = 250


# ---------------------------------------------------------------------------------------------- null distributions
def grid_template(grid, n_sorts: int) -> np.ndarray:
    """Scores of ``n_sorts`` sorts that each hold the grid once (statements x sorts), e.g. for a study whose raw
    sorts are not published: ``grid_template(nav_grid(), 25)``."""
    q = np.repeat(np.fromiter(grid.keys(), np.int64), np.fromiter(grid.values(), np.int64))
    return np.repeat(q[:, None], int(n_sorts), axis=1)


def random_sorts(scores, n_runs: int, rng) -> np.ndarray:
    """``n_runs`` random studies: every column of ``scores`` independently and uniformly permuted.

    For a forced study each column holds the grid, so each random sort fills the grid exactly (pensieve's
    ``sample(spots)``); for a free distribution each random sort keeps the observed distribution of its sort
    (the permutation null of Buja & Eyuboglu 1992). Permutations are the argsort of uniform keys, one call for
    the whole batch.

    Returns
    -------
    ndarray of shape (n_runs, n_statements, n_sorts)
    """
    x = np.asarray(scores, dtype=np.float64)
    keys = rng.random((int(n_runs),) + x.shape)
    return np.take_along_axis(np.broadcast_to(x, keys.shape), np.argsort(keys, axis=1), axis=1)


def population_sorts(scores, loadings, n_runs: int, rng) -> np.ndarray:
    """``n_runs`` random studies from a common-factor population, each sort ranked into its own grid.

    Sort j's latent value per statement is ``F a_j + sqrt(1 - h_j^2) e`` (F: n_statements x m standard normal
    factor scores, new for every study; e: standard normal noise; a_j: row j of ``loadings``, h_j^2 its sum of
    squares, capped at 0.999), ranked into the scores of column j of ``scores`` (its grid). With ``loadings`` the
    (k - 1)-factor solution this is the null of the revised parallel analysis (Green et al. 2012): is factor k more
    than what k - 1 factors plus noise leave? The model is :func:`qvalid.simulate.simulate_sorts`'s; here each sort
    keeps its own distribution (free distributions included) and the factor scores are drawn afresh per study.

    Returns
    -------
    ndarray of shape (n_runs, n_statements, n_sorts)
    """
    x = np.sort(np.asarray(scores, dtype=np.float64), axis=0)
    a = np.asarray(loadings, dtype=np.float64)
    n, p = x.shape
    h2 = np.minimum((a * a).sum(axis=1), 0.999)
    f = rng.standard_normal((int(n_runs), n, a.shape[1]))
    latent = f @ a.T + np.sqrt(1.0 - h2) * rng.standard_normal((int(n_runs), n, p))
    out = np.empty_like(latent)  # the i-th smallest latent value gets the i-th smallest score of its sort
    np.put_along_axis(out, np.argsort(latent, axis=1), np.broadcast_to(x, latent.shape), axis=1)
    return out


@dataclass(frozen=True)
class NullSample:
    """Eigenvalues (descending) of the correlation matrices of ``n_runs`` random studies.

    ``centroid`` holds the unrotated column sums of squares of the first factors of Hermans' centroid
    (:func:`qvalid.core.extract.centroid_batch`) on the same matrices, when asked for (NaN where it fails).
    """

    kind: str
    eigenvalues: np.ndarray
    centroid: np.ndarray | None = None

    @property
    def n_runs(self) -> int:
        return self.eigenvalues.shape[0]

    def centile(self, q: float, *, which: str = "eigenvalues") -> np.ndarray:
        """The q-th centile per rank (numpy's linear interpolation = R's ``quantile`` type 7, as pensieve)."""
        return np.nanpercentile(getattr(self, which), q, axis=0)

    def mean(self, *, which: str = "eigenvalues") -> np.ndarray:
        return np.nanmean(getattr(self, which), axis=0)


def _null_chunk(task) -> tuple:
    """One chunk of random studies -> (eigenvalues, centroid sums of squares or None). Top level: picklable."""
    template, kind, cor_method, n, seed_seq, n_centroid, spc, population = task
    rng = np.random.default_rng(seed_seq)
    if population is not None:
        x = population_sorts(template, population, n, rng)
    elif kind == "grid":
        x = random_sorts(template, n, rng)
    else:
        x = rng.standard_normal((n,) + template.shape)
    r = correlate(x, method=cor_method)
    ev = np.linalg.eigvalsh(r)[:, ::-1]
    cent = None
    if n_centroid:
        ext = centroid_batch(r, n_centroid, spc=spc, ties="strict")
        cent = (ext.loadings * ext.loadings).sum(axis=1)
        cent[ext.close] = np.nan  # no positive manifold (a column sum of exactly 0): left out of the null
    return ev, cent


def null_eigenvalues(scores, n_runs: int = 2000, *, kind: str = "grid", cor_method: str = "pearson", seed=0,
                     executor=None, centroid_factors: int = 0, spc: float = 1e-5, population=None,
                     progress: bool = False) -> NullSample:
    """Horn's (1965) parallel analysis null: eigenvalues of the correlation matrices of random studies.

    Parameters
    ----------
    scores : array-like of shape (n_statements, n_sorts)
        The study (or :func:`grid_template`). ``kind="grid"`` permutes each sort's own scores (random sorts on the
        study's grid, as pensieve ``run_parallel``); ``kind="normal"`` draws independent N(0, 1) values of the same
        shape (the generic parallel analysis of e.g. R ``paran``), ignoring the grid.
    n_runs : int
    cor_method : {"pearson", "spearman", "kendall"}
    seed : int or numpy.random.SeedSequence
    executor : concurrent.futures.Executor, optional
        Chunks of :data:`CHUNK` runs are mapped over it; each chunk has its own child of
        ``SeedSequence(seed).spawn``, so the result is byte-identical for any executor and worker count.
    centroid_factors : int
        Also extract this many centroid factors from every random matrix (for studies analysed by centroid: their
        unrotated sums of squares are then compared with a null of the same kind), with the batched
        :func:`qvalid.core.extract.centroid_batch`.
    population : array-like of shape (n_sorts, m), optional
        Loadings of a common-factor population: the random studies come from :func:`population_sorts` instead
        (each sort still ranked into its own grid), the null of the revised parallel analysis.
    progress : bool
        A tqdm bar over chunks (only when a person watches).

    Returns
    -------
    NullSample
    """
    template = np.asarray(scores, dtype=np.float64)
    if kind not in ("grid", "normal"):
        raise ValueError(f"kind={kind!r}: choose 'grid' or 'normal'")
    if population is not None and kind != "grid":
        raise ValueError("a population null ranks sorts into their grid: use kind='grid'")
    n_runs = int(n_runs)
    if n_runs < 1:
        raise QInputError(f"n_runs={n_runs} must be >= 1")
    sizes = chunk_sizes(n_runs, CHUNK)
    pop = None if population is None else np.asarray(population, dtype=np.float64)
    tasks = [(template, kind, cor_method, n, child, int(centroid_factors), spc, pop)
             for n, child in zip(sizes, seeds(seed, len(sizes)))]
    results = run_chunks(_null_chunk, tasks, executor=executor, progress=progress,
                         desc=f"parallel analysis ({kind} null)")
    ev = np.concatenate([r[0] for r in results])
    cent = np.concatenate([r[1] for r in results]) if centroid_factors else None
    return NullSample(kind, ev, cent)


def principal_axis(r, nfactors: int, *, max_iter: int = 200, tol: float = 1e-6) -> np.ndarray:
    """Iterated principal-axis loadings (communalities start at the squared multiple correlations, 1 - 1/diag(R^-1),
    then the row sums of squares; capped at 0.999), the population model of Green et al.'s (2012) revised
    parallel analysis. Principal components would overstate the communalities and leave too little noise.

    Returns
    -------
    ndarray of shape (n_sorts, nfactors)
    """
    r = np.asarray(r, dtype=np.float64)
    try:
        h2 = 1.0 - 1.0 / np.diag(np.linalg.inv(r))
    except np.linalg.LinAlgError:
        h2 = np.abs(r - np.eye(len(r))).max(axis=1)
    h2 = np.clip(h2, 0.0, 0.999)
    idx = np.arange(len(r))
    for _ in range(max_iter):
        m = r.copy()
        m[idx, idx] = h2
        vals, vecs = np.linalg.eigh(m)
        a = vecs[:, ::-1][:, :nfactors] * np.sqrt(np.maximum(vals[::-1][:nfactors], 0.0))
        new = np.clip((a * a).sum(axis=1), 0.0, 0.999)
        if np.abs(new - h2).max() < tol:
            break
        h2 = new
    return a
