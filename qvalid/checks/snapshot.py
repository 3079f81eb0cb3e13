"""Snapshots of an analysis and the diff of every later run against them (``qvalid snapshot`` / ``qvalid diff``,
the ``qsnapshot`` pytest fixture).

A snapshot (``*.qsnap.json``, schema :data:`SCHEMA`) holds everything needed to run an analysis again and to tell
what moved: the study itself (scores, ids, grid; plus the input file's name and SHA-256), the number of factors and
every option with its value made explicit (read from :data:`qvalid.options.OPTION_INFO`), manual flags, the
versions it was made with, and the outputs of each *side* in the JSON contract (``QResult.to_dict``): ``qvalid``
(:func:`qvalid.analyze`) and/or ``r`` (R qmethod, run live through rpy2 or read from a saved result).

:func:`diff_snapshot` runs the recorded analysis again (or takes a result read elsewhere, e.g. an R script's
``saveRDS`` file) and compares it side by side with :func:`qvalid.checks.compare.compare`; every difference is
classified as *reported* (it changes what a paper prints: flags, factor arrays, stars, labels, the consensus set, a
value at its print precision :data:`qvalid.checks.diff.PRINT_DIGITS`) or *numerical only*. Both sides go through the
JSON contract (``to_dict`` and :func:`result_from_dict`), so what is compared is exactly what the snapshot stores.

Results printed as text (qmethod's ``export.qm``) carry their own precision: the decimals of each printed cell.
Such a side is compared as printed: both sides rounded to the coarser of the two precisions, cell by cell (a value
within a millionth of a rounding boundary may print either way and counts as equal).
"""

from __future__ import annotations

import hashlib
import json
import platform
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import scipy

from .._version import __version__
from ..core.characteristics import Characteristics, Distinguishing
from ..diagnostics import WARNINGS, QWarning
from ..errors import QInputError
from ..io.files import atomic_write, read_text
from ..jsonable import jsonable
from ..options import OPTION_INFO, Options, resolve_options
from ..pipeline import analyze
from ..results import QResult
from ..study import QStudy, format_score
from .compare import compare, resolve_digits
from .crosscheck import r_solution
from .diff import MAX_CELLS, Cell, Diff, OutputDiff, printed

__all__ = ["SCHEMA", "SUFFIX", "SIDES", "KINDS", "FAIL_ON", "Snapshot", "Side", "SnapshotDiff", "snapshot_dict",
           "qvalid_side", "r_side", "load_snapshot", "parse_snapshot", "write_snapshot", "dumps", "result_from_dict",
           "study_dict", "study_from_dict", "study_sha256", "file_sha256", "current_versions", "diff_snapshot",
           "compare_side", "compare_studies", "compare_flags", "compare_options", "compare_brief", "table_snapshot_dict", "version_notes",
           "junit_xml"]

#: The snapshot schema this qvalid writes and reads; a snapshot of another schema is refused in one line.
SCHEMA = 1
#: The file suffix of a snapshot.
SUFFIX = ".qsnap.json"
#: The sides a snapshot can hold: qvalid's analysis and R qmethod's.
SIDES = ("qvalid", "r")
#: What a snapshot holds: an analysis (``qvalid snapshot``, the fixture on a QResult), a bootstrap or the
#: number-of-factors evidence (the fixture; compared by :mod:`qvalid.checks.tables`).
KINDS = ("analysis", "bootstrap", "factors")
#: When ``qvalid diff`` fails: ``any`` difference beyond tolerance, or only ``reported`` ones.
FAIL_ON = ("any", "reported")
#: The versions recorded for qvalid's side (R's side records R, qmethod, psych and rpy2).
VERSION_KEYS = ("qvalid", "numpy", "scipy", "python")
_CHAR = ("av_rel_coef", "eigenvals", "expl_var", "reliability", "se_fscores")


# ---------------------------------------------------------------------------------------------------- sides
@dataclass(frozen=True)
class Side:
    """One side's outputs: a :class:`~qvalid.results.QResult` and where it came from.

    Attributes
    ----------
    result : QResult
    source : str
        ``"qvalid"`` (:func:`qvalid.analyze`), ``"rpy2"`` (R qmethod run live), ``"rds"`` (a ``saveRDS`` file),
        ``"export.qm"`` (qmethod's printed text).
    missing : dict
        Output -> why this side has no value for it (R failed; a text does not print it): not compared.
    decimals : dict or None
        For a printed text: output -> decimals of each cell (int arrays shaped as the output); None at full
        precision.
    file, call, route : str or None
        The file read, the R call, qmethod's route (``RRun.route``).
    versions : dict
        Versions of what computed it (R, qmethod, psych, rpy2 for R).
    brief : dict or None
        A saved R result: the options its brief records (``extraction``, ``rotation``, ``cor_method``, ``spc``;
        None where unknown); compared with the snapshot's options (output ``options``).
    """

    result: QResult
    source: str
    missing: dict = field(default_factory=dict)
    decimals: dict | None = None
    file: str | None = None
    call: str | None = None
    route: str | None = None
    versions: dict = field(default_factory=dict)
    brief: dict | None = None

    def to_dict(self) -> dict:
        return {"source": self.source, "file": self.file, "call": self.call, "route": self.route,
                "versions": dict(self.versions), "missing": dict(self.missing),
                "decimals": None if self.decimals is None else {k: np.asarray(v).tolist()
                                                                for k, v in self.decimals.items()},
                "result": self.result.to_dict()}


def qvalid_side(result: QResult) -> Side:
    """qvalid's own analysis as a side."""
    return Side(result, "qvalid")


def r_side(study: QStudy, nfactors: int, options: Options, *, flags=None, timeout: float = 120.0) -> Side:
    """R qmethod run live with these options (:func:`qvalid.checks.crosscheck.r_solution`, which refuses options
    R has no counterpart for)."""
    res, rrun = r_solution(study, nfactors, flags=flags, timeout=timeout, **options.to_dict())
    return Side(res, "rpy2", missing=dict(rrun.missing), call=rrun.call, route=rrun.route,
                versions=dict(rrun.versions))


