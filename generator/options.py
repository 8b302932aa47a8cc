"""Options of a generation (a light module: the CLI reads it before deciding to load anything)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .files import DEFAULT_MAX_FILE_SIZE


@dataclass(frozen=True)
class GenerateOptions:
    package_name: str | None = None
    strict: bool = False
    allow_skip: bool = False
    templates: Path | None = None
    package_version: str | None = None
    subpackage_names: tuple[str, ...] = ()
    format_all: bool = False  # run black over every generated module, not only where layout cannot promise its style
    ref_root: Path | None = None  # None: the repository enclosing the specs, else their folder
    max_file_size: int = DEFAULT_MAX_FILE_SIZE  # bytes, for each file a spec reads
