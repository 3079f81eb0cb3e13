"""The qsnapshot pytest fixture (qvalid/pytest_plugin.py), run in pytest's own ``pytester`` sandbox: registered
by the ``pytest11`` entry point, snapshots written with --qvalid-update beside the test, failures rendered like
numpy.testing, and the three kinds of results (QResult, BootstrapResult with its Monte-Carlo tolerance,
FactorsResult)."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import numpy as np
import pytest

from qvalid import analyze, bootstrap
from qvalid.checks.tables import bootstrap_mc_errors, compare_bootstrap, mc_errors, mc_z
from qvalid.datasets import load_lipset

pytest_plugins = "pytester"
ROOT = Path(__file__).resolve().parents[1]
QUIET = ("-p", "no:cacheprovider", "-p", "no:benchmark")  # the inner runs: no cache, no benchmark plugin noise

ANALYSIS = """
from qvalid import analyze
from qvalid.datasets import load_lipset

def test_lipset(qsnapshot):
    qsnapshot.check(analyze(load_lipset(), 3, {options}))
"""


def test_the_plugin_is_registered_by_its_entry_point():
    conf = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert conf["project"]["entry-points"]["pytest11"] == {"qvalid": "qvalid.pytest_plugin"}
    from importlib.metadata import entry_points

    eps = [e for e in entry_points(group="pytest11") if e.name == "qvalid"]
    assert [e.value for e in eps] == ["qvalid.pytest_plugin"]


def test_missing_snapshot_fails_then_update_writes_it_beside_the_test(pytester):
    pytester.makepyfile(test_qs_study=ANALYSIS.format(options=""))
    r = pytester.runpytest(*QUIET)
    r.assert_outcomes(failed=1)
    r.stdout.fnmatch_lines(["*no qvalid snapshot *__qsnapshots__/test_qs_study/test_lipset.qsnap.json: run pytest "
                            "--qvalid-update to write it*"])
    r = pytester.runpytest(*QUIET, "--qvalid-update")
    r.assert_outcomes(passed=1)
    r.stdout.fnmatch_lines(["qvalid: 1 snapshot(s) written (--qvalid-update)"])
    path = pytester.path / "__qsnapshots__" / "test_qs_study" / "test_lipset.qsnap.json"
    d = json.loads(path.read_text())
    assert d["qvalid_snapshot"] == 1 and d["kind"] == "analysis" and d["analysis"]["nfactors"] == 3
    mtime = path.stat().st_mtime_ns
    r = pytester.runpytest(*QUIET)
    r.assert_outcomes(passed=1)
    r = pytester.runpytest(*QUIET, "--qvalid-update")  # unchanged: not rewritten
    r.assert_outcomes(passed=1)
    assert path.stat().st_mtime_ns == mtime and "snapshot(s) written" not in r.stdout.str()


def test_a_changed_analysis_fails_numpy_testing_style_naming_the_worst_cell(pytester):
    pytester.makepyfile(test_qs_study=ANALYSIS.format(options=""))
    pytester.runpytest(*QUIET, "--qvalid-update").assert_outcomes(passed=1)
    pytester.makepyfile(test_qs_study=ANALYSIS.format(options="threshold=0.6"))
    r = pytester.runpytest(*QUIET)
    r.assert_outcomes(failed=1)
    out = r.stdout.str()
    # the threshold 0.6 unflags JP5's -0.83? no: it unflags the loadings between 0.34 and 0.6 (US8 0.66 stays)
    res0, res1 = analyze(load_lipset(), 3), analyze(load_lipset(), 3, threshold=0.6)
    changed = np.argwhere(res0.flags != res1.flags)
    assert len(changed)
    sid = res0.sort_ids[changed[0][0]]
    assert "Q solutions not equal to tolerance" in out and "Mismatched outputs:" in out
    assert re.search(r"options \(differs: changed: threshold\) \[reported\]", out)
    assert re.search(r"flags \(differs\) \[reported\]", out)
    assert f"Mismatch at sort {sid}, f{changed[0][1] + 1}: True (snapshot), False (now)" in out
    assert "run pytest --qvalid-update to accept the new result" in out


DRIFT = """
from dataclasses import replace
from qvalid import analyze
from qvalid.datasets import load_lipset