def current_versions() -> dict:
    """qvalid, numpy, scipy and Python as running now."""
    return {"qvalid": __version__, "numpy": np.__version__, "scipy": scipy.__version__,
            "python": platform.python_version()}


# ---------------------------------------------------------------------------------------------------- study
def study_dict(study: QStudy) -> dict:
    """The study embedded in a snapshot: name, ids, grid (score as printed -> cells), forced, texts, scores."""
    return {"name": study.name, "statement_ids": list(study.statement_ids), "sort_ids": list(study.sort_ids),
            "grid": {format_score(k): v for k, v in study.grid.items()}, "forced": study.forced,
            "statement_texts": None if study.statement_texts is None else list(study.statement_texts),
            "scores": study.scores.tolist()}


def study_from_dict(d: dict, source: str | None = None) -> QStudy:
    """The inverse of :func:`study_dict` (validated as any study)."""
    grid = {int(k): int(v) for k, v in d["grid"].items()}
    texts = d.get("statement_texts")
    rows = d["scores"]
    if not (isinstance(rows, list) and rows and all(isinstance(r, list) and len(r) == len(rows[0]) for r in rows)
            and all(isinstance(v, int) and not isinstance(v, bool) for r in rows for v in r)):
        bad = next((v for r in rows if isinstance(r, list) for v in r
                    if not isinstance(v, int) or isinstance(v, bool)), None) if isinstance(rows, list) else rows
        raise ValueError("study.scores must be a table of whole numbers, one row of equal length per statement"
                         + (f" (found {bad!r})" if bad is not None else " (rows of unequal length)"))
    return QStudy(np.asarray(rows, dtype=np.int64), tuple(d["statement_ids"]), tuple(d["sort_ids"]),
                  grid=grid, forced=bool(d["forced"]), statement_texts=None if texts is None else tuple(texts),
                  name=str(d.get("name") or ""), source=source)


def study_sha256(study: QStudy) -> str:
    """SHA-256 of what the analysis reads of a study: ids, grid, ``forced`` and the scores (not texts or name)."""
    key = json.dumps([list(study.statement_ids), list(study.sort_ids), sorted(study.grid.items()), study.forced,
                      study.scores.tolist()], separators=(",", ":"))
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def file_sha256(path) -> str:
    """SHA-256 of a file's bytes."""
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError as err:
        raise QInputError(f"cannot read the file: {err.strerror or err}", file=path) from None


def compare_studies(old: QStudy, new: QStudy) -> OutputDiff:
    """The study a snapshot recorded against the one analysed now, as an exact output named ``input``: ids, grid,
    ``forced`` and every score. A changed wording or name is no difference (no number can move with it)."""
    rows = {"sort": list(old.sort_ids), "statement": list(old.statement_ids)}
    what = []
    for kind in ("statement", "sort"):
        a, b = rows[kind], list(getattr(new, f"{kind}_ids"))
        if a != b:
            gone = [x for x in a if x not in b]
            added = [x for x in b if x not in a]
            what.append(f"{kind} ids differ" + (f": {len(gone)} gone ({_few(gone)})" if gone else "")
                        + (f"{',' if gone else ':'} {len(added)} new ({_few(added)})" if added else "")
                        + ("" if gone or added else ": the same ids in another order"))
    if dict(old.grid) != dict(new.grid) or old.forced != new.forced:
        what.append("the grid or forced/non-forced changed")
    if what:
        return OutputDiff("input", "exact", "shape", note="; ".join(what), n_reported=1)
    bad = np.argwhere(old.scores != new.scores)
    cells = tuple(Cell(f"statement {rows['statement'][i]}, sort {rows['sort'][j]}", (int(i), int(j)),
                       int(old.scores[i, j]), int(new.scores[i, j])) for i, j in bad[:MAX_CELLS])
    return OutputDiff("input", "exact", "differs" if len(bad) else "ok", n_cells=int(old.scores.size),
                      n_bad=int(len(bad)), worst=cells[0] if cells else None, mismatches=cells,
                      note=f"{len(bad)} score(s) changed" if len(bad) else "", n_reported=int(len(bad)))


def compare_flags(snap: Snapshot, flags) -> OutputDiff:
    """The manual flags recorded against those read now, as an exact output named ``input.flags``."""
    old = snap.flags
    new = np.asarray(flags, dtype=bool)
    if old is None or old.shape != new.shape:
        what = "the snapshot has no manual flags" if old is None else f"shapes {old.shape} vs {new.shape}"
        return OutputDiff("input.flags", "exact", "shape", note=what, n_reported=1)
    ids = list(snap.study.sort_ids)
    bad = np.argwhere(old != new)
    cells = tuple(Cell(f"sort {ids[i]}, f{j + 1}", (int(i), int(j)), bool(old[i, j]), bool(new[i, j]))
                  for i, j in bad[:MAX_CELLS])
    return OutputDiff("input.flags", "exact", "differs" if len(bad) else "ok", n_cells=int(old.size),
                      n_bad=int(len(bad)), worst=cells[0] if cells else None, mismatches=cells,
                      note=f"{len(bad)} manual flag(s) changed" if len(bad) else "", n_reported=int(len(bad)))


def _few(ids) -> str:
    return ", ".join(ids[:3]) + (", ..." if len(ids) > 3 else "")


