"""compare(), Diff renderers and qvalid.testing, without R."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from qvalid import analyze
from qvalid.core.characteristics import characteristics, distinguishing
from qvalid.checks.diff import DEFAULT_TOLERANCE, FLOAT_OUTPUTS, OUTPUT_NAMES
from qvalid.core.congruence import align_factors, tucker_congruence
from qvalid.checks.compare import compare
from qvalid.datasets import load_lipset
from qvalid.testing import assert_solutions_close

NAMES = ("qvalid", "qmethod 1.8.4")


@pytest.fixture(scope="module")
def lipset():
    return load_lipset()


@pytest.fixture(scope="module")
def res3(lipset):
    return analyze(lipset, 3)


def _permuted(res, perm, signs):
    """The same solution with factors reordered (new factor j = signs[j] * old factor perm[j])."""
    s = np.asarray(signs, dtype=float)
    p = list(perm)
    loa = res.loadings[:, p] * s
    z = res.zscores[:, p] * s
    c = res.characteristics
    chars = characteristics(loa, res.flags[:, p], z, av_rel_coef=0.8)
    assert np.allclose(chars.cor_zsc, c.cor_zsc[np.ix_(p, p)] * np.outer(s, s))
    return replace(res, unrotated_loadings=res.unrotated_loadings[:, p] * s, loadings=loa, flags=res.flags[:, p],
                   zscores=z, factor_arrays=res.factor_arrays[:, p] * s, characteristics=chars,
                   distinguishing=distinguishing(z, chars.sd_dif))


def test_identical_solutions_agree(res3):
    d = compare(res3, res3, names=NAMES)
    assert d.ok and bool(d)
    assert [o.name for o in d.outputs] == list(OUTPUT_NAMES)
    assert all(o.max_abs == 0 for o in d.outputs if o.kind == "float")
    assert d["consensus"].note == "2 consensus statement(s)"
    assert "AGREE: all 20 compared outputs within tolerance" in d.to_text()


def test_worst_cell_is_named_by_ids(res3):
    loa = res3.loadings.copy()
    loa[4, 1] += 3e-6  # JP5, f2
    loa[0, 0] += 1e-7
    d = compare(replace(res3, loadings=loa), res3, names=NAMES)
    o = d["loadings"]
    assert not d.ok and o.status == "differs" and o.n_bad == 2
    assert o.worst.where == "sort JP5, f2" and o.worst.index == (4, 1)
    assert o.max_abs == pytest.approx(3e-6, rel=1e-6)
    assert o.max_rel == pytest.approx(3e-6 / abs(res3.loadings[4, 1]), rel=1e-6)
    assert [c.where for c in o.mismatches] == ["sort JP5, f2", "sort US1, f1"]
    assert [f.name for f in d.failures] == ["loadings"]
    msg = d.message()
    assert "Mismatched outputs: 1 / 20: loadings" in msg
    assert "Max absolute difference: 3e-06 at sort JP5, f2" in msg
    assert "Mismatched elements: 2 / 27 (7.41%)" in msg


def test_tolerances_per_output_and_rtol(res3):
    z = res3.zscores + 1e-8
    other = replace(res3, zscores=z)
    assert not compare(other, res3).ok
    assert compare(other, res3, tolerances={"zscores": 2e-8}).ok
    assert compare(other, res3, tolerances=1e-7).ok
    assert not compare(other, res3, tolerances={"*": 1e-7, "zscores": 1e-9}).ok
    assert compare(other, res3, rtol=1e-6, tolerances={"zscores": 0}).ok is False  # |z| near 0: rtol not enough
    d = compare(other, res3, tolerances={"characteristics": 1})
    assert d["characteristics.reliability"].tolerance == 1 and d["zscores"].tolerance == DEFAULT_TOLERANCE
    assert d["characteristics.eigenvals"].tolerance == pytest.approx(2 * np.abs(res3.loadings).sum(axis=0).max())
    with pytest.raises(ValueError, match="unknown output 'loa'"):
        compare(res3, res3, tolerances={"loa": 1})
    with pytest.raises(ValueError, match="compared exactly"):
        compare(res3, res3, tolerances={"flags": 1})
    assert "qdc.diffs" in FLOAT_OUTPUTS


def test_exact_outputs(res3):
    fl = res3.flags.copy()
    fl[8, 2] = ~fl[8, 2]
    arr = res3.factor_arrays.copy()
    arr[0, 0] += 1
    d = compare(replace(res3, flags=fl, factor_arrays=arr), res3, names=NAMES)
    assert d["flags"].status == "differs" and d["flags"].mismatches[0].where == "sort FR9, f3"
    assert d["factor_arrays"].mismatches[0].where == "statement sta_1, f1"
    assert d["factor_arrays"].mismatches[0].a == res3.factor_arrays[0, 0] + 1
    assert "Mismatch at statement sta_1, f1" in d.message()


def test_nan_pattern(res3):
    z = res3.zscores.copy()
    z[:, 2] = np.nan
    d = compare(replace(res3, zscores=z), res3)
    assert d["zscores"].status == "nan" and "NaN pattern differs in 33 cell(s)" in d["zscores"].note
    assert d["zscores"].max_abs == 0  # the other cells are equal


def test_qdc_labels_and_consensus(res3):
    dist = res3.distinguishing
    labels = dist.labels.copy()
    i = int(np.flatnonzero(labels == "Consensus")[0])
    labels[i] = "Distinguishes f1 only"
    d = compare(replace(res3, distinguishing=replace(dist, labels=labels)), res3)
    assert d["qdc.labels"].status == "differs" and d["consensus"].status == "differs"
    assert d["consensus"].mismatches[0].where == f"statement {res3.statement_ids[i]}"
    assert d["qdc.stars"].status == "ok"


def test_qdc_absent_on_one_side_and_unavailable(res3):
    d = compare(replace(res3, distinguishing=None), res3)
    assert d["qdc.labels"].status == "absent" and not d.ok
    d = compare(replace(res3, distinguishing=None), res3, unavailable={"qdc": "R failed: qdc: boom"})
    assert d.ok and d["qdc.diffs"].status == "unavailable"
    assert "not compared: qdc.pairs, qdc.diffs, qdc.stars, qdc.labels, consensus: R failed: qdc: boom" in d.to_text()
    assert "(5 not compared" in d.summary_line()


def test_ids_mismatch_stops_early(lipset, res3):
    other = analyze(lipset.replace(sort_ids=tuple(s.lower() for s in lipset.sort_ids)), 3)
    d = compare(other, res3)
    assert not d.ok and d.outputs[0].name == "ids" and "sort ids" in d.outputs[0].note
    assert not compare(analyze(lipset, 2), res3).ok


def test_alignment_finds_permutation_and_flips(res3):
    other = _permuted(res3, (2, 0, 1), (1, -1, 1))
    assert not compare(res3, other).ok
    d = compare(res3, other, align=True, names=NAMES)
    assert d.ok, d.message()
    a = d.alignment
    # res3's f1 is other's f2 (other f2 = -res3 f1, so flipped), f2 is other's f3, f3 is other's f1
    assert a.permutation == (1, 2, 0) and a.signs == (-1, 1, 1)
    assert not a.identity
    text = a.describe(NAMES)
    assert "qvalid f1=-f2 f2=f3 f3=f1 of qmethod 1.8.4" in text and "1 sign flip(s)" in text
    assert d.notes and "negated" in d.notes[0]


def test_alignment_identity_says_so(res3):
    d = compare(res3, res3, align=True)
    assert d.alignment.identity and "no alignment needed" in d.to_text()
    assert "not requested" in compare(res3, res3).to_text()


def test_alignment_without_flips_compares_qdc(res3):
    d = compare(res3, _permuted(res3, (1, 2, 0), (1, 1, 1)), align=True)
    assert d.ok and d["qdc.labels"].status == "ok" and d["qdc.diffs"].n_cells == 99


def test_tucker_congruence_and_hungarian():
    x = np.array([[1.0, 0], [0, 1], [1, 1]])
    np.testing.assert_allclose(tucker_congruence(x, x), [[1, 0.5], [0.5, 1]])
    perm, signs, cong = align_factors(x, -x[:, ::-1])
    assert perm == (1, 0) and signs == (-1, -1) and cong == pytest.approx((-1, -1))


def test_renderers(res3):
    loa = res3.loadings.copy()
    loa[0, 0] = 0.5
    d = compare(replace(res3, loadings=loa), res3, names=NAMES)
    text = d.to_text()
    head = [ln for ln in text.splitlines() if ln.startswith("output")][0]
    assert head.split() == ["output", "cells", "max", "abs", "max", "rel", "tolerance", "worst", "cell", "status"]
    assert "DIFFER: 1 of 20 compared outputs beyond tolerance: loadings" in text
    md = d.to_markdown()
    assert "| output | cells | max abs | max rel | tolerance | worst cell | status |" in md
    assert "| loadings | 27 |" in md
    js = json.loads(d.to_json())
    assert js["ok"] is False and js["names"] == list(NAMES)
    lo = next(o for o in js["outputs"] if o["name"] == "loadings")
    assert lo["worst"]["where"] == "sort US1, f1" and lo["passed"] is False
    assert js["alignment"]["requested"] is False


def test_assert_solutions_close(res3):
    assert_solutions_close(res3, res3)
    z = res3.zscores.copy()
    z[4, 1] += 0.001
    with pytest.raises(AssertionError) as info:
        assert_solutions_close(replace(res3, zscores=z), res3, names=("mine", "qvalid"), err_msg="lipset k=3")
    msg = str(info.value)
    assert msg.startswith("lipset k=3\nQ solutions not equal to tolerance rtol=0, atol=1e-10 (mine vs qvalid)")
    assert "Max absolute difference: 0.001 at statement sta_5, f2" in msg
    assert_solutions_close(replace(res3, zscores=z), res3, atol=0.01)
    assert_solutions_close(replace(res3, zscores=z), res3, tolerances={"zscores": 0.01})


def test_assert_solutions_close_aligns(res3):
    other = _permuted(res3, (1, 0, 2), (1, 1, -1))
    with pytest.raises(AssertionError, match="not requested"):
        assert_solutions_close(res3, other)
    d = assert_solutions_close(res3, other, align=True)
    assert d.alignment.permutation == (1, 0, 2)


def test_characteristics_tolerances_are_scaled_to_their_quantity():
    """eigenvals (a sum of squared loadings) and expl_var (100 eigenvals / n) get the loadings' tolerance scaled by
    max(1, 2 sum|a|) and by 100/n (issue 21): a difference that is a rounding of the loadings passes, a real one not."""
    from dataclasses import replace

    from qvalid import analyze
    from qvalid.checks.compare import compare
    from qvalid.datasets import load_lipset

    a = analyze(load_lipset(), 3)
    ch = a.characteristics
    scale = np.maximum(1, 2 * np.abs(a.loadings).sum(axis=0))  # by hand: 2 sum|a| per factor, about 3-4 here
    assert (scale > 2).all()

    def with_chars(**kw):
        return replace(a, characteristics=replace(ch, **{k: getattr(ch, k) + v for k, v in kw.items()}))

    ok = compare(a, with_chars(eigenvals=1.5e-10, expl_var=1.5e-10 * 100 / 9))
    assert ok.ok and "scaled" in ok["characteristics.expl_var"].note
    assert ok["characteristics.expl_var"].tolerance == pytest.approx(1e-10 * scale.max() * 100 / 9)
    bad = compare(a, with_chars(expl_var=np.array([0.0, 1e-10 * scale[1] * 100 / 9 * 1.01, 0.0])))
    assert [o.name for o in bad.failures] == ["characteristics.expl_var"]
    assert not compare(a, with_chars(eigenvals=np.array([1e-10 * scale[0] * 1.01, 0, 0]))).ok
    assert compare(a, with_chars(reliability=5e-11)).ok and not compare(a, with_chars(reliability=2e-10)).ok


def test_variance_scale_is_at_least_one():
    """The tolerance of an eigenvalue never shrinks below the loadings' (a near-null factor: 2 sum|a| < 1)."""
    from qvalid.checks.compare import _variance_scale

    a = np.array([[0.9, 0.01], [0.8, -0.02], [0.7, 0.03]])
    s = _variance_scale(a, [0, 1], 3)
    np.testing.assert_allclose(s["eigenvals"], [[4.8, 1.0]])
    np.testing.assert_allclose(s["expl_var"], [[4.8 * 100 / 3, 100 / 3]])


def test_congruence_with_a_null_factor_is_zero():
    """Tucker's phi is undefined for a factor of zeros: qvalid says 0 (no match), not NaN or 1."""
    x = np.array([[0.5, 0.0], [0.4, 0.0], [-0.3, 0.0]])
    y = np.array([[0.5, 0.1], [0.4, 0.2], [-0.3, 0.3]])
    phi = tucker_congruence(x, y)
    assert np.isfinite(phi).all()
    np.testing.assert_array_equal(phi[1], [0.0, 0.0])
    assert phi[0, 0] == pytest.approx(1.0)
