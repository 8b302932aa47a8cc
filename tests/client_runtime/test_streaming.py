"""Streamed uploads and downloads on a spec with binary bodies, over real loopback HTTP."""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.support.fault_server import Attempt, FaultServer, Reply

from .helpers import TOKEN, Waits

pytestmark = pytest.mark.timeout(60)

BLOB = os.urandom(1_000_003)  # not a multiple of any chunk size


def store(attempt: Attempt) -> Reply:
    body = attempt.body
    return Reply(
        200,
        {
            "name": attempt.path.rsplit("/", 1)[-1],
            "size": len(body),
            "sha256": hashlib.sha256(body).hexdigest(),
        },
    )


def generated_chunks(data: bytes, size: int = 65_536) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def test_a_generator_body_arrives_byte_exact_and_chunked(client: Any, api: FaultServer) -> None:
    api.route("PUT", "/files/blob", store)
    result = client.files.upload_file("blob", body=generated_chunks(BLOB))
    assert result.size == len(BLOB) and result.sha256 == hashlib.sha256(BLOB).hexdigest()
    (attempt,) = api.attempts
    assert attempt.body == BLOB
    assert attempt.chunked and attempt.header("Content-Type") == "application/octet-stream"


def test_a_file_is_streamed_with_its_length_and_replayed_on_a_retry(
    client: Any, api: FaultServer, waits: Waits, tmp_path: Path
) -> None:
    path = tmp_path / "blob.bin"
    path.write_bytes(b"header-to-skip" + BLOB)
    api.script("PUT", "/files/blob", Reply(503), then=store)
    with path.open("rb") as file:
        file.seek(len(b"header-to-skip"))  # sent from where the file stands
        assert client.files.upload_file("blob", body=file).size == len(BLOB)
    assert [a.body == BLOB for a in api.attempts] == [True, True]
    assert [a.header("Content-Length") for a in api.attempts] == [str(len(BLOB))] * 2
    assert not any(a.chunked for a in api.attempts)
    assert waits.seconds == [0.25]


def test_a_generator_body_is_not_retried(
    rt: ModuleType, client: Any, api: FaultServer, waits: Waits
) -> None:
    api.script("PUT", "/files/blob", Reply(503), then=store)
    with pytest.raises(rt.InternalServerError):
        client.files.upload_file("blob", body=generated_chunks(b"once"))
    assert len(api.attempts) == 1 and waits.seconds == []


def test_bytes_lists_and_in_memory_files(client: Any, api: FaultServer) -> None:
    api.route("PUT", "/files/b", store)
    assert client.files.upload_file("b", body=b"plain").size == 5
    assert client.files.upload_file("b", body=bytearray(b"array")).size == 5
    assert client.files.upload_file("b", body=[b"li", b"st"]).size == 4
    assert client.files.upload_file("b", body=io.BytesIO(b"in memory")).size == 9
    assert [a.body for a in api.attempts] == [b"plain", b"array", b"list", b"in memory"]


@pytest.mark.parametrize(
    "body",
    ["text", {"a": 1}, 42, io.StringIO("text file"), [b"ok", "not bytes"]],
    ids=["str", "dict", "int", "text-file", "iterable-of-str"],
)
def test_anything_else_is_a_type_error_and_never_its_repr(
    client: Any, api: FaultServer, body: Any
) -> None:
    api.route("PUT", "/files/b", store)
    with pytest.raises(TypeError, match="bytes"):
        client.files.upload_file("b", body=body)
    sent = b"".join(a.body for a in api.attempts)
    assert b"object" not in sent and b"StringIO" not in sent and b"{" not in sent


def test_the_sync_client_refuses_an_async_iterator_before_sending(
    client: Any, api: FaultServer
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b"x"

    iterator = chunks()
    with pytest.raises(TypeError, match="async client"):
        client.files.upload_file("b", body=iterator)
    asyncio.run(iterator.aclose())
    assert api.attempts == []


def test_async_uploads_of_async_and_sync_iterables(rt: ModuleType, api: FaultServer) -> None:
    api.route("PUT", "/files/blob", store)

    async def chunks() -> AsyncIterator[bytes]:
        for chunk in generated_chunks(BLOB, 100_000):
            yield chunk

    async def calls() -> list[int]:
        async with rt.AsyncAuthenticatedClient(api.url, session=rt.Session(TOKEN)) as client:
            first = await client.files.upload_file("blob", body=chunks())
            second = await client.files.upload_file("blob", body=generated_chunks(BLOB))
            third = await client.files.upload_file("blob", body=io.BytesIO(BLOB))
        return [first.size, second.size, third.size]

    assert asyncio.run(calls()) == [len(BLOB)] * 3
    assert [a.body == BLOB for a in api.attempts] == [True] * 3


def test_download_stream_reads_the_body_in_chunks(
    client: Any, api: FaultServer, waits: Waits
) -> None:
    api.script(
        "GET",
        "/files/blob",
        Reply(503),
        then=Reply(200, BLOB, content_type="application/octet-stream"),
    )
    received = []
    with client.files.download_file_stream("blob") as response:
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "application/octet-stream"
        for chunk in response.iter_bytes(chunk_size=100_000):
            received.append(chunk)
    assert b"".join(received) == BLOB
    assert len(received) == 11
    assert len(api.attempts) == 2 and waits.seconds == [0.25], "retried before the body started"
    assert api.attempts[1].header("Authorization") == f"Bearer {TOKEN}"


def test_download_stream_raises_the_operations_error_on_entering(
    rt: ModuleType, client: Any, api: FaultServer
) -> None:
    api.route(
        "GET",
        "/files/gone",
        Reply(404, {"title": "no such file"}, content_type="application/problem+json"),
    )
    stream = client.files.download_file_stream("gone")
    assert api.attempts == [], "nothing is sent before the with block"
    with pytest.raises(rt.NotFoundError) as info:
        with stream:
            pass  # pragma: no cover - entering raises
    assert info.value.body.title == "no such file"


def test_a_download_is_never_retried_once_its_body_started(
    rt: ModuleType, client: Any, api: FaultServer, waits: Waits
) -> None:
    api.script(
        "GET",
        "/files/blob",
        Reply(200, BLOB, content_type="application/octet-stream", truncate_at=300_000),
        then=Reply(200, BLOB),
    )
    received = bytearray()
    with pytest.raises(rt.ApiConnectionError) as info:
        with client.files.download_file_stream("blob") as response:
            for chunk in response.iter_bytes():
                received.extend(chunk)
    assert 0 < len(received) <= 300_000
    assert info.value.operation == "downloadFile" and info.value.method == "GET"
    assert len(api.attempts) == 1 and waits.seconds == []


def test_the_whole_download_at_once_and_the_async_stream(
    rt: ModuleType, client: Any, api: FaultServer
) -> None:
    api.route("GET", "/files/blob", Reply(200, BLOB, content_type="application/octet-stream"))
    assert client.files.download_file("blob") == BLOB
    with client.files.download_file_stream("blob") as response:
        assert response.read() == BLOB

    async def download() -> bytes:
        received = bytearray()
        async with rt.AsyncAuthenticatedClient(api.url, session=rt.Session(TOKEN)) as client:
            async with client.files.download_file_stream("blob") as response:
                async for chunk in response.aiter_bytes():
                    received.extend(chunk)
        return bytes(received)

    assert asyncio.run(download()) == BLOB
