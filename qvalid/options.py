"""Every knob on which the Q tools differ, in one frozen :class:`Options`, its one table of facts, and the flavours.

Each field of :class:`Options` carries an :class:`OptionInfo` (``dataclasses.field`` metadata): its allowed values
and accepted aliases, its range, the pipeline stage it acts on, how R qmethod takes it, and which of its values the
batched analyses (the bootstrap) compute. :data:`OPTION_INFO` is that table; the command line, the report, the
cross-check and the bootstrap read it, and a test checks that every field has an entry.

Variant values are named after the method (``hermans``/``brown`` centroid, ``stats``/``kaiser`` varimax,
``exact``/``rounded`` arithmetic); the tool names (``qmethod``, ``kade``, ``psych``) are accepted aliases.
Numerical modules never see a flavour name: :func:`resolve_options` resolves ``FLAVORS[flavor]`` plus the user's
overrides once, checks them against the table and passes plain values to the steps. The resolved options are
stored in the result and in its JSON.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields, replace
from types import MappingProxyType

import numpy as np

from .core.psych_rotate import PSYCH_ROTATIONS
from .errors import QInputError
from .numbers import NumberError, number, range_text

__all__ = ["Options", "OptionInfo", "OPTION_INFO", "FLAVORS", "ALLOWED", "STAGES", "R_KINDS", "FlagRule", "ROTATIONS", "TARGET_ROTATIONS",
           "resolve_options", "options_differing", "set_by", "rotation_arguments", "ROTATION_R_NAMES"]

#: The pipeline stages an option can act on, in the order :func:`qvalid.analyze` runs them.
STAGES = ("correlation", "extraction", "rotation", "flags", "scores", "characteristics", "distinguishing")
#: How R qmethod takes an option: ``argument`` (passed to ``qmethod()``), ``flags`` (reproduced in R by passing
#: qvalid's flags), ``qvalid`` (qvalid's repair of a known qmethod defect: R has only its own rule) or ``fixed``
#: (R has one behaviour, the ``qmethod`` preset's value; another value cannot be asked of R).
R_KINDS = ("argument", "flags", "qvalid", "fixed")


@dataclass(frozen=True)
class OptionInfo:
    """The facts about one :class:`Options` field.

    Attributes
    ----------
    stage : str
        One of :data:`STAGES`.
    values : tuple of str
        Allowed values of a choice option (empty for numbers and booleans).
    aliases : mapping
        Other accepted spellings of a value (the tool names) -> the value.
    kind : type
        ``str``, ``bool``, ``int`` or ``float``.
    optional : bool
        None is allowed (e.g. ``threshold``: no fixed cut-off).
    low, high : float or None; low_open, high_open : bool
        The range of a number (open or closed ends).
    r : str
        One of :data:`R_KINDS`.
    r_name : str or None
        qmethod's argument (``r="argument"``).
    batched : bool or tuple
        True when the batched analyses compute every value; else the values they compute.
    case_sensitive : bool
        Values are names whose case matters (R's rotation names: ``varimax`` is stats::varimax, ``Varimax``
        GPArotation's); another spelling is accepted only when it matches one value ignoring case.
    """

    stage: str
    values: tuple = ()
    aliases: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))
    kind: type = str
    optional: bool = False
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    r: str = "fixed"
    r_name: str | None = None
    batched: bool | tuple = True
    case_sensitive: bool = False

    def canonical(self, value):
        """The value after alias resolution (strings are case-insensitive unless ``case_sensitive``)."""
        if not self.values or not isinstance(value, str):
            return value
        if self.case_sensitive:
            if value in self.values or value in self.aliases:
                return self.aliases.get(value, value)
            folded = [v for v in self.values if v.lower() == value.lower()]
            return folded[0] if len(folded) == 1 else value
        v = value.lower()
        return self.aliases.get(v, v)

    def problem(self, name: str, value) -> str | None:
        """Why ``value`` is not allowed for option ``name``, or None."""
        reason = self.reason(value)
        return None if reason is None else f"option {name}={value!r} {reason}"

    def reason(self, value) -> str | None:
        """Why ``value`` (a Python value) is not allowed, without the option's name ("must be >= 1"), or None."""
        if value is None:
            return None if self.optional else "is not allowed"
        if self.values:
            if not isinstance(value, str) or value not in self.values:
                alias = "".join(f", {a} (= {v})" for a, v in self.aliases.items())
                return f"is not one of {', '.join(self.values)}{alias}"
            return None
        if self.kind is bool:
            ok = isinstance(value, (bool, np.bool_)) or (isinstance(value, (int, np.integer)) and value in (0, 1))
            return None if ok else "must be true or false"
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
            return "must be a number"
        try:
            number(value, **self.rule())
        except NumberError as err:
            return "must be a finite number" if err.kind == "not-finite" else \
                "must be a whole number" if err.kind == "not-whole" else err.reason
        return None

    def rule(self) -> dict:
        """The number rule of this option for :func:`qvalid.numbers.number`."""
        return {"whole": self.kind is int, "low": self.low, "high": self.high, "low_open": self.low_open,
                "high_open": self.high_open}

    def parse(self, text: str):
        """A value typed on the command line: a choice (case-insensitive, aliases resolved) or a number by the rule
        of :mod:`qvalid.numbers` and this option's range. Raises :class:`ValueError` quoting ``text`` as written."""
        if self.values:
            v = self.canonical(text)
            if v not in self.values:
                raise ValueError(f"{text!r} {self.reason(v)}")
            return v
        if self.kind is bool:
            raise ValueError(f"{text!r}: a switch takes no value")
        return number(text, **self.rule())

    def range_text(self) -> str:
        return range_text(self.low, self.high, self.low_open, self.high_open, self.kind is int)


def _opt(default, stage: str, **info):
    """An Options field with its :class:`OptionInfo`."""
    if "aliases" in info:
        info["aliases"] = MappingProxyType(dict(info["aliases"]))
    return field(default=default, metadata={"info": OptionInfo(stage, **info)})


_EXACT_ROUNDED = {"values": ("exact", "rounded"), "aliases": {"qmethod": "exact", "kade": "rounded"}}
#: Rotation names: R's (qmethod passes them to psych::principal(rotate=)), varimax and none first.
ROTATIONS = ("varimax", "none", *(n for n in PSYCH_ROTATIONS if n != "varimax"))
#: Target rotations: their target is given per Q-sort, which a bootstrap replicate of sorts does not have.
TARGET_ROTATIONS = ("targetT", "TargetT", "targetQ")


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
    pca_rule : {"principal", "qpca"}
        How components are computed: ``psych::principal`` (R/qmethod.R:31-33; sign by column sum; alias ``psych``)
        or PQMethod's QPCA as KADE ports it (8-dp loadings, a component negated when sum a|a| < 0,
        ``PcaLogic/calcEigenVectors.js``; alias ``kade``).
    centroid_rule : {"hermans", "brown"}
        F. Hermans' ``centroid()`` of qmethod (R/centroid.R: diagonal from the mean column sum, tolerance ``spc``,
        tied columns reflected together; alias ``qmethod``) or Brown's centroid as KADE ports PQMethod (diagonal
        0.5, tolerance 0.001 with its early return, one reflection at a time, 8-dp rounding, ``centroidLogic/*``;
        alias ``kade``).
    spc : float
        Centroid communality tolerance (R/centroid.R:29-35), default 1e-5 (Hermans' centroid only).
    centroid_ties : {"joint", "strict"}
        When several column sums tie exactly for the minimum, qmethod's centroid reflects them all at once with
        an assignment that scrambles the matrix (``joint``, alias ``qmethod``; R/centroid.R:22-24; ties are common
        with duplicated sorts, e.g. in every bootstrap resample); ``strict`` reflects one column at a time
        (:func:`qvalid.core.extract.centroid_strict`).
    horst_factors : int or None
        Horst 5.5: number of factors extracted before the first ``nfactors`` are kept (PQMethod/KADE extract up to
        8 and the iterated communalities depend on it); None = ``nfactors``.
    horst_max_iter, horst_tol, horst_autostop
        Horst 5.5: at most NL = 30 communality rounds, until max |residual diagonal| <= P = 1e-4; optionally stop
        adding factors when the mean squared residual is below 1/n_statements (KADE defaults 30, 1e-4, off;
        PQMethod 2.35 stops at P = 1e-3: the ``pqmethod`` flavour).
    rotation : str
        ``varimax``, ``none`` or any rotation psych::principal knows, by R's (case-sensitive) name, as qmethod passes
        it on (R/qmethod.R:31-33): orthogonal ``quartimax``, ``equamax``, ``Varimax`` (GPArotation's), ``bentlerT``,
        ``geominT``, ``targetT``/``TargetT``, ``varimin``, ``bifactor``; oblique ``promax`` (stats), ``Promax``
        (psych), ``cluster``, ``oblimin``, ``quartimin``, ``simplimax``, ``geominQ``, ``bentlerQ``, ``targetQ``,
        ``biquartimin`` (docs/rotations.md). Oblique rotations give pattern loadings and factor correlations. For
        centroid extraction qmethod accepts only varimax and none; qvalid applies the same algorithms (no sort or sign
        step), beyond qmethod.
    rotation_gam : float
        oblimin's gamma (GPArotation ``gam``, 0 = quartimin, 0.5 biquartimin, 1 covarimin).
    rotation_delta : float
        geominT/geominQ's delta (GPArotation ``delta``, 0.01).
    rotation_k : int or None
        simplimax's number of loadings pulled towards 0 (GPArotation ``k``); None = the number of Q-sorts (R's
        default ``nrow(L)``).
    gpa_normalize : bool
        Kaiser normalisation in the GPArotation rotations (GPArotation ``normalize``, default FALSE as psych calls
        them); varimax, promax and cluster use ``varimax_normalize``.
    gpa_eps, gpa_max_iter
        GPArotation's stopping rule: the projected gradient's norm below ``eps`` (1e-5), at most ``maxit`` (1000)
        iterations.
    promax_m : float
        promax's power (stats::promax / psych::Promax ``m``, 4). qmethod cannot pass another value
        (``principal(m=)`` is ambiguous in R).
    steps_rule : {"exact", "rounded"}
        Judgmental rotation steps (``analyze(..., then=...)``, ``--then``): exact, or KADE's (each step's two rotated
        columns rounded to 5 decimals with its evenRound, ``clockwiseRotation.js``).
    varimax_rule : {"stats", "kaiser"}
        ``stats::varimax`` (SVD iteration, R's factanal.R; alias ``qmethod``) or Kaiser's pairwise varimax as KADE
        ports PQMethod (SSP VARMX angle cascade, 8-dp rounding, sign rule, ``Rotation/varimaxLogic/*``; alias
        ``kade``).
    varimax_normalize, varimax_eps, varimax_max_iter
        ``stats::varimax(x, normalize=TRUE, eps=1e-5)`` with its fixed 1000-iteration cap; for ``kaiser`` eps is
        the |change of the criterion| counted as none (KADE 1e-8, four sweeps in a row) and max_iter the sweep cap
        (KADE 225); Kaiser normalisation is always on there.
    pca_tidy : bool
        After rotating principal components, sort factors by sum of squares and make column sums positive (psych,
        as qmethod); KADE keeps the order and applies its own sign rule.
    flag_rule : {"exact", "rounded"}
        Automatic flagging: qmethod's ``qflag()`` on full-precision loadings (``exact``) or KADE's Auto-Flag on
        5-dp squares (``rounded``, ``2calculateSigCriterionValues.js``); both strict.
    flag_z : float
        Significance multiplier: flag needs ``|a| > z/sqrt(n_statements)`` (R/qflag.R:8-15); KADE's p-levels
        .2 .15 .1 .05 .01 .005 .001 .0005 .0001 are z = 1.28 1.44 1.645 1.96 2.575 2.807 3.291 3.481 3.891.
    threshold : float or None
        If set, replaces the significance test by ``|a| >= threshold`` (a published cut-off such as the NAV
        study's 0.42).
    majority : bool
        Also require ``a^2 > h^2 - a^2`` (the loading explains more than all other factors together).
    scores_rule : {"exact", "rounded"}
        Weights and z-scores: qmethod's full precision (R/qzscores.R), or KADE's (4-dp loadings in loadings-table
        order, weights scaled to 10 with KADE's quirk, per-sort standardisation, 3/5-dp rounding, ``3_*.js``).
    array_ties : {"mean-rank", "strict"}
        Factor-array tie rule: qmethod's ``qscores[floor(mean rank)]`` (``mean-rank``, alias ``qmethod``;
        R/qzscores.R:50-78, may break the grid, qmethod issue #196) or ``strict`` (always the grid; ties broken by
        statement order, see :func:`qvalid.core.scores.factor_arrays`).
    av_rel_coef : float
        Average reliability coefficient for composite reliability (R/qfcharact.R:13).
    se_rule : {"exact", "rounded"}
        Standard errors of factor scores: sd(z) sqrt(1 - r) (R/qfcharact.R), or KADE/PQMethod's sqrt(1 - r) with r,
        SE and SED each rounded to 3 dp first.
    qdc_rule : {"stars", "four-star", "two-star", "rounded"}
        Distinguishing/consensus statements: qmethod's strict ``>`` at 1.96/2.576/3.291/4.8916 with one consensus
        tier (``stars``, alias ``qmethod``; qmethod 1.5.5 to 1.8.4), the tiers of older qmethod releases for papers
        made with them (``four-star``, alias ``qmethod-1.5.4``: "****" at 4.753, qmethod 1.5.2-1.5.4, 2017-2018;
        ``two-star``, alias ``qmethod-1.5``: "*" at 1.96 and "**" at 2.58 only, qmethod 1.0-1.5, 2014-2017), or
        KADE/PQMethod's ``>=`` at 1.96/2.575 on z rounded in place to 2 dp, D/D* per factor, consensus tiers C*/C
        (``rounded``, alias ``kade``; ``2_pushDistinguishingStatementsToOutput.js``).
    qdc_labels : {"grep", "strict"}
        How distinguishing labels find a factor's pairs: qmethod's unanchored ``grep`` (``grep``, alias ``qmethod``;
        R/qdc.R:48-68, wrong for k >= 10) or ``strict`` (exact pair membership).
    qdc_flagless : {"positional", "skip"}
        Factors without flags in the distinguishing/consensus table: qmethod's qdc (``positional``, alias
        ``qmethod``; R/qdc.R:4-7) compares f1..f(k-m) by position when the last factor is flagless (m flagless
        factors), an all-NA table when a flagless one is among two; ``skip`` leaves every flagless factor out.
    """

    cor_method: str = _opt("pearson", "correlation", values=("pearson", "spearman", "kendall"), r="argument",
                           r_name="cor.method")
    cor_digits: int | None = _opt(None, "correlation", kind=int, optional=True, low=0, high=15, batched=(None,))
    extraction: str = _opt("pca", "extraction", values=("pca", "centroid", "horst55"), r="argument",
                           r_name="extraction", batched=("pca", "centroid"))
    pca_rule: str = _opt("principal", "extraction", values=("principal", "qpca"),
                         aliases={"psych": "principal", "kade": "qpca"}, batched=("principal",))
    centroid_rule: str = _opt("hermans", "extraction", values=("hermans", "brown"),
                              aliases={"qmethod": "hermans", "kade": "brown"}, batched=("hermans",))
    spc: float = _opt(1e-5, "extraction", kind=float, low=0, low_open=True, r="argument", r_name="spc")
    centroid_ties: str = _opt("joint", "extraction", values=("joint", "strict"), aliases={"qmethod": "joint"},
                              r="qvalid")
    horst_factors: int | None = _opt(None, "extraction", kind=int, optional=True, low=1)
    horst_max_iter: int = _opt(30, "extraction", kind=int, low=1)
    horst_tol: float = _opt(1e-4, "extraction", kind=float, low=0, low_open=True)
    horst_autostop: bool = _opt(False, "extraction", kind=bool)
    rotation: str = _opt("varimax", "rotation", values=ROTATIONS, case_sensitive=True, r="argument",
                         r_name="rotation", batched=tuple(n for n in ROTATIONS if n not in TARGET_ROTATIONS))
    rotation_gam: float = _opt(0.0, "rotation", kind=float, r="argument", r_name="gam")
    rotation_delta: float = _opt(0.01, "rotation", kind=float, low=0, low_open=True, r="argument", r_name="delta")
    rotation_k: int | None = _opt(None, "rotation", kind=int, optional=True, low=1, r="argument", r_name="k")
    gpa_normalize: bool = _opt(False, "rotation", kind=bool, r="argument", r_name="normalize")
    gpa_eps: float = _opt(1e-5, "rotation", kind=float, low=0, low_open=True, r="argument", r_name="eps")
    gpa_max_iter: int = _opt(1000, "rotation", kind=int, low=1, r="argument", r_name="maxit")
    promax_m: float = _opt(4.0, "rotation", kind=float, low=1)
    steps_rule: str = _opt("exact", "rotation", **_EXACT_ROUNDED)
    varimax_rule: str = _opt("stats", "rotation", values=("stats", "kaiser"),
                             aliases={"qmethod": "stats", "kade": "kaiser"}, batched=("stats",))
    varimax_normalize: bool = _opt(True, "rotation", kind=bool)
    varimax_eps: float = _opt(1e-5, "rotation", kind=float, low=0, low_open=True)
    varimax_max_iter: int = _opt(1000, "rotation", kind=int, low=1)
    pca_tidy: bool = _opt(True, "rotation", kind=bool, batched=(True,))
    flag_rule: str = _opt("exact", "flags", **_EXACT_ROUNDED, batched=("exact",))
    flag_z: float = _opt(1.96, "flags", kind=float, low=0, low_open=True, r="flags")
    threshold: float | None = _opt(None, "flags", kind=float, optional=True, low=0, high=1, low_open=True,
                                   high_open=True, r="flags")
    majority: bool = _opt(True, "flags", kind=bool, r="flags")
    scores_rule: str = _opt("exact", "scores", **_EXACT_ROUNDED, batched=("exact",))
    array_ties: str = _opt("mean-rank", "scores", values=("mean-rank", "strict"), aliases={"qmethod": "mean-rank"},
                           r="qvalid")
    av_rel_coef: float = _opt(0.8, "characteristics", kind=float, low=0, high=1, low_open=True)
    se_rule: str = _opt("exact", "characteristics", **_EXACT_ROUNDED, batched=("exact",))
    qdc_rule: str = _opt("stars", "distinguishing", values=("stars", "four-star", "two-star", "rounded"),
                         aliases={"qmethod": "stars", "kade": "rounded", "qmethod-1.5.4": "four-star",
                                  "qmethod-1.5": "two-star"}, batched=("stars",))
    qdc_labels: str = _opt("grep", "distinguishing", values=("grep", "strict"), aliases={"qmethod": "grep"},
                           r="qvalid")
    qdc_flagless: str = _opt("positional", "distinguishing", values=("positional", "skip"),
                             aliases={"qmethod": "positional"}, r="qvalid")

    def to_dict(self) -> dict:
        return asdict(self)

    def flag_rule_of(self, n_statements: int, *, manual: bool = False) -> "FlagRule":
        """The automatic flagging rule these options define for a study of ``n_statements``."""
        return FlagRule(self.threshold, self.flag_z, int(n_statements), self.majority, manual)


#: Field name -> :class:`OptionInfo`: the one table of facts about the options.
OPTION_INFO = MappingProxyType({f.name: f.metadata["info"] for f in fields(Options)})
#: Allowed values of the choice options (derived from :data:`OPTION_INFO`).
ALLOWED = MappingProxyType({n: i.values for n, i in OPTION_INFO.items() if i.values})

_KADE = Options(cor_digits=5, pca_rule="qpca", centroid_rule="brown", varimax_rule="kaiser", varimax_eps=1e-8,
                varimax_max_iter=225, pca_tidy=False, flag_rule="rounded", scores_rule="rounded", array_ties="strict",
                se_rule="rounded", qdc_rule="rounded", qdc_labels="strict", qdc_flagless="skip",
                steps_rule="rounded")

#: Flavour presets. ``qmethod`` mirrors R qmethod 1.8.4 exactly (../shared/docs/qmethod-r-spec.md); ``kade``
#: mirrors KADE 1.3 / Ken-Q, the ports of PQMethod (../shared/docs/kade-pqmethod-spec.md; field by field in
#: docs/kade.md); ``pqmethod`` is KADE's port with PQMethod 2.35's own Horst 5.5 stopping rule, a communality change
#: of 1e-3 where KADE's default is 1e-4 (docs/kade.md, "PQMethod and KADE"). Extraction stays ``pca`` in all
#: (``extraction="centroid"`` gives each tool's centroid).
FLAVORS = MappingProxyType({
    "qmethod": Options(),
    "kade": _KADE,
    "pqmethod": replace(_KADE, horst_tol=1e-3),
})


#: principal_rotate's keyword -> R's argument name (what qmethod's ``...`` passes on to the rotation function)
ROTATION_R_NAMES = MappingProxyType({"normalize": "normalize", "eps": "eps", "max_iter": "maxit", "gam": "gam",
                                     "delta": "delta", "k": "k", "m": "m", "target": "Target"})


def rotation_arguments(opts: Options) -> dict:
    """The keyword arguments of :func:`qvalid.core.psych_rotate.principal_rotate` that ``opts`` give for
    ``opts.rotation``: only those the R function takes (psych passes qmethod's ``...`` on, and R refuses others).
    varimax and cluster (whose first step is stats::varimax) take ``varimax_normalize``/``varimax_eps``; the
    GPArotation rotations ``gpa_normalize``/``gpa_eps``/``gpa_max_iter``. Empty for ``none``."""
    if opts.rotation not in PSYCH_ROTATIONS:
        return {}
    stats = opts.rotation in ("varimax", "cluster")
    src = {"normalize": opts.varimax_normalize if stats else opts.gpa_normalize,
           "eps": opts.varimax_eps if stats else opts.gpa_eps, "max_iter": opts.gpa_max_iter,
           "gam": opts.rotation_gam, "delta": opts.rotation_delta, "k": opts.rotation_k, "m": opts.promax_m}
    return {n: src[n] for n in PSYCH_ROTATIONS[opts.rotation][2] if src.get(n) is not None}


def set_by(name: str) -> tuple:
    """The flavours whose preset sets option ``name`` to something else than the dataclass default."""
    default = getattr(Options(), name)
    return tuple(fl for fl, o in FLAVORS.items() if getattr(o, name) != default)


def options_differing(opts: Options, base: Options | None = None) -> tuple:
    """The option names whose value in ``opts`` differs from ``base`` (default: the qmethod preset)."""
    base = FLAVORS["qmethod"] if base is None else base
    return tuple(n for n in OPTION_INFO if getattr(opts, n) != getattr(base, n))


@dataclass(frozen=True)
class FlagRule:
    """An automatic flagging rule (:func:`qvalid.core.flag.flag`), as one text wherever it is printed.

    ``|a| >= threshold`` or ``|a| > z/sqrt(n_statements)`` (qmethod's qflag, R/qflag.R:8-15), and with
    ``majority`` ``a^2 > h^2/2`` (the loading's square exceeds the sum of the other squared loadings).
    """

    threshold: float | None
    z: float
    n_statements: int
    majority: bool
    manual: bool = False

    @property
    def cut(self) -> float:
        """The loading cut-off: ``threshold``, or ``z/sqrt(n_statements)``."""
        return self.threshold if self.threshold is not None else self.z / math.sqrt(self.n_statements)

    def text(self, *, value: bool = False, unicode: bool = False) -> str:
        """``|a| >= 0.42 and a^2 > h^2/2``, ``|a| > 1.96/sqrt(33)`` (with ``value``: ``... = 0.3412``), or
        ``manual``; ``unicode`` writes ≥, √ and superscripts (for the HTML report)."""
        if self.manual:
            return "manual"
        ge, root, sq = ("\u2265", "\u221a", "\u00b2") if unicode else (">=", "sqrt", "^2")
        if self.threshold is not None:
            out = f"|a| {ge} {self.threshold}"
        else:
            out = f"|a| > {self.z}/{root}({self.n_statements})" if not unicode else \
                f"|a| > {self.z:g}/{root}{self.n_statements}"
            if value:
                out += f" = {self.cut:.4f}" if not unicode else f" = {self.cut:.3f}"
        return out + (f" and a{sq} > h{sq}/2" if self.majority else "")


_RESOLVED: dict = {}  # (flavor, overrides) -> Options: analyze() resolves the same few combinations again and again


def resolve_options(flavor: str = "qmethod", **overrides) -> Options:
    """``FLAVORS[flavor]`` with ``overrides`` applied and checked; raise :class:`QInputError` on a bad value.

    Values are checked against :data:`OPTION_INFO` (allowed values, aliases, ranges; NaN and infinities refused).
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
    unknown = sorted(set(overrides) - set(OPTION_INFO))
    if unknown:
        raise QInputError(f"unknown option(s) {', '.join(unknown)}; known: {', '.join(sorted(OPTION_INFO))}")
    given = {}
    for k, v in overrides.items():
        info = OPTION_INFO[k]
        if v is None and not info.optional:
            continue  # None = "the flavour's value" for a field that cannot be None
        v = info.canonical(v)
        msg = info.problem(k, v)
        if msg:
            raise QInputError(msg)
        given[k] = v if v is None else info.kind(v) if info.kind in (int, bool) else v
    return replace(FLAVORS[flavor], **given)
