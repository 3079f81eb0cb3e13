"""qvalid and R qmethod side by side, in one run, on the same data (pytest-benchmark). Run: make bench.

Each case first runs both programs through the live cross-check and asserts that every output agrees within the
cross-check tolerance (1e-10; flags, arrays, stars exact): a time only counts for a correct result. Then
pytest-benchmark times qvalid's ``analyze()``, and R's ``qmethod()`` is timed inside R (``proc.time`` around each
warm call, so rpy2's conversions are not charged to R); the bridge's round trip is recorded apart.
``benchmarks/make_benchmarks.py`` turns the JSON of this run into BENCHMARKS.md.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from _cases import FAST, STUDIES, describe, study
from qvalid import analyze

CASES = [(s, ex, k) for s in STUDIES for ex in ("centroid", "pca") for k in (3, 4)]


def _r_times(s, k, extraction, first: float) -> np.ndarray:
    """R's own time per call: the cross-check's call, plus warm repetitions while they take < ~3 s in total."""
    from _rside import qmethod_seconds

    if FAST or first > 1.0:
        return np.array([first])
    reps = int(min(30, max(5, math.ceil(3.0 / max(first, 1e-3)))))
    return qmethod_seconds(s, k, extraction, reps)


@pytest.mark.parametrize("name,extraction,k", CASES, ids=[f"{s}-{ex}-k{k}" for s, ex, k in CASES])
def test_qvalid_vs_qmethod(benchmark, name, extraction, k):
    from qvalid.checks.crosscheck import crosscheck

    s = study(name)
    diff, rrun = crosscheck(s, k, extraction=extraction)
    assert diff.ok, diff.to_text()
    r = _r_times(s, k, extraction, rrun.r_seconds)
    benchmark.group = f"{name} k={k}"
    benchmark.extra_info.update(
        study=name, description=describe(name), extraction=extraction, rotation="varimax", nfactors=k,
        n_statements=s.n_statements, n_sorts=s.n_sorts, r_seconds=r.tolist(), r_median=float(np.median(r)),
        r_bridge_seconds=rrun.seconds, agreement={k_: v for k_, v in diff.max_abs().items() if v is not None},
        versions=dict(rrun.versions))
    pedantic = s.n_sorts >= 500
    if pedantic:
        res = benchmark.pedantic(analyze, args=(s, k), kwargs={"extraction": extraction}, rounds=3, iterations=1)
    else:
        res = benchmark(analyze, s, k, extraction=extraction)
    assert res.loadings.shape == (s.n_sorts, k)
