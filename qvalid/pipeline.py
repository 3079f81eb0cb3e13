"""The Q method, wired once: :func:`analyze` runs it on one study, and the batched analyses (the bootstrap) run the
same stages on a stack of resamples.

The stages, in the order R qmethod's ``qmethod()`` runs them (R/qmethod.R):

1. :func:`solve`: correlation -> extraction (PCA via psych::principal, the centroid, Horst 5.5) -> rotation
   (varimax, none or any rotation psych::principal knows) -> for PCA, psych's sort and sign; then, in
   :func:`analyze` only, judgmental steps (``then``);
2. :func:`flag_stage`: automatic flags (qmethod's qflag, or KADE's rounded Auto-Flag);
3. :func:`score_stage`: weights, z-scores, factor arrays, characteristics, distinguishing and consensus statements.

Each stage takes one study (scores of shape (n_statements, n_sorts)) or a stack of B resamples (B, n_statements, m)
and chooses its kernels from the options, never from a flavour name. On a stack it uses the batched kernels and
marks ``close`` the items where a decision (a centroid tie, a varimax stopping test, psych's sign of a column summing
to ~0, a flag cut-off, two z-scores within rounding) was within :data:`CLOSE` of flipping; the batched analyses take
those items again on the single-study path, so that every item equals :func:`analyze` on its resample to rounding.
The batched stages compute qmethod's arithmetic (the options whose ``OptionInfo.batched`` allows it).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .core.characteristics import characteristics, distinguishing, distinguishing_consensus, explained_variance
from .core.congruence import align_factors
from .core.correlation import correlate, unit_columns
from .core.extract import (brown_centroid, centroid, centroid_batch, centroid_on_r_bits, centroid_strict,
                           horst55_centroid, kade_principal, principal, psych_tidy)
from .core.flag import flag, kade_flag
from .core.judgmental import PairStep, apply_steps
from .core.psych_rotate import PSYCH_ROTATIONS, principal_rotate, psych_order
from .core.rotate import kaiser_varimax, no_rotation, varimax
from .core.scores import close_ties, factor_arrays, kade_zscores, weights, zscores, zscores_on_r_bits
from .diagnostics import QWarning, as_warning, flag_warnings, grid_warnings
from .errors import QInputError
from .options import TARGET_ROTATIONS, Options, resolve_options, rotation_arguments
from .results import QResult
from .study import QStudy

__all__ = ["analyze", "solve", "flag_stage", "stack_stages", "score_stage", "Solution", "Scores", "reorder_factors", "align_to",
           "CLOSE"]

#: A batched decision within this distance of flipping is taken again on the single-study path.
CLOSE = 1e-10


@dataclass(frozen=True)
class Solution:
    """The loadings stage (:func:`solve`) of one study or of a stack of resamples.

    Attributes
    ----------
    correlation : ndarray (..., m, m) or None
        None for a stack whose principal components came from the small Gram matrix (more sorts than statements).
    unrotated, loadings : ndarray (..., m, k)
        ``loadings`` are the pattern after an oblique rotation.
    rotation_matrix : ndarray (..., k, k)
        T with ``unrotated @ T = loadings`` (psych's sort and sign included).
    n_iter, converged : int and bool, or arrays (B,)
        The rotation's iterations (varimax's, GPArotation's, or the varimax's under promax and cluster) and
        convergence.
    close : bool or ndarray of bool (B,)
        Stack only: items to take again on the single-study path (their values here are not valid).
    warnings : tuple of QWarning
        One study only.
    """

    correlation: np.ndarray | None
    unrotated: np.ndarray
    loadings: np.ndarray
    rotation_matrix: np.ndarray
    n_iter: object
    converged: object
    close: object = False
    warnings: tuple = ()
    phi: np.ndarray | None = None


@dataclass(frozen=True)
class Scores:
    """The scoring stage (:func:`score_stage`): weights and z-scores (..., n, k), factor arrays, characteristics.

    ``distinguishing`` is qmethod's qdc table for one study (:class:`~qvalid.core.characteristics.Distinguishing`
    or None); on a stack ``distinguishes`` (B, n, k) and ``consensus`` (B, n) are the per-item masks (NaN where
    undefined), from the one definition :func:`qvalid.core.characteristics.distinguishing_consensus`.
    """

    weights: np.ndarray
    zscores: np.ndarray
    factor_arrays: np.ndarray
    characteristics: object
    distinguishing: object = None
    distinguishes: np.ndarray | None = None
    consensus: np.ndarray | None = None


def analyze(study: QStudy, nfactors: int, *, flavor: str = "qmethod", flags=None, options: Options | None = None,
            then=(), target=None, **overrides) -> QResult:
    """Run the Q method on a study and return one :class:`~qvalid.results.QResult`.

    The steps mirror R qmethod's ``qmethod()`` (R/qmethod.R) with the ``qmethod`` flavour:
    correlation -> extraction (PCA via psych::principal, or centroid) -> rotation (varimax, none or any rotation
    psych::principal knows; for PCA, psych's sort-and-sign afterwards) -> judgmental steps (``then``) -> flags ->
    weights and z-scores -> factor arrays -> characteristics -> distinguishing/consensus statements (:func:`solve`,
    :func:`flag_stage`, :func:`score_stage`).

    Parameters
    ----------
    study : QStudy
    nfactors : int
        Number of factors to extract and keep (qmethod's ``nfactors``).
    flavor : str
        An option preset from :data:`qvalid.FLAVORS`.
    flags : array-like of bool, shape (n_sorts, nfactors), optional
        Manual flags (as qmethod's ``qzscores(..., flagged=)``); replaces automatic flagging.
    options : Options, optional
        Resolved options (e.g. another result's ``options``), instead of ``flavor`` and ``**overrides``.
    then : sequence of PairStep, optional
        Judgmental rotation steps applied, in order, after the named rotation (and psych's sort and sign):
        :class:`~qvalid.core.judgmental.PairStep` (0-based factors, KADE's clockwise degrees), e.g. from
        :func:`qvalid.io.rotations.read_rotation_steps`. The ``steps_rule`` option rounds them as KADE does.
    target : array-like of shape (n_sorts, nfactors), optional
        The target loadings of ``rotation="targetT"``/``"targetQ"`` (GPArotation's ``Target``; NaN = unspecified).
    **overrides
        Overrides of :class:`~qvalid.options.Options` fields, e.g. ``extraction="centroid"``, ``threshold=0.42``.

    Notes
    -----
    R's exact decisions are taken on R's bits (docs/ties.md): the centroid's (issue 8), and the factor arrays'
    ties (issue 21). When two z-scores of a factor are within rounding of a tie, :func:`score_stage` recomputes them
    with R's arithmetic (:func:`~qvalid.core.scores.zscores_on_r_bits`), and with qmethod's centroid the analysis
    runs once more on R's ``cor()`` bits (``solve(..., r_bits=True)``), on which the centroid's loadings, hence the
    weights, are R's to the last bit.

    Examples
    --------
    >>> from qvalid.datasets import load_lipset
    >>> res = analyze(load_lipset(), 3)
    >>> res.flags.sum(axis=0).tolist()
    [3, 3, 3]
    >>> res.warning_codes   # as R qmethod 1.8.4 warns: negative loadings are flagged
    ('negative-loading-flagged',)
    """
    if options is not None and overrides:
        raise QInputError(f"give either options= or option overrides, not both ({', '.join(sorted(overrides))})")
    opts = options if options is not None else resolve_options(flavor, **overrides)
    k = _check_nfactors(study, nfactors, opts.extraction)
    steps = _check_steps(then, k, study)
    for r_bits in (False, True):  # once more on R's cor() bits when an array tie hangs on the loadings' last bits
        sol = solve(study.scores, k, opts, study=study, r_bits=r_bits, target=target)
        loa, t_rot, phi = sol.loadings, sol.rotation_matrix, sol.phi
        if steps:
            loa, t_steps = apply_steps(loa, steps, kade_round=opts.steps_rule == "rounded")
            t_rot = t_rot @ t_steps
            if phi is not None:  # the pattern turns by G, the factors' correlations by G' Phi G
                phi = t_steps.T @ phi @ t_steps
        fl = flag_stage(loa, study.n_statements, opts)[0] if flags is None else _check_flags(flags, study, k)
        sc = score_stage(study.scores, study.qscores, loa, fl, opts)
        if r_bits or not _r_bits_decide(opts, study, sc):
            break
    warnings = list(sol.warnings)  # codes and their meaning: qvalid.diagnostics.WARNINGS, docs/warnings.md
    warnings += flag_warnings(loa, fl)
    if (np.abs(loa[fl]) >= 1).any():
        warnings.append(QWarning("flagged-loading-unit",
                                 "a flagged loading is +-1 or beyond: its weight a/(1-a^2) is infinite or negative"))
    warnings += grid_warnings(sc.factor_arrays, study.qscores)
    d = sc.distinguishing
    if d is not None and np.isnan(sc.zscores[:, list(d.factors)]).any():
        warnings.append(QWarning("qdc-compares-flagless-factor",
                                 "qmethod's qdc compares the factors by position when the last one has no flags: a "
                                 "flagless factor is paired, so the table is all NA (qdc_flagless='skip' compares "
                                 "the flagged factors)"))
    if sc.distinguishing is None and k > 1:
        warnings.append(QWarning("qdc-fewer-than-two-factors",
                                 "fewer than two factors have flagged Q-sorts: no distinguishing/consensus statements"))
    unrot_ev, unrot_pct = explained_variance(sol.unrotated)
    return QResult(
        study=study, options=opts, nfactors=k, correlation=sol.correlation, unrotated_loadings=sol.unrotated,
        unrotated_eigenvalues=unrot_ev, unrotated_expl_var=unrot_pct, loadings=loa,
        rotation_matrix=t_rot, flags=fl, weights=sc.weights, zscores=sc.zscores,
        factor_arrays=sc.factor_arrays, characteristics=sc.characteristics, distinguishing=sc.distinguishing,
        varimax_iterations=int(sol.n_iter), converged=bool(sol.converged), warnings=tuple(warnings),
        manual_flags=flags is not None, factor_correlations=phi, rotation_steps=tuple(steps),
        rotation_target=None if target is None or opts.rotation not in TARGET_ROTATIONS else
        np.array(target, dtype=np.float64),
    )


def _check_steps(then, k: int, study: QStudy) -> list:
    """The judgmental steps as a list of PairStep, each naming factors of the solution."""
    steps = list(then or ())
    for i, st in enumerate(steps, 1):
        if not isinstance(st, PairStep):
            raise QInputError(f"rotation step {i} is {st!r}, not a PairStep (qvalid.io.rotations reads step files)",
                              file=study.source)
        if st.pair[1] >= k:
            raise QInputError(f"rotation step {i} (f{st.pair[0] + 1}-f{st.pair[1] + 1}) names factor "
                              f"{st.pair[1] + 1}, but the solution has {k} factor(s)", file=study.source)
    return steps


# ---------------------------------------------------------------------------------------------- stage 1: loadings
def solve(scores, nfactors: int, opts: Options, *, study: QStudy | None = None, r_bits: bool = False,
          target=None) -> Solution:
    """Correlation, extraction, rotation and (PCA) psych's sort and sign of one study or a stack of resamples.

    ``scores`` (n_statements, n_sorts): the single-study path, every decision taken as R takes it (R's own
    ``cor()`` bits where qmethod's centroid needs them; always with ``r_bits``); ``study`` only names the file and
    sorts in errors; ``target``: the target loadings of targetT/targetQ. ``scores`` (B, n_statements, m): the
    batched path (qmethod's arithmetic only; no target rotation, whose target is given per Q-sort), with ``close``
    per item.
    """
    x = np.asarray(scores)
    if x.ndim == 2:
        return _solve_one(x, int(nfactors), opts, study, r_bits, target)
    if opts.rotation in TARGET_ROTATIONS:
        raise QInputError(f"rotation={opts.rotation}: a target is given per Q-sort, so a stack of resamples cannot "
                          "be rotated to it")
    return _solve_batch(x.astype(np.float64, copy=False), int(nfactors), opts)


def _solve_one(x, k: int, opts: Options, study: QStudy | None, r_bits: bool = False, target=None) -> Solution:
    source = None if study is None else study.source
    r = correlate(x, method=opts.cor_method, digits=opts.cor_digits, exact=r_bits)
    r, ext = _extract(x, r, k, opts, source)
    warnings = [as_warning(w) for w in ext.warnings]
    if opts.rotation not in ("varimax", "none") and k > 1:
        loa, t_rot, phi, n_iter, conv = _named_rotation(ext.loadings, opts, source, target, warnings)
        return Solution(r, ext.loadings, loa, t_rot, n_iter, conv, False, tuple(warnings), phi)
    if target is not None and opts.rotation not in TARGET_ROTATIONS:
        raise QInputError(f"target loadings are only used by targetT/targetQ, not rotation={opts.rotation}",
                          file=source)
    if opts.rotation == "varimax" and k > 1:
        if opts.varimax_normalize and opts.varimax_rule == "stats":  # KADE gives such a sort zero loadings
            _check_communalities(ext.loadings, study)
        rot = _varimax(ext.loadings, opts, source)
        if not rot.converged:
            warnings.append(QWarning("varimax-not-converged",
                                     f"varimax did not converge in {opts.varimax_max_iter} iterations"))
    else:
        rot = no_rotation(ext.loadings)
        if opts.rotation == "varimax" and opts.extraction != "pca":
            warnings.append(QWarning("one-factor-not-rotated",
                                     "one factor: nothing to rotate (qmethod's stats::varimax errors here)"))
    loa, t_rot = rot.loadings, rot.matrix
    if opts.extraction == "pca" and opts.pca_tidy:
        loa = psych_tidy(rot.loadings)
        order = psych_order(rot.loadings)  # the same sort and signs for the matrix: unrotated @ T = loadings
        t_rot = t_rot[:, order] * np.where(rot.loadings[:, order].sum(axis=0) < 0, -1.0, 1.0)
    return Solution(r, ext.loadings, loa, t_rot, rot.n_iter, rot.converged, False, tuple(warnings))


def _named_rotation(a, opts: Options, source, target, warnings: list):
    """A rotation of psych::principal's switch other than varimax (:func:`qvalid.core.psych_rotate.principal_rotate`,
    with psych's sort and sign for PCA as qmethod): ``(loadings, T, Phi or None, iterations, converged)``.
    For centroid extraction qmethod refuses these; qvalid applies the same algorithm without the sort and sign."""
    kw = rotation_arguments(opts)
    if opts.rotation in TARGET_ROTATIONS:
        if target is None:
            raise QInputError(f"rotation={opts.rotation} needs target loadings (target=..., --target FILE)",
                              file=source)
        kw["target"] = np.asarray(target, dtype=np.float64)
    elif target is not None:
        raise QInputError(f"target loadings are only used by targetT/targetQ, not rotation={opts.rotation}",
                          file=source)
    try:
        res = principal_rotate(a, opts.rotation, tidy=opts.extraction == "pca" and opts.pca_tidy, **kw)
    except (ValueError, np.linalg.LinAlgError) as err:
        raise QInputError(f"rotation {opts.rotation} failed: {err}", file=source) from None
    if not res.converged:
        stats = opts.rotation in ("promax", "Promax", "cluster")
        warnings.append(QWarning("varimax-not-converged" if stats else "rotation-not-converged",
                                 f"varimax did not converge in 1000 iterations (the first step of {opts.rotation})"
                                 if stats else f"{opts.rotation} did not converge in {opts.gpa_max_iter} iterations "
                                 f"(GPArotation's projected gradient stayed above eps={opts.gpa_eps:g})"))
    if opts.extraction != "pca":
        warnings.append(QWarning("rotation-beyond-qmethod",
                                 f"qmethod 1.8.4 rotates {opts.extraction} factors only by varimax or none; "
                                 f"{opts.rotation} ({PSYCH_ROTATIONS[opts.rotation][1]}) is applied as psych does "
                                 "for PCA, without psych's sort and sign step"))
    return res.loadings, res.matrix, res.phi, res.n_iter, res.converged


def _extract(x, r, k: int, opts: Options, source):
    """The unrotated factors chosen by ``extraction`` and its rule: ``(r, extraction)``, ``r`` recomputed with R's
    own bits when qmethod's centroid needs them."""
    try:
        if opts.extraction == "pca" and opts.pca_rule == "qpca":
            return r, kade_principal(r, k)
        if opts.extraction == "pca":
            big = x.shape[1] > x.shape[0]  # more sorts than statements: the small Gram matrix gives the eigenpairs
            return r, principal(r, k, unit_columns=unit_columns(x, method=opts.cor_method) if big else None)
        if opts.extraction == "horst55":
            return r, horst55_centroid(r, k, n_statements=x.shape[0], extract=opts.horst_factors,
                                       max_iter=opts.horst_max_iter, tol=opts.horst_tol, autostop=opts.horst_autostop)
        if opts.centroid_rule == "brown":
            return r, brown_centroid(r, k)
        if opts.centroid_ties == "strict" or opts.cor_digits is not None:
            return r, (centroid if opts.centroid_ties == "joint" else centroid_strict)(r, k, spc=opts.spc)
        return centroid_on_r_bits(x, k, cor_method=opts.cor_method, spc=opts.spc, r=r)
    except FloatingPointError as err:
        raise QInputError(str(err), file=source) from None


def _r_bits_decide(opts: Options, study: QStudy, sc: Scores) -> bool:
    """Whether the factor arrays' tie decisions hang on the last bits of loadings that R's ``cor()`` bits would
    make R's own: qmethod's centroid (joint ties, full-precision correlations; R's to the last bit on R's
    correlation) with two z-scores of a factor within rounding of a tie."""
    centroid_r = (opts.extraction == "centroid" and opts.centroid_rule == "hermans" and opts.centroid_ties == "joint"
                  and opts.cor_digits is None and opts.cor_method != "kendall")
    return centroid_r and opts.scores_rule == "exact" and close_ties(sc.zscores, study.scores, sc.weights)


def _varimax(loadings, opts: Options, source):
    if opts.varimax_rule == "kaiser":
        return kaiser_varimax(loadings, eps=opts.varimax_eps, max_sweeps=opts.varimax_max_iter)
    try:
        return varimax(loadings, normalize=opts.varimax_normalize, eps=opts.varimax_eps,
                       max_iter=opts.varimax_max_iter)
    except np.linalg.LinAlgError as err:
        raise QInputError(f"varimax failed: {err}", file=source) from None


def _solve_batch(x, k: int, o: Options) -> Solution:
    """The loadings of a stack of resamples (B, n_statements, m) with the items to take again singly."""
    n_st, m = x.shape[-2:]
    r = None
    if o.extraction == "pca":
        z = unit_columns(x, method=o.cor_method) if m > n_st else None  # the Gram route, as analyze() for one study
        r = correlate(x, method=o.cor_method) if z is None or not k < n_st - 1 else None
        a = principal(r, k, unit_columns=z).loadings
        close = (np.abs(a.sum(axis=-2)) < CLOSE).any(axis=-1)  # psych's sign of a column summing to ~0
    else:
        r = correlate(x, method=o.cor_method)
        ext = centroid_batch(r, k, spc=o.spc, ties=o.centroid_ties)
        a, close = ext.loadings, ext.close
    unrot = a
    rot = no_rotation(a)
    phi = None
    if o.rotation not in ("varimax", "none") and k > 1:  # psych's other rotations, each item on its own iterations
        ok = np.isfinite(a).all(axis=(-1, -2)) & ~close
        close = close | ~ok
        n_iter, conv = np.zeros(a.shape[0], dtype=np.int64), np.ones(a.shape[0], dtype=bool)
        loa, mat = a.copy(), rot.matrix.copy()
        if ok.any():
            try:
                part = principal_rotate(a[ok], o.rotation, tidy=False, **rotation_arguments(o))
            except (ValueError, np.linalg.LinAlgError):  # e.g. a cluster without sorts: decided item by item
                close = close | ok
            else:
                loa[ok], mat[ok], n_iter[ok], conv[ok] = part.loadings, part.matrix, part.n_iter, part.converged
                if part.phi is not None:
                    phi = np.full(a.shape[:-2] + (k, k), np.nan)
                    phi[ok] = part.phi
        rot = replace(rot, loadings=loa, matrix=mat, n_iter=n_iter, converged=conv)
    elif o.rotation == "varimax" and k > 1:
        ok = ((a * a).sum(axis=-1) > 0).all(axis=-1) & np.isfinite(a).all(axis=(-1, -2)) & ~close
        close = close | ~ok
        if ok.any():
            part = varimax(a[ok], normalize=o.varimax_normalize, eps=o.varimax_eps, max_iter=o.varimax_max_iter)
            loa, mat = a.copy(), rot.matrix.copy()
            n_iter, conv = np.zeros(a.shape[0], dtype=np.int64), np.ones(a.shape[0], dtype=bool)
            loa[ok], mat[ok], n_iter[ok], conv[ok] = part.loadings, part.matrix, part.n_iter, part.converged
            close[np.flatnonzero(ok)[part.stop_margin < 1e-9]] = True  # a stopping test within rounding
            rot = replace(rot, loadings=loa, matrix=mat, n_iter=n_iter, converged=conv)
    a, mat = rot.loadings, rot.matrix
    if o.extraction == "pca" and o.pca_tidy:
        ss = np.sort((a * a).sum(axis=-2), axis=-1)
        close |= (np.diff(ss, axis=-1) < CLOSE * ss[..., 1:]).any(axis=-1)  # psych's order of near-equal factors
        order = psych_order(a)
        a = psych_tidy(a)
        signs = np.where(np.take_along_axis(rot.loadings, order[..., None, :], axis=-1).sum(axis=-2) < 0, -1.0, 1.0)
        mat = np.take_along_axis(mat, order[..., None, :], axis=-1) * signs[..., None, :]
        if phi is not None:
            phi = np.take_along_axis(np.take_along_axis(phi, order[..., None, :], axis=-1), order[..., :, None],
                                     axis=-2) * signs[..., None, :] * signs[..., :, None]
        close |= (np.abs(a.sum(axis=-2)) < CLOSE).any(axis=-1)
    n_iter = rot.n_iter if np.ndim(rot.n_iter) else np.zeros(a.shape[0], dtype=np.int64)
    conv = rot.converged if np.ndim(rot.converged) else np.ones(a.shape[0], dtype=bool)
    return Solution(r, unrot, a, mat, n_iter, conv, close, (), phi)


# ---------------------------------------------------------------------------------------------- stage 2: flags
def flag_stage(loadings, n_statements: int, opts: Options):
    """Automatic flags of one solution (n_sorts, k) or a stack (B, m, k): ``(flags, close)``.

    qmethod's ``qflag`` (``flag_rule="exact"``) or KADE's Auto-Flag on 5-dp squares (``"rounded"``). On a stack,
    ``close`` marks items with a loading within :data:`CLOSE` of a cut-off (qflag's two inequalities).
    """
    a = np.asarray(loadings)
    flagger = kade_flag if opts.flag_rule == "rounded" else flag
    fl = flagger(a, n_statements, z=opts.flag_z, threshold=opts.threshold, majority=opts.majority)
    if a.ndim == 2:
        return fl, False
    cut = opts.threshold if opts.threshold is not None else opts.flag_z / np.sqrt(n_statements)
    close = np.abs(np.abs(a) - cut) < CLOSE
    if opts.majority:
        a2 = a * a
        close |= np.abs(2 * a2 - a2.sum(axis=-1, keepdims=True)) < CLOSE
    return fl, close.any(axis=(-1, -2))


def stack_stages(x, nfactors: int, opts: Options, *, flag_opts: Options | None = None, manual_flags: bool = False):
    """Stages 1 and 2 on a stack of samples (B, n_statements, m), as the batched analyses (the bootstrap's
    resampling and parametric replicates) run them: ``(loadings, flags or None, redo)``. ``loadings`` is a writable
    copy; ``flags`` the automatic flags (None with ``manual_flags``), by ``flag_opts`` (default ``opts``); ``redo``
    marks the items with a decision within rounding (the extraction's, the rotation's or a flag's), which the
    caller takes again on the single-study path."""
    sol = solve(x, nfactors, opts)
    loa, redo = sol.loadings.copy(), np.array(sol.close, dtype=bool)
    fl = None
    if not manual_flags:
        fl, close = flag_stage(loa, x.shape[-2], flag_opts or opts)
        redo |= close
    return loa, fl, redo


# ---------------------------------------------------------------------------------------------- stage 3: scores
def score_stage(scores, qscores, loadings, flags, opts: Options) -> Scores:
    """Weights, z-scores, factor arrays, characteristics and distinguishing statements from final loadings and flags.

    One study: qmethod's qzscores/qfcharact/qdc (or KADE's rounded rules). A stack (B, n, m) with loadings and
    flags (B, m, k): qmethod's arithmetic, z-scores of an item that has two within :data:`CLOSE` (a near tie that
    decides a factor array) recomputed on the single-study path, and the distinguishing/consensus masks per item.
    """
    x = np.asarray(scores)
    if x.ndim == 2:
        if opts.scores_rule == "rounded":
            w, z = kade_zscores(x, loadings, flags)
        else:
            w = weights(loadings, flags)
            z = zscores(x, w)
            if close_ties(z, x, w):  # the arrays' tie decisions are R's: take them on R's bits (docs/ties.md)
                z = zscores_on_r_bits(x, w)
        arrays = factor_arrays(z, qscores, ties=opts.array_ties)
        chars = characteristics(loadings, flags, z, av_rel_coef=opts.av_rel_coef, se_rule=opts.se_rule)
        return Scores(w, z, arrays, chars, distinguishing(z, chars.sd_dif, labels=opts.qdc_labels,
                                                          rule=opts.qdc_rule, flagless=opts.qdc_flagless))
    w = weights(loadings, flags)
    z = zscores(x, w)
    arrays = factor_arrays(z, qscores, ties=opts.array_ties)
    for i in np.flatnonzero(_near_ties(z)):  # near-tied z-scores: the single-study arithmetic decides
        z[i] = zscores(x[i], w[i])
        arrays[i] = factor_arrays(z[i], qscores, ties=opts.array_ties)
    chars = characteristics(loadings, flags, z, av_rel_coef=opts.av_rel_coef)
    dist, cons = distinguishing_consensus(z, chars.sd_dif)
    return Scores(w, z, arrays, chars, None, dist, cons)


def _near_ties(z) -> np.ndarray:
    """Items where two z-scores of a factor differ, but by less than :data:`CLOSE` (array ties)."""
    d = np.diff(np.sort(z, axis=-2), axis=-2)
    with np.errstate(invalid="ignore"):
        return ((d > 0) & (d < CLOSE)).any(axis=(-1, -2))


# ---------------------------------------------------------------------------------------------- after the method
def reorder_factors(result: QResult, permutation, signs, *, alignment: dict | None = None) -> QResult:
    """The same solution with its factors reordered and reflected: new factor j is ``signs[j]`` times old factor
    ``permutation[j]``.

    Loadings, the rotation matrix's columns and the flags are permuted (and signed); weights, z-scores, factor
    arrays, characteristics and distinguishing statements are recomputed from them by :func:`score_stage`, so a
    reflected factor gets exactly negated z-scores and the arrays of those z-scores (with an asymmetric grid or ties
    these are not simply the negated arrays). The unrotated loadings (the extraction's) are kept. Reordering is a
    renaming. Reflecting a factor (PQMethod's and KADE's "reflect") keeps the flags but changes the differences
    z_f - z_g with other factors, so distinguishing and consensus statements are recomputed, not renamed.

    ``alignment`` (e.g. the target and congruences, :func:`align_to`) is stored in ``result.alignment`` and the JSON
    diagnostics.
    """
    k = result.nfactors
    perm = [int(p) for p in permutation]
    sg = np.asarray(signs, dtype=np.float64)
    if sorted(perm) != list(range(k)) or sg.shape != (k,) or not np.isin(sg, (-1.0, 1.0)).all():
        raise QInputError(f"reorder_factors: need a permutation of 0..{k - 1} and {k} signs of +-1, got "
                          f"{list(permutation)} and {list(signs)}")
    loa = result.loadings[:, perm] * sg
    fl = result.flags[:, perm]
    phi = result.factor_correlations
    if phi is not None:
        phi = (phi[np.ix_(perm, perm)] * sg).T * sg
    sc = score_stage(result.study.scores, result.study.qscores, loa, fl, result.options)
    old = flag_warnings(result.loadings, result.flags)
    warnings = tuple(x for x in result.warnings if x not in old) + tuple(flag_warnings(loa, fl))
    info = {"permutation": perm, "signs": [int(x) for x in sg], **(alignment or {})}
    return replace(result, loadings=loa, rotation_matrix=result.rotation_matrix[:, perm] * sg, flags=fl,
                   weights=sc.weights, zscores=sc.zscores, factor_arrays=sc.factor_arrays,
                   characteristics=sc.characteristics, distinguishing=sc.distinguishing, warnings=warnings,
                   alignment=info, factor_correlations=phi)


def align_to(result, target_loadings, *, sort_ids=None, name: str | None = None):
    """``result`` with its factors reordered and reflected to match a target loadings table (e.g. a paper's).

    The matching is :func:`align_factors` (Hungarian assignment on |Tucker congruence|, signs from the
    congruence), the one the cross-check uses, computed over the Q-sorts both tables have; then
    :func:`reorder_factors` renames and reflects the factors.

    Parameters
    ----------
    result : QResult
    target_loadings : array-like of shape (n_target_sorts, nfactors)
    sort_ids : sequence of str, optional
        The target's sort ids (default: the result's, in its order). Each must be a Q-sort of the study; at least
        two must be given. Sorts of the study missing from the target do not count in the congruence.
    name : str, optional
        Where the target came from (a file), recorded in ``result.alignment``.

    Returns
    -------
    QResult
        With ``alignment = {"target", "permutation", "signs", "congruence", "n_sorts"}``: new factor j is
        ``signs[j]`` times old factor ``permutation[j]``; ``congruence[j]`` is its Tucker congruence with target
        factor j.
    """
    target = np.asarray(target_loadings, dtype=np.float64)
    ids = list(result.sort_ids) if sort_ids is None else [str(s) for s in sort_ids]
    if target.ndim != 2 or target.shape != (len(ids), result.nfactors):
        raise QInputError(f"the target loadings have shape {target.shape}, expected ({len(ids)}, "
                          f"{result.nfactors}): one row per Q-sort, one column per factor", file=name)
    where = {sid: i for i, sid in enumerate(result.sort_ids)}
    unknown = [sid for sid in ids if sid not in where]
    if unknown:
        raise QInputError(f"the target has {len(unknown)} Q-sort(s) the study has not: {', '.join(unknown)}",
                          file=name, sort=unknown[0])
    if len(set(ids)) < 2:
        raise QInputError("the target needs at least 2 Q-sorts of the study", file=name)
    mine = result.loadings[[where[sid] for sid in ids]]
    perm_t, signs_t, cong_t = align_factors(target, mine)
    return reorder_factors(result, perm_t, signs_t, alignment={"target": name, "congruence": list(cong_t),
                                                                "n_sorts": len(ids)})


def _check_communalities(loadings, study: QStudy | None) -> None:
    """Kaiser normalisation divides each row by its length: a sort with no common variance cannot be rotated.

    R's ``stats::varimax`` stops here too ("La.svd(B): infinite or missing values").
    """
    h2 = (loadings * loadings).sum(axis=1)
    if (h2 > 0).all():
        return
    bad = np.flatnonzero(~(h2 > 0))
    ids = [study.sort_ids[i] for i in bad] if study is not None else [f"#{i + 1}" for i in bad]
    raise QInputError(f"zero communality on the {loadings.shape[1]} extracted factors (the sort is uncorrelated "
                      f"with the others there), so varimax's Kaiser normalisation divides by 0"
                      + (f"; also {', '.join(ids[1:])}" if len(ids) > 1 else "")
                      + "; drop the sort, change nfactors or use --rotation none",
                      file=None if study is None else study.source, sort=ids[0])


def _check_nfactors(study: QStudy, nfactors, extraction: str) -> int:
    if isinstance(nfactors, bool) or int(nfactors) != nfactors or nfactors < 1:
        raise QInputError(f"nfactors={nfactors!r} must be a whole number >= 1", file=study.source)
    if extraction == "pca" and nfactors > study.n_sorts:
        raise QInputError(f"nfactors={nfactors} exceeds the number of Q-sorts ({study.n_sorts}); "
                          "principal components cannot extract more", file=study.source)
    return int(nfactors)


def _check_flags(flags, study: QStudy, k: int) -> np.ndarray:
    fl = np.asarray(flags)
    if fl.shape != (study.n_sorts, k):
        raise QInputError(f"manual flags have shape {fl.shape}, expected ({study.n_sorts}, {k}) (sorts x factors)",
                          file=study.source)
    if fl.dtype != bool and not np.isin(fl, (0, 1)).all():
        raise QInputError("manual flags must be true/false (or 1/0)", file=study.source)
    return fl.astype(bool)
