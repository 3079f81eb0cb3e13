"""Reading and writing Q studies: CSV/TSV (R qmethod's layout or one Q-sort per row) and PQMethod .DAT/.STA.

Every reader returns a validated :class:`~qvalid.study.QStudy` whose ``source`` is the file, and every problem is a
:class:`~qvalid.errors.QInputError` naming file, line, Q-sort and statement. Every writer is atomic (temporary file in
the same directory, then ``os.replace``) and refuses to overwrite the file the study was read from.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import QInputError
from ..study import QStudy
from .csv import read_csv, sniff_separator, write_csv
from .files import read_text, suffix
from .flags import read_flags
from .kade import KadeWorkbook, read_kade_flags, read_kade_workbook
from .pqmethod import read_dat, write_dat
from .spreadsheets import SPREADSHEETS, read_xlsx
from .resamples import read_resamples
from .statements import attach_statement_texts, read_statement_texts
from .tables import write_tables
from .websort import read_eqws_csv, read_htmlq, read_sort_json
from .workbook import is_workbook

__all__ = ["read_study", "write_study", "read_csv", "write_csv", "read_dat", "write_dat", "read_flags", "write_tables",
           "read_xlsx", "read_kade_workbook", "read_kade_flags", "KadeWorkbook", "read_statement_texts",
           "attach_statement_texts", "read_htmlq", "read_sort_json", "read_eqws_csv", "sniff_format", "FORMATS",
           "READABLE", "read_resamples"]

_CSV = (".csv", ".tsv", ".txt")
_DAT = (".dat",)

#: Input formats (``read_study(..., format=...)``, ``--format-in``) -> what writes them.
FORMATS = {
    "csv": "CSV/TSV: R qmethod's layout (write.csv(dataset)) or one Q-sort per row (Ken-Q/KADE CSV, spreadsheets)",
    "dat": "PQMethod .DAT (+ .STA)",
    "spreadsheet": "Excel .xlsx/.xlsm/.xls, LibreOffice .ods (KADE/Ken-Q input and result workbooks, any sheet)",
    "htmlq": "HTMLQ / FlashQ CSV export (R qmethod import.htmlq)",
    "json": "easy-htmlq / EQ Web Sort JSON (R qmethod import.easyhtmlq; KADE)",
    "eqws": "EQ Web Sort Google Sheets or Netlify CSV (KADE)",
}
#: What the error for an unknown file type lists.
READABLE = ".csv, .tsv, .txt, .dat, .xlsx, .xlsm, .xls, .ods, .json (HTMLQ/FlashQ and EQ Web Sort CSV by content)"

#: The keyword arguments each reader takes (the others are refused with a message).
_KWARGS = {
    "csv": {"layout", "sep", "id_column", "text_column", "grid", "forced", "name", "encoding", "statements_column"},
    "dat": {"sta", "forced", "grid", "encoding"},
    "spreadsheet": {"sheet", "layout", "text_column", "grid", "forced", "name", "encoding", "id_column",
                    "statements_column"},
    "htmlq": {"id_column", "statements_column", "grid", "forced", "name", "encoding"},
    "json": {"id_column", "grid", "forced", "name", "encoding"},
    "eqws": {"id_column", "grid", "forced", "name", "encoding"},
}
_READERS = {"csv": read_csv, "dat": read_dat, "spreadsheet": read_xlsx, "htmlq": read_htmlq, "json": read_sort_json,
            "eqws": read_eqws_csv}


def read_study(path, *, format=None, **kw) -> QStudy:
    """Read a study in any format of :data:`FORMATS`, sniffed by content (:func:`sniff_format`) unless ``format``
    says which. Keyword arguments go to that reader (:func:`read_csv`, :func:`read_dat`, :func:`read_xlsx`,
    :func:`read_htmlq`, :func:`read_sort_json`, :func:`read_eqws_csv`); one it does not take is refused with a
    :class:`QInputError` naming the format (``None`` values are dropped)."""
    fmt = sniff_format(path, kw.get("encoding")) if format is None else format
    if fmt not in _READERS:
        raise QInputError(f"unknown input format {fmt!r}; use one of {', '.join(FORMATS)}", file=path)
    kw = {k: v for k, v in kw.items() if v is not None}
    extra = sorted(set(kw) - _KWARGS[fmt])
    if extra:
        raise QInputError(f"{', '.join(extra)} do(es) not apply to a {FORMATS[fmt].split(' (')[0]} file", file=path)
    try:
        return _READERS[fmt](path, **kw)
    except QInputError as err:
        if fmt == "csv" and err.reason.startswith("not a text file"):  # nothing qvalid knows: say what it reads
            raise QInputError(f"{err.reason}; qvalid reads {READABLE}", file=err.file, line=err.line) from None
        raise


def sniff_format(path, encoding=None) -> str:
    """The format of ``path`` (a key of :data:`FORMATS`), by content where the extension is ambiguous.

    Workbooks by their magic bytes (zip: .xlsx/.ods; OLE2: .xls) or extension; ``.json`` or text starting with
    ``{``/``[``: JSON; ``.dat``, or a PQMethod header (line 1 three 3-character numbers, line 2 the 66-character
    distribution line): PQMethod; a row with a ``sort:`` cell: EQ Web Sort CSV; a header with ``sid`` and statement
    columns ``s1, s2, ...``: HTMLQ/FlashQ; any other ``.csv``/``.tsv``/``.txt`` or text: CSV. A file that cannot be
    read is left to the reader its extension suggests, which names the problem.
    """
    ext = suffix(path)
    if is_workbook(path):
        return "spreadsheet"
    if ext == ".json":
        return "json"
    if ext in _DAT:
        return "dat"
    try:
        text = read_text(path, encoding)
    except QInputError:
        return "csv"  # read_csv names the problem (binary, empty, encoding)
    if text.lstrip("\ufeff \t\r\n")[:1] in ("{", "["):
        return "json"
    lines = [ln for ln in text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    while lines and not lines[0].strip():
        lines.pop(0)
    if _looks_like_dat(lines):
        return "dat"
    if any("| sort:|" in ln or _has_sort_cell(ln) for ln in lines[:50]):
        return "eqws"
    header = [h.strip().strip('"').lower() for h in lines[0].split(sniff_separator(text, path))]
    if "sid" in header and any(h[:1] == "s" and h[1:].isdigit() for h in header):
        return "htmlq"
    return "csv"


def _has_sort_cell(line: str) -> bool:
    return any(c.strip().strip('"').startswith("sort:") and "|" in c for c in line.split(","))


def _looks_like_dat(lines) -> bool:
    """PQMethod's first two lines: ``  0 NN MM title`` and the 22 3-character fields of the distribution."""
    if len(lines) < 3 or len(lines[0]) < 9 or len(lines[1].rstrip()) != 66:
        return False
    fields = [lines[0][k:k + 3] for k in (0, 3, 6)] + [lines[1][k:k + 3] for k in range(0, 66, 3)]
    return all(f.strip().lstrip("-").isdigit() for f in fields)


def write_study(study: QStudy, path, **kw) -> None:
    """Write a study, choosing the writer by extension (``.csv``/``.tsv``/``.txt``: :func:`write_csv`, ``.dat``:
    :func:`write_dat`)."""
    ext = suffix(path)
    if ext in _CSV:
        return write_csv(study, path, **kw)
    if ext in _DAT:
        return write_dat(study, path, **kw)
    raise QInputError(f"cannot write {ext or '(no extension)'!r} files: use .csv, .tsv, .txt or .dat",
                      file=Path(path))
