"""Hand-computed tiny cases for each numerical step (the arithmetic is shown next to each expectation)."""

import math

import numpy as np
import pytest

from qvalid.core.characteristics import characteristics, distinguishing, explained_variance
from qvalid.core.correlation import average_ranks, correlate
from qvalid.core.extract import centroid, principal, psych_tidy
from qvalid.core.flag import flag
from qvalid.core.rotate import varimax
from qvalid.core.scores import factor_arrays, weights, zscores


# ---------------------------------------------------------------- correlation
def test_pearson_by_hand():
    # x = (1,2,3,4), y = (2,1,4,3): centred (-1.5,-.5,.5,1.5) and (-.5,-1.5,1.5,.5)
    # cov sum = .75+.75+.75+.75 = 3; ss = 5 each -> r = 3/5
    r = correlate(np.array([[1, 2], [2, 1], [3, 4], [4, 3]]))
    assert r[0, 1] == pytest.approx(0.6, abs=1e-15) and r[1, 0] == r[0, 1] and r[0, 0] == 1.0


def test_kendall_tau_b_with_ties_by_hand():
    # x = (1,2,2,3), y = (1,3,2,2). Pairs (i<j) sign(dx)*sign(dy):
    # (1,2): +*+ = 1; (1,3): +*+ = 1; (1,4): +*+ = 1; (2,3): 0 (x tie); (2,4): +*- = -1; (3,4): +*0 = 0
    # S = 2; untied pairs: x 5, y 5 -> tau_b = 2/sqrt(25) = 0.4
    r = correlate(np.array([[1, 1], [2, 3], [2, 2], [3, 2]]), method="kendall")
    assert r[0, 1] == pytest.approx(0.4, abs=1e-15)


def test_spearman_is_pearson_of_average_ranks():
    # ranks of (10, 20, 20, 30) are (1, 2.5, 2.5, 4)
    np.testing.assert_array_equal(average_ranks(np.array([[10.], [20], [20], [30]]))[:, 0], [1, 2.5, 2.5, 4])
    x = np.array([[10, 1], [20, 3], [20, 2], [30, 4]])
    assert correlate(x, method="spearman")[0, 1] == pytest.approx(
        correlate(np.array([[1, 1], [2.5, 3], [2.5, 2], [4, 4]]))[0, 1], abs=1e-15)


def test_correlation_batch_equals_loop():
    rng = np.random.default_rng(1)
    x = rng.integers(-3, 4, size=(5, 12, 4))
    for m in ("pearson", "spearman", "kendall"):
        batch = correlate(x, method=m)
        for b in range(5):
            np.testing.assert_allclose(batch[b], correlate(x[b], method=m), atol=1e-15)


def test_exact_correlation_batch_equals_loop_bit_for_bit():
    # R's cor() replica: sequential long double sums per item, so a batch gives exactly the items' bits
    rng = np.random.default_rng(2)
    x = rng.integers(-3, 4, size=(6, 15, 5))
    for m in ("pearson", "spearman"):
        batch = correlate(x, method=m, exact=True)
        for b in range(6):
            np.testing.assert_array_equal(batch[b], correlate(x[b], method=m, exact=True))
            np.testing.assert_array_equal(batch[b], correlate(np.asfortranarray(x[b]), method=m, exact=True))
        np.testing.assert_allclose(batch, correlate(x, method=m), rtol=0, atol=1e-15)


def test_centroid_on_r_bits_reruns_only_close_decisions():
    from qvalid.core.extract import centroid_on_r_bits

    # two copies each of sorts a and c with r(a, c) = -0.9: every column sum is 1 - 1.8 = -0.8, a four-way tie
    # for the minimum (R reflects all four at once), so the decision is close and r is R's own bits
    x = np.array([[1, 1, -2, -2], [2, 2, -1, -1], [-1, -1, 1, 1], [0, 0, 0, 0], [-2, -2, 2, 2]])
    r, ext = centroid_on_r_bits(x, 1)
    assert ext.close
    np.testing.assert_array_equal(r, correlate(x, exact=True))
    r, ext = centroid_on_r_bits(np.array([[1, 2, 3], [2, 1, 1], [3, 4, 2], [4, 3, 4]]), 1)  # no tie anywhere
    assert not ext.close
    np.testing.assert_array_equal(r, correlate(np.array([[1, 2, 3], [2, 1, 1], [3, 4, 2], [4, 3, 4]])))


