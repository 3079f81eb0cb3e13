"""The report's sections, one function each: ``(report) -> HTML``. Texts are written for a researcher who knows
Q methodology but has never seen qvalid; numbers come straight from the result objects."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ..core.psych_rotate import PSYCH_ROTATIONS
from ..options import options_differing
from ..study import format_score, grid_text
from ._html import Raw, esc, num, table
from .figures import img, short_text, zscore_figure
from .stability import kept_within_one, render

__all__ = ["SECTIONS", "distinguishing_mask"]

#: p-value of each star label of qmethod's qdc (R/qdc.R:37-45).
_P = {"*": "p < .05", "**": "p < .01", "***": "p < .001", "****": "p < .000001 (one-sided; qmethod 1.5.2-1.5.4)",
      "6*": "p < .000001"}


# ---------------------------------------------------------------------- shared views
def distinguishing_mask(result) -> np.ndarray:
    """Bool (n_statements, k): the statement distinguishes factor f (its z-score differs at p < .05 from that on
    every other compared factor), the one definition of
    :func:`qvalid.core.characteristics.distinguishing_masks`, read from the result's qdc table."""
    d = result.distinguishing
    if d is None:
        return np.zeros((result.study.n_statements, result.nfactors), dtype=bool)
    return d.masks(result.nfactors)[0]


def _pair_star(result, i: int, f: int, g: int) -> str:
    d = result.distinguishing
    for p, (a, b) in enumerate(d.pairs):
        if {a, b} == {f, g}:
            return str(d.stars[i, p])
    return ""


def _fname(j: int) -> str:
    return f"f{j + 1}"


def _array(v) -> str:
    return "\u2013" if v is None or (isinstance(v, float) and math.isnan(v)) else \
        format_score(int(v)).replace("-", "\u2212")


def _text(result, i: int) -> str:
    t = result.study.statement_texts
    return t[i].strip() if t else ""


def _has_texts(result) -> bool:
    return bool(result.study.statement_texts) and any(t.strip() for t in result.study.statement_texts)


def _defined(result) -> np.ndarray:
    """Factors with at least one flagged Q-sort (the others have no z-scores)."""
    return result.flags.any(axis=0)


def _rotation_words(r) -> str:
    """The rotation as the report's line: "varimax (Kaiser normalisation, as stats::varimax)", "oblimin
    (GPArotation::oblimin, oblique: pattern loadings and factor correlations)", then the hand steps."""
    o = r.options
    if o.rotation == "varimax":
        words = "varimax (Kaiser normalisation, as stats::varimax)"
    elif o.rotation == "none":
        words = "none"
    else:
        words = f"{o.rotation} ({PSYCH_ROTATIONS[o.rotation][1]}" + (
            ", oblique: pattern loadings and factor correlations)" if r.factor_correlations is not None else ")")
    if r.rotation_steps:
        words += ", then " + r.rotation_text.split(", then ", 1)[1] + " (judgmental, KADE's clockwise degrees)"
    return words


def _opts_text(result) -> str:
    o = result.options
    ext = {"pca": "principal components (psych::principal)", "centroid": "centroid (Hermans, as qmethod)"}
    rot = "unrotated" if o.rotation == "none" and not result.rotation_steps else result.rotation_text
    return (f"{result.nfactors} factors, {ext.get(o.extraction, o.extraction)}, {rot}, {o.cor_method} "
            "correlations")


# ---------------------------------------------------------------------- sections
def glance(rep) -> str:
    """The cards at the top: solution, defining sorts, stability, cross-check."""
    r = rep.result
    c = r.characteristics
    n_def = int(r.flags.any(axis=1).sum())
    cards = [("Solution", f"{r.nfactors} factors, {num(float(np.sum(c.expl_var)), 0)}% variance",
              _opts_text(r).split(", ", 1)[1]),
             ("Defining Q-sorts", f"{n_def} of {r.study.n_sorts}",
              " / ".join(f"{_fname(j)}: {int(c.nload[j])}" for j in range(r.nfactors)) + f"; {flag_short(r)}")]
    b = rep.bootstrap_summary()
    if b is None:
        cards.append(("Stability", "not assessed", "run with --bootstrap N"))
    else:
        cards.append(("Stability", b["headline"], b["sub"]))
    x = rep.crosscheck_summary()
    cards.append(("Cross-check with R qmethod", x["headline"], x["sub"]))
    out = ['<div class="glance">']
    for label, value, sub in cards:
        out.append(f'<div class="card"><div class="label">{esc(label)}</div><div class="value">{esc(value)}</div>'
                   f'<div class="sub">{esc(sub)}</div></div>')
    out.append("</div>")
    return "\n".join(out)


