"""``qvalid report``: the main job. Analyse a study, bootstrap it, cross-check it against R qmethod and write one
self-contained HTML report (figures embedded) plus its JSON.

Exit codes: 0 report written; 1 report written but the cross-check found differences beyond tolerance; 2 invalid
input (nothing written). Without R the report is still written and says that the cross-check could not run.
"""

from __future__ import annotations

import argparse
import shlex
import sys

from ..errors import QInputError
from ._args import EXIT_DIFF, EXIT_OK, add_analysis_options, add_study_options, analysis_overrides, read_study_from_args


def register(sub) -> None:
    p = sub.add_parser(
        "report", help="analyse, bootstrap and cross-check a study; write one self-contained HTML report + JSON",
        description="The main job: the full Q analysis of FILE, a bootstrap of its factors (--bootstrap N), the "
                    "live cross-check against R qmethod (skipped with a note when R is missing) and one "
                    "self-contained HTML report with its figures embedded, plus the JSON (--json).",
        epilog="example (what `make demo` runs):\n"
               "  qvalid report reference/data/nav_synth/nav_synth.csv -k 4 --extraction centroid --threshold 0.42 \\\n"
               "      --statements reference/data/nav_synth/statements.csv --bootstrap 1000 --seed 1 \\\n"
               "      --out out/report.html --json out/report.json\n"
               "exit codes: 0 written, 1 written but the cross-check found differences, 2 invalid input",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    add_study_options(p)
    add_analysis_options(p)
    g = p.add_argument_group("report")
    g.add_argument("--statements", metavar="FILE",
                   help="CSV of statement wordings: statement id, then a text column (text, text_en or the 2nd)")
    g.add_argument("--text-column", metavar="NAME", help="the text column of --statements to use")
    g.add_argument("--bootstrap", type=int, default=0, metavar="N",
                   help="bootstrap the solution with N resamples of the Q-sorts (default: no bootstrap)")
    g.add_argument("--seed", type=int, default=0, help="seed of the bootstrap (default 0)")
    g.add_argument("--no-crosscheck", dest="crosscheck", action="store_false",
                   help="do not run the live cross-check against R qmethod")
    g.add_argument("--title", help="report title (default: from the study's name or file name)")
    g.add_argument("--out", default="report.html", metavar="HTML", help="the report (default: report.html)")
    g.add_argument("--json", metavar="FILE", help="also write the JSON (analyze contract + bootstrap + crosscheck)")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..io import attach_statement_texts, read_statement_texts
    from ..pipeline import analyze
    from ..report import Report, cross_check

    if args.bootstrap < 0:
        raise QInputError(f"--bootstrap {args.bootstrap}: the number of resamples must be >= 0")
    study = read_study_from_args(args)
    if args.statements:
        study = attach_statement_texts(study, read_statement_texts(args.statements, column=args.text_column),
                                       source=args.statements)
    overrides = analysis_overrides(args)
    say = _progress()
    result = analyze(study, args.nfactors, flavor=args.flavor, **overrides)
    say(f"analysed {study.n_statements} statements x {study.n_sorts} Q-sorts, {args.nfactors} factors")
    boot = None
    if args.bootstrap:
        boot = _bootstrap(study, args, overrides, say)
    diff, note = None, "switched off (--no-crosscheck)."
    if args.crosscheck:
        say("cross-checking against R qmethod")
        diff, note = cross_check(result)
        say("cross-check: " + (diff.summary_line() if diff is not None else note))
    rep = Report(result, bootstrap=boot, crosscheck=diff, crosscheck_note=note, command=command_line(args),
                 title=args.title, inputs=tuple(p for p in (args.statements,) if p))
    rep.write(args.out, args.json)
    print("cross-check: " + (diff.summary_line() if diff is not None else f"not run: {note}"))
    b = rep.bootstrap_summary()
    if b is not None:
        print(f"stability: {b['headline']} ({b['sub']})")
    print(f"wrote {args.out}" + (f" and {args.json}" if args.json else ""))
    return EXIT_DIFF if diff is not None and not diff.ok else EXIT_OK


def _bootstrap(study, args, overrides, say):
    try:
        from ..bootstrap import bootstrap
    except ImportError:
        raise QInputError("--bootstrap: this qvalid has no bootstrap module") from None
    say(f"bootstrap: {args.bootstrap} resamples of the Q-sorts (seed {args.seed})")
    return bootstrap(study, args.nfactors, args.bootstrap, seed=args.seed, flavor=args.flavor,
                     progress=sys.stderr.isatty(), **overrides)


def _progress():
    """Status lines on stderr when a person watches (stderr is a terminal), else nothing."""
    if not sys.stderr.isatty():
        return lambda msg: None
    return lambda msg: print(f"qvalid report: {msg}", file=sys.stderr)


#: Options written into the reproduce command, in this order: (dest, flag).
_VALUED = (("layout", "--layout"), ("grid", "--grid"), ("flavor", "--flavor"), ("extraction", "--extraction"),
           ("rotation", "--rotation"), ("cor_method", "--cor"), ("spc", "--spc"), ("threshold", "--threshold"),
           ("array_ties", "--array-ties"), ("statements", "--statements"), ("text_column", "--text-column"),
           ("bootstrap", "--bootstrap"), ("seed", "--seed"), ("title", "--title"), ("out", "--out"),
           ("json", "--json"))
_DEFAULTS = {"layout": "statements", "flavor": "qmethod", "bootstrap": 0}


def command_line(args) -> str:
    """The ``qvalid report`` command that reproduces ``args`` (options in a fixed order, defaults left out)."""
    words = ["qvalid", "report", args.file, "-k", str(args.nfactors)]
    if args.non_forced:
        words.append("--non-forced")
    if args.majority is False:
        words.append("--no-majority")
    for dest, flag in _VALUED:
        v = getattr(args, dest, None)
        if v is None or _DEFAULTS.get(dest) == v or (dest == "seed" and not args.bootstrap):
            continue
        words += [flag, f"{v:g}" if isinstance(v, float) else str(v)]
    if not args.crosscheck:
        words.append("--no-crosscheck")
    return shlex.join(words)
