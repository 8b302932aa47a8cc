"""Per-call options and ``with_options`` reach the wire; credentials cannot be overridden."""

from __future__ import annotations

import asyncio
import inspect
import typing
from types import ModuleType
from typing import Any

import httpx
import pytest

from tests.support.fault_server import STALL, FaultServer, Reply

from .helpers import THING, TOKEN, Waits

pytestmark = pytest.mark.timeout(60)

OPTIONS = ["timeout", "extra_headers", "extra_query", "max_retries", "idempotency_key"]


def test_every_generated_method_takes_the_options_keyword_only(rt: ModuleType) -> None:
    client = rt.AuthenticatedClient(session=rt.Session(TOKEN))
    async_client = rt.AsyncAuthenticatedClient(session=rt.Session(TOKEN))
    methods = []
    for group in ("things", "payments", "files", "keyed", "public"):
        for api in (getattr(client, group), getattr(async_client, group)):
            methods += [getattr(api, name) for name in dir(api) if not name.startswith("_")]
    assert len(methods) >= 30
    hints_of_options = typing.get_type_hints(rt._runtime.client.CallOptions)
    assert list(hints_of_options) == OPTIONS
    for method in methods:
        parameters = list(inspect.signature(method).parameters.values())
        last = parameters[-1]
        assert last.name == "options" and last.kind is inspect.Parameter.VAR_KEYWORD, method.__name__
        assert "Unpack[CallOptions]" in str(method.__annotations__["options"]), method.__name__
        assert not [p.name for p in parameters if p.name in OPTIONS], "options are never spec parameters"


def test_an_unknown_option_is_refused_before_anything_is_sent(rt: ModuleType, api: FaultServer) -> None:
    with rt.Client(api.url) as client:
        with pytest.raises(TypeError, match="unexpected keyword argument.*'retries'"):
            client.public.search(retries=3)
    assert api.attempts == []


def test_spec_parameters_named_like_options_are_renamed_never_the_options(
    rt: ModuleType, api: FaultServer
) -> None:
    api.route("GET", "/search", Reply(200, {"found": 1}))
    with rt.Client(api.url) as client:
        client.public.search(
            timeout_=5,
            max_retries_=3,
            extra_headers_="spec header",
            timeout=10.0,
            extra_headers={"X-Extra": "1"},
        )
    (attempt,) = api.attempts
    assert attempt.query == [("timeout", "5"), ("max_retries", "3")]
    assert attempt.header("extra-headers") == "spec header" and attempt.header("X-Extra") == "1"


def test_extra_headers_and_extra_query_reach_the_wire(client: Any, api: FaultServer) -> None:
    api.route("GET", "/things", Reply(200, {"items": [THING]}))
    client.things.list_things(
        limit=5, extra_headers={"X-Request-Id": "r-1"}, extra_query={"expand": "owner"}
    )
    (attempt,) = api.attempts
    assert attempt.query == [("limit", "5"), ("expand", "owner")]
    assert attempt.header("X-Request-Id") == "r-1"
    assert attempt.header("Authorization") == f"Bearer {TOKEN}"


def test_a_per_call_timeout_reaches_the_wire(rt: ModuleType, client: Any, api: FaultServer) -> None:
    api.route("GET", "/things/t1", STALL)
    with pytest.raises(rt.ApiTimeoutError) as info:
        client.things.get_thing("t1", timeout=0.2, max_retries=0)
    assert isinstance(info.value, rt.ApiConnectionError)
    assert isinstance(info.value.__cause__, httpx.ReadTimeout)
    assert len(api.attempts) == 1


def test_per_call_max_retries(rt: ModuleType, client: Any, api: FaultServer, waits: Waits) -> None:
    api.route("GET", "/things/t1", Reply(503))
    with pytest.raises(rt.InternalServerError):
        client.things.get_thing("t1", max_retries=0)
    assert len(api.attempts) == 1
    with pytest.raises(rt.InternalServerError):
        client.things.get_thing("t1", max_retries=4)
    assert len(api.attempts) == 1 + 5
    assert waits.seconds == [0.25, 0.5, 1.0, 2.0]


