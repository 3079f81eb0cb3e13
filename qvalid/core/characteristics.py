"""Factor characteristics (qmethod ``qfcharact``) and distinguishing/consensus statements (qmethod ``qdc``)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from itertools import combinations

import numpy as np

from .rounding import kround
from .scores import divide

__all__ = ["Characteristics", "characteristics", "Distinguishing", "distinguishing", "explained_variance",
           "STAR_LEVELS", "STAR_RULES", "star_levels", "KADE_LEVELS", "kade_significance",
           "distinguishing_consensus", "distinguishing_masks"]

#: (multiplier of the SED, label), strict ``>``; qmethod R/qdc.R:37-45 (4.8916 = p < 1e-6 since issue #362).
STAR_LEVELS = ((1.96, "*"), (2.576, "**"), (3.291, "***"), (4.8916, "6*"))
#: The star tiers of each qmethod release (CRAN sources of R/qdc.R): ``stars`` qmethod 1.5.5 (2020-02) to 1.8.4;
#: ``four-star`` qmethod 1.5.2 (2017-03) to 1.5.4 (2018-05), the top tier "****" at 4.753 (qnorm(1e-6), one-sided);
#: ``two-star`` qmethod 1.0 (2014) to 1.5 (2017-01), "*" at 1.96 and "**" at 2.58.
STAR_RULES = {"stars": STAR_LEVELS,
              "four-star": ((1.96, "*"), (2.576, "**"), (3.291, "***"), (4.753, "****")),
              "two-star": ((1.96, "*"), (2.58, "**"))}
_MULTS = np.array([m for m, _ in STAR_LEVELS])
_STARS = np.array([""] + [s for _, s in STAR_LEVELS], dtype=object)


def star_levels(rule: str) -> tuple:
    """The (SED multiplier, mark) tiers of a qdc star rule (:data:`STAR_RULES`); KADE's rule has none."""
    return STAR_RULES.get(rule, ())


@dataclass(frozen=True)
class Characteristics:
    """qmethod's ``f_char``: arrays of shape (k,) and (k, k)."""

    av_rel_coef: np.ndarray
    nload: np.ndarray
    eigenvals: np.ndarray
    expl_var: np.ndarray
    reliability: np.ndarray
    se_fscores: np.ndarray
    cor_zsc: np.ndarray
    sd_dif: np.ndarray


def explained_variance(loadings) -> tuple[np.ndarray, np.ndarray]:
    """Column sums of squared loadings ("eigenvalues") and 100 * those / n_sorts (R/qfcharact.R:9-11)."""
    a = np.asarray(loadings, dtype=np.float64)
    ev = (a * a).sum(axis=-2)
    return ev, 100.0 * ev / a.shape[-2]


def characteristics(loadings, flags, z, *, av_rel_coef: float = 0.8, se_rule: str = "exact") -> Characteristics:
    """Factor characteristics as qmethod's ``qfcharact()`` (R/qfcharact.R).

    - ``nload`` p_f: number of flagged sorts;
    - ``eigenvals``: column sums of squared *final* loadings; ``expl_var`` = 100 eigenvals / n_sorts;
    - ``reliability`` = c p / (1 + (p - 1) c) with c = ``av_rel_coef`` (Spearman-Brown; Brown 1980 p. 244);
    - ``se_fscores`` = sd(z_f) sqrt(1 - reliability) (sample SD, so sd(z_f) = 1 up to rounding);
    - ``cor_zsc``: Pearson correlations of the z-score columns;
    - ``sd_dif`` (SED) = sqrt(SE_f^2 + SE_g^2), diagonal included.

    Factors without flags give NaN SE, SED and correlations (R: NA).

    ``se_rule="rounded"`` (KADE ``2_pushFactorCharacteristicsToOutput.js:66-94``,
    ``2_pushStandardErrorsDifferencesToOutput.js:79``; PQMethod's table): reliability
    r = round3(c p / (1 + (p - 1) c)), SE = round3(sqrt(|1 - r|)) from the rounded r (no sd(z) factor) and
    SED = round3(sqrt(SE_f^2 + SE_g^2)).
    """
    z = np.asarray(z, dtype=np.float64)
    k = z.shape[-1]
    nload = np.add.reduce(np.asarray(flags, dtype=bool), axis=-2)  # = .sum(axis=-2), an int count
    ev, pct = explained_variance(loadings)
    dev = z - z.sum(axis=-2, keepdims=True) / z.shape[-2]  # = z.mean(): numpy's mean is this sum and division
    ss = (dev * dev).sum(axis=-2)
    if se_rule == "rounded":
        rel = kround(nload * av_rel_coef / (1 + (nload - 1) * av_rel_coef), 3)
        se = np.where(nload > 0, kround(np.sqrt(np.abs(1.0 - rel)), 3), np.nan)
    else:
        rel = av_rel_coef * nload / (1.0 + (nload - 1) * av_rel_coef)
        sd = np.sqrt(ss / (z.shape[-2] - 1))
        se = sd * np.sqrt(1.0 - rel)
    cor = divide(dev.swapaxes(-1, -2) @ dev, np.sqrt(ss[..., :, None] * ss[..., None, :]))
    # R's cor() gives 1 on the diagonal even for an all-NA column
    if cor.ndim == 2:
        cor.flat[::k + 1] = 1.0
    else:
        cor[..., np.arange(k), np.arange(k)] = 1.0
    if se_rule == "rounded":
        sed = kround(np.sqrt(se[..., :, None] * se[..., :, None] + se[..., None, :] * se[..., None, :]), 3)
    else:
        sed = np.sqrt(se[..., :, None] ** 2 + se[..., None, :] ** 2)
    return Characteristics(np.full(k, float(av_rel_coef)), nload, ev, pct, rel, se, cor, sed)


