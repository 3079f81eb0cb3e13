"""Example data shipped inside the package (``qvalid/data/``).

The files are byte-identical copies of those in ``reference/data/``, where their provenance, licences and md5 sums
are documented (``reference/data/*/PROVENANCE.md``).

- Lipset (Brown 1980; R qmethod's ``data(lipset)``, ``data/lipset.rda`` converted with ``write.csv``): 33 statements
  x 9 Q-sorts, forced grid -4..+4.
- NAV Innlandet AAP evaluation 2023 (Phase 2): the grid, the 36 statements and the published rotated loadings of
  the 25 Q-sorts (the raw Q-sorts were never published).
"""

from __future__ import annotations

import csv
import io
from contextlib import contextmanager
from importlib import resources

from .io.csv import read_csv
from .io.statements import attach_statement_texts, read_statement_texts
from .study import QStudy

__all__ = ["load_lipset", "nav_grid", "nav_statements", "nav_published_loadings"]


@contextmanager
def _data_file(name: str):
    """A real filesystem path to ``qvalid/data/<name>`` (extracted if the package is zipped)."""
    with resources.as_file(resources.files("qvalid") / "data" / name) as path:
        yield path


def _data_text(name: str) -> str:
    return (resources.files("qvalid") / "data" / name).read_text(encoding="utf-8-sig")


def load_lipset() -> QStudy:
    """The Lipset study as R qmethod ships it (``lipset$ldata`` with the wordings of ``lipset$ltext``).

    Returns
    -------
    QStudy
        33 statements (``sta_1..sta_33``) x 9 Q-sorts (``US1 US2 US3 US4 JP5 CA6 UK7 US8 FR9``), forced grid
        -4..+4 with 2,3,4,5,5,5,4,3,2 cells, statement texts included, ``name="lipset"``.
    """
    with _data_file("lipset_statements.csv") as path:
        texts = read_statement_texts(path)
    with _data_file("lipset.csv") as path:
        study = read_csv(path, name="lipset")
    return attach_statement_texts(study, texts)


def nav_grid() -> dict[int, int]:
    """The NAV study's forced grid, score -> cells: -5..+5 with 1,2,3,4,5,6,5,4,3,2,1 (36 cells)."""
    rows = list(csv.DictReader(io.StringIO(_data_text("nav_aap_2023_distribution.csv"))))
    return {int(r["score"]): int(r["cells"]) for r in rows}


def nav_statements():
    """The NAV study's 36 statements.

    Returns
    -------
    pandas.DataFrame
        Index ``id`` (1..36); columns ``text_no`` (the report's Norwegian wording, typos kept), ``text_en`` (an
        English translation made for this project, not part of the report) and ``seed_line`` (line of the
        report's text version, provenance only).
    """
    import pandas as pd

    return pd.read_csv(io.StringIO(_data_text("nav_aap_2023_statements.csv")), index_col="id")


def nav_published_loadings():
    """The NAV report's Tabell 5: rotated centroid loadings of the 25 Q-sorts on 4 factors, as printed.

    Returns
    -------
    pandas.DataFrame
        Index ``participant`` (the report's pseudonyms, e.g. ``01ZH``), float columns ``f1``..``f4``. The misprint
        ``0.+13723`` (01ZH, f2) is recorded as 0.13723 (see the CSV's ``note`` column and the PROVENANCE).
    """
    import pandas as pd

    frame = pd.read_csv(io.StringIO(_data_text("nav_aap_2023_loadings_published.csv")),
                        dtype={"participant": str}, index_col="participant")
    return frame[["f1", "f2", "f3", "f4"]].astype(float)
