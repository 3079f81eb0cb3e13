"""PQMethod study files: ``<study>.DAT`` (Q-sorts) and ``<study>.STA`` (statement wordings).

The ``.DAT`` layout is fixed-width (Schmolck's PQMethod; read as R qmethod's ``import.pqmethod`` reads it,
R/import.pqmethod.R, and written as ``export.pqmethod`` writes it, R/export.pqmethod.R)::

    line 1    I3 (0), I3 number of Q-sorts, I3 number of statements, a blank, the study title
    line 2    I3 lowest score, I3 highest score, 20 x I3 number of cells for the scores -6, -5, ..., +13
    line 3..  A10 Q-sort name (padded with blanks), then I2 per statement: "-4", " 0", " 3"

Fixed widths are used throughout, as qmethod does (``read.fwf(widths=c(10, rep(2, nstat)), skip=2)``); KADE's
split-on-blanks parser is fragile (see the KADE/PQMethod notes, traps item 19). A ``.DAT`` file holds no statement
ids, so statements are named ``sta_1, sta_2, ...`` like qmethod does. The ``.STA`` file has one statement per line.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import QInputError
from ..study import QStudy, format_score, grid_from_counts, grid_text
from .files import atomic_write, raw_scores, read_text, refuse_source

__all__ = ["read_dat", "write_dat", "format_dat", "format_sta", "DAT_SCORES"]

DAT_SCORES = range(-6, 14)
"""The scores a ``.DAT`` distribution line can hold: -6..+13."""
NAME_WIDTH = 10
_GRID_FIELDS = 2 + len(DAT_SCORES)


def read_dat(path, *, sta=None, forced=True, grid=None, encoding=None) -> QStudy:
    """Read a PQMethod ``.DAT`` file (and its ``.STA`` statements) as a :class:`QStudy`.

    Parameters
    ----------
    path : str or path-like
        The ``.DAT`` file (UTF-8 or ASCII; CRLF and LF line ends are both fine).
    sta : None, False or path-like
        The statement file. ``None`` looks for a sibling with the same stem and extension ``.STA`` or ``.sta``
        (any case); ``False`` reads no texts.
    forced : bool
        Whether every Q-sort must fill the distribution of line 2 exactly.
    grid : mapping score -> cells, optional
        The distribution the caller expects; it must equal line 2 (else :class:`QInputError`).
    encoding : str, optional
        Text encoding of both files (PQMethod on DOS wrote cp437/cp850 texts); default UTF-8.

    Returns
    -------
    QStudy
        Statements ``sta_1..sta_n``; Q-sort ids are the 10-character names with blanks removed (as
        qmethod's ``gsub(" ", "", ...)``); ``name`` is the title of line 1 without PQMethod's padding blanks; the
        grid is line 2.

    Raises
    ------
    QInputError
        Naming the file and line: a malformed header (line 1 or 2), a distribution whose cells do not add up to
        the number of statements, a Q-sort line of the wrong length, a different number of Q-sort lines than
        the header says, missing or non-numeric scores, a ``.STA`` with the wrong number of lines, and every
        check of :meth:`QStudy.validate`.
    """
    path = Path(path)
    lines = _lines(read_text(path, encoding))
    if not lines:
        raise QInputError("empty file", file=path)
    n_sorts, n_statements, title = _parse_title_line(lines[0], path)
    if len(lines) < 2:
        raise QInputError("malformed .DAT header: line 2 (the distribution) is missing", file=path, line=2)
    file_grid = _parse_grid_line(lines[1], n_statements, path)
    if grid is not None and grid_from_counts(grid) != grid_from_counts(file_grid):
        raise QInputError(f"the grid given, {grid_text(grid_from_counts(grid))}, differs from the .DAT file's "
                          f"{grid_text(grid_from_counts(file_grid))}", file=path, line=2)
    names, cells = _parse_sort_lines(lines[2:], n_statements, path)
    if len(names) != n_sorts:
        raise QInputError(f"header says {n_sorts} Q-sorts but the file has {len(names)} Q-sort lines",
                          file=path, line=1)
    sta_path = _find_sta(path) if sta is None else (None if sta is False else Path(sta))
    texts = None if sta_path is None else _read_sta(sta_path, n_statements, encoding)
    return QStudy(raw_scores(cells, n_statements).T, [f"sta_{i + 1}" for i in range(n_statements)], names,
                  grid=file_grid, forced=forced, statement_texts=texts, name=title, source=str(path),
                  _locate=lambda sort_index, statement_index: None if sort_index is None else sort_index + 3)


def write_dat(study: QStudy, path, *, sta=True) -> None:
    """Write a study as a PQMethod ``.DAT`` file (and a ``.STA`` file next to it), atomically.

    ``read_dat(p)`` of the written file equals the study when its statement ids are qmethod's ``sta_1..sta_n``
    (a ``.DAT`` file stores no statement ids; others come back as ``sta_i``). The layout is the one of the module
    docstring: scores right-aligned in two characters, names left-aligned in ten, LF line ends.

    Parameters
    ----------
    study : QStudy
    path : str or path-like
        The ``.DAT`` target; it must not be the study's source file.
    sta : bool
        Also write the statement texts, one per line, to the sibling ``.STA`` (``.sta`` when the ``.DAT``
        extension is not upper case). Skipped when the study has no texts.

    Raises
    ------
    QInputError
        When the study does not fit the format: a grid outside -6..+13, more than 999 Q-sorts or statements,
        a Q-sort id longer than 10 characters or containing blanks, line breaks in the title or a statement text;
        or when a target is the study's source file.
    """
    path = Path(path)
    contents = {path: format_dat(study, path)}
    if sta and study.statement_texts is not None:
        sta_path = path.with_suffix(".STA" if path.suffix.isupper() else ".sta")
        contents[sta_path] = format_sta(study, sta_path)
    refuse_source(study, *contents)
    atomic_write(contents)


def format_dat(study: QStudy, path=None) -> str:
    """The text of the ``.DAT`` file for ``study`` (``path`` only names the file in errors)."""
    lo, hi = min(study.grid), max(study.grid)
    if lo < DAT_SCORES.start or hi >= DAT_SCORES.stop:
        raise QInputError(f"a PQMethod .DAT file holds scores -6..+13 only; the grid "
                          f"{format_score(lo)}..{format_score(hi)} cannot be written", file=path)
    if max(study.scores.shape) > 999:
        raise QInputError(f"a PQMethod .DAT file holds at most 999 Q-sorts and statements, the study has "
                          f"{study.n_sorts} Q-sorts and {study.n_statements} statements", file=path)
    if "\n" in study.name or "\r" in study.name:
        raise QInputError("the study name contains a line break; a .DAT title is one line", file=path)
    for sid in study.sort_ids:
        if len(sid) > NAME_WIDTH or any(ch.isspace() for ch in sid):
            raise QInputError(f"a PQMethod Q-sort name is at most {NAME_WIDTH} characters without blanks; "
                              "rename this Q-sort", file=path, sort=sid)
    title = f"{0:3d}{study.n_sorts:3d}{study.n_statements:3d}" + (f" {study.name}" if study.name else "")
    grid = "".join(f"{v:3d}" for v in (lo, hi, *(study.grid.get(s, 0) for s in DAT_SCORES)))
    cells = np.char.rjust(study.scores.T.astype(str), 2)
    sorts = [sid.ljust(NAME_WIDTH) + "".join(row) for sid, row in zip(study.sort_ids, cells.tolist())]
    return "\n".join([title, grid, *sorts]) + "\n"


def format_sta(study: QStudy, path=None) -> str:
    """The text of the ``.STA`` file: one statement per line (``path`` only names the file in errors)."""
    if study.statement_texts is None:
        raise QInputError("the study has no statement texts", file=path)
    for sid, text in zip(study.statement_ids, study.statement_texts):
        if "\n" in text or "\r" in text:
            raise QInputError("the statement text contains a line break; a .STA file has one statement per line",
                              file=path, statement=sid)
    return "".join(f"{text}\n" for text in study.statement_texts)


# ---------------------------------------------------------------------------------------------------- parsing


def _lines(text: str) -> list[str]:
    """Lines without their ends (LF, CRLF or CR), a DOS end-of-file mark and trailing blank lines dropped."""
    lines = text.rstrip("\x1a").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    while lines and not lines[-1].strip():
        lines.pop()
    return lines


def _ints(fields: list[str]) -> list[int] | None:
    try:
        return [int(f) for f in fields]
    except ValueError:
        return None


def _parse_title_line(line: str, path) -> tuple[int, int, str]:
    """Line 1: ``  0``, I3 Q-sorts, I3 statements, blank, title (R/import.pqmethod.R:5,17,20 reads chars 4-9)."""
    numbers = _ints([line[0:3], line[3:6], line[6:9]]) if len(line) >= 9 else None
    if numbers is None:
        raise QInputError("malformed .DAT header: line 1 must start with three 3-character numbers (0, the number "
                          f"of Q-sorts, the number of statements), got {line[:9]!r}", file=path, line=1)
    _, n_sorts, n_statements = numbers
    if n_sorts < 0 or n_statements < 1:
        raise QInputError(f"malformed .DAT header: line 1 says {n_sorts} Q-sorts and {n_statements} statements",
                          file=path, line=1)
    title = line[10:] if line[9:10] == " " else line[9:]
    return n_sorts, n_statements, title.strip()  # PQMethod pads the title with blanks to a fixed width


def _parse_grid_line(line: str, n_statements: int, path) -> dict[int, int]:
    """Line 2: I3 lowest and highest score, then 20 x I3 cell counts for the scores -6..+13."""
    body = line.rstrip()
    width = 3 * _GRID_FIELDS
    if len(body) != width:
        raise QInputError(f"malformed .DAT header: line 2 must hold the lowest and highest score and the number "
                          f"of cells for each score -6..+13 ({_GRID_FIELDS} fields of 3 characters, {width} "
                          f"characters), got {len(body)} characters", file=path, line=2)
    fields = [body[k:k + 3] for k in range(0, width, 3)]
    numbers = _ints(fields)
    if numbers is None:
        k = next(k for k, f in enumerate(fields) if _ints([f]) is None)
        raise QInputError(f"malformed .DAT header: field {k + 1} of line 2 is {fields[k]!r}, not a number",
                          file=path, line=2)
    lo, hi, *counts = numbers
    grid = dict(zip(DAT_SCORES, counts))
    if min(counts) < 0:
        raise QInputError("malformed .DAT header: line 2 has a negative cell count", file=path, line=2)
    used = [s for s, c in grid.items() if c]
    if used and (min(used) < lo or max(used) > hi):
        raise QInputError(f"malformed .DAT header: line 2 gives the score range {format_score(lo)}.."
                          f"{format_score(hi)} but has cells from {format_score(min(used))} to "
                          f"{format_score(max(used))}", file=path, line=2)
    if sum(counts) != n_statements:
        raise QInputError(f"grid has {sum(counts)} cells but header says {n_statements} statements",
                          file=path, line=2)
    return grid


def _parse_sort_lines(lines: list[str], n_statements: int, path) -> tuple[list[str], list[list[str]]]:
    """Lines 3..: A10 name, then I2 per statement; returns the names and the raw 2-character cells."""
    expected = NAME_WIDTH + 2 * n_statements
    names, cells = [], []
    for number, line in enumerate(lines, start=3):
        if len(line) > expected and not line[expected:].strip():
            line = line[:expected]
        name = line[:NAME_WIDTH].replace(" ", "")
        if len(line) != expected:
            raise QInputError(f"Q-sort line has {len(line)} characters, expected {expected} (a {NAME_WIDTH}-character "
                              f"name and 2 characters for each of {n_statements} statements)",
                              file=path, line=number, sort=name or None)
        if not name:
            raise QInputError(f"empty sort id (the first {NAME_WIDTH} characters are blank)", file=path, line=number)
        names.append(name)
        cells.append([line[k:k + 2] for k in range(NAME_WIDTH, expected, 2)])
    return names, cells


def _find_sta(path: Path) -> Path | None:
    """The sibling ``<stem>.STA``/``<stem>.sta`` (any case; the one matching the ``.DAT``'s case first)."""
    want = f"{path.stem}.sta"
    try:
        found = [p for p in path.parent.iterdir() if p.name.casefold() == want.casefold() and p.is_file()]
    except OSError:
        return None
    preferred = f"{path.stem}.STA" if path.suffix.isupper() else want
    found.sort(key=lambda p: p.name != preferred)
    return found[0] if found else None


def _read_sta(path: Path, n_statements: int, encoding=None) -> list[str]:
    """One statement text per line; blank lines beyond ``n_statements`` at the end are ignored."""
    text = read_text(path, encoding).rstrip("\x1a").replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    if text.endswith("\n"):
        lines.pop()
    while len(lines) > n_statements and not lines[-1].strip():
        lines.pop()
    if len(lines) != n_statements:
        raise QInputError(f"{len(lines)} statement lines, but the .DAT file has {n_statements} statements",
                          file=path)
    return lines
