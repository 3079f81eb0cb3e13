"""The ``qsnapshot`` pytest fixture: snapshot tests for Q analyses (registered through the ``pytest11`` entry point,
so it is there as soon as qvalid is installed; docs/ci.md).

.. code-block:: python

    def test_our_study(qsnapshot):
        res = qvalid.analyze(qvalid.io.read_study("data/study.csv"), 3, threshold=0.42)
        qsnapshot.check(res)                      # a QResult
        qsnapshot.check(qvalid.bootstrap(study, 3, 500, seed=1), name="boot")   # a BootstrapResult
        qsnapshot.check(qvalid.number_of_factors(study, 6, n_runs=200), name="k")  # a FactorsResult

The first run fails with "no snapshot": ``pytest --qvalid-update`` writes ``__qsnapshots__/<test module>/<test
name>[.<name>].qsnap.json`` beside the test (the schema of ``qvalid snapshot``, so ``qvalid diff`` can run an
analysis snapshot again). Later runs compare, and a failure is rendered as numpy.testing does: the mismatched
outputs, their number of cells, the worst cell by sort, statement and factor ids with both values, and whether the
change is *reported* (it changes a flag, an array cell, a star, a label or a printed value) or *numerical only*.

- ``QResult``: every output of the JSON contract, at ``tolerances`` (default 1e-10), plus the study and the options;
- ``BootstrapResult``: the summaries at a Monte-Carlo tolerance derived from the replicate SDs and the number of
  resamples (:mod:`qvalid.checks.tables`), so a changed random stream passes and a changed analysis fails;
- ``FactorsResult``: the criteria and suggestions of :func:`qvalid.number_of_factors` (deterministic for a seed).
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import pytest

from .checks.snapshot import (SUFFIX, compare_options, compare_side, compare_studies, dumps, load_snapshot,
                              qvalid_side, snapshot_dict, table_snapshot_dict)
from .checks.tables import ALPHA, bootstrap_mc_errors, compare_bootstrap, compare_factors
from .errors import QInputError
from .results import QResult

__all__ = ["QSnapshot", "qsnapshot", "pytest_addoption", "SNAPSHOT_DIR"]

#: The folder beside a test module that holds its snapshots (one subfolder per module).
SNAPSHOT_DIR = "__qsnapshots__"
_WRITTEN = pytest.StashKey[list]()
_UNSAFE = re.compile(r"[^\w.-]+")  # characters not kept in a snapshot's file name (parametrize ids: [a-1])


def pytest_addoption(parser) -> None:
    group = parser.getgroup("qvalid", "qvalid snapshots (qsnapshot fixture)")
    group.addoption("--qvalid-update", action="store_true", default=False,
                    help="write or rewrite the snapshots of qsnapshot.check() instead of comparing with them")


def pytest_configure(config) -> None:
    config.stash[_WRITTEN] = []


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    written = config.stash.get(_WRITTEN, [])
    if written:
        terminalreporter.write_line(f"qvalid: {len(written)} snapshot(s) written (--qvalid-update)")


@pytest.fixture
def qsnapshot(request) -> "QSnapshot":
    """Compare a QResult, BootstrapResult or FactorsResult with its snapshot beside the test (``--qvalid-update``
    writes it)."""
    return QSnapshot(request)


class QSnapshot:
    """The fixture's value: :meth:`check` a result against ``__qsnapshots__/<module>/<test>[.<name>].qsnap.json``."""

    def __init__(self, request):
        self.request = request
        test_file = Path(str(request.node.path))
        self.folder = test_file.parent / SNAPSHOT_DIR / test_file.stem
        self.update = bool(request.config.getoption("qvalid_update"))
        self._names: list = []

    def path(self, name: str | None = None) -> Path:
        """The snapshot file of this test (and ``name``; unnamed checks after the first are numbered)."""
        base = _UNSAFE.sub("_", self.request.node.name).strip("_") or "test"
        if name is None:
            n = sum(1 for x in self._names if x is None)
            stem = base if n == 0 else f"{base}.{n + 1}"
        else:
            stem = base + "." + _UNSAFE.sub("_", str(name))
        return self.folder / (stem + SUFFIX)

    def check(self, result, name: str | None = None, *, tolerances=None, rtol: float = 0.0, print_digits=True,
              fail_on: str = "any", alpha: float = ALPHA):
        """Compare ``result`` with its snapshot; return the :class:`~qvalid.checks.diff.Diff` (None when written).

        Parameters
        ----------
        result : QResult, BootstrapResult or FactorsResult
        name : str, optional
            Tells several snapshots of one test apart (default: numbered in call order).
        tolerances, rtol, print_digits
            As :func:`qvalid.checks.compare.compare` (QResult; a number is the tolerance of the other two kinds'
            fixed outputs).
        fail_on : {"any", "reported"}
            Fail on any difference beyond tolerance, or only on those that change what is printed.
        alpha : float
            BootstrapResult: the family-wise false-alarm rate of the Monte-Carlo tolerance.

        Raises
        ------
        AssertionError
            The snapshot is missing (run ``pytest --qvalid-update``) or the result differs; the message names the
            worst cell of every mismatched output, numpy.testing style.
        """
        __tracebackhide__ = True
        path = self.path(name)
        self._names.append(name)
        kind, study, data = _describe(result)
        text = dumps(data)
        data = json.loads(text)  # what is compared is what a snapshot file holds
        if self.update:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
                self.request.config.stash[_WRITTEN].append(str(path))
            return None
        if not path.exists():
            raise AssertionError(f"no qvalid snapshot {path}: run pytest --qvalid-update to write it")
        snap = load_snapshot(path)
        if snap.kind != kind:
            raise AssertionError(f"the snapshot {path} holds a {snap.kind} result, this is a {kind} result")
        tol = tolerances if isinstance(tolerances, (int, float)) else None
        if kind == "analysis":
            diff = compare_side(snap.sides["qvalid"], qvalid_side(result), tolerances=tolerances, rtol=rtol,
                                print_digits=print_digits, names=("snapshot", "now"))
            extra = (compare_studies(snap.study, result.study), compare_options(snap.options, result.options))
            diff = replace(diff, outputs=extra + diff.outputs, notes=diff.notes + snap.notes)
        elif kind == "bootstrap":
            side = snap.sides["qvalid"]
            try:
                diff = compare_bootstrap(side["result"], data["outputs"]["qvalid"]["result"],
                                         se_old=side.get("mc_se"), se_new=data["outputs"]["qvalid"]["mc_se"],
                                         alpha=alpha, names=("snapshot", "now"),
                                         **({} if tol is None else {"tolerance": tol}))
            except QInputError as err:  # a snapshot of an older bootstrap schema: one line, no traceback
                raise AssertionError(f"qvalid snapshot {path}: {err}") from None
        else:
            diff = compare_factors(snap.sides["qvalid"]["result"], data["outputs"]["qvalid"]["result"],
                                   names=("snapshot", "now"), **({} if tol is None else {"tolerance": tol}))
        failed = not diff.ok if fail_on == "any" else bool(diff.reported)
        if failed:
            how = "" if kind != "bootstrap" else (f" (Monte-Carlo tolerance: {diff.context['z']:.2f} x SE over "
                                                  f"{diff.context['mc_cells']} cells, alpha {alpha:g})")
            raise AssertionError(diff.message(f"qvalid snapshot {path} differs{how}; "
                                              "run pytest --qvalid-update to accept the new result"))
        return diff


def _describe(result):
    """(kind, study, snapshot dict) of a QResult, a BootstrapResult or a FactorsResult (recognised by their JSON
    contracts: a bootstrap has ``full`` and ``raw``, the number-of-factors evidence ``suggestions``)."""
    if isinstance(result, QResult):
        flags = result.flags if result.manual_flags else None
        return "analysis", result.study, snapshot_dict(result.study, result.nfactors, result.options,
                                                       {"qvalid": qvalid_side(result)}, flags=flags)
    if hasattr(result, "full") and hasattr(result, "raw") and hasattr(result, "used"):
        se = bootstrap_mc_errors(result)
        study = result.full.study
        return "bootstrap", study, table_snapshot_dict("bootstrap", study, result.to_dict(replicates=False),
                                                       mc_se=se)
    if hasattr(result, "suggestions") and hasattr(result, "criteria") and hasattr(result, "study"):
        return "factors", result.study, table_snapshot_dict("factors", result.study, result.to_dict())
    raise TypeError(f"qsnapshot.check takes a QResult, a BootstrapResult or a FactorsResult, not "
                    f"{type(result).__name__}")
