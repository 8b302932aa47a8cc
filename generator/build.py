"""IR stage: the validated document tree becomes an ``ir.Api``."""

from __future__ import annotations

from typing import Any

from .errors import Diagnostic, SpecError, bounded
from .ir import (
    AnyType,
    Api,
    ArrayType,
    ModelRef,
    NullableType,
    OAuthFlow,
    ObjectModel,
    Operation,
    Pagination,
    Parameter,
    PrimitiveType,
    Property,
    RequestBody,
    Response,
    ResponseHeader,
    SecurityScheme,
    Server,
    TypeExpr,
)
from .load import NodeKey, SpecSource, join_pointer
from .schemas import SchemaConverter, spec_text
from .security import effective_security
from .validate import TEMPLATE_VARIABLE, iter_operations

_DEFAULT_STYLE = {"path": "simple", "header": "simple", "query": "form", "cookie": "form"}


def is_json_media(media: str) -> bool:
    base = media.split(";", 1)[0].strip().lower()
    return base in ("application/json", "text/json") or base.endswith("+json")


def _media_rank(media: str) -> int:
    base = media.split(";", 1)[0].strip().lower()
    if base == "application/json":
        return 0
    if is_json_media(base):
        return 1
    if base == "application/x-www-form-urlencoded":
        return 2
    if base.startswith("multipart/"):
        return 3
    if base.startswith("text/"):
        return 5
    return 4


def body_kind(media: str) -> str:
    base = media.split(";", 1)[0].strip().lower()
    if is_json_media(base):
        return "json"
    if base == "application/x-www-form-urlencoded":
        return "form"
    if base.startswith("multipart/"):
        return "multipart"
    if base.startswith("text/") or base in ("application/xml", "application/javascript"):
        return "text"
    return "binary"


