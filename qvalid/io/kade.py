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
    try:
        design = {int(s): int(c) for s, c in zip(pattern[0], pattern[1])}
    except (IndexError, TypeError, ValueError):
        raise QInputError("sheet 'pattern' must hold the scores in row 1 and their cell counts in row 2",
                          file=path) from None
    texts = _statement_texts(sheets["statements"], n, header="Number")
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
    if grid is None and design:
        values = [int(float(v)) for v in str(design).split(",") if v.strip()]
        scores, counts = np.unique(values, return_counts=True)
        grid = dict(zip(scores.tolist(), counts.tolist()))
    texts = _statement_texts(sheets["statements"], len(header), header="Statement Number")
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
    body = _rows(fl_sheet, head, sorts, path, "Factor Loadings", col=1)
    loadings = np.zeros((n_so, k))
    flags = np.zeros((n_so, k), dtype=bool)
    for i, row in body:
        loadings[i] = [float(row.iloc[c]) for c in cols]
        flags[i] = [str(row.iloc[c + 1]).strip() == "Flagged" for c in cols]

    tab = sheets["Factor Loadings Table"]
    head = _find_row(tab, "Nm", path, "Factor Loadings Table")
    order = np.array([i for i, _ in _rows(tab, head, sorts, path, "Factor Loadings Table", col=1)])

    unrot = sheets["Unrotated Factor Matrix"]
    head = _find_row(unrot, "Nm", path, "Unrotated Factor Matrix")
    ucols = [c for c, v in enumerate(unrot.iloc[head]) if str(v).strip().startswith("Factor")]
    unrotated = np.zeros((n_so, len(ucols)))
    for i, row in _rows(unrot, head, sorts, path, "Unrotated Factor Matrix", col=1):
        unrotated[i] = [float(row.iloc[c]) for c in ucols]

    cor = sheets["Correlation Matrix"]
    head = _find_row(cor, "Participant", path, "Correlation Matrix")
    cor_ids = [cell_text(v) for v in cor.iloc[head, 1:1 + n_so]]
    corr = np.zeros((n_so, n_so))
    for i, row in _rows(cor, head, sorts, path, "Correlation Matrix", col=0):
        corr[i, [sorts[s] for s in cor_ids]] = [float(v) for v in row.iloc[1:1 + n_so]]

    weights = np.zeros((n_so, k))
    zscores = np.full((n_st, k), np.nan)
    arrays = np.full((n_st, k), np.nan)
    for j in range(k):
        ws = _sheet(sheets, f"Fac. {j + 1} Sorts Weight", path)
        head = _find_row(ws, "Nm", path, f"Fac. {j + 1} Sorts Weight")
        for i, row in _rows(ws, head, sorts, path, f"Fac. {j + 1} Sorts Weight", col=1):
            weights[i, j] = float(row.iloc[2])
        fs = _sheet(sheets, f"Fac. {j + 1}", path)
        head = _find_row(fs, "Statement Number", path, f"Fac. {j + 1}")
        for s, row in _statement_rows(fs, head, n_st, path, f"Fac. {j + 1}"):
            zscores[s, j], arrays[s, j] = float(row.iloc[2]), float(row.iloc[3])

    chars = _overview(sheets["Factor Characteristics"], width=k)
    nload = np.array(chars.get("No. of Defining Variables", [np.nan] * k), dtype=float)
    rel = np.array(chars.get("Composite Reliability", [np.nan] * k), dtype=float)
    se = np.array(chars.get("S.E. of Factor Z-scores", [np.nan] * k), dtype=float)
    sed_sheet = _overview(sheets["Standard Errors for Diffs"], width=k)
    sed = np.array([sed_sheet.get(f"Factor  {j + 1}", [np.nan] * k) for j in range(k)], dtype=float)

    dist = np.zeros((n_st, k), dtype=np.int64)
    for j in range(k):
        name = f"Dist State Fac. {j + 1}"
        ds = _sheet(sheets, name, path)
        head = _find_row(ds, "Nm", path, name)
        sig_col = _significance_column(ds, head, j + 1)
        for s, row in _statement_rows(ds, head, n_st, path, name):
            dist[s, j] = 2 if str(row.iloc[sig_col]).strip() == "*" else 1
    cons = np.zeros(n_st, dtype=np.int64)
    cs = sheets.get("Consensus Statements")
    if cs is not None:
        head = _find_row(cs, "Nm", path, "Consensus Statements")
        for s, row in _statement_rows(cs, head, n_st, path, "Consensus Statements"):
            cons[s] = 2 if str(row.iloc[1]).strip() == "*" else 1
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


def _statement_rows(frame, head: int, n: int, path, sheet: str):
    """(0-based statement, row) for the rows under ``head`` whose first cell is a statement number."""
    for _, row in frame.iloc[head + 1:].iterrows():
        v = row.iloc[0]
        if blank(v):
            break
        try:
            s = int(float(v))
        except ValueError:
            continue
        if not 1 <= s <= n:
            raise QInputError(f"sheet {sheet!r}: statement number {s} outside 1..{n}", file=path)
        yield s - 1, row


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


def _statement_texts(frame, n: int, *, header: str):
    """Statement wordings 1..n from a "number | text" table (None when there are none)."""
    texts = [""] * n
    started = False
    for _, row in frame.iterrows():
        first = row.iloc[0]
        if not started:
            started = not blank(first) and str(first).strip() == header
            continue
        try:
            s = int(float(first))
        except (TypeError, ValueError):
            continue
        if 1 <= s <= n and len(row) > 1 and not blank(row.iloc[1]):
            texts[s - 1] = str(row.iloc[1]).strip()
    return tuple(texts) if any(texts) else None


def _project_name(frame) -> str:
    if frame is None:
        return ""
    vals = [v for v in frame.to_numpy(dtype=object).ravel() if not blank(v)]
    return str(vals[1]).strip() if len(vals) > 1 else ""
