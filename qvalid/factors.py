"""How many factors? The criteria Q researchers cite, side by side for k = 1..K, with Horn's parallel analysis on
the study's own grid, Velicer's MAP and how the solution changes between k - 1, k and k + 1.

:func:`number_of_factors` returns a :class:`FactorsResult`: ``.criteria`` (one row per k), ``.parallel`` (observed
eigenvalues against the grid-aware and the normal-noise null), ``.map`` (Velicer), ``.sensitivity`` (k -> k + 1),
``.suggestions`` (the k each criterion supports), ``.to_json()``, ``.summary()`` and ``.scree_figure()``.

The grid-aware null follows the R package pensieve (``R/run_parallel.R``: every random sort a permutation of the
study's distribution, eigenvalues of the correlation matrix, a centile per rank), vectorised: random keys are
argsorted into permutations for a whole chunk of runs at once, the chunk is correlated with the batched
:func:`qvalid.correlation.correlate` and ``numpy.linalg.eigvalsh`` works on the stack. Chunks have a fixed size and
their own generator from ``numpy.random.SeedSequence(seed).spawn``, so any ``concurrent.futures.Executor`` (or none)
gives the same bytes.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

import numpy as np

from ._version import __version__
from .compare import _jsonable, align_factors, tucker_congruence
from .errors import QInputError
from .extract import centroid_batch
from .options import resolve_options
from .pipeline import analyze
from .study import QStudy, format_score

__all__ = ["number_of_factors", "FactorsResult", "NullSample", "null_eigenvalues", "random_sorts", "population_sorts",
           "principal_axis",
           "grid_template", "velicer_map", "CHUNK"]

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
    (:func:`qvalid.extract.centroid_batch`) on the same matrices, when asked for (NaN where it fails).
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
    from .correlation import correlate

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
        :func:`qvalid.extract.centroid_batch`.
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
    ss = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    sizes = [min(CHUNK, n_runs - i) for i in range(0, n_runs, CHUNK)]
    pop = None if population is None else np.asarray(population, dtype=np.float64)
    tasks = [(template, kind, cor_method, n, child, int(centroid_factors), spc, pop)
             for n, child in zip(sizes, ss.spawn(len(sizes)))]
    results = executor.map(_null_chunk, tasks) if executor is not None else map(_null_chunk, tasks)
    if progress:
        from tqdm import tqdm

        results = tqdm(results, total=len(tasks), desc=f"parallel analysis ({kind} null)", unit="chunk")
    results = list(results)
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


# ---------------------------------------------------------------------------------------------- Velicer's MAP
def velicer_map(r, max_m: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Velicer's (1976) minimum average partial: after partialling out the first m principal components, the
    average squared (and, Velicer, Eaton & Fava 2000, fourth-power) off-diagonal partial correlation.

    Returns ``(map2, map4)`` for m = 0..max_m (default n_sorts - 2); the suggested number of factors is the m of
    the minimum (as O'Connor's 2000 SPSS/SAS programs). All m at once: cumulative outer products on a stack.
    """
    r = np.asarray(r, dtype=np.float64)
    p = r.shape[0]
    max_m = p - 2 if max_m is None else min(int(max_m), p - 2)
    vals, vecs = np.linalg.eigh(r)
    a = vecs[:, ::-1][:, :max_m] * np.sqrt(np.maximum(vals[::-1][:max_m], 0.0))
    outer = np.einsum("im,jm->mij", a, a)
    c = r[None] - np.concatenate([np.zeros((1, p, p)), np.cumsum(outer, axis=0)])  # (max_m + 1, p, p)
    d = np.sqrt(np.clip(np.diagonal(c, axis1=1, axis2=2), 1e-300, None))
    pc = c / (d[:, :, None] * d[:, None, :])
    off = ~np.eye(p, dtype=bool)
    pc2 = pc[:, off] ** 2
    return pc2.mean(axis=1), (pc2 * pc2).mean(axis=1)


