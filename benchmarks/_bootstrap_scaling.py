"""How the bootstrap's cost grows (resamples x sorts) and what running its chunks elsewhere costs, for BENCHMARKS.md.

- :func:`bootstrap_scaling`: seconds per resample and peak memory (``tracemalloc``: numpy reports its buffers) of
  the resampling (``bootstrap(..., parametric=False)``: the engine; the default's parametric half is costed in the
  benchmark table beside qmboots) on planted 60-statement studies of growing size, PCA and centroid (strict ties),
  and the time of growing numbers of resamples of one study (linear in the resamples?).
- :func:`executor_overhead`: the same bootstrap serially and through one-worker executors (a process pool and a
  dask LocalCluster), after the workers are up: the difference per chunk is what shipping a chunk costs.
"""

from __future__ import annotations

import time
import tracemalloc

from qvalid import bootstrap
from qvalid.chunks import pack_result
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
            secs, peak = _timed(lambda: bootstrap(s, 4, n, seed=1, parametric=False, **kw))
            rows.append({"sorts": m, "extraction": label, "resamples": n, "seconds": secs, "per": secs / n,
                         "peak_mib": peak})
    nav = planted_study(36, 25, 4, seed=1)[0]
    lin = []
    for n in resamples:
        secs, peak = _timed(lambda: bootstrap(nav, 4, n, seed=1, parametric=False, **CENTROID))
        lin.append({"resamples": n, "seconds": secs, "per": secs / n, "peak_mib": peak})
    return {"sizes": rows, "resamples": lin}


def _warm(executor) -> None:
    executor.submit(int, 0).result()


def _call_timed(fn, task) -> tuple:
    """Run one chunk where the executor puts it: (seconds of its compute there, its result packed for shipping as
    run_chunks ships it, :func:`qvalid.chunks.pack_result`)."""
    t0 = time.perf_counter()
    out = fn(task)
    work = time.perf_counter() - t0
    return work, pack_result(out)


def _bootstrap_chunks(s, n_resamples: int, chunk_size: int) -> list:
    """The chunk functions and tasks one default bootstrap makes (caught where it hands them to ``run_chunks``)."""
    import qvalid.stability.run as run_mod

    caught, real = [], run_mod.run_chunks

    def catch(fn, tasks, **kw):
        tasks = list(tasks)
        caught.extend((fn, t) for t in tasks)
        return real(fn, tasks, **kw)

    run_mod.run_chunks = catch
    try:
        bootstrap(s, 4, n_resamples, seed=1, chunk_size=chunk_size, **CENTROID)
    finally:
        run_mod.run_chunks = real
    return caught


def executor_overhead(n_resamples: int = 2000, chunk_sizes=(250, 1000)) -> list:
    """What running the chunks of one default bootstrap (resampling + parametric) on a one-worker executor costs,
    workers already up, for each chunk size: per chunk, the round trip (submit to result here) minus the chunk's
    compute time measured in the worker (best of 3 each): the shipping of a task and its result, as a share of the
    compute; and the whole bootstrap's time there and here (which on this 2-core machine also moves with how fast
    the worker process computes beside the scheduler)."""
    from concurrent.futures import ProcessPoolExecutor

    s = planted_study(36, 25, 4, seed=1)[0]

    def measure(ex, where, size):
        chunks = _bootstrap_chunks(s, n_resamples, size)
        run = lambda e=None: bootstrap(s, 4, n_resamples, seed=1, executor=e, chunk_size=size, **CENTROID)  # noqa
        run()  # warm caches here
        serial = min(_timed(run)[0] for _ in range(3))
        run(ex)  # warm the worker
        total = min(_timed(lambda: run(ex))[0] for _ in range(3))
        ship, compute = 0.0, 0.0
        for fn, task in chunks:
            trips, works = [], []
            for _ in range(3):
                t0 = time.perf_counter()
                work, _ = ex.submit(_call_timed, fn, task).result()
                trips.append(time.perf_counter() - t0)
                works.append(work)
            ship += max(min(trips) - min(works), 0.0)
            compute += min(works)
        return {"where": where, "chunk_size": size, "seconds": total, "serial": serial, "chunks": len(chunks),
                "overhead_per_chunk": ship / len(chunks), "overhead_pct": 100 * ship / compute,
                "end_to_end_pct": 100 * (total - serial) / serial}

    out = []
    with ProcessPoolExecutor(1) as ex:
        _warm(ex)
        out += [measure(ex, "process pool, 1 worker", size) for size in chunk_sizes]
    try:
        import distributed
    except ImportError:  # pragma: no cover - setup.sh installs python3-distributed
        distributed = None
    if distributed is not None:
        with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None,
                                      silence_logs=50) as cluster, distributed.Client(cluster) as client:
            ex = client.get_executor()
            _warm(ex)
            out += [measure(ex, "dask LocalCluster, 1 worker", size) for size in chunk_sizes]
    return out


