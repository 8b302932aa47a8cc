"""Hostile input to the load stage: every case a clear, located error (exit 3) at once, never a
hang, a read that grows, a file outside the ref root, or a message quoting a whole value."""

from __future__ import annotations

import codecs
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from generator.errors import SpecError, excerpt
from generator.load import _iter_refs, default_ref_root, load_spec
from tests.test_bad_input import MINIMAL

# A bound on runs that used to hang or grow without end; reaching it fails the test.
BOUND = 60


def run(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "generator", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=BOUND,
        env=env or dict(os.environ),
    )


def assert_one_clear_error(
    result: subprocess.CompletedProcess[str], *expected: str, status: int = 3
) -> list[str]:
    assert result.returncode == status, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines and all(line.startswith("accessgen:") for line in lines), result.stderr
    for text in expected:
        assert text in result.stderr, result.stderr
    return lines


def spec_with_ref(ref: str) -> str:
    return MINIMAL.replace("          description: ok", f"          $ref: {json.dumps(ref)}")


# ---------------------------------------------------------------- YAML aliases


BILLION_LAUGHS = (
    "openapi: 3.0.3\ninfo: {title: T, version: '1'}\npaths: {}\nx-0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
    + "".join(f"x-{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]\n" for i in range(1, 10))
)


def test_billion_laughs_is_refused_at_once(tmp_path: Path) -> None:
    (tmp_path / "laughs.yaml").write_text(BILLION_LAUGHS)
    for command in ("validate", "generate"):
        result = run(
            command, "laughs.yaml", *(["-o", "out"] if command == "generate" else []), cwd=tmp_path
        )
        assert_one_clear_error(
            result,
            "laughs.yaml:1",
            "YAML aliases expand this document to 12,345,679,016 nodes from 25 written",
            "alias bomb",
        )
    assert not (tmp_path / "out").exists()


def test_aliases_real_specs_use_are_kept(tmp_path: Path) -> None:
    spec = tmp_path / "anchors.yaml"
    spec.write_text(
        MINIMAL.replace(
            "          description: ok",
            "          description: ok\n          headers: &headers\n            X-Rate: {schema: {type: integer}}",
        )
        + "  /others:\n    get:\n      operationId: listOthers\n      responses:\n        '200': {description: ok, headers: *headers}\n"
    )
    source = load_spec(spec)
    paths = source.root.tree["paths"]
    assert (
        paths["/others"]["get"]["responses"]["200"]["headers"]
        is paths["/things"]["get"]["responses"]["200"]["headers"]
    )


def test_an_alias_inside_itself_is_refused(tmp_path: Path) -> None:
    (tmp_path / "loop.yaml").write_text(MINIMAL + "x-loop: &loop\n  again: *loop\n")
    result = run("validate", "loop.yaml", cwd=tmp_path)
    assert_one_clear_error(
        result, "loop.yaml:11 at #/x-loop/again", "refers to a node that contains it"
    )


def test_every_ref_walk_visits_a_shared_node_once() -> None:
    node: object = {"$ref": "#/components/schemas/A"}
    for _ in range(64):  # 2**64 paths through the same objects: a tree walk would never end
        node = [node, {"twice": node}]
    assert [ref for ref, _ in _iter_refs(node, "")] == ["#/components/schemas/A"]


# ---------------------------------------------------------------- files that are not regular files


def _fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


def _socket(path: Path) -> Path:
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    server.close()  # the socket file stays
    return path


SPECIAL_TARGETS = {
    "dev-zero": ("/dev/zero", "is a character device"),
    "dev-urandom": ("/dev/urandom", "is a character device"),
}


