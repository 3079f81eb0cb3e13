"""What a kernel says besides numbers: a :class:`Note` is its message as a ``str`` with a stable ``code``.

Kernels know nothing of the package; the model turns notes into registered warnings
(:class:`qvalid.diagnostics.QWarning`, a subclass that checks the code against the registry of docs/warnings.md).
"""

from __future__ import annotations

__all__ = ["Note"]


class Note(str):
    """A message (``str``) with a stable :attr:`code`, e.g. ``Note("centroid-residuals-exhausted", "...")``.

    >>> n = Note("horst55-not-converged", "Horst 5.5: the communalities did not converge in 30 rounds")
    >>> n.code, "30 rounds" in n
    ('horst55-not-converged', True)
    """

    code: str

    def __new__(cls, code: str, message: str) -> "Note":
        self = super().__new__(cls, message)
        self.code = code
        return self

    @property
    def message(self) -> str:
        return str.__str__(self)

    def to_dict(self) -> dict:
        """The JSON form: ``{"code": ..., "message": ...}``."""
        return {"code": self.code, "message": self.message}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code!r}, {self.message!r})"

    def __reduce__(self):
        return type(self), (self.code, self.message)
