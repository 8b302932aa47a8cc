"""Secrets (access tokens, refresh tokens, client secrets) never show up in logs at
any level (ours, httpx's, httpcore's), in repr/str, or in exception text."""

from __future__ import annotations

import asyncio
import base64
import logging
import traceback
from collections.abc import Iterator
from urllib.parse import quote

import httpx
import pytest

from generator.runtime.session import (
    ClientCredentialsGrant,
    RefreshTokenGrant,
    Session,
    TokenSet,
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
    async_call_api,
    call_api,
    unused_port,
)

pytestmark = [pytest.mark.timeout(30), pytest.mark.anyio]


def _variants(server: OAuthTestServer, extra: list[str]) -> Iterator[str]:
    """Every secret, in every form it travels in."""
    secrets = server.issued_secrets() + extra
    for secret in secrets:
        yield secret
        yield quote(secret, safe="")
    for client_id, secret in (
        (APP_ID, APP_SECRET),
        (POST_ID, POST_SECRET),
        (SERVICE_ID, SERVICE_SECRET),
    ):
        for raw in (
            f"{client_id}:{secret}",
            f"{quote(client_id, safe='')}:{quote(secret, safe='')}",
        ):
            yield base64.b64encode(raw.encode()).decode()


def test_no_secret_in_logs_repr_or_errors(
    server: OAuthTestServer, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    # The authorization server runs in this process too, and authlib logs the tokens
    # it issues at DEBUG: that is the server's log, not the client's. (set_level also
    # sets the capture handler's level, so the DEBUG calls come last.)
    caplog.set_level(logging.WARNING, logger="authlib")
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore", "generator", "generator.runtime", "asyncio"):
        caplog.set_level(logging.DEBUG, logger=name)
    texts: list[str] = []
    errors: list[BaseException] = []

    def expect_error(call: object) -> None:
        try:
            call()  # type: ignore[operator]
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        else:
            raise AssertionError("an error was expected")

    grant = RefreshTokenGrant(
        token_url=server.token_url, client_id=APP_ID, client_secret=APP_SECRET
    )
    session = Session.from_token_response(server.login(APP_ID), refresher=grant, clock=clock)
    texts += [
        repr(session),
        str(session),
        repr(grant),
        repr(session.token_set),
        str(session.token_set),
    ]

    with httpx.Client(timeout=5) as api:
        clock.advance(3590)
        assert call_api(session, api, server.api_url).status_code == 200  # proactive
        server.revoke_access_token(session.access_token())
        assert call_api(session, api, server.api_url).status_code == 200  # reactive

    async def async_part() -> None:
        async with httpx.AsyncClient(timeout=5) as api:
            server.revoke_access_token(await session.async_access_token())
            assert (await async_call_api(session, api, server.api_url)).status_code == 200

    asyncio.run(async_part())
    texts += [repr(session), str(session.token_set)]

    server.fail_next(1)
    expect_error(session.refresh)
    server.omit_access_token_next()
    expect_error(session.refresh)
    refresh = session.token_set.refresh_token  # type: ignore[union-attr]
    server.error_next("invalid_grant", description=f"token {refresh} revoked; secret {APP_SECRET}")
    expect_error(session.refresh)
    expect_error(session.access_token)  # ended
    texts.append(repr(session))

    wrong = Session.from_token_response(
        server.login(APP_ID),
        refresher=RefreshTokenGrant(
            token_url=server.token_url, client_id=APP_ID, client_secret="wrong-" + APP_SECRET
        ),
        clock=clock,
    )
    expect_error(wrong.refresh)

    refused = Session(
        TokenSet("x-access-secret", refresh_token="x-refresh-secret", expires_at=clock()),
        refresher=RefreshTokenGrant(
            token_url=f"http://127.0.0.1:{unused_port()}/token",
            client_id="c",
            client_secret="x-client-secret",
        ),
        clock=clock,
    )
    expect_error(refused.access_token)
    texts.append(repr(refused))

    post = Session.client_credentials(
        token_url=server.token_url,
        client_id=POST_ID,
        client_secret=POST_SECRET,
        auth_method="client_secret_post",
        clock=clock,
    )
    post.access_token()
    basic = Session.client_credentials(
        openid_configuration_url=server.discovery_url,
        client_id=SERVICE_ID,
        client_secret=SERVICE_SECRET,
        clock=clock,
    )
    asyncio.run(basic.async_access_token())
    texts += [
        repr(post),
        repr(basic),
        repr(
            ClientCredentialsGrant(
                token_url=server.token_url, client_id=SERVICE_ID, client_secret=SERVICE_SECRET
            )
        ),
    ]

    for error in errors:
        texts += [str(error), repr(error), "".join(traceback.format_exception(error))]
    assert not [r for r in caplog.records if r.name.startswith("authlib")]
    log_text = caplog.text + "\n".join(
        str(record.args) + (record.exc_text or "") for record in caplog.records
    )

    # The capture really saw the HTTP traffic at the most verbose level.
    assert "HTTP Request: POST" in log_text and "send_request_headers" in log_text
    assert "refreshing the access token" in log_text
    assert len(errors) == 6

    everything = "\n".join(texts) + log_text
    leaked = [
        v
        for v in _variants(server, ["x-access-secret", "x-refresh-secret", "x-client-secret"])
        if v in everything
    ]
    assert leaked == []
    assert all(r.query == "" for r in server.token_requests)
    assert all("?" not in m for m in caplog.messages if "HTTP Request" in m)


def test_no_secret_in_the_generated_clients_logs_or_errors(
    server: OAuthTestServer, clock: FakeClock, caplog: pytest.LogCaptureFixture, generate_package: object
) -> None:
    """Calls through a generated client (retries, a refresh and replay, a 401 to a stream,
    status and connection errors) with every logger at DEBUG."""
    from tests.conftest import SPECS
    from tests.support.fault_server import RESET, FaultServer, Reply

    rt = generate_package(SPECS / "features" / "runtime.yaml", "runtime_features_client")  # type: ignore[operator]
    caplog.set_level(logging.WARNING, logger="authlib")
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore", "runtime_features_client", "asyncio"):
        caplog.set_level(logging.DEBUG, logger=name)
    header_key, query_key = "x-header-key-secret", "x-query-key-secret"
    grant = rt.RefreshTokenGrant(token_url=server.token_url, client_id=APP_ID, client_secret=APP_SECRET)
    session = rt.Session.from_token_response(server.login(APP_ID), refresher=grant, clock=clock)
    policy = rt.RetryPolicy(sleep=lambda seconds: None, jitter=lambda: 0.0)
    errors: list[BaseException] = []
    with FaultServer() as api:
        api.script("GET", "/things/t1", Reply(503), RESET, Reply(401), Reply(200, {"id": "t1", "code": "ABC", "kind": "widget"}))
        api.route("PUT", "/files/f", Reply(401, {"title": "no"}))
        api.route("GET", "/keyed/k1", Reply(500, {"detail": "down"}))
        server.revoke_access_token(session.token_set.access_token)  # type: ignore[union-attr]
        with rt.AuthenticatedClient(
            api.url, session=session, header_key=header_key, query_key=query_key, retry_policy=policy
        ) as client:
            client.things.get_thing("t1")
            for call in (
                lambda: client.files.upload_file("f", body=iter([b"once"])),
                lambda: client.keyed.get_keyed("k1", verbose=True),
                lambda: client.with_options(max_retries=0).things.get_thing("t2"),
            ):
                try:
                    call()
                except rt.ClientError as exc:
                    errors.append(exc)
    with rt.Client(f"http://127.0.0.1:{unused_port()}", header_key=header_key, query_key=query_key, retry_policy=policy) as closed:
        try:
            closed.keyed.get_keyed("k1")
        except rt.ApiConnectionError as exc:
            errors.append(exc)
    assert [type(e).__name__ for e in errors] == ["AuthenticationError", "InternalServerError", "NotFoundError", "ApiConnectionError"]
    assert len(server.token_requests) == 2  # the replay's refresh and the stream's

    ours = [r for r in caplog.records if r.name == "runtime_features_client"]
    assert len(ours) >= 8 and any("refreshing the token" in r.getMessage() for r in ours)
    texts = [r.getMessage() for r in caplog.records if not r.name.startswith("authlib")]
    for error in errors:
        texts += [str(error), repr(error), "".join(traceback.format_exception(error)), str(getattr(error, "url", ""))]
    everything = "\n".join(texts)
    # httpx's own INFO line shows the full URL, query key included; nothing else may.
    httpx_lines = {r.getMessage() for r in caplog.records if r.name == "httpx" and r.getMessage().startswith("HTTP Request:")}
    elsewhere = "\n".join(t for t in texts if t not in httpx_lines)
    secrets = list(_variants(server, [header_key]))
    assert [s for s in secrets if s in everything] == []
    assert [s for s in (query_key, quote(query_key)) if s in elsewhere] == []
