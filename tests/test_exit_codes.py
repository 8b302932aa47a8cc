"""The exit status of every command, as the README's table and each command's --help say.

Ctrl-C (130) is tested in tests/test_interrupts.py; a locked output (4) in tests/test_output_dir.py.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from generator import errors
from tests.conftest import REPO
from tests.test_bad_input import MINIMAL

BREAKING = MINIMAL.replace(
    "  /things:\n    get:\n      operationId: listThings\n",
    "  /others:\n    get:\n      operationId: listOthers\n",
)
INVALID = MINIMAL.replace("      responses:", "      security: [{nowhere: []}]\n      responses:")


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "generator", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env=dict(os.environ),
    )


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    (tmp_path / "ok.yaml").write_text(MINIMAL)
    (tmp_path / "breaking.yaml").write_text(BREAKING)
    (tmp_path / "invalid.yaml").write_text(INVALID)
    return tmp_path


CASES: dict[str, tuple[list[str], int, str]] = {
    "generate: success": (["generate", "ok.yaml", "-o", "out", "-q"], 0, ""),
    "validate: valid": (["validate", "ok.yaml"], 0, ""),
    "security: listed": (["security", "ok.yaml"], 0, ""),
    "diff: nothing breaking": (["diff", "ok.yaml", "ok.yaml"], 0, ""),
    "diff: a breaking change": (["diff", "ok.yaml", "breaking.yaml"], 1, "breaking changes"),
    "diff: an unreadable spec": (
        ["diff", "ok.yaml", "missing.yaml"],
        3,
        "missing.yaml at #: error: file not found",
    ),
    "diff: an invalid spec": (
        ["diff", "invalid.yaml", "ok.yaml"],
        3,
        "'nowhere', which components.securitySchemes does not declare",
    ),
    "generate: an invalid spec": (
        ["generate", "invalid.yaml", "-o", "out"],
        3,
        "invalid.yaml:7 at #/paths/~1things/get/security/0/nowhere",
    ),
    "validate: an invalid spec": (
        ["validate", "invalid.yaml"],
        3,
        "invalid.yaml:7 at #/paths/~1things/get/security/0/nowhere",
    ),
    "security: an unreadable spec": (["security", "missing.yaml"], 3, "file not found"),
    "generate: output is a file": (
        ["generate", "ok.yaml", "-o", "ok.yaml"],
        4,
        "exists and is not a directory",
    ),
    "generate: an unknown option": (["generate", "ok.yaml", "--frobnicate"], 2, "No such option"),
    "validate: no spec": (["validate"], 2, "Missing argument"),
    "diff: one spec": (["diff", "ok.yaml"], 2, "Missing argument"),
    "security: a bad format": (["security", "ok.yaml", "--format", "xml"], 2, "Invalid value"),
    "generate: no output": (["generate", "ok.yaml"], 2, "no output directory given"),
    "an unknown command": (["frobnicate"], 2, "No such command"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_exit_status(case: str, folder: Path) -> None:
    args, status, message = CASES[case]
    result = run(*args, cwd=folder)
    assert result.returncode == status, result.stdout + result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_check_exits_1_when_out_of_date_and_0_when_not(folder: Path) -> None:
    assert run("generate", "ok.yaml", "-o", "out", "-q", cwd=folder).returncode == 0
    assert run("generate", "ok.yaml", "-o", "out", "--check", cwd=folder).returncode == 0
    (folder / "ok.yaml").write_text(MINIMAL.replace("title: T", "title: Other"))
    stale = run("generate", "ok.yaml", "-o", "out", "--check", cwd=folder)
    assert stale.returncode == 1 and "is out of date" in stale.stderr


def test_a_bad_settings_file_is_invalid_input(folder: Path) -> None:
    (folder / "pyproject.toml").write_text("[tool.accessgen\n")
    result = run("generate", "ok.yaml", "-o", "out", cwd=folder)
    assert result.returncode == 3 and "invalid TOML" in result.stderr


def test_a_template_that_renders_invalid_python_is_invalid_input(folder: Path) -> None:
    (folder / "templates").mkdir()
    (folder / "templates" / "api_init.py.jinja").write_text("def broken(:\n")
    result = run("generate", "ok.yaml", "-o", "out", "--templates", "templates", cwd=folder)
    assert result.returncode == 3, result.stderr
    assert "is not valid Python" in result.stderr and "check them first" in result.stderr


def test_a_bug_is_an_internal_error_exit_5(folder: Path) -> None:
    script = (
        "import sys, generator.pipeline as p\n"
        "def broken(*args, **kwargs): raise KeyError('a bug')\n"
        "p.generate = broken\n"
        "from generator.cli import main\n"
        "sys.argv = ['accessgen', 'generate', 'ok.yaml', '-o', 'out']\n"
        "main()\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=folder, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 5
    assert (
        result.stderr
        == "accessgen: error: internal error (a bug in accessgen): KeyError: \"'a bug'\". Please report it with the spec that caused it.\n"
    )


def test_every_help_and_the_readme_give_the_same_table() -> None:
    codes = {
        "0": errors.EXIT_OK,
        "1": errors.EXIT_GATE,
        "2": errors.EXIT_USAGE,
        "3": errors.EXIT_INPUT,
        "4": errors.EXIT_OUTPUT,
        "5": errors.EXIT_INTERNAL,
        "130": errors.EXIT_INTERRUPTED,
    }
    assert all(int(text) == value for text, value in codes.items())
    for command in ([], ["generate"], ["validate"], ["security"], ["diff"]):
        shown = " ".join(run(*command, "--help", cwd=REPO).stdout.split())
        for code in codes:
            assert re.search(rf"(?:Exit status: |; ){code} ", shown), (command, code, shown)
    readme = (REPO / "README.md").read_text()
    table = readme[readme.index("### Exit status") :]
    rows = re.findall(r"^\| (\d+) \|", table, flags=re.MULTILINE)
    assert rows == list(codes)
