"""R qmethod's bootstrap, ``qmboots``, run through rpy2 so that :func:`qvalid.bootstrap` can replay its resamples
exactly (tests, benchmarks and ``reference/golden/qmboots``)."""

from __future__ import annotations

import numpy as np

from . import session
from .qmethod import strings
from .session import RConsole

__all__ = ["run_qmboots"]


def run_qmboots(study: QStudy, nfactors: int, nsteps: int, *, seed: int = 1) -> dict:
    """Run R qmethod's ``qmboots`` (PCA + varimax, ``indet="qindtest"``, ``load="auto"``) after ``set.seed(seed)``.

    Returns a dict of numpy arrays: ``resamples`` (n_sorts x nsteps, 1-based, qmboots' ``$resamples``),
    ``loa``/``flagged``/``zsc`` (lists per factor of the ``full.bts.res`` step tables: sorts or statements x
    steps, NaN where a sort was not drawn), ``order_log`` (qindtest's order log per step), ``zbn`` (the
    bootstrapped factor scores), ``zstats``/``loastats`` (per factor ``{"rows", "columns", "values"}`` of
    ``zscore-stats`` and ``loa.stats``), ``fsi`` (k x 2), ``target`` (the full-sample loadings), ``seconds``
    (R's elapsed time for the whole qmboots call), ``versions``.
    """
    r = session.require_r()
    ro = r.ro
    k = int(nfactors)
    dataset = r.make_dataset(ro.IntVector(study.scores.ravel(order="F").tolist()), study.n_statements,
                             ro.StrVector(list(study.statement_ids)), ro.StrVector(list(study.sort_ids)))
    distribution = ro.NULL if study.forced else ro.IntVector(study.qscores.tolist())
    with RConsole():
        out = r.qmboots(dataset, k, int(nsteps), int(seed), ro.BoolVector([study.forced]), distribution)

    def num(v):
        with r.localconverter(ro.default_converter + r.numpy2ri.converter) as cv:
            return np.array(cv.rpy2py(v), dtype=np.float64)

    def table(v):
        return {"rows": list(strings(ro.r["rownames"](v))), "columns": list(strings(ro.r["colnames"](v))),
                "values": num(v)}

    res = {"resamples": num(out.rx2("resamples")).astype(np.int64), "fsi": num(out.rx2("fsi")),
           "target": num(out.rx2("target")), "seconds": float(out.rx2("seconds")[0]),
           "order_log": list(strings(out.rx2("order_log"))), "zbn": table(out.rx2("zbn")),
           "versions": dict(r.versions)}
    for name in ("loa", "flagged", "zsc"):
        res[name] = [num(out.rx2(f"{name}_{n}")) for n in range(1, k + 1)]
    for name in ("zstats", "loastats"):
        res[name] = [table(out.rx2(f"{name}_{n}")) for n in range(1, k + 1)]
    return res