@dataclass(frozen=True)
class Distinguishing:
    """qmethod's ``qdc`` table, as arrays.

    Attributes
    ----------
    factors : tuple of int
        0-based indices of the factors compared (those with flagged sorts).
    pairs : tuple of (int, int)
        Factor pairs in ``combn`` order (1-2, 1-3, ..., 2-3, ...), 0-based.
    diffs : ndarray of shape (n_statements, n_pairs)
        z_f - z_g.
    stars : ndarray of str, shape (n_statements, n_pairs)
        "", "*", "**", "***" or "6*".
    labels : ndarray of str, shape (n_statements,)
        ``dist.and.cons``.
    dist_level : ndarray of int, shape (n_statements, len(factors)), or None
        KADE rule only: 2 = distinguishing at p < .01 ("D*"), 1 = at p < .05 but not .01 ("D"), 0 = not.
    consensus_level : ndarray of int, shape (n_statements,), or None
        KADE rule only: 2 = non-significant at .05 for every pair ("C*"), 1 = non-significant at .01 for every
        pair but significant at .05 for some ("C"), 0 = not a consensus statement.
    """

    factors: tuple
    pairs: tuple
    diffs: np.ndarray
    stars: np.ndarray
    labels: np.ndarray
    dist_level: np.ndarray | None = None
    consensus_level: np.ndarray | None = None

    @property
    def consensus(self) -> np.ndarray:
        """Boolean mask of consensus statements: no pair significant at p < .05 (qmethod), or KADE's consensus
        list, C* and C (KADE rule)."""
        if self.consensus_level is not None:
            return self.consensus_level > 0
        return self.labels == "Consensus"

    def pair_names(self, names) -> list[str]:
        return [f"{names[a]}_{names[b]}" for a, b in self.pairs]

    def masks(self, nfactors: int) -> tuple[np.ndarray, np.ndarray]:
        """``(dist, cons)`` as bool arrays (n_statements, nfactors) and (n_statements,): :func:`distinguishing_masks`
        of this table's significant pairs (a star at p < .05, under whichever rule made the table)."""
        n = self.diffs.shape[0]
        sig = np.zeros((n, nfactors, nfactors), dtype=bool)
        stars = np.asarray(self.stars, dtype=object)
        marked = (stars != "") & (stars != None)  # noqa: E711 (elementwise: R's NA stars, qdc_flagless="positional")
        for p, (a, b) in enumerate(self.pairs):  # a loop over factor pairs (k(k-1)/2 of them)
            sig[:, a, b] = sig[:, b, a] = marked[:, p]
        valid = np.zeros(nfactors, dtype=bool)
        compared = ~np.isnan(self.diffs).all(axis=0)  # R's all-NA table compares nothing
        valid[[f for p, pq in enumerate(self.pairs) if compared[p] for f in pq]] = True
        dist, cons = distinguishing_masks(sig, valid)
        return dist == 1.0, cons == 1.0


