"""``qvalid verify``: re-check a paper's published tables (loadings, defining sorts, eigenvalues, variance, arrays,
correlations) and print each claim with what qvalid recomputes and a verdict."""

from __future__ import annotations

import argparse

from ..checks.verify import verify
from ..errors import QInputError
from ..io import read_flags, read_study
from ..io.files import suffix
from ..io.published import read_table
from ._args import (EXIT_DIFF, EXIT_OK, NONNEGATIVE, add_format_option, emit, number_list, number_type, option_type,
                    parse_grid, warn)

EPILOG = """verdicts: agrees | agrees within print rounding | contradicts | cannot be checked (with the reason)
exit codes: 0 nothing contradicted, 1 some claim contradicted, 2 invalid input

example (the NAV report's Tabell 3-5; docs/verify.md):
  qvalid verify reference/data/nav_aap_2023/loadings_published.csv --threshold 0.42 --n-statements 36 \\
    --threshold-p 0.05 \\
    --defining "01ZH DDT7 H7OC IW3H KWWU MS1Z V4ND" --defining "7CFW EKOP LZRR" --defining "8RIH CMS4 L7TG" \\
    --defining "4JJY 8YS7 KX2M T135 VOF1 XQ87" --defining-counts 7,3,3,6 --n-flagged 19 --n-confounded 4 \\
    --n-nonsignificant 2 --eigenvalues 9.30894,1.51978,1.79467,1.09005 --explained-variance 37,6,7,4 \\
    --cumulative-variance 37,43,50,55 --total-variance 55 --rotation varimax \\
    --correlations 0.36602,0.16892,0.63701,0.09432,0.46355,0.36704 \\
    --arrays reference/data/nav_aap_2023/factor_arrays_reconstructed.csv --grid=-5:1,2,3,4,5,6,5,4,3,2,1
"""


