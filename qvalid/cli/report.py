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
from ..factors.criteria import number_of_factors
from ..io import attach_statement_texts, read_statement_texts
from ..pipeline import analyze
from ..report import Report, cross_check
from ..stability import bootstrap
from ._args import (EXIT_DIFF, EXIT_OK, add_analysis_options, add_format_option, add_study_options,
                    analysis_overrides, emit, manual_flags_from_args, read_study_from_args,
                    rotation_inputs_from_args)


DESCRIPTION = ("The main job: the full Q analysis of FILE, the stability of its factors (a bootstrap, 1000 resamples "
               "by default; --no-bootstrap), the evidence on the number of factors (--no-factors to skip), the live "
               "cross-check against R qmethod (skipped with a note when R is missing) and one self-contained HTML "
               "report with its figures embedded, plus the JSON (--json).")
EPILOG = """example (what `make demo` runs):
  qvalid report reference/data/nav_synth/nav_synth.csv -k 4 --extraction centroid --centroid-ties strict \\
      --threshold 0.42 --seed 1 --out out/report.html --json out/report.json
exit codes: 0 written, 1 written but the cross-check found differences, 2 invalid input"""

#: Defaults of the report's stability and number-of-factors evidence (both on unless switched off).
BOOTSTRAP_RESAMPLES = 1000
FACTOR_RUNS = 500


