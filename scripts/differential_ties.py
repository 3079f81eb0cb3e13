"""Thorough differential run biased towards ties: qvalid vs live R qmethod 1.8.4 on many tie-heavy studies.

Run from the repository root (needs R, qmethod and rpy2; single process, one R session; ~20 studies a second):

    .venv/bin/python scripts/differential_ties.py                      # seeds 0..2999
    .venv/bin/python scripts/differential_ties.py --start 3000 -n 500  # more seeds
    .venv/bin/python scripts/differential_ties.py --seed 1234          # one study, with the full comparison

Study ``seed`` is :func:`qvalid.simulate.tie_heavy_study` (flat and small grids, 6-20 sorts, duplicated and
mirrored sorts, tied statements); its options come from ``numpy.random.default_rng([seed, 1])``: centroid
(2 in 3) or PCA, varimax or none, Pearson, Spearman or Kendall, k = 1..6 (at most the number of sorts). Each
outcome is classified by ``tests/_r.py:differential``: agreement within 1e-10 (exact flags, arrays, stars,
labels), a documented known disagreement whose explanation is checked on the data, or "unexplained". The CI
sample of the same generator is ``tests/test_crosscheck.py::test_differential_tie_heavy``.

Prints one line per disagreement and a summary (counts per outcome, time); exit 1 if anything is unexplained.
"""

from __future__ import annotations

import argparse
import collections
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from _r import differential  # noqa: E402
from qvalid.simulate import tie_heavy_study  # noqa: E402


def case(seed: int):
    """Study and options of one seed (the same bytes on every run)."""
    study = tie_heavy_study(seed)
    rng = np.random.default_rng([seed, 1])
    opts = {"extraction": ["pca", "centroid", "centroid"][rng.integers(3)],
            "rotation": ["varimax", "none"][rng.integers(2)],
            "cor_method": ["pearson", "spearman", "kendall"][rng.integers(3)]}
    return study, min(int(rng.integers(1, 7)), study.n_sorts), opts


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("-n", type=int, default=3000, help="number of studies (default 3000)")
    p.add_argument("--start", type=int, default=0, help="first seed (default 0)")
    p.add_argument("--seed", type=int, help="run one seed and print the whole comparison")
    args = p.parse_args(argv)
    seeds = [args.seed] if args.seed is not None else range(args.start, args.start + args.n)
    counts: collections.Counter = collections.Counter()
    t0 = time.perf_counter()
    for i, seed in enumerate(seeds, 1):
        study, k, opts = case(seed)
        outcome, detail = differential(study, k, opts)
        counts[outcome] += 1
        if not outcome.startswith("agree") or args.seed is not None:
            print(f"seed {seed}: {study.n_statements}x{study.n_sorts} {'forced' if study.forced else 'free'} "
                  f"k={k} {opts['extraction']} {opts['rotation']} {opts['cor_method']}: {outcome}", flush=True)
            if outcome == "unexplained" or args.seed is not None:
                print(detail, flush=True)
        if i % 250 == 0:
            print(f"... {i} studies, {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
    seconds = time.perf_counter() - t0
    print(f"\n{sum(counts.values())} studies (seeds {seeds[0]}..{seeds[-1]}) in {seconds:.0f} s")
    for outcome, c in counts.most_common():
        print(f"{c:6d}  {outcome}")
    return 1 if counts["unexplained"] else 0


if __name__ == "__main__":
    sys.exit(main())