def study(rep) -> str:
    r = rep.result
    s = r.study
    o = r.options
    facts = [
        ("Study", s.name or (Path(s.source).stem if s.source else "(unnamed)")),
        ("Source file", s.source or "(in memory)"),
        ("Statements (Q-set)", f"{s.n_statements}" + (" with wordings" if _has_texts(r) else " (no wordings given)")),
        ("Participants (Q-sorts)", str(s.n_sorts)),
        ("Distribution", f"{'forced' if s.forced else 'free (not forced)'}, {grid_text(s.grid)}"),
    ]
    analysis = [
        ("Factors extracted", str(r.nfactors)),
        ("Correlation between Q-sorts", {"pearson": "Pearson", "spearman": "Spearman",
                                        "kendall": "Kendall tau-b"}.get(o.cor_method, o.cor_method)),
        ("Extraction", {"pca": "principal components (as psych::principal in R qmethod)",
                        "centroid": f"centroid (Hermans' algorithm, as R qmethod; communality tolerance {o.spc:g}"
                                    + ("; exactly tied column sums reflected one at a time" if
                                       o.centroid_ties == "strict" else "") + ")"}
         .get(o.extraction, o.extraction)),
        ("Rotation", _rotation_words(r)),
        ("Flagging (defining Q-sorts)", _flag_words(r)),
        ("Factor scores", "weighted averages of the flagged Q-sorts (weights a/(1\u2212a\u00b2)), as z-scores"),
        ("Factor arrays", "z-scores ranked into the grid ("
         + ("qmethod's tie rule" if o.array_ties == "mean-rank" else "strict: always the grid") + ")"),
        ("Distinguishing statements", "difference of z-scores against the standard error of differences "
                                      "(p < .05, .01, .001), as R qmethod's qdc"),
        ("Differs from R qmethod's defaults", _changed_options(r) or "nothing"),
    ]
    out = ["<p>The data: every participant sorted the same statements into a fixed distribution, from most "
           "disagree to most agree. Each Q-sort is one column of scores; factors group participants whose sorts "
           "are alike.</p>",
           '<div class="wide">' + table(("Data", ""), facts, cls="kv") + "</div>",
           _grid_shape(s.grid),
           '<div class="wide">' + table(("Analysis", ""), analysis, cls="kv") + "</div>"]
    if r.warnings:
        out.append('<div class="verdict warn"><strong>Warnings from the analysis</strong><ul class="warnlist">'
                   + "".join(f"<li>{esc(w)}</li>" for w in r.warnings) + "</ul></div>")
    return "\n".join(out)


def _changed_options(r) -> str:
    """The options that differ from the qmethod preset (R qmethod 1.8.4), as ``name=value``."""
    return ", ".join(f"{n}={getattr(r.options, n)!r}" for n in options_differing(r.options))


def _flag_words(r) -> str:
    if r.manual_flags:
        return "set by hand (manual flags)"
    o = r.options
    return (o.flag_rule_of(r.study.n_statements).text(value=True, unicode=True)
            + (" (p < .05)" if o.threshold is None else "")
            + (": the squared loading a\u00b2 exceeds the sum of the other factors' squared loadings (majority of "
               "common variance)" if o.majority else ""))


def flag_short(r) -> str:
    """:attr:`QResult.flag_rule` in words for the page: ``|loading| ≥ 0.42 + majority rule``."""
    if r.manual_flags:
        return "flags set by hand"
    return r.options.flag_rule_of(r.study.n_statements).text(unicode=True)


def _grid_shape(grid) -> str:
    """The distribution as a small picture: one column of empty cells per score."""
    mx = max(grid.values())
    cols = []
    for score, cells in grid.items():
        boxes = "".join('<div class="cell" style="height:12px;padding:0"></div>' for _ in range(cells))
        cols.append(f'<div class="col"><div class="head">{esc(_array(score))}</div>{boxes}</div>')
    width = min(46 * len(grid), 620)
    return (f'<div class="qgrid noText" style="max-width:{width}px;margin:6px 0 14px">'
            f'<div class="sub">The forced distribution: {sum(grid.values())} cells, at most {mx} per column</div>'
            f'<div class="cols">{"".join(cols)}</div></div>')


