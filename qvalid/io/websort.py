"""Q-sorts collected online: HTMLQ / FlashQ CSV exports, easy-htmlq and EQ Web Sort JSON, EQ Web Sort's Google
Sheets and Netlify CSV files.

Formats, as the tools write them and as R qmethod or Ken-Q/KADE read them:

- **HTMLQ / FlashQ** (the FlashQ PHP back end's CSV export; read by qmethod's ``import.htmlq``, R/import.htmlq.R):
  semicolon-separated, one Q-sort per row, columns ``sid`` (row number), ``uid`` (the participant's code),
  ``datetime``, the statements ``s1..sN``, ``npos``, ``nneu``, ``nneg``, ``comment*``, ``form*``, ``dur*``
  (HTMLQ's ``src/htmlq.js`` submits these fields). qmethod takes the columns whose names start with ``s`` (but
  ``sid``) as statements and names the Q-sorts ``q<uid>`` or ``q<sid>``.
- **easy-htmlq / EQ Web Sort JSON** (a Firebase export; qmethod's ``import.easyhtmlq``, R/import.easyhtml.R, and
  KADE ``Input/JSON/convertJSONToData.js``): an object of participants, each an object with ``sort`` =
  ``"-2|0|3|..."`` (the score of statement 1, 2, ...) and other fields (``datetime``, ``partId``, ``randomId``, ...).
  The Q-sorts are named by the keys; the statements ``s1..sN``.
- **EQ Web Sort, Google Sheets CSV** (KADE ``Input/JSON/processSheetsCsv.js``): one Q-sort per row of labelled
  cells ``partId: ...``, ``randomId: ...``, ``urlUsercode: ...``, ..., the last ``sort: -2|0|3|...``; a header row.
- **EQ Web Sort, Netlify CSV** (KADE ``Input/JSON/processNetlifyCsv.js``): one Q-sort per row, its first cell
  ``...| partId:|X| randomId:|Y| urlUsercode:|Z| ...| sort:|-2|0|3|...``.

Every field that is not the Q-sort or its name is reported in ``QStudy.notes`` as not used (the command line warns).
EQ Web Sort studies are named by ``randomId`` (as KADE does) unless another field is given as ``id_column``.
"""

from __future__ import annotations

import csv
import io
import json
import re

import numpy as np

from ..errors import QInputError
from ..numbers import is_number
from ..study import QStudy
from .csv import column_spec, sniff_separator, split_records
from .files import read_text

__all__ = ["read_htmlq", "read_sort_json", "read_eqws_csv", "HTMLQ_FIELDS"]

#: The non-statement fields of an HTMLQ/FlashQ row (src/htmlq.js ``makeParamsObject``; the PHP back end adds sid).
HTMLQ_FIELDS = ("sid", "uid", "datetime", "npos", "nneu", "nneg", "name")
_STATEMENT = re.compile(r"^s\d+$")


