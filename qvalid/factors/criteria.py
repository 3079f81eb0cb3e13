"""How many factors? The criteria Q researchers cite, side by side for k = 1..K, with Horn's parallel analysis on
the study's own grid, Velicer's MAP and how the solution changes between k - 1, k and k + 1.

:func:`number_of_factors` returns a :class:`FactorsResult`: ``.criteria`` (one row per k), ``.parallel`` (observed
eigenvalues against the grid-aware and the normal-noise null), ``.map`` (Velicer), ``.sensitivity`` (k -> k + 1),
``.suggestions`` (the k each criterion supports), ``.to_json()``, ``.summary()`` and ``.scree_figure()``.

The grid-aware null follows the R package pensieve (``R/run_parallel.R``: every random sort a permutation of the
study's distribution, eigenvalues of the correlation matrix, a centile per rank), vectorised: random keys are
argsorted into permutations for a whole chunk of runs at once, the chunk is correlated with the batched
:func:`qvalid.core.correlation.correlate` and ``numpy.linalg.eigvalsh`` works on the stack. Chunks have a fixed size and
their own generator from ``numpy.random.SeedSequence(seed).spawn``, so any ``concurrent.futures.Executor`` (or none)
gives the same bytes.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import QInputError
from ..options import resolve_options
from ..pipeline import analyze
from ..study import QStudy
from .nulls import null_eigenvalues, principal_axis
from .result import FactorsResult
from .sensitivity import bootstrap_view, transition

__all__ = ["number_of_factors", "velicer_map"]


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
    results = _solutions(study, max_k, opts, notes)
    r = results[min(results)].correlation
    s_grid, s_normal, s_boot, s_rev = np.random.SeedSequence(seed).spawn(4)
    n_cent = max_k + 1 if opts.extraction == "centroid" else 0
    null_kw = {"cor_method": opts.cor_method, "executor": executor, "progress": progress}
    parallel = _parallel_table(study, r, results, n_runs, centile, n_cent, opts, s_grid, s_normal, notes, null_kw)
    rev = _revised_parallel(study, r, max_k, n_runs, centile, n_cent, opts, s_rev, null_kw)
    map2, map4 = velicer_map(r, max_m=max(2 * max_k, 20))
    map_frame = pd.DataFrame({"map2": map2, "map4": map4}, index=pd.RangeIndex(0, len(map2), name="m"))
    criteria = _criteria_table(study, r, results, max_k, opts, parallel, rev, n_cent)
    sugg = _suggestions(criteria, r, map2, map4, max_k, n_st, n_cent)
    if nfactors is None:
        k0 = max(1, sugg["parallel_grid"])
        notes.append(f"solution in question: k = {k0}, the number of factors the grid-aware parallel analysis "
                     "supports" + (" (none, so 1)" if sugg["parallel_grid"] < 1 else "")
                     + "; give nfactors (--nfactors K) to examine another")
    else:
        k0 = int(nfactors)
    if not 1 <= k0 <= max_k:
        raise QInputError(f"nfactors={nfactors!r} must be between 1 and max_k={max_k}", file=study.source)
    transitions = tuple(transition(results[k], results[k + 1]) for k in range(1, max_k + 1)
                        if k in results and k + 1 in results)
    sensitivity = pd.DataFrame([t.row() for t in transitions])
    if len(sensitivity):
        sensitivity = sensitivity.set_index("step")
    boot = None
    if bootstrap:
        boot = bootstrap_view(study, results, max_k, int(bootstrap), s_boot, executor, flavor, progress, options)
    return FactorsResult(study=study, options=opts, nfactors=k0, max_k=max_k, n_runs=int(n_runs),
                         centile=float(centile), seed=seed, criteria=criteria, parallel=parallel, map=map_frame,
                         sensitivity=sensitivity, suggestions=sugg, transitions=transitions, bootstrap=boot,
                         notes=tuple(notes))


def _solutions(study: QStudy, max_k: int, opts, notes: list) -> dict:
    """k -> the analysis of the study with k factors, k = 1..max_k + 1 (k + 1 only for the sensitivity table)."""
    results = {}
    for k in range(1, min(max_k + 1, study.n_sorts) + 1):
        try:
            results[k] = analyze(study, k, options=opts)
        except QInputError as err:
            notes.append(f"k = {k}: not analysed ({err.reason})")
    if not results:
        raise QInputError("no k could be analysed", file=study.source)
    return results


def _parallel_table(study, r, results, n_runs, centile, n_cent, opts, s_grid, s_normal, notes, null_kw):
    """Per rank: the observed eigenvalue against the grid-aware and the normal-noise nulls (and, for centroid
    studies, the centroid sums of squares against the centroid null)."""
    import pandas as pd

    p = study.n_sorts
    grid_null = null_eigenvalues(study.scores, n_runs, kind="grid", seed=s_grid, centroid_factors=n_cent,
                                 spc=opts.spc, **null_kw)
    normal_null = null_eigenvalues(study.scores, n_runs, kind="normal", seed=s_normal, **null_kw)
    parallel = pd.DataFrame({
        "observed": np.linalg.eigvalsh(r)[::-1],
        "grid_centile": grid_null.centile(centile), "grid_lower": grid_null.centile(100.0 - centile),
        "grid_mean": grid_null.mean(),
        "normal_centile": normal_null.centile(centile), "normal_mean": normal_null.mean(),
    }, index=pd.RangeIndex(1, p + 1, name="k"))
    if n_cent:
        cobs, ccent, cmean = np.full(p, np.nan), np.full(p, np.nan), np.full(p, np.nan)
        last = results[max(results)]
        cobs[: last.nfactors] = last.unrotated_eigenvalues
        ccent[:n_cent] = grid_null.centile(centile, which="centroid")
        cmean[:n_cent] = grid_null.mean(which="centroid")
        parallel["centroid_observed"], parallel["centroid_centile"], parallel["centroid_mean"] = cobs, ccent, cmean
        failed = int(np.isnan(grid_null.centroid).any(axis=1).sum())
        if failed:
            notes.append(f"centroid failed on {failed} of {n_runs} random matrices (left out of its null)")
    return parallel


def _revised_parallel(study, r, max_k, n_runs, centile, n_cent, opts, s_rev, null_kw) -> dict:
    """Revised parallel analysis (Green et al. 2012): k -> the centile of eigenvalue k (and of the centroid's
    k-th sum of squares) over studies drawn from the study's own (k - 1)-factor population."""
    rev = {}
    for k, child in zip(range(2, max_k + 1), s_rev.spawn(max_k)):
        nul = null_eigenvalues(study.scores, n_runs, seed=child, centroid_factors=k if n_cent else 0, spc=opts.spc,
                               population=principal_axis(r, k - 1), **null_kw)
        rev[k] = (float(nul.centile(centile)[k - 1]),
                  float(nul.centile(centile, which="centroid")[k - 1]) if n_cent else None)
    return rev


