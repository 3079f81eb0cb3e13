"""qvalid.bootstrap: resampling, per-replicate equality with analyze(), alignment, determinism, known answers,
outputs and the CLI. (The replay against R's qmboots: tests/test_bootstrap_qmboots.py.)"""

from __future__ import annotations

import json
from concurrent.futures import ProcessPoolExecutor
from itertools import permutations

import numpy as np
import pytest

from qvalid import QStudy, analyze, bootstrap
from qvalid import pipeline
from qvalid.stability import JSON_KEYS, balanced_indices, from_qmboots, hungarian, plain_indices, qindtest
from qvalid.stability.run import CHUNK_SIZE
from qvalid.cli import main
from qvalid.core.congruence import align_factors
from qvalid.datasets import load_lipset
from qvalid.errors import QInputError
from qvalid.io import read_study
from qvalid.core.scores import factor_arrays
from qvalid.simulate import planted_study
from qvalid.stability.verdict import recovery_probability, verdict_word

from _r import GOLDEN, LIPSET_CSV, require_r

NAV = GOLDEN / "inputs" / "nav_synth.csv"


@pytest.fixture(scope="module")
def nav():
    return read_study(NAV)


# ---------------------------------------------------------------------- resampling
def test_balanced_indices_use_every_unit_exactly_n_times_also_across_chunks():
    rng = np.random.default_rng(3)
    idx = balanced_indices(9, 40, rng)
    assert idx.shape == (40, 9)
    assert (np.bincount(idx.ravel(), minlength=9) == 40).all()
    b = bootstrap(load_lipset(), 2, CHUNK_SIZE + 37, seed=5)  # two chunks, the second partial
    assert (np.bincount(b.raw["indices"].ravel(), minlength=9) == CHUNK_SIZE + 37).all()
    assert len({tuple(r) for r in b.raw["indices"]}) > 200  # resamples differ
    p = plain_indices(9, 2000, np.random.default_rng(1))
    counts = np.bincount(p.ravel(), minlength=9)
    assert counts.sum() == 18000 and counts.std() > 0  # plain: not balanced
    assert abs(counts.mean() - 2000) < 1e-9


def test_from_qmboots_converts_r_resamples():
    r = np.array([[3, 1], [1, 1], [2, 3]])  # 3 sorts x 2 steps, 1-based
    np.testing.assert_array_equal(from_qmboots(r), [[2, 0, 1], [0, 0, 2]])
    with pytest.raises(ValueError):
        from_qmboots(np.array([[0, 1]]))


# ---------------------------------------------------------------------- each replicate = analyze(resample)
def _resample_study(study, idx, by_sorts):
    if by_sorts:
        return QStudy.from_array(study.scores[:, idx], list(study.statement_ids),
                                 [f"{study.sort_ids[j]}#{i}" for i, j in enumerate(idx)], grid=dict(study.grid))
    return QStudy.from_array(study.scores[idx, :], [f"{study.statement_ids[j]}#{i}" for i, j in enumerate(idx)],
                             list(study.sort_ids), grid=dict(study.grid), forced=False)


def _check_replicates(study, k, b, reps, by_sorts=True):
    """Replicate r of ``b`` equals analyze() on its resample (with the options the bootstrap used), aligned by the
    replicate's own permutation/signs."""
    for r in reps:
        idx = b.raw["indices"][r]
        res = analyze(_resample_study(study, idx, by_sorts), k, options=b.full.options)
        perm, signs = b.raw["perm"][r], b.raw["signs"][r]
        loa = res.loadings[:, perm] * signs
        z = res.zscores[:, perm] * signs
        fl = res.flags[:, perm]
        first = {}
        for pos, j in enumerate(idx):
            first.setdefault(int(j), pos)
        if by_sorts:
            for s, pos in first.items():
                np.testing.assert_allclose(b.raw["loadings"][r, s], loa[pos], rtol=0, atol=1e-12)
                np.testing.assert_array_equal(b.raw["flags"][r, s], fl[pos])
            absent = sorted(set(range(study.n_sorts)) - set(first))
            assert np.isnan(b.raw["loadings"][r, absent]).all()
            np.testing.assert_allclose(b.raw["zscores"][r], z, rtol=0, atol=1e-12)
            np.testing.assert_array_equal(b.raw["arrays"][r], factor_arrays(z, study.qscores,
                                                                            ties=res.options.array_ties))
        else:
            np.testing.assert_allclose(b.raw["loadings"][r], loa, rtol=0, atol=1e-12)
            for s, pos in first.items():
                np.testing.assert_allclose(b.raw["zscores"][r, s], z[pos], rtol=0, atol=1e-12)


