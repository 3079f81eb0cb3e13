"""The report's stability section, from a :class:`qvalid.bootstrap.BootstrapResult`: a plain verdict per factor
(Tucker congruence of the aligned replicates with the full-sample factor), flag frequencies and loading intervals
per Q-sort, and how often each statement keeps its place in the factor array."""

from __future__ import annotations

import numpy as np

from ._html import Raw, esc, num, table
from .figures import img

__all__ = ["summary", "render", "kept_within_one"]


def _word(verdict: str) -> str:
    """``"fairly stable: congruence ..."`` -> ``"fairly stable"``."""
    return str(verdict).split(":", 1)[0].strip()


_SHOW = 6  # least stable statements listed per factor
_PILL = {"stable": "ok", "fairly stable": "warn", "unstable": "bad"}


def _pct(x) -> str:
    return "\u2013" if x is None or x != x else f"{100 * float(x):.0f}%"


def summary(boot) -> dict:
    """Headline for the report's top card and the JSON: how many factors are stable."""
    f = boot.factors
    words = [_word(v) for v in f["verdict"]]
    n_stable = sum(w == "stable" for w in words)
    return {"headline": f"{n_stable} of {len(words)} factors stable",
            "sub": ", ".join(f"{name} {w}" for name, w in zip(f.index, words))
                   + f"; {boot.counts['used']} of {boot.n_resamples} resamples used",
            "verdicts": dict(zip(f.index, f["verdict"]))}


def render(rep) -> str:
    b = rep.bootstrap
    r = b.full
    c = b.counts
    f = b.factors
    out = [f"<p>The Q-sorts were resampled with replacement {b.n_resamples} times "
           f"({'balanced' if b.balanced else 'plain'} bootstrap of the {esc(b.resample)}, seed {b.seed}) and every "
           f"resample was analysed exactly as the full study; its factors were matched to the full-sample factors "
           f"({esc(b.align)} alignment). {c['used']} resamples entered the summaries"
           + (f", {c['failed']} failed" if c.get("failed") else "")
           + (f", {c['rejected']} were rejected by qindtest" if c.get("rejected") else "") + ".</p>",
           "<p>A factor is <em>stable</em> when a resample reproduces it with a Tucker congruence of at least 0.95 "
           "(\u201cequal\u201d, Lorenzo-Seva &amp; ten Berge 2006) in at least 95% of resamples, <em>fairly "
           "stable</em> at 0.85, and <em>unstable</em> otherwise.</p>"]
    out.append(_plain_verdict(b))
    rows = []
    for name, row in f.iterrows():
        w = _word(row["verdict"])
        rows.append([name, (num(row["congruence_median"], 3), "n"), (num(row["congruence_p05"], 3), "n"),
                     (_pct(row["share_095"]), "n"), (_pct(row["share_085"]), "n"), (num(row["fsi"], 2), "n"),
                     (str(int(row["n_no_flags"])), "n"),
                     (Raw(_pill(w) + esc(str(row["verdict"]).split(":", 1)[-1].strip())), "")])
    out.append('<div class="wide">' + table(
        ["factor", ("median congruence", "n"), ("5% quantile", "n"), ("\u2265 .95", "n"), ("\u2265 .85", "n"),
         ("FSI", "n"), ("no defining sort", "n"), "verdict"], rows, cls="stab",
        caption="Congruence of each resample's factor with the full-sample factor; FSI: qmethod's factor stability "
                "index (mean absolute change of array positions; 0 = unchanged)") + "</div>")
    out.append(img(b.congruence_figure(), "histograms of the Tucker congruence per factor",
                   "Tucker congruence of every resample's factor with the full-sample factor (dashed: 0.85, 0.95)."))
    out.append("<h3>Defining Q-sorts: how often each is flagged again</h3>")
    out.append(_flag_table(b))
    out.append(img(b.loading_intervals_figure(), "bootstrap intervals of the loadings",
                   f"Loadings: full sample (\u00d7), bootstrap mean (\u2022) and {b.ci:.0%} percentile interval "
                   "(bar), per factor."))
    out.append("<h3>Factor arrays: how often each statement keeps its place</h3>")
    out.append(_array_table(b))
    out.append(img(b.zscore_intervals_figure(), "bootstrap intervals of the z-scores",
                   f"Statement z-scores: full sample (\u00d7), bootstrap mean (\u2022) and {b.ci:.0%} percentile "
                   "interval (bar), per factor."))
    return "\n".join(out)


def kept_within_one(b) -> np.ndarray:
    """(n_statements, k): share of resamples whose array keeps the statement within one column."""
    return _wide(b, "zscores", "keep_within1")[0]


def _wide(b, table_name: str, *columns) -> list:
    """Columns of a bootstrap long table as (rows x factors) float arrays, rows in the study's order (pandas'
    ``unstack`` sorts the ids)."""
    ids = b.full.sort_ids if table_name == "loadings" else b.full.statement_ids
    return [b.wide(table_name, c).reindex(ids).to_numpy(dtype=float) for c in columns]