def section(scal: dict, over: list) -> list:
    """Markdown lines of the "Bootstrap scaling" section."""
    ms = lambda x: f"{x * 1e3:.3g} ms" if x < 1 else f"{x:.3g} s"  # noqa: E731
    out = ["## Bootstrap scaling (resamples x sorts)", "",
           "The resampling, `bootstrap(..., parametric=False)` (balanced resamples, Hungarian alignment, `seed=1`), "
           "on planted 60-statement studies, k = 4; "
           "centroid with `centroid_ties=\"strict\"`. Time per resample and the peak memory traced by `tracemalloc` "
           "during the run (replicates are analysed in sub-batches bounded by "
           "`qvalid.stability.engine.MEMORY_BUDGET`, so the peak does not grow with the number of resamples).", "",
           "| sorts | extraction | resamples | time | per resample | peak memory |", "|---|---|---|---|---|---|"]
    out += [f"| {r['sorts']} | {r['extraction']} | {r['resamples']} | {ms(r['seconds'])} | {ms(r['per'])} | "
            f"{r['peak_mib']:.0f} MiB |" for r in scal["sizes"]]
    for sorts, want_n in ((500, 1000), (5000, 10)):
        for r in (r for r in scal["sizes"] if r["sorts"] == sorts):
            t = r["per"] * want_n
            out.append(f"- Target (issue 24): {want_n} resamples of 60 x {sorts} ({r['extraction']}) in under a "
                       f"minute: {ms(t)} ({want_n} x the time per resample): {'met' if t < 60 else 'missed'}.")
    out += ["", "Growing resamples of the NAV-sized 36 x 25 study (centroid, strict ties):", "",
            "| resamples | time | per resample | peak memory |", "|---|---|---|---|"]
    out += [f"| {r['resamples']} | {ms(r['seconds'])} | {ms(r['per'])} | {r['peak_mib']:.0f} MiB |"
            for r in scal["resamples"]]
    if over:
        out += ["", "Running the chunks elsewhere: one default bootstrap (2000 resamples of the 36 x 25 study, "
                "resampling and parametric; `chunk_size` 250, the default, and 1000), workers already up. *Shipping "
                "per chunk*: the round trip of a chunk (submitted here, result back here) minus its compute time "
                "measured in the worker, best of 3 each; *overhead*: shipping over compute. *End to end*: the whole "
                "bootstrap there against here (it also moves with how fast the worker computes beside the scheduler "
                "on this 2-core machine; the full-sample analysis, the world and the summaries run here in both).",
                "", "| executor | chunk size | chunks | shipping per chunk | overhead | bootstrap there | here | "
                "end to end |", "|---|---|---|---|---|---|---|---|"]
        out += [f"| {o['where']} | {o['chunk_size']} | {o['chunks']} | {ms(o['overhead_per_chunk'])} | "
                f"{o['overhead_pct']:.1f} % | {ms(o['seconds'])} | {ms(o['serial'])} | {o['end_to_end_pct']:+.1f} % |"
                for o in over]
        for size in sorted({o["chunk_size"] for o in over}):
            worst = max(o["overhead_pct"] for o in over if o["chunk_size"] == size)
            out.append(f"- Target (issue 24): per-task overhead below 5 %, chunks of {size}: at most {worst:.1f} %: "
                       + ("met." if worst < 5 else "missed."))
    return out + [""]
