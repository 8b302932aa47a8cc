"""Errors and diagnostics reported to the user.

Every failure the generator expects is an ``AccessgenError``; the CLI prints its
text and exits non-zero, so users never see a traceback for bad input.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class SourceLocation:
    file: str
    pointer: str = ""
    line: int | None = None

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where} at {self.pointer or '#'}"


@dataclass(frozen=True)
class Diagnostic:
    message: str
    location: SourceLocation | None = None
    severity: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        prefix = f"{self.location}: " if self.location else ""
        return f"{prefix}{self.severity}: {self.message}"


def excerpt(value: object, limit: int = 40) -> str:
    """A short, escaped rendering of a spec value for a message: never more than ``limit`` characters of it."""
    text = value if isinstance(value, str) else repr(value)
    shown = repr(text[:limit]) if isinstance(value, str) else text[:limit].encode("unicode_escape").decode("ascii")
    return shown + ("..." if len(text) > limit else "")


class AccessgenError(Exception):
    """A failure explained to the user in one paragraph, without a traceback."""


class SpecError(AccessgenError):
    """The specification cannot be used; carries one diagnostic per problem."""

    def __init__(self, diagnostics: list[Diagnostic] | Diagnostic) -> None:
        self.diagnostics = [diagnostics] if isinstance(diagnostics, Diagnostic) else diagnostics
        super().__init__("\n".join(str(d) for d in self.diagnostics))


class OutputError(AccessgenError):
    """The output location cannot be written as asked."""
