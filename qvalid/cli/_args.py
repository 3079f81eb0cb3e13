"""What every ``qvalid`` subcommand shares: exit codes, option groups, reading the study, writing the output.

- :func:`add_study_options` / :func:`read_study_from_args`: the study file (layout, grid, encoding, text column);
  a study that fails in one orientation but validates in the other gets "did you mean --layout sorts?".
- :func:`add_analysis_options` / :func:`analysis_overrides`: ``-k``, ``--flavor`` (choices from
  :data:`qvalid.options.FLAVORS`) and one flag per :class:`qvalid.options.Options` field, generated from the
  dataclass fields, :data:`qvalid.options.OPTION_INFO` (values and aliases) and the Options docstring, so a new field is on the command
  line without touching this module; ``--flags FILE`` (manual flags, :func:`manual_flags_from_args`).
- :func:`add_format_option` / :func:`emit`: ``--format text|json`` and the one place that prints a command's output.

Only modules of :mod:`qvalid.cli` import this; the library never does (../shared/docs/architecture.md).
"""

from __future__ import annotations

import argparse
import json
import re
from dataclasses import fields

import sys

from ..errors import QInputError
from ..io import FORMATS, read_flags, read_study, sniff_format
from ..io.rotations import read_rotation_steps, read_target
from ..options import FLAVORS, OPTION_INFO, Options

__all__ = ["EXIT_OK", "EXIT_DIFF", "EXIT_INPUT", "EXIT_PIPE", "add_study_options", "add_analysis_options",
           "add_format_option", "emit", "parse_grid", "read_study_from_args", "analysis_overrides",
           "manual_flags_from_args", "add_encoding_option", "OPTION_FLAGS", "warn",
           "rotation_inputs_from_args"]

#: Exit codes: ok; differences beyond tolerance (crosscheck); invalid input or usage; stdout closed by the reader
#: (``qvalid analyze ... | head``: 128 + SIGPIPE, what a shell reports for a program killed by a closed pipe).
EXIT_OK, EXIT_DIFF, EXIT_INPUT, EXIT_PIPE = 0, 1, 2, 141

#: Command-line spellings that differ from ``--field-name`` (the first is shown in help).
_SPELLINGS = {"cor_method": ("--cor", "--cor-method")}


def _option_flags(name: str) -> tuple:
    return _SPELLINGS.get(name, ("--" + name.replace("_", "-"),))


#: Options field -> its command-line flag(s), e.g. ``{"varimax_eps": ("--varimax-eps",), ...}``.
OPTION_FLAGS = {f.name: _option_flags(f.name) for f in fields(Options)}


# ---------------------------------------------------------------------------------------------------- study
def add_study_options(p: argparse.ArgumentParser, *, file: str | None = "file") -> None:
    """How to read a study file (same flags for every subcommand that reads one). ``file``: the name of the
    positional argument, or None when the command takes the study as ``--study FILE`` (``qvalid compare``)."""
    g = p.add_argument_group("study file")
    what = ("study file: CSV/TSV (statements as rows, Q-sorts as columns, or one Q-sort per row with --layout sorts), "
            "PQMethod .DAT, a spreadsheet .xlsx/.xls/.ods (first sheet as a CSV; KADE/Ken-Q input and result "
            "workbooks), an HTMLQ/FlashQ CSV export, easy-htmlq/EQ Web Sort JSON or EQ Web Sort CSV (docs/inputs.md)")
    if file is None:
        g.add_argument("--study", metavar="FILE", help=what)
    else:
        g.add_argument(file, help=what)
    g.add_argument("--format-in", choices=tuple(FORMATS), metavar="{" + ",".join(FORMATS) + "}",
                   help="the study file's format (default: sniffed from its content and extension)")
    g.add_argument("--layout", choices=("statements", "sorts"), default="statements",
                   help="CSV orientation: 'statements' = qmethod's layout (default), 'sorts' = one Q-sort per row")
    g.add_argument("--id-column", metavar="NAME",
                   help="the column of row ids (statement ids; Q-sort names with --layout sorts, HTMLQ, EQ Web Sort "
                        "fields): a header name or a 0-based index (default: found by itself; numeric participant "
                        "ids beside the scores need it)")
    g.add_argument("--statements-column", metavar="COLS",
                   help="with one Q-sort per row: the columns of the statements' scores, e.g. 's1..s40' or "
                        "'S1,S2,S3' (header names, ranges FIRST..LAST; the other columns are reported as unused)")
    g.add_argument("--non-forced", action="store_true",
                   help="sorts need not fill the grid exactly (then --grid gives the notional distribution)")
    g.add_argument("--grid", metavar="COUNTS",
                   help="grid as MIN:c1,c2,... e.g. -4:2,3,4,5,5,5,4,3,2 (default: taken from the first sort)")
    g.add_argument("--text-column", metavar="NAME",
                   help="CSV column of statement texts (default: the one non-numeric column besides the ids)")
    add_encoding_option(g)


