"""Every generated package is proven by use: every model complete, every operation usable.

mypy passing and the package importing are not enough (issue 8: a recursive alias raising
``NameError`` in ``models/_aliases.py`` left a third of a package's models incomplete). For every
spec in ``specs/`` and every generatable root spec of the shared corpus, the checker
(``tests/support/exercise.py``, in a fresh interpreter) imports every module, completes every
model and alias, builds and round-trips a minimal instance of each, and calls every operation
over loopback HTTP: the request built from minimal arguments, each declared 2xx response served
as a minimal instance of its type and parsed back. Run with ``-s`` for the tally::

    python -m pytest tests/test_models_complete.py -s -q

A value the harness cannot build is a *harness limit*; limits fail the test too (every operation
must be shown usable), listed apart from the generator failures.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import our_root_specs, SPECS
from tests.support.corpus import Outcome
from tests.support.exercise import failure_lines, run_exercise

LOCAL_SPECS = our_root_specs()


def problems(report: dict[str, Any], expected_operations: int | None) -> list[str]:
    """Everything that keeps a package from being proven usable (empty when it is)."""
    found = failure_lines(report)
    found += [f"harness limit: {item['where']}: {item['reason']}" for item in report["limits"]]
    counts = [
        ("models complete", report["models_complete"], report["models_total"]),
        ("aliases usable", report["aliases_usable"], report["aliases_total"]),
        (
            "model and alias instances built",
            report["instances_built"],
            report["models_total"] + report["aliases_total"],
        ),
        (
            "operations with a request built",
            report["operations_request_built"],
            report["operations_total"],
        ),
        (
            "operations with every response parsed",
            report["operations_response_parsed"],
            report["operations_total"],
        ),
    ]
    found += [f"{label}: {done} of {total}" for label, done, total in counts if done != total]
    if expected_operations is not None and report["operations_total"] != expected_operations:
        found.append(
            f"{report['operations_total']} operations exercised, the generator made {expected_operations}"
        )
    return found


def tally(rows: list[tuple[str, dict[str, Any] | None, str]]) -> str:
    """spec, models, aliases, instances, operations, requests, responses, limits, seconds, note."""
    header = (
        "spec",
        "models",
        "aliases",
        "instances",
        "operations",
        "requests",
        "responses",
        "limits",
        "time",
        "note",
    )
    table = [header]
    for name, report, note in rows:
        if report is None:
            table.append((name, "-", "-", "-", "-", "-", "-", "-", "", note))
            continue
        limits = report["instances_limited"] + report["operations_limited"]
        failures = len(report["failures"])
        table.append(
            (
                name,
                f"{report['models_complete']}/{report['models_total']}",
                f"{report['aliases_usable']}/{report['aliases_total']}",
                str(report["instances_built"]),
                str(report["operations_total"]),
                str(report["operations_request_built"]),
                str(report["operations_response_parsed"]),
                str(limits),
                f"{report['seconds']:.1f}s",
                (f"{failures} FAILURES; " if failures else "") + note,
            )
        )
    widths = [max(len(row[i]) for row in table) for i in range(len(header) - 1)]
    lines = []
    for index, row in enumerate(table):
        lines.append(
            "  ".join([cell.ljust(width) for cell, width in zip(row, widths)] + [row[-1]]).rstrip()
        )
        if index == 0:
            lines.append("  ".join("-" * width for width in widths) + "  ----")
    return "\n".join(lines)


def _failure_message(title: str, broken: dict[str, list[str]]) -> str:
    lines = [title]
    for name, found in broken.items():
        lines.append(f"{name}: {len(found)} problem(s)")
        lines.extend(f"    {line}" for line in found[:25])
        if len(found) > 25:
            lines.append(f"    ... and {len(found) - 25} more")
    return "\n".join(lines)


def test_every_spec_in_specs_is_usable(tmp_path: Path) -> None:
    from generator.options import GenerateOptions
    from generator.pipeline import generate
    from generator.write import write_output

    assert LOCAL_SPECS, f"no specs under {SPECS}"
    packages: list[tuple[Path, str]] = []
    expected: dict[str, int] = {}
    rows: list[tuple[str, dict[str, Any] | None, str]] = []
    names: dict[str, str] = {}
    for index, spec in enumerate(LOCAL_SPECS):
        package = f"local_{index}_" + "".join(c if c.isalnum() else "_" for c in spec.stem)
        result = generate(spec, GenerateOptions(package_name=package))
        out = tmp_path / package
        write_output(out, result.files, "accessgen test")
        packages.append((out, result.package))
        expected[result.package] = result.operation_count
        names[result.package] = spec.relative_to(SPECS).as_posix()
    reports = run_exercise(packages)
    broken: dict[str, list[str]] = {}
    for report in reports:
        name = names[report["package"]]
        rows.append((name, report, ""))
        found = problems(report, expected[report["package"]])
        if found:
            broken[name] = found
    print()
    print(tally(rows))
    assert not broken, _failure_message("specs/ packages that are not usable end to end:", broken)


@pytest.mark.slow
@pytest.mark.timeout(1500)
def test_every_shared_spec_is_usable(corpus_outcomes: list[Outcome]) -> None:
    rows: list[tuple[str, dict[str, Any] | None, str]] = []
    broken: dict[str, list[str]] = {}
    for outcome in corpus_outcomes:
        name = outcome.entry.name
        if outcome.status != "generated" or outcome.exercise is None:
            rows.append((name, None, outcome.note or outcome.status))
            if outcome.status == "failed":
                broken[name] = [f"not generated: {problem}" for problem in outcome.problems]
            continue
        report = outcome.exercise
        rows.append((name, report, ""))
        found = problems(report, outcome.facts.operations)
        if found:
            broken[name] = found
    print()
    print(tally(rows))
    assert any(row[1] is not None for row in rows), "no shared spec was generated"
    assert not broken, _failure_message(
        "shared specs whose packages are not usable end to end:", broken
    )
