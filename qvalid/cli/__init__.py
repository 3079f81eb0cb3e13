"""The ``qvalid`` command line: one module per subcommand, each with ``register(subparsers)`` and ``run(args)``.

A subcommand module parses its options, calls one public library function and renders the result; the library
never imports this package (../shared/docs/architecture.md). Shared option groups and exit codes:
:mod:`qvalid.cli._args`.

Exit codes: 0 ok; 1 differences beyond tolerance (crosscheck, diff); 2 invalid input or usage (one line on stderr,
never a traceback); 130 / 143 interrupted by SIGINT (Ctrl-C) / SIGTERM (one line, temporary files removed, worker
processes stopped: :mod:`qvalid.cli._interrupt`); 141 the reader closed standard output early (``qvalid analyze ...
| head``): the command stops quietly, as a program killed by SIGPIPE would (the shell reports 141 = 128 + 13 for
those too).

Every command runs inside :func:`qvalid.io.files.guard_inputs`: no file it reads can be one it writes.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import os
import re
import signal
import sys

from .._version import __version__
from ..errors import QInputError
from ..io.files import guard_inputs
from ._args import EXIT_DIFF, EXIT_INPUT, EXIT_OK, EXIT_PIPE
from ._interrupt import Interrupted, Interruptible, end_process

__all__ = ["main", "make_parser", "SUBCOMMANDS", "EXIT_OK", "EXIT_DIFF", "EXIT_INPUT", "EXIT_PIPE"]

#: Subcommand modules of this package, in the order ``qvalid --help`` lists them.
SUBCOMMANDS = ("validate", "analyze", "flag", "crosscheck", "compare", "verify", "simulate", "bootstrap", "factors",
               "report", "snapshot", "diff")


class _Parser(argparse.ArgumentParser):
    """argparse with one-line usage errors (exit 2), like every other qvalid error; subparsers inherit it."""

    def error(self, message):
        self.exit(EXIT_INPUT, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def make_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="qvalid", description="Q-methodology analysis that reproduces R qmethod, with a live cross-check.",
        epilog="Exit codes: 0 ok, 1 differences beyond tolerance (crosscheck, diff), 2 invalid input, 130/143 "
               "interrupted (SIGINT/SIGTERM), 141 output pipe closed early (e.g. | head). Every command takes "
               "--format text|json.")
    p.add_argument("--version", action="version", version=f"qvalid {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMANDS:
        importlib.import_module(f"{__name__}.{name}").register(sub)
    return p


@functools.lru_cache(maxsize=1)
def _parser() -> argparse.ArgumentParser:
    """The parser, built once per process (building it takes ~30 ms; a program may call :func:`main` often)."""
    return make_parser()


#: A value that starts with a minus and holds a list (``-4:2,3,...``, ``-0.3,0.2``): argparse would read it as an
#: option (it takes a single negative number such as ``-1`` as a value by itself).
_NEGATIVE_LIST = re.compile(r"-\.?\d[\d.eE+-]*[,:][\d.,:eE+-]*")


def _join_negative_values(argv: list) -> list:
    """``--grid -4:2,3,...``, ``--correlations -0.3,0.2,...``: join them as ``--grid=-4:...`` for argparse."""
    out, i = [], 0
    while i < len(argv):
        if (str(argv[i]).startswith("--") and "=" not in str(argv[i]) and i + 1 < len(argv)
                and _NEGATIVE_LIST.fullmatch(str(argv[i + 1]))):
            out.append(f"{argv[i]}={argv[i + 1]}")
            i += 2
        else:
            out.append(argv[i])
            i += 1
    return out


def main(argv=None) -> int:
    """Run one subcommand; return its exit code (never raises for bad input or a closed output pipe)."""
    parser = _parser()
    try:
        args = parser.parse_args(_join_negative_values(list(sys.argv[1:] if argv is None else argv)))
    except SystemExit as ex:  # a usage error (its one line is printed) is exit 2; --help and --version end here
        if ex.code in (0, None):
            raise
        return ex.code
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_INPUT
    args.warnings = []  # what the command wants said besides its output (cli._args.warn): printed on success
    guard = Interruptible(lambda signum: _line(args, f"interrupted ({_signal_name(signum)})"))
    try:
        with guard, guard_inputs():
            code = args.func(args)
            sys.stdout.flush()  # inside the try: a closed pipe must surface here, not at interpreter exit
        for text in args.warnings:
            print(f"qvalid {args.command}: warning: {text}", file=sys.stderr)
        return code
    except KeyboardInterrupt as err:  # Interrupted (SIGINT/SIGTERM), or a Ctrl-C before the handlers were in place
        guard.finished()
        signum = err.signum if isinstance(err, Interrupted) else signal.SIGINT
        print(_line(args, f"interrupted ({_signal_name(signum)})"), file=sys.stderr)
        if argv is None:  # a program run: end now (the interpreter's exit would wait for worker queues)
            end_process(128 + signum)
        return 128 + signum
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_PIPE
    except (QInputError, UnicodeError) as err:
        return _fail(args, str(err))
    except OSError as err:
        return _fail(args, f"{err.filename or ''}: {err.strerror or err}")


def _fail(args, message: str) -> int:
    print(_line(args, f"error: {' '.join(message.split())}"), file=sys.stderr)
    return EXIT_INPUT


def _line(args, text: str) -> str:
    return f"qvalid {args.command}: {text}"


def _signal_name(signum: int) -> str:
    return signal.Signals(signum).name


def _silence_stdout() -> None:
    """After EPIPE, point stdout at devnull so Python's final flush cannot fail again (the recipe of the Python
    docs, "Note on SIGPIPE" in the signal module)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # stdout is not a file (e.g. captured by a test)
        pass
