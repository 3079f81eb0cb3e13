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
    extraction : {"pca", "centroid"}
        ``psych::principal`` (R/qmethod.R:31-33) or Hermans' ``centroid()`` (R/qmethod.R:34-43).
    spc : float
        Centroid communality tolerance (R/centroid.R:29-35), default 1e-5.
    centroid_ties : {"qmethod", "strict"}
        When several column sums tie exactly for the minimum, qmethod's centroid reflects them all at once with
        an assignment that scrambles the matrix (R/centroid.R:22-24; ties are common with duplicated sorts, e.g. in
        every bootstrap resample); ``strict`` reflects one column at a time (:func:`qvalid.extract.centroid_strict`).
    rotation : {"varimax", "none"}
    varimax_normalize, varimax_eps, varimax_max_iter
        ``stats::varimax(x, normalize=TRUE, eps=1e-5)`` with its fixed 1000-iteration cap.
    flag_z : float
        Significance multiplier: flag needs ``|a| > z/sqrt(n_statements)`` (R/qflag.R:8-15).
    threshold : float or None
        If set, replaces the significance test by ``|a| >= threshold`` (a published cut-off such as the NAV
        study's 0.42).
    majority : bool
        Also require ``a^2 > h^2 - a^2`` (the loading explains more than all other factors together).
    array_ties : {"qmethod", "strict"}
        Factor-array tie rule: qmethod's ``qscores[floor(mean rank)]`` (R/qzscores.R:50-78, may break the grid,
        qmethod issue #196) or ``strict`` (always the grid; ties broken by statement order, see
        :func:`qvalid.scores.factor_arrays`).
    av_rel_coef : float
        Average reliability coefficient for composite reliability (R/qfcharact.R:13).
    qdc_labels : {"qmethod", "strict"}
        How distinguishing labels find a factor's pairs: qmethod's unanchored ``grep`` (R/qdc.R:48-68, wrong for
        k >= 10) or ``strict`` (exact pair membership).
    """

    cor_method: str = "pearson"
    extraction: str = "pca"
    spc: float = 1e-5
    centroid_ties: str = "qmethod"
    rotation: str = "varimax"
    varimax_normalize: bool = True
    varimax_eps: float = 1e-5
    varimax_max_iter: int = 1000
    flag_z: float = 1.96
    threshold: float | None = None
    majority: bool = True
    array_ties: str = "qmethod"
    av_rel_coef: float = 0.8
    qdc_labels: str = "qmethod"

    def to_dict(self) -> dict:
        return asdict(self)


#: Allowed values of the string options (one table, checked once in :func:`resolve_options`).
ALLOWED = {
    "cor_method": ("pearson", "spearman", "kendall"),
    "extraction": ("pca", "centroid"),
    "rotation": ("varimax", "none"),
    "array_ties": ("qmethod", "strict"),
    "centroid_ties": ("qmethod", "strict"),
    "qdc_labels": ("qmethod", "strict"),
}

#: Flavour presets. ``qmethod`` mirrors R qmethod 1.8.4 exactly (../shared/docs/qmethod-r-spec.md).
FLAVORS = {
    "qmethod": Options(),
}


def resolve_options(flavor: str = "qmethod", **overrides) -> Options:
    """``FLAVORS[flavor]`` with ``overrides`` applied and checked; raise :class:`QInputError` on a bad value."""
    if flavor not in FLAVORS:
        raise QInputError(f"unknown flavor {flavor!r}; choose one of {', '.join(FLAVORS)}")
    names = {f.name for f in fields(Options)}
    unknown = sorted(set(overrides) - names)
    if unknown:
        raise QInputError(f"unknown option(s) {', '.join(unknown)}; known: {', '.join(sorted(names))}")
    overrides = {k: v for k, v in overrides.items() if v is not None or k == "threshold"}
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
    if not 0 < opts.av_rel_coef <= 1:
        raise QInputError(f"option av_rel_coef={opts.av_rel_coef!r} must lie in (0, 1]")
    return opts
