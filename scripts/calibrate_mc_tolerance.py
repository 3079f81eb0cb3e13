#!/usr/bin/env python3
"""Calibrate the Monte-Carlo tolerance of bootstrap snapshots (qvalid.checks.tables.compare_bootstrap).

False alarms: pairs of bootstraps of one study that differ only in their seed must pass (the tolerance promises a
family-wise false-alarm rate of at most alpha = 1 % per comparison). Power: a bootstrap whose resampler has a bug that only the
Monte-Carlo summaries can show must fail: both runs are given explicit resample indices (``indices=``), drawn
uniformly from every Q-sort in one and drawing the first Q-sort twice as often as each other one (a weighting bug)
in the other, so that the full-sample outputs, the options and the settings are identical. Prints a markdown table (docs/ci.md) and exits 1 when the
false-alarm rate's one-sided 95 % Clopper-Pearson lower bound exceeds alpha.

Usage: .venv/bin/python scripts/calibrate_mc_tolerance.py [--pairs 100] [--resamples 200 1000] [--only nav_synth]
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
from scipy.stats import beta

from qvalid import bootstrap
from qvalid.checks.tables import ALPHA, bootstrap_mc_errors, compare_bootstrap
from qvalid.datasets import load_lipset
from qvalid.io import read_study

NAV = "reference/data/nav_synth/nav_synth.csv"


def run(study, k, n, seed, opts, **kw):
    """A bootstrap's JSON and its Monte-Carlo standard errors (as the qsnapshot fixture stores them)."""
    b = bootstrap(study, k, n, seed=seed, **opts, **kw)
    return b.to_dict(replicates=False), bootstrap_mc_errors(b)


def cases():
    lipset = load_lipset()
    nav = read_study(NAV)
    yield "lipset k=3 PCA", lipset, 3, {}
    yield "nav_synth k=4 centroid", nav, 4, {"extraction": "centroid", "centroid_ties": "strict"}


def indices(n_sorts, n, seed, biased):
    w = np.ones(n_sorts)
    w[0] = 2.0 if biased else 1.0
    return np.random.default_rng(seed).choice(n_sorts, size=(n, n_sorts), p=w / w.sum())


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pairs", type=int, default=100)
    ap.add_argument("--resamples", type=int, nargs="+", default=[200, 1000])
    ap.add_argument("--only", default="", help="run only the studies whose name contains this (e.g. nav_synth)")
    args = ap.parse_args(argv)
    print("| study | resamples | pairs | false alarms (rate, 95 % CI) | outputs that alarmed | resampler drawing one "
          "sort twice as often caught |")
    print("|---|---:|---:|---|---|---|")
    bad = False
    for name, study, k, opts in cases():
        if args.only not in name:
            continue
        for n in args.resamples:
            alarms, worst = 0, {}
            for i in range(args.pairs):
                a, sa = run(study, k, n, 2 * i + 1, opts)
                b, sb = run(study, k, n, 2 * i + 2, opts)
                d = compare_bootstrap(a, b, se_old=sa, se_new=sb)
                if not d.ok:
                    alarms += 1
                    for o in d.failures:
                        worst[o.name] = worst.get(o.name, 0) + 1
            lo = beta.ppf(0.025, alarms, args.pairs - alarms + 1) if alarms else 0.0
            hi = beta.ppf(0.975, alarms + 1, args.pairs - alarms)
            bad |= beta.ppf(0.05, alarms, args.pairs - alarms + 1) > ALPHA if alarms else False
            caught, seen = 0, {}
            n_power = max(args.pairs // 5, 1)
            for i in range(n_power):
                a, sa = run(study, k, n, 0, opts, indices=indices(study.n_sorts, n, 2 * i + 1, False))
                c, sc = run(study, k, n, 0, opts, indices=indices(study.n_sorts, n, 2 * i + 2, True))
                d = compare_bootstrap(a, c, se_old=sa, se_new=sc)
                caught += not d.ok
                for o in d.failures:
                    seen[o.name] = seen.get(o.name, 0) + 1
            top = lambda c: ", ".join(f"{k} {v}" for k, v in sorted(c.items(), key=lambda x: -x[1])[:3]) or "-"
            print(f"| {name} | {n} | {args.pairs} | {alarms} ({alarms / args.pairs:.1%}, {lo:.1%}-{hi:.1%}) | "
                  f"{top(worst)} | {caught} / {n_power} (by {top(seen)}) |", flush=True)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
