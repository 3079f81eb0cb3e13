"""The profiling helpers behind BENCHMARKS.md's breakdown and scaling sections, run small so they cannot rot."""

from __future__ import annotations

import pytest

from _profile import exponent, scaling, step_breakdown
from qvalid.datasets import load_lipset


@pytest.mark.parametrize("extraction", ["pca", "centroid"])
def test_step_breakdown_charges_every_step(extraction):
    b = step_breakdown(load_lipset(), 3, extraction, calls=20)
    for step in ("correlation", "extraction", "rotation", "flags", "z-scores", "factor arrays", "characteristics",
                 "qdc", "result building"):
        assert b[step] > 0, step
    assert sum(v for k, v in b.items() if k != "total") == pytest.approx(b["total"])
    assert 0 <= b["pipeline glue"] < 0.5 * b["total"]  # the steps, not the wiring, take the time


def test_scaling_rows_and_exponent():
    rows = scaling([20, 40, 80], axis="sorts", fixed=30, nfactors=2, min_time=0.01)
    assert [r["n_sorts"] for r in rows] == [20, 40, 80] and all(r["n_statements"] == 30 for r in rows)
    assert all(r["seconds"] > 0 and r["peak_bytes"] > 0 for r in rows)
    assert rows[-1]["peak_bytes"] > rows[0]["peak_bytes"]  # the correlation matrix alone grows as n^2
    fake = [{"n": n, "seconds": 1e-6 * n ** 2} for n in (10, 100, 1000)]
    assert exponent(fake) == pytest.approx(2.0)
