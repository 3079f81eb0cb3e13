"""What qvalid says besides numbers (issue 14): every warning present where it belongs and absent elsewhere, with
its exact code; every refusal and its opposite; the public defaults; the diagnostics of each step.

Expected values are hand-computed (arithmetic next to each case), taken from R qmethod 1.8.4 (the golden files'
recorded R warnings and flags), or are relations between two runs (a boundary: N iterations allowed vs N - 1).
"""

from __future__ import annotations

import doctest
import json
import math
import re
import sys
from pathlib import Path

import numpy as np
import pytest

import qvalid.diagnostics
import qvalid.pipeline
from qvalid import QInputError, QStudy, analyze
from qvalid.core.characteristics import STAR_LEVELS, distinguishing
from qvalid.datasets import load_lipset
from qvalid.diagnostics import WARNINGS, QWarning
from qvalid.core.extract import centroid
from qvalid.core.flag import flag
from qvalid.diagnostics import flag_warnings
from _golden import load_golden
from qvalid.core.rotate import varimax

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _r import GOLDEN, KNOWN_DISAGREEMENTS, MORE_STUDIES, case_files, case_options  # noqa: E402

DOCS = Path(__file__).resolve().parents[1] / "docs" / "warnings.md"


@pytest.fixture(scope="module")
def lipset():
    return load_lipset()


def _study(*columns, like):
    """A study of the given sort columns on ``like``'s grid (ids s1.., sta_1..)."""
    return QStudy.from_array(np.column_stack(columns), grid=dict(like.grid))


# ============================================================================ the registry and its contract
def test_every_warning_is_documented_and_every_documented_code_exists():
    text = DOCS.read_text()
    documented = re.findall(r"^### `([a-z0-9-]+)`", text, flags=re.M)
    assert sorted(documented) == sorted(WARNINGS)
    for code, info in WARNINGS.items():  # each entry says where, when, what it means and what to do
        assert info.source and info.when and info.meaning and info.action, code
        section = text.split(f"### `{code}`", 1)[1].split("\n### ", 1)[0]
        for word in ("When", "Means", "Do"):
            assert f"**{word}**" in section, (code, word)


def test_qwarning_is_a_string_with_a_registered_code():
    w = QWarning("factor-without-flags", "factor(s) f3 have no flagged Q-sort")
    assert w == "factor(s) f3 have no flagged Q-sort" and "f3" in w and w.code == "factor-without-flags"
    assert w.to_dict() == {"code": "factor-without-flags", "message": "factor(s) f3 have no flagged Q-sort"}
    assert w.info is WARNINGS["factor-without-flags"]
    with pytest.raises(KeyError, match="unregistered"):
        QWarning("no-such-code", "text")


def test_docstring_examples_hold():
    # analyze()'s example prints lipset's flags per factor: R qmethod 1.8.4 flags 3, 3 and 3 sorts
    # (reference/golden/lipset/pca_varimax_pearson_k3.json)
    for module in (qvalid.pipeline, qvalid.diagnostics):
        failed, tried = doctest.testmod(module)
        assert tried > 0 and failed == 0, module.__name__


# ============================================================================ warnings: presence and absence
def test_plain_lipset_run_warns_exactly_what_r_warns(lipset):
    # R qmethod 1.8.4 on lipset, k = 3 warns once: "One or more Q-sorts with negative loadings are flagged ..."
    # (tests/test_rbridge.py, live; reference/golden/lipset/pca_varimax_pearson_k3.json, stored)
    res = analyze(lipset, 3)
    assert res.warning_codes == ("negative-loading-flagged",)
    assert res.converged and 1 <= res.varimax_iterations < 1000
    d = json.loads(res.to_json())["diagnostics"]
    assert d["warnings"] == [{"code": "negative-loading-flagged",
                              "message": "one or more Q-sorts with negative loadings are flagged; check the flags"}]
    assert d["converged"] is True and d["varimax_iterations"] == res.varimax_iterations
    assert "warning [negative-loading-flagged]: one or more" in res.summary()


