"""FileTokenStore, and a session that keeps its tokens in a store: loaded at start, saved on
every refresh, deleted on revoke, and one refresh shared by every holder of the store."""

from __future__ import annotations

import asyncio
import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from generator.runtime.errors import SessionExpiredError
from generator.runtime.session import (
    FileTokenStore,
    RefreshTokenGrant,
    Session,
    TokenSet,
    TokenStoreError,
)

from .helpers import (
    APP_ID,
    APP_SECRET,
    SERVICE_ID,
    SERVICE_SECRET,
    FakeClock,
    OAuthTestServer,
    run_in_thread,
    wait_until,
)

pytestmark = [pytest.mark.timeout(30), pytest.mark.anyio]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def grant(server: OAuthTestServer) -> RefreshTokenGrant:
    return RefreshTokenGrant(token_url=server.token_url, client_id=APP_ID, client_secret=APP_SECRET)


def test_file_store_round_trip_mode_and_atomic_replace(tmp_path: Path) -> None:
    store = FileTokenStore(tmp_path / "new" / "folder" / "token.json")
    assert store.load() is None
    first = TokenSet("at-1", expires_at=1_700_000_000.0, refresh_token="rt-1", scopes=("a",))
    old_umask = os.umask(0)  # a permissive umask must not widen the file's mode
    try:
        store.save(first)
    finally:
        os.umask(old_umask)
    assert store.load() == first
    assert mode(store.path) == 0o600
    assert mode(store.path.parent) == 0o700
    inode = store.path.stat().st_ino
    second = TokenSet("at-2", refresh_token="rt-2", id_token="id.token.jwt")
    store.save(second)
    assert store.load() == second
    assert store.path.stat().st_ino != inode, "saved by renaming a new file over the old one"
    assert sorted(p.name for p in store.path.parent.iterdir()) == ["token.json"]
    with store.lock():
        pass
    assert mode(store.path.with_name("token.json.lock")) == 0o600
    assert "at-2" not in repr(store) and "rt-2" not in repr(store)
    store.delete()
    store.delete()  # nothing there: no error
    assert store.load() is None


def test_unreadable_store_is_a_clear_error_without_secrets(tmp_path: Path) -> None:
    path = tmp_path / "token.json"
    path.write_text('{"refresh_token": "rt-secret-value"}')
    with pytest.raises(TokenStoreError, match="does not hold a token set") as info:
        FileTokenStore(path).load()
    assert "rt-secret-value" not in str(info.value)
    path.write_text("not json")
    with pytest.raises(TokenStoreError):
        FileTokenStore(path).load()


def test_the_lock_excludes_other_holders(tmp_path: Path) -> None:
    import fcntl

    first, second = FileTokenStore(tmp_path / "t.json"), FileTokenStore(tmp_path / "t.json")
    order: list[str] = []
    with first.lock():
        # What another process would see: the advisory lock is taken.
        descriptor = os.open(tmp_path / "t.json.lock", os.O_RDWR)
        try:
            with pytest.raises(BlockingIOError):
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        finally:
            os.close(descriptor)
        thread, _ = run_in_thread(lambda: _hold(second, order))
        order.append("first done")
    thread.join(5)
    assert order == ["first done", "second"]


def _hold(store: FileTokenStore, order: list[str]) -> None:
    with store.lock():
        order.append("second")


def test_session_loads_saves_every_refresh_and_keeps_on_refresh(
    server: OAuthTestServer, clock: FakeClock, tmp_path: Path
) -> None:
    store = FileTokenStore(tmp_path / "token.json")
    reported: list[TokenSet] = []
    first = Session.from_token_response(
        server.login(APP_ID), refresher=grant(server), store=store, clock=clock
    )
    assert store.load() == first.token_set  # a given token set is saved

    session = Session(store=store, refresher=grant(server), on_refresh=reported.append, clock=clock)
    assert session.token_set == first.token_set  # a session without one loads it
    for _ in range(3):
        clock.advance(3600)
        token = session.access_token()
        assert store.load() == session.token_set and session.token_set.access_token == token
    assert len(reported) == 3 and reported[-1] == store.load()
    assert [r.status for r in server.token_requests] == [200, 200, 200]


def test_empty_store_needs_a_sign_in(server: OAuthTestServer, tmp_path: Path) -> None:
    store = FileTokenStore(tmp_path / "token.json")
    with pytest.raises(ValueError, match="is empty: sign in first"):
        Session(store=store, refresher=grant(server))
    with pytest.raises(ValueError, match="is empty"):
        Session(store=store)


def test_a_session_takes_the_token_another_holder_just_stored(
    server: OAuthTestServer, clock: FakeClock, tmp_path: Path
) -> None:
    """Two sessions (as in two processes) share one rotating refresh token through a store."""
    path = tmp_path / "token.json"
    Session.from_token_response(server.login(APP_ID), store=FileTokenStore(path), clock=clock)
    one = Session(store=FileTokenStore(path), refresher=grant(server), clock=clock)
    other = Session(store=FileTokenStore(path), refresher=grant(server), clock=clock)
    clock.advance(3600)
    token = one.access_token()
    assert other.access_token() == token, "taken from the store, not refreshed again"
    assert len(server.token_requests) == 1
    # A rejected token is replaced from the store too, when the store has a newer one.
    clock.advance(3600)
    newer = one.access_token()
    assert other.refresh_after_rejection(token) == newer
    assert len(server.token_requests) == 2
    # An explicit refresh always asks the server, with the newest refresh token.
    other.refresh()
    assert [r.status for r in server.token_requests] == [200, 200, 200]


