"""The one exception type for bad input.

Every problem with a user's study (file, grid, sorts, options) raises :class:`QInputError`, a
``ValueError`` subclass whose message names where the problem is: the file, the line, the sort id and the
statement id, whichever apply. The CLI prints ``str(err)`` as one line on stderr and exits with code 2.
"""

from __future__ import annotations

__all__ = ["QInputError"]


#: Longest id an error message shows in full.
ID_WIDTH = 80


def _shown_id(x) -> str:
    s = str(x)
    if not s.isprintable():  # line breaks, tabs, NUL, bidirectional controls: shown escaped
        s = repr(s)
    return s if len(s) <= ID_WIDTH else s[:ID_WIDTH - 3] + "..."


class QInputError(ValueError):
    """Invalid Q-study input.

    Parameters
    ----------
    message : str
        What is wrong, in one line.
    file, line, sort, statement : optional
        Where it is. They are prefixed to the message as ``file:line: sort X, statement Y: message``
        and kept as attributes for programs.
    """

    def __init__(self, message: str, *, file=None, line=None, sort=None, statement=None):
        self.reason = message
        self.file = None if file is None else str(file)
        self.line = line
        self.sort = sort
        self.statement = statement
        super().__init__(self._render())

    def _render(self) -> str:
        """One line, whatever the ids hold: line breaks are shown as ``\\n``, an id with control characters (or
        bidirectional controls) is quoted with them escaped, a very long id is cut."""
        where = []
        if self.file is not None:
            where.append(self.file if self.line is None else f"{self.file}:{self.line}")
        elif self.line is not None:
            where.append(f"line {self.line}")
        what = []
        if self.sort is not None:
            what.append(f"sort {_shown_id(self.sort)}")
        if self.statement is not None:
            what.append(f"statement {_shown_id(self.statement)}")
        prefix = ": ".join(p for p in (" ".join(where), ", ".join(what)) if p)
        text = f"{prefix}: {self.reason}" if prefix else self.reason
        return text.replace("\r", "\\r").replace("\n", "\\n")

    def located(self, *, file=None, line=None) -> "QInputError":
        """The same error with a file (and line) filled in where it was missing."""
        return QInputError(
            self.reason,
            file=self.file if self.file is not None else file,
            line=self.line if self.line is not None else line,
            sort=self.sort,
            statement=self.statement,
        )
