"""Command-line behaviour around generation: settings, template overrides, progress, --allow-skip."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

from tests.conftest import SPECS
from tests.test_bad_input import MINIMAL, run_cli


def test_settings_come_from_pyproject_and_flags_override_them(tmp_path: Path) -> None:
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "banking.yaml").write_text((SPECS / "banking.yaml").read_text())
    (tmp_path / "specs" / "mixed.yaml").write_text((SPECS / "mixed-security.yaml").read_text())
    (tmp_path / "pyproject.toml").write_text(
        """[project]
name = "my-app"

[tool.accessgen]
specs = ["specs/banking.yaml", { path = "specs/mixed.yaml", name = "mixed" }]
output = "clients/bank"
package-name = "bank"
package-version = "7.1.0"
"""
    )
    result = run_cli("generate", "-q", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    package = tmp_path / "clients" / "bank" / "bank"
    assert sorted(p.name for p in package.iterdir() if p.is_dir()) == ["_runtime", "example_bank_banking", "mixed"]
    assert 'version = "7.1.0"' in (tmp_path / "clients" / "bank" / "pyproject.toml").read_text()
    assert run_cli("generate", "--check", cwd=tmp_path).returncode == 0

    override = run_cli("generate", "specs/banking.yaml", "-o", "other", "--package-name", "solo", "-q", cwd=tmp_path)
    assert override.returncode == 0, override.stderr
    assert (tmp_path / "other" / "solo" / "client.py").exists()

    (tmp_path / "pyproject.toml").write_text("[tool.accessgen]\nspecz = []\n")
    bad = run_cli("generate", cwd=tmp_path)
    assert bad.returncode == 1 and "unknown [tool.accessgen] setting(s) specz" in bad.stderr and "Traceback" not in bad.stderr


def test_templates_override_by_file_name(tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "README.md.jinja").write_text("# {{ plan.title | oneline }}: our own readme\n")
    result = run_cli("generate", str(SPECS / "banking.yaml"), "-o", "out", "--templates", str(templates), "-q", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out" / "README.md").read_text() == "# Example Bank Banking: our own readme\n"
    assert "class AuthenticatedAccountsApi" in next((tmp_path / "out").rglob("accounts.py")).read_text(), "others as shipped"


def run_on_terminal(args: list[str], cwd: Path) -> tuple[int, str]:
    """Run the CLI with stderr on a pseudo-terminal, as a user at a shell would."""
    leader, follower = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "generator", *args], cwd=cwd, stdout=subprocess.DEVNULL, stderr=follower, env=dict(os.environ))
    os.close(follower)
    output = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
    os.close(leader)
    return process.wait(timeout=120), output.decode(errors="replace")


def test_progress_on_a_terminal_and_quiet_otherwise(tmp_path: Path) -> None:
    code, shown = run_on_terminal(["generate", str(SPECS / "mixed-security.yaml"), "-o", "out"], tmp_path)
    assert code == 0
    assert "accessgen: reading" in shown and "11 operations, 0 models, 20 files; formatting" in shown
    assert "accessgen: formatted " in shown and " from cache)" in shown
    code, quiet = run_on_terminal(["generate", str(SPECS / "mixed-security.yaml"), "-o", "out2", "-q"], tmp_path)
    assert code == 0 and quiet.strip() == ""
    piped = run_cli("generate", str(SPECS / "mixed-security.yaml"), "-o", "out3", cwd=tmp_path)
    assert "reading" not in piped.stderr, "no progress when stderr is not a terminal"


def test_allow_skip_names_what_it_leaves_out(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        MINIMAL
        + """  /broken:
    get:
      operationId: brokenOne
      responses:
        '200':
          $ref: '#/components/responses/Gone'
"""
    )
    strict = run_cli("generate", str(spec), "-o", "out", cwd=tmp_path)
    assert strict.returncode == 1 and "#/components/responses/Gone does not exist" in strict.stderr
    assert not (tmp_path / "out").exists()
    lenient = run_cli("generate", str(spec), "-o", "out", "--allow-skip", cwd=tmp_path)
    assert lenient.returncode == 0, lenient.stderr
    assert "warning: operation brokenOne (GET /broken) cannot be generated" in lenient.stderr
    generated = next((tmp_path / "out").rglob("default.py")).read_text()
    assert "def list_things(" in generated and "broken_one" not in generated
