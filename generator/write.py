"""Write stage: build the new tree beside the output, then swap it in.

A manifest records the files accessgen generated, so the next run deletes the stale ones
and carries every other entry over unchanged (a user's ``custom.py``, a symbolic link to a
folder of theirs: hard-linked into the new tree, so they keep their inode, mode and
times). A run that fails before the swap leaves the previous output exactly as it was.
The manifest also keeps the release record of ``release.py`` (the version written and the
API surface of each spec), one JSON line per operation and model so that it diffs well;
user files a run updates (a changelog) are written into the new tree, swapped in with it.

Beside OUT live, for the length of a run, a staging folder
``.OUT.accessgen-new-<pid>-<start>-*`` (and, where the two folders cannot be exchanged
atomically, ``.OUT.accessgen-old-<pid>-<start>-*``), plus a lock file
``.OUT.accessgen-lock`` that stays. ``<pid>`` and ``<start>`` (the process's start time)
name the run that owns a staging folder: a later run removes those whose owner is no
longer running (a run that was killed), and restores OUT from an ``-old-`` folder if
the kill came between the two renames of a swap.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import shutil
import signal
import stat
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import OutputError
from .files import UnreadableFile, process_exists, read_regular_file

MANIFEST = ".accessgen-manifest.json"
DEFAULT_LOCK_TIMEOUT = 60.0  # seconds a run waits for another one writing the same OUT
_STEM_LENGTH = 100  # of OUT's name in the names beside it, which must stay under NAME_MAX
_STAGING = re.compile(r"\.accessgen-(?P<kind>new|old)-(?:(?P<pid>\d+)-(?P<start>\d+)-)?[^/]*$")
_LEGACY_STALE_SECONDS = 3600.0  # staging folders of versions that did not name their owner


@dataclass(frozen=True)
class Changes:
    added: tuple[str, ...]
    changed: tuple[str, ...]
    removed: tuple[str, ...]

    @property
    def any(self) -> bool:
        return bool(self.added or self.changed or self.removed)

    def summary(self) -> str:
        lines: list[str] = []
        for label, paths in (
            ("added", self.added),
            ("changed", self.changed),
            ("removed", self.removed),
        ):
            lines.extend(f"  {label}: {p}" for p in paths)
        return "\n".join(lines)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Provenance:
    """What the output was generated from (see ``fingerprint``)."""

    specs: tuple[str, ...] = ()
    inputs: tuple[str, ...] = ()
    fingerprint: str | None = None
    release: Mapping[str, Any] | None = None  # release.Release.record()


_RECORD_LISTS = ("operations", "models")  # lists of the release record written one item a line


def manifest_text(
    files: dict[str, str], generator: str, provenance: Provenance = Provenance()
) -> str:
    payload: dict[str, object] = {
        "generator": generator,
        "files": {path: _digest(files[path]) for path in sorted(files)},
    }
    if provenance.fingerprint is not None:
        payload.update(
            specs=list(provenance.specs),
            inputs=sorted(provenance.inputs),
            fingerprint=provenance.fingerprint,
        )
    if provenance.release is not None:
        payload["release"] = provenance.release
    return _json(payload, 0) + "\n"


def _json(value: Any, level: int, one_item_a_line: bool = False) -> str:
    """``json.dumps(value, indent=2, sort_keys=True)``, but each item of an ``operations`` or
    ``models`` list on one line, so that a changed operation is a changed line."""
    inner = "  " * (level + 1)
    if isinstance(value, Mapping) and value:
        items = [
            f"{inner}{json.dumps(key)}: {_json(item, level + 1, key in _RECORD_LISTS)}"
            for key, item in sorted(value.items())
        ]
        return "{\n" + ",\n".join(items) + "\n" + "  " * level + "}"
    if isinstance(value, list) and value:
        if one_item_a_line:  # each record's keys in the order written
            items = [json.dumps(item, separators=(", ", ": ")) for item in value]
        else:
            items = [_json(item, level + 1) for item in value]
        return "[\n" + ",\n".join(inner + item for item in items) + "\n" + "  " * level + "]"
    return json.dumps(value)


def read_manifest(out: Path) -> set[str] | None:
    data = _manifest(out)
    if data is None:
        return None
    return {str(p) for p in data["files"]}


def read_release_record(out: Path) -> tuple[bool, Any]:
    """(whether ``out`` has a manifest, the release record it keeps or None)."""
    out = _output_path(out)
    data = _manifest(out) if out.is_dir() else None
    return data is not None, (data or {}).get("release")


def _manifest(out: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(read_regular_file(out / MANIFEST).decode("utf-8"))
    except UnreadableFile as exc:
        if exc.missing:
            return None
        raise OutputError(
            f"{out / MANIFEST} cannot be read ({exc.reason}); delete it to start afresh"
        ) from None
    except ValueError as exc:
        raise OutputError(
            f"{out / MANIFEST} cannot be read ({exc}); delete it to start afresh"
        ) from None
    files = data.get("files") if isinstance(data, dict) else None
    if not isinstance(files, dict):
        raise OutputError(
            f"{out / MANIFEST} is not an accessgen manifest; delete it to start afresh"
        )
    manifest: dict[str, Any] = data
    return manifest


def _output_path(out: Path) -> Path:
    """``out`` made absolute; a symbolic link to a folder is followed (the folder is the output)."""
    out = out.absolute()
    if out.is_symlink():
        if not out.is_dir():
            raise OutputError(
                f"output path {out} is a symbolic link to something that is not a directory"
            )
        return Path(os.path.realpath(out))
    return out


def _check_target(out: Path) -> None:
    if os.path.lexists(out) and not out.is_dir():
        raise OutputError(f"output path {out} exists and is not a directory")
    parent = out.parent
    for ancestor in (parent, *parent.parents):
        if os.path.lexists(ancestor):
            if not ancestor.is_dir():
                raise OutputError(
                    f"cannot create output {out}: {ancestor} is a file, not a directory"
                )
            break
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create {parent}: {exc.strerror or exc}") from None
    if not os.access(parent, os.W_OK):
        raise OutputError(f"cannot write in {parent}: permission denied")


def _read_text(path: Path) -> str | None:
    """The text of a regular file, ``None`` when there is none; anything else reads as changed."""
    try:
        return read_regular_file(path).decode("utf-8")
    except UnreadableFile as exc:
        return None if exc.missing else "\x00unreadable"
    except UnicodeDecodeError:
        return "\x00unreadable"


def diff_output(out: Path, files: dict[str, str]) -> Changes:
    """What writing ``files`` to ``out`` would add, change and remove."""
    out = _output_path(out)
    if os.path.lexists(out) and not out.is_dir():
        raise OutputError(f"output path {out} exists and is not a directory")
    previous = (read_manifest(out) if out.is_dir() else None) or set()
    added, changed = [], []
    for path in sorted(files):
        current = _read_text(out / path)
        if current is None:
            added.append(path)
        elif current != files[path]:
            changed.append(path)
    removed = sorted(
        p for p in previous if p not in files and p != MANIFEST and os.path.lexists(out / p)
    )
    return Changes(tuple(added), tuple(changed), tuple(removed))


# ---------------------------------------------------------------- what is in OUT


@dataclass(frozen=True)
class _Tree:
    directories: tuple[str, ...]  # real folders, parents first
    entries: tuple[str, ...]  # everything else: files, symbolic links (to folders too), FIFOs...


def _scan(out: Path) -> _Tree:
    if not out.is_dir():
        return _Tree((), ())
    directories: list[str] = []
    entries: list[str] = []
    for root, dirs, names in os.walk(out):
        keep = []
        for name in sorted(dirs):
            path = os.path.join(root, name)
            if os.path.islink(path):
                entries.append(Path(path).relative_to(out).as_posix())  # never walked into
            elif name != "__pycache__":
                keep.append(name)
                directories.append(Path(path).relative_to(out).as_posix())
        dirs[:] = keep
        entries.extend(Path(root, name).relative_to(out).as_posix() for name in names)
    return _Tree(tuple(directories), tuple(sorted(entries)))


def _parents(paths: set[str]) -> set[str]:
    found: set[str] = set()
    for path in paths:
        parts = path.split("/")
        found.update("/".join(parts[:i]) for i in range(1, len(parts)))
    return found


def _shown(paths: list[str]) -> str:
    return ", ".join(paths[:5]) + (f" and {len(paths) - 5} more" if len(paths) > 5 else "")


def _user_entries(out: Path, tree: _Tree, files: dict[str, str], ours: set[str]) -> list[str]:
    """The entries to carry into the new tree; an error when one is where accessgen writes."""
    generated = set(files) | {MANIFEST}
    generated_dirs = _parents(generated)
    user = [e for e in tree.entries if e not in ours and e != MANIFEST]
    clobbered = sorted(e for e in user if e in generated)
    if clobbered:
        raise OutputError(
            f"{out} holds files accessgen did not write that it would overwrite ({_shown(clobbered)}); "
            "move them or choose another output directory"
        )
    in_the_way = sorted(e for e in user if e in generated_dirs)
    if in_the_way:
        raise OutputError(
            f"{out} holds files accessgen did not write where it writes a directory ({_shown(in_the_way)}); "
            "move them or choose another output directory"
        )
    folders = sorted(d for d in tree.directories if d in generated)
    if folders:
        raise OutputError(
            f"{out} holds directories where accessgen writes a file ({_shown(folders)}); "
            "move them or choose another output directory"
        )
    return user


def _kept_directories(
    tree: _Tree, user: list[str], ours: set[str], files: dict[str, str]
) -> tuple[str, ...]:
    """Folders to recreate, with their modes: the user's (empty ones too), those holding user
    entries, and those the new files go in. One that only held generated files (a package
    renamed, a tag gone) is not kept.
    """
    generated_before = _parents(ours)
    users = {d for d in tree.directories if d not in generated_before}
    needed = users | _parents(users) | _parents(set(user)) | _parents(set(files))
    return tuple(d for d in tree.directories if d in needed)


def _link_unchanged(current: Path, target: Path, data: bytes, mode: int) -> bool:
    """Put the file now at ``current`` at ``target`` by a hard link if it is exactly what would
    be written there (``data``, with ``mode``, a regular file of one link). A regeneration then
    keeps the inode and modification time of every file it does not change, and creates only
    the files it does (creating a file is its costliest step)."""
    try:
        status = os.lstat(current)
        if not (
            stat.S_ISREG(status.st_mode)
            and status.st_nlink == 1
            and stat.S_IMODE(status.st_mode) == mode
            and status.st_size == len(data)
        ):
            return False
        with open(current, "rb") as handle:
            if handle.read(len(data) + 1) != data:
                return False
        os.link(current, target, follow_symlinks=False)
    except OSError:
        return False
    return True


def _carry(source: Path, target: Path) -> None:
    """Put the entry ``source`` at ``target`` as it is: a hard link, else a faithful copy."""
    try:
        os.link(source, target, follow_symlinks=False)
        return
    except OSError:
        pass
    mode = os.lstat(source).st_mode
    if stat.S_ISLNK(mode):
        os.symlink(os.readlink(source), target)
    elif stat.S_ISREG(mode):
        shutil.copy2(source, target)
    elif stat.S_ISFIFO(mode):
        os.mkfifo(target, stat.S_IMODE(mode))
    else:
        raise OSError(
            errno.EPERM, "cannot carry a special file over to the new output", str(source)
        )


# ---------------------------------------------------------------- staging folders and their owners


def _stem(out: Path) -> str:
    return out.name[:_STEM_LENGTH]


def _start_time(pid: int) -> str | None:
    """The start time of process ``pid`` (Linux: clock ticks after boot), ``None`` if unknown."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            fields = handle.read().rsplit(b")", 1)[1].split()
        return fields[19].decode()
    except (OSError, IndexError):
        return None