def test_a_run_without_anything_to_report_has_no_warnings(lipset):
    # the same solution with the two negatively loading sorts unflagged: nothing left to warn about
    auto = analyze(lipset, 3)
    manual = auto.flags & (auto.loadings > 0)
    assert manual.sum() == auto.flags.sum() - 2
    res = analyze(lipset, 3, flags=manual, array_ties="strict")  # (qmethod's tie rule breaks the grid here)
    assert res.warnings == () and res.warning_codes == ()
    assert analyze(lipset, 3, flags=manual).warning_codes == ("factor-array-off-grid",)
    assert json.loads(res.to_json())["diagnostics"]["warnings"] == []
    assert "warning" not in res.summary()
    # automatic flags: sorts A, A, B (two copies of lipset's US1 and its US2), one principal component:
    # all three loadings positive and below 1, every sort flagged once
    res = analyze(_study(lipset.scores[:, 0], lipset.scores[:, 0], lipset.scores[:, 1], like=lipset), 1)
    assert res.flags.all() and (res.loadings > 0).all() and (res.loadings < 1).all()
    assert res.warnings == ()


def test_factor_array_off_grid_names_factor_and_scores():
    """qmethod's issue #196 by hand: six statements, grid -1, 0, 0, 1 ... with z tied across a bin edge."""
    from qvalid.diagnostics import grid_warnings

    q = np.array([-1, -1, 0, 0, 1, 1])
    ok = np.array([[-1, 0], [-1, 1], [0, -1], [0, 0], [1, -1], [1, 1]], dtype=float)
    assert grid_warnings(ok, q) == []
    bad = ok.copy()
    bad[2, 1] = 0.0  # f2: score 0 three times, -1 once
    (w,) = grid_warnings(bad, q)
    assert w.code == "factor-array-off-grid" and str(w).endswith(": f2 (score 0 given to 3 statements, the grid has 2)")
    assert "f1" not in w
    two = ok.copy()
    two[:, 0] = [-1, -1, -1, 1, 1, 1]  # f1: -1 and +1 over-filled, 0 under-filled; f2 fine
    (w,) = grid_warnings(two, q)
    assert str(w).endswith(": f1 (score -1 given to 3 statements, the grid has 2; score +1 given to 3 statements, "
                           "the grid has 2)")
    nan = bad.copy()
    nan[:, 1] = np.nan  # a flagless factor has no array: nothing to say
    assert grid_warnings(nan, q) == []


def test_warnings_agree_with_the_ones_r_recorded_in_every_golden_case():
    """Presence and absence against R: the golden files store R qmethod 1.8.4's warnings for each case."""
    paths = sorted((GOLDEN / "lipset").glob("*.json")) + [p for s in MORE_STUDIES for p in case_files(s)]
    paths += sorted(p for p in (GOLDEN / "regressions").glob("*/*.json") if not p.name.startswith("correlation"))
    compared = {"negative-loading-flagged": [0, 0], "factor-without-flags": [0, 0]}  # cases with, without
    for path in paths:
        rr = load_golden(path)
        if rr.route is None or f"{path.parent.name}/{path.stem}" in KNOWN_DISAGREEMENTS:
            continue
        try:
            res = analyze(rr.study, rr.nfactors, **case_options(rr))
        except QInputError:  # R never finished (known disagreement 6; tests/test_golden_more.py)
            continue
        said = " ".join(rr.warnings + rr.step_warnings)
        for code, r_text in (("negative-loading-flagged", "negative loadings are flagged"),
                             ("factor-without-flags", "have no flagged Q-sorts")):
            assert (code in res.warning_codes) == (r_text in said), (path, code, rr.warnings)
            compared[code][r_text not in said] += 1
        assert "sort-flagged-on-several-factors" not in res.warning_codes  # majority rule: never twice
    # both outcomes of both warnings really occur (at the time of writing, of 159 cases: negative flags 152 with,
    # 7 without; flagless factors 42 with, 117 without)
    assert all(w >= 20 and wo >= 5 for w, wo in compared.values()), compared


def test_negative_and_multiple_flag_warnings_by_hand():
    a = np.array([[0.6, 0.1], [0.1, 0.7], [0.5, 0.5]])
    assert flag_warnings(a, [[1, 0], [0, 1], [0, 0]]) == []
    assert [w.code for w in flag_warnings(a * [[-1], [1], [1]], [[1, 0], [0, 1], [0, 0]])] == [
        "negative-loading-flagged"]
    # a negative loading that is NOT flagged does not count, nor does a flagged loading of exactly 0 (manual flags;
    # R's qflag tests loa < 0)
    assert flag_warnings([[0.0, 0.5], [0.1, 0.6]], [[1, 0], [0, 1]]) == []
    assert flag_warnings(a * [[1], [1], [-1]], [[1, 0], [0, 1], [0, 0]]) == []
    # one sort on two factors (row 2): exactly that warning; one flag per sort is fine
    assert [w.code for w in flag_warnings(a, [[1, 0], [0, 1], [1, 1]])] == ["sort-flagged-on-several-factors"]


