#!/usr/bin/env bash
# The main job on a study (default: the bundled synthetic NAV-calibrated study, 36 statements x 25 Q-sorts):
# the four-factor centroid + varimax analysis flagged at |a| >= 0.42, a bootstrap of the solution, the live
# cross-check against R qmethod, and one self-contained HTML report plus its JSON in $OUT (default out/).
# --centroid-ties strict: every bootstrap resample duplicates sorts, whose exactly tied column sums qmethod's
# centroid reflects all at once, scrambling the matrix (docs/bootstrap.md); one reflection at a time equals
# qmethod's centroid wherever no exact tie occurs, as in the full study (the cross-check shows it).
# Idempotent: the outputs are replaced atomically on every run.
# Also weighs the number of factors (parallel analyses with RUNS random studies per null).
# Usage: scripts/demo.sh [STUDY.csv [STATEMENTS.csv]]   (env: OUT=dir, K=4, BOOT=1000, RUNS=500, SEED=1)
set -euo pipefail
cd "$(dirname "$0")/.."
study=${1:-reference/data/nav_synth/nav_synth.csv}
texts=${2:-}   # statement wordings, if the study file has no text column (the bundled one has)
out=${OUT:-out} k=${K:-4} boot=${BOOT:-1000} runs=${RUNS:-500} seed=${SEED:-1}
q=.venv/bin/qvalid
[ -f "$study" ] || { echo "demo: $study: no such file" >&2; exit 2; }
text_opt=()
[ -n "$texts" ] && text_opt=(--statements "$texts")
mkdir -p "$out"
echo "== qvalid validate $study"
$q validate "$study"
echo
echo "== qvalid report: $k factors, centroid + varimax, flagged at |a| >= 0.42; bootstrap ($boot resamples);"
echo "   number-of-factors criteria ($runs random studies per null); live cross-check against R qmethod"
$q report "$study" -k "$k" --extraction centroid --centroid-ties strict --threshold 0.42 "${text_opt[@]}" \
  --bootstrap "$boot" --factors "$runs" --seed "$seed" --out "$out/report.html" --json "$out/report.json"
echo
echo "Open $out/report.html in a browser (self-contained: it loads nothing from anywhere)."
