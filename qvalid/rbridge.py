"""A bridge to R's ``qmethod`` through rpy2: run R on a :class:`~qvalid.study.QStudy` and read every output back.

Importing this module never imports rpy2 or starts R. The first call that needs R goes through the cached
:func:`_require_r`, which raises :class:`RNotAvailable` (naming what to install) when rpy2, R or qmethod is missing.

- :func:`run_qmethod` runs ``qmethod::qmethod()`` (or, with manual flags, ``qzscores()`` + ``qdc()`` on qmethod's
  own loadings) with qvalid's options mapped one to one, and returns an :class:`RRun`: the outputs as numpy arrays,
  R's warnings and console output, the R call as text and the versions of R, qmethod, psych and rpy2. When
  ``qmethod()`` fails (e.g. its ``qdc`` stops when a factor without flags is not the last one), the same steps are
  run one by one (``cor``, ``principal``/``centroid``, ``varimax``, ``qflag``, ``qzscores``, ``qdc``), so everything
  computed before the failure is still returned and the failing outputs are listed in :attr:`RRun.missing`.
- :func:`as_result` turns an :class:`RRun` into a :class:`~qvalid.results.QResult` with qvalid's labels, so that
  qvalid and R are compared by one function (:func:`qvalid.compare.compare`).
- :meth:`RRun.to_golden` / :func:`load_golden` write and read the golden reference files of ``reference/golden``
  (the lipset files made by ``make_golden.R`` use the same schema), so the golden tests need no R.

Conversions follow ``rpy2-notes.md``: list elements are pulled out in R, then converted to numpy inside one
``localconverter``; R's logical matrices arrive as 0/1 and NA as NaN.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from functools import lru_cache
from types import SimpleNamespace

import numpy as np

from .errors import QInputError
from .study import QStudy, format_score

__all__ = ["RNotAvailable", "RConsole", "RRun", "run_qmethod", "as_result", "r_versions", "r_available",
           "load_golden", "golden_study", "INSTALL_HINT", "OUTPUTS", "run_qmboots"]

#: What to install when R is missing (one line, also printed by ``qvalid crosscheck``).
INSTALL_HINT = ("install: apt-get install python3-rpy2 r-base-core r-cran-psych; "
                "in R: install.packages('qmethod')")

#: The outputs an :class:`RRun` carries (``RRun.outputs`` keys), in report order.
OUTPUTS = ("correlation", "unrotated_loadings", "loadings", "flags", "zscores", "factor_arrays",
           "characteristics", "cor_zsc", "sd_dif", "qdc")

_CHAR_FIELDS = ("av_rel_coef", "nload", "eigenvals", "expl_var", "reliability", "se_fscores")


class RNotAvailable(QInputError):
    """rpy2, R or the R package qmethod cannot be used; the message says what to install."""

    def __init__(self, what: str):
        super().__init__(f"R qmethod is not available ({what}); {INSTALL_HINT}")
        self.what = what


# ---------------------------------------------------------------------- lazy R
_R_CODE = r"""
local({
  deadline <- NULL  # set by run(): every captured step gets the time that is left (R resets a spent limit)
  capture <- function(expr) {
    warns <- character(0)
    err <- NULL
    if (!is.null(deadline)) {
      left <- as.numeric(difftime(deadline, Sys.time(), units = "secs"))
      if (left <= 0) return(list(value = NULL, warnings = character(0), error = "reached elapsed time limit"))
      setTimeLimit(elapsed = left, transient = TRUE)
    }
    value <- tryCatch(
      withCallingHandlers(expr, warning = function(w) {
        warns <<- c(warns, conditionMessage(w))
        invokeRestart("muffleWarning")
      }),
      error = function(e) {
        err <<- conditionMessage(e)
        NULL
      })
    list(value = value, warnings = warns, error = err)
  }

  make_dataset <- function(values, nrow, rn, cn) {
    m <- matrix(as.integer(values), nrow = nrow, dimnames = list(rn, cn))
    d <- as.data.frame(m, stringsAsFactors = FALSE)
    stopifnot(identical(colnames(d), cn), identical(rownames(d), rn))
    d
  }

  # qmethod()'s rotation code, R/qmethod.R:31-43, as one function (used by the step-by-step route)
  extract_rotate <- function(cor.data, nfactors, extraction, rotation, spc, note) {
    if (extraction == "PCA") {
      loa <- unclass(psych::principal(cor.data, nfactors = nfactors, rotate = rotation)$loadings)
    } else {
      loa.unr <- unclass(qmethod::centroid(tmat = cor.data, nfactors = nfactors, spc))
      if (rotation == "none") {
        loa <- loa.unr
      } else {
        r <- capture(unclass(stats::varimax(loa.unr[, 1:nfactors])$loadings))
        if (!is.null(r$error)) {
          note(paste0("qmethod's unclass(varimax(loa.unr[, 1:nfactors])$loadings) fails (", r$error,
                      "); loadings here are stats::varimax(loa.unr[, 1:nfactors, drop = FALSE]), which returns ",
                      "a one-column matrix unchanged: loadings == unrotated centroid loadings, and flags, ",
                      "z-scores etc. follow from them. This is not output of qmethod()."))
          v <- stats::varimax(loa.unr[, 1:nfactors, drop = FALSE])
          loa <- if (is.list(v)) unclass(v$loadings) else v
        } else {
          loa <- r$value
        }
      }
    }
    loa <- as.matrix(loa)
    colnames(loa) <- paste0("f", seq_len(ncol(loa)))
    loa
  }

  run <- function(dataset, nfactors, extraction, rotation, forced, distribution, cor.method, spc, flagged,
                  timeout) {
    deadline <<- Sys.time() + timeout
    on.exit({ deadline <<- NULL; setTimeLimit(elapsed = Inf) })
    nstat <- nrow(dataset)
    k <- nfactors
    sw <- character(0); se <- character(0); notes <- character(0)
    note <- function(x) notes <<- c(notes, x)
    step <- function(name, expr) {
      r <- capture(expr)
      if (length(r$warnings)) sw <<- c(sw, paste0(name, ": ", r$warnings))
      if (!is.null(r$error)) se <<- c(se, paste0(name, ": ", r$error))
      r$value
    }
    # correlation and unrotated loadings, which qmethod() does not return
    cor.data <- step("cor", cor(dataset, method = cor.method))
    unrot <- NULL
    if (!is.null(cor.data)) {
      unrot <- step(if (extraction == "PCA") "principal(rotate='none')" else "centroid",
                    if (extraction == "PCA")
                      unclass(psych::principal(cor.data, nfactors = k, rotate = "none")$loadings)
                    else unclass(qmethod::centroid(tmat = cor.data, nfactors = k, spc)))
    }
    qm <- list(value = NULL, warnings = character(0), error = NULL)
    qm_seconds <- NA_real_
    route <- "stepwise"
    if (is.null(flagged)) {
      t_qm <- proc.time()[["elapsed"]]
      qm <- capture(qmethod::qmethod(dataset, nfactors = k, extraction = extraction, rotation = rotation,
                                     forced = forced, distribution = distribution, cor.method = cor.method,
                                     silent = TRUE, spc = spc))
      qm_seconds <- proc.time()[["elapsed"]] - t_qm
      if (!is.null(qm$value)) route <- "qmethod"
    } else {
      route <- "manual"
    }
    loa <- NULL; flg <- NULL; qz <- NULL; qd <- NULL
    if (route == "qmethod") {
      res <- qm$value
      loa <- res$loa; flg <- res$flagged; qz <- res; qd <- res$qdc
    } else if (!is.null(cor.data)) {
      loa <- step("extraction/rotation", extract_rotate(cor.data, k, extraction, rotation, spc, note))
      if (!is.null(loa)) {
        if (route == "manual") {
          flg <- flagged
          dimnames(flg) <- list(rownames(loa), paste0("flag_f", seq_len(k)))
          qm <- capture({
            z <- qmethod::qzscores(dataset, k, loa = loa, flagged = flg, forced = forced,
                                   distribution = distribution)
            list(qz = z, qdc = capture(qmethod::qdc(dataset, k, zsc = z$zsc, sed = z$f_char$sd_dif)))
          })
          if (!is.null(qm$value)) {
            qz <- qm$value$qz
            qd <- qm$value$qdc$value
            qm$warnings <- c(qm$warnings, qm$value$qdc$warnings)
            qm$error <- qm$value$qdc$error
            if (!is.null(qm$error)) se <- c(se, paste0("qdc: ", qm$error))
          } else if (!is.null(qm$error)) {
            se <- c(se, paste0("qzscores: ", qm$error))
          }
        } else {
          flg <- step("qflag", qmethod::qflag(loa = loa, nstat = nstat))
          if (!is.null(flg)) {
            qz <- step("qzscores", qmethod::qzscores(dataset, k, flagged = flg, loa = loa, forced = forced,
                                                       distribution = distribution))
            if (!is.null(qz)) qd <- step("qdc", qmethod::qdc(dataset, k, zsc = qz$zsc, sed = qz$f_char$sd_dif))
          }
        }
      }
    }
    num <- function(x) if (is.null(x)) NULL else { x <- as.matrix(x); storage.mode(x) <- "double"; x }
    qdc_out <- NULL; qdc_msg <- NULL
    if (is.character(qd)) qdc_msg <- qd
    if (is.data.frame(qd)) {
      cols <- names(qd)[-1]
      pairs <- cols[!startsWith(cols, "sig_")]
      qdc_out <- list(labels = as.character(qd$dist.and.cons), pairs = pairs,
                      diffs = num(as.matrix(qd[pairs])),
                      stars = as.character(as.matrix(qd[paste0("sig_", pairs)])))
    }
    ch <- if (is.null(qz)) NULL else qz$f_char$characteristics
    list(route = route, warnings = qm$warnings, error = qm$error,
         step_warnings = sw, step_errors = se, notes = notes,
         cor = num(cor.data), unrot = num(unrot), loa = num(loa), loa_rownames = rownames(loa),
         flagged = num(flg), zsc = num(qz$zsc), zsc_n = num(qz$zsc_n),
         characteristics = if (is.null(ch)) NULL else lapply(as.list(ch), as.numeric),
         cor_zsc = num(qz$f_char$cor_zsc), sd_dif = num(qz$f_char$sd_dif),
         qdc = qdc_out, qdc_message = qdc_msg, qm_seconds = qm_seconds)
  }

  versions <- function() list(R = R.version.string, qmethod = as.character(utils::packageVersion("qmethod")),
                              psych = as.character(utils::packageVersion("psych")))

  list(run = run, make_dataset = make_dataset, versions = versions)
})
"""


@lru_cache(maxsize=1)
def _require_r():
    """Import rpy2, start R, load qmethod and the bridge's R functions (once); raise :class:`RNotAvailable`."""
    try:
        import rpy2
        import rpy2.rinterface_lib.callbacks  # noqa: F401
    except Exception as err:  # ImportError, or an rpy2 built for another R (undefined symbol ...)
        raise RNotAvailable(f"rpy2 cannot be imported: {type(err).__name__}: {err}") from None
    try:
        with _quiet_console():
            import rpy2.robjects as ro
            from rpy2.robjects import numpy2ri
            from rpy2.robjects.conversion import localconverter
    except Exception as err:
        raise RNotAvailable(f"R cannot be started through rpy2: {type(err).__name__}: {err}") from None
    with _quiet_console():
        missing = [p for p in ("qmethod", "psych")
                   if not ro.r(f'requireNamespace("{p}", quietly = TRUE)')[0]]
    if missing:
        raise RNotAvailable(f"R package(s) {', '.join(missing)} not installed")
    with _quiet_console():
        fns = ro.r(_R_CODE)
        ver = fns.rx2("versions")()
    versions = {name: str(ver.rx2(name)[0]) for name in ("R", "qmethod", "psych")}
    versions["rpy2"] = rpy2.__version__
    return SimpleNamespace(ro=ro, numpy2ri=numpy2ri, localconverter=localconverter, run=fns.rx2("run"),
                           make_dataset=fns.rx2("make_dataset"), versions=versions)