def test_several_factors_warning_from_analyze(lipset):
    # without the majority rule a loading pair above the threshold flags a sort twice
    res = analyze(lipset, 3, threshold=0.15, majority=False)
    assert (res.flags.sum(axis=1) > 1).any()
    assert "sort-flagged-on-several-factors" in res.warning_codes
    res = analyze(lipset, 3, threshold=0.15)  # the same threshold with the majority rule: never twice
    assert (res.flags.sum(axis=1) <= 1).all() and "sort-flagged-on-several-factors" not in res.warning_codes


def test_factor_without_flags_names_exactly_the_empty_factors(lipset):
    # golden pca_none_pearson_k4: R flags no sort on f3 (and warns "no flagged Q-sorts")
    res = analyze(lipset, 4, rotation="none")
    assert res.flags.sum(axis=0).tolist()[2] == 0 and res.flags[:, [0, 1, 3]].any(axis=0).all()
    w = [w for w in res.warnings if w.code == "factor-without-flags"]
    assert w == ["factor(s) f3 have no flagged Q-sort: their z-scores and factor arrays are undefined (NaN)"]
    assert "qdc-fewer-than-two-factors" not in res.warning_codes  # three factors with flags remain


def test_fewer_than_two_flagged_factors(lipset):
    # |a| >= .99: no lipset loading is that high, so no factor has flags: both factors named, no qdc
    res = analyze(lipset, 2, threshold=0.99)
    assert not res.flags.any() and res.distinguishing is None
    assert res.warning_codes == ("factor-without-flags", "qdc-fewer-than-two-factors")
    assert "f1, f2 have no flagged" in res.warnings[0]
    # one factor: no qdc either, but that is what one factor means: no warning (R only prints a message)
    res = analyze(lipset, 1)
    assert res.distinguishing is None and "qdc-fewer-than-two-factors" not in res.warning_codes


def test_varimax_non_convergence_is_a_warning_and_a_diagnostic(lipset):
    n = analyze(lipset, 3).varimax_iterations
    res = analyze(lipset, 3, varimax_max_iter=n)  # converges on its last allowed iteration
    assert res.converged and res.varimax_iterations == n and "varimax-not-converged" not in res.warning_codes
    res = analyze(lipset, 3, varimax_max_iter=n - 1)
    assert not res.converged and res.varimax_iterations == n - 1
    assert [w for w in res.warnings if w.code == "varimax-not-converged"] == [
        f"varimax did not converge in {n - 1} iterations"]
    res = analyze(lipset, 3, varimax_max_iter=1)
    assert (res.varimax_iterations, res.converged) == (1, False)
    assert json.loads(res.to_json())["diagnostics"]["converged"] is False
    assert "NOT converged" in res.summary()
    # no rotation: nothing iterated, nothing to report
    res = analyze(lipset, 3, rotation="none")
    assert (res.varimax_iterations, res.converged) == (0, True)


def test_one_centroid_factor_is_not_rotated_and_says_so(lipset):
    res = analyze(lipset, 1, extraction="centroid")
    assert res.warning_codes.count("one-factor-not-rotated") == 1
    np.testing.assert_array_equal(res.loadings, res.unrotated_loadings)
    assert "one-factor-not-rotated" not in analyze(lipset, 1, extraction="centroid", rotation="none").warning_codes
    assert "one-factor-not-rotated" not in analyze(lipset, 1).warning_codes  # psych never rotates one component
    assert "one-factor-not-rotated" not in analyze(lipset, 2, extraction="centroid").warning_codes