def loadings(rep) -> str:
    r = rep.result
    h2 = (r.loadings ** 2).sum(axis=1)
    head = ["Q-sort", *[(_fname(j), "n") for j in range(r.nfactors)], ("h\u00b2", "n"), "defines"]
    rows = []
    for i, sid in enumerate(r.sort_ids):
        cells = [sid]
        for j in range(r.nfactors):
            a = float(r.loadings[i, j])
            cls = "n" + (" flag" if r.flags[i, j] else "") + (" neg" if a < 0 and r.flags[i, j] else "")
            cells.append((num(a, 2), cls))
        cells.append((num(h2[i], 2), "n"))
        defs = [_fname(j) for j in range(r.nfactors) if r.flags[i, j]]
        cells.append((", ".join(defs), "") if defs else ("none", "dimc"))
        rows.append(cells)
    nload = r.characteristics.nload
    rows.append([(Raw("<strong>defining sorts</strong>"), "")]
                + [(str(int(nload[j])), "n") for j in range(r.nfactors)] + [("", ""), ("", "")])
    none = [sid for i, sid in enumerate(r.sort_ids) if not r.flags[i].any()]
    multi = [sid for i, sid in enumerate(r.sort_ids) if r.flags[i].sum() > 1]
    neg = [f"{r.sort_ids[i]} ({_fname(j)})" for i, j in zip(*np.nonzero(r.flags & (r.loadings < 0)))]
    notes = [f"Flagged cells (shaded, \u2713) are the <em>defining</em> Q-sorts of a factor: {esc(_flag_words(r))}. "
             "Only they enter the factor's scores. h\u00b2 is the communality: the share of a Q-sort's variance "
             "the factors explain together."]
    if none:
        notes.append(f"{len(none)} Q-sort(s) define no factor: {esc(', '.join(none))}.")
    if multi:
        notes.append(f"Flagged on more than one factor (confounded): {esc(', '.join(multi))}.")
    if neg:
        notes.append(f"Flagged with a negative loading (they define the factor's mirror image and enter its scores "
                     f"with a negative weight; check them): {esc(', '.join(neg))}.")
    if r.factor_correlations is not None:
        notes.append(f"The rotation is oblique ({esc(r.options.rotation)}): the loadings are the pattern "
                     "(regression weights of the Q-sorts on correlated factors; h\u00b2 is their sum of squares, "
                     "not the communality) and the factors correlate as in the table below.")
    out = ("<p>" + " ".join(notes) + "</p>"
           + '<div class="wide">' + table(head, rows, cls="loadings") + "</div>")
    if r.factor_correlations is not None:
        phi = r.factor_correlations
        out += ('<div class="wide">' + table(["factor correlations", *[(_fname(j), "n") for j in range(r.nfactors)]],
                                             [[_fname(i)] + [(num(float(phi[i, j]), 2), "n")
                                                             for j in range(r.nfactors)]
                                              for i in range(r.nfactors)], cls="loadings") + "</div>")
    return out


