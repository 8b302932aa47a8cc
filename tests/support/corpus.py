"""The shared corpus of real public specs (``../shared/specs``) and how to run accessgen over it.

Used by ``tests/test_corpus.py``. The corpus lives beside the repository only in the
accessgen workspace (and in CI, where the clone is ``$d/main`` with ``$d/shared`` beside
it); callers skip with a reason where :func:`shared_specs_dir` finds nothing.

Each root spec goes through the command line in a subprocess (as a user would run it),
then the generated package is exercised in a fresh interpreter (``tests/support/exercise.py``:
every module imported, every model and alias built, every operation called over loopback
HTTP) and checked by ``mypy --strict``. :func:`run_corpus` does that for every root spec once
per test session (the ``corpus_outcomes`` fixture), for ``tests/test_corpus.py`` (generation,
import, operation counts, mypy) and ``tests/test_models_complete.py`` (every model complete,
every operation usable).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .exercise import failure_lines, run_exercise

REPO = Path(__file__).resolve().parents[2]

#: Seconds allowed for one ``accessgen generate`` run and for one import check.
GENERATE_TIMEOUT = 480.0
EXERCISE_TIMEOUT = 480.0
MYPY_TIMEOUT = 600.0


def shared_specs_dir() -> Path:
    """``../shared/specs`` relative to the repository root (may not exist)."""
    return REPO.parent / "shared" / "specs"


# ---------------------------------------------------------------- the README table


@dataclass(frozen=True)
class CorpusEntry:
    """One row of the table in ``shared/specs/README.md``."""

    name: str
    path: Path
    listed_openapi: str
    listed_operations: int | None


_ROW = re.compile(r"^\|(?P<cells>.*)\|\s*$")


def root_specs(specs_dir: Path) -> list[CorpusEntry]:
    """The root specs the README's table lists (``| name | source | licence | OpenAPI | operations | validator |``)."""
    readme = specs_dir / "README.md"
    entries: list[CorpusEntry] = []
    header: list[str] | None = None
    for line in readme.read_text(encoding="utf-8").splitlines():
        match = _ROW.match(line.strip())
        if not match:
            header = None
            continue
        cells = [cell.strip() for cell in match.group("cells").split("|")]
        if header is None:
            if cells and cells[0].lower() == "name":
                header = [cell.lower() for cell in cells]
            continue
        if all(set(cell) <= set("-: ") for cell in cells):
            continue  # the |---|---| separator
        row = dict(zip(header, cells))
        name = row.get("name", "")
        if not name:
            continue
        ops = row.get("operations", "")
        entries.append(
            CorpusEntry(
                name=name,
                path=specs_dir / name,
                listed_openapi=row.get("openapi", ""),
                listed_operations=int(ops) if ops.isdigit() else None,
            )
        )
    return entries


def slug(name: str) -> str:
    """A Python identifier fragment for a corpus name (``oai-examples/v3.0/petstore.yaml`` -> ``oai_examples_v3_0_petstore``)."""
    stem = re.sub(r"\.(ya?ml|json)$", "", name, flags=re.IGNORECASE)
    return re.sub(r"[^0-9a-zA-Z]+", "_", stem).strip("_").lower()


# ---------------------------------------------------------------- what kind of document


@dataclass
class SpecFacts:
    """What the spec file is, read without accessgen's validation."""

    kind: str  # "openapi" (complete 3.x document), "swagger", "fragment", "unreadable"
    version: str | None = None
    reason: str = ""
    operations: int | None = None  # methods under paths, path-item $refs followed
    operation_keys: frozenset[tuple[str, str]] = frozenset()  # (METHOD, path)


def spec_facts(path: Path) -> SpecFacts:
    """Classify ``path`` and count its operations with accessgen's loader (refs followed lazily)."""
    from generator.errors import AccessgenError
    from generator.load import SpecSource, read_document
    from generator.validate import iter_operations

    try:
        doc = read_document(path.resolve())
    except AccessgenError as exc:
        return SpecFacts("unreadable", reason=str(exc).splitlines()[0])
    tree = doc.tree
    if not isinstance(tree, dict):
        return SpecFacts("fragment", reason="the top level is not a mapping")
    if "openapi" not in tree:
        if "swagger" in tree:
            kind, version = "swagger", str(tree["swagger"])
        else:
            present = ", ".join(sorted(map(str, tree))[:4]) or "nothing"
            return SpecFacts("fragment", reason=f"no 'openapi' field at the top level (has {present})")
    else:
        kind, version = "openapi", str(tree["openapi"])
        if not version.startswith("3."):
            return SpecFacts("fragment", version, reason=f"openapi {version!r} is not 3.x")
        if "paths" not in tree and "webhooks" not in tree:
            return SpecFacts("fragment", version, reason="neither 'paths' nor 'webhooks' at the top level")
    facts = SpecFacts(kind, version)
    try:
        # Split specs (Apiture's) reach "../" within the corpus, which is not a git repository.
        keys = [(method.upper(), p) for p, method, *_ in iter_operations(SpecSource(doc, ref_root=shared_specs_dir()))]
    except AccessgenError as exc:
        facts.reason = f"operations not countable: {str(exc).splitlines()[0]}"
        return facts
    facts.operations = len(keys)
    facts.operation_keys = frozenset(keys)
    return facts


