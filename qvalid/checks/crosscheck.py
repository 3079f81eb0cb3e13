"""Live cross-check: run qvalid and R qmethod on the same study with the same options and compare every output.

:func:`crosscheck` returns ``(Diff, RRun)``. When R itself fails (e.g. qmethod's ``qdc`` stops), the Diff says
"R failed: ..." and compares everything R did produce. The command line (``qvalid crosscheck``) is
:mod:`qvalid.cli.crosscheck`.
"""

from __future__ import annotations

from .._version import __version__
from ..errors import QInputError
from ..options import FLAVORS, OPTION_INFO, ROTATION_R_NAMES, options_differing, resolve_options, rotation_arguments
from ..pipeline import analyze
from ..r.qmethod import as_result, run_qmethod
from .compare import compare

__all__ = ["crosscheck", "r_solution", "r_options", "R_MAPPED_OPTIONS", "r_rotation_args"]

#: qvalid options passed one to one to R qmethod (``OptionInfo.r == "argument"``).
R_MAPPED_OPTIONS = tuple(n for n, i in OPTION_INFO.items() if i.r == "argument")
#: qvalid options that only change how qvalid repairs qmethod's known defects (R has no counterpart).
QVALID_ONLY_OPTIONS = tuple(n for n, i in OPTION_INFO.items() if i.r == "qvalid")


def crosscheck(study, nfactors: int, *, flags=None, align: bool = False, tolerances=None, rtol: float = 0.0,
               flavor: str = "qmethod", timeout: float = 120.0, target=None, then=(), **options):
    """Analyse ``study`` with qvalid and with R qmethod (through :mod:`qvalid.r.qmethod`) and compare the results.

    Parameters
    ----------
    study : QStudy
    nfactors : int
    flags : array-like of bool (n_sorts, nfactors), optional
        Manual flags, used by both sides (R: ``qzscores`` + ``qdc`` on qmethod's loadings).
    align, tolerances, rtol
        See :func:`qvalid.checks.compare.compare`.
    flavor : str
        qvalid option preset; every option that differs from R qmethod's fixed behaviour (threshold, majority,
        flag_z, varimax settings, av_rel_coef) is rejected, since R could not be asked for it. ``array_ties`` and
        ``qdc_labels`` are allowed (``"strict"`` repairs qmethod's defects; differences are then expected).
    target : array-like (n_sorts, nfactors), optional
        The target of ``rotation="targetT"``/``"targetQ"``, passed to R as ``Target`` (NaN = NA).
    then : sequence of PairStep
        Must be empty: R qmethod has no judgmental rotation.
    **options
        qvalid options (:class:`~qvalid.options.Options` fields); ``extraction``, ``rotation``, ``cor_method`` and
        ``spc`` are passed to R, and the rotation's arguments that differ from R's defaults (``rotation_gam`` as
        ``gam``, ``rotation_delta``, ``rotation_k``, ``gpa_normalize``, ``gpa_eps``, ``gpa_max_iter`` as ``maxit``)
        through qmethod's ``...``.

    Returns
    -------
    (Diff, RRun)
        The comparison (``names = ("qvalid", "qmethod <version>")``; its context holds the R call, versions,
        warnings, errors and notes, but no timing, so the same inputs give the same bytes: that is in the RRun's
        ``seconds``) and the R run itself.

    Raises
    ------
    QInputError
        Bad study or options (also an option R qmethod has no counterpart for).
    RNotAvailable
        rpy2, R or qmethod missing.
    """

    opts = r_options(flavor, **options)
    base = FLAVORS["qmethod"]
    if then:
        raise QInputError("R qmethod has no judgmental rotation: cross-check the named rotation (without the steps)")
    mine = analyze(study, nfactors, flavor=flavor, flags=flags, target=target, **options)
    theirs, rrun = r_solution(study, nfactors, flags=flags, timeout=timeout, flavor=flavor,
                              target=mine.rotation_target, **options)
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

    if opts.rotation in ("varimin", "bifactor", "biquartimin"):
        notes.append(f"R needs psych attached for {opts.rotation} (qmethod alone stops: GPArotation cannot find "
                     "psych's criterion); the R session attached it")
    diff = diff.with_notes(
        *notes,
        versions={"qvalid": __version__, **rrun.versions},
        call=rrun.call,
        r={"route": rrun.route, "call": rrun.call, "warnings": list(rrun.warnings),
           "step_warnings": list(rrun.step_warnings), "error": rrun.error, "errors": list(rrun.errors),
           "missing": dict(rrun.missing), "notes": list(rrun.notes), "stdout": rrun.stdout,
           "versions": dict(rrun.versions)},  # no wall-clock time: same inputs, same bytes (RRun.seconds has it)
        qvalid={"version": __version__,
                "warnings": [{"code": getattr(w, "code", None), "message": str(w)} for w in mine.warnings]},
    )
    return diff, rrun


def r_options(flavor: str = "qmethod", **options):
    """The resolved options, after refusing those R qmethod has no counterpart for (:class:`QInputError`): an
    option R has no argument for, and a rotation other than varimax/none of centroid factors (qmethod 1.8.4
    rotates centroid factors only by varimax or none)."""
    opts = resolve_options(flavor, **options)
    base = FLAVORS["qmethod"]
    bad = [n for n in options_differing(opts) if OPTION_INFO[n].r not in ("argument", "qvalid")]
    if bad:
        raise QInputError("R qmethod has no counterpart for option(s) "
                          + ", ".join(f"{b}={getattr(opts, b)!r}" for b in bad)
                          + f" (qmethod's value: {', '.join(repr(getattr(base, b)) for b in bad)})")
    if opts.extraction != "pca" and opts.rotation not in ("varimax", "none"):
        raise QInputError(f"R qmethod 1.8.4 rotates {opts.extraction} factors only by varimax or none, not "
                          f"{opts.rotation} (qvalid goes beyond qmethod there: nothing to cross-check against)")
    return opts


def r_solution(study, nfactors: int, *, flags=None, flavor: str = "qmethod", timeout: float = 120.0, target=None,
               **options):
    """R qmethod's solution of ``study`` with qvalid's options mapped one to one (:func:`r_options` refuses the
    others; the rotation's arguments by :func:`r_rotation_args`, ``target`` the matrix of a target rotation):
    ``(QResult, RRun)``, the result by :func:`qvalid.r.qmethod.as_result`. The one way the checks reach R (the
    cross-check and ``qvalid diff --against r``)."""
    opts = r_options(flavor, **options)
    rrun = run_qmethod(study, nfactors, flags=flags, timeout=timeout, extraction=opts.extraction,
                       rotation=opts.rotation, cor_method=opts.cor_method, spc=opts.spc,
                       rotation_args=r_rotation_args(opts, target))
    return as_result(rrun), rrun


def r_rotation_args(opts, target=None) -> dict:
    """The rotation's arguments for R by their R names (qmethod's ``...`` -> psych::principal -> the rotation): those
    that differ from the values R uses by default (so a default analysis is R's plain call), and ``Target``."""
    if opts.rotation == "none":
        return {}
    mine = rotation_arguments(opts)
    default = rotation_arguments(resolve_options("qmethod", rotation=opts.rotation))
    out = {ROTATION_R_NAMES[n]: v for n, v in mine.items() if default.get(n) != v}
    if target is not None:
        out["Target"] = target
    return out
