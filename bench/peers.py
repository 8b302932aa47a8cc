"""Benchmark (issue 9): accessgen beside openapi-python-client and OpenAPI Generator, in the same run.

    .venv/bin/python bench/peers.py                        # Stripe, banking, Box: about 15 minutes
    .venv/bin/python bench/peers.py --repeat 3 --mid adyen # Adyen Management as the mid-size spec
    .venv/bin/python bench/peers.py --spec specs/banking.yaml --repeat 5 --no-decode

The peers are installed into a scratch folder of their own (``--scratch``, default
``~/.cache/accessgen-bench/peers``; never into accessgen's environment, the tests or CI):
a virtual environment with openapi-python-client (which brings ruff, for the post-hooks its
users run by default), python-dateutil (which its generated code imports), and the PyPI
package ``openapi-generator-cli``, which ships OpenAPI Generator's jar (the npm package
downloads the jar from Maven Central at run time; the PyPI one needs nothing but Java).
OpenAPI Generator runs with ``JAVA_OPTS=-DmaxYamlCodePoints=99999999``: its YAML parser
refuses documents over 3 MiB, and Stripe's spec3.yaml is 4 MiB.

Every generation is a fresh process timed by this one, interleaved (each round runs every
tool on every spec, in a rotating order) into a fresh output folder; accessgen starts with an
empty cache each time (cold), as do the peers (they keep none). Per run: wall time, CPU time
(user + system of the process and every process it waited for: ruff, black's workers,
accessgen's validator) and peak memory (the summed RSS of the process tree, sampled from /proc
every 5 ms by ``_common.run_child``). The tables give min / median, and our ratio to each
peer (accessgen / peer, medians: below 1 is faster or smaller). A peer that fails on a spec
is reported as failed, with its last lines of output, and the run goes on.

Then the decode comparison: both generate ``specs/banking.yaml``; a 1,000-item ``Account``
list (the payload of ``decode.py``) is decoded in fresh processes, interleaved: with our
client's decode path (``parse_json(list[models.Account], content)``) and with
openapi-python-client's (``json.loads``, then ``Account.from_dict`` per item, as its
generated ``_parse_response`` does). Nothing asserts: benchmarks are not tests.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import BANKING, MIB, REPO, Run, accessgen_command, child_env, machine, min_median, run_child, stripe_or_skip, table  # noqa: E402

SHARED = REPO.parent / "shared" / "specs"
MID_SIZE = {"box": SHARED / "box" / "openapi.json", "adyen": SHARED / "adyen" / "ManagementService-v3.json"}
PEER_PACKAGES = ["openapi-python-client", "openapi-generator-cli", "python-dateutil"]
OPC_CONFIG = "literal_enums: true\n"  # without it, openapi-python-client stops on Stripe
OAG_JAVA_OPTS = "-DmaxYamlCodePoints=99999999"  # its YAML parser refuses documents over 3 MiB (Stripe's is 4)


@dataclass
class Tool:
    name: str
    command: Callable[[Path, Path], list[str]]  # (spec, output folder) -> command
    env: Callable[[Path], dict[str, str]]  # (scratch folder of the run) -> environment
    runs: dict[Path, list[Run]] = field(default_factory=dict)


def ensure_peers(scratch: Path, install: bool) -> Path:
    """The scratch virtual environment with the peers (created or updated when ``install``)."""
    venv = scratch / "venv"
    python = venv / "bin" / "python"
    if install or not python.exists():
        if not python.exists():
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        print(f"installing {', '.join(PEER_PACKAGES)} into {venv}")
        subprocess.run([str(python), "-m", "pip", "install", "-q", "--upgrade", *PEER_PACKAGES], check=True)
    return venv


def versions(venv: Path) -> str:
    probe = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import importlib.metadata as m; print(', '.join(f'{d} {m.version(d)}' for d in ('openapi-python-client', 'ruff', 'openapi-generator-cli')))"],
        capture_output=True, text=True,
    )
    java = subprocess.run(["java", "-version"], capture_output=True, text=True)
    return probe.stdout.strip() + "; " + (java.stderr.splitlines() or ["java: not found"])[0]


def tools(venv: Path, pycache: Path) -> list[Tool]:
    bin_dir = venv / "bin"

    def ours_env(run_dir: Path) -> dict[str, str]:
        return child_env(pycache, ACCESSGEN_CACHE_DIR=str(run_dir / "accessgen-cache"))

    def peer_env(run_dir: Path) -> dict[str, str]:
        env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")  # ruff for the post-hooks
        env["JAVA_OPTS"] = OAG_JAVA_OPTS
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        return env

    def opc(spec: Path, out: Path) -> list[str]:
        config = out.parent / "opc-config.yaml"
        config.write_text(OPC_CONFIG, encoding="utf-8")
        return [str(bin_dir / "openapi-python-client"), "generate", "--path", str(spec), "--config", str(config), "--output-path", str(out), "--overwrite"]

    def oag(spec: Path, out: Path) -> list[str]:
        return [str(bin_dir / "openapi-generator-cli"), "generate", "-i", str(spec), "-g", "python", "-o", str(out), "--package-name", "peer_client"]

    def ours(spec: Path, out: Path) -> list[str]:
        return [*accessgen_command(), "generate", str(spec), "-o", str(out), "--package-name", "peer_client", "-q"]

    found = [Tool("accessgen", ours, ours_env), Tool("openapi-python-client", opc, peer_env)]
    if shutil.which("java"):
        found.append(Tool("OpenAPI Generator", oag, peer_env))
    else:
        print("skipping OpenAPI Generator: no java on PATH")
    return found


def generate_all(specs: list[Path], all_tools: list[Tool], repeat: int, work: Path) -> None:
    counter = 0
    for round_index in range(repeat):
        for spec in specs:
            order = all_tools[round_index % len(all_tools):] + all_tools[: round_index % len(all_tools)]
            for tool in order:
                counter += 1
                run_dir = work / f"run{counter}"
                run_dir.mkdir()
                out = run_dir / "out"
                run = run_child(tool.command(spec, out), env=tool.env(run_dir), cwd=run_dir, check=False)
                if run.returncode == 0 and not any(out.rglob("*.py")):
                    run.returncode = -1  # exited 0 but generated nothing
                tool.runs.setdefault(spec, []).append(run)
                state = "ok" if run.returncode == 0 else f"FAILED (exit {run.returncode})"
                print(f"  round {round_index + 1} {spec.name:<28} {tool.name:<22} {run.wall:7.2f} s wall {run.cpu:7.2f} s CPU {run.tree_peak / MIB:6.0f} MiB  {state}", flush=True)
                shutil.rmtree(run_dir, ignore_errors=True)


def report(specs: list[Path], all_tools: list[Tool]) -> None:
    ours = all_tools[0]
    for spec in specs:
        print(f"\n### {spec.name} ({spec.stat().st_size / MIB:.1f} MiB)\n")
        rows = []
        mine = [r for r in ours.runs.get(spec, []) if r.returncode == 0]
        for tool in all_tools:
            runs = tool.runs.get(spec, [])
            good = [r for r in runs if r.returncode == 0]
            if not good:
                rows.append([tool.name, f"0/{len(runs)}", "failed", "", "", "", "", "", ""])
                continue
            wall, cpu = min_median(r.wall for r in good), min_median(r.cpu for r in good)
            peak = max(r.tree_peak or r.maxrss for r in good)
            ratios = ["", "", ""]
            if tool is not ours and mine:
                ratios = [
                    f"{min_median(r.wall for r in mine)[1] / wall[1]:.2f}x",
                    f"{min_median(r.cpu for r in mine)[1] / cpu[1]:.2f}x",
                    f"{max(r.tree_peak or r.maxrss for r in mine) / peak:.2f}x",
                ]
            rows.append([tool.name, f"{len(good)}/{len(runs)}", f"{wall[0]:.2f}", f"{wall[1]:.2f}", f"{cpu[1]:.2f}", f"{peak / MIB:.0f}", *ratios])
        print(table(["tool", "ok", "wall min s", "wall median s", "CPU median s", "peak MiB", "ours/peer wall", "ours/peer CPU", "ours/peer peak"], rows))
        for tool in all_tools:
            for run in tool.runs.get(spec, []):
                if run.returncode != 0:
                    tail = (run.stderr.strip() or run.stdout.strip()).splitlines()[-3:]
                    print(f"\n  {tool.name} failed on {spec.name} (exit {run.returncode}): " + " | ".join(line.strip() for line in tail)[:600])
                    break


# ---------------------------------------------------------------- decoding the same payload


DECODE_CHILD = r"""
import json, sys, time
kind, payload_path, number = sys.argv[1], sys.argv[2], int(sys.argv[3])
content = open(payload_path, "rb").read()
if kind == "accessgen":
    from peer_client import models
    from peer_client._runtime.validation import parse_json
    decode = lambda: parse_json(list[models.Account], content)