class ApiBuilder:
    def __init__(self, source: SpecSource, *, allow_skip: bool = False, strict: bool = False) -> None:
        self.source = source
        self.allow_skip = allow_skip
        self.tree: dict[str, Any] = source.root.tree
        self.schemas = SchemaConverter(source, strict=strict)
        self.warnings: list[Diagnostic] = []
        self.security_schemes = self._security_schemes()
        self._by_name = {s.name: s for s in self.security_schemes}

    def key(self, pointer: str) -> NodeKey:
        return NodeKey(self.source.root_path, pointer)

    def build(self) -> Api:
        raw_info = self.tree.get("info")
        info: dict[str, Any] = raw_info if isinstance(raw_info, dict) else {}
        operations = []
        for path, method, op, op_key, item, item_key in iter_operations(self.source):
            try:
                operations.append(self._operation(path, method, op, op_key, item, item_key))
            except (SpecError, RecursionError) as exc:
                self._cannot_generate(method, path, op, op_key, exc)
        components = self.tree.get("components")
        if isinstance(components, dict) and isinstance(components.get("schemas"), dict):
            for name in components["schemas"]:
                self.schemas.named_model(self.key(join_pointer("/components/schemas", name)), str(name))
        servers = []
        for raw in self.tree.get("servers") or []:
            if isinstance(raw, dict) and isinstance(raw.get("url"), str):
                servers.append(Server(_expand_server(raw), spec_text(raw.get("description"))))
        tags = tuple(str(t["name"]) for t in self.tree.get("tags") or [] if isinstance(t, dict) and "name" in t)
        self.warnings.extend(self.schemas.warnings)
        return Api(
            title=str(info.get("title") or "API"),
            version=str(info.get("version") or "0"),
            description=spec_text(info.get("description")),
            openapi_version=str(self.tree.get("openapi")),
            servers=tuple(servers),
            operations=tuple(operations),
            models=tuple(self.schemas.models.values()),
            security_schemes=self.security_schemes,
            tags=tags,
        )

    def _cannot_generate(self, method: str, path: str, op: dict[str, Any], op_key: NodeKey, exc: Exception) -> None:
        """No operation is lost silently: an error naming it, or with allow_skip a warning naming it."""
        reason = "; ".join(d.message + (f" ({d.location})" if d.location else "") for d in exc.diagnostics) if isinstance(exc, SpecError) else "schemas nest too deeply"
        name = bounded(str(op["operationId"]), 80) if op.get("operationId") else f"{method.upper()} {bounded(path, 80)}"
        diagnostic = Diagnostic(
            f"operation {name} ({method.upper()} {bounded(path, 80)}) cannot be generated: {reason}",
            self.source.location(op_key),
            "warning" if self.allow_skip else "error",
        )
        if not self.allow_skip:
            raise SpecError(diagnostic)
        self.warnings.append(diagnostic)

    # ------------------------------------------------------------ security

    def _security_schemes(self) -> tuple[SecurityScheme, ...]:
        components = self.tree.get("components")
        raw = components.get("securitySchemes") if isinstance(components, dict) else None
        if not isinstance(raw, dict):
            return ()
        schemes = []
        for name, node in raw.items():
            node, _ = self.source.resolve(node, self.key(join_pointer("/components/securitySchemes", name)))
            if not isinstance(node, dict):
                continue
            flows = []
            for kind, flow in (node.get("flows") or {}).items():
                if isinstance(flow, dict):
                    scopes = flow.get("scopes")
                    flows.append(
                        OAuthFlow(
                            kind=str(kind),
                            token_url=_str(flow.get("tokenUrl")),
                            refresh_url=_str(flow.get("refreshUrl")),
                            authorization_url=_str(flow.get("authorizationUrl")),
                            scopes=tuple(str(s) for s in scopes) if isinstance(scopes, dict) else (),
                        )
                    )
            location = node.get("in")
            schemes.append(
                SecurityScheme(
                    name=str(name),
                    type=node["type"] if node.get("type") in ("apiKey", "http", "oauth2", "openIdConnect") else "mutualTLS",
                    http_scheme=_str(node.get("scheme")),
                    api_key_name=_str(node.get("name")),
                    api_key_location=location if location in ("header", "query", "cookie") else None,
                    openid_connect_url=_str(node.get("openIdConnectUrl")),
                    flows=tuple(flows),
                    description=spec_text(node.get("description")),
                )
            )
        return tuple(schemes)

    # ------------------------------------------------------------ operations

    def _operation(self, path: str, method: str, op: dict[str, Any], op_key: NodeKey, item: dict[str, Any], item_key: NodeKey) -> Operation:
        op_id = op.get("operationId") if isinstance(op.get("operationId"), str) else None
        hint = op_id or f"{method}_{path}"
        params = self._parameters(path, op, op_key, item, item_key, hint)
        body = self._request_body(op, op_key, hint)
        responses = self._responses(op, op_key, hint)
        security = effective_security(op.get("security") if "security" in op else None, self.tree.get("security"), self._by_name)
        tags = tuple(str(t) for t in op.get("tags") or [] if isinstance(t, (str, int)))
        return Operation(
            operation_id=op_id,
            method=method,
            path=path,
            tags=tags,
            summary=spec_text(op.get("summary")),
            description=spec_text(op.get("description")),
            deprecated=op.get("deprecated") is True,
            parameters=params,
            request_body=body,
            responses=responses,
            security=security,
            pointer=f"{op_key.pointer}",
            pagination=self._pagination(responses, params, op_key),
        )

    def _parameters(self, path: str, op: dict[str, Any], op_key: NodeKey, item: dict[str, Any], item_key: NodeKey, hint: str) -> tuple[Parameter, ...]:
        by_identity: dict[tuple[str, str], Parameter] = {}
        for owner, owner_key in ((item, item_key), (op, op_key)):
            raw_list = owner.get("parameters")
            if not isinstance(raw_list, list):
                continue
            for index, raw in enumerate(raw_list):
                raw_key = NodeKey(owner_key.path, join_pointer(owner_key.pointer, "parameters", index))
                node, key = self.source.resolve(raw, raw_key)
                if not isinstance(node, dict) or not isinstance(node.get("name"), str):
                    continue
                location = node.get("in")
                if location not in ("path", "query", "header", "cookie"):
                    continue
                name = node["name"]
                if location == "header" and name.lower() in ("accept", "content-type", "authorization"):
                    continue  # OpenAPI says these are ignored; the client manages them
                style: str = node["style"] if isinstance(node.get("style"), str) else _DEFAULT_STYLE[location]
                explode: bool = node["explode"] if isinstance(node.get("explode"), bool) else style == "form"
                content_type = None
                schema_node: Any = node.get("schema")
                schema_key = NodeKey(key.path, join_pointer(key.pointer, "schema"))
                if schema_node is None and isinstance(node.get("content"), dict) and node["content"]:
                    content_type, media = next(iter(node["content"].items()))
                    schema_node = media.get("schema") if isinstance(media, dict) else None
                    schema_key = NodeKey(key.path, join_pointer(key.pointer, "content", content_type, "schema"))
                ptype = self.schemas.type_of(schema_node, schema_key, f"{hint}_{name}") if schema_node is not None else PrimitiveType("string")
                by_identity[(location, name)] = Parameter(
                    name=name,
                    location=location,
                    type=ptype,
                    required=location == "path" or node.get("required") is True,
                    style=style,
                    explode=explode,
                    description=spec_text(node.get("description")),
                    deprecated=node.get("deprecated") is True,
                    content_type=content_type,
                )
        path_order = TEMPLATE_VARIABLE.findall(path)
        declared_path = {name for (loc, name) in by_identity if loc == "path"}
        for var in path_order:
            if var not in declared_path:
                by_identity[("path", var)] = Parameter(var, "path", PrimitiveType("string"), True, "simple", False)
        path_params = sorted((p for p in by_identity.values() if p.location == "path"), key=lambda p: path_order.index(p.name) if p.name in path_order else 0)
        others = [p for p in by_identity.values() if p.location != "path"]
        return tuple(path_params + others)

    def _request_body(self, op: dict[str, Any], op_key: NodeKey, hint: str) -> RequestBody | None:
        raw = op.get("requestBody")
        if raw is None:
            return None
        node, key = self.source.resolve(raw, NodeKey(op_key.path, join_pointer(op_key.pointer, "requestBody")))
        if not isinstance(node, dict) or not isinstance(node.get("content"), dict) or not node["content"]:
            return None
        media = min(node["content"], key=lambda m: (_media_rank(m), list(node["content"]).index(m)))
        media_node = node["content"][media] if isinstance(node["content"][media], dict) else {}
        schema = media_node.get("schema")
        kind = body_kind(media)
        if schema is None:
            btype: TypeExpr = PrimitiveType("string", "binary") if kind == "binary" else PrimitiveType("string")
        else:
            btype = self.schemas.type_of(schema, NodeKey(key.path, join_pointer(key.pointer, "content", media, "schema")), hint + "_request")
        return RequestBody(media, kind, btype, node.get("required") is True, spec_text(node.get("description")))  # type: ignore[arg-type]

    def _responses(self, op: dict[str, Any], op_key: NodeKey, hint: str) -> tuple[Response, ...]:
        raw = op.get("responses")
        if not isinstance(raw, dict):
            return ()
        responses = []
        for status, raw_response in raw.items():
            status = str(status)
            node, key = self.source.resolve(raw_response, NodeKey(op_key.path, join_pointer(op_key.pointer, "responses", status)))
            if not isinstance(node, dict):
                continue
            headers = []
            for header_name, header in (node.get("headers") or {}).items():
                header_node, header_key = self.source.resolve(header, NodeKey(key.path, join_pointer(key.pointer, "headers", header_name)))
                if isinstance(header_node, dict):
                    schema = header_node.get("schema")
                    htype = self.schemas.type_of(schema, NodeKey(header_key.path, join_pointer(header_key.pointer, "schema")), hint + "_" + str(header_name)) if schema else PrimitiveType("string")
                    headers.append(ResponseHeader(str(header_name), htype, spec_text(header_node.get("description"))))
            content = node.get("content")
            if not isinstance(content, dict) or not content:
                responses.append(Response(status, "empty", PrimitiveType("null"), None, spec_text(node.get("description")), tuple(headers)))
                continue
            media = min(content, key=lambda m: (_media_rank(m), list(content).index(m)))
            media_node = content[media] if isinstance(content[media], dict) else {}
            kind = body_kind(media)
            schema = media_node.get("schema")
            if kind == "json":
                schema_key = NodeKey(key.path, join_pointer(key.pointer, "content", media, "schema"))
                suffix = "_response" + ("" if status.startswith("2") else "_" + status)
                rtype = self.schemas.type_of(schema, schema_key, hint + suffix) if schema is not None else AnyType()
                rkind = "json"
            elif kind in ("text",):
                rtype, rkind = PrimitiveType("string"), "text"
            else:
                rtype, rkind = PrimitiveType("string", "binary"), "binary"
            responses.append(Response(status, rkind, rtype, media, spec_text(node.get("description")), tuple(headers)))  # type: ignore[arg-type]
        return tuple(responses)

    def _pagination(self, responses: tuple[Response, ...], parameters: tuple[Parameter, ...], op_key: NodeKey) -> Pagination | None:
        """How to walk the operation's pages: a next link, or a cursor passed back in a parameter.

        A value is followed as a link only where the spec says it is one (``format: uri`` or a
        name like ``next_url``/``_links.next.href``). A cursor (``next_page``, ``next_cursor``...)
        goes back in the query parameter it belongs to; without one the operation gets no
        ``iter_`` method, and a warning says why.
        """
        success = [r for r in responses if r.status.startswith("2") and r.kind == "json"]
        if len(success) != 1 or not isinstance(success[0].type, ModelRef):
            return None
        model = self.schemas.models.get(success[0].type.key)
        if not isinstance(model, ObjectModel):
            return None
        arrays = [p for p in model.properties if isinstance(_strip_null(p.type), ArrayType)]
        items = next((p for p in arrays if p.json_name in ("items", "data", "results")), arrays[0] if len(arrays) == 1 else None)
        if items is None:
            return None
        for prop in model.properties:
            name = _squashed(prop.json_name)
            if name not in _NEXT_NAMES or not _is_string(prop.type):
                continue
            if _is_link(prop):
                return Pagination(items.json_name, (prop.json_name,))
            cursor = _cursor_parameter(prop.json_name, parameters)
            if cursor is not None:
                return Pagination(items.json_name, (prop.json_name,), cursor)
            if name == "next":  # a bare `next` is a link in most APIs; the client still follows only URLs
                return Pagination(items.json_name, (prop.json_name,))
            self.warnings.append(
                Diagnostic(
                    f"{prop.json_name!r} of the response looks like a cursor, but no query parameter takes it back; "
                    "the operation gets no iter_ method",
                    self.source.location(op_key),
                    "warning",
                )
            )
            return None
        links = next((p for p in model.properties if p.json_name in ("_links", "links")), None)
        if links is not None and isinstance(_strip_null(links.type), ModelRef):
            links_model = self.schemas.models.get(_strip_null(links.type).key)  # type: ignore[union-attr]
            if isinstance(links_model, ObjectModel):
                nxt = next((p for p in links_model.properties if p.json_name == "next"), None)
                if nxt is not None:
                    if _is_string(nxt.type):
                        return Pagination(items.json_name, (links.json_name, "next"))
                    inner = _strip_null(nxt.type)
                    link_model = self.schemas.models.get(inner.key) if isinstance(inner, ModelRef) else None
                    if isinstance(link_model, ObjectModel) and any(p.json_name == "href" for p in link_model.properties):
                        return Pagination(items.json_name, (links.json_name, "next", "href"))
        return None


