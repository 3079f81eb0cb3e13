"""``qvalid simulate``: forced-grid Q studies with a known factor structure (loadings x latent scores + noise)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np

from ..errors import QInputError
from ..io.csv import format_csv
from ..io.files import STDOUT, read_text
from ..io.published import read_table
from ..simulate import planted_loadings, quasi_normal_grid, simulate_studies
from ._args import (COUNT, EXIT_OK, NONNEGATIVE, SEED, add_format_option, emit, number_list, number_type, parse_grid,
                    plan_outputs, write_outputs)
from ._interrupt import worker_pool

EPILOG = """examples:
  # one study calibrated to the NAV report (Tabell 5 loadings, reconstructed arrays), study 0 of seed 1
  qvalid simulate --loadings reference/data/nav_aap_2023/loadings_published.csv \\
      --arrays reference/data/nav_aap_2023/factor_arrays_reconstructed.csv --grid -5:1,2,3,4,5,6,5,4,3,2,1 \\
      --seed 1 -o nav_like.csv
  # 100 studies with a planted structure: 3 orthogonal factors, 5 sorts each loading 0.7, 40 statements
  qvalid simulate --planted 5,5,5 --strength 0.7 --n-statements 40 --n-studies 100 -o planted/
"""


def register(sub) -> None:
    p = sub.add_parser("simulate", help="simulate forced-grid Q studies with a known factor structure",
                       description="Q-sorts generated as loadings x latent factor scores + noise of SD "
                                   "sqrt(1 - h^2), ranked into the grid; seeded and reproducible.",
                       epilog=EPILOG, formatter_class=__import__("argparse").RawDescriptionHelpFormatter)
    src = p.add_argument_group("structure (a published solution, or --planted)")
    src.add_argument("--loadings", metavar="FILE", help="loadings table, sorts x factors (CSV or xlsx; f1, f2, ...)")
    src.add_argument("--arrays", metavar="FILE",
                     help="factor arrays, statements x factors; blank = unknown, filled with the scores the grid "
                          "leaves open (a new random order in every study)")
    src.add_argument("--zscores", metavar="FILE", help="factor z-scores, statements x factors (instead of --arrays)")
    src.add_argument("--latent", choices=("orthogonal", "as-given"), default="orthogonal",
                     help="orthogonalise the given arrays/z-scores (default; the loadings' orthogonal model) or "
                          "keep their correlations")
    src.add_argument("--planted", metavar="SIZES", help="planted structure: sorts per factor, e.g. 7,3,3,6")
    src.add_argument("--strength", type=number_type(low=0, high=1, low_open=True, high_open=True), default=0.7,
                     help="planted loading, in (0, 1) (default 0.7)")
    src.add_argument("--cross", type=number_type(low=0, high=1, high_open=True), default=0.0,
                     help="planted cross-loadings drawn from [-X, X], 0 <= X < 1")
    src.add_argument("--factor-correlation", type=number_type(low=-1, high=1, low_open=True, high_open=True),
                     default=0.0, help="correlation between the planted latent factors, in (-1, 1) (default 0: "
                                       "orthogonal)")
    src.add_argument("--n-statements", type=number_type(whole=True, low=2),
                     help="planted: number of statements (default: the grid's)")
    p.add_argument("--grid", metavar="COUNTS", help="grid as MIN:c1,c2,... (default: quasi-normal for planted)")
    p.add_argument("--n-studies", type=COUNT, default=1)
    p.add_argument("--index", type=NONNEGATIVE, help="write only study I of the --n-studies (0-based)")
    p.add_argument("--seed", type=SEED, default=0, help="seed (a whole number >= 0; default 0)")
    p.add_argument("--chunk-size", type=COUNT, default=50, help="studies per seeded chunk (default 50)")
    p.add_argument("--jobs", type=COUNT, default=1, help="worker processes (results do not depend on it)")
    p.add_argument("--statements", metavar="FILE",
                   help="statement texts (CSV with id and text columns): written as the study's last column "
                        "'text' and as statements.csv beside it")
    p.add_argument("--text-column", default="text", help="column of --statements to use (default: text)")
    p.add_argument("-o", "--output", required=True,
                   help="CSV file for one study (- for standard output), or a directory for several "
                        "(study_0000.csv, ...)")
    add_format_option(p)
    p.set_defaults(func=run)


def run(args) -> int:
    grid = parse_grid(args.grid)
    if args.planted:
        sizes = [int(s) for s in number_list(args.planted, "--planted", whole=True, low=1)]
        try:
            loadings = planted_loadings(sizes, strength=args.strength, cross=args.cross, rng=args.seed)
        except ValueError as err:
            raise QInputError(f"--planted {args.planted}: {err}") from None
        if grid is None:
            grid = quasi_normal_grid(args.n_statements or 36)
        sort_ids = [f"s{i + 1:02d}" for i in range(loadings.shape[0])]
        latent = arrays = None
    else:
        if not args.loadings:
            raise QInputError("give --loadings FILE (with --arrays or --zscores), or --planted SIZES")
        if grid is None:
            raise QInputError("give the study's --grid MIN:c1,c2,...")
        lt = read_table(args.loadings, kind="loadings")
        if np.isnan(lt.values).any():
            i, j = np.argwhere(np.isnan(lt.values))[0]
            raise QInputError(f"blank loading (column {lt.factors[j]!r}); simulate needs every loading", file=lt.source,
                              sort=lt.ids[i])
        loadings, sort_ids = lt.values, [f"s{i + 1:02d}" for i in range(len(lt.ids))]
        given = read_table(args.arrays or args.zscores, kind="arrays" if args.arrays else "zscores") \
            if (args.arrays or args.zscores) else None
        if given is not None and given.k != lt.k:
            raise QInputError(f"{given.source}: {given.k} factors, the loadings have {lt.k}")
        arrays = given.values if args.arrays else None
        latent = given.values if args.zscores else None
        if latent is not None and np.isnan(latent).any():
            raise QInputError(f"{args.zscores}: blank z-scores; give factor arrays (--arrays) for partial tables")
    n_st = sum(grid.values())
    texts = _texts(args.statements, args.text_column, n_st) if args.statements else None
    which = [args.index] if args.index is not None else list(range(args.n_studies))
    if args.index is not None and args.index >= args.n_studies:
        raise QInputError(f"--index {args.index}: there are {args.n_studies} studies (0..{args.n_studies - 1})")
    out = Path(args.output)
    if args.output == STDOUT:
        if len(which) != 1:
            raise QInputError("-o -: standard output takes one study; give --index I or --n-studies 1, or a directory")
        files = [STDOUT]
    else:
        files = [out] if len(which) == 1 and out.suffix else [out / f"study_{i:04d}.csv" for i in which]
    # the texts also go to statements.csv beside the studies (not with -o -: the study's text column has them)
    beside = None if texts is None or files[0] == STDOUT else Path(files[0]).parent / "statements.csv"
    plan_outputs(*files, beside)  # every input is read: refuse unsafe outputs first
    with worker_pool(args.jobs) as executor:
        try:
            sim = simulate_studies(loadings, grid, args.n_studies, latent=latent, arrays=arrays,
                                   correlation=args.factor_correlation,
                                   latent_mode=args.latent.replace("-", "_"), seed=args.seed, executor=executor,
                                   chunk_size=args.chunk_size)
        except ValueError as err:
            raise QInputError(str(err)) from None
    ids = [str(i + 1) for i in range(n_st)]
    contents = {}
    for i, f in zip(which, files):  # texts (if any) go into a "text" column, which read_study finds by itself
        study = sim.study(i, statement_ids=ids, sort_ids=sort_ids, statement_texts=texts)
        contents[f] = format_csv(study, text=texts is not None, sep="\t" if str(f).lower().endswith(".tsv") else ",")
    if beside is not None:
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["id", "text"])
        w.writerows(zip(ids, texts))
        contents[beside] = buf.getvalue()
    write_outputs(contents)
    if STDOUT in files:  # the study is on standard output: nothing else goes there
        return EXIT_OK
    summary = {"studies": len(which), "files": [str(f) for f in files], "seed": args.seed,
               "n_statements": n_st, "n_sorts": loadings.shape[0], "nfactors": loadings.shape[1],
               "latent": sim.latent_mode, "communalities": np.round((loadings ** 2).sum(axis=1), 5).tolist()}
    emit(args, f"wrote {len(files)} simulated stud{'y' if len(files) == 1 else 'ies'} ({n_st} statements x "
               f"{loadings.shape[0]} sorts, {loadings.shape[1]} factors, {sim.latent_mode} latent scores, seed "
               f"{args.seed}): {files[0]}{' ...' if len(files) > 1 else ''}", summary)
    return EXIT_OK


def _texts(path, column, n):
    """The statement texts of column ``column`` of a CSV (one row per statement, in order)."""
    rows = list(csv.reader(io.StringIO(read_text(path), newline="")))
    rows = [r for r in rows if any(c.strip() for c in r)]
    header = [h.strip() for h in rows[0]] if rows else []
    if column not in header:
        raise QInputError(f"no column {column!r}", file=path, line=1)
    c = header.index(column)
    body = rows[1:]
    if len(body) != n:
        raise QInputError(f"{len(body)} statements, the grid has {n} cells", file=path)
    return [r[c] if c < len(r) else "" for r in body]