else:
    import importlib, pkgutil, os
    package = [m.name for m in pkgutil.iter_modules([os.environ["PEER_ROOT"]]) if not m.name.startswith("_")][0]
    Account = importlib.import_module(package + ".models").Account
    decode = lambda: [Account.from_dict(item) for item in json.loads(content)]
baseline = lambda: json.loads(content)
assert len(decode()) == len(json.loads(content))
best = {}
for name, function in (("decode", decode), ("json.loads", baseline)):
    times = []
    for _ in range(7):
        started = time.perf_counter()
        for _ in range(number):
            function()
        times.append((time.perf_counter() - started) / number * 1e6)
    best[name] = min(times)
print(json.dumps(best))
"""


def decode_comparison(venv: Path, work: Path, pycache: Path, items: int, processes: int, number: int) -> None:
    from decode import accounts

    ours_out, opc_out = work / "decode-ours", work / "decode-opc"
    run_child([*accessgen_command(), "generate", str(BANKING), "-o", str(ours_out), "--package-name", "peer_client", "-q"],
              env=child_env(pycache, ACCESSGEN_CACHE_DIR=str(work / "decode-cache")))
    config = work / "opc-config.yaml"
    config.write_text(OPC_CONFIG, encoding="utf-8")
    peer_env = dict(os.environ, PATH=f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}")
    run_child([str(venv / "bin" / "openapi-python-client"), "generate", "--path", str(BANKING), "--config", str(config), "--output-path", str(opc_out), "--overwrite"], env=peer_env)
    payload = work / "accounts.json"
    payload.write_bytes(json.dumps(accounts(items)).encode())
    script = work / "decode_child.py"
    script.write_text(DECODE_CHILD, encoding="utf-8")
    kinds = {
        "accessgen": ([sys.executable, str(script), "accessgen", str(payload), str(number)], child_env(pycache, PYTHONPATH=str(ours_out))),
        "openapi-python-client": (
            [str(venv / "bin" / "python"), str(script), "opc", str(payload), str(number)],
            dict(peer_env, PYTHONPATH=str(opc_out), PEER_ROOT=str(opc_out)),
        ),
    }
    for command, env in kinds.values():  # warm-up: .pyc files
        run_child(command, env=env)
    results: dict[str, list[dict[str, float]]] = {name: [] for name in kinds}
    for _ in range(processes):
        for name, (command, env) in kinds.items():
            results[name].append(json.loads(run_child(command, env=env).stdout.strip().splitlines()[-1]))
    print(f"\n### decoding {items} Account items ({payload.stat().st_size / 1024:.0f} KiB), {processes} processes each, best of 7 x {number} per process\n")
    ours_median = min_median(r["decode"] for r in results["accessgen"])[1]
    rows = []
    for name, runs in results.items():
        low, mid = min_median(r["decode"] for r in runs)
        loads = min_median(r["json.loads"] for r in runs)[1]
        rows.append([name, f"{low:.0f}", f"{mid:.0f}", f"{mid / loads:.1f}x", f"{ours_median / mid:.2f}x" if name != "accessgen" else ""])
    print(table(["decoder", "min µs", "median µs", "vs json.loads", "ours/peer"], rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--spec", action="append", type=Path, help="spec to compare on (repeatable); default: Stripe, banking and the mid-size spec")
    parser.add_argument("--mid", choices=sorted(MID_SIZE), default="box", help="the mid-size spec (default: Box)")
    parser.add_argument("--repeat", type=int, default=3, help="rounds: runs of every tool on every spec")
    parser.add_argument("--scratch", type=Path, default=Path.home() / ".cache" / "accessgen-bench" / "peers", help="where the peers are installed")
    parser.add_argument("--install", action="store_true", help="install or upgrade the peers even if the scratch venv exists")
    parser.add_argument("--no-decode", action="store_true", help="skip the decode comparison")
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--processes", type=int, default=5, help="decode processes per decoder")
    parser.add_argument("--number", type=int, default=20, help="decodes per timing")
    options = parser.parse_args()

    specs: list[Path] = [p.resolve() for p in options.spec or []]
    if not specs:
        stripe = stripe_or_skip()
        specs = ([stripe] if stripe else []) + [BANKING]
        if MID_SIZE[options.mid].is_file():
            specs.append(MID_SIZE[options.mid])
        else:
            print(f"skipping the mid-size spec: {MID_SIZE[options.mid]} is absent")
    venv = ensure_peers(options.scratch, options.install)
    print(f"{machine()}\npeers: {versions(venv)}")
    with tempfile.TemporaryDirectory(prefix="accessgen-peers-") as tmp_name:
        work = Path(tmp_name)
        pycache = work / "pycache"
        all_tools = tools(venv, pycache)
        print("warm-up (every tool once on banking.yaml, for .pyc files)")
        warm = work / "warm"
        warm.mkdir()
        for tool in all_tools:
            run_child(tool.command(BANKING, warm / tool.name.replace(" ", "-")), env=tool.env(warm), cwd=warm, check=False)
        started = time.perf_counter()
        generate_all(specs, all_tools, options.repeat, work)
        print(f"\ngenerations took {time.perf_counter() - started:.0f} s; load average at the end {os.getloadavg()[0]:.2f}")
        report(specs, all_tools)
        if not options.no_decode:
            decode_comparison(venv, work, pycache, options.items, options.processes, options.number)


if __name__ == "__main__":
    main()