def test_drift(qsnapshot, request):
    r = analyze(load_lipset(), 3)
    z = r.zscores.copy()
    if not request.config.getoption("qvalid_update"):
        z[4, 1] += 1e-13  # statement sta_5, f2
    qsnapshot.check(replace(r, zscores=z), {kw})
"""


def test_a_1e13_drift_passes_and_fails_only_at_tolerance_zero(pytester):
    pytester.makepyfile(test_qs_study=DRIFT.format(kw=""))
    pytester.runpytest(*QUIET, "--qvalid-update").assert_outcomes(passed=1)
    pytester.runpytest(*QUIET).assert_outcomes(passed=1)  # within the default 1e-10
    pytester.makepyfile(test_qs_study=DRIFT.format(kw="tolerances=0.0"))
    r = pytester.runpytest(*QUIET)
    r.assert_outcomes(failed=1)
    assert re.search(r"zscores \(differs\) \[numerical only: same as printed at 3 dp\]", r.stdout.str())
    assert "Max absolute difference: 1e-13 at statement sta_5, f2" in r.stdout.str()
    pytester.makepyfile(test_qs_study=DRIFT.format(kw="tolerances=0.0, fail_on='reported'"))
    pytester.runpytest(*QUIET).assert_outcomes(passed=1)


def test_several_checks_in_one_test_and_parametrized_names(pytester):
    pytester.makepyfile(test_qs_many="""
import pytest
from qvalid import analyze
from qvalid.datasets import load_lipset

@pytest.mark.parametrize("k", [2, 3])
def test_k(qsnapshot, k):
    qsnapshot.check(analyze(load_lipset(), k))
    qsnapshot.check(analyze(load_lipset(), k, extraction="centroid"))
    qsnapshot.check(analyze(load_lipset(), k, rotation="none"), name="unrotated")
""")
    pytester.runpytest(*QUIET, "--qvalid-update").assert_outcomes(passed=2)
    names = sorted(p.name for p in (pytester.path / "__qsnapshots__" / "test_qs_many").iterdir())
    assert names == ["test_k_2.2.qsnap.json", "test_k_2.qsnap.json", "test_k_2.unrotated.qsnap.json",
                     "test_k_3.2.qsnap.json", "test_k_3.qsnap.json", "test_k_3.unrotated.qsnap.json"]
    pytester.runpytest(*QUIET).assert_outcomes(passed=2)


def test_a_wrong_kind_of_object_and_a_snapshot_of_another_kind(pytester):
    pytester.makepyfile(test_qs_kind="""
import pytest
from qvalid import analyze, number_of_factors
from qvalid.datasets import load_lipset

def test_not_a_result(qsnapshot):
    with pytest.raises(TypeError, match="takes a QResult, a BootstrapResult or a FactorsResult, not dict"):
        qsnapshot.check({"a": 1})

def test_kind(qsnapshot, request):
    st = load_lipset()
    if request.config.getoption("qvalid_update"):
        qsnapshot.check(analyze(st, 2))
    else:
        qsnapshot.check(number_of_factors(st, 3, n_runs=20, seed=1))
""")
    pytester.runpytest(*QUIET, "--qvalid-update").assert_outcomes(passed=2)
    r = pytester.runpytest(*QUIET)
    r.assert_outcomes(passed=1, failed=1)
    r.stdout.fnmatch_lines(["*holds a analysis result, this is a factors result*"])


def test_bootstrap_same_seed_passes_another_seed_passes_a_changed_analysis_fails(pytester):
    pytester.makepyfile(test_qs_boot="""
from qvalid import bootstrap
from qvalid.datasets import load_lipset
import os

def test_boot(qsnapshot):
    seed = int(os.environ.get("SEED", "1"))
    thr = os.environ.get("THRESHOLD")
    kw = {} if thr is None else {"threshold": float(thr)}
    qsnapshot.check(bootstrap(load_lipset(), 3, 200, seed=seed, **kw))
