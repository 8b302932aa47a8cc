"""docs/ci.md runs: its GitHub workflows and GitLab jobs, step by step in the order the page gives
them, over a spec and its edited copies in a git repository, with the stand-ins the page lists
("How the test runs this page") for what needs a network or a forge."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import REPO
from tests.support.bank_releases import ADDITIVE, BANKING, BREAKING

DOC = REPO / "docs" / "ci.md"
_CI_FILE = re.compile(
    r"<!-- ci-file: (?P<path>\S+) -->\n(?P<fence>`{3,})\w*\n(?P<body>.*?)\n(?P=fence)\n", re.DOTALL
)
_EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")

INVALID = "openapi: 3.0.3\ninfo: {title: Bank}\npaths: {}\n"
GITLAB_REMOTE = "https://oauth2:glpat-test@gitlab.test/team/bank.git"

STANDINS = {
    "pip": """#!/bin/sh
echo "pip $*" >> "$STANDIN_LOG/pip.log"
""",
    "gh": """#!/bin/sh
[ "$1 $2" = "pr comment" ] && [ -n "$GH_TOKEN" ] || { echo "gh stand-in: unexpected: $*" >&2; exit 2; }
number=$3; shift 3
[ "$1" = "--body-file" ] && [ $# -eq 2 ] || { echo "gh stand-in: unexpected: $*" >&2; exit 2; }
cp "$2" "$STANDIN_LOG/comment-$number.md"
""",
    "curl": """#!/bin/sh
token=no; body=; url=
while [ $# -gt 0 ]; do
  case "$1" in
    --header) [ "$2" = "PRIVATE-TOKEN: $GITLAB_API_TOKEN" ] && token=yes; shift 2 ;;
    --data-urlencode) body=${2#body@}; shift 2 ;;
    --request) shift 2 ;;
    --*) shift ;;
    *) url=$1; shift ;;
  esac
done
[ "$token" = yes ] && [ -f "$body" ] || { echo "curl stand-in: no token or no body" >&2; exit 2; }
cp "$body" "$STANDIN_LOG/note.md"
echo "$url" > "$STANDIN_LOG/note.url"
""",
    "twine": """#!/bin/sh
[ "$1" = upload ] && [ "$TWINE_USERNAME" = gitlab-ci-token ] && [ -n "$TWINE_PASSWORD" ] || { echo "twine stand-in: unexpected: $*" >&2; exit 2; }
shift
while [ $# -gt 0 ]; do
  case "$1" in
    --repository-url) shift 2 ;;
    --*) shift ;;
    *) [ -f "$1" ] || exit 2; echo "twine $(basename "$1")" >> "$STANDIN_LOG/published.txt"; shift ;;
  esac
done
""",
}


def ci_files() -> dict[str, str]:
    """The files docs/ci.md gives, by path, in the page's order."""
    return {
        m.group("path"): m.group("body") + "\n"
        for m in _CI_FILE.finditer(DOC.read_text(encoding="utf-8"))
    }


@dataclass
class Job:
    status: int = 0
    failed_step: str | None = None
    steps: list[str] = field(default_factory=list)
    output: str = ""


