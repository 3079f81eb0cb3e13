"""Every knob on which the Q tools differ, in one frozen :class:`Options`, and the flavour presets.

Numerical modules never see a flavour name: :func:`qvalid.analyze` resolves ``FLAVORS[flavor]`` plus the
user's overrides once (:func:`resolve_options`), checks them against :data:`ALLOWED`, and passes plain keyword
arguments to the step functions. The resolved options are stored in the result and in its JSON.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace

from .errors import QInputError

__all__ = ["Options", "FLAVORS", "ALLOWED", "resolve_options"]


@dataclass(frozen=True)
class Options:
    """Resolved analysis options (defaults = the ``qmethod`` flavour, R qmethod 1.8.4).

    Attributes
    ----------
    cor_method : {"pearson", "spearman", "kendall"}
        ``cor(dataset, method=cor.method)``, R/qmethod.R:30. Kendall is tau-b.
    cor_digits : int or None
        Round the correlations to this many decimals before extraction (KADE/PQMethod: 5, computed from raw sums,
        KADE ``getPqmethodCorrelation.js:42-50``); None keeps full precision (qmethod).
    extraction : {"pca", "centroid", "horst55"}
        Principal components (``pca_rule``), the centroid (``centroid_rule``) or PQMethod 2.30's Horst 5.5 centroid
        (KADE ``horst55Logic/horstMain.js``; ``horst_*`` options).
    pca_rule : {"psych", "kade"}
        How components are computed: ``psych::principal`` (R/qmethod.R:31-33; sign by column sum) or KADE
        (8-dp loadings, a component negated when sum a|a| < 0, ``PcaLogic/calcEigenVectors.js``).
    centroid_rule : {"qmethod", "kade"}
        Hermans' ``centroid()`` (R/centroid.R: diagonal from the mean column sum, tolerance ``spc``, tied columns
        reflected together) or Brown's centroid as KADE ports PQMethod (diagonal 0.5, tolerance 0.001 with its early
        return, one reflection at a time, 8-dp rounding, ``centroidLogic/*``).
    spc : float
        Centroid communality tolerance (R/centroid.R:29-35), default 1e-5 (qmethod centroid only).
    centroid_ties : {"qmethod", "strict"}
        When several column sums tie exactly for the minimum, qmethod's centroid reflects them all at once with
        an assignment that scrambles the matrix (R/centroid.R:22-24; ties are common with duplicated sorts, e.g. in
        every bootstrap resample); ``strict`` reflects one column at a time (:func:`qvalid.extract.centroid_strict`).
    horst_factors : int or None
        Horst 5.5: number of factors extracted before the first ``nfactors`` are kept (PQMethod/KADE extract up to
        8 and the iterated communalities depend on it); None = ``nfactors``.
    horst_max_iter, horst_tol, horst_autostop
        Horst 5.5: at most NL = 30 communality rounds, until max |residual diagonal| <= P = 1e-4; optionally stop
        adding factors when the mean squared residual is below 1/n_statements (KADE defaults 30, 1e-4, off).
    rotation : {"varimax", "none"}
    varimax_rule : {"stats", "kaiser"}
        ``stats::varimax`` (SVD iteration, R's factanal.R) or Kaiser's pairwise varimax as KADE ports PQMethod (SSP
        VARMX angle cascade, 8-dp rounding, sign rule, ``Rotation/varimaxLogic/*``).
    varimax_normalize, varimax_eps, varimax_max_iter
        ``stats::varimax(x, normalize=TRUE, eps=1e-5)`` with its fixed 1000-iteration cap; for ``kaiser`` eps is
        the |change of the criterion| counted as none (KADE 1e-8, four sweeps in a row) and max_iter the sweep cap
        (KADE 225); Kaiser normalisation is always on there.
    pca_tidy : bool
        After rotating principal components, sort factors by sum of squares and make column sums positive (psych,
        as qmethod); KADE keeps the order and applies its own sign rule.
    flag_rule : {"qmethod", "kade"}
        Automatic flagging: qmethod's ``qflag()`` on full-precision loadings, or KADE's Auto-Flag on 5-dp squares
        (``2calculateSigCriterionValues.js``); both strict.
    flag_z : float
        Significance multiplier: flag needs ``|a| > z/sqrt(n_statements)`` (R/qflag.R:8-15); KADE's p-levels
        .2 .15 .1 .05 .01 .005 .001 .0005 .0001 are z = 1.28 1.44 1.645 1.96 2.575 2.807 3.291 3.481 3.891.
    threshold : float or None
        If set, replaces the significance test by ``|a| >= threshold`` (a published cut-off such as the NAV
        study's 0.42).
    majority : bool
        Also require ``a^2 > h^2 - a^2`` (the loading explains more than all other factors together).
    scores_rule : {"qmethod", "kade"}
        Weights and z-scores: qmethod's full precision (R/qzscores.R), or KADE's (4-dp loadings in loadings-table
        order, weights scaled to 10 with KADE's quirk, per-sort standardisation, 3/5-dp rounding, ``3_*.js``).
    array_ties : {"qmethod", "strict"}
        Factor-array tie rule: qmethod's ``qscores[floor(mean rank)]`` (R/qzscores.R:50-78, may break the grid,
        qmethod issue #196) or ``strict`` (always the grid; ties broken by statement order, see
        :func:`qvalid.scores.factor_arrays`).
    av_rel_coef : float
        Average reliability coefficient for composite reliability (R/qfcharact.R:13).
    se_rule : {"qmethod", "kade"}
        Standard errors of factor scores: sd(z) sqrt(1 - r) (R/qfcharact.R), or KADE/PQMethod's sqrt(1 - r) with r, SE
        and SED each rounded to 3 dp first.
    qdc_rule : {"qmethod", "kade"}
        Distinguishing/consensus statements: qmethod's strict ``>`` at 1.96/2.576/3.291/4.8916 with one consensus
        tier, or KADE/PQMethod's ``>=`` at 1.96/2.575, D/D* per factor, consensus tiers C*/C and the in-place 2-dp
        rounding of z (``2_pushDistinguishingStatementsToOutput.js``).
    qdc_labels : {"qmethod", "strict"}
        How distinguishing labels find a factor's pairs: qmethod's unanchored ``grep`` (R/qdc.R:48-68, wrong for
        k >= 10) or ``strict`` (exact pair membership).
    """

    cor_method: str = "pearson"
    cor_digits: int | None = None
    extraction: str = "pca"
    pca_rule: str = "psych"
    centroid_rule: str = "qmethod"
    spc: float = 1e-5
    centroid_ties: str = "qmethod"
    horst_factors: int | None = None
    horst_max_iter: int = 30
    horst_tol: float = 1e-4
    horst_autostop: bool = False
    rotation: str = "varimax"
    varimax_rule: str = "stats"
    varimax_normalize: bool = True
    varimax_eps: float = 1e-5
    varimax_max_iter: int = 1000
    pca_tidy: bool = True
    flag_rule: str = "qmethod"
    flag_z: float = 1.96
    threshold: float | None = None
    majority: bool = True
    scores_rule: str = "qmethod"
    array_ties: str = "qmethod"
    av_rel_coef: float = 0.8
    se_rule: str = "qmethod"
    qdc_rule: str = "qmethod"
    qdc_labels: str = "qmethod"

    def to_dict(self) -> dict:
        return asdict(self)


#: Allowed values of the string options (one table, checked once in :func:`resolve_options`).
ALLOWED = {
    "cor_method": ("pearson", "spearman", "kendall"),
    "extraction": ("pca", "centroid", "horst55"),
    "pca_rule": ("psych", "kade"),
    "centroid_rule": ("qmethod", "kade"),
    "rotation": ("varimax", "none"),
    "varimax_rule": ("stats", "kaiser"),
    "flag_rule": ("qmethod", "kade"),
    "scores_rule": ("qmethod", "kade"),
    "array_ties": ("qmethod", "strict"),
    "se_rule": ("qmethod", "kade"),
    "qdc_rule": ("qmethod", "kade"),
    "centroid_ties": ("qmethod", "strict"),
    "qdc_labels": ("qmethod", "strict"),
}

#: Flavour presets. ``qmethod`` mirrors R qmethod 1.8.4 exactly (../shared/docs/qmethod-r-spec.md); ``kade``
#: mirrors KADE 1.3 / Ken-Q, the ports of PQMethod (../shared/docs/kade-pqmethod-spec.md; field by field in
#: docs/kade.md). Extraction stays ``pca`` in both (``extraction="centroid"`` gives each tool's centroid).
FLAVORS = {
    "qmethod": Options(),
    "kade": Options(cor_digits=5, pca_rule="kade", centroid_rule="kade", varimax_rule="kaiser", varimax_eps=1e-8,
                    varimax_max_iter=225, pca_tidy=False, flag_rule="kade", scores_rule="kade", array_ties="strict",
                    se_rule="kade", qdc_rule="kade", qdc_labels="strict"),
}


_NAMES = frozenset(f.name for f in fields(Options))
_RESOLVED: dict = {}  # (flavor, overrides) -> Options: analyze() resolves the same few combinations again and again


def resolve_options(flavor: str = "qmethod", **overrides) -> Options:
    """``FLAVORS[flavor]`` with ``overrides`` applied and checked; raise :class:`QInputError` on a bad value.

    Options are frozen, so a resolved combination is cached (keyed by the values and their types: ``majority=1``
    is not ``majority=True``) and checked only the first time.
    """
    try:
        key = (flavor, tuple(sorted((k, type(v), v) for k, v in overrides.items())))
        return _RESOLVED[key]
    except TypeError:  # an unhashable value: resolve without the cache
        return _resolve(flavor, overrides)
    except KeyError:
        opts = _RESOLVED[key] = _resolve(flavor, overrides)
        if len(_RESOLVED) > 512:  # a bound for long-running processes that try many combinations
            _RESOLVED.clear()
        return opts


def _resolve(flavor, overrides: dict) -> Options:
    if flavor not in FLAVORS:
        raise QInputError(f"unknown flavor {flavor!r}; choose one of {', '.join(FLAVORS)}")
    unknown = sorted(set(overrides) - _NAMES)
    if unknown:
        raise QInputError(f"unknown option(s) {', '.join(unknown)}; known: {', '.join(sorted(_NAMES))}")
    overrides = {k: v for k, v in overrides.items()
                 if v is not None or k in ("threshold", "cor_digits", "horst_factors")}
    for k, v in overrides.items():
        if k in ALLOWED:
            v = str(v).lower()
            if v not in ALLOWED[k]:
                raise QInputError(f"option {k}={overrides[k]!r} is not one of {', '.join(ALLOWED[k])}")
            overrides[k] = v
    opts = replace(FLAVORS[flavor], **overrides)
    if not opts.spc > 0:
        raise QInputError(f"option spc={opts.spc!r} must be > 0")
    if opts.threshold is not None and not 0 < opts.threshold < 1:
        raise QInputError(f"option threshold={opts.threshold!r} must lie between 0 and 1")
    if opts.cor_digits is not None and not 0 <= opts.cor_digits <= 15:
        raise QInputError(f"option cor_digits={opts.cor_digits!r} must lie between 0 and 15")
    if opts.horst_factors is not None and opts.horst_factors < 1:
        raise QInputError(f"option horst_factors={opts.horst_factors!r} must be >= 1")
    if not opts.horst_tol > 0 or opts.horst_max_iter < 1:
        raise QInputError("options horst_tol and horst_max_iter must be > 0")
    if not 0 < opts.av_rel_coef <= 1:
        raise QInputError(f"option av_rel_coef={opts.av_rel_coef!r} must lie in (0, 1]")
    return opts
