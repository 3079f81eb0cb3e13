"""How well an analysis recovers a known factor structure from simulated studies (:mod:`qvalid.simulate`).

Each simulated study is analysed with :func:`qvalid.analyze`; its factors are matched to the true ones (Hungarian
assignment on |Tucker congruence|, :func:`qvalid.core.congruence.align_factors`) and compared with the truth: loadings
(congruence, RMSE), defining sorts, factor arrays and the correlations between factor z-scores. The study-level
numbers go into one table; :meth:`Recovery.summary` gives their distribution.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np

from ..chunks import run_chunks
from ..core.congruence import align_factors
from ..core.flag import flag
from ..core.scores import factor_arrays
from ..options import resolve_options
from ..pipeline import analyze
from ..simulate import Simulation, grid_qscores
from ..study import QStudy

__all__ = ["Recovery", "recover", "qdc_would_stop"]

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


def qdc_would_stop(flags) -> bool:
    """Whether R qmethod's ``qdc`` stops on this solution: a factor without flagged sorts that is not among the
    last factors (R/qdc.R:4-7; trailing empty factors are dropped, an empty factor before a full one is an error).
    """
    full = np.asarray(flags, dtype=bool).any(axis=0)
    empty = np.flatnonzero(~full)
    return bool(empty.size) and bool(full[empty[0]:].any())


@dataclass(frozen=True)
class Recovery:
    """Per-study recovery of a known structure.

    Attributes
    ----------
    studies : pandas.DataFrame
        One row per study: ``congruence_f<j>`` (signed Tucker congruence of recovered factor matched to true factor
        j, after sign alignment so >= 0 unless the match is poor), ``min_congruence``, ``rmse`` (all loadings, after
        alignment), ``rmse_f<j>``, ``n_flagged_f<j>``, ``defining_exact_f<j>`` (the defining-sort set equals the
        true one), ``defining_jaccard_f<j>``, ``array_exact_f<j>`` / ``array_within1_f<j>`` (share of the known
        cells of the published array reproduced exactly / within one grid step), ``array_r_f<j>`` (Pearson r over
        known cells), ``cor_zsc_f<i>_f<j>``, ``empty_factors`` (recovered factors with no flagged sort, in the
        analysis' own order), ``qdc_would_stop`` and ``warnings``.
    nfactors : int
    options : dict
        Analysis options.
    true_flags : ndarray of bool (n_sorts, k)
    """

    studies: object
    nfactors: int
    options: dict
    true_flags: np.ndarray

    def summary(self):
        """Quantiles (5, 25, 50, 75, 95 %) and mean of every numeric column, one row per column."""
        import pandas as pd

        num = self.studies.select_dtypes(include=[np.number, bool]).astype(float)
        q = num.quantile(list(QUANTILES)).T
        q.columns = [f"q{int(p * 100):02d}" for p in QUANTILES]
        q["mean"] = num.mean()
        q["n"] = num.notna().sum()
        return pd.DataFrame(q)

    def median_study(self, column: str = "min_congruence") -> int:
        """Index of the study whose ``column`` is closest to that column's median (a typical study)."""
        v = self.studies[column].to_numpy(dtype=float)
        return int(np.nanargmin(np.abs(v - np.nanmedian(v))))


def recover(sim: Simulation, nfactors: int, *, arrays=None, true_flags=None, executor=None, chunk_size: int = 50,
            **options) -> Recovery:
    """Analyse every study of ``sim`` and compare it with the truth (``sim.loadings``).

    Parameters
    ----------
    sim : Simulation
    nfactors : int
    arrays : array-like (n_statements, k), optional
        Published factor arrays to compare the recovered ones with (NaN = unknown, skipped).
    true_flags : array-like of bool (n_sorts, k), optional
        The true defining sorts; default: the analysis' own flag rule applied to the true loadings.
    executor : concurrent.futures.Executor, optional
        Studies are analysed in chunks of ``chunk_size`` through ``executor.map`` (results do not depend on it).
    **options
        Analysis options for :func:`qvalid.analyze` (e.g. ``extraction="centroid", threshold=0.42``).
    """
    import pandas as pd


    opts = resolve_options(options.get("flavor", "qmethod"), **{k: v for k, v in options.items() if k != "flavor"})
    a = sim.loadings
    if true_flags is None:
        true_flags = flag(a, sim.scores.shape[1], z=opts.flag_z, threshold=opts.threshold, majority=opts.majority)
    true_flags = np.asarray(true_flags, dtype=bool)
    pub = None if arrays is None else np.asarray(arrays, dtype=np.float64)
    starts = range(0, len(sim), chunk_size)
    jobs = [(sim.scores[s:s + chunk_size], sim.grid, a, true_flags, pub, nfactors, options) for s in starts]
    rows = [r for chunk in run_chunks(_recover_chunk, jobs, executor=executor) for r in chunk]
    return Recovery(studies=pd.DataFrame(rows), nfactors=int(nfactors), options=dict(options), true_flags=true_flags)


def _recover_chunk(job) -> list[dict]:
    scores, grid, a, true_flags, pub, k, options = job
    q = grid_qscores(grid)
    rows = []
    for x in scores:  # one analysis per study: the centroid's reflection loop is sequential
        res = analyze(QStudy.from_array(x, grid=grid), k, **options)
        rows.append(_compare_one(res, a, true_flags, pub, q))
    return rows


def _compare_one(res, a, true_flags, pub, q) -> dict:
    k = a.shape[1]
    perm, signs, cong = align_factors(a, res.loadings)
    s = np.asarray(signs, dtype=np.float64)
    loa = res.loadings[:, perm] * s
    fl = res.flags[:, perm]
    z = res.zscores[:, perm] * s
    row: dict = {}
    for j in range(k):
        f = f"f{j + 1}"
        row[f"congruence_{f}"] = abs(cong[j])
        row[f"rmse_{f}"] = float(np.sqrt(np.mean((loa[:, j] - a[:, j]) ** 2)))
        row[f"n_flagged_{f}"] = int(fl[:, j].sum())
        union = (fl[:, j] | true_flags[:, j]).sum()
        row[f"defining_exact_{f}"] = bool((fl[:, j] == true_flags[:, j]).all())
        row[f"defining_jaccard_{f}"] = float((fl[:, j] & true_flags[:, j]).sum() / union) if union else 1.0
    row["min_congruence"] = min(row[f"congruence_f{j + 1}"] for j in range(k))
    row["rmse"] = float(np.sqrt(np.mean((loa - a) ** 2)))
    row["defining_exact_all"] = bool((fl == true_flags).all())
    if pub is not None:
        arr = np.full(z.shape, np.nan)
        ok = ~np.isnan(z).any(axis=0)
        if ok.any():
            arr[:, ok] = factor_arrays(z[:, ok], q, ties=res.options.array_ties)
        for j in range(k):
            known = ~np.isnan(pub[:, j])
            d = arr[known, j] - pub[known, j]
            row[f"array_exact_f{j + 1}"] = float(np.mean(d == 0)) if ok[j] else np.nan
            row[f"array_within1_f{j + 1}"] = float(np.mean(np.abs(d) <= 1)) if ok[j] else np.nan
            row[f"array_r_f{j + 1}"] = float(np.corrcoef(arr[known, j], pub[known, j])[0, 1]) if ok[j] else np.nan
    with np.errstate(invalid="ignore"):
        cz = np.corrcoef(z.T) if np.isfinite(z).all() else np.full((k, k), np.nan)
    for i, j in combinations(range(k), 2):
        row[f"cor_zsc_f{i + 1}_f{j + 1}"] = float(cz[i, j])
    empty = [j + 1 for j in range(k) if not res.flags[:, j].any()]
    row["empty_factors"] = " ".join(f"f{j}" for j in empty)
    row["qdc_would_stop"] = qdc_would_stop(res.flags)
    row["warnings"] = " | ".join(res.warnings)
    return row
