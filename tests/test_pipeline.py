"""analyze(): degenerate cases, options, the JSON contract and the results object."""

import json
import math

import numpy as np
import pytest

from qvalid import QInputError, QStudy, analyze
from qvalid.pipeline import reorder_factors
from qvalid.datasets import load_lipset
from qvalid.results import JSON_KEYS


@pytest.fixture(scope="module")
def lipset():
    return load_lipset()


def test_json_contract_keys_and_shapes(lipset):
    res = analyze(lipset, 3)
    d = json.loads(res.to_json())
    assert tuple(d) == JSON_KEYS
    assert d["factors"] == ["f1", "f2", "f3"]
    assert np.array(d["correlation"]).shape == (9, 9)
    assert np.array(d["loadings"]).shape == (9, 3) and np.array(d["unrotated_loadings"]).shape == (9, 3)
    assert np.array(d["flags"]).dtype == bool
    assert np.array(d["zscores"]).shape == (33, 3)
    assert all(isinstance(v, int) for row in d["factor_arrays"] for v in row)
    assert set(d["characteristics"]) == {"av_rel_coef", "nload", "eigenvals", "expl_var", "reliability",
                                         "se_fscores"}
    assert len(d["unrotated_eigenvalues"]) == 3
    assert set(d["diagnostics"]) == {"varimax_iterations", "converged", "warnings", "alignment", "rotation"}
    assert d["diagnostics"]["rotation"] == {"name": "varimax", "oblique": False, "steps": [], "target": None,
                                            "text": "varimax"}
    assert d["factor_correlations"] is None
    per = d["distinguishing"]["per_statement"]
    assert [p["statement"] for p in per] == list(lipset.statement_ids) and set(per[0]["diffs"]) == {"f1_f2", "f1_f3", "f2_f3"}
    assert d["options"]["extraction"] == "pca" and d["options"]["nfactors"] == 3


def test_json_numbers_are_full_precision(lipset):
    res = analyze(lipset, 3)
    d = json.loads(res.to_json())
    assert np.array_equal(np.array(d["loadings"]), res.loadings)  # bit-for-bit round trip
    assert np.array_equal(np.array(d["zscores"]), res.zscores)


def test_factor_without_flags_gives_nan_and_a_warning_not_a_crash(lipset):
    # golden pca_none_pearson_k4: f3 has no flagged sort; R's qdc() stops there, qvalid continues
    res = analyze(lipset, 4, rotation="none")
    assert res.flags[:, 2].sum() == 0
    assert np.isnan(res.zscores[:, 2]).all() and np.isnan(res.factor_arrays[:, 2]).all()
    assert any("f3" in w and "no flagged" in w for w in res.warnings)
    assert res.distinguishing.factors == (0, 1, 3)
    d = json.loads(res.to_json())
    assert d["zscores"][0][2] is None and d["factor_arrays"][0][2] is None
    assert res.zsc_n["fsc_f3"].isna().all()


def test_one_factor_both_extractions(lipset):
    for extraction in ("pca", "centroid"):
        res = analyze(lipset, 1, extraction=extraction)
        assert res.loadings.shape == (9, 1) and res.distinguishing is None and res.qdc is None
    res = analyze(lipset, 1, extraction="centroid")
    assert any("nothing to rotate" in w for w in res.warnings)


def test_more_factors_than_the_rank():
    # 4 statements: the 6 x 6 correlation matrix has rank <= 3; 5 components still come out (tiny ones)
    rng = np.random.default_rng(2)
    scores = np.column_stack([rng.permutation([-1, 0, 0, 1]) for _ in range(6)])
    scores[:, 0] = [-1, 0, 0, 1]
    scores[:, 1] = [1, 0, 0, -1]
    st = QStudy.from_array(scores)
    res = analyze(st, 5, rotation="none")
    assert np.isfinite(res.loadings).all()
    np.testing.assert_allclose(res.unrotated_eigenvalues[3:], 0, atol=1e-12)
    res = analyze(st, 5, extraction="centroid", rotation="none")
    assert res.loadings.shape == (6, 5)


def test_nfactors_checks(lipset):
    with pytest.raises(QInputError, match="exceeds the number of Q-sorts"):
        analyze(lipset, 10)
    with pytest.raises(QInputError, match="whole number"):
        analyze(lipset, 0)
    with pytest.raises(QInputError, match="not one of"):
        analyze(lipset, 2, extraction="minres")
    with pytest.raises(QInputError, match="unknown option"):
        analyze(lipset, 2, rotate="varimax")


def test_manual_flags_replace_automatic_ones(lipset):
    auto = analyze(lipset, 3)
    manual = auto.flags.copy()
    manual[0] = [True, True, False]  # US1 on two factors
    res = analyze(lipset, 3, flags=manual)
    np.testing.assert_array_equal(res.flags, manual)
    assert res.manual_flags and any("two or more factors" in w for w in res.warnings)
    with pytest.raises(QInputError, match="shape"):
        analyze(lipset, 3, flags=manual[:, :2])