def arrays(rep) -> str:
    r = rep.result
    mask = distinguishing_mask(r)
    cons = r.distinguishing.consensus if r.distinguishing is not None else np.zeros(r.study.n_statements, bool)
    texts = _has_texts(r)
    out = ["<p>A factor array is the Q-sort a participant would have made who loaded 100% on the factor: the "
           "statements' factor z-scores ranked into the study's distribution. Read each grid like a completed "
           "Q-sort, from most disagree (left) to most agree (right); within a column, statements are listed by "
           "z-score, highest at the top."
           + (" Cells show the statement number and the start of its wording (the full wording is in the tooltip "
              "and in the tables below)." if texts else " Cells show statement ids.") + "</p>",
           '<div class="legend"><span><span class="sw" style="background:var(--dist);border-color:#e0a050">'
           '</span>distinguishing for this factor (p &lt; .05 against every other factor; \u25b2/\u25bc: placed '
           'higher/lower than on every other factor)</span><span><span class="sw" style="background:var(--cons);'
           'border-style:dashed"></span>consensus statement (no factor pair differs)</span></div>']
    z = np.asarray(r.zscores, float)
    kept = None
    if rep.bootstrap is not None:
        kept = kept_within_one(rep.bootstrap)
    for j in range(r.nfactors):
        c = r.characteristics
        head = (f"<h3>Factor {j + 1} ({_fname(j)})</h3><div class=\"sub\">{int(c.nload[j])} defining Q-sort(s), "
                f"{num(c.expl_var[j], 1)}% of the variance, composite reliability {num(c.reliability[j], 2)}</div>")
        if not r.flags[:, j].any():
            out.append(f'<div class="qgrid">{head}<p class="note">No Q-sort is flagged on this factor, so it has no '
                       "scores and no array.</p></div>")
            continue
        cols = []
        fa = np.asarray(r.factor_arrays[:, j], float)
        for score in r.study.grid:
            idx = np.flatnonzero(fa == score)
            idx = idx[np.argsort(-z[idx, j], kind="stable")]
            cells = []
            for i in idx:
                cls = "cell" + (" dist" if mask[i, j] else "") + (" cons" if cons[i] else "")
                mark = ""
                if mask[i, j]:
                    others = [k for k in range(r.nfactors) if k != j and not np.isnan(z[i, k])]
                    if others and all(z[i, j] > z[i, k] for k in others):
                        mark = "\u25b2"
                    elif others and all(z[i, j] < z[i, k] for k in others):
                        mark = "\u25bc"
                tip = f"{r.statement_ids[i]}: {_text(r, i)} (z = {z[i, j]:.2f}" if texts else \
                    f"{r.statement_ids[i]} (z = {z[i, j]:.2f}"
                tip += ")" if kept is None else f"; within one column in {100 * kept[i, j]:.0f}% of samples)"
                body = f'<span class="id">{esc(r.statement_ids[i])}' + \
                       (f'<span class="mark">{mark}</span>' if mark else "") + "</span>"
                if texts:
                    body += f'<span class="tx">{esc(short_text(_text(r, i), 90))}</span>'
                cells.append(f'<div class="{cls}" title="{esc(tip)}">{body}</div>')
            cols.append(f'<div class="col"><div class="head">{esc(_array(score))}</div>{"".join(cells)}</div>')
        broken = sorted(np.unique(fa[~np.isnan(fa)]).tolist()) != sorted(set(r.study.grid)) or any(
            int((fa == s).sum()) != n for s, n in r.study.grid.items())
        warn = ('<p class="note">This array does not fill the grid exactly: qmethod\'s tie rule put tied z-scores '
                'on the same value (use --array-ties strict for an array that always fits).</p>' if broken else "")
        out.append(f'<div class="qgrid{"" if texts else " noText"}">{head}<div class="cols">{"".join(cols)}</div>'
                   f"{warn}</div>")
    return "\n".join(out)


def zscores(rep) -> str:
    r = rep.result
    mask = distinguishing_mask(r)
    fig = zscore_figure(r, mask)
    out = ["<p>Every statement's z-score on every factor. Statements are ordered by how much the factors "
           "disagree on them (standard deviation of their z-scores across factors), most contested at the top; "
           "filled markers are distinguishing for that factor.</p>",
           img(fig, "dot plot of the z-scores of every statement on every factor",
               "Z-scores by statement and factor (as R qmethod's plot(results)).")]
    d = r.distinguishing
    head = ["#", *(["statement"] if _has_texts(r) else []),
            *[(f"{_fname(j)} z (array)", "n") for j in range(r.nfactors)], "qmethod's label"]
    rows = []
    for i, sid in enumerate(r.statement_ids):
        row = [sid] + ([(_text(r, i), "text")] if _has_texts(r) else [])
        for j in range(r.nfactors):
            row.append((f"{num(r.zscores[i, j], 2)} ({_array(r.factor_arrays[i, j])})",
                        "n" + (" flag" if mask[i, j] else "")) if not math.isnan(r.zscores[i, j]) else ("\u2013", "n"))
        row.append(("NA" if d.labels[i] is None else str(d.labels[i]).strip()) if d is not None else "")
        rows.append(row)
    out.append(f"<details><summary>All {r.study.n_statements} statements: z-scores, array positions and qmethod's "
               "distinguishing/consensus labels</summary>"
               '<div class="wide">' + table(head, rows, cls="zs") + "</div></details>")
    return "\n".join(out)


