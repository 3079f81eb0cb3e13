"""Compare the JSON of a bootstrap (``BootstrapResult.to_dict``) or of the number-of-factors evidence
(``FactorsResult.to_dict``) with a snapshot of it, as :class:`~qvalid.checks.diff.Diff` objects built from
:func:`qvalid.checks.compare.compare_arrays` (the rules of :func:`~qvalid.checks.compare.compare`, cell by cell).

**Bootstrap: a Monte-Carlo tolerance.** A bootstrap summary is an estimate from ``n`` replicates; two runs that
differ only in their random stream (another seed, another numpy, another number of resamples) differ by Monte-Carlo
noise. Each summary cell is compared within ``z x SE_INFLATION`` standard errors of the difference of the two
estimates. The JSON is bootstrap schema 2 (:data:`BOOTSTRAP_SCHEMA`, docs/bootstrap.md): the resampling's own
statistics carry the prefix ``resample_``, the plain names are the parametric bootstrap's.

- The resampling's replicate statistics ``resample_mean``, ``resample_bias``, ``resample_sd``,
  ``resample_ci_low``/``_high``: errors estimated from the replicates (``BootstrapResult.raw``) by :func:`mc_errors`
  and stored with the snapshot (:func:`bootstrap_mc_errors`). The difference's SE is ``sqrt(se_a^2 + se_b^2)`` for
  means and biases, ``sqrt(2) max(se_a, se_b)`` for SDs and bounds (whose errors are estimated from the tails of one
  run each: the larger one saw more of the tail). Without the replicates' errors (a JSON from elsewhere) they are
  not compared.
- Frequencies and shares are binomial, ``sqrt(pbar (1 - pbar) (1/n_a + 1/n_b))`` with the pooled share ``pbar``:
  the resampling's ``resample_flag_freq``, ``resample_keep_*``, ``resample_distinguishing_freq``,
  ``resample_consensus_freq`` over ``resample_n``; ``resample_n`` as a share of the used resamples; the parametric
  ``n`` as a share of the simulated participants (loadings: a type is drawn with replacement) or samples
  (z-scores); the counts of both bootstraps (``counts``, ``parametric``); the congruence shares and ``n_no_flags``
  over ``n_used``.

``z`` is the normal quantile that keeps the family-wise false-alarm rate at ``alpha`` (default 1 %) over the ``m``
Monte-Carlo cells compared (Bonferroni: ``z = Phi^-1(1 - alpha / (2 m))``, about 4.4 for 1000 cells). What is fixed
by the full sample (full-sample loadings and z-scores, flags, factor arrays, distinguishing and consensus in the
full sample, the options and the study) is compared at the ordinary tolerance. Compared exactly when every
Monte-Carlo cell is identical (the same random stream), and otherwise not compared (their inputs are):

- outputs derived from Monte-Carlo estimates by ranks or thresholds, which move by whole steps under noise: the
  bootstrapped factor arrays, FSI/NFSI, the congruence quantiles, the recovery probabilities ``p_085``/``p_095``
  and their bands (the shares through the calibration curve), the verdicts and their text;
- every summary of the parametric bootstrap (the plain-named columns of the loadings and z-scores except ``n``;
  ``array_r``, ``n_no_flags_parametric``; the world's congruence). Each run builds its own world (2000 simulated
  participants, drawn from the seed) and measures the simulated samples against it: their factors are aligned to the
  world's truth, the intervals are fitted against its z-scores (with open ends at +-6 that come and go), the array keeps
  count against its array. Another seed thus moves them by the world's noise as well as the replicates', and that
  part does not shrink with more replicates: with binomial or replicate-based errors, pairs of seeds gave 9 % false
  alarms on nav_synth k=4 centroid at 1000 replicates (``zscores.se``, ``zscores.distinguishing_freq``) and 4 % at
  200 (``loadings.flag_freq``), docs/ci.md. Their inputs that do not depend on the world (the resampling, the
  counts) are compared; a change of analysis shows in the fixed outputs.

A bootstrap JSON of another schema (schema 1, before issue 18: no ``schema`` key, the resampling's statistics under
the plain names) is refused in one line rather than compared column by column under names that now mean other
things. Calibration: docs/ci.md (scripts/calibrate_mc_tolerance.py).

**Number of factors**: a deterministic computation for a given seed (the parallel-analysis nulls are seeded): every
table is compared at the ordinary tolerance, the suggested numbers of factors exactly (reported).
"""

