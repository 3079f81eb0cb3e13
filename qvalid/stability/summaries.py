"""The result of :func:`qvalid.bootstrap`: per-replicate arrays, summary tables, JSON, text, CSV and figures."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from .._version import __version__
from ..core.characteristics import distinguishing_consensus
from ..core.nanstats import nanquantile, quiet_nan_warnings
from ..io.files import atomic_write, refuse_source
from ..jsonable import records
from ..results import QResult
from ..study import study_block
from .intervals import loading_pivot, zscore_belt
from .verdict import FAIR_P85, STABLE_P95, probability_band, recovery_probability, verdict_text, verdict_word

__all__ = ["BootstrapResult", "JSON_KEYS", "SCHEMA", "CONGRUENCE_EQUAL", "CONGRUENCE_FAIR"]

#: Tucker congruence thresholds of Lorenzo-Seva & ten Berge (2006, Methodology 2(2):57-64): >= 0.95 the factors
#: can be considered equal, 0.85-0.94 fair similarity.
CONGRUENCE_EQUAL, CONGRUENCE_FAIR = 0.95, 0.85

#: Version of the JSON and table contract. 2 (issue 18): ``ci_low``/``ci_high``/``se``/``estimate``/``flag_freq``/
#: ``keep_*`` are the calibrated (parametric) numbers; the resampling's own statistics carry the prefix
#: ``resample_``; the factors table carries recovery probabilities and the calibrated verdict (docs/bootstrap.md).
SCHEMA = 2

#: Top-level keys of :meth:`BootstrapResult.to_dict` / ``qvalid bootstrap --format json`` (a public contract).
JSON_KEYS = ("qvalid_version", "schema", "bootstrap", "options", "study", "notes", "counts", "parametric", "factors",
             "loadings", "zscores", "replicates")


@dataclass(frozen=True, eq=False)
class BootstrapResult:
    """A bootstrap of a k-factor solution (:func:`qvalid.bootstrap`).

    Two bootstraps answer two questions (docs/bootstrap.md):

    - **resampling of the Q-sorts** (``raw``; balanced, as qmethod's qmboots): how often a resample reproduces each
      full-sample factor. Its shares, mapped through the calibration curve (:mod:`qvalid.stability.verdict`), give
      the probability that another sample recovers the factor, and the verdict. Its own loading and z-score
      statistics are kept with the prefix ``resample_`` (they are what qmboots reports; duplicated participants
      make them too wide and off-centre, docs/calibration.md);
    - **parametric** (``parametric``; new participants simulated from the fitted solution,
      :mod:`qvalid.stability.parametric`): standard errors and intervals of z-scores and loadings, flag frequencies,
      array stability, distinguishing statements. Absent (None) with ``parametric=False`` (e.g. a qmboots replay).

    Attributes
    ----------
    full : QResult
        The full-sample analysis (the alignment target).
    n_resamples, resample, balanced, align, seed, ci, indices_given
        How the bootstrap was run.
    raw : dict of ndarray
        Resampling, per replicate (first axis): ``indices``, ``status``, ``reason``, ``fallback``, ``perm``,
        ``signs``, ``congruence``, ``loadings``/``flags`` (per original sort, NaN where the sort is not in the
        resample), ``zscores``/``arrays``/``distinguishing`` (per statement), ``consensus``, ``n_flagged``; all
        aligned to the full-sample factors.
    parametric : dict of ndarray or None
        Parametric replicates (:func:`qvalid.stability.parametric.run_parametric_chunk`): ``types``, ``failed``,
        ``fallback``, ``congruence`` (with the world's truth), ``zscores``, ``arrays``, ``distinguishing``,
        ``consensus``, ``n_flagged``, and per participant type ``loading_error_sum``, ``loading_error_sq``,
        ``flag_count``, ``type_count``.
    world : World or None
        The parametric bootstrap's world (its truth).
    notes : tuple of str
        What the bootstrap chose on its own (e.g. the centroid's tie rule) or could not do.
    judgmental : bool
        The full-sample solution has judgmental rotation steps (no calibrated verdict).

    Tables (pandas, built on demand): :attr:`factors`, :attr:`loadings`, :attr:`zscores`, :attr:`status`.
    """

    full: QResult
    n_resamples: int
    resample: str
    balanced: bool
    align: str
    seed: int
    ci: float
    indices_given: bool
    raw: dict = field(repr=False)
    parametric: dict | None = field(default=None, repr=False)
    world: object = field(default=None, repr=False)
    notes: tuple = ()
    judgmental: bool = False

    # ------------------------------------------------------------------ basics
    @property
    def nfactors(self) -> int:
        return self.full.nfactors

    @property
    def factor_names(self) -> list[str]:
        return self.full.factors

    @property
    def calibrated(self) -> bool:
        """Whether the verdict's calibration applies: resampling of the Q-sorts with Hungarian or Procrustes
        alignment (the calibration study's scheme) of a named rotation (no judgmental steps)."""
        return self.resample == "sorts" and self.align != "qindtest" and not self.judgmental

    @cached_property
    def used(self) -> np.ndarray:
        """Resampling replicates that enter the resampling statistics: all but ``failed`` (and qindtest's
        ``rejected``, left out as qmboots does). Failed replicates count as not reproducing any factor in the
        shares."""
        return np.isin(self.raw["status"], ("ok", "aligned"))

    @cached_property
    def counts(self) -> dict:
        """Resampling replicates by status, plus ``used`` and ``fallback`` (recomputed on the single-study path)."""
        st = self.raw["status"]
        out = {s: int((st == s).sum()) for s in ("ok", "aligned", "rejected", "failed")}
        out.update(total=int(st.size), used=int(self.used.sum()), fallback=int(self.raw["fallback"].sum()))
        return out

    @cached_property
    def parametric_counts(self) -> dict | None:
        """Parametric replicates: ``total``, ``failed`` (the analysis of the simulated sample failed; counted as not
        recovering any factor), ``fallback``; None without the parametric bootstrap."""
        p = self.parametric
        if p is None:
            return None
        return {"total": int(len(p["failed"])), "failed": int(p["failed"].sum()), "fallback": int(p["fallback"].sum())}

    def _used(self, name: str) -> np.ndarray:
        return self.raw[name][self.used]

    def _describe(self, x) -> dict:
        """Over used replicates (axis 0), NaN (absent) ignored: mean, sd (n - 1), percentile CI, n."""
        lo, hi = (1 - self.ci) / 2, 1 - (1 - self.ci) / 2
        n = (~np.isnan(x)).sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"), quiet_nan_warnings():
            mean = np.nanmean(x, axis=0)
            sd = np.nanstd(x, axis=0, ddof=1)
            q = nanquantile(x, (lo, hi))
        return {"mean": mean, "sd": sd, "ci_low": q[0], "ci_high": q[1], "n": n}

    def _nan(self, rows: int) -> np.ndarray:
        return np.full((rows, self.nfactors), np.nan)

    # ------------------------------------------------------------------ parametric statistics
    @cached_property
    def _zbelt(self):
        """(estimate, se, low, high, defined) of the population z-scores (:func:`intervals.zscore_belt`)."""
        n = self.full.study.n_statements
        if self.parametric is None:
            return self._nan(n), self._nan(n), self._nan(n), self._nan(n), np.zeros(self.nfactors, dtype=int)
        return zscore_belt(self.full.zscores, self.parametric["zscores"], self.world.zscores, self.ci)

    @cached_property
    def _array_keep(self):
        """Parametric: per statement, the share of replicates whose array puts it in the world's true column,
        within one column of it, and two or more columns away; and per factor the mean correlation of a
        replicate's array with the true array (NaN without the parametric bootstrap)."""
        n = self.full.study.n_statements
        if self.parametric is None or self.world is None:
            return self._nan(n), self._nan(n), self._nan(n), np.full(self.nfactors, np.nan)
        arr, true = self.parametric["arrays"], self.world.factor_arrays
        present = ~np.isnan(arr) & ~np.isnan(true)[None]
        d = np.abs(arr - true)
        with np.errstate(invalid="ignore"), quiet_nan_warnings():
            exact = np.nanmean(np.where(present, d == 0, np.nan), axis=0)
            within = np.nanmean(np.where(present, d <= 1, np.nan), axis=0)
            move2 = np.nanmean(np.where(present, d >= 2, np.nan), axis=0)
            ac = arr - np.nanmean(arr, axis=1, keepdims=True)
            tc = true - true.mean(axis=0)
            r = (ac * tc).sum(axis=1) / np.sqrt((ac * ac).sum(axis=1) * (tc * tc).sum(axis=0))
            array_r = np.nanmean(r, axis=0)
        return exact, within, move2, array_r

    # ------------------------------------------------------------------ tables
    @cached_property
    def loadings(self):
        """Per sort x factor (long table, index ``sort``, ``factor``).

        Calibrated (parametric): ``estimate`` (the loading corrected for its bias), ``se``, ``ci_low``/``ci_high``
        (the interval of the population loading), ``flag_freq`` (share of simulated participants like this one
        that are flagged on the factor), ``n`` (how many were simulated). ``full``, ``flag_full``: the study.
        Resampling (as qmboots' ``loa.stats``): ``resample_mean``, ``resample_sd``, ``resample_ci_low``/``_high``
        (percentile), ``resample_bias`` (mean - full), ``resample_flag_freq`` (over the resamples that contain the
        sort; it grows with how often the sort is drawn, docs/calibration.md), ``resample_n``."""
        n_sorts = self.full.study.n_sorts
        d = self._describe(self._used("loadings"))
        with np.errstate(invalid="ignore"), quiet_nan_warnings():
            freq = np.nanmean(self._used("flags"), axis=0)
        p = self.parametric
        if p is None:
            est = se = lo = hi = pfreq = self._nan(n_sorts)
            cnt = np.zeros(n_sorts)
        else:
            est, se, lo, hi = loading_pivot(self.full.loadings, p["loading_error_sum"], p["loading_error_sq"],
                                            p["type_count"], self.ci)
            cnt = p["type_count"]
            with np.errstate(invalid="ignore", divide="ignore"):
                pfreq = p["flag_count"] / cnt[:, None]
        cols = {"full": self.full.loadings, "estimate": est, "se": se, "ci_low": lo, "ci_high": hi,
                "flag_full": self.full.flags, "flag_freq": pfreq, "n": np.repeat(cnt[:, None], self.nfactors, 1),
                "resample_mean": d["mean"], "resample_sd": d["sd"], "resample_ci_low": d["ci_low"],
                "resample_ci_high": d["ci_high"], "resample_bias": d["mean"] - self.full.loadings,
                "resample_flag_freq": freq, "resample_n": d["n"]}
        return self._long(cols, self.full.sort_ids, "sort")

    @cached_property
    def array_boot(self) -> np.ndarray:
        """qmboots' bootstrapped factor scores (R/qmboots.R:167-184): statements ordered by their mean resampling
        z-score (ties by position) receive the ascending grid values. (n_statements, k)."""
        with quiet_nan_warnings():
            mean = np.nanmean(self._used("zscores"), axis=0)
        order = np.argsort(mean, axis=0, kind="stable")
        out = np.empty_like(mean)
        np.put_along_axis(out, order, np.broadcast_to(np.sort(self.full.study.qscores)[:, None].astype(float),
                                                      mean.shape), axis=0)
        out[:, np.isnan(mean).all(axis=0)] = np.nan
        return out

    @cached_property
    def zscores(self):
        """Per statement x factor (index ``statement``, ``factor``).

        Calibrated (parametric): ``estimate`` (the population z-score the study's z-score points to, corrected for
        the shrinkage of small samples), ``se``, ``ci_low``/``ci_high`` (the interval of the population z-score),
        ``keep_exact``/``keep_within1``/``move2`` (share of simulated samples whose factor array puts the statement
        in the population's column, within one column, two or more away), ``distinguishing_freq`` and
        ``consensus_freq`` (share of simulated samples in which the statement distinguishes the factor / is a
        consensus statement), ``n`` (simulated samples in which the factor had a defining sort). ``full``,
        ``array_full``, ``distinguishing_full``, ``consensus_full``: the study.
        Resampling (as qmboots): ``resample_mean``, ``resample_sd``, ``resample_ci_low``/``_high`` (percentile),
        ``resample_bias``, ``array_boot`` (qmboots' bootstrapped array), ``resample_keep_exact``/
        ``resample_keep_within1`` (against the full-sample array), ``resample_distinguishing_freq``,
        ``resample_consensus_freq``, ``resample_n``."""
        z = self._used("zscores")
        d = self._describe(z)
        arr = self._used("arrays")
        full_arr = self.full.factor_arrays
        k = self.nfactors
        with np.errstate(invalid="ignore"), quiet_nan_warnings():
            present = ~np.isnan(arr)
            keep = np.where(present, arr == full_arr, np.nan)
            near = np.where(present, np.abs(arr - full_arr) <= 1, np.nan)
            keep_exact, keep_within1 = np.nanmean(keep, axis=0), np.nanmean(near, axis=0)
            dist_freq = np.nanmean(self._used("distinguishing"), axis=0)
            cons_freq = np.nanmean(self._used("consensus"), axis=0)
        dist_full, cons_full = self._full_distinguishing()
        est, se, lo, hi, defined = self._zbelt
        exact, within, move2, _ = self._array_keep
        p = self.parametric
        n_st = self.full.study.n_statements
        if p is None:
            pdist, pcons = self._nan(n_st), np.full(n_st, np.nan)
        else:
            with np.errstate(invalid="ignore"), quiet_nan_warnings():
                pdist = np.nanmean(p["distinguishing"], axis=0)
                pcons = np.nanmean(p["consensus"], axis=0)
        cols = {"full": self.full.zscores, "estimate": est, "se": se, "ci_low": lo, "ci_high": hi,
                "array_full": full_arr, "keep_exact": exact, "keep_within1": within, "move2": move2,
                "distinguishing_full": dist_full, "distinguishing_freq": pdist,
                "consensus_full": np.repeat(cons_full[:, None], k, axis=1),
                "consensus_freq": np.repeat(pcons[:, None], k, axis=1), "n": np.repeat(defined[None], n_st, 0),
                "resample_mean": d["mean"], "resample_sd": d["sd"], "resample_ci_low": d["ci_low"],
                "resample_ci_high": d["ci_high"], "resample_bias": d["mean"] - self.full.zscores,
                "array_boot": self.array_boot, "resample_keep_exact": keep_exact,
                "resample_keep_within1": keep_within1, "resample_distinguishing_freq": dist_freq,
                "resample_consensus_freq": np.repeat(cons_freq[:, None], k, axis=1), "resample_n": d["n"]}
        return self._long(cols, self.full.statement_ids, "statement")

    def _full_distinguishing(self):
        z = np.asarray(self.full.zscores)[None]
        dist, cons = distinguishing_consensus(z, np.asarray(self.full.characteristics.sd_dif)[None])
        return dist[0], cons[0]

    @cached_property
    def fsi(self) -> np.ndarray:
        """qmethod's factor stability index (R/qfsi.R) on the resampling: FSindex = sum |array_full - array_boot| /
        n_statements and NFSindex = FSindex / (2 sum |grid values|). Shape (k, 2)."""
        fs = np.abs(self.full.factor_arrays - self.array_boot).sum(axis=0) / self.full.study.n_statements
        return np.column_stack([fs, fs / (2 * np.abs(self.full.study.qscores).sum())])

    @cached_property
    def shares(self) -> tuple[np.ndarray, np.ndarray]:
        """Share of resampling replicates whose factor reaches congruence 0.85 / 0.95 with the full-sample factor.
        The denominator is every replicate but qindtest's rejected ones: a failed replicate reproduces no factor."""
        st = self.raw["status"]
        keep = st != "rejected"
        c = np.nan_to_num(self.raw["congruence"][keep], nan=-1.0)
        n = max(int(keep.sum()), 1)
        return (c >= CONGRUENCE_FAIR).sum(axis=0) / n, (c >= CONGRUENCE_EQUAL).sum(axis=0) / n

    @cached_property
    def factors(self):
        """Per factor: the verdict and what it rests on.

        ``p_085``/``p_095``: the probability that another sample of as many participants recovers the factor with
        a congruence of at least 0.85 / 0.95 with the population factor (calibrated, :mod:`qvalid.stability.
        verdict`), with a 90 % band (``*_low``/``*_high``); ``verdict`` (stable / fairly stable / unstable, or
        "n/a" where the calibration does not apply: resampling of statements, qindtest alignment) and
        ``verdict_text``. Resampling: ``share_085``/``share_095`` (raw shares of replicates, every replicate
        counted), ``congruence_median``, ``congruence_p05``, ``fsi``/``nfsi`` (qmethod's), ``n_no_flags``
        (replicates in which the factor had no defining sort), ``n_failed``, ``n_used``. Parametric:
        ``array_r`` (mean correlation of a simulated sample's factor array with the population's),
        ``n_no_flags_parametric``."""
        import pandas as pd

        c = self._used("congruence")
        nf = self._used("n_flagged")
        with quiet_nan_warnings():
            med = np.nanmedian(c, axis=0) if c.size else np.full(self.nfactors, np.nan)
            p05 = nanquantile(c, (0.05,))[0] if c.size else np.full(self.nfactors, np.nan)
        s85, s95 = self.shares
        n_all = max(int((self.raw["status"] != "rejected").sum()), 1)
        noflags = (nf == 0).sum(axis=0)
        n_st = self.full.study
        if self.calibrated:
            p85 = recovery_probability(s85, CONGRUENCE_FAIR, n_st.n_sorts, self.full.options.extraction)
            p95 = recovery_probability(s95, CONGRUENCE_EQUAL, n_st.n_sorts, self.full.options.extraction)
        else:
            p85 = p95 = np.full(self.nfactors, np.nan)
        lo85, hi85 = probability_band(p85, s85, CONGRUENCE_FAIR, n_all)
        lo95, hi95 = probability_band(p95, s95, CONGRUENCE_EQUAL, n_all)
        if self.calibrated:
            words = [verdict_word(a, b) for a, b in zip(p85, p95)]
            texts = [verdict_text(w, a, b, f / n_all, n_st.n_sorts, self.full.options.rotation)
                     for w, a, b, f in zip(words, p85, p95, noflags)]
        else:
            words = ["n/a"] * self.nfactors
            why = "judgmental rotation steps" if self.judgmental else f"resample={self.resample}, align={self.align}"
            texts = [f"n/a: no calibrated verdict for {why} (shares >= 0.85: {a:.0%}, >= 0.95: {b:.0%})"
                     for a, b in zip(s85, s95)]
        p = self.parametric
        _, _, _, array_r = self._array_keep
        pn = (np.asarray(p["n_flagged"]) == 0).sum(axis=0) if p is not None else np.full(self.nfactors, np.nan)
        return pd.DataFrame({"verdict": words, "p_085": p85, "p_085_low": lo85, "p_085_high": hi85, "p_095": p95,
                             "p_095_low": lo95, "p_095_high": hi95, "share_085": s85, "share_095": s95,
                             "congruence_median": med, "congruence_p05": p05, "fsi": self.fsi[:, 0],
                             "nfsi": self.fsi[:, 1], "n_no_flags": noflags, "n_failed": self.counts["failed"],
                             "n_used": len(c), "array_r": array_r, "n_no_flags_parametric": pn,
                             "verdict_text": texts},
                            index=pd.Index(self.factor_names, name="factor"))

    @cached_property
    def status(self):
        """One row per resampling replicate: status, alignment (permutation and signs, 1-based ``f2,-f1,...`` =
        aligned f1 is replicate f2, aligned f2 is minus replicate f1), congruence per factor, defining sorts per
        factor, whether it was recomputed on the single-study path, and the reason of a failure."""
        import pandas as pd

        perm, signs = self.raw["perm"], self.raw["signs"]
        align = [",".join(f"{'-' if s < 0 else ''}f{p + 1}" for p, s in zip(pr, sr)) for pr, sr in zip(perm, signs)]
        cols = {"status": self.raw["status"], "alignment": align}
        for j, f in enumerate(self.factor_names):
            cols[f"congruence_{f}"] = self.raw["congruence"][:, j]
        for j, f in enumerate(self.factor_names):
            cols[f"n_flagged_{f}"] = self.raw["n_flagged"][:, j]
        cols.update(fallback=self.raw["fallback"], reason=self.raw["reason"])
        return pd.DataFrame(cols, index=pd.RangeIndex(1, len(perm) + 1, name="replicate"))

    def _long(self, cols: dict, ids, name: str):
        import pandas as pd

        k = self.nfactors
        index = pd.MultiIndex.from_product([list(ids), self.factor_names], names=[name, "factor"])
        return pd.DataFrame({c: np.asarray(v).reshape(len(ids) * k) for c, v in cols.items()}, index=index)

    def wide(self, table: str, column: str):
        """One column of a long table as a rows x factors frame (rows in study order), e.g.
        ``wide("loadings", "se")``."""
        ids = self.full.sort_ids if table == "loadings" else self.full.statement_ids
        return getattr(self, table)[column].unstack("factor").loc[ids, self.factor_names]

    # ------------------------------------------------------------------ JSON
    def to_dict(self, *, replicates: bool = True) -> dict:
        """The JSON contract as Python objects (keys :data:`JSON_KEYS`, version :data:`SCHEMA`; NaN -> None)."""
        w = self.world
        return {
            "qvalid_version": __version__,
            "schema": SCHEMA,
            "bootstrap": {"n_resamples": self.n_resamples, "resample": self.resample, "balanced": self.balanced,
                          "align": self.align, "seed": self.seed, "ci": self.ci, "indices_given": self.indices_given,
                          "parametric": self.parametric is not None, "calibrated_verdict": self.calibrated},
            "options": {"nfactors": self.nfactors, "manual_flags": self.full.manual_flags,
                        **self.full.options.to_dict()},
            "study": study_block(self.full.study),
            "notes": list(self.notes),
            "counts": self.counts,
            "parametric": None if self.parametric is None else {
                **self.parametric_counts, "world_congruence": [float(x) for x in w.congruence]},
            "factors": records(self.factors),
            "loadings": records(self.loadings),
            "zscores": records(self.zscores),
            "replicates": records(self.status) if replicates else None,
        }

    def to_json(self, **kw) -> str:
        return json.dumps(self.to_dict(), allow_nan=False, **kw)

    def to_csv(self, directory) -> list:
        """Write ``loadings.csv``, ``zscores.csv``, ``factors.csv``, ``replicates.csv`` into ``directory``
        (atomically, each); returns the paths."""
        from pathlib import Path

        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        tables = {d / f"{name}.csv": df.to_csv() for name, df in (
            ("loadings", self.loadings), ("zscores", self.zscores), ("factors", self.factors),
            ("replicates", self.status))}
        refuse_source(self.full.study, *tables)
        atomic_write(tables)
        return list(tables)

    # ------------------------------------------------------------------ text
    def headline(self) -> str:
        """One line: how many factors are stable, fairly stable, unstable (or that no verdict applies)."""
        words = list(self.factors["verdict"])
        if not self.calibrated:
            why = "judgmental rotation steps" if self.judgmental else f"resample={self.resample}, align={self.align}"
            return f"no calibrated verdict ({why})"
        counts = [(w, sum(x == w for x in words)) for w in ("stable", "fairly stable", "unstable")]
        return f"{len(words)} factor(s): " + ", ".join(f"{n} {w}" for w, n in counts if n)

    def summary(self) -> str:
        s, o, c = self.full.study, self.full.options, self.counts
        kind = ("balanced" if self.balanced else "plain") if not self.indices_given else "given"
        pc = self.parametric_counts
        lines = [f"qvalid {__version__} bootstrap: {s.name or s.source or 'study'}: {s.n_statements} statements x "
                 f"{s.n_sorts} Q-sorts, {self.nfactors} factor(s), {o.extraction} + {o.rotation}, {o.cor_method}",
                 f"{self.n_resamples} {kind} resamples of the {self.resample}, seed {self.seed}; alignment: "
                 f"{self.align}; {c['used']} used ({c['ok']} needed no alignment, {c['aligned']} reordered/flipped), "
                 f"{c['rejected']} rejected by qindtest, {c['failed']} failed, {c['fallback']} recomputed singly",
                 (f"parametric bootstrap: {pc['total']} samples of {s.n_sorts} new participants simulated from the "
                  f"fitted solution, {pc['failed']} failed" if pc else "no parametric bootstrap: intervals below are "
                  "the resampling's percentiles (prefix resample_ in the CSV/JSON)")]
        lines += [f"note: {n}" for n in self.notes]
        lines += ["", f"Verdict: {self.headline()}", _WORDS_LEGEND, ""]
        f = self.factors
        lines.append(f"{'factor':<7} {'verdict':<14} {'P(>=.95)':>15} {'P(>=.85)':>15} {'resamples >=.85/.95':>20} "
                     f"{'no flags':>8}")
        for name, r in f.iterrows():
            lines.append(f"{name:<7} {r.verdict:<14} {_band(r.p_095, r.p_095_low, r.p_095_high):>15} "
                         f"{_band(r.p_085, r.p_085_low, r.p_085_high):>15} "
                         f"{_pct(r.share_085):>10}/{_pct(r.share_095):<9} {int(r.n_no_flags):>8}")
        lines += [f"{name}: {r.verdict_text}" for name, r in f.iterrows()]
        if pc:
            lines += self._block(f"Loadings: study (population estimate, SE) and how often a participant like this "
                                 f"one is flagged; {self.ci:.0%} intervals in the CSV/JSON", "sort", self.loadings,
                                 self.full.sort_ids, 26,
                                 lambda r: f"{r.full:6.2f}{'*' if r.flag_full else ' '}({r.estimate:5.2f},{r.se:5.2f}) "
                                           f"{_pct(r.flag_freq):>5}")
            lines += self._block(f"z-scores: study -> population {self.ci:.0%} interval; array column kept exactly / "
                                 "within 1", "statement", self.zscores, self.full.statement_ids, 30,
                                 lambda r: f"{_z(r.full)} [{_z(r.ci_low)},{_z(r.ci_high)}] "
                                           f"{_pct(r.keep_exact)}/{_pct(r.keep_within1)}")
        else:
            lines += self._block(f"Loadings: full (resampling mean, SD) flag frequency; {self.ci:.0%} percentile "
                                 "interval in the CSV/JSON", "sort", self.loadings, self.full.sort_ids, 26,
                                 lambda r: f"{r.full:6.2f}{'*' if r.flag_full else ' '}({r.resample_mean:5.2f},"
                                           f"{r.resample_sd:5.2f}) {_pct(r.resample_flag_freq):>5}")
            lines += self._block("Factor arrays: full -> bootstrapped (z SD) kept exactly / within 1", "statement",
                                 self.zscores, self.full.statement_ids, 24,
                                 lambda r: f"{_score(r.array_full)}->{_score(r.array_boot)} ({r.resample_sd:4.2f}) "
                                           f"{_pct(r.resample_keep_exact)}/{_pct(r.resample_keep_within1)}")
        return "\n".join(lines)

    __str__ = summary

    def _block(self, title, label, table, ids, width, cell) -> list:
        """One text table: a row per sort or statement, a ``cell(row)`` per factor."""
        w = max(len(x) for x in list(ids) + [label])
        out = ["", title, f"{label:<{w}} " + " ".join(f"{fn:>{width}}" for fn in self.factor_names)]
        rows = iter(table.itertuples(index=False))
        for i in ids:  # the long tables are ordered by row id, then factor
            out.append(f"{i:<{w}} " + " ".join(f"{cell(_Row(next(rows))):>{width}}" for _ in self.factor_names))
        return out

    # ------------------------------------------------------------------ figures
    def loading_intervals_figure(self, factors=None):
        """Per factor, each sort's loading (x), its population estimate (dot) and interval (bar); the resampling's
        mean and percentile interval without the parametric bootstrap."""
        return self._interval_figure(self.loadings, self.full.sort_ids, "loading", factors)

    def zscore_intervals_figure(self, factors=None):
        """Per factor, each statement's z-score (x), its population estimate (dot) and interval (bar)."""
        return self._interval_figure(self.zscores, self.full.statement_ids, "z-score", factors)

    def _interval_figure(self, table, ids, what, factors):
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt

        par = self.parametric is not None
        lo_c, hi_c, mid_c = ("ci_low", "ci_high", "estimate") if par else \
            ("resample_ci_low", "resample_ci_high", "resample_mean")
        names = self.factor_names if factors is None else list(factors)
        fig, axes = plt.subplots(1, len(names), figsize=(3.2 * len(names), 0.22 * len(ids) + 1.5), sharey=True,
                                 squeeze=False)
        y = np.arange(len(ids))
        for ax, fn in zip(axes[0], names):
            t = table.xs(fn, level="factor").loc[list(ids)]
            ax.hlines(y, t[lo_c], t[hi_c], color="0.55", lw=2)
            ax.plot(t[mid_c], y, "o", ms=3, color="C0", label="population estimate" if par else "resampling mean")
            ax.plot(t["full"], y, "x", ms=5, color="C3", label="study")
            ax.axvline(0, color="0.8", lw=0.8)
            ax.set_title(fn)
            ax.set_xlabel(what)
        axes[0][0].set_yticks(y, [s if len(s) <= 24 else s[:23] + "\u2026" for s in map(str, ids)], fontsize=7)
        axes[0][0].invert_yaxis()
        axes[0][-1].legend(fontsize=7, loc="lower right")
        how = "parametric bootstrap" if par else f"{self.counts['used']} resamples, percentile"
        fig.suptitle(f"{what}: {self.ci:.0%} intervals ({how})")
        fig.tight_layout()
        return fig

    def congruence_figure(self):
        """Histogram per factor of the Tucker congruence between aligned resample and full-sample factor."""
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt

        c = self._used("congruence")
        fig, axes = plt.subplots(1, self.nfactors, figsize=(3 * self.nfactors, 2.6), squeeze=False, sharey=True)
        for j, ax in enumerate(axes[0]):
            ax.hist(c[:, j][~np.isnan(c[:, j])], bins=np.linspace(min(0.5, np.nanmin(c[:, j], initial=1)), 1, 41),
                    color="C0")
            for t in (CONGRUENCE_FAIR, CONGRUENCE_EQUAL):
                ax.axvline(t, color="C3", lw=0.8, ls="--")
            ax.set_title(self.factor_names[j])
            ax.set_xlabel("Tucker congruence")
        fig.tight_layout()
        return fig


_WORDS_LEGEND = (f"(stable: P(congruence >= 0.95 with the population factor in another sample) >= {STABLE_P95:.0%}; "
                 f"fairly stable: P(>= 0.85) >= {FAIR_P85:.0%};\n unstable: below. Probabilities calibrated on "
                 "populations with known truth, docs/calibration.md; 90 % band in brackets)")


class _Row:
    """A table row whose fields read as attributes or items (``r.sd``, ``r["mean"]``)."""

    def __init__(self, t):
        self._t = t

    def __getattr__(self, name):
        return getattr(self._t, name)

    def __getitem__(self, name):
        return getattr(self._t, name)


def _pct(x) -> str:
    return "n/a" if x != x else f"{x:.0%}"


def _band(p, lo, hi) -> str:
    return "n/a" if p != p else f"{p:.0%} ({lo:.0%}-{hi:.0%})"


def _z(x) -> str:
    return "n/a" if x != x else f"{x:+.2f}"


def _score(x) -> str:
    return "n/a" if x != x else (f"{int(x):+d}" if x else "0")
