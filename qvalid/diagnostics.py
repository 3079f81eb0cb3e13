"""What qvalid says besides numbers: warnings as stable codes plus text (the contract of docs/warnings.md).

qvalid finishes where R stops and says what happened. Every warning it can give is registered in
:data:`WARNINGS` under a stable code (the code never changes; the text may be reworded). A warning is a
:class:`QWarning`: a ``str`` (the message, so ``"no flagged" in w`` keeps working) that carries its ``code``.
``QResult.warnings`` is a tuple of them, ``QResult.warning_codes`` the tuple of codes, and the JSON
``diagnostics.warnings`` a list of ``{"code": ..., "message": ...}``.

The kernels of :mod:`qvalid.core` emit :class:`~qvalid.core.notes.Note` objects (code + message) without knowing this
registry; the pipeline turns them into :class:`QWarning`, which checks the code here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .core.notes import Note

__all__ = ["QWarning", "WarningInfo", "WARNINGS", "as_warning", "flag_warnings", "grid_warnings"]


@dataclass(frozen=True)
class WarningInfo:
    """One registered warning: where it comes from, when it is given, what it means and what to do."""

    source: str
    when: str
    meaning: str
    action: str


#: code -> :class:`WarningInfo`. docs/warnings.md documents exactly these codes (a test keeps the two in step).
WARNINGS = {
    "centroid-nfactors-above-sorts": WarningInfo(
        "core.extract.centroid",
        "centroid extraction with nfactors larger than the number of Q-sorts",
        "qmethod's centroid() allows this (with a warning); the factors beyond the rank of the correlation matrix "
        "are zero (see centroid-residuals-exhausted)",
        "extract at most as many factors as there are Q-sorts, usually far fewer"),
    "centroid-residuals-exhausted": WarningInfo(
        "core.extract.centroid",
        "after some centroid factors only rounding noise is left in the residual correlations (nfactors above "
        "the rank of the correlation matrix)",
        "the remaining factors are set to zero; R's centroid() loops forever or returns NaN here",
        "lower nfactors to the number of non-zero factors named in the message"),
    "horst55-not-converged": WarningInfo(
        "core.extract.horst55_centroid",
        "extraction='horst55' (PQMethod's Horst 5.5 centroid): the communality iteration did not converge in "
        "horst_max_iter rounds",
        "the loadings are those of the last round, not of a converged solution",
        "raise horst_max_iter or loosen horst_tol (see docs/kade.md)"),
    "varimax-not-converged": WarningInfo(
        "pipeline.analyze",
        "varimax used all varimax_max_iter iterations without meeting its stopping rule",
        "the rotation is not at a maximum of the varimax criterion; loadings, flags and everything after them "
        "may differ from a converged run (R's stats::varimax returns silently here)",
        "raise varimax_max_iter (R uses 1000), or check for an ill-conditioned solution (nfactors close to the "
        "number of Q-sorts)"),
    "rotation-not-converged": WarningInfo(
        "pipeline.analyze",
        "a GPArotation rotation (quartimax, oblimin, geominQ, ...) used all gpa_max_iter iterations without its "
        "projected gradient falling below gpa_eps",
        "the rotation is not at a minimum of its criterion; GPArotation returns the last iterate with a warning, "
        "as qvalid does (same iterate as R)",
        "raise gpa_max_iter, try another start-free criterion, or extract fewer factors (simplimax and targetQ often "
        "stall on weak factors)"),
    "rotation-beyond-qmethod": WarningInfo(
        "pipeline.analyze",
        "centroid (or Horst) extraction with a rotation other than varimax or none",
        "qmethod 1.8.4 refuses this combination; qvalid applies psych's/GPArotation's algorithm to the centroid "
        "factors without psych's sort and sign step, so R cannot cross-check it",
        "nothing, if intended; for a cross-check with R use PCA, varimax or none"),
    "one-factor-not-rotated": WarningInfo(
        "pipeline.analyze",
        "centroid extraction of one factor with rotation=varimax",
        "there is nothing to rotate, so the unrotated loadings are used (qmethod's stats::varimax errors here)",
        "nothing, or pass rotation='none' to say so"),
    "negative-loading-flagged": WarningInfo(
        "diagnostics.flag_warnings",
        "a flagged Q-sort has a negative loading on the factor it defines (qmethod's qflag warns the same)",
        "that sort enters the factor reversed (its weight is negative); the factor mixes a viewpoint and its "
        "opposite",
        "check the flags; consider manual flags, or interpreting the negative pole as a factor of its own"),
    "sort-flagged-on-several-factors": WarningInfo(
        "diagnostics.flag_warnings",
        "a Q-sort is flagged on two or more factors (only possible with manual flags or majority=False; "
        "qmethod's qflag warns the same)",
        "that sort defines several factors at once, which makes them more alike (confounded sort)",
        "check the flags; usually a sort defines at most one factor"),
    "factor-without-flags": WarningInfo(
        "diagnostics.flag_warnings",
        "a factor has no flagged Q-sort",
        "its weights are all zero, so its z-scores and factor arrays are NaN (null in JSON) and it is left out "
        "of the distinguishing/consensus statements (R's qzscores warns and R's qdc stops)",
        "extract fewer factors, lower the flag threshold, or flag sorts by hand"),
    "flagged-loading-unit": WarningInfo(
        "pipeline.analyze",
        "a flagged loading is +-1 or beyond (e.g. duplicated or mirrored Q-sorts)",
        "its weight a/(1-a^2) is infinite (at +-1) or has the wrong sign (beyond); at +-1 qvalid uses the limit: "
        "only those sorts define the factor (R returns NaN z-scores)",
        "check for duplicated or mirrored Q-sorts and for more factors than the data support"),
    "factor-array-off-grid": WarningInfo(
        "diagnostics.grid_warnings",
        "a factor array does not fill the grid: some score holds more (and another fewer) statements than the grid "
        "has cells, because statements with tied z-scores share one value (array_ties='mean-rank', qmethod's rule, "
        "its issue #196)",
        "the array is what qmethod gives, but it is not a Q-sort on the study's grid; KADE and PQMethod never do this",
        "report it as qmethod's array, or pass array_ties='strict' (--array-ties strict) for an array that fills the "
        "grid (ties broken by statement order, as KADE/PQMethod)"),
    "qdc-compares-flagless-factor": WarningInfo(
        "pipeline.analyze",
        "qdc_flagless='positional' (qmethod) and the last factor has no flags: qmethod's qdc compares f1..f(k-m) by "
        "position (m flagless factors), and a flagless factor is among the two compared",
        "the distinguishing/consensus table is all NA (one pair, NaN differences, no stars, no labels), as R "
        "returns it",
        "pass qdc_flagless='skip' (--qdc-flagless skip) to compare the factors that have flags; or flag sorts by hand"),
    "qdc-fewer-than-two-factors": WarningInfo(
        "pipeline.analyze",
        "nfactors >= 2 but fewer than two factors have flagged Q-sorts",
        "there are no distinguishing or consensus statements (QResult.distinguishing is None)",
        "see factor-without-flags"),
}


class QWarning(Note):
    """A warning: its message as a ``str``, with a stable :attr:`code` registered in :data:`WARNINGS`.

    >>> w = QWarning("factor-without-flags", "factor(s) f3 have no flagged Q-sort")
    >>> w.code, "f3" in w, w.to_dict()["code"]
    ('factor-without-flags', True, 'factor-without-flags')
    """

    def __new__(cls, code: str, message: str) -> "QWarning":
        if code not in WARNINGS:
            raise KeyError(f"unregistered warning code {code!r}; add it to qvalid.diagnostics.WARNINGS")
        return super().__new__(cls, code, message)

    @property
    def info(self) -> WarningInfo:
        return WARNINGS[self.code]


def as_warning(note: Note) -> QWarning:
    """A kernel's :class:`~qvalid.core.notes.Note` as a registered :class:`QWarning`."""
    return note if isinstance(note, QWarning) else QWarning(note.code, note.message)