def test_threshold_rule(lipset):
    res = analyze(lipset, 3, threshold=0.8)
    assert (np.abs(res.loadings[res.flags]) >= 0.8).all()
    assert res.flags.sum() < analyze(lipset, 3).flags.sum()


def test_strict_arrays_always_fill_the_grid(lipset):
    res = analyze(lipset, 3, array_ties="strict")
    for j in range(3):
        np.testing.assert_array_equal(np.sort(res.factor_arrays[:, j]), lipset.qscores)


def test_unrotated_eigenvalues_are_rotation_invariant_in_total(lipset):
    res = analyze(lipset, 3, extraction="centroid")
    # varimax is orthogonal: the total of column sums of squares is kept
    assert res.unrotated_eigenvalues.sum() == pytest.approx(res.characteristics.eigenvals.sum(), abs=1e-12)
    np.testing.assert_allclose(res.unrotated_expl_var, 100 * res.unrotated_eigenvalues / 9, atol=1e-12)


def test_tables_carry_qmethod_labels(lipset):
    res = analyze(lipset, 2)
    assert list(res.loa.columns) == ["f1", "f2"] and list(res.loa.index) == list(lipset.sort_ids)
    assert list(res.flagged.columns) == ["flag_f1", "flag_f2"]
    assert list(res.zsc.columns) == ["zsc_f1", "zsc_f2"] and list(res.zsc_n.columns) == ["fsc_f1", "fsc_f2"]
    assert list(res.qdc.columns) == ["dist.and.cons", "f1_f2", "sig_f1_f2"]
    assert list(res.f_char["characteristics"].columns) == ["av_rel_coef", "nload", "eigenvals", "expl_var",
                                                         "reliability", "se_fscores"]
    assert "Loadings" in res.summary() and "f2" in str(res)


def test_results_are_read_only(lipset):
    res = analyze(lipset, 2)
    with pytest.raises(ValueError):
        res.loadings[0, 0] = 1.0
    assert math.isfinite(res.loadings[0, 0])


def test_reorder_factors_renames_reflects_and_inverts_exactly(lipset):
    res = analyze(lipset, 3)
    new = reorder_factors(res, [2, 0, 1], [1, -1, 1])  # new f1 = f3, f2 = -f1, f3 = f2
    assert np.array_equal(new.loadings, res.loadings[:, [2, 0, 1]] * [1, -1, 1])
    assert np.array_equal(new.zscores, res.zscores[:, [2, 0, 1]] * [1, -1, 1])  # negated exactly
    assert np.array_equal(new.flags, res.flags[:, [2, 0, 1]])
    assert new.alignment == {"permutation": [2, 0, 1], "signs": [1, -1, 1]}
    # a pure renaming renames the labels: old "Distinguishes f3 only" is new f1's
    renamed = reorder_factors(res, [2, 0, 1], [1, 1, 1])
    old = {"Distinguishes f3 only": "Distinguishes f1 only", "Distinguishes f1 only": "Distinguishes f2 only",
           "Distinguishes f2 only": "Distinguishes f3 only"}
    assert [old.get(x, x) for x in res.distinguishing.labels] == list(renamed.distinguishing.labels)
    back = reorder_factors(new, [1, 2, 0], [-1, 1, 1])
    for name in ("loadings", "flags", "weights", "zscores", "factor_arrays", "rotation_matrix"):
        assert np.array_equal(getattr(back, name), getattr(res, name)), name
    assert list(back.distinguishing.labels) == list(res.distinguishing.labels)
    with pytest.raises(QInputError, match="need a permutation of 0..2"):
        reorder_factors(res, [0, 0, 1], [1, 1, 1])


def test_reorder_factors_keeps_the_warnings_that_are_not_about_flags(lipset):
    """reorder_factors recomputes the flag warnings for the new signs and keeps every other warning as it was
    (here qvalid's note that R qmethod does not rotate centroid factors obliquely)."""
    import warnings as pywarnings

    with pywarnings.catch_warnings():
        pywarnings.simplefilter("ignore")
        res = analyze(lipset, 3, extraction="centroid", rotation="oblimin")
    codes = [w.code for w in res.warnings]
    assert "rotation-beyond-qmethod" in codes and codes.count("negative-loading-flagged") == 1
    again = [w.code for w in reorder_factors(res, [1, 0, 2], [1, -1, 1]).warnings]
    assert "rotation-beyond-qmethod" in again and again.count("negative-loading-flagged") == 1
    assert sorted(again) == sorted(codes)


def test_varimax_settings_reach_the_rotation(lipset):
    """varimax_max_iter / varimax_normalize are stats::varimax's arguments: 2 iterations stop short of the iterations the
    default needs (8) on lipset k = 3 (and say so); without Kaiser normalisation the solution differs (by 0.117 here)."""
    import warnings as pywarnings

    with pywarnings.catch_warnings():
        pywarnings.simplefilter("ignore")
        short = analyze(lipset, 3, varimax_max_iter=2)
        raw = analyze(lipset, 3, varimax_normalize=False)
    full = analyze(lipset, 3)
    assert (full.varimax_iterations, full.converged) == (8, True)
    assert (short.varimax_iterations, short.converged) == (2, False)
    assert "varimax-not-converged" in [w.code for w in short.warnings]
    assert np.abs(raw.loadings - full.loadings).max() > 0.1


