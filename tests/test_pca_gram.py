"""PCA on studies with more Q-sorts than statements goes through the small Gram matrix (qvalid.core.extract.principal).

The shortcut must give the same components as a full eigen-decomposition of the correlation matrix (hand algebra:
G u = lambda u with G = Z Z' implies R (Z'u) = lambda (Z'u) for R = Z'Z) and the same results as R's psych.
"""

import numpy as np
import pytest

from _r import r_session, require_r  # noqa: F401 (fixture)
from qvalid import analyze
from qvalid.core.correlation import correlate, unit_columns
from qvalid.core.extract import principal
from qvalid.simulate import planted_study


@pytest.mark.parametrize("method", ["pearson", "spearman"])
@pytest.mark.parametrize("shape", [(20, 45), (30, 120)])
def test_gram_route_equals_full_decomposition(method, shape):
    s, _ = planted_study(*shape, 3, seed=7)
    r = correlate(s.scores, method=method)
    z = unit_columns(s.scores, method=method)
    assert np.abs(z.T @ z - r).max() < 1e-14
    full, gram = principal(r, 4), principal(r, 4, unit_columns=z)
    np.testing.assert_allclose(gram.loadings, full.loadings, rtol=0, atol=1e-12)
    np.testing.assert_allclose(gram.eigenvalues, full.eigenvalues, rtol=1e-13)


def test_kendall_and_rank_limits_use_the_full_decomposition():
    s, _ = planted_study(12, 30, 2, seed=1)
    assert unit_columns(s.scores, method="kendall") is None
    r = correlate(s.scores)
    z = unit_columns(s.scores)
    # 11 components are inside the rank (12 statements - 1); asking for them falls back to the full route
    np.testing.assert_array_equal(principal(r, 11, unit_columns=z).loadings, principal(r, 11).loadings)


@pytest.mark.r
@pytest.mark.parametrize("cor_method", ["pearson", "spearman"])
def test_wide_study_matches_r_qmethod(r_session, cor_method):
    require_r()
    from qvalid.checks.crosscheck import crosscheck

    s, _ = planted_study(24, 60, 3, seed=11)
    diff, _ = crosscheck(s, 3, cor_method=cor_method)
    assert diff.ok, diff.to_text()
    assert analyze(s, 3, cor_method=cor_method).loadings.shape == (60, 3)