def _owner_token() -> str:
    return f"{os.getpid()}-{_start_time(os.getpid()) or 0}"


def _staging_prefix(out: Path, kind: str) -> str:
    return f".{_stem(out)}.accessgen-{kind}-{_owner_token()}-"


def _running(pid: int, start: str) -> bool:
    if start != "0":
        current = _start_time(pid)
        if current is not None:
            return current == start  # the same pid with another start time is another process
    return process_exists(pid)


def _stale_staging(out: Path) -> list[tuple[Path, str]]:
    """Staging folders beside ``out`` whose run is no longer running, with their kind."""
    prefix = f".{_stem(out)}.accessgen-"
    found = []
    try:
        names = os.listdir(out.parent)
    except OSError:
        return []
    for name in names:
        if not name.startswith(prefix):
            continue
        match = _STAGING.search(name[len(prefix) - len(".accessgen-") :])
        if match is None:
            continue
        path = out.parent / name
        if match.group("pid") is None:  # named by an older accessgen: judged by age
            try:
                stale = time.time() - os.lstat(path).st_mtime > _LEGACY_STALE_SECONDS
            except OSError:
                continue
        else:
            stale = not _running(int(match.group("pid")), match.group("start"))
        if stale:
            found.append((path, match.group("kind")))
    return found


