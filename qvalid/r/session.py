"""The R session behind qvalid's R side: rpy2 imported and R started on first use, once, with qmethod, psych and
qvalid's R code (``qmethod_steps.R``, shared with ``reference/golden/make_golden.R``) loaded.

Importing this module never imports rpy2 or starts R. :func:`require_r` (cached) raises :class:`RNotAvailable`,
naming what to install, when rpy2, R or qmethod is missing; :class:`RConsole` captures R's console for the
duration of a call (modelled on dclab's ``AutoRConsole``).

Before rpy2 embeds R, :func:`probe_r` starts R in a subprocess (with a timeout, once per process): embedded R with
a broken ``R_HOME`` ends the whole Python process ("Fatal error: unable to open the base package"), and rpy2 prints
a line of its own when R is not on the PATH; the probe turns both, and a missing qmethod, into one
:class:`RNotAvailable` before either can happen.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from functools import lru_cache
from pathlib import Path
from types import SimpleNamespace

from ..errors import QInputError

__all__ = ["RNotAvailable", "RConsole", "QuietConsole", "require_r", "r_available", "r_versions", "INSTALL_HINT",
           "R_CODE", "probe_r", "PROBE_TIMEOUT"]

#: Seconds the subprocess probe may take to start R (a broken installation may hang instead of failing).
PROBE_TIMEOUT = 30.0
#: R packages the bridge needs.
R_PACKAGES = ("qmethod", "psych")

#: qvalid's R functions (one file, also sourced by reference/golden/make_golden.R).
R_CODE = Path(__file__).with_name("qmethod_steps.R")

#: What to install when R is missing (one line, also printed by ``qvalid crosscheck``).
INSTALL_HINT = ("install: apt-get install python3-rpy2 r-base-core r-cran-psych; "
                "in R: install.packages('qmethod')")


class RNotAvailable(QInputError):
    """rpy2, R or the R package qmethod cannot be used; the message says what to install."""

    def __init__(self, what: str):
        super().__init__(f"R qmethod is not available ({what}); {INSTALL_HINT}")
        self.what = what


@lru_cache(maxsize=1)
def require_r():
    """Import rpy2, start R, load qmethod and the bridge's R functions (once); raise :class:`RNotAvailable`."""
    try:
        import rpy2
    except Exception as err:  # ImportError
        raise RNotAvailable(f"rpy2 cannot be imported: {type(err).__name__}: {err}") from None
    why = probe_r()  # before anything of rpy2 looks for R (it prints, and embedded R may end the process)
    if why is not None:
        raise RNotAvailable(why)
    try:
        import rpy2.rinterface_lib.callbacks  # noqa: F401
    except Exception as err:  # an rpy2 built for another R (undefined symbol ...)
        raise RNotAvailable(f"rpy2 cannot be imported: {type(err).__name__}: {err}") from None
    try:
        with QuietConsole():
            import rpy2.robjects as ro
            from rpy2.robjects import numpy2ri
            from rpy2.robjects.conversion import localconverter
    except Exception as err:
        raise RNotAvailable(f"R cannot be started through rpy2: {type(err).__name__}: {err}") from None
    with QuietConsole():
        missing = [p for p in ("qmethod", "psych")
                   if not ro.r(f'requireNamespace("{p}", quietly = TRUE)')[0]]
    if missing:
        raise RNotAvailable(f"R package(s) {', '.join(missing)} not installed")
    with QuietConsole():
        fns = ro.r(R_CODE.read_text(encoding="utf-8"))
        ver = fns.rx2("versions")()
    versions = {name: str(ver.rx2(name)[0]) for name in ("R", "qmethod", "psych")}
    versions["rpy2"] = rpy2.__version__
    return SimpleNamespace(ro=ro, numpy2ri=numpy2ri, localconverter=localconverter, run=fns.rx2("run"),
                           make_dataset=fns.rx2("make_dataset"), qmboots=fns.rx2("qmboots"), saved=fns.rx2("saved"),
                           versions=versions)


def r_available() -> bool:
    """True when rpy2, R, psych and qmethod can be used (starts R on first call)."""
    try:
        require_r()
    except RNotAvailable:
        return False
    return True


def r_versions() -> dict:
    """``{"R": ..., "qmethod": ..., "psych": ..., "rpy2": ...}`` (starts R on first call)."""
    return dict(require_r().versions)


@lru_cache(maxsize=1)
def probe_r() -> str | None:
    """Why R cannot be embedded on this machine, or None when it can (found once per process, without rpy2).

    The R home is ``R_HOME`` or what ``R RHOME`` prints (as rpy2 finds it); R is then started there as a
    subprocess (``Rscript``, with the environment and profile files embedded R reads too; at most
    :data:`PROBE_TIMEOUT` seconds) and asked whether qmethod and psych are installed.
    """
    home = os.environ.get("R_HOME")
    if not home:
        exe = shutil.which("R")
        if exe is None:
            return "R is not on the PATH and R_HOME is not set"
        try:
            out = subprocess.run([exe, "RHOME"], capture_output=True, text=True, timeout=PROBE_TIMEOUT)
        except (OSError, subprocess.TimeoutExpired) as err:
            return f"'{exe} RHOME' failed: {err}"
        home = out.stdout.strip()
        if out.returncode != 0 or not home:
            return f"'{exe} RHOME' gave no R home"
    rscript = Path(home) / "bin" / "Rscript"
    if not rscript.is_file():
        return f"R_HOME={home} holds no R installation (no bin/Rscript)"
    code = "cat(" + ", ".join(f'nzchar(system.file(package = "{p}"))' for p in R_PACKAGES) + ")"
    try:
        out = subprocess.run([str(rscript), "-e", code], capture_output=True, text=True,
                             timeout=PROBE_TIMEOUT, env={**os.environ, "R_HOME": home})
    except subprocess.TimeoutExpired:
        return f"R at {home} did not start within {PROBE_TIMEOUT:g} s"
    except OSError as err:
        return f"R at {home} cannot be run: {err.strerror or err}"
    if out.returncode != 0:
        last = (out.stderr.strip().splitlines() or ["no message"])[-1]
        return f"R at {home} does not start: {last.strip()}"
    found = out.stdout.split()
    missing = [p for p, ok in zip(R_PACKAGES, found) if ok != "TRUE"] if len(found) == len(R_PACKAGES) else \
        list(R_PACKAGES)
    return f"R package(s) {', '.join(missing)} not installed" if missing else None


class QuietConsole:
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
        r = require_r()
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
