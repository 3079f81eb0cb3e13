"""File plumbing shared by the readers and writers: decoding, score conversion, atomic writes."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Mapping

import numpy as np

from ..errors import QInputError

__all__ = ["read_text", "raw_scores", "atomic_write", "refuse_source", "suffix"]


def suffix(path) -> str:
    """The lower-case extension of ``path`` (``".csv"``, ``".dat"``)."""
    return Path(path).suffix.lower()


def read_text(path) -> str:
    """The whole file as text: UTF-8, a byte-order mark tolerated, line endings left as they are.

    Raises
    ------
    QInputError
        If the file is missing, unreadable or not UTF-8.
    """
    try:
        data = Path(path).read_bytes()
    except OSError as err:
        raise QInputError(f"cannot read the file: {err.strerror or err}", file=path) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise QInputError(f"not UTF-8 text (byte 0x{data[err.start]:02x}); save the file as UTF-8",
                          file=path, line=line) from None


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

    Texts are encoded as UTF-8 and written byte for byte (no newline translation). All temporary files are written
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
                fh.write(text.encode("utf-8"))
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
