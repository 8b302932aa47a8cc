"""Every bad input: one clear message naming the file and location, exit 3 (4 for output errors), no traceback, OUT untouched."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SPECS

MINIMAL = """openapi: 3.0.3
info: {title: T, version: '1'}
paths:
  /things:
    get:
      operationId: listThings
      responses:
        '200':
          description: ok
"""


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    return subprocess.run([sys.executable, "-m", "generator", *args], cwd=cwd, capture_output=True, text=True, timeout=120, env=env)


def tree_digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture()
def previous_output(tmp_path: Path) -> Path:
    """An output directory from an earlier successful run, plus a user's own file."""
    spec = tmp_path / "good.yaml"
    spec.write_text(MINIMAL)
    out = tmp_path / "out"
    result = run_cli("generate", str(spec), "-o", str(out), "--package-name", "things", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    (out / "custom.py").write_text("MINE = 1\n")
    return out


CASES = {
    "missing file": (None, "missing.yaml", "file not found"),
    "yaml syntax error": ("openapi: 3.0.3\ninfo: {title: T, version: '1'\npaths: {}\n", "bad.yaml", "YAML syntax error"),
    "not openapi": ("name: a config file\nitems: [1, 2]\n", "config.yaml", "not an OpenAPI document"),
    "undeclared scheme": (
        MINIMAL.replace("      responses:", "      security:\n        - accessToken: [banking/read]\n      responses:"),
        "undeclared.yaml",
        "'accessToken', which components.securitySchemes does not declare",
    ),
    "dangling ref": (
        MINIMAL.replace("          description: ok", "          $ref: '#/components/responses/Gone'"),
        "dangling.yaml",
        "#/components/responses/Gone does not exist",
    ),
    "dangling ref to another file": (
        MINIMAL.replace("          description: ok", "          $ref: 'shared/responses.yaml#/Ok'"),
        "external.yaml",
        "cannot be resolved: file not found",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_spec_is_one_clear_error_and_output_is_untouched(case: str, tmp_path: Path, previous_output: Path) -> None:
    text, name, expected = CASES[case]
    spec = tmp_path / name
    if text is not None:
        spec.write_text(text)
    before = tree_digest(previous_output)
    result = run_cli("generate", str(spec), "-o", str(previous_output), cwd=tmp_path)
    assert result.returncode == 3, "invalid input"
    assert "Traceback" not in result.stderr + result.stdout
    assert expected in result.stderr
    assert name in result.stderr, "the message names the file"
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines and all(line.startswith("accessgen:") for line in lines), result.stderr
    assert tree_digest(previous_output) == before
    staging = [p for p in previous_output.parent.iterdir() if p.name.startswith((".out.accessgen-new", ".out.accessgen-old"))]
    assert not staging, "no staging left behind"


def test_location_includes_pointer_and_line(tmp_path: Path) -> None:
    text, name, _ = CASES["undeclared scheme"]
    (tmp_path / name).write_text(text)
    result = run_cli("validate", name, cwd=tmp_path)
    assert result.returncode == 3
    assert "undeclared.yaml:8 at #/paths/~1things/get/security/0/accessToken" in result.stderr, result.stderr


def test_output_path_that_is_a_file(tmp_path: Path) -> None:
    out = tmp_path / "out.txt"
    out.write_text("keep me\n")
    result = run_cli("generate", str(SPECS / "mixed-security.yaml"), "-o", str(out), cwd=tmp_path)
    assert result.returncode == 4, "an output error"
    assert "Traceback" not in result.stderr
    assert f"output path {out} exists and is not a directory" in result.stderr
    assert out.read_text() == "keep me\n"


def test_generated_file_never_clobbers_a_user_file(tmp_path: Path) -> None:
    spec = tmp_path / "good.yaml"
    spec.write_text(MINIMAL)
    out = tmp_path / "out"
    out.mkdir()
    (out / "README.md").write_text("my own readme\n")
    result = run_cli("generate", str(spec), "-o", str(out), "--package-name", "things", cwd=tmp_path)
    assert result.returncode == 4, "a user file in the way is an output error"
    assert "README.md" in result.stderr and "did not write" in result.stderr
    assert (out / "README.md").read_text() == "my own readme\n"
    assert sorted(p.name for p in out.iterdir()) == ["README.md"]


def test_regeneration_keeps_user_files(tmp_path: Path, previous_output: Path) -> None:
    spec = tmp_path / "good.yaml"
    result = run_cli("generate", str(spec), "-o", str(previous_output), "--package-name", "things", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (previous_output / "custom.py").read_text() == "MINE = 1\n"
