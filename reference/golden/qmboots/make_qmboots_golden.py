"""Golden outputs of R qmethod's qmboots for the bootstrap replay test (tests/test_bootstrap_qmboots.py).

Run from the repository root: .venv/bin/python reference/golden/qmboots/make_qmboots_golden.py
Writes reference/golden/qmboots/<case>.json: qmboots(dataset, nfactors, nsteps, load="auto", rotation="varimax",
indet="qindtest", fsi=TRUE, forced=TRUE, cor.method="pearson") after set.seed(seed), through qvalid.r.qmethod.
The outputs depend on R's RNG (set.seed) and are regenerated only on purpose.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
sys.path.insert(0, str(ROOT))

from qvalid.io import read_study  # noqa: E402
from qvalid.r.qmboots import run_qmboots  # noqa: E402

#: case -> (input relative to reference/golden, nfactors, nsteps, seed)
CASES = {
    "lipset_k3_n50_seed1": ("inputs/lipset.csv", 3, 50, 1),
    "nav_synth_k4_n40_seed2": ("inputs/nav_synth.csv", 4, 40, 2),
}


def _json(x):
    if isinstance(x, np.ndarray):
        return [_json(v) for v in x] if x.ndim > 1 else [None if v != v else float(v) for v in x.tolist()]
    if isinstance(x, dict):
        return {k: _json(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_json(v) for v in x]
    return x


def main() -> None:
    for case, (inp, k, n, seed) in CASES.items():
        study = read_study(HERE.parent / inp)
        r = run_qmboots(study, k, n, seed=seed)
        doc = {"case": case, "input": inp, "nfactors": k, "nsteps": n, "seed": seed,
               "call": f'set.seed({seed}); qmboots(dataset, nfactors = {k}, nsteps = {n}, load = "auto", '
                       'rotation = "varimax", indet = "qindtest", fsi = TRUE, forced = TRUE, cor.method = "pearson")',
               **{key: _json(v) for key, v in r.items()}}
        (HERE / f"{case}.json").write_text(json.dumps(doc, indent=None) + "\n")
        bad = sum(s.startswith("ERROR") for s in r["order_log"])
        print(f"{case}: {n} steps, {bad} rejected by qindtest, R {r['seconds']:.2f} s")


if __name__ == "__main__":
    main()
