"""Reading published result tables (loadings) so that a paper's numbers can be re-checked."""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass

import numpy as np

from ..errors import QInputError
from ..numbers import NumberError, is_number, number, shown
from .csv import sniff_separator
from .files import read_text
from .workbook import blank, cell_text, excel_sheets, is_workbook, pick_sheet

__all__ = ["read_loadings", "read_table", "PublishedTable", "printed_decimals", "markdown_rows", "RULES"]

_FACTOR = re.compile(r"^(f|factor|fac)[ _]?\d+$", re.IGNORECASE)
_RULE = re.compile(r"^:?-{3,}:?$")


def markdown_rows(text: str):
    """The cells of a markdown (pipe) table, ``| id | f1 | f2 |`` rows without the ``|---|`` rule, or None when the
    text is not one (its first non-blank line does not start with ``|``)."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if not lines or not lines[0].startswith("|"):
        return None
    rows = []
    for ln in lines:
        cells = [c.strip() for c in ln.strip("|").split("|")]
        if all(_RULE.match(c.replace(" ", "")) for c in cells if c):
            continue
        rows.append(cells)
    return rows


def read_loadings(path, *, id_column: str | None = None, encoding=None):
    """Read a loadings table: one row per Q-sort, a sort id column and one column per factor.

    Factor columns are those named ``f1``, ``F2``, ``factor 3`` ...; the id column is ``id_column`` or else the
    first column holding non-numeric values (e.g. ``participant`` in the NAV table), or else the first column.
    Other columns (notes, line numbers) are ignored. The file is read as :func:`qvalid.io.read_csv` reads a study
    (UTF-8 unless ``encoding`` is given; separator sniffed; one-line :class:`QInputError` for every read error).

    Returns
    -------
    ids : list of str
    factors : list of str
    loadings : ndarray of shape (n_sorts, k)
    """
    text = read_text(path, encoding)
    rows = markdown_rows(text)
    if rows is None:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=sniff_separator(text, path)))
    if not rows or not any(rows[0]):
        raise QInputError("empty loadings file", file=path)
    header, body = [h.strip() for h in rows[0]], [r for r in rows[1:] if any(c.strip() for c in r)]
    fcols = [i for i, h in enumerate(header) if _FACTOR.match(h)]
    if not fcols:
        raise QInputError("no factor columns (named f1, f2, ... or factor1, ...) in the header", file=path, line=1)
    if id_column is not None:
        if id_column not in header:
            raise QInputError(f"no column {id_column!r} in the header", file=path, line=1)
        icol = header.index(id_column)
    else:
        others = [i for i in range(len(header)) if i not in fcols]
        icol = next((i for i in others if any(not is_number(r[i]) for r in body if i < len(r))),
                    others[0] if others else None)
        if icol is None:
            raise QInputError("no sort id column", file=path, line=1)
    ids, values = [], []
    for ln, r in enumerate(body, start=2):
        if len(r) < len(header):
            raise QInputError(f"row has {len(r)} fields, header has {len(header)}", file=path, line=ln)
        sid = r[icol].strip()
        row = []
        for i in fcols:
            try:
                row.append(number(r[i], **RULES["loadings"]))
            except NumberError as err:
                raise QInputError(f"column {header[i]!r}: loading {err}", file=path, line=ln, sort=sid or None) \
                    from None
        if sid in ids:
            raise QInputError(f"duplicate sort id {sid!r}", file=path, line=ln)
        ids.append(sid)
        values.append(row)
    if not ids:
        raise QInputError("no rows of loadings", file=path)
    return ids, [header[i] for i in fcols], np.array(values, dtype=np.float64)


# ---------------------------------------------------------------------------------------------------------------
# General published tables (loadings, arrays, z-scores) with the number of printed decimals of every cell.

#: What a cell of each kind of published table must be (:func:`qvalid.numbers.number`): a loading lies in
#: [-1, 1], a factor array holds whole scores, a z-score is any finite number.
RULES = {"loadings": {"low": -1.0, "high": 1.0}, "arrays": {"whole": True}, "zscores": {}, None: {}}

_MARK_COLUMN = re.compile(r"^(?:fg|flag|flagged|flag_f|flagged_f|x|def|defining)[ _]?(\d+)$", re.IGNORECASE)
_TRUE_MARKS = {"x", "*", "1", "true", "yes", "y", "t"}
_FALSE_MARKS = {"", "0", "false", "no", "n", "f", "-", "na"}


@dataclass(frozen=True)
class PublishedTable:
    """A table as printed in a paper: one row per sort (or statement), one column per factor.

    Attributes
    ----------
    ids : tuple of str
        Row ids (sorts or statements).
    factors : tuple of str
        Factor column names as printed.
    values : ndarray (n_rows, k)
        NaN where a cell is blank (unknown).
    decimals : ndarray of int (n_rows, k)
        Decimals printed in each cell (-1 for blank cells): ``0.2724`` has 4. A printer that drops trailing zeros
        makes this a lower bound, so the rounding bounds derived from it are conservative.
    marks : ndarray of bool (n_rows, k) or None
        X marks of defining sorts when the table has mark columns (``fg1``, ``flag_f1``, ``x1`` ...) or one column
        naming each sort's defining factor (``flag``, ``defining``: 1, 2, ``f2``, blank for none).
    source : str
    notes : tuple of str
        The columns that were not used (neither ids, factors nor marks), as a sentence each.
    """

    ids: tuple
    factors: tuple
    values: np.ndarray
    decimals: np.ndarray
    marks: np.ndarray | None
    source: str
    notes: tuple = ()

    @property
    def k(self) -> int:
        return len(self.factors)


def printed_decimals(value) -> int:
    """Decimals of a printed number: of its text (``"0.2724"`` -> 4, ``"37"`` -> 0), or of the shortest repr of a
    float read from a spreadsheet or JSON (``9.30894`` -> 5). -1 for a blank or NaN."""
    if value is None:
        return -1
    if not isinstance(value, str):
        if isinstance(value, float) and math.isnan(value):
            return -1
        value = repr(float(value)) if isinstance(value, float) else str(value)
        if value.endswith(".0"):
            value = value[:-2]
    t = value.strip().lower()
    if not t or t in ("na", "nan"):
        return -1
    if not is_number(t):  # not written as a number: no decimals (the reader then refuses the cell)
        return 0
    if "e" in t:
        mant, _, exp = t.partition("e")
        return max(0, printed_decimals(mant) - int(exp))
    return len(t.partition(".")[2])


def read_table(path, *, prefix: str | None = None, id_column: str | None = None, encoding: str | None = None,
               sheet=None, kind: str | None = None) -> PublishedTable:
    """Read a published table from CSV/TSV or xlsx/ods, keeping the printed decimals of every cell.

    Factor columns are those named ``f1``, ``F2``, ``factor 3`` (or ``<prefix><j>`` with ``prefix``, e.g.
    ``"zsc_f"``); mark columns ``fg1``, ``flag_f1``, ``x1`` ... hold X marks of defining sorts (``X``, ``*``,
    ``1``, ``TRUE``; blank, ``0``, ``FALSE`` = not marked). The id column is ``id_column``, else one named like an id
    (``id``, ``statement``, ``participant``, ...), else the first other
    column holding text (e.g. ``participant``), else the first other column. Blank factor cells are unknown
    (NaN; also ``NA`` and ``nan``, as R and pandas print a missing value). A column ``flag`` (``defining``, ...)
    holding each sort's defining factor (1, 2, f2; blank for none) gives the marks. Other columns are not used and
    :attr:`PublishedTable.notes` names them. ``kind`` (``"loadings"``, ``"arrays"``, ``"zscores"``) adds the rule of
    :data:`RULES` to every cell: loadings in [-1, 1], whole scores in arrays; every number must be written as one
    (:mod:`qvalid.numbers`) and finite.

    Raises
    ------
    QInputError
        Naming file, line, row id and column, quoting the cell as written: no factor columns, no rows, a cell that
        is not a number (or not finite, whole, in range), an unreadable mark, duplicate ids, a file that is not in
        ``encoding`` (default UTF-8, or UTF-16/32 with a byte-order mark).
    """
    import pandas as pd


    src = str(path)
    frame = _sheet_frame(path, sheet) if is_workbook(path) else _text_frame(path, encoding)
    header = [str(c).strip() for c in frame.columns]
    pat = _FACTOR if prefix is None else re.compile(rf"^{re.escape(prefix)}\d+$", re.IGNORECASE)
    fcols = [i for i, h in enumerate(header) if pat.match(h)]
    if not fcols:
        raise QInputError("no factor columns (named f1, f2, ... or factor1, ...) in the header"
                          if prefix is None else f"no columns named {prefix}1, {prefix}2, ...", file=src, line=1)
    mcols = {int(_MARK_COLUMN.match(h).group(1)): i for i, h in enumerate(header) if _MARK_COLUMN.match(h)}
    dcols = [i for i, h in enumerate(header) if _DEFINING_COLUMN.match(h)]
    if len(dcols) > 1 or (dcols and mcols):
        raise QInputError("two sets of defining-sort marks: " + ", ".join(repr(header[i]) for i in
                          dcols + list(mcols.values())) + "; keep one", file=src, line=1)
    if id_column is not None:
        if id_column not in header:
            raise QInputError(f"no column {id_column!r} in the header", file=src, line=1)
        icol = header.index(id_column)
    else:
        others = [i for i in range(len(header)) if i not in fcols and i not in mcols.values() and i not in dcols]
        named = [i for i in others if header[i].lower() in _ID_NAMES]
        icol = named[0] if named else next((i for i in others if any(not is_number(_cell_text(v))
                                                                     for v in frame.iloc[:, i] if _cell_text(v))),
                                           others[0] if others else None)
    used = set(fcols) | set(mcols.values()) | set(dcols) | {icol}
    unused = [header[i] or f"column {i + 1}" for i in range(len(header)) if i not in used]
    notes = (f"{len(unused)} column(s) not used: {', '.join(map(repr, unused))}",) if unused else ()
    cells = frame.to_numpy(dtype=object)
    n, k = cells.shape[0], len(fcols)
    if n == 0:
        raise QInputError("no rows below the header", file=src)
    rule = RULES[kind]
    who = "sort" if kind == "loadings" else "statement" if kind in ("arrays", "zscores") else None
    what = {"loadings": "loading", "arrays": "score", "zscores": "z-score"}.get(kind, "value")
    values, decimals = np.full((n, k), np.nan), np.full((n, k), -1, dtype=np.int64)
    ids = []
    for r in range(n):  # reading a printed table cell by cell, to report the bad one
        line = r + 2
        sid = str(r + 1) if icol is None else _cell_text(cells[r, icol])
        if sid in ids:
            raise QInputError(f"duplicate id {sid!r}", file=src, line=line)
        ids.append(sid)
        for j, c in enumerate(fcols):
            raw = cells[r, c]
            decimals[r, j] = printed_decimals(raw if not isinstance(raw, str) else raw.replace(",", "."))
            if decimals[r, j] < 0:
                continue
            try:
                values[r, j] = number(raw.replace(",", ".") if isinstance(raw, str) else raw, **rule)
            except NumberError as err:
                raise QInputError(f"column {header[c]!r}: {what} {shown(raw)} {err.reason}", file=src, line=line,
                                  **({who: sid} if who else {})) from None
    marks = None
    if dcols:
        marks = _defining_marks(cells[:, dcols[0]], header[dcols[0]], k, src)
    if mcols:
        marks = np.zeros((n, k), dtype=bool)
        for j in range(k):
            c = mcols.get(j + 1)
            for r in range(n if c is not None else 0):
                t = _cell_text(cells[r, c]).lower()
                if t not in _TRUE_MARKS | _FALSE_MARKS:
                    raise QInputError(f"column {header[c]!r}: mark {t!r} is not X/*/1/TRUE or blank/0/FALSE",
                                      file=src, line=r + 2)
                marks[r, j] = t in _TRUE_MARKS
    return PublishedTable(tuple(ids), tuple(header[c] for c in fcols), values, decimals, marks, src, notes)


def _cell_text(v) -> str:
    """A cell's text as the workbook shows it, "" when blank (:func:`~qvalid.io.workbook.cell_text`)."""
    return "" if blank(v) else cell_text(v)


