"""What a generation depends on, so a regeneration with no change can stop early.

The manifest of an output records the spec documents that were read (relative to the
output directory) and a fingerprint of their content, the options, the user's templates,
the versions of accessgen and black, and accessgen's own files that shape every output:
its code, its built-in templates and the runtime it copies (an editable install or a
local patch changes them without changing the version). If none changed and the
generated files are as written, there is nothing to do. This module imports nothing
heavy, so that check costs milliseconds.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from . import __version__
from .files import UnreadableFile, read_regular_file
from .resources import PACKAGE_DIR, RUNTIME_DIR, builtin_templates_dir


def file_digest(path: Path) -> str | None:
    """The digest of a regular file (never a FIFO or a device a manifest may name), else None."""
    try:
        return hashlib.sha256(read_regular_file(path)).hexdigest()
    except UnreadableFile:
        return None


def relative_to(out: Path, path: Path) -> str:
    return Path(os.path.relpath(path.absolute(), out.absolute())).as_posix()


def options_identity(options: Mapping[str, object], templates: Path | None) -> dict[str, object]:
    identity: dict[str, object] = {
        "accessgen": __version__,
        "black": importlib.metadata.version("black"),
        **{key: options[key] for key in sorted(options)},
    }
    identity["accessgen files"] = builtin_identity()
    if templates is not None:
        identity["templates"] = _folder_digests(templates, "*")
    return identity


def builtin_identity() -> dict[str, dict[str, str | None]]:
    """Digests of accessgen's files that shape every output: its code, built-in templates, runtime."""
    return {
        "code": _folder_digests(PACKAGE_DIR, "*.py", recursive=False),
        "templates": _folder_digests(builtin_templates_dir(), "*"),
        "runtime": _folder_digests(RUNTIME_DIR, "*.py"),
    }


def _folder_digests(folder: Path, pattern: str, *, recursive: bool = True) -> dict[str, str | None]:
    paths = folder.rglob(pattern) if recursive else folder.glob(pattern)
    return {
        p.relative_to(folder).as_posix(): file_digest(p)
        for p in sorted(paths)
        if p.is_file() and "__pycache__" not in p.parts
    }


def fingerprint(out: Path, inputs: Iterable[str], identity: Mapping[str, object]) -> str | None:
    """A digest of the inputs (paths relative to ``out``) and options; None when an input is unreadable."""
    digest = hashlib.sha256(json.dumps(identity, sort_keys=True, default=str).encode())
    for name in sorted(inputs):
        # Lexically: the output directory may not exist yet, and the kernel would not walk "out/.." then.
        content = file_digest(Path(os.path.normpath(out.absolute() / name)))
        if content is None:
            return None
        digest.update(f"\n{name}\n{content}".encode())
    return digest.hexdigest()


def up_to_date(out: Path, specs: list[str], identity: Mapping[str, object]) -> bool:
    """Whether ``out`` was generated from exactly these inputs and is unmodified since."""
    try:
        manifest = json.loads((out / ".accessgen-manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(manifest, dict) or manifest.get("specs") != specs:
        return False
    inputs, files = manifest.get("inputs"), manifest.get("files")
    if not isinstance(inputs, list) or not isinstance(files, dict):
        return False
    if manifest.get("fingerprint") != fingerprint(out, inputs, identity):
        return False
    return all(file_digest(out / path) == digest for path, digest in files.items())