# ---------------------------------------------------------------- centroid
R3 = np.array([[1.0, 0.5, 0.3], [0.5, 1.0, 0.4], [0.3, 0.4, 1.0]])


def test_centroid_first_estimate_by_hand():
    # zero diagonal: column sums c = (.8, .9, .7), all > 0, no reflection
    # d = c/(n-1) = (.4, .45, .35); t = c + d = (1.2, 1.35, 1.05); sum t = 3.6; f = t / sqrt(3.6)
    # with spc = 1 the first estimate is accepted (|d - f^2| < 1 everywhere)
    ext = centroid(R3, 1, spc=1.0)
    np.testing.assert_allclose(ext.loadings[:, 0], np.array([1.2, 1.35, 1.05]) / math.sqrt(3.6), atol=1e-15)
    assert ext.reflections == ((),) and ext.iterations == (0,)


def test_centroid_converges_to_the_communality_fixed_point():
    # at convergence f_j = (c_j + f_j^2) / sqrt(sum_k (c_k + f_k^2)) within the tolerance
    f = centroid(R3, 1, spc=1e-12).loadings[:, 0]
    c = R3.sum(axis=0) - 1
    np.testing.assert_allclose(f, (c + f * f) / np.sqrt((c + f * f).sum()), atol=1e-11)


def test_centroid_reflection_by_hand():
    # zero-diagonal column sums (-.9, -.2, -.1): sort 0 has the minimum and is reflected;
    # reflected matrix [[0,.5,.4],[.5,0,.3],[.4,.3,0]] has sums (.9, .8, .7) > 0: done.
    # d = (.45,.4,.35), t = (1.35,1.2,1.05), f = t/sqrt(3.6); sort 0's loading is negated back.
    r = np.array([[1.0, -0.5, -0.4], [-0.5, 1.0, 0.3], [-0.4, 0.3, 1.0]])
    ext = centroid(r, 1, spc=1.0)
    assert ext.reflections == ((0,),)
    np.testing.assert_allclose(ext.loadings[:, 0], np.array([-1.35, 1.2, 1.05]) / math.sqrt(3.6), atol=1e-15)


def test_centroid_second_factor_comes_from_the_unreflected_residual():
    r = np.array([[1.0, -0.5, -0.4, 0.2], [-0.5, 1.0, 0.3, 0.1], [-0.4, 0.3, 1.0, -0.3], [0.2, 0.1, -0.3, 1.0]])
    two = centroid(r, 2)
    g = two.loadings[:, :1]
    resid = r - g @ g.T
    np.fill_diagonal(resid, 1.0)  # the diagonal is zeroed before use, so any value will do
    np.testing.assert_allclose(two.loadings[:, 1], centroid(resid, 1).loadings[:, 0], atol=1e-14)


def test_centroid_zero_column_sum_raises_instead_of_looping():
    # sort 2 is uncorrelated with everything: its column sum is exactly 0 and reflection cannot change it
    r = np.array([[1.0, 0.5, 0.0], [0.5, 1.0, 0.0], [0.0, 0.0, 1.0]])
    with pytest.raises(FloatingPointError, match="column sum of exactly 0"):
        centroid(r, 1, max_iter=50)


# ---------------------------------------------------------------- PCA
def test_principal_by_hand_two_sorts():
    # R = [[1, r], [r, 1]]: eigenvalues 1+r, 1-r; eigenvectors (1,1)/sqrt2, (1,-1)/sqrt2
    # loadings: sqrt((1+r)/2) for both on PC1; PC2 = +-sqrt((1-r)/2), sign by column sum (0 -> +)
    r = 0.6
    ext = principal(np.array([[1, r], [r, 1]]), 1)
    np.testing.assert_allclose(ext.loadings[:, 0], [math.sqrt(0.8)] * 2, atol=1e-15)
    np.testing.assert_allclose(ext.eigenvalues, [1.6], atol=1e-15)