# ---------------------------------------------------------------------------------------------------- JSON -> result
def result_from_dict(d: dict, study: QStudy) -> QResult:
    """A :class:`~qvalid.results.QResult` from its JSON contract (``QResult.to_dict``) and its study.

    What the contract does not carry is left undefined: ``rotation_matrix`` and ``weights`` are NaN (no comparison
    reads them). Warnings with a registered code become :class:`~qvalid.diagnostics.QWarning`, others stay text.
    Options the contract names but this qvalid does not know are ignored here (the snapshot checks them).
    """
    k = int(d["options"]["nfactors"])
    n_so, n_st = study.n_sorts, study.n_statements
    if list(d["sort_ids"]) != list(study.sort_ids) or list(d["statement_ids"]) != list(study.statement_ids):
        raise ValueError("the result's sort or statement ids are not the study's")
    opts = resolve_options("qmethod", **{n: v for n, v in d["options"].items() if n in OPTION_INFO})
    c = d["characteristics"]
    chars = Characteristics(**{n: _arr(c[n], (k,), f"characteristics.{n}") for n in _CHAR},
                            nload=np.asarray(c["nload"], dtype=np.int64).reshape(k),
                            cor_zsc=_arr(d["cor_zsc"], (k, k), "cor_zsc"), sd_dif=_arr(d["sd_dif"], (k, k), "sd_dif"))
    dist = None
    per = d["distinguishing"]["per_statement"]
    if per:
        names = list(per[0]["diffs"])
        factors = list(d["factors"])
        pairs = tuple((factors.index(a), factors.index(b)) for a, b in (n.split("_") for n in names))
        if len(per) != n_st:
            raise ValueError(f"distinguishing: {len(per)} statements, expected {n_st}")
        dist = Distinguishing(
            factors=tuple(sorted({i for pq in pairs for i in pq})), pairs=pairs,
            diffs=_arr([[p["diffs"][n] for n in names] for p in per], (n_st, len(names)), "qdc.diffs"),
            stars=np.array([[str(p["stars"][n]) for n in names] for p in per], dtype=object).reshape(n_st, -1),
            labels=np.array([str(p["label"]) for p in per], dtype=object))
    diag = d["diagnostics"]
    warnings = tuple(QWarning(w["code"], w["message"]) if w.get("code") in WARNINGS else str(w["message"])
                     for w in diag["warnings"])
    flags = np.asarray(d["flags"], dtype=bool).reshape(n_so, k)
    return QResult(
        study=study, options=opts, nfactors=k, correlation=_arr(d["correlation"], (n_so, n_so), "correlation"),
        unrotated_loadings=_arr(d["unrotated_loadings"], (n_so, k), "unrotated_loadings"),
        unrotated_eigenvalues=_arr(d["unrotated_eigenvalues"], (k,), "unrotated_eigenvalues"),
        unrotated_expl_var=_arr(d["unrotated_expl_var"], (k,), "unrotated_expl_var"),
        loadings=_arr(d["loadings"], (n_so, k), "loadings"), rotation_matrix=np.full((k, k), np.nan), flags=flags,
        weights=np.full((n_so, k), np.nan), zscores=_arr(d["zscores"], (n_st, k), "zscores"),
        factor_arrays=_arr(d["factor_arrays"], (n_st, k), "factor_arrays"), characteristics=chars,
        distinguishing=dist, varimax_iterations=int(diag["varimax_iterations"]), converged=bool(diag["converged"]),
        warnings=warnings, manual_flags=bool(d["options"]["manual_flags"]), alignment=diag.get("alignment"))


def _arr(x, shape, name) -> np.ndarray:
    """JSON numbers (None = NaN) as a float array of ``shape``; ValueError naming the output otherwise."""
    a = np.array(x, dtype=object)
    if a.shape != shape:
        raise ValueError(f"{name} has shape {a.shape}, expected {shape}")
    a[a == None] = np.nan  # noqa: E711 (elementwise comparison with None)
    return a.astype(np.float64)


# ---------------------------------------------------------------------------------------------------- the file
def snapshot_dict(study: QStudy, nfactors: int, options: Options, sides: dict, *, flags=None, flavor: str = "qmethod",
                  input: dict | None = None, command: str | None = None, versions: dict | None = None) -> dict:
    """The snapshot of an analysis as JSON-ready objects.

    ``sides`` maps ``"qvalid"`` and/or ``"r"`` to a :class:`Side`. ``input`` describes the input file
    (``file`` relative to the snapshot's folder, ``sha256``, the reading options ``read``); ``command`` is the
    command line that made it (printed by ``qvalid diff`` as the way to accept a change).
    """
    unknown = sorted(set(sides) - set(SIDES))
    if unknown or not sides:
        raise ValueError(f"sides must be some of {', '.join(SIDES)}, got {sorted(sides)}")
    vers = {**current_versions(), **(versions or {})}
    for s in sides.values():
        vers.update({k: v for k, v in s.versions.items() if k in ("R", "qmethod", "psych", "rpy2")})
    return {
        "qvalid_snapshot": SCHEMA,
        "kind": "analysis",
        "command": command,
        "versions": vers,
        "input": {"file": None, "sha256": None, "read": None, **(input or {}), "study_sha256": study_sha256(study)},
        "study": study_dict(study),
        "analysis": {"nfactors": int(nfactors), "flavor": flavor, "options": options.to_dict(),
                     "flags": None if flags is None else np.asarray(flags, dtype=bool).tolist()},
        "outputs": {name: side.to_dict() for name, side in sides.items()},
    }


def table_snapshot_dict(kind: str, study: QStudy, result: dict, *, mc_se: dict | None = None) -> dict:
    """The snapshot of a bootstrap (``kind="bootstrap"``, its ``to_dict(replicates=False)`` and the Monte-Carlo
    standard errors :func:`qvalid.checks.tables.bootstrap_mc_errors`) or of the number-of-factors evidence
    (``kind="factors"``): written and compared by the ``qsnapshot`` pytest fixture."""
    if kind not in KINDS[1:]:
        raise ValueError(f"kind must be one of {', '.join(KINDS[1:])}, got {kind!r}")
    side = {"source": "qvalid", "result": result}
    if mc_se is not None:
        side["mc_se"] = {t: {c: np.asarray(v).tolist() for c, v in cols.items()} for t, cols in mc_se.items()}
    return {"qvalid_snapshot": SCHEMA, "kind": kind, "command": None, "versions": current_versions(),
            "input": {"file": None, "sha256": None, "read": None, "study_sha256": study_sha256(study)},
            "study": study_dict(study), "outputs": {"qvalid": side}}