def register(sub) -> None:
    p = sub.add_parser("report", description=DESCRIPTION, epilog=EPILOG,
                       help="analyse, bootstrap and cross-check a study; write one self-contained HTML report + JSON",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    add_study_options(p)
    add_analysis_options(p)
    g = p.add_argument_group("report")
    g.add_argument("--statements", metavar="FILE",
                   help="CSV of statement wordings: statement id, then a text column (text, text_en or the 2nd)")
    g.add_argument("--statements-text-column", metavar="NAME", help="the text column of --statements to use")
    g.add_argument("--bootstrap", type=int, default=BOOTSTRAP_RESAMPLES, metavar="N",
                   help=f"how stable the factors are: N resamples of the Q-sorts and N simulated samples "
                        f"(default {BOOTSTRAP_RESAMPLES})")
    g.add_argument("--no-bootstrap", dest="bootstrap", action="store_const", const=0,
                   help="no stability section (the report then cannot say how stable the factors are)")
    g.add_argument("--factors", type=int, default=FACTOR_RUNS, metavar="N",
                   help=f"weigh the number of factors (criteria for k = 1..7, parallel analyses with N random "
                        f"studies per null; default {FACTOR_RUNS})")
    g.add_argument("--no-factors", dest="factors", action="store_const", const=0,
                   help="no number-of-factors section")
    g.add_argument("--seed", type=int, default=0, help="seed of the bootstrap and the parallel analyses (default 0)")
    g.add_argument("--no-crosscheck", dest="crosscheck", action="store_false",
                   help="do not run the live cross-check against R qmethod")
    g.add_argument("--title", help="report title (default: from the study's name or file name)")
    g.add_argument("--out", default="report.html", metavar="HTML", help="the report (default: report.html)")
    g.add_argument("--json", metavar="FILE", help="also write the JSON (analyze contract + bootstrap + crosscheck)")
    add_format_option(p)
    p.set_defaults(func=run)


def run(args) -> int:
    for opt in ("bootstrap", "factors"):
        if getattr(args, opt) < 0:
            raise QInputError(f"--{opt} {getattr(args, opt)}: must be >= 0")
    study = read_study_from_args(args)
    if args.statements:
        texts = read_statement_texts(args.statements, column=args.statements_text_column, encoding=args.encoding)
        study = attach_statement_texts(study, texts, source=args.statements)
    overrides = analysis_overrides(args)
    flags = manual_flags_from_args(args, study)
    rot_inputs = rotation_inputs_from_args(args, study)
    watching = sys.stderr.isatty() and args.format != "json"  # a person watches: status lines, progress bar
    say = (lambda msg: print(f"qvalid report: {msg}", file=sys.stderr)) if watching else (lambda msg: None)
    result = analyze(study, args.nfactors, flavor=args.flavor, flags=flags, **rot_inputs, **overrides)
    say(f"analysed {study.n_statements} statements x {study.n_sorts} Q-sorts, {args.nfactors} factors")
    boot = None
    if args.bootstrap:
        boot = _bootstrap(study, args, overrides, flags, say, watching, rot_inputs)
    factors = None
    if args.factors:
        say(f"number of factors: {args.factors} random studies per null (seed {args.seed})")
        factors = number_of_factors(study, nfactors=args.nfactors, n_runs=args.factors, seed=args.seed,
                                    flavor=args.flavor, progress=watching, **overrides)
    diff, note = None, "switched off (--no-crosscheck)."
    if args.crosscheck:
        say("cross-checking against R qmethod")
        diff, note = cross_check(result)
        say("cross-check: " + (diff.summary_line() if diff is not None else note))
    rep = Report(result, bootstrap=boot, crosscheck=diff, crosscheck_note=note, factors=factors,
                 command=command_line(args),
                 title=args.title, inputs=tuple(p for p in (args.statements, args.flags_file) if p))
    rep.write(args.out, args.json)
    b = rep.bootstrap_summary()
    lines = ["cross-check: " + (diff.summary_line() if diff is not None else f"not run: {note}"),
             *([f"stability: {b['headline']} ({b['sub']})"] if b is not None else []),
             f"wrote {args.out}" + (f" and {args.json}" if args.json else "")]
    emit(args, "\n".join(lines), lambda: {"html": args.out, "json": args.json, "crosscheck": rep.crosscheck_summary(),
                                          "bootstrap": b, "command": rep.command})
    return EXIT_DIFF if diff is not None and not diff.ok else EXIT_OK


def _bootstrap(study, args, overrides, flags, say, progress, rot_inputs):
    """With judgmental steps the replicates are turned onto the hand-rotated solution (Procrustes alignment; the
    steps are not replayed, :func:`qvalid.bootstrap`); a target rotation is not bootstrapped (refused there)."""
    say(f"bootstrap: {args.bootstrap} resamples of the Q-sorts (seed {args.seed})")
    then = rot_inputs.get("then", ())
    return bootstrap(study, args.nfactors, args.bootstrap, seed=args.seed, flavor=args.flavor, manual_flags=flags,
                     progress=progress, then=then, align="procrustes" if then else "hungarian", **overrides)


def command_line(args) -> str:
    """The ``qvalid report`` command that reproduces ``args``: every argument of the subcommand's parser whose value
    is not its default, in the parser's order (so options added to the shared groups are included)."""

    sub = argparse.ArgumentParser(prog="qvalid").add_subparsers()
    register(sub)
    sub = sub.choices["report"]
    words = ["qvalid", "report"]
    consts = {a.dest: a.const for a in sub._actions if isinstance(a, argparse._StoreConstAction)}
    for a in sub._actions:
        if isinstance(a, argparse._HelpAction):
            continue
        v = getattr(args, a.dest, a.default)
        if isinstance(a, argparse._StoreConstAction):  # --no-bootstrap / --no-factors: only when chosen
            if v == a.const and v != a.default:
                words.append(a.option_strings[0])
            continue
        if a.dest in consts and v == consts[a.dest]:  # said by its --no-... switch
            continue
        if not a.option_strings:  # the study file
            words.append(str(v))
        elif v is not None and v != a.default:
            flag = a.option_strings[0]
            if isinstance(a, argparse.BooleanOptionalAction):  # --majority / --no-majority
                words.append(a.option_strings[0] if v else a.option_strings[1])
            elif a.nargs == 0:  # store_true / store_false
                words.append(flag)
            else:
                text = str(v)
                words += [f"{flag}={text}"] if text.startswith("-") else [flag, text]
    return shlex.join(words)
