"""Structural comparison of a generated frame with a real captured one: keys, key order, JSON types, recursively."""

from __future__ import annotations

from typing import Any


def _kind(value: Any) -> str:
    return "object" if isinstance(value, dict) else "array" if isinstance(value, list) else type(value).__name__


def assert_same_shape(generated: Any, real: Any, path: str = "$") -> None:
    """Same keys in the same order and the same JSON types, recursively.

    An array whose real elements all have one kind (price levels, trades) is a list:
    each generated element must have the shape of the real element at its position
    (the last real one past its end). An array of mixed kinds (Kraken's
    ``[channelID, {...}, "book-10", "XBT/USD"]``, ``["13.2539", 35, "35.7289"]``) is a
    tuple: compared position by position, same length.
    """
    if isinstance(real, dict):
        assert isinstance(generated, dict), f"{path}: {_kind(generated)} instead of an object"
        assert list(generated) == list(real), f"{path}: keys {list(generated)} != {list(real)}"
        for key in real:
            assert_same_shape(generated[key], real[key], f"{path}.{key}")
    elif isinstance(real, list):
        assert isinstance(generated, list), f"{path}: {_kind(generated)} instead of an array"
        if len({_kind(item) for item in real}) > 1:
            assert len(generated) == len(real), f"{path}: {len(generated)} elements != {len(real)}"
            for index, (mine, theirs) in enumerate(zip(generated, real, strict=True)):
                assert_same_shape(mine, theirs, f"{path}[{index}]")
            return
        for index, item in enumerate(generated if real else []):
            assert_same_shape(item, real[min(index, len(real) - 1)], f"{path}[{index}]")
    else:
        assert type(generated) is type(real), f"{path}: {_kind(generated)} != {_kind(real)} ({generated!r} vs {real!r})"
