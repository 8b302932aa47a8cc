"""Errors and diagnostics reported to the user.

Every failure the generator expects is an ``AccessgenError``; the CLI prints its text
and exits with the status its class stands for (see ``EXIT_*`` and ``exit_status``),
so users never see a traceback for bad input.
"""

from __future__ import annotations

import reprlib
from dataclasses import dataclass
from typing import Literal

# Exit statuses of the command line (README, "Exit status").
EXIT_OK = 0
EXIT_GATE = 1  # diff found a breaking change; generate --check found OUT out of date
EXIT_USAGE = 2
EXIT_INPUT = 3  # a spec, settings file or template cannot be read, parsed or validated
EXIT_OUTPUT = 4  # OUT cannot be written, is locked, or a user file is in the way
EXIT_INTERNAL = 5
EXIT_INTERRUPTED = 130

EXCERPT_LENGTH = 60


class _ShortRepr(reprlib.Repr):
    def repr_int(self, x: int, level: int) -> str:
        if x.bit_length() > 128:  # repr() of a 5,000-digit integer raises ValueError
            return f"<an integer of about {x.bit_length() * 30103 // 100000 + 1:,} digits>"
        return super().repr_int(x, level)


_SHORT = _ShortRepr()
_SHORT.maxstring = EXCERPT_LENGTH
_SHORT.maxother = EXCERPT_LENGTH
_SHORT.maxlong = 40
_SHORT.maxlist = _SHORT.maxtuple = _SHORT.maxdict = _SHORT.maxset = 4
_SHORT.maxlevel = 2


def excerpt(value: object) -> str:
    """A short, escaped excerpt of a spec value for a message: never its whole text.

    Strings are shown as a Python literal (quotes, control characters, surrogates and
    bidirectional overrides escaped) cut to about 60 characters; containers show a few
    items. A message built with it cannot forge a line on a terminal.
    """
    shown = _SHORT.repr(value)
    return shown if len(shown) <= 2 * EXCERPT_LENGTH else shown[: 2 * EXCERPT_LENGTH - 3] + "..."


def bounded(text: str, limit: int = 500) -> str:
    """``text`` with non-printable characters escaped and the middle cut beyond ``limit``."""
    shown = "".join(
        (
            c
            if c.isprintable() or c == " "
            else c.encode("unicode_escape", "backslashreplace").decode("ascii")
        )
        for c in text
    )
    if len(shown) <= limit:
        return shown
    keep = limit // 2
    return f"{shown[:keep]} ...[{len(shown) - 2 * keep} characters]... {shown[-keep:]}"


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

    def shown(self) -> str:
        """One line for a terminal: every part escaped and bounded (pointers can hold spec keys)."""
        prefix = ""
        if self.location is not None:
            where = self.location
            prefix = f"{bounded(str(where.file), 300)}{'' if where.line is None else f':{where.line}'} at {bounded(where.pointer or '#', 200)}: "
        return f"{prefix}{self.severity}: {bounded(self.message)}"


class AccessgenError(Exception):
    """A failure explained to the user in one paragraph, without a traceback."""

    exit_status = EXIT_INPUT


class SpecError(AccessgenError):
    """The specification cannot be used; carries one diagnostic per problem."""

    def __init__(self, diagnostics: list[Diagnostic] | Diagnostic) -> None:
        self.diagnostics = [diagnostics] if isinstance(diagnostics, Diagnostic) else diagnostics
        super().__init__("\n".join(str(d) for d in self.diagnostics))


class InputError(AccessgenError):
    """Input other than a spec (settings, templates) cannot be used."""


class OutputError(AccessgenError):
    """The output location cannot be written as asked (or another run holds it)."""

    exit_status = EXIT_OUTPUT


class InternalError(AccessgenError):
    """A bug in accessgen, caught where it shows (the message says so)."""

    exit_status = EXIT_INTERNAL
