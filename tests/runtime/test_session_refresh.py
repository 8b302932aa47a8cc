"""Proactive and reactive refresh, rotation, on_refresh, refreshers of every kind."""

from __future__ import annotations

import asyncio
import functools
import threading
from typing import Any

import httpx
import pytest

from generator.runtime.errors import SessionExpiredError, TokenRefreshError
from generator.runtime.session import (
    ClientCredentialsGrant,
    RefreshTokenGrant,
    Session,
    TokenSet,
)

from .helpers import (
    APP_ID,
    APP_SECRET,
    PUBLIC_ID,
    SERVICE_ID,
    SERVICE_SECRET,
    FakeClock,
    OAuthTestServer,
    async_call_api,
    call_api,
)

pytestmark = [pytest.mark.timeout(20), pytest.mark.anyio]


# -- proactive ---------------------------------------------------------------------------


def test_fresh_token_is_used_without_refreshing(
    session: Session, server: OAuthTestServer, clock: FakeClock, api: httpx.Client
) -> None:
    first = session.access_token()
    clock.advance(3600 - 60 - 1)  # one second before the leeway starts
    assert session.access_token() == first
    assert call_api(session, api, server.api_url).status_code == 200
    assert server.token_requests == []


def test_proactive_refresh_inside_the_leeway(
    session: Session, server: OAuthTestServer, clock: FakeClock, api: httpx.Client
) -> None:
    stale = session.access_token()
    clock.advance(3600 - 30)  # 30 s left: still accepted by the server, but inside the leeway
    assert server.token_is_valid(stale)

    response = call_api(session, api, server.api_url)

    assert response.status_code == 200
    assert len(server.token_requests) == 1
    assert server.token_requests[0].grant_type == "refresh_token"
    fresh = session.access_token()
    assert fresh != stale
    assert [c.token for c in server.api_calls] == [fresh]  # the API never saw the stale token
    assert session.token_set is not None and session.token_set.expires_at == clock() + 3600
    assert len(server.token_requests) == 1


async def test_async_proactive_refresh(
    session: Session, server: OAuthTestServer, clock: FakeClock
) -> None:
    stale = session.token_set.access_token  # type: ignore[union-attr]
    clock.advance(3600 - 1)
    async with httpx.AsyncClient(timeout=5) as api:
        response = await async_call_api(session, api, server.api_url)
    assert response.status_code == 200
    assert len(server.token_requests) == 1
    assert stale not in [c.token for c in server.api_calls]


def test_custom_leeway(server: OAuthTestServer, grant: RefreshTokenGrant, clock: FakeClock) -> None:
    session = Session.from_token_response(
        server.login(APP_ID), refresher=grant, clock=clock, leeway=600
    )
    clock.advance(3600 - 599)
    session.access_token()
    assert len(server.token_requests) == 1


def test_short_lived_tokens_are_not_refreshed_on_every_call(
    clock: FakeClock, grant: RefreshTokenGrant, server: OAuthTestServer
) -> None:
    # Tokens that live 30 s with a 60 s leeway: a naive check would refresh on every call.
    server.access_token_ttl = 30
    session = Session.from_token_response(server.login(APP_ID), refresher=grant, clock=clock)
    session.access_token()  # the initial token is inside the leeway: refreshed
    assert len(server.token_requests) == 1
    for _ in range(5):
        session.access_token()
    assert len(server.token_requests) == 1
    clock.advance(14)
    session.access_token()
    assert len(server.token_requests) == 1
    clock.advance(1)  # half the lifetime has passed
    session.access_token()
    assert len(server.token_requests) == 2


# -- reactive ----------------------------------------------------------------------------


def test_reactive_refresh_after_revocation(
    session: Session, server: OAuthTestServer, api: httpx.Client
) -> None:
    old = session.access_token()
    server.revoke_access_token(old)

    response = call_api(session, api, server.api_url)

    assert response.status_code == 200
    new = session.access_token()
    assert new != old
    assert [(c.token, c.status) for c in server.api_calls] == [(old, 401), (new, 200)]
    assert len(server.token_requests) == 1

    # A late 401 for the token that was already replaced: no second refresh.
    assert session.refresh_after_rejection(old) == new
    assert len(server.token_requests) == 1

    # The new token is rejected too: asked once, the session refreshes once more.
    server.revoke_access_token(new)
    newer = session.refresh_after_rejection(new)
    assert newer not in (old, new)
    assert len(server.token_requests) == 2
    assert call_api(session, api, server.api_url).status_code == 200


