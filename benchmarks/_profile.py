"""Where qvalid's time goes: a per-step breakdown of ``analyze()`` (cProfile) and its scaling with study size.

Both are measurements, not estimates: the breakdown times every function that ``analyze`` calls directly (so
helpers are charged to the step that called them), and the scaling times ``analyze`` with ``timeit`` and its peak memory with ``tracemalloc`` (numpy reports
its buffers to tracemalloc).
"""

from __future__ import annotations

import timeit
import tracemalloc

import numpy as np

from qvalid import analyze
from qvalid.simulate import planted_study

#: Names analyze() calls from qvalid/pipeline.py's namespace, by the step they are; the rest is "pipeline glue".
STEP_OF = {
    "resolve_options": "options and checks", "_check_nfactors": "options and checks",
    "correlate": "correlation", "centroid": "extraction", "centroid_on_r_bits": "extraction", "principal": "extraction",
    "varimax": "rotation", "no_rotation": "rotation", "psych_tidy": "rotation", "_check_communalities": "rotation",
    "flag": "flags", "flag_warnings": "flags", "_check_flags": "flags",
    "weights": "z-scores", "zscores": "z-scores", "factor_arrays": "factor arrays",
    "characteristics": "characteristics", "explained_variance": "characteristics",
    "distinguishing": "qdc", "QResult": "result building",
}


def step_breakdown(study, nfactors: int, extraction: str, calls: int = 300) -> dict:
    """Seconds per ``analyze`` call spent in each step (best of 3 batches of ``calls``).

    Every function that ``analyze`` calls is wrapped, for the measurement only, by a ``perf_counter`` accumulator
    (about 0.1 us per call, so the breakdown is of the real call, not of a profiler's inflated one); what is not
    in a step is the pipeline's own glue.
    """
    import time

    from qvalid import pipeline

    spent = dict.fromkeys(set(STEP_OF.values()), 0.0)
    originals = {n: getattr(pipeline, n) for n in STEP_OF if hasattr(pipeline, n)}

    def timed(fn, step):
        def wrapper(*a, **kw):
            t0 = time.perf_counter()
            try:
                return fn(*a, **kw)
            finally:
                spent[step] += time.perf_counter() - t0
        return wrapper

    best = None
    try:
        for n, fn in originals.items():
            setattr(pipeline, n, timed(fn, STEP_OF[n]))
        for _ in range(3):
            for k in spent:
                spent[k] = 0.0
            t0 = time.perf_counter()
            for _ in range(calls):
                pipeline.analyze(study, nfactors, extraction=extraction)
            total = time.perf_counter() - t0
            if best is None or total < best["total"] * calls:
                best = {"total": total / calls, **{k: v / calls for k, v in spent.items()}}
                best["pipeline glue"] = best["total"] - sum(spent.values()) / calls
    finally:
        for n, fn in originals.items():
            setattr(pipeline, n, fn)
    return best


def time_and_memory(study, nfactors: int, extraction: str, min_time: float = 0.5) -> tuple[float, int]:
    """(best seconds per ``analyze`` call over repeated timings, peak bytes allocated by one call)."""
    run = lambda: analyze(study, nfactors, extraction=extraction)  # noqa: E731
    t0 = timeit.default_timer()
    run()
    first = timeit.default_timer() - t0
    number = max(1, int(min_time / max(first, 1e-6) / 5))
    best = min(timeit.repeat(run, number=number, repeat=5 if first < 1 else 2)) / number
    tracemalloc.start()
    run()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return best, peak


def scaling(sizes, *, axis: str, nfactors: int = 4, extraction: str = "centroid", fixed: int = 60,
            seed: int = 3, min_time: float = 0.5) -> list[dict]:
    """``analyze`` on planted studies growing in sorts (``axis="sorts"``, ``fixed`` statements) or statements."""
    rows = []
    for n in sizes:
        st, so = (fixed, n) if axis == "sorts" else (n, fixed)
        s, _ = planted_study(st, so, nfactors, seed=seed)
        t, peak = time_and_memory(s, nfactors, extraction, min_time)
        rows.append({"n": n, "n_statements": st, "n_sorts": so, "seconds": t, "peak_bytes": peak})
    return rows


def exponent(rows, tail: int = 3) -> float:
    """Slope of log(time) on log(n) over the ``tail`` largest sizes (the asymptotic regime)."""
    n = np.array([r["n"] for r in rows[-tail:]], dtype=float)
    t = np.array([r["seconds"] for r in rows[-tail:]])
    return float(np.polyfit(np.log(n), np.log(t), 1)[0])