def read_htmlq(path, *, id_column=None, statements_column=None, grid=None, forced=True, name="",
               encoding=None) -> QStudy:
    """Read an HTMLQ or FlashQ CSV export (see the module docstring).

    Statements are the columns ``s1, s2, ...`` (``statements_column`` picks others: names, indices or
    ``FIRST..LAST``). Q-sorts are named exactly as qmethod's ``import.htmlq`` names them, so that they match the
    authors' qmethod output: ``q<uid>`` when the number of rows with a ``uid`` equals the number of *statements*
    (qmethod's test, a slip for the number of Q-sorts), else ``q<sid>``. ``id_column`` (``--id-column uid``) names
    the column to take the names from as they are. The separator is sniffed (HTMLQ writes semicolons).
    """
    text = read_text(path, encoding)
    records = split_records(text, sniff_separator(text, path), path)
    if len(records) < 2:
        raise QInputError("an HTMLQ export needs a header line and at least one Q-sort", file=path)
    (hline, header), body = records[0], records[1:]
    names = [h.strip() for h in header]
    for line, row in body:
        if len(row) != len(header):
            raise QInputError(f"row has {len(row)} fields, the header has {len(header)}", file=path, line=line)
    if statements_column is None:
        cols = [c for c, h in enumerate(names) if _STATEMENT.match(h)]
        if not cols:
            raise QInputError("no statement columns s1, s2, ... in the header (give --statements-column)", file=path,
                              line=hline)
    else:
        cols = _columns(statements_column, names, path, hline)
    if id_column is None:
        uid = _column(names, "uid")
        sid = _column(names, "sid")
        uids = [row[uid].strip() for _, row in body] if uid is not None else []
        if uids and _r_non_na(uids) == len(cols):  # qmethod: sum(!is.na(a$uid)) == nstat
            id_col, ids = uid, [f"q{u or 'NA'}" for u in uids]
        elif sid is not None:
            id_col, ids = sid, [f"q{row[sid].strip()}" for _, row in body]
        else:
            id_col, ids = None, [f"q{i + 1}" for i in range(len(body))]
    else:
        id_col = _columns(id_column, names, path, hline)
        if len(id_col) != 1:
            raise QInputError("id_column (--id-column) names one column", file=path, line=hline)
        id_col = id_col[0]
        if id_col in cols:
            raise QInputError(f"the id column {names[id_col]!r} is also a statement column", file=path, line=hline)
        ids = [row[id_col].strip() for _, row in body]
    for (line, _), sid_ in zip(body, ids):
        if not sid_:
            raise QInputError("empty Q-sort name", file=path, line=line)
    scores = [[_cell(row[c]) for c in cols] for _, row in body]
    notes = _unused([h for c, h in enumerate(names) if c not in cols and c != id_col])
    lines = [line for line, _ in body]
    return QStudy(_transpose(scores), [names[c] for c in cols], ids, grid=grid, forced=forced, name=name,
                  source=str(path), notes=notes,
                  _locate=lambda sort_index, statement_index: lines[sort_index] if sort_index is not None else hline)


def read_sort_json(path, *, id_column=None, grid=None, forced=True, name="", encoding=None) -> QStudy:
    """Read an easy-htmlq or EQ Web Sort JSON export: ``{"<key>": {"sort": "-2|0|3|...", ...}, ...}`` (see the
    module docstring). Q-sorts are named by their keys, or by the field ``id_column``; statements ``s1..sN``."""
    text = read_text(path, encoding)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise QInputError(f"not valid JSON ({err.msg})", file=path, line=err.lineno) from None
    if isinstance(data, list):
        data = {str(i + 1): v for i, v in enumerate(data)}
    if not isinstance(data, dict) or not data or not all(isinstance(v, dict) for v in data.values()):
        raise QInputError("expected a JSON object of participants, each an object with a 'sort' field "
                          "(easy-htmlq / EQ Web Sort)", file=path)
    records = []
    for key, fields in data.items():
        if "sort" not in fields:
            raise QInputError("participant has no 'sort' field", file=path, sort=str(key))
        records.append((str(key), {k: v for k, v in fields.items()}))
    return _study_from_records(records, path, id_column, "the JSON keys", grid=grid, forced=forced, name=name)


def read_eqws_csv(path, *, id_column=None, grid=None, forced=True, name="", encoding=None) -> QStudy:
    """Read EQ Web Sort's Google Sheets CSV (labelled cells ``key: value``, the last ``sort: -2|0|...``) or its
    Netlify CSV (one cell ``...| key:|value| ... sort:|-2|0|...``); Q-sorts named by ``randomId`` (as KADE), or by
    the field ``id_column``."""
    text = read_text(path, encoding)
    rows = list(csv.reader(io.StringIO(text, newline="")))
    records = []
    for line, row in enumerate(rows, start=1):
        cells = [c for c in row if c.strip()]
        if not cells:
            continue
        if "| sort:|" in cells[0] or cells[0].lstrip().startswith("sort:|"):
            fields = _netlify_fields(cells[0])
        elif any(re.match(r"^\s*sort\s*:", c) for c in cells):
            fields = {}
            for i, c in enumerate(cells):
                key, sep, value = c.partition(":")
                key = key.strip() if sep and key.strip() else f"cell {i + 1}"
                fields[key] = value.strip() if sep else c.strip()
        else:
            continue  # the header row
        records.append((f"row {line}", fields))  # (both branches found a sort field)
    if not records:
        raise QInputError("no Q-sorts: no row has a 'sort:' cell (EQ Web Sort Google Sheets or Netlify CSV)",
                          file=path)
    default = "randomId" if all("randomId" in f for _, f in records) else None
    return _study_from_records(records, path, id_column or default, "the rows", grid=grid, forced=forced,
                               name=name, by_key=id_column is None and default is None)


