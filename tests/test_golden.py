"""Golden output: the full generated package for specs/banking.yaml, so every template change
is reviewed as a diff of generated code.

After an intended change, refresh the files with:
    ACCESSGEN_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_golden.py
"""

from __future__ import annotations

import difflib
import os
import shutil
from pathlib import Path

from generator.pipeline import GenerateOptions, generate
from tests.conftest import SPECS

GOLDEN = Path(__file__).parent / "golden" / "banking"


def generated_files() -> dict[str, str]:
    result = generate(SPECS / "banking.yaml", GenerateOptions(package_name="banking_client", package_version="2.3.0"))
    # The runtime is copied verbatim and tested as code in its own right.
    return {path: text for path, text in result.files.items() if "/_runtime/" not in path}


def test_generated_package_matches_golden_files() -> None:
    files = generated_files()
    if os.environ.get("ACCESSGEN_UPDATE_GOLDEN"):
        shutil.rmtree(GOLDEN, ignore_errors=True)
        for path, text in files.items():
            target = GOLDEN / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
    expected = {p.relative_to(GOLDEN).as_posix(): p.read_text(encoding="utf-8") for p in GOLDEN.rglob("*") if p.is_file()}
    assert sorted(files) == sorted(expected), "generated file list differs from tests/golden/banking"
    diffs = []
    for path in sorted(files):
        if files[path] != expected[path]:
            diffs.extend(difflib.unified_diff(expected[path].splitlines(), files[path].splitlines(), f"golden/{path}", f"generated/{path}", lineterm=""))
    assert not diffs, "\n".join(diffs[:200])
