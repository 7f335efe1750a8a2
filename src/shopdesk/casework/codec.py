"""Strict, type-driven conversion between plain data (TOML/JSON) and frozen dataclasses.

Used for the policy file (every bad key is named by its dotted path) and offered to the
server for storing cases: ``to_data(case)`` gives JSON-ready data, ``from_data(Cls, data)``
rebuilds the dataclass. Constraints come from field metadata: ``min``, ``max``, ``choices``.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, TypeVar, get_args, get_origin, get_type_hints

T = TypeVar("T")


class DecodeError(ValueError):
    """Bad data; ``path`` is the dotted key that is wrong (e.g. ``aftersales.completion``)."""

    def __init__(self, path: str, message: str) -> None:
        self.path = path or "<root>"
        super().__init__(f"{self.path}: {message}")


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def from_data(cls: type[T], data: Any, path: str = "") -> T:
    """Build ``cls`` from plain data; unknown keys, missing keys and bad values raise."""
    return typing.cast(T, _decode(cls, data, path, None))


def _check_limits(value: Any, meta: Mapping[str, Any] | None, path: str) -> None:
    if not meta:
        return
    if "min" in meta and value < meta["min"]:
        raise DecodeError(path, f"must be at least {meta['min']}, got {value!r}")
    if "max" in meta and value > meta["max"]:
        raise DecodeError(path, f"must be at most {meta['max']}, got {value!r}")
    if "choices" in meta and value not in meta["choices"]:
        allowed = ", ".join(repr(c) for c in meta["choices"])
        raise DecodeError(path, f"must be one of {allowed}, got {value!r}")


def _decode(tp: Any, data: Any, path: str, meta: Mapping[str, Any] | None) -> Any:
    origin = get_origin(tp)
    if tp is Any:
        return data
    if origin in (typing.Union, types.UnionType):
        args = get_args(tp)
        if data is None and type(None) in args:
            return None
        errors: list[str] = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _decode(arg, data, path, meta)
            except DecodeError as exc:
                errors.append(str(exc))
        raise DecodeError(path, f"no matching type for {data!r}")
    if origin is typing.Literal:
        if data not in get_args(tp):
            raise DecodeError(path, f"must be one of {list(get_args(tp))!r}, got {data!r}")
        return data
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        return _decode_dataclass(tp, data, path)
    if origin in (tuple, frozenset, list, set):
        if not isinstance(data, list | tuple | set | frozenset):
            raise DecodeError(path, f"expected a list, got {type(data).__name__}")
        args = get_args(tp)
        item_tp = args[0] if args else Any
        items = [_decode(item_tp, v, _join(path, i), None) for i, v in enumerate(data)]
        if origin is tuple:
            return tuple(items)
        if origin is list:
            return items
        return frozenset(items)
    if origin in (dict, Mapping) or tp is dict:
        if not isinstance(data, Mapping):
            raise DecodeError(path, f"expected a table, got {type(data).__name__}")
        k_tp, v_tp = get_args(tp) or (str, Any)
        return {
            _decode(k_tp, k, path, None): _decode(v_tp, v, _join(path, str(k)), None)
            for k, v in data.items()
        }
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        try:
            value = tp(data)
        except ValueError:
            allowed = ", ".join(repr(m.value) for m in tp)
            raise DecodeError(path, f"must be one of {allowed}, got {data!r}") from None
        _check_limits(value, meta, path)
        return value
    if tp is datetime:
        return _decode_instant(data, path)
    if tp is date:
        if isinstance(data, date) and not isinstance(data, datetime):
            return data
        if isinstance(data, str):
            try:
                return date.fromisoformat(data)
            except ValueError:
                raise DecodeError(path, f"not an ISO date: {data!r}") from None
        raise DecodeError(path, f"expected a date, got {data!r}")
    if tp is bool:
        if not isinstance(data, bool):
            raise DecodeError(path, f"expected true or false, got {data!r}")
        return data
    if tp is int:
        if isinstance(data, bool) or not isinstance(data, int):
            raise DecodeError(path, f"expected an integer, got {data!r}")
        _check_limits(data, meta, path)
        return data
    if tp is float:
        if isinstance(data, bool) or not isinstance(data, int | float):
            raise DecodeError(path, f"expected a number, got {data!r}")
        _check_limits(float(data), meta, path)
        return float(data)
    if tp is str:
        if not isinstance(data, str):
            raise DecodeError(path, f"expected a string, got {data!r}")
        _check_limits(data, meta, path)
        return data
    raise DecodeError(path, f"unsupported type {tp!r}")


def _decode_instant(data: Any, path: str) -> datetime:
    if isinstance(data, datetime):
        instant = data
    elif isinstance(data, str):
        try:
            instant = datetime.fromisoformat(data.replace("Z", "+00:00"))
        except ValueError:
            raise DecodeError(path, f"not an ISO 8601 instant: {data!r}") from None
    else:
        raise DecodeError(path, f"expected an instant, got {data!r}")
    if instant.tzinfo is None:
        raise DecodeError(path, "instant needs a UTC offset")
    return instant


def _decode_dataclass(cls: type, data: Any, path: str) -> Any:
    if not isinstance(data, Mapping):
        raise DecodeError(path, f"expected a table, got {type(data).__name__}")
    hints = get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    for key in data:
        if key not in fields:
            known = ", ".join(sorted(fields))
            raise DecodeError(_join(path, str(key)), f"unknown key (known keys: {known})")
    kwargs: dict[str, Any] = {}
    for name, f in fields.items():
        if name not in data:
            no_default = f.default is dataclasses.MISSING
            if no_default and f.default_factory is dataclasses.MISSING:
                raise DecodeError(_join(path, name), "missing key")
            continue
        kwargs[name] = _decode(hints[name], data[name], _join(path, name), f.metadata)
    try:
        return cls(**kwargs)
    except (ValueError, TypeError) as exc:
        if isinstance(exc, DecodeError):
            raise
        raise DecodeError(path, str(exc)) from None


def to_data(value: Any) -> Any:
    """JSON-ready data: dataclasses → dicts, instants → ISO strings, enums → values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_data(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): to_data(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_data(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted(to_data(v) for v in value)
    return value
