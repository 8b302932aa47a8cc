"""One error hierarchy: every class raised from a real response (or a real closed port), all
under the package's ``ClientError``, each with the operation, method and a credential-free URL.
Lenient and strict validation of a server value that breaks its schema, through pagination."""

from __future__ import annotations

import asyncio
from types import ModuleType
from typing import Any

import httpx
import pytest

from tests.runtime.helpers import FakeClock, OAuthTestServer, unused_port
from tests.support.fault_server import FaultServer, Reply

from .helpers import THING, TOKEN, refreshing_session

pytestmark = pytest.mark.timeout(60)

PROBLEM = "application/problem+json"

STATUS_CLASSES = [
    (400, "BadRequestError"),
    (401, "AuthenticationError"),
    (403, "PermissionDeniedError"),
    (404, "NotFoundError"),
    (409, "ConflictError"),
    (410, "ClientSideError"),
    (422, "UnprocessableEntityError"),
    (429, "RateLimitError"),
    (500, "InternalServerError"),
    (503, "InternalServerError"),
    (300, "UnexpectedStatusError"),
]


@pytest.mark.parametrize(("status", "name"), STATUS_CLASSES)
def test_one_class_per_status_from_a_real_response(
    rt: ModuleType, client: Any, api: FaultServer, status: int, name: str
) -> None:
    body = (
        {"title": f"status {status}", "errors": ["a", "b"]}
        if status == 422
        else {"title": f"status {status}", "detail": "why"}
    )
    api.route(
        "GET",
        "/things/t1",
        Reply(status, body, headers={"Retry-After": "7", "X-Trace": "tr-1"}, content_type=PROBLEM),
    )
    with pytest.raises(rt.ClientError) as info:
        client.things.get_thing("t1", max_retries=0)
    error = info.value
    assert type(error) is getattr(rt, name)
    assert isinstance(error, rt.ApiError)
    assert error.status_code == status and error.headers["X-Trace"] == "tr-1"
    assert (
        error.operation == "getThing"
        and error.method == "GET"
        and error.url == f"{api.url}/things/t1"
    )
    assert error.text.startswith('{"title": "status')
    detail = f"status {status}" if status == 422 else "why"  # `detail` is shown before `title`
    assert str(error) == f"getThing (GET {api.url}/things/t1) failed with HTTP {status}: {detail}"
    if status == 404:
        assert (
            type(error.body) is rt.models.Problem and error.body.title == "status 404"
        )  # declared for 404
    elif status == 422:
        assert type(error.body) is rt.models.ValidationProblem and error.body.errors == ["a", "b"]
    else:
        assert type(error.body) is rt.models.Problem  # the declared default
    assert error.retry_after == (7.0 if status in (429, 503) else None)


def test_old_names_still_work(rt: ModuleType, client: Any, api: FaultServer) -> None:
    from runtime_features_client._runtime import errors

    api.route("GET", "/things/t1", Reply(502))
    with pytest.raises(errors.ServerSideError):
        client.things.get_thing("t1", max_retries=0)
    api.route("GET", "/things/t1", Reply(418))
    with pytest.raises(errors.ClientSideError):
        client.things.get_thing("t1")
    assert rt.ApiError is errors.ApiError and issubclass(rt.ApiError, rt.ClientError)


def test_a_closed_port_raises_api_connection_error(rt: ModuleType, policy: Any) -> None:
    url = f"http://127.0.0.1:{unused_port()}"
    with rt.AuthenticatedClient(url, session=rt.Session(TOKEN), retry_policy=policy) as client:
        with pytest.raises(rt.ClientError) as info:
            client.things.get_thing("t1")
    error = info.value
    assert type(error) is rt.ApiConnectionError
    assert isinstance(error.__cause__, httpx.ConnectError)
    assert error.attempts == 3 and error.operation == "getThing" and error.url == f"{url}/things/t1"

    async def call() -> None:
        async with rt.AsyncClient(url, retry_policy=policy) as client:
            await client.public.search()

    with pytest.raises(rt.ApiConnectionError):
        asyncio.run(call())


def test_urls_in_errors_never_carry_query_credentials(rt: ModuleType, api: FaultServer) -> None:
    api.route("GET", "/keyed/k1", Reply(500, {"title": "broken"}, content_type=PROBLEM))
    with rt.Client(
        api.url, header_key="header-secret", query_key="query-secret", max_retries=0
    ) as client:
        with pytest.raises(rt.InternalServerError) as info:
            client.keyed.get_keyed("k1", verbose=True)
    assert api.attempts[0].query == [("verbose", "true"), ("api_key", "query-secret")]
    assert info.value.url == f"{api.url}/keyed/k1?verbose=true"
    assert "secret" not in str(info.value) and "secret" not in repr(info.value)

    with rt.Client(
        f"http://127.0.0.1:{unused_port()}", header_key="h", query_key="query-secret", max_retries=0
    ) as client:
        with pytest.raises(rt.ApiConnectionError) as refused:
            client.keyed.get_keyed("k1")
    assert "query-secret" not in str(refused.value) and "api_key" not in str(refused.value)


