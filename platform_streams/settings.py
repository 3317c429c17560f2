"""Typed configuration: defaults, then a YAML file, then environment, then CLI overrides.

Every daemon declares one msgspec struct of its settings. :func:`load_settings`
layers the sources and validates the result once, at start, raising
:class:`ConfigError` that names the field and the bad value.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import msgspec
import yaml

T = TypeVar("T")

ENV_PREFIX = "TRADEPLAT_"


class ConfigError(ValueError):
    """Configuration that cannot be used; the message names the field and the value."""


def load_settings(
    cls: type[T],
    *,
    yaml_path: str | Path | None = None,
    values: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    env_prefix: str = ENV_PREFIX,
    overrides: Sequence[str] = (),
) -> T:
    """Build ``cls`` from layered sources; later layers win.

    - ``yaml_path``: a YAML mapping of fields;
    - ``values``: a mapping (e.g. a deployment spec's ``config`` block);
    - ``env``: ``<prefix><FIELD>`` variables, nested fields joined by ``__``
      (``TRADEPLAT_KAFKA__CONSUMER``), values parsed as YAML scalars;
    - ``overrides``: ``field.sub=value`` strings from ``--set`` flags.
    """
    data: dict[str, Any] = {}
    if yaml_path is not None:
        _merge(data, _read_yaml(Path(yaml_path)))
    if values:
        _merge(data, dict(values))
    field_names = {f.name for f in msgspec.structs.fields(cls)}  # type: ignore[arg-type]
    for name, raw in (env if env is not None else os.environ).items():
        if not name.startswith(env_prefix):
            continue
        path = name[len(env_prefix) :].lower().split("__")
        if path[0] in field_names:
            _set_path(data, path, _parse_scalar(raw))
    for item in overrides:
        if "=" not in item:
            raise ConfigError(f"override {item!r} is not of the form field=value")
        dotted, raw = item.split("=", 1)
        _set_path(data, dotted.strip().split("."), _parse_scalar(raw))
    return convert_settings(cls, data)


def convert_settings(cls: type[T], data: Mapping[str, Any]) -> T:
    """Validate a plain mapping as ``cls``; errors name the field path and the offending value."""
    try:
        return msgspec.convert(dict(data), cls, strict=False)
    except msgspec.ValidationError as exc:
        message = str(exc)
        path = message.rsplit(" - at `", 1)[1].rstrip("`") if " - at `" in message else ""
        value = _lookup(data, path) if path else _MISSING  # never echo the whole mapping: it may hold secrets
        shown = f" (got {value!r})" if value is not _MISSING else ""
        raise ConfigError(f"invalid {cls.__name__} setting {path or '<root>'}: {message.split(' - at ')[0]}{shown}") from None


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        loaded = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"configuration file {path} does not exist") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"configuration file {path} is not valid YAML: {exc}") from None
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise ConfigError(f"configuration file {path} must hold a mapping, not {type(loaded).__name__}")
    return loaded


def _parse_scalar(raw: str) -> Any:
    try:
        return yaml.safe_load(raw) if raw.strip() else raw
    except yaml.YAMLError:
        return raw


def _merge(into: dict[str, Any], new: Mapping[str, Any]) -> None:
    for key, value in new.items():
        if isinstance(value, Mapping) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value


def _set_path(data: dict[str, Any], path: list[str], value: Any) -> None:
    node = data
    for part in path[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child
    node[path[-1]] = value


_MISSING = object()


def _lookup(data: Any, path: str) -> Any:
    """Follow a msgspec error path like ``$.kafka.consumer[0]`` into ``data``."""
    node = data
    for token in path.removeprefix("$").replace("[", ".[").split("."):
        if not token:
            continue
        try:
            node = node[int(token[1:-1])] if token.startswith("[") else node[token]
        except (KeyError, IndexError, TypeError, ValueError):
            return _MISSING
    return node
