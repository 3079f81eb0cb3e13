"""Checks of a solution against another: the comparison engine (:mod:`~qvalid.checks.compare`, its
:class:`~qvalid.checks.diff.Diff`), the live cross-check against R (:mod:`~qvalid.checks.crosscheck`), flavour
agreement (:mod:`~qvalid.checks.agreement`), re-checking a paper's tables (:mod:`~qvalid.checks.verify`) and the
recovery of simulated studies (:mod:`~qvalid.checks.recovery`).
"""
