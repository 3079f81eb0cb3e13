"""Shared helpers of the live R tests (test_rbridge.py, test_crosscheck.py) and the golden loaders.

``require_r()``: the live tests need rpy2 + R + qmethod. When they are missing the test is skipped, except in CI
(env var ``CI`` set) where it fails, unless ``QVALID_ALLOW_NO_R=1`` allows the skip explicitly.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

import pytest

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "reference" / "golden"
LIPSET_CSV = GOLDEN / "inputs" / "lipset.csv"
#: Studies written by reference/golden/make_golden_more.py (directories under reference/golden).
MORE_STUDIES = ("nav_synth", "ties", "nonforced", "large", "many_factors")


def require_r():
    """Skip (or, in CI without QVALID_ALLOW_NO_R=1, fail) when R qmethod cannot be used through rpy2."""
    from qvalid.r.session import RNotAvailable, require_r as _require_r

    try:
        _require_r()
    except RNotAvailable as err:
        if os.environ.get("CI") and os.environ.get("QVALID_ALLOW_NO_R") != "1":
            pytest.fail(f"live R tests must run in CI: {err} (set QVALID_ALLOW_NO_R=1 to allow skipping)",
                        pytrace=False)
        pytest.skip(str(err))


@pytest.fixture(scope="session")
def r_session():
    """One R session for the whole test run; returns the versions of R, qmethod, psych and rpy2."""
    require_r()
    from qvalid.r.session import r_versions

    return r_versions()


def r_cor(scores, method: str = "pearson") -> np.ndarray:
    """Live R: ``cor(x, method = method)`` on the scores (statements x sorts) as a double matrix."""
    from qvalid.r.session import require_r as _require_r

    ro = _require_r().ro
    x = np.asarray(scores, dtype=np.float64)
    m = ro.r["matrix"](ro.FloatVector(x.ravel(order="F").tolist()), nrow=x.shape[0])
    return np.array(ro.r["cor"](m, method=method), dtype=np.float64).reshape((x.shape[1],) * 2, order="F")


def case_files(study: str) -> list[Path]:
    return sorted(p for p in (GOLDEN / study).glob("*.json") if not p.name.startswith("correlation_"))


def case_options(rrun) -> dict:
    o = rrun.options
    return {"extraction": o["extraction"], "rotation": o["rotation"], "cor_method": o["cor_method"], "spc": o["spc"]}


def parse_case(name: str) -> dict:
    """``pca_varimax_pearson_k3`` -> options + nfactors."""
    ex, rot, cor, k = name.split("_")
    return {"extraction": ex, "rotation": rot, "cor_method": cor, "nfactors": int(k[1:])}


#: Golden cases where qvalid and R qmethod 1.8.4 are known to disagree: case id -> the reason. Each class is
#: explained in reference/golden/README.md ("Known disagreements"); the tests mark these cases xfail(strict=True),
#: so a fix shows up as XPASS and the entry must then go.
KNOWN = {
    1: "qvalid/core/extract.py, qvalid/core/correlation.py: centroid decisions (exact ties, zero sums) depend on the last bit "
       "of cor() and colSums(), which R computes in long double; fixed: qvalid takes close decisions on R's bits "
       "(README: known disagreement 1)",
    2: "qvalid/core/characteristics.py: R's qdc() compares a flagless factor when the last factor is also flagless (all-NA "
       "table); fixed: qvalid's qdc_flagless='positional' (the qmethod flavour) does the same (README: known "
       "disagreement 2)",
    3: "limitation: PCA components beyond the rank of R are a degenerate eigenspace; R's and numpy's LAPACK pick "
       "different bases (~1e-8 loadings) (README: known disagreement 3)",
    4: "qvalid/core/scores.py: z-scores that tie exactly in R (rowSums in long double) differed in the last bit in qvalid, so "
       "qmethod's tie rule gave different factor arrays; fixed where the loadings are R's to the last bit (qmethod's "
       "centroid on R's cor()); a tie that hangs on LAPACK's last bits (PCA, varimax) can remain (README: known "
       "disagreement 4)",
    5: "qvalid/core/rotate.py: varimax with as many factors as Q-sorts, or with (near-)null factors, is ill-conditioned: "
       "last-bit differences end up as large differences in the rotated loadings (README: known disagreement 5)",
    7: "qvalid/core/extract.py: psych flips each component by the sign of its column sum; for a component whose loadings "
       "sum to (mathematically) zero the sign is decided by the last bit (README: known disagreement 7)",
    8: "qvalid/core/scores.py: a flagged loading of +-1 (to rounding) gives R infinite weights (NaN z-scores) or ~1e15 "
       "weights whose sign is decided by the last bit; qvalid takes the limit (README: known disagreement 8)",
}
#: Cases of a disagreement class that qvalid has fixed: they stay as regression tests and must agree.
FIXED = {
    1: [*(f"ties/centroid_{rot}_pearson_k{k}" for rot in ("none", "varimax") for k in range(4, 8)),
        "centroid_colsum_tie/centroid_none_kendall_k5", "centroid_cor_last_bit/centroid_varimax_spearman_k4",
        "centroid_colsum_values/centroid_varimax_kendall_k3", "centroid_cor_pearson/centroid_none_pearson_k1",
        *(f"centroid_tie_flat7/centroid_{rot}_pearson_k{k}" for rot in ("none", "varimax") for k in (1, 2, 3))],
    2: ["nonforced/centroid_none_pearson_k5", "qdc_flagless_first/pca_none_spearman_k4"],
    4: ["zscore_ties/centroid_none_pearson_k3", "zscore_tie_flat7/centroid_none_spearman_k3"],
}
KNOWN_DISAGREEMENTS = {
    "pca_null_components/pca_varimax_spearman_k6": KNOWN[3],
    "varimax_square/centroid_varimax_kendall_k4": KNOWN[5],
    "pca_zero_sum_sign/pca_varimax_kendall_k5": KNOWN[7],
    "varimax_null_factors/centroid_varimax_pearson_k4": KNOWN[5],
    "unit_loading/pca_none_spearman_k1": KNOWN[8],
}


# ---------------------------------------------------------------------- R-faithful replicas
# Line-by-line Python copies of qmethod's arithmetic *with R's summation*: R's colSums/rowSums/mean/sd/cor
# accumulate in long double, sequentially. They are not part of qvalid: they prove, on the stored R outputs, that a
# known disagreement is a last-bit summation difference (and show what a fix would need).
def _ld_cumsum_last(a, axis):
    return np.cumsum(np.asarray(a, dtype=np.longdouble), axis=axis).take(-1, axis=axis)


def colsums_r(m) -> np.ndarray:
    """R's colSums(): a sequential long double sum per column, rounded to double."""
    return _ld_cumsum_last(m, 0).astype(np.float64)


