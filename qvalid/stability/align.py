"""Aligning bootstrap replicates to the full-sample solution (the "alignment problem" of factor bootstraps).

All functions work on a batch: replicate loadings ``loa`` and target loadings ``target`` of shape (B, m, k), rows
matched (for a resample of sorts, ``target`` holds the full-sample loadings of the resampled sorts, qmboots'
``subtarget``). Each returns ``(perm, signs, status)``: aligned factor j is ``signs[b, j]`` times replicate
factor ``perm[b, j]``.

- :func:`hungarian`: optimal assignment on |Tucker congruence| (:func:`scipy.optimize.linear_sum_assignment`, as
  :func:`qvalid.core.congruence.align_factors`), sign from the congruence.
- :func:`procrustes_rotation`: after the Hungarian step, the orthogonal rotation closest to the target
  (:func:`scipy.linalg.orthogonal_procrustes`, batched through the SVD).
- :func:`qindtest`: R qmethod's greedy rule (R/qindtest.R), including the steps it rejects.
"""

from __future__ import annotations

from itertools import permutations

import numpy as np

from ..core.congruence import tucker_congruence

__all__ = ["hungarian", "qindtest", "procrustes_rotation", "apply_alignment", "STATUS"]

#: Replicate status codes: ``ok`` needed no alignment, ``aligned`` was permuted and/or sign-flipped,
#: ``rejected`` failed qindtest's order swap (qmboots drops it from its summaries; so does the qindtest mode),
#: ``failed`` could not be analysed (the reason is kept).
STATUS = ("ok", "aligned", "rejected", "failed")

_BRUTE_MAX_K = 6  # up to 6! = 720 assignments are scored at once; beyond, one linear_sum_assignment per replicate


def hungarian(loa, target):
    """Optimal order and sign: maximise the sum of |congruence| over the assignment (Hungarian algorithm).

    For k <= 6 every permutation is scored in one vectorised step (the same optimum as
    ``linear_sum_assignment``; on exact ties the first permutation in lexicographic order wins); for larger k,
    ``scipy.optimize.linear_sum_assignment`` per replicate. Returns ``(perm, signs, status, phi)`` with ``phi`` the
    (B, k, k) congruences of target factor j with replicate factor c.
    """
    phi = tucker_congruence(target, loa)
    a = np.abs(phi)
    b, k = a.shape[0], a.shape[-1]
    if k <= _BRUTE_MAX_K:
        perms = np.array(list(permutations(range(k))), dtype=np.int64)
        score = a[:, np.arange(k)[None, :], perms].sum(axis=-1)  # (B, n_perms)
        perm = perms[np.argmax(score, axis=1)]
    else:
        from scipy.optimize import linear_sum_assignment

        perm = np.empty((b, k), dtype=np.int64)
        for i in range(b):  # scipy's assignment takes one matrix at a time
            rows, cols = linear_sum_assignment(-a[i])
            perm[i] = cols[np.argsort(rows)]
    cong = np.take_along_axis(phi, perm[:, :, None], axis=2)[..., 0]
    signs = np.where(cong < 0, -1, 1)
    status = np.where((perm == np.arange(k)).all(axis=1) & (signs > 0).all(axis=1), "ok", "aligned")
    return perm, signs, status.astype(object), phi


def qindtest(loa, target):
    """R qmethod's ``qindtest`` (R/qindtest.R), vectorised over replicates, decision for decision.

    C = cor(loa, target) (Pearson, over the rows). Order test: replicate factor i fails when another replicate
    factor m has |C[m, i]| > |C[i, i]|. If any fails, each target factor j takes the replicate factor with the
    largest |C[., j]|; if two of the chosen columns correlate beyond 0.999 (the same factor chosen twice) R logs
    "ERROR in ORDER swap", keeps the original order, and qmboots later drops the step (status ``rejected``).
    Sign test on the (re)ordered loadings: factor i is negated when its C[i, i] < 0.
    Returns ``(perm, signs, status)``.
    """
    loa = np.asarray(loa, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64)
    b, _, k = loa.shape
    c = np.abs(_cor(loa, target))
    diag = np.diagonal(c, axis1=1, axis2=2)  # (B, k): |C[i, i]|
    order_fail = (c > diag[:, None, :]).any(axis=1).any(axis=1)
    pick = np.argmax(c, axis=1)  # (B, k): for target j, the replicate factor with max |C[., j]|
    chosen = np.take_along_axis(loa, pick[:, None, :], axis=2)
    c2 = np.abs(_cor(chosen, chosen))
    c2[:, np.arange(k), np.arange(k)] = 0.0
    error = order_fail & (c2.max(axis=(1, 2)) > 0.999)
    ident = np.broadcast_to(np.arange(k), (b, k))
    perm = np.where((order_fail & ~error)[:, None], pick, ident)
    ordered = np.take_along_axis(loa, perm[:, None, :], axis=2)
    flip = np.diagonal(_cor(ordered, target), axis1=1, axis2=2) < 0
    signs = np.where(flip, -1, 1)
    status = np.where(error, "rejected", np.where(order_fail | flip.any(axis=1), "aligned", "ok")).astype(object)
    return perm, signs, status


def procrustes_rotation(loa, target) -> np.ndarray:
    """Orthogonal T minimising ||loa T - target|| (Schönemann 1966; scipy.linalg.orthogonal_procrustes), per item.

    T = U V' from the SVD loa' target = U S V'. Returns (B, k, k).
    """
    u, _, vt = np.linalg.svd(np.swapaxes(loa, -1, -2) @ target)
    return u @ vt


def apply_alignment(x, perm, signs=None):
    """Columns of ``x`` (B, n, k) in the aligned order (and signs): x[b][:, perm[b]] * signs[b]."""
    out = np.take_along_axis(x, perm[:, None, :], axis=2)
    return out if signs is None else out * signs[:, None, :]


def _cor(x, y) -> np.ndarray:
    """R's ``cor(x, y)`` per item: Pearson correlation of the columns of x with those of y, (B, kx, ky)."""
    xc = x - x.mean(axis=1, keepdims=True)
    yc = y - y.mean(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return tucker_congruence(xc, yc)
