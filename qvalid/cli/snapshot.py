"""``qvalid snapshot STUDY -k K [options] -o analysis.qsnap.json``: record an analysis (the input's hash and ids,
every option made explicit, the versions, every output of the JSON contract; optionally R qmethod's outputs) so
that ``qvalid diff`` can run it again later and say what moved (docs/ci.md)."""

from __future__ import annotations

import argparse
import os
import shlex
from pathlib import Path

from ..checks.snapshot import (SUFFIX, compare_studies, file_sha256, qvalid_side, r_side, snapshot_dict,
                               write_snapshot)
from ..errors import QInputError
from ..options import OPTION_INFO, resolve_options
from ..pipeline import analyze
from ._args import (EXIT_OK, OPTION_FLAGS, add_analysis_options, add_format_option, add_study_options,
                    analysis_overrides, emit, manual_flags_from_args, plan_outputs, read_study_from_args)
from .diff import read_r_result, side_of

__all__ = ["register", "run"]

#: The options an R result's brief records (qmethod's arguments).
R_BRIEF = ("extraction", "rotation", "cor_method", "spc")
#: How the study file was read (the study options; recorded so that ``qvalid diff`` reads it the same way), with
#: their command-line spellings.
READ_OPTIONS = {"format_in": "--format-in", "layout": "--layout", "id_column": "--id-column",
                "statements_column": "--statements-column", "non_forced": "--non-forced", "grid": "--grid",
                "text_column": "--text-column", "encoding": "--encoding"}