def distinguishing(z, sed, *, labels: str = "grep", rule: str = "stars", flagless: str = "skip") -> Distinguishing | None:
    """Distinguishing and consensus statements as qmethod's ``qdc()`` (R/qdc.R).

    For each factor pair (f, g) in ``combn`` order the difference d = z_f - z_g gets stars by the SED c_fg, with
    strict ``>``: 1.96 c "*", 2.576 c "**", 3.291 c "***", 4.8916 c "6*" (:data:`STAR_LEVELS`).

    Labels: "Consensus" when no pair is significant; with two factors every other statement is
    "Distinguishing". With k > 2, for each factor i in turn and its pairs ("in") versus the rest ("out"):
    all "in" significant and no "out" significant -> "Distinguishes fi only"; else every pair significant ->
    "Distinguishes all"; else all "in" and some "out" significant -> "Distinguishes fi " is appended (labels can
    concatenate, e.g. "Distinguishes f1 Distinguishes f3 ").

    ``labels="grep"`` finds the "in" pairs as R does, with an unanchored ``grep(i, names)``: for k >= 10,
    factor 1 also matches the pairs of f10, f11, ... and the labels are wrong; qvalid reproduces this.
    ``labels="strict"`` uses the pairs that really contain factor i.

    Factors whose z-scores are NaN (no flagged sort) are left out; R drops them only when they are the last
    factors and stops otherwise. Returns None when fewer than two factors remain (R returns a message).

    ``rule`` ``"four-star"`` and ``"two-star"``: the tiers of older qmethod releases (:data:`STAR_RULES`: "****" at
    4.753 SED in qmethod 1.5.2-1.5.4; only "*" at 1.96 and "**" at 2.58 in qmethod 1.0-1.5).

    ``flagless="positional"`` (qmethod, R/qdc.R:4-7): when the *last* factor has no flags, R subtracts the number
    of flagless factors m from nfactors and compares f1..f(k-m) by position, flagless ones included. With k - m = 2
    and a flagless factor among them the table is all NA: one pair, NaN differences, ``None`` stars and labels
    (what R returns). With k - m >= 3 and a flagless factor among them R's label loop stops ("missing value where
    TRUE/FALSE needed"), and when a flagless factor is not the last R stops at once; there, as with
    ``flagless="skip"``, the flagless factors are left out.

    ``rule="rounded"``: KADE's and PQMethod's definitions (:func:`kade_significance`); stars "*" (p < .05) and "**"
    (p < .01) per pair; the labels are KADE's marks: the factors the statement distinguishes and its consensus
    tier, e.g. "f1 D*; f3 D", "C*", or "f1 D; f2 D; C" (significant at .05 but not .01 everywhere); ``dist_level`` and ``consensus_level`` hold the same as numbers.
    """
    z = np.asarray(z, dtype=np.float64)
    sed = np.asarray(sed, dtype=np.float64)
    nan = np.isnan(z).any(axis=0)
    if flagless == "positional" and nan[-1]:
        reduced = z.shape[1] - int(nan.sum())  # R: nfactors - (number of flagless factors)
        if reduced == 2 and nan[:2].any():  # R compares f1 with f2 and returns an all-NA table
            na = np.full((z.shape[0], 1), None, dtype=object)
            return Distinguishing((0, 1), ((0, 1),), z[:, :1] - z[:, 1:2], na, na[:, 0].copy())
    keep = tuple(int(j) for j in np.flatnonzero(~nan)) if nan.any() else tuple(range(z.shape[1]))
    if len(keep) < 2:
        return None
    pairs, a, b = _pairs(keep)
    diffs = z[:, a] - z[:, b]
    if rule == "rounded":
        return _kade_distinguishing(z, sed, keep, pairs, diffs)
    c = sed[a, b]
    # the thresholds increase, so the number exceeded is the star level (0 = not significant)
    if rule == "stars":
        mults, marks = _MULTS, _STARS
    else:
        tiers = STAR_RULES[rule]
        mults = np.array([m for m, _ in tiers])
        marks = np.array([""] + [t for _, t in tiers], dtype=object)
    level = (np.abs(diffs)[..., None] > c[:, None] * mults).sum(axis=-1)
    stars = marks[level]
    sig = level > 0
    if len(keep) == 2:
        lab = np.where(sig[:, 0], "Distinguishing", "Consensus").astype(object)
        return Distinguishing(keep, pairs, diffs, stars, lab)
    if len(keep) <= _TABLE_K:  # the label depends only on the statement's pattern of significant pairs
        lab = _label_table(keep, labels)[sig @ _BITS[:len(pairs)]]
    else:
        lab = _qdc_labels(sig, keep, labels)
    return Distinguishing(keep, pairs, diffs, stars, lab)


