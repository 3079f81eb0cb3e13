"""The ``qvalid`` command line: argparse subcommands that each call one public function and render it.

Exit codes: 0 ok; 1 differences beyond tolerance (crosscheck); 2 invalid input or usage (one line on stderr,
never a traceback).
"""

from __future__ import annotations

import argparse
import sys

from ._version import __version__
from .errors import QInputError

__all__ = ["main", "make_parser"]

EXIT_OK, EXIT_DIFF, EXIT_INPUT = 0, 1, 2


# ---------------------------------------------------------------------- shared option groups
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
    """Analysis options (same meaning in analyze and crosscheck)."""
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
    from .io import read_study

    kw = {"forced": not args.non_forced, "grid": parse_grid(args.grid)}
    if args.file.lower().endswith((".csv", ".tsv", ".txt")):
        kw["layout"] = args.layout
    return read_study(args.file, **kw)


def analysis_overrides(args) -> dict:
    keys = ("extraction", "rotation", "cor_method", "spc", "threshold", "majority", "array_ties")
    return {k: getattr(args, k) for k in keys if getattr(args, k, None) is not None}


# ---------------------------------------------------------------------- subcommands
def cmd_validate(args) -> int:
    """Read and validate a study; print its shape and grid."""
    from .study import grid_text

    s = read_study_from_args(args)
    print(f"{args.file}: OK: {s.name + ': ' if s.name else ''}{s.n_statements} statements x {s.n_sorts} Q-sorts, "
          f"{'forced' if s.forced else 'non-forced'} grid {grid_text(s.grid)}")
    print(f"sorts: {' '.join(s.sort_ids)}")
    return EXIT_OK


def cmd_analyze(args) -> int:
    """Full analysis; text report or the JSON contract."""
    from .pipeline import analyze

    s = read_study_from_args(args)
    res = analyze(s, args.nfactors, flavor=args.flavor, **analysis_overrides(args))
    print(res.to_json(indent=None) if args.format == "json" else res.summary())
    return EXIT_OK


def cmd_flag(args) -> int:
    """Flag a published loadings table: which sorts define which factor, and the counts."""
    from .flag import flag
    from .published import read_loadings

    ids, factors, a = read_loadings(args.file)
    if args.threshold is None and args.n_statements is None:
        raise QInputError("give --threshold X, or --n-statements N for the 1.96/sqrt(N) rule", file=args.file)
    fl = flag(a, args.n_statements or 1, z=args.z, threshold=args.threshold, majority=args.majority)
    rule = (f"|a| >= {args.threshold}" if args.threshold is not None
            else f"|a| > {args.z}/sqrt({args.n_statements}) = {args.z / args.n_statements ** 0.5:.5f}")
    rule += " and a^2 > h^2 - a^2" if args.majority else ""
    print(f"{args.file}: {len(ids)} sorts x {len(factors)} factors; rule: {rule}")
    for j, f in enumerate(factors):
        who = [f"{ids[i]}{'(-)' if a[i, j] < 0 else ''}" for i in range(len(ids)) if fl[i, j]]
        print(f"{f}: {len(who):3d}  {' '.join(who)}")
    n_any = int(fl.any(axis=1).sum())
    conf = [ids[i] for i in range(len(ids)) if fl[i].sum() > 1]
    print(f"flagged: {n_any} of {len(ids)} sorts; counts per factor: {'/'.join(str(int(c)) for c in fl.sum(axis=0))}"
          + (f"; on several factors: {' '.join(conf)}" if conf else ""))
    print("not flagged: " + (" ".join(ids[i] for i in range(len(ids)) if not fl[i].any()) or "none"))
    return EXIT_OK


def make_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="qvalid", description="Q-methodology analysis that reproduces R qmethod, with a live cross-check.",
        epilog="Exit codes: 0 ok, 1 differences beyond tolerance (crosscheck), 2 invalid input.")
    p.add_argument("--version", action="version", version=f"qvalid {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    v = sub.add_parser("validate", help="check a study file and summarise it",
                       epilog="example: qvalid validate reference/data/lipset/lipset.csv")
    add_study_options(v)
    v.set_defaults(func=cmd_validate)

    a = sub.add_parser("analyze", help="run the Q analysis",
                       epilog="example: qvalid analyze reference/data/lipset/lipset.csv -k 3 --format json")
    add_study_options(a)
    add_analysis_options(a)
    a.add_argument("--format", choices=("text", "json"), default="text")
    a.set_defaults(func=cmd_analyze)

    f = sub.add_parser("flag", help="flag defining sorts in a published loadings table",
                       epilog="example: qvalid flag reference/data/nav_aap_2023/loadings_published.csv --threshold 0.42")
    f.add_argument("file", help="CSV: a sort id column then one column per factor (extra non-numeric columns ignored)")
    f.add_argument("--threshold", type=float, help="flag when |a| >= X")
    f.add_argument("--n-statements", type=int, help="use the |a| > z/sqrt(N) significance rule with N statements")
    f.add_argument("--z", type=float, default=1.96, help="z for the significance rule (default 1.96)")
    f.add_argument("--no-majority", dest="majority", action="store_false",
                   help="drop the a^2 > h^2 - a^2 condition")
    f.set_defaults(func=cmd_flag)

    from .crosscheck import add_crosscheck_parser  # its own module; R is only loaded when the command runs

    add_crosscheck_parser(sub)
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


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
