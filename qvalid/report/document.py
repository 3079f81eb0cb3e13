"""The :class:`Report` value: a QResult with its optional bootstrap, cross-check and number-of-factors results,
rendered as one self-contained HTML page and as JSON."""

from __future__ import annotations

import hashlib
import json
import os
import platform
from dataclasses import dataclass
from pathlib import Path

from .._version import __version__
from ..checks.crosscheck import crosscheck
from ..io.files import atomic_write, refuse_source
from ..options import OPTION_INFO, options_differing
from ..r.session import RNotAvailable
from ..results import QResult
from ._html import CSS, esc
from .sections import SECTIONS, flag_short, glance
from .stability import summary

__all__ = ["Report", "cross_check", "REPORT_JSON_KEYS"]

#: Keys the report's JSON adds to the analyze contract (:data:`qvalid.results.JSON_KEYS`).
REPORT_JSON_KEYS = ("report", "bootstrap", "crosscheck", "number_of_factors")

def cross_check(result: QResult, *, timeout: float = 120.0):
    """Run the live cross-check of ``result`` against R qmethod, if it can be run.

    R qmethod flags only by its significance rule (``qflag``), so a result flagged otherwise (a published
    threshold such as 0.42, no majority rule, manual flags) is cross-checked with qvalid's flags given to R as
    manual flags (``qzscores(..., flagged=)`` + ``qdc``): R still computes the correlations, extraction, rotation,
    z-scores, arrays, characteristics and distinguishing statements itself.

    Returns
    -------
    (Diff or None, str)
        The comparison and a note for the reader; the Diff is None (and the note says why) when R, rpy2 or
        qmethod is missing, or an option has no counterpart in R qmethod.
    """

    opts = result.options
    if result.rotation_steps:
        return None, ("R qmethod has no judgmental rotation (" + result.rotation_text + "); `qvalid crosscheck` "
                      "without the steps checks the named rotation.")
    if opts.extraction != "pca" and opts.rotation not in ("varimax", "none"):
        return None, (f"R qmethod 1.8.4 rotates {opts.extraction} factors only by varimax or none; {opts.rotation} "
                      "after centroid goes beyond it.")
    differ = options_differing(opts)
    unmapped = [n for n in differ if OPTION_INFO[n].r == "fixed"]
    if unmapped:
        return None, ("R qmethod has no counterpart for option(s) "
                      + ", ".join(f"{n}={getattr(opts, n)!r}" for n in unmapped) + ", so it cannot be asked for "
                      "the same analysis.")
    # options that decide which Q-sorts are flagged (OPTION_INFO r="flags"): R's qflag has no counterpart for them,
    # so qvalid's flags are handed to R as manual flags
    manual = result.manual_flags or any(OPTION_INFO[n].r == "flags" for n in differ)
    passed = {n: getattr(opts, n) for n in differ if OPTION_INFO[n].r in ("argument", "qvalid")}
    try:
        diff, _ = crosscheck(result.study, result.nfactors, flags=result.flags if manual else None,
                             timeout=timeout, target=result.rotation_target, **passed)
    except RNotAvailable as err:
        return None, f"R qmethod could not be used on this machine: {err.what}. Install R, the R package qmethod " \
                     "and python3-rpy2 to add this check."
    note = ""
    if manual:
        note = (("Flags were set by hand" if result.manual_flags else
                 f"qvalid flagged with {result.flag_rule}, a rule R qmethod's qflag does not offer")
                + "; these flags were given to R as manual flags (qzscores + qdc), so the flags agree by "
                "construction and everything else was computed by R itself.")
    return diff, note


