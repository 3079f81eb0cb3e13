"""File plumbing shared by every reader and writer: reading inputs, decoding, score cells, and atomic writes that
never replace an input.

Inputs are sacred. Every reader gets its bytes from :func:`read_bytes`, which refuses what is not a file to read (a
directory, a device, a named pipe nothing writes to) and, inside :func:`guard_inputs` (the command line runs every
command inside it), notes the file as an input. Every writer goes through :func:`atomic_write`, which first calls
:func:`check_outputs`: a target is refused when it resolves (after symbolic links, or as the same inode through a
hard link) to an input of the running command or to a source the writer names (the study's file), when it is a
device, a stream (``/dev/...``, ``/proc/...``), a named pipe or a directory, or when two outputs resolve to one
file. Nothing is written then.

Writes are atomic: each text goes to an unnamed temporary file in the target's directory (Linux ``O_TMPFILE``; a
hidden ``.NAME.xxxxxxxx.tmp`` elsewhere), which is given its name with ``os.replace`` only when every target has
been written, so a killed process leaves either the old file or the new one, never a truncated file and (on Linux)
no temporary file. A signal handler can call :func:`remove_temporaries` before it ends the process.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import re
import secrets
import stat
import sys
import time
from pathlib import Path
from typing import Mapping

import numpy as np

from ..errors import QInputError
from ..numbers import integer_cells

__all__ = ["read_text", "read_bytes", "raw_scores", "atomic_write", "refuse_source", "check_outputs", "suffix",
           "guard_inputs", "note_input", "check_stdout", "remove_temporaries", "study_source", "STDOUT",
           "generated_ids", "SORT_PREFIXES", "STATEMENT_PREFIXES"]

#: The output name that means standard output on the command line (never a file name for the library writers).
STDOUT = "-"

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


# ---------------------------------------------------------------------------------------------------- inputs
#: The inputs of the running command: realpath -> (st_dev, st_ino), while :func:`guard_inputs` is active.
_INPUTS: contextvars.ContextVar = contextvars.ContextVar("qvalid_inputs", default=None)
#: What was read from pipes during :func:`guard_inputs` (path -> bytes): a pipe can be read once, and a command may
#: look at a file twice (its format sniffed, then read).
_PIPED: contextvars.ContextVar = contextvars.ContextVar("qvalid_piped", default=None)


@contextlib.contextmanager
def guard_inputs():
    """Within this block every file a reader of :mod:`qvalid.io` reads is an input that no writer may replace.

    The command line runs each command inside it, so ``qvalid report --statements texts.csv --out texts.csv`` is
    refused before anything is written; a program can do the same around its own reads and writes.
    """
    token, piped = _INPUTS.set({}), _PIPED.set({})
    try:
        yield
    finally:
        _INPUTS.reset(token)
        _PIPED.reset(piped)


def note_input(path, st: os.stat_result | None = None) -> None:
    """Record ``path`` as an input of the running command (a no-op outside :func:`guard_inputs`)."""
    inputs = _INPUTS.get()
    if inputs is None:
        return
    try:
        st = os.stat(path) if st is None else st
    except OSError:
        return
    inputs[os.path.realpath(path)] = (st.st_dev, st.st_ino)


def read_bytes(path) -> bytes:
    """The whole content of an input file, noted as an input (:func:`note_input`).

    A regular file is read as it is; a pipe is read to its end when a program writes to it (``<(...)`` in a shell),
    and refused when nothing does (reading would wait forever); a directory, a device or a socket is refused.

    Raises
    ------
    QInputError
        One line naming the file: missing, not readable, a directory, a device, a pipe nothing writes to.
    """
    try:
        fd = _open_input(path)
    except OSError as err:
        raise QInputError(f"cannot read the file: {err.strerror or err}", file=path) from None
    try:
        st = os.fstat(fd)
        kind = _kind(st.st_mode)
        if kind == "a directory":
            raise QInputError("cannot read the file: Is a directory", file=path)
        if kind == "a named pipe":
            piped = _PIPED.get()
            if piped is not None and str(path) in piped:
                return piped[str(path)]
            data = _read_pipe(fd, path)
            if piped is not None:
                piped[str(path)] = data
        elif kind != "a regular file":
            raise QInputError(f"cannot read the file: it is {kind}, not a regular file", file=path)
        else:
            data = _read_all(fd, path)
    finally:
        os.close(fd)
    if kind == "a regular file":
        note_input(path, st)
    return data


def _open_input(path) -> int:
    """Open without blocking (a named pipe with no writer would block ``open`` itself)."""
    return os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISREG, "a regular file"), (stat.S_ISDIR, "a directory"),
                       (stat.S_ISFIFO, "a named pipe"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a regular file"


def _read_all(fd: int, path, first: bytes = b"") -> bytes:
    os.set_blocking(fd, True)
    chunks = [first] if first else []
    try:
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)
    except OSError as err:
        raise QInputError(f"cannot read the file: {err.strerror or err}", file=path) from None


def _read_pipe(fd: int, path) -> bytes:
    """A pipe opened without blocking: EOF at once means no program writes to it (refused: reading would block
    forever on a named pipe); otherwise it is read to its end."""
    try:
        first = os.read(fd, 1 << 16)
    except BlockingIOError:  # a writer is attached but has written nothing yet: wait for it
        first = None
    except OSError as err:
        raise QInputError(f"cannot read the file: {err.strerror or err}", file=path) from None
    if first == b"":
        raise QInputError("cannot read the file: it is a named pipe that no program writes to", file=path)
    return _read_all(fd, path, first or b"")


#: Byte-order marks decoded without being asked (they name their encoding unambiguously).
_BOMS = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe\x00\x00", "utf-32"), (b"\x00\x00\xfe\xff", "utf-32"),
         (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))


def read_text(path, encoding=None) -> str:
    """The whole file as text, line endings left as they are (read with :func:`read_bytes`).

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
    data = read_bytes(path)
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
        raise QInputError(f"not {'UTF-8' if encoding == 'utf-8' else encoding} text (byte 0x{data[err.start]:02x}); "
                          f"{hint}", file=path, line=line) from None
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise QInputError("empty file" + (" (standard output is redirected to it, which emptied it before qvalid "
                                          "could read it)" if _is_stdout(path) else ""), file=path)
    return text


