"""``qvalid compare A B``: two flavours, or a flavour and a KADE result workbook, on one study.

Each of A and B is a flavour name (``qmethod``, ``kade``: the study is analysed with it) or a KADE result workbook
(``.xlsx``: its printed solution). The study is ``--study FILE``, or the Q-sorts inside a workbook; ``-k`` defaults
to a workbook's number of factors; the study options (``--layout``, ``--id-column``, ``--grid``, ...) say how to read
``--study``, as for every command that reads a study. ``--flags FILE`` (a CSV table of 0/1/X marks or a KADE workbook) gives both
analysed sides the same manual flags; ``--workbook-flags`` takes them from the workbook compared.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .. import io
from ..checks.agreement import Solution, compare_solutions
from ..core.congruence import align_factors
from ..errors import QInputError
from ..io import read_kade_workbook
from ..options import FLAVORS
from ..pipeline import analyze
from ._args import EXIT_OK, add_study_options, read_study_from_args


def register(sub) -> None:
    p = sub.add_parser("compare", help="how far two flavours (or a flavour and a KADE workbook) differ on one study",
                       epilog="example: qvalid compare qmethod KADE_results.xlsx --workbook-flags")
    p.add_argument("a", help="a flavour name or a KADE result workbook (.xlsx)")
    p.add_argument("b", help="a flavour name or a KADE result workbook (.xlsx)")
    add_study_options(p, file=None)  # --study FILE and how to read it (default: the Q-sorts of a workbook A or B)
    p.add_argument("-k", "--nfactors", type=int, help="number of factors (default: the workbook's)")
    p.add_argument("--flags", metavar="FILE", dest="flags_file",
                   help="manual flags for the analysed sides: a KADE result workbook or a flags table")
    p.add_argument("--workbook-flags", action="store_true",
                   help="analyse with the flags of the workbook compared (isolates the numerical differences)")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(func=run)


def run(args) -> int:
    diff = _diff(args)
    print(json.dumps(diff.to_dict(), allow_nan=False) if args.format == "json" else diff.to_text())
    return EXIT_OK


def _diff(args):
    books = {x: read_kade_workbook(x) for x in (args.a, args.b) if x not in FLAVORS}
    if not books and args.study is None:
        raise QInputError("give --study FILE (or a KADE workbook as A or B)")
    book = next(iter(books.values()), None)
    study = read_study_from_args(args, path=args.study) if args.study else book.study
    k = args.nfactors or (book.nfactors if book else None)
    if k is None:
        raise QInputError("give -k K (the number of factors)")
    source = book.path if args.workbook_flags else args.flags_file
    if args.workbook_flags and book is None:
        raise QInputError("--workbook-flags needs a KADE workbook as A or B")
    flags, ref = _flags_from(source, study, k) if source else (None, None)

    def side(x):
        if x in books:
            return Solution.from_workbook(books[x], Path(x).name)
        fl = flags
        if ref is not None:  # a workbook's flags belong to its factors: match this flavour's factors to them first
            perm, _, _ = align_factors(ref, analyze(study, k, flavor=x).loadings)
            fl = flags[:, np.argsort(perm)]
        return Solution.from_result(analyze(study, k, flavor=x, flags=fl), x)

    try:
        return compare_solutions(side(args.a), side(args.b))
    except ValueError as err:
        raise QInputError(str(err)) from None


def _flags_from(path, study, k):
    """(flags, the loadings they were chosen on or None) in the study's sort order."""

    flags = io.read_flags(path, study.sort_ids, k)
    if not str(path).lower().endswith((".xlsx", ".xlsm")):
        return flags, None
    wb = io.read_kade_workbook(path)
    return flags, wb.loadings[[list(wb.study.sort_ids).index(s) for s in study.sort_ids]]