def flag_warnings(loadings, flags) -> list[QWarning]:
    """qmethod's qflag warnings (R/qflag.R:25-27) plus factors without any flagged sort (R/qzscores.R:4).

    Codes (docs/warnings.md): ``negative-loading-flagged``, ``sort-flagged-on-several-factors``,
    ``factor-without-flags``.
    """
    a, f = np.asarray(loadings), np.asarray(flags, dtype=bool)
    out = []
    if (a[f] < 0).any():
        out.append(QWarning("negative-loading-flagged",
                            "one or more Q-sorts with negative loadings are flagged; check the flags"))
    if (np.add.reduce(f, axis=-1) > 1).any():
        out.append(QWarning("sort-flagged-on-several-factors",
                            "one or more Q-sorts are flagged on two or more factors; check the flags"))
    empty = np.flatnonzero(~f.any(axis=-2)) if f.ndim == 2 else []
    if len(empty):
        out.append(QWarning("factor-without-flags",
                            "factor(s) " + ", ".join(f"f{j + 1}" for j in empty) + " have no flagged Q-sort: "
                            "their z-scores and factor arrays are undefined (NaN)"))
    return out


def grid_warnings(arrays, qscores, names=None) -> list[QWarning]:
    """``factor-array-off-grid``: one warning naming every factor whose array (a column of ``arrays``, NaN for a
    flagless factor) does not hold each score exactly as often as the grid ``qscores`` (ascending, one value per
    statement) does; qmethod's tie rule (R/qzscores.R:50-78, its issue #196) can do this."""
    a = np.asarray(arrays, dtype=np.float64)
    q = np.sort(np.asarray(qscores, dtype=np.float64))
    bad = []
    for j in range(a.shape[1]):  # a loop over factors
        col = a[:, j]
        if np.isnan(col).any() or np.array_equal(np.sort(col), q):
            continue
        vals, want = np.unique(q, return_counts=True)
        have = (col[:, None] == vals[None, :]).sum(axis=0)
        over = [f"score {f'{int(v):+d}' if v else '0'} given to {int(h)} statements, the grid has {int(w)}"
                for v, h, w in zip(vals.tolist(), have.tolist(), want.tolist()) if h > w]
        bad.append(f"{names[j] if names else f'f{j + 1}'} ({'; '.join(over)})")
    if not bad:
        return []
    return [QWarning("factor-array-off-grid",
                     "factor array(s) break the grid, tied z-scores sharing a value (qmethod's tie rule, its issue "
                     "#196; array_ties='strict' fills the grid): " + ", ".join(bad))]