def _is_stdout(path) -> bool:
    """Whether ``path`` is the file standard output writes to (``qvalid ... study.csv > study.csv``)."""
    key = _stdout_key()
    try:
        st = os.stat(path)
    except OSError:
        return False
    return key is not None and key == (st.st_dev, st.st_ino)


def _stdout_key():
    try:
        st = os.fstat(sys.stdout.fileno())
    except (AttributeError, ValueError, OSError):  # no stdout, or not a file (a test's capture)
        return None
    return (st.st_dev, st.st_ino) if stat.S_ISREG(st.st_mode) else None


def check_stdout() -> None:
    """Refuse to print when standard output is appended to an input of the running command
    (``qvalid validate study.csv >> study.csv``)."""
    key, inputs = _stdout_key(), _INPUTS.get()
    if key is None or not inputs:
        return
    for real, ino in inputs.items():
        if ino == key:
            raise QInputError(f"standard output is redirected to {real}, an input of this command; refusing to "
                              "write into it (redirect the output to a new file)")


def raw_scores(cells: list[list[str]], n_columns: int) -> np.ndarray:
    """A matrix of raw cell texts as int64 when every cell is a plain integer, else as an object array.

    The object array is handed to :class:`~qvalid.study.QStudy` unchanged, so that its converter names the first
    missing, non-numeric or fractional cell with the raw text, the ids and (through ``_locate``) the line.
    """
    raw = np.empty((len(cells), n_columns), dtype=object)
    if cells:
        raw[:] = cells
    ints = integer_cells(raw)
    return raw if ints is None else ints


