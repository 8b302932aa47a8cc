"""Ctrl-C and kills of a real ``accessgen generate``: one line and exit 130, no worker outlives it."""

from __future__ import annotations

import os
import pty
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.test_output_dir import many_tags_spec

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="reads processes from /proc (Linux)"
)

BOUND = 120  # seconds: a bound on waits that end as soon as their condition holds


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + BOUND
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.01)


def _stat(pid: int) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            return handle.read().rsplit(b")", 1)[1].decode().split()
    except OSError:
        return None


def children(pid: int) -> set[int]:
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat(int(entry))
            if fields is not None and fields[1] == str(pid):
                found.add(int(entry))
    return found


def ready_workers(pid: int) -> set[int]:
    """Children past their initializer: it arms the death signal, then starts a watchdog thread."""
    ready = set()
    for child in children(pid):
        try:
            if len(os.listdir(f"/proc/{child}/task")) >= 2:
                ready.add(child)
        except OSError:
            pass
    return ready


def alive(pid: int) -> bool:
    fields = _stat(pid)
    return fields is not None and fields[0] not in ("Z", "X")


def start(tmp_path: Path, *, terminal: bool) -> tuple[subprocess.Popen[bytes], int | None]:
    """``accessgen generate`` on a spec big enough for black's process pool, always used here."""
    (tmp_path / "spec.yaml").write_text(many_tags_spec(300, "Big"))
    env = dict(os.environ, ACCESSGEN_CACHE_DIR="", ACCESSGEN_PARALLEL_THRESHOLD="0")
    # --format: black over every module, in its pool (without it black has nothing to do here).
    command = [sys.executable, "-m", "generator", "generate", "spec.yaml", "-o", "out", "--format"]
    if not terminal:
        process = subprocess.Popen(
            command,
            cwd=tmp_path,
            env=env,
            start_new_session=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        return process, None
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        command, cwd=tmp_path, env=env, start_new_session=True, stdout=follower, stderr=follower
    )
    os.close(follower)
    return process, leader


def read_until(leader: int, marker: str, seen: bytearray) -> None:
    while marker.encode() not in seen:
        chunk = os.read(leader, 4096)
        if not chunk:
            raise AssertionError(f"output ended before {marker!r}: {seen.decode(errors='replace')}")
        seen.extend(chunk)


def read_rest(leader: int, seen: bytearray) -> str:
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # EIO: the terminal's other end is closed
            break
        if not chunk:
            break
        seen.extend(chunk)
    os.close(leader)
    return seen.decode(errors="replace")


@pytest.mark.parametrize("moment", ["reading", "formatting"])
def test_ctrl_c_on_a_terminal_prints_one_line_and_exits_130(moment: str, tmp_path: Path) -> None:
    process, leader = start(tmp_path, terminal=True)
    assert leader is not None
    seen = bytearray()
    read_until(leader, f"accessgen: reading" if moment == "reading" else "; formatting", seen)
    workers: set[int] = set()
    if moment == "formatting":
        wait_for(lambda: len(children(process.pid)) >= 2, "the pool's workers")
        workers = children(process.pid)
    before = len(seen)
    os.killpg(
        process.pid, signal.SIGINT
    )  # what a terminal's Ctrl-C does: the whole foreground group
    status = process.wait(timeout=BOUND)
    after = read_rest(leader, seen)[before:]
    assert status == 130
    assert [line for line in after.splitlines() if line.strip()] == [
        "accessgen: interrupted"
    ], after
    assert not (tmp_path / "out").exists()
    assert not [p for p in tmp_path.iterdir() if ".accessgen-new" in p.name], "no staging left"
    wait_for(lambda: not any(alive(pid) for pid in workers), "the workers to end")


def test_workers_do_not_outlive_a_killed_generator(tmp_path: Path) -> None:
    process, _ = start(tmp_path, terminal=False)
    wait_for(lambda: len(ready_workers(process.pid)) >= 2, "the pool's workers")
    workers = ready_workers(process.pid)
    for pid in workers:
        # Stopped, a worker can neither finish its file nor notice its task queue closing: only
        # a signal sent by the kernel when its parent dies (Linux's PR_SET_PDEATHSIG) ends it.
        os.kill(pid, signal.SIGSTOP)
    process.kill()
    process.communicate(timeout=BOUND)
    try:
        wait_for(
            lambda: not any(alive(pid) for pid in workers), "every worker to end with its parent"
        )
    finally:
        for pid in workers:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


def test_an_interrupt_while_piped_is_one_line_too(tmp_path: Path) -> None:
    process, _ = start(tmp_path, terminal=False)
    wait_for(lambda: len(children(process.pid)) >= 2, "the pool's workers")
    os.killpg(process.pid, signal.SIGINT)
    stdout, stderr = process.communicate(timeout=BOUND)
    assert process.returncode == 130
    assert stdout == b"" and stderr == b"accessgen: interrupted\n"
