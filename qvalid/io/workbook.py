"""Workbook cells: every sheet of a spreadsheet as raw cells, and how a cell reads as blank, number or id.

Shared by the readers of spreadsheets (:mod:`qvalid.io.spreadsheets`) and of KADE/Ken-Q workbooks
(:mod:`qvalid.io.kade`).
"""

from __future__ import annotations

import io

import numpy as np

from ..errors import QInputError
from ..numbers import is_number
from .files import read_bytes, suffix

__all__ = ["excel_sheets", "blank", "is_numeric", "cell_text"]


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
    try:
        sheets = pd.read_excel(io.BytesIO(data), sheet_name=None, header=None, dtype=object, keep_default_na=False,
                               engine=_ENGINES.get(suffix(path)))
    except ImportError as err:
        raise QInputError(f"reading this workbook needs {err.name or 'openpyxl/odfpy'} (Debian python3-openpyxl / "
                          "python3-odf; scripts/setup.sh installs them)", file=path) from None
    except Exception as err:  # zipfile.BadZipFile, ValueError, KeyError from the engines: one line, no traceback
        raise QInputError(f"not a readable workbook ({type(err).__name__}: {' '.join(str(err).split())})",
                          file=path) from None
    return {name: frame.map(_blank_to_nan) if hasattr(frame, "map") else frame.applymap(_blank_to_nan)
            for name, frame in sheets.items()}


#: The engine for each extension (a workbook is read from memory, where pandas cannot see the name).
_ENGINES = {".xlsx": "openpyxl", ".xlsm": "openpyxl", ".ods": "odf"}


def _blank_to_nan(v):
    return float("nan") if isinstance(v, str) and not v.strip() else v


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
    """A cell as an id: integral numbers without '.0' (spreadsheets store 7 as 7.0)."""
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return str(v).strip()
