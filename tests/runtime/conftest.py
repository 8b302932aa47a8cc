"""Fixtures for the session tests: a fake clock shared by the session and a real
authlib authorization server + protected API on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from generator.runtime.session import RefreshTokenGrant, Session

from .helpers import (
    APP_ID,
    APP_SECRET,
    CLI_ID,
    SIGN_IN_SCOPE,
    WEB_CALLBACK,
    WEB_ID,
    WEB_SECRET,
    POST_ID,
    POST_SECRET,
    PUBLIC_ID,
    SERVICE_ID,
    SERVICE_SECRET,
    FakeClock,
    OAuthTestServer,
)


@pytest.fixture(autouse=True)
def _loopback_without_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    # Token requests go to 127.0.0.1; an HTTP(S)_PROXY in the environment must not
    # capture them (httpx honours the environment by default).
    for name in (
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def _register_clients(server: OAuthTestServer) -> None:
    server.add_client(APP_ID, APP_SECRET, grant_types=("refresh_token",))
    server.add_client(POST_ID, POST_SECRET, auth_method="client_secret_post")
    server.add_client(PUBLIC_ID, grant_types=("refresh_token",))
    server.add_client(
        SERVICE_ID, SERVICE_SECRET, grant_types=("client_credentials",), scope="batch"
    )
    signs_in = ("authorization_code", "refresh_token")
    server.add_client(
        WEB_ID, WEB_SECRET, grant_types=signs_in, scope=SIGN_IN_SCOPE, redirect_uris=[WEB_CALLBACK]
    )
    server.add_client(
        CLI_ID,
        grant_types=signs_in,
        scope=SIGN_IN_SCOPE,
        redirect_uris=["http://127.0.0.1/callback"],
    )


@pytest.fixture
def server(clock: FakeClock) -> Iterator[OAuthTestServer]:
    with OAuthTestServer(clock=clock, access_token_ttl=3600) as srv:
        _register_clients(srv)
        yield srv


@pytest.fixture
def static_server(clock: FakeClock) -> Iterator[OAuthTestServer]:
    """A server that does not rotate refresh tokens."""
    with OAuthTestServer(clock=clock, rotate_refresh_tokens=False) as srv:
        _register_clients(srv)
        yield srv


@pytest.fixture
def grant(server: OAuthTestServer) -> RefreshTokenGrant:
    return RefreshTokenGrant(token_url=server.token_url, client_id=APP_ID, client_secret=APP_SECRET)


@pytest.fixture
def session(
    server: OAuthTestServer, grant: RefreshTokenGrant, clock: FakeClock
) -> Iterator[Session]:
    with Session.from_token_response(server.login(APP_ID), refresher=grant, clock=clock) as sess:
        yield sess


@pytest.fixture
def api_session_class(server: OAuthTestServer) -> type[Session]:
    """What a generated package declares for an API whose token scheme is OpenID Connect."""

    class ApiSession(Session):
        default_openid_configuration_url = server.discovery_url
        default_scopes = ("banking/read", "banking/write")

    return ApiSession


@pytest.fixture
def api() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5) as client:
        yield client


@pytest.fixture
def anyio_backend() -> str:
    # Async tests (marked ``anyio``) run on asyncio: the runtime targets asyncio.
    return "asyncio"