#: Headers that name an id column (preferred to a column of text such as statement wordings).
_ID_NAMES = {"id", "ids", "statement", "statements", "statement id", "sta", "sort", "sorts", "q-sort", "qsort",
             "participant", "participants", "respondent", "name", "nm"}

#: One column holding each sort's defining factor (how many papers print flags): ``flag``, ``defining``, ...
_DEFINING_COLUMN = re.compile(r"^(?:flag|flags|flagged|defining|defines|def|defining factor|loads on|fg)$",
                              re.IGNORECASE)


def _defining_marks(column, name: str, k: int, src) -> np.ndarray:
    """A column of defining factors (``1``, ``2``, ``f2``, ``F 3``, ``factor 2``; blank, ``0``, ``-``, ``no``: none)
    as X marks (n_rows, k); a value that names no factor (an X, a 5 with four factors) is refused."""
    marks = np.zeros((len(column), k), dtype=bool)
    for r, v in enumerate(column):
        t = _cell_text(v).lower().replace(" ", "")
        if t in _FALSE_MARKS:
            continue
        m = re.fullmatch(r"(?:f|factor|fac)?(\d+)", t)
        if m is None or not 1 <= int(m.group(1)) <= k:
            raise QInputError(f"column {name!r}: {_cell_text(v)!r} names no factor 1..{k} (the column gives each "
                              "sort's defining factor; for X marks use one column per factor: fg1, fg2, ...)",
                              file=src, line=r + 2)
        marks[r, int(m.group(1)) - 1] = True
    return marks



def _sheet_frame(path, sheet):
    """A sheet as a table: its first non-blank row the header, numbers kept as numbers (for their decimals)."""
    import pandas as pd

    key, raw = pick_sheet(excel_sheets(path), sheet, path)
    if raw.shape[0] < 1:
        raise QInputError(f"sheet {key!r} is empty", file=path)
    header = ["" if blank(h) else cell_text(h) for h in raw.iloc[0]]
    return pd.DataFrame(raw.iloc[1:].to_numpy(dtype=object), columns=header)


def _text_frame(path, encoding):
    """A CSV/TSV (separator sniffed) or markdown table as strings, blank cells ""."""
    import pandas as pd

    text = read_text(path, encoding)
    rows = markdown_rows(text)
    if rows is None:
        rows = [r for r in csv.reader(io.StringIO(text, newline=""), delimiter=sniff_separator(text, path))
                if any(c.strip() for c in r)]
    if not rows:
        raise QInputError("empty table", file=path)
    width = len(rows[0])
    for n, r in enumerate(rows[1:], start=2):
        if len(r) != width:
            raise QInputError(f"row has {len(r)} fields, the header has {width}", file=path, line=n)
    return pd.DataFrame(rows[1:], columns=[h.strip() for h in rows[0]], dtype=object)
