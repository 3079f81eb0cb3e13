"""Workbook cells: every sheet of a spreadsheet as raw cells, and how a cell reads as blank, number or id.

Shared by the readers of spreadsheets (:mod:`qvalid.io.spreadsheets`) and of KADE/Ken-Q workbooks
(:mod:`qvalid.io.kade`).
"""

from __future__ import annotations

from ..errors import QInputError

__all__ = ["excel_sheets", "blank", "is_numeric", "cell_text"]


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