def test_psych_tidy_sorts_by_sum_of_squares_and_fixes_signs():
    a = np.array([[0.1, -0.9], [0.2, -0.8]])  # SS: .05 and 1.45; second column sum negative
    np.testing.assert_array_equal(psych_tidy(a), [[0.9, 0.1], [0.8, 0.2]])


# ---------------------------------------------------------------- varimax
def _rot(theta):
    return np.array([[math.cos(theta), -math.sin(theta)], [math.sin(theta), math.cos(theta)]])


def _criterion(a):
    """Raw varimax criterion of Kaiser-normalised loadings: sum_j var_i(b_ij^2) (population variance)."""
    b = a / np.sqrt((a * a).sum(axis=1, keepdims=True))
    return ((b * b).var(axis=0)).sum()


def test_varimax_reaches_a_local_maximum_of_the_criterion():
    rng = np.random.default_rng(7)
    a = rng.uniform(-0.8, 0.8, size=(12, 2))
    rot = varimax(a, eps=1e-14)
    best = _criterion(rot.loadings)
    assert best > _criterion(a)
    for delta in (1e-3, -1e-3):  # any small further rotation lowers the criterion
        assert _criterion(rot.loadings @ _rot(delta)) < best
    np.testing.assert_allclose(rot.matrix.T @ rot.matrix, np.eye(2), atol=1e-14)
    np.testing.assert_allclose((rot.loadings ** 2).sum(axis=1), (a ** 2).sum(axis=1), atol=1e-14)
    assert rot.converged and 1 <= rot.n_iter < 1000


def test_varimax_stops_where_r_stops_on_rotated_simple_structure():
    # R 4.2.2: varimax(simple %*% R(0.4)) returns rotmat = I (to 1.4e-16) after 2 iterations: every Kaiser-
    # normalised row lies on two orthogonal lines, B is symmetric positive definite at T = I, so the SVD update
    # keeps T = I. stats::varimax does not rotate this matrix back to simple structure; neither does qvalid.
    simple = np.array([[0.8, 0.0], [0.7, 0.0], [0.0, 0.6], [0.0, 0.9]])
    rot = varimax(simple @ _rot(0.4))
    np.testing.assert_allclose(rot.matrix, np.eye(2), atol=1e-15)
    assert rot.n_iter == 2


def test_varimax_one_factor_is_unchanged_and_batch_equals_loop():
    a = np.array([[0.3], [0.5]])
    np.testing.assert_array_equal(varimax(a).loadings, a)
    rng = np.random.default_rng(3)
    batch = rng.uniform(-0.7, 0.7, size=(6, 10, 3))
    out = varimax(batch)
    for b in range(6):
        one = varimax(batch[b])
        np.testing.assert_allclose(out.loadings[b], one.loadings, atol=1e-14)
        assert out.n_iter[b] == one.n_iter


def test_varimax_nonconvergence_is_reported():
    rng = np.random.default_rng(0)
    rot = varimax(rng.uniform(-0.7, 0.7, size=(10, 3)), max_iter=1)
    assert rot.n_iter == 1 and not rot.converged


# ---------------------------------------------------------------- flags, weights, z-scores
def test_flags_by_hand():
    # threshold 1.96/sqrt(33) = 0.34119
    a = np.array([[0.5, 0.1],    # .25 > .01, .5 > .341      -> f1
                  [0.3, 0.3],    # .09 > .09 is false (strict) -> none
                  [-0.6, 0.2],   # negative loadings are flagged (abs)
                  [0.34, 0.0],   # .34 < .34119               -> none
                  [0.35, 0.0]])  # .35 > .34119               -> f1
    np.testing.assert_array_equal(flag(a, 33), [[1, 0], [0, 0], [1, 0], [0, 0], [1, 0]])
    # |a| >= 0.34 with the majority rule: row 3 now flagged (at least, not strictly more)
    np.testing.assert_array_equal(flag(a, 33, threshold=0.34)[:, 0], [1, 0, 1, 1, 1])
    # without the majority rule row 1 (.3, .3) is flagged on neither (.3 < .341) but with threshold .3 on both
    np.testing.assert_array_equal(flag(a, 33, threshold=0.3, majority=False)[1], [1, 1])