from __future__ import annotations

import numpy as np
from scipy.stats import norm

from ..core.nanstats import quiet_nan_warnings
from ..errors import QInputError
from ..options import OPTION_INFO, Options
from .compare import compare_arrays
from .diff import DEFAULT_TOLERANCE, Alignment, Diff, OutputDiff

__all__ = ["compare_bootstrap", "compare_factors", "mc_z", "mc_errors", "bootstrap_mc_errors", "ALPHA", "BOOT_DIGITS",
           "BOOTSTRAP_SCHEMA", "MC_COLUMNS", "SE_INFLATION"]

#: Family-wise false-alarm rate of the Monte-Carlo tolerance.
ALPHA = 0.01
#: Every Monte-Carlo standard error is multiplied by this: the errors are themselves estimated from one run each, and
#: across 40 seeds the spread of a cell's estimate exceeded its mean estimated SE by up to 30 % (nav_synth, 100
#: cells; scripts/calibrate_mc_tolerance.py, docs/ci.md).
SE_INFLATION = 1.3
#: Print precisions of the bootstrap tables (means, SDs and bounds 2 dp as ``qvalid bootstrap`` prints them;
#: frequencies and shares as whole percentages, i.e. 2 dp of the proportion).
BOOT_DIGITS = 2
#: The bootstrap JSON schema these comparisons read (:data:`qvalid.stability.summaries.SCHEMA`; checks do not import
#: the analyses, a test keeps the two equal). A result of another schema is refused in one line.
BOOTSTRAP_SCHEMA = 2

#: The resampling's replicate statistics whose Monte-Carlo standard errors :func:`mc_errors` estimates from the
#: resampling replicates (``BootstrapResult.raw``), and the :func:`mc_errors` key each one takes.
MC_COLUMNS = {"resample_mean": "mean", "resample_bias": "bias", "resample_sd": "sd", "resample_ci_low": "ci_low",
              "resample_ci_high": "ci_high"}
_MEANS = ("resample_mean", "resample_bias")
# binomial frequencies: column -> the column holding its number of replicates
_FREQ_LOADINGS = {"resample_flag_freq": "resample_n"}
_FREQ_ZSCORES = {"resample_keep_exact": "resample_n", "resample_keep_within1": "resample_n",
                 "resample_distinguishing_freq": "resample_n", "resample_consensus_freq": "resample_n"}
_FIXED_LOADINGS = ("full",)
_EXACT_LOADINGS = ("flag_full",)
_FIXED_ZSCORES = ("full",)
_EXACT_ZSCORES = ("array_full", "distinguishing_full", "consensus_full")
# compared exactly only when every Monte-Carlo cell is identical: ranks and thresholds of Monte-Carlo estimates, and
# what is measured against the parametric world's truth (the world is itself drawn from the seed)
_DERIVED_LOADINGS = ("estimate", "se", "ci_low", "ci_high", "flag_freq")
_DERIVED_ZSCORES = ("array_boot", "estimate", "se", "ci_low", "ci_high", "keep_exact", "keep_within1", "move2",
                    "distinguishing_freq", "consensus_freq")
_SHARES = ("share_085", "share_095")
_DERIVED_FACTORS = ("congruence_median", "congruence_p05", "fsi", "nfsi", "verdict", "p_085", "p_085_low",
                    "p_085_high", "p_095", "p_095_low", "p_095_high", "array_r", "n_no_flags_parametric", "verdict_text")


def mc_z(m: int, alpha: float = ALPHA) -> float:
    """The two-sided normal quantile for ``m`` comparisons at family-wise rate ``alpha`` (Bonferroni)."""
    return float(norm.isf(alpha / (2 * max(int(m), 1))))


