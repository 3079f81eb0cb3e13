"""A result's tables as CSV files (``qvalid analyze --output DIR``), written atomically.

One file per table, with qmethod's column names (:class:`~qvalid.results.QResult`'s ``loa``, ``flagged``,
``zsc``, ``zsc_n``, ``f_char``, ``qdc``), floats at full precision, statement texts in a last ``text`` column where
the study has them:

==================== ============================================================================================
``loadings.csv``     sort, f1..fk (final loadings), flag_f1..flag_fk (1 = defining sort)
``flags.csv``        sort, f1..fk as 1/0: the flags in the format :func:`qvalid.io.read_flags` reads (``--flags``)
``zscores.csv``      statement, zsc_f1..zsc_fk
``arrays.csv``       statement, fsc_f1..fsc_fk (blank for a factor without flagged sorts)
``characteristics.csv`` factor, av_rel_coef, nload, eigenvals, expl_var, reliability, se_fscores
``qdc.csv``          statement, dist.and.cons, then per factor pair f1_f2, sig_f1_f2 (only with >= 2 flagged factors)
==================== ============================================================================================
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import QInputError
from .files import atomic_write, refuse_source

__all__ = ["write_tables", "TABLES"]

#: File names written by :func:`write_tables`, in order (``qdc.csv`` only when there are distinguishing statements).
TABLES = ("loadings.csv", "flags.csv", "zscores.csv", "arrays.csv", "characteristics.csv", "qdc.csv")


def write_tables(result, directory) -> list[Path]:
    """Write the result's tables (see the module docstring) into ``directory`` (created if missing), atomically.

    All files are written to temporary files first and renamed together; none of them may be the study's source
    file (:class:`QInputError`, nothing written). Existing tables of an earlier run are replaced.

    Returns
    -------
    list of Path
        The files written.
    """
    directory = Path(directory)
    try:
        os.makedirs(directory, exist_ok=True)
    except OSError as err:
        raise QInputError(f"cannot create the output directory: {err.strerror or err}", file=directory) from None
    texts = result.study.statement_texts

    def with_text(frame):
        return frame if texts is None else frame.assign(text=list(texts))

    flags = result.flagged.astype(int)
    frames = {
        "loadings.csv": (result.loa.join(flags), "sort"),
        "flags.csv": (flags.set_axis(result.factors, axis=1), "sort"),
        "zscores.csv": (with_text(result.zsc), "statement"),
        "arrays.csv": (with_text(result.zsc_n), "statement"),
        "characteristics.csv": (result.f_char["characteristics"], "factor"),
    }
    if result.qdc is not None:
        frames["qdc.csv"] = (with_text(result.qdc), "statement")
    contents = {directory / name: frame.to_csv(index_label=label, lineterminator="\n")
                for name, (frame, label) in frames.items()}
    refuse_source(result.study, *contents)
    atomic_write(contents)
    return list(contents)
