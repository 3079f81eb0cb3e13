"""How far two Q solutions of one study differ in what a reader of the paper sees: flags, factor arrays, loadings
and z-scores, after matching their factors. A robustness check across tools (qmethod vs KADE/PQMethod, or a
flavour vs a paper's own KADE workbook); ``qvalid compare`` renders it.

Unlike :func:`qvalid.checks.compare.compare` (a tolerance check of every output against R), this summarises the
differences that change an interpretation. Factors are matched by :func:`qvalid.core.congruence.align_factors` (Hungarian
assignment on |Tucker congruence| of the loadings; signs from the congruence).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np

from ..core.congruence import align_factors

__all__ = ["Solution", "SolutionDiff", "compare_solutions"]


@dataclass(frozen=True, eq=False)
class Solution:
    """The parts of a Q solution compared: ids, loadings and flags (sorts x factors), z-scores and factor arrays
    (statements x factors). Build one with :meth:`from_result` or :meth:`from_workbook`."""

    name: str
    sort_ids: tuple
    statement_ids: tuple
    loadings: np.ndarray
    flags: np.ndarray
    zscores: np.ndarray
    factor_arrays: np.ndarray

    @classmethod
    def from_result(cls, result, name: str) -> "Solution":
        """From a :class:`~qvalid.results.QResult`."""
        return cls(name, tuple(result.sort_ids), tuple(result.statement_ids), result.loadings, result.flags,
                   result.zscores, result.factor_arrays)

    @classmethod
    def from_workbook(cls, wb, name: str | None = None) -> "Solution":
        """From a :class:`~qvalid.io.kade.KadeWorkbook` (the numbers as KADE printed them)."""
        return cls(name or wb.path, tuple(wb.study.sort_ids), tuple(wb.study.statement_ids), wb.loadings, wb.flags,
                   wb.zscores, wb.factor_arrays)


@dataclass(frozen=True)
class SolutionDiff:
    """The differences between two solutions after matching b's factors to a's.

    Attributes
    ----------
    names : (str, str)
    factors : list of str
        a's factor names f1..fk; b's factor ``permutation[j]`` times ``signs[j]`` is matched to a's factor j.
    permutation, signs, congruence : list
    flag_changes : list of dict
        One per sort whose flags differ: ``{"sort", "a": [factors], "b": [factors]}``.
    array_moves : list of dict
        One per statement and factor whose factor-array value differs: ``{"statement", "factor", "a", "b"}``.
    max_loading_diff, max_zscore_diff : dict
        ``{"value", "sort"/"statement", "factor"}`` of the largest absolute difference.
    per_factor : list of dict
        Per factor: congruence, flagged sorts in a and b, flags changed, array cells moved, max |dz|.
    """

    names: tuple
    factors: list
    permutation: list
    signs: list
    congruence: list
    flag_changes: list
    array_moves: list
    max_loading_diff: dict
    max_zscore_diff: dict
    per_factor: list = field(default_factory=list)

    def to_dict(self) -> dict:
        def clean(x):
            if isinstance(x, dict):
                return {k: clean(v) for k, v in x.items()}
            if isinstance(x, (list, tuple)):
                return [clean(v) for v in x]
            if isinstance(x, (np.floating, float)):
                return None if x != x else float(x)
            if isinstance(x, np.integer):
                return int(x)
            return x

        return clean({"names": list(self.names), "factors": self.factors, "permutation": self.permutation,
                      "signs": self.signs, "congruence": self.congruence, "flag_changes": self.flag_changes,
                      "array_moves": self.array_moves, "max_loading_diff": self.max_loading_diff,
                      "max_zscore_diff": self.max_zscore_diff, "per_factor": self.per_factor})

    def to_json(self, **kw) -> str:
        return json.dumps(self.to_dict(), allow_nan=False, **kw)

    def to_text(self) -> str:
        a, b = self.names
        match = ", ".join(f"{f} = {'-' if s < 0 else ''}{b}:f{p + 1} (congruence {c:.3f})"
                          for f, p, s, c in zip(self.factors, self.permutation, self.signs, self.congruence))
        lines = [f"{a} vs {b}", f"factor matching: {match}", ""]
        lines.append(f"{'factor':<8}{'flags a':>8}{'flags b':>8}{'changed':>8}{'arrays moved':>14}{'max |dz|':>10}")
        for r in self.per_factor:
            lines.append(f"{r['factor']:<8}{r['flags_a']:>8}{r['flags_b']:>8}{r['flags_changed']:>8}"
                         f"{r['array_cells_moved']:>14}{_num(r['max_abs_dz']):>10}")
        ml, mz = self.max_loading_diff, self.max_zscore_diff
        lines += ["", f"largest loading difference: {_num(ml['value'])} (sort {ml['sort']}, {ml['factor']})",
                  f"largest z-score difference: {_num(mz['value'])} (statement {mz['statement']}, {mz['factor']})",
                  f"sorts whose flags change: {len(self.flag_changes)}"]
        lines += [f"  {c['sort']}: {a} {'+'.join(c['a']) or '-'}, {b} {'+'.join(c['b']) or '-'}"
                  for c in self.flag_changes]
        lines.append(f"factor-array cells that move: {len(self.array_moves)}")
        lines += [f"  {m['statement']} {m['factor']}: {m['a']:+d} -> {m['b']:+d}" for m in self.array_moves]
        return "\n".join(lines)

    __str__ = to_text


def _num(x) -> str:
    return "n/a" if x is None or x != x else f"{x:.4g}"


def compare_solutions(a: Solution, b: Solution) -> SolutionDiff:
    """Match b's factors to a's and list the differences a reader would see.

    Both solutions must be of the same study (same sort and statement ids, in any order) with the same number of
    factors. A factor of b matched with a negative congruence is reflected first: loadings and z-scores negated,
    factor-array values negated (the mirror image; exact for symmetric grids).

    Raises
    ------
    ValueError
        When the ids or the numbers of factors differ.
    """
    if set(a.sort_ids) != set(b.sort_ids) or set(a.statement_ids) != set(b.statement_ids):
        raise ValueError(f"{a.name} and {b.name} are not solutions of the same study (their ids differ)")
    if a.loadings.shape[1] != b.loadings.shape[1]:
        raise ValueError(f"{a.name} has {a.loadings.shape[1]} factors, {b.name} {b.loadings.shape[1]}")
    rs = [b.sort_ids.index(s) for s in a.sort_ids]
    rt = [b.statement_ids.index(s) for s in a.statement_ids]
    perm, signs, cong = align_factors(a.loadings, b.loadings[rs])
    sg = np.array(signs, dtype=float)
    bl = b.loadings[rs][:, perm] * sg
    bf = b.flags[rs][:, perm]
    bz = b.zscores[rt][:, perm] * sg
    ba = b.factor_arrays[rt][:, perm] * sg
    k = a.loadings.shape[1]
    names = [f"f{j + 1}" for j in range(k)]
    changed = (a.flags != bf).any(axis=1)
    flag_changes = [{"sort": a.sort_ids[i], "a": [names[j] for j in np.flatnonzero(a.flags[i])],
                     "b": [names[j] for j in np.flatnonzero(bf[i])]} for i in np.flatnonzero(changed)]
    moved = (a.factor_arrays != ba) & ~(np.isnan(a.factor_arrays) & np.isnan(ba))
    array_moves = [{"statement": a.statement_ids[i], "factor": names[j], "a": int(a.factor_arrays[i, j]),
                    "b": int(ba[i, j])} for i, j in zip(*np.nonzero(moved)) if not np.isnan(a.factor_arrays[i, j] + ba[i, j])]
    dl = np.abs(a.loadings - bl)
    dz = np.abs(a.zscores - bz)
    il = np.unravel_index(np.argmax(dl), dl.shape)
    iz = np.unravel_index(np.nanargmax(dz), dz.shape) if np.isfinite(dz).any() else (0, 0)
    per = [{"factor": names[j], "congruence": cong[j], "flags_a": int(a.flags[:, j].sum()),
            "flags_b": int(bf[:, j].sum()), "flags_changed": int((a.flags[:, j] != bf[:, j]).sum()),
            "array_cells_moved": int(moved[:, j].sum()),
            "max_abs_dz": float(np.nanmax(dz[:, j])) if np.isfinite(dz[:, j]).any() else float("nan")}
           for j in range(k)]
    return SolutionDiff((a.name, b.name), names, list(perm), [int(s) for s in signs], list(cong), flag_changes,
                        array_moves, {"value": float(dl[il]), "sort": a.sort_ids[il[0]], "factor": names[il[1]]},
                        {"value": float(dz[iz]), "statement": a.statement_ids[iz[0]], "factor": names[iz[1]]}, per)
