"""Two session fixes, each with exact token-request counts against the authlib token endpoint:

1. a 401 from another origin (reached by a redirect that rightly dropped the token) does not
   refresh: only a 401 to a request that carried the current token does;
2. a 401 to a streamed upload that cannot be sent again still refreshes (without a replay),
   so the caller's next call carries a fresh token.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Iterator
from types import ModuleType
from typing import Any

import pytest

from tests.runtime.helpers import FakeClock, OAuthTestServer
from tests.support.fault_server import Attempt, FaultServer, Reply

from .helpers import THING, bearer, refreshing_session

pytestmark = pytest.mark.timeout(60)


def test_a_401_from_another_origin_does_not_refresh(
    rt: ModuleType, api: FaultServer, oauth: OAuthTestServer, clock: FakeClock
) -> None:
    session = refreshing_session(rt, oauth, clock)
    token = session.token_set.access_token
    with (
        FaultServer() as elsewhere,
        rt.AuthenticatedClient(api.url, session=session, max_retries=0) as client,
    ):
        api.route(
            "GET", "/things/t1", Reply(307, headers={"Location": f"{elsewhere.url}/mirror/t1"})
        )
        elsewhere.route("GET", "/mirror/t1", Reply(401, {"title": "who are you?"}))
        with pytest.raises(rt.AuthenticationError) as info:
            client.things.get_thing("t1")
        assert [bearer(a) for a in api.attempts] == [token]
        assert [a.header("Authorization") for a in elsewhere.attempts] == [
            None
        ], "the token stays home"
    assert info.value.status_code == 401
    assert len(oauth.token_requests) == 0, "that 401 said nothing about our token"
    assert session.token_set.access_token == token


def test_a_401_at_home_after_a_same_origin_redirect_still_refreshes(
    rt: ModuleType, api: FaultServer, oauth: OAuthTestServer, clock: FakeClock
) -> None:
    session = refreshing_session(rt, oauth, clock)
    stale = session.token_set.access_token
    oauth.revoke_access_token(stale)
    api.route("GET", "/things/t1", Reply(307, headers={"Location": "/things/moved"}))
    api.route(
        "GET",
        "/things/moved",
        lambda a: Reply(200, THING) if oauth.token_is_valid(bearer(a)) else Reply(401),
    )
    with rt.AuthenticatedClient(api.url, session=session) as client:
        assert client.things.get_thing("t1").id == "t1"
    assert len(oauth.token_requests) == 1
    assert [bearer(a) for a in api.attempts] == [
        stale,
        stale,
        session.token_set.access_token,
        session.token_set.access_token,
    ]


def stored(attempt: Attempt, oauth: OAuthTestServer) -> Reply:
    if not oauth.token_is_valid(bearer(attempt)):
        return Reply(401, {"title": "token revoked"})
    return Reply(
        200,
        {
            "name": "f",
            "size": len(attempt.body),
            "sha256": hashlib.sha256(attempt.body).hexdigest(),
        },
    )


def chunks() -> Iterator[bytes]:
    yield b"first chunk, "
    yield b"second chunk"


def test_a_401_to_an_upload_that_cannot_be_replayed_still_refreshes(
    rt: ModuleType, api: FaultServer, oauth: OAuthTestServer, clock: FakeClock
) -> None:
    session = refreshing_session(rt, oauth, clock)
    rejected = session.token_set.access_token
    oauth.revoke_access_token(rejected)
    api.route("PUT", "/files/f", lambda a: stored(a, oauth))
    with rt.AuthenticatedClient(api.url, session=session) as client:
        with pytest.raises(rt.AuthenticationError):
            client.files.upload_file("f", body=chunks())
        assert len(oauth.token_requests) == 1, "refreshed although the body could not be replayed"
        assert len(api.attempts) == 1, "and not replayed"
        assert api.attempts[0].body == b"first chunk, second chunk" and api.attempts[0].chunked
        fresh = session.token_set.access_token
        assert fresh != rejected

        assert client.files.upload_file("f", body=chunks()).size == 25  # the caller's next attempt
    assert [bearer(a) for a in api.attempts] == [rejected, fresh]
    assert len(oauth.token_requests) == 1


def test_the_async_client_refreshes_after_a_401_to_an_async_stream(
    rt: ModuleType, api: FaultServer, oauth: OAuthTestServer, clock: FakeClock
) -> None:
    session = refreshing_session(rt, oauth, clock)
    oauth.revoke_access_token(session.token_set.access_token)
    api.route("PUT", "/files/f", lambda a: stored(a, oauth))

    async def body() -> AsyncIterator[bytes]:
        yield b"async "
        yield b"bytes"

    async def calls() -> Any:
        async with rt.AsyncAuthenticatedClient(api.url, session=session) as client:
            with pytest.raises(rt.AuthenticationError):
                await client.files.upload_file("f", body=body())
            return await client.files.upload_file("f", body=body())

    assert asyncio.run(calls()).size == 11
    assert len(oauth.token_requests) == 1
    assert len(api.attempts) == 2


def test_a_replayable_upload_is_replayed_after_the_refresh(
    rt: ModuleType, api: FaultServer, oauth: OAuthTestServer, clock: FakeClock
) -> None:
    session = refreshing_session(rt, oauth, clock)
    oauth.revoke_access_token(session.token_set.access_token)
    api.route("PUT", "/files/f", lambda a: stored(a, oauth))
    with rt.AuthenticatedClient(api.url, session=session) as client:
        assert client.files.upload_file("f", body=[b"a list ", b"of chunks"]).size == 16
    assert len(oauth.token_requests) == 1
    assert [a.body for a in api.attempts] == [b"a list of chunks"] * 2
