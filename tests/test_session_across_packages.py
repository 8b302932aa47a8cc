"""Token sets, grants and token stores of one generated package work with another package's
``Session``: each package carries its own copy of the runtime, and sessions are shared
across packages."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.conftest import SPECS
from tests.runtime.helpers import APP_ID, APP_SECRET, FakeClock, OAuthTestServer
from tests.support.recording_server import RecordingServer, Reply, bearer_checked
from tests.test_security_over_http import ACCOUNT

pytestmark = pytest.mark.timeout(60)


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
    with RecordingServer() as server:
        server.route("GET", "/accounts/a1", bearer_checked(oauth.token_is_valid, ACCOUNT))
        server.route(
            "GET",
            "/inherited",
            lambda request: Reply(
                200 if oauth.token_is_valid((request.header("Authorization") or "")[7:]) else 401
            ),
        )
        yield server


@pytest.fixture(scope="module")
def banking(generate_package: Any) -> ModuleType:
    return generate_package(SPECS / "banking.yaml", "banking_client")


@pytest.fixture(scope="module")
def mixed(generate_package: Any) -> ModuleType:
    return generate_package(SPECS / "mixed-security.yaml", "mixed_security_client")


def test_a_token_set_and_a_grant_of_one_package_in_anothers_session(
    banking: ModuleType,
    mixed: ModuleType,
    oauth: OAuthTestServer,
    api: RecordingServer,
    clock: FakeClock,
) -> None:
    token_set = banking.TokenSet.from_response(oauth.login(APP_ID), clock=clock)
    grant = banking.RefreshTokenGrant(
        token_url=oauth.token_url, client_id=APP_ID, client_secret=APP_SECRET
    )
    assert banking.TokenSet is not mixed.TokenSet, "two copies of the runtime"
    reported: list[Any] = []

    session = mixed.Session(token_set, refresher=grant, on_refresh=reported.append, clock=clock)

    assert isinstance(session.token_set, mixed.TokenSet)
    assert session.token_set.to_dict() == token_set.to_dict()
    banking_client = banking.AuthenticatedClient(api.url, session=session)
    mixed_client = mixed.AuthenticatedClient(api.url, session=session)
    assert banking_client.accounts.get_account("a1").id == "a1"
    clock.advance(600)  # expired: the other package's grant refreshes it
    assert banking_client.accounts.get_account("a1").id == "a1"
    mixed_client.inherited.inherit_root_security()
    assert [r.status for r in oauth.token_requests] == [200], "exactly one refresh"
    assert len(reported) == 1 and isinstance(reported[0], mixed.TokenSet)

    # Reviving the session with the other package's token set, and its from_token_response.
    session.set_token_set(banking.TokenSet.from_response(oauth.login(APP_ID), clock=clock))
    mixed_client.inherited.inherit_root_security()
    again = mixed.Session.from_token_response(
        banking.TokenSet.from_response(oauth.login(APP_ID)).to_dict(), refresher=grant
    )
    assert again.access_token()
    assert len(oauth.token_requests) == 1


def test_client_credentials_grant_and_callable_refresher_results_across_packages(
    banking: ModuleType, mixed: ModuleType, oauth: OAuthTestServer, clock: FakeClock
) -> None:
    oauth.add_client("svc", "svc-secret", grant_types=("client_credentials",), scope="batch")
    grant = banking.ClientCredentialsGrant(
        token_url=oauth.token_url, client_id="svc", client_secret="svc-secret"
    )
    session = mixed.Session(refresher=grant, clock=clock)
    assert session.access_token() and len(oauth.token_requests) == 1

    def refresher(current: Any) -> Any:  # returns the other package's TokenSet
        return banking.TokenSet("from-elsewhere", expires_at=clock() + 60)

    assert mixed.Session(refresher=refresher, clock=clock).access_token() == "from-elsewhere"
    with pytest.raises(TypeError, match="token_set must be a TokenSet"):
        mixed.Session(object())


def test_a_token_store_and_a_revocation_across_packages(
    banking: ModuleType, mixed: ModuleType, oauth: OAuthTestServer, clock: FakeClock, tmp_path: Path
) -> None:
    store = banking.FileTokenStore(tmp_path / "token.json")
    grant = banking.RefreshTokenGrant(
        token_url=oauth.token_url,
        revocation_url=oauth.revocation_url,
        client_id=APP_ID,
        client_secret=APP_SECRET,
    )
    mixed.Session.from_token_response(oauth.login(APP_ID), store=store, clock=clock)
    session = mixed.Session(store=store, refresher=grant, clock=clock)
    clock.advance(600)
    session.access_token()
    assert store.load().to_dict() == session.token_set.to_dict()
    refresh_token = session.token_set.refresh_token
    result = session.revoke()
    assert isinstance(result, mixed.RevocationResult) and result.complete
    assert not oauth.refresh_token_is_valid(refresh_token)
    assert store.load() is None
