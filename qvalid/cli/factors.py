"""``qvalid factors``: evidence for the number of factors (criteria per k, grid-aware parallel analysis, MAP,
sensitivity between k - 1, k and k + 1), as text or JSON, with an optional scree plot PNG."""

from __future__ import annotations

import io
import sys

from ..errors import QInputError
from ..factors.criteria import number_of_factors
from ..io.files import atomic_write, refuse_source
from ._args import (EXIT_OK, add_analysis_options, add_format_option, add_study_options, analysis_overrides, emit,
                    read_study_from_args)


def register(sub) -> None:
    p = sub.add_parser(
        "factors", help="how many factors? criteria per k, parallel analysis on the study's grid, sensitivity",
        description="For k = 1..K side by side: Kaiser-Guttman, Humphrey's rule, >= 2 significant loadings, "
                    "% variance, defining sorts per factor, Horst's stopping rule, Horn's parallel analysis on "
                    "random sorts that fill the study's grid (and on normal noise), Velicer's MAP, and how the "
                    "solution changes from k to k + 1.",
        epilog="example: qvalid factors reference/data/lipset/lipset.csv --max-k 5 --plot scree.png")
    add_study_options(p)
    add_analysis_options(p, nfactors=False, flags=False, steps=False, target=False)
    g = p.add_argument_group("number of factors")
    g.add_argument("-k", "--nfactors", type=int,
                   help="the solution in question, highlighted and compared with k - 1 and k + 1 (default: the k "
                        "of the grid-aware parallel analysis)")
    g.add_argument("--max-k", type=int, help="largest k examined (default min(7, n_sorts - 2))")
    g.add_argument("--runs", type=int, default=2000, help="random studies per null distribution (default 2000)")
    g.add_argument("--centile", type=float, default=95.0, help="centile of the nulls to exceed (default 95)")
    g.add_argument("--seed", type=int, default=0, help="seed of every random draw (default 0)")
    g.add_argument("--bootstrap", type=int, default=0, metavar="N",
                   help="also bootstrap every k with N resamples (default: off)")
    g.add_argument("--plot", metavar="PNG", help="write the scree plot with the parallel-analysis band here")
    add_format_option(p)
    p.set_defaults(func=run)


def run(args) -> int:
    if args.runs < 1:
        raise QInputError(f"--runs {args.runs}: must be at least 1")
    if args.plot and not args.plot.lower().endswith(".png"):
        raise QInputError(f"--plot {args.plot}: the scree plot is written as PNG; name the file *.png")
    study = read_study_from_args(args)
    if args.plot:
        refuse_source(study, args.plot)
    progress = args.format != "json" and sys.stderr.isatty()
    fr = number_of_factors(study, args.max_k, nfactors=args.nfactors, n_runs=args.runs, centile=args.centile,
                           seed=args.seed, flavor=args.flavor, bootstrap=args.bootstrap, progress=progress,
                           **analysis_overrides(args))
    if args.plot:
        buf = io.BytesIO()
        fr.scree_figure().savefig(buf, format="png")
        atomic_write({args.plot: buf.getvalue()})
    emit(args, fr.summary, fr.to_dict)
    return EXIT_OK
