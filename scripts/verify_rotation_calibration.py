"""Calibration of ``qvalid verify``'s claim "the published loadings are an orthogonal rotation of the data's
k-factor solution" (qvalid.checks.verify.rotation_claim) on simulated studies with known truth.

For each replicate a planted study is drawn (8-40 Q-sorts, 20-40 statements, k = 2..6, noise 0.5-1.5), its
unrotated k-factor PCA solution A computed, and a "published" table B printed at 2, 3, 4 or 5 decimals:

- ``rotation``: B = A T for T = varimax, a random orthogonal matrix (reflections included) or three random hand
  steps (-40..40 degrees): the claim is true, the verdict must never be "contradicts";
- ``k+1 factors``: the first k columns of the varimax solution with k + 1 factors (a paper reporting k of more
  factors): false, but when the extra factor is weak the first k columns are a rotation of the k-factor solution to
  print precision, and "agrees within print rounding" is then the right answer;
- ``oblique``: the oblimin pattern of the same k: false (an oblique pattern is no orthogonal rotation);
- ``centroid``: the varimax solution of qmethod's centroid extraction, checked against PCA: false (another
  extraction), though close;
- ``typo``: a true rotation with one cell changed by 5 units of the last printed decimal: false;
- ``swapped rows``: a true rotation with two Q-sorts' rows exchanged: false.

Run from the repository root (about a minute with the defaults):

    nice -n 10 .venv/bin/python scripts/verify_rotation_calibration.py [--n 1000] [--seed 22]

It prints the table of docs/verify.md ("Is the table a rotation of the data's factors?"): per scenario the share of
each verdict. tests/test_verify_rotation.py runs a CI-sized version and fails when a true rotation is contradicted
or the false scenarios are not caught as often as the table says.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from qvalid import analyze
from qvalid.checks.verify import AGREES, CONTRADICTS, ROUNDING, rotation_claim
from qvalid.errors import QInputError
from qvalid.core.judgmental import PairStep, steps_matrix
from qvalid.io.published import PublishedTable
from qvalid.simulate import planted_study

SCENARIOS = ("rotation", "k+1 factors", "oblique", "centroid", "typo", "swapped rows")


def table(values, d, ids) -> PublishedTable:
    k = values.shape[1]
    return PublishedTable(ids=list(ids), factors=[f"f{j + 1}" for j in range(k)], values=np.round(values, d),
                          decimals=np.full(values.shape, d), marks=None, source="simulated")


def replicate(rng, scenario: str):
    """One simulated check: the verdict of rotation_claim, or None when the scenario does not apply (or a planted
    study cannot be analysed as the scenario needs, e.g. a centroid column sum of exactly 0)."""
    try:
        return _replicate(rng, scenario)
    except QInputError:
        return None


def _replicate(rng, scenario: str):
    n = int(rng.integers(8, 41))
    k = int(rng.integers(2, min(6, n - 3) + 1))
    d = int(rng.choice([2, 3, 4, 5]))
    study = planted_study(int(rng.choice([20, 30, 40])), n, k, noise=float(rng.uniform(0.5, 1.5)),
                          seed=int(rng.integers(2 ** 31)))[0]
    a = analyze(study, k, rotation="none").loadings
    if scenario in ("rotation", "typo", "swapped rows"):
        mode = int(rng.integers(3))
        if mode == 0:
            t = analyze(study, k).rotation_matrix
        elif mode == 1:
            t = np.linalg.qr(rng.standard_normal((k, k)))[0]
        else:
            t = steps_matrix(k, [PairStep(*map(int, rng.choice(k, 2, replace=False)), float(rng.uniform(-40, 40)))
                                 for _ in range(3)])
        b = np.round(a @ t, d)
        if scenario == "typo":
            i, j = int(rng.integers(n)), int(rng.integers(k))
            b[i, j] += rng.choice([-5, 5]) * 10.0 ** -d
        if scenario == "swapped rows":
            i, j = rng.choice(n, 2, replace=False)
            if np.allclose(b[i], b[j]):
                return None
            b[[i, j]] = b[[j, i]]
    elif scenario == "k+1 factors":
        if k + 1 > n - 1:
            return None
        b = analyze(study, k + 1).loadings[:, :k]
    elif scenario == "oblique":
        b = analyze(study, k, rotation="oblimin").loadings
    elif scenario == "centroid":
        b = analyze(study, k, extraction="centroid").loadings
    else:
        raise ValueError(scenario)
    claim, _ = rotation_claim(table(np.asarray(b, dtype=float), d, study.sort_ids), a, of="PCA")
    return claim.verdict


def run(n: int, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    out = {}
    for sc in SCENARIOS:
        verdicts = [v for v in (replicate(rng, sc) for _ in range(n)) if v is not None]
        out[sc] = {v: verdicts.count(v) / len(verdicts) for v in (AGREES, ROUNDING, CONTRADICTS)}
        out[sc]["n"] = len(verdicts)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=1000, help="replicates per scenario (default 1000)")
    ap.add_argument("--seed", type=int, default=22)
    args = ap.parse_args(argv)
    res = run(args.n, args.seed)
    print(f"| scenario | n | agrees | agrees within print rounding | contradicts |")
    print("|---|---|---|---|---|")
    for sc, r in res.items():
        print(f"| {sc} | {r['n']} | {100 * r[AGREES]:.1f} % | {100 * r[ROUNDING]:.1f} % | "
              f"{100 * r[CONTRADICTS]:.1f} % |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