def compare_options(old: Options, new: Options) -> OutputDiff:
    """Two option sets as an exact output named ``options`` (which options changed, old and new values)."""
    names = [n for n in OPTION_INFO if getattr(old, n) != getattr(new, n)]
    cells = tuple(Cell(n, (i,), getattr(old, n), getattr(new, n)) for i, n in enumerate(names[:MAX_CELLS]))
    return OutputDiff("options", "exact", "differs" if names else "ok", n_cells=len(OPTION_INFO),
                      n_bad=len(names), worst=cells[0] if cells else None, mismatches=cells,
                      note=f"changed: {', '.join(names)}" if names else "", n_reported=len(names))


def dumps(obj) -> str:
    """JSON text for snapshots: nested blocks indented, every list or object of plain values on one line (a
    matrix is one line per row, so a changed cell is one changed line in a version-control diff)."""
    return _dump(jsonable(obj), 0) + "\n"


def _dump(x, ind: int) -> str:
    flat = isinstance(x, (dict, list)) and all(not isinstance(v, (dict, list)) for v in
                                               (x.values() if isinstance(x, dict) else x))
    if not isinstance(x, (dict, list)) or flat or not x:
        return json.dumps(x, allow_nan=False, ensure_ascii=False)
    pad = " " * (ind + 1)
    if isinstance(x, dict):
        body = ",\n".join(f"{pad}{json.dumps(k, ensure_ascii=False)}: {_dump(v, ind + 1)}" for k, v in x.items())
        return "{\n" + body + "\n" + " " * ind + "}"
    return "[\n" + ",\n".join(pad + _dump(v, ind + 1) for v in x) + "\n" + " " * ind + "]"


def write_snapshot(path, snapshot: dict) -> Path:
    """Write a snapshot atomically (:func:`qvalid.io.files.atomic_write`); returns the path."""
    path = Path(path)
    atomic_write({path: dumps(snapshot)})
    return path


@dataclass(frozen=True)
class Snapshot:
    """A snapshot as read (:func:`load_snapshot`).

    ``sides`` maps a side name to a :class:`Side` (kind ``analysis``) or to the stored JSON of a bootstrap or
    number-of-factors result (kinds ``bootstrap``, ``factors``). ``notes`` say what reading it had to assume
    (options this qvalid has that the snapshot does not record).
    """

    kind: str
    study: QStudy
    nfactors: int | None
    options: Options | None
    flags: np.ndarray | None
    sides: dict
    versions: dict
    input: dict
    command: str | None = None
    flavor: str = "qmethod"
    path: Path | None = None
    notes: tuple = ()
    raw: dict = field(default_factory=dict, repr=False)

    @property
    def name(self) -> str:
        return str(self.path) if self.path is not None else "snapshot"

    def input_path(self) -> Path | None:
        """The input file, resolved against the snapshot's folder (None when the snapshot names none)."""
        f = (self.input or {}).get("file")
        if not f:
            return None
        p = Path(f)
        return p if p.is_absolute() or self.path is None else self.path.parent / p

    def title(self) -> str:
        s, o = self.study, self.options
        head = f"{s.name or Path((self.input or {}).get('file') or 'study').name} ({s.n_statements} statements x " \
               f"{s.n_sorts} Q-sorts{'' if s.forced else ', non-forced'})"
        if self.kind != "analysis" or o is None:
            return f"{head}, {self.kind}"
        return (f"{head}, {self.nfactors} factor(s), {o.extraction} + {o.rotation}, {o.cor_method}"
                + (", manual flags" if self.flags is not None else ""))


def load_snapshot(path) -> Snapshot:
    """Read a snapshot file; :class:`QInputError` (one line naming the file) when it is not one, is of another
    schema, or is malformed."""
    text = read_text(path)
    try:
        d = json.loads(text)
    except json.JSONDecodeError as err:
        raise QInputError(f"not a qvalid snapshot: not JSON ({err.msg})", file=path, line=err.lineno) from None
    return parse_snapshot(d, path=Path(path))


def parse_snapshot(d, *, path=None) -> Snapshot:
    """A snapshot from its JSON objects (see :func:`load_snapshot`)."""
    if not isinstance(d, dict) or "qvalid_snapshot" not in d:
        raise QInputError("not a qvalid snapshot (no 'qvalid_snapshot' schema key)", file=path)
    schema = d["qvalid_snapshot"]
    if schema != SCHEMA:
        made = (d.get("versions") or {}).get("qvalid", "?") if isinstance(d.get("versions"), dict) else "?"
        raise QInputError(f"snapshot schema {schema!r} cannot be read by qvalid {__version__}, which reads schema "
                          f"{SCHEMA} (it was written by qvalid {made}): re-make it with this qvalid or use that "
                          "version", file=path)
    try:
        kind = d["kind"]
        if kind not in KINDS:
            raise ValueError(f"unknown kind {kind!r} (known: {', '.join(KINDS)})")
        study = study_from_dict(d["study"], source=(d.get("input") or {}).get("file"))
        if d["input"].get("study_sha256") not in (None, study_sha256(study)):
            raise ValueError("the embedded study does not match its recorded hash (edited by hand?)")
        outputs = d["outputs"]
        if not isinstance(outputs, dict) or not outputs or set(outputs) - set(SIDES):
            raise ValueError(f"'outputs' must hold some of the sides {', '.join(SIDES)}")
        notes, opts, k, flags = [], None, None, None
        if kind == "analysis":
            a = d["analysis"]
            k = a["nfactors"]
            if not isinstance(k, int) or isinstance(k, bool) or k < 1:
                raise ValueError(f"analysis.nfactors must be a whole number >= 1, got {k!r}")
            opts, notes = _options(a["options"], d.get("versions") or {})
            flags = None if a.get("flags") is None else np.asarray(a["flags"], dtype=bool)
            if flags is not None and flags.shape != (study.n_sorts, k):
                raise ValueError(f"analysis.flags has shape {flags.shape}, expected ({study.n_sorts}, {k})")
            sides = {name: _side_from_dict(s, study) for name, s in outputs.items()}
        else:
            sides = {name: {"result": s["result"], "mc_se": s.get("mc_se")} for name, s in outputs.items()}
        return Snapshot(kind=kind, study=study, nfactors=k, options=opts, flags=flags, sides=sides,
                        versions=dict(d.get("versions") or {}), input=dict(d["input"]), command=d.get("command"),
                        flavor=str((d.get("analysis") or {}).get("flavor") or "qmethod"), path=path,
                        notes=tuple(notes), raw=d)
    except QInputError as err:
        if err.file is None:
            raise QInputError(f"invalid snapshot: {err.reason}", file=path) from None
        raise
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as err:
        what = f"missing key {err}" if isinstance(err, KeyError) else str(err)
        raise QInputError(f"invalid snapshot: {what}", file=path) from None


