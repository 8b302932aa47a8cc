"""Client authentication methods accepted by authlib, and OpenID Connect discovery
(fetched once, however many refreshes and concurrent callers)."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from generator.runtime.errors import SessionExpiredError
from generator.runtime.session import (
    ClientCredentialsGrant,
    RefreshTokenGrant,
    Session,
    TokenRequestRejectedError,
)

from .helpers import (
    APP_ID,
    APP_SECRET,
    POST_ID,
    POST_SECRET,
    SERVICE_ID,
    SERVICE_SECRET,
    FakeClock,
    OAuthTestServer,
    flight_waiters,
    future_waiters,
    wait_until,
)

pytestmark = [pytest.mark.timeout(30), pytest.mark.anyio]


def test_client_secret_basic_with_special_characters(
    server: OAuthTestServer, clock: FakeClock
) -> None:
    # APP_SECRET contains ':', '/', '+', '=' and '%': RFC 6749 2.3.1 form-encodes
    # id and secret before base64; authlib decodes them.
    grant = RefreshTokenGrant(
        token_url=server.token_url, client_id=APP_ID, client_secret=APP_SECRET
    )
    assert grant.auth_method == "client_secret_basic"
    session = Session.from_token_response(server.login(APP_ID), refresher=grant, clock=clock)
    session.refresh()
    (request,) = server.token_requests
    assert (request.status, request.presented_auth, request.auth_method) == (
        200,
        "client_secret_basic",
        "client_secret_basic",
    )
    assert "client_secret" not in request.body_params and "client_id" not in request.body_params


def test_client_secret_post_refresh_and_client_credentials(
    server: OAuthTestServer, clock: FakeClock
) -> None:
    grant = RefreshTokenGrant(
        token_url=server.token_url,
        client_id=POST_ID,
        client_secret=POST_SECRET,
        auth_method="client_secret_post",
    )
    session = Session.from_token_response(server.login(POST_ID), refresher=grant, clock=clock)
    session.refresh()
    service = Session.client_credentials(
        token_url=server.token_url,
        client_id=POST_ID,
        client_secret=POST_SECRET,
        auth_method="client_secret_post",
        clock=clock,
    )
    service.access_token()
    requests = server.token_requests
    assert [(r.grant_type, r.status, r.auth_method) for r in requests] == [
        ("refresh_token", 200, "client_secret_post"),
        ("client_credentials", 200, "client_secret_post"),
    ]
    assert all({"client_id", "client_secret"} <= set(r.body_params) for r in requests)
    assert all(r.query == "" for r in requests)  # secrets travel in the body, never the URL


def test_the_server_enforces_the_registered_method(
    server: OAuthTestServer, clock: FakeClock
) -> None:
    # The post-only client presenting HTTP Basic is refused: the methods really differ.
    grant = RefreshTokenGrant(
        token_url=server.token_url, client_id=POST_ID, client_secret=POST_SECRET
    )
    session = Session.from_token_response(server.login(POST_ID), refresher=grant, clock=clock)
    with pytest.raises(TokenRequestRejectedError) as info:
        session.refresh()
    assert info.value.error == "invalid_client"


def test_extra_params_are_sent(server: OAuthTestServer, clock: FakeClock) -> None:
    session = Session.client_credentials(
        token_url=server.token_url,
        client_id=SERVICE_ID,
        client_secret=SERVICE_SECRET,
        extra_params={"audience": "https://api.example"},
        clock=clock,
    )
    session.access_token()
    assert "audience" in server.token_requests[0].body_params


def test_discovery_fetched_once_across_refreshes_and_concurrent_callers(
    server: OAuthTestServer, clock: FakeClock
) -> None:
    grant = RefreshTokenGrant(
        openid_configuration_url=server.discovery_url, client_id=APP_ID, client_secret=APP_SECRET
    )
    session = Session.from_token_response(server.login(APP_ID), refresher=grant, clock=clock)

    for _ in range(5):  # sequential refreshes, sync and async
        session.refresh()
        asyncio.run(session.async_refresh())

    clock.advance(3600)
    server.hold()
    results: list[Any] = []
    threads = [
        threading.Thread(target=lambda: results.append(session.access_token())) for _ in range(16)
    ]
    for thread in threads:
        thread.start()
    server.wait_for_arrivals(11)
    wait_until(lambda: flight_waiters(session) >= 15)
    server.release()
    for thread in threads:
        thread.join(timeout=10)

    assert server.discovery_fetches == 1
    assert len(server.token_requests) == 11
    assert len(set(results)) == 1 and len(results) == 16
    assert grant.endpoint is not None and grant.endpoint.token_url == server.token_url


def test_concurrent_discovery_by_sessions_sharing_a_grant(
    server: OAuthTestServer, clock: FakeClock
) -> None:
    grant = RefreshTokenGrant(
        openid_configuration_url=server.discovery_url, client_id=APP_ID, client_secret=APP_SECRET
    )
    sessions = [
        Session.from_token_response(server.login(APP_ID), refresher=grant, clock=clock)
        for _ in range(4)
    ]
    clock.advance(3600)
    server.hold_discovery()
    outcomes: list[Any] = []
    lock = threading.Lock()

    def sync_caller(session: Session) -> None:
        token = session.access_token()
        with lock:
            outcomes.append(token)

    async def async_caller(session: Session) -> None:
        token = await session.async_access_token()
        with lock:
            outcomes.append(token)

    threads = [threading.Thread(target=sync_caller, args=(s,)) for s in sessions[:2]]
    threads += [
        threading.Thread(target=lambda s=s: asyncio.run(async_caller(s))) for s in sessions[2:]
    ]
    for thread in threads:
        thread.start()
    server.wait_for_discovery_arrivals(1)
    endpoint = grant.endpoint
    assert endpoint is not None
    wait_until(
        lambda: future_waiters(endpoint._flight) >= 3, what="3 sessions waiting on discovery"
    )
    server.release_discovery()
    for thread in threads:
        thread.join(timeout=10)

    assert server.discovery_fetches == 1
    assert len(outcomes) == 4 and len(set(outcomes)) == 4
    assert [r.status for r in server.token_requests] == [200] * 4


def test_default_discovery_url_of_a_generated_subclass(
    server: OAuthTestServer, clock: FakeClock
) -> None:
    class ApiSession(Session):
        default_openid_configuration_url = server.discovery_url

    async def main() -> list[str]:
        sessions = [
            ApiSession.client_credentials(
                client_id=SERVICE_ID, client_secret=SERVICE_SECRET, clock=clock
            )
            for _ in range(2)
        ]
        tokens = await asyncio.gather(*(s.async_access_token() for s in sessions for _ in range(8)))
        return list(tokens)

    tokens = asyncio.run(main())
    assert len(set(tokens)) == 2  # one token per session, single flight each
    assert len(server.token_requests) == 2
    assert server.discovery_fetches == 2  # the default endpoint is cached per session


def test_client_credentials_without_a_registered_grant_type(
    server: OAuthTestServer, clock: FakeClock
) -> None:
    grant = ClientCredentialsGrant(
        token_url=server.token_url, client_id=APP_ID, client_secret=APP_SECRET
    )
    session = Session(refresher=grant, clock=clock)
    with pytest.raises(SessionExpiredError) as info:
        session.access_token()
    assert (
        isinstance(info.value, TokenRequestRejectedError)
        and info.value.error == "unauthorized_client"
    )
