"""Judgmental ("by hand") rotation as data: pairs of factors turned by an angle, step after step.

Convention (KADE / Ken-Q Analysis, which port PQMethod's hand rotation): a step (a, b, theta) rotates the plane of
factors a and b, with the lower-numbered factor on the horizontal axis and the higher-numbered one on the vertical
axis of the loadings plot, by theta degrees **clockwise** (the direction of KADE's clockwise button, whose degrees
KADE adds to the rotation it records as "Factor a and Factor b rotation theta degrees"; counter-clockwise clicks
subtract). In loadings, with x the lower and y the higher factor's column:

    x' = x cos(theta) + y sin(theta)
    y' = -x sin(theta) + y cos(theta)

(KADE ``Rotation/JudgementalRotation/rotationLogic/clockwiseRotation.js``; counter-clockwise:
``counterClockwiseRotation.js``, the same with -theta). The order in which the two factors are named does not
matter (KADE takes ``Math.min``/``Math.max`` of the selected pair). As a matrix, loadings' = loadings @ G with G the
identity except G[x, x] = G[y, y] = cos, G[y, x] = sin, G[x, y] = -sin.

KADE rounds the two rotated columns to 5 decimals (its ``evenRound``, :func:`qvalid.core.rounding.kround`) after
every click; ``kade_round=True``
reproduces that, taking each step as one click of its whole angle (KADE's sine and cosine of
``degrees * (Math.PI / 180)``, its order of operations). A step that KADE's user made of several clicks is rounded
once per click there: the results then differ by up to ~5e-6 per extra click.

Factor numbers in this module are 0-based (factor 1 is 0).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .rounding import kround

__all__ = ["PairStep", "pair_matrix", "steps_matrix", "apply_steps", "invert_steps"]


@dataclass(frozen=True)
class PairStep:
    """One judgmental rotation step: factors ``a`` and ``b`` (0-based, given in any order, stored lower first)
    turned ``degrees`` clockwise in the plot with the lower-numbered factor on the horizontal axis (negative:
    counter-clockwise)."""

    a: int
    b: int
    degrees: float

    def __post_init__(self):
        if self.a == self.b:
            raise ValueError(f"a rotation step needs two different factors (got factor {self.a + 1} twice)")
        if min(self.a, self.b) < 0:
            raise ValueError("factor numbers must be >= 0 (0-based)")
        if not np.isfinite(self.degrees):
            raise ValueError(f"rotation angle must be a finite number of degrees, got {self.degrees}")
        if self.a > self.b:  # the same step (KADE takes the smaller factor as the horizontal axis)
            a, b = self.b, self.a
            object.__setattr__(self, "a", a)
            object.__setattr__(self, "b", b)

    @property
    def pair(self) -> tuple[int, int]:
        """(lower, higher) factor: the horizontal and the vertical axis."""
        return (min(self.a, self.b), max(self.a, self.b))

    def inverse(self) -> "PairStep":
        return PairStep(self.a, self.b, -self.degrees)


def _sin_cos(degrees: float) -> tuple[float, float]:
    rad = degrees * (np.pi / 180)  # KADE calcSinDegrees / calcCosDegrees: Math.sin(num * (Math.PI / 180))
    return float(np.sin(rad)), float(np.cos(rad))


def pair_matrix(k: int, step: PairStep) -> np.ndarray:
    """The (k, k) matrix G of one step: ``loadings @ G`` is the rotated loadings."""
    x, y = step.pair
    if y >= k:
        raise ValueError(f"rotation step names factor {y + 1}, but there are only {k} factors")
    s, c = _sin_cos(step.degrees)
    g = np.eye(k)
    g[x, x] = g[y, y] = c
    g[y, x] = s
    g[x, y] = -s
    return g


def steps_matrix(k: int, steps) -> np.ndarray:
    """T = G_1 G_2 ... G_m: the whole rotation of a list of steps (``loadings @ T``)."""
    t = np.eye(k)
    for st in steps:
        t = t @ pair_matrix(k, st)
    return t


def apply_steps(loadings, steps, *, kade_round: bool = False):
    """Apply judgmental rotation steps in order.

    Parameters
    ----------
    loadings : array-like of shape (..., n_sorts, k)
    steps : iterable of PairStep
    kade_round : bool
        Round the two rotated columns to 5 decimals after each step with KADE's arithmetic (the kade flavour).

    Returns
    -------
    (loadings, T) : (ndarray of shape (..., n_sorts, k), ndarray of shape (k, k))
        ``T`` is the exact product of the steps (with rounding the loadings are only approximately
        ``start @ T``).

    Notes
    -----
    Verified against: Ken-Q Analysis's unit tests of ``clockwiseRotation`` and ``counterClockwiseRotation``
    (9 sorts, 10 degrees, 5-dp results), tests/test_rotations.py.
    """
    a = np.array(loadings, dtype=np.float64)
    k = a.shape[-1]
    steps = list(steps)
    for st in steps:
        x, y = st.pair
        if y >= k:
            raise ValueError(f"rotation step names factor {y + 1}, but there are only {k} factors")
        ax, ay = a[..., x].copy(), a[..., y].copy()
        if kade_round:
            s, c = _sin_cos(abs(st.degrees))
            if st.degrees >= 0:  # clockwiseRotation.js
                nx = kround(ay * s + ax * c, 5)
                ny = kround(-(ax * s - ay * c), 5)
            else:  # counterClockwiseRotation.js
                nx = kround(-(ay * s - ax * c), 5)
                ny = kround(ax * s + ay * c, 5)
        else:
            s, c = _sin_cos(st.degrees)
            nx = ax * c + ay * s
            ny = -ax * s + ay * c
        a[..., x], a[..., y] = nx, ny
    return a, steps_matrix(k, steps)


def invert_steps(steps) -> list:
    """The steps that undo ``steps``: reversed, each angle negated."""
    return [st.inverse() for st in reversed(list(steps))]