def _plain_verdict(b) -> str:
    """One box in plain words: how many factors are stable, which are not and how badly."""
    f = b.factors
    words = [_word(v) for v in f["verdict"]]
    k = len(words)
    stable = [n for n, w in zip(f.index, words) if w == "stable"]
    fair = [n for n, w in zip(f.index, words) if w == "fairly stable"]
    weak = [(n, r) for (n, r), w in zip(f.iterrows(), words) if w not in ("stable", "fairly stable")]
    if len(stable) == k:
        return (f'<div class="verdict ok"><strong>All {k} factors are stable:</strong> every one is reproduced '
                "with a congruence of at least 0.95 in at least 95% of resamples.</div>")
    parts = [f"<strong>{len(stable)} of {k} factors {'is' if len(stable) == 1 else 'are'} stable"
             + (f" ({', '.join(stable)})" if stable else "") + ".</strong>"]
    if fair:
        parts.append(f"Fairly stable (congruence \u2265 0.85 in at least 95% of resamples): {', '.join(fair)}.")
    if weak:
        parts.append(f"Unstable: {', '.join(n for n, _ in weak)}, reproduced at congruence \u2265 0.85 in only "
                     + ", ".join(f"{_pct(r['share_085'])} ({n})" for n, r in weak) + " of resamples.")
    lost = [(n, r["n_no_flags"] / max(r["n_used"], 1)) for n, r in f.iterrows()
            if r["n_no_flags"] / max(r["n_used"], 1) > 0.05]
    if lost:
        parts.append("Resamples often lose a factor's few defining Q-sorts altogether: "
                     + ", ".join(f"{n} in {_pct(x)}" for n, x in lost) + ".")
    parts.append("Interpret the unstable factors with care: another sample of participants from the same "
                 "population could well give a different factor there.")
    return f'<div class="verdict {"warn" if len(stable) + len(fair) else "bad"}">' + " ".join(parts) + "</div>"


def _pill(word: str) -> str:
    return f'<span class="pill {_PILL.get(word, "none")}">{esc(word)}</span> '


def _flag_table(b) -> str:
    r = b.full
    freq, lo, hi = _wide(b, "loadings", "flag_freq", "ci_low", "ci_high")
    rows = []
    for i, sid in enumerate(r.sort_ids):
        cells = [sid]
        for j in range(r.nfactors):
            cls = "n" + (" flag" if r.flags[i, j] else "")
            cells.append((f"{num(r.loadings[i, j], 2)} [{num(lo[i, j], 2)}, {num(hi[i, j], 2)}] "
                          f"{_pct(freq[i, j])}", cls))
        rows.append(cells)
    held = [(freq[:, j][r.flags[:, j]] >= 0.9).sum() for j in range(r.nfactors)]
    note = ("<p>Each cell: the full-sample loading, its bootstrap percentile interval and the share of resamples "
            "(that contain the Q-sort) in which it is flagged on that factor. Shaded cells are the full sample's "
            "defining sorts; "
            + ", ".join(f"{r.factors[j]}: {held[j]} of {int(r.flags[:, j].sum())}" for j in range(r.nfactors))
            + " of them are flagged again in at least 90% of resamples.</p>")
    return note + '<div class="wide">' + table(["Q-sort", *[(x, "n") for x in r.factors]], rows,
                                               cls="boot-loadings") + "</div>"


def _array_table(b) -> str:
    r = b.full
    exact, near, boot_arr = _wide(b, "zscores", "keep_exact", "keep_within1", "array_boot")
    rows = []
    for j in range(r.nfactors):
        ok = ~np.isnan(near[:, j])
        if not ok.any():
            rows.append([r.factors[j], ("\u2013", "n"), ("\u2013", "n"), ("\u2013", "n"), ("\u2013", "n"), ""])
            continue
        moved = np.flatnonzero(ok & (boot_arr[:, j] != r.factor_arrays[:, j]))
        weak = np.flatnonzero(ok & (near[:, j] < 0.8))
        weakest = weak[np.argsort(near[weak, j], kind="stable")][:_SHOW]
        listed = ", ".join(f"{r.statement_ids[i]} ({_pct(near[i, j])})" for i in weakest)
        rows.append([r.factors[j], (_pct(np.nanmean(exact[:, j])), "n"), (_pct(np.nanmean(near[:, j])), "n"),
                     (str(len(moved)), "n"), (str(len(weak)), "n"),
                     (listed + (", \u2026" if len(weak) > _SHOW else "")) or "none"])
    return ("<p>How often a resample's factor array puts a statement exactly where the full sample does, or "
            "within one column of it (averaged over statements); how many statements move in the bootstrapped "
            "array (statements ranked by their mean bootstrap z-score, as qmethod's qmboots); and the statements "
            "that stay within one column in fewer than 80% of resamples, least stable first.</p>"
            + '<div class="wide">' + table(["factor", ("same column", "n"), ("within one column", "n"),
                                            ("moved in bootstrapped array", "n"), ("kept < 80%", "n"),
                                            "least stable statements (kept within one column)"],
                                           rows, cls="boot-arrays") + "</div>")
