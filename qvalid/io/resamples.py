"""qmboots' resamples as a file: replaying an R bootstrap run in qvalid (``qvalid bootstrap --indices FILE``).

R qmethod's ``qmboots`` returns ``$resamples``: a data frame of one row per position and one column per step
(``bsampl_1``, ``bsampl_2``, ...) holding the 1-based numbers of the Q-sorts drawn (R/qmboots.R). ``write.csv(
boots$resamples, "resamples.csv")`` writes it with the row names in a first, unnamed column. :func:`read_resamples`
reads that file (the row-name column is optional) and returns qvalid's index matrix, shape (n_steps, n_qsorts),
0-based (:func:`qvalid.stability.resample.from_qmboots` does the same for the data frame itself).
"""

from __future__ import annotations

import numpy as np

from ..errors import QInputError
from ..numbers import NumberError, number
from .csv import sniff_separator, split_records
from .files import read_text

__all__ = ["read_resamples"]


def read_resamples(path, n_sorts: int | None = None, *, encoding=None) -> np.ndarray:
    """The resamples of a qmboots run from ``write.csv(result$resamples)``: (n_steps, n_qsorts) 0-based indices.

    Raises
    ------
    QInputError
        One line naming the file and line: no columns of steps, a cell that is not a whole sort number 1..n, a
        number of rows other than the study's number of Q-sorts (``n_sorts``).
    """
    text = read_text(path, encoding)
    records = split_records(text, sniff_separator(text, path), path)
    if len(records) < 2:
        raise QInputError("expected a header (bsampl_1, bsampl_2, ...) and one row per Q-sort position", file=path)
    (hline, header), body = records[0], records[1:]
    first = 1 if (not header[0].strip() or not header[0].strip().lower().startswith("bsampl")) else 0
    if len(header) - first < 1:
        raise QInputError("no columns of resampling steps", file=path, line=hline)
    rows = []
    for line, row in body:
        if len(row) != len(header):
            raise QInputError(f"row has {len(row)} fields, the header has {len(header)}", file=path, line=line)
        try:
            rows.append([number(c, whole=True) for c in row[first:]])
        except NumberError as err:
            raise QInputError(f"{err.value!r} is not a Q-sort number ({err.reason})", file=path, line=line) from None
    r = np.array(rows, dtype=np.int64)
    n = r.shape[0] if n_sorts is None else n_sorts
    if r.shape[0] != n:
        raise QInputError(f"{r.shape[0]} rows (Q-sort positions), the study has {n} Q-sorts", file=path)
    if r.min() < 1 or r.max() > n:
        raise QInputError(f"sort numbers must lie in 1..{n} (qmboots numbers the Q-sorts from 1), found "
                          f"{r.min()}..{r.max()}", file=path)
    return (r.T - 1).astype(np.int64)
