"""Signing in, calling the API and signing out with a generated package: the banking spec's
OpenID Connect scheme and declared scopes, against a real authlib authorization server
(PKCE required) and a loopback API that checks every token."""

from __future__ import annotations

import asyncio
import importlib
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.conftest import SPECS, package_dir
from tests.runtime.helpers import FakeClock, OAuthTestServer, UserAgent
from tests.support.recording_server import RecordingServer, bearer_checked
from tests.test_security_over_http import ACCOUNT

pytestmark = pytest.mark.timeout(120)

SCOPE = "openid banking/read banking/write"
WEB_CALLBACK = "https://app.example.test/callback"


@pytest.fixture()
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture()
def oauth(clock: FakeClock) -> Iterator[OAuthTestServer]:
    with OAuthTestServer(clock=clock, access_token_ttl=600) as server:
        flows = ("authorization_code", "refresh_token")
        server.add_client(
            "web", "web-secret", grant_types=flows, scope=SCOPE, redirect_uris=[WEB_CALLBACK]
        )
        server.add_client(
            "cli", grant_types=flows, scope=SCOPE, redirect_uris=["http://127.0.0.1/callback"]
        )
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


def test_the_generated_session_knows_the_spec(banking: ModuleType) -> None:
    assert banking.Session.default_scopes == ("banking/read", "banking/write")
    assert (
        banking.Session.default_openid_configuration_url
        == "https://auth.example-bank.test/.well-known/openid-configuration"
    )
    for name in (
        "FileTokenStore",
        "RevocationResult",
        "SignInError",
        "AuthorizationDeniedError",
        "StateMismatchError",
        "CallbackTimeoutError",
        "SignInRequest",
        "SignInFlow",
        "TokenStore",
    ):
        assert name in banking.__all__ and getattr(banking, name)


def test_web_sign_in_to_api_call_to_sign_out(
    banking: ModuleType, oauth: OAuthTestServer, api: RecordingServer, clock: FakeClock
) -> None:
    # This institution publishes its own discovery document: it overrides the spec's.
    flow = banking.Session.sign_in_flow(
        client_id="web",
        client_secret="web-secret",
        redirect_uri=WEB_CALLBACK,
        openid_configuration_url=oauth.discovery_url,
        clock=clock,
    )
    request = flow.start()
    session = flow.finish(request.to_dict(), UserAgent().authorize(request.url))
    assert session.token_set.scopes == tuple(
        SCOPE.split()
    ), "the scopes the spec declares, and openid"
    client = banking.AuthenticatedClient(api.url, session=session)
    assert client.accounts.get_account("a1").id == "a1"
    clock.advance(600)
    assert client.accounts.get_account("a1").id == "a1"  # refreshed on the way
    assert [r.grant_type for r in oauth.token_requests] == ["authorization_code", "refresh_token"]

    result = session.revoke()
    assert result.complete
    calls = len(api.requests)
    with pytest.raises(banking.SessionExpiredError):
        client.accounts.get_account("a1")
    assert len(api.requests) == calls, "nothing is sent once signed out"


def test_loopback_sign_in_sync_and_async(
    banking: ModuleType,
    oauth: OAuthTestServer,
    api: RecordingServer,
    clock: FakeClock,
    tmp_path: Path,
) -> None:
    store = banking.FileTokenStore(tmp_path / "token.json")
    session = banking.Session.sign_in(
        client_id="cli",
        open_browser=UserAgent(),
        callback_timeout=10,
        openid_configuration_url=oauth.discovery_url,
        store=store,
        clock=clock,
    )
    client = banking.AuthenticatedClient(api.url, session=session)
    assert client.accounts.get_account("a1").id == "a1"
    assert store.load() == session.token_set

    # The next run of the app starts from the store, without a browser.
    restarted = banking.Session(
        store=banking.FileTokenStore(tmp_path / "token.json"),
        refresher=banking.RefreshTokenGrant(
            client_id="cli", openid_configuration_url=oauth.discovery_url
        ),
        clock=clock,
    )
    assert (
        banking.AuthenticatedClient(api.url, session=restarted).accounts.get_account("a1").id
        == "a1"
    )

    async def main() -> str:
        browser = UserAgent()
        signed_in = await banking.Session.async_sign_in(
            client_id="cli",
            open_browser=browser.open_async,
            callback_timeout=10,
            openid_configuration_url=oauth.discovery_url,
            clock=clock,
        )
        async_client = banking.AsyncAuthenticatedClient(api.url, session=signed_in)
        account = await async_client.accounts.get_account("a1")
        await signed_in.async_revoke()
        with pytest.raises(banking.SessionExpiredError):
            await async_client.accounts.get_account("a1")
        return str(account.id)

    assert asyncio.run(main()) == "a1"
    assert len(oauth.token_requests) == 2


