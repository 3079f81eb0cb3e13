"""The ``qvalid`` command line: one module per subcommand, each with ``register(subparsers)`` and ``run(args)``.

A subcommand module parses its options, calls one public library function and renders the result; the library
never imports this package (../shared/docs/architecture.md). Shared option groups and exit codes:
:mod:`qvalid.cli._args`.

Exit codes: 0 ok; 1 differences beyond tolerance (crosscheck); 2 invalid input or usage (one line on stderr,
never a traceback).
"""

from __future__ import annotations

import argparse
import importlib
import sys

from .._version import __version__
from ..errors import QInputError
from ._args import EXIT_DIFF, EXIT_INPUT, EXIT_OK

__all__ = ["main", "make_parser", "SUBCOMMANDS", "EXIT_OK", "EXIT_DIFF", "EXIT_INPUT"]

#: Subcommand modules of this package, in the order ``qvalid --help`` lists them.
SUBCOMMANDS = ("validate", "analyze", "flag", "crosscheck")


def make_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="qvalid", description="Q-methodology analysis that reproduces R qmethod, with a live cross-check.",
        epilog="Exit codes: 0 ok, 1 differences beyond tolerance (crosscheck), 2 invalid input.")
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
    parser = make_parser()
    args = parser.parse_args(_join_negative_values(list(sys.argv[1:] if argv is None else argv)))
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_INPUT
    try:
        return args.func(args)
    except QInputError as err:
        print(f"qvalid {args.command}: error: {err}", file=sys.stderr)
        return EXIT_INPUT
    except OSError as err:
        print(f"qvalid {args.command}: error: {err.filename or ''}: {err.strerror or err}", file=sys.stderr)
        return EXIT_INPUT