def test_flagged_loading_of_exactly_one(lipset):
    # two identical sorts. Centroid by hand on r = [[1, 1], [1, 1]]: column sums (1, 1), d = 1/(2-1) = 1,
    # t = 1 + 1 = 2, f = 2/sqrt(4) = 1 exactly (|1 - 1^2| = 0 < spc: no iteration)
    np.testing.assert_array_equal(centroid(np.ones((2, 2)), 1).loadings, [[1.0], [1.0]])
    # analyze() computes cor() as R does: 1 - 2^-52 for two identical sorts. The principal component's loadings
    # sqrt((1 + r)/2) then round to exactly 1 (warning), the centroid's stay one ulp below 1 (no warning)
    a = lipset.scores[:, 0]
    st = _study(a, a, like=lipset)
    res = analyze(st, 1)
    assert res.flags.all() and (res.loadings == 1.0).all()
    assert res.warning_codes == ("flagged-loading-unit",)
    # the limit of the weights: the factor is the (common) sort itself, standardised
    np.testing.assert_allclose(res.zscores[:, 0], (a - a.mean()) / a.std(ddof=1), atol=1e-15)
    below = analyze(st, 1, extraction="centroid", rotation="none")
    assert below.flags.all() and (below.loadings < 1).all() and (below.loadings > 1 - 1e-15).all()
    assert below.warnings == ()
    # a mirrored sort: loadings exactly -1 and 1
    res = analyze(_study(a, -a, like=lipset), 1)
    assert sorted(res.loadings[:, 0].tolist()) == [-1.0, 1.0]
    assert res.warning_codes == ("negative-loading-flagged", "flagged-loading-unit")
    # just below 1: A, A, B gives flagged centroid loadings .99999566 (not +-1): no warning
    res = analyze(_study(a, a, lipset.scores[:, 1], like=lipset), 1, extraction="centroid", rotation="none")
    assert res.flags.all() and 0.99999 < res.loadings.max() < 1
    assert res.warnings == ()


# ============================================================================ centroid: warnings and diagnostics
R3 = np.array([[1.0, 0.5, 0.3], [0.5, 1.0, 0.4], [0.3, 0.4, 1.0]])


def test_centroid_residual_exhaustion_gives_zero_factors_and_one_warning():
    # three perfectly correlated sorts: column sums (2, 2, 2), d = 2/2 = 1, t = 3, f = 3/sqrt(9) = 1 (converged:
    # |1 - 1^2| = 0, no iteration). Residual 1 - 1*1 = 0 everywhere: factors 2 and 3 are exactly zero.
    ext = centroid(np.ones((3, 3)), 3)
    np.testing.assert_array_equal(ext.loadings, [[1, 0, 0]] * 3)
    np.testing.assert_array_equal(ext.eigenvalues, [3, 0, 0])
    assert ext.iterations == (0, 0, 0) and ext.reflections == ((), (), ())
    assert [w.code for w in ext.warnings] == ["centroid-residuals-exhausted"]
    assert "after 1 factor(s): factors 2..3 are zero" in ext.warnings[0]
    # k = 1 on the same matrix: nothing is exhausted, nothing to say
    assert centroid(np.ones((3, 3)), 1).warnings == ()


def test_centroid_of_uncorrelated_sorts_is_exhausted_from_the_start():
    # identity matrix: every off-diagonal correlation is 0, there is no common factor at all (R loops forever)
    ext = centroid(np.eye(3), 2)
    np.testing.assert_array_equal(ext.loadings, np.zeros((3, 2)))
    assert [w.code for w in ext.warnings] == ["centroid-residuals-exhausted"]
    assert "after 0 factor(s): factors 1..2 are zero" in ext.warnings[0]


def test_centroid_more_factors_than_sorts_warns_once(lipset):
    assert centroid(R3, 3).warnings == ()  # k = n: allowed silently
    ext = centroid(np.ones((3, 3)), 4)
    assert [w.code for w in ext.warnings] == ["centroid-nfactors-above-sorts", "centroid-residuals-exhausted"]
    assert ext.warnings[0].startswith("nfactors=4 is larger than the number of Q-sorts (3)")
    res = analyze(lipset, 10, extraction="centroid", rotation="none")
    assert res.warning_codes.count("centroid-nfactors-above-sorts") == 1
    assert "centroid-nfactors-above-sorts" not in analyze(lipset, 9, extraction="centroid",
                                                          rotation="none").warning_codes


def test_horst55_non_convergence_warns(lipset):
    from qvalid.core.correlation import correlate
    from qvalid.core.extract import horst55_centroid

    r = correlate(lipset.scores)
    # KADE's own unit test (horstMain.test.js: lipset, 7 factors, NL = 30): the communalities do not converge
    ext = horst55_centroid(r, 7, n_statements=33)
    assert [w.code for w in ext.warnings] == ["horst55-not-converged"]
    assert ext.warnings[0] == "Horst 5.5: the communalities did not converge in 30 rounds"
    assert horst55_centroid(r, 2, n_statements=33).warnings == ()  # two factors converge
    assert "horst55-not-converged" in analyze(lipset, 7, extraction="horst55").warning_codes


