"""The report's stability section, from a :class:`qvalid.stability.BootstrapResult`: per factor the probability that
another sample of participants recovers it and the calibrated verdict; per Q-sort the interval of its population
loading and how often a participant like it defines the factor; per statement how often it keeps its column.
What the numbers mean and how they were calibrated: docs/bootstrap.md, docs/calibration.md."""

from __future__ import annotations

import numpy as np

from ..stability.verdict import FAIR_P85, STABLE_P95
from ._html import Raw, esc, num, table
from .figures import img

__all__ = ["summary", "render", "kept_within_one"]

_SHOW = 6  # least stable statements listed per factor
_PILL = {"stable": "ok", "fairly stable": "warn", "unstable": "bad"}
_ORDER = ("stable", "fairly stable", "unstable")


def _pct(x) -> str:
    return "\u2013" if x is None or x != x else f"{100 * float(x):.0f}%"


def _band(p, lo, hi) -> str:
    return "\u2013" if p != p else f"{_pct(p)} ({_pct(lo)}\u2013{_pct(hi)})"


def summary(boot) -> dict:
    """Headline for the report's top card and the JSON: how many factors are stable, fairly stable, unstable."""
    f = boot.factors
    words = list(f["verdict"])
    if not boot.calibrated:
        head = "no calibrated verdict"
    else:
        head = ", ".join(f"{sum(w == x for w in words)} {x}" for x in _ORDER if x in words) + f" (of {len(words)})"
    sub = ", ".join(f"{name} {w}" + ("" if r.p_085 != r.p_085 else f" ({_pct(r.p_085)} \u2265 .85)")
                    for (name, r), w in zip(f.iterrows(), words))
    return {"headline": head, "sub": sub + f"; {boot.counts['total']} resamples",
            "verdicts": dict(zip(f.index, f["verdict_text"]))}


def render(rep) -> str:
    b = rep.bootstrap
    c = b.counts
    pc = b.parametric_counts
    out = [f"<p>How far would each factor and each statement's place move in another sample of participants from the "
           f"same population? Two bootstraps answer it. The Q-sorts were resampled {b.n_resamples} times "
           f"({'balanced' if b.balanced else 'plain'} bootstrap of the {esc(b.resample)}, seed {b.seed}, "
           f"{esc(b.align)} alignment"
           + (f"; {c['failed']} resamples failed and count as not reproducing any factor" if c["failed"] else "")
           + (f"; {c['rejected']} were rejected by qindtest" if c["rejected"] else "")
           + "): how often a resample reproduces a factor gives, through a curve calibrated on simulated "
           "populations with known truth, the probability that another sample recovers it. "
           + (f"Then {pc['total']} samples of {b.full.study.n_sorts} new participants were simulated from the fitted "
              "solution and analysed the same way (a parametric bootstrap: unlike resampling, it never duplicates "
              "a participant, and it knows its own truth): they give the intervals of loadings and z-scores, how "
              "often each Q-sort's kind of participant defines a factor and how often statements keep their column."
              if pc else "No parametric bootstrap was run: the intervals below are the resampling's percentiles, "
              "which are too wide near 0 and miss the statements that define a viewpoint (docs/calibration.md).")
           + "</p>"]
    out += [f"<p>{esc(n)}</p>" for n in b.notes]
    out.append(f"<p><em>stable</em>: another sample would very likely (probability \u2265 {STABLE_P95:.0%}) find the "
               f"same factor, congruence \u2265 0.95 (\u201cequal\u201d, Lorenzo-Seva &amp; ten Berge 2006); "
               f"<em>fairly stable</em>: likely (\u2265 {FAIR_P85:.0%}) a similar factor, congruence \u2265 0.85; "
               "<em>unstable</em>: another sample may well not find it. In brackets: the range the probability "
               "took across the populations of the calibration study (90 %).</p>")
    out.append(_plain_verdict(b))
    rows = []
    f = b.factors
    for name, row in f.iterrows():
        w = row["verdict"]
        rows.append([name, Raw(_pill(w)), (_band(row.p_095, row.p_095_low, row.p_095_high), "n"),
                     (_band(row.p_085, row.p_085_low, row.p_085_high), "n"),
                     (f"{_pct(row.share_095)} / {_pct(row.share_085)}", "n"),
                     (_pct(row.n_no_flags / max(c["total"], 1)), "n"), (num(row.array_r, 2), "n")])
    out.append('<div class="wide">' + table(
        ["factor", "verdict", ("P(congruence \u2265 .95)", "n"), ("P(\u2265 .85)", "n"),
         ("resamples \u2265 .95 / .85", "n"), ("no defining sort", "n"), ("array r", "n")], rows, cls="stab",
        caption="P: probability that another sample recovers the factor (calibrated); resamples: raw share of "
                "resamples reproducing the full-sample factor; no defining sort: share of resamples in which it "
                "had none; array r: mean correlation of a simulated sample's factor array with the population's") +
        "</div>")
    out.append(img(b.congruence_figure(), "histograms of the Tucker congruence per factor",
                   "Tucker congruence of every resample's factor with the full-sample factor (dashed: 0.85, 0.95)."))
    out.append("<h3>Defining Q-sorts: their population loadings, and how often such a participant defines the "
               "factor</h3>")
    out.append(_flag_table(b))
    out.append(img(b.loading_intervals_figure(), "intervals of the loadings",
                   f"Loadings: study (\u00d7), population estimate (\u2022) and {b.ci:.0%} interval (bar), per "
                   "factor."))
    out.append("<h3>Factor arrays: how often each statement keeps its column</h3>")
    out.append(_array_table(b))
    out.append(img(b.zscore_intervals_figure(), "intervals of the z-scores",
                   f"Statement z-scores: study (\u00d7), population estimate (\u2022) and {b.ci:.0%} interval of "
                   "the population z-score (bar), per factor."))
    return "\n".join(out)


