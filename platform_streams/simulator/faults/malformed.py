"""Corrupted versions of a frame, for the ``malformed`` fault: what a parser must survive without crashing.

``invalid_json`` keeps the text but breaks the syntax (a trailing comma before the
closing bracket), ``truncated`` cuts the frame in half (at a character boundary, so
it is still valid UTF-8, as a WebSocket text frame must be), ``wrong_types`` keeps
valid JSON with the right keys but swaps the type of every scalar: numeric
strings become numbers, numbers become strings, booleans become strings.
"""

from __future__ import annotations

from typing import Any

import orjson

from platform_streams.simulator.faults.spec import MalformedVariant


def malformed(payload: bytes, variant: MalformedVariant) -> bytes:
    if variant == "truncated":
        return payload[: max(1, len(payload) // 2)].decode("utf-8", errors="ignore").encode()
    if variant == "wrong_types":
        try:
            return orjson.dumps(_swap_types(orjson.loads(payload)))
        except orjson.JSONDecodeError:
            return payload[::-1]
    stripped = payload.rstrip()
    return stripped[:-1] + b"," + stripped[-1:] if stripped[-1:] in (b"}", b"]") else stripped + b"}"


def _swap_types(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _swap_types(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_swap_types(item) for item in value]
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return [value]
        return int(number) if number.is_integer() and "." not in value else number
    return value