def _centroid_iterations_by_hand(r, spc):
    """Communality iterations of the first centroid factor (R/centroid.R:26-35), counted; r has no reflection."""
    w = r - np.diag(np.diag(r))
    cs = w.sum(axis=0)
    d = cs / (len(cs) - 1)
    f = (cs + d) / math.sqrt((cs + d).sum())
    count = 0
    while not (np.abs(d - f * f) < spc).all():
        d = f * f
        f = (cs + d) / math.sqrt((cs + d).sum())
        count += 1
    return count, f


def test_centroid_iterations_and_the_iteration_guard():
    n, f = _centroid_iterations_by_hand(R3, 1e-5)
    assert n >= 3  # a real iteration count, not the trivial 0 of spc = 1
    ext = centroid(R3, 1)
    assert ext.iterations == (n,)
    np.testing.assert_allclose(ext.loadings[:, 0], f, atol=1e-15)
    assert centroid(R3, 1, max_iter=n).iterations == (n,)  # the guard allows exactly max_iter iterations
    with pytest.raises(FloatingPointError, match=f"did not converge in {n - 1} iterations"):
        centroid(R3, 1, max_iter=n - 1)


def test_reflection_guard_allows_exactly_max_reflections():
    # one reflection needed (test_numerics.test_centroid_reflection_by_hand): sort 0
    r = np.array([[1.0, -0.5, -0.4], [-0.5, 1.0, 0.3], [-0.4, 0.3, 1.0]])
    assert centroid(r, 1, max_reflections=1).reflections == ((0,),)
    with pytest.raises(FloatingPointError, match="no positive manifold after 0 reflections"):
        centroid(r, 1, max_reflections=0)
    # the default guard is 50 n + 1000 reflections: 1150 for n = 3 (sort 2's column sum is exactly 0)
    r0 = np.array([[1.0, 0.5, 0.0], [0.5, 1.0, 0.0], [0.0, 0.0, 1.0]])
    with pytest.raises(FloatingPointError, match="after 1150 reflections"):
        centroid(r0, 1)


# ============================================================================ refusals and their opposites
def test_manual_flags_as_integers_are_accepted_and_other_values_refused(lipset):
    auto = analyze(lipset, 3)
    as_int = analyze(lipset, 3, flags=auto.flags.astype(np.int64))
    np.testing.assert_array_equal(as_int.flags, auto.flags)
    assert as_int.flags.dtype == bool and as_int.manual_flags
    np.testing.assert_array_equal(as_int.zscores, auto.zscores)
    np.testing.assert_array_equal(analyze(lipset, 3, flags=auto.flags.astype(float)).flags, auto.flags)
    for bad in (auto.flags * 2, auto.flags * 0.5, auto.flags - 1):
        with pytest.raises(QInputError, match="manual flags must be true/false"):
            analyze(lipset, 3, flags=bad)


def test_centroid_refuses_an_asymmetric_matrix_only():
    bad = R3.copy()
    bad[0, 1] += 1e-3
    with pytest.raises(ValueError, match="symmetric"):
        centroid(bad, 1)
    with pytest.raises(ValueError, match="symmetric"):
        centroid(R3[:, :2], 1)
    # rounding-level asymmetry (a product computed in two orders) is accepted, with the same result
    close = R3.copy()
    close[0, 1] = np.nextafter(close[0, 1], 1.0)
    np.testing.assert_allclose(centroid(close, 2).loadings, centroid(R3, 2).loadings, atol=1e-14)


def test_centroid_symmetry_tolerance_is_100_machine_epsilons():
    # 0.5 + j eps is exact for whole and half j (the spacing of doubles in [0.5, 1) is eps/2), and so is the
    # difference to 0.5: an asymmetry of exactly 100 eps is accepted, 100.5 eps is not
    eps = np.finfo(float).eps
    for j, ok in ((100, True), (100.5, False)):
        m = R3.copy()
        m[0, 1] = 0.5 + j * eps
        assert m[0, 1] - m[1, 0] == j * eps
        if ok:
            assert centroid(m, 1).loadings.shape == (3, 1)
        else:
            with pytest.raises(ValueError, match="symmetric"):
                centroid(m, 1)


def test_principal_refuses_more_components_than_sorts():
    from qvalid.core.extract import principal

    assert principal(R3, 3).loadings.shape == (3, 3)
    with pytest.raises(ValueError, match="nfactors=4 exceeds the number of Q-sorts \\(3\\)"):
        principal(R3, 4)