""")
    pytester.runpytest(*QUIET, "--qvalid-update").assert_outcomes(passed=1)
    d = json.loads((pytester.path / "__qsnapshots__" / "test_qs_boot" / "test_boot.qsnap.json").read_text())
    assert d["kind"] == "bootstrap" and set(d["outputs"]["qvalid"]["mc_se"]) == {"loadings", "zscores"}
    assert d["outputs"]["qvalid"]["result"]["replicates"] is None
    pytester.runpytest(*QUIET).assert_outcomes(passed=1)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SEED", "7")  # another random stream: Monte-Carlo noise only
        pytester.runpytest(*QUIET).assert_outcomes(passed=1)
        mp.setenv("THRESHOLD", "0.6")  # another analysis
        r = pytester.runpytest(*QUIET)
    r.assert_outcomes(failed=1)
    out = r.stdout.str()
    assert "(Monte-Carlo tolerance: " in out and "alpha 0.01)" in out
    assert re.search(r"options \(differs\) \[reported\]", out)
    assert re.search(r"loadings\.flag_full \(differs\) \[reported\]", out)


def test_factors_result_snapshot(pytester):
    pytester.makepyfile(test_qs_k="""
import os
from qvalid import number_of_factors
from qvalid.datasets import load_lipset

def test_k(qsnapshot):
    qsnapshot.check(number_of_factors(load_lipset(), 4, n_runs=30, seed=int(os.environ.get("SEED", "1"))))
""")
    pytester.runpytest(*QUIET, "--qvalid-update").assert_outcomes(passed=1)
    pytester.runpytest(*QUIET).assert_outcomes(passed=1)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SEED", "2")  # other parallel-analysis nulls: the seed is a setting, and its centiles move
        r = pytester.runpytest(*QUIET)
    r.assert_outcomes(failed=1)
    out = r.stdout.str()
    assert re.search(r"settings \(differs\) \[reported\]", out)
    assert "Mismatch at seed: '1' (snapshot), '2' (now)" in out
    assert re.search(r"parallel\.grid_centile \(differs\)", out)


# ------------------------------------------------------------------------------------- the Monte-Carlo tolerance
def test_mc_z_is_bonferroni():
    from scipy.stats import norm

    assert mc_z(1, 0.05) == pytest.approx(1.959964, abs=1e-6)
    assert mc_z(1000, 0.01) == pytest.approx(norm.isf(0.01 / 2000))
    assert 4.4 < mc_z(1000) < 4.5


def test_mc_errors_by_hand():
    """mean: sd/sqrt(n); SD: sd sqrt((g - (n-3)/(n-1)) / (4n)); a cell without replicates stays NaN."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=(400, 2, 1))
    x[:100, 1, 0] = np.nan
    e = mc_errors(x, ci=0.95)
    col = x[:, 0, 0]
    n = 400
    sd = col.std(ddof=1)
    assert e["mean"][0, 0] == pytest.approx(sd / np.sqrt(n), rel=1e-12)
    assert e["bias"][0, 0] == e["mean"][0, 0]
    dev = col - col.mean()
    g = np.mean(dev ** 4) / np.mean(dev ** 2) ** 2
    assert e["sd"][0, 0] == pytest.approx(sd * np.sqrt((g - (n - 3) / (n - 1)) / (4 * n)), rel=1e-12)
    # normal data: the SE of the 97.5 % quantile is about sqrt(p(1-p)/n)/phi(1.96) = 0.134 / sqrt(n) * sd
    assert e["ci_high"][0, 0] == pytest.approx(np.sqrt(0.975 * 0.025) / 0.05845 / np.sqrt(n), rel=0.35)
    assert e["mean"][1, 0] == pytest.approx(np.nanstd(x[:, 1, 0], ddof=1) / np.sqrt(300), rel=1e-12)
    y = np.full((5, 1, 1), np.nan)
    assert np.isnan(mc_errors(y)["mean"]).all()
    y[0, 0, 0] = 0.5  # one replicate: no spread to estimate an error from
    assert all(np.isnan(v).all() for v in mc_errors(y).values())
    y[1, 0, 0] = 0.7
    assert mc_errors(y)["mean"][0, 0] == pytest.approx(np.std([0.5, 0.7], ddof=1) / np.sqrt(2))
    # a two-point replicate distribution (kurtosis g = 1): g - (n-3)/(n-1) = 2/(n-1), by hand for n = 100
    t = np.tile([0.0, 1.0], 50)[:, None, None]
    sd_t = np.std(t[:, 0, 0], ddof=1)
    assert mc_errors(t)["sd"][0, 0] == pytest.approx(sd_t * np.sqrt((2 / 99) / 400), rel=1e-12)