# Response properties naming the next page (lower case, without separators).
_NEXT_NAMES = frozenset({
    "next", "nextpage", "nextpageurl", "nextlink", "nexturl", "nexthref",
    "nextcursor", "nextpagecursor", "nextpagetoken", "nexttoken", "cursor", "nextpagekey", "continuationtoken",
})
_LINK_FORMATS = frozenset({"uri", "uri-reference", "url", "iri", "iri-reference"})
# Query parameters that take a cursor back, best first.
_CURSOR_PARAMETERS = ("cursor", "page", "pagetoken", "pagecursor", "nextpagetoken", "continuationtoken", "pagekey", "after", "token")


def _squashed(name: str) -> str:
    return name.lower().replace("_", "").replace("-", "")


def _is_link(prop: Property) -> bool:
    """A next-page value the spec marks as a URL, by its format or its name."""
    base = _strip_null(prop.type)
    if isinstance(base, PrimitiveType) and base.format in _LINK_FORMATS:
        return True
    return any(word in _squashed(prop.json_name) for word in ("url", "link", "href"))


def _cursor_parameter(response_name: str, parameters: tuple[Parameter, ...]) -> str | None:
    """The query parameter a cursor goes back in: one of the same name, else a conventional one."""
    query = {_squashed(p.name): p.name for p in parameters if p.location == "query" and _is_string(p.type)}
    if _squashed(response_name) in query:
        return query[_squashed(response_name)]
    return next((query[name] for name in _CURSOR_PARAMETERS if name in query), None)


def _strip_null(t: TypeExpr) -> TypeExpr:
    return t.inner if isinstance(t, NullableType) else t


def _is_string(t: TypeExpr) -> bool:
    t = _strip_null(t)
    return isinstance(t, PrimitiveType) and t.name == "string"


def _expand_server(raw: dict[str, Any]) -> str:
    url = str(raw["url"])
    variables = raw.get("variables")
    if isinstance(variables, dict):
        for name, var in variables.items():
            if isinstance(var, dict) and "default" in var:
                url = url.replace("{" + str(name) + "}", str(var["default"]))
    return url


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def build_api(source: SpecSource, *, allow_skip: bool = False, strict: bool = False) -> tuple[Api, list[Diagnostic]]:
    """The IR and the warnings; ``SpecError`` with every error (``strict`` makes kept flaws errors)."""
    builder = ApiBuilder(source, allow_skip=allow_skip, strict=strict)
    try:
        api = builder.build()
    except RecursionError:
        raise SpecError(Diagnostic("schemas nest too deeply to generate", source.location(NodeKey(source.root_path, "")))) from None
    errors = [d for d in builder.warnings if d.severity == "error"]
    if errors:
        raise SpecError(errors)
    return api, builder.warnings