def r_centroid(tmat, nfactors: int, spc: float = 1e-5, max_steps: int = 10_000):
    """qmethod 1.8.4 R/centroid.R line by line, with R's colSums; None if a loop exceeds ``max_steps``."""
    tmat = np.array(tmat, dtype=np.float64)
    n = tmat.shape[0]
    comp = np.empty((n, nfactors))
    for i in range(nfactors):
        np.fill_diagonal(tmat, 0.0)
        refvec = []
        steps = 0
        while not np.all(colsums_r(tmat) > 0):
            cs = colsums_r(tmat)
            oo = np.flatnonzero(cs.min() == cs)
            vec = tmat[oo, :] * -1
            tmat[oo, :] = vec
            tmat[:, oo] = vec.reshape(-1, order="F").reshape((n, len(oo)), order="F")  # R's column-major refill
            refvec.extend(oo.tolist())
            steps += 1
            if steps > max_steps:
                return None
        cs = colsums_r(tmat)
        rmean = cs / (n - 1)
        t1 = rmean + cs
        f1 = t1 / np.sqrt(t1.sum())
        steps = 0
        while not np.all(np.abs(rmean - f1 ** 2) < spc):
            rmean = f1 ** 2
            t2 = colsums_r(tmat) + f1 ** 2
            f1 = t2 / np.sqrt(t2.sum())
            steps += 1
            if steps > max_steps:
                return None
        tfac = f1.copy()
        for j in refvec:
            tfac[j] = -tfac[j]
        comp[:, i] = tfac
        res = tmat - f1[:, None] * f1[None, :]
        for j in reversed(refvec):
            res[j, :] *= -1
            res[:, j] *= -1
        tmat = res
    return comp


def _r_mean(x) -> np.float64:
    """R's mean() of doubles (summary.c): long double sum / n, plus one correction pass."""
    xl = np.asarray(x, dtype=np.longdouble)
    s = _ld_cumsum_last(xl, 0) / len(xl)
    return np.float64(s + _ld_cumsum_last(xl - s, 0) / len(xl))


