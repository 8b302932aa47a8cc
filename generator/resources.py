"""Where accessgen's own files are: its code, the built-in templates, the runtime it copies.

It imports nothing of the generator, so that the up-to-date check (``fingerprint``)
finds them without loading the pipeline.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).parent
RUNTIME_DIR = PACKAGE_DIR / "runtime"


def builtin_templates_dir() -> Path:
    installed = PACKAGE_DIR / "templates"
    return installed if installed.is_dir() else PACKAGE_DIR.parent / "templates"
