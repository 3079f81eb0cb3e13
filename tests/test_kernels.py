"""The compiled kernels (qvalid/core/ckernels.c, issue 24) give the same bits as the numpy code they replace.

Every test runs the same call twice, with the compiled kernels and with the numpy code
(``qvalid.core.kernels.use(False)``), and compares the bytes of every output (or the exception). The numpy code is
the reference: it is what the golden and live R tests check, and it stays the fallback. The inputs are chosen to
reach every branch of the C code: exact ties in the centroid (R's column-major refill and the explicit mode that
follows), close decisions, guards, factors without flags, infinite weights, one factor, eight or more factors,
centred scores that are or are not exact in doubles, and layouts the kernels leave to numpy.
"""

from __future__ import annotations

import hashlib
import json
import os

import warnings

import numpy as np
import pytest

from qvalid import analyze
from qvalid.core import kernels
from qvalid.core.characteristics import _MULTS, _pairs, characteristics, distinguishing
from qvalid.core.correlation import correlate, unit_columns
from qvalid.core.extract import _reflect_to_positive_manifold, centroid, centroid_on_r_bits, principal
from qvalid.core.flag import flag
from qvalid.core.rotate import _varimax_one, varimax
from qvalid.core.scores import close_ties, factor_arrays, weights, zscores
from qvalid.datasets import load_lipset, nav_grid
from qvalid.diagnostics import flag_warnings, grid_warnings
from qvalid.errors import QInputError
from qvalid.simulate import planted_study, tie_heavy_study
from qvalid.study import QStudy

needs_c = pytest.mark.skipif(not kernels.available(), reason="compiled kernels not built")


def test_the_compiled_kernels_are_built_and_on():
    """In CI the extension must be built (scripts/setup.sh installs gcc and python3-dev), or every other test here
    compares the numpy code with itself; elsewhere a missing compiler only costs speed."""
    if not kernels.available():
        if os.environ.get("CI") and os.environ.get("QVALID_ALLOW_NO_C") != "1":
            pytest.fail("qvalid.core.ckernels is not built or does not reproduce numpy's bits "
                        "(QVALID_ALLOW_NO_C=1 to allow)")
        pytest.skip("compiled kernels not built")
    assert kernels.enabled() == (os.environ.get("QVALID_KERNELS", "c") != "numpy")
    with kernels.use(False):
        assert not kernels.enabled() and kernels.pearson(np.eye(3)) is None
    with kernels.use(True):
        assert kernels.enabled() and kernels.pearson(np.eye(3)) is not None


class _Counting:
    """The compiled module with every call counted."""

    def __init__(self, real):
        self.real, self.calls, self.returned = real, {}, {}

    def __getattr__(self, name):
        fn = getattr(self.real, name)
        if not callable(fn):
            return fn

        def counted(*a, **kw):
            self.calls[name] = self.calls.get(name, 0) + 1
            out = fn(*a, **kw)
            self.returned.setdefault(name, []).append(out)
            return out
        return counted


@needs_c
@pytest.mark.parametrize("extraction,used", [
    ("centroid", {"pearson", "centroid", "varimax", "flag", "flag_summary", "weights", "zscores", "factor_arrays",
                  "characteristics", "kept", "stars"}),
    ("pca", {"pearson", "varimax", "flag", "flag_summary", "weights", "zscores", "factor_arrays", "characteristics",
             "kept", "stars"}),
    ("pca-gram", {"pearson", "gram_rows", "varimax"}),
    ("centroid-tie", {"pearson", "centroid", "pearson_exact"}),
])
def test_analyze_takes_the_compiled_path(monkeypatch, extraction, used):
    """What the speed rests on: with the kernels on, analyze() calls each of them (a lost fast path gives the same
    numbers, so only this test, and the benchmarks, would notice)."""
    counting = _Counting(kernels._c)
    monkeypatch.setattr(kernels, "_c", counting)
    with kernels.use(True):
        if extraction == "pca-gram":
            analyze(planted_study(30, 70, 3, seed=2)[0], 3, extraction="pca")
        elif extraction == "centroid-tie":  # a close decision: the first run stops, R's cor() bits, second run
            analyze(tie_heavy_study(0), 3, extraction="centroid")
        else:
            analyze(load_lipset(), 3, extraction=extraction)
    assert used <= set(counting.calls), used - set(counting.calls)
    statuses = [out[0] for out in counting.returned.get("centroid", [])]
    if extraction == "centroid":
        assert statuses == [kernels.CENTROID_OK]  # the compiled loadings are the ones used
    if extraction == "centroid-tie":  # stopped at the close decision, then done on R's bits
        assert statuses == [kernels.CENTROID_CLOSE, kernels.CENTROID_OK]
        assert counting.returned["pearson_exact"][0] >= 0
    if extraction == "pca-gram":  # the correlation, and the unit columns of the Gram route
        assert counting.calls["pearson"] == 2 and counting.returned["pearson"] == [True, True]
    if "varimax" in used:
        assert all(out is not None and out[2] == 0 for out in counting.returned["varimax"])