def mc_errors(replicates, ci: float = 0.95) -> dict:
    """Monte-Carlo standard errors of the bootstrap summaries of one table, from its replicates.

    ``replicates``: (n_replicates, rows, factors), NaN where a replicate has no value (a sort not resampled). Per
    cell, with n its replicates: mean and bias ``sd / sqrt(n)``; SD ``sd sqrt((g - (n - 3) / (n - 1)) / (4 n))``
    with the cell's own kurtosis g (the large-sample variance of a sample SD); the percentile bounds at p from the
    order statistics, distribution-free: half the spread between the quantiles at
    ``p -+ 3 sqrt(p (1 - p) / n)`` (clipped to 0 and 1) as the inverse density, times ``sqrt(p (1 - p) / n)`` (the
    asymptotic SE of a sample quantile with the density read off the order statistics: right for the bimodal
    replicate distributions of a factor that swaps with another in some resamples, where a normal density would
    be wrong; the wide window steadies the estimate in the sparse tail of a 95 % bound). Returns column -> (rows, factors) array.
    """
    x = np.asarray(replicates, dtype=np.float64)
    n = (~np.isnan(x)).sum(axis=0).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"), quiet_nan_warnings():
        mean = np.nanmean(x, axis=0)
        dev = x - mean
        m2 = np.nanmean(dev ** 2, axis=0)
        m4 = np.nanmean(dev ** 4, axis=0)
        sd = np.sqrt(m2 * n / np.maximum(n - 1, 1))
        g = m4 / (m2 * m2)
        se_sd = sd * np.sqrt(np.maximum(g - (n - 3) / np.maximum(n - 1, 1), 0.0) / (4 * n))
        se_mean = sd / np.sqrt(n)
        out = {"mean": se_mean, "bias": se_mean, "sd": se_sd}
        nmin = max(float(np.nanmin(np.where(n > 0, n, np.nan))) if (n > 0).any() else 1.0, 1.0)
        for col, p in (("ci_low", (1 - ci) / 2), ("ci_high", 1 - (1 - ci) / 2)):
            h = 3 * np.sqrt(p * (1 - p) / nmin)
            plo, phi = max(p - h, 0.0), min(p + h, 1.0)
            lo, hi = np.nanquantile(x, (plo, phi), axis=0)
            out[col] = (hi - lo) / (phi - plo) * np.sqrt(p * (1 - p) / n)
    return {k: np.where(n > 1, v, np.nan) for k, v in out.items()}


def bootstrap_mc_errors(result) -> dict:
    """The Monte-Carlo standard errors a bootstrap snapshot stores (``mc_se``): table -> column -> (rows, factors).

    The resampling's statistics (:data:`MC_COLUMNS`), by :func:`mc_errors` from its used replicates
    (``result.raw``). The parametric bootstrap's summaries need none: they are compared only on the same random
    stream (module docstring)."""
    out = {}
    for t in ("loadings", "zscores"):
        e = mc_errors(result.raw[t][result.used], result.ci)
        out[t] = {col: e[key] for col, key in MC_COLUMNS.items()}
    return out


def _grid(records, row_key, rows, factors, column):
    """A long table's column as (rows x factors) floats (NaN for None), by (row id, factor)."""
    where = {(str(r[row_key]), str(r["factor"])): r for r in records}
    out = np.full((len(rows), len(factors)), np.nan)
    for i, rid in enumerate(rows):
        for j, f in enumerate(factors):
            v = where[(rid, f)].get(column)
            out[i, j] = np.nan if v is None else float(v)
    return out


def _ids(records, key):
    return list(dict.fromkeys(str(r[key]) for r in records))


def _exact_dict(name, a: dict, b: dict) -> OutputDiff:
    keys = sorted(set(a) | set(b))
    x = np.array([[str(a.get(k, "(absent)")) for k in keys]], dtype=object)
    y = np.array([[str(b.get(k, "(absent)")) for k in keys]], dtype=object)
    return compare_arrays(name, x, y, labels=(None, "factor"), columns=keys, exact=True, digits=0)


def _options(old: dict, new: dict, notes: list) -> OutputDiff:
    """The options of two results; an option one side does not record (written by another qvalid) counts at its
    default, with a note."""
    default = Options()
    filled = []
    for d in (old, new):
        missing = [k for k in OPTION_INFO if k not in d]
        if missing:
            notes.append("option(s) not recorded on one side (another qvalid), taken at their defaults: "
                         + ", ".join(f"{k}={getattr(default, k)!r}" for k in missing))
        filled.append({**{k: getattr(default, k) for k in missing}, **d})
    return _exact_dict("options", *filled)


def _binomial_se(pa, pb, na, nb):
    na, nb = np.maximum(na, 1.0), np.maximum(nb, 1.0)
    pbar = (pa * na + pb * nb) / (na + nb)
    lo = 0.5 / (na + nb)
    pbar = np.clip(pbar, lo, 1 - lo)
    return np.sqrt(pbar * (1 - pbar) * (1 / na + 1 / nb))


