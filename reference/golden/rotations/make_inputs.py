"""Inputs of the rotation golden files that are not in reference/golden/inputs: small planted studies that make the
rotations hard (deterministic recipes, numpy ``default_rng`` with fixed seeds).

Run from the repository root:  .venv/bin/python reference/golden/rotations/make_inputs.py [--check]

Each study is written to ``reference/golden/rotations/inputs/<name>.csv`` in qmethod's layout (statements as rows,
first column the statement ids; Q-sorts as columns). With ``--check`` nothing is written: the recipes are re-run and
must give the committed files byte for byte.

- ``equal``: 12 sorts, two planted viewpoints of the same strength (6 sorts each): after rotation the factors'
  sums of squares are nearly equal, so psych's sort decides the order on small differences;
- ``weak``: 16 sorts, three strong viewpoints (5, 5, 4 sorts) and a weak one (2 sorts at half weight), so the
  fourth and fifth factors are weak or noise;
- ``square``: 6 sorts and 20 statements, three viewpoints: k = 5 is one less than the number of sorts.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
GRID20 = {-3: 2, -2: 3, -1: 3, 0: 4, 1: 3, 2: 3, 3: 2}
GRID30 = {-4: 2, -3: 2, -2: 4, -1: 4, 0: 6, 1: 4, 2: 4, 3: 2, 4: 2}


def planted(n_statements, weights, noise, seed, grid):
    """Sorts = latent prototypes (columns of N(0,1)) mixed by ``weights`` (n_sorts x n_protos) plus
    ``noise`` N(0,1), each ranked into the grid (continuous draws: no ties)."""
    rng = np.random.default_rng(seed)
    weights = np.asarray(weights, dtype=float)
    proto = rng.standard_normal((n_statements, weights.shape[1]))
    latent = proto @ weights.T + noise * rng.standard_normal((n_statements, weights.shape[0]))
    q = np.repeat(np.array(list(grid)), np.array(list(grid.values())))
    assert q.size == n_statements
    ranks = np.argsort(np.argsort(latent, axis=0, kind="stable"), axis=0, kind="stable")
    return q[ranks]


def member(counts, weight=None):
    n = sum(counts)
    w = np.zeros((n, len(counts)))
    i = 0
    for j, c in enumerate(counts):
        w[i:i + c, j] = 1.0 if weight is None else weight[j]
        i += c
    return w


STUDIES = {
    "equal": lambda: planted(30, member([6, 6]), 0.9, 101, GRID30),
    "weak": lambda: planted(30, member([5, 5, 4, 2], [1, 1, 1, 0.5]), 0.8, 202, GRID30),
    "square": lambda: planted(20, member([2, 2, 2]), 1.0, 303, GRID20),
}


def to_csv(scores) -> str:
    n, m = scores.shape
    lines = [",".join(['""'] + [f'"s{j + 1:02d}"' for j in range(m)])]
    lines += [",".join([f'"sta_{i + 1}"'] + [str(int(v)) for v in scores[i]]) for i in range(n)]
    return "\n".join(lines) + "\n"


def main(argv):
    check = "--check" in argv
    (HERE / "inputs").mkdir(exist_ok=True)
    bad = 0
    for name, recipe in STUDIES.items():
        text = to_csv(recipe())
        path = HERE / "inputs" / f"{name}.csv"
        if check:
            if not path.exists() or path.read_text() != text:
                print(f"{path}: differs from its recipe")
                bad += 1
        else:
            path.write_text(text)
            print(f"wrote {path}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