def _qdc_labels(sig: np.ndarray, keep: tuple, labels: str) -> np.ndarray:
    """qdc's ``dist.and.cons`` labels (k > 2) from the significant pairs ``sig`` (n_statements, n_pairs)."""
    inside, outside, base = _label_structure(keep, labels)
    consensus = ~sig.any(axis=1)
    # per statement and factor: all of the factor's pairs significant / some other pair significant
    all_in = ~(~sig[:, None, :] & inside).any(axis=2)
    any_out = (sig[:, None, :] & outside).any(axis=2)
    all_sig = sig.all(axis=1)
    only = all_in & ~any_out
    # R loops over the factors in order: "only" overwrites the label, "all" sets it, an append adds to it.
    # "only" excludes "all" (there is always an "out" pair), so the closed form is: "Distinguishes all", else the
    # last "only" label followed by the appends of later factors, else the appends alone.
    last_only = np.where(only.any(axis=1), only.shape[1] - 1 - np.argmax(only[:, ::-1], axis=1), -1)
    code = np.where(consensus, 0, np.where(all_sig, 2, np.where(last_only >= 0, 3 + last_only, 1)))
    lab = base[code]
    append = all_in & any_out & ~all_sig[:, None] & (np.arange(len(keep)) > last_only[:, None])
    for col in np.flatnonzero(append.any(axis=0)):  # a loop over factors, not statements
        rows = append[:, col]
        lab[rows] = lab[rows] + f"Distinguishes f{keep[col] + 1} "
    return lab


