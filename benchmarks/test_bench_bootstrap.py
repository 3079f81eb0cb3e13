"""Speed of qvalid.bootstrap (pytest-benchmark). Run: make bench.

Target (issue 9): 1000 resamples of a 36 x 25 four-factor centroid + varimax study well under 0.1 s on one core,
>= 500x R qmboots per resample (qmboots: ~30-90 ms per step on this machine; the ratio is measured in one run by
scripts/bootstrap_speed.py). Measured so far: docs/bootstrap.md.
"""

import pytest

from qvalid import bootstrap
from qvalid.datasets import nav_grid
from qvalid.simulate import planted_study

NAV_SIZED, _ = planted_study(36, 25, 4, grid=nav_grid(), seed=1)


@pytest.mark.parametrize("options", [{}, {"extraction": "centroid", "centroid_ties": "strict"}],
                         ids=["pca", "centroid_strict"])
def test_bootstrap_1000_nav_sized_k4(benchmark, options):
    b = benchmark.pedantic(bootstrap, args=(NAV_SIZED, 4, 1000), kwargs={"seed": 1, **options}, rounds=3,
                           iterations=1)
    assert b.counts["used"] + b.counts["failed"] == 1000