def test_kernels_refuse_unknown_rule_names():
    from qvalid.core.correlation import correlate
    from qvalid.core.scores import factor_arrays

    x = np.array([[1, 2], [2, 1], [3, 4], [4, 3]])
    with pytest.raises(ValueError, match="unknown correlation method 'minres'"):
        correlate(x, method="minres")
    z = np.array([[0.1, 0.2], [0.5, 0.1], [0.9, 0.3]])
    with pytest.raises(ValueError, match="unknown tie rule 'kade'"):
        factor_arrays(z, [-1, 0, 1], ties="kade")
    with pytest.raises(ValueError, match="unknown label rule 'kade'"):
        distinguishing(np.zeros((1, 3)), np.full((3, 3), 0.5), labels="kade")


def test_statement_texts_must_match_the_statements(lipset):
    with pytest.raises(QInputError, match="2 statement texts for 33 statements"):
        lipset.replace(statement_texts=("a", "b"))
    texts = tuple(f"text {i}" for i in range(33))
    assert lipset.replace(statement_texts=texts).statement_texts == texts


def test_id_counts_must_match_the_matrix(lipset):
    ids = lipset.statement_ids
    with pytest.raises(QInputError, match="32 statement ids for 33 statement rows"):
        QStudy(lipset.scores, ids[:-1], lipset.sort_ids)
    with pytest.raises(QInputError, match="8 sort ids for 9 sort columns"):
        QStudy(lipset.scores, ids, lipset.sort_ids[:-1])
    ok = QStudy(lipset.scores, ids, lipset.sort_ids)
    assert ok.statement_ids == ids and ok.sort_ids == lipset.sort_ids


def test_scores_must_be_a_matrix_of_numbers():
    with pytest.raises(QInputError, match="scores must be a 2-D matrix \\(statements x sorts\\), got 1 dimension"):
        QStudy(np.array([-1, 0, 1]), ("a", "b", "c"), ("s1",))
    grid = {-1: 1, 0: 1, 1: 1}
    complex_scores = np.array([[-1, 1], [0, 0], [1, -1]]) + 0j  # whole real parts, yet not a score matrix
    with pytest.raises(QInputError, match="scores must be integers, got dtype complex128"):
        QStudy(complex_scores, ("a", "b", "c"), ("s1", "s2"), grid=grid)
    ok = QStudy(complex_scores.real, ("a", "b", "c"), ("s1", "s2"), grid=grid)  # floats with whole values are fine
    assert ok.scores.dtype == np.int64 and ok.scores[:, 0].tolist() == [-1, 0, 1]


def test_a_bad_cell_beyond_the_ids_is_located_by_position():
    # 8 sort ids for 9 columns and a missing value in the 9th column: the cell is named by position, "#9",
    # before the id count is checked (cells are converted first)
    scores = (np.arange(36).reshape(4, 9) % 3).astype(float)
    scores[0, 8] = np.nan
    with pytest.raises(QInputError, match="sort #9, statement a: missing value"):
        QStudy(scores, tuple("abcd"), tuple(f"s{i}" for i in range(8)), grid={0: 1, 1: 1, 2: 2}, forced=False)


def test_centroid_refuses_column_sums_that_overflow():
    # entries of -1e308: each column sum is -2e308, beyond the largest double (-inf)
    big = np.full((3, 3), -1e308)
    np.fill_diagonal(big, 1.0)
    with np.errstate(over="ignore"), pytest.raises(FloatingPointError, match="column sums are not finite"):
        centroid(big, 1)


def test_varimax_stopping_rule_is_strict_as_rs():
    # R's stats::varimax stops when d < dpast * (1 + eps), strictly. On zero loadings (no Kaiser normalisation)
    # B = 0, so d = 0 at every iteration and 0 < 0 never holds: all max_iter iterations, not converged
    with np.errstate(invalid="ignore", divide="ignore"):  # 0/0 in the (diagnostic) stopping margins
        one = varimax(np.zeros((4, 2)), normalize=False, max_iter=5)
        batch = varimax(np.zeros((2, 4, 2)), normalize=False, max_iter=5)
    assert (one.n_iter, one.converged) == (5, False)
    assert batch.n_iter.tolist() == [5, 5] and not batch.converged.any()


def test_varimax_refuses_when_lapack_fails():
    # NaN loadings without Kaiser normalisation reach LAPACK, which reports an illegal value (info < 0)
    a = np.array([[np.nan, 0.5], [0.3, 0.2], [0.1, 0.9]])
    with np.errstate(invalid="ignore"), pytest.raises(np.linalg.LinAlgError, match="LAPACK info"):
        varimax(a, normalize=False)
    with np.errstate(invalid="ignore"), pytest.raises(np.linalg.LinAlgError):
        varimax(a[None], normalize=False)  # batched: numpy's SVD refuses too
    ok = varimax(np.nan_to_num(a), normalize=False)  # the same matrix without the NaN rotates
    assert np.isfinite(ok.loadings).all()


