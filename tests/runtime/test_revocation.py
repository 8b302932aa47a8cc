"""Signing out: ``revoke()`` revokes the tokens at the server (RFC 7009) and ends the
session, so later calls raise without any network traffic."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from generator.runtime.errors import SessionExpiredError
from generator.runtime.session import (
    FileTokenStore,
    RefreshTokenGrant,
    RevocationResult,
    Session,
    TokenSet,
)

from .helpers import (
    APP_ID,
    APP_SECRET,
    WEB_CALLBACK,
    WEB_ID,
    WEB_SECRET,
    FakeClock,
    OAuthTestServer,
    UserAgent,
    call_api,
    unused_port,
    wait_until,
)

pytestmark = [pytest.mark.timeout(30), pytest.mark.anyio]


class CountingTransport(httpx.HTTPTransport):
    """Counts every request the session's own HTTP client sends."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(f"{request.method} {request.url.path}")
        return super().handle_request(request)


def signed_in(
    session_class: type[Session], clock: FakeClock, http: httpx.Client | None = None, **kwargs: Any
) -> Session:
    flow = session_class.sign_in_flow(
        client_id=WEB_ID,
        client_secret=WEB_SECRET,
        redirect_uri=WEB_CALLBACK,
        clock=clock,
        http_client=http,
    )
    request = flow.start()
    return flow.finish(request, UserAgent().authorize(request.url), **kwargs)


def refresh_directly(server: OAuthTestServer, refresh_token: str) -> httpx.Response:
    with httpx.Client(trust_env=False, timeout=5) as http:
        return http.post(
            server.token_url,
            data={"grant_type": "refresh_token", "refresh_token": refresh_token},
            auth=(WEB_ID, WEB_SECRET),
        )


def test_revoke_ends_the_session_at_the_server_and_locally(
    server: OAuthTestServer, api_session_class: type[Session], clock: FakeClock, api: httpx.Client
) -> None:
    transport = CountingTransport()
    http = httpx.Client(transport=transport, timeout=5)
    results: list[RevocationResult] = []
    session = signed_in(api_session_class, clock, http, on_revoke=results.append)
    clock.advance(3600)
    assert call_api(session, api, server.api_url).status_code == 200  # refreshed once
    held = session.token_set
    assert held is not None and held.refresh_token is not None

    result = session.revoke()

    assert result.endpoint == server.revocation_url and result.complete
    assert result.revoked == ("refresh_token", "access_token") and not result.not_revoked
    assert results == [result]
    assert [
        (r.token_type_hint, r.client_id, r.known, r.status) for r in server.revocation_requests
    ] == [
        ("refresh_token", WEB_ID, True, 200),
        ("access_token", WEB_ID, True, 200),
    ]
    # The server refuses the old tokens.
    refusal = refresh_directly(server, held.refresh_token)
    assert refusal.status_code == 400 and refusal.json()["error"] == "invalid_grant"
    assert not server.token_is_valid(held.access_token)
    # The client raises at once, without sending anything anywhere.
    sent, token_requests = list(transport.sent), len(server.token_requests)
    for call in (
        session.access_token,
        session.refresh,
        lambda: session.refresh_after_rejection("x"),
    ):
        with pytest.raises(SessionExpiredError, match="signed out"):
            call()
    with pytest.raises(SessionExpiredError):
        asyncio.run(session.async_access_token())
    assert transport.sent == sent and len(server.token_requests) == token_requests
    assert session.token_set is None and "ended" in repr(session)


async def test_async_revoke(
    server: OAuthTestServer, api_session_class: type[Session], clock: FakeClock
) -> None:
    revoked: list[RevocationResult] = []

    async def forget(result: RevocationResult) -> None:
        await asyncio.sleep(0)
        revoked.append(result)

    flow = api_session_class.sign_in_flow(
        client_id=WEB_ID, client_secret=WEB_SECRET, redirect_uri=WEB_CALLBACK, clock=clock
    )
    request = await flow.async_start()
    session = await flow.async_finish(
        request, await UserAgent().async_authorize(request.url), on_revoke=forget
    )
    held = session.token_set
    assert held is not None and held.refresh_token is not None
    result = await session.async_revoke()
    assert result.revoked == ("refresh_token", "access_token") and revoked == [result]
    assert not server.refresh_token_is_valid(held.refresh_token)
    with pytest.raises(SessionExpiredError):
        await session.async_access_token()


def test_sync_revoke_with_an_async_callback(
    api_session_class: type[Session], clock: FakeClock
) -> None:
    seen: list[RevocationResult] = []

    async def forget(result: RevocationResult) -> None:
        seen.append(result)

    session = signed_in(api_session_class, clock, on_revoke=forget)
    assert session.revoke() == seen[0]