def _digest(obj) -> str:
    """Bytes of every array (dtype and shape included) and the repr of everything else, hashed. NaNs are made one
    NaN first: which of two NaN operands numpy's own loops return depends on the alignment of the buffers
    (test_numpy_nan_signs_depend_on_alignment), so the sign of a NaN is no result, of numpy or of the kernels."""
    h = hashlib.sha256()

    def feed(x):
        if isinstance(x, np.ndarray):
            h.update(f"{x.dtype}{x.shape}".encode())
            if x.dtype.kind in "fc":
                x = np.where(np.isnan(x), np.nan, x)
            h.update(np.ascontiguousarray(x).tobytes() if x.dtype != object else repr(x.tolist()).encode())
        elif isinstance(x, (tuple, list)):
            h.update(b"(")
            for y in x:
                feed(y)
            h.update(b")")
        elif hasattr(x, "__dataclass_fields__"):
            h.update(type(x).__name__.encode())
            for name in x.__dataclass_fields__:
                feed(getattr(x, name))
        else:
            h.update(repr(x).encode())
    feed(obj)
    return h.hexdigest()


def _run(fn):
    try:
        return "ok", _digest(fn())
    except Exception as err:  # noqa: BLE001 (the same exception, with the same message, is the same behaviour)
        return type(err).__name__, str(err)


def both(fn):
    """fn() with the compiled kernels and with the numpy code: the same bits (or the same exception)."""
    with kernels.use(True):
        fast = _run(fn)
    with kernels.use(False):
        slow = _run(fn)
    assert fast == slow
    return fast


def _result_digest(res) -> str:
    out = res.to_dict()
    out["study"].pop("source", None)
    c, d = res.characteristics, res.distinguishing
    arrays = [res.correlation, res.unrotated_loadings, res.loadings, res.rotation_matrix, res.weights, res.zscores,
              res.factor_arrays, c.cor_zsc, c.sd_dif, c.se_fscores, c.reliability, c.eigenvals, c.nload,
              res.unrotated_eigenvalues]
    if d is not None:
        arrays += [d.diffs, d.stars, d.labels]
    return json.dumps(out, sort_keys=True) + repr(res.warnings) + _digest(arrays)


def _studies():
    out = [load_lipset(), planted_study(36, 25, 4, grid=nav_grid(), seed=1)[0]]
    for seed, (st, so) in enumerate([(40, 12), (20, 30), (60, 100), (33, 9), (30, 70)]):
        out.append(planted_study(st, so, 3 + seed % 3, seed=seed)[0])
    out += [tie_heavy_study(seed) for seed in range(0, 60, 3)]
    return out


STUDIES = _studies()
VARIANTS = [{"extraction": "pca"}, {"extraction": "centroid"}, {"extraction": "centroid", "rotation": "none"},
            {"threshold": 0.42, "majority": False}, {"extraction": "centroid", "centroid_ties": "strict"},
            {"cor_method": "spearman", "extraction": "centroid"}]


@needs_c
@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: "-".join(f"{k}={x}" for k, x in v.items()))
def test_analyze_is_the_same_bits_with_and_without_the_compiled_kernels(variant):
    seen = 0
    for s in STUDIES:
        for k in (1, 2, 3, 4, 6, 8):
            def run(s=s, k=k):
                return _result_digest(analyze(s, k, **variant))
            status, _ = both(run)
            seen += status == "ok"
    assert seen > 100  # the comparisons are of results, not mostly of refusals


# --------------------------------------------------------------------------------------------- correlation

def _study(scores, forced=False):
    scores = np.asarray(scores)
    lo, hi = int(scores.min()), int(scores.max())
    return QStudy.from_array(scores, grid={v: int((scores[:, 0] == v).sum()) for v in range(lo, hi + 1)},
                             forced=forced)


