"""Classification of differences (issue 23): ``printed`` (a value as printed), ``compare(..., print_digits=...)``
(reported vs numerical only, cell by cell), ``compare_arrays`` and the renderers' class texts. Hand-made cases."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from qvalid import analyze
from qvalid.checks.compare import compare, compare_arrays, resolve_digits
from qvalid.checks.diff import CLASSES, PRINT_DIGITS, printed
from qvalid.datasets import load_lipset


@pytest.fixture(scope="module")
def res():
    return analyze(load_lipset(), 3)


@pytest.mark.parametrize("x, d, want", [
    (0.755, 2, 0.76),     # 0.75500000000000000444: above the half, as f"{0.755:.2f}" = "0.76"
    (0.125, 2, 0.12),     # an exact binary half: round half to even, as printf
    (0.135, 2, 0.14),     # 0.13500000000000000888
    (-0.001, 2, 0.0),     # -0.00 prints as 0.00 here: no negative zero
    (2.5, 0, 2.0),
    (1234.5, -1, 1230.0),  # negative decimals: tens (R's scientific notation 1.2e+03)
    (0.30000000000000004, 1, 0.3),
])
def test_printed_is_the_formatted_value(x, d, want):
    got = printed(x, d)
    assert got == want and not np.signbit(got)
    if d >= 0:
        assert float(f"{x:.{d}f}") + 0.0 == got


def test_printed_vectorised_with_digits_per_cell_and_nan():
    x = np.array([[0.125, 0.135], [np.nan, 12.3456]])
    out = printed(x, np.array([[2, 2], [1, 3]]))
    assert out[0].tolist() == [0.12, 0.14] and np.isnan(out[1, 0]) and out[1, 1] == 12.346
    assert printed(x, 1).shape == (2, 2)


def test_same_within_and_classes(res):
    d = compare(res, res, print_digits=True)
    assert d.classified and d.verdict == "same" and all(o.klass == "same" for o in d.outputs)
    z = res.zscores.copy()
    z[0, 0] += 1e-13
    d = compare(res, replace(res, zscores=z), print_digits=True)
    assert d.ok and d["zscores"].klass == "within tolerance" and d.verdict == "within tolerance"
    assert d["zscores"].n_reported == 0 and d["zscores"].worst_reported is None
    assert CLASSES == ("same", "within tolerance", "numerical only", "reported")


def test_unclassified_comparison_keeps_its_old_text(res):
    fl = res.flags.copy()
    fl[0, 0] = not fl[0, 0]
    d = compare(res, replace(res, flags=fl))
    assert not d.classified and d["flags"].n_reported is None and d.verdict == "reported"
    assert "[reported" not in d.to_text() and "[reported" not in d.message()
    assert "verdict" not in d.to_dict()
    z = res.zscores.copy()
    z[0, 0] += 1e-6
    d = compare(res, replace(res, zscores=z))
    assert d["zscores"].klass is None and d.verdict == "differs"


def test_numerical_only_vs_reported_cell_by_cell(res):
    z = res.zscores.copy()
    v = z[3, 1]
    z[3, 1] = v + 1e-9                               # numerical: same at 3 dp
    z[5, 2] += 0.0006 if printed(z[5, 2] + 0.0006, 3) != printed(z[5, 2], 3) else -0.0006  # prints differently
    d = compare(res, replace(res, zscores=z), print_digits=True)
    o = d["zscores"]
    assert o.klass == "reported" and o.n_bad == 2 and o.n_reported == 1 and o.digits == 3
    assert o.worst_reported.where == "statement sta_6, f3"
    assert d.verdict == "reported" and d.reported == (o,)
    z2 = res.zscores.copy()
    z2[3, 1] += 1e-9
    d = compare(res, replace(res, zscores=z2), print_digits=True)
    assert d["zscores"].klass == "numerical only" and d.verdict == "numerical only" and not d.reported
    assert "numerical only: same as printed at 3 dp" in d.to_text()
    # finer print digits make the same drift reported
    d = compare(res, replace(res, zscores=z2), print_digits={"zscores": 10})
    assert d["zscores"].klass == "reported" and d["zscores"].digits == 10


def test_characteristics_and_pairs_are_classified(res):
    c = res.characteristics
    rel = c.reliability.copy()
    rel[2] += 1e-7
    d = compare(res, replace(res, characteristics=replace(c, reliability=rel)), print_digits=True)
    assert d["characteristics.reliability"].klass == "numerical only"
    rel[2] += 0.01
    d = compare(res, replace(res, characteristics=replace(c, reliability=rel)), print_digits=True)
    o = d["characteristics.reliability"]
    assert o.klass == "reported" and o.worst_reported.where == "f3"
    dist = res.distinguishing
    diffs = dist.diffs.copy()
    diffs[0, 1] += 1e-8
    d = compare(res, replace(res, distinguishing=replace(dist, diffs=diffs)), print_digits=True)
    assert d["qdc.diffs"].klass == "numerical only" and d["qdc.diffs"].worst.where == "statement sta_1, f1_f3"


def test_exact_outputs_and_nan_are_always_reported(res):
    arr = res.factor_arrays.copy()
    arr[0, 0] -= 1
    d = compare(res, replace(res, factor_arrays=arr), print_digits=True)
    assert d["factor_arrays"].klass == "reported" and d["factor_arrays"].n_reported == 1
    z = res.zscores.copy()
    z[0, 0] = np.nan
    d = compare(res, replace(res, zscores=z), print_digits=True)
    assert d["zscores"].status == "nan" and d["zscores"].klass == "reported" and d["zscores"].n_reported == 1


def test_resolve_digits():
    assert resolve_digits(None) == {}
    assert resolve_digits(True) == PRINT_DIGITS
    d = resolve_digits({"characteristics": 4, "qdc": 1})
    assert d["characteristics.eigenvals"] == 4 and d["characteristics.se_fscores"] == 4 and d["qdc.diffs"] == 1
    assert d["loadings"] == 2
    with pytest.raises(ValueError, match="unknown output 'flags'"):
        resolve_digits({"flags": 2})
    with pytest.raises(ValueError, match="whole numbers in -15..30"):
        resolve_digits({"loadings": 2.5})
    with pytest.raises(ValueError, match="whole numbers in -15..30"):
        resolve_digits({"loadings": 31})


def test_compare_arrays_per_cell_tolerance_and_labels():
    a = np.array([[0.10, 0.20], [0.30, 0.40]])
    b = a + np.array([[0.001, 0.0], [0.0, 0.05]])
    tol = np.array([[0.01, 0.01], [0.01, 0.1]])
    o = compare_arrays("t", a, b, labels=("sort", "factor"), rows={"sort": ["A", "B"]}, columns=["f1", "f2"],
                       tolerance=tol, digits=2)
    assert o.passed and o.tolerance == 0.1 and o.klass == "within tolerance"
    o = compare_arrays("t", a, b, labels=("sort", "factor"), rows={"sort": ["A", "B"]}, columns=["f1", "f2"],
                       tolerance=0.01, digits=2, note="hand")
    assert not o.passed and o.worst.where == "sort B, f2" and o.klass == "reported" and o.note == "hand"
    assert [c.where for c in o.mismatches] == ["sort B, f2"]  # the bad cells, not the largest differences
    o = compare_arrays("t", a, a + 0.001, labels=(None, "factor"), columns=["f1", "f2"], tolerance=0.01)
    assert o.passed and o.klass == "within tolerance" and o.n_reported is None
    x = np.array([["a", "b"]], dtype=object)
    o = compare_arrays("s", x, np.array([["a", "c"]], dtype=object), labels=(None, "factor"), columns=["k1", "k2"],
                       exact=True, digits=0)
    assert o.status == "differs" and o.klass == "reported" and o.worst.where == "k2" and o.n_reported == 1


def test_mismatches_listed_are_cells_beyond_tolerance_with_rtol(res):
    """With a relative tolerance the largest difference may pass; the listed cells are those that fail."""
    loa = res.loadings.copy()
    loa[4, 0] += 0.01   # JP5 f1 = -0.83: within rtol 0.05
    loa[0, 2] += 0.009  # US1 f3 = -0.17: beyond
    d = compare(res, replace(res, loadings=loa), tolerances=0.0, rtol=0.05)
    o = d["loadings"]
    assert o.n_bad == 1 and o.worst.where == "sort JP5, f1" and [c.where for c in o.mismatches] == ["sort US1, f3"]


def test_renderers_show_the_class(res):
    fl = res.flags.copy()
    fl[2, 0] = False
    d = compare(res, replace(res, flags=fl), print_digits=True, names=("snapshot", "now"))
    assert "differs [reported]" in d.to_text()
    assert "flags (differs) [reported]" in d.message()
    js = d.to_dict()
    assert js["verdict"] == "reported"
    o = next(x for x in js["outputs"] if x["name"] == "flags")
    assert o["class"] == "reported" and o["worst_reported"] is None and o["n_reported"] == 1
    loa = res.loadings.copy()
    loa[0, 0] += 0.04  # US1 f1 0.191 -> 0.231: 0.2 at 1 dp either way (the largest difference)
    loa[1, 1] += 0.03  # US2 f2 0.826 -> 0.856: 0.8 -> 0.9 (the largest printed change)
    d = compare(res, replace(res, loadings=loa), print_digits={"loadings": 1}, names=("snapshot", "now"))
    o = d["loadings"]
    assert o.worst.where == "sort US1, f1" and o.worst_reported.where == "sort US2, f2" and o.n_reported == 1
    assert " Largest printed change: sort US2, f2: " in d.message() and "(as printed: 0.8 vs 0.9)" in d.message()
    assert [c.where for c in o.mismatches] == ["sort US1, f1", "sort US2, f2"]  # both cells are in the details
    assert "largest difference that prints differently" not in d.to_text()


def test_printed_where_multiplying_would_round_wrong():
    """3937.495 is 3937.49499999... in binary: its product with 100 rounds to 393749.5, so rint alone would print
    3937.50; the formatting (and printed) give 3937.49. The same at 1 and 3 decimals."""
    for x, d, want in ((3937.495, 2, 3937.49), (51113.65, 1, 51113.7), (379.0315, 3, 379.031)):
        assert np.rint(x * 10.0 ** d) / 10.0 ** d != want
        assert printed(x, d) == want == float(f"{x:.{d}f}")


def test_digits_range_and_exact_arrays_unclassified_without_digits():
    assert resolve_digits({"loadings": -15})["loadings"] == -15
    assert resolve_digits({"loadings": 30})["loadings"] == 30
    for bad in (-16, 31):
        with pytest.raises(ValueError, match="whole numbers in -15..30"):
            resolve_digits({"loadings": bad})
    x = np.array([["a", "b"]], dtype=object)
    o = compare_arrays("s", x, np.array([["a", "c"]], dtype=object), labels=(None, "factor"), columns=["k1", "k2"],
                       exact=True)
    assert o.status == "differs" and o.n_reported is None and o.klass == "reported"
    o = compare_arrays("t", np.zeros((1, 2)), np.ones((1, 2)), labels=(None, "factor"), columns=["a", "b"],
                       tolerance=np.array([[0.5, 2.0]]))
    assert o.tolerance == 2.0 and o.n_bad == 1 and o.worst.where == "a"