def test_kade_text_marks_distinguishing_statements_at_p_01_only(lipset):
    """KADE/PQMethod's distinguishing list marks a statement '*' when it distinguishes at p < .01 (level 2) and
    leaves it unmarked at p < .05 only (level 1); the text summary prints the mark after the array values."""
    res = analyze(lipset, 3, flavor="kade")
    d = res.distinguishing
    text = res.summary()
    seen = set()
    for col, f in enumerate(d.factors):
        for i in np.flatnonzero(d.dist_level[:, col] > 0):
            sid = res.statement_ids[i]
            block = text.split(f"Distinguishing statements for f{f + 1} ")[1].split("\n\n")[0]
            line = next(x for x in block.splitlines() if x.startswith(sid + " "))
            mark = line.split(")")[-1].split()[0] if line.split(")")[-1].strip() else ""
            assert (mark == "*") == (d.dist_level[i, col] == 2), line
            seen.add(int(d.dist_level[i, col]))
    assert seen == {1, 2}
    assert "KADE's rounding" in text and "KADE's rounding" not in analyze(lipset, 3).summary()


def test_a_stack_without_rotation_has_no_iterations(lipset):
    """solve() on a stack of resamples with rotation="none": no rotation ran, so 0 iterations and converged."""
    from qvalid.options import resolve_options
    from qvalid.pipeline import solve

    x = np.stack([lipset.scores, lipset.scores[:, ::-1]]).astype(np.float64)
    sol = solve(x, 2, resolve_options("qmethod", rotation="none"))
    np.testing.assert_array_equal(sol.n_iter, [0, 0])
    np.testing.assert_array_equal(sol.converged, [True, True])
    np.testing.assert_array_equal(sol.loadings, sol.unrotated)


def test_one_factor_is_not_rotated_by_a_named_rotation(lipset):
    """psych::principal rotates only when nfactors > 1: one oblimin factor is the unrotated one, without factor
    correlations (R qmethod gives the same for k = 1)."""
    one = analyze(lipset, 1, rotation="oblimin")
    none = analyze(lipset, 1, rotation="none")
    assert one.factor_correlations is None
    np.testing.assert_array_equal(one.loadings, none.loadings)
    # nothing rotated, so nothing beyond qmethod either (qmethod's centroid + any rotation, k = 1, is its k = 1)
    cen = analyze(lipset, 1, extraction="centroid", rotation="oblimin")
    assert "rotation-beyond-qmethod" not in [w.code for w in cen.warnings]


@pytest.mark.parametrize("extraction", ["pca", "centroid"])
def test_a_stack_of_two_factor_varimax_solutions_equals_the_single_path(lipset, extraction):
    """The batched path rotates two-factor solutions by varimax with the given settings, as the single-study path:
    each item's loadings and iteration count (also when varimax_max_iter cuts it short at 2)."""
    from qvalid.options import resolve_options
    from qvalid.pipeline import solve

    rng = np.random.default_rng(3)
    x = np.stack([lipset.scores[:, rng.permutation(9)[:8]] for _ in range(4)]).astype(np.float64)  # 8 distinct
    for extra in ({}, {"varimax_max_iter": 2}):
        opts = resolve_options("qmethod", extraction=extraction, **extra)
        batch = solve(x, 2, opts)
        assert not batch.close.any()  # no decision within rounding here: every item is compared
        for i in range(len(x)):
            one = solve(x[i], 2, opts)
            np.testing.assert_allclose(batch.loadings[i], one.loadings, atol=1e-12)
            assert batch.n_iter[i] == one.n_iter
        if extra:
            assert (batch.n_iter == 2).all() and not batch.converged.any()


def test_near_ties_are_found_within_each_factor_of_each_item():
    """_near_ties: two z-scores of one factor of one item closer than CLOSE but not equal; equal ones (exact ties,
    R's rule decides them) and near-equal values of different factors do not count."""
    from qvalid.pipeline import CLOSE, _near_ties

    z = np.zeros((3, 4, 2))
    z[:, :, 0] = [0.0, 1.0, 2.0, 3.0]
    z[:, :, 1] = [0.5, 1.5, 2.5, 3.5]
    z[0, 1, 0] = 2.0 + CLOSE / 4  # item 0, factor 0: near tie with 2.0
    z[1, 1, 0] = 2.0  # item 1: an exact tie
    z[2, 1, 1] = 1.0 + CLOSE / 4  # item 2: f2's value near f1's 1.0 (another factor): not a tie
    z[2, 1, 0] = 5.0
    np.testing.assert_array_equal(_near_ties(z), [True, False, False])
