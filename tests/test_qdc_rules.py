"""Star tiers of older qmethod releases (issue 21, item 8) and the ONE options table's values for them."""

from __future__ import annotations

import numpy as np
import pytest

from qvalid import analyze
from qvalid.core.characteristics import STAR_RULES, distinguishing, star_levels
from qvalid.datasets import load_lipset
from qvalid.options import resolve_options

D = np.array([0.9, 1.0, 1.3, 1.7, 2.40, 2.5])
SED = np.array([[0.7, 0.5], [0.5, 0.7]])


@pytest.mark.parametrize("rule, stars", [
    # |d| > m * 0.5 for m = 1.96, 2.576, 3.291, 4.8916 (qmethod 1.5.5-1.8.4): 0.98, 1.288, 1.6455, 2.4458
    ("stars", ["", "*", "**", "***", "***", "6*"]),
    # m = 1.96, 2.576, 3.291, 4.753 (qmethod 1.5.2-1.5.4): the top tier from 2.3765
    ("four-star", ["", "*", "**", "***", "****", "****"]),
    # m = 1.96, 2.58 (qmethod 1.0-1.5): 0.98, 1.29
    ("two-star", ["", "*", "**", "**", "**", "**"]),
])
def test_star_tiers_of_each_qmethod_release(rule, stars):
    z = np.column_stack([D, np.zeros_like(D)])
    d = distinguishing(z, SED, rule=rule)
    assert d.stars[:, 0].tolist() == stars
    assert d.labels.tolist() == ["Consensus"] + ["Distinguishing"] * 5


def test_star_rules_table_and_options():
    assert [m for m, _ in STAR_RULES["four-star"]] == [1.96, 2.576, 3.291, 4.753]
    assert star_levels("two-star") == ((1.96, "*"), (2.58, "**")) and star_levels("rounded") == ()
    assert resolve_options(qdc_rule="qmethod-1.5.4").qdc_rule == "four-star"
    assert resolve_options(qdc_rule="QMETHOD-1.5").qdc_rule == "two-star"
    res = analyze(load_lipset(), 3, qdc_rule="four-star")
    assert set(res.distinguishing.stars.ravel()) <= {"", "*", "**", "***", "****"}
    assert "**** |d| > 4.753 SED" in res.summary()
    d, c = res.distinguishing, res.characteristics
    marks = np.array(["", "*", "**", "***", "****"], dtype=object)
    for j, (a, b) in enumerate(d.pairs):  # the tiers recomputed by hand from the differences and the SED
        level = sum(np.abs(d.diffs[:, j]) > c.sd_dif[a, b] * m for m in (1.96, 2.576, 3.291, 4.753))
        assert d.stars[:, j].tolist() == marks[level].tolist()
    assert (d.stars == "****").any()  # lipset has differences beyond 4.753 SED