def test_an_oauth2_authorization_code_flow_in_the_spec(
    generated_root: Path, oauth: OAuthTestServer, api: RecordingServer, clock: FakeClock
) -> None:
    """The generated Session signs in with the spec's authorizationUrl, tokenUrl and scopes."""
    from generator.pipeline import GenerateOptions, generate
    from generator.write import write_output

    spec = generated_root / "code_flow.yaml"
    spec.write_text(textwrap.dedent(f"""
            openapi: 3.1.0
            info: {{title: Code Flow, version: 1.0.0}}
            servers: [{{url: "{api.url}"}}]
            paths:
              /accounts/{{accountId}}:
                get:
                  operationId: getAccount
                  parameters: [{{name: accountId, in: path, required: true, schema: {{type: string}}}}]
                  security: [{{oauth: [banking/read]}}]
                  responses:
                    '200':
                      description: An account.
                      content: {{application/json: {{schema: {{type: object}}}}}}
            components:
              securitySchemes:
                oauth:
                  type: oauth2
                  flows:
                    authorizationCode:
                      authorizationUrl: {oauth.authorization_url}
                      tokenUrl: {oauth.token_url}
                      scopes: {{banking/read: Read accounts, banking/write: Move money}}
            """))
    name = f"code_flow_{oauth.base_url.rsplit(':', 1)[1]}"
    out = generated_root / name
    write_output(out, generate(spec, GenerateOptions(package_name=name)).files, "test")
    sys.path.insert(0, str(out))
    pkg = importlib.import_module(name)
    assert pkg.Session.default_authorization_url == oauth.authorization_url
    assert pkg.Session.default_token_urls["authorization_code"] == oauth.token_url
    assert pkg.Session.default_scopes == ("banking/read", "banking/write")

    session = pkg.Session.sign_in(
        client_id="cli", open_browser=UserAgent(), callback_timeout=10, clock=clock
    )
    assert session.token_set.scopes == (
        "banking/read",
        "banking/write",
    )  # no openid: plain OAuth 2.0
    assert pkg.AuthenticatedClient(session=session).accounts.get_account("a1") == ACCOUNT
    assert oauth.discovery_fetches == 0


def test_two_specs_share_one_sign_in(generated_root: Path) -> None:
    from generator.pipeline import GenerateOptions, generate

    files = generate(
        [SPECS / "banking.yaml", SPECS / "mixed-security.yaml"],
        GenerateOptions(package_name="signin_two"),
    ).files
    session_py = files["signin_two/session.py"]
    assert (
        'default_scopes: ClassVar[tuple[str, ...]] = (\n        "banking/read",\n        "banking/write",\n    )'
        in session_py
    )
    assert "default_openid_configuration_url" in session_py


USAGE = """
from typing import Any

from banking_client import (
    AuthenticatedClient,
    AuthorizationDeniedError,
    FileTokenStore,
    RefreshTokenGrant,
    RevocationResult,
    Session,
    SignInError,
    SignInFlow,
    SignInRequest,
    TokenSet,
)


def native() -> str:
    session = Session.sign_in(client_id="my-cli", store=FileTokenStore("token.json"))
    client = AuthenticatedClient(session=session)
    name = client.accounts.get_account("a1").name
    result: RevocationResult = session.revoke()
    assert result.complete or result.locally_only
    return name


def web_start(flow: SignInFlow[Session], saved: dict[str, dict[str, Any]]) -> str:
    request: SignInRequest = flow.start()
    saved["sign_in"] = request.to_dict()
    return request.url


def web_finish(flow: SignInFlow[Session], saved: dict[str, dict[str, Any]], url: str) -> Session:
    try:
        return flow.finish(saved.pop("sign_in"), url, on_refresh=print)
    except AuthorizationDeniedError as denied:
        raise SignInError(str(denied.error)) from denied


async def native_async() -> TokenSet | None:
    session = await Session.async_sign_in(client_id="my-cli", open_browser=False, callback_timeout=60)
    await session.async_revoke()
    return session.token_set


def restart() -> Session:
    return Session(store=FileTokenStore("token.json"), refresher=RefreshTokenGrant(client_id="my-cli"))


flow: SignInFlow[Session] = Session.sign_in_flow(client_id="web", client_secret="s", redirect_uri="https://app/cb")
"""


def test_the_new_api_passes_mypy_strict(generate_package: Any, tmp_path: Path) -> None:
    pkg = generate_package(SPECS / "banking.yaml", "banking_client")
    (tmp_path / "usage.py").write_text(USAGE)
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(tmp_path / "usage.py")],
        cwd=package_dir(pkg),
        capture_output=True,
        text=True,
        timeout=300,
        env={"MYPYPATH": str(package_dir(pkg)), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
