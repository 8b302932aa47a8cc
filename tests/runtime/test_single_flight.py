"""Single flight: however many threads and tasks, on however many event loops, find
the token stale at once, exactly one token request is made and all share its outcome."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import httpx
import pytest

from generator.runtime.errors import SessionExpiredError, TokenRefreshError
from generator.runtime.session import RefreshTokenGrant, Session, TokenSet

from .helpers import (
    APP_ID,
    FakeClock,
    OAuthTestServer,
    flight_waiters,
    run_in_thread,
    wait_until,
)

pytestmark = [pytest.mark.timeout(30), pytest.mark.anyio]

N = 64


def _join(threads: list[threading.Thread]) -> None:
    for thread in threads:
        thread.join(timeout=10)
        assert not thread.is_alive(), "a caller is stuck"


def _wait_for_pileup(server: OAuthTestServer, session: Session, waiters: int) -> None:
    server.wait_for_arrivals(1)
    wait_until(lambda: flight_waiters(session) >= waiters, what=f"{waiters} waiting callers")


def test_64_threads_one_token_request(
    server: OAuthTestServer, session: Session, clock: FakeClock
) -> None:
    old = session.access_token()
    clock.advance(3600)  # expired
    server.hold()
    barrier = threading.Barrier(N)
    results: list[Any] = [None] * N

    def worker(i: int) -> None:
        barrier.wait()
        results[i] = session.access_token()

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(N)]
    for thread in threads:
        thread.start()
    _wait_for_pileup(server, session, N - 1)  # every other caller waits on the one refresh
    server.release()
    _join(threads)

    assert len(server.token_requests) == 1
    assert len(set(results)) == 1 and results[0] not in (None, old)
    assert results[0] == session.access_token()


async def test_64_tasks_one_token_request(
    server: OAuthTestServer, session: Session, clock: FakeClock
) -> None:
    old = session.token_set.access_token  # type: ignore[union-attr]
    clock.advance(3600)
    server.hold()
    tasks = [asyncio.ensure_future(session.async_access_token()) for _ in range(N)]
    await asyncio.to_thread(server.wait_for_arrivals, 1)
    while flight_waiters(session) < N - 1:
        await asyncio.sleep(0.002)
    server.release()
    results = await asyncio.wait_for(asyncio.gather(*tasks), timeout=10)

    assert len(server.token_requests) == 1
    assert len(set(results)) == 1 and results[0] != old


@pytest.mark.parametrize("round_count", [3])
def test_mixed_threads_and_tasks_on_several_loops(
    server: OAuthTestServer, session: Session, clock: FakeClock, round_count: int
) -> None:
    loops, tasks_per_loop, sync_threads = 4, 8, 32
    callers = loops * tasks_per_loop + sync_threads
    previous = session.access_token()
    for round_no in range(1, round_count + 1):
        clock.advance(3600)
        server.hold()
        barrier = threading.Barrier(loops + sync_threads)
        results: list[Any] = []
        lock = threading.Lock()

        def sync_caller() -> None:
            barrier.wait()
            token = session.access_token()
            with lock:
                results.append(token)

        async def loop_main() -> None:
            tokens = await asyncio.gather(
                *(session.async_access_token() for _ in range(tasks_per_loop))
            )
            with lock:
                results.extend(tokens)

        def loop_caller() -> None:
            barrier.wait()
            asyncio.run(loop_main())

        threads = [threading.Thread(target=sync_caller, daemon=True) for _ in range(sync_threads)]
        threads += [threading.Thread(target=loop_caller, daemon=True) for _ in range(loops)]
        for thread in threads:
            thread.start()
        _wait_for_pileup(server, session, callers - 1)
        server.release()
        _join(threads)

        assert len(server.token_requests) == round_no
        assert len(results) == callers
        assert len(set(results)) == 1 and results[0] != previous
        previous = results[0]


def test_concurrent_rejections_of_one_token_refresh_once(
    server: OAuthTestServer, session: Session
) -> None:
    old = session.access_token()
    server.revoke_access_token(old)
    server.hold()
    barrier = threading.Barrier(32)
    results: list[Any] = [None] * 32

    def worker(i: int) -> None:
        barrier.wait()
        results[i] = session.refresh_after_rejection(old)

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(32)]
    for thread in threads:
        thread.start()
    _wait_for_pileup(server, session, 31)
    server.release()
    _join(threads)
    assert len(server.token_requests) == 1
    assert len(set(results)) == 1 and results[0] != old
    # Stragglers reporting the same old token afterwards do not refresh again.
    assert session.refresh_after_rejection(old) == results[0]
    assert len(server.token_requests) == 1


def test_every_waiter_gets_the_same_terminal_error(
    server: OAuthTestServer, session: Session, clock: FakeClock
) -> None:
    clock.advance(3600)
    server.error_next("invalid_grant", description="refresh token revoked")
    server.hold()
    errors: list[Any] = []
    lock = threading.Lock()

    def sync_caller() -> None:
        try:
            session.access_token()
        except BaseException as exc:  # noqa: BLE001
            with lock:
                errors.append(exc)

    async def loop_main() -> None:
        outcomes = await asyncio.gather(
            *(session.async_access_token() for _ in range(8)), return_exceptions=True
        )
        with lock:
            errors.extend(outcomes)

    threads = [threading.Thread(target=sync_caller, daemon=True) for _ in range(16)]
    threads += [
        threading.Thread(target=lambda: asyncio.run(loop_main()), daemon=True) for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    _wait_for_pileup(server, session, 31)
    server.release()
    _join(threads)

    assert len(errors) == 32
    assert all(isinstance(e, SessionExpiredError) for e in errors)
    assert len({id(e) for e in errors}) == 1  # the very same error object
    assert len(server.token_requests) == 1


def test_every_waiter_gets_the_same_transient_error_then_one_retry(
    server: OAuthTestServer, session: Session, clock: FakeClock
) -> None:
    old = session.token_set
    clock.advance(3600)
    server.fail_next(1, status=503)
    server.hold()
    outcomes: list[Any] = []
    lock = threading.Lock()

    def caller() -> None:
        try:
            outcome: Any = session.access_token()
        except BaseException as exc:  # noqa: BLE001
            outcome = exc
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=caller, daemon=True) for _ in range(16)]
    for thread in threads:
        thread.start()
    _wait_for_pileup(server, session, 15)
    server.release()
    _join(threads)
    assert all(isinstance(o, TokenRefreshError) for o in outcomes)
    assert len({id(o) for o in outcomes}) == 1
    assert session.token_set == old  # the old token is kept
    assert len(server.token_requests) == 1

    token = session.access_token()  # the next call tries again, once
    assert token != old.access_token  # type: ignore[union-attr]
    assert len(server.token_requests) == 2


async def test_cancelling_the_leader_does_not_abandon_the_refresh(
    server: OAuthTestServer, session: Session, clock: FakeClock
) -> None:
    login_refresh = session.token_set.refresh_token  # type: ignore[union-attr]
    seen: list[TokenSet] = []
    session._on_refresh = seen.append  # observe installs without changing behaviour
    clock.advance(3600)
    server.hold()
    leader = asyncio.ensure_future(session.async_access_token())
    await asyncio.to_thread(server.wait_for_arrivals, 1)
    follower = asyncio.ensure_future(session.async_access_token())
    while flight_waiters(session) < 1:
        await asyncio.sleep(0.002)
    leader.cancel()
    with pytest.raises(asyncio.CancelledError):
        await leader
    server.release()
    token = await asyncio.wait_for(follower, timeout=10)

    assert len(server.token_requests) == 1
    assert len(seen) == 1 and seen[0].access_token == token
    # The rotated refresh token was kept even though its requester went away.
    assert session.token_set is not None
    assert session.token_set.refresh_token not in (None, login_refresh)
    assert session.refresh().access_token != token  # and it works
    assert server.token_requests[-1].status == 200


async def test_cancelled_follower_does_not_cancel_the_refresh(
    server: OAuthTestServer, session: Session, clock: FakeClock
) -> None:
    clock.advance(3600)
    server.hold()
    leader = asyncio.ensure_future(session.async_access_token())
    await asyncio.to_thread(server.wait_for_arrivals, 1)
    follower = asyncio.ensure_future(session.async_access_token())
    while flight_waiters(session) < 1:
        await asyncio.sleep(0.002)
    follower.cancel()
    with pytest.raises(asyncio.CancelledError):
        await follower
    server.release()
    assert await asyncio.wait_for(leader, timeout=10) == session.access_token()
    assert len(server.token_requests) == 1


def test_one_session_across_event_loops_in_sequence(
    server: OAuthTestServer, session: Session, clock: FakeClock
) -> None:
    tokens = []
    for _ in range(3):
        clock.advance(3600)
        thread, outcome = run_in_thread(lambda: asyncio.run(session.async_access_token()))
        thread.join(timeout=10)
        tokens.append(outcome[0])
    assert all(isinstance(t, str) for t in tokens) and len(set(tokens)) == 3
    assert [r.status for r in server.token_requests] == [200, 200, 200]


def test_caller_supplied_async_client_is_used(server: OAuthTestServer, clock: FakeClock) -> None:
    requests: list[httpx.Request] = []

    async def record(request: httpx.Request) -> None:
        requests.append(request)

    async def main() -> str:
        async with httpx.AsyncClient(timeout=5, event_hooks={"request": [record]}) as client:
            grant = RefreshTokenGrant(
                token_url=server.token_url, client_id=APP_ID, client_secret="x"
            )
            session = Session.from_token_response(
                {"access_token": "a", "refresh_token": "r", "expires_in": 0},
                refresher=grant,
                clock=clock,
                async_http_client=client,
            )
            with pytest.raises(SessionExpiredError):  # wrong secret: invalid_client
                await session.async_access_token()
            return "done"

    assert asyncio.run(main()) == "done"
    assert len(requests) == 1 and requests[0].url.path == "/token"
    (record_,) = server.token_requests
    assert record_.status == 401 and record_.auth_method is None


async def test_refresh_task_cancelled_before_it_ran_releases_everyone(
    server: OAuthTestServer, session: Session, clock: FakeClock
) -> None:
    clock.advance(3600)
    leader = asyncio.ensure_future(session.async_access_token())
    await asyncio.sleep(0)  # the leader has created the refresh task, which has not run yet
    flight = session._flight
    assert flight is not None and flight.task is not None and not flight.task.done()
    thread_outcome: list[Any] = []
    waiter = threading.Thread(target=lambda: thread_outcome.append(_catch(session.access_token)))
    waiter.start()
    while flight_waiters(session) < 1:
        await asyncio.sleep(0.002)
    flight.task.cancel()
    with pytest.raises(TokenRefreshError, match="interrupted"):
        await leader
    await asyncio.to_thread(waiter.join, 10)
    assert isinstance(thread_outcome[0], TokenRefreshError)
    assert server.token_requests == []
    assert await session.async_access_token()  # the next call refreshes normally
    assert len(server.token_requests) == 1


def _catch(call: Any) -> Any:
    try:
        return call()
    except BaseException as exc:  # noqa: BLE001
        return exc