def r_available() -> bool:
    """True when rpy2, R, psych and qmethod can be used (starts R on first call)."""
    try:
        _require_r()
    except RNotAvailable:
        return False
    return True


def r_versions() -> dict:
    """``{"R": ..., "qmethod": ..., "psych": ..., "rpy2": ...}`` (starts R on first call)."""
    return dict(_require_r().versions)


class _quiet_console:
    """Swallow R console output while loading (used before :class:`RConsole` can run R code)."""

    def __enter__(self):
        try:
            from rpy2.rinterface_lib import callbacks
        except Exception:  # pragma: no cover - rpy2 missing: nothing to silence
            self._cb = None
            return self
        self._cb = callbacks
        self._saved = (callbacks.consolewrite_print, callbacks.consolewrite_warnerror)
        callbacks.consolewrite_print = callbacks.consolewrite_warnerror = lambda s: None
        return self

    def __exit__(self, *exc):
        if self._cb is not None:
            self._cb.consolewrite_print, self._cb.consolewrite_warnerror = self._saved
        return False


class RConsole:
    """Capture R's console for the duration of a ``with`` block and restore everything afterwards.

    Modelled on dclab's ``AutoRConsole``: rpy2's console callbacks are swapped so nothing reaches the user's
    terminal, R's messages are switched to English (``LC_MESSAGES=C``, ``LANGUAGE=en``) so that captured texts are
    stable, and the previous callbacks and locale are restored in ``__exit__``, even after an exception.

    Attributes
    ----------
    stream : list of (topic, text)
        ``("stdout", ...)`` for normal output, ``("stderr", ...)`` for messages/warnings written to the console.
    """

    def __init__(self):
        self.stream: list[tuple[str, str]] = []

    @property
    def stdout(self) -> str:
        return "".join(t for topic, t in self.stream if topic == "stdout")

    @property
    def stderr(self) -> str:
        return "".join(t for topic, t in self.stream if topic == "stderr")

    def __enter__(self):
        r = _require_r()
        from rpy2.rinterface_lib import callbacks

        self._callbacks = callbacks
        self._saved = (callbacks.consolewrite_print, callbacks.consolewrite_warnerror)
        callbacks.consolewrite_print = lambda s: self.stream.append(("stdout", s))
        callbacks.consolewrite_warnerror = lambda s: self.stream.append(("stderr", s))
        ro = r.ro
        self._locale = str(ro.r('Sys.getlocale("LC_MESSAGES")')[0])
        self._language = str(ro.r('Sys.getenv("LANGUAGE", unset = NA)')[0])
        self._language_set = not bool(ro.r('is.na(Sys.getenv("LANGUAGE", unset = NA))')[0])
        ro.r('invisible(Sys.setlocale("LC_MESSAGES", "C")); invisible(Sys.setenv(LANGUAGE = "en"))')
        self._ro = ro
        return self

    def __exit__(self, *exc):
        try:
            ro = self._ro
            ro.r["Sys.setlocale"]("LC_MESSAGES", self._locale)
            if self._language_set:
                ro.r["Sys.setenv"](LANGUAGE=self._language)
            else:
                ro.r["Sys.unsetenv"]("LANGUAGE")
        finally:
            self._callbacks.consolewrite_print, self._callbacks.consolewrite_warnerror = self._saved
        return False