async def test_async_reactive_refresh(session: Session, server: OAuthTestServer) -> None:
    old = await session.async_access_token()
    server.revoke_access_token(old)
    async with httpx.AsyncClient(timeout=5) as api:
        response = await async_call_api(session, api, server.api_url)
    assert response.status_code == 200
    new = await session.async_access_token()
    assert await session.async_refresh_after_rejection(old) == new
    assert len(server.token_requests) == 1


def test_rejection_of_a_replaced_token_still_checks_expiry(
    session: Session, server: OAuthTestServer, clock: FakeClock
) -> None:
    old = session.access_token()
    new = session.refresh_after_rejection(old)
    clock.advance(3600)  # the replacement has expired meanwhile
    newest = session.refresh_after_rejection(old)
    assert newest not in (old, new)
    assert len(server.token_requests) == 2


def test_forced_refresh(session: Session, server: OAuthTestServer) -> None:
    before = session.token_set
    after = session.refresh()
    assert after != before and session.token_set == after
    assert len(server.token_requests) == 1


async def test_async_forced_refresh(session: Session, server: OAuthTestServer) -> None:
    after = await session.async_refresh()
    assert session.token_set == after
    assert len(server.token_requests) == 1


# -- rotation and on_refresh ---------------------------------------------------------------


def test_rotated_refresh_tokens_are_used_and_reported_once(
    server: OAuthTestServer, grant: RefreshTokenGrant, clock: FakeClock
) -> None:
    login = server.login(APP_ID)
    seen: list[TokenSet] = []
    session = Session.from_token_response(
        login, refresher=grant, clock=clock, on_refresh=seen.append
    )

    first = session.refresh()
    second = session.refresh()

    requests = server.token_requests
    assert [r.status for r in requests] == [200, 200]
    assert requests[0].refresh_token == login["refresh_token"]
    assert first.refresh_token not in (None, login["refresh_token"])
    assert requests[1].refresh_token == first.refresh_token  # the rotated one
    assert second.refresh_token not in (None, first.refresh_token)
    assert seen == [first, second]
    # The old refresh token was revoked by rotation: using it would have failed.
    assert session.token_set == second


def test_non_rotating_server_keeps_the_refresh_token(
    static_server: OAuthTestServer, clock: FakeClock
) -> None:
    login = static_server.login(APP_ID)
    grant = RefreshTokenGrant(
        token_url=static_server.token_url, client_id=APP_ID, client_secret=APP_SECRET
    )
    session = Session.from_token_response(login, refresher=grant, clock=clock)
    first = session.refresh()
    session.refresh()
    assert first.refresh_token == login["refresh_token"]
    assert [r.refresh_token for r in static_server.token_requests] == [login["refresh_token"]] * 2
    assert first.scopes == ("read", "write")


async def test_async_on_refresh_from_sync_and_async_paths(
    server: OAuthTestServer, grant: RefreshTokenGrant, clock: FakeClock
) -> None:
    seen: list[tuple[TokenSet, bool]] = []

    async def on_refresh(token_set: TokenSet) -> None:
        await asyncio.sleep(0)
        seen.append((token_set, asyncio.get_running_loop() is not None))

    session = Session.from_token_response(
        server.login(APP_ID), refresher=grant, clock=clock, on_refresh=on_refresh
    )
    # A sync refresh called from inside a running event loop (this test): the async
    # callback must still run, on a loop of its own.
    first = session.refresh()
    second = await session.async_refresh()
    assert seen == [(first, True), (second, True)]


async def test_sync_on_refresh_from_the_async_path_runs_off_the_loop(
    server: OAuthTestServer, grant: RefreshTokenGrant, clock: FakeClock
) -> None:
    loop_thread = threading.get_ident()
    threads: list[int] = []
    seen: list[TokenSet] = []

    def on_refresh(token_set: TokenSet) -> None:
        threads.append(threading.get_ident())
        seen.append(token_set)

    session = Session.from_token_response(
        server.login(APP_ID), refresher=grant, clock=clock, on_refresh=on_refresh
    )
    token = await session.async_refresh()
    assert seen == [token]
    assert threads and threads[0] != loop_thread