def test_with_options_shares_the_pool_and_session_and_reaches_the_wire(
    rt: ModuleType, api: FaultServer, policy: Any, waits: Waits
) -> None:
    session = rt.Session(TOKEN)
    api.route("GET", "/things/t1", Reply(503))
    with rt.AuthenticatedClient(
        api.url, session=session, headers={"X-App": "base"}, retry_policy=policy, max_retries=0
    ) as client:
        patient = client.with_options(max_retries=3, headers={"X-Tenant": "t-7"})
        assert type(patient) is rt.AuthenticatedClient
        assert patient._core.http is client._core.http and patient.session is session
        with pytest.raises(rt.InternalServerError):
            patient.things.get_thing("t1")
        assert len(api.attempts) == 4 and waits.seconds == [0.25, 0.5, 1.0]
        assert {(a.header("X-App"), a.header("X-Tenant")) for a in api.attempts} == {
            ("base", "t-7")
        }

        with pytest.raises(rt.InternalServerError):
            client.things.get_thing("t1")  # the original keeps its own options
        assert len(api.attempts) == 5 and api.attempts[-1].header("X-Tenant") is None

        api.route("GET", "/things/t1", STALL)
        with pytest.raises(rt.ApiTimeoutError):
            client.with_options(timeout=0.2).things.get_thing("t1")
        patient.close()  # shares the pool: closing it leaves the original usable
        api.route("GET", "/things/t1", Reply(200, THING))
        assert client.things.get_thing("t1").id == "t1"


def test_async_with_options(rt: ModuleType, api: FaultServer, policy: Any) -> None:
    api.route("GET", "/things/t1", Reply(200, THING))

    async def call() -> None:
        async with rt.AsyncAuthenticatedClient(
            api.url, session=rt.Session(TOKEN), retry_policy=policy
        ) as client:
            derived = client.with_options(headers={"X-Tenant": "t-8"}, timeout=5.0)
            assert type(derived) is rt.AsyncAuthenticatedClient
            assert (await derived.things.get_thing("t1", extra_query={"v": "2"})).id == "t1"

    asyncio.run(call())
    (attempt,) = api.attempts
    assert attempt.header("X-Tenant") == "t-8" and attempt.query == [("v", "2")]


def test_credentials_cannot_be_overridden(rt: ModuleType, api: FaultServer) -> None:
    api.route("GET", "/things/t1", Reply(200, THING))
    api.route("GET", "/keyed/k1", Reply(200, THING))
    forged = {"authorization": "Bearer forged", "X-API-KEY": "forged", "Cookie": "forged=1"}
    session = rt.Session(TOKEN)
    with rt.AuthenticatedClient(
        api.url, session=session, header_key="real-header", query_key="real-query", headers=forged
    ) as client:
        client.things.get_thing("t1", extra_headers=forged)
        client.with_options(headers=forged).keyed.get_keyed(
            "k1", verbose=True, extra_headers=forged, extra_query={"api_key": "forged"}
        )
    token_call, keyed_call = api.attempts
    assert [v for k, v in token_call.headers.items() if k.lower() == "authorization"] == [
        f"Bearer {TOKEN}"
    ]
    assert [v for k, v in keyed_call.headers.items() if k.lower() == "x-api-key"] == ["real-header"]
    assert keyed_call.query == [("verbose", "true"), ("api_key", "real-query")]


def test_public_operations_keep_a_callers_own_authorization_header(
    rt: ModuleType, api: FaultServer
) -> None:
    # No credential was chosen, so nothing is protected: the header is the caller's to send.
    api.route("GET", "/search", Reply(200, {}))
    with rt.Client(api.url) as client:
        client.public.search(extra_headers={"Authorization": "Basic mine"})
    assert api.attempts[0].header("Authorization") == "Basic mine"


def test_bad_option_values_fail_before_sending(
    rt: ModuleType, client: Any, api: FaultServer
) -> None:
    with pytest.raises(ValueError, match="max_retries"):
        client.things.get_thing("t1", max_retries=-1)
    with pytest.raises(ValueError, match="max_retries"):
        rt.Client(api.url, max_retries=-1)
    with pytest.raises(TypeError, match="retry_policy"):
        rt.Client(api.url, retry_policy=3)
    assert api.attempts == []


def test_with_options_keeps_a_subclass_state_and_rebinds_the_api_groups(rt: ModuleType, api: FaultServer) -> None:
    class TenantClient(rt.AuthenticatedClient):  # type: ignore[misc, name-defined]
        def __init__(self, url: str, tenant: str) -> None:
            super().__init__(url, session=rt.Session(TOKEN), headers={"X-Tenant": tenant})
            self.tenant = tenant

    api.route("GET", "/things/t1", Reply(200, THING))
    with TenantClient(api.url, "acme") as client:
        assert client.things._client is client._core  # cached before deriving
        derived = client.with_options(max_retries=0)
        assert type(derived) is TenantClient and derived.tenant == "acme"
        assert derived.things._client is derived._core is not client._core
        derived.things.get_thing("t1")
    assert api.attempts[0].header("X-Tenant") == "acme"
