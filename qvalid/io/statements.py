"""Statement wordings kept beside a study: a CSV of statement id and text.

Two shapes are read: qmethod's ``write.csv(lipset$ltext)`` (an unnamed id column, then ``text``) and tables with a
header naming an id column and one or more text columns (e.g. ``id,text_no,text_en``).
"""

from __future__ import annotations

import csv
import io

from ..errors import QInputError
from ..study import QStudy
from .files import read_text

__all__ = ["read_statement_texts", "attach_statement_texts"]

#: Text columns tried in this order when none is named.
TEXT_COLUMNS = ("text", "text_en", "statement", "wording")


def read_statement_texts(path, *, column: str | None = None, encoding: str | None = None) -> dict[str, str]:
    """Statement id -> wording from a CSV whose first column holds the ids.

    Parameters
    ----------
    path : str or path-like
    column : str, optional
        The header of the text column; by default the first of :data:`TEXT_COLUMNS` present, else the second
        column.
    encoding : str, optional
        As :func:`qvalid.io.read_csv` (default: UTF-8, or UTF-16/32 with a byte-order mark).

    Raises
    ------
    QInputError
        Naming the file (and line): unreadable file, no text column, a named column that does not exist, a row
        without text, a duplicate id.
    """
    rows = list(csv.reader(io.StringIO(read_text(path, encoding), newline="")))
    rows = [(n, r) for n, r in enumerate(rows, start=1) if any(c.strip() for c in r)]
    if not rows or len(rows[0][1]) < 2:
        raise QInputError("expected a header and at least two columns (statement id, text)", file=path)
    header = [h.strip() for h in rows[0][1]]
    if column is not None:
        if column not in header:
            raise QInputError(f"no column {column!r}; columns: {', '.join(header)}", file=path, line=rows[0][0])
        col = header.index(column)
    else:
        col = next((header.index(c) for c in TEXT_COLUMNS if c in header), 1)
    out: dict[str, str] = {}
    for line, row in rows[1:]:
        sid = row[0].strip()
        if len(row) <= col or not row[col].strip():
            raise QInputError(f"statement {sid}: no text in column {header[col]!r}", file=path, line=line)
        if sid in out:
            raise QInputError(f"duplicate statement id {sid!r}", file=path, line=line)
        out[sid] = row[col]  # kept as written (qmethod's lipset$ltext has trailing blanks)
    return out


def attach_statement_texts(study: QStudy, texts: dict[str, str], *, source=None) -> QStudy:
    """The study with ``statement_texts`` taken from ``texts`` (id -> wording); every statement needs one."""
    missing = [s for s in study.statement_ids if s not in texts]
    if missing:
        raise QInputError(f"no text for statement(s) {', '.join(missing[:5])}"
                          + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
                          + f" of {study.source or 'the study'}", file=source)
    return study.replace(statement_texts=tuple(texts[s] for s in study.statement_ids))
