"""Results of R scripts read back, so that ``qvalid diff`` can guard an analysis done in R without Python code:

- a ``qmethod()`` value saved with ``saveRDS(results, "results.rds")``: read through rpy2 (``readRDS`` in
  ``qmethod_steps.R``'s ``saved()``), converted exactly as a live run (:func:`qvalid.r.qmethod.to_rrun`,
  :func:`qvalid.r.qmethod.as_result`), full precision;
- the text ``export.qm(results, file = "results.txt")`` writes (``style = "R"``, the default: qmethod's
  ``print.QmethodRes`` with ``length`` = all rows, ``options(digits = 2)``, R/export.qm.R and R/print.QmethodRes.R):
  parsed here without R. Its numbers are as printed, so every cell keeps its number of decimals
  (:attr:`SavedResult.decimals`) and is compared at that precision.

Neither holds the correlation matrix or the unrotated loadings (``qmethod()`` does not return them): they are
listed in :attr:`RRun.missing` and not compared. ``export.qm(style = "PQMethod")`` is refused (write the R style).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from ..errors import QInputError
from ..results import QResult
from ..study import QStudy
from . import session
from .qmethod import CHAR_FIELDS, RRun, as_result, to_rrun
from .session import RConsole

__all__ = ["SavedResult", "read_rds", "parse_export_qm", "NOT_SAVED", "NO_QDC"]

#: Why the correlation and unrotated loadings are never in a saved result.
NOT_SAVED = "qmethod() does not return it (not in a saved result)"


@dataclass(frozen=True)
class SavedResult:
    """An R qmethod result read from a file.

    Attributes
    ----------
    rrun : RRun
        Route ``"saved"`` (rds) or ``"export.qm"`` (text).
    result : QResult
        :func:`~qvalid.r.qmethod.as_result` of it.
    source : {"rds", "export.qm"}
    path : str
    nfactors : int
    options : dict
        qmethod's ``extraction`` (``pca``/``centroid``), ``rotation``, ``cor_method`` and ``spc`` as the result's
        brief records them; a value is None when the brief does not know it (``qzscores()``: "loadings were
        provided separately").
    manual_flags : bool
        The brief's flagging is not ``automatic``.
    version : str or None
        The qmethod version that made it.
    decimals : dict or None
        Text only: output name -> decimals of every printed cell (int array shaped as the output).
    info : tuple of str
        The brief's summary lines.
    """

    rrun: RRun
    result: QResult
    source: str
    path: str
    nfactors: int
    options: dict
    manual_flags: bool
    version: str | None
    decimals: dict | None = None
    info: tuple = field(default=())

    @property
    def missing(self) -> dict:
        return dict(self.rrun.missing)


# ---------------------------------------------------------------------------------------------------- brief
def _brief_options(extraction: str | None, rotation: str | None, cor_method: str | None) -> dict:
    """qmethod's brief (``"PCA"``, ``"centroid (threshold = 1e-05)"``, ``"Unknown: ..."``) as qvalid's options."""
    out = {"extraction": None, "rotation": None, "cor_method": None, "spc": None}
    e = (extraction or "").strip()
    if e == "PCA":
        out["extraction"] = "pca"
    elif e.startswith("centroid"):
        out["extraction"] = "centroid"
        m = re.search(r"threshold = ([0-9.eE+-]+)", e)
        out["spc"] = float(m.group(1)) if m else None
    if rotation and not rotation.startswith("Unknown"):
        out["rotation"] = rotation.strip()
    if cor_method and not cor_method.startswith("Unknown"):
        out["cor_method"] = cor_method.strip()
    return out


def _study(values, statement_ids, sort_ids, forced: bool, grid, path) -> QStudy:
    if not forced and grid is None:
        raise QInputError("the R result is of a non-forced study and does not record its distribution: give the "
                          "grid (--grid)", file=path)
    try:
        return QStudy(np.asarray(values), tuple(statement_ids), tuple(sort_ids), grid=None if forced else grid,
                      forced=forced, source=str(path))
    except QInputError as err:
        raise QInputError(f"the R result's dataset is not a valid study: {err.reason}", file=path) from None


#: Why a saved result of two or more factors may lack the distinguishing statements.
NO_QDC = "not in the saved result (a qzscores() value: qdc() was not run)"


def _finish(rrun: RRun, source: str, path, brief: dict, manual: bool, version, decimals=None, info=()):
    missing = {**{n: NOT_SAVED for n in ("correlation", "unrotated_loadings")},
               **{n: v for n, v in rrun.missing.items() if n not in ("correlation", "unrotated_loadings")}}
    if rrun.outputs.get("qdc") is None and rrun.outputs.get("qdc_message") is None and rrun.nfactors > 1:
        missing.setdefault("qdc", NO_QDC)
    rrun = replace(rrun, missing=missing)
    return SavedResult(rrun=rrun, result=as_result(rrun), source=source, path=str(path), nfactors=rrun.nfactors,
                       options=brief, manual_flags=manual, version=version, decimals=decimals, info=tuple(info))


# ---------------------------------------------------------------------------------------------------- rds
def read_rds(path, *, grid=None) -> SavedResult:
    """A ``qmethod()`` (or ``qzscores()``) value saved with ``saveRDS``; needs rpy2, R and qmethod. ``grid`` as
    for :func:`parse_export_qm`."""
    from rpy2.rinterface_lib.embedded import RRuntimeError

    if not Path(path).is_file():
        raise QInputError("cannot read the file: No such file", file=path)
    r = session.require_r()
    try:
        with RConsole() as console:
            out = r.saved(str(path))
    except RRuntimeError as err:
        msg = " ".join(str(err).split()).removeprefix("Error in (function (path) :").strip()
        raise QInputError(f"cannot read it as a saved qmethod result: {msg}", file=path) from None

    def get(name):
        v = out.rx2(name)
        return None if type(v).__name__ == "NULLType" else v

    def text(name):
        v = get(name)
        return None if v is None else str(v[0])

    with r.localconverter(r.ro.default_converter + r.numpy2ri.converter) as cv:
        data = np.array(cv.rpy2py(get("dataset")), dtype=np.float64)
    st_ids = [str(x) for x in get("statement_ids")]
    so_ids = [str(x) for x in get("sort_ids")]
    study = _study(data.reshape(len(st_ids), len(so_ids)), st_ids, so_ids, bool(get("distro")[0]), grid, path)
    k = int(get("nfactors")[0])
    brief = _brief_options(text("extraction"), text("rotation"), text("cor_method"))
    manual = text("flagging") != "automatic"
    rrun = to_rrun(r, out, study, k, "PCA" if brief["extraction"] != "centroid" else "centroid",
                   brief["rotation"] or "varimax", brief["cor_method"] or "pearson", brief["spc"] or 1e-5, manual,
                   f'readRDS("{Path(path).name}")', console.stdout + console.stderr, float("nan"))
    version = text("version")
    rrun = replace(rrun, versions={"qmethod": version} if version else {})
    return _finish(rrun, "rds", path, brief, manual, version, info=[str(x) for x in (get("info") or [])])


# ---------------------------------------------------------------------------------------------------- export.qm
_SECTIONS = {"Original data :": "dataset", "Q-sort factor loadings :": "loa", "Flagged Q-sorts :": "flagged",
             "Statement z-scores :": "zsc", "Statement factor scores :": "zsc_n",
             "Factor characteristics:": "f_char", "General factor characteristics:": "characteristics",
             "Correlation between factor z-scores:": "cor_zsc",
             "Standard error of differences between factors:": "sd_dif",
             "Distinguishing and consensus statements :": "qdc"}
_NUM = re.compile(r"^-?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def parse_export_qm(text: str, *, path="export.qm text", grid=None) -> SavedResult:
    """The outputs printed by ``export.qm(results, file)`` (``style = "R"``), parsed without R; :class:`QInputError`
    naming the line when the text is not such a print (truncated, PQMethod style, a table of the wrong shape).

    ``grid``: the distribution of a non-forced study (the text does not print it); a forced study's grid is
    taken from its first sort, as qmethod does. (The file is read by the caller, e.g. with
    :func:`qvalid.io.files.read_text`.)"""
    lines = text.splitlines()
    if not lines or not lines[0].startswith(("Q-method analysis.", "Q-method z-scores.")):
        raise QInputError("not an export.qm text (it should start with qmethod's summary, \"Q-method analysis.\")",
                          file=path, line=1)
    if any(ln.strip() == "Correlation Matrix Between Sorts" for ln in lines):
        raise QInputError("export.qm(style = \"PQMethod\") output is not read: write it with export.qm(results, "
                          "file) (style \"R\", the default)", file=path)
    info, sections = _split(lines, path)
    brief = _brief_options(info.get("Extraction"), info.get("Rotation"), info.get("Correlation coefficient"))
    m = re.match(r"(\d+) statements, (\d+) Q-sorts", info.get("Original data", ""))
    if not m or "Number of factors" not in info:
        raise QInputError("the summary lacks 'Original data: N statements, M Q-sorts' or 'Number of factors'",
                          file=path)
    n_st, n_so, k = int(m.group(1)), int(m.group(2)), int(float(info["Number of factors"]))
    for name in ("dataset", "loa", "flagged", "zsc", "zsc_n"):
        if name not in sections:
            raise QInputError(f"no '{_title(name)}' table", file=path)
    # the dataset: row names are the statement ids (left-aligned), every cell an integer
    cols, rows, cells, line0 = _table(sections["dataset"], None, path)
    study = _study(_numbers(cells, path, line0, "dataset", integer=True)[0], rows, cols,
                   info.get("Forced distribution", "TRUE") == "TRUE", grid, path)
    if study.n_statements != n_st or study.n_sorts != n_so:
        raise QInputError(f"the dataset has {study.n_statements} statements x {study.n_sorts} Q-sorts, the summary "
                          f"says {n_st} x {n_so}", file=path, line=line0)
    st, so = list(study.statement_ids), list(study.sort_ids)
    fn = [f"f{j + 1}" for j in range(k)]
    outputs, decimals = {}, {}

    def table(name, row_ids, columns, *, kind="number"):
        if name not in sections:
            return None
        cols, rows, cells, ln = _table(sections[name], row_ids, path)
        if cols != columns:
            raise QInputError(f"'{_title(name)}': columns {' '.join(cols)}, expected {' '.join(columns)}", file=path,
                              line=ln)
        if kind == "flag":
            bad = [c for r in cells for c in r if c not in ("TRUE", "FALSE")]
            if bad:
                raise QInputError(f"'{_title(name)}': {bad[0]!r} is not TRUE or FALSE", file=path, line=ln)
            return np.array([[c == "TRUE" for c in r] for r in cells], dtype=float)
        if kind == "text":
            return cells
        vals, dec = _numbers(cells, path, ln, _title(name))
        decimals[name] = dec
        return vals

    outputs["loadings"] = table("loa", so, fn)
    outputs["flags"] = table("flagged", so, [f"flag_{f}" for f in fn], kind="flag") == 1.0
    outputs["zscores"] = table("zsc", st, [f"zsc_{f}" for f in fn])
    outputs["factor_arrays"] = table("zsc_n", st, [f"fsc_{f}" for f in fn])
    decimals.pop("zsc_n", None)
    ch = table("characteristics", fn, list(CHAR_FIELDS))
    if ch is not None:
        outputs["characteristics"] = {c: ch[:, j] for j, c in enumerate(CHAR_FIELDS)}
        dch = decimals.pop("characteristics")
        for j, c in enumerate(CHAR_FIELDS):
            if c != "nload":
                decimals[f"characteristics.{c}"] = dch[:, j]
    outputs["cor_zsc"] = table("cor_zsc", [f"zsc_{f}" for f in fn], [f"zsc_{f}" for f in fn])
    outputs["sd_dif"] = table("sd_dif", fn, fn)
    outputs["qdc"] = None
    if "qdc" in sections:
        cols, rows, cells, ln = _table(sections["qdc"], st, path)
        pairs = [c for c in cols[1:] if not c.startswith("sig_")]
        if cols != ["dist.and.cons"] + [x for p in pairs for x in (p, f"sig_{p}")] or not pairs:
            raise QInputError(f"'{_title('qdc')}': unexpected columns {' '.join(cols)}", file=path, line=ln)
        vals, dec = _numbers([[r[1 + 2 * j] for j in range(len(pairs))] for r in cells], path, ln, _title("qdc"))
        outputs["qdc"] = {"labels": np.array([r[0] for r in cells], dtype=object), "pairs": tuple(pairs),
                          "diffs": vals, "stars": np.array([[r[2 + 2 * j] for j in range(len(pairs))]
                                                            for r in cells], dtype=object)}
        decimals["qdc.diffs"] = dec
    names = {"loa": "loadings", "zsc": "zscores"}
    decimals = {names.get(n, n): d for n, d in decimals.items()}
    missing = {n: "not in the export.qm text" for n, key in (("characteristics", "characteristics"),
                                                             ("cor_zsc", "cor_zsc"), ("sd_dif", "sd_dif"))
               if key not in sections}
    rrun = RRun(study=study, nfactors=k,
                options={"extraction": brief["extraction"] or "pca", "rotation": brief["rotation"] or "varimax",
                         "cor_method": brief["cor_method"] or "pearson", "spc": brief["spc"] or 1e-5,
                         "forced": study.forced, "manual_flags": info.get("Flagging", "") != "automatic"},
                call=f"export.qm(results, \"{Path(str(path)).name}\")", route="export.qm",
                outputs={**outputs, "correlation": None, "unrotated_loadings": None},
                missing=missing, versions={"qmethod": info["'qmethod' package version"]}
                if "'qmethod' package version" in info else {})
    return _finish(rrun, "export.qm", path, brief, rrun.options["manual_flags"],
                   info.get("'qmethod' package version"), decimals=decimals, info=info.get("_lines", ()))


def _title(name: str) -> str:
    return next(t for t, n in _SECTIONS.items() if n == name).rstrip(" :")


def _split(lines, path):
    """(the summary as key -> value, section name -> [(line number, text), ...])."""
    info, i = {"_lines": []}, 0
    while i < len(lines) and lines[i].strip():
        key, sep, val = lines[i].partition(":")
        if sep:
            info[key.strip()] = val.strip()
        info["_lines"].append(lines[i].rstrip())
        i += 1
    sections, current = {}, None
    for n, line in enumerate(lines[i:], start=i + 1):
        t = line.strip()
        if "(...) See item" in line:
            raise QInputError("the text is truncated (qmethod's print shows 10 rows by default): write it with "
                              "export.qm(results, file), which prints every row", file=path, line=n)
        if t in _SECTIONS:
            current = _SECTIONS[t]
            sections[current] = []
        elif current is not None and t:
            sections[current].append((n, line.rstrip("\n")))
        elif current is not None and not t and sections[current]:
            current = None if current != "f_char" else current
    return info, sections


def _table(rows, row_ids, path):
    """A table printed by R, possibly in several blocks of columns (R wraps wide tables at 80 characters): each
    block is a header line (starting with blanks: the row-name column) and one line per row. Columns are
    right-aligned, so a cell is the text between the end of the previous column's name and the end of its own.
    ``row_ids`` are the known row names (None: the first column is a number, and the row name is what precedes
    it). Returns (columns, row names, cells as text, line of the first header)."""
    if not rows:
        raise QInputError("an empty table", file=path)
    if not rows[0][1][:1].isspace():
        raise QInputError("expected a table header (column names after the row-name column)", file=path,
                          line=rows[0][0])
    columns, names, cells, block, j = [], [], [], None, 0
    width = max(len(x) for x in row_ids) if row_ids else None
    for n, line in rows:
        if line[:1].isspace():
            spans = [(m.start(), m.end(), m.group()) for m in re.finditer(r"\S+", line)]
            block = (len(columns), spans)
            columns += [s[2] for s in spans]
            j = 0
            continue
        start0, spans = block[0], block[1]
        if row_ids is None:
            head, _, _ = line[: spans[0][1]].rstrip().rpartition(" ")
            name = head.strip()
            left = len(head)
        else:
            if j >= len(row_ids) or not (line.startswith(row_ids[j]) and line[len(row_ids[j]):][:1].isspace()):
                raise QInputError(f"expected the row of {row_ids[j] if j < len(row_ids) else 'no more rows'}",
                                  file=path, line=n)
            name, left = row_ids[j], width
        if start0 == 0:
            names.append(name)
            cells.append([])
        elif j >= len(cells) or names[j] != name:
            raise QInputError(f"row {name!r} of a continued table does not match the first block", file=path, line=n)
        prev = left
        for _, end, _ in spans:
            cells[j].append(line[prev:end].strip())
            prev = end
        j += 1
    if any(len(c) != len(columns) for c in cells):
        raise QInputError("rows of different lengths", file=path, line=rows[0][0])
    return columns, names, cells, rows[0][0]


def _numbers(cells, path, line, what, *, integer=False):
    """Cells as floats (``NA`` -> NaN) and the decimals each was printed with (``1.2e-05``: 6)."""
    vals = np.full((len(cells), len(cells[0]) if cells else 0), np.nan)
    dec = np.zeros(vals.shape, dtype=np.int64)
    for i, row in enumerate(cells):
        for j, c in enumerate(row):
            if c == "NA":
                continue
            if not _NUM.match(c) or (integer and not re.fullmatch(r"-?\d+", c)):
                raise QInputError(f"'{what}': {c!r} is not a{'n integer' if integer else ' number'}", file=path,
                                  line=line)
            vals[i, j] = float(c)
            mant, _, exp = c.lower().partition("e")
            dec[i, j] = len(mant.partition(".")[2]) - (int(exp) if exp else 0)
    return vals, dec