# ---------------------------------------------------------------- running accessgen


@dataclass
class Outcome:
    entry: CorpusEntry
    facts: SpecFacts
    status: str = "n/a"  # "n/a", "generated", "rejected", "failed"
    generated: int | None = None  # operations found in the generated package
    imported: bool | None = None
    mypy_errors: int | None = None
    models: int | None = None
    note: str = ""
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)  # generator failures: the test fails on any
    exercise: dict[str, Any] | None = None  # the checker's report (tests/support/exercise.py)
    out: Path | None = None  # the generated project, when generation succeeded

    def fail(self, message: str) -> None:
        self.status = "failed"
        self.problems.append(message)


# Checker failures that mean "the package does not import": a module, the checker itself, or a
# client class (instantiated and every API group touched, as a user's first call would).
_IMPORT_KINDS = frozenset({"import", "checker", "client"})


def _clear_error(stderr: str) -> str | None:
    """Why ``stderr`` is not a clear accessgen error, or ``None`` when it is one."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    if not lines:
        return "no message on stderr"
    if "Traceback" in stderr:
        return "a traceback on stderr"
    stray = [line for line in lines if not line.startswith("accessgen:")]
    if stray:
        return f"{len(stray)} stderr line(s) not from accessgen, first: {stray[0][:200]!r}"
    bug = [line for line in lines if "internal error" in line or "accessgen bug" in line]
    if bug:
        return f"accessgen reports a bug of its own: {bug[0][:600]}"
    return None


def run_entry(entry: CorpusEntry, workdir: Path, cache_dir: Path) -> Outcome:
    """Classify, generate (CLI subprocess) and import-check (fresh interpreter) one root spec."""
    started = time.monotonic()
    facts = spec_facts(entry.path)
    outcome = Outcome(entry, facts)
    if facts.kind in ("fragment", "unreadable"):
        outcome.note = f"not applicable: {facts.reason}"
        return outcome
    name = slug(entry.name)
    package = f"corpus_{name}"
    out = workdir / name
    env = dict(os.environ, ACCESSGEN_CACHE_DIR=str(cache_dir), PYTHONPATH=str(REPO), PYTHONDONTWRITEBYTECODE="1")
    command = [sys.executable, "-m", "generator", "generate", str(entry.path), "-o", str(out), "--package-name", package, "-q"]
    command += ["--ref-root", str(shared_specs_dir())]  # split specs reach "../" within the corpus
    try:
        gen = subprocess.run(command, env=env, cwd=workdir, capture_output=True, text=True, timeout=GENERATE_TIMEOUT)
    except subprocess.TimeoutExpired:
        outcome.fail(f"generation did not finish in {GENERATE_TIMEOUT:.0f} s")
        outcome.seconds = time.monotonic() - started
        return outcome
    if gen.returncode != 0:
        lines = [line for line in gen.stderr.splitlines() if line.strip()]
        why = _clear_error(gen.stderr)
        if gen.returncode < 0:
            outcome.fail(f"generation killed by signal {-gen.returncode}")
        elif why is not None:
            outcome.fail(f"generation failed without a clear error ({why}); stderr starts: {gen.stderr[:1500]}")
        else:
            outcome.status = "rejected"
            first = lines[0].removeprefix("accessgen:").strip()
            more = f" (+{len(lines) - 1} more lines)" if len(lines) > 1 else ""
            outcome.note = f"rejected: {first[:300]}{more}"
        if out.exists():
            outcome.fail(f"a failed run left an output directory behind: {out}")
        outcome.seconds = time.monotonic() - started
        return outcome
    if facts.kind == "swagger":
        outcome.note = "Swagger 2.0 accepted"
    outcome.status = "generated"
    outcome.out = out
    report = run_exercise([(out, package)], timeout=EXERCISE_TIMEOUT)[0]
    outcome.exercise = report
    broken = [line for line, f in zip(failure_lines(report), report["failures"]) if f["kind"] in _IMPORT_KINDS]
    if broken:
        outcome.imported = False
        more = f" (+{len(broken) - 1} more)" if len(broken) > 1 else ""
        outcome.fail(f"generated package {package} does not import: {broken[0].replace(str(out) + os.sep, '')}{more}")
    else:
        outcome.imported = True
        outcome.generated = report["operations_total"]
        outcome.models = report["models_total"]
        notes = [f"{report['groups']} groups, {report['models_total']} models"]
        if facts.operations is not None and outcome.generated != facts.operations:
            generated_keys = {tuple(key) for key in report["operation_keys"]}
            missing = sorted(facts.operation_keys - generated_keys)
            extra = sorted(generated_keys - facts.operation_keys)
            outcome.fail(
                f"the spec has {facts.operations} operations, the package {outcome.generated}"
                f"; missing: {_keys(missing)}; unexpected: {_keys(extra)}"
            )
        if outcome.note:
            notes.insert(0, outcome.note)
        outcome.note = "; ".join(notes)
        outcome.mypy_errors, mypy_output = _mypy(out, package, workdir)
        if outcome.mypy_errors:
            outcome.fail(f"mypy --strict reports {outcome.mypy_errors} error(s): {_last_lines(mypy_output, 4)}")
    if entry.listed_operations is not None and facts.operations is not None and entry.listed_operations != facts.operations:
        outcome.note += f" (README lists {entry.listed_operations} operations)"
    outcome.seconds = time.monotonic() - started
    return outcome


def run_corpus(specs_dir: Path, workdir: Path, cache_dir: Path) -> list[Outcome]:
    """Every root spec the README lists, generated, exercised and type-checked, in README order."""
    entries = root_specs(specs_dir)
    # Biggest first, two at a time (2 cores): Stripe, DigitalOcean and Box dominate.
    order = sorted(entries, key=lambda e: -(e.listed_operations or 0))
    with ThreadPoolExecutor(max_workers=2) as pool:
        done = dict(zip([e.name for e in order], pool.map(lambda e: run_entry(e, workdir, cache_dir), order)))
    return [done[e.name] for e in entries]


def _mypy(out: Path, package: str, workdir: Path) -> tuple[int, str]:
    """mypy --strict on the generated package: (number of errors, output)."""
    command = [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--cache-dir", os.devnull, package]
    try:
        result = subprocess.run(command, cwd=out, capture_output=True, text=True, timeout=MYPY_TIMEOUT)
    except subprocess.TimeoutExpired:
        return -1, f"mypy did not finish in {MYPY_TIMEOUT:.0f} s"
    if result.returncode == 0:
        return 0, result.stdout
    errors = sum(1 for line in result.stdout.splitlines() if ": error:" in line)
    return errors or -1, result.stdout + result.stderr


def _keys(keys: list[tuple[str, str]]) -> str:
    if not keys:
        return "none"
    shown = ", ".join(f"{m} {p}" for m, p in keys[:5])
    return shown + (f" and {len(keys) - 5} more" if len(keys) > 5 else "")


def _last_lines(text: str, count: int = 5) -> str:
    return " | ".join(line.strip() for line in text.strip().splitlines()[-count:])


# ---------------------------------------------------------------- the tally


def tally(outcomes: list[Outcome]) -> str:
    """A plain-text table: spec, operations, generated, imported, mypy errors, time, note."""
    rows = [("spec", "operations", "generated", "imported", "mypy errors", "time", "note")]
    for o in outcomes:
        imported = {None: "-", True: "yes", False: "NO"}[o.imported]
        if o.status == "failed" and o.imported is None:
            imported = "FAILED"
        note = o.note
        if o.problems:
            note = ("FAILURE: " + " / ".join(p[:300] for p in o.problems) + ("; " + note if note else ""))
        rows.append(
            (
                o.entry.name,
                "-" if o.facts.operations is None else str(o.facts.operations),
                "-" if o.generated is None else str(o.generated),
                imported,
                "-" if o.mypy_errors is None else str(o.mypy_errors),
                f"{o.seconds:.0f}s" if o.status != "n/a" else "",
                note,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(6)]
    lines = []
    for index, row in enumerate(rows):
        cells = [row[i].ljust(widths[i]) for i in range(6)] + [row[6]]
        lines.append("  ".join(cells).rstrip())
        if index == 0:
            lines.append("  ".join("-" * w for w in widths) + "  ----")
    counts: dict[str, int] = {}
    for o in outcomes:
        counts[o.status] = counts.get(o.status, 0) + 1
    lines.append("")
    lines.append(", ".join(f"{n} {status}" for status, n in sorted(counts.items())) + f" of {len(outcomes)} root specs")
    return "\n".join(lines)
