"""Reading and writing Q studies: CSV/TSV (R qmethod's layout or one Q-sort per row) and PQMethod .DAT/.STA.

Every reader returns a validated :class:`~qvalid.study.QStudy` whose ``source`` is the file, and every problem is a
:class:`~qvalid.errors.QInputError` naming file, line, Q-sort and statement. Every writer is atomic (temporary file in
the same directory, then ``os.replace``) and refuses to overwrite the file the study was read from.
"""

from __future__ import annotations

from ..errors import QInputError
from ..study import QStudy
from .csv import read_csv, write_csv
from .files import suffix
from .flags import read_flags
from .kade import KadeWorkbook, read_kade_flags, read_kade_workbook
from .pqmethod import read_dat, write_dat
from .spreadsheets import SPREADSHEETS, read_xlsx
from .statements import attach_statement_texts, read_statement_texts
from .tables import write_tables

__all__ = ["read_study", "write_study", "read_csv", "write_csv", "read_dat", "write_dat", "read_flags", "write_tables",
           "read_xlsx", "read_kade_workbook", "read_kade_flags", "KadeWorkbook", "read_statement_texts",
           "attach_statement_texts"]

_CSV = (".csv", ".tsv", ".txt")
_DAT = (".dat",)


def read_study(path, **kw) -> QStudy:
    """Read a study, choosing the reader by extension: ``.csv``/``.tsv``/``.txt`` -> :func:`read_csv`,
    ``.dat`` (any case) -> :func:`read_dat`, ``.xlsx``/``.xlsm``/``.ods`` -> :func:`read_xlsx` (KADE/Ken-Q input and
    result workbooks recognised). Keyword arguments go to that reader."""
    if suffix(path) in SPREADSHEETS:
        return read_xlsx(path, **kw)
    return _pick(path, read_csv, read_dat)(path, **kw)


def write_study(study: QStudy, path, **kw) -> None:
    """Write a study, choosing the writer by extension as :func:`read_study` does."""
    _pick(path, write_csv, write_dat)(study, path, **kw)


def _pick(path, for_csv, for_dat):
    ext = suffix(path)
    if ext in _CSV:
        return for_csv
    if ext in _DAT:
        return for_dat
    raise QInputError(f"unknown file type {ext or '(no extension)'!r}: use .csv, .tsv, .txt or .dat", file=path)
