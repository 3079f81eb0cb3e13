"""``qvalid crosscheck``: run qvalid and R qmethod (through rpy2) on the same study and compare every output.

Exit codes: 0 every compared output within tolerance, 1 some difference beyond tolerance, 2 invalid input or R,
qmethod or rpy2 missing (one line naming what to install). R is only loaded when the command runs.
"""

from __future__ import annotations

import argparse

from ..checks.compare import FLOAT_OUTPUTS, resolve_tolerances
from ..checks.crosscheck import crosscheck
from ..errors import QInputError
from ._args import (EXIT_DIFF, EXIT_OK, add_analysis_options, add_format_option, add_study_options,
                    analysis_overrides, emit, manual_flags_from_args, read_study_from_args,
                    rotation_inputs_from_args)


def parse_tolerances(values) -> dict | None:
    """``["1e-8"]`` -> ``{"*": 1e-8}``; ``["zscores=1e-8", "qdc=1e-9"]`` -> per output; QInputError on bad text."""

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
        resolve_tolerances(out)
    except ValueError as err:
        raise QInputError(f"--tolerance: {err}") from None
    return out


def run(args) -> int:
    """Run both, print the comparison, exit 0/1 (2 on bad input or missing R)."""

    tolerances = parse_tolerances(args.tolerance)
    study = read_study_from_args(args)
    diff, _ = crosscheck(study, args.nfactors, flavor=args.flavor, align=args.align, tolerances=tolerances,
                         flags=manual_flags_from_args(args, study), **rotation_inputs_from_args(args, study),
                         **analysis_overrides(args))
    emit(args, diff.to_text, diff.to_dict, markdown=diff.to_markdown)
    return EXIT_OK if diff.ok else EXIT_DIFF


def register(subparsers) -> None:
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
    add_analysis_options(c, steps=False)
    g = c.add_argument_group("comparison")
    add_format_option(g, choices=("text", "json", "markdown"))
    g.add_argument("--tolerance", action="append", metavar="[OUTPUT=]VALUE",
                   help="absolute tolerance: a number for every float output, or OUTPUT=VALUE (repeatable); "
                        "default 1e-10")
    g.add_argument("--align", action="store_true",
                   help="match factors first (Hungarian assignment on |Tucker congruence|, signs by congruence) "
                        "and report the permutation and sign flips")
    c.set_defaults(func=run)