def test_compare_bootstrap_tolerance_scales_with_the_replicates():
    st = load_lipset()
    a = bootstrap(st, 3, 200, seed=1)
    b = bootstrap(st, 3, 200, seed=2)
    ea, eb = bootstrap_mc_errors(a), bootstrap_mc_errors(b)
    da, db = a.to_dict(replicates=False), b.to_dict(replicates=False)
    d = compare_bootstrap(da, db, se_old=ea, se_new=eb)
    assert d.ok, d.message()
    assert d["loadings.full"].max_abs == 0 and d["zscores.array_full"].passed
    assert d["zscores.array_boot"].status == "skipped" and not d.context["identical"]
    # the parametric replicate counts are compared within Monte-Carlo tolerance (they moved); the parametric
    # summaries, measured against each run's own random world, are not
    assert d["loadings.n"].status == "ok" and d["loadings.n"].max_abs > 0
    for name in ("zscores.estimate", "zscores.ci_low", "zscores.se", "zscores.keep_exact",
                 "zscores.distinguishing_freq", "zscores.consensus_freq", "loadings.se", "loadings.flag_freq", "factors.p_095",
                 "factors.n_no_flags_parametric"):
        assert d[name].status == "skipped", name
    # shrink the replicates' errors 100 times: the same two runs now differ beyond tolerance
    tiny = {t: {c: v / 100 for c, v in e.items()} for t, e in ea.items()}
    tinyb = {t: {c: v / 100 for c, v in e.items()} for t, e in eb.items()}
    assert not compare_bootstrap(da, db, se_old=tiny, se_new=tinyb)["zscores.resample_mean"].passed
    # identical runs: the derived outputs are compared exactly
    same = compare_bootstrap(da, da, se_old=ea, se_new=ea)
    assert same.context["identical"] and same["zscores.array_boot"].status == "ok"
    assert same["factors.verdict"].status == "ok"


# the tolerance of each kind of cell, pinned by hand: passes just inside, fails just outside
def _boot():
    import copy

    st = load_lipset()
    b = bootstrap(st, 3, 200, seed=1)
    d = json.loads(json.dumps(b.to_dict(replicates=False)))
    return d, bootstrap_mc_errors(b), copy.deepcopy


def _set(d, where, value):
    table, col, key = where
    if table in ("counts", "parametric"):
        d[table][col] = value
        return
    rows = d[table]
    rec = next(r for r in rows if all(str(r[k]) == v for k, v in key.items()))
    rec[col] = value


def _get(d, where):
    table, col, key = where
    if table in ("counts", "parametric"):
        return d[table][col]
    return next(r for r in d[table] if all(str(r[k]) == v for k, v in key.items()))[col]