def distinguishing(rep) -> str:
    r = rep.result
    d = r.distinguishing
    if d is None:
        return ('<div class="verdict none">Fewer than two factors have defining Q-sorts, so no statement can be '
                "compared between factors.</div>")
    mask = distinguishing_mask(r)
    texts = _has_texts(r)
    out = ["<p>A statement <em>distinguishes</em> a factor when its z-score there differs from its z-score on "
           "every other factor by more than the standard error of the difference allows (at p &lt; .05; stars: "
           "* p &lt; .05, ** p &lt; .01, *** p &lt; .001, 6* p &lt; .000001). A <em>consensus</em> statement "
           "differs between no pair of factors: every viewpoint places it alike.</p>"]
    for j in d.factors:
        idx = np.flatnonzero(mask[:, j])
        idx = idx[np.argsort(-np.asarray(r.zscores[idx, j], float), kind="stable")]
        others = [k for k in d.factors if k != j]
        out.append(f"<h3>Factor {j + 1}: {len(idx)} distinguishing statement(s)</h3>")
        if not len(idx):
            out.append('<p class="note">None.</p>')
            continue
        head = ["#", *(["statement"] if texts else []), (f"{_fname(j)}", "n"),
                *[(f"{_fname(k)}", "n") for k in others], *[f"vs {_fname(k)}" for k in others]]
        rows = []
        for i in idx:
            rows.append([r.statement_ids[i], *([(_text(r, i), "text")] if texts else []),
                         (f"{_array(r.factor_arrays[i, j])} ({num(r.zscores[i, j], 2)})", "n flag"),
                         *[(f"{_array(r.factor_arrays[i, k])} ({num(r.zscores[i, k], 2)})", "n") for k in others],
                         *[_pair_star(r, i, j, k) for k in others]])
        out.append('<div class="wide">' + table(head, rows, cls="dist",
                                                caption="array position (z-score); stars: significance of the "
                                                        "difference to each other factor") + "</div>")
    cons = np.flatnonzero(d.consensus)
    out.append(f"<h3>Consensus statements: {len(cons)}</h3>")
    if len(cons):
        head = ["#", *(["statement"] if texts else []),
                *[(f"{_fname(k)}", "n") for k in d.factors]]
        rows = [[r.statement_ids[i], *([(_text(r, i), "text")] if texts else []),
                 *[(f"{_array(r.factor_arrays[i, k])} ({num(r.zscores[i, k], 2)})", "n") for k in d.factors]]
                for i in cons]
        out.append('<div class="wide">' + table(head, rows, cls="cons",
                                                caption="array position (z-score) on each factor") + "</div>")
    else:
        out.append('<p class="note">No statement is placed alike by every factor.</p>')
    return "\n".join(out)


def characteristics(rep) -> str:
    r = rep.result
    c = r.characteristics
    f = [_fname(j) for j in range(r.nfactors)]
    rows = [
        ["defining Q-sorts", *[(str(int(v)), "n") for v in c.nload]],
        ["eigenvalue (sum of squared loadings, rotated)", *[(num(v, 2), "n") for v in c.eigenvals]],
        ["explained variance, %", *[(num(v, 1), "n") for v in c.expl_var]],
        ["unrotated eigenvalue", *[(num(v, 2), "n") for v in r.unrotated_eigenvalues]],
        ["unrotated explained variance, %", *[(num(v, 1), "n") for v in r.unrotated_expl_var]],
        ["composite reliability", *[(num(v, 3), "n") for v in c.reliability]],
        ["standard error of factor z-scores", *[(num(v, 3), "n") for v in c.se_fscores]],
    ]
    out = [f"<p>Together the {r.nfactors} rotated factors explain {num(float(np.sum(c.expl_var)), 1)}% of the "
           "variance (the same total as the unrotated factors: rotation only redistributes it). Composite "
           f"reliability is p\u00b7c / (1 + (p \u2212 1)\u00b7c) for p defining Q-sorts and an average "
           f"reliability c = {c.av_rel_coef[0]:g} (Spearman-Brown, Brown 1980 p. 244); the standard error of the z-scores follows from it and sets the threshold for "
           "distinguishing statements.</p>",
           '<div class="wide">' + table(["", *[(x, "n") for x in f]], rows, cls="char") + "</div>"]
    cor_rows = [[f[a], *[(num(c.cor_zsc[a, b], 2), "n") for b in range(r.nfactors)]] for a in range(r.nfactors)]
    sed_rows = [[f[a], *[(num(c.sd_dif[a, b], 3), "n") for b in range(r.nfactors)]] for a in range(r.nfactors)]
    out.append('<div style="display:flex;flex-wrap:wrap;gap:36px">'
               + table(["", *[(x, "n") for x in f]], cor_rows,
                       caption="Correlations between factor z-scores (high values: factors that overlap)")
               + table(["", *[(x, "n") for x in f]], sed_rows,
                       caption="Standard errors of differences (SED) between factors")
               + "</div>")
    return "\n".join(out)


