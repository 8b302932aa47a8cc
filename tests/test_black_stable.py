"""Generated code is in black's style: black (the pinned version, accessgen's mode) leaves every
generated ``.py`` file unchanged, although black only runs where layout cannot promise it."""

from __future__ import annotations

import ast
import difflib
import json
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import black
import pytest

from generator import render
from generator.format import mode_for
from generator.layout import lay_out_module
from generator.pipeline import GenerateOptions, generate
from tests.conftest import our_root_specs, SHARED_SPECS, SPECS
from tests.test_hostile_shapes import SPEC as SHAPES_SPEC

OUR_SPECS = our_root_specs()
SHARED = [
    "swagger-petstore-v3/openapi.yaml",
    "adyen/CheckoutService-v72.json",
    "adyen/ManagementService-v3.json",
    "adyen/TransferService-v4.json",
    "open-finance-brasil/payments/4.0.0.yml",
]


def unstable(files: dict[str, str], *, workers: int = 1) -> list[str]:
    """A diff for each generated module black would change."""
    modules = [(path, text) for path, text in sorted(files.items()) if path.endswith((".py", ".pyi"))]
    if workers > 1:
        with ProcessPoolExecutor(workers) as pool:
            return [problem for problem in pool.map(_black_diff, modules, chunksize=8) if problem]
    return [problem for problem in map(_black_diff, modules) if problem]


def _black_diff(module: tuple[str, str]) -> str:
    path, text = module
    formatted = black.format_str(text, mode=mode_for(path))
    if formatted == text:
        return ""
    diff = difflib.unified_diff(text.splitlines(), formatted.splitlines(), path, "black", n=1, lineterm="")
    return "\n".join(list(diff)[:40])


def _check(spec: Path) -> None:
    changed: list[str] = []

    def lay_out_keeping_the_code(text: str) -> str:
        laid_out = lay_out_module(text)
        if ast.dump(ast.parse(laid_out)) != ast.dump(ast.parse(text)):
            changed.append(text.split("\n", 1)[0])
        return laid_out

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(render, "lay_out_module", lay_out_keeping_the_code)
        patch.setattr(render, "cache_dir", lambda: None)  # every module laid out: no layout cache
        result = generate(spec, GenerateOptions(package_name="stable_probe"))
    assert not changed, f"laying out lines changed the code of {len(changed)} module(s): {changed[:3]}"
    problems = unstable(result.files)
    assert not problems, f"{len(problems)} module(s) black would change:\n" + "\n\n".join(problems[:5])


@pytest.mark.parametrize("spec", OUR_SPECS, ids=lambda p: str(p.relative_to(SPECS)))
def test_our_specs_generate_black_stable_code(spec: Path) -> None:
    _check(spec)


def test_a_package_of_several_specs_is_black_stable() -> None:
    files = generate([SPECS / "banking.yaml", SPECS / "mixed-security.yaml"], GenerateOptions(package_name="bank")).files
    assert not unstable(files)


def test_hostile_shapes_generate_black_stable_code(tmp_path: Path) -> None:
    spec = tmp_path / "shapes.json"
    spec.write_text(json.dumps(SHAPES_SPEC))
    _check(spec)


@pytest.mark.parametrize("name", SHARED)
def test_shared_specs_generate_black_stable_code(name: str) -> None:
    spec = SHARED_SPECS / name
    if not spec.is_file():
        pytest.skip(f"../shared/specs is absent (only present in the accessgen workspace): {spec} not found")
    _check(spec)


def test_stripe_is_black_stable_and_no_module_is_huge() -> None:
    """The largest spec we have, every module (black takes about a minute of CPU here, so both
    cores share it). Untagged operations grouped by resource keep every module readable."""
    spec = SHARED_SPECS / "stripe" / "spec3.yaml"
    if not spec.is_file():
        pytest.skip(f"../shared/specs is absent (only present in the accessgen workspace): {spec} not found")
    files = generate(spec, GenerateOptions(package_name="stripe_client")).files
    longest = max((text.count("\n"), path) for path, text in files.items() if path.endswith((".py", ".pyi")))
    assert longest[0] <= 5000, f"{longest[1]} has {longest[0]} lines"
    problems = unstable(files, workers=min(os.cpu_count() or 1, 4))
    assert not problems, f"{len(problems)} module(s) black would change:\n" + "\n\n".join(problems[:5])
