"""Format stage: black as a library, in parallel, with a cache keyed by the unformatted text.

A regeneration re-formats only the files whose unformatted text changed.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import tempfile
from collections.abc import Callable, Collection, Mapping
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import black
from black.mode import Mode, TargetVersion

from .errors import AccessgenError

MODE = Mode(target_versions={TargetVersion.PY310}, line_length=100)
_BLACK_VERSION = importlib.metadata.version("black")
_PARALLEL_THRESHOLD = 400_000  # characters; below this a process pool costs more than it saves


def cache_dir() -> Path | None:
    configured = os.environ.get("ACCESSGEN_CACHE_DIR")
    if configured == "":
        return None
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "accessgen"


def _key(text: str) -> str:
    digest = hashlib.sha256()
    digest.update(f"black={_BLACK_VERSION};mode={MODE!r}\n".encode())
    digest.update(text.encode("utf-8"))
    return digest.hexdigest()


def format_source(path: str, text: str) -> str:
    try:
        return black.format_str(text, mode=MODE)
    except Exception as exc:  # a template bug, never bad user input: say where
        raise AccessgenError(f"generated {path} is not valid Python ({exc}); this is an accessgen bug") from None


def _format_pair(item: tuple[str, str]) -> str:
    return format_source(*item)


def format_files(
    files: Mapping[str, str],
    only: Collection[str] | None = None,
    *,
    jobs: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[dict[str, str], int]:
    """Run black over the ``.py`` files (those in ``only``, when given); returns the files and
    how many black actually ran on (the rest came from the cache)."""
    cache = cache_dir()
    result = dict(files)
    todo: list[tuple[str, str, str]] = []
    for path, text in files.items():
        if not path.endswith(".py") or (only is not None and path not in only):
            continue
        key = _key(text)
        cached = _read_cache(cache, key)
        if cached is not None:
            result[path] = cached
        else:
            todo.append((path, text, key))
    total = sum(len(text) for _, text, _ in todo)
    workers = jobs if jobs is not None else min(os.cpu_count() or 1, 8)
    if workers > 1 and total > _PARALLEL_THRESHOLD and len(todo) > 1:
        todo.sort(key=lambda item: -len(item[1]))
        with ProcessPoolExecutor(max_workers=workers) as pool:
            formatted = list(pool.map(_format_pair, [(p, t) for p, t, _ in todo]))
    else:
        formatted = []
        for index, (path, text, _) in enumerate(todo):
            formatted.append(format_source(path, text))
            if progress:
                progress(index + 1, len(todo))
    for (path, _, key), text in zip(todo, formatted):
        result[path] = text
        _write_cache(cache, key, text)
    return result, len(todo)


def _read_cache(cache: Path | None, key: str) -> str | None:
    if cache is None:
        return None
    try:
        return (cache / key[:2] / key).read_text(encoding="utf-8")
    except OSError:
        return None


def _write_cache(cache: Path | None, key: str, text: str) -> None:
    if cache is None:
        return
    folder = cache / key[:2]
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, folder / key)
    except OSError:
        pass  # a cache that cannot be written only costs time