def test_weights_by_hand():
    # a/(1-a^2): 0.5 -> 0.5/0.75 = 2/3; -0.6 -> -0.6/0.64 = -0.9375; unflagged -> 0
    w = weights(np.array([[0.5, 0.2], [-0.6, 0.1]]), np.array([[True, False], [True, False]]))
    np.testing.assert_allclose(w, [[2 / 3, 0], [-0.9375, 0]], atol=1e-15)


def test_zscores_by_hand():
    # one sort with weight 1: S = (-1, 0, 0, 1); mean 0; sample SD sqrt(2/3) -> z = S / sqrt(2/3)
    x = np.array([[-1, 1], [0, 0], [0, 0], [1, -1]])
    z = zscores(x, np.array([[1.0, 0.0], [0.0, 0.0]]))
    np.testing.assert_allclose(z[:, 0], np.array([-1, 0, 0, 1]) / math.sqrt(2 / 3), atol=1e-15)
    assert np.isnan(z[:, 1]).all()  # no flagged sort -> NaN


def test_zscores_with_a_loading_of_one_use_the_limit():
    # weight a/(1-a^2) is infinite at a = -1: the factor is that sort, reversed
    x = np.array([[-1, 1], [0, 0], [0, 1], [1, -2]])
    w = weights(np.array([[-1.0], [0.5]]), np.array([[True], [True]]))
    assert np.isinf(w[0, 0])
    expected = -x[:, 0] / np.std(x[:, 0], ddof=1)
    np.testing.assert_allclose(zscores(x, w)[:, 0], expected - expected.mean(), atol=1e-15)


# ---------------------------------------------------------------- factor arrays
def test_factor_arrays_qmethod_tie_rule_breaks_the_grid():
    # z = (.1, .5, .5, .9), grid (-1, -1, 0, 1): average ranks (1, 2.5, 2.5, 4) -> floor (1, 2, 2, 4)
    # -> qscores[0], qscores[1], qscores[1], qscores[3] = (-1, -1, -1, 1): three -1s, grid allows two (qmethod #196)
    z = np.array([[0.1], [0.5], [0.5], [0.9]])
    np.testing.assert_array_equal(factor_arrays(z, [-1, -1, 0, 1])[:, 0], [-1, -1, -1, 1])
    # strict: ties broken with the later statement first -> statement 3 gets rank 2 (-1), statement 2 rank 3 (0)
    np.testing.assert_array_equal(factor_arrays(z, [-1, -1, 0, 1], ties="strict")[:, 0], [-1, 0, -1, 1])


def test_factor_arrays_odd_tie_group_takes_its_integer_mean_rank():
    # three-way tie at ranks 2,3,4: mean rank 3 -> qscores[2] for all
    z = np.array([[0.0], [1.0], [1.0], [1.0], [2.0]])
    np.testing.assert_array_equal(factor_arrays(z, [-2, -1, 0, 1, 2])[:, 0], [-2, 0, 0, 0, 2])


# ---------------------------------------------------------------- characteristics and qdc
def test_characteristics_spec_examples():
    # p = 3: rel = .8*3/(1+2*.8) = 2.4/2.6 = .923077; SE = sqrt(1-rel) = .27735; SED(3,3) = sqrt(2)*.27735 = .39223
    # p = 2: rel = 1.6/1.8 = .888889, SE = 1/3
    z = np.array([[-1.0, 1.0], [0.0, -1.0], [1.0, 0.0]])  # sample SD exactly 1 in both columns
    flags = np.array([[1, 0], [1, 1], [1, 1]], dtype=bool)
    c = characteristics(np.array([[0.6, 0.1], [0.5, 0.5], [0.7, 0.6]]), flags, z)
    np.testing.assert_allclose(c.reliability, [2.4 / 2.6, 1.6 / 1.8], atol=1e-15)
    np.testing.assert_allclose(c.se_fscores, [math.sqrt(1 - 2.4 / 2.6), 1 / 3], atol=1e-15)
    assert c.sd_dif[0, 0] == pytest.approx(0.39223, abs=5e-6)
    # eigenvals: .36+.25+.49 = 1.1 and .01+.25+.36 = .62; expl_var = 100*ev/3
    np.testing.assert_allclose(c.eigenvals, [1.1, 0.62], atol=1e-15)
    np.testing.assert_allclose(c.expl_var, [110 / 3, 62 / 3], atol=1e-12)
    # cor of (-1,0,1) and (1,-1,0): sum of products = -1+0+0 = -1, ss 2 and 2 -> -0.5
    assert c.cor_zsc[0, 1] == pytest.approx(-0.5, abs=1e-15)