# ---------------------------------------------------------------------------------------------------- outputs
def _realpath(path) -> Path:
    return Path(os.path.realpath(os.fspath(path)))


#: Paths under these are devices or streams (/dev/null, /dev/stdout -> /proc/self/fd/1), never files.
_SPECIAL = ("/dev/", "/proc/", "/sys/")
_SPECIAL_DIRS = ("/dev", "/proc", "/sys")


def _link_chain(path) -> list[str]:
    """The absolute paths a symbolic link passes through (``/dev/stdout`` -> ``/proc/self/fd/1`` -> the file
    standard output writes to): a target is a stream when any of them is under /dev or /proc, whatever the
    end of the chain is."""
    out, p = [], os.path.abspath(os.fspath(path))
    for _ in range(40):
        out.append(p)
        try:
            link = os.readlink(p)
        except OSError:  # not a link (or missing)
            return out
        p = os.path.abspath(os.path.join(os.path.dirname(p), link))
    return out


def check_outputs(targets, *, sources=()) -> list[Path]:
    """The resolved paths of ``targets`` (symbolic links followed), after refusing every unsafe one.

    Refused (:class:`QInputError`, one line naming the target): ``-`` (standard output is the command line's
    business); a device or stream (a path that resolves under ``/dev``, ``/proc`` or ``/sys``, a character or block
    device, a named pipe, a socket); a directory; a target that is an input of the running command
    (:func:`guard_inputs`) or one of ``sources`` (same path after resolving links, or same inode: a hard link); two
    targets that are one file.

    ``sources`` are files the data were read from: a mapping path -> how the message names it (``"the file this
    study was read from"``), or paths.
    """
    known = {real: (key, real, "an input of this command") for real, key in (_INPUTS.get() or {}).items()}
    labelled = sources.items() if isinstance(sources, Mapping) else ((s, "a file the data were read from")
                                                                     for s in sources)
    for s, label in labelled:
        if s:
            try:
                st = os.stat(s)
            except OSError:
                continue
            known[os.path.realpath(s)] = ((st.st_dev, st.st_ino), str(s), label)
    seen: dict[Path, tuple] = {}
    out = []
    for t in targets:
        if str(t) == STDOUT:
            raise QInputError("'-' (standard output) is not a file name here; give a file")
        real = _realpath(t)
        special = next((p for p in (*_link_chain(t), str(real)) if p.startswith(_SPECIAL) or p in _SPECIAL_DIRS),
                       None)
        if special is not None:
            raise QInputError(f"refusing to write to {special}: a device or stream, not a file (use - for standard "
                              "output where the command offers it)", file=t)
        try:
            st = os.stat(real)
        except FileNotFoundError:
            st = None
        except OSError as err:
            raise QInputError(f"cannot write the file: {err.strerror or err}", file=t) from None
        key = None
        if st is not None:
            kind = _kind(st.st_mode)
            if kind == "a directory":
                raise QInputError("is a directory; give a file name for this output", file=t)
            if kind != "a regular file":
                raise QInputError(f"refusing to write to {kind}; give a regular file for this output", file=t)
            key = (st.st_dev, st.st_ino)
        for other, okey in seen.items():
            if other == real or (key is not None and okey == key):
                raise QInputError("two outputs of this command are the same file; give each its own", file=t)
        for inp, (ikey, name, label) in known.items():
            if str(real) == inp or (key is not None and ikey == key):
                raise QInputError(f"refusing to overwrite {name}, {label}; write to a new file", file=t)
        seen[real] = key
        out.append(real)
    return out


def refuse_source(study, *targets) -> None:
    """Raise :class:`QInputError` if a target is unsafe (:func:`check_outputs`), in particular the file ``study``
    was read from (``study.source``)."""
    check_outputs(targets, sources=study_source(study))


def study_source(study) -> dict:
    """``sources`` for :func:`atomic_write`: the file ``study`` was read from, if any."""
    return {study.source: "the file this study was read from"} if study.source else {}


