"""Speed of the number-of-factors tools (pytest-benchmark). Run: make bench.

The grid-aware parallel analysis is meant for thousands of runs: 2000 random 36 x 25 studies on the NAV grid
(argsort of random keys, batched correlation, eigvalsh on the stack), with and without centroid factors of every
random matrix (extract.centroid_batch), and the whole number_of_factors on lipset with its defaults.
"""

import os

from qvalid.datasets import load_lipset, nav_grid
from qvalid.factors import grid_template, null_eigenvalues, number_of_factors

RUNS = 250 if os.environ.get("QVALID_BENCH_FAST") == "1" else 2000
NAV = grid_template(nav_grid(), 25)


def test_grid_null_2000_nav_studies(benchmark):
    out = benchmark(null_eigenvalues, NAV, RUNS, seed=0)
    assert out.eigenvalues.shape == (RUNS, 25)


def test_grid_null_2000_nav_studies_with_5_centroid_factors(benchmark):
    out = benchmark(null_eigenvalues, NAV, RUNS, seed=0, centroid_factors=5)
    assert out.centroid.shape == (RUNS, 5)


def test_number_of_factors_lipset_defaults(benchmark):
    fr = benchmark.pedantic(number_of_factors, args=(load_lipset(),), kwargs={"n_runs": RUNS}, rounds=3,
                            iterations=1)
    assert fr.suggestions["parallel_grid"] == 2