@needs_c
@pytest.mark.parametrize("case", ["symmetric grid", "dyadic means", "odd means", "large scores", "float"])
def test_correlations_fast_exact_and_unit_columns(case):
    rng = np.random.default_rng(len(case))
    if case == "symmetric grid":  # centred scores are the integer scores: R's long double loop is exact in doubles
        x = planted_study(60, 300, 4, seed=3)[0].scores
    elif case == "dyadic means":  # 8 statements, odd column sums: means k/8, exact in doubles at a scale of 2^3
        x = rng.integers(-3, 4, size=(8, 40))
        x[0] += (x.sum(axis=0) % 2 == 0)
    elif case == "odd means":  # means like 5/33: not exact in doubles, R's long double products are needed
        x = rng.integers(-4, 5, size=(33, 30))
    elif case == "large scores":  # exact in doubles, but products too large for the shortcut
        x = rng.integers(-2 ** 26, 2 ** 26, size=(40, 20)) * 2
    else:
        x = rng.normal(size=(25, 18))
    for exact in (False, True):
        both(lambda: correlate(x, exact=exact))
    both(lambda: correlate(x, method="spearman", exact=True))
    both(lambda: unit_columns(x))
    z = unit_columns(x)
    both(lambda: principal(correlate(x), 3, unit_columns=z))
    both(lambda: kernels.gram(z) if kernels.enabled() else z.T @ z)
    np.testing.assert_array_equal(kernels.gram_rows(z), z @ z.T)


def test_the_exact_correlation_shortcut_applies_when_it_should():
    """The return value of the C function says which path ran; both give R's bits (tests above and
    tests/test_crosscheck.py::test_exact_correlation_is_rs_cor_bit_for_bit)."""
    if not kernels.available():
        pytest.skip("compiled kernels not built")
    from qvalid.core import ckernels

    out = np.empty((40, 40))
    grid = planted_study(60, 40, 3, seed=1)[0].scores.astype(float)
    assert ckernels.pearson_exact(grid, out) == 1
    odd = np.random.default_rng(2).integers(-4, 5, size=(33, 40)).astype(float)
    assert ckernels.pearson_exact(odd, out) == 0
    huge = grid * 2.0 ** 25
    assert ckernels.pearson_exact(huge, out) == 0


def test_layouts_the_kernels_do_not_take_go_to_numpy():
    x = planted_study(36, 25, 3, seed=4)[0].scores.astype(float)
    xf = np.asfortranarray(x)
    assert kernels.pearson(xf) is None and kernels.unit_columns(x[:, :1]) is None
    assert kernels.weights(np.asfortranarray(np.ones((4, 2)) / 3), np.ones((4, 2), bool)) is None
    assert kernels.centroid(np.eye(3, dtype=np.float32), 1, 1e-5, 10, 10, False) is None
    both(lambda: correlate(xf))
    both(lambda: correlate(xf, exact=True))
    both(lambda: correlate(x[:, :1]))
    ro = unit_columns(x)
    ro.setflags(write=False)  # read-only inputs are fine (a kernel writes only to what it allocates)
    np.testing.assert_array_equal(kernels.gram(ro), ro.T @ ro)
    np.testing.assert_array_equal(kernels.gram_rows(ro), ro @ ro.T)
    r = correlate(x)
    r.setflags(write=False)
    both(lambda: centroid(r, 3))
    both(lambda: varimax(ro[:, :3]))


# ------------------------------------------------------------------------------------------------ centroid

def _r_of(scores, exact=True):
    return correlate(np.asarray(scores, dtype=float), exact=exact)


@needs_c
@pytest.mark.parametrize("seed", [0, 2, 3, 11])
def test_centroid_explicit_mode_after_an_exact_tie(seed, monkeypatch):
    """On R's correlation bits these studies have exactly tied minimum column sums: R reflects the tied sorts at once
    and its column-major refill makes the matrix asymmetric (the explicit mode, kept for the later factors)."""
    from qvalid.core import extract

    r = _r_of(tie_heavy_study(seed).scores)
    modes = []

    def spy(m, max_steps, explicit=False):
        out = _reflect_to_positive_manifold(m, max_steps, explicit=explicit)
        modes.append((explicit, out[2]))
        return out

    monkeypatch.setattr(extract, "_reflect_to_positive_manifold", spy)
    with kernels.use(False):
        centroid(r, 4)
    assert (False, True) in modes and (True, True) in modes  # the refill happens, and a factor starts explicit
    for k in range(1, 5):
        both(lambda: centroid(r, k))
        both(lambda: centroid(r, k, spc=0.02))