def test_zero_communality_is_refused_only_with_kaiser_normalisation():
    # three mutually uncorrelated sorts (r = I): with 2 principal components one sort has no loading at all
    scores = np.array([[-1, 0, 0, 0, 0, 0, 1, 0], [0, -1, 0, 0, 0, 0, 0, 1], [0, 0, -1, 0, 1, 0, 0, 0]]).T
    st = QStudy.from_array(scores, grid={-1: 1, 0: 6, 1: 1})
    np.testing.assert_allclose(np.corrcoef(scores.T), np.eye(3), atol=1e-15)  # no statement is non-zero in two sorts
    with pytest.raises(QInputError, match="sort s1: zero communality") as err:
        analyze(st, 2)
    assert "also" not in str(err.value)  # one such sort
    with pytest.raises(QInputError, match="Kaiser normalisation divides by 0; also s2, s3;"):
        analyze(st, 2, extraction="centroid")  # centroid: every factor is zero (exhausted), all three named
    res = analyze(st, 2, varimax_normalize=False)  # nothing is divided: R's varimax(normalize = FALSE) works too
    np.testing.assert_array_equal(res.loadings[0], [0.0, 0.0])


def test_analyze_turns_a_varimax_failure_into_one_input_error(lipset, monkeypatch):
    def failing(*args, **kw):
        raise np.linalg.LinAlgError("varimax: SVD did not converge (LAPACK info=-4)")

    monkeypatch.setattr(qvalid.pipeline, "varimax", failing)
    with pytest.raises(QInputError, match="varimax failed: varimax: SVD did not converge"):
        analyze(lipset, 3, varimax_normalize=False)


def test_centroid_failure_becomes_an_input_error(lipset):
    # sorts A, A, B, B: rank 2; after two centroid factors the residual keeps a column sum of exactly 0 (not
    # rounding noise), where R's centroid() loops forever
    a, b = lipset.scores[:, 0], lipset.scores[:, 1]
    st = _study(a, a, b, b, like=lipset)
    with pytest.raises(QInputError, match="no positive manifold"):
        analyze(st, 3, extraction="centroid")
    assert analyze(st, 2, extraction="centroid").loadings.shape == (4, 2)


# ============================================================================ public defaults
def test_flag_defaults_majority_and_z():
    cut = 1.96 / math.sqrt(33)  # 0.341192...
    a = np.array([[0.6, 0.4],                 # .36 > .16: f1; f2 is significant (.4 > cut) but a minority
                  [0.5, 0.5],                 # both significant, .25 > .25 is false: no majority, no flag
                  [cut * (1 + 1e-6), 0.0],    # just above 1.96/sqrt(33): flagged
                  [cut * (1 - 1e-6), 0.0]])   # just below: not flagged
    np.testing.assert_array_equal(flag(a, 33), [[1, 0], [0, 0], [1, 0], [0, 0]])
    # the majority rule alone decides rows 0 and 1: without it both significant loadings are flagged
    np.testing.assert_array_equal(flag(a, 33, majority=False)[:2], [[1, 1], [1, 1]])
    # z and the statement count enter only as z/sqrt(n): z = 1.96 * sqrt(2) with 66 statements is the same cut
    np.testing.assert_array_equal(flag(a, 66, z=1.96 * math.sqrt(2)), flag(a, 33))


def test_flag_on_a_batch_flags_each_item_by_its_own_rows():
    # the majority rule compares a loading with the rest of ITS row (sort), in every item of a batch
    rng = np.random.default_rng(14)
    batch = rng.uniform(-0.9, 0.9, size=(3, 5, 2))
    for threshold in (None, 0.3):
        got = flag(batch, 20, threshold=threshold)
        np.testing.assert_array_equal(got, np.stack([flag(b, 20, threshold=threshold) for b in batch]))
    row = np.array([[[0.6, 0.55], [0.2, 0.1]]])  # .36 > .3025: the first row's f1 only; .2 < 1.96/sqrt(20)
    np.testing.assert_array_equal(flag(row, 20), [[[1, 0], [0, 0]]])


