"""Validation: where findings are reported, the verdict cache, and validation beside the pipeline."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from generator import pipeline, validate
from generator.errors import SpecError
from generator.load import load_spec
from generator.options import GenerateOptions
from generator.validate import start_validation

REPO = Path(__file__).resolve().parents[1]
SPLIT = REPO / "specs" / "validation" / "split-patterns" / "openapi.yaml"
DESCRIPTION_PROPERTY = REPO / "specs" / "validation" / "description-property.yaml"

MINIMAL = """\
openapi: 3.1.0
info:
  title: Minimal
  version: 1.0.0
paths:
  /things:
    get:
      operationId: listThings
      responses:
        '200':
          description: The things.
          content:
            application/json:
              schema:
                $ref: '#/components/schemas/Thing'
components:
  schemas:
    Thing:
      type: object
      properties:
        code:
          type: string
          pattern: '^[A-Z]+$'
"""


def accessgen(*args: str, seed: str = "0", cwd: Path = REPO, cache: str = "") -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONHASHSEED=seed, ACCESSGEN_CACHE_DIR=cache)
    return subprocess.run([sys.executable, "-m", "generator", *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=300)


@pytest.fixture()
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("ACCESSGEN_CACHE_DIR", str(folder))
    return folder


@pytest.fixture()
def validator_calls(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Runs of openapi-spec-validator (in this process: the fork is switched off to count them)."""
    calls: list[Path] = []
    real = validate.run_validator

    def counted(source: validate.SpecSource) -> tuple[list[validate.Finding], dict[Path, str]]:
        calls.append(source.root_path)
        return real(source)

    monkeypatch.setattr(validate, "CONCURRENT", False)
    monkeypatch.setattr(validate, "run_validator", counted)
    return calls


# ---------------------------------------------------------------- where findings are reported


def test_pattern_warnings_of_a_split_spec_name_the_file_line_and_pointer_of_each_pattern() -> None:
    run = accessgen("validate", str(SPLIT.relative_to(REPO)))
    assert run.returncode == 0, run.stderr
    warnings = [line for line in run.stderr.splitlines() if "pattern uses syntax" in line]
    places = [line.split(": warning:")[0] for line in warnings]
    assert places == [
        "accessgen: specs/validation/split-patterns/schemas.yaml:14 at #/Code/pattern",
        "accessgen: specs/validation/split-patterns/schemas.yaml:9 at #/Item/properties/name/pattern",
        "accessgen: specs/validation/split-patterns/schemas.yaml:20 at #/Owner/properties/email/pattern",
        "accessgen: specs/validation/split-patterns/schemas.yaml:23 at #/Owner/properties/nickname/pattern",
    ]
    assert "4 warnings" in run.stdout


def test_findings_are_the_same_under_any_hash_seed() -> None:
    runs = [accessgen("validate", "--strict", str(SPLIT.relative_to(REPO)), seed=seed) for seed in ("1", "2", "3")]
    assert {run.returncode for run in runs} == {3}
    assert runs[0].stderr.count("error: pattern uses syntax") == 4
    assert runs[0].stderr == runs[1].stderr == runs[2].stderr


def test_thousands_of_bad_patterns_give_every_finding_in_a_stable_summed_up_report(tmp_path: Path) -> None:
    properties = "".join(f"        p{index:04d}:\n          type: string\n          pattern: '^\\p{{L}}{{{index}}}$'\n" for index in range(2000))
    spec = tmp_path / "many.yaml"
    spec.write_text(MINIMAL.replace("        code:\n          type: string\n          pattern: '^[A-Z]+$'\n", properties), encoding="utf-8")
    runs = [accessgen("validate", str(spec), seed=seed) for seed in ("1", "2")]
    assert runs[0].returncode == 0, runs[0].stderr
    assert runs[0].stderr == runs[1].stderr
    lines = runs[0].stderr.splitlines()
    shown = [line for line in lines if "pattern uses syntax" in line and "more like the above" not in line]
    assert len(shown) == validate.SHOWN_PER_KIND
    assert shown[0].split(": warning:")[0].endswith("many.yaml:23 at #/components/schemas/Thing/properties/p0000/pattern")
    summary = [line for line in lines if "more like the above" in line]
    assert len(summary) == 1
    assert f"{2000 - validate.SHOWN_PER_KIND} more like the above (pattern uses syntax Python's re does not accept)" in summary[0]
    assert "#/components/schemas/Thing/properties/p0020/pattern" in summary[0]
    assert "2000 warnings" not in runs[0].stdout  # the summed-up ones count as one line each
    source = load_spec(spec)
    findings, _ = validate.run_validator(source)
    assert len([f for f in findings if "pattern uses syntax" in f.message]) == 2000


