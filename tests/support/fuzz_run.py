"""Run accessgen over fuzzed specs and exercise the packages: the engine of ``tests/test_fuzz.py``.

Seeds are split into batches; each batch runs in a worker process that generates its specs
in-process (``generator.pipeline.generate`` with ``strict=True``, so every validator finding is an
error, + ``write_output``) and then exercises all of the batch's packages in one fresh interpreter
(``tests/support/exercise.py``), saving an interpreter start-up per package.
"""

from __future__ import annotations

import os
import time
import traceback
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from itertools import repeat
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from .exercise import failure_lines, run_exercise
from .fuzz_specs import fuzz_spec, write_spec


@dataclass
class SeedResult:
    seed: int
    spec: Path
    package: str
    out: Path
    version: str
    operations: int  # in the spec
    generated: bool = False
    problems: list[str] = field(default_factory=list)
    report: dict[str, Any] | None = None
    seconds_generate: float = 0.0

    def describe(self) -> str:
        """``seed 17 (OpenAPI 3.1.0, /tmp/.../fuzz-17.json): first problem; ...``"""
        shown = "\n    ".join(p[:500] for p in self.problems[:6])
        more = f"\n    ... and {len(self.problems) - 6} more" if len(self.problems) > 6 else ""
        return f"seed {self.seed} (OpenAPI {self.version}, {self.spec}):\n    {shown}{more}"


def package_name(seed: int) -> str:
    return f"fuzz_{seed}"


def run_batch(seeds: Sequence[int], root: str) -> list[SeedResult]:
    """Generate and exercise the packages of ``seeds`` under ``root`` (runs in a worker process)."""
    from generator.errors import AccessgenError
    from generator.options import GenerateOptions
    from generator.pipeline import generate
    from generator.write import write_output

    base = Path(root)
    results: list[SeedResult] = []
    layout_changes = _check_layout_keeps_the_code()
    for seed in seeds:
        fuzzed = fuzz_spec(seed)
        spec = write_spec(fuzzed, base / "specs")
        name = package_name(seed)
        result = SeedResult(
            seed, spec, name, base / "packages" / name, fuzzed.version, fuzzed.operations
        )
        started = time.monotonic()
        try:
            generated = generate(spec, GenerateOptions(package_name=name, strict=True))
            write_output(result.out, generated.files, "accessgen fuzz")
            result.generated = True
            if generated.operation_count != fuzzed.operations:
                result.problems.append(
                    f"the spec has {fuzzed.operations} operations, the generator made {generated.operation_count}"
                )
        except AccessgenError as exc:
            result.problems.append(
                f"generation refused a valid spec: {str(exc).splitlines()[0][:400]} (+{len(str(exc).splitlines()) - 1} lines)"
            )
        except Exception as exc:
            last = traceback.extract_tb(exc.__traceback__)[-1]
            result.problems.append(
                f"generation crashed: {type(exc).__name__}: {str(exc)[:300]} at {Path(last.filename).name}:{last.lineno}"
            )
        result.problems += [f"layout changed the code of {first_line}" for first_line in layout_changes]
        layout_changes.clear()
        result.seconds_generate = time.monotonic() - started
        results.append(result)
    generated = [r for r in results if r.generated]
    for result, report in zip(generated, run_exercise([(r.out, r.package) for r in generated])):
        result.report = report
        result.problems += failure_lines(report)
        result.problems += [
            f"harness limit: {item['where']}: {item['reason']}" for item in report["limits"]
        ]
        if report["operations_total"] != result.operations:
            result.problems.append(
                f"{report['operations_total']} operations exercised, the spec has {result.operations}"
            )
    return results


_LAYOUT_CHANGES: list[str] = []


def _check_layout_keeps_the_code() -> list[str]:
    """Make ``generator.render`` compare each module's syntax tree before and after ``layout``
    breaks its lines (once per worker process); the list collects the modules where they differ."""
    import ast

    from generator import render

    if not getattr(render.lay_out_module, "checks_the_code", False):
        lay_out_module = render.lay_out_module

        def checked(text: str) -> str:
            laid_out = lay_out_module(text)
            if ast.dump(ast.parse(laid_out)) != ast.dump(ast.parse(text)):
                _LAYOUT_CHANGES.append(text.split("\n", 1)[0][:120])
            return laid_out

        checked.checks_the_code = True  # type: ignore[attr-defined]
        render.lay_out_module = checked  # type: ignore[assignment]
        render.cache_dir = lambda: None  # lay out (and check) every module: no layout cache
    return _LAYOUT_CHANGES


def batches(seeds: Sequence[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(seeds), size):
        yield list(seeds[start : start + size])


def run_seeds(
    seeds: Sequence[int], root: Path, *, workers: int = 2, batch_size: int = 15
) -> list[SeedResult]:
    """Every seed generated and exercised, ``workers`` batches at a time; results in seed order."""
    if workers <= 1:
        return [r for batch in batches(seeds, batch_size) for r in run_batch(batch, str(root))]
    # spawn: a clean interpreter per worker, not a fork of the test process and its threads
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
        done = pool.map(run_batch, batches(seeds, batch_size), repeat(str(root)))
        return [r for batch in done for r in batch]


def fuzz_count(default: int) -> int:
    """How many seeds to run: ``ACCESSGEN_FUZZ_SPECS`` (e.g. 2000 before closing issue 8), else ``default``."""
    raw = os.environ.get("ACCESSGEN_FUZZ_SPECS", "").strip()
    return int(raw) if raw else default