# ---------------------------------------------------------------------------------------------- the result
@dataclass(frozen=True, eq=False)
class FactorsResult:
    """What :func:`number_of_factors` found.

    Attributes
    ----------
    criteria : pandas.DataFrame
        One row per k = 1..K (see :func:`number_of_factors` for the columns and their sources).
    parallel : pandas.DataFrame
        Per rank: observed eigenvalue of the correlation matrix, grid-aware null centile, lower centile and mean,
        normal-noise null centile and mean; for centroid studies also the observed centroid sums of squares and the
        centroid null's centile and mean.
    map : pandas.DataFrame
        Velicer's MAP per m (squared and fourth-power partials).
    sensitivity : pandas.DataFrame
        One row per step k -> k + 1: factor matching, new factor, sorts whose defining factor changes, factor
        arrays that change.
    suggestions : dict
        Criterion -> the number of factors it supports.
    bootstrap : pandas.DataFrame or None
        Per k and factor: share of resamples recovering the factor at congruence >= 0.85 / 0.95, defining sorts
        that keep their factor in most resamples.
    """

    study: QStudy
    options: object
    nfactors: int
    max_k: int
    n_runs: int
    centile: float
    seed: object
    criteria: object
    parallel: object
    map: object
    sensitivity: object
    suggestions: dict
    transitions: tuple = ()
    bootstrap: object = None
    notes: tuple = field(default=())

    # -------------------------------------------------------------------------------------- JSON
    def to_dict(self) -> dict:
        s = self.study
        return {
            "qvalid_version": __version__,
            "study": {"name": s.name, "source": s.source, "n_statements": s.n_statements, "n_sorts": s.n_sorts,
                      "forced": s.forced, "grid": {format_score(k): v for k, v in s.grid.items()}},
            "options": self.options.to_dict(),
            "nfactors": self.nfactors, "max_k": self.max_k, "n_runs": self.n_runs, "centile": self.centile,
            "seed": self.seed if isinstance(self.seed, int) else str(self.seed),
            "suggestions": dict(self.suggestions),
            "criteria": _records(self.criteria),
            "parallel": _records(self.parallel),
            "map": _records(self.map),
            "sensitivity": _records(self.sensitivity),
            "bootstrap": None if self.bootstrap is None else _records(self.bootstrap),
            "notes": list(self.notes),
        }

    def to_json(self, **kw) -> str:
        """JSON text; floats at full precision, NaN as null."""
        return json.dumps(self.to_dict(), allow_nan=False, **kw)

    # -------------------------------------------------------------------------------------- text
    def summary(self) -> str:
        return _summary(self)

    def __str__(self):
        return self.summary()

    # -------------------------------------------------------------------------------------- figure
    def scree_figure(self, *, ax=None, n_ranks: int | None = None):
        """Scree plot: observed eigenvalues, the grid-aware null band (lower..upper centile, mean dashed), the
        normal-noise centile (dotted), Kaiser's line at 1; for centroid studies the centroid sums of squares
        against the centroid null. Returns the matplotlib Figure (Agg-safe; nothing is shown)."""
        import matplotlib

        if ax is None:
            matplotlib.use("Agg", force=False)
            from matplotlib.figure import Figure

            fig = Figure(figsize=(6.4, 4.2), dpi=100)
            ax = fig.add_subplot()
        else:
            fig = ax.figure
        pa = self.parallel
        n = n_ranks or min(len(pa), max(self.max_k + 3, 10))
        x = np.arange(1, n + 1)
        sub = pa.iloc[:n]
        lo = 100.0 - self.centile
        ax.fill_between(x, sub["grid_lower"], sub["grid_centile"], color="0.85",
                        label=f"random sorts on the study's grid, {lo:g}th-{self.centile:g}th centile")
        ax.plot(x, sub["grid_mean"], color="0.45", ls="--", lw=1, label="random sorts on the grid, mean")
        ax.plot(x, sub["normal_centile"], color="tab:orange", ls=":", lw=1.5,
                label=f"normal noise, {self.centile:g}th centile")
        ax.plot(x, sub["observed"], "o-", color="tab:blue", label="observed eigenvalues")
        if "centroid_observed" in pa:
            c = pa["centroid_observed"].iloc[:n].to_numpy(float)
            m = ~np.isnan(c)
            ax.plot(x[m], c[m], "s-", color="tab:green", ms=4, label="observed centroid sums of squares")
            ax.plot(x[m], pa["centroid_centile"].iloc[:n].to_numpy(float)[m], color="tab:green", ls="--", lw=1,
                    label=f"centroid on random sorts, {self.centile:g}th centile")
        ax.axhline(1.0, color="tab:red", lw=0.8, alpha=0.6, label="Kaiser-Guttman (1)")
        ax.axvline(self.nfactors, color="0.3", lw=0.6, alpha=0.5)
        ax.set_xlabel("factor")
        ax.set_ylabel("eigenvalue / sum of squared loadings")
        ax.set_xticks(x)
        s = self.study
        ax.set_title(f"{s.name or s.source or 'study'}: {s.n_statements} statements x {s.n_sorts} Q-sorts, "
                     f"{self.n_runs} random studies", fontsize=9)
        ax.legend(fontsize=7, frameon=False)
        fig.tight_layout()
        return fig


