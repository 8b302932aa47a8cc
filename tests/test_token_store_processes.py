"""One refresh across processes: 8 processes x 8 threads share an expired token against a
server that rotates refresh tokens. With a FileTokenStore, exactly one token request is
made and every call succeeds; without one, every process but the first ends its session
with a refresh token the server has already retired."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.conftest import SPECS, package_dir
from tests.runtime.helpers import APP_ID, APP_SECRET, FakeClock, OAuthTestServer
from tests.support.recording_server import RecordingServer, bearer_checked
from tests.test_security_over_http import ACCOUNT

pytestmark = pytest.mark.timeout(180)

PROCESSES = 8
THREADS = 8

CHILD = textwrap.dedent("""
    import importlib, json, sys, threading

    config = json.loads(sys.argv[1])
    sys.path.insert(0, config["package_dir"])
    pkg = importlib.import_module(config["package"])
    grant = pkg.RefreshTokenGrant(
        token_url=config["token_url"], client_id=config["client_id"], client_secret=config["client_secret"]
    )
    if config["store"]:
        session = pkg.Session(store=pkg.FileTokenStore(config["store"]), refresher=grant)
    else:
        session = pkg.Session.from_token_response(config["token"], refresher=grant)
    client = pkg.AuthenticatedClient(config["api_url"], session=session)
    print("ready", flush=True)
    sys.stdin.readline()  # every process starts calling at once

    barrier = threading.Barrier(config["threads"])
    outcomes = []

    def call():
        barrier.wait()
        try:
            client.accounts.get_account("a1")
            outcomes.append("ok")
        except Exception as exc:
            outcomes.append(type(exc).__name__)

    threads = [threading.Thread(target=call) for _ in range(config["threads"])]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(json.dumps(outcomes), flush=True)
    """)


@pytest.fixture()
def oauth() -> Iterator[OAuthTestServer]:
    # The server's clock stands still: the tokens it issues stay valid for the whole test,
    # while the processes (on the real clock) see the stored token as long expired.
    with OAuthTestServer(
        clock=FakeClock(), access_token_ttl=600, rotate_refresh_tokens=True
    ) as server:
        server.add_client(APP_ID, APP_SECRET, grant_types=("refresh_token",))
        yield server


@pytest.fixture()
def api(oauth: OAuthTestServer) -> Iterator[RecordingServer]:
    """Answers 200 to a currently valid token and 401 to anything else."""
    with RecordingServer() as server:
        server.route("GET", "/accounts/a1", bearer_checked(oauth.token_is_valid, ACCOUNT))
        yield server


@pytest.fixture(scope="module")
def banking(generate_package: Any) -> ModuleType:
    return generate_package(SPECS / "banking.yaml", "banking_client")


def run_processes(
    banking: ModuleType,
    oauth: OAuthTestServer,
    api: RecordingServer,
    store: Path | None,
    token: dict[str, Any],
) -> list[str]:
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env["NO_PROXY"] = "127.0.0.1"
    config = {
        "package_dir": str(package_dir(banking)),
        "package": banking.__name__,
        "token_url": oauth.token_url,
        "client_id": APP_ID,
        "client_secret": APP_SECRET,
        "api_url": api.url,
        "store": str(store) if store else None,
        "token": token,
        "threads": THREADS,
    }
    children = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, json.dumps(config)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(PROCESSES)
    ]
    try:
        for child in children:
            assert child.stdout is not None and child.stdout.readline().strip() == "ready", (
                child.stderr.read() if child.stderr else ""
            )
        for child in children:
            assert child.stdin is not None
            child.stdin.write("go\n")
            child.stdin.flush()
        outcomes: list[str] = []
        for child in children:
            out, err = child.communicate(timeout=120)
            assert child.returncode == 0, err
            outcomes += json.loads(out.strip().splitlines()[-1])
        return outcomes
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait()


def expired(oauth: OAuthTestServer) -> dict[str, Any]:
    login = oauth.login(APP_ID)
    return {
        "access_token": login["access_token"],
        "refresh_token": login["refresh_token"],
        "expires_at": 0,
    }


def test_with_a_file_store_one_refresh_serves_every_process(
    banking: ModuleType, oauth: OAuthTestServer, api: RecordingServer, tmp_path: Path
) -> None:
    store = tmp_path / "token.json"
    banking.FileTokenStore(store).save(banking.TokenSet.from_response(expired(oauth)))

    outcomes = run_processes(banking, oauth, api, store, {})

    assert outcomes == ["ok"] * PROCESSES * THREADS
    assert [(r.grant_type, r.status) for r in oauth.token_requests] == [
        ("refresh_token", 200)
    ], "exactly 1 token request"
    stored = banking.FileTokenStore(store).load()
    assert oauth.token_is_valid(stored.access_token) and oauth.refresh_token_is_valid(
        stored.refresh_token
    )
    assert {(r.header("Authorization") or "")[7:] for r in api.requests} == {stored.access_token}
    assert oct(store.stat().st_mode & 0o777) == "0o600"


def test_without_a_store_the_rotation_ends_every_session_but_one(
    banking: ModuleType, oauth: OAuthTestServer, api: RecordingServer
) -> None:
    outcomes = run_processes(banking, oauth, api, None, expired(oauth))

    # Each process refreshes with the same refresh token: the server accepts it once,
    # rotates it, and refuses the retired token to every other process.
    assert sorted(r.status for r in oauth.token_requests) == [200] + [400] * (PROCESSES - 1)
    assert outcomes.count("ok") == THREADS
    assert outcomes.count("TokenRequestRejectedError") == (PROCESSES - 1) * THREADS