@needs_c
def test_centroid_on_tie_heavy_studies_and_the_close_decisions():
    close = 0
    for seed in range(60):
        s = tie_heavy_study(seed)
        for exact in (False, True):
            r = _r_of(s.scores, exact)
            for k in (1, 3, 5):
                both(lambda: centroid(r, k))
                with kernels.use(False):
                    try:
                        ext = centroid(r, k)
                    except FloatingPointError:
                        continue
                n = r.shape[0]
                if k <= n:  # stop_when_close answers "close" exactly when the full run was close somewhere
                    status = kernels.centroid(r, k, 1e-5, 10_000, 50 * n + 1000, True)[0]
                    assert (status == kernels.CENTROID_CLOSE) == ext.close or status == kernels.CENTROID_FALLBACK
                    close += ext.close
        both(lambda: centroid_on_r_bits(s.scores, 3))
    assert close > 20


def _final_changes(r, monkeypatch):
    """|d - f^2| of the last communality iteration of a one-factor numpy centroid, from its own sums."""
    from qvalid.core import extract

    seen = []
    real = extract.seqsum

    def spy(a, axis=-1):
        out = real(a, axis)
        seen.append((np.array(a, copy=True), out))
        return out

    monkeypatch.setattr(extract, "seqsum", spy)
    with kernels.use(False):
        ext = centroid(r, 1)
    monkeypatch.setattr(extract, "seqsum", real)
    ff = [(t / np.sqrt(float(tot))) ** 2 for t, tot in seen[1:]]  # seen[0] is the positivity check
    assert ext.iterations[0] >= 2 and len(ff) == ext.iterations[0] + 1
    return np.abs(ff[-2] - ff[-1])


@needs_c
def test_centroid_close_stopping_test_on_every_sort(monkeypatch):
    """The last communality test is close when some |d_i - f_i^2| is within 1e-12 of spc: here spc is set just above
    the largest change of the last iteration (the iterates are the same, the loop stops there), and that sort is
    moved first, then last, so that the test is decided by the first and by the last sort."""
    r = _r_of(planted_study(30, 12, 2, seed=5)[0].scores, exact=False)
    v = _final_changes(r, monkeypatch)
    n = r.shape[0]
    j = int(np.argmax(v))
    for where in (0, n - 1):
        perm = [i for i in range(n) if i != j]
        perm.insert(where, j)
        rp = r[np.ix_(perm, perm)]
        vp = _final_changes(rp, monkeypatch)
        assert int(np.argmax(vp)) == where
        spc = float(vp.max()) + 2e-13
        with kernels.use(False):
            assert centroid(rp, 1, spc=spc).close
        both(lambda: centroid(rp, 1, spc=spc))
        assert kernels.centroid(rp, 1, spc, 10_000, 50 * n + 1000, True)[0] == kernels.CENTROID_CLOSE


@needs_c
def test_centroid_guards_raise_and_warn_as_the_numpy_code():
    r = _r_of(load_lipset().scores)
    asym = r.copy()
    asym[0, 1] += 1e-9
    nan = r.copy()
    nan[2, 3] = nan[3, 2] = np.nan
    huge = np.full((4, 4), -1e308)  # column sums overflow to -inf
    assert both(lambda: centroid(asym, 3))[0] == "ValueError"
    assert both(lambda: centroid(nan, 3))[0] == "ValueError"
    with warnings.catch_warnings():  # numpy warns of the overflow first (an error under the suite's filter)
        warnings.simplefilter("ignore", RuntimeWarning)
        assert both(lambda: centroid(huge, 2))[0] == "FloatingPointError"
    assert both(lambda: centroid(r, 3, max_iter=2))[0] == "FloatingPointError"
    assert both(lambda: centroid(r, 3, max_reflections=1))[0] == "FloatingPointError"
    both(lambda: centroid(r, 12))  # more factors than sorts: the warning
    low_rank = _r_of(np.repeat(planted_study(20, 3, 2, seed=1)[0].scores, 3, axis=1))
    both(lambda: centroid(low_rank, 8))  # the residuals run out: zero factors and the warning
    both(lambda: centroid(r[:1, :1], 1))
    both(lambda: centroid(np.zeros((3, 3)), 1))