def add_encoding_option(g) -> None:
    g.add_argument("--encoding", metavar="NAME",
                   help="text encoding of the input file(s), e.g. cp1252 or latin-1 (default: UTF-8; a UTF-16 "
                        "file with a byte-order mark is recognised)")


def parse_grid(text: str | None) -> dict | None:
    if text is None:
        return None
    try:
        start, counts = text.split(":")
        cells = [int(c) for c in counts.split(",")]
        return {int(start) + i: c for i, c in enumerate(cells)}
    except ValueError:
        raise QInputError(f"--grid {text!r}: expected MIN:c1,c2,... e.g. -4:2,3,4,5,5,5,4,3,2") from None


_LAYOUT_TEXT = {"statements": "statements as rows", "sorts": "one Q-sort per row"}


def read_study_from_args(args, path=None):
    """The study of ``args.file`` (or ``path``), read with the study options; what the reader reports without
    refusing (``QStudy.notes``: e.g. input columns not used) goes to stderr as one warning line each. When a CSV or
    spreadsheet fails in the layout given but validates in the other one, the one-line error starts with "did you
    mean --layout OTHER?"."""
    path = args.file if path is None else path
    fmt = getattr(args, "format_in", None) or sniff_format(path, getattr(args, "encoding", None))
    kw = {"forced": not args.non_forced, "grid": parse_grid(args.grid), "format": fmt,
          "encoding": getattr(args, "encoding", None), "id_column": _column_arg(getattr(args, "id_column", None)),
          "statements_column": getattr(args, "statements_column", None)}
    if fmt not in ("csv", "spreadsheet"):  # one Q-sort per row by definition: --layout has nothing to choose
        if getattr(args, "text_column", None):
            raise QInputError(f"--text-column applies to CSV files and spreadsheets, not to this format "
                              f"({FORMATS[fmt].split(' (')[0]})", file=path)
        return _with_notes(args, read_study(path, **kw))
    layout = args.layout
    text_column = getattr(args, "text_column", None) or "auto"
    try:
        return _with_notes(args, read_study(path, layout=layout,
                                            text_column=text_column if layout == "statements" else None, **kw))
    except QInputError as err:
        other = "sorts" if layout == "statements" else "statements"
        try:
            s = read_study(path, layout=other, **{**kw, "statements_column": None})
        except QInputError:
            raise err from None
        where = QInputError(err.reason, line=err.line, sort=err.sort, statement=err.statement)
        raise QInputError(f"did you mean --layout {other}? Read with {_LAYOUT_TEXT[other]}, the file is a valid "
                          f"study of {s.n_statements} statements x {s.n_sorts} Q-sorts; with {_LAYOUT_TEXT[layout]} "
                          f"it fails: {where}", file=path) from None


def _column_arg(text):
    """``--id-column 0`` is the first column; any other text a header name."""
    if text is None:
        return None
    return int(text) if text.strip().isdigit() else text


def _with_notes(args, study):
    for note in study.notes:
        warn(args, f"{study.source}: {note}")
    return study


def warn(args, text: str) -> None:
    """A warning line for stderr, printed once the command has succeeded (qvalid's main prints ``args.warnings``;
    a failing command prints its one error line only)."""
    pending = getattr(args, "warnings", None)
    if pending is None:  # called outside qvalid's main (a test calling run() directly): print now
        print(f"qvalid {getattr(args, 'command', '')}: warning: {text}", file=sys.stderr)
    else:
        pending.append(text)


# ---------------------------------------------------------------------------------------------------- analysis
def _field_docs() -> dict:
    """Options field -> its description in the Options docstring's Attributes section (markup removed)."""
    doc = (Options.__doc__ or "").split("Attributes\n", 1)[-1]
    out, names = {}, []
    for line in doc.splitlines():
        m = re.match(r"^    (\w+(?:, \w+)*)(?: : .*)?$", line)
        if m:
            names = m.group(1).split(", ")
        elif line.startswith("        ") and names:
            for n in names:
                out[n] = (out.get(n, "") + " " + line.strip()).strip()
    return {n: t.replace("``", "").replace(":func:", "").replace("`", "") for n, t in out.items()}


def _flavour_defaults(name: str) -> str:
    vals = {fl: getattr(o, name) for fl, o in FLAVORS.items()}
    return "; ".join(f"{fl}: {v}" for fl, v in vals.items())


