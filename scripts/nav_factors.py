"""How many factors does the NAV study (Innlandet 2023) support? Grid-aware parallel analysis for its design.

The raw Q-sorts were never published; its unrotated centroid eigenvalues were (Tabell 4: 9.30894, 1.51978,
1.79467, 1.09005 for 25 sorts and 36 statements on the grid -5..+5 with 1,2,3,4,5,6,5,4,3,2,1 cells). This script
compares them with (1) Horn's null on random sorts that fill the NAV grid (eigenvalues, and centroid factors of the
same random matrices: the NAV numbers are centroid sums of squares), (2) the normal-noise null, and (3) the
"revised" parallel analysis of Green et al. (2012): studies drawn from (k - 1)-factor populations on the same grid
(the leading principal axes of the published solution), asking whether factor k exceeds what k - 1 factors plus
noise give.

    .venv/bin/python scripts/nav_factors.py [--runs 5000] [--seed 2023]

Its output is quoted in docs/factors.md.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from qvalid.datasets import nav_grid, nav_published_loadings
from qvalid.factors import grid_template, null_eigenvalues

ROOT = Path(__file__).resolve().parents[1]
PUBLISHED = json.loads((ROOT / "reference/data/nav_aap_2023/factor_characteristics.json").read_text())


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

    # revised PA (Green et al. 2012): factor k against studies drawn from a (k - 1)-factor population on the NAV
    # grid. The population is the published solution itself: the leading k - 1 principal axes of L L' (L = the
    # published rotated loadings, Tabell 5; L L' does not depend on the rotation). Its axes: see below.
    loadings = nav_published_loadings().to_numpy()
    vals, vecs = np.linalg.eigh(loadings @ loadings.T)
    vals, vecs = vals[::-1], vecs[:, ::-1]
    print(f"\nrevised PA: populations = leading principal axes of the published common part L L' "
          f"(their sums of squares {', '.join(f'{v:.3f}' for v in vals[:k])}; {args.runs} studies each)")
    print("k  published  sorted | centroid SS of factor k: 95% (mean) | k-th largest centroid SS: 95% (mean) | "
          "eigenvalue k of R: 95% (mean)")
    pub_sorted = -np.sort(-published)
    for j, child in zip(range(1, k), s_rev.spawn(k - 1)):
        pop = vecs[:, :j] * np.sqrt(vals[:j])
        nul = null_eigenvalues(t, args.runs, seed=child, centroid_factors=k, population=pop)
        cs = nul.centroid
        srt = -np.sort(-cs, axis=1)
        print(f"{j + 1}  {published[j]:9.5f}  {pub_sorted[j]:.3f}  | {np.nanpercentile(cs[:, j], 95):.3f} "
              f"({np.nanmean(cs[:, j]):.3f})                      | {np.nanpercentile(srt[:, j], 95):.3f} "
              f"({np.nanmean(srt[:, j]):.3f})                        | {nul.centile(95)[j]:.3f} ({nul.mean()[j]:.3f})")

if __name__ == "__main__":
    main()