class Forge:
    """A git repository with an ``origin``, the test's stand-ins, and runners for the page's jobs."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.origin = root / "origin.git"
        self.seed = root / "seed"
        self.log = root / "log"
        self.bin = root / "bin"
        for folder in (self.log, self.bin, root / "home"):
            folder.mkdir()
        for name, script in STANDINS.items():
            (self.bin / name).write_text(script)
            (self.bin / name).chmod(0o755)
        (root / "home" / ".gitconfig").write_text(
            f"[user]\n\tname = Test\n\temail = test@example.invalid\n[init]\n\tdefaultBranch = main\n[advice]\n\tdetachedHead = false\n"
            f'[url "{self.origin}"]\n\tinsteadOf = {GITLAB_REMOTE}\n'
        )
        self.runs = 0
        self.git("init", "--quiet", "--bare", str(self.origin), cwd=root)
        self.git("clone", "--quiet", str(self.origin), str(self.seed), cwd=root)

    def env(self, **extra: str) -> dict[str, str]:
        keep = {
            key: os.environ[key]
            for key in ("LANG", "ACCESSGEN_CACHE_DIR", "TMPDIR")
            if key in os.environ
        }
        path = os.pathsep.join(
            [str(self.bin), str(Path(sys.executable).parent), "/usr/bin", "/bin"]
        )
        return {
            **keep,
            "PATH": path,
            "HOME": str(self.root / "home"),
            "GIT_CONFIG_NOSYSTEM": "1",
            "CI": "true",
            "STANDIN_LOG": str(self.log),
            **extra,
        }

    def git(self, *args: str, cwd: Path) -> str:
        done = subprocess.run(
            ["git", *args], cwd=cwd, env=self.env(), capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    def push_files(self, branch: str, files: dict[str, str], message: str) -> str:
        """Commit ``files`` on ``branch`` (from main, or a new repository) and push it; its sha."""
        if self.git("ls-remote", "--heads", "origin", "main", cwd=self.seed):
            self.git("fetch", "--quiet", "origin", cwd=self.seed)
            self.git("checkout", "--quiet", "-B", branch, "origin/main", cwd=self.seed)
        else:
            self.git("checkout", "--quiet", "-B", branch, cwd=self.seed)
        for path, text in files.items():
            (self.seed / path).parent.mkdir(parents=True, exist_ok=True)
            (self.seed / path).write_text(text)
        self.git("add", "-A", cwd=self.seed)
        self.git("commit", "--quiet", "-m", message, cwd=self.seed)
        self.git("push", "--quiet", "--force", "origin", branch, cwd=self.seed)
        return self.git("rev-parse", "HEAD", cwd=self.seed)

    def merge(self, branch: str) -> None:
        self.git("push", "--quiet", "origin", f"origin/{branch}:refs/heads/main", cwd=self.seed)

    def checkout(self, sha: str | None) -> Path:
        """What actions/checkout (and a GitLab runner) leave: a clone at ``sha``, or on main."""
        self.runs += 1
        workspace = self.root / f"run{self.runs}" / "workspace"
        workspace.parent.mkdir()
        self.git("clone", "--quiet", str(self.origin), str(workspace), cwd=self.root)
        if sha is not None:
            self.git("checkout", "--quiet", "--detach", sha, cwd=workspace)
        return workspace

    def shell(self, script: str, workspace: Path, env: dict[str, str]) -> tuple[int, str]:
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
            cwd=workspace,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        return done.returncode, done.stdout + done.stderr

    def published(self) -> list[str]:
        path = self.log / "published.txt"
        names = path.read_text().split("\n") if path.exists() else []
        path.unlink(missing_ok=True)
        return sorted(line for line in names if line)

    # ------------------------------------------------------------ GitHub Actions

    def github(self, workflow: str, *, sha: str | None, expressions: dict[str, str]) -> Job:
        """Run the one job of ``workflow`` as GitHub would, a step at a time."""
        document = yaml.safe_load(ci_files()[workflow])
        (job,) = document["jobs"].values()
        workspace = self.checkout(sha)
        temp = workspace.parent / "runner-temp"
        temp.mkdir()
        result = Job()
        for index, step in enumerate(job["steps"]):
            name = step.get("name") or step.get("uses") or f"step {index}"
            result.steps.append(name)
            assert "if" not in step, "the test evaluates no step conditions"
            if "uses" in step:
                self._action(step["uses"], step.get("with", {}), workspace)
                continue
            env = self.env(
                RUNNER_TEMP=str(temp),
                GITHUB_WORKSPACE=str(workspace),
                GITHUB_ACTIONS="true",
                **{
                    key: _substitute(str(value), expressions)
                    for key, value in step.get("env", {}).items()
                },
            )
            status, output = self.shell(step["run"], workspace, env)
            result.output += f"--- {name}\n{output}"
            if status != 0:
                result.status, result.failed_step = status, name
                break
        return result

    def _action(self, uses: str, inputs: dict[str, Any], workspace: Path) -> None:
        action = uses.split("@", 1)[0]
        if action in ("actions/checkout", "actions/setup-python"):
            return  # the workspace is a clone at the event's commit; Python is the test's
        assert action == "pypa/gh-action-pypi-publish", f"no stand-in for {uses}"
        packages = sorted(p.name for p in (workspace / inputs["packages-dir"]).iterdir())
        with (self.log / "published.txt").open("a") as log:
            log.writelines(f"pypi {name}\n" for name in packages)

    # ------------------------------------------------------------ GitLab CI

    def gitlab(self, job_name: str, *, sha: str | None, variables: dict[str, str]) -> Job:
        document = yaml.safe_load(ci_files()[".gitlab-ci.yml"])
        workspace = self.checkout(sha)
        script = "\n".join(document[job_name]["script"])
        env = self.env(
            CI_API_V4_URL="https://gitlab.test/api/v4",
            CI_PROJECT_ID="42",
            CI_PROJECT_PATH="team/bank",
            CI_SERVER_HOST="gitlab.test",
            CI_DEFAULT_BRANCH="main",
            CI_JOB_TOKEN="job-token",
            GITLAB_API_TOKEN="glpat-test",
            GITLAB_CI="true",
            **variables,
        )
        status, output = self.shell(script, workspace, env)
        return Job(status, job_name if status else None, [job_name], output)


def _substitute(value: str, expressions: dict[str, str]) -> str:
    def replace(match: re.Match[str]) -> str:
        assert (
            match.group(1) in expressions
        ), f"docs/ci.md uses an expression the test does not simulate: {match.group(0)}"
        return expressions[match.group(1)]

    return _EXPRESSION.sub(replace, value)


def pull_request(number: int, labels: tuple[str, ...] = ()) -> dict[str, str]:
    return {
        "github.token": "gh-test-token",
        "github.event.pull_request.number": str(number),
        "contains(github.event.pull_request.labels.*.name, 'breaking-api-change')": str(
            "breaking-api-change" in labels
        ).lower(),
    }


def _released_version(forge: Forge) -> str:
    forge.git("fetch", "--quiet", "--tags", "origin", cwd=forge.seed)
    text = forge.git("show", "origin/main:client/pyproject.toml", cwd=forge.seed)
    match = re.search(r'^version = "([^"]+)"$', text, re.MULTILINE)
    assert match
    return match.group(1)


def _dists(version: str, via: str) -> list[str]:
    return sorted(
        [f"{via} bank_client-{version}-py3-none-any.whl", f"{via} bank_client-{version}.tar.gz"]
    )


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_the_documented_workflows_release_a_client_and_gate_breaking_changes(
    tmp_path: Path,
) -> None:
    files = ci_files()
    assert list(files) == [
        "pyproject.toml",
        ".github/workflows/api-review.yml",
        ".github/workflows/client-release.yml",
        ".gitlab-ci.yml",
    ], "the page gives the settings, then the GitHub workflows, then the GitLab jobs"
    forge = Forge(tmp_path)
    forge.push_files(
        "main",
        {"pyproject.toml": files["pyproject.toml"], "specs/bank.yaml": BANKING},
        "spec 2.3.0",
    )

    # The first release: the client did not exist.
    first = forge.github(".github/workflows/client-release.yml", sha=None, expressions={})
    assert first.status == 0, first.output
    assert _released_version(forge) == "1.0.0" and forge.published() == _dists("1.0.0", "pypi")
    assert forge.git("tag", "--list", cwd=forge.seed) == "client-v1.0.0"
    assert (forge.log / "pip.log").read_text().startswith("pip install accessgen build hatchling")

    # A pull request adding an optional parameter: commented on, passes.
    head = forge.push_files("add-expand", {"specs/bank.yaml": ADDITIVE}, "spec 2.4.0")
    review = forge.github(".github/workflows/api-review.yml", sha=head, expressions=pull_request(1))
    assert review.status == 0, review.output
    comment = (forge.log / "comment-1.md").read_text()
    assert comment.startswith(
        "### API changes 2.3.0 → 2.4.0\n\n**1 changes, 0 breaking; suggested version bump: minor**"
    )
    assert comment.endswith("\nMerging this releases the client as version 1.1.0.\n")
    forge.merge("add-expand")
    release = forge.github(".github/workflows/client-release.yml", sha=None, expressions={})
    assert release.status == 0, release.output
    assert _released_version(forge) == "1.1.0" and forge.published() == _dists("1.1.0", "pypi")
    changelog = forge.git("show", "origin/main:client/CHANGELOG.md", cwd=forge.seed)
    assert (
        changelog.startswith("# Changelog\n\n## 1.1.0\n\n### API changes 2.3.0 → 2.4.0")
        and "## 1.0.0" in changelog
    )
    assert (
        forge.git("log", "-1", "--format=%s", "origin/main", cwd=forge.seed)
        == "client 1.1.0 [skip ci]"
    )

    # A pull request renaming an operation: the comment is posted, then the gate ends the job with 1.
    head = forge.push_files("rename", {"specs/bank.yaml": BREAKING}, "spec 3.0.0")
    blocked = forge.github(
        ".github/workflows/api-review.yml", sha=head, expressions=pull_request(2)
    )
    assert (blocked.status, blocked.failed_step) == (
        1,
        "A breaking change needs the breaking-api-change label",
    ), blocked.output
    assert "breaking API change" in blocked.output
    comment = (forge.log / "comment-2.md").read_text()
    assert "| ⚠️ **breaking** | operation-renamed | `transfers.get_transfer` |" in comment
    assert comment.endswith("as version 2.0.0.\n")
    allowed = forge.github(
        ".github/workflows/api-review.yml",
        sha=head,
        expressions=pull_request(2, ("breaking-api-change",)),
    )
    assert allowed.status == 0, allowed.output

    # The same pull request on GitLab: the note is posted, the job ends with 1; with the label it passes.
    gitlab_mr = {
        "CI_PIPELINE_SOURCE": "merge_request_event",
        "CI_MERGE_REQUEST_IID": "7",
        "CI_COMMIT_SHA": head,
    }
    blocked = forge.gitlab(
        "api-review", sha=head, variables={**gitlab_mr, "CI_MERGE_REQUEST_LABELS": "api,docs"}
    )
    assert blocked.status == 1, blocked.output
    assert "operation-renamed" in (forge.log / "note.md").read_text()
    assert (
        forge.log / "note.url"
    ).read_text().strip() == "https://gitlab.test/api/v4/projects/42/merge_requests/7/notes"
    allowed = forge.gitlab(
        "api-review",
        sha=head,
        variables={**gitlab_mr, "CI_MERGE_REQUEST_LABELS": "api,breaking-api-change"},
    )
    assert allowed.status == 0, allowed.output

    # Merged and released by GitLab's job this time: a new major version, pushed through the token URL.
    forge.merge("rename")
    release = forge.gitlab(
        "client-release",
        sha=None,
        variables={"CI_PIPELINE_SOURCE": "push", "CI_COMMIT_BRANCH": "main"},
    )
    assert release.status == 0, release.output
    assert _released_version(forge) == "2.0.0" and forge.published() == _dists("2.0.0", "twine")
    assert "client-v2.0.0" in forge.git("tag", "--list", cwd=forge.seed).split()
    # Released again with nothing new: the client is unchanged, the same files are published (skipped there).
    again = forge.github(".github/workflows/client-release.yml", sha=None, expressions={})
    assert again.status == 0 and "the client is unchanged" in again.output, again.output
    assert _released_version(forge) == "2.0.0"

    # An invalid spec ends the review with 3 at the comparison, before anything is posted.
    head = forge.push_files("broken", {"specs/bank.yaml": INVALID}, "broken spec")
    broken = forge.github(".github/workflows/api-review.yml", sha=head, expressions=pull_request(3))
    assert (broken.status, broken.failed_step) == (
        3,
        "Compare the spec with the released client",
    ), broken.output
    assert not (forge.log / "comment-3.md").exists()


def test_the_readme_shows_the_release_workflow_on_its_first_screen() -> None:
    first_screen = "\n".join((REPO / "README.md").read_text(encoding="utf-8").splitlines()[:50])
    for shown in (
        "accessgen diff client specs/bank.yaml --format markdown",
        "--version-from bump --changelog CHANGELOG.md",
        "python -m build",
        "[docs/ci.md](docs/ci.md)",
    ):
        assert shown in first_screen, shown