#: Temporary files that exist under a name now (removed by :func:`remove_temporaries` on a signal).
_LIVE: set = set()
_TEMP_NAME = re.compile(r"\.(?P<name>.+)\.[0-9a-f]{8}\.tmp")
#: A leftover temporary file of a killed writer older than this (seconds) is removed when its target is written.
STALE_SECONDS = 600


def atomic_write(contents: Mapping, *, sources=()) -> list[Path]:
    """Write each text to its path atomically, after :func:`check_outputs` (``sources``: files the data was read
    from, refused as targets besides the inputs of the running command).

    Texts are encoded as UTF-8 and written byte for byte (no newline translation); ``bytes`` are written as they
    are. A symbolic link is followed (its target is replaced, the link kept). All temporary files are written
    before any target is replaced, and every temporary file is removed if anything fails.

    Returns
    -------
    list of Path
        The files written (links resolved).
    """
    paths = check_outputs(list(contents), sources=sources)
    pending = []
    target = None
    try:
        for target, data in zip(paths, contents.values()):
            data = data if isinstance(data, bytes) else data.encode("utf-8")
            pending.append((target, data, _unnamed(target, data)))
        for target, data, fd in pending:
            _commit(target, data, fd)
    except OSError as err:
        raise QInputError(f"cannot write the file: {err.strerror or err}", file=target) from None
    finally:
        for _, _, fd in pending:
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
    return paths


def _unnamed(target: Path, data: bytes) -> int | None:
    """An unnamed file in the target's directory holding ``data`` (Linux ``O_TMPFILE``), or None where the system
    has none (then :func:`_commit` writes a named temporary file)."""
    flag = getattr(os, "O_TMPFILE", None)
    if flag is None or not os.path.isdir("/proc/self/fd"):
        return None
    try:
        fd = os.open(target.parent, flag | os.O_WRONLY | getattr(os, "O_CLOEXEC", 0), 0o666)
    except OSError:  # a file system without O_TMPFILE (EOPNOTSUPP, EISDIR on old kernels, ...)
        if not target.parent.is_dir():
            raise
        return None
    try:
        _write_fd(fd, data)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _write_fd(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
    os.fsync(fd)


def _commit(target: Path, data: bytes, fd: int | None) -> None:
    """Give the written data the target's name: link the unnamed file to a temporary name, then ``os.replace``."""
    _sweep(target)
    temp = _new_temp_name(target)
    _LIVE.add(temp)
    try:
        linked = False
        if fd is not None:
            try:
                os.link(f"/proc/self/fd/{fd}", temp, follow_symlinks=True)
                linked = True
            except OSError:
                linked = False
        if not linked:
            while True:
                try:
                    tfd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666)
                    break
                except FileExistsError:  # another writer took the name in between: draw another
                    _LIVE.discard(temp)
                    temp = _new_temp_name(target)
                    _LIVE.add(temp)
            try:
                _write_fd(tfd, data)
            finally:
                os.close(tfd)
        os.replace(temp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            if temp.exists() or temp.is_symlink():
                temp.unlink()
        _LIVE.discard(temp)


def _new_temp_name(target: Path) -> Path:
    while True:
        temp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
        if not os.path.lexists(temp):
            return temp


def _sweep(target: Path) -> None:
    """Remove temporary files of this target left by a writer killed long ago (``kill -9``)."""
    now = time.time()
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return
    for e in entries:
        m = _TEMP_NAME.fullmatch(e.name)
        if m and m.group("name") == target.name:
            with contextlib.suppress(OSError):
                if now - e.stat(follow_symlinks=False).st_mtime > STALE_SECONDS:
                    os.unlink(e.path)


def remove_temporaries() -> None:
    """Remove the named temporary files of writes in progress (for a signal handler that ends the process)."""
    for temp in list(_LIVE):
        with contextlib.suppress(OSError):
            os.unlink(temp)
        _LIVE.discard(temp)
