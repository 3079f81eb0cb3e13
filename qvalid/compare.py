"""Compare two Q solutions output by output: :func:`compare` builds a :class:`Diff`, which renders as text,
markdown, JSON or a test-failure message.

The checks follow numpy.testing's ladder: ids and shapes first, then the NaN pattern, then the exact outputs
(flags, factor arrays, qdc pairs, stars, labels, consensus set), then the floats within tolerance. Each output gets
its maximum absolute and relative difference and its worst cell named by sort, statement and factor ids.

Factors are aligned only when asked (``align=True``): the Hungarian assignment
(:func:`scipy.optimize.linear_sum_assignment`) on the absolute Tucker congruence of the loadings pairs the factors,
and the sign of each congruence gives the sign flips. The permutation and flips are reported; with qvalid's
``qmethod`` flavour against R qmethod none should be needed, and the report then says "no alignment needed".
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import asdict, dataclass, field

import numpy as np

__all__ = ["compare", "Diff", "OutputDiff", "Cell", "Alignment", "align_factors", "align_to", "tucker_congruence",
           "DEFAULT_TOLERANCE", "FLOAT_OUTPUTS", "EXACT_OUTPUTS", "OUTPUT_NAMES"]

#: Default absolute tolerance of every float output (qvalid's contract with R qmethod 1.8.4).
DEFAULT_TOLERANCE = 1e-10

_CHAR_FLOATS = ("av_rel_coef", "eigenvals", "expl_var", "reliability", "se_fscores")

#: Outputs compared within a tolerance.
FLOAT_OUTPUTS = ("correlation", "unrotated_loadings", "loadings", "zscores",
                 *(f"characteristics.{c}" for c in _CHAR_FLOATS), "cor_zsc", "sd_dif", "qdc.diffs")
#: Outputs compared for exact equality.
EXACT_OUTPUTS = ("ids", "flags", "factor_arrays", "characteristics.nload", "qdc.pairs", "qdc.stars", "qdc.labels",
                 "consensus")
#: Every output in report order.
OUTPUT_NAMES = ("ids", "correlation", "unrotated_loadings", "loadings", "flags", "zscores", "factor_arrays",
                "characteristics.nload", *(f"characteristics.{c}" for c in _CHAR_FLOATS), "cor_zsc", "sd_dif",
                "qdc.pairs", "qdc.diffs", "qdc.stars", "qdc.labels", "consensus")

_MAX_CELLS = 5


# ---------------------------------------------------------------------- structures
@dataclass(frozen=True)
class Cell:
    """One compared cell: where it is (by ids) and both values."""

    where: str
    index: tuple
    a: object
    b: object
    abs_diff: float | None = None


@dataclass(frozen=True)
class OutputDiff:
    """The comparison of one output.

    ``status``: "ok" (within tolerance / equal, or absent on both sides), "differs" (beyond tolerance / unequal),
    "nan" (NaN pattern differs), "shape" (shapes, ids or pair sets differ), "absent" (present on one side only),
    "unavailable" (one side could not compute it for a known reason, e.g. R failed: not compared, not a failure),
    "skipped" (not comparable under the alignment used).
    """

    name: str
    kind: str
    status: str
    n_cells: int = 0
    n_bad: int = 0
    max_abs: float | None = None
    max_rel: float | None = None
    tolerance: float | None = None
    worst: Cell | None = None
    mismatches: tuple = ()
    note: str = ""

    @property
    def passed(self) -> bool:
        return self.status in ("ok", "unavailable", "skipped")

    @property
    def compared(self) -> bool:
        return self.status not in ("unavailable", "skipped")


@dataclass(frozen=True)
class Alignment:
    """Factor matching of b onto a: a's factor j is b's factor ``permutation[j]`` times ``signs[j]``."""

    requested: bool
    permutation: tuple = ()
    signs: tuple = ()
    congruence: tuple = ()
    unrotated_permutation: tuple = ()
    unrotated_signs: tuple = ()
    note: str = ""

    @property
    def identity(self) -> bool:
        return (self.permutation == tuple(range(len(self.permutation))) and all(s > 0 for s in self.signs)
                and self.unrotated_permutation == tuple(range(len(self.unrotated_permutation)))
                and all(s > 0 for s in self.unrotated_signs))

    def describe(self, names=("a", "b")) -> str:
        if not self.requested:
            return "alignment: not requested (factors compared in the order and signs given)"
        if self.note and not self.permutation:
            return f"alignment: {self.note}"
        if self.identity:
            phi = ", ".join(f"{c:.4f}" for c in self.congruence)
            return f"alignment: no alignment needed (identity; Tucker congruences {phi})"
        parts = []
        for label, perm, signs in (("rotated", self.permutation, self.signs),
                                   ("unrotated", self.unrotated_permutation, self.unrotated_signs)):
            if perm == tuple(range(len(perm))) and all(s > 0 for s in signs):
                continue
            pairs = [f"f{j + 1}={'-' if s < 0 else ''}f{p + 1}" for j, (p, s) in enumerate(zip(perm, signs))]
            parts.append(f"{label}: {names[0]} " + " ".join(pairs) + f" of {names[1]}")
        flips = sum(s < 0 for s in self.signs)
        return (f"alignment: {'; '.join(parts)} ({flips} sign flip(s); congruences "
                + ", ".join(f"{c:+.4f}" for c in self.congruence) + ")" + (f"; {self.note}" if self.note else ""))


@dataclass(frozen=True)
class Diff:
    """The comparison of two Q solutions ``a`` and ``b``: one :class:`OutputDiff` per output.

    Render with :meth:`to_text` (a compact table), :meth:`to_markdown`, :meth:`to_json` / :meth:`to_dict`, or
    :meth:`message` (a numpy.testing-style failure message).
    """

    names: tuple
    outputs: tuple
    alignment: Alignment
    rtol: float = 0.0
    context: dict = field(default_factory=dict)
    notes: tuple = ()

    @property
    def ok(self) -> bool:
        """True when every compared output is within tolerance (unavailable outputs do not count)."""
        return all(o.passed for o in self.outputs)

    @property
    def failures(self) -> tuple:
        return tuple(o for o in self.outputs if not o.passed)

    def __getitem__(self, name: str) -> OutputDiff:
        for o in self.outputs:
            if o.name == name:
                return o
        raise KeyError(name)

    def __contains__(self, name) -> bool:
        return any(o.name == name for o in self.outputs)

    def __bool__(self):  # a Diff is truthy when the solutions agree
        return self.ok

    def max_abs(self) -> dict:
        """Output name -> max absolute difference (floats; None when not compared)."""
        return {o.name: o.max_abs for o in self.outputs if o.kind == "float"}

    def with_notes(self, *notes, **context) -> "Diff":
        from dataclasses import replace

        return replace(self, notes=self.notes + tuple(n for n in notes if n), context={**self.context, **context})

    # ---------------------------------------------------------------- renderers
    def summary_line(self) -> str:
        n = sum(o.compared for o in self.outputs)
        skipped = [o.name for o in self.outputs if not o.compared]
        if self.ok:
            s = f"AGREE: all {n} compared outputs within tolerance"
        else:
            s = f"DIFFER: {len(self.failures)} of {n} compared outputs beyond tolerance: " + \
                ", ".join(o.name for o in self.failures)
        if skipped:
            s += f" ({len(skipped)} not compared: {', '.join(skipped)})"
        return s

    def _header(self) -> list[str]:
        c = self.context
        lines = [f"{self.names[0]} vs {self.names[1]}" + (f": {c['title']}" if c.get("title") else "")]
        if c.get("versions"):
            lines.append("versions: " + ", ".join(f"{k} {str(v).removeprefix('R version ')}"
                                                  for k, v in c["versions"].items()))
        if c.get("call"):
            lines.append(f"R call: {c['call']}")
        lines.append(self.alignment.describe(self.names))
        return lines

    def _rows(self):
        for o in self.outputs:
            tol = "exact" if o.kind == "exact" else (_g(o.tolerance) + (f"+{_g(self.rtol)}r" if self.rtol else ""))
            if o.kind == "exact" and o.compared and o.status not in ("absent",):
                diff = f"{o.n_bad} differ" if o.n_cells else "-"
                rel = ""
            else:
                diff, rel = _g(o.max_abs), _g(o.max_rel)
            worst = o.worst.where if o.worst is not None else ""
            if o.status == "unavailable":
                status = "not compared (R failed, see below)" if o.note.startswith("R failed") else \
                    "not compared (see below)"
            elif o.status == "ok":
                status = f"ok ({o.note})" if o.note else "ok"
            else:
                status = f"{o.status}: {o.note}" if o.note else o.status
            yield o.name, str(o.n_cells) if o.n_cells else "-", diff, rel, tol, worst, status

    def to_text(self) -> str:
        """A compact table a person can read at a glance."""
        head = ("output", "cells", "max abs", "max rel", "tolerance", "worst cell", "status")
        rows = list(self._rows())
        w = [max(len(head[i]), *(len(r[i]) for r in rows)) for i in range(6)]
        w[5] = min(w[5], 34)
        fmt = lambda r: (f"{r[0]:<{w[0]}}  {r[1]:>{w[1]}}  {r[2]:>{w[2]}}  {r[3]:>{w[3]}}  {r[4]:<{w[4]}}  "
                         f"{_cut(r[5], w[5]):<{w[5]}}  {r[6]}")
        lines = self._header() + ["", fmt(head)] + [fmt(r) for r in rows] + [""]
        lines += self._details()
        lines += [f"not compared: {r}" for r in self._unavailable_reasons()]
        lines += [f"note: {n}" for n in self.notes]
        lines.append(self.summary_line())
        return "\n".join(lines)

    def _details(self) -> list[str]:
        out = []
        for o in self.failures:
            out.append(f"{o.name}: {o.status}" + (f" ({o.note})" if o.note else "")
                       + (f", {o.n_bad} of {o.n_cells} cells" if o.n_cells else ""))
            for c in o.mismatches:
                out.append(f"  {c.where}: {_v(c.a)} ({self.names[0]}) vs {_v(c.b)} ({self.names[1]})"
                           + (f", |diff| {_g(c.abs_diff)}" if c.abs_diff is not None else ""))
        return out + ([""] if out else [])

    def _unavailable_reasons(self) -> list[str]:
        reasons = {}
        for o in self.outputs:
            if o.status == "unavailable":
                reasons.setdefault(o.note, []).append(o.name)
        return [f"{', '.join(v)}: {k}" for k, v in reasons.items()]

    def to_markdown(self) -> str:
        head = ("output", "cells", "max abs", "max rel", "tolerance", "worst cell", "status")
        lines = [f"**{line}**" if i == 0 else line for i, line in enumerate(self._header())]
        rule = "|" + "|".join(["---"] + ["---:"] * 3 + ["---"] * 3) + "|"
        lines = [lines[0]] + [f"- {x}" for x in lines[1:]] + ["", "| " + " | ".join(head) + " |", rule]
        for r in self._rows():
            lines.append("| " + " | ".join(x.replace("|", "\\|") for x in r) + " |")
        details = self._details()
        if details:
            lines += ["", "```"] + [d for d in details if d] + ["```"]
        lines += [""] + [f"- not compared: {r}" for r in self._unavailable_reasons()]
        lines += [f"- note: {n}" for n in self.notes] + ["", f"**{self.summary_line()}**"]
        return "\n".join(lines)

    def to_dict(self) -> dict:
        def out(o: OutputDiff):
            d = asdict(o)
            d["passed"] = o.passed
            d["worst"] = None if o.worst is None else _cell_dict(o.worst)
            d["mismatches"] = [_cell_dict(c) for c in o.mismatches]
            for key in ("max_abs", "max_rel", "tolerance"):
                d[key] = _jnum(d[key])
            return d

        return {"names": list(self.names), "ok": self.ok, "summary": self.summary_line(), "rtol": self.rtol,
                "alignment": {**asdict(self.alignment), "identity": self.alignment.identity,
                              "text": self.alignment.describe(self.names)},
                "outputs": [out(o) for o in self.outputs], "context": _jsonable(self.context),
                "notes": list(self.notes)}

    def to_json(self, **kw) -> str:
        return json.dumps(self.to_dict(), allow_nan=False, **kw)

    def message(self, header: str = "") -> str:
        """A numpy.testing-style message: tolerance, mismatched outputs, then per output the count of mismatched
        cells, the worst cell by ids with both values, max absolute and relative differences."""
        tol = sorted({o.tolerance for o in self.outputs if o.kind == "float" and o.tolerance is not None})
        lines = [(header + "\n" if header else "")
                 + f"Q solutions not equal to tolerance rtol={_g(self.rtol)}, atol={'/'.join(_g(t) for t in tol)}"
                 + f" ({self.names[0]} vs {self.names[1]})",
                 self.alignment.describe(self.names)]
        n = sum(o.compared for o in self.outputs)
        fails = self.failures
        lines.append(f"Mismatched outputs: {len(fails)} / {n}: " + ", ".join(o.name for o in fails))
        for o in fails:
            lines.append(f"{o.name} ({o.status}" + (f": {o.note}" if o.note else "") + ")")
            if o.n_cells:
                lines.append(f" Mismatched elements: {o.n_bad} / {o.n_cells} ({100 * o.n_bad / o.n_cells:.3g}%)")
            if o.kind == "float" and o.worst is not None:
                lines.append(f" Max absolute difference: {_g(o.max_abs)} at {o.worst.where}: {_v(o.worst.a)} "
                             f"({self.names[0]}), {_v(o.worst.b)} ({self.names[1]})")
                lines.append(f" Max relative difference: {_g(o.max_rel)}")
            for c in o.mismatches[: _MAX_CELLS]:
                lines.append(f" Mismatch at {c.where}: {_v(c.a)} ({self.names[0]}), {_v(c.b)} ({self.names[1]})")
        lines += [f"note: {x}" for x in self.notes]
        return "\n".join(lines)

    def __str__(self):
        return self.to_text()


def _cell_dict(c: Cell) -> dict:
    return {"where": c.where, "index": list(c.index), "a": _jsonable(c.a), "b": _jsonable(c.b),
            "abs_diff": _jnum(c.abs_diff)}


def _jnum(x):
    return None if x is None or (isinstance(x, float) and not math.isfinite(x)) else x


def _jsonable(x):
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return _jsonable(x.tolist())
    if isinstance(x, (np.bool_,)):
        return bool(x)
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, (float, np.floating)):
        return None if not math.isfinite(float(x)) else float(x)
    return x


def _g(x) -> str:
    if x is None:
        return ""
    if isinstance(x, float) and math.isnan(x):
        return "nan"
    if x == 0:
        return "0"
    return f"{x:.2g}" if abs(x) < 1e-3 or abs(x) >= 1e4 else f"{x:.3g}"


def _v(x) -> str:
    if isinstance(x, (float, np.floating)):
        return "NaN" if math.isnan(x) else repr(float(x))
    if isinstance(x, str):
        return repr(x)
    return str(x)


def _cut(s: str, w: int) -> str:
    return s if len(s) <= w else s[: w - 1] + "~"


# ---------------------------------------------------------------------- alignment
def tucker_congruence(x, y) -> np.ndarray:
    """Tucker's congruence coefficients between the columns of x and y: phi_ij = x_i'y_j / sqrt(x_i'x_i y_j'y_j).

    x, y of shape (..., n, k): a leading batch dimension gives one (k, k) matrix per item (the bootstrap).
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    num = np.swapaxes(x, -1, -2) @ y
    den = np.sqrt((x * x).sum(axis=-2)[..., :, None] * (y * y).sum(axis=-2)[..., None, :])
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / den, 0.0)


