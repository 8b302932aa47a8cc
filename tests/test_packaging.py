"""The wheel carries the templates: an installed accessgen generates without the source tree."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO, SPECS


def test_wheel_ships_templates_and_runtime(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w", str(wheels), str(REPO)],
        capture_output=True, text=True, timeout=300,
    )
    assert build.returncode == 0, build.stderr
    from generator import __version__

    (wheel,) = wheels.glob("*.whl")
    assert wheel.name == f"accessgen-{__version__}-py3-none-any.whl", "the version comes from generator/__init__.py"
    import zipfile

    with zipfile.ZipFile(wheel) as archive:
        metadata = archive.read(f"accessgen-{__version__}.dist-info/METADATA").decode()
        assert f"accessgen-{__version__}.dist-info/licenses/LICENSE" in archive.namelist()
    assert "License-Expression: MIT" in metadata and "Classifier: Typing :: Typed" in metadata
    site = tmp_path / "site"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site), *map(str, wheels.glob("*.whl"))],
        capture_output=True, text=True, timeout=300,
    )
    assert install.returncode == 0, install.stderr
    env = dict(os.environ, PYTHONPATH=str(site))
    probe = "import generator.render as r; print(r.builtin_templates_dir()); print(r.RUNTIME_DIR)"
    where = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    templates, runtime = where.stdout.split()
    assert templates == str(site / "generator" / "templates") and runtime == str(site / "generator" / "runtime")
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "-m", "generator", "generate", str(SPECS / "banking.yaml"), "-o", str(out), "-q"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert (out / "example_bank_banking_client" / "_runtime" / "session.py").exists()
