"""Known disagreement 4 (factor-array ties) against live R: random forced flat-grid studies, the shape of its
reproducer (shared/data/regressions/zscore_tie_flat7_14sorts.csv: grid -3..+3 with 3 cells each).

For each seed: a random forced study (sorts: random permutations of the grid; the number of sorts drawn from
[--min-sorts, --max-sorts)), PCA or centroid, varimax or none, Pearson or Spearman, k = 2..3. qvalid runs twice, with
its R-bits tie rule (issue 21) and without it (``qvalid.pipeline.close_ties`` patched to say "no close tie": the
behaviour before issue 21), and both are compared with live R qmethod: the factor arrays exactly, and (with the rule)
every output within 1e-10. Needs R, qmethod and rpy2. Example (the runs of the issue 21 report)::

    .venv/bin/python scripts/differential_flat_ties.py --start 0 -n 300 --min-sorts 8 --max-sorts 16
    .venv/bin/python scripts/differential_flat_ties.py --start 0 -n 600 --min-sorts 5 --max-sorts 9
    .venv/bin/python scripts/differential_flat_ties.py --start 1000 -n 2000 --min-sorts 4 --max-sorts 8

Prints the counts and one line per study where anything differs; exit 1 if the arrays differ with the rule.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import qvalid.pipeline as pipeline  # noqa: E402
from qvalid import QInputError, QStudy, analyze  # noqa: E402
from qvalid.checks.compare import compare  # noqa: E402
from qvalid.r.qmethod import as_result, run_qmethod  # noqa: E402

GRID = {v: 3 for v in range(-3, 4)}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--start", type=int, default=0)
    p.add_argument("-n", type=int, default=300)
    p.add_argument("--min-sorts", type=int, default=8)
    p.add_argument("--max-sorts", type=int, default=16)
    args = p.parse_args(argv)
    q = np.repeat(np.fromiter(GRID, int), 3)
    rule = pipeline.close_ties
    counts = {"studies": 0, "r_failed": 0, "arrays_differ_before": 0, "arrays_differ_after": 0, "other_diff_after": 0}
    lines = []
    for seed in range(args.start, args.start + args.n):
        rng = np.random.default_rng(seed)
        n_so = int(rng.integers(args.min_sorts, args.max_sorts))
        study = QStudy.from_array(np.stack([rng.permutation(q) for _ in range(n_so)], axis=1), grid=GRID)
        opts = {"extraction": ["centroid", "pca"][int(rng.integers(2))],
                "rotation": ["none", "varimax"][int(rng.integers(2))],
                "cor_method": ["pearson", "spearman"][int(rng.integers(2))]}
        k = int(rng.integers(2, 4))
        try:
            after = analyze(study, k, **opts)
            pipeline.close_ties = lambda *a: False
            before = analyze(study, k, **opts)
        except QInputError:
            continue
        finally:
            pipeline.close_ties = rule
        rr = run_qmethod(study, k, timeout=10, **opts)
        counts["studies"] += 1
        if rr.missing:
            counts["r_failed"] += 1
            continue
        theirs = as_result(rr)
        fa = np.asarray(theirs.factor_arrays)
        db = not np.array_equal(before.factor_arrays, fa, equal_nan=True)
        da = not np.array_equal(after.factor_arrays, fa, equal_nan=True)
        diff = compare(after, theirs)
        counts["arrays_differ_before"] += db
        counts["arrays_differ_after"] += da
        counts["other_diff_after"] += not diff.ok
        if db or da or not diff.ok:
            lines.append(f"seed {seed}: {n_so} sorts, k={k}, {opts}: arrays differ before {db}, after {da}; "
                         f"failing after: {[o.name for o in diff.failures]}")
    print(counts)
    print("\n".join(lines))
    return 1 if counts["arrays_differ_after"] else 0


if __name__ == "__main__":
    sys.exit(main())
