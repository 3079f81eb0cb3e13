"""``qvalid validate``: read and validate a study, print its shape and grid."""

from __future__ import annotations

from ._args import EXIT_OK, add_study_options, read_study_from_args


def register(sub) -> None:
    p = sub.add_parser("validate", help="check a study file and summarise it",
                       epilog="example: qvalid validate reference/data/lipset/lipset.csv")
    add_study_options(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from ..study import grid_text

    s = read_study_from_args(args)
    print(f"{args.file}: OK: {s.name + ': ' if s.name else ''}{s.n_statements} statements x {s.n_sorts} Q-sorts, "
          f"{'forced' if s.forced else 'non-forced'} grid {grid_text(s.grid)}")
    print(f"sorts: {' '.join(s.sort_ids)}")
    return EXIT_OK
