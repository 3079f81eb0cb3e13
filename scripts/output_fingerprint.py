"""Bit-level fingerprints of ``analyze()`` outputs, to check that a speed change changes no result at all.

Runs ``analyze`` on lipset and 12 seeded planted studies (33 x 9 up to 60 x 100), k = 1..7, with the qmethod
flavour (PCA, centroid, centroid without rotation, threshold and strict tie/label rules, Spearman) and the kade
flavour (PCA, centroid): 546 analyses. Each fingerprint hashes the JSON output (without the study's file path)
and the raw bytes of every array, so a last-bit difference anywhere shows.

    # before the change, from a checkout of main:
    PYTHONPATH=/work/main python scripts/output_fingerprint.py save /tmp/before.json
    # after it:
    python scripts/output_fingerprint.py compare /tmp/before.json

``compare`` exits 1 when any fingerprint differs (and lists the first ones).
"""

from __future__ import annotations

import hashlib
import json
import sys

import numpy as np

from qvalid import analyze
from qvalid.datasets import load_lipset, nav_grid
from qvalid.errors import QInputError
from qvalid.simulate import planted_study

VARIANTS = (("qmethod", {"extraction": "pca"}), ("qmethod", {"extraction": "centroid"}),
            ("qmethod", {"extraction": "centroid", "rotation": "none"}),
            ("qmethod", {"threshold": 0.42, "array_ties": "strict", "qdc_labels": "strict", "majority": False}),
            ("qmethod", {"cor_method": "spearman"}), ("kade", {}), ("kade", {"extraction": "centroid"}))


def fingerprint(res) -> str:
    out = res.to_dict()
    out["study"].pop("source", None)  # the path of the checkout, not a result
    parts = [json.dumps(out), repr(res.warnings)]
    c = res.characteristics
    for a in (res.correlation, res.unrotated_loadings, res.loadings, res.rotation_matrix, res.weights, res.zscores,
              res.factor_arrays, c.cor_zsc, c.sd_dif, c.se_fscores, c.reliability, c.eigenvals, c.nload):
        parts.append(np.ascontiguousarray(a).tobytes().hex())
    d = res.distinguishing
    if d is not None:
        parts += [d.diffs.tobytes().hex(), repr(d.stars.tolist()), repr(d.labels.tolist()), repr(d.pairs)]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def fingerprints() -> dict:
    studies = {"lipset": load_lipset()}
    for seed in range(12):
        st, so = [(33, 9), (36, 25), (40, 12), (20, 30), (60, 100)][seed % 5]
        grid = {"grid": nav_grid()} if st == 36 else {}
        studies[f"planted {st}x{so} seed {seed}"] = planted_study(st, so, 3 + seed % 3, seed=seed, **grid)[0]
    out = {}
    for name, s in studies.items():
        for k in (1, 2, 3, 4, 5, 7):
            for flavor, extra in VARIANTS:
                key = f"{name} k={k} {flavor} {sorted(extra.items())}"
                try:
                    out[key] = fingerprint(analyze(s, k, flavor=flavor, **extra))
                except (QInputError, ValueError, FloatingPointError) as err:
                    out[key] = f"error: {err}"
    return out


def main(argv) -> int:
    if len(argv) != 2 or argv[0] not in ("save", "compare"):
        print(__doc__)
        return 2
    now = fingerprints()
    if argv[0] == "save":
        with open(argv[1], "w") as fh:
            json.dump(now, fh, indent=0)
        print(f"{len(now)} fingerprints saved to {argv[1]}")
        return 0
    with open(argv[1]) as fh:
        before = json.load(fh)
    differ = [k for k in before if before[k] != now.get(k)]
    print(f"{len(before)} analyses compared; {len(differ)} differ" + "".join(f"\n  {k}" for k in differ[:20]))
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
