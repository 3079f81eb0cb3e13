"""Reading published result tables (loadings) so that a paper's numbers can be re-checked."""

from __future__ import annotations

import csv
import io
import re

import numpy as np

from .errors import QInputError
from .io._files import read_text
from .io.csv import is_number, sniff_separator

__all__ = ["read_loadings"]

_FACTOR = re.compile(r"^(f|factor|fac)[ _]?\d+$", re.IGNORECASE)


def read_loadings(path, *, id_column: str | None = None, encoding=None):
    """Read a loadings table: one row per Q-sort, a sort id column and one column per factor.

    Factor columns are those named ``f1``, ``F2``, ``factor 3`` ...; the id column is ``id_column`` or else the
    first column holding non-numeric values (e.g. ``participant`` in the NAV table), or else the first column.
    Other columns (notes, line numbers) are ignored. The file is read as :func:`qvalid.io.read_csv` reads a study
    (UTF-8 unless ``encoding`` is given; separator sniffed; one-line :class:`QInputError` for every read error).

    Returns
    -------
    ids : list of str
    factors : list of str
    loadings : ndarray of shape (n_sorts, k)
    """
    text = read_text(path, encoding)
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=sniff_separator(text, path)))
    if not rows or not any(rows[0]):
        raise QInputError("empty loadings file", file=path)
    header, body = [h.strip() for h in rows[0]], [r for r in rows[1:] if any(c.strip() for c in r)]
    fcols = [i for i, h in enumerate(header) if _FACTOR.match(h)]
    if not fcols:
        raise QInputError("no factor columns (named f1, f2, ... or factor1, ...) in the header", file=path, line=1)
    if id_column is not None:
        if id_column not in header:
            raise QInputError(f"no column {id_column!r} in the header", file=path, line=1)
        icol = header.index(id_column)
    else:
        others = [i for i in range(len(header)) if i not in fcols]
        icol = next((i for i in others if any(not is_number(r[i]) for r in body if i < len(r))),
                    others[0] if others else None)
        if icol is None:
            raise QInputError("no sort id column", file=path, line=1)
    ids, values = [], []
    for ln, r in enumerate(body, start=2):
        if len(r) < len(header):
            raise QInputError(f"row has {len(r)} fields, header has {len(header)}", file=path, line=ln)
        sid = r[icol].strip()
        row = []
        for i in fcols:
            cell = r[i].strip()
            if not is_number(cell):
                raise QInputError(f"loading {cell!r} is not a number", file=path, line=ln,
                                  sort=sid or None, statement=None)
            row.append(float(cell))
        if sid in ids:
            raise QInputError(f"duplicate sort id {sid!r}", file=path, line=ln)
        ids.append(sid)
        values.append(row)
    if not ids:
        raise QInputError("no rows of loadings", file=path)
    return ids, [header[i] for i in fcols], np.array(values, dtype=np.float64)

