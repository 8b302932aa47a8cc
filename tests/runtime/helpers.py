"""Shared helpers for the session tests: the loopback OAuth server and a minimal
stand-in for the transport's use of the session (send with the token; on a 401,
ask for a replacement once and replay once)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx

try:  # the tests package may or may not be importable as ``tests``
    from tests.support.oauth_server import (  # noqa: F401 - re-exported
        ApiCall,
        FakeClock,
        OAuthTestServer,
        RevocationRequest,
        TokenRequest,
        UserAgent,
        unused_port,
    )
except ImportError:  # pragma: no cover - depends on how pytest set up sys.path
    from support.oauth_server import (  # type: ignore[no-redef,import-not-found]  # noqa: F401
        ApiCall,
        FakeClock,
        OAuthTestServer,
        RevocationRequest,
        TokenRequest,
        UserAgent,
        unused_port,
    )

from generator.runtime.session import Session

__all__ = [
    "APP_ID",
    "APP_SECRET",
    "CLI_ID",
    "SIGN_IN_SCOPE",
    "WEB_CALLBACK",
    "WEB_ID",
    "WEB_SECRET",
    "POST_ID",
    "POST_SECRET",
    "PUBLIC_ID",
    "RevocationRequest",
    "SERVICE_ID",
    "SERVICE_SECRET",
    "ApiCall",
    "FakeClock",
    "OAuthTestServer",
    "TokenRequest",
    "UserAgent",
    "async_call_api",
    "call_api",
    "flight_waiters",
    "future_waiters",
    "run_in_thread",
    "run_loop_in_thread",
    "unused_port",
    "wait_until",
]

APP_ID = "banking-app"
APP_SECRET = "app-s3cret:with/special+chars=%41"
POST_ID = "post-app"
POST_SECRET = "post-client-secret-value"
PUBLIC_ID = "public-app"
SERVICE_ID = "batch-service"
SERVICE_SECRET = "service-secret-value"
#: A confidential web app signing users in (authorization code + PKCE).
WEB_ID = "web-app"
WEB_SECRET = "web-app-secret-value"
WEB_CALLBACK = "https://app.example.test/callback"
#: A native (public) app signing users in over a loopback redirect, any port.
CLI_ID = "cli-app"
SIGN_IN_SCOPE = "openid banking/read banking/write"


def call_api(session: Session, client: httpx.Client, url: str) -> httpx.Response:
    token = session.access_token()
    response = client.get(url, headers={"Authorization": f"Bearer {token}"})
    if response.status_code == 401 and session.can_refresh:
        token = session.refresh_after_rejection(token)
        response = client.get(url, headers={"Authorization": f"Bearer {token}"})
    return response


async def async_call_api(session: Session, client: httpx.AsyncClient, url: str) -> httpx.Response:
    token = await session.async_access_token()
    response = await client.get(url, headers={"Authorization": f"Bearer {token}"})
    if response.status_code == 401 and session.can_refresh:
        token = await session.async_refresh_after_rejection(token)
        response = await client.get(url, headers={"Authorization": f"Bearer {token}"})
    return response


def wait_until(
    predicate: Callable[[], bool], timeout: float = 5.0, what: str = "condition"
) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.002)


def flight_waiters(session: Session) -> int:
    """How many callers are currently waiting on the session's refresh in flight.

    Sync waiters block in ``Future.result`` (they sit on the future's condition);
    async waiters registered a done-callback through ``asyncio.wrap_future``. The
    leader is neither. This peeks at private state on purpose: it lets the
    concurrency tests prove that callers really piled up behind one refresh.
    """
    flight = session._flight
    return 0 if flight is None else future_waiters(flight.future)


def future_waiters(future: Any) -> int:
    """Callers blocked in ``future.result()`` plus registered done-callbacks."""
    if future is None:
        return 0
    with future._condition:
        return len(future._condition._waiters) + len(future._done_callbacks)


def run_in_thread(func: Callable[[], Any]) -> tuple[threading.Thread, list[Any]]:
    """Start ``func`` in a thread; the list receives its result or exception."""
    outcome: list[Any] = []

    def target() -> None:
        try:
            outcome.append(func())
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            outcome.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, outcome


def run_loop_in_thread(coro_factory: Callable[[], Any]) -> tuple[threading.Thread, list[Any]]:
    """Run ``asyncio.run(coro_factory())`` in its own thread (its own event loop)."""
    return run_in_thread(lambda: asyncio.run(coro_factory()))
