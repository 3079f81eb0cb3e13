"""The result of :func:`qvalid.bootstrap`: per-replicate arrays, summary tables, JSON, text, CSV and figures."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from .._version import __version__
from ..core.characteristics import distinguishing_consensus
from ..io.files import atomic_write, refuse_source
from ..jsonable import records
from ..results import QResult
from ..study import study_block

__all__ = ["BootstrapResult", "JSON_KEYS", "CONGRUENCE_EQUAL", "CONGRUENCE_FAIR", "STABLE_SHARE"]

#: Tucker congruence thresholds of Lorenzo-Seva & ten Berge (2006, Methodology 2(2):57-64): >= 0.95 the factors
#: can be considered equal, 0.85-0.94 fair similarity.
CONGRUENCE_EQUAL, CONGRUENCE_FAIR = 0.95, 0.85
#: Share of replicates that must reach a threshold for the verdict.
STABLE_SHARE = 0.95

#: Top-level keys of :meth:`BootstrapResult.to_dict` / ``qvalid bootstrap --format json`` (a public contract).
JSON_KEYS = ("qvalid_version", "bootstrap", "options", "study", "counts", "factors", "loadings", "zscores",
             "replicates")


def nanquantile(x, probs) -> np.ndarray:
    """``np.nanquantile(x, probs, axis=0)`` (linear interpolation = R's quantile type 7; NaN ignored, NaN where a
    column has no value), with numpy's arithmetic (index (n - 1) p, its two-sided lerp) but for all columns at once
    (numpy loops over the columns of an array with NaNs). Shape ``(len(probs),) + x.shape[1:]``."""
    x = np.asarray(x, dtype=float)
    s = np.sort(x, axis=0)  # NaN sort last
    n = (~np.isnan(x)).sum(axis=0)
    out = []
    for p in probs:
        h = (n - 1) * float(p)
        lo = np.floor(h)
        t = h - lo
        i = np.clip(lo, 0, None).astype(np.int64)
        a = np.take_along_axis(s, i[None], axis=0)[0]
        b = np.take_along_axis(s, np.clip(i + 1, None, np.maximum(n - 1, 0))[None], axis=0)[0]
        d = b - a
        v = np.where(t >= 0.5, b - d * (1 - t), a + d * t)
        out.append(np.where(n > 0, v, np.nan))
    return np.array(out)


@dataclass(frozen=True, eq=False)
class BootstrapResult:
    """A bootstrap of a k-factor solution (:func:`qvalid.bootstrap`).

    Attributes
    ----------
    full : QResult
        The full-sample analysis (the alignment target).
    n_resamples, resample, balanced, align, seed, ci, indices_given
        How the bootstrap was run.
    raw : dict of ndarray
        Per replicate (first axis): ``indices``, ``status``, ``reason``, ``fallback``, ``perm``, ``signs``,
        ``congruence``, ``loadings``/``flags`` (per original sort, NaN where the sort is not in the resample),
        ``zscores``/``arrays``/``distinguishing`` (per statement), ``consensus``, ``n_flagged``; all aligned to
        the full-sample factors.

    Tables (pandas, built on demand): :attr:`loadings`, :attr:`zscores`, :attr:`factors`, :attr:`status`.
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

    # ------------------------------------------------------------------ basics
    @property
    def nfactors(self) -> int:
        return self.full.nfactors

    @property
    def factor_names(self) -> list[str]:
        return self.full.factors

    @cached_property
    def used(self) -> np.ndarray:
        """Replicates that enter the summaries: all but ``failed`` (and qindtest's ``rejected``)."""
        return np.isin(self.raw["status"], ("ok", "aligned"))

    @cached_property
    def counts(self) -> dict:
        """Replicates by status, plus ``used`` and ``fallback`` (recomputed on the single-study path)."""
        st = self.raw["status"]
        out = {s: int((st == s).sum()) for s in ("ok", "aligned", "rejected", "failed")}
        out.update(total=int(st.size), used=int(self.used.sum()), fallback=int(self.raw["fallback"].sum()))
        return out

    def _used(self, name: str) -> np.ndarray:
        return self.raw[name][self.used]

    def _describe(self, x) -> dict:
        """Over used replicates (axis 0), NaN (absent) ignored: mean, sd (n - 1), percentile CI, n."""
        lo, hi = (1 - self.ci) / 2, 1 - (1 - self.ci) / 2
        n = (~np.isnan(x)).sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"), _quiet():
            mean = np.nanmean(x, axis=0)
            sd = np.nanstd(x, axis=0, ddof=1)
            q = nanquantile(x, (lo, hi))
        return {"mean": mean, "sd": sd, "ci_low": q[0], "ci_high": q[1], "n": n}

    # ------------------------------------------------------------------ tables
    @cached_property
    def loadings(self):
        """Per sort x factor (long table, index ``sort``, ``factor``): the full-sample loading, the bootstrap mean,
        SD (the bootstrap SE), percentile CI, bias (mean - full), flag in the full sample and the flag frequency
        over the replicates that contain the sort (as qmethod's ``loa.stats`` ``flag_freq``), and ``n``."""
        d = self._describe(self._used("loadings"))
        with np.errstate(invalid="ignore"), _quiet():
            freq = np.nanmean(self._used("flags"), axis=0)
        cols = {"full": self.full.loadings, **{k: d[k] for k in ("mean", "sd", "ci_low", "ci_high")},
                "bias": d["mean"] - self.full.loadings, "flag_full": self.full.flags, "flag_freq": freq, "n": d["n"]}
        return self._long(cols, self.full.sort_ids, "sort")

    @cached_property
    def array_boot(self) -> np.ndarray:
        """qmboots' bootstrapped factor scores (R/qmboots.R:167-184): statements ordered by their mean bootstrap
        z-score (ties by position) receive the ascending grid values. (n_statements, k)."""
        with _quiet():
            mean = np.nanmean(self._used("zscores"), axis=0)
        order = np.argsort(mean, axis=0, kind="stable")
        out = np.empty_like(mean)
        np.put_along_axis(out, order, np.broadcast_to(np.sort(self.full.study.qscores)[:, None].astype(float),
                                                      mean.shape), axis=0)
        out[:, np.isnan(mean).all(axis=0)] = np.nan
        return out

    @cached_property
    def zscores(self):
        """Per statement x factor (index ``statement``, ``factor``): full-sample z-score, bootstrap mean, SD, CI,
        bias; the full-sample factor array, the bootstrapped array (:attr:`array_boot`), how often a replicate
        keeps the statement's array value exactly and within one column; whether the statement distinguishes the
        factor (p < .05 against every other factor) and is a consensus statement, in the full sample and how
        often in the replicates; ``n``."""
        z = self._used("zscores")
        d = self._describe(z)
        arr = self._used("arrays")
        full_arr = self.full.factor_arrays
        with np.errstate(invalid="ignore"), _quiet():
            present = ~np.isnan(arr)
            keep = np.where(present, arr == full_arr, np.nan)
            near = np.where(present, np.abs(arr - full_arr) <= 1, np.nan)
            keep_exact, keep_within1 = np.nanmean(keep, axis=0), np.nanmean(near, axis=0)
            dist_freq = np.nanmean(self._used("distinguishing"), axis=0)
            cons_freq = np.nanmean(self._used("consensus"), axis=0)
        dist_full, cons_full = self._full_distinguishing()
        k = self.nfactors
        cols = {"full": self.full.zscores, **{c: d[c] for c in ("mean", "sd", "ci_low", "ci_high")},
                "bias": d["mean"] - self.full.zscores, "array_full": full_arr, "array_boot": self.array_boot,
                "keep_exact": keep_exact, "keep_within1": keep_within1, "distinguishing_full": dist_full,
                "distinguishing_freq": dist_freq, "consensus_full": np.repeat(cons_full[:, None], k, axis=1),
                "consensus_freq": np.repeat(cons_freq[:, None], k, axis=1), "n": d["n"]}
        return self._long(cols, self.full.statement_ids, "statement")

    def _full_distinguishing(self):
        z = np.asarray(self.full.zscores)[None]
        dist, cons = distinguishing_consensus(z, np.asarray(self.full.characteristics.sd_dif)[None])
        return dist[0], cons[0]

    @cached_property
    def fsi(self) -> np.ndarray:
        """qmethod's factor stability index (R/qfsi.R): FSindex = sum |array_full - array_boot| / n_statements and
        NFSindex = FSindex / (2 sum |grid values|). Shape (k, 2)."""
        fs = np.abs(self.full.factor_arrays - self.array_boot).sum(axis=0) / self.full.study.n_statements
        return np.column_stack([fs, fs / (2 * np.abs(self.full.study.qscores).sum())])

    @cached_property
    def factors(self):
        """Per factor: Tucker congruence of the aligned replicate with the full-sample factor (median, 5 % quantile,
        share >= 0.85 and >= 0.95), qmethod's FSI/NFSI, replicates in which the factor had no defining sort, and a
        one-line verdict that names its thresholds."""
        import pandas as pd

        c = self._used("congruence")
        nf = self._used("n_flagged")
        with _quiet():
            med = np.nanmedian(c, axis=0) if c.size else np.full(self.nfactors, np.nan)
            p05 = nanquantile(c, (0.05,))[0] if c.size else np.full(self.nfactors, np.nan)
        n = max(len(c), 1)
        s85, s95 = (c >= CONGRUENCE_FAIR).sum(axis=0) / n, (c >= CONGRUENCE_EQUAL).sum(axis=0) / n
        noflags = (nf == 0).sum(axis=0)
        verdict = [_verdict(a, b, m, f / n) for a, b, m, f in zip(s95, s85, med, noflags)]
        return pd.DataFrame({"congruence_median": med, "congruence_p05": p05, "share_085": s85, "share_095": s95,
                             "fsi": self.fsi[:, 0], "nfsi": self.fsi[:, 1], "n_no_flags": noflags,
                             "n_used": len(c), "verdict": verdict},
                            index=pd.Index(self.factor_names, name="factor"))

    @cached_property
    def status(self):
        """One row per replicate: status, alignment (permutation and signs, 1-based ``f2,-f1,...`` = aligned f1 is
        replicate f2, aligned f2 is minus replicate f1), congruence per factor, defining sorts per factor, whether
        it was recomputed on the single-study path, and the reason of a failure."""
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
        ``wide("loadings", "sd")``."""
        ids = self.full.sort_ids if table == "loadings" else self.full.statement_ids
        return getattr(self, table)[column].unstack("factor").loc[ids, self.factor_names]

    # ------------------------------------------------------------------ JSON
    def to_dict(self, *, replicates: bool = True) -> dict:
        """The JSON contract as Python objects (keys :data:`JSON_KEYS`; NaN -> None)."""
        return {
            "qvalid_version": __version__,
            "bootstrap": {"n_resamples": self.n_resamples, "resample": self.resample, "balanced": self.balanced,
                          "align": self.align, "seed": self.seed, "ci": self.ci, "indices_given": self.indices_given},
            "options": {"nfactors": self.nfactors, "manual_flags": self.full.manual_flags,
                        **self.full.options.to_dict()},
            "study": study_block(self.full.study),
            "counts": self.counts,
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
    def summary(self) -> str:
        s, o, c = self.full.study, self.full.options, self.counts
        kind = ("balanced" if self.balanced else "plain") if not self.indices_given else "given"
        lines = [f"qvalid {__version__} bootstrap: {s.name or s.source or 'study'}: {s.n_statements} statements x "
                 f"{s.n_sorts} Q-sorts, {self.nfactors} factor(s), {o.extraction} + {o.rotation}, {o.cor_method}",
                 f"{self.n_resamples} {kind} resamples of the {self.resample}, seed {self.seed}; alignment: "
                 f"{self.align}",
                 f"replicates: {c['used']} used ({c['ok']} needed no alignment, {c['aligned']} reordered/flipped), "
                 f"{c['rejected']} rejected by qindtest, {c['failed']} failed; {c['fallback']} recomputed on the "
                 "single-study path", ""]
        f = self.factors
        lines.append(f"{'factor':<7} {'phi med':>8} {'phi p05':>8} {'>=.85':>6} {'>=.95':>6} {'FSI':>6} "
                     f"{'no flags':>8}  verdict")
        for name, r in f.iterrows():
            lines.append(f"{name:<7} {r.congruence_median:8.3f} {r.congruence_p05:8.3f} {r.share_085:6.1%} "
                         f"{r.share_095:6.1%} {r.fsi:6.3f} {int(r.n_no_flags):8d}  {r.verdict}")
        lines += self._block(f"Loadings: full (bootstrap mean, SE) flag frequency; {self.ci:.0%} CI in the CSV/JSON",
                             "sort", self.loadings, self.full.sort_ids, 26,
                             lambda r: f"{r.full:6.2f}{'*' if r.flag_full else ' '}({r['mean']:5.2f},{r.sd:5.2f}) "
                                       f"{_pct(r.flag_freq):>5}")
        lines += self._block("Factor arrays: full -> bootstrapped (z SE) kept exactly / within 1", "statement",
                             self.zscores, self.full.statement_ids, 24,
                             lambda r: f"{_score(r.array_full)}->{_score(r.array_boot)} ({r.sd:4.2f}) "
                                       f"{_pct(r.keep_exact)}/{_pct(r.keep_within1)}")
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
        """Per factor, each sort's full-sample loading (x) and bootstrap percentile interval (bar)."""
        return self._interval_figure(self.loadings, self.full.sort_ids, "loading", factors)

    def zscore_intervals_figure(self, factors=None):
        """Per factor, each statement's full-sample z-score (x) and bootstrap percentile interval (bar)."""
        return self._interval_figure(self.zscores, self.full.statement_ids, "z-score", factors)

    def _interval_figure(self, table, ids, what, factors):
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt

        names = self.factor_names if factors is None else list(factors)
        fig, axes = plt.subplots(1, len(names), figsize=(3.2 * len(names), 0.22 * len(ids) + 1.5), sharey=True,
                                 squeeze=False)
        y = np.arange(len(ids))
        for ax, fn in zip(axes[0], names):
            t = table.xs(fn, level="factor").loc[list(ids)]
            ax.hlines(y, t.ci_low, t.ci_high, color="0.55", lw=2)
            ax.plot(t["mean"], y, "o", ms=3, color="C0", label="bootstrap mean")
            ax.plot(t["full"], y, "x", ms=5, color="C3", label="full sample")
            ax.axvline(0, color="0.8", lw=0.8)
            ax.set_title(fn)
            ax.set_xlabel(what)
        axes[0][0].set_yticks(y, list(ids), fontsize=7)
        axes[0][0].invert_yaxis()
        axes[0][-1].legend(fontsize=7, loc="lower right")
        fig.suptitle(f"{what} {self.ci:.0%} bootstrap intervals ({self.counts['used']} replicates, {self.align})")
        fig.tight_layout()
        return fig

    def congruence_figure(self):
        """Histogram per factor of the Tucker congruence between aligned replicate and full-sample factor."""
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


