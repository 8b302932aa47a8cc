"""The repository's .pre-commit-hooks.yaml: pre-commit's fields, and hooks whose entries work."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

import yaml

from tests.conftest import REPO, SPECS

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

# The fields of a hook definition, as pre-commit documents them ("Creating new hooks").
HOOK_FIELDS = {
    "id",
    "name",
    "entry",
    "language",
    "files",
    "exclude",
    "types",
    "types_or",
    "exclude_types",
    "always_run",
    "fail_fast",
    "verbose",
    "pass_filenames",
    "require_serial",
    "description",
    "language_version",
    "minimum_pre_commit_version",
    "args",
    "stages",
}


def hooks() -> dict[str, dict[str, object]]:
    loaded = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert isinstance(loaded, list) and loaded, "a list of hook definitions"
    return {hook["id"]: hook for hook in loaded}


def test_hook_definitions_follow_pre_commit_conventions() -> None:
    found = hooks()
    assert set(found) == {"accessgen-check", "accessgen-generate"}
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    for hook in found.values():
        assert set(hook) <= HOOK_FIELDS, set(hook) - HOOK_FIELDS
        assert {"id", "name", "entry", "language"} <= set(hook)
        assert (
            hook["language"] == "python"
        ), "pre-commit installs this repository with pip and runs its console script"
        assert (
            hook["pass_filenames"] is False
        ), "the client depends on the specs and settings as a whole"
        assert hook["require_serial"] is True, "one run at a time writes an output"
        assert shlex.split(str(hook["entry"]))[0] in scripts
    assert found["accessgen-check"]["entry"] == "accessgen generate --check"


def test_hook_entries_gate_and_refresh_a_project(tmp_path: Path) -> None:
    """The entries run as pre-commit runs them: in the repository, no file names, settings from pyproject."""
    bin_dir = Path(sys.executable).parent
    (tmp_path / "pyproject.toml").write_text(
        '[tool.accessgen]\nspecs = ["api.yaml"]\noutput = "client"\npackage-name = "bank"\n'
    )
    spec = tmp_path / "api.yaml"
    spec.write_text((SPECS / "banking.yaml").read_text())

    def run(hook_id: str) -> subprocess.CompletedProcess[str]:
        command = shlex.split(str(hooks()[hook_id]["entry"]))
        return subprocess.run(
            [str(bin_dir / command[0]), *command[1:]],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=300,
        )

    assert run("accessgen-check").returncode == 1, "nothing generated yet"
    assert (
        run("accessgen-generate").returncode == 0
        and (tmp_path / "client" / "bank" / "client.py").is_file()
    )
    assert run("accessgen-check").returncode == 0
    spec.write_text(
        spec.read_text().replace(
            "summary: Fetch a transfer and its state", "summary: Fetch one transfer"
        )
    )
    stale = run("accessgen-check")
    assert stale.returncode == 1 and "changed: bank/api/transfers.py" in stale.stderr
    assert run("accessgen-generate").returncode == 0 and run("accessgen-check").returncode == 0
