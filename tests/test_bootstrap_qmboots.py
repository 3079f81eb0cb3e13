"""Replay of R qmethod's qmboots: its own resamples fed to qvalid.bootstrap(align="qindtest") give its per-step
loadings, flags and z-scores (1e-10), the same rejected steps, and its zscore-stats / loa.stats summaries.

Stored R outputs: reference/golden/qmboots/*.json (made by make_qmboots_golden.py there); live: the same through
the R bridge with fewer steps (require_r: fails in CI without R).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from qvalid import bootstrap

from qvalid.stability import from_qmboots
from qvalid.io import read_study

from _r import GOLDEN, require_r

TOL = 1e-10
ERRMSG = "ERROR in ORDER swap: at least one factor in the resample is best match for two or more factors in the target"
CASES = sorted((GOLDEN / "qmboots").glob("*.json"))


def _arr(x):
    return np.array([[np.nan if v is None else v for v in row] for row in x], dtype=float) \
        if x and isinstance(x[0], list) else np.array([np.nan if v is None else v for v in x], dtype=float)


def _from_json(d) -> dict:
    out = dict(d)
    for key in ("resamples", "fsi", "target"):
        out[key] = _arr(d[key])
    for key in ("loa", "flagged", "zsc"):
        out[key] = [_arr(m) for m in d[key]]
    for key in ("zstats", "loastats"):
        out[key] = [{**t, "values": _arr(t["values"])} for t in d[key]]
    out["zbn"] = {**d["zbn"], "values": _arr(d["zbn"]["values"])}
    return out


def check_replay(study, k, r) -> dict:
    """Assert that qvalid replays qmboots run ``r`` (see :func:`qvalid.r.qmboots.run_qmboots`); return figures."""
    b = bootstrap(study, k, indices=from_qmboots(r["resamples"]), align="qindtest")
    np.testing.assert_allclose(b.full.loadings, r["target"], atol=TOL, rtol=0)
    rejected = np.array([s == ERRMSG for s in r["order_log"]])
    np.testing.assert_array_equal(b.raw["status"] == "rejected", rejected)
    for f in range(k):  # full.bts.res: every step, rejected ones included
        np.testing.assert_allclose(b.raw["loadings"][:, :, f].T, r["loa"][f], atol=TOL, rtol=0)
        np.testing.assert_array_equal(b.raw["flags"][:, :, f].T, r["flagged"][f])
        np.testing.assert_allclose(b.raw["zscores"][:, :, f].T, r["zsc"][f], atol=TOL, rtol=0)
    used = ~rejected
    quant = {"2.5%": 0.025, "25%": 0.25, "75%": 0.75, "97.5%": 0.975}
    for f in range(k):
        for table, x, ids in (("zstats", b.raw["zscores"][used, :, f], study.statement_ids),
                              ("loastats", b.raw["loadings"][used, :, f], study.sort_ids)):
            t = r[table][f]
            rows = [list(ids).index(name) for name in t["rows"]]  # loa.stats is sorted by name
            v, cols = t["values"], t["columns"]
            xs = x[:, rows]
            np.testing.assert_array_equal(v[:, cols.index("n")], (~np.isnan(xs)).sum(axis=0))
            with np.errstate(invalid="ignore"):
                for name, got in (("mean", np.nanmean(xs, 0)), ("sd", np.nanstd(xs, 0, ddof=1)),
                                  ("median", np.nanmedian(xs, 0)), ("min", np.nanmin(xs, 0)),
                                  ("max", np.nanmax(xs, 0)),
                                  *((q, np.nanquantile(xs, p, 0)) for q, p in quant.items())):
                    np.testing.assert_allclose(got, v[:, cols.index(name)], atol=TOL, rtol=0, err_msg=f"{table} {name}")
            if table == "loastats":
                mine = b.loadings.xs(f"f{f + 1}", level="factor").loc[t["rows"]]
                np.testing.assert_allclose(mine.resample_flag_freq, v[:, cols.index("flag_freq")], atol=1e-15, rtol=0)
                np.testing.assert_allclose(mine.resample_mean, v[:, cols.index("mean")], atol=TOL, rtol=0)
                np.testing.assert_allclose(mine.resample_sd, v[:, cols.index("sd")], atol=TOL, rtol=0)
                np.testing.assert_allclose(mine.resample_ci_low, v[:, cols.index("2.5%")], atol=TOL, rtol=0)
                np.testing.assert_allclose(mine.resample_ci_high, v[:, cols.index("97.5%")], atol=TOL, rtol=0)
    np.testing.assert_array_equal(b.array_boot, r["zbn"]["values"])  # "Bootstraped factor scores"
    # qmethod's qfsi indexes the factor-array *matrix* qm[[6]] as a vector: qm[[6]][f] is the single cell
    # zsc_n[f, 1], so R's FSindex_f = sum |zsc_n[f, 1] - fsc_bn_f| / n_statements (R/qfsi.R:8). qvalid computes the
    # documented index sum |zsc_n_f - fsc_bn_f| / n_statements; R's number is reproduced here from its own bug.
    n = study.n_statements
    cell = b.full.factor_arrays.ravel(order="F")[:k]
    r_fsi = np.abs(cell[None, :] - b.array_boot).sum(axis=0) / n
    np.testing.assert_allclose(r["fsi"][:, 0], r_fsi, atol=1e-12)
    np.testing.assert_allclose(r["fsi"][:, 1], r_fsi / (2 * np.abs(study.qscores).sum()), atol=1e-12)
    return {"steps": len(rejected), "rejected": int(rejected.sum())}


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_replay_of_stored_qmboots_runs(path):
    d = _from_json(json.loads(path.read_text()))
    study = read_study(GOLDEN / d["input"])
    got = check_replay(study, d["nfactors"], d)
    assert got["steps"] == d["nsteps"] and got["rejected"] > 0  # both stored runs have rejected steps


@pytest.mark.parametrize("name,k,steps", [("lipset", 3, 25), ("nav_synth", 4, 20)])
def test_replay_of_live_qmboots(name, k, steps):
    require_r()
    from qvalid.r.qmboots import run_qmboots

    study = read_study(GOLDEN / "inputs" / f"{name}.csv")
    check_replay(study, k, run_qmboots(study, k, steps, seed=7))


def test_cli_replays_a_qmboots_run_from_its_resamples_csv(tmp_path, capsys):
    """``qvalid bootstrap --indices resamples.csv`` (issue 21): the resamples written as R's
    write.csv(boots$resamples) writes them, replayed from the command line; the result is the library's replay,
    whose every step equals qmboots' (test above)."""
    from qvalid.cli import main
    from qvalid.io import read_resamples

    d = _from_json(json.loads(CASES[0].read_text()))
    study = read_study(GOLDEN / d["input"])
    r = d["resamples"].astype(int)  # positions x steps, 1-based sort numbers
    lines = ['"",' + ",".join(f'"bsampl_{j + 1}"' for j in range(r.shape[1]))]
    lines += [f'"{i + 1}",' + ",".join(map(str, row)) for i, row in enumerate(r)]
    p = tmp_path / "resamples.csv"
    p.write_text("\n".join(lines) + "\n")
    np.testing.assert_array_equal(read_resamples(p, study.n_sorts), from_qmboots(d["resamples"]))
    assert main(["bootstrap", str(GOLDEN / d["input"]), "-k", str(d["nfactors"]), "--align", "qindtest",
                 "--indices", str(p), "--format", "json"]) == 0
    got = json.loads(capsys.readouterr().out)
    lib = bootstrap(study, d["nfactors"], indices=from_qmboots(d["resamples"]), align="qindtest")
    assert got == json.loads(json.dumps(lib.to_dict()))
    p.write_text("\n".join(lines[:-1]) + "\n")  # a position missing: one line, exit 2
    assert main(["bootstrap", str(GOLDEN / d["input"]), "-k", "3", "--indices", str(p)]) == 2
    assert "rows (Q-sort positions), the study has 9 Q-sorts" in capsys.readouterr().err