def test_a_property_named_description_is_a_property(tmp_path: Path) -> None:
    run = accessgen("validate", str(DESCRIPTION_PROPERTY.relative_to(REPO)))
    assert run.returncode == 0, run.stderr
    assert "0 warnings" in run.stdout
    result = pipeline.generate(DESCRIPTION_PROPERTY, GenerateOptions(package_name="described"))
    models = "".join(text for path, text in result.files.items() if "models" in path)
    assert "description: Text" in models


def test_a_ref_as_a_description_text_is_still_ignored_with_a_warning(tmp_path: Path) -> None:
    spec = tmp_path / "tagged.yaml"
    text = MINIMAL.replace("paths:\n", "tags:\n  - name: things\n    description:\n      $ref: 'texts.yaml#/things'\npaths:\n")
    spec.write_text(text, encoding="utf-8")
    (tmp_path / "texts.yaml").write_text("things: The things we keep.\n", encoding="utf-8")
    run = accessgen("validate", str(spec))
    assert run.returncode == 0, run.stderr
    assert "tagged.yaml:7 at #/tags/0/description: warning: a $ref inside a description is not allowed by OpenAPI" in run.stderr


def test_a_repeated_enum_value_is_a_warning_and_an_error_when_strict(tmp_path: Path) -> None:
    spec = tmp_path / "enum.yaml"
    spec.write_text(MINIMAL.replace("openapi: 3.1.0", "openapi: 3.0.3").replace("pattern: '^[A-Z]+$'", "enum: [A, B, A]"), encoding="utf-8")
    loose = accessgen("validate", str(spec))
    assert loose.returncode == 0, loose.stderr
    warning = "#/components/schemas/Thing/properties/code/enum: warning: enum lists 'A' more than once; each value is kept once"
    assert warning in loose.stderr and loose.stderr.count("more than once") == 1, "reported once, by the build"
    strict = accessgen("validate", "--strict", str(spec))
    assert strict.returncode == 3
    assert "#/components/schemas/Thing/properties/code/enum: error: enum lists 'A' more than once" in strict.stderr


# ---------------------------------------------------------------- the verdict cache


def invalid_spec(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    spec = folder / "invalid.yaml"
    spec.write_text(MINIMAL.replace("  version: 1.0.0\n", ""), encoding="utf-8")
    return spec


def test_a_cached_verdict_answers_without_running_the_validator(tmp_path: Path, cache: Path, validator_calls: list[Path]) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(MINIMAL, encoding="utf-8")
    first = validate.validate(load_spec(spec))
    second = validate.validate(load_spec(spec))
    assert validator_calls == [spec.resolve()]
    assert first == second
    copy = tmp_path / "elsewhere" / "spec.yaml"  # the same content at another path: the same verdict
    copy.parent.mkdir()
    copy.write_text(MINIMAL, encoding="utf-8")
    validate.validate(load_spec(copy))
    assert len(validator_calls) == 1
    assert list((cache / "validation").rglob("*.json"))


def test_a_cached_verdict_with_errors_still_fails_the_run_with_the_same_message(tmp_path: Path, cache: Path, validator_calls: list[Path]) -> None:
    spec = invalid_spec(tmp_path)
    messages = []
    for _ in range(2):
        with pytest.raises(SpecError) as failure:
            pipeline.generate(spec, GenerateOptions(package_name="invalid"))
        messages.append(str(failure.value))
    assert len(validator_calls) == 1
    assert messages[0] == messages[1]
    assert "'version' is a required property" in messages[0]
    cli = [accessgen("generate", str(spec), "-o", str(tmp_path / "out"), cache=str(cache)) for _ in range(2)]
    assert cli[0].returncode == cli[1].returncode != 0
    assert cli[0].stderr == cli[1].stderr
    assert not (tmp_path / "out").exists()


def test_a_changed_document_is_validated_again(tmp_path: Path, cache: Path, validator_calls: list[Path]) -> None:
    root = tmp_path / "split"
    root.mkdir()
    spec = root / "openapi.yaml"
    spec.write_text(MINIMAL.replace("      type: object\n      properties:\n        code:\n          type: string\n          pattern: '^[A-Z]+$'\n", "      $ref: 'schemas.yaml#/Thing'\n"), encoding="utf-8")
    schemas = root / "schemas.yaml"
    schemas.write_text("Thing:\n  type: object\n  properties:\n    code:\n      type: string\n      pattern: '^[A-Z]+$'\n", encoding="utf-8")
    assert validate.validate(load_spec(spec)).warnings == ()
    assert validate.validate(load_spec(spec)).warnings == ()
    assert len(validator_calls) == 1
    schemas.write_text(schemas.read_text().replace("'^[A-Z]+$'", "'^\\p{Lu}+$'"), encoding="utf-8")
    warnings = validate.validate(load_spec(spec)).warnings
    assert len(validator_calls) == 2
    assert [str(w.location) for w in warnings] == [f"{schemas}:6 at #/Thing/properties/code/pattern"]
    spec.write_text(spec.read_text().replace("title: Minimal", "title: Changed"), encoding="utf-8")
    validate.validate(load_spec(spec))
    assert len(validator_calls) == 3


def test_no_cache_when_the_cache_is_switched_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, validator_calls: list[Path]) -> None:
    monkeypatch.setenv("ACCESSGEN_CACHE_DIR", "")
    spec = tmp_path / "spec.yaml"
    spec.write_text(MINIMAL, encoding="utf-8")
    validate.validate(load_spec(spec))
    validate.validate(load_spec(spec))
    assert len(validator_calls) == 2


