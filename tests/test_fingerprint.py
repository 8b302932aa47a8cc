"""The up-to-date check covers accessgen's own files: a changed built-in template or runtime file is a change.

accessgen runs here from a copy of its code and templates (as an editable install with
a local patch would), so that the test can edit them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SPEC = REPO / "specs" / "mixed-security.yaml"


@pytest.fixture()
def accessgen_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "accessgen"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(REPO / "generator", copy / "generator", ignore=ignore)
    shutil.copytree(REPO / "templates", copy / "templates", ignore=ignore)
    return copy


def run(copy: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(copy), ACCESSGEN_CACHE_DIR=str(cwd / "cache"))
    return subprocess.run([sys.executable, "-m", "generator", *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=300)


def generate(copy: Path, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return run(copy, "generate", str(SPEC), "-o", str(out), "--package-name", "mixed", *extra, cwd=out.parent)


def test_the_copy_is_what_runs(accessgen_copy: Path, tmp_path: Path) -> None:
    probe = run(accessgen_copy, "--version", cwd=tmp_path)
    assert probe.returncode == 0
    where = subprocess.run(
        [sys.executable, "-c", "import generator.render as r; print(r.builtin_templates_dir())"],
        capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=str(accessgen_copy)), cwd=tmp_path, check=True,
    )
    assert Path(where.stdout.strip()) == accessgen_copy / "templates"


@pytest.mark.parametrize(
    ("edited", "marker"),
    [("templates/client.py.jinja", "# a local patch of the template"), ("generator/runtime/errors.py", "# a local patch of the runtime")],
)
def test_an_edited_builtin_file_makes_the_output_out_of_date(accessgen_copy: Path, tmp_path: Path, edited: str, marker: str) -> None:
    out = tmp_path / "out"
    first = generate(accessgen_copy, out)
    assert first.returncode == 0, first.stderr
    unchanged = generate(accessgen_copy, out, "--check")
    assert (unchanged.returncode, unchanged.stdout.strip()) == (0, f"{out} is up to date")

    target = accessgen_copy / edited
    target.write_text(target.read_text(encoding="utf-8") + f"\n{marker}\n", encoding="utf-8")
    check = generate(accessgen_copy, out, "--check")
    assert check.returncode == 1, check.stdout + check.stderr  # 1: OUT is out of date
    assert "out of date" in check.stderr
    assert not any(marker in p.read_text(encoding="utf-8") for p in out.rglob("*.py")), "--check writes nothing"

    regenerated = generate(accessgen_copy, out)
    assert regenerated.returncode == 0, regenerated.stderr
    assert "up to date" not in regenerated.stdout
    assert any(marker in p.read_text(encoding="utf-8") for p in out.rglob("*.py"))
    again = generate(accessgen_copy, out, "--check")
    assert (again.returncode, again.stdout.strip()) == (0, f"{out} is up to date")
