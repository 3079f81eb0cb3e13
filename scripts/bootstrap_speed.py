"""Speed of qvalid.bootstrap against R qmethod's qmboots, measured in one run on the same study.

Usage (repository root): .venv/bin/python scripts/bootstrap_speed.py [N_R_STEPS]
Study: reference/golden/inputs/nav_synth.csv (36 statements x 25 Q-sorts, NAV-sized), k = 4. R: qmboots (PCA +
varimax, qindtest) for N_R_STEPS steps (default 100) through the R bridge, its own elapsed time. qvalid: 1000
resamples on this process (one core), best of 3, for PCA + varimax (the only thing qmboots can do) and
centroid + varimax (centroid_ties="strict" and qmethod's tie rule). Memory: the per-replicate arrays kept per 1000
replicates and the peak traced by tracemalloc during a 1000-replicate run.
"""

from __future__ import annotations

import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qvalid import bootstrap  # noqa: E402
from qvalid.io import read_study  # noqa: E402


def best(fn, reps=3):
    t = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        t.append(time.perf_counter() - t0)
    return min(t)


def main() -> None:
    n_r = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    study = read_study(ROOT / "reference/golden/inputs/nav_synth.csv")
    from qvalid.rbridge import run_qmboots

    r = run_qmboots(study, 4, n_r, seed=1)
    r_step = r["seconds"] / n_r
    print(f"R qmboots {r['versions']['qmethod']} (R {r['versions']['R']}): {n_r} steps in {r['seconds']:.2f} s = "
          f"{1e3 * r_step:.1f} ms per step (PCA + varimax, qindtest)")
    runs = {"PCA + varimax": {}, "centroid + varimax, strict ties": {"extraction": "centroid",
                                                                      "centroid_ties": "strict"},
            "centroid + varimax, qmethod ties": {"extraction": "centroid"}}
    for label, opts in runs.items():
        bootstrap(study, 4, 50, **opts)  # warm-up
        t = best(lambda: bootstrap(study, 4, 1000, seed=1, **opts))
        print(f"qvalid 1000 resamples, {label}: {t:.3f} s = {1e3 * t / 1000:.3f} ms per resample; "
              f"{r_step / (t / 1000):.0f}x qmboots per resample")
    tracemalloc.start()
    b = bootstrap(study, 4, 1000, seed=1, extraction="centroid", centroid_ties="strict")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    kept = sum(v.nbytes for v in b.raw.values())
    print(f"memory per 1000 replicates: {kept / 2**20:.1f} MiB kept (per-replicate arrays), "
          f"peak {peak / 2**20:.1f} MiB traced during the run")


if __name__ == "__main__":
    main()
