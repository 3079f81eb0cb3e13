"""The result of comparing two Q solutions: a :class:`Diff` (one :class:`OutputDiff` per output, each with its
worst :class:`Cell`, and the factor :class:`Alignment`), built by :func:`qvalid.checks.compare.compare` and
rendered as text, markdown, JSON or a numpy.testing-style failure message.

Built first, rendered after (numpy.testing style, but as a value): the outputs are named by
:data:`OUTPUT_NAMES`, floats compared within a tolerance (:data:`FLOAT_OUTPUTS`), the rest exactly
(:data:`EXACT_OUTPUTS`); how they are compared is :mod:`qvalid.checks.compare`'s business.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, replace

import numpy as np

from ..jsonable import jsonable

__all__ = ["Diff", "OutputDiff", "Cell", "Alignment", "DEFAULT_TOLERANCE", "FLOAT_OUTPUTS", "EXACT_OUTPUTS",
           "OUTPUT_NAMES", "CHAR_FLOATS", "MAX_CELLS", "PRINT_DIGITS", "CLASSES", "printed"]

#: Default absolute tolerance of every float output (qvalid's contract with R qmethod 1.8.4).
DEFAULT_TOLERANCE = 1e-10

CHAR_FLOATS = ("av_rel_coef", "eigenvals", "expl_var", "reliability", "se_fscores")

#: Outputs compared within a tolerance.
FLOAT_OUTPUTS = ("correlation", "unrotated_loadings", "loadings", "zscores",
                 *(f"characteristics.{c}" for c in CHAR_FLOATS), "cor_zsc", "sd_dif", "qdc.diffs")
#: Outputs compared for exact equality.
EXACT_OUTPUTS = ("ids", "flags", "factor_arrays", "characteristics.nload", "qdc.pairs", "qdc.stars", "qdc.labels",
                 "consensus")
#: Every output in report order.
OUTPUT_NAMES = ("ids", "correlation", "unrotated_loadings", "loadings", "flags", "zscores", "factor_arrays",
                "characteristics.nload", *(f"characteristics.{c}" for c in CHAR_FLOATS), "cor_zsc", "sd_dif",
                "qdc.pairs", "qdc.diffs", "qdc.stars", "qdc.labels", "consensus")

MAX_CELLS = 5

#: Decimals with which each float output is printed where people read it (a paper's tables, PQMethod's .lis, KADE's
#: workbook, qmethod's ``print``): a difference beyond tolerance that changes a value so printed is *reported*, one
#: that does not is *numerical only* (docs/ci.md, "What counts as reported").
#: Loadings and correlations 2 dp (papers' loading tables; PQMethod prints correlations as integer percentages);
#: z-scores, differences between factors, SED, composite reliability and SE 3 dp (PQMethod's and KADE's factor
#: score, difference and characteristics tables; qmethod's print shows z-scores at 2 dp, a coarser view of the same);
#: eigenvalues, the average reliability coefficient and the correlations between factor scores 2 dp; explained
#: variance as a whole percentage (PQMethod's "% expl.Var.", KADE, qmethod's print).
PRINT_DIGITS = {"correlation": 2, "unrotated_loadings": 2, "loadings": 2, "zscores": 3,
                "characteristics.av_rel_coef": 2, "characteristics.eigenvals": 2, "characteristics.expl_var": 0,
                "characteristics.reliability": 3, "characteristics.se_fscores": 3, "cor_zsc": 2, "sd_dif": 3,
                "qdc.diffs": 3}

#: The classes of an output's difference, from none to the worst (:attr:`OutputDiff.klass`).
CLASSES = ("same", "within tolerance", "numerical only", "reported")


def printed(x, digits) -> np.ndarray:
    """``x`` rounded as ``f"{x:.{digits}f}"`` prints it (correct rounding of the binary value), as floats; -0 is 0.

    Vectorised: ``rint(x * 10**d)``, with the cells whose scaled value lies within 1e-6 of a half re-rounded by
    Python's ``round(x, d)`` (correctly rounded, as the formatting; the product's own rounding could decide there).
    ``digits`` may be an array of the shape of ``x`` (decimals per cell, e.g. as a text printed them; negative =
    tens, hundreds). NaN stays NaN.
    """
    x = np.asarray(x, dtype=np.float64)
    d = np.broadcast_to(np.asarray(digits, dtype=np.int64), x.shape).ravel()
    flat = x.ravel()
    scale = 10.0 ** d
    with np.errstate(invalid="ignore", over="ignore"):
        q = flat * scale
        r = np.rint(q)
        near = np.abs(np.abs(q - np.trunc(q)) - 0.5) < 1e-6
    for i in np.flatnonzero(near):
        r[i] = round(round(float(flat[i]), int(d[i])) * scale[i])
    return ((r / scale) + 0.0).reshape(x.shape)  # + 0.0 turns -0.0 into 0.0


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

    Classification (only when the comparison was given print precisions, :data:`PRINT_DIGITS`): ``n_reported`` is
    the number of cells beyond tolerance whose values differ as printed with ``digits`` decimals (every mismatched
    cell of an exact output: flags, arrays, stars, labels, the consensus set), ``worst_reported`` the largest of
    them; None when not classified. :attr:`klass` names the class.
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
    n_reported: int | None = None
    worst_reported: Cell | None = None
    digits: int | None = None

    @property
    def passed(self) -> bool:
        return self.status in ("ok", "unavailable", "skipped")

    @property
    def klass(self) -> str | None:
        """One of :data:`CLASSES`, ``"not compared"``, or None for a failure that was not classified.

        ``same``: no difference at all; ``within tolerance``: differences, none beyond tolerance; ``reported``: a
        difference beyond tolerance that changes what is printed (any mismatch of an exact output; a NaN pattern,
        shape or presence difference); ``numerical only``: beyond tolerance, the same as printed.
        """
        if not self.compared:
            return "not compared"
        if self.passed:
            return "within tolerance" if self.max_abs else "same"
        if self.kind == "exact" or self.status in ("nan", "shape", "absent"):
            return "reported"
        if self.n_reported is None:
            return None
        return "reported" if self.n_reported else "numerical only"

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

    @property
    def classified(self) -> bool:
        """True when the comparison was given print precisions (every failure then has a class)."""
        return any(o.n_reported is not None for o in self.outputs)

    @property
    def reported(self) -> tuple:
        """The outputs whose difference changes what is printed (class ``reported``)."""
        return tuple(o for o in self.outputs if o.klass == "reported")

    @property
    def verdict(self) -> str:
        """The worst class over the outputs: ``same``, ``within tolerance``, ``numerical only`` or ``reported``
        (``differs`` for an unclassified failure)."""
        classes = [o.klass for o in self.outputs]
        if None in classes:
            return "differs"
        return max((c for c in classes if c in CLASSES), key=CLASSES.index, default="same")

    def max_abs(self) -> dict:
        """Output name -> max absolute difference (floats; None when not compared)."""
        return {o.name: o.max_abs for o in self.outputs if o.kind == "float"}

    def with_notes(self, *notes, **context) -> "Diff":
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
                if o.n_reported is not None:  # classified (compare(..., print_digits=...))
                    status += f" [{_class_text(o)}]"
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
                       + (f", {o.n_bad} of {o.n_cells} cells" if o.n_cells else "")
                       + (f"; {_class_text(o)}" if self.classified and o.klass else ""))
            if o.worst_reported is not None and o.kind == "float" and o.worst_reported not in o.mismatches:
                c = o.worst_reported
                out.append(f"  {c.where}: {_v(c.a)} ({self.names[0]}) vs {_v(c.b)} ({self.names[1]}), "
                           f"|diff| {_g(c.abs_diff)} (largest difference that prints differently)")
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
            d["worst_reported"] = None if o.worst_reported is None else _cell_dict(o.worst_reported)
            d["class"] = o.klass
            d["mismatches"] = [_cell_dict(c) for c in o.mismatches]
            for key in ("max_abs", "max_rel", "tolerance"):
                d[key] = jsonable(d[key])
            return d

        return {"names": list(self.names), "ok": self.ok, "summary": self.summary_line(), "rtol": self.rtol,
                "alignment": {**asdict(self.alignment), "identity": self.alignment.identity,
                              "text": self.alignment.describe(self.names)},
                "outputs": [out(o) for o in self.outputs], "context": jsonable(self.context),
                "notes": list(self.notes), **({"verdict": self.verdict} if self.classified else {})}

    def to_json(self, **kw) -> str:
        return json.dumps(self.to_dict(), allow_nan=False, **kw)

    def message(self, header: str = "") -> str:
        """A numpy.testing-style message: tolerance, mismatched outputs, then per output the count of mismatched
        cells, the worst cell by ids with both values, max absolute and relative differences."""
        tol = sorted({o.tolerance for o in self.outputs if o.kind == "float" and o.tolerance is not None
                      and "scaled" not in o.note})  # the scaled ones are given per output below
        atol = "/".join(_g(t) for t in tol) if len(tol) <= 3 else f"{_g(tol[0])}..{_g(tol[-1])} (per output)"
        lines = [(header + "\n" if header else "")
                 + f"Q solutions not equal to tolerance rtol={_g(self.rtol)}, atol={atol}"
                 + f" ({self.names[0]} vs {self.names[1]})",
                 self.alignment.describe(self.names)]
        n = sum(o.compared for o in self.outputs)
        fails = self.failures
        lines.append(f"Mismatched outputs: {len(fails)} / {n}: " + ", ".join(o.name for o in fails))
        for o in fails:
            lines.append(f"{o.name} ({o.status}" + (f": {o.note}" if o.note else "") + ")"
                         + (f" [{_class_text(o)}]" if self.classified and o.klass else ""))
            if o.n_cells:
                lines.append(f" Mismatched elements: {o.n_bad} / {o.n_cells} ({100 * o.n_bad / o.n_cells:.3g}%)")
            if o.kind == "float" and o.worst is not None:
                lines.append(f" Max absolute difference: {_g(o.max_abs)} at {o.worst.where}: {_v(o.worst.a)} "
                             f"({self.names[0]}), {_v(o.worst.b)} ({self.names[1]})")
                lines.append(f" Max relative difference: {_g(o.max_rel)}")
            c = o.worst_reported
            if c is not None and o.kind == "float" and (o.worst is None or c.index != o.worst.index):
                lines.append(f" Largest printed change: {c.where}: {_v(c.a)} ({self.names[0]}), {_v(c.b)} "
                             f"({self.names[1]}) (as printed: {_p(c.a, o.digits)} vs {_p(c.b, o.digits)})")
            for c in o.mismatches[: MAX_CELLS]:
                lines.append(f" Mismatch at {c.where}: {_v(c.a)} ({self.names[0]}), {_v(c.b)} ({self.names[1]})")
        lines += [f"note: {x}" for x in self.notes]
        return "\n".join(lines)

    def __str__(self):
        return self.to_text()


def _cell_dict(c: Cell) -> dict:
    return {"where": c.where, "index": list(c.index), "a": jsonable(c.a), "b": jsonable(c.b),
            "abs_diff": jsonable(c.abs_diff)}


def _class_text(o: OutputDiff) -> str:
    """``reported: 2 cells print differently (3 dp)``, ``numerical only (same at 2 dp)``, ``reported``."""
    k = o.klass
    if k == "reported" and o.kind == "float" and o.n_reported:
        return f"reported: {o.n_reported} cell(s) print differently at {o.digits} dp"
    if k == "numerical only":
        return f"numerical only: same as printed at {o.digits} dp"
    return k


def _p(x: float, digits: int) -> str:
    """A float as printed with ``digits`` decimals (the worst reported cell of a float output)."""
    return f"{float(printed(x, digits)):.{max(digits, 0)}f}"


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