@pytest.mark.parametrize("options", [
    {},
    {"extraction": "centroid", "threshold": 0.42},
    {"extraction": "centroid", "rotation": "none", "cor_method": "spearman", "array_ties": "strict"},
    {"cor_method": "kendall", "majority": False},
    {"extraction": "centroid", "centroid_ties": "strict", "threshold": 0.42},
])
def test_every_replicate_equals_analyze_on_its_resample(nav, options):
    b = bootstrap(nav, 4, 40, seed=11, parametric=False, **options)
    assert b.counts["failed"] == 0
    _check_replicates(nav, 4, b, range(0, 40, 3))


def test_statement_resampling_equals_analyze_on_its_resample(nav):
    b = bootstrap(nav, 3, 20, seed=2, resample="statements", extraction="centroid")
    assert (np.bincount(b.raw["indices"].ravel(), minlength=nav.n_statements) == 20).all()
    _check_replicates(nav, 3, b, range(0, 20, 4), by_sorts=False)


def test_explicit_indices_are_used_as_given():
    s = load_lipset()
    idx = np.array([[0, 0, 1, 2, 3, 4, 5, 6, 7], [8, 7, 6, 5, 4, 3, 2, 1, 0]])
    b = bootstrap(s, 3, indices=idx)
    np.testing.assert_array_equal(b.raw["indices"], idx)
    assert b.n_resamples == 2 and b.indices_given
    # the second resample is a permutation of the sorts: the full solution comes back, up to order and sign
    np.testing.assert_allclose(b.raw["loadings"][1], analyze(s, 3).loadings, atol=1e-12)
    assert b.raw["congruence"][1] == pytest.approx([1, 1, 1], abs=1e-12)
    for bad in (idx[:, :5], idx + 1, idx.astype(float)):
        with pytest.raises(QInputError):
            bootstrap(s, 3, indices=bad)
    # three chunks of given indices: each chunk takes its own rows
    many = np.random.default_rng(3).integers(0, 9, (2 * CHUNK_SIZE + 7, 9))
    b = bootstrap(s, 3, indices=many)
    np.testing.assert_array_equal(b.raw["indices"], many)
    assert b.parametric is None and b.n_resamples == 2 * CHUNK_SIZE + 7


# ---------------------------------------------------------------------- alignment
def test_hungarian_recovers_permuted_and_sign_flipped_solutions():
    rng = np.random.default_rng(0)
    target = rng.standard_normal((12, 4))
    cases, truth = [], []
    for p in list(permutations(range(4)))[::5]:
        s = rng.choice([-1, 1], 4)
        loa = np.empty_like(target)
        loa[:, list(p)] = target * s  # replicate factor p[j] is s[j] * target factor j
        cases.append(loa + 0.05 * rng.standard_normal(target.shape))
        truth.append((p, s))
    perm, signs, status, _ = hungarian(np.array(cases), np.broadcast_to(target, (len(cases), 12, 4)))
    for i, (p, s) in enumerate(truth):
        assert tuple(perm[i]) == p and tuple(signs[i]) == tuple(s)
        ref = align_factors(target, cases[i])  # qvalid.checks.compare's single-pair Hungarian
        assert ref[0] == tuple(perm[i]) and ref[1] == tuple(signs[i])
    assert status[0] == "ok" or tuple(truth[0][1]) != (1, 1, 1, 1)


def test_hungarian_beyond_brute_force_size_matches_scipy():
    rng = np.random.default_rng(1)
    target = rng.standard_normal((20, 8))
    p = rng.permutation(8)
    loa = target[:, np.argsort(p)] * -1  # replicate factor c = -target factor p^-1...
    perm, signs, _, _ = hungarian(loa[None], target[None])
    ref = align_factors(target, loa)
    assert tuple(perm[0]) == ref[0] and tuple(signs[0]) == ref[1] and (signs == -1).all()


