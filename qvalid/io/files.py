"""File plumbing shared by the readers and writers: decoding, score conversion, atomic writes."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Mapping

import numpy as np

from ..errors import QInputError

__all__ = ["read_text", "raw_scores", "atomic_write", "refuse_source", "suffix", "generated_ids", "SORT_PREFIXES",
           "STATEMENT_PREFIXES"]

#: Prefixes of generated ids, tried in order until none of the ids made collides with an id of the other kind
#: (qmethod's defaults first: ``s1, s2, ...`` for Q-sorts, ``sta_1, ...`` for statements).
SORT_PREFIXES = ("s", "sort_", "qsort_")
STATEMENT_PREFIXES = ("sta_", "statement_", "st_")


def generated_ids(n: int, prefixes, taken=()) -> list[str]:
    """``prefix1, prefix2, ..., prefixn`` with the first prefix whose ids are not among ``taken`` (the ids of the
    other kind: a generated Q-sort name ``s1`` must not be a statement's name too)."""
    taken = set(taken)
    for prefix in prefixes:
        ids = [f"{prefix}{i + 1}" for i in range(n)]
        if taken.isdisjoint(ids):
            return ids
    return [f"{prefixes[-1]}{i + 1}_" for i in range(n)]


def suffix(path) -> str:
    """The lower-case extension of ``path`` (``".csv"``, ``".dat"``)."""
    return Path(path).suffix.lower()


#: Byte-order marks decoded without being asked (they name their encoding unambiguously).
_BOMS = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe\x00\x00", "utf-32"), (b"\x00\x00\xfe\xff", "utf-32"),
         (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))


def read_text(path, encoding=None) -> str:
    """The whole file as text, line endings left as they are.

    With ``encoding=None`` the file must be UTF-8 (a byte-order mark is tolerated) or carry a UTF-16/UTF-32
    byte-order mark (Excel's "Unicode text"). Other encodings are never guessed: Latin-1 and Windows-1252 differ in
    what they make of the same bytes, so a guess could silently change ids or statement texts. Pass the encoding
    (``encoding="cp1252"``, on the command line ``--encoding cp1252``) or re-save the file as UTF-8.

    Raises
    ------
    QInputError
        One line naming the file (and the line of a bad byte): missing, a directory, not readable (permission),
        empty (nothing but blanks), binary ("not a text file": NUL bytes, e.g. a spreadsheet workbook), not UTF-8,
        or an unknown ``encoding``.
    """
    try:
        data = Path(path).read_bytes()
    except OSError as err:
        raise QInputError(f"cannot read the file: {err.strerror or err}", file=path) from None
    if encoding is None:
        encoding = next((enc for bom, enc in _BOMS if data.startswith(bom)), "utf-8")
        if encoding == "utf-8" and b"\x00" in data:
            kind = " (it looks like an .xlsx/.ods workbook: save it as CSV)" if data[:4] == b"PK\x03\x04" else ""
            raise QInputError(f"not a text file{kind}", file=path)
    try:
        text = data.decode(encoding)
    except LookupError:
        raise QInputError(f"unknown encoding {encoding!r}", file=path) from None
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        hint = "re-save it as UTF-8 or give its encoding (e.g. --encoding cp1252)" if encoding == "utf-8" else \
            "check the encoding given"
        raise QInputError(f"not {'UTF-8' if encoding == 'utf-8' else encoding} text (byte 0x{data[err.start]:02x}); {hint}", file=path,
                          line=line) from None
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise QInputError("empty file", file=path)
    return text


def raw_scores(cells: list[list[str]], n_columns: int) -> np.ndarray:
    """A matrix of raw cell texts as int64 when every cell is a clean integer, else as an object array.

    The object array is handed to :class:`~qvalid.study.QStudy` unchanged, so that its converter names the first
    missing, non-numeric or fractional cell with the raw text, the ids and (through ``_locate``) the line.
    """
    raw = np.empty((len(cells), n_columns), dtype=object)
    if cells:
        raw[:] = cells
    try:
        return raw.astype(np.int64)
    except (ValueError, TypeError, OverflowError):
        return raw


def _same_file(a, b) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.normcase(os.path.realpath(a)) == os.path.normcase(os.path.realpath(b))


def refuse_source(study, *targets) -> None:
    """Raise :class:`QInputError` if any target is the file ``study`` was read from (``study.source``)."""
    if not study.source:
        return
    for target in targets:
        if _same_file(target, study.source):
            raise QInputError(f"refusing to overwrite {study.source}, the file this study was read from; "
                              "write to a new file", file=target)


def atomic_write(contents: Mapping[Path, str]) -> None:
    """Write each text to its path atomically: a temporary file in the same directory, then ``os.replace``.

    Texts are encoded as UTF-8 and written byte for byte (no newline translation); ``bytes`` are written as they are. All temporary files are written
    before any target is replaced, and every temporary file is removed if anything fails.
    """
    temps: dict[Path, Path] = {}
    target = None
    try:
        for target, text in contents.items():
            target = Path(target)
            temp = _create_temp(target)
            temps[target] = temp
            with open(temp, "wb") as fh:
                fh.write(text if isinstance(text, bytes) else text.encode("utf-8"))
                fh.flush()
                os.fsync(fh.fileno())
        for target, temp in temps.items():
            os.replace(temp, target)
    except OSError as err:
        raise QInputError(f"cannot write the file: {err.strerror or err}", file=target) from None
    finally:
        for temp in temps.values():
            if temp.exists():
                temp.unlink()


def _create_temp(target: Path) -> Path:
    """An empty new file next to ``target``; created with mode 0o666 so the umask applies as for any new file."""
    while True:
        temp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
        try:
            os.close(os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            return temp
        except FileExistsError:
            continue
