"""The main job's output: one self-contained HTML report (and its JSON) of a Q analysis, its bootstrap stability,
its live cross-check against R qmethod and, optionally, the number-of-factors criteria.

>>> from qvalid import analyze
>>> from qvalid.datasets import load_lipset
>>> from qvalid.report import Report
>>> html = Report(analyze(load_lipset(), 3)).to_html()
>>> html.startswith("<!DOCTYPE html>") and 'id="arrays"' in html
True

The report part sits above the pipeline, the R side and the bootstrap; nothing below it imports it
(../shared/docs/architecture.md). The command line is ``qvalid report`` (:mod:`qvalid.cli.report`).
"""

from .document import REPORT_JSON_KEYS, Report, cross_check
from .sections import SECTIONS, distinguishing_mask

__all__ = ["Report", "cross_check", "REPORT_JSON_KEYS", "SECTIONS", "distinguishing_mask"]
