"""Benchmark: import time of the generated Stripe package, beside importing httpx and pydantic.

    .venv/bin/python bench/import_time.py                    # generates Stripe into a temp dir (minutes)
    .venv/bin/python bench/import_time.py --output /tmp/st   # generate there once, reuse it on later runs
    .venv/bin/python bench/import_time.py --repeat 11

Stripe is generated once (``accessgen generate ... --package-name stripe_client``; black makes this
take minutes) and reused by every measurement. Each measurement is a fresh child process that
times itself with ``perf_counter``, step by step:

* baseline - ``import httpx, pydantic``, then ``from pydantic import BaseModel, Field, TypeAdapter``
             (pydantic loads these lazily; any httpx + pydantic client pays both steps);
* package  - ``import stripe_client``; then ``AuthenticatedClient(session=Session("tok"))``; then
             touching one API group (``client.<group>``, which imports its module); then the first
             use of one model (the success type of one operation, resolved lazily, then decoded
             with the runtime's ``parse_json``: models use ``defer_build=True``, so this builds
             the schema);
             Last, the worst case of a first use: a model of the largest models submodule.
* on top   - the baseline's imports and then ``import stripe_client``: the package's own share.

The three kinds are interleaved ``--repeat`` times (drift cancels); reported are min and median
of each step and of the child's wall time (interpreter start included); ratios are to the
baseline's two steps together. Before timing, one run of each kind leaves .pyc files of
everything measured (in a private ``PYTHONPYCACHEPREFIX``), as an installed package would have:
no measured import compiles source. One more run under ``-X importtime`` lists the modules that
cost most. Design target (DESIGN.md section 7): import of the generated Stripe package in at
most 100 ms. Nothing asserts: benchmarks are not tests.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import child_env, generate_package, machine, min_median, run_child, stripe_or_skip, table  # noqa: E402

PACKAGE = "stripe_client"
TARGET_MS = 100.0


def child(kind: str, operation: str) -> list[tuple[str, float]]:
    steps: list[tuple[str, float]] = []
    mark = time.perf_counter()

    def lap(label: str) -> None:
        nonlocal mark
        now = time.perf_counter()
        steps.append((label, (now - mark) * 1e3))
        mark = now

    if kind in ("baseline", "on top"):
        import httpx  # noqa: F401
        import pydantic  # noqa: F401

        lap("import httpx, pydantic")
        from pydantic import BaseModel, Field, TypeAdapter  # noqa: F401  (pydantic loads these lazily)

        lap("from pydantic import BaseModel, Field, TypeAdapter")
        if kind == "baseline":
            return steps
    package: Any = importlib.import_module(PACKAGE)
    lap(f"import {PACKAGE}")
    if kind == "on top":
        return steps
    client = package.AuthenticatedClient(session=package.Session("tok"))
    lap("AuthenticatedClient(session=Session(...))")
    from functools import cached_property

    group = next(name for name, value in vars(type(client)).items() if isinstance(value, cached_property))
    api = getattr(client, group)
    lap(f"client.{group} (first API group)")
    operations = sys.modules[type(api).__module__].OPERATIONS
    op = operations.get(operation) or next(iter(operations.values()))
    spec = next(r for r in op.responses if r.status.startswith("2") and r.kind == "json")
    model = spec.type
    try:  # the client's decode path; builds the deferred schema ({} may well be invalid)
        importlib.import_module(f"{PACKAGE}._runtime.validation").parse_json(model, b"{}")
    except ValueError:
        pass
    lap(f"first use of models.{getattr(model, '__name__', model)} ({op.name})")
    models = importlib.import_module(f"{PACKAGE}.models")
    modules: dict[str, str] = getattr(models, "_MODULE_OF", {})
    if modules:  # the worst case: a model of the largest lazily loaded models module
        folder = Path(models.__file__).parent
        largest = max(set(modules.values()), key=lambda m: (folder / f"{m}.py").stat().st_size)
        name = next(n for n, m in sorted(modules.items()) if m == largest)
        getattr(models, name)
        size = (folder / f"{largest}.py").stat().st_size / 2**20
        count = sum(1 for m in modules.values() if m == largest)
        lap(f"models.{name}: loads models.{largest} ({count} names, {size:.1f} MiB)")
    return steps


def importtime_top(env: dict[str, str], operation: str, count: int = 12) -> list[list[str]]:
    run = run_child([sys.executable, "-X", "importtime", __file__, "--child", "package", operation], env=env)
    rows = []
    for line in run.stderr.splitlines():
        parts = [p.strip() for p in line.removeprefix("import time:").split("|")]
        if len(parts) == 3 and parts[0].isdigit():
            rows.append((int(parts[0]), int(parts[1]), parts[2]))
    rows.sort(reverse=True)
    return [[name, f"{own / 1e3:.1f}", f"{cumulative / 1e3:.1f}"] for own, cumulative, name in rows[:count]]


def bench(out: Path, repeat: int, operation: str, pycache: Path) -> None:
    env = child_env(pycache, PYTHONPATH=str(out))
    kinds = ("baseline", "package", "on top")

    def measure(kind: str) -> tuple[float, list[tuple[str, float]]]:
        run = run_child([sys.executable, __file__, "--child", kind, operation], env=env)
        return run.wall, json.loads(run.stdout.split("BENCH ", 1)[1])

    for kind in kinds:  # warm-up: compiles every module measured into the pycache
        measure(kind)
    results: dict[str, list[tuple[float, list[tuple[str, float]]]]] = {kind: [] for kind in kinds}
    for _ in range(repeat):
        for kind in kinds:
            results[kind].append(measure(kind))
    startup = min_median(run_child([sys.executable, "-c", "pass"], env=env).wall * 1e3 for _ in range(repeat))

    baseline = min_median(sum(ms for _, ms in steps) for _, steps in results["baseline"])[1]
    rows = [["python -c pass (child wall)", f"{startup[0]:.1f}", f"{startup[1]:.1f}", "", ""]]
    for kind in kinds:
        runs = results[kind]
        for index, (label, _) in enumerate(runs[0][1]):
            low, mid = min_median(steps[index][1] for _, steps in runs)
            rows.append([f"{kind}: {label}", f"{low:.1f}", f"{mid:.1f}", f"{mid / baseline:.2f}x",
                         f"{mid / TARGET_MS:.2f}x" if label == f"import {PACKAGE}" else ""])
        low, mid = min_median(wall * 1e3 for wall, _ in runs)
        rows.append([f"{kind}: child wall", f"{low:.1f}", f"{mid:.1f}", "", ""])
    print(f"\n{repeat} fresh processes per kind, interleaved; milliseconds (.pyc files present for every module):\n")
    print(table(["step", "min ms", "median ms", "vs baseline", "vs 100 ms target"], rows))
    print("\nModules with the largest own import time (one run under -X importtime, ms; modules loaded lazily")
    print("through importlib.import_module, like the models submodules, are not listed: see the steps above):\n")
    print(table(["module", "self ms", "cumulative ms"], importtime_top(env, operation)))


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        print("BENCH " + json.dumps(child(sys.argv[2], sys.argv[3])))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", type=Path, help="generate into this dir once and reuse it (default: a temp dir)")
    parser.add_argument("--repeat", type=int, default=7, help="fresh processes per kind")
    parser.add_argument("--operation", default="get_balance", help="operation whose success model is first used")
    options = parser.parse_args()
    spec = stripe_or_skip()
    if spec is None:
        return
    print(f"{spec}; {machine()}")
    with tempfile.TemporaryDirectory(prefix="accessgen-import-") as tmp_name:
        tmp = Path(tmp_name)
        out = options.output or tmp / "out"
        if (out / PACKAGE / "__init__.py").is_file():
            print(f"reusing {out / PACKAGE}")
        else:
            print(f"generating {out / PACKAGE} ...", flush=True)
            run = generate_package(spec, out, PACKAGE, tmp / "cache", tmp / "pycache")
            print(f"  generated in {run.wall:.0f} s")
        files = list((out / PACKAGE).rglob("*.py"))
        print(f"  {len(files)} modules, {sum(f.stat().st_size for f in files) / 2**20:.1f} MiB of source")
        bench(out, options.repeat, options.operation, tmp / "pycache")


if __name__ == "__main__":
    main()
