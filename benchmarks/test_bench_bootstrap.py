"""qvalid.bootstrap and R qmethod's qmboots side by side, in one run, on the same resamples (pytest-benchmark).

Each R case runs ``qmboots`` through the bridge (PCA + varimax, ``indet="qindtest"``; R's own elapsed time for the
whole call, measured inside R), replays its ``$resamples`` in qvalid (``align="qindtest"``, the same work) and
asserts first that every step agrees: loadings and z-scores of ``full.bts.res`` to 1e-10, flags and the rejected
steps exactly. Then pytest-benchmark times qvalid on those resamples, its summary tables included (qmboots returns
its summaries too). qvalid alone: 1000 fresh resamples (PCA and centroid + varimax with strict ties), with the
memory per 1000 replicates, and 10^4 resamples.

Target (issues 9 and 15): >= 500x qmboots per resample; 1000 resamples of a 36 x 25 four-factor centroid + varimax
study well under 0.1 s on one core. ``QVALID_BENCH_FAST=1`` (CI): 10 steps, no 10^4 run.
"""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from _cases import FAST, describe, study
from qvalid import bootstrap
from qvalid.stability import from_qmboots

TOL = 1e-10
R_STEPS = (10,) if FAST else (200, 1000)
R_CASES = [(name, k, n) for name, k in (("lipset", 3), ("nav36x25", 4)) for n in R_STEPS]
CENTROID = {"extraction": "centroid", "centroid_ties": "strict"}


def _agreement(b, r, k: int) -> float:
    """Largest difference between qvalid's replay and qmboots' per-step tables; asserts the cross-check."""
    rejected = np.array([s.startswith("ERROR in ORDER swap") for s in r["order_log"]])
    np.testing.assert_array_equal(b.raw["status"] == "rejected", rejected)
    worst = float(np.abs(np.array(b.full.loadings) - r["target"]).max())
    for f in range(k):
        np.testing.assert_array_equal(b.raw["flags"][:, :, f].T, r["flagged"][f])
        for key in ("loadings", "zscores"):
            mine, theirs = b.raw[key][:, :, f].T, r["loa" if key == "loadings" else "zsc"][f]
            drawn = ~np.isnan(theirs)
            np.testing.assert_array_equal(~np.isnan(mine), drawn)
            worst = max(worst, float(np.abs(mine[drawn] - theirs[drawn]).max()))
    assert worst <= TOL, worst
    return worst


def _with_tables(s, k, n=None, **kwargs):
    """bootstrap() and its summary tables (qmboots returns its summaries too; qvalid computes them lazily)."""
    b = bootstrap(s, k, n, **kwargs) if n is not None else bootstrap(s, k, **kwargs)
    b.loadings, b.zscores, b.factors  # noqa: B018 (computed and cached)
    return b


def _memory(fn) -> dict:
    """Bytes kept in the per-replicate arrays and the peak traced by tracemalloc during one run of ``fn``."""
    tracemalloc.start()
    try:
        b = fn()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    n = len(b.raw["status"])
    return {"kept_mib_per_1000": sum(v.nbytes for v in b.raw.values()) / 2**20 * 1000 / n,
            "peak_mib": peak / 2**20}


@pytest.mark.parametrize("name,k,steps", R_CASES, ids=[f"{s}-k{k}-{n}" for s, k, n in R_CASES])
def test_bootstrap_vs_qmboots(benchmark, name, k, steps):
    from qvalid.r.qmboots import run_qmboots

    s = study(name)
    r = run_qmboots(s, k, steps, seed=1)
    idx = from_qmboots(r["resamples"])
    kwargs = {"indices": idx, "align": "qindtest"}
    b = bootstrap(s, k, **kwargs)
    worst = _agreement(b, r, k)
    benchmark.group = f"bootstrap {name} k={k}"
    benchmark.extra_info.update(
        kind="bootstrap_vs_r", study=name, description=describe(name), nfactors=k, steps=steps,
        n_statements=s.n_statements, n_sorts=s.n_sorts, r_bootstrap_seconds=r["seconds"],
        rejected=int(b.counts["rejected"]), agreement=worst, versions=dict(r["versions"]))
    res = benchmark.pedantic(_with_tables, args=(s, k), kwargs=kwargs, rounds=1 if FAST else 3, iterations=1)
    assert res.counts["total"] == steps


#: (study, k, resamples, extraction, parametric): the resampling alone (``parametric=False``, the engine qmboots is
#: compared with) and the default since issue 18 (resampling plus as many simulated samples: the calibrated verdict
#: and intervals).
QV_CASES = [("nav36x25", 4, 1000, "pca", False), ("nav36x25", 4, 1000, "centroid", False),
            ("lipset", 3, 1000, "centroid", False), ("nav36x25", 4, 1000, "pca", True),
            ("nav36x25", 4, 1000, "centroid", True), ("lipset", 3, 1000, "centroid", True)]
if not FAST:
    QV_CASES += [("nav36x25", 4, 10_000, "pca", False), ("nav36x25", 4, 10_000, "centroid", False)]


@pytest.mark.parametrize("name,k,n,extraction,parametric", QV_CASES,
                         ids=[f"{s}-k{k}-{n}-{e}{'-parametric' if p else ''}" for s, k, n, e, p in QV_CASES])
def test_bootstrap_qvalid_alone(benchmark, name, k, n, extraction, parametric):
    s = study(name)
    n = 20 if FAST else n
    kwargs = {"seed": 1, "parametric": parametric, **(CENTROID if extraction == "centroid" else {})}
    benchmark.group = f"bootstrap {name} k={k} qvalid alone"
    benchmark.extra_info.update(kind="bootstrap_alone", study=name, description=describe(name), nfactors=k,
                                steps=n, extraction=extraction, parametric=parametric,
                                **_memory(lambda: _with_tables(s, k, min(n, 1000), **kwargs)))
    res = benchmark.pedantic(_with_tables, args=(s, k, n), kwargs=kwargs, rounds=1 if FAST or n > 1000 else 3,
                             iterations=1)
    assert (res.parametric is not None) == parametric
    assert res.counts["used"] + res.counts["failed"] == n
