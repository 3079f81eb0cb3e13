"""Compare two Q solutions output by output: :func:`compare` builds a :class:`~qvalid.checks.diff.Diff`.

The checks follow numpy.testing's ladder: ids and shapes first, then the NaN pattern, then the exact outputs
(flags, factor arrays, qdc pairs, stars, labels, consensus set), then the floats within tolerance. Each output gets
its maximum absolute and relative difference and its worst cell named by sort, statement and factor ids.

Factors are aligned only when asked (``align=True``): the Hungarian assignment
(:func:`scipy.optimize.linear_sum_assignment`) on the absolute Tucker congruence of the loadings pairs the factors,
and the sign of each congruence gives the sign flips. The permutation and flips are reported; with qvalid's
``qmethod`` flavour against R qmethod none should be needed, and the report then says "no alignment needed".
"""

from __future__ import annotations

import math
import re
from dataclasses import replace

import numpy as np

from ..core.congruence import align_factors
from .diff import (CHAR_FLOATS, DEFAULT_TOLERANCE, EXACT_OUTPUTS, FLOAT_OUTPUTS, MAX_CELLS, PRINT_DIGITS, Alignment,
                   Cell, Diff, OutputDiff, printed)

__all__ = ["compare", "compare_arrays", "resolve_tolerances", "resolve_digits"]