def _records(frame) -> list:
    if frame is None:
        return []
    out = []
    for rec in frame.reset_index().to_dict(orient="records"):
        out.append({str(k): _jsonable(v) for k, v in rec.items()})
    return out


# ---------------------------------------------------------------------------------------------- the criteria
def number_of_factors(study: QStudy, max_k: int | None = None, *, nfactors: int | None = None, n_runs: int = 2000,
                      centile: float = 95.0, seed: int = 0, executor=None, flavor: str = "qmethod",
                      bootstrap: int = 0, progress: bool = False, **options) -> FactorsResult:
    """Evidence for the number of factors of a Q study, k = 1..``max_k`` side by side.

    Every k is analysed with :func:`qvalid.analyze` and the same options (``flavor`` and ``**options``, e.g.
    ``extraction="centroid", threshold=0.42``). Columns of ``.criteria`` (row k):

    - ``eigenvalue``, ``pct_variance``, ``cum_pct``: unrotated sum of squared loadings of factor k (PCA: the k-th
      eigenvalue; centroid: the column sum of squares, what PQMethod/KADE print) and its % of n_sorts.
    - ``kaiser``: eigenvalue > 1 (Kaiser-Guttman; Guttman 1954, Kaiser 1960; for centroid on the unrotated column
      sums of squares as PQMethod users apply it, Watts & Stenner 2012 p. 105).
    - ``humphrey_product``, ``humphrey``: the product of the two highest absolute unrotated loadings on factor k
      exceeds twice the standard error, 2/sqrt(N statements) (Humphrey's rule, Brown 1980 p. 223).
    - ``min_significant``, ``significant``: fewest significant loadings (|a| > z/sqrt(N), z = ``flag_z``, 1.96)
      on any rotated factor of the k solution, and whether every factor has at least two (Brown 1980 pp. 222-3).
    - ``defining``, ``min_defining``: defining (flagged) sorts per factor of the k solution with the analysis'
      flag rule; a factor should have at least two (Watts & Stenner 2012 p. 107).
    - ``msr``, ``horst``: mean squared off-diagonal residual correlation after k factors and whether it still
      exceeds 1/N statements, i.e. whether Horst's stopping rule would extract another factor (PQMethod's horst55
      add-on: it stops "when the average squared residual correlation" no longer exceeds 1/m, m = statements;
      KADE's port tests 2 S m < n(n - 1) with S over both triangles).
    - ``observed``, ``pa_centile``, ``pa_mean``, ``pa``: the k-th eigenvalue of the correlation matrix against the
      chosen centile of the grid-aware null (Horn 1965; on the study's own grid as pensieve ``run_parallel``);
      ``pa_normal_centile``, ``pa_normal``: the same against normal noise.
    - ``rpa_centile``, ``rpa``: revised parallel analysis (Green, Levy, Thompson, Lu & Lo 2012): eigenvalue k
      against studies drawn from the study's own (k - 1)-factor model (iterated principal-axis loadings,
      :func:`principal_axis`, as the population; every sort ranked into its grid, :func:`population_sorts`). Classic PA compares later factors with
      completely random sorts and so under-extracts after a strong first factor (Turner 1998); the revised null
      keeps the earlier factors. Green et al. use principal-axis eigenvalues; here, as above, the eigenvalues of
      the correlation matrix. For k = 1 it is the classic null.
    - for centroid: ``pa_centroid_centile``, ``pa_centroid``: the centroid sum of squares against centroid factors
      of the same random matrices.

    ``.suggestions``: for criteria read factor by factor (Kaiser, Humphrey, parallel analyses) the number of
    leading factors that pass (the count stops at the first that fails); for the per-solution criteria (>= 2
    significant loadings, >= 2 defining sorts) the largest k whose every factor passes; Horst: the first k whose
    residual no longer exceeds 1/N; MAP: the m of the minimum (Velicer 1976; ``map4``: Velicer et al. 2000).

    Parameters
    ----------
    study : QStudy
    max_k : int, optional
        Largest k examined (default min(7, n_sorts - 2), PQMethod's 7 centroid factors). k = max_k + 1 is also
        analysed for the sensitivity table.
    nfactors : int, optional
        The solution in question (highlighted; bootstrapped). Default: the grid-aware parallel analysis' k (>= 1).
    n_runs : int
        Random studies per null (default 2000; pensieve suggests thousands).
    centile : float
        Centile of the nulls that an observed eigenvalue must exceed (default 95).
    seed : int
        Seeds every random draw (nulls, bootstrap): same seed, same bytes.
    executor : concurrent.futures.Executor, optional
    bootstrap : int
        If > 0, that many resamples per k through :mod:`qvalid.bootstrap` (off by default).
    """
    import pandas as pd

    opts = resolve_options(flavor, **options)
    p, n_st = study.n_sorts, study.n_statements
    if p < 3:
        raise QInputError(f"{p} Q-sort(s): the number of factors needs at least 3", file=study.source)
    if max_k is None:
        max_k = min(7, p - 2)
    if isinstance(max_k, bool) or int(max_k) != max_k or not 1 <= max_k <= p - 1:
        raise QInputError(f"max_k={max_k!r} must be a whole number from 1 to {p - 1} (n_sorts - 1)",
                          file=study.source)
    if not 50.0 <= float(centile) < 100.0:
        raise QInputError(f"centile={centile!r} must be at least 50 and below 100", file=study.source)
    max_k = int(max_k)
    notes: list[str] = []

    # --- one analysis per k (k = max_k + 1 only for the sensitivity table)
    results = {}
    for k in range(1, max_k + 2):
        if k > p:
            break
        try:
            results[k] = analyze(study, k, flavor=flavor, **options)
        except QInputError as err:
            notes.append(f"k = {k}: not analysed ({err.reason})")
    r = results[min(results)].correlation if results else None
    if r is None:
        raise QInputError("no k could be analysed", file=study.source)

    # --- nulls
    root = np.random.SeedSequence(seed)
    s_grid, s_normal, s_boot, s_rev = root.spawn(4)
    n_cent = max_k + 1 if opts.extraction == "centroid" else 0
    grid_null = null_eigenvalues(study.scores, n_runs, kind="grid", cor_method=opts.cor_method, seed=s_grid,
                                 executor=executor, centroid_factors=n_cent, spc=opts.spc, progress=progress)
    normal_null = null_eigenvalues(study.scores, n_runs, kind="normal", cor_method=opts.cor_method, seed=s_normal,
                                   executor=executor, progress=progress)
    observed = np.linalg.eigvalsh(r)[::-1]
    parallel = pd.DataFrame({
        "observed": observed,
        "grid_centile": grid_null.centile(centile), "grid_lower": grid_null.centile(100.0 - centile),
        "grid_mean": grid_null.mean(),
        "normal_centile": normal_null.centile(centile), "normal_mean": normal_null.mean(),
    }, index=pd.RangeIndex(1, p + 1, name="k"))
    if n_cent:
        cobs = np.full(p, np.nan)
        last = results[max(results)]
        cobs[: last.nfactors] = last.unrotated_eigenvalues
        ccent = np.full(p, np.nan)
        cmean = np.full(p, np.nan)
        ccent[:n_cent] = grid_null.centile(centile, which="centroid")
        cmean[:n_cent] = grid_null.mean(which="centroid")
        parallel["centroid_observed"], parallel["centroid_centile"], parallel["centroid_mean"] = cobs, ccent, cmean
        failed = int(np.isnan(grid_null.centroid).any(axis=1).sum())
        if failed:
            notes.append(f"centroid failed on {failed} of {n_runs} random matrices (left out of its null)")

    # --- revised parallel analysis (Green et al. 2012): factor k against studies from a (k - 1)-factor population
    rev = {}
    for k, child in zip(range(2, max_k + 1), s_rev.spawn(max_k)):
        nul = null_eigenvalues(study.scores, n_runs, cor_method=opts.cor_method, seed=child,
                               centroid_factors=k if n_cent else 0, spc=opts.spc,
                               population=principal_axis(r, k - 1), executor=executor, progress=progress)
        rev[k] = (float(nul.centile(centile)[k - 1]),
                  float(nul.centile(centile, which="centroid")[k - 1]) if n_cent else None)

    # --- Velicer's MAP
    map2, map4 = velicer_map(r, max_m=max(2 * max_k, 20))
    map_frame = pd.DataFrame({"map2": map2, "map4": map4}, index=pd.RangeIndex(0, len(map2), name="m"))

    # --- criteria per k
    se = 1.0 / math.sqrt(n_st)
    zcut = opts.flag_z * se
    rows = []
    for k in range(1, max_k + 1):
        res = results.get(k)
        row = {"k": k}
        if res is None:
            rows.append(row)
            continue
        u = res.unrotated_loadings
        ev = float(res.unrotated_eigenvalues[k - 1])
        top2 = np.sort(np.abs(u[:, k - 1]))[-2:]
        resid = r - u @ u.T
        off = ~np.eye(p, dtype=bool)
        nsig = (np.abs(res.loadings) > zcut).sum(axis=0)
        ndef = res.flags.sum(axis=0)
        row.update(
            eigenvalue=ev, pct_variance=100.0 * ev / p, cum_pct=100.0 * float(res.unrotated_eigenvalues.sum()) / p,
            kaiser=ev > 1.0,
            humphrey_product=float(top2[0] * top2[1]), humphrey=bool(top2[0] * top2[1] > 2.0 * se),
            min_significant=int(nsig.min()), significant=bool(nsig.min() >= 2),
            defining="/".join(str(int(x)) for x in ndef), min_defining=int(ndef.min()),
            msr=float((resid[off] ** 2).mean()), horst=bool((resid[off] ** 2).mean() > 1.0 / n_st),
            observed=float(observed[k - 1]), pa_centile=float(parallel["grid_centile"].iloc[k - 1]),
            pa_mean=float(parallel["grid_mean"].iloc[k - 1]), pa=bool(observed[k - 1] > parallel["grid_centile"].iloc[k - 1]),
            pa_normal_centile=float(parallel["normal_centile"].iloc[k - 1]),
            pa_normal=bool(observed[k - 1] > parallel["normal_centile"].iloc[k - 1]),
        )
        rc, rcc = rev.get(k, (row["pa_centile"], parallel["centroid_centile"].iloc[k - 1] if n_cent else None))
        row.update(rpa_centile=rc, rpa=bool(observed[k - 1] > rc))
        if n_cent:
            cc = float(parallel["centroid_centile"].iloc[k - 1])
            row.update(pa_centroid_centile=cc, pa_centroid=bool(ev > cc), rpa_centroid_centile=float(rcc),
                       rpa_centroid=bool(ev > rcc))
        rows.append(row)
    criteria = pd.DataFrame(rows).set_index("k")

    # --- suggestions
    msr0 = float((r[~np.eye(p, dtype=bool)] ** 2).mean())
    sugg = {
        "kaiser": _leading(criteria, "kaiser"),
        "humphrey": _leading(criteria, "humphrey"),
        "significant_loadings": _largest(criteria, "significant"),
        "defining_sorts": _largest(criteria, "min_defining", lambda v: v >= 2),
        "horst": 0 if msr0 <= 1.0 / n_st else next(
            (k for k in criteria.index if criteria.loc[k, "horst"] == False), max_k),  # noqa: E712
        "parallel_grid": _leading(criteria, "pa"),
        "parallel_normal": _leading(criteria, "pa_normal"),
        "parallel_revised": _leading(criteria, "rpa"),
        "map": int(np.argmin(map2)),
        "map4": int(np.argmin(map4)),
    }
    if n_cent:
        sugg["parallel_centroid"] = _leading(criteria, "pa_centroid")
        sugg["parallel_revised_centroid"] = _leading(criteria, "rpa_centroid")
    k0 = max(1, sugg["parallel_grid"]) if nfactors is None else int(nfactors)
    if not 1 <= k0 <= max_k:
        raise QInputError(f"nfactors={nfactors!r} must be between 1 and max_k={max_k}", file=study.source)

    transitions = tuple(_transition(results[k], results[k + 1]) for k in range(1, max_k + 1)
                        if k in results and k + 1 in results)
    sensitivity = pd.DataFrame([t.row() for t in transitions])
    if len(sensitivity):
        sensitivity = sensitivity.set_index("step")

    boot = None
    if bootstrap:
        boot = _bootstrap_view(study, results, max_k, int(bootstrap), s_boot, executor, flavor, progress, options)
    return FactorsResult(study=study, options=opts, nfactors=k0, max_k=max_k, n_runs=int(n_runs),
                         centile=float(centile), seed=seed, criteria=criteria, parallel=parallel, map=map_frame,
                         sensitivity=sensitivity, suggestions=sugg, transitions=transitions, bootstrap=boot,
                         notes=tuple(notes))