@needs_c
def test_subtract_outer_is_scipys_dger():
    from scipy.linalg.blas import dger

    from qvalid.core import ckernels

    rng = np.random.default_rng(5)
    for n in (2, 7, 64):
        g = rng.normal(size=n)
        g[rng.integers(0, n)] = 0.0
        m = rng.normal(size=(n, n))
        m[0] = -0.0
        mine = m.copy()
        ckernels.subtract_outer(mine, g)
        assert mine.tobytes() == dger(-1.0, g, g, a=m.T.copy(order="F"), overwrite_a=1).T.tobytes()


# ------------------------------------------------------------------------------------------------- varimax

@needs_c
@pytest.mark.parametrize("k", [2, 3, 4, 7, 8, 9])
def test_varimax(k):
    rng = np.random.default_rng(k)
    for _ in range(15):
        x = rng.uniform(-0.9, 0.9, size=(int(rng.integers(k + 1, 40)), k))
        for normalize in (True, False):
            both(lambda: varimax(x, normalize=normalize))
            both(lambda: varimax(x, normalize=normalize, max_iter=2))  # not converged
        sc = np.sqrt((x * x).sum(axis=-1, keepdims=True))
        both(lambda: _varimax_one(x / sc, sc, 1e-5, 1000))
        both(lambda: _varimax_one(x, None, 1e-5, 1000))
    bad = rng.uniform(-0.9, 0.9, size=(10, k))
    bad[3, 1] = np.nan
    both(lambda: varimax(bad, normalize=False))
    both(lambda: varimax(np.zeros((5, k)), normalize=False))


# ------------------------------------------------------------------------- flags, scores, characteristics

def _loadings(rng, n, k):
    a = rng.uniform(-0.95, 0.95, size=(n, k))
    a[rng.random((n, k)) < 0.1] = 0.0
    return a


@needs_c
@pytest.mark.parametrize("k", [1, 2, 3, 5, 8])
def test_flags_weights_scores_arrays_characteristics(k):
    rng = np.random.default_rng(10 + k)
    s = planted_study(33, 20, 3, seed=k)[0]
    for trial in range(12):
        a = _loadings(rng, s.n_sorts, k)
        if trial == 1:
            a[4, 0] = 1.0  # a unit loading: infinite weight, the numpy code's limit rule
        for thr, maj in ((None, True), (None, False), (0.3, True), (1, False)):
            both(lambda: flag(a, s.n_statements, threshold=thr, majority=maj))
        fl = flag(a, s.n_statements)
        if trial == 2:
            fl[:, 0] = False  # a factor without flags: NaN z-scores
        both(lambda: flag_warnings(a, fl))
        both(lambda: weights(a, fl))
        w = weights(a, fl)
        for scores in (s.scores, s.scores.astype(float)):
            both(lambda: zscores(scores, w))
        z = zscores(s.scores, w)
        both(lambda: factor_arrays(z, s.qscores))
        both(lambda: factor_arrays(z, s.qscores[::-1].copy()))  # an unsorted grid is sorted first
        zt = np.round(z, 1)  # ties
        both(lambda: factor_arrays(zt, s.qscores))
        both(lambda: characteristics(a, fl, z))
        both(lambda: characteristics(a, fl, z, av_rel_coef=0.6))
        chars = characteristics(a, fl, z)
        for labels in ("grep", "strict"):
            both(lambda: distinguishing(z, chars.sd_dif, labels=labels))
    part = np.zeros((6, 2))
    part[:3, 0] = np.nan
    part[:, 1] = np.arange(6.0)
    both(lambda: factor_arrays(part, np.arange(6.0)))  # a partly NaN factor: the numpy code
    both(lambda: characteristics(np.ones((4, 2)) / 2, np.ones((4, 2), bool), part))


@needs_c
def test_flag_cut_offs_are_strict_and_at_least_on_both_paths():
    """|a| > z / sqrt(n) is strict (qmethod's qflag), |a| >= threshold is not; a loading exactly at the limit."""
    lim = 1.96 / np.sqrt(33)
    a = np.array([[lim, 0.0], [-lim, 0.1], [0.42, 0.0], [0.0, -0.42]])
    for kw in ({}, {"threshold": 0.42}, {"majority": False}, {"threshold": 0.42, "majority": False}):
        for compiled in (True, False):
            with kernels.use(compiled):
                got = flag(a, 33, **kw)
            # z / sqrt(n) itself is not significant (strict), 0.42 is at least 0.42 (and > z / sqrt(n) = 0.341)
            np.testing.assert_array_equal(got[:, 0], [False, False, True, False])
            np.testing.assert_array_equal(got[:, 1], [False, False, False, True])
        for batch in (a[None], np.asfortranarray(a)):  # shapes and layouts the kernel leaves to numpy
            with kernels.use(True):
                np.testing.assert_array_equal(flag(batch, 33, **kw).reshape(a.shape), flag(a, 33, **kw))


