"""Re-check a paper's published Q tables: recompute what follows from what was printed, claim by claim.

From a printed loadings table (and, when printed, eigenvalues, explained variance, defining sorts, factor arrays,
z-scores and factor-score correlations) :func:`verify` recomputes the defining sorts under the paper's rule, the
communalities, the column sums of squares and % variance, checks the arrays against the grid and the z-scores,
and the correlations between factor scores, and gives each claim a verdict:

- ``agrees``: the value recomputed from the printed inputs, rounded to the claim's printed decimals, is the claim;
- ``agrees within print rounding``: not exactly, but the difference is within the rounding bound: every printed
  number is off by at most half a unit of its last printed decimal, propagated worst case to the recomputed value
  (first order for correlations), plus half a unit of the claim itself;
- ``contradicts``: the difference is beyond that bound (or a set/count differs where rounding cannot matter);
- ``cannot be checked``: the printed tables do not determine it (the reason is given).

See docs/verify.md, including why rotated column sums of squares differ from printed unrotated eigenvalues while
their totals agree.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field

import numpy as np

from ..core.congruence import align_factors
from ..core.flag import flag
from ..core.procrustes import procrustes, rotation_steps
from ..core.rotate import varimax
from ..errors import QInputError
from ..io.published import PublishedTable, printed_decimals
from ..options import FlagRule
from ..pipeline import analyze
from ..results import step_text
from ..simulate import open_cells

__all__ = ["Claim", "Verification", "verify", "VERDICTS", "printed", "rotation_claim"]

AGREES, ROUNDING, CONTRADICTS, UNCHECKABLE = ("agrees", "agrees within print rounding", "contradicts",
                                              "cannot be checked")
VERDICTS = (AGREES, ROUNDING, CONTRADICTS, UNCHECKABLE)


@dataclass(frozen=True)
class Claim:
    """One published claim and its verdict."""

    table: str
    claim: str
    printed: str
    recomputed: str
    verdict: str
    how: str = ""

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Verification:
    """The claims of a paper's tables with their verdicts (:func:`verify`).

    Attributes
    ----------
    claims : tuple of Claim
    derived : dict
        What was recomputed: ``communalities`` (per sort), ``column_ss`` and ``column_ss_pct`` (rotated, per factor),
        ``column_ss_bound``, ``flags`` ("yes"/"no"/"?" per sort and factor), ``rule``.
    source : str
    """

    claims: tuple
    derived: dict = field(default_factory=dict)
    source: str = ""

    def counts(self) -> dict:
        return {v: sum(c.verdict == v for c in self.claims) for v in VERDICTS}

    @property
    def contradicted(self) -> bool:
        return any(c.verdict == CONTRADICTS for c in self.claims)

    def to_dict(self) -> dict:
        return {"source": self.source, "counts": self.counts(), "claims": [c.to_dict() for c in self.claims],
                "derived": self.derived}

    def to_json(self, **kw) -> str:
        return json.dumps(self.to_dict(), indent=kw.pop("indent", 1), **kw)

    def to_text(self, width: int = 48) -> str:
        rows = [("table", "claim", "printed", "recomputed", "verdict")]
        rows += [(c.table, c.claim, c.printed, c.recomputed, c.verdict) for c in self.claims]
        w = [min(width, max(len(r[i]) for r in rows)) for i in range(5)]
        out = [f"verify: {self.source}", f"rule for defining sorts: {self.derived.get('rule', '-')}", ""]
        for r in rows:
            out.append("  ".join(_cut(r[i], w[i]).ljust(w[i]) for i in range(5)).rstrip())
        out.append("")
        if "column_ss" in self.derived:
            ss, pct = self.derived["column_ss"], self.derived["column_ss_pct"]
            out.append("rotated column sums of squares: " + ", ".join(
                f"{x:.5f} ({p:.1f} %)" for x, p in zip(ss, pct)) + f"; total {sum(ss):.5f} = sum of the communalities")
        notes = [(i, c) for i, c in enumerate(self.claims) if c.how and (c.verdict != AGREES or c.table == "arrays")]
        out += ["notes (claims numbered from 1 in the order above):"] * bool(notes)
        out += [f"[{i + 1}] {c.claim}: {c.how}" for i, c in notes]
        n = self.counts()
        out += ["", ", ".join(f"{n[v]} {v}" for v in VERDICTS)]
        return "\n".join(out)


def _cut(s: str, w: int) -> str:
    return s if len(s) <= w else s[: w - 1] + "~"


# ---------------------------------------------------------------------------------------------- printed numbers
def printed(values, decimals=None) -> tuple[np.ndarray, np.ndarray]:
    """Values as printed: (floats, decimals). Strings keep their decimals (``"37"`` -> 0, ``"0.2724"`` -> 4);
    floats get those of their shortest repr; ``decimals`` (a number) raises every count to at least that."""
    v = np.atleast_1d(np.asarray(values, dtype=object))
    d = np.array([printed_decimals(x) for x in v.ravel()]).reshape(v.shape)
    f = np.array([float(x) for x in v.ravel()]).reshape(v.shape)
    if decimals is not None:
        d = np.maximum(d, int(decimals))
    return f, d


def _half(d) -> np.ndarray:
    """Half a unit of the last printed decimal (the largest rounding error of a printed number)."""
    return 0.5 * 10.0 ** -np.asarray(d, dtype=np.float64)


def _fmt(x: float, d: int) -> str:
    return f"{x:.{max(int(d), 0)}f}"


def _verdict(recomputed: float, bound: float, claim: float, d: int) -> tuple[str, str]:
    half = float(_half(d))
    diff = abs(recomputed - claim)
    if abs(round(recomputed, int(d)) - claim) < 1e-9 * max(1.0, abs(claim)):
        v = AGREES
    elif diff <= bound + half + 1e-12:
        v = ROUNDING
    else:
        v = CONTRADICTS
    how = (f"|difference| {diff:.2g}; rounding bound {bound + half:.2g} = inputs' ±{bound:.2g} (each printed input "
           f"off by at most half a unit of its last decimal, propagated worst case) + the claim's ±{half:g} "
           f"({int(d)} decimals)")
    return v, how


# ---------------------------------------------------------------------------------------------- flags
def _flag_states(a, eps, *, n_statements, threshold, z, majority):
    """Per cell: (certain, possible) that the sort is flagged, and (certain, possible) that it is significant,
    for every true loading within +-eps of the printed one (each condition bounded separately: conservative)."""
    lo, hi = np.maximum(np.abs(a) - eps, 0), np.abs(a) + eps
    if threshold is not None:
        sig_c, sig_p = lo >= threshold, hi >= threshold
    else:
        c = z / np.sqrt(n_statements)
        sig_c, sig_p = lo > c, hi > c
    if majority:
        maj_c = lo ** 2 - ((hi ** 2).sum(axis=1, keepdims=True) - hi ** 2) > 0
        maj_p = hi ** 2 - ((lo ** 2).sum(axis=1, keepdims=True) - lo ** 2) > 0
    else:
        maj_c = maj_p = np.ones_like(sig_c)
    return sig_c & maj_c, sig_p & maj_p, sig_c, sig_p


def _state_text(c, p) -> str:
    return "yes" if c else ("no" if not p else "?")


# ---------------------------------------------------------------------------------------------- verify
def verify(loadings: PublishedTable | None, *, n_statements: int | None = None, threshold: float | None = None,
           z: float = 1.96, majority: bool = True, flags=None, defining_counts=None, n_flagged=None,
           n_confounded=None, n_nonsignificant=None, eigenvalues=None, eigenvalues_of: str = "unrotated",
           explained_variance=None, cumulative_variance=None, total_variance=None, arrays: PublishedTable = None,
           zscores: PublishedTable = None, grid=None, correlations=None, correlations_of: str = "zscores",
           nload_reliability=None, rotation: str | None = None, threshold_p: float | None = None, unchecked=(),
           names=None, data=None, data_extraction: str = "pca", data_flavor: str = "qmethod") -> Verification:
    """Re-check the claims of a paper's Q tables against its printed loadings (and what else was printed).

    Parameters
    ----------
    loadings : PublishedTable or None
        Sorts x factors as printed (:func:`qvalid.io.published.read_table`), with X marks if the table has them (or
        a column naming each sort's defining factor). None when the paper prints only arrays and z-scores: then only
        their claims (grid, order, correlations) are checked.
    n_statements : int
        Needed for the 1.96/sqrt(N) rule (when ``threshold`` is None) and for arrays.
    threshold, z, majority
        The paper's rule for defining sorts (as :func:`qvalid.core.flag.flag`): |a| >= threshold, or |a| > z/sqrt(N);
        and a^2 > h^2 - a^2 when ``majority``.
    flags : array of bool (n_sorts, k), optional
        Published defining sorts (X marks); default the marks of the loadings table, if any.
    defining_counts, n_flagged, n_confounded, n_nonsignificant
        Published counts: per factor; sorts defining any factor; sorts significant on some factor but defining none
        (confounded); sorts significant on no factor.
    eigenvalues, explained_variance, cumulative_variance, total_variance
        Printed per factor (% of the number of sorts), strings or floats. ``eigenvalues_of`` says what the paper's
        eigenvalues are: ``"unrotated"`` (PQMethod, KADE, the NAV report) or ``"rotated"`` (R qmethod's
        ``eigenvals``: column sums of squares of the final loadings).
    arrays, zscores : PublishedTable, optional
        Statements x factors (blank cells unknown). ``grid`` (score -> cells) checks the arrays.
    correlations : (k, k) or upper triangle, optional
        Printed correlations between factor scores; ``correlations_of`` = ``"zscores"`` or ``"arrays"``.
    nload_reliability : tuple (reliability, se), optional
        Printed composite reliability and SE of factor scores per factor (qmethod's, with av_rel_coef 0.8),
        recomputed from the recomputed numbers of defining sorts.
    rotation : "varimax", optional
        Check that the printed loadings are a varimax solution (varimax moves them only within print rounding).
    threshold_p : float, optional
        The paper's claim that loadings at ``threshold`` are significant at p < threshold_p: checked with the
        usual standard error of a loading, 1/sqrt(n_statements), two-sided (the basis of qmethod's 1.96/sqrt(N)
        rule, R/qflag.R).
    unchecked : sequence of (claim, printed, reason)
        Claims that the printed tables cannot determine, listed with the reason.
    names : sequence of str, optional
        Factor names for the claims (default ``F1``, ``F2``, ...).
    data : QStudy, optional
        The study's data: adds the claim "the published loadings are an orthogonal rotation of the data's k-factor
        solution" (:func:`rotation_claim`), the unrotated solution being ``analyze(data, k, rotation="none",
        extraction=data_extraction, flavor=data_flavor)`` on the published sorts.
    """
    if eigenvalues_of not in ("unrotated", "rotated") or correlations_of not in ("zscores", "arrays"):
        raise ValueError("eigenvalues_of is 'unrotated' or 'rotated'; correlations_of is 'zscores' or 'arrays'")
    if loadings is None:  # a paper that prints only arrays and z-scores
        given = [w for w, x in (("defining sorts", flags), ("defining counts", defining_counts),
                                ("counts of flagged sorts", n_flagged), ("confounded sorts", n_confounded),
                                ("non-significant sorts", n_nonsignificant), ("eigenvalues", eigenvalues),
                                ("explained variance", explained_variance), ("cumulative variance", cumulative_variance),
                                ("total variance", total_variance), ("reliability", nload_reliability),
                                ("rotation", rotation), ("threshold p", threshold_p)) if x is not None]
        if given:
            raise ValueError(f"{', '.join(given)}: these claims are checked against the loadings table; give it")
        tables = [t for t in (arrays, zscores) if t is not None]
        if not tables:
            raise ValueError("nothing to check: give a loadings table, or factor arrays or z-scores")
        k = tables[0].k
        if zscores is not None and arrays is not None and zscores.k != k:
            raise ValueError(f"the z-scores ({zscores.source}) have {zscores.k} factors, the arrays {k}")
        names = list(names or [f"F{j + 1}" for j in range(k)])
        claims = _table_claims(arrays, zscores, grid, correlations, correlations_of, names, unchecked, k)
        return Verification(tuple(claims), {}, tables[0].source)
    a, eps = loadings.values, _half(loadings.decimals)
    if np.isnan(a).any():
        raise ValueError("the loadings table has blank cells")
    n_sorts, k = a.shape
    names = list(names or [f"F{j + 1}" for j in range(k)])
    for what, x, n in (("defining_counts", defining_counts, k), ("eigenvalues", eigenvalues, k),
                       ("explained_variance", explained_variance, k), ("cumulative_variance", cumulative_variance, k),
                       ("flags", flags, n_sorts), ("names", names, k)):
        if x is not None and len(x) != n:
            raise ValueError(f"{what} has {len(x)} values, expected {n}")
    for what, t in (("arrays", arrays), ("zscores", zscores)):
        if t is not None and t.k != k:
            raise ValueError(f"{what} ({t.source}) have {t.k} factors, the loadings {k}")
    claims: list[Claim] = []
    derived: dict = {}
    T = "loadings"

    # communalities: h^2 <= 1 in an orthogonal solution
    h2 = (a * a).sum(axis=1)
    h2_bound = (2 * np.abs(a) * eps + eps ** 2).sum(axis=1)
    i = int(np.argmax(h2))
    derived["communalities"] = dict(zip(loadings.ids, np.round(h2, 6).tolist()))
    v = AGREES if h2[i] <= 1 else (ROUNDING if h2[i] - h2_bound[i] <= 1 else CONTRADICTS)
    claims.append(Claim(T, "every communality h^2 <= 1 (orthogonal factors)",
                        "", f"max {h2[i]:.4f} ({loadings.ids[i]})", v,
                        f"h^2 of {loadings.ids[i]} within ±{h2_bound[i]:.2g} from print rounding"))

    if rotation == "varimax":
        claims.append(_check_varimax(a, eps, loadings.ids))
    if data is not None:
        where = {sid: i for i, sid in enumerate(data.sort_ids)}
        unknown = [sid for sid in loadings.ids if sid not in where]
        if unknown:
            raise QInputError(f"the loadings table has Q-sort(s) the data has not: {', '.join(unknown)}",
                              file=loadings.source, sort=unknown[0])
        sol = analyze(data, k, flavor=data_flavor, extraction=data_extraction, rotation="none")
        what = f"{data_extraction} ({data_flavor})"
        claim, derived["rotation_of_data"] = rotation_claim(loadings, sol.unrotated_loadings[
            [where[sid] for sid in loadings.ids]], of=what)
        claims.append(claim)

    # defining sorts under the paper's rule
    if threshold is None and n_statements is None:
        raise ValueError("give the paper's threshold, or n_statements for the z/sqrt(N) rule")
    fc, fp, sc, sp = _flag_states(a, eps, n_statements=n_statements, threshold=threshold, z=z, majority=majority)
    rule = FlagRule(threshold, z, n_statements, majority).text(value=True)
    derived["rule"] = rule
    derived["flags"] = {sid: [_state_text(fc[r, j], fp[r, j]) for j in range(k)] for r, sid in enumerate(loadings.ids)}
    exact = flag(a, n_statements or 1, z=z, threshold=threshold, majority=majority)
    if threshold_p is not None:
        claims.append(_check_threshold_p(threshold, threshold_p, n_statements))
    if flags is None:
        flags = loadings.marks
    if flags is not None:
        flags = np.asarray(flags, dtype=bool)
        for j in range(k):
            claims.append(_check_set(f"defining sorts of {names[j]} (X marks)", flags[:, j], fc[:, j], fp[:, j],
                                     exact[:, j], loadings.ids, rule))
    if defining_counts is not None:
        for j, c in enumerate(np.atleast_1d(defining_counts)):
            claims.append(_check_count(f"{names[j]}: number of defining sorts", int(c), int(fc[:, j].sum()),
                                       int(fp[:, j].sum()), int(exact[:, j].sum()), rule))
    any_c, any_p = fc.any(axis=1), fp.any(axis=1)
    for label, claim, lo_, hi_, ex in (
            ("sorts defining a factor", n_flagged, any_c, any_p, exact.any(axis=1)),
            ("confounded sorts (significant, defining none)", n_confounded,
             ~any_p & sc.any(axis=1), ~any_c & sp.any(axis=1), ~exact.any(axis=1) & _sig(a, threshold, z,
                                                                                          n_statements).any(axis=1)),
            ("sorts significant on no factor", n_nonsignificant, ~sp.any(axis=1), ~sc.any(axis=1),
             ~_sig(a, threshold, z, n_statements).any(axis=1))):
        if claim is not None:
            claims.append(_check_count(label, int(claim), int(lo_.sum()), int(hi_.sum()), int(ex.sum()), rule))

    # column sums of squares (rotated), eigenvalues and % explained variance
    ss = (a * a).sum(axis=0)
    ss_bound = (2 * np.abs(a) * eps + eps ** 2).sum(axis=0)
    derived.update(column_ss=ss.tolist(), column_ss_pct=(100 * ss / n_sorts).tolist(),
                   column_ss_bound=ss_bound.tolist())
    claims += _variance_claims(ss, ss_bound, n_sorts, names, eigenvalues, eigenvalues_of, explained_variance,
                               cumulative_variance, total_variance)
    if nload_reliability is not None:
        claims += _check_reliability(nload_reliability, fc, fp, names)

    claims += _table_claims(arrays, zscores, grid, correlations, correlations_of, names, unchecked, k)
    return Verification(tuple(claims), derived, loadings.source)


def _table_claims(arrays, zscores, grid, correlations, correlations_of, names, unchecked, k) -> list:
    """The claims of the factor arrays and z-scores (grid, order, correlations) and the unchecked ones."""
    claims = []
    if correlations is not None and np.size(correlations) not in (k * (k - 1) // 2, k * k):
        raise ValueError(f"correlations: {np.size(correlations)} values; give the {k * (k - 1) // 2} of the upper "
                         f"triangle or the {k} x {k} matrix")
    if arrays is not None:
        if grid is None:
            raise ValueError("checking factor arrays needs the grid")
        claims += [_check_grid(arrays.values[:, j], grid, names[j], arrays.ids) for j in range(arrays.k)]
        if zscores is not None:
            claims += [_check_order(arrays.values[:, j], zscores.values[:, j], _half(zscores.decimals[:, j]),
                                    names[j], arrays.ids) for j in range(arrays.k)]
    if correlations is not None:
        claims += _check_correlations(correlations, correlations_of, arrays, zscores, grid, names)
    for claim, text, reason in unchecked:
        claims.append(Claim("other", claim, text, "", UNCHECKABLE, reason))
    return claims


def rotation_claim(published: PublishedTable, unrotated, *, of: str = "PCA") -> tuple[Claim, dict]:
    """Is the printed loadings table an orthogonal rotation of the data's factors?

    The orthogonal Procrustes rotation T of the data's unrotated loadings A (rows in the table's order) towards the
    printed ones B (:func:`qvalid.core.procrustes.procrustes`); the residual B - A T per sort and factor against
    the print rounding eps (half a unit of each cell's last decimal):

    - ``agrees``: every |residual| <= eps (each printed loading is A T rounded);
    - ``agrees within print rounding``: every |residual| <= eps + max eps: the fitted T itself absorbs part of the
      rounding, which moves A T by up to 0.43 eps in 400 simulated true rotations (scripts/
      verify_rotation_calibration.py, docs/verify.md), so one more eps is a margin of more than 2x;
    - ``contradicts``: some residual beyond that (the table is no rotation of these factors: another k, an oblique
      pattern, another extraction, a typo or a swapped row; power in docs/verify.md).

    The rotation is also written as judgmental steps after a reordering/reversal of factors
    (:func:`qvalid.core.procrustes.rotation_steps`; a turn whose sine is below half a unit of the last printed
    decimal is within print rounding and left out): ``derived`` holds ``matrix``, ``steps`` (text, KADE's clockwise
    degrees), ``order`` (published factor j = sign x data factor), ``residual`` per sort, ``max_residual``,
    ``bound``.
    """
    b = np.asarray(published.values, dtype=np.float64)
    a = np.asarray(unrotated, dtype=np.float64)
    eps = _half(published.decimals)
    if a.shape != b.shape:
        raise ValueError(f"the data's solution has shape {a.shape}, the printed table {b.shape}")
    fit = procrustes(a, b)
    res = fit.residual
    slack = float(eps.max())
    excess = np.abs(res) - eps
    if (excess <= 1e-12).all():
        v = AGREES
    elif (excess <= slack + 1e-12).all():
        v = ROUNDING
    else:
        v = CONTRADICTS
    i, j = np.unravel_index(int(np.argmax(excess)), res.shape)
    rs = rotation_steps(fit.matrix, tol=slack)  # a turn whose sine is within print rounding is no step
    # published factor q = signs[p] x (factor p after the steps), where q = perm[p]
    order = {int(q): (int(p), float(s)) for p, (q, s) in enumerate(zip(rs.perm, rs.signs))}
    order_text = ", ".join(f"F{q + 1} = {'-' if order[q][1] < 0 else ''}f{order[q][0] + 1}" for q in sorted(order))
    steps_text = ", ".join(step_text(st) for st in rs.steps) or "no turn"
    derived = {"of": of, "matrix": fit.matrix.tolist(), "steps": [step_text(st) for st in rs.steps],
               "fewest_steps_bound": rs.lower_bound, "order": order_text,
               "residual": dict(zip(published.ids, np.round(res, 6).tolist())),
               "max_residual": float(np.abs(res).max()), "bound": (eps + slack).tolist()}
    how = (f"orthogonal Procrustes of the data's unrotated {of} factors onto the table: largest residual "
           f"{res[i, j]:+.2g} at {published.ids[i]}, F{j + 1} (print rounding ±{eps[i, j]:g}, bound ±"
           f"{eps[i, j] + slack:g}); the rotation is {steps_text}, then {order_text}")
    return Claim("loadings", f"an orthogonal rotation of the data's {published.values.shape[1]}-factor {of} solution",
                 "", f"max |residual| {np.abs(res).max():.2g}", v, how), derived


def _check_threshold_p(threshold, p, n_statements) -> Claim:
    from scipy.stats import norm

    label = f"|a| >= {threshold} is significant at p < {p:g}"
    if threshold is None or not n_statements:
        return Claim("defining", label, "", "", UNCHECKABLE, "needs the threshold and the number of statements")
    got = float(2 * norm.sf(threshold * np.sqrt(n_statements)))
    need = float(norm.isf(p / 2) / np.sqrt(n_statements))
    return Claim("defining", label, f"p < {p:g}", f"p = {got:.3g}", AGREES if got < p else CONTRADICTS,
                 f"SE of a loading 1/sqrt({n_statements}): z = {threshold * np.sqrt(n_statements):.2f}, two-sided; "
                 f"p < {p:g} needs |a| > {need:.3f}")


def _variance_claims(ss, ss_bound, n_sorts, names, eigenvalues, eigenvalues_of, explained_variance,
                     cumulative_variance, total_variance) -> list:
    """Eigenvalues and % explained variance against the rotated column sums of squares ``ss`` (bound
    ``ss_bound``): each eigenvalue when they are qmethod's rotated ones, else only their total; the % columns from
    the printed eigenvalues (or from ``ss`` when the eigenvalues are rotated ones and were not printed)."""
    k, out = len(names), []
    pct_from = pct_bound = None
    if eigenvalues is not None:
        ev, evd = printed(eigenvalues)
        if eigenvalues_of == "rotated":
            for j in range(k):
                out.append(Claim("eigenvalues", f"{names[j]}: eigenvalue = column sum of squared loadings",
                                 _fmt(ev[j], evd[j]), f"{ss[j]:.5f}", *_verdict(ss[j], ss_bound[j], ev[j], evd[j])))
        else:
            for j in range(k):
                out.append(Claim("eigenvalues", f"{names[j]}: eigenvalue (unrotated factor)", _fmt(ev[j], evd[j]),
                                 f"rotated SS {ss[j]:.5f}", UNCHECKABLE,
                                 "the unrotated loadings were not printed; an orthogonal rotation moves variance "
                                 "between factors, so a rotated column sum of squares is not that eigenvalue"))
            # the claim is a sum of k printed numbers: k half units, one of them added by _verdict
            bound = float(ss_bound.sum() + _half(evd).sum() - _half(evd.max()))
            verdict, how = _verdict(ss.sum(), bound, ev.sum(), int(evd.max()))
            out.append(Claim("eigenvalues", "sum of eigenvalues = sum of communalities", f"{ev.sum():.{evd.max()}f}",
                             f"{ss.sum():.{evd.max()}f}", verdict,
                             "an orthogonal rotation keeps every communality h^2, so their total is both the sum of "
                             "the unrotated eigenvalues and of the rotated column sums of squares; " + how))
        pct_from, pct_bound = 100 * ev / n_sorts, 100 * _half(evd) / n_sorts
    elif eigenvalues_of == "rotated":
        pct_from, pct_bound = 100 * ss / n_sorts, 100 * ss_bound / n_sorts
    src = f" = 100 x {'eigenvalue' if eigenvalues is not None else 'column SS'} / {n_sorts}" if pct_from is not None \
        else ""
    rows = [(f"{names[j]}: % explained{src}", explained_variance, j, False) for j in range(k)
            if explained_variance is not None]
    rows += [(f"{names[j]}: cumulative % explained", cumulative_variance, j, True) for j in range(k)
             if cumulative_variance is not None]
    rows += [("total % explained", [total_variance], k - 1, True)] if total_variance is not None else []
    for label, values, j, cum in rows:
        pv, pd_ = printed(values)
        m = 0 if len(pv) == 1 else j
        if pct_from is None and label.startswith("total"):  # rotation keeps the total: 100 x sum h^2 / n
            x, b = 100 * ss.sum() / n_sorts, 100 * ss_bound.sum() / n_sorts
            out.append(Claim("variance", "total % explained = 100 x sum h^2 / n", _fmt(pv[m], pd_[m]),
                             f"{x:.2f}", *_verdict(x, b, pv[m], pd_[m])))
            continue
        if pct_from is None:
            out.append(Claim("variance", label, _fmt(pv[m], pd_[m]), "", UNCHECKABLE,
                             "the unrotated eigenvalues were not printed"))
            continue
        x = np.cumsum(pct_from)[j] if cum else pct_from[j]
        b = np.cumsum(pct_bound)[j] if cum else pct_bound[j]
        out.append(Claim("variance", label, _fmt(pv[m], pd_[m]), f"{x:.2f}", *_verdict(x, b, pv[m], pd_[m])))
    return out


def _sig(a, threshold, z, n_statements):
    return np.abs(a) >= threshold if threshold is not None else np.abs(a) > z / np.sqrt(n_statements)


def _check_set(label, marked, certain, possible, exact, ids, rule) -> Claim:
    """Published X marks vs the rule: contradicted where no unprinted decimals could give the mark; "agrees" when
    the printed loadings give exactly the marks; else agrees within print rounding (naming the undecided sorts)."""
    wrong = [ids[i] for i in range(len(ids)) if marked[i] and not possible[i] or not marked[i] and certain[i]]
    differ = [ids[i] for i in range(len(ids)) if marked[i] != exact[i]]
    pub = " ".join(ids[i] for i in np.flatnonzero(marked))
    rec = " ".join(ids[i] for i in np.flatnonzero(exact))
    if wrong:
        return Claim("defining", label, pub, rec, CONTRADICTS,
                     f"under {rule}, {', '.join(wrong)} {'is' if len(wrong) == 1 else 'are'} marked differently "
                     "whatever the unprinted decimals")
    if differ:
        return Claim("defining", label, pub, rec, ROUNDING,
                     f"{', '.join(differ)}: the rule's outcome depends on the unprinted decimals")
    return Claim("defining", label, pub, rec, AGREES, f"same sorts under {rule}")


def _check_count(label, claim, lo, hi, exact, rule) -> Claim:
    rec = f"{exact} (between {lo} and {hi} within print rounding)" if lo != hi else str(exact)
    if exact == claim:
        return Claim("defining", label, str(claim), rec, AGREES, f"under {rule}")
    if lo <= claim <= hi:
        return Claim("defining", label, str(claim), rec, ROUNDING,
                     f"some sorts' status under {rule} depends on the unprinted decimals")
    return Claim("defining", label, str(claim), rec, CONTRADICTS, f"under {rule}")


def _check_reliability(values, fc, fp, names) -> list:
    """qmethod's qfcharact: reliability 0.8 p / (1 + 0.8 (p - 1)), SE = sqrt(1 - reliability) (R/qfcharact.R)."""
    rel, reld = printed(values[0])
    se, sed = printed(values[1])
    out = []
    for j in range(len(names)):
        ps = sorted({int(fc[:, j].sum()), int(fp[:, j].sum())})
        for what, pv, d, f in (("composite reliability", rel[j], reld[j], lambda p: 0.8 * p / (1 + 0.8 * (p - 1))),
                               ("SE of factor scores", se[j], sed[j],
                                lambda p: np.sqrt(1 - 0.8 * p / (1 + 0.8 * (p - 1))))):
            vals = [f(p) for p in ps if p > 0]
            if not vals:
                out.append(Claim("characteristics", f"{names[j]}: {what}", _fmt(pv, d), "", UNCHECKABLE,
                                 "no defining sorts"))
                continue
            best = min(vals, key=lambda x: abs(x - pv))
            v, how = _verdict(best, 0.0, pv, d)
            if v == AGREES and len(vals) > 1:
                v = ROUNDING
            out.append(Claim("characteristics", f"{names[j]}: {what} from {'/'.join(map(str, ps))} defining sorts "
                             "(av_rel_coef 0.8)", _fmt(pv, d), f"{best:.4f}", v, how))
    return out


def _check_varimax(a, eps, ids) -> Claim:
    """Varimax applied to the printed loadings should move them only as far as it moves loadings perturbed within
    print rounding (bound: the largest move over 200 seeded draws of uniform rounding errors, batched)."""

    move = float(np.max(np.abs(_aligned(varimax(a).loadings, a) - a)))
    rng = np.random.default_rng(0)
    pert = a + rng.uniform(-1, 1, (200,) + a.shape) * eps
    moved = varimax(pert).loadings
    bound = float(max(np.max(np.abs(_aligned(m, p) - p)) for m, p in zip(moved, pert)))
    v = AGREES if move <= 1e-12 else (ROUNDING if move <= bound else CONTRADICTS)
    return Claim("loadings", "the loadings are a varimax solution", "",
                 f"varimax moves them by at most {move:.2g}", v,
                 f"rotating loadings perturbed uniformly within print rounding (200 seeded draws) moves them by up to "
                 f"{bound:.2g}")


def _aligned(b, a):
    p, s, _ = align_factors(a, b)
    return b[:, list(p)] * np.asarray(s)


def _check_grid(col, grid, name, ids) -> Claim:
    known = col[~np.isnan(col)].astype(int)
    counts = {s: int((known == s).sum()) for s in grid}
    off = sorted(set(known.tolist()) - set(grid))
    over = {s: (counts[s], c) for s, c in grid.items() if counts[s] > c}
    n_unknown = int(np.isnan(col).sum())
    text = f"{known.size} of {col.size} cells printed"
    if off or over:
        what = [f"score {s:+d} is not on the grid" for s in off] + [
            f"score {s:+d} given {n} times, grid has {c}" for s, (n, c) in over.items()]
        return Claim("arrays", f"{name}: factor array fits the grid", text, "; ".join(what), CONTRADICTS,
                     "a factor array is the grid filled in z-score order: every score exactly as often as the grid has "
                     "cells")
    if not n_unknown:
        return Claim("arrays", f"{name}: factor array fits the grid", text, "every score as often as the grid says",
                     AGREES, "")
    free = {s: c - counts[s] for s, c in grid.items() if c > counts[s]}
    unknown = [ids[i] for i in np.flatnonzero(np.isnan(col))]
    return Claim("arrays", f"{name}: factor array fits the grid", text, "no score over-filled", AGREES,
                 f"unknown statement(s) {', '.join(unknown)} can only take the open cells "
                 + ", ".join(f"{s:+d}" + (f" (x{c})" if c > 1 else "") for s, c in free.items()))


def _check_order(arr, z, eps, name, ids) -> Claim:
    """The array ranks statements by z-score: z_i > z_j must give arr_i >= arr_j (ties may go either way)."""
    ok = ~np.isnan(arr) & ~np.isnan(z)
    i, j = np.nonzero((arr[:, None] < arr[None, :]) & ok[:, None] & ok[None, :])
    gap = z[i] - z[j]  # statement i has the lower array value but z_i > z_j?
    bad = gap > eps[i] + eps[j]
    unsure = (gap > 0) & ~bad
    pairs = [f"{ids[i[m]]}/{ids[j[m]]}" for m in np.flatnonzero(bad)]
    if pairs:
        return Claim("arrays", f"{name}: array follows the z-score order", "", f"{len(pairs)} pair(s) out of order",
                     CONTRADICTS, "statements with a lower array value but a higher z-score: " + ", ".join(pairs[:8]))
    v = ROUNDING if unsure.any() else AGREES
    note = f"{int(unsure.sum())} pair(s) in order only within the z-scores' print rounding" if unsure.any() else ""
    return Claim("arrays", f"{name}: array follows the z-score order", "", "in order", v, note)


def _corr_bound(x, y, ex, ey) -> float:
    """First-order worst-case change of Pearson's r when x and y move by at most ex, ey (elementwise):
    dr/dx_i = (y~_i - r x~_i) / ((n - 1) s_x) with x~, y~ standardised."""
    n = x.size
    xs, ys = (x - x.mean()) / x.std(ddof=1), (y - y.mean()) / y.std(ddof=1)
    r = float(xs @ ys / (n - 1))
    return float((np.abs(ys - r * xs) * ex / x.std(ddof=1) + np.abs(xs - r * ys) * ey / y.std(ddof=1)).sum()
                 / (n - 1))


def _check_correlations(correlations, of, arrays, zscores, grid, names) -> list:
    c = np.asarray(correlations, dtype=object)
    k = len(names)
    pairs = list(itertools.combinations(range(k), 2))
    if c.ndim == 1:
        upper = c
    else:
        upper = np.array([c[i, j] for i, j in pairs], dtype=object)
    vals, decs = printed(upper)
    out = []
    for m, (i, j) in enumerate(pairs):
        label = f"r({names[i]}, {names[j]}) between factor {'z-scores' if of == 'zscores' else 'arrays'}"
        txt = _fmt(vals[m], decs[m])
        tab = zscores if of == "zscores" else arrays
        if tab is not None and not np.isnan(tab.values[:, [i, j]]).any():
            x, y = tab.values[:, i], tab.values[:, j]
            r = float(np.corrcoef(x, y)[0, 1])
            b = _corr_bound(x, y, _half(tab.decimals[:, i]), _half(tab.decimals[:, j]))
            out.append(Claim("correlations", label, txt, f"{r:.4f}", *_verdict(r, b, vals[m], decs[m])))
            continue
        if of == "zscores":
            reason = "the z-scores were not printed"
            lo = hi = 0.0
            if arrays is not None:
                lo, hi = _array_r_range(arrays.values[:, i], arrays.values[:, j], grid)
                reason += (f"; the printed arrays (their rank transform on the grid) correlate {lo:.3f}" +
                           (f" to {hi:.3f} over every grid-consistent completion of the unknown cells" if hi > lo
                            else ""))
            rec = f"arrays: {lo:.3f} to {hi:.3f}" if arrays is not None else ""
            out.append(Claim("correlations", label, txt, rec, UNCHECKABLE, reason))
        else:
            lo, hi = _array_r_range(arrays.values[:, i], arrays.values[:, j], grid)
            h = float(_half(decs[m]))
            v = CONTRADICTS if vals[m] + h < lo or vals[m] - h > hi else UNCHECKABLE
            out.append(Claim("correlations", label, txt, f"{lo:.3f} to {hi:.3f}", v,
                             "the arrays are incomplete: the range is over every grid-consistent completion"))
    return out


def _array_r_range(x, y, grid) -> tuple[float, float]:
    """Smallest and largest Pearson r between two partial arrays over every way of filling their unknown cells
    with the scores their grid leaves open (distinct permutations; at most a few hundred for printed tables)."""

    fills = []
    for col in (x, y):
        free = open_cells(col[:, None], grid)[0]
        rows = np.flatnonzero(np.isnan(col))
        perms = sorted(set(itertools.permutations(free.tolist())))
        full = np.repeat(col[None, :], max(len(perms), 1), axis=0)
        if rows.size:
            full[:, rows] = np.array(perms)
        fills.append(full)
    xs, ys = fills
    xs = np.repeat(xs, len(ys), axis=0)
    ys = np.tile(ys, (len(fills[0]), 1))
    xc, yc = xs - xs.mean(axis=1, keepdims=True), ys - ys.mean(axis=1, keepdims=True)
    r = (xc * yc).sum(axis=1) / np.sqrt((xc * xc).sum(axis=1) * (yc * yc).sum(axis=1))
    return float(r.min()), float(r.max())