def _leading(criteria, col) -> int:
    """Number of leading factors (k = 1, 2, ...) that pass ``col``; stops at the first that fails."""
    n = 0
    for k in criteria.index:
        v = criteria.loc[k, col]
        if not (isinstance(v, (bool, np.bool_)) and bool(v)):
            break
        n = int(k)
    return n


def _largest(criteria, col, test=bool) -> int:
    ok = [int(k) for k in criteria.index if criteria.loc[k, col] == criteria.loc[k, col] and test(criteria.loc[k, col])]
    return max(ok, default=0)


# ---------------------------------------------------------------------------------------------- sensitivity
@dataclass(frozen=True)
class Transition:
    """How the k solution becomes the k + 1 solution.

    ``permutation[j]``/``signs[j]``/``congruence[j]``: the k + 1 factor matched to factor j of k (Hungarian on
    |Tucker congruence| of the rotated loadings, :func:`qvalid.compare.align_factors`); ``new`` the unmatched
    factor of k + 1 and ``new_source`` the k factor it is most congruent with (``new_phi``): a split when that
    factor's own match weakens. ``moved``: (sort id, defining factor at k, at k + 1) for every sort whose defining
    factor changes (``none``: not defining; factors named in their own solution). ``array_changes[j]``: statements whose
    factor-array value differs between factor j of k and its match.
    """

    k: int
    permutation: tuple
    signs: tuple
    congruence: tuple
    new: int
    new_source: int
    new_phi: float
    moved: tuple
    array_changes: tuple
    array_max_change: tuple

    def describe(self) -> str:
        """What happens from k to k + 1 in words. A factor of k *splits* when its own best match in k + 1 is no
        longer the same factor (|congruence| < 0.95, Lorenzo-Seva & ten Berge 2006) and the new factor takes a
        large part of it (|congruence| >= 0.5); read from k + 1 to k, the two factors merge."""
        src, new = self.new_source, self.new
        if abs(self.new_phi) >= 0.5 and abs(self.congruence[src]) < 0.95:
            text = f"f{src + 1} splits into f{self.permutation[src] + 1}' and f{new + 1}'"
        elif abs(self.new_phi) < 0.3:
            text = f"f{new + 1}' is new (no factor of k within |phi| 0.3)"
        else:
            text = f"f{new + 1}' is new, partly from f{src + 1} ({self.new_phi:+.2f})"
        changed = [f"f{j + 1}" for j, c in enumerate(self.congruence) if abs(c) < 0.85 and j != src]
        return text + (f"; {', '.join(changed)} change (|phi| < 0.85)" if changed else "")

    def row(self) -> dict:
        k = self.k
        return {
            "step": f"{k}->{k + 1}",
            "change": self.describe(),
            "matches": ", ".join(f"f{j + 1}={'-' if s < 0 else ''}f{p + 1}' ({abs(c):.2f})" for j, (p, s, c) in
                                 enumerate(zip(self.permutation, self.signs, self.congruence))),
            "new_factor": f"f{self.new + 1}' (closest f{self.new_source + 1} of k={k}, {self.new_phi:+.2f})",
            "weakest_match": float(min(abs(c) for c in self.congruence)),
            "sorts_moved": len(self.moved),
            "moved": ", ".join(f"{s}: {a}->{b}" for s, a, b in self.moved),
            "array_changes": "/".join(str(n) for n in self.array_changes),
            "array_max_change": "/".join("-" if m != m else str(int(m)) for m in self.array_max_change),
        }


