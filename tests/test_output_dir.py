"""The output directory: user entries survive as they are, conflicts are errors (exit 4), a new
OUT follows the umask, killed runs leave nothing behind for long, and one run at a time writes."""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from generator.write import _staging_prefix, _umask, write_output
from tests.test_bad_input import MINIMAL, tree_digest

BOUND = 120  # seconds: a bound on waits that end as soon as their condition holds


def run(*args: str, cwd: Path, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "generator", *args], cwd=cwd, capture_output=True, text=True, timeout=BOUND, **kwargs)  # type: ignore[call-overload, no-any-return]


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + BOUND
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.002)


def staging_dirs(parent: Path, out: str = "out") -> list[str]:
    return sorted(
        p.name
        for p in parent.iterdir()
        if p.name.startswith((f".{out}.accessgen-new", f".{out}.accessgen-old"))
    )


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    (tmp_path / "spec.yaml").write_text(MINIMAL)
    result = run(
        "generate", "spec.yaml", "-o", "out", "--package-name", "things", "-q", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    return tmp_path


# ---------------------------------------------------------------- user entries


def test_user_symlinks_survive_regeneration_as_symlinks(project: Path) -> None:
    out = project / "out"
    (project / "data").mkdir()
    (project / "data" / "big.bin").write_bytes(b"\x00" * 10)
    (out / "data").symlink_to("../data")
    (out / "things" / "notes").symlink_to("/nonexistent/target")
    (out / "custom.py").write_text("MINE = 1\n")
    (out / "things" / "custom_link.py").symlink_to("../custom.py")
    inode = (out / "custom.py").stat().st_ino
    (project / "spec.yaml").write_text(MINIMAL.replace("title: T", "title: T2"))
    result = run(
        "generate", "spec.yaml", "-o", "out", "--package-name", "things", "-q", cwd=project
    )
    assert result.returncode == 0, result.stderr
    assert (out / "data").is_symlink() and os.readlink(out / "data") == "../data"
    assert (out / "data" / "big.bin").read_bytes() == b"\x00" * 10
    assert (out / "things" / "notes").is_symlink() and os.readlink(
        out / "things" / "notes"
    ) == "/nonexistent/target"
    assert (out / "things" / "custom_link.py").is_symlink() and (
        out / "things" / "custom_link.py"
    ).read_text() == "MINE = 1\n"
    assert (out / "custom.py").stat().st_ino == inode, "carried over as it is, not copied"
    assert "T2" in (out / "README.md").read_text()


@pytest.mark.parametrize("where", ["things", "things/api"])
def test_a_user_file_where_a_generated_directory_goes_is_an_error(
    where: str, tmp_path: Path
) -> None:
    (tmp_path / "spec.yaml").write_text(MINIMAL)
    out = tmp_path / "out"
    (out / where).parent.mkdir(parents=True, exist_ok=True)
    (out / where).write_text("my notes\n")
    before = tree_digest(out)
    result = run("generate", "spec.yaml", "-o", "out", "--package-name", "things", cwd=tmp_path)
    assert result.returncode == 4, result.stderr
    assert (
        f"holds files accessgen did not write where it writes a directory ({where})"
        in result.stderr
    )
    assert tree_digest(out) == before and (out / where).read_text() == "my notes\n"
    assert staging_dirs(tmp_path) == []


def test_a_user_symlink_where_a_generated_directory_goes_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "spec.yaml").write_text(MINIMAL)
    (tmp_path / "elsewhere").mkdir()
    out = tmp_path / "out"
    out.mkdir()
    (out / "things").symlink_to("../elsewhere")
    result = run("generate", "spec.yaml", "-o", "out", "--package-name", "things", cwd=tmp_path)
    assert result.returncode == 4, result.stderr
    assert "where it writes a directory (things)" in result.stderr
    assert list((tmp_path / "elsewhere").iterdir()) == [], "nothing written through the link"


def test_a_user_directory_where_a_generated_file_goes_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "spec.yaml").write_text(MINIMAL)
    (tmp_path / "out" / "README.md").mkdir(parents=True)
    result = run("generate", "spec.yaml", "-o", "out", "--package-name", "things", cwd=tmp_path)
    assert (
        result.returncode == 4
        and "holds directories where accessgen writes a file (README.md)" in result.stderr
    )