def test_explained_variance_of_published_eigenvalues():
    # NAV Tabell 4: eigenvalues 9.30894, 1.51978, 1.79467, 1.09005 over 25 sorts -> 37.24, 6.08, 7.18, 4.36 %
    ev = np.array([9.30894, 1.51978, 1.79467, 1.09005])
    a = np.sqrt(ev / 25) * np.ones((25, 1))  # 25 sorts with equal loadings give exactly these column SS
    got_ev, pct = explained_variance(a)
    np.testing.assert_allclose(got_ev, ev, rtol=1e-14)
    assert np.round(pct).astype(int).tolist() == [37, 6, 7, 4]
    assert round(pct.sum()) == 55


SED = np.full((4, 4), 0.5)  # thresholds: 1.96*.5 = .98 (*), 1.288 (**), 1.6455 (***), 2.4458 (6*)


def test_stars_and_labels_three_factors():
    z = np.array([[0.0, 0.0, 0.0],    # nothing significant -> Consensus
                  [2.0, 0.0, 0.0],    # f1-f2 = f1-f3 = 2 -> *** ; f2-f3 = 0 -> "" : Distinguishes f1 only
                  [3.0, 1.5, 0.0],    # 1.5 ** , 3 6* , 1.5 ** : every pair -> Distinguishes all
                  [1.0, 0.0, 0.0]])   # 1.0 > .98 -> * twice: Distinguishes f1 only
    d = distinguishing(z, SED[:3, :3])
    assert d.pairs == ((0, 1), (0, 2), (1, 2))
    assert d.stars.tolist() == [["", "", ""], ["***", "***", ""], ["**", "6*", "**"], ["*", "*", ""]]
    assert d.labels.tolist() == ["Consensus", "Distinguishes f1 only", "Distinguishes all", "Distinguishes f1 only"]
    np.testing.assert_array_equal(d.diffs[2], [1.5, 3.0, 1.5])


def test_labels_concatenate_with_four_factors():
    # z = (3,0,0,1.5): 12 s, 13 s, 14 s, 23 n, 24 s, 34 s.
    # f1: all its pairs significant, others partly -> append "Distinguishes f1 "; f4 likewise; f2, f3 not all.
    d = distinguishing(np.array([[3.0, 0.0, 0.0, 1.5]]), SED)
    assert d.labels.tolist() == ["Distinguishes f1 Distinguishes f4 "]


def test_two_factor_labels():
    d = distinguishing(np.array([[0.0, 0.5], [0.0, 2.0]]), SED[:2, :2])
    assert d.labels.tolist() == ["Consensus", "Distinguishing"]


def test_qmethod_label_quirk_with_ten_factors_and_strict_fix():
    # factor 1 differs from all nine others. qmethod's grep("1") also takes f2_f10 ... f9_f10 as f1's pairs,
    # and those are not significant, so R gives no label; the strict rule says "Distinguishes f1 only".
    z = np.zeros((1, 10))
    z[0, 0] = 5.0
    sed = np.full((10, 10), 0.5)
    assert distinguishing(z, sed).labels.tolist() == [""]
    assert distinguishing(z, sed, labels="strict").labels.tolist() == ["Distinguishes f1 only"]


def test_factors_without_flags_are_left_out_of_qdc():
    z = np.array([[0.0, np.nan, 2.0], [1.0, np.nan, 1.0]])
    d = distinguishing(z, SED[:3, :3])
    assert d.pairs == ((0, 2),) and d.labels.tolist() == ["Distinguishing", "Consensus"]
    assert distinguishing(z[:, :2], SED[:2, :2]) is None