def _defining(res) -> np.ndarray:
    """Defining factor per sort: the factor it is flagged on if exactly one, else -1."""
    f = np.asarray(res.flags, bool)
    return np.where(f.sum(axis=1) == 1, f.argmax(axis=1), -1)


def _transition(a, b) -> Transition:
    k = a.nfactors
    perm, signs, cong = align_factors(a.loadings, b.loadings)
    new = next(j for j in range(b.nfactors) if j not in perm)
    phi = tucker_congruence(a.loadings, b.loadings)[:, new]
    src = int(np.argmax(np.abs(phi)))
    da, db = _defining(a), _defining(b)
    expect = np.where(da >= 0, np.asarray(perm)[np.maximum(da, 0)], -1)
    name = lambda j, new=-2, prime="": "none" if j < 0 else f"f{j + 1}{prime}" + (" (new)" if j == new else "")
    moved = tuple((a.sort_ids[i], name(da[i]), name(db[i], new, "'")) for i in np.flatnonzero(expect != db))
    fa = np.asarray(a.factor_arrays, float)
    fb = np.asarray(b.factor_arrays, float)[:, list(perm)] * np.array(signs, float)
    with np.errstate(invalid="ignore"):
        diff = np.abs(fa - fb)
    changes = tuple(int((d > 0).sum()) for d in diff.T)
    maxc = tuple(float(np.nanmax(d)) if not np.isnan(d).all() else float("nan") for d in diff.T)
    return Transition(k, perm, signs, cong, new, src, float(phi[src]), moved, changes, maxc)