@pytest.mark.parametrize("name", ["fifo", "socket", "directory", "dev-zero", "dev-urandom"])
def test_a_ref_to_a_special_file_is_one_error_at_once(name: str, tmp_path: Path) -> None:
    target = tmp_path / "target"
    if name == "fifo":
        _fifo(target)
    elif name == "socket":
        _socket(target)
    elif name == "directory":
        target.mkdir()
    else:
        target.symlink_to(SPECIAL_TARGETS[name][0])
    kind = {"fifo": "is a FIFO", "socket": "is a socket", "directory": "is a directory"}.get(
        name
    ) or SPECIAL_TARGETS[name][1]
    (tmp_path / "spec.yaml").write_text(spec_with_ref("target"))
    # A symlink to /dev leaves the ref root; with the root widened the file itself is refused.
    result = run("generate", "spec.yaml", "-o", "out", "--ref-root", "/", cwd=tmp_path)
    assert_one_clear_error(
        result,
        "spec.yaml:8 at #/paths/~1things/get/responses/200",
        kind,
        "accessgen reads only regular files",
    )
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("name", ["fifo", "socket", "directory", "dev-zero"])
def test_a_special_file_given_as_the_spec_is_one_error_at_once(name: str, tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    if name == "fifo":
        _fifo(spec)
    elif name == "socket":
        _socket(spec)
    elif name == "directory":
        spec.mkdir()
    else:
        spec.symlink_to("/dev/zero")
    result = run("validate", "spec.yaml", cwd=tmp_path)
    assert_one_clear_error(result, "spec.yaml at #", "not a regular file")


def test_files_over_the_size_limit_are_refused(tmp_path: Path) -> None:
    padding = "# " + "x" * 2000 + "\n"
    (tmp_path / "spec.yaml").write_text(
        MINIMAL.replace("          description: ok", "          $ref: 'big.yaml'")
    )
    (tmp_path / "big.yaml").write_text(padding + "description: ok\n")
    assert run("validate", "spec.yaml", cwd=tmp_path).returncode == 0, "64 MiB by default"
    small = run("validate", "spec.yaml", "--max-file-size", "1KiB", cwd=tmp_path)
    assert_one_clear_error(
        small,
        "spec.yaml:8",
        "$ref to big.yaml# cannot be resolved: is 2,019 bytes, more than the limit of 1,024",
    )
    (tmp_path / "pyproject.toml").write_text('[tool.accessgen]\nmax-file-size = "1KiB"\n')
    from_settings = run("generate", "spec.yaml", "-o", "out", cwd=tmp_path)
    assert_one_clear_error(from_settings, "more than the limit of 1,024")
    assert (
        run("validate", "spec.yaml", "--max-file-size", "1x", cwd=tmp_path).returncode == 2
    ), "a bad size is a usage error"


# ---------------------------------------------------------------- the ref root

OUTSIDE = [
    "/etc/passwd",
    "//etc/passwd",
    "../../../../../../../../etc/passwd",
    "file:///etc/passwd",
    "link-out.yaml",
]


@pytest.mark.parametrize("ref", OUTSIDE)
def test_a_ref_leaving_the_root_is_an_error_that_shows_no_content(ref: str, tmp_path: Path) -> None:
    secret = tmp_path / "secret.yaml"
    secret.write_text("description: TOP-SECRET-CONTENT\n")
    project = tmp_path / "project"
    project.mkdir()
    (project / "link-out.yaml").symlink_to(secret)
    (project / "spec.yaml").write_text(spec_with_ref(ref))
    result = run("generate", "spec.yaml", "-o", "out", cwd=project)
    lines = assert_one_clear_error(
        result, "spec.yaml:8 at #/paths/~1things/get/responses/200", f"$ref {ref!r}"
    )
    assert len(lines) == 1
    assert "root:" not in result.stderr and "TOP-SECRET" not in result.stderr
    assert not (project / "out").exists()


def test_the_ref_root_is_the_enclosing_repository_or_the_given_folder(tmp_path: Path) -> None:
    (tmp_path / "common").mkdir()
    (tmp_path / "common" / "ok.yaml").write_text("description: shared ok\n")
    api = tmp_path / "api"
    api.mkdir()
    (api / "spec.yaml").write_text(spec_with_ref("../common/ok.yaml"))
    assert default_ref_root([api / "spec.yaml"]) == api
    refused = run("validate", "spec.yaml", cwd=api)
    assert_one_clear_error(refused, "leads outside the folder $refs may read", "--ref-root")
    assert run("validate", "spec.yaml", "--ref-root", "..", cwd=api).returncode == 0
    (api / "pyproject.toml").write_text('[tool.accessgen]\nref-root = ".."\n')
    assert (
        run("generate", "spec.yaml", "-o", "out", "-q", cwd=api).returncode == 0
    ), "the ref-root setting"
    (api / "pyproject.toml").unlink()
    (tmp_path / ".git").mkdir()
    assert default_ref_root([api / "spec.yaml"]) == tmp_path
    assert (
        run("validate", "spec.yaml", cwd=api).returncode == 0
    ), "inside a repository, ../common is fine"
    several = default_ref_root([api / "spec.yaml", tmp_path / "common" / "ok.yaml"])
    assert several == tmp_path


def test_a_file_outside_the_root_is_never_read(tmp_path: Path) -> None:
    # It used to have its description and default copied into the generated models.
    (tmp_path / "outside.yaml").write_text(
        "type: object\ndescription: FROM-OUTSIDE\nproperties: {a: {type: string, default: LEAKED}}\n"
    )
    root = tmp_path / "project"
    root.mkdir()
    (root / "spec.yaml").write_text(
        MINIMAL.replace(
            "          description: ok",
            "          description: ok\n          content:\n            application/json:\n              schema: {$ref: '../outside.yaml'}",
        )
    )
    with pytest.raises(SpecError) as info:
        load_spec(root / "spec.yaml")
    assert "'../outside.yaml' leads outside" in str(info.value)
    skipped = run("generate", "spec.yaml", "-o", "out", "--allow-skip", cwd=root)
    assert skipped.returncode == 0, skipped.stderr
    assert "listThings" in skipped.stderr and "leads outside" in skipped.stderr
    generated = "".join(p.read_text() for p in (root / "out").rglob("*.py"))
    assert "FROM-OUTSIDE" not in generated and "LEAKED" not in generated


# ---------------------------------------------------------------- text that is not UTF-8, or not text


def test_encodings_and_binary_data_get_located_errors(tmp_path: Path) -> None:
    (tmp_path / "bad-utf8.yaml").write_bytes(
        MINIMAL.encode().replace(b"title: T", b"title: \xff\xfe")
    )
    (tmp_path / "utf16-no-bom.yaml").write_bytes(MINIMAL.encode("utf-16-le"))
    (tmp_path / "garbage.yaml").write_bytes(bytes(range(256)) * 8)
    (tmp_path / "nul.yaml").write_bytes(MINIMAL.encode() + b"x-a: \x01\n")
    cases = {
        "bad-utf8.yaml": "bad-utf8.yaml:2 at #: error: not UTF-8 text: byte 0xff at line 2, column 15",
        "utf16-no-bom.yaml": "utf16-no-bom.yaml:1 at #: error: looks like UTF-16 (little-endian) without a byte-order mark",
        "garbage.yaml": "garbage.yaml:2 at #: error: not UTF-8 text: byte 0x80",
        "nul.yaml": "nul.yaml:10 at #: error: not a text file: character U+0001 is not allowed in YAML",
        "missing.yaml": "missing.yaml at #: error: file not found",
    }
    for name, expected in cases.items():
        assert_one_clear_error(run("validate", name, cwd=tmp_path), expected)
        assert_one_clear_error(run("generate", name, "-o", "out", cwd=tmp_path), expected)
        assert_one_clear_error(run("diff", name, name, cwd=tmp_path), expected)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-32"])
def test_utf16_and_utf32_with_a_byte_order_mark_are_read(encoding: str, tmp_path: Path) -> None:
    bom = {"utf-16-be": codecs.BOM_UTF16_BE}.get(encoding, b"")
    (tmp_path / "spec.yaml").write_bytes(
        bom + MINIMAL.replace("title: T", "title: Tĥïś").encode(encoding)
    )
    result = run(
        "generate", "spec.yaml", "-o", "out", "--package-name", "things", "-q", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert '"Client for Tĥïś"' in (tmp_path / "out" / "pyproject.toml").read_text(encoding="utf-8")


@pytest.mark.parametrize("suffix", ["json", "yaml"])
def test_an_integer_of_5000_digits_is_a_located_error(suffix: str, tmp_path: Path) -> None:
    big = "9" * 5000
    if suffix == "json":
        text = (
            '{"openapi": "3.0.3",\n "info": {"title": "T", "version": "1"},\n "paths": {},\n "x-big": '
            + big
            + "}\n"
        )
        line = 4
    else:
        text = MINIMAL + f"x-big: {big}\n"
        line = 10
    (tmp_path / f"spec.{suffix}").write_text(text)
    result = run("generate", f"spec.{suffix}", "-o", "out", cwd=tmp_path)
    assert_one_clear_error(result, f"spec.{suffix}:{line} at #: error: an integer of 5,000 digits")
    assert big not in result.stderr


def test_a_lone_surrogate_in_spec_text_generates_an_importable_package(tmp_path: Path) -> None:
    spec = {
        "openapi": "3.0.3",
        "info": {"title": "T \ud800", "version": "1", "description": "text \udc00 here"},
        "paths": {
            "/x": {
                "get": {
                    "operationId": "getX",
                    "summary": "a \ud83d b",
                    "description": "\udfff",
                    "tags": ["t\ud800"],
                    "responses": {
                        "200": {
                            "description": "ok",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Thing"}
                                }
                            },
                        }
                    },
                }
            }
        },
        "components": {
            "schemas": {
                "Thing": {
                    "type": "object",
                    "description": "a \ud800 thing",
                    "properties": {
                        "na\udc00me": {
                            "type": "string",
                            "description": "\ud800",
                            "default": "d\ud800",
                            "example": "e\udfff",
                        },
                        "kind": {"type": "string", "enum": ["a\ud800", "b"]},
                    },
                }
            }
        },
    }
    # json.dumps escapes lone surrogates as \\udXXX, as a hostile JSON file would carry them.
    (tmp_path / "spec.json").write_text(json.dumps(spec), encoding="ascii")
    result = run(
        "generate", "spec.json", "-o", "out", "--package-name", "surrogates", "-q", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    check = subprocess.run(
        [
            sys.executable,
            "-c",
            "import tomllib, surrogates, surrogates.models as m; tomllib.load(open('pyproject.toml', 'rb')); print(m.Thing.__doc__)",
        ],
        cwd=tmp_path / "out",
        capture_output=True,
        text=True,
        timeout=BOUND,
    )
    assert check.returncode == 0, check.stderr
    assert "a \\ud800 thing" in check.stdout


# ---------------------------------------------------------------- messages quote short, escaped excerpts


def test_messages_never_quote_a_whole_value(tmp_path: Path) -> None:
    long_value = "A" * 100_000
    spec = MINIMAL.replace("paths:\n", f"x-y: 1\npaths: '{long_value}'\nx-paths:\n")
    (tmp_path / "spec.yaml").write_text(spec)
    result = run("validate", "spec.yaml", cwd=tmp_path)
    assert result.returncode == 3
    assert "Traceback" not in result.stderr
    assert max(len(line) for line in result.stderr.splitlines()) < 1000, "a long value is cut"
    assert long_value[:1000] not in result.stderr

    forged = MINIMAL.replace("openapi: 3.0.3", 'openapi: "9.9\\n\\u001b[2Kaccessgen: all good"')
    (tmp_path / "forged.yaml").write_text(forged)
    forged_result = run("validate", "forged.yaml", cwd=tmp_path)
    lines = assert_one_clear_error(
        forged_result, "unsupported OpenAPI version '9.9\\n\\x1b[2Kaccessgen: all good'"
    )
    assert len(lines) == 1 and "\x1b" not in forged_result.stderr


def test_excerpt_is_short_and_escaped() -> None:
    assert excerpt("a\nb\x1b\u202e") == "'a\\nb\\x1b\\u202e'"
    assert len(excerpt("x" * 10_000)) < 80
    assert len(excerpt({"k": ["v" * 1000] * 100})) < 200
    assert excerpt(int("9" * 4000) * 10**1000) in (
        "<an integer of about 5,000 digits>",
        "<an integer of about 5,001 digits>",
    )


# ---------------------------------------------------------------- output paths


def test_an_output_path_that_is_a_file_or_under_one_is_an_output_error(tmp_path: Path) -> None:
    (tmp_path / "spec.yaml").write_text(MINIMAL)
    (tmp_path / "afile").write_text("keep me\n")
    result = run("generate", "spec.yaml", "-o", "afile", cwd=tmp_path)
    assert_one_clear_error(
        result, f"output path {tmp_path / 'afile'} exists and is not a directory", status=4
    )
    nested = run("generate", "spec.yaml", "-o", "afile/out", cwd=tmp_path)
    assert_one_clear_error(
        nested,
        f"cannot create output {tmp_path / 'afile' / 'out'}: {tmp_path / 'afile'} is a file",
        status=4,
    )
    assert (tmp_path / "afile").read_text() == "keep me\n"
