"""qvalid against R qmethod 1.8.4 golden outputs on lipset (reference/golden, made by make_golden.R).

Floats within 1e-10, flags, factor arrays, star labels and distinguishing labels exactly.
"""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from qvalid import QStudy, analyze

GOLDEN = Path(__file__).resolve().parents[1] / "reference" / "golden"
CASES = sorted((GOLDEN / "lipset").glob("*.json"))
TOL = 1e-10


def _arr(x):
    return np.array(pd.DataFrame(x).to_numpy(dtype=float) if isinstance(x[0], list) else
                    [np.nan if v is None else v for v in x], dtype=float)


@pytest.fixture(scope="module")
def lipset():
    return QStudy.from_frame(pd.read_csv(GOLDEN / "inputs" / "lipset.csv", index_col=0))


def test_golden_cases_exist():
    assert len(CASES) == 28


@pytest.fixture(params=CASES, ids=lambda p: p.stem)
def case(request, lipset):
    g = json.loads(request.param.read_text())
    o = g["options"]
    res = analyze(lipset, o["nfactors"], extraction=o["extraction"], rotation=o["rotation"],
                  cor_method=o["cor_method"], spc=o["spc"])
    return g, res


def _close(actual, desired, what):
    desired = _arr(desired)
    assert actual.shape == desired.shape, what
    np.testing.assert_array_equal(np.isnan(actual), np.isnan(desired), err_msg=f"{what}: NaN pattern")
    np.testing.assert_allclose(actual, desired, rtol=0, atol=TOL, equal_nan=True, err_msg=what)


def test_labels(case):
    g, res = case
    assert res.sort_ids == g["sort_ids"]
    assert res.statement_ids == g["statement_ids"]
    assert res.factors == g["factors"]


def test_matrices(case):
    g, res = case
    _close(res.correlation, g["correlation"], "correlation")
    _close(res.unrotated_loadings, g["unrotated_loadings"], "unrotated loadings")
    _close(res.loadings, g["loadings"], "loadings")
    _close(res.zscores, g["zscores"], "z-scores")
    _close(res.characteristics.cor_zsc, g["cor_zsc"], "cor_zsc")
    _close(res.characteristics.sd_dif, g["sd_dif"], "sd_dif")


def test_flags_and_arrays_exact(case):
    g, res = case
    np.testing.assert_array_equal(res.flags, np.array(g["flags"], dtype=bool))
    np.testing.assert_array_equal(res.factor_arrays, _arr(g["factor_arrays"]))


def test_characteristics(case):
    g, res = case
    for key, want in g["characteristics"].items():
        _close(np.asarray(getattr(res.characteristics, key), dtype=float), want, key)


def test_distinguishing(case):
    g, res = case
    q, d = g["qdc"], res.distinguishing
    if g["options"]["nfactors"] == 1:
        assert d is None and g["qdc_message"]
        return
    if q is None:  # R's qdc() failed (a factor without flags that is not the last one): qvalid still computes it
        assert g["error"] and d is not None
        assert any("no flagged" in w for w in res.warnings)
        return
    names = d.pair_names(res.factors)
    assert names == q["pairs"]
    assert list(d.labels) == q["dist_and_cons"]
    for j, nm in enumerate(names):
        assert list(d.stars[:, j]) == q["sig"][nm], nm
        _close(d.diffs[:, j], q["diffs"][nm], nm)
