"""Write stage: build the new tree beside the output, then swap it in.

A manifest records the files accessgen generated, so the next run deletes the
stale ones and leaves every other file (a user's ``custom.py``) alone. A run that
fails before the swap leaves the previous output exactly as it was.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .errors import OutputError

MANIFEST = ".accessgen-manifest.json"


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
        for label, paths in (("added", self.added), ("changed", self.changed), ("removed", self.removed)):
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


def manifest_text(files: dict[str, str], generator: str, provenance: Provenance = Provenance()) -> str:
    payload: dict[str, object] = {"generator": generator, "files": {path: _digest(files[path]) for path in sorted(files)}}
    if provenance.fingerprint is not None:
        payload.update(specs=list(provenance.specs), inputs=sorted(provenance.inputs), fingerprint=provenance.fingerprint)
    return json.dumps(payload, indent=2, sort_keys=True) + "\n"


def read_manifest(out: Path) -> set[str] | None:
    try:
        data = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise OutputError(f"{out / MANIFEST} cannot be read ({exc}); delete it to start afresh") from None
    files = data.get("files") if isinstance(data, dict) else None
    if not isinstance(files, dict):
        raise OutputError(f"{out / MANIFEST} is not an accessgen manifest; delete it to start afresh")
    return {str(p) for p in files}


def _check_target(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise OutputError(f"output path {out} exists and is not a directory")
    parent = out.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create {parent}: {exc.strerror or exc}") from None
    if not parent.is_dir():
        raise OutputError(f"{parent} is not a directory")
    if not os.access(parent, os.W_OK):
        raise OutputError(f"cannot write in {parent}: permission denied")


def _existing_files(out: Path) -> set[str]:
    found = set()
    for root, dirs, names in os.walk(out):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for name in names:
            found.add(Path(root, name).relative_to(out).as_posix())
    return found


def diff_output(out: Path, files: dict[str, str]) -> Changes:
    """What writing ``files`` to ``out`` would add, change and remove."""
    if out.exists() and not out.is_dir():
        raise OutputError(f"output path {out} exists and is not a directory")
    previous = (read_manifest(out) if out.is_dir() else None) or set()
    added, changed = [], []
    for path in sorted(files):
        target = out / path
        try:
            current = target.read_text(encoding="utf-8")
        except FileNotFoundError:
            added.append(path)
            continue
        except (OSError, UnicodeDecodeError):
            changed.append(path)
            continue
        if current != files[path]:
            changed.append(path)
    removed = sorted(p for p in previous if p not in files and p != MANIFEST and (out / p).exists())
    return Changes(tuple(added), tuple(changed), tuple(removed))


def write_output(out: Path, files: dict[str, str], generator: str, provenance: Provenance = Provenance()) -> Changes:
    out = out.absolute()
    _check_target(out)
    previous = read_manifest(out) if out.is_dir() else None
    existing = _existing_files(out) if out.is_dir() else set()
    ours = previous or set()
    user_files = existing - ours - {MANIFEST}
    clobbered = sorted(user_files & set(files))
    if clobbered:
        shown = ", ".join(clobbered[:5]) + (" ..." if len(clobbered) > 5 else "")
        raise OutputError(
            f"{out} holds files accessgen did not write that it would overwrite ({shown}); "
            "move them or choose another output directory"
        )
    changes = diff_output(out, files)
    staging = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.accessgen-new-"))
    try:
        for path, text in files.items():
            target = staging / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8", newline="\n")
        (staging / MANIFEST).write_text(manifest_text(files, generator, provenance), encoding="utf-8")
        for path in sorted(user_files):
            source, target = out / path, staging / path
            target.parent.mkdir(parents=True, exist_ok=True)
            if source.is_symlink():
                os.symlink(os.readlink(source), target)
            else:
                shutil.copy2(source, target)
        _copy_empty_dirs(out, staging)
        if out.exists():
            shutil.copymode(out, staging)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise OutputError(f"cannot write the output: {exc}") from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _swap(staging, out)
    return changes


def _copy_empty_dirs(out: Path, staging: Path) -> None:
    if not out.is_dir():
        return
    for root, dirs, _ in os.walk(out):
        for name in dirs:
            if name == "__pycache__":
                continue
            rel = Path(root, name).relative_to(out)
            (staging / rel).mkdir(parents=True, exist_ok=True)


def _swap(staging: Path, out: Path) -> None:
    if not out.exists():
        os.replace(staging, out)
        return
    retired = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.accessgen-old-"))
    retired.rmdir()
    try:
        os.replace(out, retired)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise OutputError(f"cannot replace {out}: {exc}") from None
    try:
        os.replace(staging, out)
    except OSError as exc:
        os.replace(retired, out)
        shutil.rmtree(staging, ignore_errors=True)
        raise OutputError(f"cannot replace {out}: {exc}") from None
    shutil.rmtree(retired, ignore_errors=True)
