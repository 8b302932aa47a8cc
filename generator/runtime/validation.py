"""Decoding response bodies into their declared types, strictly or leniently.

A body is validated against its declared type first (the fast path, and the only one
when the server keeps to the spec). When that fails:

* strict clients raise :class:`ResponseValidationError` (raw body, pydantic's errors);
* lenient clients (the default) build the declared models anyway, keeping every value
  that validates and the value as received where one does not (a string breaking its
  ``pattern``, a number out of range, a ``const`` the server changed). Values the server
  may add between releases (enum values, properties) validate anyway. A body that is not
  JSON, or whose top level is not even the declared model's object, still raises.
"""

from __future__ import annotations

import json
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any, Union

import pydantic
from pydantic import BaseModel, TypeAdapter

_ADAPTERS: dict[Any, TypeAdapter[Any]] = {}
_FIELD_TYPES: dict[tuple[type[BaseModel], str], Any] = {}


class NotJson(ValueError):
    """The body is not JSON at all."""


def _adapter(tp: Any) -> TypeAdapter[Any]:
    adapter = _ADAPTERS.get(tp)
    if adapter is None:
        adapter = TypeAdapter(tp)
        _ADAPTERS[tp] = adapter
    return adapter


def json_decoder(tp: Any) -> Callable[[bytes], Any]:
    """What validates non-empty JSON ``content`` as ``tp`` (plain ``json.loads`` for no type);
    it raises ``pydantic.ValidationError`` when the content does not match."""
    if tp is None or tp is Any:
        return json.loads
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return tp.model_validate_json
    return _adapter(tp).validate_json


def parse_json(tp: Any, content: bytes) -> Any:
    """``content`` validated as ``tp``; raises ``pydantic.ValidationError`` when it does not match."""
    if not content and (tp is None or tp is Any):
        return None
    return json_decoder(tp)(content)


def parse_leniently(tp: Any, content: bytes) -> Any:
    """``content`` as ``tp`` where it matches and as received where it does not.

    Raises :class:`NotJson`, or ``TypeError`` when the top level is not the declared model.
    """
    try:
        data = json.loads(content)
    except ValueError as exc:
        raise NotJson(str(exc)) from None
    value = construct(tp, data)
    if isinstance(tp, type) and issubclass(tp, BaseModel) and not isinstance(value, tp):
        raise TypeError(f"expected an object for {tp.__name__}, got {type(data).__name__}")
    return value


def construct(tp: Any, value: Any) -> Any:
    """``value`` validated as ``tp`` if it can be, else built member by member."""
    try:
        return _adapter(tp).validate_python(value)
    except (pydantic.ValidationError, pydantic.PydanticUserError, TypeError, NameError):
        pass
    try:
        return _build(tp, value)
    except (pydantic.PydanticUserError, TypeError, NameError, AttributeError):
        return value


def _build(tp: Any, value: Any) -> Any:
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return construct(typing.get_args(tp)[0], value)  # without its constraints
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return _build_model(tp, value) if isinstance(value, Mapping) else value
    if origin in (Union, types.UnionType):
        return _build_union(typing.get_args(tp), value)
    if origin is list and isinstance(value, list):
        (item,) = typing.get_args(tp) or (Any,)
        return [construct(item, v) for v in value]
    if origin is dict and isinstance(value, Mapping):
        args = typing.get_args(tp)
        item = args[1] if len(args) == 2 else Any
        return {k: construct(item, v) for k, v in value.items()}
    return value


def _field_type(model: type[BaseModel], name: str, info: Any) -> Any:
    key = (model, name)
    found = _FIELD_TYPES.get(key)
    if found is None:
        found = (
            typing.Annotated[(info.annotation, *info.metadata)]
            if info.metadata
            else info.annotation
        )
        _FIELD_TYPES[key] = found
    return found


def _input_name(name: str, info: Any) -> str:
    alias = info.validation_alias if isinstance(info.validation_alias, str) else info.alias
    return alias if isinstance(alias, str) else name


def _build_model(model: type[BaseModel], value: Mapping[str, Any]) -> BaseModel:
    remaining = dict(value)
    fields: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        key = _input_name(name, info)
        if key in remaining:
            fields[name] = construct(_field_type(model, name, info), remaining.pop(key))
        elif name in remaining:
            fields[name] = construct(_field_type(model, name, info), remaining.pop(name))
    instance = model.model_construct(_fields_set=set(fields), **fields)
    if model.model_config.get("extra") == "allow":
        object.__setattr__(instance, "__pydantic_extra__", remaining)
    return instance


def _model_of(member: Any) -> type[BaseModel] | None:
    while typing.get_origin(member) is typing.Annotated:
        member = typing.get_args(member)[0]
    return member if isinstance(member, type) and issubclass(member, BaseModel) else None


def _build_union(members: tuple[Any, ...], value: Any) -> Any:
    for member in members:
        try:
            return _adapter(member).validate_python(value)
        except (pydantic.ValidationError, pydantic.PydanticUserError, TypeError, NameError):
            continue
    if isinstance(value, Mapping):
        models = [m for m in (_model_of(member) for member in members) if m is not None]
        for model in models:  # the first model whose required properties are all there
            required = [_input_name(n, i) for n, i in model.model_fields.items() if i.is_required()]
            if all(key in value for key in required):
                return _build_model(model, value)
        if models:
            return _build_model(models[0], value)
    return value