def kept_within_one(b) -> np.ndarray:
    """(n_statements, k): share of samples whose array keeps the statement within one column of its place (the
    parametric bootstrap's, else the resampling's)."""
    col = "keep_within1" if b.parametric is not None else "resample_keep_within1"
    return _wide(b, "zscores", col)[0]


def _wide(b, table_name: str, *columns) -> list:
    """Columns of a bootstrap long table as (rows x factors) float arrays, rows in the study's order (pandas'
    ``unstack`` sorts the ids)."""
    ids = b.full.sort_ids if table_name == "loadings" else b.full.statement_ids
    return [b.wide(table_name, c).reindex(ids).to_numpy(dtype=float) for c in columns]


def _plain_verdict(b) -> str:
    """One box in plain words: which factors another sample would find, which it may not."""
    f = b.factors
    if not b.calibrated:
        return ('<div class="verdict none"><strong>No calibrated verdict.</strong> The calibration covers resampling '
                f"of the Q-sorts with Hungarian or Procrustes alignment; this bootstrap resampled the "
                f"{esc(b.resample)} with {esc(b.align)} alignment.</div>")
    groups = {w: [n for n, x in zip(f.index, f["verdict"]) if x == w] for w in _ORDER}
    k = len(f)
    parts = []
    if groups["stable"]:
        parts.append(f"<strong>Stable: {', '.join(groups['stable'])}</strong> \u2013 another sample of "
                     f"{b.full.study.n_sorts} participants would very likely find the same factor.")
    if groups["fairly stable"]:
        parts.append(f"<strong>Fairly stable: {', '.join(groups['fairly stable'])}</strong> \u2013 another sample "
                     "would likely find a similar factor, though not necessarily the same one.")
    if groups["unstable"]:
        parts.append(f"<strong>Unstable: {', '.join(groups['unstable'])}</strong> \u2013 another sample may well "
                     "not find " + ("it" if len(groups["unstable"]) == 1 else "them") + " (probability of a "
                     "similar factor " + ", ".join(f"{_pct(f.loc[n, 'p_085'])} for {n}" for n in groups["unstable"])
                     + "). Interpret with care.")
    lost = [(n, r.n_no_flags / max(b.counts["total"], 1)) for n, r in f.iterrows()
            if r.n_no_flags / max(b.counts["total"], 1) > 0.05]
    if lost:
        parts.append("Resamples often lose a factor's few defining Q-sorts altogether: "
                     + ", ".join(f"{n} in {_pct(x)}" for n, x in lost) + ".")
    cls = "ok" if len(groups["stable"]) == k else ("bad" if len(groups["unstable"]) == k else "warn")
    return f'<div class="verdict {cls}">' + " ".join(parts) + "</div>"