def compare(a, b, *, align: bool = False, tolerances=None, rtol: float = 0.0, unavailable=None,
            names=("a", "b"), print_digits=None) -> Diff:
    """Compare two :class:`~qvalid.results.QResult` output by output.

    Parameters
    ----------
    a, b : QResult
        E.g. ``analyze(...)`` and ``qvalid.r.qmethod.as_result(run_qmethod(...))``. ``b`` plays numpy's DESIRED: relative
        differences are relative to ``b``.
    align : bool
        Match b's factors to a's (Hungarian assignment on absolute Tucker congruence of the loadings; signs from
        the congruence) before comparing; the permutation and flips are reported.
    tolerances : float or mapping, optional
        Absolute tolerance of the float outputs: one number for all, or ``{output: tol}`` with output names from
        :data:`FLOAT_OUTPUTS` (``"characteristics"`` sets all its fields; ``"*"`` sets the default).
        Default :data:`DEFAULT_TOLERANCE` (1e-10).
    rtol : float
        Relative tolerance added to the absolute one, numpy style: ``|a - b| <= atol + rtol |b|``.
    unavailable : mapping, optional
        Output -> reason for outputs known to be absent on one side (e.g. ``RRun.missing``: ``{"qdc": "R failed:
        ..."}``); they are reported as not compared instead of failing. Keys may be top-level names
        (``"qdc"``, ``"characteristics"``) or names of :data:`OUTPUT_NAMES`.
    names : (str, str)
        Labels of a and b in reports, e.g. ``("qvalid", "qmethod 1.8.4")``.
    print_digits : True or mapping, optional
        Classify every difference beyond tolerance as *reported* (it changes a value as printed with these decimals,
        or an exact output) or *numerical only* (:attr:`OutputDiff.klass`). True takes :data:`PRINT_DIGITS`; a
        mapping overrides some outputs (values may be arrays of decimals per cell, e.g. as a text printed them).
        None (default): not classified.

    Returns
    -------
    Diff
    """
    tol = resolve_tolerances(tolerances)
    digits = resolve_digits(print_digits)
    unavailable = dict(unavailable or {})
    rows_for = {"sort": list(a.sort_ids), "statement": list(a.statement_ids)}
    results: list[OutputDiff] = []

    def unavail(name: str) -> str | None:
        for key, reason in unavailable.items():
            if name == key or name.startswith(key + ".") or (key == "qdc" and name == "consensus"):
                return reason
        return None

    ids_ok = (list(a.sort_ids) == list(b.sort_ids) and list(a.statement_ids) == list(b.statement_ids)
              and a.nfactors == b.nfactors)
    if not ids_ok:
        what = []
        if list(a.sort_ids) != list(b.sort_ids):
            what.append(f"sort ids {_short(a.sort_ids)} vs {_short(b.sort_ids)}")
        if list(a.statement_ids) != list(b.statement_ids):
            what.append(f"statement ids {_short(a.statement_ids)} vs {_short(b.statement_ids)}")
        if a.nfactors != b.nfactors:
            what.append(f"{a.nfactors} vs {b.nfactors} factors")
        results.append(OutputDiff("ids", "exact", "shape", note="; ".join(what)))
        return Diff(tuple(names), tuple(results), Alignment(requested=align, note="ids differ: nothing aligned"),
                    rtol, _context(a, b), ())
    results.append(OutputDiff("ids", "exact", "ok", n_cells=len(a.sort_ids) + len(a.statement_ids) + 1))

    k = a.nfactors
    alignment = Alignment(requested=False)
    perm, signs = tuple(range(k)), (1,) * k
    uperm, usigns = perm, signs
    notes = []
    if align:
        la, lb = np.asarray(a.loadings, float), np.asarray(b.loadings, float)
        if np.isnan(la).any() or np.isnan(lb).any():
            alignment = Alignment(requested=True, note="not possible: loadings missing on one side")
        else:
            perm, signs, cong = align_factors(la, lb)
            ua, ub = np.asarray(a.unrotated_loadings, float), np.asarray(b.unrotated_loadings, float)
            if not (np.isnan(ua).any() or np.isnan(ub).any()):
                uperm, usigns, _ = align_factors(ua, ub)
            alignment = Alignment(requested=True, permutation=perm, signs=signs, congruence=cong,
                                  unrotated_permutation=uperm, unrotated_signs=usigns)
    s = np.array(signs, dtype=np.float64)
    p = list(perm)

    def cols(x, pp=p, ss=s):  # b's factor columns in a's order and signs
        with np.errstate(invalid="ignore"):
            return np.asarray(x, dtype=np.float64)[:, pp] * ss

    # --- matrices labelled by sorts / statements x factors
    fnames = [f"f{j + 1}" for j in range(k)]
    specs = [
        ("correlation", a.correlation, b.correlation, ("sort", "sort")),
        ("unrotated_loadings", a.unrotated_loadings, cols(b.unrotated_loadings, list(uperm),
                                                          np.array(usigns, float)), ("sort", "factor")),
        ("loadings", a.loadings, cols(b.loadings), ("sort", "factor")),
    ]
    for name, x, y, lab in specs:
        results.append(_maybe(name, unavail(name), lambda: _float(name, x, y, lab, rows_for, fnames, tol[name], rtol,
                                                                    digits=digits.get(name))))
    results.append(_maybe("flags", unavail("flags"), lambda: _exact(
        "flags", np.asarray(a.flags, bool), np.asarray(b.flags, bool)[:, p], ("sort", "factor"), rows_for, fnames)))
    results.append(_maybe("zscores", unavail("zscores"), lambda: _float("zscores", a.zscores, cols(b.zscores),
                                                             ("statement", "factor"), rows_for, fnames,
                                                             tol["zscores"], rtol, digits=digits.get("zscores"))))
    fa_b = cols(b.factor_arrays)
    if align and any(x < 0 for x in signs):
        grid = dict(a.study.grid)
        sym = all(grid.get(-v) == c for v, c in grid.items())
        notes.append("factor arrays of sign-flipped factors are compared negated"
                     + ("" if sym else " (the grid is not symmetric: expect differences)"))
    results.append(_maybe("factor_arrays", unavail("factor_arrays"), lambda: _exact(
        "factor_arrays", np.asarray(a.factor_arrays, float), fa_b, ("statement", "factor"), rows_for, fnames)))

    # --- characteristics
    ca, cb = a.characteristics, b.characteristics
    results.append(_maybe("characteristics.nload", unavail("characteristics.nload"), lambda: _exact(
        "characteristics.nload", np.asarray(ca.nload, float)[None, :], np.asarray(cb.nload, float)[None, p],
        (None, "factor"), rows_for, fnames)))
    scale = _variance_scale(b.loadings, p, a.study.n_sorts)
    for c in CHAR_FLOATS:
        nm = f"characteristics.{c}"
        results.append(_maybe(nm, unavail(nm), lambda: _float(
            nm, np.asarray(getattr(ca, c), float)[None, :], np.asarray(getattr(cb, c), float)[None, p],
            (None, "factor"), rows_for, fnames, tol[nm] * scale.get(c, 1.0), rtol,
            note=SCALED_NOTES.get(c, ""), digits=digits.get(nm))))
    ss = np.outer(s, s)
    with np.errstate(invalid="ignore"):
        czb = np.asarray(cb.cor_zsc, float)[np.ix_(p, p)] * ss
    results.append(_maybe("cor_zsc", unavail("cor_zsc"), lambda: _float(
        "cor_zsc", ca.cor_zsc, czb, ("factor", "factor"), rows_for,
        fnames, tol["cor_zsc"], rtol, digits=digits.get("cor_zsc"))))
    results.append(_maybe("sd_dif", unavail("sd_dif"), lambda: _float(
        "sd_dif", ca.sd_dif, np.asarray(cb.sd_dif, float)[np.ix_(p, p)], ("factor", "factor"), rows_for, fnames,
        tol["sd_dif"], rtol, digits=digits.get("sd_dif"))))

    # --- distinguishing and consensus statements
    results += _compare_qdc(a, b, p, signs, unavail, rows_for, tol["qdc.diffs"], rtol, notes,
                            digits.get("qdc.diffs"))
    if print_digits is not None:
        results = [_classify_exact(o) for o in results]

    ctx = _context(a, b)
    return Diff(tuple(names), tuple(results), alignment, rtol, ctx, tuple(notes))


