"""Workbook cells: every sheet of a spreadsheet as raw cells, and how a cell reads as blank, number or id.

Shared by the readers of spreadsheets (:mod:`qvalid.io.spreadsheets`) and of KADE/Ken-Q workbooks
(:mod:`qvalid.io.kade`).
"""

from __future__ import annotations

from pathlib import Path

from ..errors import QInputError

__all__ = ["excel_sheets", "xls_rows", "is_workbook", "blank", "is_numeric", "cell_text", "WORKBOOKS"]

#: Workbook extensions.
WORKBOOKS = (".xlsx", ".xlsm", ".xls", ".ods")

#: The first bytes of an OLE2 compound document: a binary Excel 97-2003 workbook (.xls).
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def excel_sheets(path) -> dict:
    """Every sheet of a workbook as a pandas DataFrame of raw cells (no header row, ``object`` dtype).

    Raises
    ------
    QInputError
        When the file is missing, not a workbook, or the reader for its type is not installed.
    """
    import pandas as pd

    if _is_xls(path):
        return {name: pd.DataFrame(rows, dtype=object) for name, rows in xls_rows(path).items()}
    try:
        return pd.read_excel(path, sheet_name=None, header=None, dtype=object)
    except FileNotFoundError:
        raise QInputError("cannot read the file: no such file", file=path) from None
    except ImportError as err:
        raise QInputError(f"reading this workbook needs {err.name or 'openpyxl/xlrd/odfpy'} (Debian python3-openpyxl, "
                          "python3-xlrd for .xls, python3-odf for .ods; scripts/setup.sh installs them)",
                          file=path) from None
    except Exception as err:  # zipfile.BadZipFile, ValueError, KeyError from the engines: one line, no traceback
        raise QInputError(f"not a readable workbook ({type(err).__name__}: {err})", file=path) from None


def is_workbook(path) -> bool:
    """A spreadsheet by extension, or by its first bytes (zip: .xlsx/.ods; OLE2: .xls) whatever it is called."""
    if Path(path).suffix.lower() in WORKBOOKS:
        return True
    try:
        with open(path, "rb") as fh:
            head = fh.read(8)
    except OSError:
        return False
    return head.startswith(b"PK\x03\x04") or head == OLE2


def _is_xls(path) -> bool:
    try:
        with open(path, "rb") as fh:
            return fh.read(8) == OLE2
    except OSError:
        return False


def xls_rows(path) -> dict:
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
        book = xlrd.open_workbook(str(path))
    except Exception as err:  # xlrd.XLRDError, struct errors, ...: one line, no traceback
        raise QInputError(f"not a readable workbook ({type(err).__name__}: {err})", file=path) from None
    empty = (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK, xlrd.XL_CELL_ERROR)
    return {sh.name: [[None if c.ctype in empty else c.value for c in sh.row(r)] for r in range(sh.nrows)]
            for sh in book.sheets()}


def blank(v) -> bool:
    """An empty cell: None, NaN or only white space."""
    return v is None or (isinstance(v, float) and v != v) or (isinstance(v, str) and not v.strip())


def is_numeric(v) -> bool:
    """Whether ``float(v)`` accepts the cell."""
    try:
        float(v)
    except (TypeError, ValueError):
        return False
    return True


def cell_text(v) -> str:
    """A cell as an id: integral numbers without '.0' (spreadsheets store 7 as 7.0)."""
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return str(v).strip()