def test_qindtest_rules_by_hand():
    """qmethod R/qindtest.R on hand-made cases: no issue; a swap (reordered); a sign; two targets choosing the
    same replicate factor (ERROR in ORDER swap: original order kept, step rejected)."""
    t = np.array([[1.0, 0], [0, 1], [-1, 0], [0, -1], [1, 1], [-1, -1]])
    swapped = t[:, ::-1].copy()
    flipped = t * [1, -1]
    # column 1 correlates 0.87 with both targets, column 2 with neither: both targets choose column 1
    same = np.column_stack([t[:, 0] + t[:, 1], [1, -1, 1, -1, 0, 0]])
    loa = np.array([t, swapped, flipped, same])
    perm, signs, status = qindtest(loa, np.broadcast_to(t, loa.shape))
    assert status.tolist() == ["ok", "aligned", "aligned", "rejected"]
    assert perm.tolist() == [[0, 1], [1, 0], [0, 1], [0, 1]]
    assert signs.tolist() == [[1, 1], [1, 1], [1, -1], [1, 1]]


def test_procrustes_alignment_reaches_at_least_the_hungarian_congruence():
    s = load_lipset()
    h = bootstrap(s, 3, 60, seed=4)
    p = bootstrap(s, 3, 60, seed=4, align="procrustes")
    np.testing.assert_array_equal(h.raw["indices"], p.raw["indices"])
    # the orthogonal rotation minimises the distance to the target; on average the congruence can only improve
    assert np.nanmean(p.raw["congruence"]) >= np.nanmean(h.raw["congruence"])


# ---------------------------------------------------------------------- determinism
def test_same_seed_same_bytes_whatever_the_executor():
    s = load_lipset()
    a = bootstrap(s, 3, 2 * CHUNK_SIZE + 10, seed=7, extraction="centroid")
    with ProcessPoolExecutor(2) as ex:
        b = bootstrap(s, 3, 2 * CHUNK_SIZE + 10, seed=7, extraction="centroid", executor=ex)
    for key in a.raw:
        np.testing.assert_array_equal(a.raw[key], b.raw[key], err_msg=key)
    for key in a.parametric:
        np.testing.assert_array_equal(a.parametric[key], b.parametric[key], err_msg=key)
    assert a.to_json() == b.to_json()
    c = bootstrap(s, 3, 2 * CHUNK_SIZE + 10, seed=8, extraction="centroid")
    assert not np.array_equal(a.raw["indices"], c.raw["indices"])


# ---------------------------------------------------------------------- batched centroid
def test_batched_centroid_is_the_single_centroid_bit_for_bit_where_nothing_is_close(nav):
    from qvalid.core.correlation import correlate
    from qvalid.core.extract import centroid, centroid_batch

    idx = balanced_indices(nav.n_statements, 60, np.random.default_rng(0))  # statements: sorts stay distinct
    r = correlate(nav.scores[idx, :].astype(float))
    e = centroid_batch(r, 4)
    assert (~e.close).sum() >= 50
    for i in range(60):
        if not e.close[i]:
            np.testing.assert_array_equal(e.loadings[i], centroid(r[i], 4).loadings)
    # resampled sorts: duplicated sorts tie exactly, a decision R takes with its tmat[, oo] quirk -> close
    idx = balanced_indices(nav.n_sorts, 20, np.random.default_rng(0))
    r = correlate(np.moveaxis(nav.scores[:, idx].astype(float), 1, 0))
    assert centroid_batch(r, 4).close.all() and not centroid_batch(r, 4, ties="strict").close.any()


def test_strict_centroid_stops_a_reflection_cycle_at_once(nav):
    """Column sums (diagonal 0) of this matrix: 0, 1.7, 0.7, 1.2. The minimum is exactly 0, so sort 1 is reflected:
    its sum becomes -0 (the others 0.7, 1.7, 1.2) and it is reflected back, to the same bits, forever (R loops
    forever; qvalid gave up after 50 n + 1000 reflections). The cycle check ends it at once, with the same
    outcome: that item is close (centroid_strict raises), the others in the batch are untouched."""
    from qvalid.core.correlation import correlate
    from qvalid.core.extract import centroid_batch, centroid_strict

    cyc = np.array([[1, .5, -.5, 0], [.5, 1, .6, .6], [-.5, .6, 1, .6], [0, .6, .6, 1]])
    fine = correlate(nav.scores[:, :4].astype(float))
    e = centroid_batch(np.stack([fine, cyc, fine]), 2, ties="strict")
    assert e.close.tolist() == [False, True, False]
    np.testing.assert_array_equal(e.loadings[0], centroid_strict(fine, 2).loadings)
    np.testing.assert_array_equal(e.loadings[2], e.loadings[0])
    with pytest.raises(FloatingPointError):
        centroid_strict(cyc, 1)