def _classify_exact(o: OutputDiff) -> OutputDiff:
    """Every mismatch of an exact output is reported; floats were classified cell by cell in :func:`_float`."""
    if o.kind != "exact" or o.n_reported is not None:
        return o
    return replace(o, n_reported=0 if o.passed else max(o.n_bad, 1))


def resolve_digits(print_digits) -> dict:
    """Output -> decimals (int or array) for the classification; {} when not classifying."""
    if print_digits is None:
        return {}
    out = dict(PRINT_DIGITS)
    if print_digits is True:
        return out
    for key, val in dict(print_digits).items():
        targets = [n for n in FLOAT_OUTPUTS if n == key or n.startswith(key + ".")]  # "qdc": qdc.diffs
        if not targets:
            raise ValueError(f"unknown output {key!r} in print digits; known: {', '.join(FLOAT_OUTPUTS)}")
        v = np.asarray(val)
        if v.dtype.kind not in "iu" or (v < -15).any() or (v > 30).any():
            raise ValueError(f"print digits of {key} must be whole numbers in -15..30, got {val!r}")
        for n in targets:
            out[n] = int(v) if v.ndim == 0 else v
    return out


def compare_arrays(name: str, a, b, *, labels=(None, None), rows=None, columns=(), tolerance=DEFAULT_TOLERANCE,
                   rtol: float = 0.0, exact: bool = False, digits=None, note: str = "") -> OutputDiff:
    """Compare one labelled array of two results by the rules of :func:`compare` (exact, or within a tolerance that
    may be an array of one tolerance per cell) and return its :class:`OutputDiff`.

    ``labels`` names the kind of each axis: ``"factor"`` (names from ``columns``), a key of ``rows`` (a mapping kind
    -> ids, e.g. ``{"sort": [...]}``) or None; the worst cell is named by them (``sort US3, f2``). ``digits``
    classifies the differences as :func:`compare` does (``exact`` outputs: every mismatch is reported). With a
    per-cell ``tolerance`` the reported tolerance is its largest value and ``note`` should say how it was made.
    """
    rows_for = dict(rows or {})
    fnames = list(columns)
    if exact:
        out = _exact(name, a, b, tuple(labels), rows_for, fnames)
        if digits is not None:
            out = _classify_exact(out)
    else:
        out = _float(name, a, b, tuple(labels), rows_for, fnames, tolerance, rtol, digits=digits)
    return replace(out, note="; ".join(x for x in (out.note, note) if x)) if note else out


def _context(a, b) -> dict:
    st = a.study
    oa, ob = a.options, b.options
    title = (f"{st.name or st.source or 'study'} ({st.n_statements} statements x {st.n_sorts} Q-sorts"
             f"{'' if st.forced else ', non-forced'}), {a.nfactors} factor(s), {oa.extraction} + {oa.rotation}, "
             f"{oa.cor_method}" + (", manual flags" if a.manual_flags else ""))
    return {"title": title, "study": st.name or st.source, "nfactors": a.nfactors,
            "options_a": oa.to_dict(), "options_b": ob.to_dict()}


