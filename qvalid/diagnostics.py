"""What qvalid says besides numbers: warnings as stable codes plus text (the contract of docs/warnings.md).

qvalid finishes where R stops and says what happened. Every warning it can give is registered in
:data:`WARNINGS` under a stable code (the code never changes; the text may be reworded). A warning is a
:class:`QWarning`: a ``str`` (the message, so ``"no flagged" in w`` keeps working) that carries its ``code``.
``QResult.warnings`` is a tuple of them, ``QResult.warning_codes`` the tuple of codes, and the JSON
``diagnostics.warnings`` a list of ``{"code": ..., "message": ...}``.

A leaf module like :mod:`qvalid.errors`: it imports nothing from qvalid, so the core kernels may use it.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["QWarning", "WarningInfo", "WARNINGS"]


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
        "extract.centroid",
        "centroid extraction with nfactors larger than the number of Q-sorts",
        "qmethod's centroid() allows this (with a warning); the factors beyond the rank of the correlation matrix "
        "are zero (see centroid-residuals-exhausted)",
        "extract at most as many factors as there are Q-sorts, usually far fewer"),
    "centroid-residuals-exhausted": WarningInfo(
        "extract.centroid",
        "after some centroid factors only rounding noise is left in the residual correlations (nfactors above "
        "the rank of the correlation matrix)",
        "the remaining factors are set to zero; R's centroid() loops forever or returns NaN here",
        "lower nfactors to the number of non-zero factors named in the message"),
    "horst55-not-converged": WarningInfo(
        "extract.horst55_centroid",
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
    "one-factor-not-rotated": WarningInfo(
        "pipeline.analyze",
        "centroid extraction of one factor with rotation=varimax",
        "there is nothing to rotate, so the unrotated loadings are used (qmethod's stats::varimax errors here)",
        "nothing, or pass rotation='none' to say so"),
    "negative-loading-flagged": WarningInfo(
        "flag.flag_warnings",
        "a flagged Q-sort has a negative loading on the factor it defines (qmethod's qflag warns the same)",
        "that sort enters the factor reversed (its weight is negative); the factor mixes a viewpoint and its "
        "opposite",
        "check the flags; consider manual flags, or interpreting the negative pole as a factor of its own"),
    "sort-flagged-on-several-factors": WarningInfo(
        "flag.flag_warnings",
        "a Q-sort is flagged on two or more factors (only possible with manual flags or majority=False; "
        "qmethod's qflag warns the same)",
        "that sort defines several factors at once, which makes them more alike (confounded sort)",
        "check the flags; usually a sort defines at most one factor"),
    "factor-without-flags": WarningInfo(
        "flag.flag_warnings",
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
    "qdc-fewer-than-two-factors": WarningInfo(
        "pipeline.analyze",
        "nfactors >= 2 but fewer than two factors have flagged Q-sorts",
        "there are no distinguishing or consensus statements (QResult.distinguishing is None)",
        "see factor-without-flags"),
}


class QWarning(str):
    """A warning: its message as a ``str``, with a stable :attr:`code` from :data:`WARNINGS`.

    >>> w = QWarning("factor-without-flags", "factor(s) f3 have no flagged Q-sort")
    >>> w.code, "f3" in w, w.to_dict()["code"]
    ('factor-without-flags', True, 'factor-without-flags')
    """

    code: str

    def __new__(cls, code: str, message: str) -> "QWarning":
        if code not in WARNINGS:
            raise KeyError(f"unregistered warning code {code!r}; add it to qvalid.diagnostics.WARNINGS")
        self = super().__new__(cls, message)
        self.code = code
        return self

    @property
    def message(self) -> str:
        return str.__str__(self)

    @property
    def info(self) -> WarningInfo:
        return WARNINGS[self.code]

    def to_dict(self) -> dict:
        """The JSON form: ``{"code": ..., "message": ...}``."""
        return {"code": self.code, "message": self.message}

    def __repr__(self) -> str:
        return f"QWarning({self.code!r}, {self.message!r})"

    def __reduce__(self):
        return QWarning, (self.code, self.message)
