"""Data that must stay in ../shared (licence): the polycrisis KADE workbooks, the redu_fut qmethod/qmboots study.

``shared_path("data/redu_fut_qmethod/qresults_3f.csv")`` returns the file, looked up in ``$QVALID_SHARED`` or in the
``shared`` folder beside the checkout (where CI puts it). When it is missing the test is skipped, except in CI (env
var ``CI`` set) where it fails: a test on real data must not silently vanish from CI.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def shared_dir() -> Path:
    return Path(os.environ.get("QVALID_SHARED") or ROOT.parent / "shared")


def shared_path(rel: str) -> Path:
    """The file ``rel`` under shared/, or skip (fail in CI) naming what is missing."""
    p = shared_dir() / rel
    if not p.exists():
        msg = f"{p} is missing: tests on licence-restricted studies read them from ../shared (or $QVALID_SHARED)"
        if os.environ.get("CI"):
            pytest.fail(msg + "; CI must have it", pytrace=False)
        pytest.skip(msg)
    return p