@pytest.mark.parametrize("where, kind", [
    (("loadings", "resample_mean", {"sort": "US2", "factor": "f2"}), "mean"),
    (("zscores", "resample_bias", {"statement": "sta_3", "factor": "f1"}), "mean"),
    (("loadings", "resample_sd", {"sort": "US2", "factor": "f2"}), "max"),
    (("zscores", "resample_ci_low", {"statement": "sta_3", "factor": "f1"}), "max"),
    (("zscores", "resample_ci_high", {"statement": "sta_9", "factor": "f3"}), "max"),
    (("zscores", "resample_keep_exact", {"statement": "sta_1", "factor": "f1"}), "share"),
    (("loadings", "resample_flag_freq", {"sort": "US3", "factor": "f1"}), "share"),
    (("zscores", "resample_distinguishing_freq", {"statement": "sta_1", "factor": "f2"}), "share"),
    (("zscores", "resample_consensus_freq", {"statement": "sta_1", "factor": "f2"}), "share"),
    (("loadings", "resample_n", {"sort": "US1", "factor": "f1"}), "n"),
    (("loadings", "n", {"sort": "US1", "factor": "f1"}), "n"),
    (("zscores", "n", {"statement": "sta_1", "factor": "f2"}), "n"),
    (("factors", "share_085", {"factor": "f2"}), "factor share"),
    (("factors", "n_no_flags", {"factor": "f3"}), "no flags"),
    (("counts", "aligned", {}), "count"),
    (("parametric", "fallback", {}), "count"),
])
def test_monte_carlo_tolerance_of_each_kind_of_cell_by_hand(where, kind):
    from qvalid.checks.tables import SE_INFLATION

    a, e, copy = _boot()
    e_new = {t: {c: v * 2 for c, v in cols.items()} for t, cols in e.items()}  # the other run's errors: doubled
    base = compare_bootstrap(a, a, se_old=e, se_new=e_new)
    z = base.context["z"]
    name = where[0] if where[0] in ("counts", "parametric") else f"{where[0]}.{where[1]}"
    x = float(_get(a, where))
    rows = {"loadings": list(load_lipset().sort_ids), "zscores": list(load_lipset().statement_ids)}
    if kind in ("mean", "max"):
        i = rows[where[0]].index(next(iter(where[2].values())))
        j = int(where[2]["factor"][1:]) - 1
        se = e[where[0]][where[1]][i, j]
        diff_se = np.sqrt(se ** 2 + (2 * se) ** 2) if kind == "mean" else np.sqrt(2) * 2 * se
        tol = z * SE_INFLATION * diff_se + 1e-10

        def value(delta):
            return x + delta

        def tol_at(delta):
            return tol
    else:
        used, total = float(a["counts"]["used"]), float(a["counts"]["total"])
        simulated = float(a["parametric"]["total"] - a["parametric"]["failed"])  # parametric samples analysed
        resampling = where[1].startswith("resample_")
        if kind == "share":  # over the replicates counted in resample_n (resampling) or n (parametric)
            n_a = float(_get(a, (where[0], "resample_n" if resampling else "n", where[2])))
        elif kind == "n":  # a share of the used resamples, of the simulated participants or of the samples
            n_a = used if resampling else simulated * (len(rows["loadings"]) if where[0] == "loadings" else 1)
        elif kind == "factor share" or where[1] == "n_no_flags":
            n_a = float(_get(a, ("factors", "n_used", where[2])))
        elif kind == "no flags":
            n_a = simulated
        else:
            n_a = total if where[0] == "counts" else float(a["parametric"]["total"])
        scale = {"n": n_a, "no flags": n_a, "count": n_a}.get(kind, 1.0)  # counts are shares of this
        p = x / scale

        def value(delta):
            return (p + delta) * scale

        def tol_at(delta):
            na_ = nb = n_a
            pbar = np.clip((p * na_ + (p + delta) * nb) / (na_ + nb), 0.5 / (na_ + nb), 1 - 0.5 / (na_ + nb))
            return z * SE_INFLATION * np.sqrt(pbar * (1 - pbar) * (1 / na_ + 1 / nb)) + 1e-10
    # the crossing point of |delta| = tol(delta), found by bisection on the formula above
    lo, hi = 0.0, 1.0
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if mid < tol_at(mid) else (lo, mid)
    for factor, ok in ((0.98, True), (1.02, False)):
        b = copy(a)
        _set(b, where, value(lo * factor))
        d = compare_bootstrap(a, b, se_old=e, se_new=e_new)
        assert d[name].passed is ok, (name, factor, lo, d[name])
        assert d[name].klass in (("within tolerance",) if ok else ("reported", "numerical only"))


def test_compare_bootstrap_without_replicate_errors_and_design_changes():
    a, e, copy = _boot()
    d = compare_bootstrap(a, a)
    assert d.ok and d["loadings.resample_mean"].status == "skipped"
    assert d["zscores.resample_ci_high"].status == "skipped" and d["zscores.se"].status == "ok"  # identical
    assert d["loadings.resample_mean"].note == "no Monte-Carlo errors of the replicates recorded"
    assert d["zscores.resample_keep_exact"].status == "ok"  # frequencies need no replicate errors
    assert d["zscores.distinguishing_freq"].status == "ok" and d["loadings.flag_freq"].status == "ok"  # identical
    b = copy(a)
    b["bootstrap"]["resample"] = "statements"
    d = compare_bootstrap(a, b, se_old=e, se_new=e)
    assert not d.ok and d["settings"].klass == "reported" and d["settings"].worst.where == "resample"
    b = copy(a)
    b["loadings"] = [r for r in b["loadings"] if r["sort"] != "FR9"]
    d = compare_bootstrap(a, b, se_old=e, se_new=e)
    assert d["ids"].status == "shape" and d["ids"].klass == "reported" and len(d.outputs) == 4
    assert compare_bootstrap(a, a, se_old=e, se_new=e)["ids"].n_reported == 0