@pytest.mark.parametrize("umask", [0o022, 0o002, 0o077])
def test_a_new_output_follows_the_umask(umask: int, tmp_path: Path) -> None:
    (tmp_path / "spec.yaml").write_text(MINIMAL)
    result = run(
        "generate", "spec.yaml", "-o", "out", "-q", cwd=tmp_path, preexec_fn=lambda: os.umask(umask)
    )
    assert result.returncode == 0, result.stderr
    expected = 0o777 & ~umask
    assert stat.S_IMODE((tmp_path / "out").stat().st_mode) == expected
    package = next(p for p in (tmp_path / "out").iterdir() if p.is_dir())
    assert stat.S_IMODE(package.stat().st_mode) == expected
    assert stat.S_IMODE((tmp_path / "out" / "README.md").stat().st_mode) == 0o666 & ~umask


def test_an_existing_output_keeps_its_mode(project: Path) -> None:
    os.chmod(project / "out", 0o750)
    os.chmod(project / "out" / "things", 0o700)
    (project / "spec.yaml").write_text(MINIMAL.replace("title: T", "title: T2"))
    assert (
        run(
            "generate", "spec.yaml", "-o", "out", "--package-name", "things", "-q", cwd=project
        ).returncode
        == 0
    )
    assert stat.S_IMODE((project / "out").stat().st_mode) == 0o750
    assert stat.S_IMODE((project / "out" / "things").stat().st_mode) == 0o700


def test_a_regeneration_keeps_the_files_it_does_not_change(tmp_path: Path) -> None:
    """Unchanged files keep their inode and modification time (build tools see them unchanged);
    a changed file, and one that is not exactly what accessgen would write now (edited by hand,
    another mode, linked elsewhere), is written anew."""
    out = tmp_path / "out"
    names = ["same.py", "changed.py", "edited.py", "chmodded.py", "linked.py"]
    files = {f"pkg/{name}": f"# {name}\n" for name in names}
    write_output(out, files, "accessgen test")
    before = {path: os.stat(out / path) for path in files}
    (out / "pkg/edited.py").write_text("# edited by hand\n")
    os.chmod(out / "pkg/chmodded.py", 0o600)
    os.link(out / "pkg/linked.py", tmp_path / "elsewhere.py")
    changes = write_output(out, {**files, "pkg/changed.py": "# new text\n"}, "accessgen test")
    after = {path: os.stat(out / path) for path in files}
    kept = {path for path in files if after[path].st_ino == before[path].st_ino}
    assert kept == {"pkg/same.py"}
    assert after["pkg/same.py"].st_mtime_ns == before["pkg/same.py"].st_mtime_ns
    assert changes.changed == ("pkg/changed.py", "pkg/edited.py")
    assert {path: (out / path).read_text() for path in files} == {**files, "pkg/changed.py": "# new text\n"}
    mode = 0o666 & ~_umask()
    assert {stat.S_IMODE(status.st_mode) for status in after.values()} == {mode}
    assert (tmp_path / "elsewhere.py").read_text() == "# linked.py\n" and after["pkg/linked.py"].st_nlink == 1


def test_a_symlink_to_the_output_is_followed(tmp_path: Path) -> None:
    (tmp_path / "spec.yaml").write_text(MINIMAL)
    (tmp_path / "real").mkdir()
    (tmp_path / "out").symlink_to("real")
    assert run("generate", "spec.yaml", "-o", "out", "-q", cwd=tmp_path).returncode == 0
    assert (tmp_path / "out").is_symlink() and (tmp_path / "real" / "README.md").exists()


# ---------------------------------------------------------------- staging left by killed runs


