"""The exceptions of `automata`: every one is a ValueError that names what is wrong and where."""

from __future__ import annotations


class AutomatonError(ValueError):
    """Base class: an automaton, a file describing one, or an input to an algorithm is invalid.

    ``state`` names the state at fault when there is one, so a loader can point at its line.
    """

    def __init__(self, message: str, *, state: str | None = None) -> None:
        self.state = state
        super().__init__(message)


class FormatError(AutomatonError):
    """A file or mapping describing an automaton is malformed.

    The message reads ``FILE:LINE:COL: field.path: what is wrong (got X, expected Y)``; the parts
    are also kept as attributes.
    """

    def __init__(
        self,
        problem: str,
        *,
        field: str = "",
        file: str = "<string>",
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        self.problem, self.field, self.file = problem, field, file
        self.line, self.column = line, column
        where = file if line is None else f"{file}:{line}:{column}"
        super().__init__(f"{where}: {field + ': ' if field else ''}{problem}")
        self.state = None


class UnknownSymbolError(AutomatonError):
    """A string contains a symbol that is not in the automaton's alphabet."""


class ImpossiblePrefixError(AutomatonError):
    """A prefix has probability 0, so no distribution after it exists."""


class SizeLimitError(AutomatonError):
    """An operation would build a structure larger than the stated limit."""


class TimeLimitError(AutomatonError):
    """An operation did not finish within its stated time limit."""
