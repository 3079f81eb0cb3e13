"""The NAV Innlandet 2023 study (25 supervisors x 36 statements, 4 centroid factors): published numbers.

reference/data/nav_aap_2023: Tabell 5 rotated loadings, Tabell 4 eigenvalues (see its PROVENANCE.md).
"""

import json
from pathlib import Path

import numpy as np

from qvalid.core.flag import flag
from qvalid.io.published import read_loadings

NAV = Path(__file__).resolve().parents[1] / "reference" / "data" / "nav_aap_2023"


def test_published_loadings_with_threshold_042_give_the_published_defining_sorts():
    ids, factors, a = read_loadings(NAV / "loadings_published.csv")
    assert len(ids) == 25 and factors == ["f1", "f2", "f3", "f4"]
    fl = flag(a, 36, threshold=0.42, majority=True)
    assert fl.sum(axis=0).tolist() == [7, 3, 3, 6] and fl.any(axis=1).sum() == 19
    published = json.loads((NAV / "factor_characteristics.json").read_text())
    for j, fac in enumerate(published["factors"]):
        assert sorted(np.array(ids)[fl[:, j]]) == sorted(fac["defining_sorts_tabell5"])


def test_without_the_majority_rule_the_counts_do_not_match():
    # evidence that the report used the majority rule: without it, confounded sorts are counted twice
    ids, _, a = read_loadings(NAV / "loadings_published.csv")
    assert flag(a, 36, threshold=0.42, majority=False).sum(axis=0).tolist() != [7, 3, 3, 6]


def test_published_eigenvalues_give_the_published_explained_variance():
    published = json.loads((NAV / "factor_characteristics.json").read_text())
    ev = np.array([f["eigenvalue"] for f in published["factors"]])
    pct = 100 * ev / 25  # 37.24, 6.08, 7.18, 4.36
    assert np.round(pct).astype(int).tolist() == [f["explained_variance_pct"] for f in published["factors"]]
    assert np.round(np.cumsum(pct)).astype(int).tolist() == [37, 43, 50, 55]


def test_tabell5_sums_of_squares_equal_the_eigenvalue_total():
    # an orthogonal rotation keeps the total: 13.71339 (Tabell 5) vs 13.71344 (Tabell 4), 5-dp rounding
    _, _, a = read_loadings(NAV / "loadings_published.csv")
    published = json.loads((NAV / "factor_characteristics.json").read_text())
    assert abs((a ** 2).sum() - sum(f["eigenvalue"] for f in published["factors"])) < 1e-4