def test_on_refresh_runs_before_the_token_is_handed_out(
    server: OAuthTestServer, grant: RefreshTokenGrant, clock: FakeClock
) -> None:
    observed: list[Any] = []

    def on_refresh(token_set: TokenSet) -> None:
        observed.append(session.token_set)  # still the old one: not handed out yet
        observed.append(session.access_token())  # re-entrant: gets the new one, no deadlock

    session = Session.from_token_response(
        server.login(APP_ID), refresher=grant, clock=clock, on_refresh=on_refresh
    )
    old = session.token_set
    clock.advance(3600)
    new = session.access_token()
    assert observed == [old, new]
    assert len(server.token_requests) == 1


def test_on_refresh_failure_reaches_the_caller_but_the_token_is_kept(
    server: OAuthTestServer, grant: RefreshTokenGrant, clock: FakeClock
) -> None:
    class PersistError(Exception):
        pass

    def on_refresh(token_set: TokenSet) -> None:
        raise PersistError("disk full")

    session = Session.from_token_response(
        server.login(APP_ID), refresher=grant, clock=clock, on_refresh=on_refresh
    )
    old = session.access_token()
    clock.advance(3600)
    with pytest.raises(PersistError):
        session.access_token()
    new = session.access_token()  # installed anyway: the server already rotated
    assert new != old
    assert len(server.token_requests) == 1


async def test_async_on_refresh_failure_reaches_the_async_caller(
    server: OAuthTestServer, grant: RefreshTokenGrant, clock: FakeClock
) -> None:
    async def on_refresh(token_set: TokenSet) -> None:
        raise LookupError("vault unavailable")

    session = Session.from_token_response(
        server.login(APP_ID), refresher=grant, clock=clock, on_refresh=on_refresh
    )
    with pytest.raises(LookupError):
        await session.async_refresh()
    assert session.token_set is not None and len(server.token_requests) == 1


# -- client credentials, public clients ------------------------------------------------------


def test_client_credentials_fetch_lazily_and_refetch_on_expiry(
    server: OAuthTestServer, clock: FakeClock, api: httpx.Client
) -> None:
    session = Session.client_credentials(
        token_url=server.token_url,
        client_id=SERVICE_ID,
        client_secret=SERVICE_SECRET,
        scopes=["batch"],
        clock=clock,
    )
    assert session.token_set is None and server.token_requests == []
    assert call_api(session, api, server.api_url).status_code == 200
    assert call_api(session, api, server.api_url).status_code == 200
    (request,) = server.token_requests
    assert (request.grant_type, request.scope, request.auth_method) == (
        "client_credentials",
        "batch",
        "client_secret_basic",
    )
    assert session.token_set is not None and session.token_set.scopes == ("batch",)
    assert session.token_set.refresh_token is None
    clock.advance(3600)
    assert call_api(session, api, server.api_url).status_code == 200
    assert len(server.token_requests) == 2


async def test_client_credentials_async(server: OAuthTestServer, clock: FakeClock) -> None:
    session = Session.client_credentials(
        token_url=server.token_url, client_id=SERVICE_ID, client_secret=SERVICE_SECRET, clock=clock
    )
    async with httpx.AsyncClient(timeout=5) as api:
        assert (await async_call_api(session, api, server.api_url)).status_code == 200
    assert len(server.token_requests) == 1


def test_public_client_sends_client_id_only(server: OAuthTestServer, clock: FakeClock) -> None:
    grant = RefreshTokenGrant(token_url=server.token_url, client_id=PUBLIC_ID)
    session = Session.from_token_response(server.login(PUBLIC_ID), refresher=grant, clock=clock)
    session.refresh()
    (request,) = server.token_requests
    assert request.auth_method == "none" and request.status == 200
    assert request.body_params == ("client_id", "grant_type", "refresh_token")


def test_refresh_grant_can_narrow_the_scope(server: OAuthTestServer, clock: FakeClock) -> None:
    grant = RefreshTokenGrant(
        token_url=server.token_url, client_id=APP_ID, client_secret=APP_SECRET, scopes="read"
    )
    session = Session.from_token_response(server.login(APP_ID), refresher=grant, clock=clock)
    assert session.refresh().scopes == ("read",)
    assert session.refresh().scopes == ("read",)
    assert [r.scope for r in server.token_requests] == ["read", "read"]


# -- user refreshers -------------------------------------------------------------------------


