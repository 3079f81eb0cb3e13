"""``qvalid analyze``: the full analysis, as a text report or the JSON contract (README "JSON"), optionally with
the factors aligned to a published loadings table and the tables written as CSV files."""

from __future__ import annotations

import argparse

from ..io import write_tables
from ..io.published import read_loadings
from ..pipeline import align_to, analyze
from ._args import (EXIT_OK, add_analysis_options, add_format_option, add_study_options, analysis_overrides, emit,
                    manual_flags_from_args, read_study_from_args, rotation_inputs_from_args)


def register(sub) -> None:
    p = sub.add_parser(
        "analyze", help="run the Q analysis",
        description="Run the Q analysis (correlation, extraction, rotation, flags, z-scores, factor arrays, "
                    "characteristics, distinguishing and consensus statements) and print the report or JSON.",
        epilog="examples:\n"
               "  qvalid analyze reference/data/lipset/lipset.csv -k 3\n"
               "  qvalid analyze study.csv -k 4 --extraction centroid --threshold 0.42 --output tables/\n"
               "  qvalid analyze study.csv -k 4 --align paper_loadings.csv --format json\n"
               "  qvalid analyze study.csv -k 3 --flags my_flags.csv\n"
               "  qvalid analyze study.csv -k 3 --rotation varimax --then rotations.txt\n"
               "  qvalid analyze study.csv -k 3 --rotation oblimin --rotation-gam 0.5",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    add_study_options(p)
    add_analysis_options(p)
    g = p.add_argument_group("output")
    add_format_option(g)
    g.add_argument("--align", metavar="TARGET.csv",
                   help="reorder and reflect the factors to match a loadings table (sort id column, factor columns "
                        "f1, f2, ...; e.g. a paper's): Hungarian matching on |Tucker congruence|, as crosscheck "
                        "--align")
    g.add_argument("--output", metavar="DIR",
                   help="also write loadings.csv, flags.csv, zscores.csv, arrays.csv, characteristics.csv, qdc.csv "
                        "into DIR (created if missing; written atomically; never over the input)")
    p.set_defaults(func=run)


def run(args) -> int:
    s = read_study_from_args(args)
    res = analyze(s, args.nfactors, flavor=args.flavor, flags=manual_flags_from_args(args, s),
                  **rotation_inputs_from_args(args, s), **analysis_overrides(args))
    if args.align is not None:
        ids, _, target = read_loadings(args.align, encoding=getattr(args, "encoding", None))
        res = align_to(res, target, sort_ids=ids, name=args.align)
    if args.output is not None:
        write_tables(res, args.output)
    emit(args, res.summary, res.to_dict)
    return EXIT_OK
