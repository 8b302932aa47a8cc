"""Benchmark: cold generation time and peak memory, beside the time and memory to just parse the spec.

    .venv/bin/python bench/generate.py                 # Stripe (when ../shared is present) and specs/banking.yaml
    .venv/bin/python bench/generate.py --spec my.yaml  # any spec(s)
    .venv/bin/python bench/generate.py --no-warm       # skip the regeneration measurement

Every measurement runs in a fresh child process so that imports, caches and memory of one
never help another. For each spec:

* parse   - read the file and ``yaml.load(..., CSafeLoader)`` (``json.load`` for JSON): the baseline;
* cold    - the whole pipeline (load, validate, build IR, plan, render, format, write to a temp
            dir) with an empty ``ACCESSGEN_CACHE_DIR``; validation runs as in the pipeline, in a
            process forked after load, and ``validation wait`` is the time spent waiting for it
            after render;
* warm    - the same again with the cache the cold run filled and the cold run's output in place
            (a regeneration with no change).

Reported per measurement: wall time of the child process (interpreter start, imports and work),
in-process time of the work alone, and peak memory: the child's own ``ru_maxrss``, the largest
of its worker processes (black runs in a process pool on big inputs), and the peak of the sum of
RSS over the whole process tree sampled from /proc every 5 ms (Linux). Ratios are generate/parse.
Design targets (DESIGN.md section 7, 2 cores): cold Stripe <= 3 s and <= 300 MiB, warm <= 0.3 s.
Nothing here asserts: benchmarks are not tests.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import BANKING, MIB, REPO, STRIPE as SHARED_STRIPE, run_child  # noqa: E402



# ---------------------------------------------------------------- child side


def _rss_self() -> int:
    """Peak RSS of this process in bytes (ru_maxrss is KiB on Linux, bytes on macOS)."""
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale


def _rss_children() -> int:
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * scale


def child_parse(spec: Path) -> dict[str, object]:
    import yaml

    imported_rss = _rss_self()
    started = time.perf_counter()
    with open(spec, "rb") as handle:
        if spec.suffix.lower() == ".json":
            json.load(handle)
        else:
            yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    return {"work": time.perf_counter() - started, "stages": {}, "imports_rss": imported_rss}


def child_generate(spec: Path, out: Path) -> dict[str, object]:
    sys.path.insert(0, str(REPO))
    from generator import __version__
    from generator.build import build_api
    from generator.format import format_files
    from generator.load import load_spec
    from generator.pipeline import pep440_version
    from generator.plan import Planner, default_package_name
    from generator.render import render_package
    from generator.validate import start_validation
    from generator.write import write_output

    imported_rss = _rss_self()
    stages: dict[str, float] = {}
    started = time.perf_counter()

    def lap(name: str, since: list[float]) -> None:
        now = time.perf_counter()
        stages[name] = now - since[0]
        since[0] = now

    mark = [started]
    source = load_spec(spec)
    lap("load", mark)
    validation = start_validation(source)  # as the pipeline runs it: beside build, plan and render
    lap("start validation", mark)
    api, _ = build_api(source)
    lap("build IR", mark)
    plan = Planner(api, default_package_name(api), __version__).plan()
    lap("plan", mark)
    rendered = render_package(plan, pep440_version(api.version))
    lap("render (with layout)", mark)
    validation.result()
    lap("validation wait", mark)
    formatted, count = format_files(rendered.files, rendered.needs_black)
    lap("format", mark)
    write_output(out, formatted, f"accessgen {__version__}")
    lap("write", mark)
    return {
        "work": time.perf_counter() - started,
        "stages": stages,
        "imports_rss": imported_rss,
        "operations": len(api.operations),
        "files": len(formatted),
        "formatted": count,
        "lines": sum(text.count("\n") for text in formatted.values()),
    }


def child_main(argv: list[str]) -> None:
    kind, spec = argv[0], Path(argv[1])
    result = child_parse(spec) if kind == "parse" else child_generate(spec, Path(argv[2]))
    result["self_rss"] = _rss_self()
    result["children_rss"] = _rss_children()
    print("BENCH " + json.dumps(result))


# ---------------------------------------------------------------- parent side


def measure(args: list[str], env: dict[str, str]) -> dict[str, object]:
    """Run this file as a child measuring ``args``; add wall time and sampled tree peak."""
    run = run_child([sys.executable, str(Path(__file__).resolve()), "--child", *args], env=env, check=False)
    lines = [line for line in run.stdout.splitlines() if line.startswith("BENCH ")]
    if run.returncode != 0 or not lines:
        raise SystemExit(f"measurement {' '.join(args)} failed (exit {run.returncode}):\n{run.stderr[-3000:]}")
    result: dict[str, object] = json.loads(lines[-1][len("BENCH "):])
    result["wall"] = run.wall
    result["tree_rss"] = run.tree_peak
    return result


def _mib(value: object) -> str:
    return f"{int(value) / MIB:7.1f} MiB" if value else "      n/a"  # type: ignore[call-overload]


def _row(label: str, r: dict[str, object]) -> str:
    return (
        f"  {label:<6} wall {r['wall']:7.2f} s   work {r['work']:7.3f} s   "
        f"peak self {_mib(r['self_rss'])}   largest worker {_mib(r['children_rss'])}   "
        f"tree {_mib(r['tree_rss'])}   (after imports {_mib(r['imports_rss'])})"
    )


def bench_spec(spec: Path, warm: bool) -> None:
    size = spec.stat().st_size
    print(f"\n{spec}  ({size / MIB:.1f} MiB)")
    base_env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    with tempfile.TemporaryDirectory(prefix="accessgen-bench-") as tmp:
        cache = Path(tmp) / "cache"
        out = Path(tmp) / "out"
        env = dict(base_env, ACCESSGEN_CACHE_DIR=str(cache))
        parse = measure(["parse", str(spec)], base_env)
        print(_row("parse", parse))
        cold = measure(["generate", str(spec), str(out)], env)
        print(_row("cold", cold))
        print(
            f"         {cold['operations']} operations -> {cold['files']} files, {cold['lines']} lines, "
            f"{cold['formatted']} formatted by black"
        )
        stages = cold["stages"]
        assert isinstance(stages, dict)
        print("         stages: " + ", ".join(f"{name} {seconds:.2f} s" for name, seconds in stages.items()))
        rows = [("cold", cold)]
        if warm:
            again = measure(["generate", str(spec), str(out)], env)
            print(_row("warm", again))
            print(
                "         stages: "
                + ", ".join(f"{name} {seconds:.2f} s" for name, seconds in again["stages"].items())  # type: ignore[union-attr]
                + f"; {again['formatted']} formatted by black"
            )
            rows.append(("warm", again))
        for label, r in rows:
            wall = float(r["wall"]) / float(parse["wall"])  # type: ignore[arg-type]
            work = float(r["work"]) / float(parse["work"])  # type: ignore[arg-type]
            memory = (int(r["tree_rss"]) or int(r["self_rss"])) / (int(parse["tree_rss"]) or int(parse["self_rss"]))  # type: ignore[call-overload]
            print(f"  ratio {label}/parse: wall {wall:.1f}x, work {work:.1f}x, peak memory {memory:.1f}x")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child_main(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--spec", action="append", type=Path, help="spec to measure (repeatable); default: Stripe and banking")
    parser.add_argument("--no-warm", action="store_true", help="skip the regeneration (warm cache) measurement")
    options = parser.parse_args()
    specs: list[Path] = options.spec or []
    if not specs:
        if SHARED_STRIPE.is_file():
            specs.append(SHARED_STRIPE)
        else:
            print(f"skipping Stripe: {SHARED_STRIPE} is absent (../shared/specs exists only in the accessgen workspace)")
        specs.append(BANKING)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs; targets (DESIGN 7): cold Stripe <= 3 s and <= 300 MiB, warm <= 0.3 s")
    for spec in specs:
        bench_spec(spec, warm=not options.no_warm)


if __name__ == "__main__":
    main()