def stability(rep) -> str:
    b = rep.bootstrap
    if b is None:
        return ('<div class="verdict none">No bootstrap was run: this report does not say how stable the factors '
                "are. Run it again with <code>--bootstrap 1000</code> to resample the Q-sorts and see which "
                "factors, flags and array positions hold.</div>")

    return render(rep)


def crosscheck(rep) -> str:
    x = rep.crosscheck_summary()
    d = rep.crosscheck
    if d is None:
        return (f'<div class="verdict none"><strong>Not cross-checked.</strong> {esc(rep.crosscheck_note)}</div>'
                "<p>Everything else in this report was computed by qvalid alone, which reproduces R qmethod 1.8.4 to "
                "about 1e-13 on its reference studies (see the project's golden files).</p>")
    dd = d.to_dict()
    cls = "ok" if d.ok else "bad"
    out = [f'<div class="verdict {cls}"><strong>{esc(x["verdict"])}</strong> {esc(x["detail"])}</div>',
           "<p>The same study was analysed a second time, live, by R's qmethod package (through rpy2), with the "
           "same options, and every output was compared: floats within an absolute tolerance, flags, arrays, "
           "stars and labels exactly.</p>"]
    rows = []
    for o in dd["outputs"]:
        if o["kind"] == "exact":
            diff = f"{o['n_bad']} differ" if o["n_cells"] else "\u2013"
            tol = "exact"
        else:
            diff = "\u2013" if o["max_abs"] is None else ("0" if o["max_abs"] == 0 else
                                                          f"{o['max_abs']:.1e}".replace("-", "\u2212"))
            tol = f"{o['tolerance']:g}"
        ok = o["passed"]
        status = o["status"] + (f" ({o['note']})" if o["note"] else "")
        rows.append([o["name"], (str(o["n_cells"] or "\u2013"), "n"), (diff, "n"), (tol, "n"),
                     (status, "okc" if ok and o["status"] == "ok" else ("dimc" if ok else "badc"))])
    out.append('<div class="wide">' + table(["output", ("cells", "n"), ("max |difference|", "n"),
                                             ("tolerance", "n"), "status"], rows, cls="xc") + "</div>")
    ctx = dd.get("context", {})
    if ctx.get("call"):
        out.append(f"<p class=\"note\">R call:</p><pre>{esc(ctx['call'])}</pre>")
    notes = ([rep.crosscheck_note] if rep.crosscheck_note else []) + list(dd.get("notes", []))
    if notes:
        out.append("<ul>" + "".join(f"<li>{esc(n)}</li>" for n in notes) + "</ul>")
    return "\n".join(out)


#: Readable names of qvalid.factors' criteria (``FactorsResult.suggestions`` keys); others are shown as they are.
_CRITERIA = {
    "kaiser": "Kaiser-Guttman: eigenvalue > 1",
    "humphrey": "Humphrey's rule (Brown 1980 p. 223)",
    "significant_loadings": "\u2265 2 significant loadings on every factor",
    "defining_sorts": "\u2265 2 defining Q-sorts on every factor",
    "horst": "Horst: residual correlations (PQMethod horst55)",
    "parallel_grid": "parallel analysis: random sorts on the study's grid",
    "parallel_normal": "parallel analysis: normal noise",
    "parallel_revised": "revised parallel analysis (Green et al. 2012)",
    "map": "Velicer's MAP",
    "map4": "Velicer's MAP (fourth powers)",
    "parallel_centroid": "parallel analysis of centroid sums of squares",
    "parallel_revised_centroid": "revised parallel analysis, centroid",
}
#: Columns of ``FactorsResult.criteria`` shown in the table (those present), with their headers.
_CRITERIA_COLUMNS = (("eigenvalue", "eigenvalue"), ("cum_pct", "cumulative %"), ("kaiser", "Kaiser"),
                     ("humphrey", "Humphrey"), ("defining", "defining sorts"), ("horst", "Horst: go on"),
                     ("pa", "PA grid"), ("rpa", "revised PA"), ("pa_centroid", "PA centroid"))
