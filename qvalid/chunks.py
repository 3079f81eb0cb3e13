"""Running work in fixed chunks, here or on any :class:`concurrent.futures.Executor`, with the same bytes.

Every random analysis of qvalid (the bootstrap, the number-of-factors nulls, simulated studies, their recovery, the
calibration study) cuts its work into chunks of a fixed size, each with its own
:class:`numpy.random.SeedSequence` child (:func:`seeds`), and maps a top-level (picklable) function over them with
:func:`run_chunks`. The chunks, their seeds and so every byte of the result are the same on one core, on a process
pool or on a dask cluster (``distributed.Client(...).get_executor()``); only where they run changes.
"""

from __future__ import annotations

import numpy as np

__all__ = ["run_chunks", "chunk_sizes", "seeds"]


def chunk_sizes(n: int, size: int) -> list[int]:
    """``n`` items in chunks of ``size`` (the last one shorter): ``chunk_sizes(600, 250) == [250, 250, 100]``."""
    return [min(size, n - start) for start in range(0, int(n), int(size))]


def seeds(seed, n: int) -> list:
    """``n`` independent children of ``seed`` (an int or a :class:`numpy.random.SeedSequence`)."""
    ss = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    return ss.spawn(n)


def run_chunks(fn, tasks, *, executor=None, progress: bool = False, desc: str = "", unit: str = "chunk") -> list:
    """``[fn(t) for t in tasks]``, in order, here or on ``executor``.

    With an executor every task is submitted at once and the results are gathered in task order. ``progress``
    shows a tqdm bar (on stderr) over the chunks, for a person watching. On KeyboardInterrupt (Ctrl-C) the tasks
    not yet started are cancelled before the interrupt goes on, so that a pool stops within a chunk.
    """
    tasks = list(tasks)
    futures = None
    if executor is None:
        parts = (fn(t) for t in tasks)
    else:
        futures = [executor.submit(fn, t) for t in tasks]
        parts = (f.result() for f in futures)
    if progress:
        from tqdm import tqdm

        parts = tqdm(parts, total=len(tasks), desc=desc, unit=unit, leave=False)
    try:
        return list(parts)
    except BaseException:
        for f in futures or ():
            f.cancel()
        raise
