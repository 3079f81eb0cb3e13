"""What every ``qvalid`` subcommand shares: exit codes, the study and analysis option groups, and their parsing.

Only modules of :mod:`qvalid.cli` import this; the library never does (../shared/docs/architecture.md).
"""

from __future__ import annotations

import argparse

from ..errors import QInputError

__all__ = ["EXIT_OK", "EXIT_DIFF", "EXIT_INPUT", "add_study_options", "add_analysis_options", "parse_grid",
           "read_study_from_args", "analysis_overrides"]

EXIT_OK, EXIT_DIFF, EXIT_INPUT = 0, 1, 2


def add_study_options(p: argparse.ArgumentParser) -> None:
    """How to read a study file (same flags for every subcommand that reads one)."""
    g = p.add_argument_group("study file")
    g.add_argument("file", help="study file: CSV/TSV (statements as rows, Q-sorts as columns) or PQMethod .DAT")
    g.add_argument("--layout", choices=("statements", "sorts"), default="statements",
                   help="CSV orientation: 'statements' = qmethod's layout (default), 'sorts' = one Q-sort per row")
    g.add_argument("--non-forced", action="store_true",
                   help="sorts need not fill the grid exactly (then --grid gives the notional distribution)")
    g.add_argument("--grid", metavar="COUNTS",
                   help="grid as MIN:c1,c2,... e.g. -4:2,3,4,5,5,5,4,3,2 (default: taken from the first sort)")


def add_analysis_options(p: argparse.ArgumentParser) -> None:
    """Analysis options (same meaning in every subcommand that analyses a study)."""
    g = p.add_argument_group("analysis")
    g.add_argument("-k", "--nfactors", type=int, required=True, help="number of factors")
    g.add_argument("--flavor", default="qmethod", help="option preset (default: qmethod = R qmethod 1.8.4)")
    g.add_argument("--extraction", choices=("pca", "centroid"), help="default: the flavour's (qmethod: pca)")
    g.add_argument("--rotation", choices=("varimax", "none"))
    g.add_argument("--cor", dest="cor_method", choices=("pearson", "spearman", "kendall"))
    g.add_argument("--spc", type=float, help="centroid communality tolerance (qmethod default 1e-5)")
    g.add_argument("--threshold", type=float,
                   help="flag when |loading| >= X (and the majority rule) instead of |a| > 1.96/sqrt(n_statements)")
    g.add_argument("--no-majority", dest="majority", action="store_false", default=None,
                   help="drop the a^2 > h^2/2 condition from automatic flagging")
    g.add_argument("--array-ties", choices=("qmethod", "strict"),
                   help="factor-array ties: qmethod's rule (may break the grid) or strict (always the grid)")


def parse_grid(text: str | None) -> dict | None:
    if text is None:
        return None
    try:
        start, counts = text.split(":")
        cells = [int(c) for c in counts.split(",")]
        return {int(start) + i: c for i, c in enumerate(cells)}
    except ValueError:
        raise QInputError(f"--grid {text!r}: expected MIN:c1,c2,... e.g. -4:2,3,4,5,5,5,4,3,2") from None


def read_study_from_args(args):
    from ..io import read_study

    kw = {"forced": not args.non_forced, "grid": parse_grid(args.grid)}
    if args.file.lower().endswith((".csv", ".tsv", ".txt")):
        kw["layout"] = args.layout
    return read_study(args.file, **kw)


def analysis_overrides(args) -> dict:
    keys = ("extraction", "rotation", "cor_method", "spc", "threshold", "majority", "array_ties")
    return {k: getattr(args, k) for k in keys if getattr(args, k, None) is not None}