def _options(given: dict, versions: dict) -> tuple:
    """Every option of the snapshot, checked against this qvalid's table: unknown ones refuse the snapshot (it
    was made with options this qvalid cannot run), missing ones take their default, with a note."""
    unknown = sorted(set(given) - set(OPTION_INFO))
    if unknown:
        raise QInputError(f"the snapshot records option(s) {', '.join(unknown)} that qvalid {__version__} does not "
                          f"have (written by qvalid {versions.get('qvalid', '?')}): use that version or re-make it")
    default = Options()
    missing = [n for n in OPTION_INFO if n not in given]
    notes = [f"option(s) not recorded in the snapshot (written by qvalid {versions.get('qvalid', '?')}), taken at "
             "their defaults: " + ", ".join(f"{n}={getattr(default, n)!r}" for n in missing)] if missing else []
    return resolve_options("qmethod", **given), notes


def _side_from_dict(d: dict, study: QStudy) -> Side:
    dec = d.get("decimals")
    return Side(result_from_dict(d["result"], study), str(d["source"]), missing=dict(d.get("missing") or {}),
                decimals=None if dec is None else {k: np.asarray(v, dtype=np.int64) for k, v in dec.items()},
                file=d.get("file"), call=d.get("call"), route=d.get("route"), versions=dict(d.get("versions") or {}))


# ---------------------------------------------------------------------------------------------------- comparing
def compare_side(ref: Side, new: Side, *, tolerances=None, rtol: float = 0.0, print_digits=True,
                 names=("snapshot", "now")) -> Diff:
    """Compare one side of a snapshot with the same side now, output by output, classified.

    Both go through the JSON contract. Outputs either side could not produce (``missing``) are not compared. When
    either side was printed as text (``decimals``), those outputs are compared as printed: both rounded, cell by
    cell, to the coarser of the two precisions, and every difference is then a reported one.
    """
    a = ref.result
    b = result_from_dict(new.result.to_dict(), new.result.study)
    digits = resolve_digits(print_digits)
    dec = _coarser(ref.decimals, new.decimals)
    if dec:
        a, b, used = _as_printed(_strip_labels(a), _strip_labels(b), dec)
        digits.update(used)
    d = compare(a, b, tolerances=tolerances, rtol=rtol, unavailable={**ref.missing, **new.missing}, names=names,
                print_digits=digits or None)
    if new.brief is not None:
        d = replace(d, outputs=(compare_brief(a.options, new.brief),) + d.outputs)
    return d


def compare_brief(options: Options, brief: dict) -> OutputDiff:
    """The options an R result's brief records against the snapshot's, as an exact output named ``options``
    (an R script run with other options)."""
    known = {k: v for k, v in brief.items() if v is not None and k in OPTION_INFO}
    bad = [k for k, v in known.items() if getattr(options, k) != v]
    cells = tuple(Cell(k, (i,), getattr(options, k), known[k]) for i, k in enumerate(bad[:MAX_CELLS]))
    return OutputDiff("options", "exact", "differs" if bad else "ok", n_cells=len(known), n_bad=len(bad),
                      worst=cells[0] if cells else None, mismatches=cells, n_reported=len(bad),
                      note=f"the R result was made with other options: {', '.join(bad)}" if bad else "")


def _coarser(d1, d2) -> dict:
    out = {}
    for name in set(d1 or {}) | set(d2 or {}):
        x, y = (d1 or {}).get(name), (d2 or {}).get(name)
        out[name] = np.asarray(x if y is None else y if x is None else
                               np.minimum(x, y) if np.shape(x) == np.shape(y) else np.minimum(np.min(x), np.min(y)))
    return out


def _getters(res: QResult) -> dict:
    c, dist = res.characteristics, res.distinguishing
    out = {"loadings": res.loadings, "zscores": res.zscores, "cor_zsc": c.cor_zsc, "sd_dif": c.sd_dif,
           **{f"characteristics.{n}": getattr(c, n) for n in _CHAR}}
    if dist is not None:
        out["qdc.diffs"] = dist.diffs
    return out


def _as_printed(a: QResult, b: QResult, dec: dict):
    """Both results with the outputs of ``dec`` rounded to those decimals (cells at a rounding boundary, within a
    millionth of its half unit, take the other side's printed value: R's ``round`` and C's formatting may round
    such a value either way). Returns (a, b, the decimals used per output)."""
    ga, gb = _getters(a), _getters(b)
    new_a, new_b, used = {}, {}, {}
    for name, d in dec.items():
        if name not in ga or name not in gb or np.shape(ga[name]) != np.shape(gb[name]):
            continue
        d = np.broadcast_to(d, np.shape(ga[name])) if np.ndim(d) == 0 or np.shape(d) == np.shape(ga[name]) else \
            np.full(np.shape(ga[name]), int(np.min(d)))
        x, y = np.asarray(ga[name], float), np.asarray(gb[name], float)
        px, py = printed(x, d), printed(y, d)
        half = 0.5 * 10.0 ** -d.astype(float) * (1 + 1e-6)
        with np.errstate(invalid="ignore"):
            tie = (px != py) & ((np.abs(x - py) <= half) | (np.abs(y - px) <= half))
        new_a[name], new_b[name], used[name] = np.where(tie, py, px), py, np.asarray(d)
    return _with(a, new_a), _with(b, new_b), used