@contextmanager
def child_holding_staging(out: Path, kind: str) -> Iterator[tuple[subprocess.Popen[str], Path]]:
    """A real process that makes a staging folder beside ``out`` the way a run does, then waits."""
    script = (
        "import sys, tempfile; from pathlib import Path; from generator.write import _staging_prefix; "
        f"out = Path({str(out)!r}); "
        f"path = tempfile.mkdtemp(dir=out.parent, prefix=_staging_prefix(out, {kind!r})); "
        f"{kind!r} == 'new' and Path(path, 'partial.py').write_text('x = 1\\n'); print(path, flush=True); sys.stdin.read()"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None
        yield child, Path(child.stdout.readline().strip())
    finally:
        child.kill()
        child.wait(timeout=BOUND)


def test_staging_of_killed_runs_is_removed_and_of_running_ones_kept(project: Path) -> None:
    out = project / "out"
    with (
        child_holding_staging(out, "new") as (killed, killed_new),
        child_holding_staging(out, "old") as (_, killed_old),
    ):
        killed.kill()
        killed.wait(timeout=BOUND)
        with child_holding_staging(out, "new") as (alive, alive_new):
            reused = out.parent / (
                alive_new.name.split("-")[0] + f"-new-{alive.pid}-1-abc"
            )  # the pid, another start time
            reused.mkdir()
            legacy_old, legacy_new = (
                out.parent / ".out.accessgen-new-k2j4_x9a",
                out.parent / ".out.accessgen-new-fresh123",
            )
            legacy_old.mkdir()
            legacy_new.mkdir()
            os.utime(legacy_old, (time.time() - 7200, time.time() - 7200))
            write_output(out, {"a.py": "a = 1\n"}, "test")
            assert alive_new.is_dir(), "a running run's staging is never touched"
            assert (
                legacy_new.is_dir()
            ), "an older accessgen's fresh staging may belong to a running run"
            assert not killed_new.exists() and not reused.exists() and not legacy_old.exists()
        assert killed_old.is_dir(), "still running when write_output ran"


def test_an_up_to_date_run_removes_staging_of_killed_runs(project: Path) -> None:
    with child_holding_staging(project / "out", "new") as (child, staging):
        child.kill()
        child.wait(timeout=BOUND)
    result = run("generate", "spec.yaml", "-o", "out", "--package-name", "things", cwd=project)
    assert result.returncode == 0 and "is up to date" in result.stdout
    assert not staging.exists()


def test_output_is_restored_from_a_swap_cut_between_its_two_renames(project: Path) -> None:
    out = project / "out"
    (out / "custom.py").write_text("MINE = 1\n")
    before = tree_digest(out)
    with child_holding_staging(out, "old") as (child, retired):
        os.rmdir(retired)
        os.replace(out, retired)  # what the interrupted swap had done
        child.kill()
        child.wait(timeout=BOUND)
    assert not out.exists()
    result = run(
        "generate", "spec.yaml", "-o", "out", "--package-name", "things", "-q", cwd=project
    )
    assert result.returncode == 0, result.stderr
    assert (out / "custom.py").read_text() == "MINE = 1\n"
    assert tree_digest(out) == before
    assert staging_dirs(project) == []


def many_tags_spec(tags: int, title: str) -> str:
    paths = "".join(
        f"  /t{i}:\n    get:\n      operationId: get{i}\n      tags: [tag{i}]\n      responses:\n        '200': {{description: ok}}\n"
        for i in range(tags)
    )
    return f"openapi: 3.0.3\ninfo: {{title: {title}, version: '1'}}\npaths:\n{paths}"


MOMENTS = {
    "while loading": lambda parent: True,
    "as staging appears": lambda parent: bool(staging_dirs(parent)),
    "with staging half written": lambda parent: any(
        sum(1 for _ in (parent / d).rglob("*.py")) > 80 for d in staging_dirs(parent)
    ),
}


@pytest.fixture(scope="module")
def old_and_new(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, str]]:
    """A black cache, an output generated from the old spec, and the digest of the new one's."""
    root = tmp_path_factory.mktemp("kill")
    env = dict(os.environ, ACCESSGEN_CACHE_DIR=str(root / "cache"))
    (root / "spec.yaml").write_text(many_tags_spec(200, "Old"))
    assert run("generate", "spec.yaml", "-o", "old", "-q", cwd=root, env=env).returncode == 0
    (root / "spec.yaml").write_text(many_tags_spec(200, "New"))
    assert run("generate", "spec.yaml", "-o", "new", "-q", cwd=root, env=env).returncode == 0
    return root / "cache", root / "old", tree_digest(root / "new")


