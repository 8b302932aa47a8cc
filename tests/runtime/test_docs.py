"""The examples in docs/session.md run, against the loopback OAuth server, with a
stand-in ``banking_client`` package built from the runtime."""

from __future__ import annotations

import asyncio
import json
import re
import sys
import types
import webbrowser
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from generator.runtime import errors
from generator.runtime.session import (
    AuthorizationDeniedError,
    CallbackTimeoutError,
    ClientCredentialsGrant,
    FileTokenStore,
    RefreshTokenGrant,
    RevocationResult,
    Session,
    SignInError,
    SignInRequest,
    StateMismatchError,
    TokenSet,
)

from .helpers import FakeClock, OAuthTestServer, UserAgent, call_api

pytestmark = pytest.mark.timeout(30)

DOC = Path(__file__).resolve().parents[2] / "docs" / "session.md"
SECRET = "docs-example-secret"


def _blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)


@pytest.fixture
def banking_client(
    clock: FakeClock, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[tuple[types.ModuleType, OAuthTestServer]]:
    with OAuthTestServer(clock=clock) as server:
        server.add_client("my-app", SECRET, grant_types=("refresh_token",))
        server.add_client(
            "reporting-service", SECRET, grant_types=("client_credentials",), scope="accounts:read"
        )
        signs_in = ("authorization_code", "refresh_token")
        scope = "openid banking/read banking/write"
        server.add_client(
            "my-cli", grant_types=signs_in, scope=scope, redirect_uris=["http://127.0.0.1/callback"]
        )
        server.add_client(
            "web-app",
            SECRET,
            grant_types=signs_in,
            scope=scope,
            redirect_uris=["https://app.example.test/callback"],
        )

        class BankingSession(Session):  # what the generated package declares
            default_openid_configuration_url = server.discovery_url
            default_scopes = ("banking/read", "banking/write")

        class _Accounts:
            def __init__(self, session: Session) -> None:
                self._session = session

            def list_accounts(self) -> Any:
                with httpx.Client(timeout=5) as http:
                    response = call_api(self._session, http, server.api_url)
                response.raise_for_status()
                return response.json()

        class AuthenticatedClient:
            def __init__(self, *, base_url: str, session: Session) -> None:
                self.accounts = _Accounts(session)

        module = types.ModuleType("banking_client")
        module.__dict__.update(
            AuthenticatedClient=AuthenticatedClient,
            Session=BankingSession,
            RefreshTokenGrant=RefreshTokenGrant,
            ClientCredentialsGrant=ClientCredentialsGrant,
            TokenSet=TokenSet,
            SessionExpiredError=errors.SessionExpiredError,
            TokenRefreshError=errors.TokenRefreshError,
            FileTokenStore=FileTokenStore,
            RevocationResult=RevocationResult,
            SignInError=SignInError,
            SignInRequest=SignInRequest,
            AuthorizationDeniedError=AuthorizationDeniedError,
            StateMismatchError=StateMismatchError,
            CallbackTimeoutError=CallbackTimeoutError,
        )
        monkeypatch.setitem(sys.modules, "banking_client", module)
        # The system browser of the examples is a user agent that signs in and approves.
        monkeypatch.setattr(webbrowser, "open", lambda url: UserAgent()(url) is None)
        monkeypatch.setenv("BANKING_CLIENT_SECRET", SECRET)
        monkeypatch.chdir(tmp_path)
        (tmp_path / "banking-token.json").write_text(json.dumps(server.login("my-app")))
        yield module, server


def test_every_python_example_runs(
    banking_client: tuple[types.ModuleType, OAuthTestServer], tmp_path: Path
) -> None:
    _, server = banking_client
    blocks = _blocks()
    assert len(blocks) >= 14
    namespace: dict[str, Any] = {
        "__name__": "docs_example",
        "stored_token_response": server.login("my-app"),
        "sign_in_again": lambda: server.login("my-app"),
    }
    sessions: list[Session] = []
    for index, block in enumerate(blocks):
        try:
            exec(compile(block, f"{DOC.name}[block {index}]", "exec"), namespace)
        except Exception as exc:  # pragma: no cover - the message says which block
            raise AssertionError(f"example {index} of {DOC.name} failed: {exc!r}") from exc
        session = namespace.get("session")
        if isinstance(session, Session) and session not in sessions:
            sessions.append(session)

    # The stored-token example persists what a refresh issues, through on_refresh.
    stored = next(
        s for s in sessions if isinstance(s._refresher, RefreshTokenGrant) and s._on_refresh
    )
    before = (tmp_path / "banking-token.json").read_text()
    stored.refresh()
    after = (tmp_path / "banking-token.json").read_text()
    assert after != before and stored.token_set is not None
    assert TokenSet.from_response(json.loads(after)) == stored.token_set
    # The client credentials example got its token from the default endpoint.
    service = next(s for s in sessions if isinstance(s._refresher, ClientCredentialsGrant))
    assert service.access_token()
    assert ("client_credentials", "accounts:read") in [
        (r.grant_type, r.scope) for r in server.token_requests
    ]
    assert server.discovery_fetches >= 1

    # Signing in: the native example signed in through the browser, with the declared
    # scopes; the next run started from its store; the web example's two steps work.
    grants = [r.grant_type for r in server.token_requests]
    assert grants.count("authorization_code") == 1
    stored = [s for s in sessions if s.store is not None]  # sign in, next run, processes
    assert len(stored) == 3
    assert stored[0].token_set is not None
    assert stored[0].token_set.scopes == ("openid", "banking/read", "banking/write")
    user_session: dict[str, Any] = {}
    url = namespace["login"](user_session)
    web = namespace["callback"](user_session, UserAgent().authorize(url))
    assert user_session == {}
    with httpx.Client(timeout=5) as http:
        assert call_api(web, http, server.api_url).json()["client_id"] == "web-app"
    from_async = asyncio.run(namespace["sign_in_from_async_code"]())
    assert from_async.token_set is not None
    assert from_async.token_set.scopes == ("openid", "banking/read", "banking/write")
    # Signing out revoked the session of the processes example and emptied its store.
    assert [r.status for r in server.revocation_requests] == [200, 200]
    assert not (tmp_path / "bank-session.json").exists()
    assert namespace["result"].complete
    with pytest.raises(errors.SessionExpiredError, match="signed out"):
        stored[-1].access_token()
    for session in sessions:
        session.close()