def _strip_labels(res: QResult) -> QResult:
    """qdc labels as a print shows them: R right-aligns the column, so a label's trailing blanks cannot be seen."""
    d = res.distinguishing
    if d is None:
        return res
    return replace(res, distinguishing=replace(d, labels=np.array([str(x).strip() for x in d.labels], dtype=object)))


def _with(res: QResult, arrays: dict) -> QResult:
    c = res.characteristics
    chars = replace(c, **{n.split(".", 1)[1]: v for n, v in arrays.items() if n.startswith("characteristics.")},
                    **{n: v for n, v in arrays.items() if n in ("cor_zsc", "sd_dif")})
    dist = res.distinguishing if "qdc.diffs" not in arrays else replace(res.distinguishing, diffs=arrays["qdc.diffs"])
    return replace(res, characteristics=chars, distinguishing=dist,
                   **{n: arrays[n] for n in ("loadings", "zscores") if n in arrays})


def version_notes(old: dict, new: dict, keys=None) -> list:
    """``["made with qvalid 0.1.0, now 0.2.0: compared anyway"]`` for the versions that differ."""
    keys = keys or [k for k in old if k in new]
    moved = [f"{k} {_ver(old[k])} -> {_ver(new[k])}" for k in keys
             if k in old and k in new and str(old[k]) != str(new[k])]
    return [f"versions differ from the snapshot's ({', '.join(moved)}): compared anyway"] if moved else []


def _ver(v) -> str:
    return str(v).removeprefix("R version ")


def _side_notes(side: str, ref: Side, new: Side, snap_versions: dict) -> list:
    notes = []
    if side == "qvalid" and new.source == "qvalid":
        notes += version_notes(snap_versions, current_versions(), VERSION_KEYS)
    else:
        notes += version_notes(ref.versions, new.versions, ("R", "qmethod", "psych"))
    if ref.source != new.source:
        notes.append(f"the snapshot's {side} side was {_source_text(ref)}; now {_source_text(new)}")
    wa = [str(w) for w in ref.result.warnings]
    wb = [str(w) for w in new.result.warnings]
    saved = {"rds", "export.qm"}
    if wa != wb and ref.source not in saved and new.source not in saved:  # a saved result keeps no warnings
        gone, added = [w for w in wa if w not in wb], [w for w in wb if w not in wa]
        notes.append("warnings changed" + (f"; no longer: {' | '.join(gone)}" if gone else "")
                     + (f"; new: {' | '.join(added)}" if added else ""))
    ia, ib = ref.result.varimax_iterations, new.result.varimax_iterations
    if ia != ib and ia >= 0 and ib >= 0:
        notes.append(f"varimax iterations {ia} -> {ib}")
    return notes


def _source_text(s: Side) -> str:
    return {"qvalid": "qvalid's analysis", "rpy2": "R qmethod run through rpy2", "rds": "a saveRDS file",
            "export.qm": "an export.qm text"}.get(s.source, s.source) + (f" ({s.file})" if s.file else "")


def _label(side: str, new: Side) -> str:
    if new.source in ("rds", "export.qm") and new.file:
        return Path(new.file).name
    if new.source == "qvalid":
        return f"qvalid {__version__}"
    return f"qmethod {new.versions.get('qmethod', '?')}"


def diff_snapshot(snap: Snapshot, *, against=None, result: Side | None = None, study: QStudy | None = None,
                  flags=None, input_sha256: str | None = None, tolerances=None, rtol: float = 0.0,
                  print_digits=True, fail_on: str = "any", timeout: float = 120.0) -> "SnapshotDiff":
    """Run what ``snap`` records again (or take ``result``) and compare side by side.

    Parameters
    ----------
    snap : Snapshot
        Of kind ``analysis``.
    against : str or sequence, optional
        ``"qvalid"``, ``"r"`` or ``"both"``: the snapshot's sides to compare. Default: every side it records; with a
        ``result``, its R side if it has one, else its qvalid side.
    result : Side, optional
        A result obtained elsewhere (an R script's ``saveRDS`` file or ``export.qm`` text, read by
        :mod:`qvalid.r.saved`): compared instead of running anything.
    study : QStudy, optional
        The study as read now from the input file; it is compared with the recorded one (output ``input``) and
        analysed. Default: the study embedded in the snapshot.
    flags : array-like of bool, optional
        The manual flags as read now (from the flags file the snapshot names): compared with the recorded ones
        (output ``input.flags``) and used. Default: the recorded flags.
    input_sha256 : str, optional
        The SHA-256 of the input file now (a note says when its bytes changed but the study read did not).
    tolerances, rtol, print_digits
        As :func:`qvalid.checks.compare.compare` (default: classified with :data:`~qvalid.checks.diff.PRINT_DIGITS`).
    fail_on : {"any", "reported"}
        Fail on any difference beyond tolerance, or only on reported ones.

    Raises
    ------
    QInputError
        A snapshot without the side asked for, R not available for ``r``, an analysis that cannot run.
    """
    if snap.kind != "analysis":
        raise QInputError(f"this snapshot holds a {snap.kind} result (written by the qsnapshot pytest fixture): "
                          "compare it from its test", file=snap.path)
    if fail_on not in FAIL_ON:
        raise QInputError(f"fail_on={fail_on!r} is not one of {', '.join(FAIL_ON)}")
    sides = _against(snap, against, result is not None)
    now = snap.study if study is None else study
    if result is not None:
        now = result.result.study
    input_diff = compare_studies(snap.study, now) if now is not snap.study else None
    inputs = () if input_diff is None else (input_diff,)
    use_flags = snap.flags
    if flags is not None:
        use_flags = np.asarray(flags, dtype=bool)
        inputs += (compare_flags(snap, use_flags),)
    notes = list(snap.notes)
    if input_diff is not None and input_diff.passed and input_sha256 is not None and \
            snap.input.get("sha256") not in (None, input_sha256):
        notes.append("the input file's bytes changed but the study read from it is the same")
    if input_diff is not None and input_diff.passed and now.statement_texts != snap.study.statement_texts:
        notes.append("statement wordings changed (no number depends on them)")
    diffs = {}
    for side in sides:
        t0 = time.perf_counter()
        ref = snap.sides[side]
        if result is not None:
            new = result
        elif side == "qvalid":
            new = qvalid_side(analyze(now, snap.nfactors, flags=use_flags, **snap.options.to_dict()))
        else:
            new = r_side(now, snap.nfactors, snap.options, flags=use_flags, timeout=timeout)
        d = compare_side(ref, new, tolerances=tolerances, rtol=rtol, print_digits=print_digits,
                         names=("snapshot", _label(side, new)))
        if inputs:
            d = replace(d, outputs=inputs + d.outputs)
        diffs[side] = d.with_notes(*_side_notes(side, ref, new, snap.versions),
                                   seconds=round(time.perf_counter() - t0, 3), source=new.source)
    return SnapshotDiff(snap, diffs, tuple(notes), fail_on)