@needs_c
def test_close_ties_and_grid_breaks_on_both_paths():
    """The two diagnostics of issue 21 that run on every analysis: z-scores within rounding of a tie (then the
    arrays are taken on R's bits) and factor arrays off the grid; each case's answer is stated."""
    rng = np.random.default_rng(4)
    x = rng.integers(-3, 4, size=(12, 6))
    x[5] = x[2]  # statements 2 and 5 have the same scores on every sort
    w = rng.normal(size=(6, 3))
    w[:, 2] = 0.0
    w[0, 1] = 0.0
    z = rng.normal(size=(12, 3))
    x6 = x.copy()
    x6[5, 0] = x6[2, 0] + 1  # statements 2 and 5 now differ on sort 0, weighted on factor 1 but not on factor 2
    cases = []  # (z, with x, with x6, without scores)
    z1 = z.copy()
    z1[5, 0] = z1[2, 0]  # an exact tie of statements 2 and 5 on f1: excused while their scores agree
    cases.append((z1, False, True, True))
    z2 = z.copy()
    z2[7, 0] = z2[3, 0]  # an exact tie of different statements
    cases.append((z2, True, True, True))
    z3 = z.copy()
    z3[7, 1] = z3[3, 1] * (1 + 1e-12)  # within 1e-9 of the largest |z|, not exact
    cases.append((z3, True, True, True))
    z4 = z.copy()
    z4[:, 2] = np.nan  # a flagless factor
    cases.append((z4, False, False, False))
    z6 = z.copy()
    z6[5, 1] = z6[2, 1]  # a tie on f2, whose weight on sort 0 is 0: sort 0 does not count
    cases.append((z6, False, False, True))
    for zz, with_x, with_x6, alone in cases:
        for compiled in (True, False):
            with kernels.use(compiled):
                assert close_ties(zz, x, w) is with_x
                assert close_ties(zz, x.astype(float), w) is with_x
                assert close_ties(zz, x6, w) is with_x6
                assert close_ties(zz) is alone
    q = np.repeat(np.arange(-2.0, 3.0), [1, 2, 3, 2, 1])
    arrays = np.stack([q[rng.permutation(9)] for _ in range(3)], axis=1)
    arrays[:, 2] = np.nan
    both(lambda: grid_warnings(arrays, q))
    assert grid_warnings(arrays, q) == []
    off = arrays.copy()
    off[off[:, 1] == 1.0, 1] = 0.0  # two statements moved from +1 to 0: the grid is broken on f2
    both(lambda: grid_warnings(off, q))
    assert [w.code for w in grid_warnings(off, q)] == ["factor-array-off-grid"] and "f2" in grid_warnings(off, q)[0].message
    both(lambda: grid_warnings(off, q[::-1].copy()))
    odd = off.copy()
    odd[0, 0] = 7.0  # a score that is not on the grid at all
    odd[:, 2] = -0.0 * arrays[:, 1] + arrays[:, 1]  # signed zeros count as the grid's 0
    both(lambda: grid_warnings(odd, q))
    assert grid_warnings(odd, q)[0].message.endswith("f1 (), f2 (score 0 given to 5 statements, the grid has 3)")


@needs_c
@pytest.mark.parametrize("flagless_columns", [(), (3,), (1, 3), (0, 2, 3), (2, 3), (1,), (0, 1, 2, 3)])
def test_distinguishing_with_flagless_factors_on_both_paths(flagless_columns):
    """qmethod's positional qdc (the last factor flagless: R pairs by position, an all-NA table when that leaves f1
    and f2 with one of them flagless) and the skip rule, with the compiled star levels where they apply."""
    rng = np.random.default_rng(len(flagless_columns))
    z = rng.normal(size=(20, 4))
    z[:, list(flagless_columns)] = np.nan
    sed = np.full((4, 4), 0.3)
    for flagless in ("positional", "skip"):
        for labels in ("grep", "strict"):
            both(lambda: distinguishing(z, sed, labels=labels, flagless=flagless))
    d = distinguishing(z, sed, flagless="positional")
    if flagless_columns == (0, 2, 3):  # R: 4 - 3 = 1 factor left, no table
        assert d is None
    if flagless_columns == (1, 3):  # R compares f1 and f2 by position: one pair, all NA
        assert d.pairs == ((0, 1),) and all(x is None for x in d.stars.ravel())


