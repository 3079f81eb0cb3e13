"""``qvalid diff SNAPSHOT [RESULT]``: run what a snapshot records again (or read an R script's result) and say
what moved, output by output, and whether it changes anything a paper reports (docs/ci.md).

Exit codes: 0 the same (within tolerance); 1 differences beyond tolerance (``--fail-on reported``: only reported
ones); 2 invalid input, an unreadable or incompatible snapshot, or R missing for ``--against r``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..checks.compare import resolve_digits
from ..checks.diff import FLOAT_OUTPUTS, PRINT_DIGITS
from ..checks.snapshot import FAIL_ON, Side, diff_snapshot, file_sha256, load_snapshot
from ..errors import QInputError
from ..io import read_flags
from ..io.files import atomic_write, note_input, read_text, suffix
from ..r.saved import parse_export_qm, read_rds
from ._args import add_encoding_option, add_format_option, emit, plan_outputs, read_study_from_args
from .crosscheck import parse_tolerances

__all__ = ["register", "run", "read_r_result", "side_of", "parse_digits"]


def read_r_result(path, *, grid=None, encoding=None):
    """An R script's qmethod result: a ``saveRDS`` file (``.rds``, read through rpy2) or an ``export.qm`` text."""
    if suffix(path) == ".rds":
        note_input(path)  # R reads it, not qvalid.io: an input all the same (no output may replace it)
        return read_rds(path, grid=grid)
    return parse_export_qm(read_text(path, encoding), path=str(path), grid=grid)


def side_of(saved) -> Side:
    """A :class:`~qvalid.r.saved.SavedResult` as the R side of a snapshot."""
    return Side(saved.result, saved.source, missing=saved.missing, decimals=saved.decimals, file=str(saved.path),
                call=saved.rrun.call, route=saved.rrun.route, versions=dict(saved.rrun.versions),
                brief=dict(saved.options))


def parse_digits(values) -> dict | None:
    """``["loadings=3", "zscores=2"]`` -> ``{"loadings": 3, "zscores": 2}``; QInputError on bad text."""
    if not values:
        return None
    out = {}
    for text in values:
        key, sep, val = text.partition("=")
        try:
            out[key.strip()] = int(val)
        except ValueError:
            raise QInputError(f"--print-digits {text!r}: expected OUTPUT=DECIMALS, e.g. loadings=3") from None
        if not sep or not 0 <= out[key.strip()] <= 15:
            raise QInputError(f"--print-digits {text!r}: expected OUTPUT=DECIMALS with 0 to 15 decimals, e.g. "
                              "loadings=3")
    try:
        resolve_digits(out)
    except ValueError as err:
        raise QInputError(f"--print-digits: {err}") from None
    return out