def test_sync_callable_returning_a_token_response(clock: FakeClock) -> None:
    calls: list[TokenSet | None] = []

    def refresher(current: TokenSet | None) -> dict[str, Any]:
        calls.append(current)
        return {"access_token": f"tok-{len(calls)}", "expires_in": 100}

    session = Session(refresher=refresher, clock=clock)
    assert session.access_token() == "tok-1"
    assert session.access_token() == "tok-1"
    clock.advance(100)
    assert session.access_token() == "tok-2"
    assert calls[0] is None and calls[1] is not None and calls[1].access_token == "tok-1"
    assert session.token_set is not None and session.token_set.expires_at == clock() + 100


async def test_async_callable_used_from_sync_and_async_callers(clock: FakeClock) -> None:
    count = 0

    async def refresher(current: TokenSet | None) -> TokenSet:
        nonlocal count
        await asyncio.sleep(0)
        count += 1
        return TokenSet(f"tok-{count}", expires_at=clock() + 100, refresh_token="r")

    session = Session(
        TokenSet("tok-0", expires_at=clock() + 10, refresh_token="r0"),
        refresher=refresher,
        clock=clock,
    )
    assert await session.async_access_token() == "tok-1"
    clock.advance(100)
    assert session.access_token() == "tok-2"  # sync caller inside a running loop
    assert count == 2


async def test_sync_callable_from_async_caller_runs_off_the_loop(clock: FakeClock) -> None:
    loop_thread = threading.get_ident()
    threads: list[int] = []

    def refresher(current: TokenSet | None) -> TokenSet:
        threads.append(threading.get_ident())
        return TokenSet("new", expires_at=clock() + 100)

    session = Session(refresher=refresher, clock=clock)
    assert await session.async_access_token() == "new"
    assert threads and threads[0] != loop_thread


def test_callable_errors(clock: FakeClock) -> None:
    def broken(current: TokenSet | None) -> TokenSet:
        raise ConnectionError("vault down")

    session = Session("t", refresher=broken, clock=clock)
    with pytest.raises(TokenRefreshError) as info:
        session.refresh()
    assert isinstance(info.value.__cause__, ConnectionError)
    assert session.access_token() == "t"  # old token kept

    def wrong_type(current: TokenSet | None) -> Any:
        return 42

    with pytest.raises(TokenRefreshError, match="int"):
        Session("t", refresher=wrong_type).refresh()

    def ends(current: TokenSet | None) -> TokenSet:
        raise SessionExpiredError("user signed out")

    ending = Session("t", refresher=ends)
    with pytest.raises(SessionExpiredError, match="signed out"):
        ending.refresh()
    with pytest.raises(SessionExpiredError, match="signed out"):
        ending.access_token()


def test_refresher_calling_back_into_its_session_fails_instead_of_deadlocking(
    clock: FakeClock,
) -> None:
    def refresher(current: TokenSet | None) -> TokenSet:
        session.access_token()  # would wait for itself
        return TokenSet("never")

    session = Session(refresher=refresher, clock=clock)
    with pytest.raises(TokenRefreshError) as info:
        session.access_token()
    assert isinstance(info.value.__cause__, RuntimeError)


async def test_sync_call_on_the_loop_running_an_async_refresh_fails_instead_of_deadlocking(
    clock: FakeClock,
) -> None:
    gate = asyncio.Event()

    async def refresher(current: TokenSet | None) -> TokenSet:
        await gate.wait()
        return TokenSet("new", expires_at=clock() + 100)

    session = Session(refresher=refresher, clock=clock)
    task = asyncio.ensure_future(session.async_access_token())
    await asyncio.sleep(0.01)  # let the task start its refresh
    with pytest.raises(RuntimeError, match="deadlock"):
        session.access_token()  # sync call blocking the very loop the refresh runs on
    gate.set()
    assert await task == "new"


# -- fixed tokens and manual replacement --------------------------------------------------------


def test_fixed_token(clock: FakeClock) -> None:
    session = Session(TokenSet("fixed", expires_at=clock() + 30), clock=clock)
    assert not session.can_refresh
    assert session.access_token() == "fixed"  # inside the leeway but nothing to refresh with
    with pytest.raises(SessionExpiredError, match="no refresher"):
        session.refresh_after_rejection("fixed")
    clock.advance(30)
    with pytest.raises(SessionExpiredError, match="expired"):
        session.access_token()
    assert Session("plain").access_token() == "plain"