def remove_stale_staging(out: Path) -> None:
    """Remove the staging folders beside ``out`` that killed runs left (OUT itself exists)."""
    out = out.absolute()
    for path, _ in _stale_staging(out):
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)


def _clean_stale(out: Path) -> None:
    stale = _stale_staging(out)
    if not os.path.lexists(out):
        # Killed between the two renames of a swap: OUT is in the newest "-old-" folder.
        olds = sorted((p for p, kind in stale if kind == "old"), key=lambda p: os.lstat(p).st_mtime)
        if olds:
            os.replace(olds[-1], out)
            stale = [(p, kind) for p, kind in stale if p != olds[-1]]
    for path, _ in stale:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)


# ---------------------------------------------------------------- the lock


@contextmanager
def _locked(
    out: Path,
    timeout: float,
    on_wait: Callable[[str], None] | None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[None]:
    """Hold the lock file beside ``out``: one run at a time writes an output."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - no advisory locks on this platform
        yield
        return
    path = out.parent / f".{_stem(out)}.accessgen-lock"
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o666)
    except OSError as exc:
        raise OutputError(f"cannot create the lock file {path}: {exc.strerror or exc}") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OutputError(f"the lock file {path} is not a regular file; remove it")
        deadline: float | None = None
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
                if deadline is None:
                    deadline = clock() + timeout
                    if timeout > 0 and on_wait is not None:
                        on_wait(
                            f"another accessgen run (pid {holder}) is writing {out}; waiting up to {timeout:g} s"
                        )
                if clock() >= deadline:
                    raise OutputError(
                        f"another accessgen run (pid {holder}) is writing {out}"
                        + (f"; gave up after waiting {timeout:g} s" if timeout > 0 else "")
                        + " (see --lock-timeout)"
                    ) from None
                sleep(0.05)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock


# ---------------------------------------------------------------- writing


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_output(
    out: Path,
    files: dict[str, str],
    generator: str,
    provenance: Provenance = Provenance(),
    *,
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
    on_wait: Callable[[str], None] | None = None,
    user_updates: Mapping[str, Callable[[str | None], str]] | None = None,
) -> Changes:
    """Write ``files`` to ``out`` and swap them in. ``user_updates`` maps paths of user files
    (not generated, not in the manifest) to a function of their current text (None when there
    is none) giving their new text: it runs under the lock, its result goes in with the swap."""
    out = _output_path(out)
    _check_target(out)
    with _locked(out, lock_timeout, on_wait):
        _clean_stale(out)
        _check_target(out)
        previous = read_manifest(out) if out.is_dir() else None
        tree = _scan(out)
        user = _user_entries(out, tree, files, previous or set())
        updated = _user_updates(out, user_updates or {}, files, previous or set())
        user = [entry for entry in user if entry not in updated]
        tree = _Tree(
            _kept_directories(tree, user + list(updated), previous or set(), files), tree.entries
        )
        changes = diff_output(out, files)
        staging = Path(tempfile.mkdtemp(dir=out.parent, prefix=_staging_prefix(out, "new")))
        try:
            _fill(
                staging,
                out,
                {**files, **updated},
                generator,
                provenance,
                tree,
                user,
                manifest_files=files,
            )
        except OSError as exc:
            shutil.rmtree(staging, ignore_errors=True)
            raise OutputError(f"cannot write the output: {exc}") from None
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        _swap(staging, out)
    return changes


def _user_updates(
    out: Path,
    updates: Mapping[str, Callable[[str | None], str]],
    files: dict[str, str],
    ours: set[str],
) -> dict[str, str]:
    """The new text of each user file to update, from its current one."""
    result = {}
    for path, update in sorted(updates.items()):
        if path in files or path in ours or path == MANIFEST:
            raise OutputError(
                f"{out / path} is a file accessgen generates; it cannot be a file of yours too"
            )
        target = out / path
        current = None
        if os.path.lexists(target):
            if not stat.S_ISREG(os.lstat(target).st_mode):
                raise OutputError(
                    f"{target} is not a regular file; accessgen only updates regular files"
                )
            try:
                current = read_regular_file(target).decode("utf-8")
            except (UnreadableFile, UnicodeDecodeError) as exc:
                raise OutputError(f"{target} cannot be read as UTF-8 text ({exc})") from None
        result[path] = update(current)
    return result


def _fill(
    staging: Path,
    out: Path,
    files: dict[str, str],
    generator: str,
    provenance: Provenance,
    tree: _Tree,
    user: list[str],
    *,
    manifest_files: dict[str, str],
) -> None:
    for folder in tree.directories:
        (staging / folder).mkdir(parents=True, exist_ok=True)
    mode = 0o666 & ~_umask()  # what a file written now gets
    for path, text in files.items():
        target = staging / path
        target.parent.mkdir(parents=True, exist_ok=True)
        data = text.encode("utf-8")
        if not _link_unchanged(out / path, target, data, mode):
            target.write_bytes(data)
    (staging / MANIFEST).write_text(
        manifest_text(manifest_files, generator, provenance), encoding="utf-8"
    )
    for path in user:
        target = staging / path
        target.parent.mkdir(parents=True, exist_ok=True)
        _carry(out / path, target)
    for folder in reversed(tree.directories):  # last, so a read-only folder was still filled
        shutil.copystat(out / folder, staging / folder, follow_symlinks=False)
    if out.is_dir():
        shutil.copymode(out, staging)
    else:
        os.chmod(staging, 0o777 & ~_umask())  # mkdtemp made it 0700


def _exchange(first: Path, second: Path) -> bool:
    """Swap two paths in one step (Linux ``renameat2(RENAME_EXCHANGE)``); False where unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(first), at_fdcwd, os.fsencode(second), rename_exchange) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(second))