def test_correlations_accept_any_number_of_batch_dimensions():
    from qvalid.core.correlation import correlate

    x = np.random.default_rng(3).integers(-3, 4, size=(2, 5, 12, 4))  # batch sizes differ from n_sorts
    for method in ("pearson", "spearman", "kendall"):
        got = correlate(x, method=method)
        assert got.shape == (2, 5, 4, 4)
        for i in range(2):
            for j in range(5):
                np.testing.assert_allclose(got[i, j], correlate(x[i, j], method=method), rtol=0, atol=1e-15)


def test_centroid_extracts_seven_factors_by_default_as_qmethod(lipset):
    # qmethod R/centroid.R: centroid(tmat, nfactors = 7, spc)
    from qvalid.core.correlation import correlate

    assert centroid(correlate(lipset.scores)).loadings.shape == (9, 7)


def test_options_defaults_are_qmethods(lipset):
    from qvalid.options import Options

    o = Options()
    assert (o.flag_z, o.threshold, o.majority, o.varimax_max_iter, o.varimax_eps, o.spc) == (
        1.96, None, True, 1000, 1e-5, 1e-5)
    res = analyze(lipset, 3)
    np.testing.assert_array_equal(res.flags, flag(res.loadings, 33, z=1.96, majority=True))


def test_no_rotation_is_the_identity_of_the_right_shape(lipset):
    from qvalid.core.rotate import no_rotation

    res = analyze(lipset, 3, rotation="none")
    np.testing.assert_array_equal(res.rotation_matrix, np.eye(3))
    np.testing.assert_array_equal(res.loadings, res.unrotated_loadings)
    assert varimax(np.ones((3, 1))).matrix.shape == (1, 1)  # one factor: nothing to rotate
    rot = no_rotation(np.ones((4, 3, 2)))
    assert rot.matrix.shape == (4, 2, 2) and (rot.matrix == np.eye(2)).all()


def test_batched_varimax_uses_exactly_max_iter_iterations(lipset):
    pca = analyze(lipset, 3, rotation="none").unrotated_loadings
    cen = analyze(lipset, 3, extraction="centroid", rotation="none").unrotated_loadings
    n_pca, n_cen = varimax(pca).n_iter, varimax(cen).n_iter
    assert n_pca != n_cen
    lo, hi = sorted((n_pca, n_cen))
    batch = np.stack([pca, cen])
    rot = varimax(batch, max_iter=lo)  # the faster item converges on its last allowed iteration, the other stops
    assert rot.n_iter.tolist() == [lo, lo] and rot.converged.tolist() == [n_pca == lo, n_cen == lo]
    rot = varimax(batch, max_iter=hi)  # both converge; the faster one stopped early and was not updated again
    assert rot.n_iter.tolist() == [n_pca, n_cen] and rot.converged.all()
    np.testing.assert_allclose(rot.loadings[0], varimax(pca).loadings, atol=1e-12)
    rot = varimax(batch, max_iter=1)
    assert rot.n_iter.tolist() == [1, 1] and not rot.converged.any()
    # one item: the same boundary (converged on the last allowed iteration; one fewer is not converged)
    assert (varimax(pca, max_iter=n_pca).n_iter, varimax(pca, max_iter=n_pca).converged) == (n_pca, True)
    assert (varimax(pca, max_iter=n_pca - 1).n_iter, varimax(pca, max_iter=n_pca - 1).converged) == (n_pca - 1, False)


# ============================================================================ distinguishing thresholds
@pytest.mark.parametrize("level", range(len(STAR_LEVELS)))
def test_a_difference_of_exactly_the_threshold_gets_no_star(level):
    # SED 0.5: the threshold m * 0.5 is exact (halving), and z = (m * 0.5, 0) makes the difference exactly it.
    # qmethod R/qdc.R:37-45 uses a strict ">": exactly m x SED stays at the level below.
    mult, star = STAR_LEVELS[level]
    below = STAR_LEVELS[level - 1][1] if level else ""
    at = mult * 0.5
    z = np.array([[at, 0.0], [np.nextafter(at, np.inf), 0.0], [-at, 0.0], [np.nextafter(-at, -np.inf), 0.0]])
    d = distinguishing(z, np.full((2, 2), 0.5))
    assert d.diffs[:, 0].tolist() == [at, np.nextafter(at, np.inf), -at, np.nextafter(-at, -np.inf)]
    assert d.stars[:, 0].tolist() == [below, star, below, star]
    assert d.labels.tolist()[1] == "Distinguishing"
    assert d.labels.tolist()[0] == ("Distinguishing" if level else "Consensus")