@dataclass(frozen=True, eq=False)
class Report:
    """A Q analysis and what checks it, ready to render.

    Parameters
    ----------
    result : QResult
    bootstrap : BootstrapResult, optional
        From :func:`qvalid.bootstrap` on the same study and options.
    crosscheck : Diff, optional
        From :func:`cross_check` (or :func:`qvalid.checks.crosscheck.crosscheck`).
    crosscheck_note : str
        Why there is no cross-check, or how it was run (shown in its section).
    factors : FactorsResult, optional
        From :func:`qvalid.factors.number_of_factors`; adds a "Number of factors" section.
    command : str, optional
        The command line that reproduces the report.
    title : str, optional
    inputs : tuple of path, optional
        Files read besides the study file (e.g. statement wordings), listed with their sha256.
    """

    result: QResult
    bootstrap: object = None
    crosscheck: object = None
    crosscheck_note: str = ""
    factors: object = None
    command: str | None = None
    title: str | None = None
    inputs: tuple = ()

    # ------------------------------------------------------------------ summaries shared by HTML and JSON
    def crosscheck_summary(self) -> dict:
        d = self.crosscheck
        if d is None:
            return {"headline": "not run", "sub": _first_sentence(self.crosscheck_note) or "no cross-check requested"}
        n = sum(o.compared for o in d.outputs)
        tol = max((o.tolerance for o in d.outputs if o.kind == "float" and o.tolerance is not None), default=0.0)
        if d.ok:
            worst = max((o.max_abs for o in d.outputs if o.kind == "float" and o.max_abs is not None), default=0.0)
            exact = sum(o.kind == "exact" and o.compared for o in d.outputs)
            return {"headline": f"agrees: {n} of {n} outputs", "sub": f"{d.names[1]}; largest difference {worst:.1e}",
                    "verdict": f"R {d.names[1]} gives the same results.",
                    "detail": f"All {n} compared outputs agree: numbers within {tol:g} (largest difference "
                              f"{worst:.1e}), and the {exact} exact outputs (flags, factor arrays, stars, labels, "
                              "consensus statements) are identical."}
        return {"headline": f"DIFFERS: {len(d.failures)} of {n} outputs",
                "sub": ", ".join(o.name for o in d.failures),
                "verdict": f"R {d.names[1]} gives different results.",
                "detail": d.summary_line() + ". See the rows marked below."}

    def bootstrap_summary(self) -> dict | None:
        if self.bootstrap is None:
            return None

        return summary(self.bootstrap)

    def versions(self) -> dict:
        """Versions of everything that computed this report (R's only when the cross-check ran)."""
        import matplotlib
        import numpy
        import pandas
        import scipy

        v = {"qvalid": __version__, "Python": platform.python_version(), "numpy": numpy.__version__,
             "scipy": scipy.__version__, "pandas": pandas.__version__, "matplotlib": matplotlib.__version__}
        if self.crosscheck is not None:
            for k, val in self.crosscheck.context.get("versions", {}).items():
                if k != "qvalid":
                    v[k] = str(val).removeprefix("R version ")
        return v

    def input_files(self) -> dict:
        """Path -> sha256 of the study file and the other inputs that exist on disk."""
        paths = [p for p in (self.result.study.source, *self.inputs) if p]
        out = {}
        for p in paths:
            if os.path.isfile(p):
                out[str(p)] = hashlib.sha256(Path(p).read_bytes()).hexdigest()
        return out

    # ------------------------------------------------------------------ renderers
    def to_html(self) -> str:
        """The whole report as one HTML page that loads nothing from anywhere."""
        r = self.result
        s = r.study
        title = self.title or f"Q-methodological study: {s.name or (Path(s.source).stem if s.source else 'unnamed')}"
        shown = [(sid, t, fn) for sid, t, fn, when in SECTIONS if when is None or when(self)]
        toc = "".join(f'<li><a href="#{sid}">{esc(t)}</a></li>' for sid, t, _ in shown)
        body = [f'<section id="{sid}"><h2>{n}. {esc(t)}</h2>\n{fn(self)}\n</section>'
                for n, (sid, t, fn) in enumerate(shown, start=1)]
        return "\n".join([
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f'<meta name="generator" content="qvalid {esc(__version__)}">',
            f"<title>{esc(title)}</title>",
            f"<style>{CSS}</style>",
            "</head>",
            "<body>",
            '<div class="page">',
            '<header class="top"><div class="kicker">qvalid report</div>'
            f"<h1>{esc(title)}</h1>"
            f'<p class="lede">{s.n_statements} statements sorted by {s.n_sorts} participants; '
            f"{r.nfactors} factors, {esc(r.options.extraction)} + {esc(r.options.rotation)}, defining Q-sorts by "
            f"{esc(flag_short(r))}.</p></header>",
            glance(self),
            f'<nav class="toc"><strong>Contents</strong><ol>{toc}</ol></nav>',
            "<main>",
            *body,
            "</main>",
            f"<footer>Made by qvalid {esc(__version__)}, a Python implementation of Q methodology checked against R "
            "qmethod 1.8.4. This page is self-contained: it loads no fonts, scripts, styles or images from "
            "anywhere.</footer>",
            "</div>",
            "</body>",
            "</html>",
            "",
        ])

    def to_dict(self) -> dict:
        """The analyze JSON contract (:data:`qvalid.results.JSON_KEYS`) plus :data:`REPORT_JSON_KEYS`."""
        d = self.result.to_dict()
        d["report"] = {"title": self.title, "command": self.command, "versions": self.versions(),
                       "inputs": self.input_files(), "glance": {"crosscheck": self.crosscheck_summary(),
                                                                "bootstrap": self.bootstrap_summary()}}
        d["bootstrap"] = None if self.bootstrap is None else _as_dict(self.bootstrap)
        if self.crosscheck is None:
            d["crosscheck"] = {"available": False, "reason": self.crosscheck_note}
        else:
            d["crosscheck"] = {"available": True, "note": self.crosscheck_note, **self.crosscheck.to_dict()}
        d["number_of_factors"] = None if self.factors is None else _as_dict(self.factors)
        return d

    def to_json(self, **kw) -> str:
        return json.dumps(self.to_dict(), allow_nan=False, **kw)

    def write(self, html_path, json_path=None) -> None:
        """Write the HTML (and the JSON) atomically; refuses to overwrite the study file."""

        targets = {Path(html_path): self.to_html()}
        if json_path is not None:
            targets[Path(json_path)] = self.to_json(indent=1) + "\n"
        refuse_source(self.result.study, *targets)
        for t in targets:
            t.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(targets)


def _as_dict(obj) -> dict:
    """An API object's JSON as Python objects (``to_dict()`` if it has one, else ``json.loads(to_json())``)."""
    if hasattr(obj, "to_dict"):
        return obj.to_dict()
    return json.loads(obj.to_json())


def _first_sentence(text: str) -> str:
    return text.split(". ")[0].rstrip(".") if text else ""
