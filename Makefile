# qvalid: the two commands of the README. Both run the idempotent set-up first (Debian packages, qmethod from
# CRAN through R's configured repository, .venv with Debian's site-packages, qvalid installed editable).
PY := .venv/bin/python
STUDY := reference/data/lipset/lipset.csv

.PHONY: setup demo test bench golden

setup:
	@bash scripts/setup.sh

## The main job on the bundled default study (lipset): validate, full analysis, cross-check against R qmethod.
demo: setup
	@bash scripts/demo.sh $(STUDY)

## The whole test suite (what .ci/run calls).
test: setup
	$(PY) -m pytest

## Benchmarks (pytest-benchmark; not part of the test suite).
bench: setup
	$(PY) -m pytest benchmarks --benchmark-only --benchmark-columns=min,median,mean,rounds -q

## Regenerate the golden reference files from R qmethod.
golden: setup
	Rscript reference/golden/make_golden.R
