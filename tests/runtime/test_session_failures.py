"""Failure modes: terminal (session ends) vs transient (old token kept, next call
retries once), never a retry storm, never a long wait."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import pytest

from generator.runtime.errors import SessionExpiredError, TokenRefreshError
from generator.runtime.session import (
    ClientCredentialsGrant,
    InvalidTokenResponseError,
    RefreshTokenGrant,
    Session,
    TokenEndpointUnavailableError,
    TokenRequestRejectedError,
    TokenSet,
)

from .helpers import APP_ID, APP_SECRET, SERVICE_ID, FakeClock, OAuthTestServer, unused_port

pytestmark = [pytest.mark.timeout(20), pytest.mark.anyio]


def _timed(func: Callable[[], object]) -> tuple[BaseException | None, float]:
    start = time.monotonic()
    try:
        func()
    except BaseException as exc:  # noqa: BLE001
        return exc, time.monotonic() - start
    return None, time.monotonic() - start


def test_invalid_grant_ends_the_session(
    server: OAuthTestServer, session: Session, clock: FakeClock
) -> None:
    server.revoke_refresh_token(session.token_set.refresh_token)  # type: ignore[union-attr,arg-type]
    clock.advance(3600)

    error, elapsed = _timed(session.access_token)

    assert isinstance(error, TokenRequestRejectedError) and isinstance(error, SessionExpiredError)
    assert (error.error, error.status_code) == ("invalid_grant", 400)
    assert "invalid_grant" in str(error) and "ended" in str(error)
    assert elapsed < 2
    assert len(server.token_requests) == 1

    # Later calls fail at once, without contacting the token endpoint.
    for call in (
        session.access_token,
        session.refresh,
        lambda: session.refresh_after_rejection("whatever"),
    ):
        later, elapsed = _timed(call)
        assert isinstance(later, TokenRequestRejectedError) and later.error == "invalid_grant"
        assert elapsed < 0.5
    assert len(server.token_requests) == 1


async def test_invalid_grant_ends_the_session_async(
    server: OAuthTestServer, session: Session, clock: FakeClock
) -> None:
    server.error_next("invalid_grant", status=401)
    old = session.token_set.access_token  # type: ignore[union-attr]
    with pytest.raises(SessionExpiredError):
        await session.async_refresh_after_rejection(old)
    with pytest.raises(SessionExpiredError):
        await session.async_access_token()
    with pytest.raises(SessionExpiredError):
        await session.async_refresh_after_rejection(old)
    assert len(server.token_requests) == 1


@pytest.mark.parametrize("status", [500, 502, 503, 504, 429, 408])
def test_transient_statuses_keep_the_token_and_retry_once(
    server: OAuthTestServer, session: Session, clock: FakeClock, status: int
) -> None:
    old = session.token_set
    clock.advance(3600)
    server.fail_next(1, status=status)

    error, elapsed = _timed(session.access_token)

    assert isinstance(error, TokenEndpointUnavailableError) and isinstance(error, TokenRefreshError)
    assert error.status_code == status and f"HTTP {status}" in str(error)
    assert elapsed < 2
    assert session.token_set == old  # kept
    assert len(server.token_requests) == 1  # no retry inside

    assert session.access_token() != old.access_token  # type: ignore[union-attr]
    assert len(server.token_requests) == 2


def test_connection_refused_fails_fast_and_keeps_the_token(clock: FakeClock) -> None:
    grant = RefreshTokenGrant(
        token_url=f"http://127.0.0.1:{unused_port()}/token", client_id="c", client_secret="s"
    )
    token = TokenSet("old-access", expires_at=clock() + 10, refresh_token="old-refresh")
    session = Session(token, refresher=grant, clock=clock)

    for _ in range(3):  # each call tries once, and fails quickly
        error, elapsed = _timed(session.access_token)
        assert isinstance(error, TokenEndpointUnavailableError)
        assert error.status_code is None and "ConnectError" in str(error)
        assert elapsed < 2
        assert session.token_set == token


async def test_connection_refused_async(clock: FakeClock) -> None:
    grant = RefreshTokenGrant(
        token_url=f"http://127.0.0.1:{unused_port()}/token", client_id="c", client_secret="s"
    )
    session = Session(
        TokenSet("a", expires_at=clock(), refresh_token="r"), refresher=grant, clock=clock
    )
    with pytest.raises(TokenEndpointUnavailableError, match="could not reach"):
        await session.async_access_token()
    assert session.token_set is not None and session.token_set.access_token == "a"


def test_slow_token_endpoint_times_out(server: OAuthTestServer, clock: FakeClock) -> None:
    grant = RefreshTokenGrant(
        token_url=server.token_url, client_id=APP_ID, client_secret=APP_SECRET
    )
    session = Session.from_token_response(
        server.login(APP_ID), refresher=grant, clock=clock, timeout=0.2
    )
    server.hold()
    try:
        error, elapsed = _timed(session.refresh)
    finally:
        server.release()
    assert isinstance(error, TokenEndpointUnavailableError) and "Timeout" in str(error)
    assert elapsed < 2


def test_missing_access_token_is_a_clear_refresh_error(
    server: OAuthTestServer, session: Session, clock: FakeClock
) -> None:
    old = session.token_set
    server.omit_access_token_next()
    with pytest.raises(InvalidTokenResponseError, match="no access_token") as info:
        session.refresh()
    assert isinstance(info.value, TokenRefreshError)
    assert "refresh_token" in str(info.value)  # the fields present are named...
    for secret in server.issued_secrets():
        assert secret not in str(info.value)  # ...but no value is repeated
    assert session.token_set == old


@pytest.mark.parametrize(
    ("error", "status"),
    [
        ("invalid_client", 401),
        ("unauthorized_client", 400),
        ("invalid_scope", 400),
        ("unsupported_grant_type", 400),
        ("invalid_request", 400),
    ],
)
def test_other_rfc6749_errors_end_the_session(
    server: OAuthTestServer, session: Session, error: str, status: int
) -> None:
    server.error_next(error, status=status)
    with pytest.raises(TokenRequestRejectedError) as info:
        session.refresh()
    assert info.value.error == error and info.value.status_code == status
    with pytest.raises(TokenRequestRejectedError):
        session.access_token()
    assert len(server.token_requests) == 1


def test_wrong_client_secret_is_invalid_client_from_authlib(
    server: OAuthTestServer, clock: FakeClock
) -> None:
    grant = RefreshTokenGrant(
        token_url=server.token_url, client_id=APP_ID, client_secret="not-the-secret"
    )
    session = Session.from_token_response(server.login(APP_ID), refresher=grant, clock=clock)
    with pytest.raises(TokenRequestRejectedError) as info:
        session.refresh()
    assert info.value.error == "invalid_client" and info.value.status_code == 401
    assert "not-the-secret" not in str(info.value)


def test_unknown_4xx_without_oauth_error_is_transient(
    server: OAuthTestServer, session: Session
) -> None:
    server.error_next("something_else", status=403)
    with pytest.raises(TokenEndpointUnavailableError, match="403"):
        session.refresh()
    assert session.refresh().access_token  # not ended


def test_error_description_is_sanitised(server: OAuthTestServer, session: Session) -> None:
    assert session.token_set is not None and session.token_set.refresh_token is not None
    refresh = session.token_set.refresh_token
    server.error_next(
        "invalid_grant", description=f"refresh token {refresh} was revoked" + "!" * 500
    )
    with pytest.raises(TokenRequestRejectedError) as info:
        session.refresh()
    text = str(info.value)
    assert refresh not in text and "***" in text
    assert len(info.value.error_description or "") <= 200


def _mock_session(handler: Callable[[httpx.Request], httpx.Response], clock: FakeClock) -> Session:
    client = httpx.Client(transport=httpx.MockTransport(handler))
    grant = RefreshTokenGrant(
        token_url="https://auth.example/token", client_id="c", client_secret="s"
    )
    return Session(
        TokenSet("a", refresh_token="r"), refresher=grant, clock=clock, http_client=client
    )


def test_non_json_success_body(clock: FakeClock) -> None:
    session = _mock_session(lambda request: httpx.Response(200, text="<html>ok</html>"), clock)
    with pytest.raises(InvalidTokenResponseError, match="not a JSON object"):
        session.refresh()


def test_success_status_with_an_error_body(clock: FakeClock) -> None:
    session = _mock_session(
        lambda request: httpx.Response(200, json={"error": "invalid_grant"}), clock
    )
    with pytest.raises(TokenRequestRejectedError):
        session.refresh()


def test_redirect_is_not_followed(clock: FakeClock) -> None:
    session = _mock_session(
        lambda request: httpx.Response(302, headers={"Location": "https://evil.example/steal"}),
        clock,
    )
    with pytest.raises(TokenEndpointUnavailableError, match="302"):
        session.refresh()


def test_discovery_failure_is_transient_and_retried(
    server: OAuthTestServer, clock: FakeClock
) -> None:
    grant = RefreshTokenGrant(
        openid_configuration_url=server.discovery_url, client_id=APP_ID, client_secret=APP_SECRET
    )
    session = Session.from_token_response(server.login(APP_ID), refresher=grant, clock=clock)
    server.fail_discovery_next(1)
    with pytest.raises(TokenEndpointUnavailableError, match="OpenID configuration"):
        session.refresh()
    assert server.token_requests == []
    session.refresh()
    assert server.discovery_fetches == 2 and len(server.token_requests) == 1


def test_discovery_downgrade_to_http_is_refused(clock: FakeClock) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/.well-known/openid-configuration"
        return httpx.Response(200, json={"token_endpoint": "http://auth.example/token"})

    client = httpx.Client(transport=httpx.MockTransport(handler))
    grant = ClientCredentialsGrant(
        openid_configuration_url="https://auth.example/.well-known/openid-configuration",
        client_id=SERVICE_ID,
        client_secret="s",
    )
    session = Session(refresher=grant, clock=clock, http_client=client)
    with pytest.raises(TokenRefreshError, match="not https"):
        session.access_token()