def _r_sd(x) -> np.float64:
    """R's sd() = sqrt(var()), var from cov.c: two-pass long double mean stored as double, then sum of squares."""
    xl = np.asarray(x, dtype=np.longdouble)
    n = len(xl)
    m = _ld_cumsum_last(xl, 0) / n
    m = np.float64(m + _ld_cumsum_last(xl - m, 0) / n)
    d = xl - np.longdouble(m)
    return np.sqrt(np.float64(_ld_cumsum_last(d * d, 0) / (n - 1)))


def r_zscores(scores, loa, flags) -> np.ndarray:
    """R/qzscores.R: w = a/(1-a^2); t(t(dataset) * w) (double products); rowSums (long double); (S - mean) / sd."""
    x = np.asarray(scores, dtype=np.float64)
    flags = np.asarray(flags, dtype=bool)
    floa = np.where(flags, loa, 0.0)
    w = floa / (1 - floa ** 2)
    z = np.full((x.shape[0], w.shape[1]), np.nan)
    for f in range(w.shape[1]):
        if flags[:, f].any():
            s = _ld_cumsum_last(x * w[:, f][None, :], 1).astype(np.float64)
            z[:, f] = (s - _r_mean(s)) / _r_sd(s)
    return z


# ---------------------------------------------------------------------- the differential test (qvalid vs live R)
_QDC = {"qdc.pairs", "qdc.diffs", "qdc.stars", "qdc.labels", "consensus"}
_ZSCORE_DOWNSTREAM = {"zscores", "factor_arrays", "characteristics.se_fscores", "cor_zsc", "sd_dif"} | _QDC


def varimax_unstable(unrotated, eps: float = 1e-14, amplification: float = 1e6) -> bool:
    """Known disagreement 5, shown on the data: a relative perturbation of ``eps`` of the start moves qvalid's
    varimax result by more than ``amplification * eps``, so two correct implementations cannot agree to 1e-10."""
    from qvalid.core.rotate import varimax

    u = np.asarray(unrotated, dtype=np.float64)
    nudged = u * (1 + eps * np.random.default_rng(0).standard_normal(u.shape))
    return np.abs(varimax(u).loadings - varimax(nudged).loadings).max() > amplification * eps


def explain(study, k, opts, mine, rr, diff):
    """Which known disagreements (tests/_r.py KNOWN, reference/golden/README.md) explain every failing output of
    ``diff``; None when something is left unexplained. Each explanation is checked on the data, not assumed."""
    from qvalid.checks.compare import compare
    from qvalid.r.qmethod import as_result

    failing = {o.name for o in diff.failures}
    out = rr.outputs
    classes = set()
    unrot_differs = "unrotated_loadings" in failing and out["unrotated_loadings"] is not None
    if unrot_differs and opts["extraction"] == "centroid":
        return None  # class 1 is fixed (issue 8): qvalid's centroid takes every close decision on R's bits
    if unrot_differs and opts["extraction"] == "pca":
        u, m = out["unrotated_loadings"], mine.unrotated_loadings
        for j in range(k):
            if np.abs(u[:, j] - m[:, j]).max() <= 1e-10:
                continue
            if (u[:, j] ** 2).sum() < 1e-10:
                classes.add(3)  # a null component: ~1e-8 noise in an arbitrary basis
            elif abs(u[:, j].sum()) < 1e-10 and np.abs(u[:, j] + m[:, j]).max() <= 1e-10:
                classes.add(7)  # the same component with the other sign: its column sum is ~0
            else:
                return None
        if 7 in classes:
            return classes  # a flipped start: rotation, flags and everything downstream may follow
        if opts["rotation"] == "varimax" and k > 1 and varimax_unstable(u):
            return classes | {5}  # noise in the null components, amplified by an ill-conditioned varimax
        loose = compare(mine, as_result(rr), unavailable=rr.missing, tolerances={
            "unrotated_loadings": 1e-6, "loadings": 1e-6, "characteristics": 1e-6, "zscores": 1e-6,
            "cor_zsc": 1e-6, "qdc": 1e-6})
        failing = {o.name for o in loose.failures}
    if failing and "unrotated_loadings" not in failing and opts["rotation"] == "varimax" and k > 1:
        if k == study.n_sorts and all(o.kind == "float" for o in diff.failures):
            return classes | {5}  # ill-conditioned varimax: only float outputs move
        if varimax_unstable(out["unrotated_loadings"]):
            return classes | {5}  # near-null factors: the rotation itself is decided by rounding
    if failing & _ZSCORE_DOWNSTREAM and not failing & {"loadings", "flags"}:
        # 8: flagged loadings of +-1 (to rounding): infinite or ~1e15 weights of either sign in R, the limit in qvalid
        zr, zm = out["zscores"], mine.zscores
        with np.errstate(invalid="ignore"):  # R's z-scores may be infinite here (numpy's isclose multiplies them)
            cols = [j for j in range(k) if not np.allclose(zr[:, j], zm[:, j], rtol=0, atol=1e-10, equal_nan=True)]
        def unit(loa, fl, j):
            return np.abs(np.abs(loa[fl[:, j], j]) - 1).min(initial=1.0) < 1e-12

        if cols and all(unit(out["loadings"], out["flags"], j) or unit(mine.loadings, mine.flags, j) for j in cols):
            classes.add(8)
            failing -= _ZSCORE_DOWNSTREAM
    if "factor_arrays" in failing:
        from qvalid.core.scores import factor_arrays

        z = r_zscores(study.scores, out["loadings"], out["flags"])
        if np.array_equal(z, out["zscores"], equal_nan=True) and np.array_equal(
                factor_arrays(z, study.qscores), out["factor_arrays"], equal_nan=True):
            classes.add(4)
            failing.discard("factor_arrays")
    return classes if not failing else None



