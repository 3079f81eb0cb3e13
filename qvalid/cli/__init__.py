"""The ``qvalid`` command line: one module per subcommand, each with ``register(subparsers)`` and ``run(args)``.

A subcommand module parses its options, calls one public library function and renders the result; the library
never imports this package (../shared/docs/architecture.md). Shared option groups and exit codes:
:mod:`qvalid.cli._args`.

Exit codes: 0 ok; 1 differences beyond tolerance (crosscheck, diff); 2 invalid input or usage (one line on stderr,
never a traceback); 141 the reader closed standard output early (``qvalid analyze ... | head``): the command stops
quietly, as a program killed by SIGPIPE would (the shell reports 141 = 128 + 13 for those too).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from .._version import __version__
from ..errors import QInputError
from ._args import EXIT_DIFF, EXIT_INPUT, EXIT_OK, EXIT_PIPE

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
        epilog="Exit codes: 0 ok, 1 differences beyond tolerance (crosscheck, diff), 2 invalid input, "
               "141 output pipe closed early (e.g. | head). Every command takes --format text|json.")
    p.add_argument("--version", action="version", version=f"qvalid {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMANDS:
        importlib.import_module(f"{__name__}.{name}").register(sub)
    return p


def _join_negative_values(argv: list) -> list:
    """``--grid -4:2,3,...``: argparse would read ``-4:...`` as an option; join it as ``--grid=-4:...``."""
    out, i = [], 0
    while i < len(argv):
        if argv[i] == "--grid" and i + 1 < len(argv) and argv[i + 1][:1] == "-" and ":" in argv[i + 1]:
            out.append(f"--grid={argv[i + 1]}")
            i += 2
        else:
            out.append(argv[i])
            i += 1
    return out


def main(argv=None) -> int:
    """Run one subcommand; return its exit code (never raises for bad input or a closed output pipe)."""
    parser = make_parser()
    args = parser.parse_args(_join_negative_values(list(sys.argv[1:] if argv is None else argv)))
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_INPUT
    args.warnings = []  # what the command wants said besides its output (cli._args.warn): printed on success
    try:
        code = args.func(args)
        sys.stdout.flush()  # inside the try: a closed pipe must surface here, not at interpreter exit
        for text in args.warnings:
            print(f"qvalid {args.command}: warning: {text}", file=sys.stderr)
        return code
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_PIPE
    except (QInputError, UnicodeError) as err:
        return _fail(args, str(err))
    except OSError as err:
        return _fail(args, f"{err.filename or ''}: {err.strerror or err}")


def _fail(args, message: str) -> int:
    print(f"qvalid {args.command}: error: {' '.join(message.split())}", file=sys.stderr)
    return EXIT_INPUT


def _silence_stdout() -> None:
    """After EPIPE, point stdout at devnull so Python's final flush cannot fail again (the recipe of the Python
    docs, "Note on SIGPIPE" in the signal module)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # stdout is not a file (e.g. captured by a test)
        pass