def test_an_option_added_since_the_snapshot_counts_at_its_default():
    from qvalid.checks.tables import compare_factors
    from qvalid import number_of_factors

    a, e, copy = _boot()
    old = copy(a)
    gone = "qdc_labels"
    default = old["options"].pop(gone)  # a snapshot by a qvalid without this option
    d = compare_bootstrap(old, a, se_old=e, se_new=e)
    assert d.ok and d["options"].status == "ok"
    assert d.notes == (f"option(s) not recorded on one side (another qvalid), taken at their defaults: "
                       f"{gone}={default!r}",)
    old["options"][gone] = "something else"
    assert compare_bootstrap(old, a, se_old=e, se_new=e)["options"].klass == "reported"
    f = json.loads(json.dumps(number_of_factors(load_lipset(), 3, n_runs=20, seed=1).to_dict()))
    g = copy(f)
    g["options"].pop(gone)
    d = compare_factors(g, f)
    assert d.ok and len(d.notes) == 1 and gone in d.notes[0]


# bootstrap schema 2 (issue 18): resampling statistics under resample_*, parametric ones under the plain names
def test_the_schema_compared_is_the_bootstrap_schema():
    from qvalid.checks.tables import BOOTSTRAP_SCHEMA, MC_COLUMNS
    from qvalid.stability.summaries import SCHEMA

    assert BOOTSTRAP_SCHEMA == SCHEMA == 2
    a, _, _ = _boot()
    cols = set(a["loadings"][0]) | set(a["zscores"][0])
    assert set(MC_COLUMNS) <= cols  # every column given a Monte-Carlo error exists in the tables


def _schema1(d):
    """A schema-1 bootstrap JSON as qvalid before issue 18 wrote it: no schema key, no parametric block, the
    resampling's statistics under the plain names."""
    old = {k: v for k, v in d.items() if k not in ("schema", "parametric")}
    for table in ("loadings", "zscores"):
        old[table] = [{k.removeprefix("resample_"): v for k, v in r.items()
                       if k.startswith("resample_") or k in ("sort", "statement", "factor", "full", "flag_full",
                                                             "array_full", "array_boot", "distinguishing_full",
                                                             "consensus_full")} for r in d[table]]
    return old


def test_a_schema_1_bootstrap_is_refused_in_one_line():
    from qvalid.errors import QInputError

    a, e, copy = _boot()
    old = _schema1(a)
    assert "mean" in old["loadings"][0] and "resample_mean" not in old["loadings"][0]
    with pytest.raises(QInputError) as err:
        compare_bootstrap(old, a, se_old=e, se_new=e)
    assert str(err.value) == ("snapshot written by an older qvalid (bootstrap schema 1); this qvalid compares schema "
                              "2: make it again with this qvalid (pytest --qvalid-update)")
    newer = copy(a)
    newer["schema"] = 3
    with pytest.raises(QInputError, match=r"^now written by another qvalid \(bootstrap schema 3\)"):
        compare_bootstrap(a, newer, se_old=e, se_new=e)
    # schema-2 results with schema-1 errors (mean, sd, ci_*): refused, not silently skipped
    e1 = {t: {c.removeprefix("resample_"): v for c, v in cols.items()} for t, cols in e.items()}
    with pytest.raises(QInputError, match=r"^snapshot written by an older qvalid \(bootstrap schema 1: Monte-Carlo"):
        compare_bootstrap(a, a, se_old=e1, se_new=e)
    assert compare_bootstrap(a, a, se_old=e, se_new=e).ok


def test_a_schema_1_bootstrap_snapshot_fails_the_fixture_in_one_line(pytester):
    pytester.makepyfile(test_qs_old="""
from qvalid import bootstrap
from qvalid.datasets import load_lipset

def test_boot(qsnapshot):
    qsnapshot.check(bootstrap(load_lipset(), 3, 50, seed=1))
""")
    pytester.runpytest(*QUIET, "--qvalid-update").assert_outcomes(passed=1)
    path = pytester.path / "__qsnapshots__" / "test_qs_old" / "test_boot.qsnap.json"
    d = json.loads(path.read_text())
    side = d["outputs"]["qvalid"]
    side["result"] = _schema1(side["result"])
    side["mc_se"] = {t: {c.removeprefix("resample_"): v for c, v in cols.items() if c != "se"}
                     for t, cols in side["mc_se"].items()}
    path.write_text(json.dumps(d))
    r = pytester.runpytest(*QUIET)
    r.assert_outcomes(failed=1)
    out = r.stdout.str()
    assert f"qvalid snapshot {path}: snapshot written by an older qvalid (bootstrap schema 1)" in out
    assert "QInputError" not in out and "tables.py" not in out  # one line, no traceback into qvalid
    pytester.runpytest(*QUIET, "--qvalid-update").assert_outcomes(passed=1)
    pytester.runpytest(*QUIET).assert_outcomes(passed=1)


