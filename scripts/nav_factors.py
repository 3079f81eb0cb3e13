"""How many factors does the NAV study (Innlandet 2023) support? Grid-aware parallel analysis for its design.

The raw Q-sorts were never published; its unrotated centroid eigenvalues were (Tabell 4: 9.30894, 1.51978,
1.79467, 1.09005 for 25 sorts and 36 statements on the grid -5..+5 with 1,2,3,4,5,6,5,4,3,2,1 cells). This script
compares them with (1) Horn's null on random sorts that fill the NAV grid (eigenvalues, and centroid factors of the
same random matrices: the NAV numbers are centroid sums of squares), (2) the normal-noise null, and (3) the
"revised" parallel analysis of Green et al. (2012): studies from a one-factor population on the same grid whose
first centroid factor is as strong as NAV's, asking whether factors 2-4 exceed what one factor plus noise gives.

    .venv/bin/python scripts/nav_factors.py [--runs 5000] [--seed 2023]

Its output is quoted in docs/factors.md.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from qvalid.correlation import correlate
from qvalid.datasets import nav_grid
from qvalid.extract import centroid_stack
from qvalid.factors import grid_template, null_eigenvalues

ROOT = Path(__file__).resolve().parents[1]
PUBLISHED = json.loads((ROOT / "reference/data/nav_aap_2023/factor_characteristics.json").read_text())


def one_factor_studies(q, n_sorts, loading, n_runs, rng):
    """Studies whose sorts are a * prototype + sqrt(1 - a^2) * noise, ranked into the grid (one common factor)."""
    n = q.size
    proto = rng.standard_normal((n_runs, n, 1))
    latent = loading * proto + np.sqrt(1 - loading ** 2) * rng.standard_normal((n_runs, n, n_sorts))
    ranks = np.argsort(np.argsort(latent, axis=1), axis=1)
    return np.sort(q)[ranks].astype(float)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=2023)
    args = ap.parse_args(argv)
    grid = nav_grid()
    p, k = 25, 4
    published = np.array([f["eigenvalue"] for f in PUBLISHED["factors"]])
    t = grid_template(grid, p)
    ss = np.random.SeedSequence(args.seed)
    s_grid, s_norm, s_rev = ss.spawn(3)
    g = null_eigenvalues(t, args.runs, kind="grid", seed=s_grid, centroid_factors=k)
    nn = null_eigenvalues(t, args.runs, kind="normal", seed=s_norm, centroid_factors=k)
    print(f"NAV design: {p} sorts x {t.shape[0]} statements, grid {grid}; {args.runs} random studies per null, "
          f"seed {args.seed}")
    print("\nk  published  %var | eigenvalues of R: grid 95% (mean)  normal 95% (mean) | "
          "centroid SS: grid 95% (mean)  normal 95% (mean)")
    for j in range(k):
        print(f"{j + 1}  {published[j]:9.5f}  {100 * published[j] / p:4.1f} | "
              f"{g.centile(95)[j]:.3f} ({g.mean()[j]:.3f})     {nn.centile(95)[j]:.3f} ({nn.mean()[j]:.3f})    | "
              f"{g.centile(95, which='centroid')[j]:.3f} ({g.mean(which='centroid')[j]:.3f})   "
              f"{nn.centile(95, which='centroid')[j]:.3f} ({nn.mean(which='centroid')[j]:.3f})")

    # revised PA (Green et al. 2012) for k = 1: calibrate the common loading so that the mean first centroid sum of
    # squares equals NAV's 9.31, then the null of factors 2..4 is what one factor plus noise leaves over
    q = t[:, 0].astype(float)
    rng = np.random.default_rng(s_rev)
    lo, hi = 0.3, 0.9
    for _ in range(18):  # bisection on the loading (a few hundred studies per step)
        a = (lo + hi) / 2
        x = one_factor_studies(q, p, a, 300, np.random.default_rng(12345))
        first = np.nanmean((centroid_stack(correlate(x), 1) ** 2).sum(axis=1)[:, 0])
        lo, hi = (a, hi) if first < published[0] else (lo, a)
    x = one_factor_studies(q, p, a, args.runs, rng)
    cs = (centroid_stack(correlate(x), k) ** 2).sum(axis=1)
    ev = np.linalg.eigvalsh(correlate(x))[:, ::-1]
    print(f"\nrevised PA (one-factor population, common loading {a:.3f} -> mean first centroid SS "
          f"{np.nanmean(cs[:, 0]):.3f}; {args.runs} studies)")
    print("k  published | centroid SS 95% (mean) | eigenvalues of R 95% (mean)")
    for j in range(k):
        print(f"{j + 1}  {published[j]:9.5f} | {np.nanpercentile(cs[:, j], 95):.3f} ({np.nanmean(cs[:, j]):.3f})"
              f"         | {np.percentile(ev[:, j], 95):.3f} ({ev[:, j].mean():.3f})")
    # centroid factors come unordered (NAV's factor 3 is larger than its factor 2): compare factors 2..4 sorted by
    # size with the null's factors 2..4 sorted the same way
    srt = -np.sort(-cs[:, 1:], axis=1)
    pub = -np.sort(-published[1:])
    print("factors 2..4 sorted by size: " + ", ".join(
        f"{pub[j]:.3f} vs 95% {np.nanpercentile(srt[:, j], 95):.3f} (mean {np.nanmean(srt[:, j]):.3f})"
        for j in range(k - 1)))


if __name__ == "__main__":
    main()