class _Row:
    """A table row whose fields read as attributes or items (``r.sd``, ``r["mean"]``)."""

    def __init__(self, t):
        self._t = t

    def __getattr__(self, name):
        return getattr(self._t, name)

    def __getitem__(self, name):
        return getattr(self._t, name)


def _verdict(s95: float, s85: float, med: float, noflags: float) -> str:
    if s95 >= STABLE_SHARE:
        v = f"stable: congruence >= {CONGRUENCE_EQUAL} in {s95:.0%} of replicates (>= {STABLE_SHARE:.0%} needed)"
    elif s85 >= STABLE_SHARE:
        v = (f"fairly stable: congruence >= {CONGRUENCE_FAIR} in {s85:.0%} of replicates, >= {CONGRUENCE_EQUAL} "
             f"in {s95:.0%} (< {STABLE_SHARE:.0%})")
    else:
        v = (f"unstable: congruence >= {CONGRUENCE_FAIR} in only {s85:.0%} of replicates "
             f"(< {STABLE_SHARE:.0%}; median {med:.2f})")
    if noflags > 1 - STABLE_SHARE:
        v += f"; no defining sort in {noflags:.0%} of replicates"
    return v + " [Lorenzo-Seva & ten Berge 2006]"


def _pct(x) -> str:
    return "n/a" if x != x else f"{x:.0%}"


def _score(x) -> str:
    return "n/a" if x != x else (f"{int(x):+d}" if x else "0")


class _quiet:
    """Silence numpy's "mean of empty slice" warnings (absent sorts and flagless factors give NaN on purpose)."""

    def __enter__(self):
        import warnings

        self._w = warnings.catch_warnings()
        self._w.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc):
        return self._w.__exit__(*exc)