@pytest.mark.parametrize("moment", sorted(MOMENTS))
def test_sigkill_at_any_moment_leaves_old_or_new_and_the_next_run_cleans_up(
    moment: str, tmp_path: Path, old_and_new: tuple[Path, Path, dict[str, str]]
) -> None:
    cache, old_tree, new = old_and_new
    env = dict(os.environ, ACCESSGEN_CACHE_DIR=str(cache))
    shutil.copytree(old_tree, tmp_path / "out", symlinks=True)
    old = tree_digest(tmp_path / "out")
    (tmp_path / "spec.yaml").write_text(many_tags_spec(200, "New"))

    process = subprocess.Popen(
        [sys.executable, "-m", "generator", "generate", "spec.yaml", "-o", "out", "-q"],
        cwd=tmp_path,
        env=env,
    )
    try:
        wait_for(lambda: MOMENTS[moment](tmp_path) or process.poll() is not None, moment)
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(timeout=BOUND)
    now = tree_digest(tmp_path / "out")
    assert now in (old, new), "OUT is the old tree or the new one, never a mix"

    again = run("generate", "spec.yaml", "-o", "out", "-q", cwd=tmp_path, env=env)
    assert again.returncode == 0, again.stderr
    assert tree_digest(tmp_path / "out") == new
    assert staging_dirs(tmp_path) == [], "the killed run's staging is gone"


# ---------------------------------------------------------------- one run at a time


@contextmanager
def holding_the_lock(parent: Path, out: str = "out") -> Iterator[None]:
    fd = os.open(parent / f".{out}.accessgen-lock", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, b"4242\n")
        yield
    finally:
        os.close(fd)


def test_a_locked_output_is_an_error_without_waiting(project: Path) -> None:
    before = tree_digest(project / "out")
    with holding_the_lock(project):
        result = run(
            "generate",
            "spec.yaml",
            "-o",
            "out",
            "--package-name",
            "other",
            "--lock-timeout",
            "0",
            cwd=project,
        )
    assert result.returncode == 4, result.stderr
    assert (
        "another accessgen run (pid 4242) is writing" in result.stderr
        and "--lock-timeout" in result.stderr
    )
    assert tree_digest(project / "out") == before


def test_a_second_run_waits_for_the_first_with_a_message(project: Path) -> None:
    with holding_the_lock(project):
        waiting = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "generator",
                    "generate",
                    "spec.yaml",
                    "-o",
                    "out",
                    "--package-name",
                    name,
                ],
                cwd=project,
                stderr=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            for name in ("first", "second")
        ]
        for process in waiting:
            assert process.stderr is not None
            line = process.stderr.readline()
            assert (
                "another accessgen run (pid 4242) is writing" in line
                and "waiting up to 60 s" in line
            ), line
    results = [process.communicate(timeout=BOUND) for process in waiting]
    assert [process.returncode for process in waiting] == [0, 0], results
    packages = sorted(p.name for p in (project / "out").iterdir() if p.is_dir())
    assert len(packages) == 1 and packages[0] in (
        "first",
        "second",
    ), "one swap after the other, each complete"
    assert staging_dirs(project) == []
    check = run(
        "generate", "spec.yaml", "-o", "out", "--package-name", packages[0], "--check", cwd=project
    )
    assert check.returncode == 0, check.stderr


def test_the_lock_is_beside_the_output_not_in_it(project: Path) -> None:
    assert (project / ".out.accessgen-lock").is_file()
    assert not [p for p in (project / "out").iterdir() if "lock" in p.name]


def test_write_output_waits_with_an_injected_clock(tmp_path: Path) -> None:
    from generator.errors import OutputError
    from generator.write import _locked

    now = [0.0]
    messages: list[str] = []

    def sleep(seconds: float) -> None:
        now[0] += seconds

    with holding_the_lock(tmp_path):
        with pytest.raises(OutputError, match=r"gave up after waiting 5 s"):
            with _locked(tmp_path / "out", 5, messages.append, clock=lambda: now[0], sleep=sleep):
                pass
    assert messages == [
        f"another accessgen run (pid 4242) is writing {tmp_path / 'out'}; waiting up to 5 s"
    ]
    assert 5.0 <= now[0] < 5.2
    assert _staging_prefix(tmp_path / ("x" * 255), "new").startswith(
        "." + "x" * 100 + ".accessgen-new-"
    )