def _against(snap: Snapshot, against, given: bool) -> tuple:
    if against is None:
        return (("r",) if "r" in snap.sides else ("qvalid",)) if given else tuple(s for s in SIDES if s in snap.sides)
    wanted = tuple(SIDES) if against == "both" else (against,) if isinstance(against, str) else tuple(against)
    for s in wanted:
        if s not in SIDES:
            raise QInputError(f"--against {s!r}: choose qvalid, r or both")
        if s not in snap.sides:
            how = "make it with --with-r" if s == "r" else "it was made from an R result"
            raise QInputError(f"the snapshot has no {s} side ({how})", file=snap.path)
    return wanted


# ---------------------------------------------------------------------------------------------------- the verdict
@dataclass(frozen=True)
class SnapshotDiff:
    """The outcome of :func:`diff_snapshot`: one classified :class:`~qvalid.checks.diff.Diff` per side.

    :attr:`exit_code` is 0 when every side passes (``fail_on="any"``: nothing beyond tolerance; ``"reported"``:
    nothing reported), else 1. Render with :meth:`to_text` (short), :meth:`to_markdown` (a pull-request comment),
    :meth:`to_dict` / JSON, :meth:`to_junit` (JUnit XML, one test case per output and side).
    """

    snapshot: Snapshot
    diffs: dict
    notes: tuple = ()
    fail_on: str = "any"

    def side_passed(self, diff: Diff) -> bool:
        return diff.ok if self.fail_on == "any" else not diff.reported

    def output_failed(self, o: OutputDiff) -> bool:
        return (not o.passed) if self.fail_on == "any" else o.klass == "reported"

    @property
    def ok(self) -> bool:
        return all(self.side_passed(d) for d in self.diffs.values())

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1

    def _side_line(self, side: str, d: Diff) -> str:
        compared = [o for o in d.outputs if o.compared]
        skipped = [o.name for o in d.outputs if not o.compared]
        head = f"[{side}] snapshot vs {d.names[1]}: "
        fails = [o for o in d.outputs if self.output_failed(o)]
        if not fails:
            moved = [o for o in compared if o.klass not in ("same", None)]
            verdict = "SAME" + (f" ({d.verdict}: " + ", ".join(o.name for o in moved) + ")" if moved else
                                f": {len(compared)} outputs identical")
        else:
            rep = [o.name for o in fails if o.klass == "reported"]
            num = [o.name for o in fails if o.klass != "reported"]
            verdict = (f"DIFFERS: {len(fails)} of {len(compared)} outputs"
                       + (f"; reported: {', '.join(rep)}" if rep else "")
                       + (f"; numerical only: {', '.join(num)}" if num else ""))
        return head + verdict + (f" (not compared: {', '.join(skipped)})" if skipped else "")

    def _output_lines(self, d: Diff) -> list:
        out = []
        for o in d.outputs:
            if not self.output_failed(o) and not (o.klass == "reported" and not o.passed):
                continue
            line = f"  {o.name}: {o.klass}"
            if o.kind == "exact" or o.status in ("shape", "nan", "absent"):
                line += f": {o.note}" if o.note and not o.n_cells else ""
                line += f": {o.n_bad} of {o.n_cells} cells" if o.n_cells else ""
                c = o.worst
            else:
                line += f": {o.n_bad} of {o.n_cells} cells beyond {_g(o.tolerance)}, max |diff| {_g(o.max_abs)}"
                if o.klass == "reported":
                    line += f", {o.n_reported} print differently at {o.digits} dp"
                c = o.worst_reported if o.klass == "reported" else o.worst
            if c is not None:
                line += f"; {c.where}: {_v(c.a)} (snapshot) vs {_v(c.b)} ({d.names[1]})"
            out.append(line)
        return out

    def to_text(self, *, verbose: bool = False) -> str:
        """A short summary: the study, notes, one line per side and one per failing output (its worst cell)."""
        snap = self.snapshot
        lines = [f"qvalid diff {snap.name}: {snap.title()}"]
        lines += [f"note: {n}" for n in self.notes]
        for side, d in self.diffs.items():
            lines.append(self._side_line(side, d))
            lines += self._output_lines(d)
            lines += [f"  note: {n}" for n in d.notes]
            if verbose:
                lines += ["", *("    " + x for x in d.to_text().splitlines()), ""]
        lines.append(self.summary_line())
        return "\n".join(lines)

    def summary_line(self) -> str:
        if self.ok:
            return "result: same (exit 0)" + ("" if self.fail_on == "any" else "; fail-on reported")
        n_rep = sum(len(d.reported) for d in self.diffs.values())
        what = "differences beyond tolerance" if self.fail_on == "any" else "reported differences"
        accept = f"; to accept them, re-run: {snap_cmd}" if (snap_cmd := self.snapshot.command) else ""
        return f"result: {what} ({n_rep} reported output(s)) (exit 1){accept}"

    def to_markdown(self) -> str:
        """A pull-request comment: a headline, the notes, a table of the outputs that moved, details folded."""
        snap = self.snapshot
        icon = "\u2705" if self.ok else "\u274c"
        lines = [f"### {icon} qvalid diff `{Path(snap.name).name}`: {'same' if self.ok else 'differs'}", "",
                 f"{snap.title()}", ""]
        lines += [f"- note: {n}" for n in self.notes]
        for side, d in self.diffs.items():
            lines += ["", f"**{side}**: snapshot vs {d.names[1]}: {self._side_line(side, d).split(': ', 1)[1]}", ""]
            moved = [o for o in d.outputs if o.compared and o.klass not in ("same", None)] + \
                [o for o in d.outputs if o.klass is None]
            if moved:
                lines += ["| output | class | cells beyond tolerance | max abs | worst cell |",
                          "|---|---|---:|---:|---|"]
                for o in moved:
                    c = o.worst_reported if o.klass == "reported" and o.worst_reported is not None else o.worst
                    where = "" if c is None else f"{c.where}: {_v(c.a)} vs {_v(c.b)}"
                    cells = f"{o.n_bad} / {o.n_cells}" if o.n_cells else o.status
                    lines.append(f"| {o.name} | {o.klass} | {cells} | {_g(o.max_abs)} | "
                                 f"{where.replace('|', chr(92) + '|')} |")
            lines += [f"- note: {n}" for n in d.notes]
            lines += ["", "<details><summary>every output</summary>", "", "```", d.to_text(), "```", "", "</details>"]
        lines += ["", f"**{self.summary_line()}**"]
        return "\n".join(lines)

    def to_dict(self) -> dict:
        s = self.snapshot
        return {"qvalid_version": __version__, "snapshot": s.name, "schema": SCHEMA, "kind": s.kind,
                "title": s.title(), "ok": self.ok, "exit_code": self.exit_code, "fail_on": self.fail_on,
                "summary": self.summary_line(), "notes": list(self.notes),
                "sides": {side: d.to_dict() for side, d in self.diffs.items()}}

    def to_junit(self) -> str:
        """JUnit XML (the common Ant/Jenkins/Surefire shape): one ``testsuite`` per side, one ``testcase`` per
        output; a ``failure`` (type = the class) for what fails, ``skipped`` for what was not compared."""
        return junit_xml(f"qvalid diff {Path(self.snapshot.name).name}", {
            side: (d, [(o, self.output_failed(o)) for o in d.outputs]) for side, d in self.diffs.items()},
            properties={"snapshot": self.snapshot.name, "qvalid": __version__, "fail_on": self.fail_on,
                        **{f"snapshot.{k}": str(v) for k, v in self.snapshot.versions.items()}},
            notes=self.notes)


