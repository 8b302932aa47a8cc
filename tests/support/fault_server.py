"""A real HTTP/1.1 server on loopback that plays scripted faults, for the runtime's tests.

Each route answers from a script: a list of actions used one per request, in order, then
``then`` for every request after. An action is a :class:`Reply`, :data:`RESET` (the
connection is dropped with a TCP reset, no response), :data:`STALL` (nothing is answered
until the server closes, so the client's read timeout fires), a ``Reply`` with
``truncate_at`` (the body breaks off), or a callable taking the
:class:`Attempt` and returning an action. Every request is recorded as an
:class:`Attempt`, with its body read whole (``Content-Length`` or chunked).
"""

from __future__ import annotations

import json
import socket
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Union
from urllib.parse import parse_qsl, urlsplit

__all__ = ["RESET", "STALL", "Attempt", "FaultServer", "Reply"]


@dataclass(frozen=True)
class Attempt:
    """One request as the server received it."""

    method: str
    path: str
    query: list[tuple[str, str]]
    raw_query: str
    headers: dict[str, str]
    body: bytes
    chunked: bool

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == lowered), None)


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"
    #: Send only this many bytes of the body (announcing all of it), then reset the connection.
    truncate_at: int | None = None

    def encoded(self) -> bytes:
        if self.body is None:
            return b""
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode()
        return json.dumps(self.body).encode()


class _Fault:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


RESET = _Fault("RESET")
STALL = _Fault("STALL")

Action = Union[Reply, _Fault, Callable[[Attempt], Any]]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # many clients connect at once; a full backlog would drop them


class FaultServer:
    """``with FaultServer() as server: server.script("GET", "/x", Reply(503), Reply(200, {...}))``."""

    def __init__(self) -> None:
        self.attempts: list[Attempt] = []
        self._scripts: dict[tuple[str, str], list[Action]] = {}
        self._then: dict[tuple[str, str], Action] = {}
        self._lock = threading.Lock()
        self._closing = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _read_body(self) -> tuple[bytes, bool]:
                if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
                    parts = []
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                        if size == 0:
                            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                                pass
                            return b"".join(parts), True
                        parts.append(self.rfile.read(size))
                        self.rfile.readline()
                length = int(self.headers.get("Content-Length") or 0)
                return (self.rfile.read(length) if length else b""), False

            def _handle(self) -> None:
                body, chunked = self._read_body()
                parts = urlsplit(self.path)
                attempt = Attempt(
                    self.command,
                    parts.path,
                    parse_qsl(parts.query, keep_blank_values=True),
                    parts.query,
                    dict(self.headers.items()),
                    body,
                    chunked,
                )
                action = server._next_action(attempt)
                while callable(action) and not isinstance(action, (Reply, _Fault)):
                    action = action(attempt)
                if action is RESET:
                    # SO_LINGER 0: closing sends RST instead of FIN.
                    self.connection.setsockopt(
                        socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                    )
                    self.close_connection = True
                    self.connection.close()
                    return
                if action is STALL:
                    server._closing.wait(30)
                    self.close_connection = True
                    return
                assert isinstance(action, Reply), action
                payload = action.encoded()
                try:
                    self.send_response(action.status)
                    if payload:
                        self.send_header("Content-Type", action.content_type)
                    for key, value in action.headers.items():
                        self.send_header(key, value)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    if action.truncate_at is not None:
                        self.wfile.write(payload[: action.truncate_at])
                        self.wfile.flush()
                        self.connection.setsockopt(
                            socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                        )
                        self.close_connection = True
                        self.connection.close()
                    elif self.command != "HEAD":
                        self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib name
                pass

        self._server = _Server(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )

    def _next_action(self, attempt: Attempt) -> Action:
        key = (attempt.method, attempt.path)
        with self._lock:
            self.attempts.append(attempt)
            script = self._scripts.get(key)
            if script:
                return script.pop(0)
            return self._then.get(
                key, Reply(404, {"title": "no route"}, content_type="application/problem+json")
            )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def script(self, method: str, path: str, *actions: Action, then: Action | None = None) -> None:
        """Answer the next requests to ``method path`` with ``actions``, then with ``then``
        (by default, the last action again)."""
        key = (method.upper(), path)
        with self._lock:
            self._scripts[key] = list(actions)
            if then is not None:
                self._then[key] = then
            elif actions:
                self._then[key] = actions[-1]

    def route(self, method: str, path: str, action: Action) -> None:
        """Answer every request to ``method path`` with ``action``."""
        self.script(method, path, then=action)

    def to(self, method: str, path: str) -> list[Attempt]:
        with self._lock:
            return [a for a in self.attempts if a.method == method.upper() and a.path == path]

    def __enter__(self) -> FaultServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._closing.set()
        self._server.shutdown()
        self._server.server_close()
