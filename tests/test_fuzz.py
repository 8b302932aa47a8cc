"""Fuzzed valid OpenAPI 3.0 and 3.1 specs: every one generates, imports and works end to end.

For seeds ``0..N-1`` (``N`` = 300, or ``ACCESSGEN_FUZZ_SPECS``: run 2,000 before closing issue 8)
``tests/support/fuzz_specs.py`` writes a valid spec full of hard names, every parameter location
and style, every body and response kind, recursion and security requirements; accessgen generates
it (``strict=True``: the spec is valid, so no validator finding is acceptable) and the checker
imports the package, completes every model and calls every operation over loopback HTTP. Zero
failures are allowed; each is reported with its seed and the spec's path. A 50-package sample goes
through one ``mypy --strict`` run. Reproduce one seed with::

    python -m tests.support.fuzz_specs 17 /tmp   # writes /tmp/fuzz-17.json
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.support.fuzz_run import SeedResult, fuzz_count, run_seeds
from tests.support.fuzz_specs import fuzz_spec

SPECS_TO_RUN = fuzz_count(300)
MYPY_SAMPLE = 50
VALIDATED_SEEDS = 40
# Every seeded generator change should keep all of these in the first 300 seeds.
FEATURES = {
    "openapi:3.0.0",
    "openapi:3.0.3",
    "openapi:3.1.0",
    "nullable",
    "const",
    "enum:str",
    "enum:int",
    "enum:number",
    "enum:nan-or-inf",
    "discriminator",
    "object-union",
    "inline-union",
    "allOf",
    "allOf-chain",
    "map",
    "inline-object",
    "recursive-object",
    "recursive-array",
    "recursive-map",
    "recursive-union",
    "json-value",
    "pattern",
    "default",
    "read-write-only",
    "deprecated",
    "content-parameter",
    "param:path:simple",
    "param:path:label",
    "param:path:matrix",
    "param:query:form",
    "param:query:spaceDelimited",
    "param:query:pipeDelimited",
    "param:query:deepObject",
    "param:header:simple",
    "param:cookie:form",
    "body:json",
    "body:form",
    "body:multipart",
    "body:binary",
    "body:text",
    "response:200",
    "response:201",
    "response:204",
    "response:2XX",
    "response:default",
    "scheme:apiKey:header",
    "scheme:apiKey:query",
    "scheme:apiKey:cookie",
    "scheme:http:basic",
    "scheme:http:bearer",
    "scheme:oauth2:",
    "scheme:openIdConnect:",
    "security:alternatives",
    "security:and",
    "security:optional",
}


_DIGEST = """
import hashlib, json, sys
from tests.conftest import REPO
from tests.support.fuzz_specs import fuzz_spec
seeds = range(int(sys.argv[1]))
text = "".join(json.dumps(fuzz_spec(seed).document, sort_keys=True) for seed in seeds)
print(hashlib.sha256(text.encode()).hexdigest())
"""


def _canonical(seed: int) -> str:
    return json.dumps(
        fuzz_spec(seed).document, sort_keys=True
    )  # NaN != NaN, but its text is stable


def test_fuzzed_specs_are_valid_deterministic_and_varied() -> None:
    from openapi_spec_validator import validate

    for seed in range(VALIDATED_SEEDS):
        fuzzed = fuzz_spec(seed)
        try:
            validate(fuzzed.document)
        except Exception as exc:
            pytest.fail(
                f"seed {seed} is not a valid OpenAPI {fuzzed.version} document: {str(exc)[:600]}"
            )
        assert _canonical(seed) == json.dumps(
            fuzzed.document, sort_keys=True
        ), f"seed {seed} is not deterministic"
    assert _canonical(1) != _canonical(2)
    digest = hashlib.sha256(
        "".join(_canonical(seed) for seed in range(VALIDATED_SEEDS)).encode()
    ).hexdigest()
    for hash_seed in ("1", "2"):  # the same documents in another process, whatever the hash order
        child = subprocess.run(
            [sys.executable, "-c", _DIGEST, str(VALIDATED_SEEDS)],
            env=dict(os.environ, PYTHONHASHSEED=hash_seed),
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert (
            child.stdout.strip() == digest
        ), f"PYTHONHASHSEED={hash_seed} gives other documents: {child.stderr[-500:]}"
    seen: Counter[str] = Counter()
    for seed in range(300):
        seen.update(fuzz_spec(seed).features)
    assert not FEATURES - set(
        seen
    ), f"features the first 300 seeds never produce: {sorted(FEATURES - set(seen))}"


@pytest.fixture(scope="module")
def fuzz_results(tmp_path_factory: pytest.TempPathFactory) -> list[SeedResult]:
    root = tmp_path_factory.mktemp("fuzz")
    started = time.monotonic()
    results = run_seeds(range(SPECS_TO_RUN), root)
    elapsed = time.monotonic() - started
    generated = [r for r in results if r.generated]
    versions = Counter(r.version for r in results)
    print(
        f"\nfuzz: {len(results)} specs ({', '.join(f'{n} x {v}' for v, n in sorted(versions.items()))}) in {elapsed:.0f} s; "
        f"{len(generated)} generated (mean {sum(r.seconds_generate for r in results) / max(len(results), 1):.2f} s each), "
        f"{sum(1 for r in results if not r.problems)} without a problem; "
        f"{sum(r.operations for r in results)} operations; specs and packages under {root}"
    )
    return results


@pytest.mark.timeout(3600)
def test_fuzzed_specs_generate_import_and_work(fuzz_results: list[SeedResult]) -> None:
    failed = [r for r in fuzz_results if r.problems]
    if failed:
        kinds = Counter(p.split(":", 1)[0] for r in failed for p in r.problems)
        shown = "\n".join(r.describe() for r in failed[:30])
        more = f"\n... and {len(failed) - 30} more seeds" if len(failed) > 30 else ""
        pytest.fail(
            f"{len(failed)} of {len(fuzz_results)} fuzzed specs fail (problems by kind: {dict(kinds.most_common())}):\n"
            f"{shown}{more}\nreproduce a seed with: python -m tests.support.fuzz_specs SEED DIR"
        )


@pytest.mark.timeout(1800)
def test_fuzzed_sample_passes_mypy_strict(fuzz_results: list[SeedResult]) -> None:
    generated = [r for r in fuzz_results if r.generated]
    step = max(len(generated) // MYPY_SAMPLE, 1)
    sample = generated[::step][:MYPY_SAMPLE]
    assert (
        len(sample) == min(MYPY_SAMPLE, len(generated)) and sample
    ), "no fuzzed package was generated"
    env = dict(
        os.environ,
        MYPYPATH=os.pathsep.join(str(r.out) for r in sample),
        PYTHONDONTWRITEBYTECODE="1",
    )
    command = [
        sys.executable,
        "-m",
        "mypy",
        "--strict",
        "--no-incremental",
        "--cache-dir",
        os.devnull,
    ]
    for result in sample:
        command += ["-p", result.package]
    started = time.monotonic()
    done = subprocess.run(
        command, env=env, cwd=sample[0].out.parent, capture_output=True, text=True, timeout=1500
    )
    print(
        f"\nmypy --strict over {len(sample)} fuzzed packages: {time.monotonic() - started:.0f} s, exit {done.returncode}"
    )
    if done.returncode == 0:
        return
    by_package: dict[str, list[str]] = {}
    for line in done.stdout.splitlines():
        if ": error:" in line:
            package = Path(line.split(":", 1)[0]).parts[0]
            by_package.setdefault(package, []).append(line)
    spec_of = {r.package: r for r in sample}
    lines = []
    for package, errors in sorted(by_package.items()):
        result = spec_of.get(package)
        where = f"seed {result.seed} ({result.spec})" if result else package
        lines.append(f"{where}: {len(errors)} error(s)")
        lines.extend(f"    {error}" for error in errors[:5])
    if not lines:
        lines.append((done.stdout + done.stderr)[-3000:])
    pytest.fail(
        f"mypy --strict fails on {len(by_package)} of {len(sample)} fuzzed packages:\n"
        + "\n".join(lines)
    )
