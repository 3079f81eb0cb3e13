"""Live cross-check: run qvalid and R qmethod on the same study with the same options and compare every output.

:func:`crosscheck` returns ``(Diff, RRun)``; :func:`add_crosscheck_parser` registers ``qvalid crosscheck``::

    qvalid crosscheck FILE -k K [analysis options] [--format text|json|markdown]
                      [--tolerance OUTPUT=VALUE ... | --tolerance VALUE] [--align]

Exit codes: 0 every compared output within tolerance, 1 some difference beyond tolerance, 2 invalid input or R,
qmethod or rpy2 missing (one line naming what to install). When R itself fails (e.g. qmethod's ``qdc`` stops), the
report says "R failed: ..." and compares everything R did produce.
"""

from __future__ import annotations

from dataclasses import fields

from .errors import QInputError
from .options import FLAVORS, resolve_options

__all__ = ["crosscheck", "add_crosscheck_parser", "cmd_crosscheck", "parse_tolerances", "R_MAPPED_OPTIONS"]

#: qvalid options passed one to one to R qmethod.
R_MAPPED_OPTIONS = ("extraction", "rotation", "cor_method", "spc")
#: qvalid options that only change how qvalid repairs qmethod's known defects (R has no counterpart).
QVALID_ONLY_OPTIONS = ("array_ties", "qdc_labels")


def crosscheck(study, nfactors: int, *, flags=None, align: bool = False, tolerances=None, rtol: float = 0.0,
               flavor: str = "qmethod", timeout: float = 120.0, **options):
    """Analyse ``study`` with qvalid and with R qmethod (through :mod:`qvalid.rbridge`) and compare the results.

    Parameters
    ----------
    study : QStudy
    nfactors : int
    flags : array-like of bool (n_sorts, nfactors), optional
        Manual flags, used by both sides (R: ``qzscores`` + ``qdc`` on qmethod's loadings).
    align, tolerances, rtol
        See :func:`qvalid.compare.compare`.
    flavor : str
        qvalid option preset; every option that differs from R qmethod's fixed behaviour (threshold, majority,
        flag_z, varimax settings, av_rel_coef) is rejected, since R could not be asked for it. ``array_ties`` and
        ``qdc_labels`` are allowed (``"strict"`` repairs qmethod's defects; differences are then expected).
    **options
        qvalid options (:class:`~qvalid.options.Options` fields); ``extraction``, ``rotation``, ``cor_method`` and
        ``spc`` are passed to R.

    Returns
    -------
    (Diff, RRun)
        The comparison (``names = ("qvalid", "qmethod <version>")``; its context holds the R call, versions,
        warnings, errors and timing) and the R run itself.

    Raises
    ------
    QInputError
        Bad study or options (also an option R qmethod has no counterpart for).
    RNotAvailable
        rpy2, R or qmethod missing.
    """
    from .compare import compare
    from .pipeline import analyze
    from .rbridge import as_result, run_qmethod

    opts = resolve_options(flavor, **options)
    base = FLAVORS["qmethod"]
    bad = [f.name for f in fields(opts) if f.name not in R_MAPPED_OPTIONS + QVALID_ONLY_OPTIONS
           and getattr(opts, f.name) != getattr(base, f.name)]
    if bad:
        raise QInputError("R qmethod has no counterpart for option(s) "
                          + ", ".join(f"{b}={getattr(opts, b)!r}" for b in bad)
                          + f" (qmethod's value: {', '.join(repr(getattr(base, b)) for b in bad)})")
    mine = analyze(study, nfactors, flavor=flavor, flags=flags, **options)
    rrun = run_qmethod(study, nfactors, extraction=opts.extraction, rotation=opts.rotation,
                       cor_method=opts.cor_method, spc=opts.spc, flags=flags, timeout=timeout)
    theirs = as_result(rrun)
    diff = compare(mine, theirs, align=align, tolerances=tolerances, rtol=rtol, unavailable=rrun.missing,
                   names=("qvalid", f"qmethod {rrun.versions.get('qmethod', '?')}"))
    notes = []
    failure = rrun.failure_summary()
    if failure:
        notes.append(failure)
    notes += [f"R: {n}" for n in rrun.notes]
    for opt in QVALID_ONLY_OPTIONS:
        if getattr(opts, opt) != getattr(base, opt):
            notes.append(f"qvalid uses {opt}={getattr(opts, opt)!r}; R qmethod has only its own rule, so differences "
                         f"there are expected")
    from ._version import __version__

    diff = diff.with_notes(
        *notes,
        versions={"qvalid": __version__, **rrun.versions},
        call=rrun.call,
        r={"route": rrun.route, "call": rrun.call, "warnings": list(rrun.warnings),
           "step_warnings": list(rrun.step_warnings), "error": rrun.error, "errors": list(rrun.errors),
           "missing": dict(rrun.missing), "notes": list(rrun.notes), "stdout": rrun.stdout,
           "seconds": round(rrun.seconds, 4), "versions": dict(rrun.versions)},
        qvalid={"version": __version__, "warnings": list(mine.warnings)},
    )
    return diff, rrun


