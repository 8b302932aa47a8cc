"""Benchmark (issue 8, "Cost"): generation time per operation as a spec grows from 1,000 to
10,000 operations. Flat figures mean nothing grows faster than linearly.

    .venv/bin/python bench/scale.py                      # 1,000 / 2,000 / 5,000 / 10,000 operations
    .venv/bin/python bench/scale.py --sizes 1000 10000 --repeat 3
    .venv/bin/python bench/scale.py --one-group          # all untagged under /v1/items: one module

Each spec is synthetic and shaped like a real API: ten operations per tag (list, create, get,
update, delete on two resources), each resource with its own models, query, path and header
parameters, request bodies, paginated list responses and a shared error model. Every run is
the real CLI in a fresh process with an empty black cache (``accessgen generate SPEC -o OUT``),
timed by the parent; the ratio column divides each size's cost per operation by the
smallest size's, measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from typing import Any

from _common import accessgen_command, child_env, machine, min_median, run_child, table


def resource_paths(tag: str, name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Five operations on one resource, and the models they use."""
    model = f"{tag.title()}{name.title()}"
    ref = {"$ref": f"#/components/schemas/{model}"}
    page = {"$ref": f"#/components/schemas/{model}Page"}
    error = {"description": "failure", "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}
    item_path = f"/{tag}/{name}/{{{name}Id}}"
    id_param = {"name": f"{name}Id", "in": "path", "required": True, "schema": {"type": "string"}}
    paths = {
        f"/{tag}/{name}": {
            "get": {
                "operationId": f"list_{tag}_{name}",
                "tags": [tag],
                "parameters": [
                    {"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": 100}},
                    {"name": "cursor", "in": "query", "schema": {"type": "string"}},
                    {"name": "X-Request-Id", "in": "header", "schema": {"type": "string", "format": "uuid"}},
                ],
                "responses": {"200": {"description": "a page", "content": {"application/json": {"schema": page}}}, "default": error},
            },
            "post": {
                "operationId": f"create_{tag}_{name}",
                "tags": [tag],
                "requestBody": {"required": True, "content": {"application/json": {"schema": ref}}},
                "responses": {"201": {"description": "created", "content": {"application/json": {"schema": ref}}}, "default": error},
            },
        },
        item_path: {
            "parameters": [id_param],
            "get": {
                "operationId": f"get_{tag}_{name}",
                "tags": [tag],
                "responses": {"200": {"description": "one", "content": {"application/json": {"schema": ref}}}, "default": error},
            },
            "patch": {
                "operationId": f"update_{tag}_{name}",
                "tags": [tag],
                "requestBody": {"content": {"application/merge-patch+json": {"schema": ref}}},
                "responses": {"200": {"description": "updated", "content": {"application/json": {"schema": ref}}}, "default": error},
            },
            "delete": {
                "operationId": f"delete_{tag}_{name}",
                "tags": [tag],
                "responses": {"204": {"description": "deleted"}, "default": error},
            },
        },
    }
    models = {
        model: {
            "type": "object",
            "required": ["id", "name"],
            "properties": {
                "id": {"type": "string", "readOnly": True},
                "name": {"type": "string", "maxLength": 80},
                "status": {"type": "string", "enum": ["active", "closed", "pending"]},
                "amount": {"type": "number"},
                "created": {"type": "string", "format": "date-time"},
                "tags": {"type": "array", "items": {"type": "string"}},
                "metadata": {"type": "object", "additionalProperties": {"type": "string"}},
            },
        },
        f"{model}Page": {
            "type": "object",
            "properties": {"items": {"type": "array", "items": ref}, "next_cursor": {"type": "string"}},
        },
    }
    return paths, models


def untagged(path_item: dict[str, Any]) -> dict[str, Any]:
    return {
        method: {k: v for k, v in op.items() if k != "tags"} if method != "parameters" else op
        for method, op in path_item.items()
    }


def synthetic_spec(operations: int, one_group: bool = False) -> dict[str, Any]:
    """``operations`` operations in groups of ten, or (``one_group``) untagged under one resource."""
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {
        "Problem": {"type": "object", "properties": {"title": {"type": "string"}, "status": {"type": "integer"}}}
    }
    for index in range(operations // 10):
        for name in ("widget", "gadget"):
            more_paths, models = resource_paths(f"group{index}", name)
            if one_group:  # every path under /v1/items/..., no tags: one API group of them all
                more_paths = {f"/v1/items{path}": untagged(item) for path, item in more_paths.items()}
            paths.update(more_paths)
            schemas.update(models)
    return {
        "openapi": "3.0.3",
        "info": {"title": f"Scale {operations}", "version": "1.0.0"},
        "servers": [{"url": "https://scale.example.test"}],
        "paths": paths,
        "components": {"schemas": schemas},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 2000, 5000, 10000])
    parser.add_argument("--repeat", type=int, default=2, help="runs per size, interleaved")
    parser.add_argument("--one-group", action="store_true", help="every operation untagged under one resource: one huge API module")
    args = parser.parse_args()
    print(machine())
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        specs = {}
        for size in args.sizes:
            specs[size] = root / f"scale-{size}.json"
            specs[size].write_text(json.dumps(synthetic_spec(size, args.one_group)))
        pycache = root / "pycache"
        command = accessgen_command()
        # A warm-up, so every run reads compiled bytecode as an installed accessgen does.
        run_child([*command, "generate", str(specs[args.sizes[0]]), "-o", str(root / "warm"), "-q"], env=child_env(pycache, ACCESSGEN_CACHE_DIR=""))
        walls: dict[int, list[float]] = {size: [] for size in args.sizes}
        peaks: dict[int, int] = {size: 0 for size in args.sizes}
        for round_ in range(args.repeat):
            for size in args.sizes:
                out = root / f"out-{size}-{round_}"
                run = run_child(
                    [*command, "generate", str(specs[size]), "-o", str(out), "-q"],
                    env=child_env(pycache, ACCESSGEN_CACHE_DIR=""),
                )
                walls[size].append(run.wall)
                peaks[size] = max(peaks[size], run.tree_peak)
        base = min(walls[args.sizes[0]]) / args.sizes[0]
        rows = []
        for size in args.sizes:
            low, median = min_median(walls[size])
            rows.append(
                (
                    f"{size:,}",
                    f"{low:.2f}",
                    f"{median:.2f}",
                    f"{1000 * low / size:.2f}",
                    f"{(low / size) / base:.2f}x",
                    f"{peaks[size] / 2**20:.0f}",
                )
            )
        print(table(["operations", "min s", "median s", "ms per operation (min)", "vs smallest", "tree peak MiB"], rows))


if __name__ == "__main__":
    main()
