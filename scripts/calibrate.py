"""The calibration study of the bootstrap (issue 18): populations with known truth, every sample bootstrapped as a
user would, and the tables of docs/calibration.md with issue 18's targets checked.

    python scripts/calibrate.py                      # the full study (8 populations x centroid/PCA x k, k + 1)
    python scripts/calibrate.py --small              # the CI-sized study (tests/test_calibration.py runs it)
    python scripts/calibrate.py --analyses pca --save pca.pkl     # part of it, saved
    python scripts/calibrate.py --load pca.pkl centroid.pkl --markdown out/calibration.md
    python scripts/calibrate.py --load ... --fit-verdict          # refit qvalid.stability.verdict.COEFFICIENTS

The full study takes about 45 minutes of CPU (100 samples per population, analysis and k, 200 resamples each);
``--workers N`` spreads it over N processes (the bytes do not change). Exit 0 when every target is met, 1 otherwise.
"""

from __future__ import annotations

import argparse
import pickle
import sys
import time
from pathlib import Path


def main(argv=None) -> int:
    from qvalid.stability.calibration import ANALYSES, CONFIGS, SMALL, CalibrationResult, run_study

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--small", action="store_true", help="the CI-sized study (one population, PCA, 30 samples)")
    p.add_argument("--samples", type=int, default=None, help="samples per population, analysis and k (default 100)")
    p.add_argument("--resamples", type=int, default=None, help="resamples per bootstrap (default 200)")
    p.add_argument("--analyses", default=None, help=f"comma-separated subset of {', '.join(ANALYSES)}")
    p.add_argument("--populations", default=None, help="comma-separated subset of the populations' names")
    p.add_argument("--workers", type=int, default=1, help="processes (default 1: this one)")
    p.add_argument("--save", metavar="FILE", help="save the records (pickle) for --load")
    p.add_argument("--load", nargs="+", metavar="FILE", help="tables from saved records instead of running")
    p.add_argument("--markdown", metavar="FILE", help="write the tables as markdown to FILE")
    p.add_argument("--fit-verdict", action="store_true", help="print the refitted verdict curves")
    args = p.parse_args(argv)

    if args.load:
        parts = [pickle.loads(Path(f).read_bytes()) for f in args.load]
        res = CalibrationResult([r for x in parts for r in x.records], {k: v for x in parts for k, v in x.truths.items()},
                                parts[0].n_samples, parts[0].n_resamples)
    else:
        configs = SMALL if args.small else CONFIGS
        if args.populations:
            configs = tuple(c for c in configs if c.name in args.populations.split(","))
        analyses = ("pca",) if args.small else tuple(ANALYSES)
        if args.analyses:
            analyses = tuple(args.analyses.split(","))
        n = args.samples or (30 if args.small else 100)
        b = args.resamples or (100 if args.small else 200)
        executor = None
        if args.workers > 1:
            from concurrent.futures import ProcessPoolExecutor

            executor = ProcessPoolExecutor(args.workers)
        t = time.time()
        try:
            res = run_study(configs, n_samples=n, n_resamples=b, analyses=analyses, executor=executor,
                            progress=sys.stderr.isatty())
        finally:
            if executor is not None:
                executor.shutdown()
        print(f"calibration study: {len(res.records)} factor-samples in {time.time() - t:.0f} s", file=sys.stderr)
        if args.save:
            Path(args.save).write_bytes(pickle.dumps(res))
    text = res.to_markdown()
    if args.markdown:
        Path(args.markdown).parent.mkdir(parents=True, exist_ok=True)
        Path(args.markdown).write_text(text + "\n", encoding="utf-8")
    print(text)
    if args.fit_verdict:
        print("\nverdict curves refitted on these records (qvalid.stability.verdict.COEFFICIENTS):")
        print(res.fit_verdict())
    missed = [t for t in res.targets() if not t["met"]]
    print(f"\n{len(missed)} target(s) missed" if missed else "\nevery target met")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