def test_stars_levels_and_pattern_bits():
    """Star levels count the multipliers exceeded; the pattern sets bit p for each significant pair p."""
    if not kernels.available():
        pytest.skip("compiled kernels not built")
    z = np.array([[0.0, 1.0, 3.0], [0.0, 0.0, 0.0], [5.0, 0.0, -5.0]])
    sed = np.ones((3, 3))
    pairs, a, b = _pairs((0, 1, 2))
    with kernels.use(True):
        diffs, level, code = kernels.stars(z, sed, a, b, _MULTS)
    np.testing.assert_array_equal(diffs, z[:, a] - z[:, b])
    np.testing.assert_array_equal(level, [[0, 2, 1], [0, 0, 0], [4, 4, 4]])  # |d| = 1, 3, 2; 0; 5, 10, 5
    np.testing.assert_array_equal(code, [0b110, 0, 0b111])
    with kernels.use(True):
        assert kernels.kept(np.array([[1.0, np.nan, 2.0]])) == (0, 2)


def test_the_import_check_refuses_helpers_that_differ():
    """The import-time check compares the C helpers with numpy; a helper that disagreed would switch the compiled
    path off (here: a summation that is not numpy's is caught)."""
    if not kernels.available():
        pytest.skip("compiled kernels not built")
    from qvalid.core import ckernels

    a = np.random.default_rng(3).normal(size=1000) * 1e6
    assert ckernels.probe("sum", a) == a.sum() != float(np.add.accumulate(a)[-1])
    assert ckernels.probe("argmin", np.array([2.0, np.nan, 1.0])) == 1.0
    with pytest.raises(ValueError):
        ckernels.probe("nothing", a)


def test_numpy_nan_signs_depend_on_alignment():
    """Why the digests above compare NaN as NaN: numpy's sum of two NaNs of opposite signs (np.nan is positive,
    x86's 0/0 negative) gives one or the other depending on the loop path (vectorised body or remainder) that the
    sizes and alignments of the buffers choose: the same two operands, a different sign."""
    signs = set()
    for n in range(2, 40):
        se = np.full(n, np.nan)
        se[:2] = 0.3, -np.nan
        signs.add(bool(np.signbit((se[:, None] ** 2 + se[None, :] ** 2)[1, -1])))  # always (-NaN)^2 + (+NaN)^2
    if len(signs) == 1:
        pytest.skip("this numpy build propagates NaN signs the same way at every size")
    assert signs == {True, False}


