"""Regeneration as a build step: reproducible output, manifest, --check, multi-spec packages."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SHARED_SPECS, SPECS
from tests.test_bad_input import tree_digest

OWN_SPECS = [SPECS / "banking.yaml", SPECS / "mixed-security.yaml", SPECS / "features" / "schemas.yaml", SPECS / "features" / "requests.yaml", SPECS / "hostile.yaml"]


def cli(*args: str, cwd: Path, seed: str = "0", cache: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONHASHSEED=seed)
    if cache is not None:
        env["ACCESSGEN_CACHE_DIR"] = str(cache)
    return subprocess.run([sys.executable, "-m", "generator", *args], cwd=cwd, capture_output=True, text=True, timeout=900, env=env)


@pytest.mark.parametrize("spec", OWN_SPECS, ids=lambda p: p.name)
def test_output_is_byte_identical_whatever_the_hash_seed(spec: Path, tmp_path: Path) -> None:
    # One black cache for both runs: it is keyed by the unformatted text, so any difference still shows.
    first = cli("generate", str(spec), "-o", str(tmp_path / "a"), "-q", seed="1", cwd=tmp_path, cache=tmp_path / "c")
    second = cli("generate", str(spec), "-o", str(tmp_path / "b"), "-q", seed="4242", cwd=tmp_path, cache=tmp_path / "c")
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    assert tree_digest(tmp_path / "a") == tree_digest(tmp_path / "b")


@pytest.mark.slow
@pytest.mark.skipif(not (SHARED_SPECS / "stripe").is_dir(), reason="../shared/specs is absent (only in the accessgen workspace)")
def test_stripe_is_byte_identical_whatever_the_hash_seed(tmp_path: Path) -> None:
    spec = SHARED_SPECS / "stripe" / "spec3.yaml"
    # The session's black cache, shared with the corpus test: black's output is keyed by the
    # unformatted text, so a difference in what accessgen renders would still show.
    first = cli("generate", str(spec), "-o", str(tmp_path / "a"), "-q", seed="1", cwd=tmp_path)
    second = cli("generate", str(spec), "-o", str(tmp_path / "b"), "-q", seed="98765", cwd=tmp_path)
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    assert tree_digest(tmp_path / "a") == tree_digest(tmp_path / "b")


def test_manifest_removes_stale_code_keeps_user_files_and_check_gates(tmp_path: Path) -> None:
    spec = tmp_path / "mixed.yaml"
    text = (SPECS / "mixed-security.yaml").read_text()
    spec.write_text(text)
    out = tmp_path / "out"
    assert cli("generate", str(spec), "-o", str(out), "--package-name", "mixed", "-q", cwd=tmp_path).returncode == 0
    (out / "mixed" / "custom.py").write_text("# mine\n")
    before = tree_digest(out)
    assert "def basic_only(" in (out / "mixed" / "api" / "basic.py").read_text()

    # Remove one operation, and move another to a tag: their modules go, the tag's appears, nothing else is touched.
    trimmed = text.replace(
        """  /basic:
    get:
      operationId: basicOnly
      summary: HTTP basic credentials
      security:
        - basic: []
      responses:
        '204':
          description: Done.
