"""Running work in fixed chunks, here or on any :class:`concurrent.futures.Executor`, with the same bytes.

Every random analysis of qvalid (the bootstrap, the number-of-factors nulls, simulated studies, their recovery, the
calibration study) cuts its work into chunks of a fixed size, each with its own
:class:`numpy.random.SeedSequence` child (:func:`seeds`), and maps a top-level (picklable) function over them with
:func:`run_chunks`. The chunks, their seeds and so every byte of the result are the same on one core, on a process
pool or on a dask cluster (``distributed.Client(...).get_executor()``); only where they run changes.
"""

from __future__ import annotations

import numpy as np

__all__ = ["run_chunks", "chunk_sizes", "seeds", "shipped_call", "pack_result", "unpack_result", "pack_codes",
           "unpack_codes", "Codes"]


def chunk_sizes(n: int, size: int) -> list[int]:
    """``n`` items in chunks of ``size`` (the last one shorter): ``chunk_sizes(600, 250) == [250, 250, 100]``."""
    return [min(size, n - start) for start in range(0, int(n), int(size))]


def seeds(seed, n: int) -> list:
    """``n`` independent children of ``seed`` (an int or a :class:`numpy.random.SeedSequence`)."""
    ss = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    return ss.spawn(n)


def run_chunks(fn, tasks, *, executor=None, progress: bool = False, desc: str = "", unit: str = "chunk") -> list:
    """``[fn(t) for t in tasks]``, in order, here or on ``executor``.

    With an executor every task is submitted at once and the results are gathered in task order; a result that is
    a dict of arrays travels with its small-integer float arrays (flags, factor arrays, 0/1 frequencies, NaN for
    absent) as int8 codes, unpacked here to the same bytes (:func:`pack_codes`: lossless or left as it is). ``progress``
    shows a tqdm bar (on stderr) over the chunks, for a person watching. On KeyboardInterrupt (Ctrl-C) the tasks
    not yet started are cancelled before the interrupt goes on, so that a pool stops within a chunk.
    """
    tasks = list(tasks)
    futures = None
    if executor is None:
        parts = (fn(t) for t in tasks)
    else:
        futures = [executor.submit(shipped_call, fn, t) for t in tasks]
        parts = (unpack_result(f.result()) for f in futures)
    if progress:
        from tqdm import tqdm

        parts = tqdm(parts, total=len(tasks), desc=desc, unit=unit, leave=False)
    try:
        return list(parts)
    except BaseException:
        for f in futures or ():
            f.cancel()
        raise


class Codes:
    """A float64 array of small whole numbers and NaN, shipped as int8 (``-128`` = NaN); :func:`unpack_codes`."""

    __slots__ = ("codes",)

    def __init__(self, codes):
        self.codes = codes

    def __getstate__(self):
        return self.codes

    def __setstate__(self, state):
        self.codes = state


def pack_codes(x):
    """``x`` as :class:`Codes` when that is lossless (a float64 array whose values are whole numbers in -127..127,
    no -0.0, NaN only as numpy's own NaN: the unpacked bytes are checked to be ``x``'s), else ``x`` itself."""
    if not isinstance(x, np.ndarray) or x.dtype != np.float64 or x.size == 0:
        return x
    nan = np.isnan(x)
    with np.errstate(invalid="ignore", over="ignore"):
        codes = np.where(nan, 0.0, x).astype(np.int8)
    codes[nan] = -128
    back = unpack_codes(Codes(codes))  # what arrives: a value of -128 would come back as NaN, so it is refused
    return Codes(codes) if back.tobytes() == np.ascontiguousarray(x).tobytes() else x


def unpack_codes(x):
    """The float64 array a :class:`Codes` stands for (anything else as it is)."""
    if not isinstance(x, Codes):
        return x
    out = x.codes.astype(np.float64)
    out[x.codes == -128] = np.nan
    return out


def shipped_call(fn, task):
    """What :func:`run_chunks` submits: one chunk, run where the executor puts it, its result packed
    (:func:`pack_result`)."""
    return pack_result(fn(task))


def pack_result(out):
    """A chunk's result for shipping: a dict's arrays through :func:`pack_codes` (anything else as it is)."""
    return {k: pack_codes(v) for k, v in out.items()} if isinstance(out, dict) else out


def unpack_result(out):
    """The inverse of :func:`pack_result`: the same bytes as the chunk's own result."""
    return {k: unpack_codes(v) for k, v in out.items()} if isinstance(out, dict) else out
