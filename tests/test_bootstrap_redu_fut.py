"""The published redu_fut bootstrap (../shared/data/redu_fut_qmethod, 36 statements x 49 Q-sorts, PCA + varimax,
k = 3, qmboots with 2000 steps run in 2020; licence: none, so it is read from ../shared only).

1. Replay: its stored ``$resamples`` through qvalid's qindtest mode give its 2000 steps (loadings, flags, z-scores)
   and its 305 rejected steps exactly, and its mean bootstrap SD of the z-scores per factor (0.378/0.525/0.468).
2. Statistics: qvalid's own balanced resamples (another seed) give the same mean SDs and flag frequencies of the
   defining sorts within Monte-Carlo error.
"""

from __future__ import annotations

import numpy as np
import pytest

from qvalid import QStudy
from qvalid import bootstrap
from qvalid.stability import from_qmboots

from _r import require_r
from _shared import shared_path

RDATA = "data/redu_fut_qmethod/qbstrp_results__3_f.RData"


@pytest.fixture(scope="module")
def stored():
    path = shared_path(RDATA)
    require_r()
    from qvalid.r.session import require_r as _require_r

    r = _require_r()
    ro = r.ro
    ro.r(f'local({{e <- new.env(); load("{path}", envir = e); .qvalid_qb3 <<- get(ls(e)[1], e)}})')

    def num(expr):
        with r.localconverter(ro.default_converter + r.numpy2ri.converter) as cv:
            return np.array(cv.rpy2py(ro.r(expr)), dtype=float)

    b = ".qvalid_qb3"
    out = {
        "scores": num(f"as.matrix({b}$orig.res$dataset)").astype(int),
        "sort_ids": list(ro.r(f"colnames({b}$orig.res$dataset)")),
        "statement_ids": list(ro.r(f"rownames({b}$orig.res$dataset)")),
        "resamples": num(f"as.matrix({b}$resamples)"),
        "order_log": list(ro.r(f"as.character(unlist({b}$indet.tests[[2]][[1]]))")),
        "target": num(f"as.matrix({b}$orig.res$loa)"),
        "zsd": [num(f'{b}[["zscore-stats"]][[{f + 2}]]$sd') for f in range(3)],
        "loa": [num(f"as.matrix({b}$full.bts.res[[{f + 1}]]$loa)") for f in range(3)],
        "zsc": [num(f"as.matrix({b}$full.bts.res[[{f + 1}]]$zsc)") for f in range(3)],
        "flagged": [num(f"1 * as.matrix({b}$full.bts.res[[{f + 1}]]$flagged)") for f in range(3)],
        "flag_freq": [num(f"{b}$loa.stats[[{f + 1}]]$flag_freq") for f in range(3)],
        "loastats_rows": [list(ro.r(f"rownames({b}$loa.stats[[{f + 1}]])")) for f in range(3)],
    }
    ro.r("rm(.qvalid_qb3, envir = globalenv())")
    out["study"] = QStudy.from_array(out["scores"], out["statement_ids"], out["sort_ids"], name="redu_fut")
    return out


def test_published_mean_sds_are_what_the_issue_quotes(stored):
    assert [round(float(z.mean()), 3) for z in stored["zsd"]] == [0.378, 0.525, 0.468]
    assert sum(s.startswith("ERROR in ORDER swap") for s in stored["order_log"]) == 305


def test_replay_of_the_published_2000_steps(stored):
    b = bootstrap(stored["study"], 3, indices=from_qmboots(stored["resamples"]), align="qindtest")
    np.testing.assert_allclose(b.full.loadings, stored["target"], atol=1e-10)
    rejected = np.array([s.startswith("ERROR in ORDER swap") for s in stored["order_log"]])
    np.testing.assert_array_equal(b.raw["status"] == "rejected", rejected)
    for f in range(3):
        np.testing.assert_allclose(b.raw["loadings"][:, :, f].T, stored["loa"][f], atol=1e-10, rtol=0)
        np.testing.assert_array_equal(b.raw["flags"][:, :, f].T, stored["flagged"][f])
        np.testing.assert_allclose(b.raw["zscores"][:, :, f].T, stored["zsc"][f], atol=1e-10, rtol=0)
    sd = b.wide("zscores", "resample_sd")
    np.testing.assert_allclose(sd.to_numpy(), np.column_stack(stored["zsd"]), atol=1e-10)


def test_own_balanced_resamples_agree_within_monte_carlo_error(stored):
    """2000 fresh balanced resamples (qindtest mode, as the stored run): the mean bootstrap SD of the z-scores per
    factor and the flag frequency of every defining sort agree with the stored run within 4 Monte-Carlo standard
    errors. The MC error of a mean SD is estimated by batch means (20 batches of 100 replicates) of this run,
    doubled in variance for the difference of two independent runs; that of a frequency p from n steps is
    sqrt(2 p (1 - p) / n)."""
    study = stored["study"]
    b = bootstrap(study, 3, 2000, align="qindtest", seed=2024)
    used = b.used
    z = b.raw["zscores"][used]
    for f in range(3):
        batches = [np.nanstd(z[i::20, :, f], axis=0, ddof=1).mean() for i in range(20)]
        mc_se = np.std(batches, ddof=1) / np.sqrt(20) * np.sqrt(2)
        mine = np.nanstd(z[:, :, f], axis=0, ddof=1).mean()
        assert abs(mine - stored["zsd"][f].mean()) < 4 * mc_se, (f, mine, stored["zsd"][f].mean(), mc_se)
    freq, n = b.wide("loadings", "resample_flag_freq"), b.wide("loadings", "resample_n")
    for f in range(3):
        ref = dict(zip(stored["loastats_rows"][f], stored["flag_freq"][f]))
        for i in np.flatnonzero(b.full.flags[:, f]):  # the defining sorts of the factor
            sid = study.sort_ids[i]
            p, q = freq.iloc[i, f], ref[sid]
            se = np.sqrt(2 * max(p * (1 - p), 1e-4) / n.iloc[i, f])
            assert abs(p - q) < 4 * se, (sid, f, p, q, se)
