"""KADE / Ken-Q workbooks: the "XLSX Type 2" input and KADE's result workbook (its Excel export).

A result workbook holds everything a paper's KADE analysis produced; :func:`read_kade_workbook` reads it into a
:class:`KadeWorkbook` of numpy arrays in the study's sort and statement order, so that qvalid can re-run the
analysis (``flavor="kade"`` with the workbook's flags) and compare cell by cell. Sheet layouts are KADE 1.3's
English export (``Output/calcualteOutputLogic/2_push*ToOutput.js``); tables are found by their header cells, not
by fixed positions. Statements are named ``S1..Sn`` and Q-sorts keep their names, as in KADE.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from ..errors import QInputError
from ..numbers import NumberError, number
from ..study import QStudy
from .workbook import blank, cell_text, excel_sheets

__all__ = ["KadeWorkbook", "read_kade_workbook", "read_kade_flags", "is_kade_input", "is_kade_results",
           "study_from_kade_input", "study_from_kade_results"]

_TYPE2 = ("sorts", "pattern", "statements")
_RESULTS = ("Project Overview", "Q sorts", "Factor Loadings")


@dataclass(frozen=True, eq=False)
class KadeWorkbook:
    """A KADE result workbook as arrays (rows in the study's sort / statement order, columns f1..fk).

    Attributes
    ----------
    path, kade_version : str
    study : QStudy
        The Q-sorts ("Q sorts" sheet) with the design of "Project Overview" and the statement texts.
    nfactors : int
    loadings : ndarray (n_sorts, k)
        Rotated loadings as printed (4 dp), "Factor Loadings".
    flags : ndarray of bool (n_sorts, k)
        The "Flagged" marks, i.e. the flags KADE used (often edited by hand).
    table_order : ndarray of int (n_sorts,)
        Row order of the "Factor Loadings Table" (KADE's output steps follow it).
    unrotated : ndarray (n_sorts, n_extracted)
        "Unrotated Factor Matrix" (4 dp).
    correlation_x100 : ndarray (n_sorts, n_sorts)
        "Correlation Matrix" as printed: 100 r rounded to an integer.
    weights : ndarray (n_sorts, k)
        "Fac. j Sorts Weight" (scaled weights, 0 where not flagged).
    zscores : ndarray (n_statements, k)
        "Fac. j" z-scores (3 dp).
    factor_arrays : ndarray (n_statements, k)
        "Fac. j" Q-sort values.
    nload, reliability, se : ndarray (k,)
        "Factor Characteristics": defining sorts, composite reliability, S.E. of factor z-scores.
    sed : ndarray (k, k)
        "Standard Errors for Diffs".
    dist_level : ndarray of int (n_statements, k)
        "Dist State Fac. j": 2 = distinguishing at p < .01 (marked "*"), 1 = at p < .05, 0 = not listed.
    consensus_level : ndarray of int (n_statements,)
        "Consensus Statements": 2 = non-significant at p > .05 too (marked "*"), 1 = at p > .01 only, 0 = not listed.
    """

    path: str
    kade_version: str
    study: QStudy
    nfactors: int
    loadings: np.ndarray
    flags: np.ndarray
    table_order: np.ndarray
    unrotated: np.ndarray
    correlation_x100: np.ndarray
    weights: np.ndarray
    zscores: np.ndarray
    factor_arrays: np.ndarray
    nload: np.ndarray
    reliability: np.ndarray
    se: np.ndarray
    sed: np.ndarray
    dist_level: np.ndarray
    consensus_level: np.ndarray

    @property
    def factors(self) -> list[str]:
        return [f"f{j + 1}" for j in range(self.nfactors)]


# ---------------------------------------------------------------------------------------------------- detection
def is_kade_input(sheets: dict) -> bool:
    """The sheets of KADE/Ken-Q's "XLSX Type 2" input workbook."""
    return all(s in sheets for s in _TYPE2)


def is_kade_results(sheets: dict) -> bool:
    """The sheets of a KADE result workbook."""
    return all(s in sheets for s in _RESULTS)


# ---------------------------------------------------------------------------------------------------- studies
def study_from_kade_input(sheets: dict, path, *, grid=None, forced=True) -> QStudy:
    """KADE's "XLSX Type 2" input (KADE ``Input/Excel/LoadExcelT2.jsx``, ``excelLogic/*T2*.js``): sheet ``sorts``
    one row per Q-sort (id, then the scores of statements 1..n), ``pattern`` the scores -6..+13 (row 1) over the
    number of cells (row 2), ``statements`` a "Number | Statements" table; ``name`` the project name."""
    sorts = sheets["sorts"].dropna(how="all").dropna(axis=1, how="all")
    if sorts.empty:
        raise QInputError("sheet 'sorts' is empty", file=path)
    ids = [cell_text(v) for v in sorts.iloc[:, 0]]
    raw = sorts.iloc[:, 1:].to_numpy(dtype=object)
    n = raw.shape[1]
    pattern = sheets["pattern"].dropna(how="all").dropna(axis=1, how="all").to_numpy(dtype=object)
    if pattern.shape[0] < 2:
        raise QInputError("sheet 'pattern' must hold the scores in row 1 and their cell counts in row 2", file=path)
    design = {_number(s, path, "pattern", "score", whole=True): _number(c, path, "pattern", "cell count", whole=True,
                                                                          low=0)
              for s, c in zip(pattern[0], pattern[1])}
    texts = _statement_texts(sheets["statements"], n, header="Number", path=path)
    name = _project_name(sheets.get("name"))
    return QStudy(raw.T, [f"S{i + 1}" for i in range(n)], ids, grid=design if grid is None else grid,
                  forced=forced, statement_texts=texts, name=name, source=str(path))


def study_from_kade_results(sheets: dict, path, *, grid=None, forced=True) -> QStudy:
    """The Q-sorts of a KADE result workbook ("Q sorts"), its design ("Project Overview": "Q sort Design") and
    statement texts ("statements")."""
    q = sheets["Q sorts"]
    head = _find_row(q, "Participant", path, "Q sorts")
    header = []
    for v in q.iloc[head, 1:]:  # S1..Sn, then KADE's "Mean" and "Standard Deviation" columns
        if blank(v) or not re.fullmatch(r"S\d+", cell_text(v)):
            break
        header.append(cell_text(v))
    rows = q.iloc[head + 1:].dropna(how="all")
    rows = rows[~rows.iloc[:, 0].map(blank)]
    ids = [cell_text(v) for v in rows.iloc[:, 0]]
    raw = rows.iloc[:, 1:1 + len(header)].to_numpy(dtype=object)
    overview = _overview(sheets["Project Overview"])
    design = overview.get("Q sort Design")
    if grid is None and not blank(design):
        values = [_number(v, path, "Project Overview", f"Q sort Design {cell_text(design)!r}: score", whole=True)
                  for v in str(cell_text(design)).split(",") if v.strip()]
        scores, counts = np.unique(values, return_counts=True)
        grid = dict(zip(scores.tolist(), counts.tolist()))
    texts = _statement_texts(sheets["statements"], len(header), header="Statement Number", path=path)
    return QStudy(raw.T, header, ids, grid=grid, forced=forced, statement_texts=texts,
                  name=str(overview.get("Project Name") or ""), source=str(path))


# ---------------------------------------------------------------------------------------------------- results
def read_kade_workbook(path) -> KadeWorkbook:
    """Read a KADE result workbook (KADE 1.3's Excel export) into a :class:`KadeWorkbook`.

    Raises
    ------
    QInputError
        When it is not a KADE result workbook or a table is missing or malformed (naming the sheet).
    """

    sheets = excel_sheets(path)
    if not is_kade_results(sheets):
        raise QInputError("not a KADE result workbook (needs the sheets "
                          + ", ".join(repr(s) for s in _RESULTS) + ")", file=path)
    study = study_from_kade_results(sheets, path)
    sorts = {s: i for i, s in enumerate(study.sort_ids)}
    n_so, n_st = study.n_sorts, study.n_statements

    fl_sheet = sheets["Factor Loadings"]
    head = _find_row(fl_sheet, "Nm", path, "Factor Loadings")
    labels = [str(v).strip() for v in fl_sheet.iloc[head]]
    cols = [c for c, v in enumerate(labels) if v.startswith("Factor")]
    k = len(cols)
    if k == 0:
        raise QInputError("sheet 'Factor Loadings': no 'Factor  1' column", file=path)
    loadings = np.zeros((n_so, k))
    flags = np.zeros((n_so, k), dtype=bool)
    for i, row in _all_sorts(fl_sheet, head, sorts, path, "Factor Loadings", col=1):
        loadings[i] = [_number(row.iloc[c], path, "Factor Loadings", "loading", low=-1, high=1, sort=study.sort_ids[i])
                       for c in cols]
        flags[i] = [_flag_mark(row.iloc[c + 1] if c + 1 < len(row) else None, path, study.sort_ids[i]) for c in cols]

    tab = sheets["Factor Loadings Table"]
    head = _find_row(tab, "Nm", path, "Factor Loadings Table")
    order = np.array([i for i, _ in _all_sorts(tab, head, sorts, path, "Factor Loadings Table", col=1)])

    unrot = sheets["Unrotated Factor Matrix"]
    head = _find_row(unrot, "Nm", path, "Unrotated Factor Matrix")
    ucols = [c for c, v in enumerate(unrot.iloc[head]) if str(v).strip().startswith("Factor")]
    unrotated = np.zeros((n_so, len(ucols)))
    for i, row in _all_sorts(unrot, head, sorts, path, "Unrotated Factor Matrix", col=1):
        unrotated[i] = [_number(row.iloc[c], path, "Unrotated Factor Matrix", "loading", sort=study.sort_ids[i])
                        for c in ucols]

    cor = sheets["Correlation Matrix"]
    head = _find_row(cor, "Participant", path, "Correlation Matrix")
    cor_ids = [cell_text(v) for v in cor.iloc[head, 1:1 + n_so]]
    unknown = [c for c in cor_ids if c not in sorts]
    if unknown or len(set(cor_ids)) != n_so:
        raise QInputError("sheet 'Correlation Matrix': the header does not name each Q-sort once"
                          + (f" ({unknown[0]!r} is not a Q-sort)" if unknown else ""), file=path)
    corr = np.zeros((n_so, n_so))
    for i, row in _all_sorts(cor, head, sorts, path, "Correlation Matrix", col=0):
        corr[i, [sorts[s] for s in cor_ids]] = [
            _number(v, path, "Correlation Matrix", "correlation (x 100)", low=-100, high=100, sort=study.sort_ids[i])
            for v in row.iloc[1:1 + n_so]]

    weights = np.zeros((n_so, k))
    zscores = np.full((n_st, k), np.nan)
    arrays = np.full((n_st, k), np.nan)
    for j in range(k):
        name = f"Fac. {j + 1} Sorts Weight"
        ws = _sheet(sheets, name, path)
        head = _find_row(ws, "Nm", path, name)
        for i, row in _rows(ws, head, sorts, path, name, col=1):
            weights[i, j] = _number(row.iloc[2], path, name, "weight", sort=study.sort_ids[i])
        name = f"Fac. {j + 1}"
        fs = _sheet(sheets, name, path)
        head = _find_row(fs, "Statement Number", path, name)
        for s, row in _statement_rows(fs, head, n_st, path, name, every=True):
            sid = study.statement_ids[s]
            zscores[s, j] = _number(row.iloc[2], path, name, "z-score", statement=sid)
            arrays[s, j] = _number(row.iloc[3], path, name, "Q sort value", whole=True, statement=sid)

    chars = _overview(sheets["Factor Characteristics"], width=k)
    nload = _labelled(chars, "No. of Defining Variables", k, path, "Factor Characteristics", whole=True, low=0)
    rel = _labelled(chars, "Composite Reliability", k, path, "Factor Characteristics", low=0, high=1)
    se = _labelled(chars, "S.E. of Factor Z-scores", k, path, "Factor Characteristics", low=0)
    sed_sheet = _overview(sheets["Standard Errors for Diffs"], width=k)
    sed = np.array([_labelled(sed_sheet, f"Factor  {j + 1}", k, path, "Standard Errors for Diffs", low=0)
                    for j in range(k)])

    dist = np.zeros((n_st, k), dtype=np.int64)
    for j in range(k):
        name = f"Dist State Fac. {j + 1}"
        ds = _sheet(sheets, name, path)
        head = _find_row(ds, "Nm", path, name)
        sig_col = _significance_column(ds, head, j + 1)
        for s, row in _statement_rows(ds, head, n_st, path, name):
            dist[s, j] = 1 + _star(row.iloc[sig_col], path, name, study.statement_ids[s])
    cons = np.zeros(n_st, dtype=np.int64)
    cs = sheets.get("Consensus Statements")
    if cs is not None:
        head = _find_row(cs, "Nm", path, "Consensus Statements")
        for s, row in _statement_rows(cs, head, n_st, path, "Consensus Statements"):
            cons[s] = 1 + _star(row.iloc[1], path, "Consensus Statements", study.statement_ids[s])
    version = str(_overview(sheets["Project Overview"]).get("KADE Version Number") or "")
    return KadeWorkbook(str(path), version, study, k, loadings, flags, order, unrotated, corr, weights, zscores,
                        arrays, nload, rel, se, sed, dist, cons)


def read_kade_flags(path, sort_ids, nfactors: int) -> np.ndarray:
    """The "Flagged" marks of a KADE result workbook as a bool array (len(sort_ids), nfactors), in the order of
    ``sort_ids`` (matched by name), for :func:`qvalid.analyze`'s ``flags=``.

    Raises
    ------
    QInputError
        When the workbook has another number of factors, or a sort of the study is missing from it.
    """
    wb = read_kade_workbook(path)
    if wb.nfactors != nfactors:
        raise QInputError(f"the KADE workbook has {wb.nfactors} factor(s), the analysis {nfactors}", file=path)
    index = {s: i for i, s in enumerate(wb.study.sort_ids)}
    missing = [s for s in sort_ids if s not in index]
    if missing:
        raise QInputError("Q-sort not in the KADE workbook" + (f" (also {', '.join(missing[1:])})"
                                                               if len(missing) > 1 else ""),
                          file=path, sort=missing[0])
    return wb.flags[[index[s] for s in sort_ids]]


# ---------------------------------------------------------------------------------------------------- helpers
def _sheet(sheets, name, path):
    if name not in sheets:
        raise QInputError(f"the KADE workbook has no sheet {name!r}", file=path)
    return sheets[name]


def _find_row(frame, label: str, path, sheet: str) -> int:
    """Index of the first row whose first cell is ``label``."""
    for i, v in enumerate(frame.iloc[:, 0]):
        if not blank(v) and str(v).strip() == label:
            return i
    raise QInputError(f"sheet {sheet!r}: no table headed {label!r}", file=path)


def _rows(frame, head: int, sorts: dict, path, sheet: str, *, col: int):
    """(sort index, row) for the rows under ``head`` until the first blank id in column ``col``."""
    for _, row in frame.iloc[head + 1:].iterrows():
        v = row.iloc[col]
        if blank(v):
            break
        sid = cell_text(v)
        if sid not in sorts:
            raise QInputError(f"sheet {sheet!r}: unknown Q-sort", file=path, sort=sid)
        yield sorts[sid], row


def _all_sorts(frame, head: int, sorts: dict, path, sheet: str, *, col: int):
    """:func:`_rows`, checking that every Q-sort of the study has exactly one row (a workbook is read completely)."""
    seen = {}
    for i, row in _rows(frame, head, sorts, path, sheet, col=col):
        if i in seen:
            raise QInputError(f"sheet {sheet!r}: a second row for this Q-sort", file=path, sort=cell_text(row.iloc[col]))
        seen[i] = True
        yield i, row
    missing = [s for s, i in sorts.items() if i not in seen]
    if missing:
        raise QInputError(f"sheet {sheet!r}: no row for this Q-sort" + (f" (nor for {len(missing) - 1} more)"
                                                                       if len(missing) > 1 else ""),
                          file=path, sort=missing[0])


def _statement_rows(frame, head: int, n: int, path, sheet: str, *, every: bool = False):
    """(0-based statement, row) for the rows under ``head`` until the first blank first cell; each first cell must
    be a statement number 1..n, listed once (with ``every``: every statement listed)."""
    seen = set()
    for _, row in frame.iloc[head + 1:].iterrows():
        v = row.iloc[0]
        if blank(v):
            break
        s = _number(v, path, sheet, "statement number", whole=True, low=1, high=n)
        if s in seen:
            raise QInputError(f"sheet {sheet!r}: statement number {s} is listed twice", file=path)
        seen.add(s)
        yield s - 1, row
    if every and len(seen) != n:
        missing = min(set(range(1, n + 1)) - seen)
        raise QInputError(f"sheet {sheet!r}: statement {missing} is not listed (the sheet lists {len(seen)} of {n})",
                          file=path)


def _number(v, path, sheet: str, what: str, *, whole: bool = False, low=None, high=None, sort=None, statement=None):
    """A number of a workbook cell by the rule of :mod:`qvalid.numbers`, or a one-line error naming the sheet, the
    Q-sort or statement, what the cell is and the cell as written (a blank cell is refused too)."""
    where = dict(file=path, sort=sort, statement=statement)
    if blank(v):
        raise QInputError(f"sheet {sheet!r}: {what} is blank", **where)
    try:
        return number(v, whole=whole, low=low, high=high)
    except NumberError as err:
        raise QInputError(f"sheet {sheet!r}: {what} {err}", **where) from None


def _labelled(table: dict, label: str, k: int, path, sheet: str, **rule) -> np.ndarray:
    """The k numbers right of ``label`` in an overview-style sheet."""
    if label not in table:
        raise QInputError(f"sheet {sheet!r}: no row {label!r}", file=path)
    return np.array([_number(v, path, sheet, label, **rule) for v in table[label]], dtype=float)


def _flag_mark(v, path, sort) -> bool:
    if blank(v):
        return False
    if str(v).strip() == "Flagged":
        return True
    raise QInputError(f"sheet 'Factor Loadings': flag cell {cell_text(v)!r} is neither 'Flagged' nor blank",
                      file=path, sort=sort)


def _star(v, path, sheet: str, statement) -> int:
    """A significance mark: 1 for ``*``, 0 for a blank cell."""
    if blank(v):
        return 0
    if str(v).strip() == "*":
        return 1
    raise QInputError(f"sheet {sheet!r}: significance mark {cell_text(v)!r} is neither '*' nor blank", file=path,
                      statement=statement)


def _significance_column(frame, head: int, factor: int) -> int:
    """The "Significance" column of ``Factor  j`` in a "Dist State Fac. j" sheet (two header rows)."""
    top = [str(v).strip() for v in frame.iloc[head - 1]]
    low = [str(v).strip() for v in frame.iloc[head]]
    for c, (t, b) in enumerate(zip(top, low)):
        if t == f"Factor  {factor}" and b == "Significance":
            return c
    return len(low) - 1


def _overview(frame, width: int = 1) -> dict:
    """Label -> value (or the ``width`` values right of it) for every row with a label in the first column."""
    out = {}
    for _, row in frame.iterrows():
        label = row.iloc[0]
        if blank(label):
            continue
        vals = list(row.iloc[1:1 + width])
        out[str(label).strip().rstrip(":").strip()] = vals[0] if width == 1 else vals
    return out


def _statement_texts(frame, n: int, *, header: str, path=None, sheet: str = "statements"):
    """Statement wordings 1..n from a "number | text" table (None when there are none); below the header every
    non-blank first cell must be a statement number (numbers beyond n are KADE's unused template rows: refused
    when they hold a text)."""
    texts = [""] * n
    started = False
    for _, row in frame.iterrows():
        first = row.iloc[0]
        if not started:
            started = not blank(first) and str(first).strip() == header
            continue
        if blank(first):
            continue
        s = _number(first, path, sheet, "statement number", whole=True, low=1)
        text = row.iloc[1] if len(row) > 1 else None
        if s > n:
            if blank(text):  # an unused row of KADE's template (numbered on beyond the study's statements)
                continue
            raise QInputError(f"sheet {sheet!r}: statement {s} has a text, but the study has {n} statements",
                              file=path)
        if not blank(text):
            texts[s - 1] = str(text).strip()
    return tuple(texts) if any(texts) else None


def _project_name(frame) -> str:
    if frame is None:
        return ""
    vals = [v for v in frame.to_numpy(dtype=object).ravel() if not blank(v)]
    return str(vals[1]).strip() if len(vals) > 1 else ""