def _short(ids) -> str:
    ids = list(ids)
    return "[" + ", ".join(ids[:4]) + (", ..." if len(ids) > 4 else "") + f"] ({len(ids)})"


#: How the tolerance of a characteristic is scaled to its quantity (:func:`_variance_scale`); the tolerance given is
#: that of the loadings it is computed from.
SCALED_NOTES = {"eigenvals": "tolerance scaled: x max(1, 2 sum|a|) per factor",
                "expl_var": "tolerance scaled: x max(1, 2 sum|a|) x 100/n per factor"}


def _variance_scale(loadings, p, n_sorts: int) -> dict:
    """Per factor, the factor by which a loadings tolerance grows in the quantities made from the loadings:
    ``eigenvals`` = sum_i a_ij^2 moves by up to 2 sum_i |a_ij| times a loading's error (first order; at least 1),
    and ``expl_var`` = 100 eigenvals / n is the same in percent, times 100 / n. (Without this, a difference within
    rounding of the loadings and eigenvalues failed the percentages: issue 21, a near-null second centroid factor.)
    """
    a = np.asarray(loadings, dtype=np.float64)[:, list(p)]
    with np.errstate(invalid="ignore"):
        s = np.maximum(1.0, 2.0 * np.nan_to_num(np.abs(a)).sum(axis=0))
    return {"eigenvals": s[None, :], "expl_var": s[None, :] * (100.0 / n_sorts)}


def resolve_tolerances(tolerances) -> dict:
    out = {name: DEFAULT_TOLERANCE for name in FLOAT_OUTPUTS}
    if tolerances is None:
        return out
    if isinstance(tolerances, (int, float)):
        return {name: float(tolerances) for name in out}
    items = dict(tolerances)
    if "*" in items:
        star = float(items.pop("*"))
        out = {name: star for name in out}
    for key, val in items.items():
        targets = [n for n in FLOAT_OUTPUTS if n == key or n.startswith(key + ".")]
        if key == "qdc":
            targets = ["qdc.diffs"]
        if not targets:
            if key in EXACT_OUTPUTS:
                raise ValueError(f"{key} is compared exactly and takes no tolerance")
            raise ValueError(f"unknown output {key!r} in tolerances; known: {', '.join(FLOAT_OUTPUTS)}")
        v = float(val)
        if not v >= 0:
            raise ValueError(f"tolerance of {key} must be >= 0, got {val!r}")
        for n in targets:
            out[n] = v
    return out


def _maybe(name, reason, fn):
    if reason is not None:
        return OutputDiff(name, "float" if name in FLOAT_OUTPUTS else "exact", "unavailable", note=reason)
    return fn()


def _labels(kind, i, rows_for, fnames, pairs=None) -> str:
    if kind is None:
        return ""
    if kind == "factor":
        return fnames[i] if i < len(fnames) else f"f{i + 1}"
    if kind == "pair":
        return pairs[i]
    ids = rows_for[kind]
    return f"{kind} {ids[i] if i < len(ids) else '#' + str(i + 1)}"


def _where(lab, idx, rows_for, fnames, pairs=None) -> str:
    parts = [_labels(kind, i, rows_for, fnames, pairs) for kind, i in zip(lab, idx)]
    return ", ".join(x for x in parts if x)


