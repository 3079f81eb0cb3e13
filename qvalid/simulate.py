"""Studies with known truth (planted factors), for benchmarks, bootstrap checks and tests. Seeded and deterministic."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .chunks import chunk_sizes, run_chunks, seeds
from .study import QStudy

__all__ = ["quasi_normal_grid", "planted_study", "tie_statements", "grid_qscores", "standardise", "orthogonalise",
           "latent_scores", "open_cells", "complete_arrays", "simulate_sorts", "planted_loadings", "Simulation",
           "simulate_studies", "LATENT_MODES", "tie_heavy_study"]


def quasi_normal_grid(n_statements: int, max_score: int | None = None) -> dict[int, int]:
    """A symmetric quasi-normal grid -m..+m with n_statements cells (fuller in the middle).

    Cells follow a discretised normal density (as qmethod's ``make.distribution``), adjusted in the centre so
    they add up to ``n_statements``.
    """
    m = max_score if max_score is not None else max(1, min(6, round(n_statements / 7)))
    scores = np.arange(-m, m + 1)
    dens = np.exp(-0.5 * (scores / (m / 2.0 + 0.5)) ** 2)
    cells = np.maximum(1, np.round(dens / dens.sum() * n_statements)).astype(int)
    cells[m] += n_statements - cells.sum()
    if cells[m] < 1:
        raise ValueError(f"cannot lay {n_statements} statements on a grid -{m}..+{m}")
    return dict(zip(scores.tolist(), cells.tolist()))


def planted_study(n_statements: int, n_sorts: int, nfactors: int, *, grid=None, noise: float = 0.6,
                  seed: int = 0) -> tuple[QStudy, np.ndarray]:
    """A forced study whose sorts are noisy copies of ``nfactors`` prototype sorts.

    Each sort j follows prototype ``j % nfactors`` (sign flipped for every fifth sort, to exercise reflection):
    its latent value per statement is ``+-prototype + noise * N(0, 1)``, ranked into the grid (ties cannot occur
    in continuous draws). Returns ``(study, membership)`` with ``membership`` the (n_sorts, nfactors) matrix of
    planted signed memberships (+1/-1/0).
    """
    rng = np.random.default_rng(seed)
    grid = quasi_normal_grid(n_statements) if grid is None else grid
    q = np.repeat(np.fromiter(grid.keys(), int), np.fromiter(grid.values(), int))
    if q.size != n_statements:
        raise ValueError(f"grid has {q.size} cells for {n_statements} statements")
    proto = rng.standard_normal((n_statements, nfactors))
    member = np.zeros((n_sorts, nfactors))
    which = np.arange(n_sorts) % nfactors
    sign = np.where(np.arange(n_sorts) % 5 == 4, -1.0, 1.0)
    member[np.arange(n_sorts), which] = sign
    latent = proto[:, which] * sign + noise * rng.standard_normal((n_statements, n_sorts))
    ranks = np.argsort(np.argsort(latent, axis=0, kind="stable"), axis=0, kind="stable")
    scores = q[ranks]
    return QStudy.from_array(scores, grid=grid, name=f"planted {n_statements}x{n_sorts} k={nfactors} seed={seed}"), member


def tie_statements(scores, pairs, rng) -> np.ndarray:
    """Make statement j score exactly like statement i in every sort, keeping every sort on its grid.

    For each pair (i, j) and each sort, a value that at least two of {i, j, unprotected statements} hold is chosen
    (i's own value when possible, else one drawn with ``rng``), and i and j swap scores with unprotected
    statements holding it. Their z-scores then tie exactly on every factor. A sort with no such value is left
    as it is. Used by the golden "ties" study and the differential test.
    """
    scores = np.array(scores, copy=True)
    protected: set = set()
    for i, j in pairs:
        protected |= {i, j}
        for c in range(scores.shape[1]):  # building test data, not a numerical hot path
            col = scores[:, c]
            free = [m for m in range(len(col)) if m not in protected]
            pool = free + [i, j]
            values = [v for v in np.unique(col) if sum(col[m] == v for m in pool) >= 2]
            if not values:
                continue
            v = col[i] if col[i] in values else values[rng.integers(len(values))]
            for x in (i, j):
                if col[x] != v:
                    m = next(m for m in rng.permutation(free) if col[m] == v)
                    col[x], col[m] = col[m], col[x]
    return scores


# ---------------------------------------------------------------------------------------------------------------
# Studies from a factor model: loadings x latent factor scores + unique noise, ranked into a forced grid.
# Everything below is batched over studies (leading axis) and sorts; many studies are spread over any
# concurrent.futures.Executor in fixed chunks seeded by numpy SeedSequence.spawn (same bytes on 1 core or many).

LATENT_MODES = ("orthogonal", "as_given")


def grid_qscores(grid) -> np.ndarray:
    """The grid as an ascending vector with one value per statement (qmethod's ``qscores``)."""
    return np.repeat(np.fromiter(grid.keys(), np.int64), np.fromiter(grid.values(), np.int64))


def standardise(scores) -> np.ndarray:
    """Centre each column (over statements, axis -2) and scale it to unit sample SD (n - 1)."""
    s = np.asarray(scores, dtype=np.float64)
    s = s - s.mean(axis=-2, keepdims=True)
    return s / s.std(axis=-2, ddof=1, keepdims=True)


def orthogonalise(scores) -> np.ndarray:
    """Löwdin's symmetric orthogonalisation of standardised factor scores: S (S'S)^(-1/2) sqrt(n - 1).

    The columns come out centred, with unit sample SD and sample correlations exactly 0; among all such sets
    they are the closest to the standardised input in least squares (Löwdin 1950; Mayer 2002), and no factor is
    privileged (unlike Gram-Schmidt). Batched over leading axes.
    """
    s = standardise(scores)
    w, v = np.linalg.eigh(np.swapaxes(s, -1, -2) @ s)
    if (w <= 1e-12 * w.max(axis=-1, keepdims=True)).any():
        raise ValueError("the factor scores are linearly dependent: they cannot be orthogonalised")
    inv_sqrt = (v / np.sqrt(w)[..., None, :]) @ np.swapaxes(v, -1, -2)
    return s @ inv_sqrt * np.sqrt(s.shape[-2] - 1)


def latent_scores(n_statements: int, nfactors: int, *, correlation=0.0, rng=None, n: int | None = None):
    """Latent factor scores over the statements whose *sample* correlation matrix is exactly ``correlation``.

    Standard normal draws are orthogonalised (:func:`orthogonalise`) and multiplied by the Cholesky factor of
    the target: ``correlation`` is a number (the same correlation between every pair of factors; 0 =
    orthogonal) or a (k, k) correlation matrix. Shape (n_statements, k), or (n, n_statements, k) with ``n``.
    """
    rng = np.random.default_rng(rng)
    chol = np.linalg.cholesky(_correlation_matrix(correlation, nfactors))
    shape = (n_statements, nfactors) if n is None else (n, n_statements, nfactors)
    return orthogonalise(rng.standard_normal(shape)) @ chol.T


def _correlation_matrix(correlation, k: int) -> np.ndarray:
    phi = np.asarray(correlation, dtype=np.float64)
    if phi.ndim == 0:
        phi = np.full((k, k), float(phi))
        np.fill_diagonal(phi, 1.0)
    if phi.shape != (k, k) or not np.allclose(phi, phi.T) or not np.allclose(np.diag(phi), 1.0):
        raise ValueError(f"correlation must be a number or a symmetric ({k}, {k}) matrix with unit diagonal")
    if np.linalg.eigvalsh(phi)[0] <= 0:
        raise ValueError("correlation matrix is not positive definite")
    return phi


def open_cells(arrays, grid) -> list[np.ndarray]:
    """Per factor, the grid scores that the known cells of a partial factor array leave open (ascending).

    ``arrays`` is (n_statements, k) with NaN for unknown cells. Raises ValueError naming the factor and score
    when the known cells over-fill a column of the grid.
    """
    a = np.asarray(arrays, dtype=np.float64)
    q = grid_qscores(grid)
    if a.shape[0] != q.size:
        raise ValueError(f"arrays have {a.shape[0]} statements, the grid has {q.size} cells")
    out = []
    for j in range(a.shape[1]):  # k factors: a handful
        known = a[~np.isnan(a[:, j]), j].astype(np.int64)
        bad = np.setdiff1d(known, q)
        if bad.size:
            raise ValueError(f"factor {j + 1}: score {bad[0]} is not on the grid")
        free = dict(grid)
        for v, c in zip(*np.unique(known, return_counts=True)):
            free[int(v)] -= int(c)
            if free[int(v)] < 0:
                raise ValueError(f"factor {j + 1}: score {int(v):+d} is given to {int(c)} statements, "
                                 f"the grid has {grid[int(v)]} cells")
        out.append(grid_qscores({s: c for s, c in free.items() if c > 0}))
    return out


def complete_arrays(arrays, grid, rng=None, *, n: int | None = None) -> np.ndarray:
    """Fill the unknown (NaN) cells of partial factor arrays with the scores the grid leaves open.

    Each factor's open scores (:func:`open_cells`) are given to its unknown statements in a random order; with
    ``n`` the result is a batch of ``n`` independent completions, shape (n, n_statements, k).
    """
    rng = np.random.default_rng(rng)
    a = np.asarray(arrays, dtype=np.float64)
    out = np.broadcast_to(a, ((1 if n is None else n),) + a.shape).copy()
    for j, free in enumerate(open_cells(a, grid)):
        rows = np.flatnonzero(np.isnan(a[:, j]))
        out[:, rows, j] = rng.permuted(np.broadcast_to(free, (out.shape[0], free.size)), axis=1)
    return out[0] if n is None else out


def simulate_sorts(loadings, latent, grid, rng=None) -> np.ndarray:
    """Forced-grid Q-sorts from a factor model: sort i is ranked from ``latent @ a_i + sqrt(1 - h_i^2) e_i``.

    With standardised latent scores this is the common factor model of the Q-sorts: each latent sort has unit
    variance, correlates ``a_if`` with orthogonal factor f, and two sorts correlate ``a_i . a_j`` (before the
    ranking into the grid). The statement with the lowest latent value gets the grid's lowest score, and so on.

    Parameters
    ----------
    loadings : array-like of shape (n_sorts, k)
        Every communality h_i^2 = sum_f a_if^2 must be at most 1.
    latent : array-like of shape (..., n_statements, k)
        Latent factor scores (e.g. :func:`latent_scores`, standardised published arrays); a leading batch axis
        gives one study per latent matrix.
    grid : mapping score -> cells
    rng : numpy Generator or seed

    Returns
    -------
    ndarray of int64, shape (..., n_statements, n_sorts)
    """
    rng = np.random.default_rng(rng)
    a = np.asarray(loadings, dtype=np.float64)
    s = np.asarray(latent, dtype=np.float64)
    q = grid_qscores(grid)
    if a.ndim != 2 or s.shape[-1] != a.shape[1]:
        raise ValueError(f"loadings {a.shape} and latent scores {s.shape} disagree on the number of factors")
    if s.shape[-2] != q.size:
        raise ValueError(f"latent scores have {s.shape[-2]} statements, the grid has {q.size} cells")
    h2 = (a * a).sum(axis=1)
    if (h2 > 1 + 1e-12).any():
        i = int(np.argmax(h2))
        raise ValueError(f"sort {i + 1}: communality {h2[i]:.4f} > 1, no unique variance left")
    x = s @ a.T + rng.standard_normal(s.shape[:-1] + (a.shape[0],)) * np.sqrt(np.clip(1 - h2, 0, None))
    out = np.empty(x.shape, dtype=np.int64)
    np.put_along_axis(out, np.argsort(x, axis=-2, kind="stable"), np.broadcast_to(q[:, None], x.shape), axis=-2)
    return out


def planted_loadings(sizes, *, strength=0.7, cross: float = 0.0, rng=None) -> np.ndarray:
    """A simple-structure loading matrix: ``sizes[f]`` sorts load ``strength`` on factor f.

    ``strength`` is one number or one per factor; every other loading is drawn uniformly from
    [-cross, cross]. Sorts are ordered factor by factor. Raises ValueError when a communality would exceed 1.
    """
    rng = np.random.default_rng(rng)
    sizes = [int(s) for s in sizes]
    k = len(sizes)
    if k < 1 or min(sizes) < 0 or sum(sizes) < 2:
        raise ValueError(f"sizes={sizes}: need at least one factor and two sorts")
    main = np.broadcast_to(np.asarray(strength, dtype=np.float64), (k,))
    owner = np.repeat(np.arange(k), sizes)
    a = rng.uniform(-cross, cross, (owner.size, k)) if cross else np.zeros((owner.size, k))
    a[np.arange(owner.size), owner] = main[owner]
    if ((a * a).sum(axis=1) > 1).any():
        raise ValueError("strength and cross loadings give a communality above 1")
    return a


@dataclass(frozen=True)
class Simulation:
    """Many simulated studies from one factor model (:func:`simulate_studies`).

    Attributes
    ----------
    scores : ndarray of int64, shape (n_studies, n_statements, n_sorts)
    latent : ndarray, shape (n_studies, n_statements, k)
        The latent factor scores each study was generated from (the truth for z-scores and arrays).
    loadings : ndarray, shape (n_sorts, k)
        The true loadings.
    grid : dict
    seed : int
    latent_mode : str
        ``"orthogonal"`` or ``"as_given"`` (see :func:`simulate_studies`).
    """

    scores: np.ndarray
    latent: np.ndarray
    loadings: np.ndarray
    grid: dict
    seed: int
    latent_mode: str
    chunk_size: int

    def __len__(self) -> int:
        return self.scores.shape[0]

    def study(self, i: int, *, statement_ids=None, sort_ids=None, statement_texts=None, name=None) -> QStudy:
        """Study ``i`` as a :class:`QStudy`."""
        return QStudy.from_array(self.scores[i], statement_ids, sort_ids, grid=self.grid,
                                 statement_texts=statement_texts,
                                 name=name or f"simulated study {i} (seed {self.seed}, {self.latent_mode} latent)")


def simulate_studies(loadings, grid, n_studies: int = 1, *, latent=None, arrays=None, correlation=0.0,
                     latent_mode: str = "orthogonal", seed: int = 0, executor=None,
                     chunk_size: int = 50) -> Simulation:
    """``n_studies`` forced-grid studies from the loadings and latent factor scores, seeded.

    The latent scores come from one of:

    - ``latent`` (n_statements, k): given factor scores (e.g. published z-scores);
    - ``arrays`` (n_statements, k, NaN = unknown): published factor arrays; each study fills the unknown cells
      with the scores the grid leaves open, in its own random order (:func:`complete_arrays`);
    - neither: fresh normal draws per study with sample correlation ``correlation`` (:func:`latent_scores`).

    Given scores or arrays are standardised; with ``latent_mode="orthogonal"`` (default) they are then
    orthogonalised (:func:`orthogonalise`), so that the generated sorts follow the orthogonal factor model that a
    varimax solution such as the given loadings describes; ``"as_given"`` keeps their correlations (the sorts
    then correlate ``a_i' Phi a_j``, more than the loadings say).

    Studies are generated in chunks of ``chunk_size``, chunk c from ``SeedSequence(seed).spawn(n_chunks)[c]``,
    through ``executor.map`` when an executor is given: the bytes depend only on the arguments, never on the
    executor or the number of workers, and study i is the same whatever ``n_studies`` (> i) is.
    """
    if latent_mode not in LATENT_MODES:
        raise ValueError(f"latent_mode={latent_mode!r} is not one of {', '.join(LATENT_MODES)}")
    if latent is not None and arrays is not None:
        raise ValueError("give latent scores or factor arrays, not both")
    a = np.asarray(loadings, dtype=np.float64)
    grid = {int(s): int(c) for s, c in dict(grid).items()}
    n_studies, chunk_size = int(n_studies), int(chunk_size)
    if n_studies < 1 or chunk_size < 1:
        raise ValueError("n_studies and chunk_size must be >= 1")
    given = None if latent is None else np.asarray(latent, dtype=np.float64)
    part = None if arrays is None else np.asarray(arrays, dtype=np.float64)
    if part is not None:
        open_cells(part, grid)  # fail early, naming the factor
    sizes = chunk_sizes(n_studies, chunk_size)
    jobs = [(a, grid, given, part, correlation, latent_mode, n, chunk_size, ss)
            for n, ss in zip(sizes, seeds(seed, len(sizes)))]
    chunks = run_chunks(_simulate_chunk, jobs, executor=executor)
    return Simulation(scores=np.concatenate([c[0] for c in chunks]), latent=np.concatenate([c[1] for c in chunks]),
                      loadings=a, grid=grid, seed=seed, latent_mode=latent_mode, chunk_size=chunk_size)


def _simulate_chunk(job):
    """One chunk of :func:`simulate_studies` (a top-level function, so that process pools can pickle it)."""
    # a short last chunk draws a full chunk of n studies and keeps its first ``keep``: so study i never depends on
    # how many studies were asked for
    a, grid, given, part, correlation, mode, keep, n, seedseq = job
    rng = np.random.default_rng(seedseq)
    n_st = int(sum(grid.values()))
    if part is None and given is None:
        s = latent_scores(n_st, a.shape[1], correlation=correlation, rng=rng, n=n)
    else:
        raw = complete_arrays(part, grid, rng, n=n) if part is not None else np.broadcast_to(given, (n,) + given.shape)
        s = orthogonalise(raw) if mode == "orthogonal" else standardise(raw)
    return simulate_sorts(a, s, grid, rng)[:keep], s[:keep]


def tie_heavy_study(seed: int) -> QStudy:
    """A random study built to produce exact ties in the centroid's sums (issue 8's differential test).

    Q-sort scores are small integers, so sums of correlations tie exactly far more often than continuous data
    would suggest; these studies make that happen often. Drawn with ``numpy.random.default_rng(seed)``:

    - a symmetric grid, half-width 1..4: flat (the same 2..5 cells for every score, as the issue's reproducer),
      2..5 cells per score pair, or quasi-normal (7..25 statements, at least 5 per unit of half-width);
    - 6..20 sorts (duplicates and mirrors included), forced (5 in 6) or non-forced (latent values rounded into
      the grid's range);
    - weak to strong structure: 1..3 planted prototypes, loading 0, 0.5 or 0.8, a bipolar sort now and then;
    - 0..3 duplicated sorts (correlation 1), 0..2 mirrored sorts (the negated sort, correlation -1; the grid is
      symmetric, so it stays on it), placed at random positions; 0..2 pairs of tied statements
      (:func:`tie_statements`).
    """
    rng = np.random.default_rng(seed)
    half = int(rng.integers(1, 5))
    if rng.random() < 0.5:
        cells = rng.integers(2, 6, size=half + 1)
        grid = {v: int(cells[abs(v)]) for v in range(-half, half + 1)}
        if rng.random() < 0.5:  # the reproducer: every score the same number of cells
            grid = dict.fromkeys(grid, grid[0])
    else:
        grid = quasi_normal_grid(int(rng.integers(max(7, 5 * half), 26)), max_score=half)
    q = grid_qscores(grid)
    n_st = q.size
    n_dup, n_mirror = int(rng.integers(0, 4)), int(rng.integers(0, 3))
    n_base = max(2, int(rng.integers(6, 21)) - n_dup - n_mirror)
    forced = rng.random() < 5 / 6
    nfac = int(rng.integers(1, 4))
    strength = float(rng.choice([0.0, 0.5, 0.8]))
    protos = rng.standard_normal((n_st, nfac))
    sign = np.where(rng.random(n_base) < 0.15, -1.0, 1.0)
    latent = sign * strength * protos[:, np.arange(n_base) % nfac] + np.sqrt(1 - strength ** 2) * \
        rng.standard_normal((n_st, n_base))
    if forced:
        scores = q[np.argsort(np.argsort(latent, axis=0, kind="stable"), axis=0, kind="stable")]
        pairs = [(2 * t, 2 * t + 1) for t in range(int(rng.integers(0, 3)))]
        scores = tie_statements(scores, pairs, rng)
    else:
        scores = np.clip(np.rint(latent * half / 1.5), -half, half).astype(np.int64)
        const = np.flatnonzero((scores == scores[:1]).all(axis=0))
        scores[0, const] = np.where(scores[0, const] == half, -half, half)  # no constant sort
    for _ in range(n_dup + n_mirror):
        copy = scores[:, rng.integers(scores.shape[1])] * (-1 if _ >= n_dup else 1)
        scores = np.insert(scores, int(rng.integers(scores.shape[1] + 1)), copy, axis=1)
    return QStudy.from_array(scores, grid=grid, forced=forced, name=f"tie-heavy seed={seed}")