def junit_xml(name: str, suites: dict, *, properties: dict | None = None, notes=()) -> str:
    """JUnit XML text: ``suites`` maps a suite name to ``(Diff, [(OutputDiff, failed), ...])``."""
    root = ET.Element("testsuites", name=name)
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    t_all = 0.0
    for suite, (d, rows) in suites.items():
        secs = float(d.context.get("seconds") or 0.0)
        t_all += secs
        el = ET.SubElement(root, "testsuite", name=f"{name}: {suite}")
        props = ET.SubElement(el, "properties")
        for k, v in {**(properties or {}), "compared with": d.names[1]}.items():
            ET.SubElement(props, "property", name=str(k), value=str(v))
        counts = {"tests": len(rows), "failures": 0, "errors": 0, "skipped": 0}
        for o, failed in rows:
            tc = ET.SubElement(el, "testcase", name=o.name, classname=f"qvalid.diff.{suite}", time="0")
            if not o.compared:
                ET.SubElement(tc, "skipped", message=o.note or o.status)
                counts["skipped"] += 1
            elif failed:
                counts["failures"] += 1
                f = ET.SubElement(tc, "failure", message=_failure_message(o, d.names), type=o.klass or o.status)
                f.text = "\n".join(_failure_detail(o, d.names))
        for key, val in counts.items():
            el.set(key, str(val))
            totals[key] += val
        el.set("time", f"{secs:.3f}")
        if d.notes or notes:
            ET.SubElement(el, "system-out").text = "\n".join(f"note: {n}" for n in (*notes, *d.notes))
    for key, val in totals.items():
        root.set(key, str(val))
    root.set("time", f"{t_all:.3f}")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _failure_message(o: OutputDiff, names) -> str:
    c = o.worst_reported if o.klass == "reported" and o.worst_reported is not None else o.worst
    msg = f"{o.name}: {o.klass or o.status}"
    if o.n_cells:
        msg += f", {o.n_bad} of {o.n_cells} cells"
    if o.kind == "float" and o.max_abs is not None:
        msg += f", max |diff| {_g(o.max_abs)}"
    if c is not None:
        msg += f"; {c.where}: {_v(c.a)} ({names[0]}) vs {_v(c.b)} ({names[1]})"
    elif o.note:
        msg += f"; {o.note}"
    return msg


def _failure_detail(o: OutputDiff, names) -> list:
    out = [f"{o.name}: status {o.status}" + (f" ({o.note})" if o.note else "")]
    for c in o.mismatches:
        out.append(f"{c.where}: {_v(c.a)} ({names[0]}) vs {_v(c.b)} ({names[1]})"
                   + (f", |diff| {_g(c.abs_diff)}" if c.abs_diff is not None else ""))
    return out


def _g(x) -> str:
    if x is None:
        return "-"
    return "0" if x == 0 else f"{x:.2g}" if abs(x) < 1e-3 or abs(x) >= 1e4 else f"{x:.3g}"


def _v(x) -> str:
    if isinstance(x, (float, np.floating)):
        return "NaN" if np.isnan(x) else repr(float(x))
    if isinstance(x, str):
        return repr(x)
    return str(x)
