"""Helpers shared by the benchmarks in this directory (not a benchmark itself).

Conventions: every measurement runs in a fresh child process started by ``run_child``;
figures are repeated and reported as min / median; nothing asserts.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
STRIPE = REPO.parent / "shared" / "specs" / "stripe" / "spec3.yaml"
BANKING = REPO / "specs" / "banking.yaml"
MIB = 1024 * 1024


def stripe_or_skip() -> Path | None:
    """Stripe's spec, or None after saying why it is skipped."""
    if STRIPE.is_file():
        return STRIPE
    print(f"skipping Stripe: {STRIPE} is absent (../shared/specs exists only in the accessgen workspace)")
    return None


def accessgen_command() -> list[str]:
    """The CLI of the running interpreter's environment (``.venv/bin/accessgen``)."""
    script = Path(sys.executable).parent / "accessgen"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "generator"]


def child_env(pycache: Path | None = None, **extra: str) -> dict[str, str]:
    """The environment for a child: bytecode written to (and read from) ``pycache``.

    ``PYTHONPYCACHEPREFIX`` keeps the .pyc files out of the repository and the venv, and
    ``PYTHONDONTWRITEBYTECODE`` is dropped, so that a warm-up run leaves .pyc files for
    every module the measured runs import: as with an installed package, nothing is
    compiled from source while timing.
    """
    env = dict(os.environ, **extra)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if pycache is not None:
        env["PYTHONPYCACHEPREFIX"] = str(pycache)
    return env


@dataclass
class Run:
    wall: float  # seconds, the child's whole life as seen by the parent
    maxrss: int  # bytes: the child's own peak RSS (wait4)
    tree_peak: int  # bytes: peak of the summed RSS of the child and its descendants (/proc, every 5 ms)
    returncode: int
    stdout: str
    stderr: str
    cpu: float = 0.0  # seconds of CPU (user + system) of the child and every descendant it waited for


def _tree_rss(pid: int) -> int:
    """Sum of VmRSS over ``pid`` and its descendants, from /proc (0 where unavailable)."""
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        try:
            with open(f"/proc/{current}/status", encoding="ascii", errors="replace") as handle:
                for line in handle:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
                        break
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children", encoding="ascii") as handle:
                    pending.extend(int(p) for p in handle.read().split())
        except (OSError, ValueError):
            continue
    return total


def run_child(command: Sequence[str], env: dict[str, str] | None = None, cwd: Path | None = None, check: bool = True) -> Run:
    """Run ``command`` to completion; time it, and record its own and its tree's peak memory."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(list(command), env=env, cwd=cwd, stdout=out, stderr=err)
        peak, stop = 0, threading.Event()

        def sample() -> None:
            nonlocal peak
            while not stop.is_set():
                peak = max(peak, _tree_rss(process.pid))
                stop.wait(0.005)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        stop.set()
        sampler.join()
        out.seek(0)
        err.seek(0)
        run = Run(wall, usage.ru_maxrss * 1024, peak, process.returncode, out.read().decode(), err.read().decode(), usage.ru_utime + usage.ru_stime)
    if check and run.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed (exit {run.returncode}):\n{run.stderr[-3000:]}")
    return run


def generate_package(spec: Path, out: Path, package: str, cache: Path, pycache: Path | None = None) -> Run:
    """Generate ``spec`` into ``out`` with the CLI (cache in ``cache``)."""
    command = [*accessgen_command(), "generate", str(spec), "-o", str(out), "--package-name", package, "-q"]
    return run_child(command, env=child_env(pycache, ACCESSGEN_CACHE_DIR=str(cache)))


def min_median(values: Iterable[float]) -> tuple[float, float]:
    data = list(values)
    return min(data), statistics.median(data)


def table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A Markdown table (right-aligned except the first column), ready to paste."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        return "| " + " | ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))) + " |"

    rule = "|" + "|".join(("-" * (w + 2)) if i == 0 else ("-" * (w + 1) + ":") for i, w in enumerate(widths)) + "|"
    return "\n".join([line(cells[0]), rule, *(line(r) for r in cells[1:])])


def machine() -> str:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {load:.2f} at start"
