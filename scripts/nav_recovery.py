"""How recoverable is the NAV study's four-factor structure? Reproduces docs/simulation.md and the README figures.

Simulates N studies (default 500) of 36 statements x 25 sorts calibrated to the NAV report: Tabell 5 loadings and
the reconstructed factor arrays (unknown cells filled with the scores the grid leaves open), analyses each with
centroid + varimax, k = 4, threshold 0.42 (qvalid), compares with the published tables, and runs R qmethod on
every study (through qvalid.r.qmethod, with the same 0.42 flags) to count how often its qdc step stops. It also
repeats the qvalid part with the latent scores kept correlated as published (--latent as_given), to show the effect
of that choice, and writes one typical study as reference/data/nav_synth/nav_synth.csv.

    .venv/bin/python scripts/nav_recovery.py                       # everything (~2 min with R)
    .venv/bin/python scripts/nav_recovery.py --r-sample 0          # without R
    .venv/bin/python scripts/nav_recovery.py --write-study         # also (re)write reference/data/nav_synth/

Output: a markdown report on stdout and the numbers as JSON (--json, default reference/data/nav_synth/recovery.json).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from qvalid.io.published import read_table
from qvalid.checks.recovery import recover
from qvalid.simulate import simulate_studies

ROOT = Path(__file__).resolve().parents[1]
NAV = ROOT / "reference" / "data" / "nav_aap_2023"
OUT = ROOT / "reference" / "data" / "nav_synth"
OPTIONS = {"extraction": "centroid", "threshold": 0.42}
K = 4


def nav_inputs():
    loadings = read_table(NAV / "loadings_published.csv")
    arrays = read_table(NAV / "factor_arrays_reconstructed.csv")
    grid = {int(r.split(",")[0]): int(r.split(",")[1]) for r in (NAV / "distribution.csv").read_text().split()[1:]}
    chars = json.loads((NAV / "factor_characteristics.json").read_text(encoding="utf-8"))
    return loadings, arrays, grid, np.array(chars["factor_score_correlations"]["matrix"])


def r_count(sim, rec, sample: int) -> dict:
    """Run R qmethod (centroid + varimax, qvalid's 0.42 flags as manual flags) on the first ``sample`` studies."""
    from qvalid import analyze
    from qvalid.r.qmethod import run_qmethod

    stops, failed_other, agree_pred, maxdiff, differ, t0 = 0, [], 0, 0.0, [], time.perf_counter()
    for i in range(sample):
        study = sim.study(i)
        res = analyze(study, K, **OPTIONS)
        rr = run_qmethod(study, K, extraction="centroid", flags=res.flags)
        msg = rr.failure_summary() or ""
        stop = "qdc" in msg
        stops += stop
        if rr.failed and not stop:
            failed_other.append((i, msg))
        agree_pred += stop == bool(rec.studies.qdc_would_stop[i])
        d = float(np.max(np.abs(rr.outputs["loadings"] - res.loadings)))
        if d > 1e-8:  # a disagreement between the two implementations: listed, kept out of the maximum
            differ.append((i, d))
            continue
        z = rr.outputs.get("zscores")
        ok = np.isfinite(res.zscores)
        maxdiff = max(maxdiff, d, float(np.max(np.abs(z[ok] - res.zscores[ok]))) if z is not None else 0.0)
    return {"studies": sample, "qdc_stops": stops, "other_failures": failed_other,
            "prediction_agrees": agree_pred, "max_abs_diff_loadings_zscores": maxdiff,
            "loadings_differ": differ, "seconds": round(time.perf_counter() - t0, 1)}


def table(summary, rows, cols=("q05", "q25", "q50", "q75", "q95", "mean")) -> str:
    out = ["| measure | " + " | ".join(cols) + " |", "|---|" + "---|" * len(cols)]
    for name, label in rows:
        v = summary.loc[name]
        out.append(f"| {label} | " + " | ".join(f"{v[c]:.2f}" for c in cols) + " |")
    return "\n".join(out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n-studies", type=int, default=500)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--r-sample", type=int, default=None, help="studies to run through R (default: all; 0 = none)")
    ap.add_argument("--json", default=str(OUT / "recovery.json"))
    ap.add_argument("--write-study", action="store_true", help="write the typical study to reference/data/nav_synth")
    args = ap.parse_args(argv)

    loadings, arrays, grid, tabell3 = nav_inputs()
    report, numbers = [], {"n_studies": args.n_studies, "seed": args.seed, "options": OPTIONS, "nfactors": K}
    recs = {}
    for mode, extraction in (("orthogonal", "centroid"), ("as_given", "centroid"), ("orthogonal", "pca")):
        t0 = time.perf_counter()
        sim = simulate_studies(loadings.values, grid, args.n_studies, arrays=arrays.values,
                               latent_mode=mode, seed=args.seed)
        rec = recover(sim, K, arrays=arrays.values, **{**OPTIONS, "extraction": extraction})
        if extraction == "pca":
            mode = "orthogonal_pca"
        recs[mode] = (sim, rec)
        s = rec.summary()
        d = rec.studies
        k_ok = ~d.empty_factors.astype(bool)
        numbers[mode] = {
            "seconds": round(time.perf_counter() - t0, 2),
            "summary": json.loads(s.to_json(orient="index")),
            "share_all_factors_flagged": float(k_ok.mean()),
            "empty_factor_counts": d.empty_factors[d.empty_factors != ""].value_counts().to_dict(),
            "qdc_would_stop": int(d.qdc_would_stop.sum()),
            "share_min_congruence_ge_085": float((d.min_congruence >= 0.85).mean()),
            "share_min_congruence_ge_095": float((d.min_congruence >= 0.95).mean()),
        }
        rows = [(f"congruence_f{j}", f"congruence F{j}") for j in range(1, 5)] + [
            ("min_congruence", "lowest congruence of the 4"), ("rmse", "RMSE of all 100 loadings")] + [
            (f"n_flagged_f{j}", f"defining sorts F{j} (published {int(loadings_true_flags(rec)[j - 1])})")
            for j in range(1, 5)] + [(f"defining_jaccard_f{j}", f"Jaccard vs published set F{j}") for j in
                                     range(1, 5)] + [
            (f"array_exact_f{j}", f"array cells exact F{j}") for j in range(1, 5)] + [
            (f"array_within1_f{j}", f"array cells within 1 F{j}") for j in range(1, 5)] + [
            (f"cor_zsc_f{i}_f{j}", f"r(z F{i}, z F{j}) (Tabell 3: {tabell3[i - 1, j - 1]:.2f})")
            for i, j in ((1, 2), (1, 3), (1, 4), (2, 3), (2, 4), (3, 4))]
        report += [f"## latent scores: {mode}, {extraction} + varimax ({args.n_studies} studies, seed {args.seed})", "",
                   table(s, rows), "",
                   f"- all four factors have a defining sort: {k_ok.mean():.1%}; empty factors: "
                   f"{numbers[mode]['empty_factor_counts']}",
                   f"- R qmethod's qdc would stop (an empty factor before a full one): "
                   f"{numbers[mode]['qdc_would_stop']} of {args.n_studies}",
                   f"- lowest congruence >= 0.85: {numbers[mode]['share_min_congruence_ge_085']:.1%}, "
                   f">= 0.95: {numbers[mode]['share_min_congruence_ge_095']:.1%}",
                   f"- every defining-sort set exactly as published: {d.defining_exact_all.mean():.1%}", ""]

    sim, rec = recs["orthogonal"]
    sample = args.n_studies if args.r_sample is None else args.r_sample
    if sample:
        rc = r_count(sim, rec, sample)
        numbers["r_qmethod"] = rc
        report += [f"## R qmethod 1.8.4 on the first {sample} studies (orthogonal latent scores)", "",
                   f"- qdc stopped on {rc['qdc_stops']} of {sample} studies ({rc['qdc_stops'] / sample:.1%}); other "
                   f"R failures: {len(rc['other_failures'])}; qvalid's prediction (an empty factor before a full one) "
                   f"matched R on {rc['prediction_agrees']} of {sample}",
                   f"- largest |difference| qvalid vs R in loadings and z-scores: "
                   f"{rc['max_abs_diff_loadings_zscores']:.1e} on the studies where the loadings agree; loadings "
                   f"differ by more than 1e-8 on {len(rc['loadings_differ'])} studies: {rc['loadings_differ']}; "
                   f"R time {rc['seconds']} s", ""]

    d = rec.studies
    d = d.assign(mean_congruence=d[[f"congruence_f{j}" for j in range(1, 5)]].mean(axis=1))
    full = d[~d.empty_factors.astype(bool)]
    med = float(d.mean_congruence.median())
    pick = int((full.mean_congruence - med).abs().idxmin())
    row = d.loc[pick]
    pct = lambda col: float((d[col] < row[col]).mean() * 100)  # noqa: E731
    numbers["typical_study"] = {
        "index": pick, "mean_congruence": float(row.mean_congruence), "median_mean_congruence": med,
        "percentile_mean_congruence": pct("mean_congruence"), "min_congruence": float(row.min_congruence),
        "percentile_min_congruence": pct("min_congruence"), "rmse": float(row.rmse), "percentile_rmse": pct("rmse"),
        "congruence": [float(row[f"congruence_f{j}"]) for j in range(1, 5)],
        "n_flagged": [int(row[f"n_flagged_f{j}"]) for j in range(1, 5)]}
    report += ["## typical study (shipped as reference/data/nav_synth/nav_synth.csv)", "",
               f"study {pick}: mean congruence {row.mean_congruence:.3f} (median of all {med:.3f}, percentile "
               f"{numbers['typical_study']['percentile_mean_congruence']:.0f}), lowest {row.min_congruence:.3f} "
               f"(percentile {numbers['typical_study']['percentile_min_congruence']:.0f}), RMSE {row.rmse:.3f} "
               f"(percentile {numbers['typical_study']['percentile_rmse']:.0f}); defining sorts "
               f"{'/'.join(str(n) for n in numbers['typical_study']['n_flagged'])}; chosen among studies where every "
               "factor has a defining sort (so that R's qdc runs)", ""]
    command = ["simulate", "--loadings", "reference/data/nav_aap_2023/loadings_published.csv",
               "--arrays", "reference/data/nav_aap_2023/factor_arrays_reconstructed.csv",
               "--grid=-5:1,2,3,4,5,6,5,4,3,2,1", "--seed", str(args.seed), "--n-studies", str(args.n_studies),
               "--index", str(pick), "--statements", "reference/data/nav_aap_2023/statements.csv",
               "--text-column", "text_en", "-o", "reference/data/nav_synth/nav_synth.csv"]
    numbers["typical_study"]["command"] = "qvalid " + " ".join(command)
    report += [f"command: `qvalid {' '.join(command)}`", ""]
    if args.write_study:
        import os

        from qvalid.cli import main as qvalid_main

        os.chdir(ROOT)
        qvalid_main(command)
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(numbers, indent=1, default=str) + "\n")
    print("\n".join(report))
    return 0


def loadings_true_flags(rec):
    return rec.true_flags.sum(axis=0)


if __name__ == "__main__":
    sys.exit(main())
