"""``qvalid flag``: which sorts define which factor in a published loadings table, and the counts."""

from __future__ import annotations

from ..errors import QInputError
from ._args import EXIT_OK


def register(sub) -> None:
    p = sub.add_parser("flag", help="flag defining sorts in a published loadings table",
                       epilog="example: qvalid flag reference/data/nav_aap_2023/loadings_published.csv --threshold 0.42")
    p.add_argument("file", help="CSV: a sort id column then one column per factor (extra non-numeric columns ignored)")
    p.add_argument("--threshold", type=float, help="flag when |a| >= X")
    p.add_argument("--n-statements", type=int, help="use the |a| > z/sqrt(N) significance rule with N statements")
    p.add_argument("--z", type=float, default=1.96, help="z for the significance rule (default 1.96)")
    p.add_argument("--no-majority", dest="majority", action="store_false",
                   help="drop the a^2 > h^2 - a^2 condition")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..flag import flag
    from ..published import read_loadings

    ids, factors, a = read_loadings(args.file)
    if args.threshold is None and args.n_statements is None:
        raise QInputError("give --threshold X, or --n-statements N for the 1.96/sqrt(N) rule", file=args.file)
    fl = flag(a, args.n_statements or 1, z=args.z, threshold=args.threshold, majority=args.majority)
    rule = (f"|a| >= {args.threshold}" if args.threshold is not None
            else f"|a| > {args.z}/sqrt({args.n_statements}) = {args.z / args.n_statements ** 0.5:.5f}")
    rule += " and a^2 > h^2 - a^2" if args.majority else ""
    print(f"{args.file}: {len(ids)} sorts x {len(factors)} factors; rule: {rule}")
    for j, f in enumerate(factors):
        who = [f"{ids[i]}{'(-)' if a[i, j] < 0 else ''}" for i in range(len(ids)) if fl[i, j]]
        print(f"{f}: {len(who):3d}  {' '.join(who)}")
    n_any = int(fl.any(axis=1).sum())
    conf = [ids[i] for i in range(len(ids)) if fl[i].sum() > 1]
    print(f"flagged: {n_any} of {len(ids)} sorts; counts per factor: {'/'.join(str(int(c)) for c in fl.sum(axis=0))}"
          + (f"; on several factors: {' '.join(conf)}" if conf else ""))
    print("not flagged: " + (" ".join(ids[i] for i in range(len(ids)) if not fl[i].any()) or "none"))
    return EXIT_OK
