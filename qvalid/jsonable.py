"""The one converter from qvalid's numbers to JSON: NaN and infinities become ``null``, numpy types plain Python.

Every JSON output (``QResult.to_dict``, the bootstrap, the number-of-factors evidence, the cross-check, the R
runs, the comparison engine, the report) goes through these three functions, so ``json.dumps(...,
allow_nan=False)`` never meets a NaN and a number is written the same way everywhere (``repr`` of a float64:
full precision).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["jsonable", "num", "records"]


def num(a, kind=float):
    """An array or scalar as nested lists of Python ``kind`` (float or int), NaN -> None; None stays None."""
    if a is None:
        return None
    arr = np.asarray(a, dtype=np.float64)
    nan = np.isnan(arr)
    out = np.where(nan, 0, arr).astype(np.int64 if kind is int else np.float64)
    if not nan.any():
        return out.tolist()
    obj = out.astype(object)
    obj[nan] = None
    return obj.tolist()


def jsonable(x):
    """Any nesting of dicts, lists, tuples, arrays and numpy scalars as JSON-ready Python objects.

    Non-finite floats become None, numpy booleans and integers Python ones, dict keys strings; strings, ints,
    bools and None pass; anything else is written as its ``str``.
    """
    if isinstance(x, dict):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return jsonable(x.tolist())
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        return float(x) if math.isfinite(float(x)) else None
    if x is None or isinstance(x, str):
        return x
    return str(x)


def records(frame) -> list:
    """A pandas table as a list of JSON-ready rows: the index levels (by their names) first, then the columns."""
    if frame is None:
        return []
    return [{str(k): jsonable(v) for k, v in rec.items()} for rec in frame.reset_index().to_dict(orient="records")]
