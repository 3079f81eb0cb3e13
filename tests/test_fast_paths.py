"""The fast paths of ``analyze()`` (issue 15: cut the fixed cost) give the same bits as the plain code they replace.

Each test states the plain computation (R's algorithm as written, or numpy's general path) and asserts equality to
the last bit, on random inputs that make last-bit differences likely; the golden and live R tests check the
pipeline against R itself.
"""

import warnings

import numpy as np
import pytest
from scipy.linalg.lapack import dgesdd

from qvalid.core.characteristics import _label_table, _qdc_labels, distinguishing
from qvalid.errors import QInputError
from qvalid.options import FLAVORS, resolve_options
from qvalid.core.rotate import varimax
from qvalid.core.rsum import LD, seqsum
from qvalid.core.scores import divide


def _varimax_as_r_writes_it(x, eps=1e-5, max_iter=1000):
    """stats::varimax (factanal.R) with Kaiser normalisation, one temporary per operation."""
    sc = np.sqrt((x * x).sum(axis=1, keepdims=True))
    xn = x / sc
    p, k = xn.shape
    tt, d = np.eye(k), 0.0
    for it in range(1, max_iter + 1):
        z = xn @ tt
        zz = z * z
        u, s, vt, _ = dgesdd(xn.T @ (z * (zz - zz.sum(axis=0) / p)))
        tt = u @ vt
        d_past, d = d, s.sum()
        if d < d_past * (1.0 + eps):
            break
    return (xn @ tt) * sc, tt, it


@pytest.mark.parametrize("k", [2, 3, 5, 7, 8, 9])
def test_unbatched_varimax_is_the_plain_loop_bit_for_bit(k):
    rng = np.random.default_rng(k)
    for _ in range(20):
        x = rng.uniform(-0.9, 0.9, size=(int(rng.integers(k + 1, 40)), k))
        loa, tt, it = _varimax_as_r_writes_it(x)
        rot = varimax(x)
        np.testing.assert_array_equal(rot.loadings, loa)
        np.testing.assert_array_equal(rot.matrix, tt)
        assert rot.n_iter == it


def test_numpy_sums_fewer_than_eight_doubles_in_order():
    # varimax adds its k < 8 singular values in a Python loop because numpy's sum of such short vectors is the
    # sequential one; if a numpy release changes that, this test fails (the varimax test above would too)
    rng = np.random.default_rng(1)
    for n in range(1, 8):
        for _ in range(2000):
            v = rng.random(n) * 10.0 ** rng.integers(-8, 8, n)
            acc = 0.0
            for x in v.tolist():
                acc += x
            assert acc == v.sum()
    # 1 + 2^-53 + 2^-53: in order each addition rounds back to 1 (ties to even); the other way round it is not 1
    assert np.array([1.0, 2.0 ** -53, 2.0 ** -53]).sum() == 1.0


def test_seqsum_is_the_sequential_long_double_cumsum():
    rng = np.random.default_rng(2)
    m = rng.standard_normal((50, 7)) * 10.0 ** rng.integers(-10, 10, size=(50, 7))
    for axis in (0, 1):
        want = np.take(np.cumsum(m.astype(LD), axis=axis), -1, axis=axis)
        np.testing.assert_array_equal(seqsum(m, axis=axis), want)
    v = m[:, 0]
    assert seqsum(v) == np.cumsum(v.astype(LD))[-1] and seqsum(v).dtype == LD
    assert seqsum(v.tolist()) == seqsum(v)
    # 1e16 + 1 - 1e16: exact in long double, 0 in double
    assert seqsum([1e16, 1.0, -1e16]) == 1.0


@pytest.mark.parametrize("k", [3, 4, 5])
@pytest.mark.parametrize("labels", ["grep", "strict"])
def test_qdc_label_table_is_the_label_rule(k, labels):
    # the lookup must index pair j by bit j: compare it with the rule applied to the statements directly
    rng = np.random.default_rng(k)
    z = rng.standard_normal((300, k))
    sed = np.full((k, k), 0.35)
    d = distinguishing(z, sed, labels=labels)
    sig = d.stars != ""
    np.testing.assert_array_equal(d.labels, _qdc_labels(sig, tuple(range(k)), labels))
    assert len(set(d.labels.tolist())) > 3  # varied patterns, not only "Consensus"
    table = _label_table(tuple(range(k)), labels)
    assert table.shape == (2 ** (k * (k - 1) // 2),) and not table.flags.writeable
    assert table[0] == "Consensus" and table[-1] == "Distinguishes all"


def test_divide_is_numpy_division_without_warnings():
    a = np.array([1.0, -1.0, 0.0, 2.0, np.nan])
    b = np.array([0.0, 0.0, 0.0, 4.0, 1.0])
    with np.errstate(all="ignore"):
        want = a / b
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = divide(a, b)
        np.testing.assert_array_equal(got, want)  # inf, -inf, nan, 0.5, nan
        np.testing.assert_array_equal(divide(a[3:], b[3:]), [0.5, np.nan])


def test_resolved_options_are_cached_by_value_and_type():
    a = resolve_options("qmethod", extraction="centroid")
    assert resolve_options("qmethod", extraction="centroid") is a
    assert a == FLAVORS["qmethod"].__class__(extraction="centroid")
    assert resolve_options("qmethod", majority=1).majority == 1
    assert resolve_options("qmethod", majority=True).majority is True  # not the cached majority=1
    for _ in range(2):  # a bad value is refused every time, not cached
        with pytest.raises(QInputError, match="extraction"):
            resolve_options("qmethod", extraction="svd")
    with pytest.raises(QInputError, match="is not one of"):  # an unhashable value skips the cache
        resolve_options("qmethod", extraction=["pca"])
