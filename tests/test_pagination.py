"""Pagination over a real loopback server: links are followed only as URLs, cursors go back
in the parameter they belong to, and a cursor with nowhere to go gets no iter_ method."""

from __future__ import annotations

import asyncio
from types import ModuleType
from typing import Any

import pytest

from generator.pipeline import GenerateOptions, generate
from tests.conftest import SPECS
from tests.support.recording_server import RecordedRequest, RecordingServer, Reply

SPEC = SPECS / "features" / "pagination.yaml"


@pytest.fixture(scope="module")
def pages(generate_package: Any) -> ModuleType:
    return generate_package(SPEC, "pagination_client")


def _charges(*ids: str) -> list[dict[str, Any]]:
    return [{"id": i} for i in ids]


def test_a_cursor_goes_back_in_its_query_parameter_never_as_a_url(pages: ModuleType, server: RecordingServer) -> None:
    def search(request: RecordedRequest) -> Reply:
        page = dict(request.query).get("page")
        if page is None:
            return Reply(200, {"data": _charges("a", "b"), "has_more": True, "next_page": "cursor_abc"})
        assert page == "cursor_abc"
        return Reply(200, {"data": _charges("c"), "has_more": False, "next_page": None})

    server.route("GET", "/v1/charges/search", search)
    client = pages.Client(server.url + "/v1")
    ids = [charge.id for charge in client.charges.iter_search_charges(query="amount>10", limit=2)]
    assert ids == ["a", "b", "c"]
    assert [r.path for r in server.requests] == ["/v1/charges/search", "/v1/charges/search"]
    assert server.requests[1].query == [("query", "amount>10"), ("page", "cursor_abc"), ("limit", "2")]


def test_async_cursor_pagination(pages: ModuleType, server: RecordingServer) -> None:
    def events(request: RecordedRequest) -> Reply:
        cursor = dict(request.query).get("cursor")
        return Reply(200, {"items": _charges("x"), "cursor": "c2"} if cursor is None else {"items": _charges("y")})

    server.route("GET", "/v1/events", events)

    async def walk() -> list[str]:
        async with pages.AsyncClient(server.url + "/v1") as client:
            return [e.id async for e in client.events.iter_list_events()]

    assert asyncio.run(walk()) == ["x", "y"]
    assert [dict(r.query).get("cursor") for r in server.requests] == [None, "c2"]


def test_a_uri_link_is_followed(pages: ModuleType, server: RecordingServer) -> None:
    server.route("GET", "/v1/refunds", Reply(200, {"results": _charges("r1"), "next": server.url + "/v1/refunds/page2"}))
    server.route("GET", "/v1/refunds/page2", Reply(200, {"results": _charges("r2"), "next": None}))
    ids = [r.id for r in pages.Client(server.url + "/v1").refunds.iter_list_refunds()]
    assert ids == ["r1", "r2"]


def test_a_next_value_that_is_no_url_is_not_guessed_into_one(pages: ModuleType, server: RecordingServer) -> None:
    server.route("GET", "/v1/payouts", Reply(200, {"data": _charges("p1"), "next": "cursor_abc"}))
    client = pages.Client(server.url + "/v1")
    walked: list[str] = []
    with pytest.raises(pages.ClientError, match="not a URL"):
        for payout in client.payouts.iter_list_payouts():
            walked.append(payout.id)
    assert walked == ["p1"]
    assert [r.path for r in server.requests] == ["/v1/payouts"], "nothing was requested at /cursor_abc"


def test_a_cursor_without_a_parameter_gets_no_iter_method_and_a_warning(pages: ModuleType) -> None:
    assert hasattr(pages.Client().disputes, "list_disputes")
    assert not hasattr(pages.Client().disputes, "iter_list_disputes")
    warnings = generate(SPEC, GenerateOptions(package_name="pagination_client")).warnings
    found = [w for w in warnings if "next_cursor" in w.message]
    assert len(found) == 1 and "no iter_ method" in found[0].message
    assert found[0].location is not None and found[0].location.pointer == "#/paths/~1disputes/get"


def test_operation_metadata_says_how_pages_are_walked(pages: ModuleType) -> None:
    from pagination_client.api import charges, disputes, refunds

    assert charges.SEARCH_CHARGES.pagination == pages._runtime.client.PaginationSpec("data", ("next_page",), "page")
    assert refunds.LIST_REFUNDS.pagination == pages._runtime.client.PaginationSpec("results", ("next",))
    assert disputes.LIST_DISPUTES.pagination is None