def align_factors(a_loadings, b_loadings) -> tuple[tuple, tuple, tuple]:
    """Match b's factors to a's: Hungarian assignment maximising total |congruence|, sign = sign of congruence.

    Returns ``(permutation, signs, congruence)``: a's factor j corresponds to ``signs[j]`` times b's factor
    ``permutation[j]``, with signed congruence ``congruence[j]``.
    """
    from scipy.optimize import linear_sum_assignment

    phi = tucker_congruence(a_loadings, b_loadings)
    rows, cols = linear_sum_assignment(-np.abs(phi))
    perm = tuple(int(c) for c in cols[np.argsort(rows)])
    cong = tuple(float(phi[j, p]) for j, p in enumerate(perm))
    signs = tuple(-1 if c < 0 else 1 for c in cong)
    return perm, signs, cong


def align_to(result, target_loadings, *, sort_ids=None, name: str | None = None):
    """``result`` with its factors reordered and reflected to match a target loadings table (e.g. a paper's).

    The matching is :func:`align_factors` (Hungarian assignment on |Tucker congruence|, signs from the
    congruence), the one the cross-check uses, computed over the Q-sorts both tables have; then
    :func:`qvalid.pipeline.reorder_factors` renames and reflects the factors.

    Parameters
    ----------
    result : QResult
    target_loadings : array-like of shape (n_target_sorts, nfactors)
    sort_ids : sequence of str, optional
        The target's sort ids (default: the result's, in its order). Each must be a Q-sort of the study; at least
        two must be given. Sorts of the study missing from the target do not count in the congruence.
    name : str, optional
        Where the target came from (a file), recorded in ``result.alignment``.

    Returns
    -------
    QResult
        With ``alignment = {"target", "permutation", "signs", "congruence", "n_sorts"}``: new factor j is
        ``signs[j]`` times old factor ``permutation[j]``; ``congruence[j]`` is its Tucker congruence with target
        factor j.
    """
    from .errors import QInputError
    from .pipeline import reorder_factors

    target = np.asarray(target_loadings, dtype=np.float64)
    ids = list(result.sort_ids) if sort_ids is None else [str(s) for s in sort_ids]
    if target.ndim != 2 or target.shape != (len(ids), result.nfactors):
        raise QInputError(f"the target loadings have shape {target.shape}, expected ({len(ids)}, "
                          f"{result.nfactors}): one row per Q-sort, one column per factor", file=name)
    where = {sid: i for i, sid in enumerate(result.sort_ids)}
    unknown = [sid for sid in ids if sid not in where]
    if unknown:
        raise QInputError(f"the target has {len(unknown)} Q-sort(s) the study has not: {', '.join(unknown)}",
                          file=name, sort=unknown[0])
    if len(set(ids)) < 2:
        raise QInputError("the target needs at least 2 Q-sorts of the study", file=name)
    mine = result.loadings[[where[sid] for sid in ids]]
    perm_t, signs_t, cong_t = align_factors(target, mine)
    return reorder_factors(result, perm_t, signs_t, alignment={"target": name, "congruence": list(cong_t),
                                                                "n_sorts": len(ids)})


