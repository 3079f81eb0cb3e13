# qvalid: the two commands of the README. Both run the idempotent set-up first (Debian packages, qmethod from
# CRAN through R's configured repository, .venv with Debian's site-packages, qvalid installed editable).
PY := .venv/bin/python
STUDY := reference/data/nav_synth/nav_synth.csv

.PHONY: setup demo test bench golden calibrate

setup:
	@bash scripts/setup.sh

## The main job on the bundled default study (synthetic, NAV-calibrated, 36 x 25): four-factor centroid + varimax
## analysis (|a| >= 0.42), bootstrap, live cross-check against R qmethod -> out/report.html + out/report.json.
demo: setup
	@bash scripts/demo.sh $(STUDY)

## The whole test suite (what .ci/run calls), then the benchmark modules in their fast mode (small studies, each
## case run once and checked against R, no timing) so they cannot rot.
test: setup
	$(PY) -m pytest
	QVALID_BENCH_FAST=1 $(PY) -m pytest benchmarks -q -p no:cacheprovider -o addopts=-ra --benchmark-disable

## Benchmarks: qvalid and R side by side, scaling, per-step breakdown -> BENCHMARKS.md + benchmarks/scaling.png.
bench: setup
	$(PY) benchmarks/make_benchmarks.py

## The bootstrap's calibration study (populations with known truth; about 45 min of CPU) -> out/calibration.md,
## the tables of docs/calibration.md; fails when one of issue 18's targets is missed.
calibrate: setup
	$(PY) scripts/calibrate.py --workers 2 --save out/calibration.pkl --markdown out/calibration.md

## Regenerate the golden reference files from R qmethod.
golden: setup
	Rscript reference/golden/make_golden.R
	.venv/bin/python reference/golden/rotations/make_inputs.py --check
	Rscript reference/golden/rotations/make_rotations_golden.R
