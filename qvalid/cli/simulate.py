"""``qvalid simulate``: forced-grid Q studies with a known factor structure (loadings x latent scores + noise)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import QInputError
from ..io import write_study
from ..io.files import atomic_write
from ..io.published import read_table
from ..simulate import planted_loadings, quasi_normal_grid, simulate_studies
from ._args import EXIT_OK, add_format_option, emit, parse_grid

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
    src.add_argument("--strength", type=float, default=0.7, help="planted loading (default 0.7)")
    src.add_argument("--cross", type=float, default=0.0, help="planted cross-loadings drawn from [-X, X]")
    src.add_argument("--factor-correlation", type=float, default=0.0,
                     help="correlation between the planted latent factors (default 0: orthogonal)")
    src.add_argument("--n-statements", type=int, help="planted: number of statements (default: the grid's)")
    p.add_argument("--grid", metavar="COUNTS", help="grid as MIN:c1,c2,... (default: quasi-normal for planted)")
    p.add_argument("--n-studies", type=int, default=1)
    p.add_argument("--index", type=int, help="write only study I of the --n-studies (0-based)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--chunk-size", type=int, default=50, help="studies per seeded chunk (default 50)")
    p.add_argument("--jobs", type=int, default=1, help="worker processes (results do not depend on it)")
    p.add_argument("--statements", metavar="FILE",
                   help="statement texts (CSV with id and text columns): written as the study's last column "
                        "'text' and as statements.csv beside it")
    p.add_argument("--text-column", default="text", help="column of --statements to use (default: text)")
    p.add_argument("-o", "--output", required=True,
                   help="CSV file for one study, or a directory for several (study_0000.csv, ...)")
    add_format_option(p)
    p.set_defaults(func=run)


def run(args) -> int:
    grid = parse_grid(args.grid)
    if args.planted:
        try:
            sizes = [int(s) for s in args.planted.split(",")]
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
        lt = read_table(args.loadings)
        loadings, sort_ids = np.nan_to_num(lt.values), [f"s{i + 1:02d}" for i in range(len(lt.ids))]
        given = read_table(args.arrays or args.zscores) if (args.arrays or args.zscores) else None
        if given is not None and given.k != lt.k:
            raise QInputError(f"{given.source}: {given.k} factors, the loadings have {lt.k}")
        arrays = given.values if args.arrays else None
        latent = given.values if args.zscores else None
        if latent is not None and np.isnan(latent).any():
            raise QInputError(f"{args.zscores}: blank z-scores; give factor arrays (--arrays) for partial tables")
    n_st = sum(grid.values())
    texts = _texts(args.statements, args.text_column, n_st) if args.statements else None
    executor = None
    if args.jobs > 1:
        from concurrent.futures import ProcessPoolExecutor
        executor = ProcessPoolExecutor(args.jobs)
    try:
        sim = simulate_studies(loadings, grid, args.n_studies, latent=latent, arrays=arrays,
                               correlation=args.factor_correlation,
                               latent_mode=args.latent.replace("-", "_"), seed=args.seed, executor=executor,
                               chunk_size=args.chunk_size)
    except ValueError as err:
        raise QInputError(str(err)) from None
    finally:
        if executor is not None:
            executor.shutdown()
    ids = [str(i + 1) for i in range(n_st)]
    which = [args.index] if args.index is not None else list(range(len(sim)))
    if any(not 0 <= i < len(sim) for i in which):
        raise QInputError(f"--index {args.index}: there are {len(sim)} studies (0..{len(sim) - 1})")
    out = Path(args.output)
    files = [out] if len(which) == 1 and out.suffix else [out / f"study_{i:04d}.csv" for i in which]
    files[0].parent.mkdir(parents=True, exist_ok=True)
    for i, f in zip(which, files):  # texts (if any) go into a "text" column, which read_study finds by itself
        write_study(sim.study(i, statement_ids=ids, sort_ids=sort_ids, statement_texts=texts), f,
                    text=texts is not None)
    if texts is not None:
        import csv
        import io


        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["id", "text"])
        w.writerows(zip(ids, texts))
        atomic_write({files[0].parent / "statements.csv": buf.getvalue()})
    summary = {"studies": len(which), "files": [str(f) for f in files], "seed": args.seed,
               "n_statements": n_st, "n_sorts": loadings.shape[0], "nfactors": loadings.shape[1],
               "latent": sim.latent_mode, "communalities": np.round((loadings ** 2).sum(axis=1), 5).tolist()}
    emit(args, f"wrote {len(files)} simulated stud{'y' if len(files) == 1 else 'ies'} ({n_st} statements x "
               f"{loadings.shape[0]} sorts, {loadings.shape[1]} factors, {sim.latent_mode} latent scores, seed "
               f"{args.seed}): {files[0]}{' ...' if len(files) > 1 else ''}", summary)
    return EXIT_OK


def _texts(path, column, n):
    import pandas as pd

    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    if column not in frame.columns:
        raise QInputError(f"no column {column!r}", file=path, line=1)
    if len(frame) != n:
        raise QInputError(f"{len(frame)} statements, the grid has {n} cells", file=path)
    return frame[column].tolist()