def _float(name, x, y, lab, rows_for, fnames, atol, rtol, pairs=None, note: str = "", digits=None) -> OutputDiff:
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    shown = float(np.max(atol))  # a tolerance scaled per cell is reported by its largest value
    if x.shape != y.shape:
        return OutputDiff(name, "float", "shape", tolerance=shown, note=f"shapes {x.shape} vs {y.shape}",
                          n_reported=None if digits is None else 1)
    n = x.size
    nx, ny = np.isnan(x), np.isnan(y)
    both = ~nx & ~ny
    mism = []
    status = "ok"
    nan_bad = nx != ny
    if nan_bad.any():
        status = "nan"
        idxs = np.argwhere(nan_bad)
        note = f"NaN pattern differs in {len(idxs)} cell(s)"
        mism = [Cell(_where(lab, tuple(i), rows_for, fnames, pairs), tuple(int(v) for v in i), float(x[tuple(i)]),
                     float(y[tuple(i)])) for i in idxs[:MAX_CELLS]]
    d = np.where(both, np.abs(x - y), 0.0)
    big = both & (np.abs(np.where(both, y, 0.0)) > atol)  # relative differences only where |b| > atol
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(big, d / np.abs(np.where(big, y, 1.0)), 0.0)
    bad = both & (d > atol + rtol * np.abs(np.where(both, y, 0.0)))
    n_bad = int(bad.sum() + nan_bad.sum())
    worst = None
    max_abs = max_rel = None
    if both.any():
        max_abs = float(d.max())
        max_rel = float(rel.max())
        wi = tuple(int(v) for v in np.unravel_index(int(np.argmax(d)), d.shape))
    if both.any() and max_abs > 0:
        worst = Cell(_where(lab, wi, rows_for, fnames, pairs), wi, float(x[wi]), float(y[wi]), float(d[wi]))
    elif n and nx.all() and ny.all():
        note = note or "all NaN on both sides"
    if bad.any():
        if status == "ok":
            status = "differs"
        order = np.argsort(-np.where(bad, d, -1.0), axis=None, kind="stable")[: MAX_CELLS]  # the largest bad cells
        for flat in order:
            wi = tuple(int(v) for v in np.unravel_index(int(flat), d.shape))
            if bad[wi] and len(mism) < MAX_CELLS:
                mism.append(Cell(_where(lab, wi, rows_for, fnames, pairs), wi, float(x[wi]), float(y[wi]),
                                 float(d[wi])))
    n_rep = worst_rep = dig = None
    if digits is not None:  # reported: beyond tolerance (or a NaN pattern) and different as printed
        dig = int(np.min(digits))
        rep = nan_bad | (bad & (printed(np.where(both, x, 0.0), digits) != printed(np.where(both, y, 0.0), digits)))
        n_rep = int(rep.sum())
        if (rep & both).any():
            wi = tuple(int(v) for v in np.unravel_index(int(np.argmax(np.where(rep & both, d, -1.0))), d.shape))
            worst_rep = Cell(_where(lab, wi, rows_for, fnames, pairs), wi, float(x[wi]), float(y[wi]), float(d[wi]))
    return OutputDiff(name, "float", status, n, n_bad, max_abs, max_rel, shown, worst, tuple(mism), note,
                      n_rep, worst_rep, dig)


def _exact(name, x, y, lab, rows_for, fnames, pairs=None) -> OutputDiff:
    x = np.asarray(x)
    y = np.asarray(y)
    if x.shape != y.shape:
        return OutputDiff(name, "exact", "shape", note=f"shapes {x.shape} vs {y.shape}")
    if x.dtype.kind == "f" or y.dtype.kind == "f":
        xf, yf = x.astype(np.float64), y.astype(np.float64)
        nx, ny = np.isnan(xf), np.isnan(yf)
        bad = (nx != ny) | (~nx & ~ny & (xf != yf))
        conv = lambda v: None if (isinstance(v, float) and math.isnan(v)) else (int(v) if float(v).is_integer()
                                                                               else float(v))
        vals = lambda arr, i: conv(float(arr[i]))
    else:
        bad = x != y
        vals = lambda arr, i: arr[i].item() if hasattr(arr[i], "item") else arr[i]
    idxs = np.argwhere(bad)
    mism = tuple(Cell(_where(lab, tuple(int(v) for v in i), rows_for, fnames, pairs), tuple(int(v) for v in i),
                      vals(x, tuple(i)), vals(y, tuple(i))) for i in idxs[:MAX_CELLS])
    status = "differs" if len(idxs) else "ok"
    note = ""
    if x.dtype.kind == "f" and status != "ok":
        nan_bad = int((np.isnan(x.astype(float)) != np.isnan(y.astype(float))).sum())
        if nan_bad:
            status, note = "nan", f"NaN pattern differs in {nan_bad} cell(s)"
    return OutputDiff(name, "exact", status, int(x.size), int(len(idxs)), worst=mism[0] if mism else None,
                      mismatches=mism, note=note)


_FACTOR_RE = re.compile(r"f(\d+)")