def _kind(f) -> type:
    """The Python type of an Options field: from the qmethod preset's value, else from the annotation."""
    v = getattr(FLAVORS["qmethod"], f.name)
    if v is not None:
        return type(v)
    ann = str(f.type)
    return next((t for t in (bool, int, float) if t.__name__ in ann), str)


def add_analysis_options(p: argparse.ArgumentParser, *, nfactors: bool = True, flags: bool = True,
                         steps: bool = True, target: bool = True) -> None:
    """``-k``, ``--flavor``, one flag per Options field and ``--flags FILE`` (same meaning in every subcommand).

    Every option defaults to None, i.e. the flavour's value; :func:`analysis_overrides` returns those given.
    """
    g = p.add_argument_group("analysis (defaults: the flavour's values)")
    if nfactors:
        g.add_argument("-k", "--nfactors", type=int, required=True, help="number of factors")
    g.add_argument("--flavor", choices=tuple(FLAVORS), default="qmethod",
                   help="option preset (default: qmethod = R qmethod 1.8.4); options below override it")
    docs = _field_docs()
    for f in fields(Options):
        kind = _kind(f)
        helptext = (docs.get(f.name, "") + f" (Options.{f.name}; {_flavour_defaults(f.name)})").strip()
        helptext = helptext.replace("%", "%%")
        if kind is bool:
            g.add_argument(*OPTION_FLAGS[f.name], dest=f.name, action=argparse.BooleanOptionalAction, default=None,
                           help=helptext)
        else:
            info = OPTION_INFO[f.name]
            choices = (*info.values, *info.aliases) if info.values else None
            metavar = "{" + ",".join(info.values) + "}" if info.values else kind.__name__.upper()
            conv = (info.canonical if info.case_sensitive else str.lower) if info.values else kind
            g.add_argument(*OPTION_FLAGS[f.name], dest=f.name, type=conv,
                           choices=choices, default=None, help=helptext, metavar=metavar)
    if steps:
        g.add_argument("--then", metavar="FILE", dest="then_file",
                       help="judgmental rotation after the named rotation: a file with one step per line, e.g. "
                            "'f1 f2 +12.5' (degrees; positive = clockwise with the lower factor on the horizontal "
                            "axis, as KADE/PQMethod); see docs/rotations.md")
    if target:
        g.add_argument("--target", metavar="FILE", dest="target_file",
                       help="target loadings of --rotation targetT/targetQ: sort id column and columns f1..fk; "
                            "empty or NA cells are unspecified")
    if flags:
        g.add_argument("--flags", metavar="FILE", dest="flags_file",
                       help="manual flags: CSV with a sort id column and one column per factor holding 1/0 or X, "
                            "or a KADE result workbook (.xlsx) (replaces automatic flagging)")


def analysis_overrides(args) -> dict:
    """The Options fields given on the command line (``{"extraction": "centroid", ...}``)."""
    return {f.name: getattr(args, f.name) for f in fields(Options) if getattr(args, f.name, None) is not None}


def rotation_inputs_from_args(args, study) -> dict:
    """``--then FILE`` and ``--target FILE`` as :func:`qvalid.analyze`'s ``then`` and ``target`` (those given)."""
    out = {}
    enc = getattr(args, "encoding", None)
    if getattr(args, "then_file", None) is not None:
        out["then"] = read_rotation_steps(args.then_file, enc)
    if getattr(args, "target_file", None) is not None:
        out["target"] = read_target(args.target_file, study.sort_ids, args.nfactors, encoding=enc)
    return out


def manual_flags_from_args(args, study):
    """``--flags FILE`` as a bool array (n_sorts, nfactors) in the study's sort order, or None without it."""
    path = getattr(args, "flags_file", None)
    if path is None:
        return None

    return read_flags(path, study.sort_ids, args.nfactors, encoding=getattr(args, "encoding", None))


# ---------------------------------------------------------------------------------------------------- output
def add_format_option(p, choices=("text", "json")) -> None:
    p.add_argument("--format", choices=choices, default="text",
                   help="text (for people, default) or json (one object; its shape is in docs/cli.md)")


def emit(args, text, obj=None, markdown=None) -> None:
    """Print a command's output in ``args.format``: ``text``, ``json`` (``obj`` as compact JSON, NaN -> error) or
    ``markdown``. Each may be a value or a function returning it (only the one printed is computed)."""
    fmt = getattr(args, "format", "text")
    value = {"text": text, "json": obj, "markdown": markdown}[fmt]
    value = value() if callable(value) else value
    print(json.dumps(value, allow_nan=False) if fmt == "json" else value)