# ---------------------------------------------------------------------------------------------- bootstrap view
def _bootstrap_view(study, results, max_k, n_resamples, seed_seq, executor, flavor, progress, options):
    """Per k and factor: recovery shares at congruence >= .85/.95 and how many defining sorts keep their factor."""
    import pandas as pd

    try:
        from .bootstrap import bootstrap
    except ImportError:
        raise QInputError("the bootstrap view needs qvalid.bootstrap, which this installation does not have") from None

    rows = []
    for k, child in zip(range(1, max_k + 1), seed_seq.spawn(max_k)):
        if k not in results:
            continue
        seed = int(child.generate_state(1)[0])
        b = bootstrap(study, k, n_resamples, seed=seed, executor=executor, progress=progress, flavor=flavor,
                      **options)
        fac = b.factors
        loa = b.loadings
        d = _defining(results[k])
        for j in range(k):
            keep = _kept(loa, results[k], d, j)
            rows.append({"k": k, "factor": f"f{j + 1}", "share_085": float(fac["share_085"].iloc[j]),
                         "share_095": float(fac["share_095"].iloc[j]), "defining": int((d == j).sum()),
                         "defining_kept": keep})
    return pd.DataFrame(rows).set_index(["k", "factor"])


def _kept(loa, res, d, j) -> int:
    """Defining sorts of factor j flagged on j in at least half of the resamples (``flag_freq`` >= 0.5)."""
    freq = np.asarray(loa["flag_freq"].to_numpy(float)).reshape(res.study.n_sorts, res.nfactors)
    return int(((d == j) & (freq[:, j] >= 0.5)).sum())


