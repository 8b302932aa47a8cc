"""Generated packages pass ``mypy --strict``, and the type checker enforces where tokens are needed."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.conftest import SPECS, package_dir


def run_mypy(cwd: Path, *targets: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--hide-error-context", *targets],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.parametrize(
    ("spec", "name"),
    [
        ("banking.yaml", "banking_client"),
        ("mixed-security.yaml", "mixed_security_client"),
        ("features/schemas.yaml", "schemas_client"),
        ("features/requests.yaml", "requests_client"),
        ("features/pagination.yaml", "pagination_client"),
        ("features/runtime.yaml", "runtime_features_client"),
    ],
)
def test_generated_package_passes_mypy_strict(generate_package: Any, spec: str, name: str) -> None:
    pkg: ModuleType = generate_package(SPECS / spec, name)
    result = run_mypy(package_dir(pkg), name)
    assert result.returncode == 0, result.stdout + result.stderr


GOOD_USAGE = """
from banking_client import AuthenticatedClient, Client, Session
from banking_client.models import Account, Accounts


def with_session(client: AuthenticatedClient) -> list[Account]:
    page: Accounts = client.accounts.list_accounts(limit=10, product_types=["checking"])
    health = client.health.get_health()
    assert health.status == "ok"
    return page.items


def public(client: Client) -> str:
    return client.health.get_health().status


with_session(AuthenticatedClient(session=Session("token")))
"""

BAD_USAGE = """
from banking_client import Client


def no_session(client: Client) -> None:
    client.accounts.list_accounts()
"""


def test_token_required_method_is_a_type_error_on_the_public_client(generate_package: Any, tmp_path: Path) -> None:
    pkg = generate_package(SPECS / "banking.yaml", "banking_client")
    root = package_dir(pkg)
    (tmp_path / "good_usage.py").write_text(textwrap.dedent(GOOD_USAGE))
    (tmp_path / "bad_usage.py").write_text(textwrap.dedent(BAD_USAGE))
    env_path = f"{root}"
    good = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(tmp_path / "good_usage.py")],
        cwd=root, capture_output=True, text=True, timeout=300, env={"MYPYPATH": env_path, "PATH": "/usr/bin:/bin"},
    )
    assert good.returncode == 0, good.stdout + good.stderr
    bad = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(tmp_path / "bad_usage.py")],
        cwd=root, capture_output=True, text=True, timeout=300, env={"MYPYPATH": env_path, "PATH": "/usr/bin:/bin"},
    )
    assert bad.returncode == 1
    assert '"AccountsApi" has no attribute "list_accounts"' in bad.stdout, bad.stdout


OPTIONS_USAGE = """
import httpx
from banking_client import AuthenticatedClient, CallOptions, Session
from banking_client.models import Account


def good(client: AuthenticatedClient) -> Account:
    shared: CallOptions = {"max_retries": 0}
    client.accounts.get_account("a1", **shared)
    return client.accounts.get_account(
        "a1", timeout=httpx.Timeout(5.0), extra_headers={"X-Request-Id": "r1"}, extra_query={"a": "b"},
        max_retries=1, idempotency_key="k1",
    )


def misspelt(client: AuthenticatedClient) -> None:
    client.accounts.get_account("a1", retries=3)


def mistyped(client: AuthenticatedClient) -> None:
    client.accounts.get_account("a1", max_retries="3")
"""


def test_per_call_options_are_checked_by_name_and_type(generate_package: Any, tmp_path: Path) -> None:
    """``**options: Unpack[CallOptions]`` keeps every option typed: a misspelt or mistyped option is
    a type error, and the correct ones (also spread from a ``CallOptions`` dict) are not."""
    pkg = generate_package(SPECS / "banking.yaml", "banking_client")
    root = package_dir(pkg)
    (tmp_path / "options_usage.py").write_text(textwrap.dedent(OPTIONS_USAGE))
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--hide-error-context", str(tmp_path / "options_usage.py")],
        cwd=root, capture_output=True, text=True, timeout=300, env={"MYPYPATH": str(root), "PATH": "/usr/bin:/bin"},
    )
    errors = [line for line in result.stdout.splitlines() if ": error:" in line]
    assert all(line.startswith(f"{tmp_path / 'options_usage.py'}:") for line in errors), result.stdout
    lines = textwrap.dedent(OPTIONS_USAGE).splitlines()
    flagged = sorted({lines[int(line.split(":")[1]) - 1].strip() for line in errors})
    assert flagged == [
        'client.accounts.get_account("a1", max_retries="3")',
        'client.accounts.get_account("a1", retries=3)',
    ], result.stdout
