"""R qmethod runs: :func:`run_qmethod` runs ``qmethod::qmethod()`` on a :class:`~qvalid.study.QStudy` and reads every
output back into an :class:`RRun`; :func:`as_result` turns it into a :class:`~qvalid.results.QResult` with qvalid's
labels, so that qvalid and R are compared by one function (:func:`qvalid.checks.compare.compare`).

``run_qmethod`` maps qvalid's options one to one (or, with manual flags, runs ``qzscores()`` + ``qdc()`` on qmethod's
own loadings). When ``qmethod()`` fails (e.g. its ``qdc`` stops when a factor without flags is not the last one),
the same steps are run one by one (``cor``, ``principal``/``centroid``, ``varimax``, ``qflag``, ``qzscores``,
``qdc``), so everything computed before the failure is still returned and the failing outputs are listed in
:attr:`RRun.missing`. :meth:`RRun.to_golden` writes the golden reference files of ``reference/golden``.

Conversions follow ``rpy2-notes.md``: list elements are pulled out in R, then converted to numpy inside one
``localconverter``; R's logical matrices arrive as 0/1 and NA as NaN.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from ..core.characteristics import Characteristics, Distinguishing, explained_variance
from ..errors import QInputError
from ..jsonable import num
from ..options import OPTION_INFO, ROTATIONS, resolve_options
from ..results import QResult
from ..study import QStudy, study_block
from . import session
from .session import RConsole

__all__ = ["RRun", "run_qmethod", "as_result", "to_rrun", "strings", "OUTPUTS", "CHAR_FIELDS", "parse_pair"]

#: The outputs an :class:`RRun` carries (``RRun.outputs`` keys), in report order.
OUTPUTS = ("correlation", "unrotated_loadings", "loadings", "flags", "zscores", "factor_arrays",
           "characteristics", "cor_zsc", "sd_dif", "qdc")

CHAR_FIELDS = ("av_rel_coef", "nload", "eigenvals", "expl_var", "reliability", "se_fscores")

#: The six columns of qmethod's ``f_char$characteristics``.
CHAR_FIELDS = ("av_rel_coef", "nload", "eigenvals", "expl_var", "reliability", "se_fscores")


@dataclass(frozen=True, eq=False)
class RRun:
    """One run of R qmethod on a study: its outputs, messages and provenance.

    Attributes
    ----------
    study : QStudy
    nfactors : int
    options : dict
        ``extraction`` ("pca"/"centroid"), ``rotation``, ``cor_method``, ``spc``, ``forced``, ``manual_flags``:
        qvalid's names; :attr:`call` shows what R received.
    call : str
        The R call(s) as text.
    route : {"qmethod", "stepwise", "manual"}
        "qmethod": every output but ``correlation`` and ``unrotated_loadings`` (which ``qmethod()`` does not return
        and are computed with the same calls, ``cor`` and ``principal(rotate="none")``/``centroid``) comes from the
        ``qmethod()`` return value. "stepwise": ``qmethod()`` failed and the outputs come from its steps run one by
        one. "manual": manual flags, ``qzscores()`` + ``qdc()`` on qmethod's loadings.
    outputs : dict
        ``correlation``, ``unrotated_loadings``, ``loadings``, ``flags`` (bool), ``zscores``, ``factor_arrays``
        (float, NaN for NA), ``characteristics`` (dict of the six columns), ``cor_zsc``, ``sd_dif`` (ndarrays or
        None) and ``qdc`` (None, or a dict with ``labels``, ``pairs``, ``diffs`` (n_statements x n_pairs) and
        ``stars``), plus ``qdc_message`` (the string qmethod returns instead of a table for one factor).
    warnings : tuple of str
        Warnings of the ``qmethod()`` call (or of ``qzscores``/``qdc`` with manual flags).
    step_warnings, errors : tuple of str
        Warnings and errors of the step-by-step calls, each prefixed by its step (``"qdc: ..."``).
    error : str or None
        The error of the ``qmethod()`` call (or of ``qzscores``/``qdc``), if it failed.
    missing : dict
        Output name -> why R could not produce it (``"R failed: qdc: ..."``).
    notes : tuple of str
        Where the step-by-step route had to deviate from qmethod's code.
    stdout : str
        Everything R wrote to its console.
    versions : dict
        R, qmethod, psych and rpy2 versions.
    seconds : float
        Wall time of the whole bridge call seen from Python (R's work, the extra ``cor``/unrotated steps and the
        conversions).
    r_seconds : float
        Elapsed time of the ``qmethod()`` call alone, measured inside R (``proc.time``, 1 ms resolution); NaN
        when the step-by-step or manual route was taken.
    """

    study: QStudy
    nfactors: int
    options: dict
    call: str
    route: str
    outputs: dict
    warnings: tuple = ()
    step_warnings: tuple = ()
    errors: tuple = ()
    error: str | None = None
    missing: dict = field(default_factory=dict)
    notes: tuple = ()
    stdout: str = ""
    versions: dict = field(default_factory=dict)
    seconds: float = float("nan")
    r_seconds: float = float("nan")

    @property
    def failed(self) -> bool:
        """True when R raised an error anywhere (some outputs may still exist, see :attr:`missing`)."""
        return self.error is not None or bool(self.errors)

    def failure_summary(self) -> str | None:
        """``"R failed: ..."`` (one line per distinct error) or None."""
        errs = list(self.errors)
        if self.error and not any(e.endswith(": " + self.error) for e in errs):
            errs.insert(0, self.error)
        if not errs:
            return None
        return "R failed: " + "; ".join(dict.fromkeys(e.replace("\n", " ") for e in errs))

    # ---------------------------------------------------------------- golden files
    def to_golden(self, case: str, *, input_file: str | None = None, generated: str | None = None) -> dict:
        """The golden-file dict (schema of ``reference/golden/README.md``, extended with ``study`` and
        ``missing``)."""
        o = self.outputs
        qdc = o.get("qdc")
        qdc_json = None
        if qdc is not None:
            qdc_json = {"dist_and_cons": list(qdc["labels"]), "pairs": list(qdc["pairs"]),
                        "diffs": {p: num(qdc["diffs"][:, j]) for j, p in enumerate(qdc["pairs"])},
                        "sig": {p: list(qdc["stars"][:, j]) for j, p in enumerate(qdc["pairs"])}}
        ch = o.get("characteristics")
        s = self.study
        return {
            "case": case,
            "options": {"extraction": self.options["extraction"], "rotation": self.options["rotation"],
                        "cor_method": self.options["cor_method"], "nfactors": self.nfactors,
                        "spc": self.options["spc"]},
            "study": {("input" if key == "source" else key): (input_file if key == "source" else v)
                      for key, v in study_block(s).items()},
            "versions": dict(self.versions),
            "generated": generated,
            "call": self.call,
            "sort_ids": list(s.sort_ids),
            "statement_ids": list(s.statement_ids),
            "factors": [f"f{j + 1}" for j in range(self.nfactors)],
            "correlation": num(o.get("correlation")),
            "unrotated_loadings": num(o.get("unrotated_loadings")),
            "loadings": num(o.get("loadings")),
            "flags": None if o.get("flags") is None else o["flags"].tolist(),
            "zscores": num(o.get("zscores")),
            "factor_arrays": num(o.get("factor_arrays"), int),
            "characteristics": None if ch is None else {k: num(ch[k]) for k in CHAR_FIELDS},
            "cor_zsc": num(o.get("cor_zsc")),
            "sd_dif": num(o.get("sd_dif")),
            "qdc": qdc_json,
            "qdc_message": o.get("qdc_message"),
            "warnings": list(self.warnings),
            "error": self.error,
            "route": self.route,
            "stepwise_warnings": list(self.step_warnings) if self.route != "qmethod" else [],
            "stepwise_errors": list(self.errors) if self.route != "qmethod" else [],
            "stepwise_notes": list(self.notes),
            "missing": dict(self.missing),
        }


def _r_extraction(extraction: str) -> str:
    e = str(extraction).lower()
    if e == "pca":
        return "PCA"
    if e == "centroid":
        return "centroid"
    raise QInputError(f"extraction={extraction!r} is not one of pca, centroid")


def run_qmethod(study: QStudy, nfactors: int, *, extraction: str = "pca", rotation: str = "varimax",
                cor_method: str = "pearson", spc: float = 1e-5, flags=None, timeout: float = 120.0,
                rotation_args=None) -> RRun:
    """Run R qmethod 1.8.4 on ``study`` with qvalid's options mapped one to one.

    ``qmethod(dataset, nfactors, extraction="PCA"|"centroid", rotation, forced, distribution, cor.method,
    silent=TRUE, spc)``; a non-forced study passes ``forced=FALSE`` and ``distribution`` = its grid expanded to one
    value per statement. ``rotation`` is any name psych::principal knows (case-sensitive, as in R) and
    ``rotation_args`` the rotation's arguments by their R names (``gam``, ``delta``, ``k``, ``normalize``, ``eps``,
    ``maxit``, ``Target`` as an (n_sorts, nfactors) array, NaN = NA), passed through qmethod's ``...``. With ``flags``
    (bool, n_sorts x nfactors) the loadings are computed with qmethod's own
    code (``principal(cor, nfactors, rotate=rotation)`` or ``centroid`` + ``varimax``) and R runs
    ``qzscores(dataset, nfactors, loa, flagged, forced, distribution)`` then ``qdc``.

    R errors never propagate: they are recorded (:attr:`RRun.error`, :attr:`RRun.errors`) and every output that
    could still be computed is returned; those that could not are listed in :attr:`RRun.missing`. A run that
    exceeds ``timeout`` seconds (e.g. qmethod's centroid looping forever on an exactly zero column sum) is stopped
    by R's ``setTimeLimit`` and reported the same way.

    Raises
    ------
    RNotAvailable
        rpy2, R, psych or qmethod missing.
    QInputError
        An option R qmethod does not have.
    """
    r = session.require_r()
    ro = r.ro
    ext = _r_extraction(extraction)
    rotation = OPTION_INFO["rotation"].canonical(str(rotation))
    if rotation not in ROTATIONS:
        raise QInputError(f"rotation={rotation!r} is not one of {', '.join(ROTATIONS)}")
    rot_args = dict(rotation_args or {})
    r_args, args_txt = {}, ""
    for name, v in rot_args.items():
        if isinstance(v, np.ndarray) or isinstance(v, (list, tuple)):
            m = np.asarray(v, dtype=np.float64)
            r_args[name] = ro.r["matrix"](ro.FloatVector(m.ravel(order="F").tolist()), nrow=m.shape[0])
            args_txt += f", {name} = <{m.shape[0]} x {m.shape[1]} matrix>"
        elif isinstance(v, (bool, np.bool_)):
            r_args[name] = ro.BoolVector([bool(v)])
            args_txt += f", {name} = {'TRUE' if v else 'FALSE'}"
        else:
            r_args[name] = ro.FloatVector([float(v)])
            args_txt += f", {name} = {float(v)!r}"
    cor_method = str(cor_method).lower()
    if cor_method not in ("pearson", "spearman", "kendall"):
        raise QInputError(f"cor_method={cor_method!r} is not one of pearson, spearman, kendall")
    k = int(nfactors)
    if k < 1 or k != nfactors:
        raise QInputError(f"nfactors={nfactors!r} must be a whole number >= 1")
    fl = None
    if flags is not None:
        fl = np.asarray(flags)
        if fl.shape != (study.n_sorts, k):
            raise QInputError(f"manual flags have shape {fl.shape}, expected ({study.n_sorts}, {k})")
        fl = fl.astype(bool)

    dataset = r.make_dataset(ro.IntVector(study.scores.ravel(order="F").tolist()), study.n_statements,
                             ro.StrVector(list(study.statement_ids)), ro.StrVector(list(study.sort_ids)))
    distribution = ro.NULL if study.forced else ro.IntVector(study.qscores.tolist())
    r_flags = ro.NULL
    if fl is not None:
        r_flags = ro.r["matrix"](ro.BoolVector(fl.ravel(order="F").tolist()), nrow=study.n_sorts)

    forced = "TRUE" if study.forced else "FALSE"
    dist_txt = "NULL" if study.forced else "c(" + ", ".join(str(v) for v in study.qscores.tolist()) + ")"
    if fl is None:
        call = (f'qmethod(dataset, nfactors = {k}, extraction = "{ext}", rotation = "{rotation}", '
                f'forced = {forced}, distribution = {dist_txt}, cor.method = "{cor_method}", silent = TRUE, '
                f'spc = {spc!r}{args_txt})')
    else:
        loa_txt = (f'unclass(principal(cor(dataset, method = "{cor_method}"), nfactors = {k}, '
                   f'rotate = "{rotation}"{args_txt})$loadings)' if ext == "PCA" else
                   f'centroid(cor(dataset, method = "{cor_method}"), nfactors = {k}, spc = {spc!r})'
                   + (" then unclass(varimax(loa.unr[, 1:nfactors])$loadings)" if rotation == "varimax" else ""))
        call = (f"loa <- {loa_txt}; zsc <- qzscores(dataset, nfactors = {k}, loa = loa, flagged = flagged, "
                f"forced = {forced}, distribution = {dist_txt}); qdc(dataset, nfactors = {k}, zsc = zsc$zsc, "
                f"sed = zsc$f_char$sd_dif)")

    t0 = time.perf_counter()
    with RConsole() as console:
        out = r.run(dataset, k, ext, rotation, ro.BoolVector([study.forced]), distribution, cor_method,
                    float(spc), r_flags, float(timeout), ro.ListVector(r_args))
    seconds = time.perf_counter() - t0
    return to_rrun(r, out, study, k, ext, rotation, cor_method, spc, fl is not None, call, console.stdout
                    + console.stderr, seconds)


def strings(x) -> tuple:
    from rpy2.rinterface import NA_Character
    from rpy2.rinterface_lib.sexp import NULLType

    if x is None or isinstance(x, NULLType):
        return ()
    return tuple(None if v is NA_Character else str(v) for v in x)


def to_rrun(r, out, study, k, ext, rotation, cor_method, spc, manual, call, stdout, seconds) -> RRun:
    """R's outputs (the list that ``run()`` or ``saved()`` of ``qmethod_steps.R`` returns) as an :class:`RRun`."""
    from rpy2.rinterface_lib.sexp import NULLType

    def get(name):
        v = out.rx2(name)
        return None if isinstance(v, NULLType) else v

    def mat(name, shape):
        v = get(name)
        if v is None:
            return None
        with r.localconverter(r.ro.default_converter + r.numpy2ri.converter) as cv:
            a = np.array(cv.rpy2py(v), dtype=np.float64)
        if a.shape != shape:
            raise RuntimeError(f"R returned {name} with shape {a.shape}, expected {shape}")
        return a

    n_so, n_st = study.n_sorts, study.n_statements
    outputs = {
        "correlation": mat("cor", (n_so, n_so)),
        "unrotated_loadings": mat("unrot", (n_so, k)),
        "loadings": mat("loa", (n_so, k)),
        "flags": mat("flagged", (n_so, k)),
        "zscores": mat("zsc", (n_st, k)),
        "factor_arrays": mat("zsc_n", (n_st, k)),
        "cor_zsc": mat("cor_zsc", (k, k)),
        "sd_dif": mat("sd_dif", (k, k)),
        "characteristics": None,
        "qdc": None,
        "qdc_message": None,
    }
    if outputs["flags"] is not None:
        outputs["flags"] = outputs["flags"] == 1.0
    ch = get("characteristics")
    if ch is not None:
        outputs["characteristics"] = {name: np.array(list(ch.rx2(name)), dtype=np.float64) for name in CHAR_FIELDS}
    rn = strings(get("loa_rownames"))
    if rn and rn != study.sort_ids:
        raise RuntimeError(f"R loadings rows {rn[:3]}... do not match the study's sort ids")
    q = get("qdc")
    if q is not None:
        pairs = strings(q.rx2("pairs"))
        labels = np.array(strings(q.rx2("labels")), dtype=object)
        stars = np.array(strings(q.rx2("stars")), dtype=object).reshape((n_st, len(pairs)), order="F")
        with r.localconverter(r.ro.default_converter + r.numpy2ri.converter) as cv:
            diffs = np.array(cv.rpy2py(q.rx2("diffs")), dtype=np.float64).reshape(n_st, len(pairs))
        outputs["qdc"] = {"labels": labels, "pairs": pairs, "diffs": diffs, "stars": stars}
    msg = strings(get("qdc_message"))
    outputs["qdc_message"] = msg[0] if msg else None

    route = strings(get("route"))[0]
    err = strings(get("error"))
    errors = strings(get("step_errors"))
    missing = {}
    reason = "R failed: " + ("; ".join(errors) if errors else (err[0] if err else "unknown error"))
    for name in OUTPUTS:
        if outputs[name] is None:
            if name == "qdc" and (outputs["qdc_message"] is not None or
                                  (outputs["zscores"] is not None and not errors and not err)):
                continue  # one factor (or one factor with flags): qmethod returns no table, by design
            missing[name] = reason
    return RRun(study=study, nfactors=k,
                options={"extraction": ext.lower(), "rotation": rotation, "cor_method": cor_method,
                         "spc": float(spc), "forced": study.forced, "manual_flags": manual},
                call=call, route=route, outputs=outputs, warnings=strings(get("warnings")),
                step_warnings=strings(get("step_warnings")), errors=errors, error=err[0] if err else None,
                missing=missing, notes=strings(get("notes")), stdout=stdout, versions=dict(r.versions),
                seconds=seconds, r_seconds=float(get("qm_seconds")[0]))


# ---------------------------------------------------------------------- RRun -> QResult
def as_result(rrun: RRun):
    """Convert R's outputs into a :class:`~qvalid.results.QResult` with qvalid's labels.

    Missing outputs become NaN arrays of the right shape (see :attr:`RRun.missing`). Fields qmethod does not
    return are derived or left undefined: ``weights`` = a/(1-a^2) of the flagged loadings (derived),
    ``unrotated_eigenvalues``/``unrotated_expl_var`` from R's unrotated loadings, ``rotation_matrix`` NaN,
    ``varimax_iterations`` -1. The R warnings are the result's warnings.
    """

    s, k, o = rrun.study, rrun.nfactors, rrun.outputs
    n_so, n_st = s.n_sorts, s.n_statements

    def arr(name, shape):
        a = o.get(name)
        return np.full(shape, np.nan) if a is None else np.array(a, dtype=np.float64)

    loa = arr("loadings", (n_so, k))
    flags = o.get("flags")
    flags = np.zeros((n_so, k), dtype=bool) if flags is None else np.array(flags, dtype=bool)
    unrot = arr("unrotated_loadings", (n_so, k))
    ch = o.get("characteristics") or {}
    nan_k = np.full(k, np.nan)
    chars = Characteristics(
        av_rel_coef=np.array(ch.get("av_rel_coef", nan_k), dtype=np.float64),
        nload=np.array(ch["nload"], dtype=np.int64) if "nload" in ch else flags.sum(axis=0),
        eigenvals=np.array(ch.get("eigenvals", nan_k), dtype=np.float64),
        expl_var=np.array(ch.get("expl_var", nan_k), dtype=np.float64),
        reliability=np.array(ch.get("reliability", nan_k), dtype=np.float64),
        se_fscores=np.array(ch.get("se_fscores", nan_k), dtype=np.float64),
        cor_zsc=arr("cor_zsc", (k, k)), sd_dif=arr("sd_dif", (k, k)))
    dist = None
    q = o.get("qdc")
    if q is not None:
        pairs = tuple(parse_pair(p) for p in q["pairs"])
        factors = tuple(sorted({i for pq in pairs for i in pq}))
        dist = Distinguishing(factors=factors, pairs=pairs, diffs=np.array(q["diffs"], dtype=np.float64),
                              stars=np.array(q["stars"], dtype=object), labels=np.array(q["labels"], dtype=object))
    fa = np.where(flags, loa, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        w = fa / (1.0 - fa * fa)
    ev, pct = explained_variance(unrot)
    opts = resolve_options("qmethod", extraction=rrun.options["extraction"], rotation=rrun.options["rotation"],
                           cor_method=rrun.options["cor_method"], spc=rrun.options["spc"])
    return QResult(
        study=s, options=opts, nfactors=k, correlation=arr("correlation", (n_so, n_so)), unrotated_loadings=unrot,
        unrotated_eigenvalues=ev, unrotated_expl_var=pct, loadings=loa, rotation_matrix=np.full((k, k), np.nan),
        flags=flags, weights=w, zscores=arr("zscores", (n_st, k)), factor_arrays=arr("factor_arrays", (n_st, k)),
        characteristics=chars, distinguishing=dist, varimax_iterations=-1, converged=True,
        warnings=tuple(rrun.warnings), manual_flags=bool(rrun.options.get("manual_flags")))


def parse_pair(name: str) -> tuple:
    a, b = name.split("_")
    return int(a.lstrip("f")) - 1, int(b.lstrip("f")) - 1
