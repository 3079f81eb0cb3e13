"""Reading the golden reference files of ``reference/golden`` (made by ``make_golden.R`` and
``make_golden_more.py``, written with :meth:`qvalid.r.qmethod.RRun.to_golden`) back into :class:`RRun` objects, so
that the golden tests need no R. Test-suite code: the package does not read reference files.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd

from qvalid.r.qmethod import CHAR_FIELDS, OUTPUTS, RRun
from qvalid.study import QStudy

GOLDEN = Path(__file__).resolve().parents[1] / "reference" / "golden"


def golden_study(data: dict, *, root=None) -> QStudy:
    """The study of a golden file: ``study.input`` (a CSV relative to ``reference/golden``; lipset files, which
    have no ``study`` block, use ``inputs/lipset.csv``) with the recorded grid and ``forced``."""
    root = str(GOLDEN) if root is None else str(root)
    info = data.get("study") or {"input": "inputs/lipset.csv", "forced": True, "grid": None, "name": "lipset"}
    frame = pd.read_csv(os.path.join(root, info["input"]), index_col=0, dtype=str, keep_default_na=False)
    grid = None if info.get("grid") is None else {int(k): int(v) for k, v in info["grid"].items()}
    study = QStudy.from_frame(frame, grid=grid, forced=bool(info.get("forced", True)),
                              name=info.get("name") or "", source=os.path.join(root, info["input"]))
    if list(study.sort_ids) != data["sort_ids"] or list(study.statement_ids) != data["statement_ids"]:
        raise ValueError(f"{info['input']}: ids do not match the golden file {data.get('case')}")
    return study


def load_golden(path, study: QStudy | None = None) -> RRun:
    """Read a golden file (``reference/golden/**/<case>.json``) back into an :class:`RRun` (no R needed).

    Works for the lipset files of ``make_golden.R`` and the files of ``make_golden_more.py``. A file whose
    ``correlation`` is stored once per study (``correlation_file``) has it read from there.
    """
    with open(path, encoding="utf-8") as fh:
        d = json.load(fh)
    root = os.path.dirname(os.path.abspath(path))
    while not os.path.isdir(os.path.join(root, "inputs")) and os.path.dirname(root) != root:
        root = os.path.dirname(root)  # reference/golden holds inputs/; cases sit one or two levels below
    if study is None:
        study = golden_study(d, root=root)
    k = int(d["options"]["nfactors"])

    def arr(key, value=None):
        v = d.get(key) if value is None else value
        if v is None:
            return None
        return np.array([[np.nan if x is None else x for x in row] for row in v], dtype=np.float64)

    outputs = {
        "correlation": arr("correlation"),
        "unrotated_loadings": arr("unrotated_loadings"),
        "loadings": arr("loadings"),
        "flags": None if d.get("flags") is None else np.array(d["flags"], dtype=bool),
        "zscores": arr("zscores"),
        "factor_arrays": arr("factor_arrays"),
        "cor_zsc": arr("cor_zsc"),
        "sd_dif": arr("sd_dif"),
        "characteristics": None,
        "qdc": None,
        "qdc_message": d.get("qdc_message"),
    }
    if outputs["correlation"] is None and d.get("correlation_file"):
        with open(os.path.join(os.path.dirname(os.path.abspath(path)), d["correlation_file"]),
                  encoding="utf-8") as fh:
            outputs["correlation"] = arr(None, json.load(fh)["correlation"])
    if d.get("characteristics") is not None:
        outputs["characteristics"] = {
            name: np.array([np.nan if x is None else x for x in d["characteristics"][name]], dtype=np.float64)
            for name in CHAR_FIELDS}
    q = d.get("qdc")
    if q is not None:
        pairs = tuple(q["pairs"])
        outputs["qdc"] = {
            "labels": np.array(q["dist_and_cons"], dtype=object), "pairs": pairs,
            "diffs": np.array([[np.nan if x is None else x for x in q["diffs"][p]] for p in pairs],
                              dtype=np.float64).T.reshape(study.n_statements, len(pairs)),
            "stars": np.array([q["sig"][p] for p in pairs], dtype=object).T.reshape(study.n_statements, len(pairs))}
    errors = tuple(d.get("stepwise_errors") or ())
    missing = dict(d.get("missing") or {})
    if "missing" not in d:  # lipset files: infer from the nulls and the recorded errors
        reason = "R failed: " + "; ".join(errors or ([d["error"]] if d.get("error") else ["unknown error"]))
        for name in OUTPUTS:
            if outputs[name] is None and not (name == "qdc" and (d.get("qdc_message") or k == 1)):
                missing[name] = reason
    opts = d["options"]
    return RRun(study=study, nfactors=k,
                options={"extraction": opts["extraction"], "rotation": opts["rotation"],
                         "cor_method": opts["cor_method"], "spc": float(opts.get("spc", 1e-5)),
                         "forced": study.forced, "manual_flags": False},
                call=d.get("call") or "", route=d.get("route", "qmethod"), outputs=outputs,
                warnings=tuple(d.get("warnings") or ()), step_warnings=tuple(d.get("stepwise_warnings") or ()),
                errors=errors, error=d.get("error"), missing=missing, notes=tuple(d.get("stepwise_notes") or ()),
                versions=dict(d.get("versions") or {}))