def _compare_qdc(a, b, p, signs, unavail, rows_for, atol, rtol, notes, digits=None) -> list:
    names = ("qdc.pairs", "qdc.diffs", "qdc.stars", "qdc.labels", "consensus")
    da, db = a.distinguishing, b.distinguishing
    reason = unavail("qdc")
    if reason is not None:
        return [OutputDiff(n, "float" if n == "qdc.diffs" else "exact", "unavailable", note=reason) for n in names]
    if da is None and db is None:
        return [OutputDiff(n, "float" if n == "qdc.diffs" else "exact", "ok", note="absent on both sides")
                for n in names]
    if da is None or db is None:
        side = "first" if da is None else "second"
        return [OutputDiff(n, "float" if n == "qdc.diffs" else "exact", "absent",
                           note=f"no qdc table on the {side} side") for n in names]
    inv = {bj: aj for aj, bj in enumerate(p)}  # b's factor -> a's factor
    # b's pairs expressed in a's factor numbering
    mapped = []
    for (f, g) in db.pairs:
        af, ag = inv[f], inv[g]
        mapped.append((min(af, ag), max(af, ag), af > ag))
    pa = list(da.pairs)
    pb = [(m[0], m[1]) for m in mapped]
    fn = [f"f{j + 1}" for j in range(a.nfactors)]
    pair_names = [f"{fn[i]}_{fn[j]}" for i, j in pa]
    out = []
    if sorted(pa) != sorted(pb):
        note = f"pairs {', '.join(pair_names)} vs {', '.join(f'{fn[i]}_{fn[j]}' for i, j in pb)}"
        out.append(OutputDiff("qdc.pairs", "exact", "shape", note=note))
        return out + [OutputDiff(n, "float" if n == "qdc.diffs" else "exact", "skipped",
                                 note="pair sets differ") for n in names[1:]]
    out.append(OutputDiff("qdc.pairs", "exact", "ok", n_cells=len(pa)))
    order = [pb.index(pq) for pq in pa]
    flip = np.array([(-1.0 if mapped[j][2] else 1.0) for j in order])
    sa = np.array(signs, dtype=float)
    same_sign = np.array([sa[i] == sa[j] for i, j in pa], dtype=bool)
    col_sign = np.array([sa[i] for i, _ in pa]) * flip
    ydiff = np.asarray(db.diffs, float)[:, order] * col_sign
    xdiff = np.asarray(da.diffs, float)
    ystars = np.asarray(db.stars, dtype=object)[:, order]
    xstars = np.asarray(da.stars, dtype=object)
    lab = ("statement", "pair")
    if not same_sign.all():
        keep = same_sign
        notes.append("qdc: pairs of factors with different sign flips are not comparable and were left out")
        xdiff, ydiff, xstars, ystars = xdiff[:, keep], ydiff[:, keep], xstars[:, keep], ystars[:, keep]
        pair_names = [nm for nm, k in zip(pair_names, keep) if k]
    if digits is not None and np.ndim(digits) and not same_sign.all():
        digits = np.asarray(digits)[:, same_sign]
    out.append(_float("qdc.diffs", xdiff, ydiff, lab, rows_for, fn, atol, rtol, pairs=pair_names, digits=digits))
    out.append(_exact("qdc.stars", xstars.astype(str), ystars.astype(str), lab, rows_for, fn, pairs=pair_names))
    if not same_sign.all():
        out += [OutputDiff(n, "exact", "skipped", note="sign flips change the significance pattern")
                for n in names[3:]]
        return out
    relabel = (lambda s: _FACTOR_RE.sub(lambda m: fn[inv[int(m.group(1)) - 1]], s)) \
        if p != list(range(len(p))) else (lambda s: s)
    la = np.array([str(x) for x in da.labels], dtype=object)
    lb = np.array([relabel(str(x)) for x in db.labels], dtype=object)
    out.append(_exact("qdc.labels", la[:, None], lb[:, None], ("statement", None), rows_for, fn))
    ca, cb = la == "Consensus", lb == "Consensus"
    only = np.flatnonzero(ca != cb)
    mism = tuple(Cell(f"statement {a.statement_ids[i]}", (int(i),), bool(ca[i]), bool(cb[i]))
                 for i in only[:MAX_CELLS])
    out.append(OutputDiff("consensus", "exact", "differs" if len(only) else "ok", n_cells=int(len(la)),
                          n_bad=int(len(only)), worst=mism[0] if mism else None, mismatches=mism,
                          note=(f"consensus: {int(ca.sum())} vs {int(cb.sum())} statements" if len(only) else
                                f"{int(ca.sum())} consensus statement(s)")))
    return out
