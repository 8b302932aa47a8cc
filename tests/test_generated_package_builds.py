"""A generated project builds with the backend its pyproject.toml declares, and its wheel installs
into a fresh virtual environment, away from the source tree, and works there."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import tarfile
import textwrap
import zipfile
from pathlib import Path

from generator.pipeline import GenerateOptions, generate
from generator.release import prepend_entry
from generator.write import write_output
from tests.conftest import SPECS

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

PROBE = textwrap.dedent("""
    import importlib.metadata, json, sys
    from pathlib import Path

    import httpx
    import banking_client
    from banking_client import Client

    def handler(request):
        return httpx.Response(200, json={"status": "ok"})

    client = Client(http_client=httpx.Client(transport=httpx.MockTransport(handler)))
    package = Path(banking_client.__file__).parent
    metadata = importlib.metadata.metadata("banking-client")
    print(json.dumps({
        "file": banking_client.__file__,
        "health": client.health.get_health().status,
        "files": sorted(p.relative_to(package).as_posix() for p in package.rglob("*") if p.is_file() and "__pycache__" not in p.parts),
        "version": metadata["Version"],
        "requires": metadata.get_all("Requires-Dist"),
        "content_type": metadata["Description-Content-Type"],
        "description": metadata.get_payload(),
        "classifiers": metadata.get_all("Classifier"),
    }))
    """)


def test_the_generated_project_builds_installs_and_imports_from_its_wheel(tmp_path: Path) -> None:
    out = tmp_path / "project"
    files = generate(
        SPECS / "banking.yaml",
        GenerateOptions(package_name="banking_client", package_version="2.3.1"),
    ).files
    write_output(
        out,
        files,
        "test",
        user_updates={"CHANGELOG.md": lambda old: prepend_entry(old, "## 2.3.1\n\nA release.\n")},
    )
    backend = tomllib.loads((out / "pyproject.toml").read_text())["build-system"]
    assert backend["build-backend"] == "hatchling.build"

    # The build frontend docs/ci.md uses; --no-isolation: the backend the test extra installs, no network.
    dist = tmp_path / "dist"
    build = subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--no-isolation",
            "--sdist",
            "--wheel",
            "--outdir",
            str(dist),
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert build.returncode == 0, build.stdout[-2000:] + build.stderr[-2000:]
    (wheel,) = dist.glob("*.whl")
    (sdist,) = dist.glob("*.tar.gz")
    assert (
        wheel.name == "banking_client-2.3.1-py3-none-any.whl"
        and sdist.name == "banking_client-2.3.1.tar.gz"
    )
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    runtime = {
        f"banking_client/_runtime/{p.name}"
        for p in (Path(__file__).parents[1] / "generator" / "runtime").glob("*.py")
    }
    assert {
        "banking_client/py.typed",
        "banking_client/__init__.py",
        "banking_client/api/accounts.py",
    } | runtime <= names
    with tarfile.open(sdist) as archive:
        members = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    assert {
        "pyproject.toml",
        "README.md",
        "API.md",
        "CHANGELOG.md",
        "banking_client/py.typed",
        "banking_client/_runtime/client.py",
    } <= members
    assert (
        ".accessgen-manifest.json" not in members
    ), "the manifest is accessgen's, not the package's"

    # A fresh environment that sees httpx and pydantic (this one's site-packages, through a .pth
    # file) but neither the source tree nor the generated project: only the installed wheel.
    venv = tmp_path / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120
    )
    python = venv / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    (Path(site) / "outer.pth").write_text(sysconfig.get_path("purelib") + "\n")
    install = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--quiet",
            "--no-deps",
            "--no-index",
            str(wheel),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert install.returncode == 0, install.stderr
    away = tmp_path / "elsewhere"
    away.mkdir()
    env = {
        key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "PYTHONHOME")
    }
    probe = subprocess.run(
        [str(python), "-c", PROBE], cwd=away, env=env, capture_output=True, text=True, timeout=120
    )
    assert probe.returncode == 0, probe.stderr
    found = json.loads(probe.stdout)
    assert found["file"].startswith(site), "imported from the installed wheel"
    assert found["health"] == "ok"
    assert {"py.typed", "_runtime/client.py", "_runtime/session.py"} <= set(found["files"])
    assert {f"_runtime/{p.rsplit('/', 1)[1]}" for p in runtime} <= set(found["files"])
    assert found["version"] == "2.3.1"
    assert found["requires"] == ["httpx<1,>=0.27", "pydantic<3,>=2.11"]
    assert found["content_type"] == "text/markdown" and found["description"] == files["README.md"]
    assert found["classifiers"] == ["Typing :: Typed"]
