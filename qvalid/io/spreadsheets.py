"""Q studies in spreadsheets (.xlsx, .xlsm, .ods) through pandas: any sheet laid out as a study, KADE/Ken-Q's
"XLSX Type 2" input workbook, and the Q-sorts of a KADE result workbook (:mod:`qvalid.io.kade`).

Needs ``openpyxl`` for .xlsx (Debian ``python3-openpyxl``) and ``odfpy`` for .ods (``python3-odf``); both are
installed by ``scripts/setup.sh``.
"""

from __future__ import annotations

from ..errors import QInputError
from ..study import QStudy
from .kade import is_kade_input, is_kade_results, study_from_kade_input, study_from_kade_results
from .workbook import blank, cell_text, excel_sheets, is_numeric

__all__ = ["read_xlsx", "SPREADSHEETS"]

#: Extensions :func:`qvalid.io.read_study` hands to :func:`read_xlsx`.
SPREADSHEETS = (".xlsx", ".xlsm", ".ods")


def read_xlsx(path, *, sheet=None, layout="statements", text_column="auto", grid=None, forced=True,
              name="", encoding=None) -> QStudy:
    """Read a Q study from a spreadsheet.

    Recognised without options:

    - KADE/Ken-Q's "XLSX Type 2" input (sheets ``sorts``, ``pattern``, ``statements``; KADE
      ``Input/Excel/LoadExcelT2.jsx``): one row per Q-sort (id, then one score per statement), the grid from
      ``pattern`` (scores -6..+13 over counts), statement texts;
    - a KADE result workbook (sheets ``Q sorts`` and ``Project Overview``): its Q-sorts and design.

    Any other workbook: ``sheet`` (name or 0-based index, default the first) read as a table in the layout given:
    the first non-blank row is the header (Q-sort ids, or statement ids with ``layout="sorts"``), the first column
    holds the row ids when its header cell is blank or its values are not all numbers; ``text_column`` names a
    column of statement wordings (``"statements"`` layout), ``None`` for none, or ``"auto"`` (default): the one
    other column holding only text, as :func:`qvalid.io.read_csv`. ``encoding`` is accepted and ignored (a
    workbook knows its text encoding), so that callers can pass the options of a CSV.

    Raises
    ------
    QInputError
        One line naming the file (and sheet, sort, statement) for every problem, including every check of
        :meth:`QStudy.validate`.
    """

    sheets = excel_sheets(path)
    if sheet is None and is_kade_input(sheets):
        return study_from_kade_input(sheets, path, grid=grid, forced=forced)
    if sheet is None and is_kade_results(sheets):
        return study_from_kade_results(sheets, path, grid=grid, forced=forced)
    names = list(sheets)
    key = names[sheet] if isinstance(sheet, int) and -len(names) <= sheet < len(names) else \
        (names[0] if sheet is None else sheet)
    if key not in sheets:
        raise QInputError(f"no sheet {sheet!r}; the workbook has {', '.join(map(repr, names))}", file=path)
    return _study_from_sheet(sheets[key], path, str(key), layout=layout, text_column=text_column, grid=grid,
                             forced=forced, name=name)


def _study_from_sheet(frame, path, sheet: str, *, layout, text_column, grid, forced, name) -> QStudy:
    if layout not in ("statements", "sorts"):
        raise QInputError(f"unknown layout {layout!r}: use 'statements' or 'sorts'")
    cells = frame.dropna(how="all").dropna(axis=1, how="all")
    if cells.shape[0] < 2 or cells.shape[1] < 1:
        raise QInputError(f"sheet {sheet!r} holds no table (a header row and at least one row)", file=path)
    header = ["" if blank(h) else cell_text(h) for h in cells.iloc[0]]
    body = cells.iloc[1:].reset_index(drop=True)
    body.columns = range(body.shape[1])
    first = body[0]
    has_ids = header[0] == "" or not all(is_numeric(v) for v in first if not blank(v))
    keep = list(range(1 if has_ids else 0, len(header)))
    texts = None
    if isinstance(text_column, str) and text_column == "auto":
        text_column = _auto_text_column(body, header, keep, layout, path, sheet)
    if text_column is not None:
        if layout != "statements" or text_column not in header:
            raise QInputError(f"text_column={text_column!r}: no such column in the header of sheet {sheet!r}"
                              if layout == "statements" else "text_column applies to the 'statements' layout only",
                              file=path)
        tc = header.index(text_column)
        texts = ["" if blank(v) else cell_text(v) for v in body[tc]]
        keep.remove(tc)
    prefix = "sta_" if layout == "statements" else "s"
    row_ids = [cell_text(v) for v in first] if has_ids else [f"{prefix}{i + 1}" for i in range(len(body))]
    col_ids = [header[c] for c in keep]
    if any(not c for c in col_ids):
        raise QInputError(f"sheet {sheet!r}: empty id in the header row", file=path)
    raw = body[keep].to_numpy(dtype=object)  # QStudy names a blank, missing or non-integer cell
    if layout == "statements":
        return QStudy(raw, row_ids, col_ids, grid=grid, forced=forced, statement_texts=texts, name=name,
                      source=str(path))
    return QStudy(raw.T, col_ids, row_ids, grid=grid, forced=forced, name=name, source=str(path))


def _auto_text_column(body, header, keep, layout, path, sheet):
    """The header name of the one data column whose non-blank cells are all text (statement wordings), or None."""
    if layout != "statements":
        return None
    texts = [c for c in keep if any(not blank(v) for v in body[c])
             and not any(is_numeric(v) for v in body[c] if not blank(v))]
    if len(texts) > 1:
        raise QInputError(f"sheet {sheet!r}: columns {', '.join(repr(header[c]) for c in texts)} hold text, not "
                          "scores: name the statement-text column (text_column=..., --text-column NAME)", file=path)
    return header[texts[0]] if texts else None
