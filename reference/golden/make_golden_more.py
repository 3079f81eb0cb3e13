"""Golden reference outputs of R qmethod for the synthetic studies (everything beyond lipset).

Run from the repository root (needs R, qmethod and rpy2, i.e. the same stack as ``qvalid crosscheck``):

    PYTHONPATH=. .venv/bin/python reference/golden/make_golden_more.py            # inputs checked, outputs rewritten
    PYTHONPATH=. .venv/bin/python reference/golden/make_golden_more.py --study ties

1. The inputs are made by the deterministic recipes below (numpy ``default_rng`` with fixed seeds) and written to
   ``reference/golden/inputs/<study>.csv`` (qmethod's layout: statements as rows, Q-sorts as columns) when missing.
   When a CSV exists it is the reference: the recipe is re-run and must give the same CSV (else the script stops,
   unless ``--rewrite-inputs``), so the recipe documents exactly how the file was made.
2. Each case runs R through :func:`qvalid.r.qmethod.run_qmethod` (``qmethod()``; its steps one by one when it fails)
   and is written with :meth:`qvalid.r.qmethod.RRun.to_golden` to ``reference/golden/<study>/<case>.json``, the schema
   of the lipset files plus ``study``, ``call`` and ``missing``. The correlation matrix depends only on the study
   and the correlation method, so it is stored once per study in ``<study>/correlation_<cor>.json`` and the case
   files say ``"correlation_file"``.
3. Regression cases found by the differential (hypothesis) test live in ``REGRESSIONS`` with their explanation;
   their inputs are ``inputs/regression_<name>.csv`` and their outputs ``reference/golden/regressions/<name>/``.

The output is deterministic apart from the ``generated`` date. The lipset files are made by ``make_golden.R``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, ROOT)

from qvalid.r.qmethod import run_qmethod  # noqa: E402
from qvalid.simulate import tie_statements  # noqa: E402
from qvalid.study import QStudy  # noqa: E402

INPUTS = os.path.join(HERE, "inputs")
LIPSET_GRID = {-4: 2, -3: 3, -2: 4, -1: 5, 0: 5, 1: 5, 2: 4, 3: 3, 4: 2}
NAV_GRID = {-5: 1, -4: 2, -3: 3, -2: 4, -1: 5, 0: 6, 1: 5, 2: 4, 3: 3, 4: 2, 5: 1}
NONFORCED_GRID = {-3: 2, -2: 3, -1: 5, 0: 10, 1: 5, 2: 3, 3: 2}
MANY_GRID = {-4: 2, -3: 3, -2: 4, -1: 6, 0: 10, 1: 6, 2: 4, 3: 3, 4: 2}
LARGE_GRID = {-6: 5, -5: 8, -4: 12, -3: 16, -2: 19, -1: 22, 0: 36, 1: 22, 2: 19, 3: 16, 4: 12, 5: 8, 6: 5}


# ---------------------------------------------------------------------- input recipes
def qscores(grid):
    return np.repeat(np.array(list(grid), dtype=np.int64), list(grid.values()))


def planted_latent(rng, n_statements, n_sorts, n_factors, *, bipolar=(), mixed=(), lo=0.5, hi=0.85):
    """Latent sorts: sort j follows prototype j % n_factors with loading U(lo, hi) plus independent noise;
    ``bipolar`` sorts follow the reversed prototype, ``mixed`` sorts two prototypes (0.55 and 0.45)."""
    protos = rng.standard_normal((n_statements, n_factors))
    latent = np.empty((n_statements, n_sorts))
    for j in range(n_sorts):
        f = j % n_factors
        a = rng.uniform(lo, hi)
        noise = rng.standard_normal(n_statements)
        if j in mixed:
            g = (f + 1) % n_factors
            latent[:, j] = 0.55 * protos[:, f] + 0.45 * protos[:, g] + 0.7 * noise
        else:
            latent[:, j] = (-1 if j in bipolar else 1) * a * protos[:, f] + np.sqrt(1 - a * a) * noise
    return latent


def forced_from_latent(latent, grid):
    """Each sort fills the grid: the statement with the i-th smallest latent value gets the i-th grid value."""
    q = qscores(grid)
    out = np.empty(latent.shape, dtype=np.int64)
    for j in range(latent.shape[1]):
        out[np.argsort(latent[:, j], kind="stable"), j] = q
    return out


def make_nav_synth():
    rng = np.random.default_rng(20230425)
    n_st, n_so = 36, 25
    latent = planted_latent(rng, n_st, n_so, 4, bipolar=(7, 18), mixed=(3, 12, 21))
    scores = forced_from_latent(latent, NAV_GRID)
    letters = "ABCDEFGHJKLMNPQRSTUVWXYZ"
    sort_ids = [f"{j + 1:02d}{letters[rng.integers(24)]}{letters[rng.integers(24)]}" for j in range(n_so)]
    return scores, [str(i + 1) for i in range(n_st)], sort_ids, NAV_GRID, True


def make_ties():
    rng = np.random.default_rng(1962)
    n_st, n_so = 33, 13
    latent = planted_latent(rng, n_st, n_so, 3, bipolar=(5,))
    scores = forced_from_latent(latent, LIPSET_GRID)
    scores = tie_statements(scores, [(0, 1), (10, 11), (20, 21)], rng)
    scores = np.column_stack([scores, scores[:, 2]])  # a duplicated Q-sort
    sort_ids = [f"p{j + 1:02d}" for j in range(n_so)] + ["p03dup"]
    return scores, [f"sta_{i + 1}" for i in range(n_st)], sort_ids, LIPSET_GRID, True


def make_nonforced():
    rng = np.random.default_rng(7)
    n_st, n_so = 30, 16
    latent = planted_latent(rng, n_st, n_so, 3, bipolar=(4,))
    scores = np.clip(np.rint(latent * 1.4), -3, 3).astype(np.int64)
    assert all(len(set(scores[:, j])) > 1 for j in range(n_so))
    return scores, [f"st{i + 1:02d}" for i in range(n_st)], [f"q{j + 1}" for j in range(n_so)], NONFORCED_GRID, False


def make_large():
    rng = np.random.default_rng(60200)
    n_st, n_so = 200, 60
    latent = planted_latent(rng, n_st, n_so, 5, bipolar=(9, 33), mixed=(14, 27, 41, 55), lo=0.4, hi=0.8)
    scores = forced_from_latent(latent, LARGE_GRID)
    return scores, [f"s{i + 1:03d}" for i in range(n_st)], [f"P{j + 1:02d}" for j in range(n_so)], LARGE_GRID, True


def make_many_factors():
    rng = np.random.default_rng(0)
    n_st, n_so = 40, 33
    latent = planted_latent(rng, n_st, n_so, 11, lo=0.75, hi=0.9)
    scores = forced_from_latent(latent, MANY_GRID)
    return scores, [f"sta_{i + 1}" for i in range(n_st)], [f"r{j + 1:02d}" for j in range(n_so)], MANY_GRID, True


def _grid_cases(ks_pearson, ks_other, extractions=("pca", "centroid"), rotations=("varimax", "none")):
    cases = [(e, r, "pearson", k) for e in extractions for r in rotations for k in ks_pearson]
    cases += [(e, "varimax", c, k) for c in ("spearman", "kendall") for e in extractions for k in ks_other]
    return cases


#: study -> (recipe, description, cases)
STUDIES = {
    "nav_synth": (make_nav_synth,
                  "NAV-sized synthetic study: 36 statements x 25 Q-sorts, forced grid -5..+5 (1,2,3,4,5,6,5,4,3,2,1) "
                  "as in the NAV AAP 2023 evaluation; 4 planted viewpoints, 2 bipolar and 3 mixed sorts. Statement "
                  "ids are plain numbers 1..36, sort ids NAV-style pseudonyms.",
                  _grid_cases(range(1, 8), (2, 3))),
    "ties": (make_ties,
             "Tied z-scores: 33 statements x 14 Q-sorts on the lipset grid; statements sta_2, sta_12, sta_22 score "
             "exactly like sta_1, sta_11, sta_21 in every sort (so their z-scores tie on every factor), and p03dup "
             "duplicates Q-sort p03 (correlation 1). qmethod's tie rule gives both members of a tie the grid value "
             "at the floor of their mean rank, which breaks the forced distribution when a tie straddles two bins.",
             _grid_cases(range(1, 8), (2, 3))),
    "nonforced": (make_nonforced,
                  "Non-forced study: 30 statements x 16 Q-sorts with free distributions in -3..+3; notional grid "
                  "-3..+3 (2,3,5,10,5,3,2) passed to qmethod as distribution (forced = FALSE).",
                  _grid_cases(range(1, 8), (2, 3))),
    "large": (make_large,
              "Large study: 200 statements x 60 Q-sorts, forced grid -6..+6 (5,8,12,16,19,22,36,22,19,16,12,8,5); "
              "5 planted viewpoints, 2 bipolar and 4 mixed sorts. Fewer cases (varimax k = 1,2,3,5,7; unrotated and "
              "Spearman k = 3; no Kendall) to keep the files small.",
              _grid_cases((1, 2, 3, 5, 7), (), rotations=("varimax",))
              + [(e, "varimax", "spearman", 3) for e in ("pca", "centroid")]
              + [(e, "none", "pearson", 3) for e in ("pca", "centroid")]),
    "many_factors": (make_many_factors,
                     "Ten factors and more: 40 statements x 33 Q-sorts, forced grid -4..+4 (2,3,4,6,10,6,4,3,2), "
                     "11 planted viewpoints of 3 sorts each. With k >= 10 qmethod's qdc finds the pairs of factor i "
                     "with an unanchored grep(i, names), so factor 1 also claims the pairs of f10, f11, ...: the "
                     "dist.and.cons labels are wrong (qvalid's qdc_labels='qmethod' reproduces them, 'strict' fixes "
                     "them).",
                     [("pca", "varimax", "pearson", k) for k in (10, 11, 12)]
                     + [("centroid", "varimax", "pearson", k) for k in (10, 11, 12)]
                     + [("pca", "none", "pearson", 10)]),
}

#: Regression cases found by the differential (hypothesis) test, tests/test_crosscheck.py. Their inputs were written
#: once from the failing examples (inputs/regression_<name>.csv is the reference; there is no recipe) and R is
#: re-run on them here. name -> grid, forced, cases, explanation (see reference/golden/README.md, "Known
#: disagreements"), and an R time limit in seconds.
REGRESSIONS: dict = {
    "centroid_colsum_tie": dict(
        grid={-2: 1, -1: 1, 0: 1, 1: 1, 2: 1}, forced=True, cases=[("centroid", "none", "kendall", 5)], timeout=60,
        explanation="Known disagreement 1 (centroid column sums): from factor 2 on, two residual columns have "
                    "mathematically equal sums; R's colSums (a sequential long double sum) finds them exactly tied "
                    "and reflects both at once (tmat[, oo] <- vec), while qvalid's double-precision sums differ in "
                    "the last bit and it reflects one. tests/_r.py:r_centroid (R's algorithm with R's colSums) "
                    "reproduces R to 1e-15."),
    "centroid_cor_last_bit": dict(
        grid={-2: 1, -1: 1, 0: 1, 1: 1, 2: 1}, forced=True, cases=[("centroid", "varimax", "spearman", 4)],
        timeout=60,
        explanation="Known disagreement 1 (centroid column sums, via the correlation): qvalid's Spearman "
                    "correlations differ from R's cor() by up to 2.2e-16, and a residual column sum that is "
                    "mathematically zero lands on the other side of R's exact test all(colSums(tmat) > 0) at "
                    "factor 3. qvalid's centroid() fed with R's correlation matrix agrees with R (3e-16)."),
    "centroid_colsum_values": dict(
        grid={-2: 1, -1: 2, 0: 3, 1: 2, 2: 1}, forced=True, cases=[("centroid", "varimax", "kendall", 3)], timeout=60,
        explanation="Known disagreement 1, still open after qvalid 8050c3c: R's column sums of sorts 1 and 10 tie "
                    "exactly at factor 3 (R reflects both at once and then 7, 10, 10, 7); qvalid's do not and it "
                    "reflects 1, 10, 7. qvalid takes the reflection decisions on R's long double sums but computes "
                    "the communalities of factors 1-2 from its incrementally updated double sums, so its residual "
                    "matrix at factor 3 is 2.8e-16 away from R's and the exact tie is lost. Using R's colSums for "
                    "the communalities too makes qvalid agree (also on 59 of 60 such random cases)."),
    "centroid_cor_pearson": dict(
        grid={-4: 1, -3: 1, -2: 2, -1: 1, 0: 2, 1: 6, 2: 4, 3: 4, 4: 2}, forced=True,
        cases=[("centroid", "none", "pearson", 1)], timeout=60,
        explanation="Known disagreement 1 through the correlation, fixed: qvalid's default Pearson correlations "
                    "differ from R's cor() by up to 2.2e-16, enough to change a reflection decision of R's exact "
                    "tests. When a reflection decision is that close, qvalid now recomputes the correlation as R's "
                    "cov.c does (long double means and sums; correlate(exact=True), bit for bit) and agrees."),
    "centroid_tie_flat7": dict(
        grid={-3: 4, -2: 4, -1: 4, 0: 4, 1: 4, 2: 4, 3: 4}, forced=True,
        cases=[("centroid", rot, "pearson", k) for rot in ("none", "varimax") for k in (1, 2, 3)], timeout=60,
        explanation="Known disagreement 1 through the correlation, fixed (issue 8; input: the reproducer "
                    "shared/data/regressions/centroid_tie_flat7_15sorts.csv, found by a user's random forced "
                    "studies). Flat grid -3..+3 with 4 cells each, 28 statements x 15 sorts. In factor 1, after "
                    "sorts 1, 12 and 4 are reflected, the column sums of S2 and S9 tie exactly in R, which "
                    "reflects both at once (column-major tmat[, oo] <- vec); with qvalid's double correlations "
                    "the two sums differed in the last bit, it reflected them one after the other and the first "
                    "factor differed by up to 0.14 (flags, z-scores, arrays and qdc followed). With R's cor() bits "
                    "(correlate(exact=True)) qvalid agrees in every output."),
    "qdc_flagless_first": dict(
        grid={-5: 3, -4: 3, -3: 1, -2: 2, -1: 4, 0: 3, 1: 3, 2: 3, 3: 4, 4: 1, 5: 1}, forced=True,
        cases=[("pca", "none", "spearman", 4)], timeout=60,
        explanation="Known disagreement 2 (qdc and flagless factors): nload = 0,1,1,0. R's qdc() does not stop "
                    "because the last zsc column is NA; it subtracts the 2 flagless factors from nfactors and "
                    "compares f1 (flagless) with f2, returning an all-NA f1_f2 table. qvalid compares f2 with f3."),
    "pca_null_components": dict(
        grid={-2: 1, -1: 1, 0: 3, 1: 1, 2: 1}, forced=True, cases=[("pca", "varimax", "spearman", 6)], timeout=60,
        explanation="Known disagreement 3 (PCA beyond the rank; a limitation, not a bug): 7 statements give a "
                    "correlation matrix of rank <= 6 and here components 5 and 6 have eigenvalues ~1e-16, which "
                    "psych clamps to machine epsilon. Their eigenvectors span a degenerate eigenspace, so R's "
                    "eigen() and numpy's eigh() return different bases: loadings of these components are ~1e-8 "
                    "noise on both sides and differ by up to 2e-8 (also after varimax). Everything else agrees."),
    "zscore_ties": dict(
        grid={-3: 3, -2: 3, -1: 3, 0: 1, 1: 3, 2: 3, 3: 3}, forced=True, cases=[("centroid", "none", "pearson", 3)],
        timeout=60,
        explanation="Known disagreement 4 (z-score ties), fixed (issue 21): with two flagged sorts per factor "
                    "several statements have mathematically equal weighted sums. R sums with rowSums (long double) "
                    "and they tie exactly, so qmethod's tie rule gives each group one grid value; qvalid's X @ w "
                    "differed in the last bit, the ties split, and 5 factor-array cells differed (z-scores agreed "
                    "to 3e-16). Now, when two z-scores are within rounding of a tie, qvalid recomputes them with "
                    "R's arithmetic (qvalid.core.scores.zscores_on_r_bits: double products, long double row sums, "
                    "R's mean and sd) from loadings computed on R's cor() bits, and agrees in every output."),
    "zscore_tie_flat7": dict(
        grid={-3: 3, -2: 3, -1: 3, 0: 3, 1: 3, 2: 3, 3: 3}, forced=True,
        cases=[("centroid", "none", "spearman", 3), ("centroid", "varimax", "spearman", 3)], timeout=60,
        explanation="Known disagreement 4 (z-score ties), fixed (issue 21; input: the reproducer "
                    "shared/data/regressions/zscore_tie_flat7_14sorts.csv). Flat grid -3..+3 with 3 cells each, 21 "
                    "statements x 14 sorts, centroid, Spearman, k = 3: z-scores agreed with R to 4e-16, yet factor "
                    "1's array differed in 3 cells (st5, st14, st15), because a last-bit difference of the weighted "
                    "sums split a tie R sees. With the z-scores and the centroid loadings taken on R's bits qvalid "
                    "agrees in every output."),
    "varimax_square": dict(
        grid={-5: 1, -4: 1, -3: 4, -2: 1, -1: 2, 0: 4, 1: 2, 2: 1, 3: 4, 4: 1, 5: 1}, forced=True,
        cases=[("centroid", "varimax", "kendall", 4)], timeout=60,
        explanation="Known disagreement 5 (ill-conditioned varimax): as many factors as sorts (4), factors 2-4 with "
                    "sums of squares 0.07, 0.02, 0.007. Started from the same (R's) unrotated loadings, "
                    "stats::varimax and qvalid's varimax() end 3.7e-9 apart after 22 iterations: the SVD of an "
                    "ill-conditioned B amplifies last-bit differences (in other such studies a 5e-16 difference in "
                    "the start becomes 5e-5). Flags, arrays and labels agree."),
    "pca_zero_sum_sign": dict(
        grid={-2: 1, -1: 1, 0: 1, 1: 1, 2: 1}, forced=True, cases=[("pca", "varimax", "kendall", 5)], timeout=60,
        explanation="Known disagreement 7 (sign of a zero-sum component): psych::principal multiplies each "
                    "component by sign(colSums); the second component's loadings sum to ~1e-16 (mathematically 0), "
                    "so R's eigen() + colSums and numpy's eigh() + sum pick opposite signs. The unrotated loadings "
                    "differ by that sign flip (0.89), varimax then stops at a slightly different point (1.7e-4), "
                    "and the 2 null components (eigenvalue 0, known disagreement 3) and R's qdc pairing of the "
                    "flagless f1 (known disagreement 2) add to it."),
    "varimax_null_factors": dict(
        grid={-2: 2, -1: 4, 0: 4, 1: 4, 2: 2}, forced=False, cases=[("centroid", "varimax", "pearson", 4)],
        timeout=60,
        explanation="Known disagreement 5 (ill-conditioned varimax, near-null factors; qvalid.simulate."
                    "tie_heavy_study(944), found by scripts/differential_ties.py): the six sorts are copies and "
                    "mirrors of one pattern up to single cells, so centroid factors 2-4 have sums of squares 2.5e-6, "
                    "1e-7 and 4e-9. The unrotated loadings agree to 1e-15, but varimax on them is decided by "
                    "rounding: a relative nudge of 1e-14 of the start moves qvalid's own result by 2e-6, and "
                    "qvalid's and R's rotated loadings differ by 6.4e-7. Flags, arrays and qdc agree."),
    "unit_loading": dict(
        grid={-1: 2, 0: 2, 1: 2}, forced=True, cases=[("pca", "none", "spearman", 1)], timeout=60,
        explanation="Known disagreement 8 (flagged loadings of +-1; qvalid.simulate.tie_heavy_study(2192), found "
                    "by scripts/differential_ties.py): sorts s2 and s3 are identical and s1 is their mirror image, so "
                    "they load +1, +1 and -1 (to rounding) on the only component, and are flagged. qmethod's weight a/(1-a^2) is then infinite and its z-scores NaN "
                    "(factor arrays NA); qvalid takes the limit of the formula (only the sorts loading +-1 define "
                    "the factor) and warns. Loadings and flags agree."),
    "centroid_diverges": dict(
        grid={-3: 2, -2: 1, -1: 4, 0: 4, 1: 3, 2: 3, 3: 1}, forced=True, cases=[("centroid", "varimax", "pearson", 2)],
        timeout=5,
        explanation="Known disagreement 6 (centroid that never converges): the communality iteration of factor 1 "
                    "oscillates forever. R's centroid() has no iteration cap and never returns (the bridge stops it "
                    "with setTimeLimit: 'reached elapsed time limit'); qvalid caps the iteration and either warns "
                    "(loadings up to 179) or refuses the input. Only the correlation matrix can be compared."),
}


# ---------------------------------------------------------------------- files
def study_csv_text(scores, statement_ids, sort_ids) -> str:
    lines = ['"",' + ",".join(f'"{s}"' for s in sort_ids)]
    for i, sid in enumerate(statement_ids):
        lines.append(f'"{sid}",' + ",".join(str(int(v)) for v in scores[i]))
    return "\n".join(lines) + "\n"


def ensure_input(name, recipe, rewrite: bool) -> str:
    scores, st_ids, so_ids, grid, forced = recipe()
    QStudy.from_array(scores, st_ids, so_ids, grid=grid, forced=forced)  # validates the recipe's output
    text = study_csv_text(scores, st_ids, so_ids)
    path = os.path.join(INPUTS, f"{name}.csv")
    if os.path.exists(path) and not rewrite:
        with open(path, encoding="utf-8") as fh:
            if fh.read() != text:
                raise SystemExit(f"{path}: the recipe no longer reproduces the stored input "
                                 "(numpy changed its random streams?). The CSV is the reference; rerun with "
                                 "--rewrite-inputs only on purpose.")
    else:
        with open(path, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
    return f"inputs/{name}.csv", grid, forced


def dumps(obj, indent=0) -> str:
    """JSON with one matrix row per line (like the lipset files); floats as Python repr (round-trips exactly)."""
    pad, pad1 = "  " * indent, "  " * (indent + 1)
    if isinstance(obj, dict):
        if not obj:
            return "{}"
        items = [f"{pad1}{json.dumps(k)}: {dumps(v, indent + 1)}" for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(obj, list) and obj and all(isinstance(x, list) for x in obj):
        return "[\n" + ",\n".join(pad1 + json.dumps(x, allow_nan=False) for x in obj) + "\n" + pad + "]"
    return json.dumps(obj, allow_nan=False)


def write_json(path, obj):
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(dumps(obj) + "\n")


def run_cases(name, input_rel, grid, forced, cases, out_dir, *, extra=None, today=None, timeout=120.0):
    os.makedirs(out_dir, exist_ok=True)
    study = _read_study(input_rel, grid, forced, name)
    written_cor = set()
    lines = []
    for ex, rot, cor, k in cases:
        case = f"{ex}_{rot}_{cor}_k{k}"
        rr = run_qmethod(study, k, extraction=ex, rotation=rot, cor_method=cor, timeout=timeout)
        d = rr.to_golden(case, input_file=input_rel, generated=today)
        cor_file = f"correlation_{cor}.json"
        if cor not in written_cor and d["correlation"] is not None:
            write_json(os.path.join(out_dir, cor_file), {
                "study": name, "cor_method": cor, "versions": rr.versions, "generated": today,
                "call": f'cor(dataset, method = "{cor}")', "sort_ids": list(study.sort_ids),
                "correlation": d["correlation"]})
            written_cor.add(cor)
        d["correlation"] = None
        d["correlation_file"] = cor_file
        if extra:
            d.update(extra)
        write_json(os.path.join(out_dir, f"{case}.json"), d)
        lines.append(f"{name}/{case:<30} route={rr.route:<8} warnings={len(rr.warnings)} "
                     f"missing={','.join(rr.missing) or '-'} {rr.seconds:.2f}s"
                     + (f"\n    {rr.failure_summary()}" if rr.failed else ""))
    return lines


def _read_study(input_rel, grid, forced, name):
    import pandas as pd

    frame = pd.read_csv(os.path.join(HERE, input_rel), index_col=0, dtype=str, keep_default_na=False)
    return QStudy.from_frame(frame, grid=grid, forced=forced, name=name, source=input_rel)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--study", action="append",
                   help="only these studies, 'regressions' or one regression case (default: all, plus regressions)")
    p.add_argument("--rewrite-inputs", action="store_true", help="overwrite input CSVs from the recipes")
    args = p.parse_args(argv)
    today = datetime.date.today().isoformat()
    names = args.study or list(STUDIES) + ["regressions"]
    for name in names:
        if name == "regressions" or name in REGRESSIONS:
            for reg, r in REGRESSIONS.items() if name == "regressions" else [(name, REGRESSIONS[name])]:
                for line in run_cases(reg, f"inputs/regression_{reg}.csv", r["grid"], r["forced"], r["cases"],
                                      os.path.join(HERE, "regressions", reg), today=today, timeout=r["timeout"],
                                      extra={"explanation": r["explanation"]}):
                    print(line, flush=True)
            continue
        recipe, description, cases = STUDIES[name]
        input_rel, grid, forced = ensure_input(name, recipe, args.rewrite_inputs)
        for line in run_cases(name, input_rel, grid, forced, cases, os.path.join(HERE, name), today=today,
                              extra={"description": description}):
            print(line, flush=True)


if __name__ == "__main__":
    main()