def test_strict_centroid_ties(nav):
    from qvalid.core.correlation import correlate
    from qvalid.core.extract import centroid, centroid_strict

    r = correlate(nav.scores.astype(float))
    np.testing.assert_allclose(centroid_strict(r, 4).loadings, centroid(r, 4).loadings, atol=1e-15)  # no ties
    dup = correlate(nav.scores[:, [0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]].astype(float))
    a = centroid_strict(dup, 3).loadings
    np.testing.assert_allclose(a[0], a[1], atol=1e-12)  # a duplicated sort keeps its twin's loadings ...
    q = centroid(dup, 3).loadings
    assert np.abs(q[0] - q[1]).max() > 0.01  # ... which qmethod's tie rule does not (R does the same)


# ---------------------------------------------------------------------- known answers
def test_planted_strong_factors_are_stable_and_a_weak_one_is_not():
    strong, _ = planted_study(36, 30, 3, noise=0.5, seed=2)
    b = bootstrap(strong, 3, 200, seed=1)
    share = (b.raw["congruence"] >= 0.95).mean(axis=0)
    assert (share >= 0.95).all(), share
    assert all(v.startswith("stable") for v in b.factors.verdict)
    # a fourth factor on top of three planted ones is noise: it does not come back
    b4 = bootstrap(strong, 4, 200, seed=1)
    share4 = (b4.raw["congruence"] >= 0.95).mean(axis=0)
    assert (share4[:3] >= 0.9).all() and share4[3] < 0.5, share4
    assert b4.factors.verdict.iloc[3].startswith("unstable")


# ---------------------------------------------------------------------- tables, JSON, CSV, figures
def test_tables_and_json_contract(tmp_path):
    s = load_lipset()
    b = bootstrap(s, 3, 120, seed=3)
    loa, zs, f, st = b.loadings, b.zscores, b.factors, b.status
    assert list(loa.columns) == ["full", "estimate", "se", "ci_low", "ci_high", "flag_full", "flag_freq", "n",
                                 "resample_mean", "resample_sd", "resample_ci_low", "resample_ci_high",
                                 "resample_bias", "resample_flag_freq", "resample_n"]
    assert list(zs.columns) == ["full", "estimate", "se", "ci_low", "ci_high", "array_full", "keep_exact",
                                "keep_within1", "move2", "distinguishing_full", "distinguishing_freq",
                                "consensus_full", "consensus_freq", "n", "resample_mean", "resample_sd",
                                "resample_ci_low", "resample_ci_high", "resample_bias", "array_boot",
                                "resample_keep_exact", "resample_keep_within1", "resample_distinguishing_freq",
                                "resample_consensus_freq", "resample_n"]
    assert list(f.columns) == ["verdict", "p_085", "p_085_low", "p_085_high", "p_095", "p_095_low", "p_095_high",
                               "share_085", "share_095", "congruence_median", "congruence_p05", "fsi", "nfsi",
                               "n_no_flags", "n_failed", "n_used", "array_r", "n_no_flags_parametric",
                               "verdict_text"]
    assert loa.shape == (9 * 3, 15) and zs.shape[0] == 33 * 3 and len(st) == 120 and list(f.index) == b.factor_names
    # hand check of one cell against the raw resampling replicates
    x = b.raw["loadings"][:, 3, 1]
    x = x[~np.isnan(x)]
    r = loa.loc[("US4", "f2")]
    assert r.resample_mean == pytest.approx(x.mean()) and r.resample_sd == pytest.approx(x.std(ddof=1))
    assert r.resample_ci_low == pytest.approx(np.quantile(x, 0.025)) and r.resample_n == len(x)
    fl = b.raw["flags"][:, 3, 1]
    assert r.resample_flag_freq == pytest.approx(np.nanmean(fl))
    assert (loa.resample_n <= 120).all() and (loa.resample_n > 0).all()
    assert (zs.resample_n == 120).all()
    # the parametric columns by hand: the loading pivot of one participant type and its flag frequency
    p = b.parametric
    c = p["type_count"][3]
    mean = p["loading_error_sum"][3, 1] / c
    sd = np.sqrt((p["loading_error_sq"][3, 1] - c * mean ** 2) / (c - 1))
    assert r.n == c == (p["types"] == 3).sum() - (p["types"][p["failed"]] == 3).sum()
    assert r.estimate == pytest.approx(b.full.loadings[3, 1] - mean) and r.se == pytest.approx(sd)
    assert r.ci_high - r.ci_low == pytest.approx(2 * 1.959963984540054 * sd)
    assert r.flag_freq == pytest.approx(p["flag_count"][3, 1] / c)
    assert (zs.n == 120 - p["failed"].sum()).all() and ((zs.ci_low <= zs.estimate) & (zs.estimate <= zs.ci_high)).all()
    # shares over every replicate, probabilities through the calibration curve, words from the probabilities
    np.testing.assert_allclose(f.share_085, (b.raw["congruence"] >= 0.85).sum(axis=0) / 120)
    np.testing.assert_allclose(f.p_085, recovery_probability(f.share_085, 0.85, 9, "pca"))
    assert list(f.verdict) == [verdict_word(a, c) for a, c in zip(f.p_085, f.p_095)]
    assert ((f.p_085_low <= f.p_085) & (f.p_085 <= f.p_085_high)).all()
    # fsi by hand (R/qfsi.R)
    fs = np.abs(b.full.factor_arrays[:, 0] - b.array_boot[:, 0]).sum() / 33
    assert f.fsi.iloc[0] == pytest.approx(fs)
    w = b.wide("loadings", "resample_flag_freq")
    assert list(w.index) == list(s.sort_ids) and list(w.columns) == b.factor_names  # study order, not sorted
    assert w.loc["US4", "f2"] == r.resample_flag_freq
    d = json.loads(b.to_json())
    assert tuple(d) == JSON_KEYS and d["schema"] == 2
    assert d["counts"]["total"] == 120 and len(d["replicates"]) == 120 and d["parametric"]["total"] == 120
    assert d["loadings"][0]["sort"] == "US1" and d["loadings"][0]["factor"] == "f1"
    paths = b.to_csv(tmp_path)
    assert sorted(p.name for p in paths) == ["factors.csv", "loadings.csv", "replicates.csv", "zscores.csv"]
    for fig in (b.loading_intervals_figure(), b.zscore_intervals_figure(), b.congruence_figure()):
        assert len(fig.axes) == 3
    text = b.summary()
    assert "Verdict: 3 factor(s)" in text and "parametric bootstrap: 120 samples" in text