# ---------------------------------------------------------------------- CLI
def parse_tolerances(values) -> dict | None:
    """``["1e-8"]`` -> ``{"*": 1e-8}``; ``["zscores=1e-8", "qdc=1e-9"]`` -> per output; QInputError on bad text."""
    from .compare import _resolve_tolerances

    if not values:
        return None
    out = {}
    for text in values:
        key, sep, val = text.rpartition("=")
        key = key.strip() if sep else "*"
        try:
            v = float(val)
        except ValueError:
            raise QInputError(f"--tolerance {text!r}: expected OUTPUT=VALUE or a number, e.g. zscores=1e-8") from None
        out[key] = v
    try:
        _resolve_tolerances(out)
    except ValueError as err:
        raise QInputError(f"--tolerance: {err}") from None
    return out


def cmd_crosscheck(args) -> int:
    """``qvalid crosscheck``: run both, print the comparison, exit 0/1 (2 on bad input or missing R)."""
    from .cli import EXIT_DIFF, EXIT_OK, analysis_overrides, read_study_from_args

    tolerances = parse_tolerances(args.tolerance)
    study = read_study_from_args(args)
    diff, _ = crosscheck(study, args.nfactors, flavor=args.flavor, align=args.align, tolerances=tolerances,
                         **analysis_overrides(args))
    if args.format == "json":
        print(diff.to_json(indent=1))
    elif args.format == "markdown":
        print(diff.to_markdown())
    else:
        print(diff.to_text())
    return EXIT_OK if diff.ok else EXIT_DIFF


def add_crosscheck_parser(subparsers) -> None:
    """Register ``qvalid crosscheck`` (called by :func:`qvalid.cli.make_parser`)."""
    import argparse

    from .cli import add_analysis_options, add_study_options
    from .compare import FLOAT_OUTPUTS

    c = subparsers.add_parser(
        "crosscheck", help="run qvalid and R qmethod (through rpy2) on the same study and compare every output",
        description="Run qvalid and R qmethod on the same study with the same options and compare every output "
                    "(correlation, loadings, flags, z-scores, factor arrays, characteristics, distinguishing and "
                    "consensus statements). Needs rpy2, R and the R package qmethod.",
        epilog="examples:\n"
               "  qvalid crosscheck reference/golden/inputs/lipset.csv -k 3\n"
               "  qvalid crosscheck study.csv -k 4 --extraction centroid --format markdown\n"
               "  qvalid crosscheck study.csv -k 3 --tolerance 1e-8 --tolerance zscores=1e-6 --align\n"
               "outputs with a tolerance: " + ", ".join(FLOAT_OUTPUTS) + " (or 'characteristics', 'qdc')\n"
               "exit codes: 0 all within tolerance, 1 some difference beyond tolerance, 2 invalid input or "
               "R/qmethod/rpy2 missing",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    add_study_options(c)
    add_analysis_options(c)
    g = c.add_argument_group("comparison")
    g.add_argument("--format", choices=("text", "json", "markdown"), default="text")
    g.add_argument("--tolerance", action="append", metavar="[OUTPUT=]VALUE",
                   help="absolute tolerance: a number for every float output, or OUTPUT=VALUE (repeatable); "
                        "default 1e-10")
    g.add_argument("--align", action="store_true",
                   help="match factors first (Hungarian assignment on |Tucker congruence|, signs by congruence) "
                        "and report the permutation and sign flips")
    c.set_defaults(func=cmd_crosscheck)

