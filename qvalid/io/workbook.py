"""Workbook cells: every sheet of a spreadsheet as raw cells, and how a cell reads as blank, number or id.

Shared by the readers of spreadsheets (:mod:`qvalid.io.spreadsheets`) and of KADE/Ken-Q workbooks
(:mod:`qvalid.io.kade`).
"""

from __future__ import annotations

import io
import os
import stat
from pathlib import Path

import numpy as np

from ..errors import QInputError
from ..numbers import is_number
from .files import read_bytes, suffix

__all__ = ["excel_sheets", "pick_sheet", "xls_rows", "is_workbook", "blank", "is_numeric", "cell_text", "WORKBOOKS"]

#: Workbook extensions.
WORKBOOKS = (".xlsx", ".xlsm", ".xls", ".ods")

#: The first bytes of an OLE2 compound document: a binary Excel 97-2003 workbook (.xls).
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def excel_sheets(path) -> dict:
    """Every sheet of a workbook as a pandas DataFrame of raw cells (no header row, ``object`` dtype).

    Cells are taken as the workbook stores them: only empty cells (and cells of blanks) are missing (NaN); a text
    such as ``n/a``, ``NA`` or ``null`` stays a text, so that a reader refuses it by name instead of pandas turning
    it into a silently missing number. The bytes are read by :func:`qvalid.io.files.read_bytes` (an input of the
    running command; pipes and devices refused).

    Raises
    ------
    QInputError
        When the file is missing, not a workbook, or the reader for its type is not installed.
    """
    import pandas as pd

    data = read_bytes(path)
    if data[:8] == OLE2:
        return {name: _blanks_to_nan(pd.DataFrame(rows, dtype=object)) for name, rows in xls_rows(path, data).items()}
    try:
        sheets = pd.read_excel(io.BytesIO(data), sheet_name=None, header=None, dtype=object, keep_default_na=False,
                               engine=_ENGINES.get(suffix(path)))
    except ImportError as err:
        raise QInputError(f"reading this workbook needs {err.name or 'openpyxl/xlrd/odfpy'} (Debian python3-openpyxl, "
                          "python3-xlrd for .xls, python3-odf for .ods; scripts/setup.sh installs them)",
                          file=path) from None
    except Exception as err:  # zipfile.BadZipFile, ValueError, KeyError from the engines: one line, no traceback
        raise QInputError(f"not a readable workbook ({type(err).__name__}: {' '.join(str(err).split())})",
                          file=path) from None
    return {name: _blanks_to_nan(frame) for name, frame in sheets.items()}


def pick_sheet(sheets: dict, sheet, path):
    """``(name, table)`` of one sheet of :func:`excel_sheets`: by position (an int, negative from the end), by
    name, or the first (None); blank rows and columns dropped. Any other value: one line naming the workbook's
    sheets."""
    names = list(sheets)
    key = names[sheet] if isinstance(sheet, int) and -len(names) <= sheet < len(names) else \
        (names[0] if sheet is None else sheet)
    if key not in sheets:
        raise QInputError(f"no sheet {sheet!r}; the workbook has {', '.join(map(repr, names))}", file=path)
    return key, sheets[key].dropna(how="all").dropna(axis=1, how="all")


def _blanks_to_nan(frame):
    return frame.map(_blank_to_nan) if hasattr(frame, "map") else frame.applymap(_blank_to_nan)


#: The engine for each extension (a workbook is read from memory, where pandas cannot see the name).
_ENGINES = {".xlsx": "openpyxl", ".xlsm": "openpyxl", ".ods": "odf"}


def _blank_to_nan(v):
    return float("nan") if isinstance(v, str) and not v.strip() else v


def is_workbook(path) -> bool:
    """A spreadsheet by extension, or by its first bytes (zip: .xlsx/.ods; OLE2: .xls) whatever it is called (only a
    regular file is looked into: a pipe would lose what is read, or block)."""
    if Path(path).suffix.lower() in WORKBOOKS:
        return True
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return False
        with open(path, "rb") as fh:
            head = fh.read(8)
    except OSError:
        return False
    return head.startswith(b"PK\x03\x04") or head == OLE2


def xls_rows(path, data: bytes | None = None) -> dict:
    """Every sheet of a binary Excel workbook (.xls) as rows of raw cells (None for a blank cell, float for a
    number, str for text), read with ``xlrd`` directly (pandas wants xlrd >= 2.0.1; Debian 12 has 1.2.0, and both
    read .xls the same way).

    Raises
    ------
    QInputError
        When xlrd is not installed or the file is not a readable workbook.
    """
    try:
        import xlrd
    except ImportError:
        raise QInputError("reading a .xls workbook needs xlrd (Debian python3-xlrd; scripts/setup.sh installs it)",
                          file=path) from None
    try:
        book = xlrd.open_workbook(file_contents=read_bytes(path) if data is None else data)
    except Exception as err:  # xlrd.XLRDError, struct errors, ...: one line, no traceback
        raise QInputError(f"not a readable workbook ({type(err).__name__}: {err})", file=path) from None
    empty = (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK, xlrd.XL_CELL_ERROR)

    def value(c):  # booleans and dates as what they are (xlrd gives 1/0 and day numbers), never as numbers
        if c.ctype in empty:
            return None
        if c.ctype == xlrd.XL_CELL_BOOLEAN:
            return bool(c.value)
        if c.ctype == xlrd.XL_CELL_DATE:
            try:
                return xlrd.xldate.xldate_as_datetime(c.value, book.datemode)
            except Exception:  # a day number xlrd cannot place: still a date, not a number
                return f"date {c.value!r}"
        return c.value

    return {sh.name: [[value(c) for c in sh.row(r)] for r in range(sh.nrows)] for sh in book.sheets()}


def blank(v) -> bool:
    """An empty cell: None, NaN or only white space."""
    return v is None or (isinstance(v, float) and v != v) or (isinstance(v, str) and not v.strip())


def is_numeric(v) -> bool:
    """Whether the cell holds a number: a number the workbook stores (not a boolean), or a text written as one by
    the rule of :mod:`qvalid.numbers` (``1.5``, ``-3``; not ``0_0``, ``nan``, ``TRUE``)."""
    if isinstance(v, (bool, np.bool_)):
        return False
    return isinstance(v, (int, float, np.integer, np.floating)) or is_number(v)


def cell_text(v) -> str:
    """A cell as its spreadsheet shows it: integral numbers without '.0' (spreadsheets store 7 as 7.0; beyond 1e15
    in exponent form, ``1e+20``), booleans as ``TRUE``/``FALSE`` (never 1/0: the number rule refuses them by name)."""
    if isinstance(v, (bool, np.bool_)):
        return "TRUE" if v else "FALSE"
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        v = int(v)
    return str(v).strip()
