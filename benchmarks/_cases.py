"""The studies of the benchmark suite, built once per process (seeded, so every run times the same data).

``QVALID_BENCH_FAST=1`` (what CI sets) keeps only the small studies so the suite cannot rot without costing
minutes; ``make bench`` runs them all.
"""

from __future__ import annotations

import os
from functools import lru_cache

from qvalid.datasets import load_lipset, nav_grid
from qvalid.simulate import planted_study

FAST = os.environ.get("QVALID_BENCH_FAST") == "1"

#: name -> (description, builder); planted studies use qvalid.simulate.planted_study (prototype sorts + noise).
_BUILDERS = {
    "lipset": ("lipset 33 x 9 (Brown 1980, as shipped in qmethod)", load_lipset),
    "nav36x25": ("NAV-sized 36 x 25, grid -5..+5 (planted, seed 1)",
                 lambda: planted_study(36, 25, 4, grid=nav_grid(), seed=1)[0]),
    "p60x100": ("planted 60 x 100 (seed 2)", lambda: planted_study(60, 100, 4, seed=2)[0]),
    "p60x500": ("planted 60 x 500 (seed 2)", lambda: planted_study(60, 500, 4, seed=2)[0]),
    "p60x2000": ("planted 60 x 2000 (seed 2)", lambda: planted_study(60, 2000, 4, seed=2)[0]),
}

STUDIES = ("lipset", "nav36x25") if FAST else tuple(_BUILDERS)


def describe(name: str) -> str:
    return _BUILDERS[name][0]


@lru_cache(maxsize=None)
def study(name: str):
    return _BUILDERS[name][1]()
