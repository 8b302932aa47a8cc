"""Settings from ``[tool.accessgen]`` in pyproject.toml; command-line flags override them.

    [tool.accessgen]
    specs = ["specs/banking.yaml", { path = "specs/payments.yaml", name = "payments" }]
    output = "clients/bank"
    package-name = "bank"
    package-version = "1.4.0"      # default: info.version of the (first) spec, as PEP 440
    strict = false
    allow-skip = false
    templates = "accessgen-templates"
    ref-root = ".."                # the folder $refs may not leave (default: the enclosing repository)
    max-file-size = "64MiB"        # the largest file a spec may read
    lock-timeout = 60              # seconds to wait for another run writing the same output
    version-from = "bump"          # "spec" (info.version, the default) or "bump" (semver from the changes)
    changelog = "CHANGELOG.md"     # prepend an entry on each release; relative to the output

Relative paths are relative to the pyproject.toml that holds them, except ``changelog``,
which is relative to the output (it belongs to the generated project).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import InputError, excerpt
from .files import DEFAULT_MAX_FILE_SIZE, UnreadableFile, parse_size, read_regular_file

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib


@dataclass(frozen=True)
class Settings:
    specs: tuple[Path, ...] = ()
    subpackage_names: tuple[str, ...] = ()
    output: Path | None = None
    package_name: str | None = None
    package_version: str | None = None
    strict: bool = False
    allow_skip: bool = False
    templates: Path | None = None
    ref_root: Path | None = None
    max_file_size: int = DEFAULT_MAX_FILE_SIZE
    lock_timeout: float | None = None
    version_from: str | None = None
    changelog: str | None = None
    source: Path | None = field(default=None, compare=False)


_KEYS = {
    "specs", "output", "package-name", "package-version", "strict", "allow-skip", "templates",
    "ref-root", "max-file-size", "lock-timeout", "version-from", "changelog",
}
VERSION_POLICIES = ("spec", "bump")


def find_pyproject(start: Path) -> Path | None:
    for folder in (start, *start.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def load_settings(pyproject: Path | None) -> Settings:
    """The ``[tool.accessgen]`` table of ``pyproject`` (empty settings when there is none)."""
    if pyproject is None:
        return Settings()
    try:
        data = tomllib.loads(read_regular_file(pyproject, 16 * 1024 * 1024).decode("utf-8"))
    except UnreadableFile as exc:
        raise InputError(f"{pyproject}: cannot read settings: {exc.reason}") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"{pyproject}: cannot read settings: not UTF-8 text (byte {exc.start})") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{pyproject}: invalid TOML ({exc})") from None
    table = data.get("tool", {}).get("accessgen")
    if table is None:
        return Settings()
    if not isinstance(table, dict):
        raise InputError(f"{pyproject}: [tool.accessgen] must be a table")
    unknown = sorted(set(table) - _KEYS)
    if unknown:
        raise InputError(f"{pyproject}: unknown [tool.accessgen] setting(s) {', '.join(unknown)}; known: {', '.join(sorted(_KEYS))}")
    base = pyproject.parent
    specs, names = _specs(table.get("specs", []), base, pyproject)
    return Settings(
        specs=specs,
        subpackage_names=names,
        output=base / _string(table, "output", pyproject) if "output" in table else None,
        package_name=_string(table, "package-name", pyproject) if "package-name" in table else None,
        package_version=_string(table, "package-version", pyproject) if "package-version" in table else None,
        strict=_bool(table, "strict", pyproject),
        allow_skip=_bool(table, "allow-skip", pyproject),
        templates=base / _string(table, "templates", pyproject) if "templates" in table else None,
        ref_root=base / _string(table, "ref-root", pyproject) if "ref-root" in table else None,
        max_file_size=_size(table, "max-file-size", pyproject),
        lock_timeout=_seconds(table, "lock-timeout", pyproject),
        version_from=_choice(table, "version-from", VERSION_POLICIES, pyproject),
        changelog=_string(table, "changelog", pyproject) if "changelog" in table else None,
        source=pyproject,
    )


def _choice(table: dict[str, Any], key: str, choices: tuple[str, ...], pyproject: Path) -> str | None:
    if key not in table:
        return None
    value = table[key]
    if value not in choices:
        raise InputError(f"{pyproject}: [tool.accessgen] {key} must be one of {', '.join(repr(c) for c in choices)}")
    return str(value)


def _specs(raw: Any, base: Path, pyproject: Path) -> tuple[tuple[Path, ...], tuple[str, ...]]:
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list):
        raise InputError(f"{pyproject}: [tool.accessgen] specs must be a list of paths or {{ path, name }} tables")
    paths: list[Path] = []
    names: list[str] = []
    for entry in raw:
        if isinstance(entry, str):
            paths.append(base / entry)
            names.append("")
        elif isinstance(entry, dict) and isinstance(entry.get("path"), str):
            paths.append(base / entry["path"])
            names.append(str(entry.get("name", "")))
        else:
            raise InputError(f"{pyproject}: [tool.accessgen] specs entry {excerpt(entry)} is neither a path nor a {{ path, name }} table")
    return tuple(paths), tuple(names)


def _string(table: dict[str, Any], key: str, pyproject: Path) -> str:
    value = table[key]
    if not isinstance(value, str) or not value:
        raise InputError(f"{pyproject}: [tool.accessgen] {key} must be a non-empty string")
    return value


def _bool(table: dict[str, Any], key: str, pyproject: Path) -> bool:
    value = table.get(key, False)
    if not isinstance(value, bool):
        raise InputError(f"{pyproject}: [tool.accessgen] {key} must be true or false")
    return value


def _size(table: dict[str, Any], key: str, pyproject: Path) -> int:
    if key not in table:
        return DEFAULT_MAX_FILE_SIZE
    try:
        return parse_size(table[key])
    except ValueError as exc:
        raise InputError(f"{pyproject}: [tool.accessgen] {key}: {exc}") from None


def _seconds(table: dict[str, Any], key: str, pyproject: Path) -> float | None:
    if key not in table:
        return None
    value = table[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise InputError(f"{pyproject}: [tool.accessgen] {key} must be a number of seconds, 0 or more")
    return float(value)