def test_centroid_tied_minimum_columns_reproduce_rs_assignment_quirk():
    # After reflecting sort 2, sorts 5 and 6 tie for the minimum column sum (-0.5). R reflects both at once and
    # `tmat[, oo] <- vec` refills the two columns from the 2 x 6 block in column-major order, so the working
    # matrix stops being symmetric; later single reflections copy the negated *row* into the column.
    # Expected values printed by R 4.2.2, qmethod 1.8.4: print(centroid(r, 5), digits = 17).
    r = np.array([[1, -1, .5, .5, 0, -.5], [-1, 1, -.5, -.5, 0, .5], [.5, -.5, 1, 1, -.5, 0],
                  [.5, -.5, 1, 1, -.5, 0], [0, 0, -.5, -.5, 1, .5], [-.5, .5, 0, 0, .5, 1]])
    r_out = np.array([
        [0.80292481122834192, -0.54846529594670479, 0.221879206544694396, 0.034101806373193946, -0.10060002705454450],
        [-0.80292481122834192, 0.54846529594670479, -0.221879206544694396, -0.034101806373193946, 0.10060002705454450],
        [0.80292481122834192, 0.41676680186894766, 0.356789160732053467, 0.176936550555296002, 0.13348918488992773],
        [0.80292481122834192, 0.41676680186894766, 0.356789160732053467, 0.176936550555296002, 0.13348918488992773],
        [-0.43025923400884492, -0.46648553679466637, 0.291612626102612793, -0.237884364333442400, -0.13002319583066180],
        [-0.27457767791815313, 0.46648553679466637, 0.071914886683125373, -0.237875619220933671, 0.21079700387262543]])
    ext = centroid(r, 5)
    assert ext.reflections[0] == (1, 4, 5, 5, 5)  # R's refvec for factor 1: 2, 5, 6, 6, 6 (1-based)
    np.testing.assert_allclose(ext.loadings, r_out, rtol=0, atol=1e-13)


def test_scores_kernels_batch_equals_loop_with_ties():
    # the 2-D tie rule (binary search) and the batched one (average ranks) must agree, ties included
    rng = np.random.default_rng(5)
    x = rng.integers(-2, 3, size=(4, 10, 6)).astype(float)
    a = rng.uniform(-0.9, 0.9, size=(4, 6, 3))
    fl = np.abs(a) > 0.3
    w = weights(a, fl)
    z = np.round(zscores(x, w), 1)  # rounding plants ties
    q = np.array([-2, -1, -1, 0, 0, 0, 0, 1, 1, 2])
    for ties in ("mean-rank", "strict"):
        batch = factor_arrays(z, q, ties=ties)
        for b in range(4):
            np.testing.assert_array_equal(batch[b], factor_arrays(z[b], q, ties=ties))
            np.testing.assert_allclose(zscores(x[b], w[b]), zscores(x, w)[b], atol=1e-15)
    cols = [z[b, :, j] for b in range(4) for j in range(3) if not np.isnan(z[b, :, j]).any()]
    assert any(len(np.unique(c)) < 10 for c in cols)  # the case really has ties


def test_r_colsums_are_sequential_long_double_sums():
    from qvalid.core.rsum import colsums

    # 1e16 + 1 is exact in long double (64-bit mantissa), not in double: R's colSums gives 1, a double sum 0
    m = np.array([[1e16, 2.0], [1.0, 0.0], [-1e16, -2.0]])
    np.testing.assert_array_equal(colsums(m), [1.0, 0.0])
    assert m.sum(axis=0)[0] == 0.0
    # reflected sums: sign_k * colSums(sign_i m_ik)
    sq = np.array([[0.0, 0.5, -0.25], [0.5, 0.0, 0.125], [-0.25, 0.125, 0.0]])
    sign = np.array([1.0, -1.0, 1.0])
    # reflected matrix S sq S: columns (0, -.5, -.25), (-.5, 0, -.125), (-.25, -.125, 0)
    np.testing.assert_array_equal(colsums(sq, sign), [-0.75, -0.625, -0.375])


def test_r_colsums_fast_path_is_the_sequential_sum():
    from qvalid.core.rsum import colsums, seqsum

    rng = np.random.default_rng(11)
    m = rng.standard_normal((300, 40)) * 10.0 ** rng.integers(-8, 8, size=(300, 40))
    np.testing.assert_array_equal(colsums(m), seqsum(m, axis=0).astype(float))
