"""Streamed request bodies and streamed responses.

A binary request body may be ``bytes``, a binary file object, an iterable of ``bytes``
(sync or, on async clients, async); it is sent in chunks, never read whole into memory.
Anything else is a ``TypeError`` before a byte is sent. A body can be sent again (for a
retry, a replay after a token refresh, or a 307/308 redirect) when it is ``bytes``, a
seekable file, or an iterable that is not its own iterator (a list of chunks); a generator
or a pipe is sent once.

:class:`StreamedResponse` / :class:`AsyncStreamedResponse` are what the ``<method>_stream``
variants return: the request is sent when the ``with`` block is entered, and the body is
read chunk by chunk inside it.
"""

from __future__ import annotations

import io
import os
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Iterator,
    Mapping,
)
from types import TracebackType
from typing import IO, Any, Union

import httpx

from .errors import ClientError

CHUNK_SIZE = 64 * 1024

#: What a sync client accepts as a binary request body.
BinaryContent = Union[bytes, bytearray, memoryview, IO[bytes], Iterable[bytes]]
#: What an async client accepts as a binary request body.
AsyncBinaryContent = Union[
    bytes, bytearray, memoryview, IO[bytes], Iterable[bytes], AsyncIterable[bytes]
]


def _chunk(value: object) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    raise TypeError(f"a streamed request body must yield bytes, not {type(value).__name__}")


def _file_chunks(file: IO[bytes], start: int | None) -> Iterator[bytes]:
    if start is not None:
        file.seek(start)
    while True:
        chunk = file.read(CHUNK_SIZE)
        if not chunk:
            return
        yield _chunk(chunk)


def _checked(chunks: Iterable[Any]) -> Iterator[bytes]:
    for chunk in chunks:
        yield _chunk(chunk)


async def _async_checked(chunks: AsyncIterable[Any]) -> AsyncIterator[bytes]:
    async for chunk in chunks:
        yield _chunk(chunk)


async def _as_async(chunks: Iterable[bytes]) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


class StreamBody:
    """A binary request body sent in chunks; :meth:`open` gives the content of one attempt."""

    __slots__ = ("_source", "_kind", "_start", "replayable", "length", "is_async")

    def __init__(
        self,
        source: Any,
        kind: str,
        *,
        start: int | None,
        replayable: bool,
        length: int | None,
        is_async: bool,
    ) -> None:
        self._source = source
        self._kind = kind  # "file", "iterable" or "async"
        self._start = start
        self.replayable = replayable
        self.length = length
        self.is_async = is_async

    def open(self) -> Iterator[bytes] | AsyncIterator[bytes]:
        chunks: Iterator[bytes]
        if self._kind == "async":
            return _async_checked(self._source)
        if self._kind == "file":
            chunks = _file_chunks(self._source, self._start)
        else:
            chunks = _checked(self._source)
        return _as_async(chunks) if self.is_async else chunks


def binary_body(body: object, *, is_async: bool) -> bytes | StreamBody:
    """``body`` as bytes or a :class:`StreamBody`; ``TypeError`` for anything else."""
    if isinstance(body, bytes):
        return body
    if isinstance(body, (bytearray, memoryview)):
        return bytes(body)
    if isinstance(body, (str, Mapping)) or isinstance(body, io.TextIOBase):
        raise TypeError(_unsupported(body))
    if callable(getattr(body, "read", None)):
        return _file_body(body, is_async=is_async)
    if hasattr(body, "__aiter__"):
        if not is_async:
            raise TypeError(
                "an async iterable body needs the async client; a sync client sends bytes, files and iterables of bytes"
            )
        iterator = body.__aiter__()
        return StreamBody(
            iterator, "async", start=None, replayable=False, length=None, is_async=True
        )
    if isinstance(body, (list, tuple)):  # chunks in memory: checked now, sent with their length
        length = sum(len(_chunk(chunk)) for chunk in body)
        return StreamBody(
            body, "iterable", start=None, replayable=True, length=length, is_async=is_async
        )
    if isinstance(body, Iterable):
        replayable = iter(body) is not body
        return StreamBody(
            body, "iterable", start=None, replayable=replayable, length=None, is_async=is_async
        )
    raise TypeError(_unsupported(body))


