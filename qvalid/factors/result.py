"""What :func:`qvalid.number_of_factors` found: :class:`FactorsResult` (tables, JSON, text and the scree figure)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

import numpy as np

from .._version import __version__
from ..jsonable import records
from ..study import QStudy, format_score, study_block

__all__ = ["FactorsResult"]


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
        return {
            "qvalid_version": __version__,
            "study": study_block(self.study),
            "options": self.options.to_dict(),
            "nfactors": self.nfactors, "max_k": self.max_k, "n_runs": self.n_runs, "centile": self.centile,
            "seed": self.seed if isinstance(self.seed, int) else str(self.seed),
            "suggestions": dict(self.suggestions),
            "criteria": records(self.criteria),
            "parallel": records(self.parallel),
            "map": records(self.map),
            "sensitivity": records(self.sensitivity),
            "bootstrap": None if self.bootstrap is None else records(self.bootstrap),
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
        f"analysis: {o.extraction} + {o.rotation}, {o.cor_method}; flags: {o.flag_rule_of(n_st).text()}",
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
              + ", ".join(f"m={i}: " + (f"{m.map2.iloc[i]:.4f}/{m.map4.iloc[i]:.4f}" if np.isfinite(m.map2.iloc[i])
                                        else "undefined (no variance of its own left to some Q-sort)")
                          for i in range(min(len(m), fr.max_k + 1)))]
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