# ---------------------------------------------------------------------- results
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
                        "diffs": {p: _num_list(qdc["diffs"][:, j]) for j, p in enumerate(qdc["pairs"])},
                        "sig": {p: list(qdc["stars"][:, j]) for j, p in enumerate(qdc["pairs"])}}
        ch = o.get("characteristics")
        s = self.study
        return {
            "case": case,
            "options": {"extraction": self.options["extraction"], "rotation": self.options["rotation"],
                        "cor_method": self.options["cor_method"], "nfactors": self.nfactors,
                        "spc": self.options["spc"]},
            "study": {"name": s.name, "input": input_file, "n_statements": s.n_statements, "n_sorts": s.n_sorts,
                      "forced": s.forced, "grid": {format_score(k): v for k, v in s.grid.items()}},
            "versions": dict(self.versions),
            "generated": generated,
            "call": self.call,
            "sort_ids": list(s.sort_ids),
            "statement_ids": list(s.statement_ids),
            "factors": [f"f{j + 1}" for j in range(self.nfactors)],
            "correlation": _num_list(o.get("correlation")),
            "unrotated_loadings": _num_list(o.get("unrotated_loadings")),
            "loadings": _num_list(o.get("loadings")),
            "flags": None if o.get("flags") is None else o["flags"].tolist(),
            "zscores": _num_list(o.get("zscores")),
            "factor_arrays": _num_list(o.get("factor_arrays"), int),
            "characteristics": None if ch is None else {k: _num_list(ch[k]) for k in _CHAR_FIELDS},
            "cor_zsc": _num_list(o.get("cor_zsc")),
            "sd_dif": _num_list(o.get("sd_dif")),
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


def _num_list(a, kind=float):
    if a is None:
        return None
    arr = np.asarray(a, dtype=np.float64)
    nan = np.isnan(arr)
    obj = arr.astype(object)
    if kind is int:
        obj = np.where(nan, None, np.where(nan, 0, arr).astype(np.int64)).astype(object)
    else:
        obj[nan] = None
    return obj.tolist()


# ---------------------------------------------------------------------- running R
def _r_extraction(extraction: str) -> str:
    e = str(extraction).lower()
    if e == "pca":
        return "PCA"
    if e == "centroid":
        return "centroid"
    raise QInputError(f"extraction={extraction!r} is not one of pca, centroid")


def run_qmethod(study: QStudy, nfactors: int, *, extraction: str = "pca", rotation: str = "varimax",
                cor_method: str = "pearson", spc: float = 1e-5, flags=None, timeout: float = 120.0) -> RRun:
    """Run R qmethod 1.8.4 on ``study`` with qvalid's options mapped one to one.

    ``qmethod(dataset, nfactors, extraction="PCA"|"centroid", rotation, forced, distribution, cor.method,
    silent=TRUE, spc)``; a non-forced study passes ``forced=FALSE`` and ``distribution`` = its grid expanded to one
    value per statement. With ``flags`` (bool, n_sorts x nfactors) the loadings are computed with qmethod's own
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
    r = _require_r()
    ro = r.ro
    ext = _r_extraction(extraction)
    rotation = str(rotation).lower()
    if rotation not in ("varimax", "none"):
        raise QInputError(f"rotation={rotation!r} is not one of varimax, none")
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
                f'spc = {spc!r})')
    else:
        loa_txt = (f'unclass(principal(cor(dataset, method = "{cor_method}"), nfactors = {k}, '
                   f'rotate = "{rotation}")$loadings)' if ext == "PCA" else
                   f'centroid(cor(dataset, method = "{cor_method}"), nfactors = {k}, spc = {spc!r})'
                   + (" then unclass(varimax(loa.unr[, 1:nfactors])$loadings)" if rotation == "varimax" else ""))
        call = (f"loa <- {loa_txt}; zsc <- qzscores(dataset, nfactors = {k}, loa = loa, flagged = flagged, "
                f"forced = {forced}, distribution = {dist_txt}); qdc(dataset, nfactors = {k}, zsc = zsc$zsc, "
                f"sed = zsc$f_char$sd_dif)")

    t0 = time.perf_counter()
    with RConsole() as console:
        out = r.run(dataset, k, ext, rotation, ro.BoolVector([study.forced]), distribution, cor_method,
                    float(spc), r_flags, float(timeout))
    seconds = time.perf_counter() - t0
    return _to_rrun(r, out, study, k, ext, rotation, cor_method, spc, fl is not None, call, console.stdout
                    + console.stderr, seconds)


def _strings(x) -> tuple:
    from rpy2.rinterface import NA_Character
    from rpy2.rinterface_lib.sexp import NULLType

    if x is None or isinstance(x, NULLType):
        return ()
    return tuple(None if v is NA_Character else str(v) for v in x)


def _to_rrun(r, out, study, k, ext, rotation, cor_method, spc, manual, call, stdout, seconds) -> RRun:
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
        outputs["characteristics"] = {name: np.array(list(ch.rx2(name)), dtype=np.float64) for name in _CHAR_FIELDS}
    rn = _strings(get("loa_rownames"))
    if rn and rn != study.sort_ids:
        raise RuntimeError(f"R loadings rows {rn[:3]}... do not match the study's sort ids")
    q = get("qdc")
    if q is not None:
        pairs = _strings(q.rx2("pairs"))
        labels = np.array(_strings(q.rx2("labels")), dtype=object)
        stars = np.array(_strings(q.rx2("stars")), dtype=object).reshape((n_st, len(pairs)), order="F")
        with r.localconverter(r.ro.default_converter + r.numpy2ri.converter) as cv:
            diffs = np.array(cv.rpy2py(q.rx2("diffs")), dtype=np.float64).reshape(n_st, len(pairs))
        outputs["qdc"] = {"labels": labels, "pairs": pairs, "diffs": diffs, "stars": stars}
    msg = _strings(get("qdc_message"))
    outputs["qdc_message"] = msg[0] if msg else None

    route = _strings(get("route"))[0]
    err = _strings(get("error"))
    errors = _strings(get("step_errors"))
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
                call=call, route=route, outputs=outputs, warnings=_strings(get("warnings")),
                step_warnings=_strings(get("step_warnings")), errors=errors, error=err[0] if err else None,
                missing=missing, notes=_strings(get("notes")), stdout=stdout, versions=dict(r.versions),
                seconds=seconds, r_seconds=float(get("qm_seconds")[0]))


# ---------------------------------------------------------------------- RRun -> QResult
def as_result(rrun: RRun):
    """Convert R's outputs into a :class:`~qvalid.results.QResult` with qvalid's labels.

    Missing outputs become NaN arrays of the right shape (see :attr:`RRun.missing`). Fields qmethod does not
    return are derived or left undefined: ``weights`` = a/(1-a^2) of the flagged loadings (derived),
    ``unrotated_eigenvalues``/``unrotated_expl_var`` from R's unrotated loadings, ``rotation_matrix`` NaN,
    ``varimax_iterations`` -1. The R warnings are the result's warnings.
    """
    from .characteristics import Characteristics, Distinguishing, explained_variance
    from .options import resolve_options
    from .results import QResult

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
        pairs = tuple(_parse_pair(p) for p in q["pairs"])
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


def _parse_pair(name: str) -> tuple:
    a, b = name.split("_")
    return int(a.lstrip("f")) - 1, int(b.lstrip("f")) - 1


# ---------------------------------------------------------------------- golden files
def golden_study(data: dict, *, root=None) -> QStudy:
    """The study of a golden file: ``study.input`` (a CSV relative to ``reference/golden``; lipset files, which
    have no ``study`` block, use ``inputs/lipset.csv``) with the recorded grid and ``forced``."""
    import pandas as pd

    root = _golden_root() if root is None else str(root)
    info = data.get("study") or {"input": "inputs/lipset.csv", "forced": True, "grid": None, "name": "lipset"}
    frame = pd.read_csv(os.path.join(root, info["input"]), index_col=0, dtype=str, keep_default_na=False)
    grid = None if info.get("grid") is None else {int(k): int(v) for k, v in info["grid"].items()}
    study = QStudy.from_frame(frame, grid=grid, forced=bool(info.get("forced", True)),
                              name=info.get("name") or "", source=os.path.join(root, info["input"]))
    if list(study.sort_ids) != data["sort_ids"] or list(study.statement_ids) != data["statement_ids"]:
        raise ValueError(f"{info['input']}: ids do not match the golden file {data.get('case')}")
    return study


def load_golden(path, study: QStudy | None = None) -> RRun:
    """Read a golden file (``reference/golden/**/<case>.json``) back into an :class:`RRun` (no R needed).

    Works for the lipset files of ``make_golden.R`` and the files of ``make_golden_more.py``. A file whose
    ``correlation`` is stored once per study (``correlation_file``) has it read from there.
    """
    with open(path, encoding="utf-8") as fh:
        d = json.load(fh)
    root = os.path.dirname(os.path.abspath(path))
    while not os.path.isdir(os.path.join(root, "inputs")) and os.path.dirname(root) != root:
        root = os.path.dirname(root)  # reference/golden holds inputs/; cases sit one or two levels below
    if study is None:
        study = golden_study(d, root=root)
    k = int(d["options"]["nfactors"])

    def arr(key, value=None):
        v = d.get(key) if value is None else value
        if v is None:
            return None
        return np.array([[np.nan if x is None else x for x in row] for row in v], dtype=np.float64)

    outputs = {
        "correlation": arr("correlation"),
        "unrotated_loadings": arr("unrotated_loadings"),
        "loadings": arr("loadings"),
        "flags": None if d.get("flags") is None else np.array(d["flags"], dtype=bool),
        "zscores": arr("zscores"),
        "factor_arrays": arr("factor_arrays"),
        "cor_zsc": arr("cor_zsc"),
        "sd_dif": arr("sd_dif"),
        "characteristics": None,
        "qdc": None,
        "qdc_message": d.get("qdc_message"),
    }
    if outputs["correlation"] is None and d.get("correlation_file"):
        with open(os.path.join(os.path.dirname(os.path.abspath(path)), d["correlation_file"]),
                  encoding="utf-8") as fh:
            outputs["correlation"] = arr(None, json.load(fh)["correlation"])
    if d.get("characteristics") is not None:
        outputs["characteristics"] = {
            name: np.array([np.nan if x is None else x for x in d["characteristics"][name]], dtype=np.float64)
            for name in _CHAR_FIELDS}
    q = d.get("qdc")
    if q is not None:
        pairs = tuple(q["pairs"])
        outputs["qdc"] = {
            "labels": np.array(q["dist_and_cons"], dtype=object), "pairs": pairs,
            "diffs": np.array([[np.nan if x is None else x for x in q["diffs"][p]] for p in pairs],
                              dtype=np.float64).T.reshape(study.n_statements, len(pairs)),
            "stars": np.array([q["sig"][p] for p in pairs], dtype=object).T.reshape(study.n_statements, len(pairs))}
    errors = tuple(d.get("stepwise_errors") or ())
    missing = dict(d.get("missing") or {})
    if "missing" not in d:  # lipset files: infer from the nulls and the recorded errors
        reason = "R failed: " + "; ".join(errors or ([d["error"]] if d.get("error") else ["unknown error"]))
        for name in OUTPUTS:
            if outputs[name] is None and not (name == "qdc" and (d.get("qdc_message") or k == 1)):
                missing[name] = reason
    opts = d["options"]
    return RRun(study=study, nfactors=k,
                options={"extraction": opts["extraction"], "rotation": opts["rotation"],
                         "cor_method": opts["cor_method"], "spc": float(opts.get("spc", 1e-5)),
                         "forced": study.forced, "manual_flags": False},
                call=d.get("call") or "", route=d.get("route", "qmethod"), outputs=outputs,
                warnings=tuple(d.get("warnings") or ()), step_warnings=tuple(d.get("stepwise_warnings") or ()),
                errors=errors, error=d.get("error"), missing=missing, notes=tuple(d.get("stepwise_notes") or ()),
                versions=dict(d.get("versions") or {}))


def _golden_root() -> str:
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return os.path.join(here, "reference", "golden")



# ---------------------------------------------------------------------- qmboots (bootstrap replay)
_QMBOOTS_CODE = r"""
function(dataset, nfactors, nsteps, seed, forced, distribution) {
  set.seed(seed)
  t0 <- proc.time()[["elapsed"]]
  b <- suppressWarnings(qmethod::qmboots(dataset, nfactors = nfactors, nsteps = nsteps, load = "auto",
         rotation = "varimax", indet = "qindtest", fsi = TRUE, forced = forced, distribution = distribution,
         cor.method = "pearson"))
  secs <- proc.time()[["elapsed"]] - t0
  out <- list(resamples = unname(as.matrix(b$resamples)), fsi = unname(as.matrix(b$fsi)),
              target = unname(as.matrix(b$orig.res$loa)), seconds = secs,
              order_log = as.character(unlist(b$indet.tests[[2]][[1]])),
              zbn = as.matrix(b[["zscore-stats"]][[1]]))
  for (n in 1:nfactors) {
    r <- b$full.bts.res[[n]]
    out[[paste0("loa_", n)]] <- unname(as.matrix(r$loa))
    out[[paste0("flagged_", n)]] <- unname(1 * as.matrix(r$flagged))
    out[[paste0("zsc_", n)]] <- unname(as.matrix(r$zsc))
    out[[paste0("zstats_", n)]] <- as.matrix(b[["zscore-stats"]][[n + 1]])
    out[[paste0("loastats_", n)]] <- as.matrix(b$loa.stats[[n]])
  }
  out
}
"""


def run_qmboots(study: QStudy, nfactors: int, nsteps: int, *, seed: int = 1) -> dict:
    """Run R qmethod's ``qmboots`` (PCA + varimax, ``indet="qindtest"``, ``load="auto"``) after ``set.seed(seed)``.

    Returns a dict of numpy arrays: ``resamples`` (n_sorts x nsteps, 1-based, qmboots' ``$resamples``),
    ``loa``/``flagged``/``zsc`` (lists per factor of the ``full.bts.res`` step tables: sorts or statements x
    steps, NaN where a sort was not drawn), ``order_log`` (qindtest's order log per step), ``zbn`` (the
    bootstrapped factor scores), ``zstats``/``loastats`` (per factor ``{"rows", "columns", "values"}`` of
    ``zscore-stats`` and ``loa.stats``), ``fsi`` (k x 2), ``target`` (the full-sample loadings), ``seconds``
    (R's elapsed time for the whole qmboots call), ``versions``.
    """
    r = _require_r()
    ro = r.ro
    k = int(nfactors)
    fn = ro.r(_QMBOOTS_CODE)
    dataset = r.make_dataset(ro.IntVector(study.scores.ravel(order="F").tolist()), study.n_statements,
                             ro.StrVector(list(study.statement_ids)), ro.StrVector(list(study.sort_ids)))
    distribution = ro.NULL if study.forced else ro.IntVector(study.qscores.tolist())
    with RConsole():
        out = fn(dataset, k, int(nsteps), int(seed), ro.BoolVector([study.forced]), distribution)

    def num(v):
        with r.localconverter(ro.default_converter + r.numpy2ri.converter) as cv:
            return np.array(cv.rpy2py(v), dtype=np.float64)

    def table(v):
        return {"rows": list(_strings(ro.r["rownames"](v))), "columns": list(_strings(ro.r["colnames"](v))),
                "values": num(v)}

    res = {"resamples": num(out.rx2("resamples")).astype(np.int64), "fsi": num(out.rx2("fsi")),
           "target": num(out.rx2("target")), "seconds": float(out.rx2("seconds")[0]),
           "order_log": list(_strings(out.rx2("order_log"))), "zbn": table(out.rx2("zbn")),
           "versions": dict(r.versions)}
    for name in ("loa", "flagged", "zsc"):
        res[name] = [num(out.rx2(f"{name}_{n}")) for n in range(1, k + 1)]
    for name in ("zstats", "loastats"):
        res[name] = [table(out.rx2(f"{name}_{n}")) for n in range(1, k + 1)]
    return res
