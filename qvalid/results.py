"""The one results object, :class:`QResult`: arrays, lazily labelled pandas tables, JSON and a text report."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ._version import __version__
from .core.characteristics import Characteristics, Distinguishing, star_levels
from .jsonable import num
from .options import Options
from .study import QStudy, format_score, study_block

__all__ = ["QResult", "JSON_KEYS", "step_text"]

#: Top-level keys of :meth:`QResult.to_dict` / ``qvalid analyze --format json`` (a public contract).
JSON_KEYS = (
    "qvalid_version", "options", "study", "sort_ids", "statement_ids", "statement_texts", "factors", "correlation",
    "unrotated_loadings", "unrotated_eigenvalues", "unrotated_expl_var", "loadings", "factor_correlations", "flags",
    "zscores",
    "factor_arrays", "characteristics", "cor_zsc", "sd_dif", "distinguishing", "diagnostics",
)


@dataclass(frozen=True, eq=False)
class QResult:
    """Everything :func:`qvalid.analyze` computed, as numpy arrays; tables are built on demand.

    Array attributes (rows = sorts or statements, columns = factors ``f1..fk``): ``correlation``,
    ``unrotated_loadings``, ``unrotated_eigenvalues`` / ``unrotated_expl_var`` (column sums of squares of the
    unrotated loadings and their percentage of n_sorts: what PQMethod and the NAV report print as eigenvalues),
    ``loadings``, ``rotation_matrix``, ``flags``, ``weights``, ``zscores``, ``factor_arrays`` (float, NaN for
    factors without flags), ``characteristics`` and ``distinguishing`` (None when fewer than two factors have flags).

    Rotation: ``factor_correlations`` (Phi of an oblique rotation, None for orthogonal ones; ``loadings`` are then
    the pattern), ``rotation_steps`` (the judgmental steps applied after the named rotation,
    :class:`~qvalid.core.judgmental.PairStep`), ``rotation_target`` (the target of targetT/targetQ) and
    :attr:`rotation_text` (``"varimax, then f1-f2 +12.5 deg"``).

    Diagnostics: ``varimax_iterations`` (the iterations of the rotation: varimax's, or GPArotation's for its
    rotations, or the varimax's under promax and cluster), ``converged`` and ``warnings``, a tuple of
    :class:`~qvalid.diagnostics.QWarning` (strings with a stable ``code``; see docs/warnings.md and
    :attr:`warning_codes`).
    ``alignment`` is None, or how the factors were reordered and reflected (:func:`qvalid.pipeline.reorder_factors`).

    Tables with qmethod's names: :attr:`loa`, :attr:`flagged`, :attr:`zsc`, :attr:`zsc_n`, :attr:`f_char`,
    :attr:`qdc`.
    """

    study: QStudy
    options: Options
    nfactors: int
    correlation: np.ndarray
    unrotated_loadings: np.ndarray
    unrotated_eigenvalues: np.ndarray
    unrotated_expl_var: np.ndarray
    loadings: np.ndarray
    rotation_matrix: np.ndarray
    flags: np.ndarray
    weights: np.ndarray
    zscores: np.ndarray
    factor_arrays: np.ndarray
    characteristics: Characteristics
    distinguishing: Distinguishing | None
    varimax_iterations: int
    converged: bool
    warnings: tuple
    manual_flags: bool = False
    alignment: dict | None = None
    factor_correlations: np.ndarray | None = None
    rotation_steps: tuple = ()
    rotation_target: np.ndarray | None = None

    def __post_init__(self):
        for name in ("correlation", "unrotated_loadings", "loadings", "flags", "zscores", "factor_arrays"):
            getattr(self, name).setflags(write=False)

    # ------------------------------------------------------------------ labels
    @property
    def factors(self) -> list[str]:
        return [f"f{j + 1}" for j in range(self.nfactors)]

    @property
    def sort_ids(self) -> list[str]:
        return list(self.study.sort_ids)

    @property
    def statement_ids(self) -> list[str]:
        return list(self.study.statement_ids)

    @property
    def flag_rule(self) -> str:
        """The rule that made :attr:`flags`, as text: ``"|a| >= 0.42 and a^2 > h^2/2"``, ``"manual"``."""
        return self.options.flag_rule_of(self.study.n_statements, manual=self.manual_flags).text()

    @property
    def rotation_text(self) -> str:
        """The rotation as one line: ``"varimax"``, ``"oblimin (oblique)"``, ``"varimax, then f1-f2 +12.5 deg,
        f2-f3 -4 deg"`` (a step turns the lower-numbered factor towards the higher one, clockwise in KADE's plot)."""
        name = self.options.rotation
        text = name + (" (oblique)" if self.factor_correlations is not None else "")
        if self.rotation_steps:
            text += ", then " + ", ".join(step_text(st) for st in self.rotation_steps)
        return text

    @property
    def warning_codes(self) -> tuple:
        """The stable codes of :attr:`warnings`, in order (registered in :data:`qvalid.diagnostics.WARNINGS`)."""
        return tuple(_code(w) for w in self.warnings)

    # ------------------------------------------------------------------ tables (qmethod names)
    def _frame(self, values, index, columns):
        import pandas as pd

        return pd.DataFrame(values, index=list(index), columns=list(columns))

    @cached_property
    def loa(self):
        """Rotated loadings, sorts x factors (qmethod ``loa``)."""
        return self._frame(self.loadings, self.sort_ids, self.factors)

    @cached_property
    def flagged(self):
        """Flags, sorts x factors (qmethod ``flagged``, columns ``flag_f1..``)."""
        return self._frame(self.flags, self.sort_ids, [f"flag_{f}" for f in self.factors])

    @cached_property
    def zsc(self):
        """Factor z-scores, statements x factors (qmethod ``zsc``, columns ``zsc_f1..``)."""
        return self._frame(self.zscores, self.statement_ids, [f"zsc_{f}" for f in self.factors])

    @cached_property
    def zsc_n(self):
        """Factor arrays, statements x factors (qmethod ``zsc_n``, columns ``fsc_f1..``), nullable integers."""
        return self._frame(self.factor_arrays, self.statement_ids,
                           [f"fsc_{f}" for f in self.factors]).astype("Int64")

    @cached_property
    def f_char(self) -> dict:
        """qmethod's ``f_char``: ``characteristics`` (factors x 6), ``cor_zsc`` and ``sd_dif`` tables."""
        c = self.characteristics
        import pandas as pd

        table = pd.DataFrame({"av_rel_coef": c.av_rel_coef, "nload": c.nload, "eigenvals": c.eigenvals,
                              "expl_var": c.expl_var, "reliability": c.reliability, "se_fscores": c.se_fscores},
                             index=self.factors)
        return {"characteristics": table,
                "cor_zsc": self._frame(c.cor_zsc, self.factors, self.factors),
                "sd_dif": self._frame(c.sd_dif, self.factors, self.factors)}

    @cached_property
    def qdc(self):
        """qmethod's ``qdc`` table: ``dist.and.cons`` then, per pair, the difference and ``sig_`` stars."""
        import pandas as pd

        d = self.distinguishing
        if d is None:
            return None
        cols = {"dist.and.cons": d.labels}
        for j, name in enumerate(d.pair_names(self.factors)):
            cols[name] = d.diffs[:, j]
            cols[f"sig_{name}"] = d.stars[:, j]
        return pd.DataFrame(cols, index=self.statement_ids)

    # ------------------------------------------------------------------ JSON
    def to_dict(self) -> dict:
        """The JSON contract as Python objects (keys :data:`JSON_KEYS`; NaN -> None)."""
        c = self.characteristics
        d = self.distinguishing
        dist = {"consensus": [], "per_statement": []}
        if d is not None:
            names = d.pair_names(self.factors)
            dist["consensus"] = [s for s, m in zip(self.statement_ids, d.consensus) if m]
            dist["per_statement"] = [
                {"statement": s, "label": _na(d.labels[i]),
                 "diffs": {nm: num(d.diffs[i, j]) for j, nm in enumerate(names)},
                 "stars": {nm: _na(d.stars[i, j]) for j, nm in enumerate(names)}}
                for i, s in enumerate(self.statement_ids)]
        return {
            "qvalid_version": __version__,
            "options": {"nfactors": self.nfactors, "manual_flags": self.manual_flags, **self.options.to_dict()},
            "study": study_block(self.study),
            "sort_ids": self.sort_ids,
            "statement_ids": self.statement_ids,
            "statement_texts": None if self.study.statement_texts is None else list(self.study.statement_texts),
            "factors": self.factors,
            "correlation": num(self.correlation),
            "unrotated_loadings": num(self.unrotated_loadings),
            "unrotated_eigenvalues": num(self.unrotated_eigenvalues),
            "unrotated_expl_var": num(self.unrotated_expl_var),
            "loadings": num(self.loadings),
            "factor_correlations": None if self.factor_correlations is None else num(self.factor_correlations),
            "flags": self.flags.tolist(),
            "zscores": num(self.zscores),
            "factor_arrays": num(self.factor_arrays, int),
            "characteristics": {"av_rel_coef": num(c.av_rel_coef), "nload": c.nload.tolist(),
                                "eigenvals": num(c.eigenvals), "expl_var": num(c.expl_var),
                                "reliability": num(c.reliability), "se_fscores": num(c.se_fscores)},
            "cor_zsc": num(c.cor_zsc),
            "sd_dif": num(c.sd_dif),
            "distinguishing": dist,
            "diagnostics": {"varimax_iterations": self.varimax_iterations, "converged": self.converged,
                            "warnings": [{"code": _code(w), "message": str(w)} for w in self.warnings],
                            "alignment": self.alignment, "rotation": self._rotation_block()},
        }

    def _rotation_block(self) -> dict:
        """What replays the rotation: its name, kind, the judgmental steps (1-based factors, KADE's clockwise
        degrees), the target of a target rotation, and the line the report prints."""
        return {"name": self.options.rotation, "oblique": self.factor_correlations is not None,
                "steps": [{"factors": [st.pair[0] + 1, st.pair[1] + 1], "degrees": st.degrees}
                          for st in self.rotation_steps],
                "target": None if self.rotation_target is None else num(self.rotation_target),
                "text": self.rotation_text}

    def to_json(self, **kw) -> str:
        """JSON text; floats are full precision (``repr`` of float64), NaN is ``null``."""
        return json.dumps(self.to_dict(), allow_nan=False, **kw)

    # ------------------------------------------------------------------ report
    def summary(self) -> str:
        """A readable text report."""
        o = self.options
        s = self.study
        lines = [f"qvalid {__version__}: {s.name or s.source or 'study'}: {s.n_statements} statements x "
                 f"{s.n_sorts} Q-sorts, {'forced' if s.forced else 'non-forced'} grid",
                 *([] if self.alignment is None else [self._alignment_line()]),
                 f"{self.nfactors} factor(s): {o.extraction} extraction, {o.cor_method} correlation; flags: "
                 f"{self.flag_rule}",
                 f"Rotation: {self.rotation_text}",
                ""]
        w = max(len(x) for x in self.sort_ids + ["sort"])
        head = f"{'sort':<{w}} " + " ".join(f"{f:>9}" for f in self.factors)
        lines += ["Loadings (* = flagged)", head]
        for i, sid in enumerate(self.sort_ids):
            lines.append(f"{sid:<{w}} " + " ".join(
                f"{self.loadings[i, j]:8.4f}{'*' if self.flags[i, j] else ' '}" for j in range(self.nfactors)))
        c = self.characteristics
        w = max(w, 10)
        lines += ["", "Factor characteristics", f"{'':<{w}} " + " ".join(f"{f:>9}" for f in self.factors)]
        for label, vals, fmt in (("n flagged", c.nload, "{:9d}"), ("eigenval", c.eigenvals, "{:9.4f}"),
                                 ("expl var %", c.expl_var, "{:9.2f}"), ("reliab.", c.reliability, "{:9.4f}"),
                                 ("SE", c.se_fscores, "{:9.4f}"), ("unrot. eig", self.unrotated_eigenvalues, "{:9.4f}"),
                                 ("unrot. %", self.unrotated_expl_var, "{:9.2f}")):
            lines.append(f"{label:<{w}} " + " ".join(_fmt(fmt, v) for v in vals))
        if self.factor_correlations is not None:
            lines += ["", "Factor correlations (oblique rotation; the loadings above are the pattern)",
                      f"{'':<{w}} " + " ".join(f"{f:>9}" for f in self.factors)]
            lines += [f"{f:<{w}} " + " ".join(f"{v:9.4f}" for v in row)
                      for f, row in zip(self.factors, self.factor_correlations)]
        lines += ["", *self._arrays_table(), "", *self._qdc_table(), *self._distinguishing_tables()]
        what = "varimax" if self.options.rotation in ("varimax", "promax", "Promax", "cluster") else \
            self.options.rotation
        lines += ["", f"{what} iterations: {self.varimax_iterations} "
                      f"({'converged' if self.converged else 'NOT converged'})"]
        lines += [f"warning [{_code(x)}]: {x}" for x in self.warnings]
        return "\n".join(lines)

    __str__ = summary

    def _text(self, i: int) -> str:
        t = self.study.statement_texts
        return "" if t is None else " ".join(t[i].split())

    def _array_row(self, i: int, ws: int, mark: str = "") -> str:
        """One statement: its array value (z-score) on every factor, a mark, its text."""
        cells = " ".join("          n/a" if math.isnan(self.factor_arrays[i, j]) else
                         f"{format_score(int(self.factor_arrays[i, j])):>4} ({self.zscores[i, j]:6.2f})"
                         for j in range(self.nfactors))
        return f"{self.statement_ids[i]:<{ws}} {cells} {mark:<3} {self._text(i)}".rstrip()

    def _array_header(self, ws: int, mark: str = "") -> str:
        return (f"{'statement':<{ws}} " + " ".join(f"{f:>13}" for f in self.factors) + f" {mark:<3}"
                + (" text" if self.study.statement_texts else "")).rstrip()

    def _arrays_table(self) -> list[str]:
        """Factor arrays with z-scores in brackets, and the statement texts (a paper's table of factor arrays)."""
        ws = max(len(x) for x in self.statement_ids + ["statement"])
        out = ["Factor arrays (z-score)" + (" and statement texts" if self.study.statement_texts else ""),
               self._array_header(ws)]
        return out + [self._array_row(i, ws) for i in range(len(self.statement_ids))]

    def _distinguishing_tables(self) -> list[str]:
        """Per factor, the statements on which it differs from every other factor (PQMethod's and KADE's
        "distinguishing statements for factor f" tables), by descending z-score; the mark is the weakest star
        of the factor's pairs (qmethod's qdc stars)."""
        d = self.distinguishing
        if d is None:
            return []
        tiers = star_levels(self.options.qdc_rule)
        level = np.zeros(d.stars.shape, dtype=int)
        for n, (_, mark) in enumerate(tiers, start=1):
            level[d.stars == mark] = n
        ws = max(len(x) for x in self.statement_ids + ["statement"])
        out = []
        for col, f in enumerate(d.factors):
            pairs = [c for c, pq in enumerate(d.pairs) if f in pq]
            weakest = level[:, pairs].min(axis=1) if d.dist_level is None else d.dist_level[:, col]
            rows = np.flatnonzero(weakest > 0)
            rows = rows[np.argsort(-self.zscores[rows, f], kind="stable")]
            how = ("mark = its weakest pair's stars" if d.dist_level is None else
                   "KADE/PQMethod: p < .05, * p < .01")
            out += ["", f"Distinguishing statements for f{f + 1} ({len(rows)}: f{f + 1} differs from every other "
                        f"factor; {how})", self._array_header(ws, "sig")]
            out += [self._array_row(i, ws, tiers[weakest[i] - 1][1] if d.dist_level is None else
                                    ("*" if weakest[i] == 2 else "")) for i in rows]
        return out

    def _qdc_table(self) -> list[str]:
        """qmethod's qdc as a table: per factor pair z_f - z_g with its stars, the label and the text."""
        d = self.distinguishing
        if d is None:
            return ["Distinguishing and consensus statements: none (fewer than two factors have flagged sorts)"]
        names = [n.replace("_", "-") for n in d.pair_names(self.factors)]
        ws = max(len(x) for x in self.statement_ids + ["statement"])
        wl = max(len(_na(x, "NA").strip()) for x in [*d.labels, "label"])
        levels = ", ".join(f"{mark} |d| > {m} SED" for m, mark in star_levels(self.options.qdc_rule)) \
            if d.dist_level is None else \
            "* |d| >= 1.96 SED, ** |d| >= 2.575 SED, KADE's rounding; labels: D/D* distinguishing, C*/C consensus"
        out = [f"Distinguishing and consensus statements (d = z_f - z_g; {levels})",
               (f"{'statement':<{ws}} " + " ".join(f"{n:>11}" for n in names) + f"  {'label':<{wl}}"
                + ("  text" if self.study.statement_texts else "")).rstrip()]
        for i, st in enumerate(self.statement_ids):
            cells = " ".join(f"{d.diffs[i, j]:7.2f} {_na(d.stars[i, j], 'NA'):<3}" for j in range(len(names)))
            out.append(f"{st:<{ws}} {cells}  {_na(d.labels[i], 'NA').strip():<{wl}}  {self._text(i)}".rstrip())
        n_cons = int(d.consensus.sum())
        out.append(f"consensus statements: {n_cons}" + (": " + " ".join(
            s for s, m in zip(self.statement_ids, d.consensus) if m) if n_cons else ""))
        return out

    def _alignment_line(self) -> str:
        a = self.alignment
        pairs = " ".join(f"f{j + 1}={'-' if s < 0 else ''}f{p + 1}"
                         for j, (p, s) in enumerate(zip(a["permutation"], a["signs"])))
        cong = a.get("congruence")
        return ("factors reordered" + (f" to match {a['target']}" if a.get("target") else "") + f": {pairs} of the "
                "solution as computed" + (" (Tucker congruence " + ", ".join(f"{c:+.3f}" for c in cong) + ")"
                                          if cong else ""))


def step_text(step) -> str:
    """``f1-f2 +12.5 deg``: one judgmental step, factors 1-based, lower first, KADE's clockwise degrees."""
    a, b = step.pair
    return f"f{a + 1}-f{b + 1} {step.degrees:+.10g} deg"


def _na(v, na=None):
    """A qdc star or label as text; R's NA (``None``, qmethod's table pairing a flagless factor) as ``na``."""
    return na if v is None else str(v)


def _code(w) -> str | None:
    return getattr(w, "code", None)


def _fmt(fmt: str, v) -> str:
    return "      n/a" if isinstance(v, float) and math.isnan(v) else fmt.format(v)