def _pill(word: str) -> str:
    return f'<span class="pill {_PILL.get(word, "none")}">{esc(word)}</span>'


def _flag_table(b) -> str:
    r = b.full
    par = b.parametric is not None
    cols = ("flag_freq", "ci_low", "ci_high") if par else ("resample_flag_freq", "resample_ci_low",
                                                            "resample_ci_high")
    freq, lo, hi = _wide(b, "loadings", *cols)
    rows = []
    for i, sid in enumerate(r.sort_ids):
        cells = [sid]
        for j in range(r.nfactors):
            cls = "n" + (" flag" if r.flags[i, j] else "")
            cells.append((f"{num(r.loadings[i, j], 2)} [{num(lo[i, j], 2)}, {num(hi[i, j], 2)}] "
                          f"{_pct(freq[i, j])}", cls))
        rows.append(cells)
    held = [(freq[:, j][r.flags[:, j]] >= 0.9).sum() for j in range(r.nfactors)]
    if par:
        note = ("<p>Each cell: the study's loading, the interval of the participant's loading on the population "
                "factor, and how often a new participant like this one (simulated from the fitted solution) is "
                "flagged on that factor. ")
    else:
        note = ("<p>Each cell: the study's loading, the resampling percentile interval and the share of resamples "
                "(that contain the Q-sort) in which it is flagged; a sort drawn twice is flagged more often than "
                "one drawn once, so these shares are biased (docs/calibration.md). ")
    note += ("Shaded cells are the study's defining sorts; "
             + ", ".join(f"{r.factors[j]}: {held[j]} of {int(r.flags[:, j].sum())}" for j in range(r.nfactors))
             + " of them are flagged again in at least 90% of samples.</p>")
    return note + '<div class="wide">' + table(["Q-sort", *[(x, "n") for x in r.factors]], rows,
                                               cls="boot-loadings") + "</div>"


def _array_table(b) -> str:
    r = b.full
    par = b.parametric is not None
    if par:
        exact, near, move2 = _wide(b, "zscores", "keep_exact", "keep_within1", "move2")
    else:
        exact, near = _wide(b, "zscores", "resample_keep_exact", "resample_keep_within1")
        move2 = 1 - near
    rows = []
    for j in range(r.nfactors):
        ok = ~np.isnan(near[:, j])
        if not ok.any():
            rows.append([r.factors[j], ("\u2013", "n"), ("\u2013", "n"), ("\u2013", "n"), ("\u2013", "n"), ""])
            continue
        weak = np.flatnonzero(ok & (near[:, j] < 0.8))
        weakest = weak[np.argsort(near[weak, j], kind="stable")][:_SHOW]
        listed = ", ".join(f"{r.statement_ids[i]} ({_pct(near[i, j])})" for i in weakest)
        rows.append([r.factors[j], (_pct(np.nanmean(exact[:, j])), "n"), (_pct(np.nanmean(near[:, j])), "n"),
                     (_pct(np.nanmean(move2[:, j])), "n"), (str(len(weak)), "n"),
                     (listed + (", \u2026" if len(weak) > _SHOW else "")) or "none"])
    what = ("another sample's factor array (simulated) puts a statement in the population's column, within one "
            "column, or two or more columns away" if par else
            "a resample's factor array puts a statement where the full sample does, or within one column")
    return (f"<p>How often {what} (averaged over statements), and the statements kept within one column in fewer "
            "than 80% of samples, least stable first.</p>"
            + '<div class="wide">' + table(["factor", ("same column", "n"), ("within one column", "n"),
                                            ("moved \u2265 2", "n"), ("kept < 80%", "n"),
                                            "least stable statements (kept within one column)"],
                                           rows, cls="boot-arrays") + "</div>")
