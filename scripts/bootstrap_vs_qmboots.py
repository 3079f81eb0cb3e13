"""What changes when qmboots' own resamples are aligned by qvalid's Hungarian rule instead of qmethod's qindtest.

Usage (repository root): .venv/bin/python scripts/bootstrap_vs_qmboots.py [--redu-fut]
Prints the markdown table of docs/bootstrap.md. Inputs: the stored qmboots runs of reference/golden/qmboots
(lipset, nav_synth) and, with --redu-fut, the published 2000-step run in ../shared/data/redu_fut_qmethod (needs R to
read the .RData; only aggregate figures are printed).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qvalid import QStudy  # noqa: E402
from qvalid import bootstrap
from qvalid.stability import from_qmboots  # noqa: E402
from qvalid.io import read_study  # noqa: E402


def golden_runs():
    for path in sorted((ROOT / "reference/golden/qmboots").glob("*.json")):
        d = json.loads(path.read_text())
        yield path.stem, read_study(ROOT / "reference/golden" / d["input"]), d["nfactors"], np.array(d["resamples"])


def redu_fut():
    from qvalid.r.session import require_r as _require_r

    r = _require_r()
    ro = r.ro
    path = ROOT.parent / "shared/data/redu_fut_qmethod/qbstrp_results__3_f.RData"
    ro.r(f'local({{e <- new.env(); load("{path}", envir = e); .qv_b <<- get(ls(e)[1], e)}})')
    with r.localconverter(ro.default_converter + r.numpy2ri.converter) as cv:
        scores = np.array(cv.rpy2py(ro.r("as.matrix(.qv_b$orig.res$dataset)")), dtype=int)
        res = np.array(cv.rpy2py(ro.r("as.matrix(.qv_b$resamples)")), dtype=float)
    st = QStudy.from_array(scores, list(ro.r("rownames(.qv_b$orig.res$dataset)")),
                           list(ro.r("colnames(.qv_b$orig.res$dataset)")), name="redu_fut")
    return "redu_fut (published, 2000 steps)", st, 3, res


def row(name, study, k, resamples) -> str:
    idx = from_qmboots(resamples)
    q = bootstrap(study, k, indices=idx, align="qindtest")
    h = bootstrap(study, k, indices=idx, align="hungarian")
    dropped = q.counts["rejected"]
    se_l = [q.wide("loadings", "resample_sd").mean().mean(), h.wide("loadings", "resample_sd").mean().mean()]
    se_z = [q.wide("zscores", "resample_sd").mean(), h.wide("zscores", "resample_sd").mean()]
    defining = q.full.flags
    fq, fh = q.wide("loadings", "resample_flag_freq").to_numpy(), h.wide("loadings", "resample_flag_freq").to_numpy()
    dflag = np.abs(fq - fh)[defining]
    # kept steps that Hungarian aligns differently (another order or sign: the aligned loadings differ)
    gap = np.nan_to_num(np.abs(q.raw["loadings"] - h.raw["loadings"]), nan=0.0).max(axis=(1, 2))
    differ = int((gap[q.used] > 1e-8).sum())
    zq = " / ".join(f"{v:.3f}" for v in se_z[0])
    zh = " / ".join(f"{v:.3f}" for v in se_z[1])
    return (f"| {name} | {study.n_statements} x {study.n_sorts}, k = {k} | {len(idx)} | {dropped} | {differ} | "
            f"{se_l[0]:.3f} -> {se_l[1]:.3f} | {zq} -> {zh} | "
            f"{np.mean(fq[defining]):.3f} -> {np.mean(fh[defining]):.3f} (max change {dflag.max():.3f}) |")


def main() -> None:
    runs = list(golden_runs())
    if "--redu-fut" in sys.argv:
        runs.append(redu_fut())
    print("| study | size | steps | dropped by qmboots | kept steps aligned differently | mean SE of loadings "
          "(qindtest -> Hungarian) | mean SE of z-scores per factor | mean flag frequency of defining sorts |")
    print("|---|---|---|---|---|---|---|---|")
    for run in runs:
        print(row(*run))


if __name__ == "__main__":
    main()
