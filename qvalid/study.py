"""The Q-study data model: one frozen :class:`QStudy` value.

Orientation follows R qmethod (``R/qmethod.R``): rows are statements, columns are Q-sorts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import Callable, Mapping, Sequence

import numpy as np

from .errors import QInputError

__all__ = ["QStudy", "grid_from_counts", "format_score", "grid_text", "study_block", "MISSING_CODES"]

Locator = Callable[[int | None, int | None], "int | None"]


def format_score(v: int) -> str:
    """Scores are printed signed, as on a Q grid: ``-4``, ``0``, ``+4``."""
    return f"{int(v):+d}" if v else "0"


def grid_from_counts(counts: Mapping[int, int]) -> dict[int, int]:
    """A grid (score -> number of cells), ascending by score, zero-cell scores dropped."""
    grid = {}
    for score, cells in sorted(counts.items()):
        if int(score) != score or int(cells) != cells or cells < 0:
            raise QInputError(f"grid entry {score!r}: {cells!r} is not a whole score with a non-negative cell count")
        if cells:
            grid[int(score)] = int(cells)
    if not grid:
        raise QInputError("the grid has no cells")
    return grid


@dataclass(frozen=True, eq=False)
class QStudy:
    """A Q study: integer scores of shape (n_statements, n_sorts) with ids and the grid.

    Parameters
    ----------
    scores : array-like of int, shape (n_statements, n_sorts)
        Grid value given by each Q-sort (column) to each statement (row).
    statement_ids, sort_ids : sequence of str
        Unique labels; ``sort_ids`` play the role of qmethod's column names.
    grid : mapping score -> cells, optional
        The distribution. With ``forced=True`` and no grid, it is taken from the first sort, as qmethod does
        (``R/qmethod.R:16-19``). With ``forced=False`` it is qmethod's ``distribution`` (the notional grid used
        only for factor arrays) and is required.
    forced : bool
        Whether every sort must fill the grid exactly.
    statement_texts : sequence of str, optional
    name : str
        Study title (PQMethod's header title).
    source : str, optional
        File the study was read from, used in error messages.
    notes : tuple of str
        What the reader of the file wants said but did not refuse, e.g. input columns it did not use (the command
        line prints each as a warning). Not part of the study's data: ignored by ``==`` and ``hash``.

    The value is validated on construction (see :meth:`validate`) and its arrays are read-only. Two studies are
    equal (and hash alike) when their data are: scores, ids, grid, ``forced``, texts and name; ``source`` is ignored.
    """

    scores: np.ndarray
    statement_ids: tuple
    sort_ids: tuple
    grid: Mapping[int, int] | None = None
    forced: bool = True
    statement_texts: tuple | None = None
    name: str = ""
    source: str | None = None
    notes: tuple = field(default=(), repr=False, compare=False)
    _locate: Locator | None = field(default=None, repr=False, compare=False)

    def __post_init__(self):
        scores = np.asarray(self.scores)
        set_ = object.__setattr__
        set_(self, "statement_ids", tuple(str(s) for s in self.statement_ids))
        set_(self, "sort_ids", tuple(str(s) for s in self.sort_ids))
        set_(self, "notes", tuple(str(n) for n in self.notes))
        if self.statement_texts is not None:
            set_(self, "statement_texts", tuple("" if t is None else str(t) for t in self.statement_texts))
        if scores.ndim != 2:
            raise self._error(f"scores must be a 2-D matrix (statements x sorts), got {scores.ndim} dimension(s)")
        if not np.issubdtype(scores.dtype, np.integer):
            if scores.dtype.kind not in "fb" and scores.dtype != object:
                raise self._error(f"scores must be integers, got dtype {scores.dtype}")
            scores = _to_int(scores, self)
        scores = np.array(scores, dtype=np.int64, copy=True)
        scores.setflags(write=False)
        set_(self, "scores", scores)
        if self.grid is None:
            if not self.forced:
                raise self._error("a non-forced study needs its notional distribution (grid)")
            if scores.shape[0] and scores.shape[1]:  # empty studies fail the size checks in validate()
                vals, counts = np.unique(scores[:, 0], return_counts=True)
                set_(self, "grid", MappingProxyType(grid_from_counts(dict(zip(vals.tolist(), counts.tolist())))))
        else:
            try:
                set_(self, "grid", MappingProxyType(grid_from_counts(dict(self.grid))))
            except QInputError as err:
                raise err.located(file=self.source) from None
        self.validate()
        set_(self, "_locate", None)

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_array(cls, scores, statement_ids=None, sort_ids=None, *, grid=None, forced=True, **kw) -> "QStudy":
        """From a numpy array (statements x sorts); ids default to qmethod's ``sta_1..`` and ``s1..``."""
        scores = np.asarray(scores)
        n_st, n_so = scores.shape if scores.ndim == 2 else (0, 0)
        statement_ids = [f"sta_{i + 1}" for i in range(n_st)] if statement_ids is None else statement_ids
        sort_ids = [f"s{j + 1}" for j in range(n_so)] if sort_ids is None else sort_ids
        return cls(scores, tuple(statement_ids), tuple(sort_ids), grid=grid, forced=forced, **kw)

    @classmethod
    def from_frame(cls, frame, *, grid=None, forced=True, text_column=None, **kw) -> "QStudy":
        """From a pandas DataFrame in qmethod's layout: index = statement ids, columns = Q-sort ids.

        ``text_column`` names a column of statement wordings to take out of the scores.
        """
        texts = None
        if text_column is not None:
            texts = tuple(frame[text_column].astype(str))
            frame = frame.drop(columns=[text_column])
        values = frame.to_numpy(dtype=object)
        return cls(values, tuple(frame.index), tuple(frame.columns), grid=grid, forced=forced,
                   statement_texts=texts, **kw)

    # ------------------------------------------------------------------ views
    @property
    def n_statements(self) -> int:
        return self.scores.shape[0]

    @property
    def n_sorts(self) -> int:
        return self.scores.shape[1]

    @cached_property
    def qscores(self) -> np.ndarray:
        """The grid as an ascending vector of n_statements values (qmethod's ``qscores``); read-only, built once."""
        q = np.repeat(np.fromiter(self.grid.keys(), np.int64), np.fromiter(self.grid.values(), np.int64))
        q.setflags(write=False)
        return q

    def to_frame(self):
        """qmethod's ``dataset``: a DataFrame, statements x sorts."""
        import pandas as pd

        return pd.DataFrame(self.scores, index=list(self.statement_ids), columns=list(self.sort_ids))

    def replace(self, **changes) -> "QStudy":
        """A new, validated study with some fields changed."""
        from dataclasses import replace

        return replace(self, **changes)

    def _key(self) -> tuple:
        return (self.statement_ids, self.sort_ids, tuple(self.grid.items()), self.forced, self.statement_texts,
                self.name)

    def __eq__(self, other):
        """Equal when the data are equal: scores, ids, grid, ``forced``, texts and name (``source`` is ignored)."""
        if not isinstance(other, QStudy):
            return NotImplemented
        return self._key() == other._key() and np.array_equal(self.scores, other.scores)

    def __hash__(self):
        return hash((self._key(), self.scores.shape, self.scores.tobytes()))

    def __repr__(self):
        kind = "forced" if self.forced else "non-forced"
        return (f"QStudy({self.name or 'unnamed'!r}: {self.n_statements} statements x {self.n_sorts} sorts, "
                f"{kind} grid {grid_text(self.grid)})")

    # ------------------------------------------------------------------ validation
    def _error(self, msg, *, sort=None, statement=None, sort_index=None, statement_index=None):
        line = self._locate(sort_index, statement_index) if self._locate is not None else None
        return QInputError(msg, file=self.source, line=line, sort=sort, statement=statement)

    def validate(self) -> None:
        """Raise :class:`QInputError` naming the first problem, else return None.

        Checks: at least 2 statements and 2 sorts; unique ids; id counts match the matrix; the grid has as many
        cells as there are statements; every score lies on the grid; with ``forced=True`` every sort fills the
        grid exactly (over- and under-filled scores are named); no sort has zero variance.
        """
        n_st, n_so = self.scores.shape
        if len(self.statement_ids) != n_st:
            raise self._error(f"{len(self.statement_ids)} statement ids for {n_st} statement rows")
        if len(self.sort_ids) != n_so:
            raise self._error(f"{len(self.sort_ids)} sort ids for {n_so} sort columns")
        if self.statement_texts is not None and len(self.statement_texts) != n_st:
            raise self._error(f"{len(self.statement_texts)} statement texts for {n_st} statements")
        for kind, ids in (("sort", self.sort_ids), ("statement", self.statement_ids)):
            seen = {}
            for i, s in enumerate(ids):
                if not s.strip():
                    kw = {"sort_index": i} if kind == "sort" else {"statement_index": i}
                    raise self._error(f"empty {kind} id at position {i + 1}", **kw)
                if s in seen:
                    kw = {"sort_index": i} if kind == "sort" else {"statement_index": i}
                    raise self._error(f"duplicate {kind} id {s!r} (also at position {seen[s] + 1})", **kw)
                seen[s] = i
        if n_so < 2:
            raise self._error(f"a study needs at least 2 Q-sorts, found {n_so}")
        if n_st < 2:
            raise self._error(f"a study needs at least 2 statements, found {n_st}")
        cells = sum(self.grid.values())
        if cells != n_st:
            raise self._error(f"the grid {grid_text(self.grid)} has {cells} cells but the study has {n_st} statements")
        lo, hi = min(self.grid), max(self.grid)
        on_grid = np.isin(self.scores, np.fromiter(self.grid, np.int64)) if self.forced else \
            (self.scores >= lo) & (self.scores <= hi)
        if not on_grid.all():
            i, j = np.argwhere(~on_grid)[0]
            raise self._error(
                f"score {format_score(self.scores[i, j])} is outside the grid {grid_text(self.grid)}",
                sort=self.sort_ids[j], statement=self.statement_ids[i], sort_index=j, statement_index=i)
        if self.forced:
            expected = self.qscores
            ok = (np.sort(self.scores, axis=0) == expected[:, None]).all(axis=0)
            if not ok.all():
                j = int(np.flatnonzero(~ok)[0])
                vals, counts = np.unique(self.scores[:, j], return_counts=True)
                have = dict(zip(vals.tolist(), counts.tolist()))
                bad = [f"score {format_score(s)} has {have.get(s, 0)} statement{'s' * (have.get(s, 0) != 1)}, "
                       f"grid allows {self.grid.get(s, 0)}"
                       for s in sorted(set(have) | set(self.grid)) if have.get(s, 0) != self.grid.get(s, 0)]
                raise self._error("; ".join(bad) + " (declare the study non-forced if this is intended)",
                                  sort=self.sort_ids[j], sort_index=j)
        flat = (self.scores == self.scores[:1]).all(axis=0)
        if flat.any():
            j = int(np.flatnonzero(flat)[0])
            raise self._error(f"zero variance: every statement has score {format_score(self.scores[0, j])}",
                              sort=self.sort_ids[j], sort_index=j)


def study_block(study: QStudy) -> dict:
    """The ``study`` block of every JSON output: ``name``, ``source``, ``n_statements``, ``n_sorts``, ``forced``,
    ``grid`` (score as printed -> cells)."""
    return {"name": study.name, "source": study.source, "n_statements": study.n_statements,
            "n_sorts": study.n_sorts, "forced": study.forced,
            "grid": {format_score(k): v for k, v in study.grid.items()}}


def grid_text(grid) -> str:
    """A grid as text: ``-4..+4 (2,3,4,5,5,5,4,3,2)``; ``{}`` for an empty grid."""
    if not grid:
        return "{}"
    return f"{format_score(min(grid))}..{format_score(max(grid))} (" + ",".join(str(c) for c in grid.values()) + ")"


MISSING_CODES = frozenset({"NA", "NaN", "nan"})  # how R's write.csv and pandas write a missing cell


def _to_int(values: np.ndarray, study: QStudy) -> np.ndarray:
    """Object/float matrix -> int64, naming the first missing or non-integer cell.

    Clean input (every cell a finite whole number) converts in one vectorised step; only otherwise are the cells
    walked one by one, to find and name the first bad one.
    """
    try:
        f = values.astype(np.float64)
    except (TypeError, ValueError):
        pass
    else:
        if np.isfinite(f).all() and (f == np.round(f)).all():
            return f.astype(np.int64)
    out = np.empty(values.shape, dtype=np.int64)
    for (i, j), v in np.ndenumerate(values):  # only to locate the first bad cell
        loc = dict(sort=_at(study.sort_ids, j), statement=_at(study.statement_ids, i),
                   sort_index=j, statement_index=i)
        if v is None or (isinstance(v, (float, np.floating)) and np.isnan(v)) or (isinstance(v, str) and not v.strip()):
            raise study._error("missing value", **loc)
        if isinstance(v, str) and v.strip() in MISSING_CODES:
            raise study._error(f"missing value ({v.strip()!r})", **loc)
        try:
            f = float(v.strip()) if isinstance(v, str) else float(v)
        except (TypeError, ValueError):
            raise study._error(f"value {v!r} is not a number", **loc) from None
        if not np.isfinite(f) or f != int(f):
            raise study._error(f"value {v!r} is not an integer grid score", **loc)
        out[i, j] = int(f)
    return out


def _at(seq: Sequence, i: int):
    return seq[i] if i < len(seq) else f"#{i + 1}"
