"""Retries against a fault-injecting loopback server: exact attempts, exact waits (the sleep is
injected, nobody sleeps), one idempotency key per call, and the final result or error.
Also the retries meeting the session: however many callers and retries, one token request."""

from __future__ import annotations

import asyncio
import threading
import uuid
from email.utils import formatdate
from types import ModuleType
from typing import Any

import httpx
import pytest

from tests.runtime.helpers import FakeClock, OAuthTestServer
from tests.support.fault_server import RESET, STALL, Attempt, FaultServer, Reply

from .helpers import NOW, THING, TOKEN, Waits, bearer, refreshing_session

pytestmark = pytest.mark.timeout(60)

CREATED = {"id": "t9", "code": "NEW", "kind": "gadget"}
PAYMENT = {"id": "p1", "amount": 100}


def keys(attempts: list[Attempt]) -> list[str | None]:
    return [a.header("Idempotency-Key") for a in attempts]


# ---------------------------------------------------------------- the scripted cases


def test_503_with_retry_after_waits_what_the_server_asks(
    client: Any, api: FaultServer, waits: Waits
) -> None:
    api.script("GET", "/things/t1", Reply(503, headers={"Retry-After": "2"}), Reply(200, THING))
    assert client.things.get_thing("t1").code == "ABC"
    assert len(api.to("GET", "/things/t1")) == 2
    assert waits.seconds == [2.0]


def test_429_with_retry_after_ms_wins_over_retry_after(
    client: Any, api: FaultServer, waits: Waits
) -> None:
    api.script(
        "GET",
        "/things/t1",
        Reply(429, headers={"retry-after-ms": "250", "Retry-After": "9"}),
        Reply(200, THING),
    )
    assert client.things.get_thing("t1").id == "t1"
    assert len(api.to("GET", "/things/t1")) == 2
    assert waits.seconds == [0.25]


def test_retry_after_as_an_http_date(client: Any, api: FaultServer, waits: Waits) -> None:
    date = formatdate(NOW + 30, usegmt=True)  # the policy's clock says NOW
    api.script("GET", "/things/t1", Reply(503, headers={"Retry-After": date}), Reply(200, THING))
    client.things.get_thing("t1")
    assert waits.seconds == [30.0]


def test_connection_reset_is_retried_with_backoff(
    client: Any, api: FaultServer, waits: Waits
) -> None:
    api.script("GET", "/things/t1", RESET, RESET, Reply(200, THING))
    assert client.things.get_thing("t1").id == "t1"
    assert len(api.to("GET", "/things/t1")) == 3
    assert waits.seconds == [0.25, 0.5]  # half of the caps 0.5 and 1.0 (the jitter draws 0.5)


def test_read_timeout_is_retried(client: Any, api: FaultServer, waits: Waits) -> None:
    api.script("GET", "/things/t1", STALL, Reply(200, THING))
    assert client.things.get_thing("t1", timeout=httpx.Timeout(10.0, read=0.3)).id == "t1"
    assert len(api.to("GET", "/things/t1")) == 2
    assert waits.seconds == [0.25]


def test_post_without_an_idempotency_key_is_not_retried(
    rt: ModuleType, client: Any, api: FaultServer, waits: Waits
) -> None:
    api.script(
        "POST",
        "/things",
        Reply(503, {"title": "busy"}, content_type="application/problem+json"),
        Reply(201, CREATED),
    )
    with pytest.raises(rt.InternalServerError) as info:
        client.things.create_thing(body={"code": "NEW"})
    assert info.value.status_code == 503 and info.value.body.title == "busy"
    assert keys(api.to("POST", "/things")) == [None]
    assert waits.seconds == []


def test_post_without_a_key_is_not_retried_after_a_reset(
    rt: ModuleType, client: Any, api: FaultServer, waits: Waits
) -> None:
    api.script("POST", "/things", RESET, Reply(201, CREATED))
    with pytest.raises(rt.ApiConnectionError) as info:
        client.things.create_thing(body={"code": "NEW"})
    assert info.value.attempts == 1 and len(api.to("POST", "/things")) == 1
    assert waits.seconds == []


def test_post_with_an_idempotency_key_is_retried_with_the_same_key(
    client: Any, api: FaultServer, waits: Waits
) -> None:
    api.script("POST", "/things", Reply(503), RESET, Reply(201, CREATED))
    created = client.things.create_thing(body={"code": "NEW"}, idempotency_key="create-t9")
    assert created.id == "t9"
    attempts = api.to("POST", "/things")
    assert keys(attempts) == ["create-t9"] * 3
    assert {a.body for a in attempts} == {b'{"code":"NEW"}'}
    assert waits.seconds == [0.25, 0.5]


