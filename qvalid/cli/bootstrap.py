"""``qvalid bootstrap``: bootstrap stability of a k-factor solution (text, JSON, CSV tables, figures)."""

from __future__ import annotations

import argparse
import sys

from ..errors import QInputError
from ..io import read_resamples
from ..io.files import atomic_write
from ..stability import bootstrap
from ._args import (EXIT_OK, add_analysis_options, add_study_options, analysis_overrides, emit, manual_flags_from_args,
                    read_study_from_args, rotation_inputs_from_args)


_DESCRIPTION = ("How far would each factor and each statement's place move in another sample of participants? "
                "Resamples the Q-sorts (as qmethod's qmboots) to estimate, through a calibrated curve, the "
                "probability that another sample recovers each factor (the verdict), and simulates samples of new "
                "participants from the fitted solution (a parametric bootstrap) for the intervals of z-scores and "
                "loadings, flag frequencies and array stability (docs/bootstrap.md, docs/calibration.md).")
_EXAMPLES = """examples:
  qvalid bootstrap reference/data/lipset/lipset.csv -k 3 -n 1000 --seed 1
  qvalid bootstrap study.csv -k 4 --extraction centroid --centroid-ties strict --threshold 0.42 \\
      --output out/ --figures out/
  qvalid bootstrap study.csv -k 3 --align qindtest --format json   # qmboots' alignment rule (no verdict)
  qvalid bootstrap study.csv -k 3 --align qindtest --indices resamples.csv   # replay an R qmboots run
  qvalid bootstrap study.csv -k 3 --no-parametric   # the resampling alone (percentile intervals, prefix resample_)"""


def register(sub) -> None:
    p = sub.add_parser("bootstrap", help="bootstrap the stability of the factors, loadings and factor arrays",
                       description=_DESCRIPTION, epilog=_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_study_options(p)  # the options every analysing subcommand shares
    add_analysis_options(p, target=False)  # (a target is given per Q-sort: replicates of sorts have none)
    g = p.add_argument_group("bootstrap")
    g.add_argument("-n", "--resamples", type=int, default=1000, help="number of replicates (default 1000)")
    g.add_argument("--resample", choices=("sorts", "statements"), default="sorts",
                   help="resample the Q-sorts (default, as qmboots) or the statements")
    g.add_argument("--plain", action="store_true",
                   help="plain resampling instead of the balanced bootstrap (each unit exactly n times overall)")
    g.add_argument("--align", choices=("hungarian", "procrustes", "qindtest"), default="hungarian",
                   help="alignment to the full-sample factors (default hungarian; qindtest = qmethod's greedy rule)")
    g.add_argument("--indices", metavar="RESAMPLES.csv",
                   help="replay a qmboots run: its resamples as R's write.csv(result$resamples) writes them (one row "
                        "per Q-sort position, one column bsampl_i per step, 1-based sort numbers); -n is then the "
                        "number of columns. With --align qindtest qvalid takes every step as qmboots does")
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--workers", type=int, default=1, help="processes (default 1: this process)")
    g.add_argument("--ci", type=float, default=0.95, help="interval coverage (default 0.95)")
    g.add_argument("--no-parametric", dest="parametric", action="store_false", default=None,
                   help="skip the parametric bootstrap (then no calibrated intervals; the resampling's percentiles "
                        "remain, prefix resample_)")
    o = p.add_argument_group("output")
    o.add_argument("--format", choices=("text", "json"), default="text",
                   help="text (for people, default) or json (one object; keys in docs/bootstrap.md)")
    o.add_argument("--output", metavar="DIR", help="also write loadings.csv, zscores.csv, factors.csv, replicates.csv "
                                                   "into DIR (atomically; never over the input)")
    o.add_argument("--figures", metavar="DIR", help="also write loading/z-score interval and congruence PNGs to DIR")
    p.set_defaults(func=run)


def run(args) -> int:
    if args.workers < 1:
        raise QInputError(f"--workers {args.workers}: must be >= 1")
    study = read_study_from_args(args)
    progress = args.format != "json" and sys.stderr.isatty()
    indices = None
    if args.indices is not None:
        if args.resample != "sorts":
            raise QInputError("--indices replays qmboots, which resamples the Q-sorts: drop --resample statements")
        indices = read_resamples(args.indices, study.n_sorts, encoding=getattr(args, "encoding", None))
    executor = None
    if args.workers > 1:
        from concurrent.futures import ProcessPoolExecutor

        executor = ProcessPoolExecutor(args.workers)
    try:
        res = bootstrap(study, args.nfactors, args.resamples, resample=args.resample, balanced=not args.plain,
                        indices=indices, align=args.align, seed=args.seed, executor=executor, progress=progress,
                        flavor=args.flavor, manual_flags=manual_flags_from_args(args, study), ci=args.ci,
                        parametric=args.parametric, **rotation_inputs_from_args(args, study),
                        **analysis_overrides(args))
    finally:
        if executor is not None:
            executor.shutdown()
    if args.output:
        res.to_csv(args.output)
    if args.figures:
        _write_figures(res, args.figures)
    emit(args, res.summary, res.to_dict)
    return EXIT_OK


def _write_figures(res, directory) -> None:
    import io
    from pathlib import Path

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt


    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    out = {}
    for name, make in (("loading_intervals", res.loading_intervals_figure), ("zscore_intervals",
                       res.zscore_intervals_figure), ("congruence", res.congruence_figure)):
        fig = make()
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=110)
        plt.close(fig)
        out[d / f"{name}.png"] = buf.getvalue()
    atomic_write(out)