def test_set_token_set_revives_an_ended_session(
    session: Session, server: OAuthTestServer, clock: FakeClock
) -> None:
    server.error_next("invalid_grant")
    with pytest.raises(SessionExpiredError):
        session.refresh()
    session.set_token_set(TokenSet.from_response(server.login(APP_ID), clock=clock))
    assert session.refresh().access_token
    with pytest.raises(ValueError, match="refresh_token"):
        session.set_token_set(TokenSet("no-refresh-token"))


def test_constructor_validation(server: OAuthTestServer) -> None:
    grant = RefreshTokenGrant(
        token_url=server.token_url, client_id=APP_ID, client_secret=APP_SECRET
    )
    with pytest.raises(ValueError, match="token set, a refresher"):
        Session()
    with pytest.raises(ValueError, match="refresh_token"):
        Session(TokenSet("a"), refresher=grant)
    with pytest.raises(ValueError, match="token_url"):
        Session(TokenSet("a", refresh_token="r"), refresher=RefreshTokenGrant(client_id="x"))
    with pytest.raises(ValueError, match="leeway"):
        Session("a", leeway=-1)
    with pytest.raises(TypeError):
        Session("a", refresher="not callable")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="exactly one"):
        RefreshTokenGrant(token_url=server.token_url, openid_configuration_url=server.discovery_url)
    with pytest.raises(ValueError, match="needs client_id and client_secret"):
        RefreshTokenGrant(
            token_url=server.token_url, client_id="x", auth_method="client_secret_post"
        )
    with pytest.raises(ValueError, match="auth_method is 'none'"):
        RefreshTokenGrant(
            token_url=server.token_url, client_id="x", client_secret="s", auth_method="none"
        )
    with pytest.raises(ValueError, match="grant_type"):
        ClientCredentialsGrant(
            token_url=server.token_url,
            client_id="x",
            client_secret="s",
            extra_params={"grant_type": "password"},
        )
    with pytest.raises(ValueError, match="absolute"):
        RefreshTokenGrant(token_url="/token")


def test_defaults_declared_by_a_generated_subclass(
    server: OAuthTestServer, clock: FakeClock
) -> None:
    class ApiSession(Session):
        default_token_urls = {"client_credentials": server.token_url}

    session = ApiSession.client_credentials(
        client_id=SERVICE_ID, client_secret=SERVICE_SECRET, clock=clock
    )
    assert isinstance(session, ApiSession)
    assert session.access_token()
    assert len(server.token_requests) == 1
    with pytest.raises(ValueError, match="refresh_token"):
        ApiSession(TokenSet("a", refresh_token="r"), refresher=RefreshTokenGrant(client_id="x"))


def test_close_only_closes_owned_clients(server: OAuthTestServer, clock: FakeClock) -> None:
    mine = httpx.Client(timeout=5)
    grant = RefreshTokenGrant(
        token_url=server.token_url, client_id=APP_ID, client_secret=APP_SECRET
    )
    with Session.from_token_response(
        server.login(APP_ID), refresher=grant, clock=clock, http_client=mine
    ) as session:
        session.refresh()
    assert not mine.is_closed
    mine.close()

    owned = Session.from_token_response(server.login(APP_ID), refresher=grant, clock=clock)
    owned.refresh()
    client = owned._owned_client
    assert client is not None
    owned.close()
    assert client.is_closed
    owned.refresh()  # still usable: a new client is opened
    owned.close()


def test_async_callable_objects_and_partials_are_recognised(clock: FakeClock) -> None:
    class VaultRefresher:
        def __init__(self) -> None:
            self.calls = 0

        async def __call__(self, current: TokenSet | None) -> TokenSet:
            self.calls += 1
            return TokenSet(f"obj-{self.calls}", expires_at=clock() + 100)

    async def with_prefix(prefix: str, current: TokenSet | None) -> dict[str, Any]:
        return {"access_token": f"{prefix}-token", "expires_in": 100}

    refresher = VaultRefresher()
    session = Session(refresher=refresher, clock=clock)
    assert session.access_token() == "obj-1"
    assert asyncio.run(session.async_refresh()).access_token == "obj-2"
    assert "VaultRefresher" in repr(session)

    partial_session = Session(refresher=functools.partial(with_prefix, "p"), clock=clock)
    assert partial_session.access_token() == "p-token"
    assert asyncio.run(partial_session.async_refresh()).access_token == "p-token"
    assert "'p'" not in repr(partial_session)  # a partial's arguments are never shown
