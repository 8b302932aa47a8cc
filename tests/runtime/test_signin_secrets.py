"""No secrets in the new flows: the PKCE verifier, the code, state, nonce and every token
never appear in a log record (ours, httpx's, httpcore's, at any level), a ``repr`` or
``str``, or an exception's text or traceback; the token store file is 0600."""

from __future__ import annotations

import asyncio
import logging
import stat
import traceback
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pytest

from generator.runtime.session import (
    FileTokenStore,
    Session,
    SignInError,
    SignInRequest,
)

from .helpers import CLI_ID, WEB_CALLBACK, WEB_ID, WEB_SECRET, FakeClock, OAuthTestServer, UserAgent

pytestmark = [pytest.mark.timeout(60)]


def browser_traffic(record: logging.LogRecord) -> bool:
    """httpx's lines about the test's browser (it carries code and state in its URLs, as
    any browser does); the runtime's own requests never have a query string."""
    message = record.getMessage()
    return record.name.startswith(("httpx", "httpcore")) and any(
        part in message for part in ("/authorize", "/callback", "app.example.test")
    )


def test_no_secret_in_logs_repr_or_errors_of_sign_in_flows(
    server: OAuthTestServer,
    api_session_class: type[Session],
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    # The authorization server runs in this process too, and authlib logs what it issues:
    # only the client side is under test.
    caplog.set_level(logging.WARNING, logger="authlib")
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore", "generator", "generator.runtime", "asyncio"):
        caplog.set_level(logging.DEBUG, logger=name)
    texts: list[str] = []
    requests: list[SignInRequest] = []

    def keep(*objects: Any) -> None:
        texts.extend(repr(o) for o in objects)
        texts.extend(str(o) for o in objects)

    def failure(call: Any) -> None:
        with pytest.raises(Exception) as info:
            call()
        texts.append(str(info.value))
        texts.append("".join(traceback.format_exception(info.value)))

    store = FileTokenStore(tmp_path / "token.json")
    flow = api_session_class.sign_in_flow(
        client_id=WEB_ID, client_secret=WEB_SECRET, redirect_uri=WEB_CALLBACK, clock=clock
    )
    keep(flow)

    # Success, then every failure, on the web flow.
    request = flow.start()
    requests.append(request)
    callback = UserAgent().authorize(request.url)
    session = flow.finish(request, callback, store=store)
    keep(request, session, session.token_set, session._refresher)
    clock.advance(3600)
    keep(session.refresh(), session)
    failure(lambda: flow.finish(request, callback))  # code reuse
    other = flow.start()
    requests.append(other)
    failure(lambda: flow.finish(other, UserAgent().authorize(flow.start().url)))  # state mismatch
    denied = flow.start()
    requests.append(denied)
    failure(lambda: flow.finish(denied, UserAgent(decision="deny").authorize(denied.url)))
    tampered = flow.start()
    requests.append(tampered)
    wrong = SignInRequest.from_dict(tampered.to_dict() | {"code_verifier": other.code_verifier})
    failure(lambda: flow.finish(wrong, UserAgent().authorize(tampered.url)))
    failure(lambda: SignInRequest.from_dict(tampered.to_dict() | {"state": 5}))

    # Sign out.
    keep(session.revoke(), session)
    failure(session.access_token)

    # The loopback flow, sync and async, and its timeout.
    browser = UserAgent()
    native = api_session_class.sign_in(
        client_id=CLI_ID, open_browser=browser, callback_timeout=10, clock=clock
    )
    keep(native, native.token_set)
    failure(
        lambda: api_session_class.sign_in(
            client_id=CLI_ID, open_browser=lambda url: None, callback_timeout=0.05, clock=clock
        )
    )

    async def native_async() -> Session:
        agent = UserAgent()
        return await api_session_class.async_sign_in(
            client_id=CLI_ID, open_browser=agent.open_async, callback_timeout=10, clock=clock
        )

    other_native = asyncio.run(native_async())
    keep(other_native, asyncio.run(other_native.async_revoke()))

    secrets = server.issued_secrets()
    for request in requests:
        secrets += [request.state, request.code_verifier, request.nonce or ""]
    secrets = [s for s in secrets if s]
    assert len(secrets) > 30
    client_side = [r for r in caplog.records if not browser_traffic(r)]
    assert not [r for r in client_side if r.name.startswith("authlib")]
    logged = [r.getMessage() for r in client_side]
    logged += [str(r.args) + (r.exc_text or "") for r in client_side]
    assert any("sign-in" in line or "signed in" in line for line in logged)
    haystack = "\n".join(texts + logged + [store.path.read_text() if store.path.exists() else ""])
    for secret in secrets:
        for form in {secret, quote(secret, safe="")}:
            assert form not in haystack, "a secret leaked"


def test_the_store_file_is_0600_and_error_texts_name_no_token(
    server: OAuthTestServer, api_session_class: type[Session], clock: FakeClock, tmp_path: Path
) -> None:
    store = FileTokenStore(tmp_path / "token.json")
    browser = UserAgent()
    session = api_session_class.sign_in(
        client_id=CLI_ID, open_browser=browser, callback_timeout=10, store=store, clock=clock
    )
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert session.token_set is not None
    # The error for a forged callback on the loopback names nothing secret either.
    forged = browser.callbacks[0].replace("code=", "code=x")
    assert urlsplit(forged).query
    with pytest.raises(SignInError) as info:
        flow = api_session_class.sign_in_flow(
            client_id=CLI_ID, redirect_uri=WEB_CALLBACK, clock=clock
        )
        request = flow.start()
        flow.finish(request, forged)
    for secret in server.issued_secrets():
        assert secret not in str(info.value)