async def test_async_callers_share_the_store_too(
    server: OAuthTestServer, clock: FakeClock, tmp_path: Path
) -> None:
    path = tmp_path / "token.json"
    Session.from_token_response(server.login(APP_ID), store=FileTokenStore(path), clock=clock)
    one = Session(store=FileTokenStore(path), refresher=grant(server), clock=clock)
    other = Session(store=FileTokenStore(path), refresher=grant(server), clock=clock)
    clock.advance(3600)
    first = await one.async_access_token()
    assert await other.async_access_token() == first
    assert len(server.token_requests) == 1


def test_a_store_emptied_elsewhere_ends_the_session_without_a_request(
    server: OAuthTestServer, clock: FakeClock, tmp_path: Path
) -> None:
    store = FileTokenStore(tmp_path / "token.json")
    session = Session.from_token_response(
        server.login(APP_ID), refresher=grant(server), store=store, clock=clock
    )
    store.delete()  # another process signed out
    clock.advance(3600)
    with pytest.raises(SessionExpiredError, match="signed out elsewhere"):
        session.access_token()
    assert server.token_requests == []


def test_client_credentials_share_one_token_through_a_store(
    server: OAuthTestServer, clock: FakeClock, tmp_path: Path
) -> None:
    path = tmp_path / "token.json"
    sessions = [
        Session.client_credentials(
            client_id=SERVICE_ID,
            client_secret=SERVICE_SECRET,
            token_url=server.token_url,
            store=FileTokenStore(path),
            clock=clock,
        )
        for _ in range(3)
    ]
    assert len({s.access_token() for s in sessions}) == 1
    assert len(server.token_requests) == 1


def test_a_failed_save_keeps_the_new_token_and_reports_it(
    server: OAuthTestServer, clock: FakeClock, tmp_path: Path
) -> None:
    class FullDisk(FileTokenStore):
        fail = False

        def save(self, token_set: Any) -> None:
            if self.fail:
                raise TokenStoreError("cannot write the token store: OSError")
            super().save(token_set)

    store = FullDisk(tmp_path / "token.json")
    reported: list[TokenSet] = []
    session = Session.from_token_response(
        server.login(APP_ID),
        refresher=grant(server),
        store=store,
        on_refresh=reported.append,
        clock=clock,
    )
    store.fail = True
    clock.advance(3600)
    with pytest.raises(TokenStoreError):
        session.access_token()
    assert len(reported) == 1 and session.token_set == reported[0]  # installed anyway
    assert session.access_token() == reported[0].access_token  # and used
    assert len(server.token_requests) == 1


def test_store_file_holds_no_more_than_the_token_set(
    server: OAuthTestServer, clock: FakeClock, tmp_path: Path
) -> None:
    store = FileTokenStore(tmp_path / "token.json")
    Session.from_token_response(
        server.login(APP_ID), refresher=grant(server), store=store, clock=clock
    )
    data = json.loads(store.path.read_text())
    assert set(data) <= {"access_token", "token_type", "expires_at", "refresh_token", "scope"}
    assert APP_SECRET not in store.path.read_text()


def test_waiting_for_another_process_holding_the_lock(
    server: OAuthTestServer, clock: FakeClock, tmp_path: Path
) -> None:
    """A refresh waits for the store's lock, then uses what the holder stored."""
    path = tmp_path / "token.json"
    Session.from_token_response(server.login(APP_ID), store=FileTokenStore(path), clock=clock)
    session = Session(store=FileTokenStore(path), refresher=grant(server), clock=clock)
    clock.advance(3600)
    fresh = TokenSet("at-from-elsewhere", expires_at=clock() + 3600, refresh_token="rt-elsewhere")
    holder = FileTokenStore(path)
    with holder.lock():
        thread, outcome = run_in_thread(session.access_token)
        wait_until(lambda: session._flight is not None, what="the refresh to start")
        holder.save(fresh)  # the other process refreshed meanwhile
    thread.join(5)
    assert outcome == ["at-from-elsewhere"]
    assert server.token_requests == []


def test_async_refresh_waits_for_the_lock_off_the_loop(
    server: OAuthTestServer, clock: FakeClock, tmp_path: Path
) -> None:
    path = tmp_path / "token.json"
    Session.from_token_response(server.login(APP_ID), store=FileTokenStore(path), clock=clock)

    async def vault(current: TokenSet | None) -> dict[str, Any]:  # an async refresher: on the loop
        return {"access_token": "at-vault", "expires_in": 3600}

    session = Session(store=FileTokenStore(path), refresher=vault, clock=clock)
    clock.advance(3600)
    holder = FileTokenStore(path)
    ticks: list[int] = []

    async def main() -> str:
        async def tick() -> None:
            for n in range(3):
                ticks.append(n)
                await asyncio.sleep(0)

        refresh = asyncio.ensure_future(session.async_access_token())
        await tick()  # the loop runs while the refresh waits for the lock
        assert not refresh.done()
        return await refresh

    with holder.lock():
        thread, outcome = run_in_thread(lambda: asyncio.run(main()))
        wait_until(lambda: len(ticks) == 3, what="the loop to run")
    thread.join(5)
    assert outcome == ["at-vault"]
    assert FileTokenStore(path).load() == session.token_set
