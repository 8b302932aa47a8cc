"""Benchmark (issue 5): generation and regeneration of Stripe through the CLI, beside parsing it.

    .venv/bin/python bench/regenerate.py                   # Stripe (skipped when ../shared is absent)
    .venv/bin/python bench/regenerate.py --spec other.yaml --operation-id SomeOp
    .venv/bin/python bench/regenerate.py --repeat 7 --heavy-repeat 3 --cold-repeat 1

Every figure is one run of ``accessgen generate SPEC -o OUT --package-name stripe_client -q``
in a fresh child process, timed by this process (wall: interpreter start, imports, work), with
its peak memory: the sum of RSS over the child and its workers (black runs in a process pool),
sampled from /proc every 5 ms. Cases, in this order, sharing one ``ACCESSGEN_CACHE_DIR``:

* parse     - the baseline: a child that reads the spec with ``yaml.load(..., CSafeLoader)``;
* cold      - an empty cache and no output directory;
* no change - the same command again, output in place (the CLI's up-to-date check answers it);
* bypassed  - the same spec content copied to another path: the up-to-date check cannot answer,
              so the whole pipeline runs with a warm format cache (what every changed spec pays
              before any formatting);
* one op    - the copy with one operation's ``summary`` changed (a different text each repeat),
              regenerated into the same output with the same cache.

For every regeneration: which generated files changed (from the output manifest's digests) and
how many files black formatted: the new entries of the format cache, one per file black ran on
(the CLI prints that count only on a TTY; the layout's cache, ``layout/``, is not counted). Before timing, one warm-up run leaves .pyc files of
the generator and its dependencies (in a private ``PYTHONPYCACHEPREFIX``), as an installed
accessgen would have. Design targets (DESIGN.md section 7): cold <= 3 s and <= 300 MiB,
no change <= 0.3 s. Nothing asserts: benchmarks are not tests.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import BANKING, MIB, Run, accessgen_command, child_env, generate_package, machine, min_median, run_child, stripe_or_skip, table  # noqa: E402

TARGETS = {"cold": 3.0, "no change": 0.3}
PACKAGE = "stripe_client"


def child_parse(spec: str) -> None:
    import yaml

    started = time.perf_counter()
    with open(spec, "rb") as handle:
        yaml.load(handle, Loader=yaml.CSafeLoader)
    print(json.dumps({"work": time.perf_counter() - started}))


def with_summary(text: str, operation_id: str, summary: str) -> str:
    """``text`` with the ``summary`` of operation ``operation_id`` set (a text edit of block YAML).

    Replaces a one-line ``summary:`` at the operation's indentation, else adds one beside
    its ``operationId``.
    """
    lines = text.splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if line.strip() == f"operationId: {operation_id}")
    indent = lines[at][: len(lines[at]) - len(lines[at].lstrip())]

    def in_operation(i: int) -> bool:
        line = lines[i]
        return not line.strip() or line.startswith(indent)

    first, last = at, at
    while first > 0 and in_operation(first - 1):
        first -= 1
    while last + 1 < len(lines) and in_operation(last + 1):
        last += 1
    for i in range(first, last + 1):
        if lines[i].startswith(indent + "summary:"):
            lines[i] = f"{indent}summary: {summary}\n"
            while i + 1 < len(lines) and lines[i + 1].startswith(indent + " "):
                del lines[i + 1]  # continuation lines of a folded or multi-line summary
            return "".join(lines)
    lines.insert(at, f"{indent}summary: {summary}\n")
    return "".join(lines)


def manifest_files(out: Path) -> dict[str, str]:
    try:
        return dict(json.loads((out / ".accessgen-manifest.json").read_text())["files"])
    except (OSError, ValueError, KeyError):
        return {}


def cache_entries(cache: Path) -> int:
    """Entries of black's cache: the cache folder less its ``validation/`` verdicts and ``layout/``
    files (one per package, of its laid-out modules)."""
    if not cache.is_dir():
        return 0
    return sum(1 for p in cache.rglob("*") if p.is_file() and not {"validation", "layout"} & set(p.relative_to(cache).parts))


def regenerate(spec: Path, out: Path, cache: Path, pycache: Path) -> tuple[Run, list[str], str]:
    """One CLI run; returns it, the generated files it changed and how many modules black
    formatted (the rest came from its cache)."""
    before, entries = manifest_files(out), cache_entries(cache)
    command = [*accessgen_command(), "generate", str(spec), "-o", str(out), "--package-name", PACKAGE, "-q"]
    run = run_child(command, env=child_env(pycache, ACCESSGEN_CACHE_DIR=str(cache)))
    after = manifest_files(out)
    changed = sorted(p for p in before.keys() | after.keys() if before.get(p) != after.get(p))
    work = f"{cache_entries(cache) - entries} formatted by black"
    return run, changed, work


def bench(spec: Path, operation_id: str, repeat: int, heavy: int, cold_repeat: int) -> None:
    print(f"{spec} ({spec.stat().st_size / MIB:.1f} MiB); {machine()}")
    with tempfile.TemporaryDirectory(prefix="accessgen-regen-") as tmp_name:
        tmp = Path(tmp_name)
        pycache = tmp / "pycache"
        # Warm-up: .pyc for the generator and its dependencies (a small spec, so it is quick).
        generate_package(BANKING, tmp / "warmup", "warmup", tmp / "warmup-cache", pycache)
        run_child([sys.executable, __file__, "--child-parse", str(spec)], env=child_env(pycache))

        results: dict[str, list[Run]] = {}
        notes: dict[str, str] = {}
        parses = [run_child([sys.executable, __file__, "--child-parse", str(spec)], env=child_env(pycache)) for _ in range(repeat)]
        results["parse"] = parses
        parse_work = min_median(json.loads(r.stdout)["work"] for r in parses)
        notes["parse"] = f"yaml.load itself: min {parse_work[0]:.3f} s, median {parse_work[1]:.3f} s"
        print(f"  parse: {notes['parse']}")

        out, cache = tmp / "out", tmp / "cache"
        for index in range(cold_repeat):
            shutil.rmtree(out, ignore_errors=True)
            shutil.rmtree(cache, ignore_errors=True)
            run, _, formatted = regenerate(spec, out, cache, pycache)
            results.setdefault("cold", []).append(run)
            notes["cold"] = f"{len(manifest_files(out))} files written, {formatted}"
            print(f"  cold #{index + 1}: {run.wall:.2f} s, tree peak {run.tree_peak / MIB:.0f} MiB; {notes['cold']}")

        for index in range(repeat):
            run, changed, formatted = regenerate(spec, out, cache, pycache)
            results.setdefault("no change", []).append(run)
            notes["no change"] = f"{len(changed)} files changed, {formatted}"
        print(f"  no change: {', '.join(f'{r.wall:.2f}' for r in results['no change'])} s; {notes['no change']}")

        original = spec.read_text(encoding="utf-8")
        for index in range(heavy):
            copy = tmp / f"copy{index}" / spec.name
            copy.parent.mkdir()
            copy.write_text(original, encoding="utf-8")
            run, changed, formatted = regenerate(copy, out, cache, pycache)
            results.setdefault("bypassed", []).append(run)
            notes["bypassed"] = f"{len(changed)} files changed ({', '.join(changed) or '-'}), {formatted}"
            print(f"  bypassed #{index + 1}: {run.wall:.2f} s; {notes['bypassed']}")

        for index in range(heavy):
            edited = tmp / f"edit{index}" / spec.name
            edited.parent.mkdir()
            edited.write_text(with_summary(original, operation_id, f"accessgen benchmark edit {index + 1}"), encoding="utf-8")
            run, changed, formatted = regenerate(edited, out, cache, pycache)
            results.setdefault("one op", []).append(run)
            notes["one op"] = f"{len(changed)} files changed ({', '.join(changed) or '-'}), {formatted}"
            print(f"  one op #{index + 1}: {run.wall:.2f} s; {notes['one op']}")

    base = min_median(r.wall for r in results["parse"])[1]
    rows = []
    for label, runs in results.items():
        low, mid = min_median(r.wall for r in runs)
        peak = max(r.tree_peak or r.maxrss for r in runs)
        own = max(r.maxrss for r in runs)
        target = TARGETS.get(label)
        rows.append([label, len(runs), f"{low:.2f}", f"{mid:.2f}", f"{own / MIB:.0f}", f"{peak / MIB:.0f}", f"{mid / base:.1f}x",
                     f"{target:g} s" if target else "", f"{mid / target:.2f}x" if target else ""])
    print()
    print(table(["case", "runs", "min s", "median s", "own peak MiB", "tree peak MiB", "vs parse", "target", "vs target"], rows))
    print()
    for label, note in notes.items():
        print(f"  {label}: {note}")
    print("  own peak: the CLI process itself; tree peak: it and its black workers together (sampled),")
    print("  the largest over the runs; the cold target is 300 MiB")


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--child-parse":
        child_parse(sys.argv[2])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--spec", type=Path, help="spec to measure (default: Stripe)")
    parser.add_argument("--operation-id", default="GetBalance", help="operation whose summary the 'one op' case changes")
    parser.add_argument("--repeat", type=int, default=5, help="runs of the cheap cases (parse, no change)")
    parser.add_argument("--heavy-repeat", type=int, default=3, help="runs of 'bypassed' and 'one op'")
    parser.add_argument("--cold-repeat", type=int, default=1, help="cold runs (each formats everything)")
    options = parser.parse_args()
    spec = options.spec or stripe_or_skip()
    if spec is None:
        return
    bench(spec.resolve(), options.operation_id, options.repeat, options.heavy_repeat, options.cold_repeat)


if __name__ == "__main__":
    main()