def _unsupported(body: object) -> str:
    return (
        "a binary request body must be bytes, a binary file object or an iterable of bytes, "
        f"not {type(body).__name__}"
    )


def _file_body(file: Any, *, is_async: bool) -> StreamBody:
    mode = getattr(file, "mode", "b")
    if isinstance(mode, str) and mode and "b" not in mode:
        raise TypeError("a file sent as a binary body must be opened in binary mode ('rb')")
    start: int | None = None
    length: int | None = None
    try:
        if file.seekable():
            start = file.tell()
    except (AttributeError, OSError, ValueError):
        start = None
    if start is not None:
        try:
            length = os.fstat(file.fileno()).st_size - start
        except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
            try:
                length = file.seek(0, io.SEEK_END) - start
                file.seek(start)
            except (OSError, ValueError):
                length = None
        if length is not None and length < 0:
            length = None
    return StreamBody(
        file, "file", start=start, replayable=start is not None, length=length, is_async=is_async
    )


# ---------------------------------------------------------------- streamed responses


class _StreamedBase:
    def __init__(self, wrap_error: Callable[[Exception], ClientError]) -> None:
        self._response: httpx.Response | None = None
        self._wrap_error = wrap_error

    @property
    def response(self) -> httpx.Response:
        if self._response is None:
            raise RuntimeError("enter the `with` block first: the request is sent when it starts")
        return self._response

    @property
    def status_code(self) -> int:
        return self.response.status_code

    @property
    def headers(self) -> httpx.Headers:
        return self.response.headers

    def __repr__(self) -> str:
        if self._response is None:
            return f"<{type(self).__name__} (not sent)>"
        return f"<{type(self).__name__} [{self._response.status_code}]>"


class StreamedResponse(_StreamedBase):
    """A response whose body is read in chunks; use it as a context manager::

        with client.files.download_file_stream("report.pdf") as response:
            for chunk in response.iter_bytes():
                out.write(chunk)

    Entering sends the request (with the usual credentials, retries and refresh); a
    non-success status raises the operation's error there. Once the body has started,
    nothing is retried: a broken connection raises ``ApiConnectionError``.
    """

    def __init__(
        self,
        open_response: Callable[[], httpx.Response],
        wrap_error: Callable[[Exception], ClientError],
    ) -> None:
        super().__init__(wrap_error)
        self._open = open_response

    def __enter__(self) -> StreamedResponse:
        if self._response is not None:
            raise RuntimeError("a streamed response can be entered once")
        self._response = self._open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def iter_bytes(self, chunk_size: int | None = None) -> Iterator[bytes]:
        """The body, decoded (gzip...) as it arrives."""
        try:
            yield from self.response.iter_bytes(chunk_size)
        except httpx.RequestError as exc:
            raise self._wrap_error(exc) from exc

    def read(self) -> bytes:
        """The whole (rest of the) body."""
        try:
            return self.response.read()
        except httpx.RequestError as exc:
            raise self._wrap_error(exc) from exc

    def close(self) -> None:
        if self._response is not None:
            self._response.close()


class AsyncStreamedResponse(_StreamedBase):
    """The async twin of :class:`StreamedResponse`::

    async with client.files.download_file_stream("report.pdf") as response:
        async for chunk in response.aiter_bytes():
            out.write(chunk)
    """

    def __init__(
        self,
        open_response: Callable[[], Awaitable[httpx.Response]],
        wrap_error: Callable[[Exception], ClientError],
    ) -> None:
        super().__init__(wrap_error)
        self._open = open_response

    async def __aenter__(self) -> AsyncStreamedResponse:
        if self._response is not None:
            raise RuntimeError("a streamed response can be entered once")
        self._response = await self._open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aiter_bytes(self, chunk_size: int | None = None) -> AsyncIterator[bytes]:
        """The body, decoded (gzip...) as it arrives."""
        try:
            async for chunk in self.response.aiter_bytes(chunk_size):
                yield chunk
        except httpx.RequestError as exc:
            raise self._wrap_error(exc) from exc

    async def aread(self) -> bytes:
        """The whole (rest of the) body."""
        try:
            return await self.response.aread()
        except httpx.RequestError as exc:
            raise self._wrap_error(exc) from exc

    async def aclose(self) -> None:
        if self._response is not None:
            await self._response.aclose()