def differential(study, k: int, opts: dict) -> tuple[str, str]:
    """Run qvalid and live R qmethod on ``study`` and classify the outcome: ``(outcome, detail)``.

    ``outcome`` is ``"agree"`` (all outputs within 1e-10, exact ones equal; R may have failed on some),
    ``"both refuse the input"``, ``"known 6: ..."`` (a centroid that never converges: R loops forever),
    ``"known N: ..."`` for explained disagreements (:func:`explain`), or ``"unexplained"`` with the study and the
    comparison in ``detail``. Used by tests/test_crosscheck.py and scripts/differential_ties.py.
    """
    from qvalid import QInputError, analyze
    from qvalid.checks.compare import compare
    from qvalid.r.qmethod import as_result, run_qmethod

    try:
        mine = analyze(study, k, **opts)
    except QInputError as err:  # fine only where R fails too (R errors, or never returns: known 6)
        rr = run_qmethod(study, k, timeout=10, **opts)
        if {"unrotated_loadings", "loadings"} & set(rr.missing):
            return ("known 6: R's centroid loops forever (no convergence, or a zero column sum)" if "time limit" in
                    rr.failure_summary() else "both refuse the input"), ""
        if "did not converge" in str(err) and opts["extraction"] == "centroid":
            from qvalid.core.extract import centroid

            slow = centroid(rr.outputs["correlation"], k, max_iter=10 ** 6).loadings  # R converged: so does this
            if np.abs(slow - rr.outputs["unrotated_loadings"]).max() < 1e-10:
                return "known 6: R's communality iteration ends beyond qvalid's cap (qvalid refuses)", ""
        return "unexplained", f"qvalid refuses what R computes on {study!r}, {opts}, k={k}: {err}\n" \
                              f"scores (statements x sorts):\n{study.scores.tolist()}"
    rr = run_qmethod(study, k, timeout=10, **opts)
    diff = compare(mine, as_result(rr), unavailable=rr.missing, names=("qvalid", "qmethod 1.8.4"))
    if diff.ok:
        return "agree" + (" (R failed: outputs missing)" if rr.missing else ""), ""
    classes = explain(study, k, opts, mine, rr, diff)
    if not classes:
        return "unexplained", diff.message(f"unexplained disagreement on {study!r}, {opts}, k={k}\n"
                                           f"scores (statements x sorts):\n{study.scores.tolist()}")
    return "; ".join(f"known {c}: {KNOWN[c][:60]}" for c in sorted(classes)), diff.message()


def run_r(script: str) -> None:
    """Run an R script in the test session with qmethod attached (warnings silenced), e.g. one that saveRDS's a
    result; fails in CI without R."""
    require_r()
    from qvalid.r.session import require_r as _require_r

    _require_r().ro.r(f"suppressWarnings({{ library(qmethod); {script} }})")