# ---------------------------------------------------------------------- compare
def compare(a, b, *, align: bool = False, tolerances=None, rtol: float = 0.0, unavailable=None,
            names=("a", "b")) -> Diff:
    """Compare two :class:`~qvalid.results.QResult` output by output.

    Parameters
    ----------
    a, b : QResult
        E.g. ``analyze(...)`` and ``rbridge.as_result(run_qmethod(...))``. ``b`` plays numpy's DESIRED: relative
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

    Returns
    -------
    Diff
    """
    tol = _resolve_tolerances(tolerances)
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
        results.append(_maybe(name, unavail(name), lambda: _float(name, x, y, lab, rows_for, fnames, tol[name], rtol)))
    results.append(_maybe("flags", unavail("flags"), lambda: _exact(
        "flags", np.asarray(a.flags, bool), np.asarray(b.flags, bool)[:, p], ("sort", "factor"), rows_for, fnames)))
    results.append(_maybe("zscores", unavail("zscores"), lambda: _float("zscores", a.zscores, cols(b.zscores),
                                                             ("statement", "factor"), rows_for, fnames,
                                                             tol["zscores"], rtol)))
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
    for c in _CHAR_FLOATS:
        nm = f"characteristics.{c}"
        results.append(_maybe(nm, unavail(nm), lambda: _float(
            nm, np.asarray(getattr(ca, c), float)[None, :], np.asarray(getattr(cb, c), float)[None, p],
            (None, "factor"), rows_for, fnames, tol[nm], rtol)))
    ss = np.outer(s, s)
    with np.errstate(invalid="ignore"):
        czb = np.asarray(cb.cor_zsc, float)[np.ix_(p, p)] * ss
    results.append(_maybe("cor_zsc", unavail("cor_zsc"), lambda: _float(
        "cor_zsc", ca.cor_zsc, czb, ("factor", "factor"), rows_for,
        fnames, tol["cor_zsc"], rtol)))
    results.append(_maybe("sd_dif", unavail("sd_dif"), lambda: _float(
        "sd_dif", ca.sd_dif, np.asarray(cb.sd_dif, float)[np.ix_(p, p)], ("factor", "factor"), rows_for, fnames,
        tol["sd_dif"], rtol)))

    # --- distinguishing and consensus statements
    results += _compare_qdc(a, b, p, signs, unavail, rows_for, tol["qdc.diffs"], rtol, notes)

    ctx = _context(a, b)
    return Diff(tuple(names), tuple(results), alignment, rtol, ctx, tuple(notes))


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


