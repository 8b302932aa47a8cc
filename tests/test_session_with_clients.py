"""The refresh-aware session as generated clients use it, against a real authlib token
endpoint and a loopback API that checks every token."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest

from tests.conftest import SPECS
from tests.runtime.helpers import APP_ID, APP_SECRET, FakeClock, OAuthTestServer
from tests.support.recording_server import RecordedRequest, RecordingServer, Reply
from tests.test_security_over_http import ACCOUNT


@pytest.fixture()
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture()
def oauth(clock: FakeClock) -> Iterator[OAuthTestServer]:
    with OAuthTestServer(clock=clock, access_token_ttl=600) as server:
        server.add_client(APP_ID, APP_SECRET, grant_types=("refresh_token",))
        yield server


@pytest.fixture()
def api(oauth: OAuthTestServer) -> Iterator[RecordingServer]:
    """Answers 200 to a currently valid token and 401 to anything else."""

    def checked(body: Any) -> Any:
        def reply(request: RecordedRequest) -> Reply:
            token = (request.header("Authorization") or "").removeprefix("Bearer ")
            return Reply(200, body) if oauth.token_is_valid(token) else Reply(401, {"title": "Unauthorized"}, content_type="application/problem+json")

        return reply

    with RecordingServer() as server:
        server.route("GET", "/accounts/a1", checked(ACCOUNT))
        server.route("GET", "/inherited", checked(None))
        yield server


@pytest.fixture(scope="module")
def banking(generate_package: Any) -> ModuleType:
    return generate_package(SPECS / "banking.yaml", "banking_client")


@pytest.fixture(scope="module")
def mixed(generate_package: Any) -> ModuleType:
    return generate_package(SPECS / "mixed-security.yaml", "mixed_security_client")


def new_session(pkg: ModuleType, oauth: OAuthTestServer, clock: FakeClock, **kwargs: Any) -> Any:
    grant = pkg.RefreshTokenGrant(token_url=oauth.token_url, client_id=APP_ID, client_secret=APP_SECRET)
    return pkg.Session.from_token_response(oauth.login(APP_ID), refresher=grant, clock=clock, **kwargs)


def seen_tokens(api: RecordingServer) -> list[str]:
    return [(r.header("Authorization") or "").removeprefix("Bearer ") for r in api.requests]


def test_proactive_refresh_inside_the_leeway(banking: ModuleType, oauth: OAuthTestServer, api: RecordingServer, clock: FakeClock) -> None:
    session = new_session(banking, oauth, clock)
    client = banking.AuthenticatedClient(api.url, session=session)
    stale = session.token_set.access_token
    clock.advance(600 - 30)  # 30 s left: inside the 60 s leeway
    assert client.accounts.get_account("a1").id == "a1"
    assert [r.grant_type for r in oauth.token_requests] == ["refresh_token"]  # exactly one refresh
    assert stale not in seen_tokens(api)
    assert seen_tokens(api) == [session.token_set.access_token]


def test_reactive_refresh_replays_once_and_never_loops(banking: ModuleType, oauth: OAuthTestServer, api: RecordingServer, clock: FakeClock) -> None:
    session = new_session(banking, oauth, clock)
    client = banking.AuthenticatedClient(api.url, session=session)
    revoked = session.token_set.access_token
    oauth.revoke_access_token(revoked)
    assert client.accounts.get_account("a1").id == "a1"
    assert [r.grant_type for r in oauth.token_requests] == ["refresh_token"]
    assert seen_tokens(api) == [revoked, session.token_set.access_token]

    api.route("GET", "/accounts/a1", Reply(401, {"title": "Unauthorized"}))
    before = len(oauth.token_requests)
    with pytest.raises(banking.ApiError) as info:
        client.accounts.get_account("a1")
    assert info.value.status_code == 401
    assert len(oauth.token_requests) == before + 1, "one refresh for the failing request, not a loop"
    assert len(api.requests) == 4, "the request and exactly one replay"


def test_one_session_serves_sync_async_and_two_specs_with_one_refresh(
    banking: ModuleType, mixed: ModuleType, oauth: OAuthTestServer, api: RecordingServer, clock: FakeClock
) -> None:
    persisted: list[Any] = []
    session = new_session(banking, oauth, clock, on_refresh=persisted.append)
    sync_banking = banking.AuthenticatedClient(api.url, session=session)
    async_banking = banking.AsyncAuthenticatedClient(api.url, session=session)
    sync_mixed = mixed.AuthenticatedClient(api.url, session=session)
    async_mixed = mixed.AsyncAuthenticatedClient(api.url, session=session)
    clock.advance(3600)  # expired for everyone
    oauth.delay = 0.2  # widen the race window
    errors: list[BaseException] = []

    def sync_calls(n: int) -> None:
        try:
            (sync_banking.accounts.get_account("a1") if n % 2 else sync_mixed.inherited.inherit_root_security())
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    async def async_calls() -> None:
        calls = [async_banking.accounts.get_account("a1") if n % 2 else async_mixed.inherited.inherit_root_security() for n in range(64)]
        await asyncio.gather(*calls)

    threads = [threading.Thread(target=sync_calls, args=(n,)) for n in range(64)]
    loop_thread = threading.Thread(target=lambda: asyncio.run(async_calls()))
    for thread in threads:
        thread.start()
    loop_thread.start()
    for thread in [*threads, loop_thread]:
        thread.join(30)
    assert not errors
    assert len(api.requests) == 128
    assert len(oauth.token_requests) == 1, "one refresh for 128 callers over two specs, sync and async"
    assert len(persisted) == 1
    assert set(seen_tokens(api)) == {session.token_set.access_token}


def test_one_session_serves_both_sub_clients_of_a_two_spec_package(
    generated_root: Any, oauth: OAuthTestServer, api: RecordingServer, clock: FakeClock
) -> None:
    import importlib
    import sys

    from generator.pipeline import GenerateOptions, generate
    from generator.write import write_output

    out = generated_root / "two_specs"
    write_output(out, generate([SPECS / "banking.yaml", SPECS / "mixed-security.yaml"], GenerateOptions(package_name="two_specs")).files, "test")
    sys.path.insert(0, str(out))
    pkg = importlib.import_module("two_specs")
    assert pkg.__all__[-2:] == ["example_bank_banking", "mixed_security"]
    session = new_session(pkg, oauth, clock)
    banking_client = pkg.example_bank_banking.AuthenticatedClient(api.url, session=session)
    mixed_client = pkg.mixed_security.AuthenticatedClient(api.url, session=session)
    clock.advance(3600)
    assert banking_client.accounts.get_account("a1").id == "a1"
    mixed_client.inherited.inherit_root_security()
    assert len(oauth.token_requests) == 1, "one refresh served calls to both sub-clients"
    assert set(seen_tokens(api)) == {session.token_set.access_token}