_TABLE_K = 5  # up to 5 factors (10 pairs, 1024 patterns) the labels come from a table built once
_BITS = 1 << np.arange(_TABLE_K * (_TABLE_K - 1) // 2)


@lru_cache(maxsize=32)
def _label_table(keep: tuple, labels: str) -> np.ndarray:
    """:func:`_qdc_labels` of every pattern of significant pairs, indexed by the pattern as bits (pair j = bit j):
    a lookup replaces the label logic per call (read-only, cached per set of factors)."""
    n_pairs = len(keep) * (len(keep) - 1) // 2
    patterns = (np.arange(1 << n_pairs)[:, None] & _BITS[:n_pairs]) != 0
    table = _qdc_labels(patterns, keep, labels)
    table.setflags(write=False)
    return table


@lru_cache(maxsize=64)
def _pairs(keep: tuple) -> tuple:
    """Factor pairs in ``combn`` order and their two index arrays (read-only: cached per set of factors)."""
    pairs = tuple(combinations(keep, 2))
    a, b = np.array(pairs).T
    a.setflags(write=False)
    b.setflags(write=False)
    return pairs, a, b


@lru_cache(maxsize=64)
def _label_structure(keep: tuple, labels: str) -> tuple:
    """qdc's label bookkeeping for the factors ``keep`` (k > 2): which pairs are each factor's ("in", per the
    ``labels`` rule), the others ("out"), and the base labels; read-only, cached per set of factors."""
    pairs = _pairs(keep)[0]
    if labels == "grep":  # R: grep(i, names) on names such as "sig_f1_f2": unanchored substring match
        names = [f"f{p + 1}_f{q + 1}" for p, q in pairs]
        inside = np.array([[str(i + 1) in nm for nm in names] for i in keep])
    elif labels == "strict":
        inside = np.array([[i in pq for pq in pairs] for i in keep])
    else:
        raise ValueError(f"unknown label rule {labels!r}; choose grep or strict")
    base = np.array(["Consensus", "", "Distinguishes all"] + [f"Distinguishes f{i + 1} only" for i in keep],
                    dtype=object)
    out = (inside, ~inside, base)
    for x in out:
        x.setflags(write=False)
    return out


#: KADE's distinguishing levels (``GlobalState/calcState.js:57-58``): p < .05 and p < .01; note 2.575, not 2.576.
KADE_LEVELS = (1.96, 2.575)


def kade_significance(z, sed, keep, *, levels=KADE_LEVELS):
    """KADE's comparisons for distinguishing and consensus statements
    (``Output/calcualteOutputLogic/2_pushDistinguishingStatementsToOutput.js:114-381``).

    For each factor j and each other factor m, in that order, a statement is significant when
    |Z_j - Z_m| >= SED_jm * c (``>=``, c = 1.96 and 2.575). KADE's quirk is reproduced: as soon as a comparison
    is significant at 1.96, Z_j is rounded to 2 dp *in place* (``:230, :239``); later comparisons (and KADE's
    printed tables) use that value. Returns ``(sig05, sig01, shown)``: boolean arrays (n_statements, K, K) of
    the ordered comparisons (j, m) over the kept factors, and the z-scores after the in-place rounding.
    The (j, m) steps are sequential (each may change a z used later), vectorised over statements.
    """
    zz = np.asarray(z, dtype=np.float64)[:, list(keep)].copy()
    n, kk = zz.shape
    sig05 = np.zeros((n, kk, kk), dtype=bool)
    sig01 = np.zeros((n, kk, kk), dtype=bool)
    for j in range(kk):
        for m in range(kk):
            if m == j:
                continue
            c = sed[keep[j], keep[m]]
            s05 = np.abs(zz[:, j] - zz[:, m]) >= c * levels[0]
            zz[s05, j] = kround(zz[s05, j], 2)
            s01 = np.abs(zz[:, j] - zz[:, m]) >= c * levels[1]
            zz[s01, j] = kround(zz[s01, j], 2)
            sig05[:, j, m], sig01[:, j, m] = s05, s01
    return sig05, sig01, zz


def _kade_distinguishing(z, sed, keep, pairs, diffs) -> Distinguishing:
    """:func:`distinguishing` with ``rule="rounded"``: D*/D per factor (significant against every other factor at
    .01 / at .05 only), C* (no comparison significant at .05) and C (none at .01, some at .05)."""
    sig05, sig01, _ = kade_significance(z, sed, keep)
    kk = len(keep)
    others = kk - 1
    d01 = sig01.sum(axis=2) == others
    d05 = (sig05.sum(axis=2) == others) & ~d01
    dist_level = np.where(d01, 2, np.where(d05, 1, 0))
    c05 = ~sig05.any(axis=(1, 2))
    c01 = ~sig01.any(axis=(1, 2))
    cons = np.where(c05, 2, np.where(c01, 1, 0))
    pos = {f: i for i, f in enumerate(keep)}
    ia = [pos[p] for p, _ in pairs]
    ib = [pos[q] for _, q in pairs]
    level = sig05[:, ia, ib].astype(int) + sig01[:, ia, ib]
    stars = np.array(["", "*", "**"], dtype=object)[level]
    marks = {1: "D", 2: "D*"}
    tiers = {0: [], 1: ["C"], 2: ["C*"]}  # a statement can be D for some factors and C (KADE lists it twice)
    # the label strings are built per statement (formatting only; the decisions above are vectorised)
    labels = np.array(["; ".join([f"f{keep[i] + 1} {marks[v]}" for i, v in enumerate(row) if v] + tiers[c])
                       for c, row in zip(cons.tolist(), dist_level.tolist())], dtype=object)
    return Distinguishing(keep, pairs, diffs, stars, labels, dist_level, cons)


def distinguishing_masks(sig, valid):
    """The one definition of distinguishing and consensus statements, from the significance of the factor pairs.

    Statement i *distinguishes* factor f when its z-score differs significantly from that of every other compared
    factor (every pair (f, g) significant; PQMethod, Brown 1980 p. 245); it is a *consensus* statement when no pair
    is significant. qmethod's "Distinguishes fN only" labels are the subset where no other pair differs as well.

    Parameters
    ----------
    sig : ndarray of bool, shape (..., n_statements, k, k)
        Pair (f, g) significant for the statement (symmetric; the diagonal is ignored).
    valid : ndarray of bool, shape (..., k)
        The factors compared (those with flagged sorts).

    Returns
    -------
    (dist, cons) : float arrays (..., n_statements, k) and (..., n_statements), 1.0/0.0, NaN where undefined (the
    factor is not compared, or fewer than two factors are).
    """
    k = valid.shape[-1]
    pair = valid[..., :, None] & valid[..., None, :] & ~np.eye(k, dtype=bool)
    sig = sig & pair[..., None, :, :]
    enough = valid.sum(axis=-1) >= 2
    dist = np.where((valid & enough[..., None])[..., None, :], (sig | ~pair[..., None, :, :]).all(axis=-1), np.nan)
    cons = np.where(enough[..., None], ~sig.any(axis=(-1, -2)), np.nan)
    return dist, cons


def distinguishing_consensus(z, sed):
    """:func:`distinguishing_masks` under qmethod's qdc rule at p < .05 (|z_f - z_g| > 1.96 SED_fg, strict), for one
    solution (z: (n, k), sed: (k, k)) or a stack of replicates (B, n, k) and (B, k, k); factors whose z-scores are NaN
    (no flagged sort) are not compared."""
    z = np.asarray(z, dtype=np.float64)
    sed = np.asarray(sed, dtype=np.float64)
    valid = ~np.isnan(z).any(axis=-2)
    with np.errstate(invalid="ignore"):
        sig = np.abs(z[..., :, None] - z[..., None, :]) > STAR_LEVELS[0][0] * sed[..., None, :, :]
    return distinguishing_masks(sig, valid)