def register(sub) -> None:
    p = sub.add_parser(
        "snapshot", help="record an analysis (input, options, versions, every output) for qvalid diff",
        description="Analyse a study and write a snapshot: the input file's SHA-256 and ids, the study itself, "
                    "every option with its value made explicit, the versions, and every output of the JSON "
                    "contract; with --with-r also R qmethod's outputs (through rpy2), or with --r-result those of "
                    "an R script's saved result. qvalid diff runs it again later and reports what moved.",
        epilog="examples:\n"
               "  qvalid snapshot study.csv -k 3 -o analysis.qsnap.json\n"
               "  qvalid snapshot study.csv -k 4 --extraction centroid --threshold 0.42 --with-r -o analysis.qsnap.json\n"
               "  qvalid snapshot study.csv --r-result results/qm.rds -o analysis.qsnap.json  # options from the R "
               "result",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    add_study_options(p)
    add_analysis_options(p, nfactors=False)
    p.add_argument("-k", "--nfactors", type=int,
                   help="number of factors (required unless --r-result gives it)")
    g = p.add_argument_group("snapshot")
    g.add_argument("-o", "--output", metavar="FILE",
                   help=f"write the snapshot here (*{SUFFIX}, atomically); default: print it")
    r = g.add_mutually_exclusive_group()
    r.add_argument("--with-r", action="store_true",
                   help="also run R qmethod through rpy2 with the same options and record its outputs (needs R)")
    r.add_argument("--r-result", metavar="FILE",
                   help="record an R script's result as the R side: a saveRDS file (.rds, read through rpy2) or "
                        "the text export.qm writes; -k and qmethod's options default to the result's")
    g.add_argument("--r-only", action="store_true",
                   help="with --r-result: record only the R side (no qvalid analysis)")
    add_format_option(g)
    p.set_defaults(func=run)


def run(args) -> int:
    study = read_study_from_args(args)
    out = Path(args.output) if args.output else None
    if args.r_only and not args.r_result:
        raise QInputError("--r-only needs --r-result FILE")
    overrides = analysis_overrides(args)
    saved = None
    if args.r_result:
        saved = read_r_result(args.r_result, grid=None if study.forced else dict(study.grid),
                              encoding=getattr(args, "encoding", None))
        _agree(args, overrides, saved)
        same = compare_studies(study, saved.result.study)
        if not same.passed:
            raise QInputError(f"the R result's dataset is not the study: {same.note}"
                              + (f"; e.g. {same.worst.where}: {same.worst.a} vs {same.worst.b}" if same.worst else ""),
                              file=args.r_result)
        if args.nfactors is None:
            args.nfactors = saved.nfactors
    if args.nfactors is None:
        raise QInputError("give -k K (the number of factors)")
    flags = manual_flags_from_args(args, study)
    plan_outputs(out)  # every input is read (the study, an R result, a flags file): refuse unsafe outputs first
    if flags is None and saved is not None and saved.manual_flags:
        flags = saved.result.flags  # the R script flagged by hand: qvalid uses the same flags
    opts = resolve_options(args.flavor, **overrides)
    sides = {}
    if not args.r_only:
        sides["qvalid"] = qvalid_side(analyze(study, args.nfactors, flavor=args.flavor, flags=flags, **overrides))
    if args.with_r:
        sides["r"] = r_side(study, args.nfactors, opts, flags=flags)
    elif saved is not None:
        sides["r"] = side_of(saved)
    base = out.resolve().parent if out is not None else Path.cwd()
    flags_file = getattr(args, "flags_file", None)
    inp = {"file": _rel(args.file, base), "sha256": file_sha256(args.file),
           "read": {k: getattr(args, k, None) for k in READ_OPTIONS},
           "flags_file": _rel(flags_file, base) if flags_file else None,
           "flags_sha256": file_sha256(flags_file) if flags_file else None}
    d = snapshot_dict(study, args.nfactors, opts, sides, flags=flags, flavor=args.flavor, input=inp,
                      command=_command(args, overrides))
    if out is not None:
        write_snapshot(out, d)
    emit(args, lambda: _summary(out, d), d)
    return EXIT_OK


def _agree(args, overrides: dict, saved) -> None:
    """-k and qmethod's options default to the R result's; a different value given is refused."""
    if args.nfactors is not None and args.nfactors != saved.nfactors:
        raise QInputError(f"-k {args.nfactors}: the R result has {saved.nfactors} factor(s)", file=args.r_result)
    for name in R_BRIEF:
        v = saved.options.get(name)
        if v is None:
            continue
        given = overrides.get(name)
        if given is not None and OPTION_INFO[name].canonical(given) != v:
            raise QInputError(f"{OPTION_FLAGS[name][0]} {given}: the R result was made with {name}={v!r}",
                              file=args.r_result)
        overrides[name] = v


def _rel(path, base: Path) -> str:
    p = Path(path).resolve()
    try:
        return Path(os.path.relpath(p, base)).as_posix()
    except ValueError:  # another drive (Windows)
        return p.as_posix()


def _command(args, overrides: dict) -> str:
    """The command line that makes this snapshot again (what ``qvalid diff`` suggests to accept a change)."""
    parts = ["qvalid", "snapshot", args.file]
    for name, flag in READ_OPTIONS.items():
        val = getattr(args, name, None)
        if name == "layout" and val == "statements" or val in (None, False):
            continue
        parts += [flag] if val is True else [f"{flag}={val}"] if name == "grid" else [flag, str(val)]
    if not args.r_result:
        parts += ["-k", str(args.nfactors)]
    if args.flavor != "qmethod":
        parts += ["--flavor", args.flavor]
    for name, val in overrides.items():
        if args.r_result and name in R_BRIEF:
            continue
        flag = OPTION_FLAGS[name][0]
        if OPTION_INFO[name].kind is bool:
            parts.append(flag if val else "--no-" + flag[2:])
        else:  # every option given on the command line (the R result's are implied by --r-result)
            parts += [flag, str(val)]
    if getattr(args, "flags_file", None):
        parts += ["--flags", args.flags_file]
    if args.with_r:
        parts.append("--with-r")
    if args.r_result:
        parts += ["--r-result", args.r_result]
    if args.r_only:
        parts.append("--r-only")
    if args.output:
        parts += ["-o", args.output]
    return shlex.join(parts)


def _summary(out, d: dict) -> str:
    s, a = d["study"], d["analysis"]
    o = a["options"]
    lines = [("wrote " + str(out) if out is not None else "snapshot (not written: no -o)") + ": "
             f"{s['name'] or Path(d['input']['file']).name} ({len(s['statement_ids'])} statements x {len(s['sort_ids'])} "
             f"Q-sorts), {a['nfactors']} factor(s), {o['extraction']} + {o['rotation']}, {o['cor_method']}"
             + (", manual flags" if a["flags"] is not None else "")]
    for name, side in d["outputs"].items():
        src = {"qvalid": "qvalid's analysis", "rpy2": "R qmethod through rpy2", "rds": f"R result {side['file']}",
               "export.qm": f"R export.qm text {side['file']}"}.get(side["source"], side["source"])
        miss = f"; not available: {', '.join(side['missing'])}" if side["missing"] else ""
        lines.append(f"side {name}: {src}{miss}")
    lines.append("versions: " + ", ".join(f"{k} {str(v).removeprefix('R version ')}" for k, v in d["versions"].items()))
    lines.append(f"input: {d['input']['file']} (sha256 {d['input']['sha256'][:12]}...)")
    lines.append(f"compare later with: qvalid diff {out if out is not None else 'SNAPSHOT'}")
    return "\n".join(lines)
