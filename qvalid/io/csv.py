"""Q studies as delimited text (CSV, semicolon CSV, TSV).

The default layout is R qmethod's: statements are rows and Q-sorts are columns, as ``qmethod(dataset, ...)`` expects
(R/qmethod.R) and as ``write.csv(lipset$ldata)`` writes it: an unnamed first column of statement ids (row names),
then one column per Q-sort. The transposed layout (one Q-sort per row) is what most spreadsheets and online sorting
tools export; it is chosen explicitly with ``layout="sorts"``.

Cells are parsed with the :mod:`csv` module, not with pandas type inference, so every error can quote the raw cell
text and give the file, line, Q-sort and statement.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from ..errors import QInputError
from ..numbers import is_number
from ..study import MISSING_CODES, QStudy
from .files import (SORT_PREFIXES, STATEMENT_PREFIXES, atomic_write, generated_ids, raw_scores, read_text,
                    study_source, suffix)

__all__ = ["read_csv", "write_csv", "format_csv", "column_spec", "study_from_records"]

LAYOUTS = ("statements", "sorts")
_SEPARATORS = (",", ";", "\t")


def read_csv(path, *, layout="statements", sep=None, id_column="auto", text_column="auto", grid=None, forced=True,
             name="", encoding=None, statements_column=None) -> QStudy:
    """Read a Q study from a CSV, semicolon-separated or tab-separated file.

    Parameters
    ----------
    path : str or path-like
        The file, read as UTF-8 (a byte-order mark is tolerated) unless ``encoding`` is given.
    layout : {"statements", "sorts"}
        ``"statements"`` (qmethod's layout): one row per statement, one column per Q-sort, the header names the
        Q-sorts. ``"sorts"``: one row per Q-sort, one column per statement, the header names the statements.
    sep : str, optional
        Field separator. By default ``.tsv`` files are tab-separated and otherwise the separator is the one of
        comma, semicolon and tab that occurs most often (outside quotes) in the first line; comma on a tie.
    id_column : "auto", None, int or str
        The column holding the row ids (statement ids, or Q-sort ids in the ``"sorts"`` layout): a 0-based index,
        a header name, ``None`` for no id column, or ``"auto"``. With ``"auto"`` the first column holds ids when its
        header cell is blank (``write.csv`` row names), when a value in it is not an integer, when its values
        are exactly 1, 2, ..., n (row numbers), or (``"sorts"`` layout) when a value lies outside the range of every
        other cell (participant numbers such as 2071129 beside scores -5..+5); otherwise it is taken as data. A
        header one field shorter than the rows (R ``write.table`` with row names) also means the first column holds
        ids. Without an id column the ids are qmethod's defaults, ``sta_1, sta_2, ...`` for statements and ``s1,
        s2, ...`` for Q-sorts, unless one of them is also an id of the other kind (a statement column named ``s1``):
        then ``sort_1, ...`` (``statement_1, ...``).
    text_column : "auto", None, int or str
        A column of statement wordings (``"statements"`` layout only): a 0-based index, a header name, ``None`` for
        none, or ``"auto"`` (default): the one column besides the id column whose every non-blank value is
        text, not a number (e.g. a ``text`` or ``statement`` column). Two or more such columns raise
        :class:`QInputError` asking to name the text column.
    grid : mapping score -> cells, optional
        The distribution; required when ``forced=False``. For a forced study it defaults to the first Q-sort's
        distribution, as in qmethod (R/qmethod.R:16-19).
    forced : bool
        Whether every Q-sort must fill the grid exactly.
    name : str
        The study's name.
    encoding : str, optional
        The file's text encoding, e.g. ``"cp1252"``; default UTF-8 (see :func:`qvalid.io.files.read_text`).
    statements_column : str or sequence, optional
        ``"sorts"`` layout only: the columns holding the statements' scores, as header names or 0-based indices;
        a string is a comma-separated list whose items may be ranges ``FIRST..LAST`` in header order (``"s1..s40"``).
        Every other column but the id column is not used, and ``QStudy.notes`` says so (the command line warns).

    Returns
    -------
    QStudy
        With ``source=str(path)``.

    Raises
    ------
    QInputError
        Naming file, line, Q-sort and statement: empty file, rows of unequal length, missing, non-numeric or
        fractional scores, empty or duplicate ids, and every check of :meth:`QStudy.validate`.

    Notes
    -----
    Blank lines (and rows below the header whose cells are all blank) are skipped; trailing columns that are blank on every line,
    header included (as some spreadsheets export them), are dropped. ``NA``/``NaN`` cells are missing values.
    """
    if layout not in LAYOUTS:
        raise QInputError(f"unknown layout {layout!r}: use 'statements' or 'sorts'")
    if layout == "sorts" and text_column not in (None, "auto"):
        raise QInputError("text_column applies to the 'statements' layout only", file=path)
    text = read_text(path, encoding)
    records = split_records(text, sep if sep is not None else sniff_separator(text, path), path)
    return study_from_records(records, path, layout=layout, id_column=id_column, text_column=text_column, grid=grid,
                              forced=forced, name=name, statements_column=statements_column)


def study_from_records(records, path, *, layout="statements", id_column="auto", text_column="auto", grid=None,
                       forced=True, name="", statements_column=None) -> QStudy:
    """A study from a table's records, ``(line number, cells as text)`` with the header first, read as
    :func:`read_csv` reads them (the parameters are its own). Spreadsheets use it for any sheet laid out as a
    study (the line numbers are then the sheet's rows)."""
    if layout not in LAYOUTS:
        raise QInputError(f"unknown layout {layout!r}: use 'statements' or 'sorts'")
    if layout == "sorts" and text_column not in (None, "auto"):
        raise QInputError("text_column applies to the 'statements' layout only", file=path)
    if not records:
        raise QInputError("empty file", file=path)
    table = _Table(records, layout, path)
    id_col = table.resolve_ids(id_column)
    notes = ()
    if statements_column is not None:
        if layout != "sorts":
            raise QInputError("statements_column (--statements-column) picks the score columns of a file with one "
                              "Q-sort per row (layout 'sorts'); in qmethod's layout the statements are rows",
                              file=path)
        data_cols = table.resolve_columns(statements_column, "statements_column")
        if id_col in data_cols:
            raise QInputError("the id column is also a statement column", file=path, line=table.header_line)
        text_col = None
        notes = table.unused(set(data_cols) | {id_col})
    else:
        text_col = table.resolve_text(text_column, id_col)
        if text_col is not None and text_col == id_col:
            raise QInputError("text_column and id_column are the same column", file=path, line=table.header_line)
        data_cols = [c for c in range(len(table.header)) if c not in (id_col, text_col)]
    table.check_lengths(id_col, len(data_cols) + len(table.unused_cols))
    col_ids = table.column_ids(data_cols)
    row_ids = table.row_ids(id_col, taken=col_ids)
    cells = [[row[c] for c in data_cols] for _, row in table.body]
    row_lines = [line for line, _ in table.body]
    by_sort = layout != "statements"
    locate = _line_locator(row_lines, table.header_line, rows_are_sorts=by_sort)
    raw = raw_scores(cells, len(data_cols))
    if not by_sort:
        texts = None if text_col is None else [row[text_col] for _, row in table.body]
        return QStudy(raw, row_ids, col_ids, grid=grid, forced=forced, statement_texts=texts, name=name,
                      source=str(path), notes=notes, _locate=locate)
    return QStudy(raw.T, col_ids, row_ids, grid=grid, forced=forced, name=name, source=str(path), notes=notes,
                  _locate=locate)


def write_csv(study: QStudy, path, *, layout="statements", text=False, sep=None) -> None:
    """Write a study as CSV (``.tsv``: tab-separated), atomically.

    The ``"statements"`` layout is what ``write.csv(dataset)`` gives in R: a blank first header cell, statement ids
    as row names, one column per Q-sort, strings quoted and scores not; with ``text=True`` a last column ``text``
    holds the statement wordings (read it back with ``text_column="text"``). ``"sorts"`` writes one row per Q-sort.
    The grid, ``forced`` and the name are not stored: pass them to :func:`read_csv`.

    Parameters
    ----------
    study : QStudy
    path : str or path-like
        The target; it must not be the file the study was read from (``study.source``).
    layout : {"statements", "sorts"}
    text : bool
        Add the statement texts (``"statements"`` layout only).
    sep : str, optional
        Field separator; default tab for ``.tsv``, else comma.

    Raises
    ------
    QInputError
        For an unknown layout, ``text=True`` without texts, or a target that is the study's source.
    """
    data = format_csv(study, layout=layout, text=text,
                      sep=sep if sep is not None else ("\t" if suffix(path) == ".tsv" else ","), path=path)
    atomic_write({Path(path): data}, sources=study_source(study))


def format_csv(study: QStudy, *, layout="statements", text=False, sep=",", path=None) -> str:
    """The text :func:`write_csv` writes (``path`` only names the file in errors)."""
    if layout not in LAYOUTS:
        raise QInputError(f"unknown layout {layout!r}: use 'statements' or 'sorts'")
    if text and (layout != "statements" or study.statement_texts is None):
        raise QInputError("text=True needs the 'statements' layout and a study with statement texts", file=path)
    delim = sep
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delim, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n")
    scores = study.scores.tolist()
    if layout == "statements":
        writer.writerow(["", *study.sort_ids] + (["text"] if text else []))
        for i, sid in enumerate(study.statement_ids):
            writer.writerow([sid, *scores[i]] + ([study.statement_texts[i]] if text else []))
    else:
        writer.writerow(["", *study.statement_ids])
        writer.writerows([sid, *column] for sid, column in zip(study.sort_ids, zip(*scores)))
    return buf.getvalue()


# ---------------------------------------------------------------------------------------------------- parsing


def sniff_separator(text: str, path) -> str:
    """Tab for ``.tsv``; else the commonest of comma, semicolon and tab outside quotes in the first line."""
    if suffix(path) == ".tsv":
        return "\t"
    first = next((line for line in text.splitlines() if line.strip()), "")
    counts = dict.fromkeys(_SEPARATORS, 0)
    quoted = False
    for ch in first:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in counts:
            counts[ch] += 1
    best = max(counts, key=counts.get)  # first maximum: comma wins ties
    return best if counts[best] else ","


def split_records(text: str, sep: str, path) -> list[tuple[int, list[str]]]:
    """(first line number, cells) of the header (the first non-blank line) and of each body row that has a
    non-blank cell; then trailing columns that are blank on every line are dropped."""
    if len(sep) != 1:
        raise QInputError(f"the separator must be one character, got {sep!r}", file=path)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    records = []
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as err:
            raise QInputError(f"cannot parse the line: {err}", file=path, line=start) from None
        blank_line = not row or (len(row) == 1 and not row[0].strip())
        if not blank_line and (not records or any(cell.strip() for cell in row)):  # the header may be blank cells
            records.append((start, row))
    if len({len(row) for _, row in records}) == 1:
        while len(records[0][1]) > 1 and all(not row[-1].strip() for _, row in records):
            records = [(line, row[:-1]) for line, row in records]
    return records


def _is_int(cell: str) -> bool:
    try:
        int(cell.strip())
    except ValueError:
        return False
    return True


def _is_text_column(body, c) -> bool:
    """Every non-blank, non-``NA`` cell of column ``c`` is text that is not a number (and there is one)."""
    cells = [row[c].strip() for _, row in body if c < len(row)]
    cells = [v for v in cells if v and v not in MISSING_CODES]
    return bool(cells) and not any(is_number(v) for v in cells)


def column_spec(spec) -> list:
    """Columns as given on the command line or to a reader: ``"s1..s40,s45"`` -> ``[("s1", "s40"), "s45"]``;
    a sequence of names or 0-based indices is taken as it is."""
    if isinstance(spec, (int, str)) and not isinstance(spec, bool):
        spec = [spec]
    out = []
    for item in spec:
        if isinstance(item, str):
            for part in (p.strip() for p in item.split(",")):
                if not part:
                    continue
                lo, sep, hi = part.partition("..")
                out.append((lo.strip(), hi.strip()) if sep else part)
        else:
            out.append(item)
    return out


class _Table:
    """The header and body of a delimited file, and the checks that need their line numbers."""

    def __init__(self, records, layout, path):
        self.path = path
        self.unused_cols = []
        self.layout = layout
        self.header_line, self.header = records[0]
        self.header = list(self.header)
        self.body = records[1:]
        self.row_kind, self.col_kind = ("statement", "sort") if layout == "statements" else ("sort", "statement")

    def resolve(self, column, what):
        """A column given as index or header name -> 0-based index (None stays None)."""
        if column is None or column is False:
            return None
        if isinstance(column, int) and not isinstance(column, bool):
            if not -len(self.header) <= column < len(self.header):
                raise QInputError(f"{what}={column} is outside the {len(self.header)} columns",
                                  file=self.path, line=self.header_line)
            return column % len(self.header)
        names = [h.strip() for h in self.header]
        if str(column).strip() not in names:
            raise QInputError(f"{what}={column!r}: no such column in the header", file=self.path,
                              line=self.header_line)
        return names.index(str(column).strip())

    def resolve_columns(self, spec, what) -> list[int]:
        """Columns named by :func:`column_spec` (names, 0-based indices, ``FIRST..LAST`` ranges) -> indices."""
        names = [h.strip() for h in self.header]
        out = []
        for item in column_spec(spec):
            if isinstance(item, tuple):
                lo, hi = (self.resolve(x, what) for x in item)
                if hi < lo:
                    raise QInputError(f"{what}: the range {names[lo]}..{names[hi]} runs backwards in the header",
                                      file=self.path, line=self.header_line)
                out += range(lo, hi + 1)
            else:
                out.append(self.resolve(item, what))
        if len(set(out)) != len(out):
            raise QInputError(f"{what}: a column is named twice", file=self.path, line=self.header_line)
        if not out:
            raise QInputError(f"{what}: no columns named", file=self.path, line=self.header_line)
        return out

    def unused(self, used) -> tuple:
        """A note naming the columns outside ``used`` (None ignored), or () when every column is used."""
        self.unused_cols = [c for c in range(len(self.header)) if c not in used]
        if not self.unused_cols:
            return ()
        names = [repr(self.header[c].strip() or f"column {c + 1}") for c in self.unused_cols]
        return (f"{len(names)} column(s) not used: {', '.join(names)}",)

    def resolve_text(self, text_column, id_col):
        """The statement-text column: as given, or with ``"auto"`` the one non-id column holding only text."""
        if not (isinstance(text_column, str) and text_column == "auto"):
            return self.resolve(text_column, "text_column")
        if self.layout != "statements":
            return None
        texts = [c for c in range(len(self.header)) if c != id_col and _is_text_column(self.body, c)]
        if len(texts) > 1:
            names = ", ".join(repr(self.header[c].strip() or f"column {c + 1}") for c in texts)
            raise QInputError(f"columns {names} hold text, not scores: name the statement-text column "
                              "(--text-column NAME) and remove the others", file=self.path, line=self.header_line)
        return texts[0] if texts else None

    def resolve_ids(self, id_column):
        if not (isinstance(id_column, str) and id_column == "auto"):
            return self.resolve(id_column, "id_column")
        widths = {len(row) for _, row in self.body}
        if widths == {len(self.header) + 1}:  # R write.table(row.names=TRUE): no header cell above the row names
            self.header.insert(0, "")
            return 0
        firsts = [row[0] for _, row in self.body if row]
        if not self.header[0].strip() or any(v.strip() and not _is_int(v) for v in firsts):
            return 0
        if firsts and all(_is_int(v) for v in firsts) and [int(v) for v in firsts] == list(range(1, len(firsts) + 1)):
            return 0
        if self.layout == "sorts" and firsts and all(_is_int(v) for v in firsts):
            rest = [int(v) for _, row in self.body for v in row[1:] if _is_int(v)]
            if rest and any(not min(rest) <= int(v) <= max(rest) for v in firsts):
                return 0  # participant numbers, not scores: outside the range of every other cell
        return None

    def check_lengths(self, id_col, n_data):
        """Every row must have as many fields as the header ("unequal sort lengths")."""
        n_extra = len(self.header) - n_data
        unit = "values" if self.layout == "statements" else "scores"
        for line, row in self.body:
            if len(row) != len(self.header):
                rid = row[id_col].strip() if id_col is not None and id_col < len(row) else None
                raise QInputError(f"unequal sort lengths: row has {max(len(row) - n_extra, 0)} {unit}, "
                                  f"expected {n_data}", file=self.path, line=line,
                                  **{self.row_kind: rid or None})

    def column_ids(self, data_cols):
        """The ids in the header above the data columns (sort ids, or statement ids in the sorts layout)."""
        where = dict(file=self.path, line=self.header_line)
        if not data_cols:
            raise QInputError(f"the header has no {self.col_kind} ids", **where)
        ids = [self.header[c].strip() for c in data_cols]
        for c, cid in zip(data_cols, ids):
            if not cid:
                raise QInputError(f"empty {self.col_kind} id in column {c + 1} of the header", **where)
        if all(_is_int(cid) for cid in ids) and any(cid.startswith("-") for cid in ids):
            raise QInputError(f"the first line looks like scores, not {self.col_kind} ids: the file needs a header "
                              f"line naming the {'Q-sorts' if self.col_kind == 'sort' else 'statements'}", **where)
        return ids

    def row_ids(self, id_col, taken=()):
        if id_col is None:
            prefixes = STATEMENT_PREFIXES if self.row_kind == "statement" else SORT_PREFIXES
            return generated_ids(len(self.body), prefixes, taken)
        ids = [row[id_col].strip() for _, row in self.body]
        for (line, _), rid in zip(self.body, ids):
            if not rid:
                raise QInputError(f"empty {self.row_kind} id", file=self.path, line=line)
        return ids


def _line_locator(lines, header_line, *, rows_are_sorts: bool):
    """``_locate`` for a table: a row (statement, or Q-sort in the sorts layout) is a line; a column is in the header."""

    def locate(sort_index, statement_index):
        row, column = (sort_index, statement_index) if rows_are_sorts else (statement_index, sort_index)
        if row is not None:
            return lines[row] if row < len(lines) else None
        return header_line if column is not None else None

    return locate