# ---------------------------------------------------------------- validation beside the pipeline


def test_validation_in_a_forked_process_gives_what_validation_inline_gives(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if not validate.CONCURRENT:
        pytest.skip("no fork on this platform: validation runs inline")
    monkeypatch.setenv("ACCESSGEN_CACHE_DIR", "")
    started: list[int] = []
    real_start = validate._ValidatorProcess.start

    def start(source: validate.SpecSource, phase: str) -> validate._ValidatorProcess | None:
        process = real_start(source, phase)
        assert process is not None
        started.append(process.pid)
        return process

    monkeypatch.setattr(validate._ValidatorProcess, "start", staticmethod(start))
    forked = start_validation(load_spec(SPLIT)).result()
    inline = validate.validate(load_spec(SPLIT))
    assert len(started) == 2  # one process per phase
    assert forked == inline
    assert len(forked.warnings) == 4
    with pytest.raises(SpecError) as forked_failure:
        start_validation(load_spec(invalid_spec(tmp_path))).result()
    with pytest.raises(SpecError) as inline_failure:
        validate.validate(load_spec(invalid_spec(tmp_path)))
    assert str(forked_failure.value) == str(inline_failure.value)
    assert len(started) == 4


def test_a_forked_verdict_records_the_documents_the_keyword_phase_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The keyword phase follows ``$ref``s into other documents in its own process: the cached
    verdict must still name them, or a change there would not validate the spec again."""
    if not validate.CONCURRENT:
        pytest.skip("no fork on this platform: validation runs inline")
    recorded = {}
    for mode, concurrent in (("forked", True), ("inline", False)):
        folder = tmp_path / mode
        monkeypatch.setenv("ACCESSGEN_CACHE_DIR", str(folder))
        start_validation(load_spec(SPLIT), concurrent=concurrent).result()
        (verdict,) = (folder / "validation").rglob("*.json")
        recorded[mode] = json.loads(verdict.read_text(encoding="utf-8"))["read"]
    assert recorded["forked"] == recorded["inline"]
    assert list(recorded["forked"]) == ["schemas.yaml"]


def test_a_validation_error_wins_over_a_failure_while_building(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACCESSGEN_CACHE_DIR", "")

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("build stage failed")

    monkeypatch.setattr(pipeline, "build_api", broken)
    with pytest.raises(SpecError, match="'version' is a required property"):
        pipeline.generate(invalid_spec(tmp_path), GenerateOptions(package_name="invalid"))
    valid = tmp_path / "valid.yaml"
    valid.write_text(MINIMAL, encoding="utf-8")
    with pytest.raises(RuntimeError, match="build stage failed"):
        pipeline.generate(valid, GenerateOptions(package_name="valid"))


def test_ctrl_c_while_building_stops_the_validator_without_waiting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if not validate.CONCURRENT:
        pytest.skip("no fork on this platform: validation runs inline")
    monkeypatch.setenv("ACCESSGEN_CACHE_DIR", "")
    killed: list[int] = []
    real_kill = validate._ValidatorProcess.kill

    def kill(process: validate._ValidatorProcess) -> None:
        killed.append(process.pid)
        real_kill(process)

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(validate._ValidatorProcess, "kill", kill)
    monkeypatch.setattr(pipeline, "build_api", interrupted)
    with pytest.raises(KeyboardInterrupt):
        pipeline.generate(SPLIT, GenerateOptions(package_name="split"))
    assert len(killed) == 2  # both phases' processes
    for pid in killed:
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)  # reaped: nothing is left running
