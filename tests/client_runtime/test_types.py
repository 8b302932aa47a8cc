"""The runtime's surface as the type checker sees it: options, errors, with_options and
streamed bodies type-check, and a sync client refuses an async iterable body."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from types import ModuleType

from tests.conftest import package_dir

GOOD = """
from collections.abc import AsyncIterator, Iterator

import httpx

from runtime_features_client import (
    ApiConnectionError,
    AsyncAuthenticatedClient,
    AuthenticatedClient,
    ClientError,
    RateLimitError,
    RetryPolicy,
    Session,
)
from runtime_features_client.models import StoredFile, Thing


def chunks() -> Iterator[bytes]:
    yield b"x"


async def async_chunks() -> AsyncIterator[bytes]:
    yield b"x"


def sync_calls(client: AuthenticatedClient) -> Thing:
    patient: AuthenticatedClient = client.with_options(max_retries=5, headers={"X-Tenant": "t"})
    stored: StoredFile = client.files.upload_file("f", body=chunks(), timeout=httpx.Timeout(5.0))
    with open("f", "rb") as file:
        client.files.upload_file("f", body=file, idempotency_key="k")
    with client.files.download_file_stream("f") as response:
        data = b"".join(response.iter_bytes())
    try:
        return patient.things.get_thing("t1", timeout=2.5, extra_headers={"X": "1"}, extra_query={"q": "1"})
    except RateLimitError as error:
        wait: float | None = error.retry_after
        raise
    except ApiConnectionError as error:
        attempts: int = error.attempts
        raise
    except ClientError as error:
        where: str | None = error.url
        raise


async def async_calls(client: AsyncAuthenticatedClient) -> int:
    stored = await client.files.upload_file("f", body=async_chunks())
    async with client.with_options(timeout=1.0).files.download_file_stream("f") as response:
        async for chunk in response.aiter_bytes():
            pass
    return stored.size


sync_calls(AuthenticatedClient(session=Session("t"), retry_policy=RetryPolicy(sleep=lambda s: None), strict_validation=True))
"""

BAD = """
from collections.abc import AsyncIterator

from runtime_features_client import AuthenticatedClient, Session


async def async_chunks() -> AsyncIterator[bytes]:
    yield b"x"


client = AuthenticatedClient(session=Session("t"))
client.files.upload_file("f", body=async_chunks())
client.things.get_thing("t1", timeout="5")
client.things.get_thing("t1", max_retries="2")
"""


def mypy(root: Path, source: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--no-incremental",
            "--hide-error-context",
            str(source),
        ],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
        env={"MYPYPATH": str(root), "PATH": "/usr/bin:/bin"},
    )


def test_the_runtime_surface_type_checks(rt: ModuleType, tmp_path: Path) -> None:
    root = package_dir(rt)
    (tmp_path / "good.py").write_text(textwrap.dedent(GOOD))
    (tmp_path / "bad.py").write_text(textwrap.dedent(BAD))
    good = mypy(root, tmp_path / "good.py")
    assert good.returncode == 0, good.stdout + good.stderr
    bad = mypy(root, tmp_path / "bad.py")
    errors = [line for line in bad.stdout.splitlines() if ": error:" in line]
    assert [line.split(":")[1] for line in errors] == ["12", "13", "14"], bad.stdout
    assert 'Argument "body" to "upload_file"' in errors[0] and "AsyncIterator[bytes]" in errors[0]
