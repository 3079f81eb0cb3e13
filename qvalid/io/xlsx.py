"""Q studies in spreadsheets (.xlsx, .xlsm, .ods) through pandas: any sheet laid out as a study, KADE/Ken-Q's
"XLSX Type 2" input workbook, and the Q-sorts of a KADE result workbook (:mod:`qvalid.io.kade`).

Needs ``openpyxl`` for .xlsx (Debian ``python3-openpyxl``) and ``odfpy`` for .ods (``python3-odf``); both are
installed by ``scripts/setup.sh``.
"""

from __future__ import annotations

from ..errors import QInputError
from ..study import QStudy

__all__ = ["read_xlsx", "excel_sheets", "SPREADSHEETS"]

#: Extensions :func:`qvalid.io.read_study` hands to :func:`read_xlsx`.
SPREADSHEETS = (".xlsx", ".xlsm", ".ods")


def excel_sheets(path) -> dict:
    """Every sheet of a workbook as a pandas DataFrame of raw cells (no header row, ``object`` dtype).

    Raises
    ------
    QInputError
        When the file is missing, not a workbook, or the reader for its type is not installed.
    """
    import pandas as pd

    try:
        return pd.read_excel(path, sheet_name=None, header=None, dtype=object)
    except FileNotFoundError:
        raise QInputError("cannot read the file: no such file", file=path) from None
    except ImportError as err:
        raise QInputError(f"reading this workbook needs {err.name or 'openpyxl/odfpy'} (Debian python3-openpyxl / "
                          "python3-odf; scripts/setup.sh installs them)", file=path) from None
    except Exception as err:  # zipfile.BadZipFile, ValueError, KeyError from the engines: one line, no traceback
        raise QInputError(f"not a readable workbook ({type(err).__name__}: {err})", file=path) from None


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
    from .kade import is_kade_input, is_kade_results, study_from_kade_input, study_from_kade_results

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
    header = ["" if _blank(h) else _text(h) for h in cells.iloc[0]]
    body = cells.iloc[1:].reset_index(drop=True)
    body.columns = range(body.shape[1])
    first = body[0]
    has_ids = header[0] == "" or not all(_numeric(v) for v in first if not _blank(v))
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
        texts = ["" if _blank(v) else _text(v) for v in body[tc]]
        keep.remove(tc)
    prefix = "sta_" if layout == "statements" else "s"
    row_ids = [_text(v) for v in first] if has_ids else [f"{prefix}{i + 1}" for i in range(len(body))]
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
    texts = [c for c in keep if any(not _blank(v) for v in body[c])
             and not any(_numeric(v) for v in body[c] if not _blank(v))]
    if len(texts) > 1:
        raise QInputError(f"sheet {sheet!r}: columns {', '.join(repr(header[c]) for c in texts)} hold text, not "
                          "scores: name the statement-text column (text_column=..., --text-column NAME)", file=path)
    return header[texts[0]] if texts else None


def _blank(v) -> bool:
    return v is None or (isinstance(v, float) and v != v) or (isinstance(v, str) and not v.strip())


def _numeric(v) -> bool:
    try:
        float(v)
    except (TypeError, ValueError):
        return False
    return True


def _text(v) -> str:
    """A cell as an id: integral numbers without '.0' (spreadsheets store 7 as 7.0)."""
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return str(v).strip()