def _resolve_tolerances(tolerances) -> dict:
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


def _float(name, x, y, lab, rows_for, fnames, atol, rtol, pairs=None) -> OutputDiff:
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.shape != y.shape:
        return OutputDiff(name, "float", "shape", tolerance=atol, note=f"shapes {x.shape} vs {y.shape}")
    n = x.size
    nx, ny = np.isnan(x), np.isnan(y)
    both = ~nx & ~ny
    mism = []
    status = "ok"
    note = ""
    nan_bad = nx != ny
    if nan_bad.any():
        status = "nan"
        idxs = np.argwhere(nan_bad)
        note = f"NaN pattern differs in {len(idxs)} cell(s)"
        mism = [Cell(_where(lab, tuple(i), rows_for, fnames, pairs), tuple(int(v) for v in i), float(x[tuple(i)]),
                     float(y[tuple(i)])) for i in idxs[:_MAX_CELLS]]
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
        order = np.argsort(-d, axis=None, kind="stable")[: _MAX_CELLS]
        for flat in order:
            wi = tuple(int(v) for v in np.unravel_index(int(flat), d.shape))
            if bad[wi] and len(mism) < _MAX_CELLS:
                mism.append(Cell(_where(lab, wi, rows_for, fnames, pairs), wi, float(x[wi]), float(y[wi]),
                                 float(d[wi])))
    return OutputDiff(name, "float", status, n, n_bad, max_abs, max_rel, atol, worst, tuple(mism), note)


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
                      vals(x, tuple(i)), vals(y, tuple(i))) for i in idxs[:_MAX_CELLS])
    status = "differs" if len(idxs) else "ok"
    note = ""
    if x.dtype.kind == "f" and status != "ok":
        nan_bad = int((np.isnan(x.astype(float)) != np.isnan(y.astype(float))).sum())
        if nan_bad:
            status, note = "nan", f"NaN pattern differs in {nan_bad} cell(s)"
    return OutputDiff(name, "exact", status, int(x.size), int(len(idxs)), worst=mism[0] if mism else None,
                      mismatches=mism, note=note)


_FACTOR_RE = re.compile(r"f(\d+)")


def _compare_qdc(a, b, p, signs, unavail, rows_for, atol, rtol, notes) -> list:
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
    out.append(_float("qdc.diffs", xdiff, ydiff, lab, rows_for, fn, atol, rtol, pairs=pair_names))
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
                 for i in only[:_MAX_CELLS])
    out.append(OutputDiff("consensus", "exact", "differs" if len(only) else "ok", n_cells=int(len(la)),
                          n_bad=int(len(only)), worst=mism[0] if mism else None, mismatches=mism,
                          note=(f"consensus: {int(ca.sum())} vs {int(cb.sum())} statements" if len(only) else
                                f"{int(ca.sum())} consensus statement(s)")))
    return out