# ---------------------------------------------------------------------------------------------- text
def _yn(v) -> str:
    return "-" if v is None or (isinstance(v, float) and v != v) else ("yes" if bool(v) else "no")


def _summary(fr: FactorsResult) -> str:
    s, o, c = fr.study, fr.options, fr.criteria
    n_st, p = s.n_statements, s.n_sorts
    grid = ", ".join(f"{format_score(k)}:{v}" for k, v in s.grid.items())
    cen = o.extraction == "centroid"
    lines = [
        f"qvalid factors: {s.name or s.source or 'study'}: {n_st} statements x {p} Q-sorts, "
        f"{'forced' if s.forced else 'free (non-forced)'} distribution ({grid})",
        f"analysis: {o.extraction} + {o.rotation}, {o.cor_method}; flags: "
        + (f"|a| >= {o.threshold}" if o.threshold is not None else f"|a| > {o.flag_z}/sqrt({n_st})")
        + (" and majority" if o.majority else ""),
        f"parallel analysis: {fr.n_runs} random studies per null, {fr.centile:g}th centile, seed {fr.seed}; grid "
        "null = every sort a random permutation of its own scores (on a forced grid: random sorts that fill it)",
        "",
        "Criteria per k (unrotated factor k; 'solution' columns look at the rotated k-factor solution)",
    ]
    head = ["k", "eigen", "%var", "cum%", "Kaiser", "Humphrey", "sig>=2", "defining", "MSR", "Horst",
            "PA grid", "PA normal", "revised PA"] + (["PA centroid", "revised centroid"] if cen else [])
    body = []
    for k in c.index:
        row = c.loc[k]
        if row.isna().all():
            body.append([str(k)] + ["n/a"] * (len(head) - 1))
            continue
        cells = [str(k), f"{row.eigenvalue:.3f}", f"{row.pct_variance:.1f}", f"{row.cum_pct:.1f}",
                 _yn(row.kaiser), f"{row.humphrey_product:.3f} {_yn(row.humphrey)}",
                 f"{int(row.min_significant)} {_yn(row.significant)}", row.defining,
                 f"{row.msr:.4f}", "go on" if row.horst else "stop",
                 f"{row.observed:.3f}/{row.pa_centile:.3f} {_yn(row.pa)}",
                 f"{row.pa_normal_centile:.3f} {_yn(row.pa_normal)}", f"{row.rpa_centile:.3f} {_yn(row.rpa)}"]
        if cen:
            cells += [f"{row.eigenvalue:.3f}/{row.pa_centroid_centile:.3f} {_yn(row.pa_centroid)}",
                      f"{row.rpa_centroid_centile:.3f} {_yn(row.rpa_centroid)}"]
        body.append(cells)
    lines += _table(head, body)
    se = 1 / math.sqrt(n_st)
    lines += [
        "",
        "  eigen, %var, cum%: unrotated sum of squared loadings of factor k (PCA: eigenvalue), % of the sorts",
        "  Kaiser: eigen > 1 (Kaiser-Guttman; Kaiser 1960)",
        f"  Humphrey: product of the two highest |unrotated loadings| > 2 SE = {2 * se:.3f} (Brown 1980 p. 223)",
        f"  sig>=2: fewest loadings |a| > {o.flag_z}/sqrt(N) = {o.flag_z * se:.3f} on any rotated factor; every "
        "factor needs >= 2 (Brown 1980 pp. 222-3)",
        "  defining: flagged sorts per rotated factor; each factor needs >= 2 (Watts & Stenner 2012 p. 107)",
        f"  MSR: mean squared residual correlation after k factors; Horst 'go on' while MSR > 1/N = {1 / n_st:.4f}"
        " (PQMethod horst55)",
        "  PA grid: eigenvalue k of the correlations / its centile among random sorts on the study's grid "
        "(Horn 1965; pensieve run_parallel)",
        "  PA normal: centile among normal-noise studies of the same size (R paran style)",
        "  revised PA: centile among studies drawn from the (k-1)-factor solution, sorts ranked into the grid "
        "(Green et al. 2012)",
    ]
    if cen:
        lines.append("  PA centroid: centroid sum of squares / its centile among centroid factors of the same random"
                     " matrices")
    pa = fr.parallel
    n = min(len(pa), max(fr.max_k + 1, 6))
    lines += ["", f"Parallel analysis (first {n} ranks)"]
    phead = ["k", "observed", f"grid {fr.centile:g}%", "grid mean", f"normal {fr.centile:g}%", "normal mean"]
    if cen:
        phead += ["centroid SS", f"centroid null {fr.centile:g}%"]
    pbody = []
    for k in pa.index[:n]:
        r = pa.loc[k]
        cells = [str(k), f"{r.observed:.3f}", f"{r.grid_centile:.3f}", f"{r.grid_mean:.3f}",
                 f"{r.normal_centile:.3f}", f"{r.normal_mean:.3f}"]
        if cen:
            cells += ["-" if r.centroid_observed != r.centroid_observed else f"{r.centroid_observed:.3f}",
                      "-" if r.centroid_centile != r.centroid_centile else f"{r.centroid_centile:.3f}"]
        pbody.append(cells)
    lines += _table(phead, pbody)
    m = fr.map
    lines += ["", "Velicer's MAP (average squared / fourth-power partial correlation after m components): "
              + ", ".join(f"m={i}: {m.map2.iloc[i]:.4f}/{m.map4.iloc[i]:.4f}" for i in range(min(len(m), fr.max_k + 1)))]
    lines += ["", "Sensitivity: from k to k+1 factors (rotated factors matched by Tucker congruence, Hungarian; "
              "f1 = a factor of k, f1' = a factor of k+1; read upwards, a split is a merge)"]
    if len(fr.sensitivity):
        sb = []
        for step, r in fr.sensitivity.iterrows():
            mark = " <" if step in (f"{fr.nfactors - 1}->{fr.nfactors}", f"{fr.nfactors}->{fr.nfactors + 1}") else ""
            sb.append([step + mark, r.matches, r.change, str(r.sorts_moved), r.array_changes])
        lines += _table(["step", "matched factors (|congruence|)", "what changes", "sorts moved",
                         "array cells changed"], sb)
        for step, r in fr.sensitivity.iterrows():
            if r.sorts_moved:
                lines.append(f"  {step}: {r.moved}")
    if fr.bootstrap is not None:
        lines += ["", "Bootstrap view (share of resamples recovering each factor; defining sorts flagged on their "
                  "factor in >= half of the resamples)"]
        bb = [[str(k), f, f"{r.share_085:.2f}", f"{r.share_095:.2f}", f"{int(r.defining_kept)}/{int(r.defining)}"]
              for (k, f), r in fr.bootstrap.iterrows()]
        lines += _table(["k", "factor", "phi>=.85", "phi>=.95", "defining kept"], bb)
    sg = fr.suggestions
    lines += ["", "k supported by each criterion: " + ", ".join(f"{name} {v}" for name, v in sg.items()),
              f"solution in question: k = {fr.nfactors} (rows marked <)"]
    lines += [f"note: {n}" for n in fr.notes]
    return "\n".join(lines)


def _table(head, body) -> list[str]:
    w = [max(len(str(h)), *(len(str(r[i])) for r in body)) if body else len(str(h)) for i, h in enumerate(head)]
    fmt = lambda r: "  ".join(f"{str(x):<{w[i]}}" if i in (1, 2) and len(head) == 5 else f"{str(x):>{w[i]}}"
                              for i, x in enumerate(r))
    return [fmt(head)] + [fmt(r) for r in body]
