"""Stoplight Prism as a validating mock server on loopback.

``prism mock`` serves a spec and validates every request against it (parameters, bodies and
security). It is started with:

- ``--errors``: a request that violates the spec gets an error response (422, or the spec's
  own 400/401 response with an ``sl-violations`` header) instead of being tolerated;
- ``--dynamic --seed <fixed>``: responses are generated from the schemas by json-schema-faker,
  deterministically, so they honour ``pattern``/``format`` (Prism's static mode answers
  ``"string"`` for every string, which violates the patterns of the spec it serves).

Prism's faker (randexp) cannot parse two regex features that its validator (AJV, unicode
mode) handles fine: ECMA named groups ``(?<name>...)`` and the property escape ``\\P{Cc}``.
``servable_spec`` gives Prism a copy whose patterns are rewritten to ones that match exactly
the same strings (``(?<name>x)`` -> ``(x)``; ``\\P{Cc}`` -> ``[^\\x00-\\x1F\\x7F-\\x9F]``, the
definition of the Cc category). Nothing else of the spec changes.

Prism is installed by ``.ci/run`` into ``.ci/prism`` (see ``INSTALL_HINT``); the tests skip
with that hint where it is missing.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

REPO = Path(__file__).resolve().parents[2]
PRISM_PREFIX = REPO / ".ci" / "prism"
INSTALL_HINT = (
    "Prism is not installed: run `npm install --no-audit --no-fund --prefix .ci/prism "
    "@stoplight/prism-cli@5` from the repository root (.ci/run does), or point ACCESSGEN_PRISM "
    "at a prism executable"
)
SEED = "accessgen"
STARTUP_SECONDS = 90.0
SENTINEL_PATH = "/__accessgen_sentinel__"

_RECEIVED = re.compile(r"\[HTTP SERVER\] (\w+) (\S+) \S+\s+info\s+Request received")
_NAMED_GROUP = re.compile(r"\(\?<([A-Za-z_][A-Za-z0-9_]*)>")
_CC = "\\x00-\\x1F\\x7F-\\x9F"  # the whole of Unicode's Cc (control) category
_REWRITES: tuple[tuple[re.Pattern[str], str], ...] = (
    (_NAMED_GROUP, "("),
    (re.compile(r"\\P\{Cc\}"), f"[^{_CC}]"),
    (re.compile(r"\\p\{Cc\}"), f"[{_CC}]"),
)


def prism_executable() -> Path | None:
    """``$ACCESSGEN_PRISM``, else the project-local install of .ci/run, else ``prism`` on PATH."""
    configured = os.environ.get("ACCESSGEN_PRISM")
    if configured:
        return Path(configured)
    local = PRISM_PREFIX / "node_modules" / ".bin" / "prism"
    if local.exists():
        return local
    found = shutil.which("prism")
    return Path(found) if found else None


def prism_version(executable: Path) -> str:
    done = subprocess.run([str(executable), "--version"], capture_output=True, text=True, timeout=60)
    return done.stdout.strip()


def servable_spec(spec: Path, workdir: Path) -> tuple[Path, list[str]]:
    """``spec`` itself, or a JSON copy in ``workdir`` with Prism-parsable equivalent patterns.

    Returns the path to serve and a description of each rewritten pattern. Only single-file
    specs can be copied (a relative ``$ref`` would no longer resolve); a multi-file spec is
    served as it is.
    """
    tree = yaml.safe_load(spec.read_text(encoding="utf-8"))
    changes: list[str] = []

    def walk(node: Any, pointer: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                where = f"{pointer}/{str(key).replace('~', '~0').replace('/', '~1')}"
                if key == "pattern" and isinstance(value, str):
                    rewritten = value
                    for pattern, replacement in _REWRITES:
                        rewritten = pattern.sub(lambda _match, text=replacement: text, rewritten)
                    if rewritten != value:
                        node[key] = rewritten
                        changes.append(f"{where}: {value!r} -> {rewritten!r}")
                else:
                    walk(value, where)
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, f"{pointer}/{index}")

    walk(tree, "#")
    if not changes:
        return spec, []
    copy = workdir / (spec.stem + ".prism.json")
    copy.write_text(json.dumps(tree, default=str), encoding="utf-8")
    return copy, changes


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Received:
    method: str
    path: str


class PrismServer:
    """One ``prism mock`` process; ``url`` is where it serves the spec's paths (from the root:
    Prism drops the path of the spec's ``servers`` URL)."""

    def __init__(self, executable: Path, spec: Path, log_path: Path) -> None:
        self.executable = executable
        self.spec = spec
        self.log_path = log_path
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None
        self._mark = 0  # log offset up to which requests have been accounted for
        self._sentinels = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def command(self) -> list[str]:
        return [
            str(self.executable), "mock", str(self.spec),
            "--host", "127.0.0.1", "--port", str(self.port),
            "--errors", "--dynamic", "--seed", SEED,
        ]  # fmt: skip

    def log(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def start(self) -> None:
        for _attempt in range(3):
            self.port = free_port()
            with self.log_path.open("wb") as log:
                self._process = subprocess.Popen(
                    self.command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
                )
            deadline = time.monotonic() + STARTUP_SECONDS
            while time.monotonic() < deadline:
                if self._process.poll() is not None:
                    break
                if "Prism is listening on" in self.log() and self._accepts_connections():
                    self._mark = len(self.log())
                    return
                time.sleep(0.1)
            output = self.log()
            self.stop()
            if "EADDRINUSE" not in output:
                raise RuntimeError(
                    f"Prism did not start listening within {STARTUP_SECONDS:.0f} s "
                    f"(command: {' '.join(self.command)}); its output:\n{output[-4000:]}"
                )
        raise RuntimeError("Prism could not find a free port in three attempts")

    def _accepts_connections(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return True
        except OSError:
            return False

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)

    def settle(self) -> tuple[list[Received], str]:
        """The requests Prism received since the last call, and its log for them.

        A sentinel request (to a path no spec has) is sent and waited for in Prism's log:
        Prism logs in the order it receives, so everything before the sentinel is complete.
        """
        self._sentinels += 1
        sentinel = f"{SENTINEL_PATH}/{self._sentinels}"
        httpx.get(self.url + sentinel, timeout=10)
        deadline = time.monotonic() + 15
        while True:
            text = self.log()
            marker = f"[HTTP SERVER] get {sentinel} "
            at = text.find(marker, self._mark)
            if at >= 0:
                break
            if time.monotonic() > deadline:
                raise AssertionError(f"Prism never logged the sentinel {sentinel}; log tail:\n{text[-3000:]}")
            time.sleep(0.02)
        segment = text[self._mark : at]
        self._mark = at + len(marker)
        received = [
            Received(match.group(1).upper(), match.group(2))
            for match in _RECEIVED.finditer(segment)
            if not match.group(2).startswith(SENTINEL_PATH)
        ]
        return received, segment


@contextmanager
def running_prism(spec: Path, workdir: Path) -> Iterator[PrismServer]:
    """Serve ``spec`` (a Prism-parsable copy where needed) with Prism on a free loopback port."""
    executable = prism_executable()
    if executable is None:
        raise RuntimeError(INSTALL_HINT)
    served, _ = servable_spec(spec, workdir)
    server = PrismServer(executable, served, workdir / f"prism-{spec.stem}.log")
    server.start()
    try:
        yield server
    finally:
        server.stop()


def prism_findings(response: httpx.Response) -> list[dict[str, Any]]:
    """What Prism found wrong with an exchange: the ``sl-violations`` header it adds when it
    answers with one of the spec's own responses, and the ``validation`` list of the problems
    it generates itself (422 for an invalid request, 500 for a response it could not make valid).
    Each finding has ``location`` (``["request", ...]``, ``["query", ...]``, ``["response", ...]``),
    ``severity``, ``code`` and ``message``."""
    found: list[dict[str, Any]] = []
    header = response.headers.get("sl-violations")
    if header:
        try:
            found.extend(json.loads(header))
        except ValueError:
            found.append({"location": ["request"], "severity": "Error", "message": header})
    if response.status_code >= 400 and not header:
        try:
            body = json.loads(response.content)
        except ValueError:
            body = None
        if isinstance(body, dict) and str(body.get("type", "")).startswith("https://stoplight.io/prism/errors#"):
            found.extend(body.get("validation") or [])
            if not body.get("validation"):
                found.append({"location": ["prism"], "severity": "Error", "message": f"{body.get('type')}: {body.get('title')}"})
    return found


def is_request_finding(finding: dict[str, Any]) -> bool:
    return (finding.get("location") or ["?"])[0] != "response"
