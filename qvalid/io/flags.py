"""Manual flags (the defining Q-sorts chosen by hand, as in KADE/PQMethod's manual flagging): a table of sorts x
factors, matched to a study by sort id.

A CSV/TSV file (separator sniffed as for studies): a header line, then one row per Q-sort: the sort id in the first
column, then one column per factor in factor order, each cell a flag::

    sort,f1,f2,f3
    US1,X,,
    US2,1,0,0
    JP5,,,x

True: ``1``, ``X``/``x``, ``true``, ``yes``; false: ``0``, blank, ``false``, ``no`` (case-insensitive).

Or a KADE result workbook (``.xlsx``/``.xlsm``/``.xls``): its "Flagged" marks, matched by sort name
(:func:`qvalid.io.kade.read_kade_flags`); any other workbook (.xlsx, .xls, .ods): its first sheet read as the table
above.
"""

from __future__ import annotations

import numpy as np

from ..errors import QInputError
from .csv import sniff_separator, split_records
from .files import read_text
from .kade import is_kade_results, read_kade_flags
from .workbook import blank, cell_text, excel_sheets, is_workbook

__all__ = ["read_flags", "FLAG_TRUE", "FLAG_FALSE"]

FLAG_TRUE = frozenset({"1", "x", "true", "yes"})
FLAG_FALSE = frozenset({"0", "", "false", "no"})


def read_flags(path, sort_ids, nfactors: int, *, encoding=None) -> np.ndarray:
    """Read manual flags for a study with ``sort_ids`` and ``nfactors`` factors.

    Parameters
    ----------
    path : str or path-like
        The flags table (see the module docstring), or a KADE result workbook.
    sort_ids : sequence of str
        The study's Q-sort ids; the result's rows follow this order. Every sort needs exactly one row.
    nfactors : int
        The number of factor columns the table must have.
    encoding : str, optional
        As for :func:`qvalid.io.read_csv` (default UTF-8).

    Returns
    -------
    ndarray of bool, shape (len(sort_ids), nfactors)
        For :func:`qvalid.analyze`'s ``flags=``.

    Raises
    ------
    QInputError
        One line naming file, line and sort: a cell that is not a flag, a wrong number of factor columns, an unknown,
        duplicate or missing sort id.
    """
    if is_workbook(path):
        sheets = excel_sheets(path)
        if is_kade_results(sheets):
            return read_kade_flags(path, sort_ids, nfactors)
        frame = next(iter(sheets.values())).dropna(how="all").dropna(axis=1, how="all")
        records = [(int(i) + 1, ["" if blank(v) else cell_text(v) for v in row])
                   for i, row in zip(frame.index, frame.itertuples(index=False))]
    else:
        text = read_text(path, encoding)
        records = split_records(text, sniff_separator(text, path), path)
    if not records:
        raise QInputError("empty flags table", file=path)
    (header_line, header), body = records[0], records[1:]
    if len(header) - 1 != nfactors:
        raise QInputError(f"{len(header) - 1} factor column(s) after the sort id column, the analysis has "
                          f"{nfactors} factor(s)", file=path, line=header_line)
    index = {sid: i for i, sid in enumerate(sort_ids)}
    out = np.zeros((len(sort_ids), nfactors), dtype=bool)
    seen = {}
    for line, row in body:
        sid = row[0].strip()
        if len(row) != len(header):
            raise QInputError(f"row has {len(row)} fields, the header has {len(header)}", file=path, line=line,
                              sort=sid or None)
        if sid not in index:
            raise QInputError("no such Q-sort in the study", file=path, line=line, sort=sid or "''")
        if sid in seen:
            raise QInputError(f"second row for this Q-sort (first on line {seen[sid]})", file=path, line=line,
                              sort=sid)
        seen[sid] = line
        for j, cell in enumerate(row[1:]):
            v = cell.strip().lower()
            if v not in FLAG_TRUE and v not in FLAG_FALSE:
                raise QInputError(f"flag {cell!r} for {header[j + 1].strip() or f'factor {j + 1}'} is not 1/0, X or "
                                  "blank", file=path, line=line, sort=sid)
            out[index[sid], j] = v in FLAG_TRUE
    missing = [sid for sid in sort_ids if sid not in seen]
    if missing:
        raise QInputError(f"{len(missing)} Q-sort(s) of the study have no row: {', '.join(missing)}", file=path)
    return out