# ---------------------------------------------------------------------------------------------------- helpers
def _study_from_records(records, path, id_field, keys_are, *, grid, forced, name, by_key=None) -> QStudy:
    """A study from (key, fields) records whose ``sort`` field is ``"a|b|c"``; named by ``id_field`` or the keys."""
    by_key = id_field is None if by_key is None else by_key
    if not by_key:
        missing = [k for k, f in records if str(f.get(id_field, "")).strip() == ""]
        if missing:
            raise QInputError(f"no {id_field!r} field for {missing[0]}" + (f" (and {len(missing) - 1} more)"
                                                                         if len(missing) > 1 else ""), file=path)
    ids = [k if by_key else str(f[id_field]).strip() for k, f in records]
    sorts = []
    for sid, (_, f) in zip(ids, records):
        cells = [c.strip() for c in str(f["sort"]).strip().strip("|").split("|")]
        sorts.append([_cell(c) for c in cells])
    n = len(sorts[0])
    for sid, row in zip(ids, sorts):
        if len(row) != n:
            raise QInputError(f"unequal sort lengths: {len(row)} scores, the first Q-sort has {n}", file=path,
                              sort=sid)
    fields = sorted({k for _, f in records for k in f} - {"sort"} - ({id_field} if not by_key else set()))
    notes = _unused(fields, what="field")
    st_ids = [f"s{i + 1}" for i in range(n)]
    return QStudy(_transpose(sorts), st_ids, ids, grid=grid, forced=forced, name=name, source=str(path),
                  notes=notes + ((f"Q-sorts named by {keys_are}",) if by_key and keys_are == "the rows" else ()))


def _netlify_fields(cell: str) -> dict:
    """``...| partId:|X| randomId:|Y| ...| sort:|-2|0|3|`` -> {"partId": "X", ..., "sort": "-2|0|3"}."""
    tokens = [t.strip() for t in cell.split("|")]
    out, i = {}, 0
    while i < len(tokens):
        t = tokens[i]
        if t.endswith(":") and t[:-1].strip():
            key = t[:-1].strip()
            if key == "sort":
                out["sort"] = "|".join(x for x in tokens[i + 1:] if x)
                break
            out[key] = tokens[i + 1] if i + 1 < len(tokens) else ""
            i += 2
            continue
        i += 1
    return out


def _cell(v: str):
    """A score cell as text for QStudy to convert (it names a missing or non-integer one)."""
    return v.strip() if isinstance(v, str) else v


def _transpose(rows):
    a = np.empty((len(rows), len(rows[0]) if rows else 0), dtype=object)
    if rows:
        a[:] = rows
    return a.T


def _r_non_na(values) -> int:
    """``sum(!is.na(x))`` of a column as R's ``read.csv2`` reads it: a column of numbers (and blanks) is numeric and
    a blank cell NA; a column with any other text is character, where only the text ``NA`` is NA."""
    numeric = all(is_number(v.replace(",", ".")) for v in values if v and v != "NA")
    return sum(1 for v in values if v != "NA" and (v or not numeric))


def _column(names, want):
    low = [n.lower() for n in names]
    return low.index(want) if want in low else None


def _columns(spec, names, path, line) -> list[int]:
    out = []
    for item in column_spec(spec):
        if isinstance(item, tuple):
            lo, hi = (_index(x, names, path, line) for x in item)
            out += range(lo, hi + 1)
        else:
            out.append(_index(item, names, path, line))
    return out


def _index(item, names, path, line) -> int:
    if isinstance(item, int) and not isinstance(item, bool):
        if not 0 <= item < len(names):
            raise QInputError(f"column {item} is outside the {len(names)} columns", file=path, line=line)
        return item
    if str(item).strip() not in names:
        raise QInputError(f"no column {item!r} in the header", file=path, line=line)
    return names.index(str(item).strip())


def _unused(columns, what="column") -> tuple:
    columns = [c for c in columns]
    if not columns:
        return ()
    return (f"{len(columns)} {what}(s) not used: {', '.join(repr(c) for c in columns)}",)
