"""Assertion helpers for test suites, in the spirit of :mod:`numpy.testing`.

>>> from qvalid import analyze
>>> from qvalid.datasets import load_lipset
>>> from qvalid.testing import assert_solutions_close
>>> study = load_lipset()
>>> assert_solutions_close(analyze(study, 3), analyze(study, 3))  # doctest: +ELLIPSIS
Diff(...)

A failure raises :class:`AssertionError` whose message names the tolerance, the mismatched outputs, the number of
mismatched cells, the worst cell by sort/statement/factor ids with both values, and the alignment used::

    Q solutions not equal to tolerance rtol=0, atol=1e-10 (mine vs qvalid)
    alignment: not requested (factors compared in the order and signs given)
    Mismatched outputs: 2 / 20: zscores, qdc.diffs
    zscores (differs)
     Mismatched elements: 1 / 99 (1.01%)
     Max absolute difference: 0.001 at statement sta_5, f2: 0.3... (mine), 0.3... (qvalid)
     ...

:func:`assert_matches_r` runs qvalid and R qmethod (through :mod:`qvalid.r.qmethod`) on the same study and asserts
that they agree.
"""

from __future__ import annotations

from .checks.compare import DEFAULT_TOLERANCE, Diff, compare
from .checks.crosscheck import crosscheck
from .r.qmethod import RRun, as_result

__all__ = ["assert_solutions_close", "assert_matches_r"]


def assert_solutions_close(actual, desired, *, align: bool = False, rtol: float = 0.0,
                           atol: float = DEFAULT_TOLERANCE, tolerances=None, names=("qvalid", "qmethod 1.8.4"),
                           unavailable=None, err_msg: str = "") -> Diff:
    """Assert that two Q solutions agree output by output; return the :class:`~qvalid.checks.diff.Diff`.

    Parameters
    ----------
    actual, desired : QResult or RRun
        Solutions to compare (``desired`` is numpy's DESIRED: relative differences are relative to it). An
        :class:`~qvalid.r.qmethod.RRun` is converted with :func:`~qvalid.r.qmethod.as_result`, and the outputs R could
        not produce (``RRun.missing``) are reported as not compared.
    align : bool
        Match factors first (Hungarian assignment on absolute Tucker congruence of the loadings, signs from the
        congruence); the message reports the permutation and sign flips.
    rtol, atol : float
        Float outputs pass when ``|actual - desired| <= atol + rtol * |desired|`` cell by cell. Flags, factor
        arrays, qdc pairs/stars/labels and the consensus set must be equal.
    tolerances : mapping, optional
        Per-output absolute tolerances overriding ``atol`` (names as in :data:`qvalid.checks.diff.FLOAT_OUTPUTS`).
    names : (str, str)
        How the two sides are named in the message.
    unavailable : mapping, optional
        Output -> reason for outputs known to be missing on one side.
    err_msg : str
        Prepended to the failure message.

    Raises
    ------
    AssertionError
        With a numpy.testing-style message naming the worst cell of every mismatched output.
    """
    __tracebackhide__ = True
    actual, _ = _as_result(actual)
    desired, missing = _as_result(desired)
    unavailable = {**missing, **(unavailable or {})}
    tol = {"*": atol, **dict(tolerances or {})}
    diff = compare(actual, desired, align=align, tolerances=tol, rtol=rtol, unavailable=unavailable, names=names)
    if not diff.ok:
        raise AssertionError(diff.message(err_msg))
    return diff


def assert_matches_r(study, nfactors: int, *, flags=None, align: bool = False, rtol: float = 0.0,
                     atol: float = DEFAULT_TOLERANCE, tolerances=None, flavor: str = "qmethod",
                     err_msg: str = "", **options) -> Diff:
    """Run qvalid and R qmethod on ``study`` with the same options and assert they agree (see
    :func:`qvalid.checks.crosscheck.crosscheck`); return the :class:`~qvalid.checks.diff.Diff`.

    Needs rpy2, R and qmethod (:class:`~qvalid.r.session.RNotAvailable` otherwise). Outputs R fails to produce are
    reported as not compared, and the R failure is part of the message if anything else differs.
    """
    __tracebackhide__ = True

    tol = {"*": atol, **dict(tolerances or {})}
    diff, _ = crosscheck(study, nfactors, flags=flags, align=align, tolerances=tol, rtol=rtol, flavor=flavor,
                         **options)
    if not diff.ok:
        raise AssertionError(diff.message(err_msg))
    return diff


def _as_result(x):
    if isinstance(x, RRun):
        return as_result(x), dict(x.missing)
    return x, {}
