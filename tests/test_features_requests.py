"""Parameter styles, body encodings and response shapes: the exact bytes on the wire."""

from __future__ import annotations

import io
from types import ModuleType
from typing import Any
from urllib.parse import unquote

import pytest

from tests.conftest import SPECS
from tests.support.recording_server import RecordingServer, Reply


@pytest.fixture(scope="module")
def req(generate_package: Any) -> ModuleType:
    return generate_package(SPECS / "features" / "requests.yaml", "requests_client")


def test_query_styles(req: ModuleType, server: RecordingServer) -> None:
    req.Client(server.url).query.query_styles(
        form_exploded=["a", "b"],
        form_flat=[1, 2],
        spaced=["x", "y"],
        piped=["p", "q"],
        filter={"status": "open", "created": {"gte": 5}},
        point=req.models.QueryStylesPoint(x=1, y=2),
        flag=False,
    )
    assert server.last().query == [
        ("formExploded", "a"), ("formExploded", "b"), ("formFlat", "1,2"), ("spaced", "x y"), ("piped", "p|q"),
        ("filter[status]", "open"), ("filter[created][gte]", "5"), ("x", "1"), ("y", "2"), ("flag", "false"),
    ]


def test_path_styles_and_escaping(req: ModuleType, server: RecordingServer) -> None:
    req.Client(server.url).label.path_styles(["a", "b"], ["c", "d"], ["e/f", "g"])
    assert server.last().path == "/label/.a.b/matrix/;matrix=c,d/e%2Ff,g"


def test_same_name_in_two_locations_header_cookie_and_2xx_union(req: ModuleType, server: RecordingServer) -> None:
    server.route("GET", "/things/t1", Reply(201, {"created": True}))
    result = req.Client(server.url).things.same_name_twice("t1", id_2=7, x_trace=["u", "v"], session="s1")
    request = server.last()
    assert request.path == "/things/t1" and request.query == [("id", "7")]
    assert request.header("X-Trace") == "u,v" and request.header("Cookie") == "session=s1"
    assert type(result).__name__ == "Created" and result.created is True
    server.route("GET", "/things/t2", Reply(200, {"id": "t2"}))
    assert req.Client(server.url).things.same_name_twice("t2", id_2=1).id == "t2"


def test_default_response_is_a_typed_error(req: ModuleType, server: RecordingServer) -> None:
    server.route("GET", "/things/t3", Reply(409, {"title": "Conflict", "status": 409}, content_type="application/problem+json"))
    with pytest.raises(req.ApiError) as info:
        req.Client(server.url).things.same_name_twice("t3", id_2=1)
    assert info.value.status_code == 409 and info.value.body.title == "Conflict"


def test_form_body_nests_the_way_stripe_expects(req: ModuleType, server: RecordingServer) -> None:
    req.Client(server.url).charges.create_charge(
        body={"amount": 100, "metadata": {"order": "42"}, "expand": ["customer", "invoice"], "card": {"number": "4242", "exp": {"month": 1}}}
    )
    request = server.last()
    assert request.header("Content-Type") == "application/x-www-form-urlencoded"
    assert unquote(request.body.decode()) == "amount=100&metadata[order]=42&expand[0]=customer&expand[1]=invoice&card[number]=4242&card[exp][month]=1"


def test_multipart_with_a_file(req: ModuleType, server: RecordingServer) -> None:
    req.Client(server.url).upload.upload_document(body=req.models.UploadDocumentRequest(file=b"%PDF-1.7", title="Statement", tags=["a"]))
    request = server.last()
    assert request.header("Content-Type", ).startswith("multipart/form-data; boundary=")
    body = request.body
    assert b'name="file"; filename="file"' in body and b"%PDF-1.7" in body
    assert b'name="title"\r\n\r\nStatement' in body and b'["a"]' in body


def test_octet_stream_upload_binary_download_and_text(req: ModuleType, server: RecordingServer) -> None:
    server.route("PUT", "/raw", Reply(200, b"%PDF-bytes", content_type="application/pdf"))
    client = req.Client(server.url)
    assert client.raw.put_raw(body=b"\x00\x01") == b"%PDF-bytes"
    assert server.last().body == b"\x00\x01" and server.last().header("Content-Type") == "application/octet-stream"
    client.raw.put_raw(body=io.BytesIO(b"stream"))
    assert server.last().body == b"stream"
    server.route("POST", "/note", Reply(200, "hello back", content_type="text/plain"))
    assert client.note.post_note(body="héllo") == "hello back"
    assert server.last().body == "héllo".encode() and server.last().header("Content-Type") == "text/plain"
