"""``qvalid analyze``: the full analysis, as a text report or the JSON contract."""

from __future__ import annotations

from ._args import EXIT_OK, add_analysis_options, add_study_options, analysis_overrides, read_study_from_args


def register(sub) -> None:
    p = sub.add_parser("analyze", help="run the Q analysis",
                       epilog="example: qvalid analyze reference/data/lipset/lipset.csv -k 3 --format json")
    add_study_options(p)
    add_analysis_options(p)
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..pipeline import analyze

    s = read_study_from_args(args)
    res = analyze(s, args.nfactors, flavor=args.flavor, **analysis_overrides(args))
    print(res.to_json(indent=None) if args.format == "json" else res.summary())
    return EXIT_OK