def test_without_a_revocation_endpoint_the_session_is_cleared_locally(
    server: OAuthTestServer, clock: FakeClock
) -> None:
    session = Session.from_token_response(
        server.login(APP_ID),
        refresher=RefreshTokenGrant(
            token_url=server.token_url, client_id=APP_ID, client_secret=APP_SECRET
        ),
        clock=clock,
    )
    result = session.revoke()
    assert result.locally_only and not result.complete and result.endpoint is None
    assert all("no revocation endpoint is known" in reason for reason in result.not_revoked)
    assert [reason.split(":")[0] for reason in result.not_revoked] == [
        "refresh_token",
        "access_token",
    ]
    assert server.revocation_requests == []
    with pytest.raises(SessionExpiredError):
        session.access_token()

    # A fixed token: nothing to revoke with.
    fixed = Session("a-fixed-token")
    result = fixed.revoke()
    assert result.locally_only and "no OAuth grant" in result.not_revoked[0]
    with pytest.raises(SessionExpiredError):
        fixed.access_token()
    # A discovery document without revocation_endpoint says so too.
    server.discovery_omit = {"revocation_endpoint"}
    discovered = Session.from_token_response(
        server.login(APP_ID),
        refresher=RefreshTokenGrant(
            openid_configuration_url=server.discovery_url,
            client_id=APP_ID,
            client_secret=APP_SECRET,
        ),
        clock=clock,
    )
    assert discovered.revoke().locally_only


def test_a_grant_given_revocation_url_revokes(server: OAuthTestServer, clock: FakeClock) -> None:
    login = server.login(APP_ID)
    session = Session.from_token_response(
        login,
        refresher=RefreshTokenGrant(
            token_url=server.token_url,
            revocation_url=server.revocation_url,
            client_id=APP_ID,
            client_secret=APP_SECRET,
        ),
        clock=clock,
    )
    assert session.revoke().complete
    assert not server.refresh_token_is_valid(login["refresh_token"])
    assert [r.client_id for r in server.revocation_requests] == [APP_ID, APP_ID]


def test_failures_at_the_server_are_reported_not_raised(
    server: OAuthTestServer, api_session_class: type[Session], clock: FakeClock
) -> None:
    server.revocable_token_types = ("refresh_token",)
    session = signed_in(api_session_class, clock)
    result = session.revoke()
    assert result.revoked == ("refresh_token",) and not result.complete
    assert result.not_revoked == ("access_token: the server does not revoke this kind of token",)

    unreachable = Session.from_token_response(
        server.login(APP_ID),
        refresher=RefreshTokenGrant(
            token_url=server.token_url,
            revocation_url=f"http://127.0.0.1:{unused_port()}/revoke",
            client_id=APP_ID,
            client_secret=APP_SECRET,
        ),
        clock=clock,
    )
    result = unreachable.revoke()
    assert result.revoked == () and len(result.not_revoked) == 2
    assert "could not reach the revocation endpoint (ConnectError)" in result.not_revoked[0]
    with pytest.raises(SessionExpiredError):
        unreachable.access_token()


def test_revoke_deletes_the_stored_tokens_and_set_token_set_revives(
    server: OAuthTestServer, api_session_class: type[Session], clock: FakeClock, tmp_path: Path
) -> None:
    store = FileTokenStore(tmp_path / "token.json")
    session = signed_in(api_session_class, clock, store=store)
    assert TokenSet.from_response(json.loads(store.path.read_text())) == session.token_set
    session.revoke()
    assert not store.path.exists() and store.load() is None
    # Signing in again revives the same session object for every client sharing it.
    again = signed_in(api_session_class, clock)
    assert again.token_set is not None
    session.set_token_set(again.token_set)
    assert session.access_token() == again.token_set.access_token
    assert store.load() == again.token_set


def test_revoke_waits_for_a_refresh_in_flight_and_revokes_its_tokens(
    server: OAuthTestServer, api_session_class: type[Session], clock: FakeClock
) -> None:
    session = signed_in(api_session_class, clock)
    old = session.token_set
    assert old is not None
    clock.advance(3600)
    server.hold()
    outcome: list[Any] = []
    import threading

    refresher = threading.Thread(target=lambda: outcome.append(session.access_token()))
    refresher.start()
    server.wait_for_arrivals(1)
    revoking = threading.Thread(target=lambda: outcome.append(session.revoke()))
    revoking.start()
    wait_until(lambda: session._ended is not None, what="revoke() to begin")
    server.release()
    refresher.join(10)
    revoking.join(10)
    new_token, result = outcome
    assert isinstance(result, RevocationResult) and result.complete
    assert new_token != old.access_token
    # What was revoked is the refreshed token set, not the stale one.
    assert not server.token_is_valid(new_token)
    assert len(server.token_requests) == 2
    with pytest.raises(SessionExpiredError):
        session.access_token()