def test_declared_idempotency_header_gets_one_generated_key_per_call(
    client: Any, api: FaultServer, waits: Waits
) -> None:
    api.route(
        "POST",
        "/payments",
        lambda a: Reply(502) if len(api.to("POST", "/payments")) % 2 else Reply(201, PAYMENT),
    )
    client.payments.create_payment(body={"amount": 100})
    client.payments.create_payment(body={"amount": 100})
    first, second = keys(api.to("POST", "/payments")[:2]), keys(api.to("POST", "/payments")[2:])
    assert first[0] == first[1] and second[0] == second[1], "one key for every attempt of a call"
    assert first[0] != second[0], "a new key for a new call"
    assert all(uuid.UUID(key or "") for key in first + second)
    assert waits.seconds == [0.25, 0.25]


def test_declared_idempotency_header_takes_the_callers_key(client: Any, api: FaultServer) -> None:
    api.script("POST", "/payments", Reply(503), Reply(201, PAYMENT))
    client.payments.create_payment(body={"amount": 100}, idempotency_key="pay-1")
    assert keys(api.to("POST", "/payments")) == ["pay-1", "pay-1"]


def test_retry_after_longer_than_the_cap_raises_at_once_with_the_wait(
    rt: ModuleType, client: Any, api: FaultServer, waits: Waits
) -> None:
    api.script("GET", "/things/t1", Reply(503, headers={"Retry-After": "3600"}), Reply(200, THING))
    with pytest.raises(rt.InternalServerError) as info:
        client.things.get_thing("t1")
    assert info.value.retry_after == 3600.0
    assert "3600 s" in str(info.value) and "not retried" in str(info.value)
    assert len(api.to("GET", "/things/t1")) == 1
    assert waits.seconds == []


def test_retries_run_out(rt: ModuleType, client: Any, api: FaultServer, waits: Waits) -> None:
    api.route("GET", "/things/t1", Reply(504))
    with pytest.raises(rt.InternalServerError) as info:
        client.things.get_thing("t1")
    assert info.value.status_code == 504
    assert len(api.to("GET", "/things/t1")) == 3, "max_retries defaults to 2"
    assert waits.seconds == [0.25, 0.5]


def test_connection_errors_run_out(
    rt: ModuleType, client: Any, api: FaultServer, waits: Waits
) -> None:
    api.route("GET", "/things/t1", RESET)
    with pytest.raises(rt.ApiConnectionError) as info:
        client.things.get_thing("t1", max_retries=1)
    assert info.value.attempts == 2 and isinstance(info.value.__cause__, httpx.TransportError)
    assert len(api.to("GET", "/things/t1")) == 2
    assert waits.seconds == [0.25]


def test_statuses_that_are_not_transient_are_not_retried(
    rt: ModuleType, client: Any, api: FaultServer, waits: Waits
) -> None:
    for status in (400, 404, 409, 500, 501):
        api.route("GET", "/things/t1", Reply(status))
        with pytest.raises(rt.ApiError):
            client.things.get_thing("t1")
    assert len(api.to("GET", "/things/t1")) == 5
    assert waits.seconds == []


def test_408_and_502_are_retried_and_backoff_is_capped(
    rt: ModuleType, api: FaultServer, waits: Waits
) -> None:
    policy = rt.RetryPolicy(initial_delay=1.0, max_delay=3.0, sleep=waits.sleep, jitter=lambda: 1.0)
    api.script(
        "GET", "/things/t1", Reply(408), Reply(502), Reply(408), Reply(502), Reply(200, THING)
    )
    with rt.AuthenticatedClient(
        api.url, session=rt.Session(TOKEN), retry_policy=policy, max_retries=4
    ) as client:
        client.things.get_thing("t1")
    assert waits.seconds == [1.0, 2.0, 3.0, 3.0]


def test_async_client_retries_the_same_way(
    rt: ModuleType, api: FaultServer, policy: Any, waits: Waits
) -> None:
    api.script(
        "GET", "/things/t1", Reply(503, headers={"Retry-After": "1"}), RESET, Reply(200, THING)
    )
    api.script("POST", "/things", Reply(503), Reply(201, CREATED))
    api.script("POST", "/payments", Reply(504), Reply(201, PAYMENT))

    async def calls() -> None:
        async with rt.AsyncAuthenticatedClient(
            api.url, session=rt.Session(TOKEN), retry_policy=policy
        ) as client:
            assert (await client.things.get_thing("t1")).id == "t1"
            with pytest.raises(rt.InternalServerError):
                await client.things.create_thing(body={"code": "NEW"})
            await client.payments.create_payment(body={"amount": 1})

    asyncio.run(calls())
    assert len(api.to("GET", "/things/t1")) == 3
    assert len(api.to("POST", "/things")) == 1
    payment_keys = keys(api.to("POST", "/payments"))
    assert len(payment_keys) == 2 and payment_keys[0] == payment_keys[1] is not None
    assert waits.seconds == [1.0, 0.5, 0.25]