def _schema(d: dict, name: str) -> None:
    """Refuse, in one line, a bootstrap JSON of another schema (schema 1 had no ``schema`` key: its ``mean``,
    ``sd``, ``ci_*``, ``flag_freq``, ``keep_*`` were the resampling's, now ``resample_*``, and the names it shares
    with schema 2 mean other things there)."""
    schema = d.get("schema", 1)
    if schema != BOOTSTRAP_SCHEMA:
        who = "an older" if isinstance(schema, int) and schema < BOOTSTRAP_SCHEMA else "another"
        raise QInputError(f"{name} written by {who} qvalid (bootstrap schema {schema}); this qvalid compares schema "
                          f"{BOOTSTRAP_SCHEMA}: make it again with this qvalid (pytest --qvalid-update)")


def compare_bootstrap(old: dict, new: dict, *, se_old: dict | None = None, se_new: dict | None = None,
                      alpha: float = ALPHA, tolerance: float = DEFAULT_TOLERANCE, names=("snapshot", "now")) -> Diff:
    """Compare two bootstrap JSON contracts (``to_dict(replicates=False)``, schema :data:`BOOTSTRAP_SCHEMA`): see
    the module docstring.

    ``se_old`` / ``se_new``: :func:`bootstrap_mc_errors` of each side (as stored in a snapshot); without them the
    replicate statistics (``resample_mean``, ``_bias``, ``_sd``, ``_ci_*``, the z-scores' ``se``) are not compared.
    Raises :class:`~qvalid.errors.QInputError` (one line) for a result of another bootstrap schema, or errors
    recorded under other column names (an older qvalid's)."""
    for d, name in ((old, names[0]), (new, names[1])):
        _schema(d, name)
    for e, name in ((se_old, names[0]), (se_new, names[1])):
        if e is not None and any(c in cols for cols in e.values() for c in ("mean", "sd", "ci_low")):
            raise QInputError(f"{name} written by an older qvalid (bootstrap schema 1: Monte-Carlo errors of "
                              "'mean', 'sd', 'ci_*'); make it again with this qvalid (pytest --qvalid-update)")
    outputs = []
    ba, bb = old["bootstrap"], new["bootstrap"]
    same_design = {k: ba.get(k) for k in ("resample", "balanced", "align", "ci", "indices_given", "parametric")}
    outputs.append(_exact_dict("settings", same_design, {k: bb.get(k) for k in same_design}))
    notes = []
    outputs.append(_options(old["options"], new["options"], notes))
    outputs.append(_exact_dict("study", old["study"], new["study"]))
    fa = _ids(old["factors"], "factor")
    if fa != _ids(new["factors"], "factor") or _ids(old["loadings"], "sort") != _ids(new["loadings"], "sort") or \
            _ids(old["zscores"], "statement") != _ids(new["zscores"], "statement"):
        outputs.append(OutputDiff("ids", "exact", "shape", note="the factors, sorts or statements differ",
                                  n_reported=1))
        return Diff(tuple(names), tuple(outputs), Alignment(requested=False), 0.0, {"kind": "bootstrap"},
                    tuple(notes))
    outputs.append(OutputDiff("ids", "exact", "ok", n_reported=0))
    mc, later, skipped = [], [], []
    # counts: shares of all replicates (resampling, then parametric)
    ca, cb = old["counts"], new["counts"]
    keys = [k for k in ("used", "ok", "aligned", "rejected", "failed", "fallback") if k in ca and k in cb]
    ta, tb = float(ca["total"]), float(cb["total"])
    xa = np.array([[ca[k] / ta for k in keys]])
    xb = np.array([[cb[k] / tb for k in keys]])
    mc.append(("counts", xa, xb, _binomial_se(xa, xb, ta, tb), (None, "factor"), {}, keys))
    pa, pb = old.get("parametric"), new.get("parametric")
    # simulated samples analysed without failure (the parametric tables' replicates); 0 without the parametric
    oka, okb = ((float(p["total"] - p["failed"]) if p else 0.0) for p in (pa, pb))
    if pa and pb:
        pta, ptb = float(pa["total"]), float(pb["total"])
        xa = np.array([[pa[k] / max(pta, 1) for k in ("failed", "fallback")]])
        xb = np.array([[pb[k] / max(ptb, 1) for k in ("failed", "fallback")]])
        mc.append(("parametric", xa, xb, _binomial_se(xa, xb, pta, ptb), (None, "factor"), {},
                   ["failed", "fallback"]))
        wa, wb = (np.array([p["world_congruence"]], dtype=object) for p in (pa, pb))
        if wa.shape == wb.shape == (1, len(fa)):
            later.append(("parametric.world_congruence", wa, wb, (None, "factor"), {}, fa))
    used_a, used_b = float(ca["used"]), float(cb["used"])
    for table, row_key, freq, fixed, exact, derived in (
            ("loadings", "sort", _FREQ_LOADINGS, _FIXED_LOADINGS, _EXACT_LOADINGS, _DERIVED_LOADINGS),
            ("zscores", "statement", _FREQ_ZSCORES, _FIXED_ZSCORES, _EXACT_ZSCORES, _DERIVED_ZSCORES)):
        rows = _ids(old[table], row_key)
        g = lambda recs, col, rows=rows, row_key=row_key: _grid(recs, row_key, rows, fa, col)  # noqa: E731
        lab, rid = (row_key, "factor"), {row_key: rows}
        for col in fixed:
            outputs.append(compare_arrays(f"{table}.{col}", g(old[table], col), g(new[table], col), labels=lab,
                                          rows=rid, columns=fa, tolerance=tolerance, digits=BOOT_DIGITS))
        for col in exact:
            outputs.append(compare_arrays(f"{table}.{col}", g(old[table], col), g(new[table], col), labels=lab,
                                          rows=rid, columns=fa, exact=True, digits=0))
        for col in MC_COLUMNS:
            xa, xb = g(old[table], col), g(new[table], col)
            ea, eb = ((None if e is None or col not in e.get(table, {}) else
                       np.asarray(e[table][col], dtype=float)) for e in (se_old, se_new))
            if ea is None or eb is None or not ea.shape == eb.shape == xa.shape:
                skipped.append(f"{table}.{col}")
                continue
            se = np.sqrt(ea ** 2 + eb ** 2) if col in _MEANS else np.sqrt(2) * np.fmax(ea, eb)
            mc.append((f"{table}.{col}", xa, xb, se, lab, rid, fa))
        for col, ncol in freq.items():
            xa, xb = g(old[table], col), g(new[table], col)
            mc.append((f"{table}.{col}", xa, xb, _binomial_se(xa, xb, g(old[table], ncol), g(new[table], ncol)), lab,
                       rid, fa))
        # replicate counts as shares: of the used resamples; of the simulated participants (a sort's type, drawn
        # with replacement, n_sorts per sample) or of the simulated samples (a factor with a defining sort)
        per = len(rows) if table == "loadings" else 1
        for col, da, db in (("resample_n", used_a, used_b), ("n", oka * per, okb * per)):
            sa, sb = g(old[table], col) / max(da, 1), g(new[table], col) / max(db, 1)
            mc.append((f"{table}.{col}", sa, sb, _binomial_se(sa, sb, da, db), lab, rid, fa))
        later += [(f"{table}.{col}", g(old[table], col), g(new[table], col), lab, rid, fa) for col in derived]
    fra = {str(r["factor"]): r for r in old["factors"]}
    frb = {str(r["factor"]): r for r in new["factors"]}
    nua = np.array([[float(fra[f]["n_used"]) for f in fa]])
    nub = np.array([[float(frb[f]["n_used"]) for f in fa]])
    for col in (*_SHARES, "n_no_flags"):
        xa = np.array([[float(fra[f][col]) for f in fa]])
        xb = np.array([[float(frb[f][col]) for f in fa]])
        if col == "n_no_flags":
            xa, xb = xa / np.maximum(nua, 1), xb / np.maximum(nub, 1)
        mc.append((f"factors.{col}", xa, xb, _binomial_se(xa, xb, nua, nub), (None, "factor"), {}, fa))
    for col in _DERIVED_FACTORS:
        xa = np.array([[fra[f][col] for f in fa]], dtype=object)
        xb = np.array([[frb[f][col] for f in fa]], dtype=object)
        later.append((f"factors.{col}", xa, xb, (None, "factor"), {}, fa))
    m = int(sum(np.isfinite(x[3]).sum() for x in mc))
    z = mc_z(m, alpha)
    note = f"Monte-Carlo: {z:.2f} x {SE_INFLATION} SE ({m} cells, family-wise alpha {alpha:g})"
    identical = True
    for name, xa, xb, se, lab, rid, cols in mc:
        tol = np.where(np.isfinite(se), z * SE_INFLATION * se, 0.0) + tolerance
        o = compare_arrays(name, xa, xb, labels=lab, rows=rid, columns=cols, tolerance=tol, digits=BOOT_DIGITS,
                           note=note)
        identical &= not o.max_abs
        outputs.append(o)
    outputs += [OutputDiff(name, "float", "skipped", note="no Monte-Carlo errors of the replicates recorded")
                for name in skipped]
    for name, xa, xb, lab, rid, cols in later:
        if identical:
            outputs.append(compare_arrays(name, np.asarray(xa, dtype=object).astype(str),
                                          np.asarray(xb, dtype=object).astype(str), labels=lab, rows=rid,
                                          columns=cols, exact=True, digits=0))
        else:
            outputs.append(OutputDiff(name, "exact", "skipped", note="derived from Monte-Carlo estimates by ranks or "
                                      "thresholds, or measured against the parametric world's random truth: compared "
                                      "only when the replicates are identical"))
    ctx = {"kind": "bootstrap", "z": z, "alpha": alpha, "mc_cells": m, "identical": bool(identical),
           "n_resamples": (ba.get("n_resamples"), bb.get("n_resamples")), "seed": (ba.get("seed"), bb.get("seed"))}
    return Diff(tuple(names), tuple(outputs), Alignment(requested=False), 0.0, ctx, tuple(notes))


