"""Speed of the whole qvalid pipeline (pytest-benchmark). Run: make bench.

Targets (issue "core numerics"): at least 100x faster than R qmethod on the same data:
R takes 31 ms on lipset, 90 ms on a 36 x 25 four-factor study and 29 s on 60 x 2000 (centroid + varimax),
so qvalid must stay under 0.31 ms / 0.9 ms / 0.29 s. The R side is timed in the same run by a later benchmark
suite; these benchmarks time qvalid alone.
"""

import numpy as np
import pytest

from qvalid import analyze
from qvalid.core.correlation import correlate
from qvalid.datasets import load_lipset, nav_grid
from qvalid.core.rotate import varimax
from qvalid.simulate import planted_study

LIPSET = load_lipset()
NAV_SIZED, _ = planted_study(36, 25, 4, grid=nav_grid(), seed=1)
LARGE, _ = planted_study(60, 2000, 4, seed=2)


@pytest.mark.parametrize("extraction", ["pca", "centroid"])
def test_lipset_k3(benchmark, extraction):
    res = benchmark(analyze, LIPSET, 3, extraction=extraction)
    assert res.loadings.shape == (9, 3)


@pytest.mark.parametrize("extraction", ["pca", "centroid"])
def test_nav_sized_36x25_k4(benchmark, extraction):
    res = benchmark(analyze, NAV_SIZED, 4, extraction=extraction)
    assert res.flags.any(axis=0).all()


def test_large_60x2000_centroid_varimax_k4(benchmark):
    res = benchmark.pedantic(analyze, args=(LARGE, 4), kwargs={"extraction": "centroid"}, rounds=3, iterations=1)
    assert res.loadings.shape == (2000, 4)


def test_batched_bootstrap_kernels_1000_lipset_resamples(benchmark):
    """Correlation + varimax of 1000 resamples in one call (the bootstrap's hot path)."""
    rng = np.random.default_rng(0)
    idx = rng.integers(0, 9, size=(1000, 9))
    data = LIPSET.scores[:, idx].transpose(1, 0, 2)  # (1000, 33, 9)
    load = np.random.default_rng(1).uniform(-0.8, 0.8, size=(1000, 9, 3))

    def run():
        return correlate(data), varimax(load)

    r, rot = benchmark(run)
    assert r.shape == (1000, 9, 9) and rot.loadings.shape == (1000, 9, 3)