# ---------------------------------------------------------------- retries and the session


def first_attempts_get_503(oauth: OAuthTestServer) -> Any:
    """A reply: 401 to a token that is not valid, 503 to each caller's first request, else the thing."""
    seen: set[str] = set()
    lock = threading.Lock()

    def reply(attempt: Attempt) -> Reply:
        if not oauth.token_is_valid(bearer(attempt)):
            return Reply(401, {"title": "Unauthorized"})
        with lock:
            first = attempt.header("X-Caller") not in seen
            seen.add(attempt.header("X-Caller") or "")
        return Reply(503, headers={"Retry-After": "0"}) if first else Reply(200, THING)

    return reply


def test_64_threads_expired_token_and_503s_make_one_token_request(
    rt: ModuleType,
    api: FaultServer,
    oauth: OAuthTestServer,
    clock: FakeClock,
    policy: Any,
    waits: Waits,
) -> None:
    session = refreshing_session(rt, oauth, clock)
    client = rt.AuthenticatedClient(api.url, session=session, retry_policy=policy)
    api.route("GET", "/things/t1", first_attempts_get_503(oauth))
    clock.advance(3600)  # the token has expired for everyone
    oauth.delay = 0.1  # callers pile up behind the one refresh
    results: list[Any] = []

    def call(n: int) -> None:
        try:
            results.append(client.things.get_thing("t1", extra_headers={"X-Caller": str(n)}).id)
        except BaseException as exc:  # pragma: no cover - reported below
            results.append(exc)

    threads = [threading.Thread(target=call, args=(n,)) for n in range(64)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    client.close()
    assert results == ["t1"] * 64
    assert len(oauth.token_requests) == 1
    attempts = api.to("GET", "/things/t1")
    assert len(attempts) == 128, "each caller: one 503, one retry"
    assert {bearer(a) for a in attempts} == {session.token_set.access_token}
    assert waits.seconds == [0.0] * 64


def test_64_tasks_expired_token_and_503s_make_one_token_request(
    rt: ModuleType,
    api: FaultServer,
    oauth: OAuthTestServer,
    clock: FakeClock,
    policy: Any,
    waits: Waits,
) -> None:
    session = refreshing_session(rt, oauth, clock)
    api.route("GET", "/things/t1", first_attempts_get_503(oauth))
    clock.advance(3600)
    oauth.delay = 0.1

    async def calls() -> list[str]:
        async with rt.AsyncAuthenticatedClient(
            api.url, session=session, retry_policy=policy
        ) as client:
            found = await asyncio.gather(
                *(
                    client.things.get_thing("t1", extra_headers={"X-Caller": str(n)})
                    for n in range(64)
                )
            )
        return [thing.id for thing in found]

    assert asyncio.run(calls()) == ["t1"] * 64
    assert len(oauth.token_requests) == 1
    attempts = api.to("GET", "/things/t1")
    assert len(attempts) == 128
    assert {bearer(a) for a in attempts} == {session.token_set.access_token}
    assert waits.seconds == [0.0] * 64


def test_retries_never_multiply_refreshes(
    rt: ModuleType, api: FaultServer, oauth: OAuthTestServer, clock: FakeClock, policy: Any
) -> None:
    session = refreshing_session(rt, oauth, clock)
    # 401 (refresh, replay), 503 (retry), 401 again: one refresh for the whole call.
    api.script("GET", "/things/t1", Reply(401), Reply(503), Reply(401), Reply(200, THING))
    with rt.AuthenticatedClient(api.url, session=session, retry_policy=policy) as client:
        with pytest.raises(rt.AuthenticationError):
            client.things.get_thing("t1")
    attempts = api.to("GET", "/things/t1")
    assert len(attempts) == 3
    assert len(oauth.token_requests) == 1
    assert (
        bearer(attempts[0])
        != bearer(attempts[1])
        == bearer(attempts[2])
        == session.token_set.access_token
    )


def test_a_refresh_and_a_retry_in_one_call(
    rt: ModuleType, api: FaultServer, oauth: OAuthTestServer, clock: FakeClock, policy: Any
) -> None:
    session = refreshing_session(rt, oauth, clock)
    oauth.revoke_access_token(session.token_set.access_token)
    api.script(
        "GET",
        "/things/t1",
        Reply(401),
        Reply(503),
        then=lambda a: Reply(200, THING) if oauth.token_is_valid(bearer(a)) else Reply(401),
    )
    with rt.AuthenticatedClient(api.url, session=session, retry_policy=policy) as client:
        assert client.things.get_thing("t1").id == "t1"
    assert len(api.to("GET", "/things/t1")) == 3
    assert len(oauth.token_requests) == 1