""",
        "",
    ).replace("      operationId: httpBearer\n", "      operationId: httpBearer\n      tags: [tokens]\n")
    assert trimmed != text
    spec.write_text(trimmed)
    check = cli("generate", str(spec), "-o", str(out), "--package-name", "mixed", "--check", cwd=tmp_path)
    assert check.returncode == 1
    for line in ("removed: mixed/api/basic.py", "removed: mixed/api/bearer.py", "added: mixed/api/tokens.py"):
        assert line in check.stderr
    assert tree_digest(out) == before, "--check writes nothing"

    assert cli("generate", str(spec), "-o", str(out), "--package-name", "mixed", "-q", cwd=tmp_path).returncode == 0
    assert not (out / "mixed" / "api" / "basic.py").exists() and not (out / "mixed" / "api" / "bearer.py").exists()
    assert "def http_bearer(" in (out / "mixed" / "api" / "tokens.py").read_text()
    assert (out / "mixed" / "custom.py").read_text() == "# mine\n"
    after = tree_digest(out)
    changed = {p for p in after if after[p] != before.get(p)} | {p for p in before if p not in after}
    assert changed == {"mixed/api/basic.py", "mixed/api/bearer.py", "mixed/api/tokens.py", "mixed/client.py", "README.md", "API.md", ".accessgen-manifest.json"}

    clean = cli("generate", str(spec), "-o", str(out), "--package-name", "mixed", "--check", cwd=tmp_path)
    assert clean.returncode == 0, clean.stderr

    # A generated file deleted from the spec's output is reported as removed.
    spec.write_text(text)
    stale = cli("generate", str(spec), "-o", str(out), "--package-name", "mixed", "--check", cwd=tmp_path)
    assert stale.returncode == 1 and "removed: mixed/api/tokens.py" in stale.stderr


def test_regeneration_reformats_only_what_changed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from generator.pipeline import GenerateOptions, generate

    monkeypatch.setenv("ACCESSGEN_CACHE_DIR", str(tmp_path / "cache"))
    spec = tmp_path / "banking.yaml"
    text = (SPECS / "banking.yaml").read_text()
    spec.write_text(text)
    plain = generate(spec, GenerateOptions(package_name="banking_client"))
    assert plain.formatted_count == 0, "black runs on no module: the runtime is verbatim, the rest laid out"
    options = GenerateOptions(package_name="banking_client", format_all=True)
    cold = generate(spec, options)
    assert cold.files == plain.files, "black has nothing to change"
    assert cold.formatted_count == sum(1 for p in cold.files if p.endswith(".py") and "/_runtime/" not in p)
    assert generate(spec, options).formatted_count == 0, "nothing changed, nothing re-formatted"

    spec.write_text(text.replace("summary: Fetch a transfer and its state", "summary: Fetch one transfer"))
    changed = generate(spec, options)
    touched = {p for p in changed.files if changed.files[p] != cold.files[p]}
    assert touched == {"banking_client/api/transfers.py", "API.md"}  # the summary is in the reference too
    assert changed.formatted_count == 1


def test_regeneration_lays_out_only_what_changed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Laid-out modules are cached by their rendered text and the layout's own version, as black's
    output is: a one-operation change lays out one module, and the result is what a cold run gives."""
    from generator import render
    from generator.pipeline import GenerateOptions, generate

    laid_out: list[str] = []
    lay_out_module = render.lay_out_module

    def counted(text: str) -> str:
        laid_out.append(text.split("\n", 1)[0])
        return lay_out_module(text)

    monkeypatch.setattr(render, "lay_out_module", counted)
    monkeypatch.setenv("ACCESSGEN_CACHE_DIR", str(tmp_path / "cache"))
    spec = tmp_path / "banking.yaml"
    text = (SPECS / "banking.yaml").read_text()
    spec.write_text(text)
    options = GenerateOptions(package_name="banking_client")
    cold = generate(spec, options)
    modules = sum(1 for p in cold.files if p.endswith((".py", ".pyi")) and "/_runtime/" not in p)
    assert len(laid_out) == modules

    laid_out.clear()
    assert generate(spec, options).files == cold.files and laid_out == []

    spec.write_text(text.replace("summary: Fetch a transfer and its state", "summary: Fetch one transfer"))
    changed = generate(spec, options)
    assert laid_out == ['"""TransfersApi: the operations of `client.transfers`."""']
    monkeypatch.setenv("ACCESSGEN_CACHE_DIR", "")  # no cache: the same files
    assert generate(spec, options).files == changed.files

    # Another version of the layout lays everything out again.
    monkeypatch.setenv("ACCESSGEN_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(render, "_layout_version", lambda: "another layout")
    laid_out.clear()
    generate(spec, options)
    assert len(laid_out) == modules


def test_unchanged_regeneration_stops_early_and_notices_edits(tmp_path: Path) -> None:
    spec = tmp_path / "banking.yaml"
    spec.write_text((SPECS / "banking.yaml").read_text())
    out = tmp_path / "out"
    assert cli("generate", str(spec), "-o", str(out), "-q", cwd=tmp_path).returncode == 0
    again = cli("generate", str(spec), "-o", str(out), cwd=tmp_path)
    assert again.returncode == 0 and again.stdout.strip() == f"{out} is up to date"
    assert "warning" not in again.stderr, "the spec was not even parsed"

    edited = next(out.rglob("client.py"))
    edited.write_text(edited.read_text() + "# edited by hand\n")
    check = cli("generate", str(spec), "-o", str(out), "--check", cwd=tmp_path)
    assert check.returncode == 1 and "changed: " in check.stderr, "an edited generated file is not up to date"
    assert cli("generate", str(spec), "-o", str(out), "-q", cwd=tmp_path).returncode == 0
    assert "# edited by hand" not in edited.read_text()

    spec.write_text(spec.read_text().replace("version: 2.3.0", "version: 2.4.0"))
    bumped = cli("generate", str(spec), "-o", str(out), "-q", cwd=tmp_path)
    assert bumped.returncode == 0 and 'version = "2.4.0"' in (out / "pyproject.toml").read_text()
