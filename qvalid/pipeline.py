"""The whole Q method in one function: :func:`analyze`. The only place where the steps are wired."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from .core.characteristics import characteristics, distinguishing, explained_variance
from .core.congruence import align_factors
from .core.correlation import correlate, unit_columns
from .core.extract import (brown_centroid, centroid, centroid_on_r_bits, centroid_strict, horst55_centroid,
                           kade_principal, principal, psych_tidy)
from .core.flag import flag, kade_flag
from .core.rotate import kaiser_varimax, no_rotation, varimax
from .core.scores import factor_arrays, kade_zscores, weights, zscores
from .diagnostics import QWarning, as_warning, flag_warnings
from .errors import QInputError
from .options import resolve_options
from .results import QResult
from .study import QStudy

__all__ = ["analyze", "reorder_factors", "align_to"]


def analyze(study: QStudy, nfactors: int, *, flavor: str = "qmethod", flags=None, **options) -> QResult:
    """Run the Q method on a study and return one :class:`~qvalid.results.QResult`.

    The steps mirror R qmethod's ``qmethod()`` (R/qmethod.R) with the ``qmethod`` flavour:
    correlation -> extraction (PCA via psych::principal, or centroid) -> rotation (varimax or none; for PCA,
    psych's sort-and-sign afterwards) -> flags -> weights and z-scores -> factor arrays -> characteristics ->
    distinguishing/consensus statements.

    Parameters
    ----------
    study : QStudy
    nfactors : int
        Number of factors to extract and keep (qmethod's ``nfactors``).
    flavor : str
        An option preset from :data:`qvalid.FLAVORS`.
    flags : array-like of bool, shape (n_sorts, nfactors), optional
        Manual flags (as qmethod's ``qzscores(..., flagged=)``); replaces automatic flagging.
    **options
        Overrides of :class:`~qvalid.options.Options` fields, e.g. ``extraction="centroid"``, ``threshold=0.42``.

    Examples
    --------
    >>> from qvalid.datasets import load_lipset
    >>> res = analyze(load_lipset(), 3)
    >>> res.flags.sum(axis=0).tolist()
    [3, 3, 3]
    >>> res.warning_codes   # as R qmethod 1.8.4 warns: negative loadings are flagged
    ('negative-loading-flagged',)
    """
    opts = resolve_options(flavor, **options)
    k = _check_nfactors(study, nfactors, opts.extraction)
    warnings: list[QWarning] = []  # codes and their meaning: qvalid.diagnostics.WARNINGS, docs/warnings.md

    r = correlate(study.scores, method=opts.cor_method, digits=opts.cor_digits)
    r, ext = _extract(r, k, opts, study)
    warnings += [as_warning(w) for w in ext.warnings]

    if opts.rotation == "varimax" and k > 1:
        if opts.varimax_normalize and opts.varimax_rule == "stats":  # KADE gives such a sort zero loadings
            _check_communalities(ext.loadings, study)
        rot = _varimax(ext.loadings, opts, study)
        if not rot.converged:
            warnings.append(QWarning("varimax-not-converged",
                                     f"varimax did not converge in {opts.varimax_max_iter} iterations"))
    else:
        rot = no_rotation(ext.loadings)
        if opts.rotation == "varimax" and opts.extraction != "pca":
            warnings.append(QWarning("one-factor-not-rotated",
                                     "one factor: nothing to rotate (qmethod's stats::varimax errors here)"))
    loa = psych_tidy(rot.loadings) if opts.extraction == "pca" and opts.pca_tidy else rot.loadings

    if flags is None:
        flagger = kade_flag if opts.flag_rule == "rounded" else flag
        fl = flagger(loa, study.n_statements, z=opts.flag_z, threshold=opts.threshold, majority=opts.majority)
    else:
        fl = _check_flags(flags, study, k)
    warnings += flag_warnings(loa, fl)
    if (np.abs(loa[fl]) >= 1).any():
        warnings.append(QWarning("flagged-loading-unit",
                                 "a flagged loading is +-1 or beyond: its weight a/(1-a^2) is infinite or negative"))

    w, z, arrays, chars, dc = _factor_scores(study, opts, loa, fl)
    if dc is None and k > 1:
        warnings.append(QWarning("qdc-fewer-than-two-factors",
                                 "fewer than two factors have flagged Q-sorts: no distinguishing/consensus statements"))
    unrot_ev, unrot_pct = explained_variance(ext.loadings)
    return QResult(
        study=study, options=opts, nfactors=k, correlation=r, unrotated_loadings=ext.loadings,
        unrotated_eigenvalues=unrot_ev, unrotated_expl_var=unrot_pct, loadings=loa, rotation_matrix=rot.matrix,
        flags=fl, weights=w, zscores=z, factor_arrays=arrays, characteristics=chars, distinguishing=dc,
        varimax_iterations=int(rot.n_iter), converged=bool(rot.converged), warnings=tuple(warnings),
        manual_flags=flags is not None,
    )


def _extract(r, k: int, opts, study: QStudy):
    """The unrotated factors chosen by ``extraction`` and its rule: ``(r, extraction)``, ``r`` recomputed with R's
    own bits when qmethod's centroid needs them."""
    try:
        if opts.extraction == "pca" and opts.pca_rule == "qpca":
            return r, kade_principal(r, k)
        if opts.extraction == "pca":
            big = study.n_sorts > study.n_statements  # then the small Gram matrix gives the leading eigenpairs
            return r, principal(r, k, unit_columns=unit_columns(study.scores, method=opts.cor_method) if big else None)
        if opts.extraction == "horst55":
            return r, horst55_centroid(r, k, n_statements=study.n_statements, extract=opts.horst_factors,
                                       max_iter=opts.horst_max_iter, tol=opts.horst_tol, autostop=opts.horst_autostop)
        if opts.centroid_rule == "brown":
            return r, brown_centroid(r, k)
        if opts.centroid_ties == "strict" or opts.cor_digits is not None:
            return r, (centroid if opts.centroid_ties == "joint" else centroid_strict)(r, k, spc=opts.spc)
        return centroid_on_r_bits(study.scores, k, cor_method=opts.cor_method, spc=opts.spc, r=r)
    except FloatingPointError as err:
        raise QInputError(str(err), file=study.source) from None


def _varimax(loadings, opts, study: QStudy):
    if opts.varimax_rule == "kaiser":
        return kaiser_varimax(loadings, eps=opts.varimax_eps, max_sweeps=opts.varimax_max_iter)
    try:
        return varimax(loadings, normalize=opts.varimax_normalize, eps=opts.varimax_eps,
                       max_iter=opts.varimax_max_iter)
    except np.linalg.LinAlgError as err:
        raise QInputError(f"varimax failed: {err}", file=study.source) from None


def _factor_scores(study: QStudy, opts, loa, fl):
    """From final loadings and flags: weights, z-scores, factor arrays, characteristics, distinguishing."""
    if opts.scores_rule == "rounded":
        w, z = kade_zscores(study.scores, loa, fl)
    else:
        w = weights(loa, fl)
        z = zscores(study.scores, w)
    arrays = factor_arrays(z, study.qscores, ties=opts.array_ties)
    chars = characteristics(loa, fl, z, av_rel_coef=opts.av_rel_coef, se_rule=opts.se_rule)
    return w, z, arrays, chars, distinguishing(z, chars.sd_dif, labels=opts.qdc_labels, rule=opts.qdc_rule)


def reorder_factors(result: QResult, permutation, signs, *, alignment: dict | None = None) -> QResult:
    """The same solution with its factors reordered and reflected: new factor j is ``signs[j]`` times old factor
    ``permutation[j]``.

    Loadings, the rotation matrix's columns and the flags are permuted (and signed); weights, z-scores, factor
    arrays, characteristics and distinguishing statements are recomputed from them by the steps :func:`analyze`
    uses, so a reflected factor gets exactly negated z-scores and the arrays of those z-scores (with an asymmetric
    grid or ties these are not simply the negated arrays). The unrotated loadings (the extraction's) are kept.
    Reordering is a renaming. Reflecting a factor (PQMethod's and KADE's "reflect") keeps the flags but changes the
    differences z_f - z_g with other factors, so distinguishing and consensus statements are recomputed, not
    renamed.

    ``alignment`` (e.g. the target and congruences, :func:`align_to`) is stored in
    ``result.alignment`` and the JSON diagnostics.
    """
    k = result.nfactors
    perm = [int(p) for p in permutation]
    sg = np.asarray(signs, dtype=np.float64)
    if sorted(perm) != list(range(k)) or sg.shape != (k,) or not np.isin(sg, (-1.0, 1.0)).all():
        raise QInputError(f"reorder_factors: need a permutation of 0..{k - 1} and {k} signs of +-1, got "
                          f"{list(permutation)} and {list(signs)}")
    loa = result.loadings[:, perm] * sg
    fl = result.flags[:, perm]
    w, z, arrays, chars, dc = _factor_scores(result.study, result.options, loa, fl)
    old = flag_warnings(result.loadings, result.flags)
    warnings = tuple(x for x in result.warnings if x not in old) + tuple(flag_warnings(loa, fl))
    info = {"permutation": perm, "signs": [int(x) for x in sg], **(alignment or {})}
    return replace(result, loadings=loa, rotation_matrix=result.rotation_matrix[:, perm] * sg, flags=fl,
                   weights=w, zscores=z, factor_arrays=arrays, characteristics=chars, distinguishing=dc,
                   warnings=warnings, alignment=info)


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


def _check_communalities(loadings, study: QStudy) -> None:
    """Kaiser normalisation divides each row by its length: a sort with no common variance cannot be rotated.

    R's ``stats::varimax`` stops here too ("La.svd(B): infinite or missing values").
    """
    h2 = (loadings * loadings).sum(axis=1)
    if (h2 > 0).all():
        return
    bad = np.flatnonzero(~(h2 > 0))
    if bad.size:
        ids = [study.sort_ids[i] for i in bad]
        raise QInputError(f"zero communality on the {loadings.shape[1]} extracted factors (the sort is uncorrelated "
                          f"with the others there), so varimax's Kaiser normalisation divides by 0"
                          + (f"; also {', '.join(ids[1:])}" if len(ids) > 1 else "")
                          + "; drop the sort, change nfactors or use --rotation none",
                          file=study.source, sort=ids[0])


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
