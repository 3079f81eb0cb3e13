"""``qvalid validate``: read and validate a study, print its shape and grid.

JSON (``--format json``): ``{"qvalid_version", "command": "validate", "file", "ok": true, "study": {name, source,
n_statements, n_sorts, forced, grid}, "sort_ids", "statement_ids", "statement_texts"}``. An invalid study is exit 2
with one line on stderr (in both formats).
"""

from __future__ import annotations

from .._version import __version__
from ..study import grid_text, study_block
from ._args import EXIT_OK, add_format_option, add_study_options, emit, read_study_from_args


def register(sub) -> None:
    p = sub.add_parser("validate", help="check a study file and summarise it",
                       epilog="example: qvalid validate reference/data/lipset/lipset.csv")
    add_study_options(p)
    add_format_option(p)
    p.set_defaults(func=run)


def run(args) -> int:
    s = read_study_from_args(args)
    text = (f"{args.file}: OK: {s.name + ': ' if s.name else ''}{s.n_statements} statements x {s.n_sorts} Q-sorts, "
            f"{'forced' if s.forced else 'non-forced'} grid {grid_text(s.grid)}"
            + ("" if s.statement_texts is None else ", with statement texts")
            + f"\nsorts: {' '.join(s.sort_ids)}")
    emit(args, text, lambda: {
        "qvalid_version": __version__, "command": "validate", "file": args.file, "ok": True,
        "study": study_block(s), "sort_ids": list(s.sort_ids), "statement_ids": list(s.statement_ids),
        "statement_texts": None if s.statement_texts is None else list(s.statement_texts)})
    return EXIT_OK