@contextmanager
def _signals_held() -> Iterator[None]:
    """Ctrl-C waits until the swap is done: OUT is never left between two trees."""
    blockable = hasattr(signal, "pthread_sigmask")
    held = {signal.SIGINT, signal.SIGTERM}
    if blockable:
        signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        if blockable:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, held)


def _swap(staging: Path, out: Path) -> None:
    with _signals_held():
        if not os.path.lexists(out):
            try:
                os.replace(staging, out)
            except OSError as exc:
                shutil.rmtree(staging, ignore_errors=True)
                raise OutputError(f"cannot create {out}: {exc.strerror or exc}") from None
            return
        try:
            exchanged = _exchange(staging, out)
        except OSError as exc:
            shutil.rmtree(staging, ignore_errors=True)
            raise OutputError(f"cannot replace {out}: {exc.strerror or exc}") from None
        if exchanged:
            retired = staging  # now holds the previous tree
        else:
            retired = Path(tempfile.mkdtemp(dir=out.parent, prefix=_staging_prefix(out, "old")))
            retired.rmdir()
            try:
                os.replace(out, retired)
            except OSError as exc:
                shutil.rmtree(staging, ignore_errors=True)
                raise OutputError(f"cannot replace {out}: {exc.strerror or exc}") from None
            try:
                os.replace(staging, out)
            except OSError as exc:
                os.replace(retired, out)
                shutil.rmtree(staging, ignore_errors=True)
                raise OutputError(f"cannot replace {out}: {exc.strerror or exc}") from None
    shutil.rmtree(retired, ignore_errors=True)
