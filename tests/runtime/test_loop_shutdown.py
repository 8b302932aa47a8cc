"""A token response is never lost: when the event loop of the task leading a refresh shuts
down after the token endpoint has answered (and rotated the refresh token), the new token
set is still installed, stored and reported to ``on_refresh``."""

from __future__ import annotations

import asyncio
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from generator.runtime.session import FileTokenStore, RefreshTokenGrant, Session, TokenSet

from .helpers import APP_ID, APP_SECRET, FakeClock, OAuthTestServer, flight_waiters

pytestmark = [pytest.mark.timeout(30), pytest.mark.anyio]


def on_refresh_of(kind: str, reported: list[TokenSet]) -> Any:
    if kind == "sync":
        return reported.append

    async def report(token_set: TokenSet) -> None:
        await asyncio.sleep(0)
        reported.append(token_set)

    return report


@pytest.mark.parametrize("callback", ["sync", "async"])
@pytest.mark.parametrize("stored", [False, True], ids=["no store", "file store"])
def test_the_leaders_loop_shuts_down_after_the_token_endpoint_answered(
    server: OAuthTestServer, clock: FakeClock, tmp_path: Path, callback: str, stored: bool
) -> None:
    reported: list[TokenSet] = []
    store = FileTokenStore(tmp_path / "token.json") if stored else None
    session = Session.from_token_response(
        server.login(APP_ID),
        refresher=RefreshTokenGrant(
            token_url=server.token_url, client_id=APP_ID, client_secret=APP_SECRET
        ),
        on_refresh=on_refresh_of(callback, reported),
        store=store,
        clock=clock,
    )
    login = session.token_set
    assert login is not None
    clock.advance(3600)
    server.hold_answers()

    async def short_job() -> None:
        asyncio.ensure_future(session.async_access_token())  # leads the refresh
        # The server has issued new tokens and retired the old refresh token; the job
        # ends before the answer arrives, and asyncio.run cancels what is left.
        await asyncio.to_thread(server.wait_for_answered, 1)

    job = threading.Thread(target=lambda: asyncio.run(short_job()))
    job.start()
    job.join(10)
    assert not job.is_alive()
    server.release_answers()

    token = session.access_token()  # joins the refresh if it is still finishing

    assert len(server.token_requests) == 1, "the answer was not thrown away and asked again"
    current = session.token_set
    assert current is not None and current.access_token == token
    assert current.refresh_token not in (None, login.refresh_token)
    assert reported == [current], "on_refresh was called once, with the new token set"
    if store is not None:
        assert store.load() == current
    session.refresh()  # the rotated refresh token works
    assert [r.status for r in server.token_requests] == [200, 200]


@pytest.mark.skipif(
    sys.version_info < (3, 11), reason="Task.cancelling() tells a cancelled caller apart"
)
async def test_cancelling_the_refresh_task_mid_request_still_delivers(
    server: OAuthTestServer, session: Session, clock: FakeClock
) -> None:
    clock.advance(3600)
    server.hold_answers()
    leader = asyncio.ensure_future(session.async_access_token())
    follower = asyncio.ensure_future(session.async_access_token())
    await asyncio.to_thread(server.wait_for_answered, 1)
    while flight_waiters(session) < 1:
        await asyncio.sleep(0.002)
    flight = session._flight
    assert flight is not None and flight.task is not None
    flight.task.cancel()  # e.g. a supervisor cancelling stray tasks
    await asyncio.sleep(0)
    server.release_answers()
    token = await asyncio.wait_for(leader, 10)
    assert await follower == token
    assert len(server.token_requests) == 1
    assert session.token_set is not None and session.token_set.access_token == token


def test_an_async_on_refresh_still_runs_on_the_callers_loop(
    server: OAuthTestServer, clock: FakeClock
) -> None:
    loops: list[Any] = []

    async def report(token_set: TokenSet) -> None:
        loops.append(asyncio.get_running_loop())

    session = Session.from_token_response(
        server.login(APP_ID),
        refresher=RefreshTokenGrant(
            token_url=server.token_url, client_id=APP_ID, client_secret=APP_SECRET
        ),
        on_refresh=report,
        clock=clock,
    )
    clock.advance(3600)

    async def main() -> Any:
        await session.async_access_token()
        return asyncio.get_running_loop()

    assert asyncio.run(main()) is loops[0]