def test_the_compiled_functions_refuse_wrong_arrays():
    """qvalid.core.kernels only passes C-ordered arrays of the right shapes and types; called directly, the compiled
    functions refuse anything else with a ValueError (never a crash or a write out of bounds)."""
    if not kernels.available():
        pytest.skip("compiled kernels not built")
    from qvalid.core import ckernels as c

    d = lambda *shape: np.zeros(shape)  # noqa: E731
    b = lambda *shape: np.zeros(shape, dtype=bool)  # noqa: E731
    i = lambda *shape: np.zeros(shape, dtype=np.int64)  # noqa: E731
    bad = [
        (c.varimax, (d(5, 2), d(5, 3), d(2, 2), None, 1e-5, 10, True)),
        (c.varimax, (d(5, 2), d(5, 2), d(3, 3), None, 1e-5, 10, True)),
        (c.varimax, (d(5, 2), d(5, 2), d(2, 2), d(4, 1), 1e-5, 10, False)),
        (c.varimax, (d(5, 2).T, d(2, 5), d(5, 5), None, 1e-5, 10, True)),
        (c.centroid, (d(4, 3), d(4, 2), 1e-5, 10, 10, False)),
        (c.centroid, (d(4, 4), d(3, 2), 1e-5, 10, 10, False)),
        (c.centroid, (d(1, 1), d(1, 1), 1e-5, 10, 10, False)),
        (c.pearson, (d(5, 3), d(5, 4), d(3, 3))),
        (c.pearson, (d(5, 3), d(5, 3), d(4, 4))),
        (c.pearson, (i(5, 3), d(5, 3), d(3, 3))),
        (c.pearson_exact, (d(5, 3), d(4, 4))),
        (c.gram, (d(5, 3), d(5, 5))),
        (c.gram_rows, (d(5, 3), d(3, 3))),
        (c.flag, (d(4, 2), b(4, 3), 0.3, False, True)),
        (c.flag, (d(4, 2), d(4, 2), 0.3, False, True)),
        (c.flag, (d(4, 65), b(4, 65), 0.3, False, True)),
        (c.flag_summary, (d(4, 2), b(3, 2))),
        (c.weights, (d(4, 2), b(4, 2), d(4, 3))),
        (c.weights, (d(4, 2), b(4, 3), d(4, 2))),
        (c.zscores, (d(5, 4), d(3, 2), d(5, 2))),
        (c.zscores, (d(5, 4), d(4, 2), d(4, 2))),
        (c.zscores, (b(5, 4), d(4, 2), d(5, 2))),
        (c.zscores, (d(1, 4), d(4, 2), d(1, 2))),
        (c.factor_arrays, (d(5, 2), d(4), d(5, 2))),
        (c.factor_arrays, (d(5, 2), d(5), d(5, 3))),
        (c.characteristics, (d(4, 2), b(4, 2), d(5, 3), 0.8, i(2), d(2), d(2), d(2), d(2), d(2, 2), d(2, 2))),
        (c.characteristics, (d(4, 2), b(4, 2), d(5, 2), 0.8, d(2), d(2), d(2), d(2), d(2), d(2, 2), d(2, 2))),
        (c.characteristics, (d(4, 2), b(4, 2), d(5, 2), 0.8, i(2), d(2), d(2), d(2), d(2), d(3, 3), d(2, 2))),
        (c.stars, (d(5, 3), d(3, 3), i(2), i(3), d(4), d(5, 2), i(5, 2), i(5))),
        (c.stars, (d(5, 3), d(3, 3), i(2), i(2), d(4), d(5, 2), i(5, 3), i(5))),
        (c.stars, (d(5, 3), d(3, 3), np.array([0, 3]), i(2), d(4), d(5, 2), i(5, 2), i(5))),
        (c.kept, (d(5, 65),)),
        (c.subtract_outer, (d(4, 3), d(4))),
        (c.subtract_outer, (d(3, 4), d(4))),
    ]
    for fn, args in bad:
        with pytest.raises(ValueError):
            fn(*args)
    # the smallest shapes they do take
    one = np.empty((1, 1))
    assert c.pearson_exact(np.arange(5.0)[:, None], one) == 1 and one[0, 0] == 1.0
    assert c.gram(np.ones((2, 1)), one) and one[0, 0] == 2.0


def test_pipeline_errors_are_unchanged():
    s = planted_study(20, 6, 2, seed=2)[0]
    assert both(lambda: analyze(s, 7, extraction="pca"))[0] == QInputError.__name__


@needs_c
def test_majority_at_an_exact_tie_is_not_a_majority_on_both_paths():
    """qmethod's qflag: a^2 > (sum of the row's a^2) - a^2, strictly. Row (0.6, 0.6): 0.36 > 0.72 - 0.36 = 0.36
    exactly (2x - x = x in floating point), so neither loading is flagged; row (0.8, 0.1): 0.64 > 0.01."""
    a = np.array([[0.6, 0.6], [0.8, 0.1]])
    for compiled in (True, False):
        with kernels.use(compiled):
            np.testing.assert_array_equal(flag(a, 33, threshold=0.42), [[False, False], [True, False]])


@needs_c
def test_pearson_again_and_again_gives_numpys_bits():
    """The compiled Pearson call after other calls (its scratch memory then holds old values, which a missing
    reset would add in): each time the numpy code's bytes."""
    rng = np.random.default_rng(11)
    for n in (7, 7, 12, 7, 12):
        x = rng.integers(-4, 5, size=(33, n)).astype(np.float64)
        with kernels.use(True):
            fast = correlate(x)
        with kernels.use(False):
            slow = correlate(x)
        assert fast.tobytes() == slow.tobytes()


@needs_c
def test_the_compiled_centroid_takes_two_sorts():
    """The smallest study the centroid takes (2 Q-sorts) runs compiled and gives the numpy code's bits."""
    r = np.array([[1.0, 0.5], [0.5, 1.0]])
    got = kernels.centroid(r, 1, 1e-5, 1000, 10 ** 6, False)
    assert got is not None and got[0] == kernels.CENTROID_OK
    np.testing.assert_allclose(got[1][:, 0], [np.sqrt(0.5), np.sqrt(0.5)], rtol=1e-2)  # loadings ~ sqrt(r12)
    assert both(lambda: centroid(r, 1))[0] == "ok"  # both paths, the same bytes (both() asserts it)