def _criteria_table(study, r, results, max_k, opts, parallel, rev, n_cent):
    """One row per k: the criteria of :func:`number_of_factors`'s docstring."""
    import pandas as pd

    p, n_st = study.n_sorts, study.n_statements
    observed = parallel["observed"].to_numpy()
    se = 1.0 / math.sqrt(n_st)
    zcut = opts.flag_z * se
    off = ~np.eye(p, dtype=bool)
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
        nsig = (np.abs(res.loadings) > zcut).sum(axis=0)
        ndef = res.flags.sum(axis=0)
        pa_cent = float(parallel["grid_centile"].iloc[k - 1])
        normal_cent = float(parallel["normal_centile"].iloc[k - 1])
        row.update(
            eigenvalue=ev, pct_variance=100.0 * ev / p, cum_pct=100.0 * float(res.unrotated_eigenvalues.sum()) / p,
            kaiser=ev > 1.0,
            humphrey_product=float(top2[0] * top2[1]), humphrey=bool(top2[0] * top2[1] > 2.0 * se),
            min_significant=int(nsig.min()), significant=bool(nsig.min() >= 2),
            defining="/".join(str(int(x)) for x in ndef), min_defining=int(ndef.min()),
            msr=float((resid[off] ** 2).mean()), horst=bool((resid[off] ** 2).mean() > 1.0 / n_st),
            observed=float(observed[k - 1]), pa_centile=pa_cent,
            pa_mean=float(parallel["grid_mean"].iloc[k - 1]), pa=bool(observed[k - 1] > pa_cent),
            pa_normal_centile=normal_cent, pa_normal=bool(observed[k - 1] > normal_cent),
        )
        rc, rcc = rev.get(k, (row["pa_centile"], parallel["centroid_centile"].iloc[k - 1] if n_cent else None))
        row.update(rpa_centile=rc, rpa=bool(observed[k - 1] > rc))
        if n_cent:
            cc = float(parallel["centroid_centile"].iloc[k - 1])
            row.update(pa_centroid_centile=cc, pa_centroid=bool(ev > cc), rpa_centroid_centile=float(rcc),
                       rpa_centroid=bool(ev > rcc))
        rows.append(row)
    return pd.DataFrame(rows).set_index("k")


def _suggestions(criteria, r, map2, map4, max_k: int, n_st: int, n_cent: int) -> dict:
    """Criterion -> the number of factors it supports (see :func:`number_of_factors`)."""
    p = r.shape[0]
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
    return sugg


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
