"""``qvalid flag``: which sorts define which factor in a published loadings table, and the counts.

JSON (``--format json``): ``{"qvalid_version", "command": "flag", "file", "rule": {"threshold", "n_statements",
"z", "majority", "text"}, "sort_ids", "factors", "loadings" (n_sorts x k), "flags" (n_sorts x k booleans),
"counts" (per factor), "n_flagged", "not_flagged" (sort ids), "several" (sort ids flagged on more than one
factor)}``.
"""

from __future__ import annotations

from .._version import __version__
from ..core.flag import flag
from ..errors import QInputError
from ..io.published import read_loadings
from ._args import EXIT_OK, add_encoding_option, add_format_option, emit, number_type, option_type


def register(sub) -> None:
    p = sub.add_parser("flag", help="flag defining sorts in a published loadings table",
                       epilog="example: qvalid flag reference/data/nav_aap_2023/loadings_published.csv --threshold 0.42")
    p.add_argument("file", help="CSV: a sort id column then one column per factor (extra non-numeric columns ignored)")
    p.add_argument("--threshold", type=option_type("threshold"), help="flag when |a| >= X (0 < X < 1)")
    p.add_argument("--n-statements", type=number_type(whole=True, low=2),
                   help="use the |a| > z/sqrt(N) significance rule with N statements")
    p.add_argument("--z", type=option_type("flag_z"), default=1.96, help="z for the significance rule (default 1.96)")
    p.add_argument("--no-majority", dest="majority", action="store_false",
                   help="drop the a^2 > h^2 - a^2 condition")
    add_encoding_option(p)
    add_format_option(p)
    p.set_defaults(func=run)


def run(args) -> int:
    ids, factors, a = read_loadings(args.file, encoding=args.encoding)
    if args.threshold is None and args.n_statements is None:
        raise QInputError("give --threshold X, or --n-statements N for the 1.96/sqrt(N) rule", file=args.file)
    fl = flag(a, args.n_statements or 1, z=args.z, threshold=args.threshold, majority=args.majority)
    rule = (f"|a| >= {args.threshold}" if args.threshold is not None
            else f"|a| > {args.z}/sqrt({args.n_statements}) = {args.z / args.n_statements ** 0.5:.5f}")
    rule += " and a^2 > h^2 - a^2" if args.majority else ""
    counts = [int(c) for c in fl.sum(axis=0)]
    n_any = int(fl.any(axis=1).sum())
    several = [ids[i] for i in range(len(ids)) if fl[i].sum() > 1]
    none = [ids[i] for i in range(len(ids)) if not fl[i].any()]

    def text() -> str:
        lines = [f"{args.file}: {len(ids)} sorts x {len(factors)} factors; rule: {rule}"]
        for j, f in enumerate(factors):
            who = [f"{ids[i]}{'(-)' if a[i, j] < 0 else ''}" for i in range(len(ids)) if fl[i, j]]
            lines.append(f"{f}: {len(who):3d}  {' '.join(who)}")
        lines.append(f"flagged: {n_any} of {len(ids)} sorts; counts per factor: {'/'.join(map(str, counts))}"
                     + (f"; on several factors: {' '.join(several)}" if several else ""))
        lines.append("not flagged: " + (" ".join(none) or "none"))
        return "\n".join(lines)

    emit(args, text, lambda: {
        "qvalid_version": __version__, "command": "flag", "file": args.file,
        "rule": {"threshold": args.threshold, "n_statements": args.n_statements, "z": args.z,
                 "majority": args.majority, "text": rule},
        "sort_ids": ids, "factors": factors, "loadings": a.tolist(), "flags": fl.tolist(), "counts": counts,
        "n_flagged": n_any, "not_flagged": none, "several": several})
    return EXIT_OK