def register(sub) -> None:
    p = sub.add_parser(
        "diff", help="run what a snapshot records again (or read an R result) and report what moved",
        description="Compare a snapshot (qvalid snapshot) with the same analysis now, output by output. Each "
                    "difference is classified: reported (it changes a flag, a factor-array cell, a star, a label, "
                    "the consensus set or a value as printed) or numerical only (below print precision). "
                    "With RESULT (an R script's saveRDS .rds file or export.qm text) that result is compared "
                    "instead of running anything.",
        epilog="examples:\n"
               "  qvalid diff analysis.qsnap.json\n"
               "  qvalid diff analysis.qsnap.json --against r --junit diff.xml --markdown diff.md\n"
               "  qvalid diff analysis.qsnap.json results/qm.rds      # guard an R script's saveRDS output\n"
               "  qvalid diff analysis.qsnap.json results/qm.txt      # ... or its export.qm text\n"
               "  qvalid diff analysis.qsnap.json --fail-on reported  # accept numerical-only drift\n"
               "print precisions (reported vs numerical only): "
               + ", ".join(f"{k} {v} dp" for k, v in PRINT_DIGITS.items()) + "\n"
               "exit codes: 0 same, 1 differs beyond tolerance (or reported, with --fail-on reported), "
               "2 invalid input or snapshot",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("snapshot", help="the snapshot file (*.qsnap.json)")
    p.add_argument("result", nargs="?",
                   help="an R qmethod result to compare instead of running the analysis: a saveRDS file (.rds, read "
                        "through rpy2) or the text export.qm(results, file) writes")
    g = p.add_argument_group("comparison")
    g.add_argument("--against", choices=("qvalid", "r", "both"),
                   help="which of the snapshot's sides to compare: qvalid (run qvalid again), r (run R qmethod "
                        "through rpy2, or RESULT), both (default: every side the snapshot records; with RESULT its "
                        "R side, else its qvalid side)")
    g.add_argument("--tolerance", action="append", metavar="[OUTPUT=]VALUE",
                   help="absolute tolerance: a number for every float output, or OUTPUT=VALUE (repeatable); "
                        "default 1e-10; outputs: " + ", ".join(FLOAT_OUTPUTS))
    g.add_argument("--print-digits", action="append", metavar="OUTPUT=DECIMALS",
                   help="the decimals an output is printed with, which decide reported vs numerical only "
                        "(repeatable; defaults in the epilog)")
    g.add_argument("--fail-on", choices=FAIL_ON, default="any",
                   help="exit 1 on any difference beyond tolerance (default) or only on reported ones")
    g.add_argument("--study", metavar="FILE",
                   help="read the study from FILE instead of the input file the snapshot names (same reading "
                        "options)")
    g.add_argument("--embedded", action="store_true",
                   help="analyse the study embedded in the snapshot; do not read the input file")
    add_encoding_option(g)
    o = p.add_argument_group("output")
    add_format_option(o, choices=("text", "json", "markdown"))
    o.add_argument("--junit", metavar="FILE", help="also write JUnit XML (one test case per output and side)")
    o.add_argument("--markdown", metavar="FILE", help="also write a markdown summary (for a pull-request comment)")
    o.add_argument("-v", "--verbose", action="store_true", help="text: every output of every side, not only "
                                                                "those that moved")
    p.set_defaults(func=run)


def run(args) -> int:
    snap = load_snapshot(args.snapshot)
    tolerances = parse_tolerances(args.tolerance)
    digits = parse_digits(args.print_digits)
    kw = {}
    grid = None if snap.study.forced else dict(snap.study.grid)
    if args.result is not None:
        kw["result"] = side_of(read_r_result(args.result, grid=grid, encoding=args.encoding))
    elif not args.embedded and (args.study or snap.input_path() is not None):
        path = Path(args.study) if args.study else snap.input_path()
        read = {"layout": "statements", "non_forced": False, "grid": None, **(snap.input.get("read") or {})}
        read.update(file=str(path), encoding=args.encoding or read.get("encoding"), command=args.command,
                    warnings=getattr(args, "warnings", None))
        ns = argparse.Namespace(**read)
        kw["study"] = read_study_from_args(ns)
        kw["input_sha256"] = file_sha256(path)
        flags_file = snap.input.get("flags_file")
        if flags_file:
            fp = Path(flags_file) if Path(flags_file).is_absolute() or snap.path is None else \
                snap.path.parent / flags_file
            kw["flags"] = read_flags(fp, kw["study"].sort_ids, snap.nfactors, encoding=ns.encoding)
    plan_outputs(args.junit, args.markdown)  # every input is read: refuse unsafe outputs before the comparison
    sd = diff_snapshot(snap, against=args.against, tolerances=tolerances, print_digits=digits or True,
                       fail_on=args.fail_on, **kw)
    files = {}
    if args.junit:
        files[Path(args.junit)] = sd.to_junit()
    if args.markdown:
        files[Path(args.markdown)] = sd.to_markdown() + "\n"
    if files:
        atomic_write(files)
    emit(args, lambda: sd.to_text(verbose=args.verbose), sd.to_dict, markdown=sd.to_markdown)
    return sd.exit_code
