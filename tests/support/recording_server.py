"""A real HTTP server on loopback that records every request and answers from a route table."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlsplit


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: list[tuple[str, str]]
    raw_query: str
    headers: dict[str, str]
    body: bytes
    target: str = ""  # the request-target as sent (http.server turns a leading "//" into "/" in ``path``)

    def header(self, name: str) -> str | None:
        for key, value in self.headers.items():
            if key.lower() == name.lower():
                return value
        return None


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"

    def encoded(self) -> bytes:
        if self.body is None:
            return b""
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode()
        return json.dumps(self.body).encode()


def bearer_checked(is_valid: Callable[[str], bool], body: Any) -> Callable[[RecordedRequest], Reply]:
    """A route that answers 200 with ``body`` to a bearer token ``is_valid`` accepts, else 401."""

    def reply(request: RecordedRequest) -> Reply:
        token = (request.header("Authorization") or "").removeprefix("Bearer ")
        return Reply(200, body) if is_valid(token) else Reply(401, {"title": "Unauthorized"})

    return reply


class _Server(ThreadingHTTPServer):
    request_queue_size = 256  # many clients connect at once; a full backlog would stall them


class RecordingServer:
    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self.routes: dict[tuple[str, str], Any] = {}
        self.default = Reply(204)
        self._lock = threading.Lock()
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes: without TCP_NODELAY, Nagle's algorithm and
            # the client's delayed ACK hold every response back ~40 ms.
            disable_nagle_algorithm = True

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                target = self.requestline.split(" ")[1] if self.requestline.count(" ") >= 2 else self.path
                request = RecordedRequest(
                    self.command, parts.path, parse_qsl(parts.query, keep_blank_values=True), parts.query, dict(self.headers.items()), body, target
                )
                with recorder._lock:
                    recorder.requests.append(request)
                reply = recorder.reply_for(request)
                payload = reply.encoded()
                self.send_response(reply.status)
                if payload:
                    self.send_header("Content-Type", reply.content_type)
                for key, value in reply.headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = _Server(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def route(self, method: str, path: str, reply: Any) -> None:
        """``reply`` is a ``Reply`` or a callable taking the ``RecordedRequest``."""
        self.routes[(method.upper(), path)] = reply

    def reply_for(self, request: RecordedRequest) -> Reply:
        handler = self.routes.get((request.method, request.path), self.default)
        return handler(request) if callable(handler) else handler

    def last(self) -> RecordedRequest:
        return self.requests[-1]

    def __enter__(self) -> "RecordingServer":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
