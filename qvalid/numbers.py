"""Numbers as they enter qvalid: cells of study files, tables and workbooks, and values typed on the command line.

One rule for every number read (issue 20, "one validation layer"):

- a text is a number when it is written in plain ASCII decimal notation: an optional sign, digits with an optional
  fraction, an optional exponent (``-3``, ``+0.42``, ``.5``, ``1e-5``; blanks around it are ignored); a spreadsheet
  cell is a number when the spreadsheet stores one;
- it must be finite;
- it must be whole where a count, a score or a seed is meant (``3.0`` is 3, ``1.5`` is not);
- and it must lie in its range.

Refused, although Python's ``float``/``int`` would take them: ``nan``, ``inf``, ``Infinity``, ``1e400`` (infinite
as a double), ``0_0`` and ``1_000`` (underscores), ``٣`` and ``３`` (non-ASCII digits), ``0x3``, spreadsheet
booleans (``TRUE`` would be 1) and dates, and whole numbers written with an exponent or stored as doubles beyond
2**53 (a double cannot hold them exactly). Every message quotes the value as written (:func:`shown`), never as
converted ("score -9223372036854775808").
"""

from __future__ import annotations

import datetime
import math
import re

import numpy as np

__all__ = ["NumberError", "number", "shown", "is_number", "integer_cells", "range_text", "MAX_EXACT"]

#: Whole numbers above this magnitude are not exactly representable as doubles.
MAX_EXACT = 2 ** 53

_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
_DIGITS = re.compile(r"[+-]?\d+", re.ASCII)
#: How NaN and the infinities are written (by Python, R, pandas, spreadsheets): numbers, but not finite.
_NOT_FINITE = ("nan", "inf", "infinity")
#: A plain integer cell that int64 holds exactly (15 digits: below MAX_EXACT too).
_CELL_INT = re.compile(r"\s*[+-]?\d{1,15}\s*", re.ASCII)


class NumberError(ValueError):
    """A value that is not an acceptable number; ``str()`` quotes it as written and says why.

    ``kind`` is one of ``"not-number"``, ``"logical"``, ``"date"``, ``"not-finite"``, ``"not-whole"``,
    ``"too-large"``, ``"range"``.
    """

    def __init__(self, value, kind: str, reason: str):
        self.value, self.kind, self.reason = value, kind, reason
        super().__init__(f"{shown(value)} {reason}")


def shown(value) -> str:
    """A value as its writer wrote it: a text quoted as it is (``'1e400'``, ``' 1,5 '``), a stored number in its
    shortest form (``1e+20``, ``1.5``, ``3``), a spreadsheet boolean as ``TRUE``/``FALSE``, a date as its date."""
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, (bool, np.bool_)):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (datetime.date, datetime.time)):
        return str(value)
    if isinstance(value, (float, np.floating)):
        v = float(value)
        return str(int(v)) if v.is_integer() and abs(v) < 1e16 else repr(v)
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    return repr(value)


def is_number(text) -> bool:
    """Whether a text is written as a number (finite or not is not asked): the grammar of the module docstring."""
    return isinstance(text, str) and _NUMBER.fullmatch(text.strip()) is not None


def number(value, *, whole: bool = False, low=None, high=None, low_open: bool = False, high_open: bool = False):
    """The number a cell or an option value holds, by the rule of the module docstring.

    Parameters
    ----------
    value : str, int, float or a numpy scalar
        A text as written, or a number as a spreadsheet stored it.
    whole : bool
        A whole number is required; returned as ``int`` (a text of digits of any length is read exactly).
    low, high : number, optional
        The range; ``low_open``/``high_open`` exclude the ends.

    Returns
    -------
    float, or int with ``whole``

    Raises
    ------
    NumberError
        Quoting the value as written: not a number, a logical or date cell, not finite, not whole, not exactly
        representable, or out of range.
    """
    if isinstance(value, (bool, np.bool_)):
        raise NumberError(value, "logical", "is a logical value, not a number")
    if isinstance(value, (datetime.date, datetime.time, datetime.timedelta)):
        raise NumberError(value, "date", "is a date or time, not a number")
    if isinstance(value, str):
        text = value.strip()
        if _DIGITS.fullmatch(text):
            v = int(text)
            if not whole:
                v = float(v) if abs(v) <= MAX_EXACT else _float_or_fail(value, text)
        elif _NUMBER.fullmatch(text):
            v = _float_or_fail(value, text)
        elif text.lower().lstrip("+-") in _NOT_FINITE:
            raise NumberError(value, "not-finite", "is not a finite number")
        else:
            raise NumberError(value, "not-number", "is not a number")
    elif isinstance(value, (int, np.integer)):
        v = int(value) if whole else float(value)
    elif isinstance(value, (float, np.floating)):
        v = float(value)
        if not math.isfinite(v):
            raise NumberError(value, "not-finite", "is not a finite number")
    else:
        raise NumberError(value, "not-number", "is not a number")
    if whole and isinstance(v, float):
        if not v.is_integer():
            raise NumberError(value, "not-whole", "is not a whole number")
        if abs(v) > MAX_EXACT:
            raise NumberError(value, "too-large", "is too large to be a whole number held exactly")
        v = int(v)
    lo_bad = low is not None and (v <= low if low_open else v < low)
    hi_bad = high is not None and (v >= high if high_open else v > high)
    if lo_bad or hi_bad:
        raise NumberError(value, "range", f"must be {range_text(low, high, low_open, high_open, whole)}")
    return v


def _float_or_fail(value, text: str) -> float:
    v = float(text)
    if not math.isfinite(v):
        raise NumberError(value, "not-finite", "is not a finite number")
    return v


def range_text(low, high, low_open: bool = False, high_open: bool = False, whole: bool = False) -> str:
    """How a range reads after "must be": ``>= 1``, ``> 0``, ``in [0, 1]``, ``in (0, 1)``, for whole numbers
    ``1..8``."""
    if whole:
        lo = None if low is None else (math.floor(low) + 1 if low_open else math.ceil(low))
        hi = None if high is None else (math.ceil(high) - 1 if high_open else math.floor(high))
        if lo is not None and hi is not None:
            return f"{lo}..{hi}"
        return f">= {lo}" if lo is not None else f"<= {hi}" if hi is not None else "any whole number"
    if high is None and low is not None:
        return f"{'>' if low_open else '>='} {low:g}"
    if low is None and high is not None:
        return f"{'<' if high_open else '<='} {high:g}"
    lo = "-inf" if low is None else f"{low:g}"
    hi = "inf" if high is None else f"{high:g}"
    return "in " + ("(" if low_open or low is None else "[") + f"{lo}, {hi}" + (")" if high_open or high is None
                                                                                else "]")


def integer_cells(raw: np.ndarray) -> np.ndarray | None:
    """An object array of texts as int64 when every cell is a plain integer of at most 15 digits (the fast path of
    the readers), else None (the cells are then converted one by one to name the first bad one)."""
    flat = raw.ravel()
    match = _CELL_INT.fullmatch
    for cell in flat:
        if not (isinstance(cell, str) and match(cell)):
            return None
    return raw.astype(np.int64) if flat.size else np.zeros(raw.shape, dtype=np.int64)
