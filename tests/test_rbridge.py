"""The rpy2 bridge to R qmethod: laziness, missing-R errors (no R needed), and live runs against the golden files.

Live tests use one R session (module-level cache in qvalid.r.qmethod). When rpy2/R/qmethod is missing they skip,
except in CI where they fail unless QVALID_ALLOW_NO_R=1 (tests/_r.py).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from qvalid import QInputError, analyze
from qvalid.checks.compare import compare
from qvalid.r.session import INSTALL_HINT, RNotAvailable
from qvalid.r.qmethod import OUTPUTS, as_result
from _golden import load_golden

sys.path.insert(0, str(Path(__file__).parent))
from _r import GOLDEN, MORE_STUDIES, ROOT, case_files, case_options, r_session  # noqa: E402,F401

LIPSET_CASES = case_files("lipset")


# ---------------------------------------------------------------------- no R needed
def _python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})


def test_importing_qvalid_never_imports_rpy2():
    p = _python("import sys, qvalid, qvalid.r.session, qvalid.r.qmethod, qvalid.r.qmboots, qvalid.checks.compare, qvalid.checks.crosscheck, qvalid.testing, qvalid.cli\n"
                "qvalid.cli.make_parser()\n"
                "assert 'rpy2' not in sys.modules, 'rpy2 imported'\n"
                "assert 'hypothesis' not in sys.modules\n"
                "print('ok')")
    assert p.returncode == 0 and p.stdout.strip() == "ok", p.stderr


def test_missing_rpy2_raises_one_clear_error():
    p = _python("import sys\nsys.modules['rpy2'] = None\n"
                "from qvalid.r.qmethod import run_qmethod\nfrom qvalid.r.session import RNotAvailable, r_available\n"
                "from qvalid.datasets import load_lipset\n"
                "assert r_available() is False\n"
                "try:\n    run_qmethod(load_lipset(), 3)\n"
                "except RNotAvailable as e:\n    print(e)\n")
    assert p.returncode == 0, p.stderr
    msg = p.stdout.strip()
    assert msg.startswith("R qmethod is not available (rpy2 cannot be imported: ")
    assert msg.endswith(INSTALL_HINT) and "\n" not in msg
    assert "apt-get install python3-rpy2 r-base-core" in INSTALL_HINT and "install.packages('qmethod')" in INSTALL_HINT


def test_rnotavailable_is_an_input_error():
    assert issubclass(RNotAvailable, QInputError)  # the CLI turns it into one line and exit code 2


@pytest.mark.parametrize("path", LIPSET_CASES[:3] + [GOLDEN / "lipset" / "pca_none_pearson_k4.json"],
                         ids=lambda p: p.stem)
def test_load_golden_reads_the_lipset_files(path):
    rr = load_golden(path)
    assert rr.study.n_sorts == 9 and rr.versions["qmethod"] == "1.8.4"
    assert set(rr.outputs) >= set(OUTPUTS)
    if path.stem == "pca_none_pearson_k4":
        assert list(rr.missing) == ["qdc"] and rr.missing["qdc"].startswith("R failed: qdc: In addition")


# ---------------------------------------------------------------------- live (marker r)
def _assert_same_outputs(live, stored, where):
    """Bit-for-bit: the same R gives the same numbers through the bridge as stored in the golden file."""
    for name in OUTPUTS:
        a, b = live.outputs[name], stored.outputs[name]
        if name == "characteristics":
            assert (a is None) == (b is None), (where, name)
            if a is not None:
                for key in a:
                    np.testing.assert_array_equal(a[key], b[key], err_msg=f"{where}: {name}.{key}")
        elif name == "qdc":
            assert (a is None) == (b is None), (where, name)
            if a is not None:
                assert tuple(a["pairs"]) == tuple(b["pairs"])
                np.testing.assert_array_equal(a["diffs"], b["diffs"], err_msg=f"{where}: qdc diffs")
                assert [str(x) for x in a["labels"]] == [str(x) for x in b["labels"]], where
                assert (a["stars"].astype(str) == b["stars"].astype(str)).all(), where
        else:
            assert (a is None) == (b is None), (where, name)
            if a is not None:
                np.testing.assert_array_equal(a, b, err_msg=f"{where}: {name}")
    assert live.outputs["qdc_message"] == stored.outputs["qdc_message"]
    assert live.warnings == stored.warnings, where
    assert live.route == stored.route and live.missing == stored.missing, where


@pytest.mark.r
@pytest.mark.parametrize("path", LIPSET_CASES, ids=lambda p: p.stem)
def test_bridge_reproduces_make_golden_R_bit_for_bit(path, r_session):
    """The lipset files were written by make_golden.R (plain R, no rpy2): the bridge must read the same numbers."""
    from qvalid.r.qmethod import run_qmethod

    stored = load_golden(path)
    live = run_qmethod(stored.study, stored.nfactors, **case_options(stored))
    _assert_same_outputs(live, stored, path.stem)
    assert live.versions == {**stored.versions, "rpy2": live.versions["rpy2"]}


SAMPLE = [p for s in MORE_STUDIES for p in case_files(s)[:: 9 if s != "many_factors" else 3]]


@pytest.mark.r
@pytest.mark.parametrize("path", SAMPLE, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_golden_files_are_reproducible(path, r_session):
    from qvalid.r.qmethod import run_qmethod

    stored = load_golden(path)
    live = run_qmethod(stored.study, stored.nfactors, **case_options(stored))
    _assert_same_outputs(live, stored, path.stem)
    assert live.call == stored.call


@pytest.mark.r
def test_run_records_versions_call_and_console(r_session, lipset):
    from qvalid.r.qmethod import run_qmethod

    rr = run_qmethod(lipset, 3)
    assert set(rr.versions) == {"R", "qmethod", "psych", "rpy2"} and rr.versions["qmethod"] == "1.8.4"
    assert rr.versions["R"].startswith("R version 4.")
    assert rr.call == ('qmethod(dataset, nfactors = 3, extraction = "PCA", rotation = "varimax", forced = TRUE, '
                       'distribution = NULL, cor.method = "pearson", silent = TRUE, spc = 1e-05)')
    assert rr.route == "qmethod" and not rr.failed and rr.missing == {}
    assert rr.warnings == ("One or more Q-sorts with negative loadings are flagged through the automatic "
                           "pre-flagging. This is not necessarily an issue, but double check the flags manually, "
                           "e.g. using the function 'loa.and.flags()'.",)
    assert rr.stdout == "" and rr.seconds > 0


@pytest.fixture(scope="module")
def lipset():
    from qvalid.datasets import load_lipset

    return load_lipset()


@pytest.mark.r
def test_rconsole_captures_and_restores(r_session):
    from rpy2.rinterface_lib import callbacks

    from qvalid.r.session import RConsole, require_r as _require_r

    ro = _require_r().ro
    before = (callbacks.consolewrite_print, callbacks.consolewrite_warnerror)
    locale = ro.r('Sys.getlocale("LC_MESSAGES")')[0]
    with RConsole() as con:
        ro.r('cat("hello\\n"); message("to stderr")')
        inside = ro.r('Sys.getlocale("LC_MESSAGES")')[0]
        msg = ro.r('tryCatch(log(-1), warning = function(w) conditionMessage(w))')[0]
    assert con.stdout == "hello\n" and con.stderr == "to stderr\n"
    assert inside == "C" and msg == "NaNs produced"
    assert (callbacks.consolewrite_print, callbacks.consolewrite_warnerror) == before
    assert ro.r('Sys.getlocale("LC_MESSAGES")')[0] == locale
    with pytest.raises(ZeroDivisionError):
        with RConsole():
            1 / 0
    assert (callbacks.consolewrite_print, callbacks.consolewrite_warnerror) == before


@pytest.mark.r
def test_r_failure_still_returns_what_exists(r_session, lipset):
    from qvalid.r.qmethod import run_qmethod

    rr = run_qmethod(lipset, 5, rotation="none")  # qdc: "missing value where TRUE/FALSE needed"
    assert rr.route == "stepwise" and rr.error == "missing value where TRUE/FALSE needed"
    assert rr.failure_summary() == "R failed: qdc: missing value where TRUE/FALSE needed"
    assert list(rr.missing) == ["qdc"]
    assert rr.outputs["zscores"].shape == (33, 5) and np.isnan(rr.outputs["zscores"][:, 2]).all()
    rr1 = run_qmethod(lipset, 1, extraction="centroid")  # stats::varimax on a vector: "argument is of length zero"
    assert rr1.error == "argument is of length zero" and rr1.missing == {}
    assert "not output of qmethod()" in rr1.notes[0]
    np.testing.assert_array_equal(rr1.outputs["loadings"], rr1.outputs["unrotated_loadings"])


@pytest.mark.r
def test_timeout_stops_r_and_the_session_survives(r_session, lipset):
    from qvalid.r.qmethod import run_qmethod

    rr = run_qmethod(lipset, 3, timeout=1e-9)
    assert rr.failed and "reached elapsed time limit" in rr.failure_summary()
    assert "loadings" in rr.missing
    assert run_qmethod(lipset, 3).route == "qmethod"  # no time limit left behind


@pytest.mark.r
def test_manual_flags_use_qzscores_and_qdc(r_session, lipset):
    from qvalid.r.qmethod import run_qmethod

    auto = run_qmethod(lipset, 3)
    same = run_qmethod(lipset, 3, flags=auto.outputs["flags"])
    assert same.route == "manual" and same.call.startswith("loa <- unclass(principal(")
    for name in ("loadings", "zscores", "factor_arrays", "sd_dif"):
        np.testing.assert_array_equal(same.outputs[name], auto.outputs[name])
    flags = auto.outputs["flags"].copy()
    flags[:, 0] = False
    flags[0, 0] = True  # US1 alone defines f1
    rr = run_qmethod(lipset, 3, flags=flags)
    mine = analyze(lipset, 3, flags=flags)
    diff = compare(mine, as_result(rr), unavailable=rr.missing)
    assert diff.ok, diff.message()
    assert rr.outputs["characteristics"]["nload"].tolist()[0] == 1


@pytest.mark.r
def test_as_result_has_qvalid_labels(r_session, lipset):
    from qvalid.r.qmethod import run_qmethod

    res = as_result(run_qmethod(lipset, 3, extraction="centroid", cor_method="kendall"))
    assert res.sort_ids == list(lipset.sort_ids) and res.factors == ["f1", "f2", "f3"]
    assert list(res.loa.index) == list(lipset.sort_ids) and list(res.qdc.columns)[:3] == ["dist.and.cons", "f1_f2",
                                                                                        "sig_f1_f2"]
    assert res.options.extraction == "centroid" and res.options.cor_method == "kendall"
    assert res.flags.dtype == bool and res.characteristics.nload.dtype.kind == "i"


@pytest.mark.r
def test_non_forced_study_passes_the_distribution(r_session):
    from qvalid.r.qmethod import run_qmethod

    stored = load_golden(GOLDEN / "nonforced" / "pca_varimax_pearson_k3.json")
    rr = run_qmethod(stored.study, 3)
    assert "forced = FALSE, distribution = c(-3, -3, -2, -2, -2, -1" in rr.call
    assert compare(analyze(stored.study, 3), as_result(rr)).ok


@pytest.mark.r
def test_odd_ids_survive_the_round_trip(r_session, lipset):
    from qvalid.r.qmethod import run_qmethod

    odd = lipset.replace(sort_ids=("1 a", "b-2", "c.3", "d'4", "é5", "F 6", "7", "x/8", "NA"),
                         statement_ids=tuple(f"{i} s" for i in range(33)))
    rr = run_qmethod(odd, 2)
    assert compare(analyze(odd, 2), as_result(rr)).ok
