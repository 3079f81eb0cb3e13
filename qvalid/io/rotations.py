"""Judgmental rotation files: one step per line, human-writable, replayable.

::

    # after varimax: bring the two viewpoints apart
    f1 f2 +12.5
    f2 f3 -4        # counter-clockwise
    1 3 7.25 deg

Each line names two factors (``f1`` or ``1``; the order does not matter) and an angle in degrees: positive turns the
points of the loadings plot clockwise with the lower-numbered factor on the horizontal axis, as KADE's clockwise
button and PQMethod's hand rotation (:mod:`qvalid.core.judgmental`). ``#`` starts a comment; blank lines are
ignored; a trailing ``deg``/``°`` is allowed; ``f1-f2 +12.5`` and commas between fields are accepted too.
:func:`format_steps` writes the same format (what ``qvalid analyze`` records, and what replays a result).
"""

from __future__ import annotations

import csv
import io
import re

import numpy as np

from ..core.judgmental import PairStep
from ..errors import QInputError
from ..numbers import NumberError, number
from .csv import sniff_separator
from .files import read_text

__all__ = ["read_rotation_steps", "parse_steps", "format_steps", "read_target"]

_FACTOR = re.compile(r"^[fF]?(\d+)$")
_FACTOR_COLUMN = re.compile(r"^(f|factor|fac)[ _]?(\d+)$", re.IGNORECASE)
_UNSPECIFIED = {"", "na", "nan", "?", "."}


def read_rotation_steps(path, encoding=None) -> list:
    """The steps of a rotation file (see the module docstring), as :class:`~qvalid.core.judgmental.PairStep`
    (0-based factors). Raises :class:`~qvalid.errors.QInputError` naming the file and line of a bad step."""
    return parse_steps(read_text(path, encoding), source=str(path))


def parse_steps(text: str, *, source=None) -> list:
    """:func:`read_rotation_steps` on text (one step per line)."""
    steps = []
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].replace(",", " ").replace("°", " ").strip()
        if not line:
            continue
        tokens = line.split()
        if tokens and tokens[-1].lower() in ("deg", "degree", "degrees"):
            tokens = tokens[:-1]
        if len(tokens) == 2 and "-" in tokens[0][1:]:  # f1-f2 +12.5
            tokens = tokens[0].split("-", 1) + tokens[1:]
        if len(tokens) != 3:
            raise QInputError(f"a rotation step is two factors and an angle in degrees (e.g. 'f1 f2 +12.5'), "
                              f"got {raw.strip()!r}", file=source, line=n)
        factors = []
        for tok in tokens[:2]:
            m = _FACTOR.match(tok)
            if not m or int(m.group(1)) < 1:
                raise QInputError(f"{tok!r} is not a factor (f1, f2, ... or 1, 2, ...)", file=source, line=n)
            factors.append(int(m.group(1)) - 1)
        try:
            deg = number(tokens[2])
        except NumberError as err:
            raise QInputError(f"{tokens[2]!r} is not an angle in degrees ({err.reason})", file=source, line=n) from None
        if factors[0] == factors[1]:
            raise QInputError(f"a step turns two different factors, got f{factors[0] + 1} twice", file=source,
                              line=n)
        steps.append(PairStep(factors[0], factors[1], deg))
    return steps


def format_steps(steps) -> str:
    """The rotation file of ``steps`` (``f1 f2 +12.5`` per line; full precision, so it replays exactly)."""
    return "".join(f"f{st.pair[0] + 1} f{st.pair[1] + 1} {st.degrees:+}\n" for st in steps)


def read_target(path, sort_ids, nfactors: int, *, encoding=None) -> np.ndarray:
    """The target loadings of a target rotation (GPArotation's ``Target``), in the study's sort order.

    A table with a sort id column (the first column) and factor columns ``f1``..``fk``; an empty cell or ``NA``
    leaves that entry unspecified (NaN: targetQ/targetT then ignore it, as GPArotation ignores NA). Every Q-sort of
    the study needs a row; a row for a sort the study has not is an error.

    Returns
    -------
    ndarray of shape (n_sorts, nfactors)
    """
    text = read_text(path, encoding)
    rows = [r for r in csv.reader(io.StringIO(text, newline=""), delimiter=sniff_separator(text, path))]
    if not rows or not any(c.strip() for c in rows[0]):
        raise QInputError("empty target file", file=path)
    header = [h.strip() for h in rows[0]]
    cols = {int(m.group(2)): i for i, h in enumerate(header) if (m := _FACTOR_COLUMN.match(h))}
    want = list(range(1, nfactors + 1))
    if sorted(cols) != want:
        raise QInputError(f"the target needs factor columns f1..f{nfactors} (one per factor), found "
                          f"{', '.join(header[i] for i in cols.values()) or 'none'}", file=path, line=1)
    where = {sid: i for i, sid in enumerate(sort_ids)}
    out = np.full((len(sort_ids), nfactors), np.nan)
    seen = set()
    for ln, r in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in r):
            continue
        if len(r) < len(header):
            raise QInputError(f"row has {len(r)} fields, header has {len(header)}", file=path, line=ln)
        sid = r[0].strip()
        if sid not in where:
            raise QInputError("the study has no such Q-sort", file=path, line=ln, sort=sid)
        if sid in seen:
            raise QInputError("duplicate sort id", file=path, line=ln, sort=sid)
        seen.add(sid)
        for f in want:
            cell = r[cols[f]].strip()
            if cell.lower() in _UNSPECIFIED:
                continue
            try:
                out[where[sid], f - 1] = number(cell)
            except NumberError as err:
                raise QInputError(f"target value {cell!r} on f{f} is neither a number nor empty/NA ({err.reason})",
                                  file=path, line=ln, sort=sid) from None
    missing = [sid for sid in sort_ids if sid not in seen]
    if missing:
        raise QInputError(f"the target has no row for {len(missing)} Q-sort(s): {', '.join(missing)} (leave cells "
                          "empty for unspecified entries)", file=path, sort=missing[0])
    if np.isnan(out).all():
        raise QInputError("every target entry is unspecified", file=path)
    return out