def register(sub) -> None:
    p = sub.add_parser("verify", help="re-check a paper's published tables claim by claim",
                       description=__doc__, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("loadings", nargs="?",
                   help="loadings table, sorts x factors (CSV/TSV, markdown, .xlsx/.xls/.ods; columns f1, f2, ...; "
                        "optional X-mark columns fg1, flag_f1, x1, ... or one column 'flag' holding each sort's "
                        "defining factor; other columns are reported as not used). Optional when the paper prints "
                        "only arrays and z-scores (--arrays, --zscores)")
    g = p.add_argument_group("reading the tables")
    g.add_argument("--encoding", help="text encoding of CSV files (default UTF-8), e.g. latin-1")
    g.add_argument("--decimals", type=number_type(whole=True, low=0, high=15),
                   help="the tables were printed with at least N decimals (trailing zeros dropped, as R's write.csv "
                        "does); default: the decimals as written in each cell")
    g.add_argument("--sheet", help="sheet of an xlsx/ods file (default: the first)")
    r = p.add_argument_group("the paper's rule for defining sorts")
    r.add_argument("--threshold", type=option_type("threshold"), help="|a| >= X (0 < X < 1)")
    r.add_argument("--n-statements", type=number_type(whole=True, low=2),
                   help="number of statements (the |a| > z/sqrt(N) rule; arrays)")
    r.add_argument("--z", type=option_type("flag_z"), default=1.96)
    r.add_argument("--no-majority", dest="majority", action="store_false", help="drop a^2 > h^2 - a^2")
    r.add_argument("--threshold-p", type=number_type(low=0, high=1, low_open=True, high_open=True), metavar="P",
                   help="the paper says loadings at --threshold are significant at p < P (needs --n-statements)")
    c = p.add_argument_group("published claims (comma-separated per factor, as printed)")
    c.add_argument("--defining", action="append", metavar="IDS",
                   help="defining sorts of one factor (repeat per factor, in factor order; blank-separated ids)")
    c.add_argument("--flags", dest="flags_file", metavar="FILE",
                   help="defining sorts as a table of X marks, sorts x factors (as analyze --flags)")
    c.add_argument("--defining-counts", metavar="N,N,...")
    c.add_argument("--n-flagged", type=NONNEGATIVE, help="sorts defining some factor")
    c.add_argument("--n-confounded", type=NONNEGATIVE, help="sorts significant on some factor but defining none")
    c.add_argument("--n-nonsignificant", type=NONNEGATIVE, help="sorts significant on no factor")
    c.add_argument("--eigenvalues", metavar="X,X,...")
    c.add_argument("--eigenvalues-of", choices=("unrotated", "rotated"), default="unrotated",
                   help="the paper's eigenvalues: of the unrotated solution (PQMethod, KADE; default) or column sums "
                        "of squares of the final loadings (R qmethod's eigenvals)")
    c.add_argument("--explained-variance", metavar="X,X,...")
    c.add_argument("--cumulative-variance", metavar="X,X,...")
    c.add_argument("--total-variance", metavar="X")
    c.add_argument("--reliability", metavar="X,X,...", help="composite reliability per factor (qmethod)")
    c.add_argument("--se", metavar="X,X,...", help="SE of factor scores per factor (qmethod; with --reliability)")
    c.add_argument("--arrays", metavar="FILE", help="factor arrays, statements x factors (blank = unknown)")
    c.add_argument("--arrays-prefix", help="column prefix of the arrays, e.g. fsc_f (default f1, f2, ...)")
    c.add_argument("--zscores", metavar="FILE", help="factor z-scores, statements x factors")
    c.add_argument("--zscores-prefix", help="column prefix of the z-scores, e.g. zsc_f")
    c.add_argument("--grid", metavar="COUNTS", help="grid as MIN:c1,c2,... (needed with --arrays)")
    c.add_argument("--correlations", metavar="X,X,...",
                   help="correlations between factor scores, upper triangle row by row (r12,r13,...,r23,...)")
    c.add_argument("--correlations-of", choices=("zscores", "arrays"), default="zscores")
    c.add_argument("--rotation", choices=("varimax",), help="check that the loadings are a varimax solution")
    d = p.add_argument_group("the data (optional): is the table an orthogonal rotation of the data's factors?")
    d.add_argument("--data", metavar="STUDY",
                   help="the study's Q-sorts (any study file qvalid reads; statements as rows): adds the claim that "
                        "the loadings are an orthogonal rotation of its k-factor solution, the rotation written as "
                        "judgmental steps (orthogonal Procrustes; docs/verify.md)")
    d.add_argument("--data-extraction", choices=("pca", "centroid"), default="pca",
                   help="the data's factors: principal components (default) or the centroid")
    d.add_argument("--data-flavor", choices=("qmethod", "kade"), default="qmethod",
                   help="whose extraction: qmethod's (psych principal / Hermans' centroid, default) or KADE's "
                        "(QPCA / Brown's centroid, 5-dp correlations)")
    d.add_argument("--data-layout", choices=("statements", "sorts"), default="statements",
                   help="orientation of a CSV --data file (default: statements as rows)")
    c.add_argument("--unchecked", action="append", metavar="CLAIM|PRINTED|REASON",
                   help="a printed claim the tables cannot determine, listed with the reason")
    add_format_option(p)
    p.set_defaults(func=run)


#: What each published claim must be (:func:`qvalid.cli._args.number_list`): counts are whole, eigenvalues and
#: standard errors >= 0, percentages of variance 0..100, reliabilities 0..1, correlations -1..1.
CLAIM_RULES = {"defining-counts": {"whole": True, "low": 0}, "eigenvalues": {"low": 0},
               "explained-variance": {"low": 0, "high": 100}, "cumulative-variance": {"low": 0, "high": 100},
               "total-variance": {"low": 0, "high": 100}, "reliability": {"low": 0, "high": 1}, "se": {"low": 0},
               "correlations": {"low": -1, "high": 1}}


def _list(text, name, **kw):
    return number_list(text, f"--{name}", **CLAIM_RULES[name], **kw)


def _without_loadings(args, table) -> int:
    """``qvalid verify --arrays A --zscores Z``: a paper that prints no loadings; only the tables' claims."""
    if not (args.arrays or args.zscores):
        raise QInputError("give the loadings table, or --arrays / --zscores (a paper printing only those)")
    given = [f"--{n.replace('_', '-')}" for n in ("defining", "flags_file", "defining_counts", "n_flagged",
                                                   "n_confounded", "n_nonsignificant", "eigenvalues",
                                                   "explained_variance", "cumulative_variance", "total_variance",
                                                   "reliability", "se", "rotation", "threshold_p")
             if getattr(args, n) is not None]
    if given:
        raise QInputError(f"{', '.join(g.replace('--flags-file', '--flags') for g in given)} "
                          "need(s) the loadings table")
    unchecked = [tuple(u.split("|")) for u in args.unchecked or []]
    if any(len(u) != 3 for u in unchecked):
        raise QInputError("--unchecked: expected CLAIM|PRINTED|REASON")
    claims = dict(arrays=table(args.arrays, args.arrays_prefix, "arrays") if args.arrays else None,
                  zscores=table(args.zscores, args.zscores_prefix, "zscores") if args.zscores else None,
                  grid=parse_grid(args.grid), correlations=_list(args.correlations, "correlations"))
    try:  # every input is read and checked: what verify() refuses now is about the tables together
        res = verify(None, correlations_of=args.correlations_of, unchecked=unchecked, **claims)
    except ValueError as err:
        raise QInputError(str(err), file=args.arrays or args.zscores) from None
    emit(args, res.to_text, res.to_dict)
    return EXIT_DIFF if res.contradicted else EXIT_OK


def run(args) -> int:
    import dataclasses

    import numpy as np


    def table(path, prefix=None, kind=None):
        t = read_table(path, prefix=prefix, encoding=args.encoding, sheet=args.sheet, kind=kind)
        if args.decimals is not None:
            t = dataclasses.replace(t, decimals=np.where(t.decimals < 0, -1, np.maximum(t.decimals, args.decimals)))
        for note in t.notes:
            warn(args, f"{t.source}: {note}")
        return t

    if args.loadings is None:
        return _without_loadings(args, table)
    lo = table(args.loadings, kind="loadings")
    if args.threshold is None and args.n_statements is None:
        raise QInputError("give the paper's rule: --threshold X, or --n-statements N for |a| > z/sqrt(N)")
    flags = None
    if args.flags_file and args.defining:
        raise QInputError("give the defining sorts once: --flags FILE or --defining IDS")
    if args.flags_file:
        flags = read_flags(args.flags_file, lo.ids, lo.k, encoding=args.encoding)
    if args.defining:
        if len(args.defining) != lo.k:
            raise QInputError(f"--defining given {len(args.defining)} times, the table has {lo.k} factors")
        sets = [set(d.replace(",", " ").split()) for d in args.defining]
        unknown = sorted(set().union(*sets) - set(lo.ids))
        if unknown:
            raise QInputError(f"--defining: sort(s) {', '.join(unknown)} not in the loadings table", file=lo.source)
        flags = np.array([[sid in s for s in sets] for sid in lo.ids])
    counts = _list(args.defining_counts, "defining-counts")
    total = _list(args.total_variance, "total-variance", count=1)
    data = None
    if args.data is not None:
        kw = {} if args.encoding is None else {"encoding": args.encoding}
        if suffix(args.data) in (".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".ods"):
            kw["layout"] = args.data_layout
        data = read_study(args.data, **kw)
    rel = None
    if args.reliability or args.se:
        if not (args.reliability and args.se):
            raise QInputError("give --reliability and --se together")
        rel = (_list(args.reliability, "reliability"), _list(args.se, "se"))
    unchecked = []
    for u in args.unchecked or []:
        parts = u.split("|")
        if len(parts) != 3:
            raise QInputError(f"--unchecked {u!r}: expected CLAIM|PRINTED|REASON")
        unchecked.append(tuple(parts))
    claims = dict(eigenvalues=_list(args.eigenvalues, "eigenvalues"),
                  explained_variance=_list(args.explained_variance, "explained-variance"),
                  cumulative_variance=_list(args.cumulative_variance, "cumulative-variance"),
                  correlations=_list(args.correlations, "correlations"), grid=parse_grid(args.grid),
                  arrays=table(args.arrays, args.arrays_prefix, "arrays") if args.arrays else None,
                  zscores=table(args.zscores, args.zscores_prefix, "zscores") if args.zscores else None)
    try:  # every input is read and checked: what verify() refuses now is about the tables together
        res = verify(lo, n_statements=args.n_statements, threshold=args.threshold, z=args.z, majority=args.majority,
                     flags=flags, defining_counts=counts,
                     n_flagged=args.n_flagged, n_confounded=args.n_confounded, n_nonsignificant=args.n_nonsignificant,
                     eigenvalues_of=args.eigenvalues_of, total_variance=None if total is None else total[0],
                     correlations_of=args.correlations_of, nload_reliability=rel, rotation=args.rotation,
                     threshold_p=args.threshold_p, unchecked=unchecked, data=data,
                     data_extraction=args.data_extraction, data_flavor=args.data_flavor, **claims)
    except ValueError as err:
        raise QInputError(str(err), file=lo.source) from None
    emit(args, res.to_text, res.to_dict)
    return EXIT_DIFF if res.contradicted else EXIT_OK
