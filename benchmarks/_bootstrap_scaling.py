"""How the bootstrap's cost grows (resamples x sorts) and what running its chunks elsewhere costs, for BENCHMARKS.md.

- :func:`bootstrap_scaling`: seconds per resample and peak memory (``tracemalloc``: numpy reports its buffers) of
  ``bootstrap()`` on planted 60-statement studies of growing size, PCA and centroid (strict ties), and the time of
  growing numbers of resamples of one study (linear in the resamples?).
- :func:`executor_overhead`: the same bootstrap serially and through one-worker executors (a process pool and a
  dask LocalCluster), after the workers are up: the difference per chunk is what shipping a chunk costs.
"""

from __future__ import annotations

import time
import tracemalloc

from qvalid import bootstrap
from qvalid.simulate import planted_study

#: sorts -> resamples timed (fewer for the large studies: the cost per resample is what is reported).
SIZES = {25: 1000, 100: 200, 500: 100, 1000: 20, 2000: 10, 5000: 10}
RESAMPLES = (100, 1000, 10000)
CENTROID = {"extraction": "centroid", "centroid_ties": "strict"}


def _timed(fn) -> tuple[float, float]:
    """(seconds, peak MiB) of one call."""
    tracemalloc.start()
    try:
        t0 = time.perf_counter()
        fn()
        secs = time.perf_counter() - t0
        peak = tracemalloc.get_traced_memory()[1] / 2 ** 20
    finally:
        tracemalloc.stop()
    return secs, peak


def bootstrap_scaling(sizes=SIZES, resamples=RESAMPLES) -> dict:
    rows = []
    for m, n in sizes.items():
        s = planted_study(60, m, 4, seed=2)[0]
        for label, kw in (("pca", {"extraction": "pca"}), ("centroid", CENTROID)):
            secs, peak = _timed(lambda: bootstrap(s, 4, n, seed=1, **kw))
            rows.append({"sorts": m, "extraction": label, "resamples": n, "seconds": secs, "per": secs / n,
                         "peak_mib": peak})
    nav = planted_study(36, 25, 4, seed=1)[0]
    lin = []
    for n in resamples:
        secs, peak = _timed(lambda: bootstrap(nav, 4, n, seed=1, **CENTROID))
        lin.append({"resamples": n, "seconds": secs, "per": secs / n, "peak_mib": peak})
    return {"sizes": rows, "resamples": lin}


def _warm(executor) -> None:
    executor.submit(int, 0).result()


def executor_overhead(n_resamples: int = 2000) -> list:
    """Per-chunk overhead of running the chunks of one bootstrap on a one-worker executor, against running them here."""
    from concurrent.futures import ProcessPoolExecutor

    from qvalid.chunks import chunk_sizes
    from qvalid.stability.run import CHUNK_SIZE

    s = planted_study(36, 25, 4, seed=1)[0]
    n_chunks = len(chunk_sizes(n_resamples, CHUNK_SIZE))
    run = lambda ex=None: bootstrap(s, 4, n_resamples, seed=1, executor=ex, **CENTROID)  # noqa: E731
    run()  # warm caches here
    serial = min(_timed(run)[0] for _ in range(3))
    out = []
    with ProcessPoolExecutor(1) as ex:
        _warm(ex)
        run(ex)
        t = min(_timed(lambda: run(ex))[0] for _ in range(3))
        out.append(("process pool, 1 worker", t))
    try:
        import distributed
    except ImportError:  # pragma: no cover - setup.sh installs python3-distributed
        distributed = None
    if distributed is not None:
        with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None,
                                      silence_logs=50) as cluster, distributed.Client(cluster) as client:
            ex = client.get_executor()
            _warm(ex)
            run(ex)
            t = min(_timed(lambda: run(ex))[0] for _ in range(3))
            out.append(("dask LocalCluster, 1 worker", t))
    return [{"where": w, "seconds": t, "serial": serial, "chunks": n_chunks,
             "overhead_per_chunk": (t - serial) / n_chunks, "overhead_pct": 100 * (t - serial) / serial}
            for w, t in out]


def section(scal: dict, over: list) -> list:
    """Markdown lines of the "Bootstrap scaling" section."""
    ms = lambda x: f"{x * 1e3:.3g} ms" if x < 1 else f"{x:.3g} s"  # noqa: E731
    out = ["## Bootstrap scaling (resamples x sorts)", "",
           "`bootstrap()` (balanced resamples, Hungarian alignment, `seed=1`) on planted 60-statement studies, k = 4; "
           "centroid with `centroid_ties=\"strict\"`. Time per resample and the peak memory traced by `tracemalloc` "
           "during the run (replicates are analysed in sub-batches bounded by "
           "`qvalid.stability.engine.MEMORY_BUDGET`, so the peak does not grow with the number of resamples).", "",
           "| sorts | extraction | resamples | time | per resample | peak memory |", "|---|---|---|---|---|---|"]
    out += [f"| {r['sorts']} | {r['extraction']} | {r['resamples']} | {ms(r['seconds'])} | {ms(r['per'])} | "
            f"{r['peak_mib']:.0f} MiB |" for r in scal["sizes"]]
    out += ["", "Growing resamples of the NAV-sized 36 x 25 study (centroid, strict ties):", "",
            "| resamples | time | per resample | peak memory |", "|---|---|---|---|"]
    out += [f"| {r['resamples']} | {ms(r['seconds'])} | {ms(r['per'])} | {r['peak_mib']:.0f} MiB |"
            for r in scal["resamples"]]
    if over:
        out += ["", "Running the chunks elsewhere (2000 resamples of the 36 x 25 study in chunks of 250, workers "
                "already up, best of 3): the extra time over running them here is what shipping a chunk and its "
                "result costs.", "", "| executor | time | here | per chunk overhead | overhead |", "|---|---|---|---|---|"]
        out += [f"| {o['where']} | {ms(o['seconds'])} | {ms(o['serial'])} | {ms(o['overhead_per_chunk'])} | "
                f"{o['overhead_pct']:.1f} % |" for o in over]
    return out + [""]