def test_manual_flags_follow_the_sorts():
    s = load_lipset()
    flags = analyze(s, 3).flags.copy()
    flags[0] = [True, False, False]
    b = bootstrap(s, 3, 30, seed=1, manual_flags=flags)
    present = ~np.isnan(b.raw["flags"][:, 0, 0])
    assert (b.raw["flags"][present, 0] == [1, 0, 0]).all()
    assert b.loadings.loc[("US1", "f1")].resample_flag_freq == 1.0
    assert b.loadings.loc[("US1", "f1")].flag_freq == 1.0  # participants like US1 keep its manual flag


def test_bad_arguments_are_one_line_errors():
    s = load_lipset()
    for kw in ({"resample": "items"}, {"align": "greedy"}, {"ci": 1.5}):
        with pytest.raises(QInputError):
            bootstrap(s, 3, 10, **kw)
    with pytest.raises(QInputError):
        bootstrap(s, 3, 0)


def test_cli_bootstrap(tmp_path, capsys):
    rc = main(["bootstrap", str(LIPSET_CSV), "-k", "3", "-n", "50", "--seed", "1", "--format", "json",
               "--output", str(tmp_path / "t"), "--figures", str(tmp_path / "f")])
    out = capsys.readouterr()
    assert rc == 0 and out.err == ""
    d = json.loads(out.out)
    assert d["bootstrap"]["n_resamples"] == 50 and d["bootstrap"]["seed"] == 1
    assert sorted(p.name for p in (tmp_path / "f").iterdir()) == ["congruence.png", "loading_intervals.png",
                                                                  "zscore_intervals.png"]
    assert (tmp_path / "t" / "loadings.csv").exists()
    same = bootstrap(read_study(LIPSET_CSV), 3, 50, seed=1)
    assert d["factors"][0]["congruence_median"] == same.factors.congruence_median.iloc[0]
    assert main(["bootstrap", str(LIPSET_CSV), "-k", "3", "-n", "0"]) == 2
    assert "argument -n/--resamples: '0' must be >= 1" in capsys.readouterr().err
    assert d["factors"][0]["p_085"] == same.factors.p_085.iloc[0] and d["schema"] == 2
    assert main(["bootstrap", str(LIPSET_CSV), "-k", "3", "-n", "20"]) == 0
    text = capsys.readouterr().out
    assert "balanced resamples of the sorts" in text and "Verdict: 3 factor(s)" in text
    assert "parametric bootstrap: 20 samples of 9 new participants" in text
    assert main(["bootstrap", str(LIPSET_CSV), "-k", "3", "-n", "20", "--no-parametric", "--format", "json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["parametric"] is None and d["bootstrap"]["parametric"] is False and d["zscores"][0]["ci_low"] is None


def test_centroid_bootstrap_defaults_to_strict_ties_and_says_so(nav):
    b = bootstrap(nav, 4, 20, seed=1, extraction="centroid", threshold=0.42, parametric=False)
    assert b.full.options.centroid_ties == "strict" and "centroid ties: strict" in b.notes[0]
    assert "note: centroid ties: strict" in b.summary() and json.loads(b.to_json())["notes"] == list(b.notes)
    joint = bootstrap(nav, 4, 20, seed=1, extraction="centroid", threshold=0.42, centroid_ties="joint",
                      parametric=False)
    assert joint.full.options.centroid_ties == "joint" and joint.notes == ()
    np.testing.assert_allclose(joint.full.loadings, b.full.loadings, atol=1e-12)  # no exact tie in the study
    assert bootstrap(nav, 4, 20, seed=1, parametric=False).notes == ()  # PCA: nothing to say


def test_r_centroid_splits_duplicated_sorts(nav):
    """The reason for centroid_ties="strict": R qmethod's own centroid gives a duplicated Q-sort other loadings than
    its twin (live R), and qvalid's qmethod flavour reproduces that."""
    require_r()
    from qvalid.r.qmethod import run_qmethod

    cols = [0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
    st = QStudy.from_array(nav.scores[:, cols], sort_ids=[f"s{i}" for i in range(11)], grid=dict(nav.grid))
    r = run_qmethod(st, 3, extraction="centroid", rotation="none").outputs["loadings"]
    assert np.abs(r[0] - r[1]).max() > 0.05
    np.testing.assert_allclose(analyze(st, 3, extraction="centroid", rotation="none").loadings, r, atol=1e-10)
    strict = analyze(st, 3, extraction="centroid", rotation="none", centroid_ties="strict").loadings
    np.testing.assert_allclose(strict[0], strict[1], atol=1e-12)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_dask_distributed_executor_gives_the_same_bytes():
    """A real distributed engine: a dask.distributed local cluster (one in-process worker with two threads, light
    on CI's two cores) through client.get_executor(); same seed -> identical results."""
    import distributed  # Debian python3-distributed (scripts/setup.sh): a missing package fails, never skips
    s = load_lipset()
    serial = bootstrap(s, 3, CHUNK_SIZE + 50, seed=9, extraction="centroid", centroid_ties="strict")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None) as cl, \
            distributed.Client(cl) as client:
        dist = bootstrap(s, 3, CHUNK_SIZE + 50, seed=9, extraction="centroid", centroid_ties="strict",
                         executor=client.get_executor())
    for key in serial.raw:
        np.testing.assert_array_equal(serial.raw[key], dist.raw[key], err_msg=key)
    for key in serial.parametric:
        np.testing.assert_array_equal(serial.parametric[key], dist.parametric[key], err_msg=key)
    assert serial.to_json() == dist.to_json()


def test_cli_bootstrap_manual_flags(tmp_path, capsys):
    s = read_study(LIPSET_CSV)
    flags = analyze(s, 3).flags.copy()
    flags[0] = [True, False, False]
    f = tmp_path / "flags.csv"
    f.write_text("sort,f1,f2,f3\n" + "".join(f"{sid},{int(a)},{int(b)},{int(c)}\n"
                                              for sid, (a, b, c) in zip(s.sort_ids, flags)))
    assert main(["bootstrap", str(LIPSET_CSV), "-k", "3", "-n", "30", "--flags", str(f), "--format", "json"]) == 0
    d = json.loads(capsys.readouterr().out)
    rec = next(r for r in d["loadings"] if r["sort"] == "US1" and r["factor"] == "f1")
    assert d["options"]["manual_flags"] is True and rec["flag_freq"] == 1.0 and rec["flag_full"] is True


@pytest.mark.parametrize("options", [{"extraction": "centroid", "centroid_ties": "strict"}, {"cor_method": "spearman"}])
def test_batched_path_equals_the_single_study_path_for_every_replicate(nav, monkeypatch, options):
    """With every decision declared close, every replicate is recomputed on the single-study path: the batched
    results must be the same (1e-12)."""
    from qvalid.stability import engine

    batched = bootstrap(nav, 4, 60, seed=3, **options)
    monkeypatch.setattr(pipeline, "CLOSE", 10.0)
    single = bootstrap(nav, 4, 60, seed=3, **options)
    assert single.counts["fallback"] == 60 and batched.counts["fallback"] < 60
    for key in ("loadings", "zscores", "congruence"):
        np.testing.assert_allclose(single.raw[key], batched.raw[key], atol=1e-12, rtol=0, err_msg=key)
    for key in ("flags", "arrays", "perm", "signs", "indices"):
        np.testing.assert_array_equal(single.raw[key], batched.raw[key], err_msg=key)
    # the parametric replicates take the same single-study path for close decisions
    assert single.parametric_counts["fallback"] == 60 and batched.parametric_counts["fallback"] < 60
    for key in ("congruence", "zscores", "loading_error_sum"):
        np.testing.assert_allclose(single.parametric[key], batched.parametric[key], atol=1e-10, rtol=0, err_msg=key)
    for key in ("arrays", "types", "n_flagged", "flag_count"):
        np.testing.assert_array_equal(single.parametric[key], batched.parametric[key], err_msg=key)


def test_a_failed_replicate_is_kept_counted_and_left_out(monkeypatch, capsys):
    from qvalid.stability import engine

    s = load_lipset()
    calls = {"n": 0}
    real = engine.single_loadings

    def flaky(*a, **kw):
        calls["n"] += 1
        if calls["n"] == 3:
            raise QInputError("zero communality: varimax's Kaiser normalisation divides by 0")
        return real(*a, **kw)

    monkeypatch.setattr(pipeline, "CLOSE", 10.0)
    monkeypatch.setattr(engine, "single_loadings", flaky)
    b = bootstrap(s, 3, 10, seed=1, progress=True, parametric=False)
    assert b.counts["failed"] == 1 and b.counts["used"] == 9 and b.counts["total"] == 10
    st = b.status
    bad = st[st.status == "failed"]
    assert len(bad) == 1 and "zero communality" in bad.reason.iloc[0]
    assert np.isnan(b.raw["loadings"][2]).all() and np.isnan(b.raw["congruence"][2]).all()
    assert (b.loadings.resample_n <= 9).all() and (b.zscores.resample_n == 9).all()
    # a failed replicate reproduces no factor: it stays in the shares' denominator
    ok = b.raw["congruence"][b.used]
    np.testing.assert_allclose(b.factors.share_085, (ok >= 0.85).sum(axis=0) / 10)
    assert (b.factors.n_failed == 1).all()
    assert "1 failed" in b.summary()
    assert json.loads(b.to_json())["counts"]["failed"] == 1


def test_kade_rules_are_refused_not_silently_replaced():
    """The replicates compute qmethod's arithmetic: a KADE-flavoured bootstrap must say so instead of mixing a KADE
    full sample with qmethod replicates."""
    with pytest.raises(QInputError, match="not bootstrapped yet: .*cor_digits=5"):
        bootstrap(load_lipset(), 3, 5, flavor="kade")
    with pytest.raises(QInputError, match="extraction='horst55'"):
        bootstrap(load_lipset(), 3, 5, extraction="horst55")


def test_nanquantile_is_numpys_bit_for_bit():
    """The summaries' vectorised percentile (R's type 7) equals np.nanquantile exactly, NaNs and empty columns too."""
    from qvalid.core.nanstats import nanquantile

    rng = np.random.default_rng(3)
    for m, shape in ((1, (3,)), (7, (4, 2)), (50, (36, 4)), (200, (5,))):
        x = rng.standard_normal((m,) + shape)
        x[rng.random(x.shape) < 0.3] = np.nan
        x[..., 0] = np.nan  # a column with no value
        with np.errstate(invalid="ignore"), pytest.warns(RuntimeWarning):
            want = np.nanquantile(x, (0.025, 0.05, 0.5, 0.975), axis=0)
        np.testing.assert_array_equal(nanquantile(x, (0.025, 0.05, 0.5, 0.975)), want)
