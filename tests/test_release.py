"""Releases: the surface the manifest records, --changelog, --version-from bump, diff against an output."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

from generator.cli import main
from generator.diff import build_surface, surface_from_record, surface_record
from generator.pipeline import load_api
from generator.release import FIRST_BUMPED_VERSION, bumped, prepend_entry
from tests.conftest import SPECS
from tests.support.bank_releases import ADDITIVE, BANKING, BREAKING


def run(
    *args: str, cwd: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> tuple[int, str, str]:
    """``accessgen ARGS`` in this process (the same entry point as the console script): status, stdout, stderr."""
    monkeypatch.chdir(cwd)
    monkeypatch.setattr(sys, "argv", ["accessgen", *args])
    capsys.readouterr()
    try:
        main()
        status = 0
    except SystemExit as exc:
        status = exc.code if isinstance(exc.code, int) else 1
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def _version(out: Path) -> str:
    match = re.search(r'^version = "([^"]+)"$', (out / "pyproject.toml").read_text(), re.MULTILINE)
    assert match
    return match.group(1)


def test_bumps_follow_semver_from_the_release_part() -> None:
    assert [bumped("1.2.3", b) for b in ("major", "minor", "patch", "none")] == [
        "2.0.0",
        "1.3.0",
        "1.2.4",
        "1.2.3",
    ]
    assert bumped("2023.10.16", "minor") == "2023.11.0"
    assert bumped("1.0", "patch") == "1.0.1" and bumped("7", "minor") == "7.1.0"
    assert bumped("2.0.0b1", "patch") == "2.0.1" and bumped("1.0.post2", "major") == "2.0.0"


def test_a_changelog_entry_goes_on_top_below_the_title() -> None:
    entry = "## 1.1.0\n\nchanges\n"
    assert prepend_entry(None, entry) == "# Changelog\n\n## 1.1.0\n\nchanges\n"
    assert (
        prepend_entry("# History\n\n## 1.0.0\n\nfirst\n", entry)
        == "# History\n\n## 1.1.0\n\nchanges\n\n## 1.0.0\n\nfirst\n"
    )
    assert prepend_entry("## 1.0.0\n", entry) == "## 1.1.0\n\nchanges\n\n## 1.0.0\n"


@pytest.mark.parametrize(
    "spec",
    [
        "banking.yaml",
        "mixed-security.yaml",
        "hostile.yaml",
        "features/schemas.yaml",
        "features/markdown.yaml",
    ],
)
def test_the_recorded_surface_reads_back_as_it_was(spec: str) -> None:
    surface = build_surface(load_api(SPECS / spec)[0])
    record = json.loads(json.dumps(surface_record(surface)))
    assert surface_from_record(record) == surface
    with pytest.raises(ValueError, match="not a recorded API surface"):
        surface_from_record({**record, "operations": [{"key": 1}]})


def release_args(spec: Path, out: Path) -> list[str]:
    """A release generation: the version bumped by what changed, an entry in CHANGELOG.md."""
    return [
        "generate",
        str(spec),
        "-o",
        str(out),
        "--version-from",
        "bump",
        "--changelog",
        "CHANGELOG.md",
        "-q",
    ]


def test_two_generations_give_a_changelog_entry_and_a_bumped_version(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    spec, out = tmp_path / "api.yaml", tmp_path / "client"
    release = release_args(spec, out)
    spec.write_text(BANKING)
    assert run(*release, cwd=tmp_path, capsys=capsys, monkeypatch=monkeypatch)[0] == 0
    assert _version(out) == FIRST_BUMPED_VERSION == "1.0.0"
    assert (out / "CHANGELOG.md").read_text() == (
        "# Changelog\n\n## 1.0.0\n\nFirst release of the client, generated from Example Bank Banking 2.3.0.\n"
    )

    spec.write_text(ADDITIVE)
    assert run(*release, cwd=tmp_path, capsys=capsys, monkeypatch=monkeypatch)[0] == 0
    assert _version(out) == "1.1.0", "a new optional parameter: minor"
    changelog = (out / "CHANGELOG.md").read_text()
    assert changelog.startswith(
        "# Changelog\n\n## 1.1.0\n\n### API changes 2.3.0 → 2.4.0\n\n**1 changes, 0 breaking; suggested version bump: minor**\n\n"
        "| | Change | Where | Detail |\n|---|---|---|---|\n"
        "|  | parameter-added | `transfers.get_transfer(expand)` | new optional query parameter 'expand': bool \\| None |\n\n## 1.0.0\n"
    ), changelog
    manifest = json.loads((out / ".accessgen-manifest.json").read_text())
    assert (
        manifest["release"]["version"] == "1.1.0"
        and manifest["release"]["surfaces"][""]["api_version"] == "2.4.0"
    )
    check = run(
        "generate",
        str(spec),
        "-o",
        str(out),
        "--version-from",
        "bump",
        "--check",
        cwd=tmp_path,
        capsys=capsys,
        monkeypatch=monkeypatch,
    )
    assert check[0] == 0, check

    # Regenerated from a spec whose client is the same: no entry, no new version.
    spec.write_text(ADDITIVE + "# a comment changes the file, not the API\n")
    assert run(*release, cwd=tmp_path, capsys=capsys, monkeypatch=monkeypatch)[0] == 0
    assert _version(out) == "1.1.0" and (out / "CHANGELOG.md").read_text() == changelog

    spec.write_text(BREAKING)
    assert run(*release, cwd=tmp_path, capsys=capsys, monkeypatch=monkeypatch)[0] == 0
    assert _version(out) == "2.0.0", "an operation renamed: major"
    entry = (out / "CHANGELOG.md").read_text().split("## 1.1.0")[0]
    assert (
        "## 2.0.0\n\n### API changes 2.4.0 → 3.0.0\n\n**1 changes, 1 breaking; suggested version bump: major**"
        in entry
    )
    assert (
        "| ⚠️ **breaking** | operation-renamed | `transfers.get_transfer` | now client.transfers.fetch_transfer"
        in entry
    )

    # diff compares what the output recorded with a spec: the gate CI runs before regenerating.
    spec.write_text(BANKING)
    status, stdout, stderr = run(
        "diff", str(out), str(spec), cwd=tmp_path, capsys=capsys, monkeypatch=monkeypatch
    )
    assert status == 1 and "BREAKING  operation-renamed  transfers.fetch_transfer" in stdout, (
        stdout + stderr
    )
    assert (
        run(
            "diff",
            str(out),
            str(spec.with_name("none.yaml")),
            cwd=tmp_path,
            capsys=capsys,
            monkeypatch=monkeypatch,
        )[0]
        == 3
    )


def test_under_the_spec_policy_the_entry_carries_info_version(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    spec, out = tmp_path / "api.yaml", tmp_path / "client"
    (tmp_path / "pyproject.toml").write_text(
        '[tool.accessgen]\nspecs = ["api.yaml"]\noutput = "client"\nchangelog = "docs/CHANGES.md"\n'
    )
    spec.write_text(BANKING)
    assert run("generate", "-q", cwd=tmp_path, capsys=capsys, monkeypatch=monkeypatch)[0] == 0
    spec.write_text(BREAKING)
    assert run("generate", "-q", cwd=tmp_path, capsys=capsys, monkeypatch=monkeypatch)[0] == 0
    assert _version(out) == "3.0.0"
    changes = (out / "docs" / "CHANGES.md").read_text()
    assert changes.index("## 3.0.0") < changes.index("## 2.3.0") and "operation-renamed" in changes
    manifest = json.loads((out / ".accessgen-manifest.json").read_text())
    assert (
        "docs/CHANGES.md" not in manifest["files"]
    ), "the changelog is the user's file, not a generated one"
    # --check never looks at the changelog, and the next generation carries it over untouched.
    (out / "docs" / "CHANGES.md").write_text(changes + "edited by hand\n")
    assert run("generate", "--check", cwd=tmp_path, capsys=capsys, monkeypatch=monkeypatch)[0] == 0


def test_changelog_paths_and_settings_are_checked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = tmp_path / "api.yaml"
    spec.write_text(BANKING)
    for outside in ("../CHANGELOG.md", "/tmp/CHANGELOG.md", "."):
        status, _, stderr = run(
            "generate",
            str(spec),
            "-o",
            "client",
            "--changelog",
            outside,
            cwd=tmp_path,
            capsys=capsys,
            monkeypatch=monkeypatch,
        )
        assert status == 2 and "inside the output directory" in stderr, stderr
    status, _, stderr = run(
        "generate",
        str(spec),
        "-o",
        "client",
        "--changelog",
        "README.md",
        cwd=tmp_path,
        capsys=capsys,
        monkeypatch=monkeypatch,
    )
    assert status == 4 and "README.md is a file accessgen generates" in stderr
    assert not (tmp_path / "client").exists()
    (tmp_path / "pyproject.toml").write_text('[tool.accessgen]\nversion-from = "date"\n')
    status, _, stderr = run(
        "generate", str(spec), "-o", "client", cwd=tmp_path, capsys=capsys, monkeypatch=monkeypatch
    )
    assert status == 3 and "version-from must be one of 'spec', 'bump'" in stderr


def test_an_output_of_an_older_accessgen_bumps_from_its_pyproject_version(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    spec, out = tmp_path / "api.yaml", tmp_path / "client"
    spec.write_text(BANKING)
    assert (
        run(
            "generate",
            str(spec),
            "-o",
            str(out),
            "--package-version",
            "1.4.0",
            "-q",
            cwd=tmp_path,
            capsys=capsys,
            monkeypatch=monkeypatch,
        )[0]
        == 0
    )
    manifest_path = out / ".accessgen-manifest.json"
    manifest = json.loads(manifest_path.read_text())
    del manifest["release"]  # as an accessgen without release records wrote it
    manifest_path.write_text(json.dumps(manifest, indent=2))
    spec.write_text(ADDITIVE)
    args = release_args(spec, out)
    assert run(*args, cwd=tmp_path, capsys=capsys, monkeypatch=monkeypatch)[0] == 0
    assert _version(out) == "1.5.0", "the changes are unknown: minor"
    assert (
        "## 1.5.0\n\nThe earlier output recorded no API surface"
        in (out / "CHANGELOG.md").read_text()
    )

    manifest = json.loads(manifest_path.read_text())
    manifest["release"] = {"format": 99}
    manifest_path.write_text(json.dumps(manifest))
    spec.write_text(ADDITIVE + "# past the up-to-date check\n")
    status, _, stderr = run(*args, cwd=tmp_path, capsys=capsys, monkeypatch=monkeypatch)
    assert status == 4 and "delete it to start afresh" in stderr


def test_a_package_of_several_specs_records_each_and_bumps_for_the_worst(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    bank, mixed, out = tmp_path / "bank.yaml", tmp_path / "mixed.yaml", tmp_path / "client"
    bank.write_text(BANKING)
    mixed.write_text((SPECS / "mixed-security.yaml").read_text())
    args = [
        "generate",
        str(bank),
        str(mixed),
        "-o",
        str(out),
        "--package-name",
        "both",
        "--version-from",
        "bump",
        "--changelog",
        "CHANGELOG.md",
        "-q",
    ]
    assert run(*args, cwd=tmp_path, capsys=capsys, monkeypatch=monkeypatch)[0] == 0
    assert sorted(
        json.loads((out / ".accessgen-manifest.json").read_text())["release"]["surfaces"]
    ) == ["example_bank_banking", "mixed_security"]
    bank.write_text(BREAKING)
    assert run(*args, cwd=tmp_path, capsys=capsys, monkeypatch=monkeypatch)[0] == 0
    assert _version(out) == "2.0.0"
    entry = (out / "CHANGELOG.md").read_text().split("## 1.0.0")[0]
    assert entry.index("### Example Bank Banking") < entry.index(
        "### Mixed Security"
    ), "breaking changes first"
    assert "#### API changes 2.3.0 → 3.0.0" in entry
    assert "operation-renamed" in entry and "**no changes; suggested version bump: none**" in entry
    status, _, stderr = run(
        "diff", str(out), str(bank), cwd=tmp_path, capsys=capsys, monkeypatch=monkeypatch
    )
    assert status == 3 and "several APIs" in stderr


def test_spec_text_in_the_changes_stays_text_in_markdown(tmp_path: Path) -> None:
    from markdown_it import MarkdownIt

    from generator.diff import diff_specs, render_markdown

    original = (SPECS / "features" / "markdown.yaml").read_text()
    edited = tmp_path / "edited.yaml"
    edited.write_text(
        original.replace('version: "1.0 <i>"', 'version: "[2.0](javascript:alert(1)) *x*"')
        .replace('["read|all", "write`it`"]', '["read|all", "write`it`", "<b>x</b>"]')
        .replace('"<b>x</b>"]', '"<b>x</b>", "~~y~~ _z_"]')
        .replace(
            '"write`it`": "backtick scope"',
            '"write`it`": "backtick scope"\n            "<b>x</b>": "html"\n            "~~y~~ _z_": "marks"',
        )
    )
    report = diff_specs(SPECS / "features" / "markdown.yaml", edited)
    assert any(c.kind == "scopes-added" for c in report.changes), report
    tokens = (
        MarkdownIt("commonmark")
        .enable("table")
        .enable("strikethrough")
        .parse(render_markdown(report))
    )
    kinds = {t.type for t in tokens} | {c.type for t in tokens for c in t.children or []}
    assert not kinds & {"html_inline", "html_block", "link_open", "s_open", "em_open"}, kinds
    rows = [t for t in tokens if t.type == "tr_open"]
    assert len(rows) == len(report.changes) + 1, "a pipe in spec text never splits a cell"
    heading = next(tokens[i + 1] for i, t in enumerate(tokens) if t.type == "heading_open")
    assert (
        "".join(c.content for c in heading.children or [])
        == "API changes 1.0 <i> → [2.0](javascript:alert(1)) *x*"
    )
