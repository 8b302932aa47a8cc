"""Signing users in with the authorization code flow and PKCE, against a real authlib
authorization server on loopback (PKCE required, S256 only; OpenID Connect discovery and
ID tokens): web apps in two steps, native apps over a loopback redirect, sync and async,
end to end to a successful API call, and every failure the flow must report."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import socket
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from generator.runtime.errors import SessionExpiredError
from generator.runtime.session import (
    AuthorizationDeniedError,
    CallbackTimeoutError,
    RefreshTokenGrant,
    Session,
    SignInError,
    SignInRequest,
    StateMismatchError,
)

from .helpers import (
    CLI_ID,
    WEB_CALLBACK,
    WEB_ID,
    WEB_SECRET,
    FakeClock,
    OAuthTestServer,
    UserAgent,
    async_call_api,
    call_api,
)

pytestmark = [pytest.mark.timeout(30), pytest.mark.anyio]


def web_flow(session_class: type[Session], clock: FakeClock, **kwargs: Any) -> Any:
    return session_class.sign_in_flow(
        client_id=WEB_ID,
        client_secret=WEB_SECRET,
        redirect_uri=WEB_CALLBACK,
        clock=clock,
        **kwargs,
    )


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def refused(redirect_uri: str) -> bool:
    """Whether nothing listens any more where the loopback listener was."""
    parts = urlsplit(redirect_uri)
    with socket.socket() as sock:
        sock.settimeout(2)
        return sock.connect_ex((parts.hostname or "", parts.port or 0)) != 0


def assert_works(session: Session, server: OAuthTestServer, api: httpx.Client) -> None:
    response = call_api(session, api, server.api_url)
    assert response.status_code == 200, response.text
    assert response.json() == {"client_id": session._grant.client_id, "user": "alice"}  # type: ignore[union-attr]


# -- web apps: two steps ------------------------------------------------------------------


def test_web_sign_in_end_to_end(
    server: OAuthTestServer, api_session_class: type[Session], clock: FakeClock, api: httpx.Client
) -> None:
    flow = web_flow(api_session_class, clock)
    request = flow.start()
    saved = json.loads(json.dumps(request.to_dict()))  # what the app keeps between the steps

    params = query(request.url)
    assert request.url.startswith(server.authorization_url + "?")
    assert params["response_type"] == "code" and params["client_id"] == WEB_ID
    assert params["redirect_uri"] == WEB_CALLBACK
    assert params["scope"] == "openid banking/read banking/write"  # the declared scopes, + openid
    assert params["code_challenge_method"] == "S256"
    digest = hashlib.sha256(request.code_verifier.encode()).digest()
    assert params["code_challenge"] == base64.urlsafe_b64encode(digest).decode().rstrip("=")
    assert params["state"] == request.state and params["nonce"] == request.nonce
    assert 43 <= len(request.code_verifier) <= 128

    callback = UserAgent().authorize(request.url)
    assert callback.startswith(WEB_CALLBACK + "?")
    session = flow.finish(saved, callback)

    assert isinstance(session, api_session_class)
    (exchange,) = server.token_requests
    assert exchange.grant_type == "authorization_code" and exchange.status == 200
    assert exchange.auth_method == "client_secret_basic"
    assert "code_verifier" in exchange.body_params and "scope" not in exchange.body_params
    token = session.token_set
    assert token is not None and token.refresh_token and token.id_token
    assert token.scopes == ("openid", "banking/read", "banking/write")
    assert_works(session, server, api)

    # It refreshes like every session, with the rotated refresh token, and the
    # discovery document was fetched once for the whole flow.
    clock.advance(3600)
    assert_works(session, server, api)
    assert [r.grant_type for r in server.token_requests] == ["authorization_code", "refresh_token"]
    assert server.discovery_fetches == 1


async def test_web_sign_in_async(
    server: OAuthTestServer, api_session_class: type[Session], clock: FakeClock
) -> None:
    flow = web_flow(api_session_class, clock)
    request = await flow.async_start()
    callback = await UserAgent().async_authorize(request.url)
    session = await flow.async_finish(request, query(callback))  # the parameters as a mapping
    async with httpx.AsyncClient(timeout=5) as http:
        response = await async_call_api(session, http, server.api_url)
        assert response.status_code == 200
        clock.advance(3600)
        assert (await async_call_api(session, http, server.api_url)).status_code == 200
    assert [r.grant_type for r in server.token_requests] == ["authorization_code", "refresh_token"]


def test_scopes_can_be_given_and_openid_is_added(
    server: OAuthTestServer, api_session_class: type[Session], clock: FakeClock
) -> None:
    flow = web_flow(api_session_class, clock, scopes=["banking/read"])
    assert query(flow.start().url)["scope"] == "openid banking/read"
    assert query(flow.start(scopes="openid").url)["scope"] == "openid"
    # Each request has its own verifier, state and nonce.
    first, second = flow.start(), flow.start()
    assert first.code_verifier != second.code_verifier
    assert first.state != second.state and first.nonce != second.nonce


def test_sign_in_request_is_serialisable_and_shows_no_secret(
    api_session_class: type[Session], clock: FakeClock
) -> None:
    request = web_flow(api_session_class, clock).start()
    assert SignInRequest.from_dict(json.loads(json.dumps(request.to_dict()))) == request
    for text in (repr(request), str(request)):
        for secret in (request.code_verifier, request.state, request.nonce or "-"):
            assert secret not in text
    with pytest.raises(ValueError):
        SignInRequest.from_dict({"url": "https://x", "state": "s"})


def test_endpoints_given_by_the_caller_win_over_discovery(
    server: OAuthTestServer, clock: FakeClock, api: httpx.Client
) -> None:
    class ElsewhereSession(Session):  # the API declares another institution's discovery URL
        default_openid_configuration_url = "https://auth.other-bank.test/.well-known/openid"

    # This institution's own discovery document.
    flow = ElsewhereSession.sign_in_flow(
        client_id=WEB_ID,
        client_secret=WEB_SECRET,
        redirect_uri=WEB_CALLBACK,
        openid_configuration_url=server.discovery_url,
        clock=clock,
    )
    request = flow.start()
    assert_works(flow.finish(request, UserAgent().authorize(request.url)), server, api)
    assert server.discovery_fetches == 1

    # Plain OAuth 2.0 endpoints: no discovery, hence no nonce and no openid scope.
    oauth_flow = Session.sign_in_flow(
        client_id=WEB_ID,
        client_secret=WEB_SECRET,
        redirect_uri=WEB_CALLBACK,
        authorization_url=server.authorization_url,
        token_url=server.token_url,
        scopes=["banking/read"],
        clock=clock,
    )
    request = oauth_flow.start()
    assert request.nonce is None and query(request.url)["scope"] == "banking/read"
    session = oauth_flow.finish(request, UserAgent().authorize(request.url))
    assert_works(session, server, api)
    assert session.token_set is not None and session.token_set.id_token is None
    assert server.discovery_fetches == 1


def test_an_oauth2_authorization_code_flow_declared_by_the_api(
    server: OAuthTestServer, clock: FakeClock, api: httpx.Client
) -> None:
    class OAuthApiSession(Session):  # an oauth2 scheme with an authorizationCode flow
        default_authorization_url = server.authorization_url
        default_token_urls = {"authorization_code": server.token_url}
        default_scopes = ("banking/read",)

    flow = OAuthApiSession.sign_in_flow(
        client_id=WEB_ID, client_secret=WEB_SECRET, redirect_uri=WEB_CALLBACK, clock=clock
    )
    request = flow.start()
    assert query(request.url)["scope"] == "banking/read" and request.nonce is None
    assert_works(flow.finish(request, UserAgent().authorize(request.url)), server, api)
    assert server.discovery_fetches == 0


# -- native apps: the loopback redirect (RFC 8252) ----------------------------------------


def test_loopback_sign_in_end_to_end(
    server: OAuthTestServer, api_session_class: type[Session], clock: FakeClock, api: httpx.Client
) -> None:
    browser = UserAgent()
    session = api_session_class.sign_in(
        client_id=CLI_ID, open_browser=browser, callback_timeout=10, clock=clock
    )
    (callback,) = browser.callbacks
    redirect_uri = callback.split("?", 1)[0]
    assert urlsplit(redirect_uri).hostname == "127.0.0.1" and urlsplit(redirect_uri).port
    assert urlsplit(redirect_uri).path == "/callback"
    (page,) = browser.pages
    assert page.status_code == 200 and "Sign-in received" in page.text
    assert refused(redirect_uri), "the listener is closed after the callback"

    (exchange,) = server.token_requests
    assert exchange.auth_method == "none" and exchange.client_id == CLI_ID  # a public client
    assert_works(session, server, api)
    clock.advance(3600)
    assert_works(session, server, api)
    assert len(server.token_requests) == 2


async def test_loopback_sign_in_async(
    server: OAuthTestServer, api_session_class: type[Session], clock: FakeClock
) -> None:
    browser = UserAgent()
    session = await api_session_class.async_sign_in(
        client_id=CLI_ID, open_browser=browser.open_async, callback_timeout=10, clock=clock
    )
    async with httpx.AsyncClient(timeout=5) as http:
        assert (await async_call_api(session, http, server.api_url)).status_code == 200
    assert browser.pages[0].status_code == 200
    assert refused(browser.callbacks[0])
    # A sync opener works from the async variant too (it runs off the loop).
    other = await api_session_class.async_sign_in(
        client_id=CLI_ID, open_browser=UserAgent(), callback_timeout=10, clock=clock
    )
    assert other.access_token() != session.access_token()


def test_loopback_ignores_other_paths_and_foreign_callbacks(
    server: OAuthTestServer, api_session_class: type[Session], clock: FakeClock
) -> None:
    browser = UserAgent()
    seen: list[tuple[str, int]] = []

    def noisy_browser(url: str) -> None:
        redirect_uri = query(url)["redirect_uri"]
        base = redirect_uri.rsplit("/", 1)[0]
        with httpx.Client(trust_env=False, timeout=5) as http:
            for probe in (
                base + "/favicon.ico",
                base + "/",
                redirect_uri + "?" + urlencode({"state": "not-this-one", "code": "forged"}),
                redirect_uri + "?" + urlencode({"state": query(url)["state"]}),  # no code
            ):
                seen.append((probe.split("?")[0], http.get(probe).status_code))
            with socket.create_connection(("127.0.0.1", urlsplit(base).port or 0)):
                browser(url)  # an idle connection (a browser's preconnect) does not block it
        with httpx.Client(trust_env=False, timeout=5) as http:
            with pytest.raises(httpx.ConnectError):  # exactly one callback: then it is closed
                http.get(browser.callbacks[0])

    session = api_session_class.sign_in(
        client_id=CLI_ID, open_browser=noisy_browser, callback_timeout=10, clock=clock
    )
    assert [status for _, status in seen] == [404, 404, 400, 400]
    assert session.access_token()
    assert len(server.token_requests) == 1


# -- failures ----------------------------------------------------------------------------


def test_state_mismatch(
    server: OAuthTestServer, api_session_class: type[Session], clock: FakeClock
) -> None:
    flow = web_flow(api_session_class, clock)
    request = flow.start()
    callback = UserAgent().authorize(request.url)
    other = flow.start()  # the state of another sign-in (another user's tab, an attacker's link)
    with pytest.raises(StateMismatchError, match="state"):
        flow.finish(other, callback)
    params = query(callback)
    del params["state"]
    with pytest.raises(StateMismatchError):
        flow.finish(request, params)
    assert server.token_requests == [], "no code is exchanged for a callback that is not ours"
    assert flow.finish(request, callback).access_token()  # the genuine pair still works


def test_access_denied(
    server: OAuthTestServer, api_session_class: type[Session], clock: FakeClock
) -> None:
    flow = web_flow(api_session_class, clock)
    request = flow.start()
    callback = UserAgent(decision="deny").authorize(request.url)
    with pytest.raises(AuthorizationDeniedError) as info:
        flow.finish(request, callback)
    assert info.value.error == "access_denied"
    assert "access_denied" in str(info.value)
    assert isinstance(info.value, SignInError) and not isinstance(info.value, SessionExpiredError)

    # The loopback flow answers the browser, closes, and raises the same.
    browser = UserAgent(decision="deny")
    with pytest.raises(AuthorizationDeniedError):
        api_session_class.sign_in(
            client_id=CLI_ID, open_browser=browser, callback_timeout=10, clock=clock
        )
    assert "not completed" in browser.pages[0].text
    assert refused(browser.callbacks[0])
    assert server.token_requests == []


def test_code_reuse_is_refused(
    server: OAuthTestServer, api_session_class: type[Session], clock: FakeClock
) -> None:
    flow = web_flow(api_session_class, clock)
    request = flow.start()
    callback = UserAgent().authorize(request.url)
    first = flow.finish(request, callback)
    with pytest.raises(SignInError) as info:
        flow.finish(request, callback)  # a replayed callback
    assert info.value.error == "invalid_grant" and info.value.status_code == 400
    assert [r.status for r in server.token_requests] == [200, 400]
    # RFC 6749 section 4.1.2: the server revoked what the code had issued.
    assert first.token_set is not None
    assert not server.token_is_valid(first.token_set.access_token)


def test_wrong_verifier_is_refused_by_the_server(
    server: OAuthTestServer, api_session_class: type[Session], clock: FakeClock
) -> None:
    flow = web_flow(api_session_class, clock)
    request = flow.start()
    callback = UserAgent().authorize(request.url)
    tampered = request.to_dict() | {"code_verifier": flow.start().code_verifier}
    with pytest.raises(SignInError) as info:
        flow.finish(tampered, callback)
    assert info.value.error == "invalid_grant"
    (refusal,) = server.token_requests
    assert refusal.status == 400 and refusal.grant_type == "authorization_code"


def test_the_server_requires_pkce_s256(server: OAuthTestServer) -> None:
    """The test server refuses what the flow never sends: no challenge, or a plain one."""
    base = {
        "response_type": "code",
        "client_id": WEB_ID,
        "redirect_uri": WEB_CALLBACK,
        "state": "s",
    }
    with httpx.Client(trust_env=False, timeout=5) as http:
        for extra in ({}, {"code_challenge": "a" * 43, "code_challenge_method": "plain"}):
            response = http.get(server.authorization_url, params=base | extra)
            assert response.status_code == 302
            assert query(response.headers["Location"])["error"] == "invalid_request"


def test_callback_timeout_closes_the_listener(
    server: OAuthTestServer, api_session_class: type[Session], clock: FakeClock
) -> None:
    opened: list[str] = []
    with pytest.raises(CallbackTimeoutError) as info:
        api_session_class.sign_in(
            client_id=CLI_ID, open_browser=opened.append, callback_timeout=0.05, clock=clock
        )
    assert isinstance(info.value, TimeoutError)
    assert refused(query(opened[0])["redirect_uri"])
    assert server.token_requests == []


async def test_callback_timeout_async_and_cancellation_close_the_listener(
    api_session_class: type[Session], clock: FakeClock
) -> None:
    opened: list[str] = []
    with pytest.raises(CallbackTimeoutError):
        await api_session_class.async_sign_in(
            client_id=CLI_ID, open_browser=opened.append, callback_timeout=0.05, clock=clock
        )
    assert refused(query(opened[0])["redirect_uri"])

    async def waiting_browser(url: str) -> None:
        opened.append(url)

    waiting = asyncio.ensure_future(
        api_session_class.async_sign_in(
            client_id=CLI_ID, open_browser=waiting_browser, callback_timeout=30, clock=clock
        )
    )
    while len(opened) < 2:
        await asyncio.sleep(0.005)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert refused(query(opened[1])["redirect_uri"])


def test_a_browser_that_fails_to_open_ends_the_wait(
    api_session_class: type[Session], clock: FakeClock
) -> None:
    def broken(url: str) -> None:
        raise OSError("no display")

    with pytest.raises(OSError, match="no display"):
        api_session_class.sign_in(
            client_id=CLI_ID, open_browser=broken, callback_timeout=30, clock=clock
        )


def test_no_browser_prints_the_url(
    api_session_class: type[Session],
    clock: FakeClock,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(CallbackTimeoutError):
        api_session_class.sign_in(
            client_id=CLI_ID, open_browser=False, callback_timeout=0.05, clock=clock
        )
    printed = capsys.readouterr().err
    assert "open this address in your browser" in printed
    assert "/authorize?response_type=code&client_id=cli-app" in printed


def test_discovery_without_authorization_endpoint(
    server: OAuthTestServer, api_session_class: type[Session], clock: FakeClock
) -> None:
    server.discovery_omit = {"authorization_endpoint"}
    flow = web_flow(api_session_class, clock)
    with pytest.raises(SignInError, match="has no authorization_endpoint; give authorization_url="):
        flow.start()
    with pytest.raises(SignInError, match="authorization_endpoint"):
        api_session_class.sign_in(client_id=CLI_ID, open_browser=UserAgent(), clock=clock)
    # The caller's URL fills the gap.
    flow = web_flow(api_session_class, clock, authorization_url=server.authorization_url)
    request = flow.start()
    assert flow.finish(request, UserAgent().authorize(request.url)).access_token()


def test_unreachable_discovery_is_a_sign_in_error(
    api_session_class: type[Session], clock: FakeClock
) -> None:
    class Unreachable(Session):
        default_openid_configuration_url = "http://127.0.0.1:9/.well-known/openid-configuration"

    with pytest.raises(SignInError, match="could not fetch the OpenID configuration"):
        web_flow(Unreachable, clock).start()
    with pytest.raises(SignInError, match="no authorization_endpoint is known"):
        web_flow(Session, clock).start()


@pytest.mark.parametrize(
    ("claim", "wrong", "message"),
    [
        ("nonce", "another-sign-in", "nonce"),
        ("aud", ["someone-else"], "aud"),
        ("iss", "https://evil.test", "iss"),
        ("exp", 1_000_000_000, "expired"),
    ],
)
def test_id_token_checks(clock: FakeClock, claim: str, wrong: Any, message: str) -> None:
    """An ID token that is not this sign-in's, this client's or this issuer's is refused."""
    claims: dict[str, Any] = {}

    def identity_provider(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("openid-configuration"):
            return httpx.Response(
                200,
                json={
                    "issuer": "https://idp.test",
                    "authorization_endpoint": "https://idp.test/authorize",
                    "token_endpoint": "https://idp.test/token",
                },
            )
        body = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
        return httpx.Response(200, json={"access_token": "a", "id_token": f"e30.{body}.sig"})

    flow = Session.sign_in_flow(
        client_id=WEB_ID,
        redirect_uri=WEB_CALLBACK,
        openid_configuration_url="https://idp.test/.well-known/openid-configuration",
        http_client=httpx.Client(transport=httpx.MockTransport(identity_provider)),
        clock=clock,
    )
    request = flow.start()
    good = {"iss": "https://idp.test", "aud": WEB_ID, "nonce": request.nonce, "exp": clock() + 60}
    claims.update(good, **{claim: wrong})
    with pytest.raises(SignInError, match=message):
        flow.finish(request, {"code": "c0de", "state": request.state})
    claims.update(good)
    assert flow.finish(request, {"code": "c0de", "state": request.state}).access_token() == "a"


def test_configuration_errors_are_immediate(api_session_class: type[Session]) -> None:
    with pytest.raises(ValueError, match="client_id"):
        api_session_class.sign_in_flow(client_id="")
    with pytest.raises(ValueError, match="auth_method"):
        api_session_class.sign_in_flow(client_id="x", auth_method="client_secret_post")
    with pytest.raises(ValueError, match="redirect_uri"):
        api_session_class.sign_in_flow(client_id="x", redirect_uri="/relative")
    with pytest.raises(ValueError, match="extra_params cannot set 'state'"):
        api_session_class.sign_in_flow(client_id="x", extra_params={"state": "fixed"})
    with pytest.raises(ValueError, match="callback_timeout"):
        api_session_class.sign_in(client_id="x", callback_timeout=0)
    with pytest.raises(TypeError, match="open_browser"):
        api_session_class.sign_in(client_id="x", open_browser="firefox")  # type: ignore[arg-type]


def test_sessions_from_sign_in_refresh_with_the_discovered_endpoints(
    server: OAuthTestServer, api_session_class: type[Session], clock: FakeClock
) -> None:
    flow = web_flow(api_session_class, clock, extra_params={"prompt": "consent"})
    request = flow.start()
    assert query(request.url)["prompt"] == "consent"
    session = flow.finish(request, UserAgent().authorize(request.url))
    assert isinstance(session._refresher, RefreshTokenGrant)
    assert session._refresher.endpoint is not None
    assert session._refresher.endpoint.token_url == server.token_url
    assert session._refresher.revocation_url == server.revocation_url
    session.refresh()
    assert server.discovery_fetches == 1  # the session did not discover again