def test_missing_credentials_and_session_errors_are_client_errors_of_the_call(
    rt: ModuleType, api: FaultServer, oauth: OAuthTestServer, clock: FakeClock
) -> None:
    with rt.Client(api.url) as client:
        with pytest.raises(rt.ClientError) as missing:
            client.keyed.get_keyed("k1")
    assert type(missing.value) is rt.MissingCredentialsError
    assert missing.value.operation == "getKeyed" and missing.value.method == "GET"

    session = refreshing_session(rt, oauth, clock)
    oauth.error_next("invalid_grant")
    clock.advance(3600)
    with rt.AuthenticatedClient(api.url, session=session) as client:
        with pytest.raises(rt.ClientError) as ended:
            client.things.get_thing("t1")
    assert isinstance(ended.value, rt.SessionExpiredError) and isinstance(
        ended.value, rt.SessionError
    )
    assert ended.value.operation == "getThing" and ended.value.url == f"{api.url}/things/t1"
    assert api.attempts == []


# ---------------------------------------------------------------- lenient and strict validation

GOOD = {"id": "t1", "code": "ABC", "kind": "widget"}
# A code breaking its pattern, an enum value added by the server, an unknown property.
ODD = {"id": "t2", "code": "abc-1", "kind": "doohickey", "size": 4, "addedLater": True}


@pytest.fixture()
def pages(api: FaultServer) -> FaultServer:
    def page(attempt: Any) -> Reply:
        if ("page", "2") in attempt.query:
            return Reply(200, {"items": [ODD, GOOD], "next": "/things?page=3"})
        if ("page", "3") in attempt.query:
            return Reply(200, {"items": [GOOD]})
        return Reply(200, {"items": [GOOD], "next": "/things?page=2"})

    api.route("GET", "/things", page)
    return api


def test_a_lenient_client_pages_through_a_value_breaking_its_schema(
    rt: ModuleType, client: Any, pages: FaultServer
) -> None:
    things = list(client.things.iter_list_things(limit=1))
    assert [t.id for t in things] == ["t1", "t2", "t1", "t1"]
    odd = things[1]
    assert type(odd) is rt.models.Thing
    assert (odd.code, odd.kind, odd.size) == ("abc-1", "doohickey", 4)
    assert odd.kind.name == "UNKNOWN"  # an enum value the server added validates anyway
    assert odd.model_extra == {"addedLater": True}
    assert type(things[0].kind) is rt.models.Kind and things[0].kind is rt.models.Kind.WIDGET
    assert len(pages.attempts) == 3


def test_a_strict_client_raises_response_validation_error_at_that_page(
    rt: ModuleType, api: FaultServer, pages: FaultServer
) -> None:
    seen = []
    with rt.AuthenticatedClient(
        api.url, session=rt.Session(TOKEN), strict_validation=True
    ) as client:
        with pytest.raises(rt.ResponseValidationError) as info:
            for thing in client.things.iter_list_things():
                seen.append(thing.id)
    assert seen == ["t1"]
    error = info.value
    assert isinstance(error, rt.ClientError)
    assert [e["loc"] for e in error.errors] == [("items", 0, "code")]
    assert all("input" not in e for e in error.errors)
    assert b"doohickey" in error.content and error.status_code == 200
    assert error.operation == "listThings" and error.url == f"{api.url}/things?page=2"
    # One option away, on a lenient client too:
    api.attempts.clear()
    with rt.AuthenticatedClient(api.url, session=rt.Session(TOKEN)) as lenient:
        with pytest.raises(rt.ResponseValidationError):
            list(lenient.with_options(strict_validation=True).things.iter_list_things())


def test_async_pagination_is_lenient_too(rt: ModuleType, pages: FaultServer) -> None:
    async def walk() -> list[str]:
        async with rt.AsyncAuthenticatedClient(pages.url, session=rt.Session(TOKEN)) as client:
            return [thing.code async for thing in client.things.iter_list_things()]

    assert asyncio.run(walk()) == ["ABC", "abc-1", "ABC", "ABC"]


def test_a_body_that_is_not_json_or_not_the_declared_shape_raises_even_leniently(
    rt: ModuleType, client: Any, api: FaultServer
) -> None:
    api.route(
        "GET", "/things/t1", Reply(200, b"<html>oops</html>", content_type="application/json")
    )
    with pytest.raises(rt.ResponseValidationError) as info:
        client.things.get_thing("t1")
    assert info.value.text == "<html>oops</html>"
    api.route("GET", "/things/t1", Reply(200, [THING]))
    with pytest.raises(rt.ResponseValidationError):
        client.things.get_thing("t1")
