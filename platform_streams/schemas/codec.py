"""Binary encoding of canonical events (msgpack arrays, tag first) and its decode errors."""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec

from platform_streams.schemas.events import CanonicalEvent

E = TypeVar("E")

_encoder = msgspec.msgpack.Encoder()
_any_decoder = msgspec.msgpack.Decoder(CanonicalEvent)


class EventDecodeError(ValueError):
    """Bytes that are not a canonical event of an expected type (garbled, truncated, unknown tag)."""

    def __init__(self, payload: bytes, detail: str) -> None:
        preview = bytes(payload[:32]).hex()
        super().__init__(f"cannot decode {len(payload)} bytes as a canonical event: {detail} (first bytes: {preview})")
        self.payload = payload
        self.detail = detail


def encode(event: Any) -> bytes:
    """Encode one canonical event; mantissas must fit in 64 bits."""
    try:
        return _encoder.encode(event)
    except OverflowError as exc:
        raise ValueError(f"{type(event).__name__} has an integer outside 64 bits: {exc}") from exc


def decode(payload: bytes) -> CanonicalEvent:
    """Decode any canonical event; raises :class:`EventDecodeError` with the reason."""
    try:
        return _any_decoder.decode(payload)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise EventDecodeError(payload, str(exc)) from None


class TypedDecoder:
    """Decoder restricted to some event types, for a stage that accepts only those."""

    def __init__(self, *types: type) -> None:
        self._types = types
        self._decoder = msgspec.msgpack.Decoder(types[0] if len(types) == 1 else _union(types))

    def decode(self, payload: bytes) -> Any:
        try:
            return self._decoder.decode(payload)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            names = ", ".join(t.__name__ for t in self._types)
            raise EventDecodeError(payload, f"expected {names}: {exc}") from None


def _union(types: tuple[type, ...]) -> Any:
    union = types[0]
    for member in types[1:]:
        union = union | member
    return union