_DIGITS = {"cum_pct": 1}


def number_of_factors(rep) -> str:
    fr = rep.factors
    k = rep.result.nfactors
    out = [f"<p>Does the study support {k} factors? qvalid.factors weighs the usual criteria for every number of "
           f"factors side by side; the row of the {k}-factor solution analysed here is shaded. Each criterion's "
           "own count is in the first table; the full printout, with definitions and sources, is below.</p>"]
    sug = getattr(fr, "suggestions", None) or {}
    if sug:
        rows = [[_CRITERIA.get(c, c), (str(v), "n hl" if v == k else "n")] for c, v in sug.items()]
        agree = [c for c, v in sug.items() if v == k]
        out.append(f"<p>{len(agree)} of {len(sug)} criteria count exactly {k} factors; the counts range from "
                   f"{min(sug.values())} to {max(sug.values())}.</p>")
        out.append(table(["criterion", ("number of factors it supports", "n")], rows, cls="kv"))
    fig = getattr(fr, "scree_figure", None)
    if fig is not None:
        out.append(img(fig(), "scree plot with parallel analysis",
                       "Scree plot: observed eigenvalues against random studies on the same grid (parallel "
                       "analysis) and Kaiser's line."))
    crit = getattr(fr, "criteria", None)
    if crit is not None:
        cols = [(c, h) for c, h in _CRITERIA_COLUMNS if c in crit.columns] or [(c, c) for c in crit.columns]
        head = ["k", *[(h, "n") for _, h in cols]]
        rows = [[(str(ix), "hl" if ix == k else ""),
                 *[(_fmt_cell(crit.at[ix, c], _DIGITS.get(c, 3)), "n hl" if ix == k else "n") for c, _ in cols]]
                for ix in crit.index]
        out.append('<div class="wide">' + table(head, rows, cls="crit") + "</div>")
    if hasattr(fr, "summary"):
        out.append(f"<details><summary>The full printout of qvalid factors</summary><pre>{esc(fr.summary())}</pre>"
                   "</details>")
    return "\n".join(out)


def _fmt_cell(v, digits: int = 3) -> str:
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else "no"
    if isinstance(v, (int, np.integer, str)):
        return str(v)
    try:
        return num(float(v), digits)
    except (TypeError, ValueError):
        return str(v)


def reproduce(rep) -> str:
    rows = [[k, (str(v), "mono")] for k, v in rep.versions().items()]
    out = ["<p>Run this command in the qvalid project directory to get this report again (same inputs, options "
           "and seed give the same numbers):</p>",
           f"<pre>{esc(rep.command or '(report built from Python; no command line recorded)')}</pre>",
           '<div class="wide">' + table(["software", "version"], rows, cls="kv") + "</div>"]
    inputs = rep.input_files()
    if inputs:
        out.append(table(["input file", "sha256"], [[p, (h, "mono")] for p, h in inputs.items()], cls="kv"))
    return "\n".join(out)


#: (id, title, renderer, shown-when) in page order; ``shown-when`` takes the report.
SECTIONS = (
    ("study", "Study and options", study, None),
    ("loadings", "Loadings, flags and communalities", loadings, None),
    ("arrays", "Factor arrays", arrays, None),
    ("zscores", "Z-scores across factors", zscores, None),
    ("distinguishing", "Distinguishing and consensus statements", distinguishing, None),
    ("characteristics", "Factor characteristics", characteristics, None),
    ("number-of-factors", "Number of factors", number_of_factors, lambda rep: rep.factors is not None),
    ("stability", "Stability: bootstrap", stability, None),
    ("crosscheck", "Cross-check against R qmethod", crosscheck, None),
    ("reproduce", "Versions and how to reproduce", reproduce, None),
)
