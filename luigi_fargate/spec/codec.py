"""Dataclasses <-> JSON values, driven by the type hints: one definition for reading, writing and the JSON Schema.

Supported field types: str, int, float, bool, string enums, ``X | None``,
``list[X]``, ``dict[str, X]``, nested dataclasses, and unions of dataclasses
told apart by a tag field, ``kind`` (the runner variants). Converters are compiled
once per class, so reading a 10,000-task spec costs one call per present key.

Writing leaves out every field still at its default (unless its metadata
says ``always``), so specs stay short and a diff shows what an export really set. Reading checks every value's type
and names the path of the first wrong one (``tasks[3].settings.retries``).

Standard library only (read while Airflow parses DAG files).
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable
from enum import Enum
from functools import cache
from typing import Any

Decoder = Callable[[Any, str], Any]
#: The field that tells the members of a union apart (the runner's ``kind``).
TAG = "kind"


class CodecError(ValueError):
    """A value of the wrong type or shape, with the path where it was found."""


def _fail(path: str, expected: str, value: Any) -> CodecError:
    shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
    return CodecError(f"{path}: expected {expected}, got {shown}")


def _is_dataclass_type(tp: Any) -> bool:
    return isinstance(tp, type) and dataclasses.is_dataclass(tp)


def kind_of(cls: type) -> str | None:
    """The fixed tag of a union member: the default of its field marked ``metadata={"tag": True}``."""
    for f in dataclasses.fields(cls):
        if f.metadata.get("tag"):
            return str(f.default)
    return None


def _scalar(tp: type, name: str) -> Decoder:
    def decode(value: Any, path: str) -> Any:
        # bool is an int in Python; a spec's counts must not be True/False.
        if isinstance(value, bool) and tp is not bool:
            raise _fail(path, name, value)
        if tp is float and isinstance(value, int):
            return float(value)
        if not isinstance(value, tp):
            raise _fail(path, name, value)
        return value

    return decode


def _enum(tp: type[Enum]) -> Decoder:
    values = {m.value: m for m in tp}

    def decode(value: Any, path: str) -> Any:
        try:
            return values[value]
        except (KeyError, TypeError):
            raise _fail(path, "one of " + ", ".join(map(repr, values)), value) from None

    return decode


def _optional(inner: Decoder) -> Decoder:
    return lambda value, path: None if value is None else inner(value, path)


def _list(inner: Decoder) -> Decoder:
    def decode(value: Any, path: str) -> list[Any]:
        if not isinstance(value, list):
            raise _fail(path, "a list", value)
        return [inner(v, f"{path}[{i}]") for i, v in enumerate(value)]

    return decode


def _dict(inner: Decoder) -> Decoder:
    def decode(value: Any, path: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise _fail(path, "an object", value)
        return {str(k): inner(v, f"{path}.{k}") for k, v in value.items()}

    return decode


def _tagged_union(members: tuple[type, ...]) -> Decoder:
    by_kind = {kind_of(m): m for m in members}

    def decode(value: Any, path: str) -> Any:
        if not isinstance(value, dict):
            raise _fail(path, "an object", value)
        member = by_kind.get(value.get(TAG))
        if member is None:
            raise _fail(f"{path}.{TAG}", "one of " + ", ".join(map(repr, by_kind)), value.get(TAG))
        return decoder_for(member)(value, path)

    return decode


def _decoder(tp: Any) -> Decoder:
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        members = tuple(a for a in args if a is not type(None))
        if len(members) == 1:
            inner = _decoder(members[0])
            return _optional(inner) if type(None) in args else inner
        if all(_is_dataclass_type(m) for m in members):
            union = _tagged_union(members)
            return _optional(union) if type(None) in args else union
        raise TypeError(f"unsupported union {tp!r}")
    if origin is list:
        return _list(_decoder(args[0]))
    if origin is dict:
        return _dict(_decoder(args[1]))
    if isinstance(tp, type) and issubclass(tp, Enum):
        return _enum(tp)
    if _is_dataclass_type(tp):
        return lambda value, path: decoder_for(tp)(value, path)
    if tp in (str, int, float, bool):
        return _scalar(tp, {str: "a string", int: "a whole number", float: "a number", bool: "true or false"}[tp])
    if tp is Any:
        return lambda value, path: value
    raise TypeError(f"unsupported field type {tp!r}")


@cache
def field_types(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


@cache
def decoder_for(cls: type) -> Decoder:
    """A function (JSON object, path) -> instance of the dataclass ``cls``."""
    hints = field_types(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    decoders = {name: _decoder(hints[name]) for name in fields}
    required = {n for n, f in fields.items() if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING}

    def decode(value: Any, path: str) -> Any:
        if not isinstance(value, dict):
            raise _fail(path, "an object", value)
        unknown = value.keys() - decoders.keys()
        if unknown:
            raise CodecError(f"{path}: unknown field {sorted(unknown)[0]!r}")
        missing = required - value.keys()
        if missing:
            raise CodecError(f"{path}: missing field {sorted(missing)[0]!r}")
        return cls(**{k: decoders[k](v, f"{path}.{k}" if path else k) for k, v in value.items()})

    return decode


def _default_of(f: dataclasses.Field[Any]) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return dataclasses.MISSING


def _is_float(tp: Any) -> bool:
    return tp is float or (typing.get_origin(tp) in (typing.Union, types.UnionType) and float in typing.get_args(tp))


@cache
def _defaults(cls: type) -> tuple[tuple[str, Any, bool, bool], ...]:
    """(name, default, keep_always, is_float) per field.

    A union's tag is always written so the union can be read back; a field
    whose metadata says ``always`` is written even at its default (a task's
    ``upstream`` and ``kind``, which a reader of the JSON expects on every task).
    """
    keep = ("tag", "always")
    hints = field_types(cls)
    return tuple(
        (f.name, _default_of(f), any(f.metadata.get(k) for k in keep), _is_float(hints[f.name])) for f in dataclasses.fields(cls)
    )


def encode(value: Any) -> Any:
    """A JSON value for ``value``; dataclass fields at their defaults are left out."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {}
        for name, default, keep, is_float in _defaults(type(value)):
            v = getattr(value, name)
            if keep or v != default:
                # A whole number in a float field is written as one (600.0), so it reads back equal, byte for byte.
                out[name] = float(v) if is_float and isinstance(v, int) and not isinstance(v, bool) else encode(v)
        return out
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list | tuple):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        return {k: encode(v) for k, v in value.items()}
    return value
