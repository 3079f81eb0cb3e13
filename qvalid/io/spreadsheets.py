"""Q studies in spreadsheets (.xlsx, .xlsm, .xls, .ods) through pandas: any sheet laid out as a study, KADE/Ken-Q's
"XLSX Type 2" input workbook, and the Q-sorts of a KADE result workbook (:mod:`qvalid.io.kade`).

Needs ``openpyxl`` for .xlsx (Debian ``python3-openpyxl``), ``xlrd`` for .xls (``python3-xlrd``: what R's
``xlsx::write.xlsx("x.xls")`` and older Excel and KADE write) and ``odfpy`` for .ods (``python3-odf``); all are
installed by ``scripts/setup.sh``.
"""

from __future__ import annotations

from ..errors import QInputError
from ..study import QStudy
from .csv import study_from_records
from .kade import is_kade_input, is_kade_results, study_from_kade_input, study_from_kade_results
from .workbook import blank, cell_text, excel_sheets, pick_sheet

__all__ = ["read_xlsx", "SPREADSHEETS"]

#: Extensions :func:`qvalid.io.read_study` hands to :func:`read_xlsx`.
SPREADSHEETS = (".xlsx", ".xlsm", ".xls", ".ods")


def read_xlsx(path, *, sheet=None, layout="statements", text_column="auto", grid=None, forced=True,
              name="", encoding=None, id_column="auto", statements_column=None) -> QStudy:
    """Read a Q study from a spreadsheet (.xlsx, .xlsm, .xls, .ods).

    Recognised without options:

    - KADE/Ken-Q's "XLSX Type 2" input (sheets ``sorts``, ``pattern``, ``statements``; KADE
      ``Input/Excel/LoadExcelT2.jsx``): one row per Q-sort (id, then one score per statement), the grid from
      ``pattern`` (scores -6..+13 over counts), statement texts;
    - a KADE result workbook (sheets ``Q sorts`` and ``Project Overview``): its Q-sorts and design.

    Any other workbook: ``sheet`` (name or 0-based index, default the first) read as a table exactly as
    :func:`qvalid.io.read_csv` reads a CSV file (``layout``, ``id_column``, ``text_column``, ``statements_column``
    as there): the first non-blank row is the header, numbers stored as 7.0 read as 7. ``encoding`` is accepted
    and ignored (a workbook knows its text encoding), so that callers can pass the options of a CSV.

    Raises
    ------
    QInputError
        One line naming the file (and sheet row, sort, statement) for every problem, including every check of
        :meth:`QStudy.validate`.
    """

    sheets = excel_sheets(path)
    plain = id_column == "auto" and statements_column is None
    if sheet is None and plain and is_kade_input(sheets):
        return study_from_kade_input(sheets, path, grid=grid, forced=forced)
    if sheet is None and plain and is_kade_results(sheets):
        return study_from_kade_results(sheets, path, grid=grid, forced=forced)
    key, frame = pick_sheet(sheets, sheet, path)
    if frame.shape[0] < 2 or frame.shape[1] < 1:
        raise QInputError(f"sheet {key!r} holds no table (a header row and at least one row)", file=path)
    records = [(int(i) + 1, ["" if blank(v) else cell_text(v) for v in row])
               for i, row in zip(frame.index, frame.itertuples(index=False))]
    return study_from_records(records, path, layout=layout, id_column=id_column, text_column=text_column, grid=grid,
                              forced=forced, name=name, statements_column=statements_column)
