"""Format stage: black as a library, in parallel, with a cache keyed by the unformatted text.

Black runs only on the modules ``layout`` cannot promise are in its style (or on every
module with ``--format``), so it is imported only when it has work; a regeneration
re-formats only the files whose unformatted text changed. ``LayoutCache`` keeps the render
stage's laid-out modules the same way, so a regeneration lays out only what changed.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import multiprocessing
import os
import signal
import sys
import tempfile
import threading
from collections.abc import Callable, Collection, Iterator, Mapping
from pathlib import Path

from typing import TYPE_CHECKING

from .errors import InternalError
from .files import process_exists

if TYPE_CHECKING:  # black loads when there is something to format
    from black.mode import Mode
# Characters of unformatted text below which a process pool costs more than it saves;
# ACCESSGEN_PARALLEL_THRESHOLD overrides it (0 always uses the pool when there are 2+ files).
_PARALLEL_THRESHOLD = 400_000
_PR_SET_PDEATHSIG = 1


def cache_dir() -> Path | None:
    configured = os.environ.get("ACCESSGEN_CACHE_DIR")
    if configured == "":
        return None
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "accessgen"


def _key(text: str, mode: Mode) -> str:
    digest = hashlib.sha256()
    digest.update(f"black={importlib.metadata.version('black')};mode={mode!r}\n".encode())
    digest.update(text.encode("utf-8"))
    return digest.hexdigest()


def mode_for(path: str) -> Mode:
    """Black's mode for a generated file (line length 100, Python 3.10); stubs (``.pyi``) have
    rules of their own."""
    from black.mode import Mode, TargetVersion

    return Mode(target_versions={TargetVersion.PY310}, line_length=100, is_pyi=path.endswith(".pyi"))


def format_source(path: str, text: str) -> str:
    import black

    try:
        return black.format_str(text, mode=mode_for(path))
    except Exception as exc:  # a template bug, never bad user input: say where
        reason = str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__
        raise InternalError(f"generated {path} is not valid Python ({reason}); this is an accessgen bug") from None


def _format_pair(item: tuple[str, str]) -> str:
    return format_source(*item)


def parallel_threshold() -> int:
    configured = os.environ.get("ACCESSGEN_PARALLEL_THRESHOLD", "")
    return int(configured) if configured.isdigit() else _PARALLEL_THRESHOLD


def _worker_init(parent_pid: int) -> None:
    """Make a pool worker die with the generator and leave Ctrl-C to it.

    A terminal's Ctrl-C reaches the whole process group: the workers ignore it and the
    parent, which alone reports it, terminates them. If the parent is killed outright,
    Linux's parent-death signal ends the workers at once; elsewhere (and as a second
    line on Linux) a watchdog thread notices the parent is gone.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass
    if not _alive(parent_pid):  # died before the death signal was armed
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(parent_pid,), name="accessgen-parent-watch", daemon=True).start()


def _alive(pid: int) -> bool:
    return os.getppid() != 1 and process_exists(pid)


def _watch_parent(parent_pid: int) -> None:
    stop = threading.Event()
    while not stop.wait(0.5):
        if not _alive(parent_pid):
            os._exit(1)


def _format_in_pool(todo: list[tuple[str, str]], workers: int) -> Iterator[str]:
    """black over ``todo`` in a process pool, in order; Ctrl-C and errors end every worker."""
    blockable = hasattr(signal, "pthread_sigmask")
    if blockable:  # workers are forked with SIGINT blocked until they have ignored it
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        pool = multiprocessing.get_context().Pool(workers, initializer=_worker_init, initargs=(os.getpid(),))
    finally:
        if blockable:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    try:
        yield from pool.imap(_format_pair, todo, chunksize=1)
        pool.close()
        pool.join()
    finally:
        pool.terminate()  # a no-op after close/join; otherwise ends the workers now


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
        if not path.endswith((".py", ".pyi")) or (only is not None and path not in only):
            continue
        key = _key(text, mode_for(path))
        cached = _read_cache(cache, key)
        if cached is not None:
            result[path] = cached
        else:
            todo.append((path, text, key))
    total = sum(len(text) for _, text, _ in todo)
    workers = min(jobs if jobs is not None else min(os.cpu_count() or 1, 8), len(todo))
    if workers > 1 and total > parallel_threshold():
        todo.sort(key=lambda item: -len(item[1]))
        results: Iterator[str] = _format_in_pool([(p, t) for p, t, _ in todo], workers)
    else:
        results = (format_source(path, text) for path, text, _ in todo)
    formatted = []
    for text in results:
        formatted.append(text)
        if progress:
            progress(len(formatted), len(todo))
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
    if cache is not None:
        write_cache_file(cache / key[:2] / key, text)


def write_cache_file(path: Path, text: str) -> None:
    """``text`` in the cache file ``path``, replaced whole so a concurrent reader never sees
    part of it; a cache that cannot be written only costs time, so failures are ignored."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent)
    except OSError:
        return
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass


class LayoutCache:
    """The laid-out modules of one package's previous generation, by the digest of their
    rendered text, in one file per package (writing a file per module costs more than laying
    most modules out). ``version`` names the layout that made them: another one starts afresh."""

    def __init__(self, path: Path | None, version: str) -> None:
        self._path = path
        self._version = version
        self._previous = self._load()
        self._current: dict[str, str] = {}

    def _load(self) -> dict[str, str]:
        if self._path is None:
            return {}
        try:
            data = json.loads(self._path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        modules = data.get("modules") if isinstance(data, dict) and data.get("version") == self._version else None
        return modules if isinstance(modules, dict) else {}

    def lay_out(self, text: str, lay_out_module: Callable[[str], str]) -> str:
        """``lay_out_module(text)``, or what it gave for the same text last time."""
        key = hashlib.sha256(text.encode("utf-8")).hexdigest()
        laid_out = self._previous.get(key)
        if not isinstance(laid_out, str):
            laid_out = lay_out_module(text)
        self._current[key] = laid_out
        return laid_out

    def save(self) -> None:
        """Keep this generation's modules (only those) for the next one."""
        if self._path is not None and self._current != self._previous:
            write_cache_file(self._path, json.dumps({"version": self._version, "modules": self._current}))