def compare_factors(old: dict, new: dict, *, tolerance: float = DEFAULT_TOLERANCE, digits: int = 2,
                    names=("snapshot", "now")) -> Diff:
    """Compare two number-of-factors JSON contracts: settings, options, study and suggestions exactly; every
    table (``criteria``, ``parallel``, ``map``, ``sensitivity``, ``bootstrap``) column by column, numbers at
    ``tolerance`` (classified at ``digits`` decimals), text, flags and counts exactly."""
    outputs = [
        _exact_dict("settings", {k: old.get(k) for k in ("nfactors", "max_k", "n_runs", "centile", "seed")},
                    {k: new.get(k) for k in ("nfactors", "max_k", "n_runs", "centile", "seed")}),
    ]
    notes = []
    outputs += [_options(old["options"], new["options"], notes), _exact_dict("study", old["study"], new["study"]),
                _exact_dict("suggestions", old["suggestions"], new["suggestions"])]
    for table in ("criteria", "parallel", "map", "sensitivity", "bootstrap"):
        ra, rb = old.get(table) or [], new.get(table) or []
        if not ra and not rb:
            continue
        key = next(iter(ra[0] if ra else rb[0]))
        ids_a = [str(r[key]) for r in ra]
        ids_b = [str(r[key]) for r in rb]
        cols = list(dict.fromkeys([c for r in ra for c in r] + [c for r in rb for c in r]))
        if ids_a != ids_b or any(set(r) != set(cols) for r in ra + rb):
            outputs.append(OutputDiff(table, "exact", "shape", n_reported=1,
                                      note=f"rows {', '.join(ids_a)} vs {', '.join(ids_b)} or columns differ"))
            continue
        for col in cols[1:]:
            va, vb = [r[col] for r in ra], [r[col] for r in rb]
            is_float = any(isinstance(v, float) for v in va + vb) and \
                all(v is None or (isinstance(v, (int, float)) and not isinstance(v, bool)) for v in va + vb)
            rows = {key: ids_a}
            if is_float:
                xa = np.array([[np.nan if v is None else float(v)] for v in va])
                xb = np.array([[np.nan if v is None else float(v)] for v in vb])
                outputs.append(compare_arrays(f"{table}.{col}", xa, xb, labels=(key, None), rows=rows,
                                              tolerance=tolerance, digits=digits))
            else:
                xa = np.array([[str(v)] for v in va], dtype=object)
                xb = np.array([[str(v)] for v in vb], dtype=object)
                outputs.append(compare_arrays(f"{table}.{col}", xa, xb, labels=(key, None), rows=rows, exact=True,
                                              digits=0))
    return Diff(tuple(names), tuple(outputs), Alignment(requested=False), 0.0, {"kind": "factors"}, tuple(notes))