def test_bootstrap_mc_errors_of_both_bootstraps():
    from qvalid.checks.tables import MC_COLUMNS

    st = load_lipset()
    b = bootstrap(st, 3, 60, seed=3)
    e = bootstrap_mc_errors(b)
    assert set(e["loadings"]) == set(e["zscores"]) == set(MC_COLUMNS)  # the resampling's statistics only
    for t in ("loadings", "zscores"):
        raw = mc_errors(b.raw[t][b.used], b.ci)
        for col, key in MC_COLUMNS.items():
            np.testing.assert_array_equal(e[t][col], raw[key])
    # without the parametric bootstrap: two such runs compare
    c, c2 = (bootstrap(st, 3, 60, seed=s, parametric=False) for s in (3, 4))
    ec = bootstrap_mc_errors(c)
    d = compare_bootstrap(c.to_dict(replicates=False), c2.to_dict(replicates=False), se_old=ec,
                          se_new=bootstrap_mc_errors(c2))
    assert d.ok, d.message()
    # one run with the parametric bootstrap, one without: a changed design, reported
    d = compare_bootstrap(b.to_dict(replicates=False), c.to_dict(replicates=False), se_old=e, se_new=ec)
    assert d["settings"].klass == "reported" and d["settings"].worst.where == "parametric"


@pytest.mark.parametrize("where", [
    ("zscores", "estimate", {"statement": "sta_3", "factor": "f1"}),
    ("zscores", "ci_low", {"statement": "sta_3", "factor": "f1"}),
    ("zscores", "keep_within1", {"statement": "sta_3", "factor": "f1"}),
    ("zscores", "move2", {"statement": "sta_3", "factor": "f1"}),
    ("zscores", "se", {"statement": "sta_3", "factor": "f1"}),
    ("zscores", "distinguishing_freq", {"statement": "sta_1", "factor": "f2"}),  # aligned to the world's factors
    ("zscores", "consensus_freq", {"statement": "sta_1", "factor": "f2"}),
    ("loadings", "estimate", {"sort": "US2", "factor": "f2"}),
    ("loadings", "ci_high", {"sort": "US2", "factor": "f2"}),
    ("loadings", "se", {"sort": "US2", "factor": "f2"}),
    ("loadings", "flag_freq", {"sort": "US3", "factor": "f1"}),
    ("factors", "p_085", {"factor": "f1"}),
    ("factors", "array_r", {"factor": "f2"}),
    ("factors", "n_no_flags_parametric", {"factor": "f3"}),
])
def test_what_the_parametric_world_or_the_curve_derive_is_compared_only_on_the_same_stream(where):
    """The parametric summaries are measured against the world's truth (aligned to its factors, fitted against its
    z-scores, counted against its array), itself drawn from the seed; the recovery probabilities map the shares through the calibration curve: exactly on one random
    stream, not compared on another (their inputs are)."""
    a, e, copy = _boot()
    b = copy(a)
    _set(b, where, float(_get(a, where)) + 1e-6)
    name = f"{where[0]}.{where[1]}"
    d = compare_bootstrap(a, b, se_old=e, se_new=e)
    assert d.context["identical"] and not d.ok and d[name].status == "differs"
    assert [o.name for o in d.failures] == [name]
    c = copy(b)
    c["zscores"][0]["resample_mean"] += 1e-4  # another stream: a Monte-Carlo cell moves within its tolerance
    d = compare_bootstrap(a, c, se_old=e, se_new=e)
    assert not d.context["identical"] and d.ok and d[name].status == "skipped"
    assert "parametric world's random truth" in d[name].note


def test_the_world_congruence_is_compared_on_the_same_stream():
    a, e, copy = _boot()
    b = copy(a)
    b["parametric"]["world_congruence"][1] += 1e-6
    d = compare_bootstrap(a, b, se_old=e, se_new=e)
    assert [o.name for o in d.failures] == ["parametric.world_congruence"]
