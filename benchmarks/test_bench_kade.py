"""Speed of the kade flavour (pytest-benchmark; make bench). KADE itself is a single-threaded JavaScript desktop
app with no benchmark to compare against; these guard against regressions of the sequential KADE kernels (running
sums rounded at every step, pairwise varimax sweeps), which are Python loops by nature."""

import pytest

from qvalid import analyze
from qvalid.datasets import load_lipset, nav_grid
from qvalid.simulate import planted_study

LIPSET = load_lipset()
NAV_SIZED, _ = planted_study(36, 25, 4, grid=nav_grid(), seed=1)


@pytest.mark.parametrize("extraction", ["pca", "centroid", "horst55"])
def test_kade_lipset_k3(benchmark, extraction):
    res = benchmark(analyze, LIPSET, 3, flavor="kade", extraction=extraction)
    assert res.loadings.shape == (9, 3)


@pytest.mark.parametrize("extraction", ["pca", "centroid"])
def test_kade_nav_sized_36x25_k4(benchmark, extraction):
    res = benchmark(analyze, NAV_SIZED, 4, flavor="kade", extraction=extraction)
    assert res.loadings.shape == (25, 4)
