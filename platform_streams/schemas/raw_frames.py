"""The ``md.raw`` record: an exchange frame exactly as received, with its provenance in headers.

Written by ingestion (and replay), read by normalisation, the raw archive and the simulator's
archive replay, so it lives with the other schemas.

Key: the connection id, so one connection's frames stay in order in one partition.
Headers: exchange, connection id, per-connection sequence number (a gap in it is a
lost frame), receive time (ns), and the kind of frame (``ws`` for a WebSocket
message, ``rest`` for a REST body fetched for that connection, e.g. a book
snapshot, with the request path in ``x-path``, ``ctl`` for a :class:`ConnectionEvent`
that ingestion writes when a connection opens or is lost), and, for frames not in the
exchange's own format, that format in ``x-format`` (``ccxt``: ccxt's unified structures,
written by the generic ccxt ingestion).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from typing import Any

import msgspec

_EXCHANGE, _CONNECTION, _SEQUENCE, _RECEIVED, _KIND, _PATH, _FORMAT = (
    "x-exchange", "x-conn", "x-seq", "x-rx-ns", "x-kind", "x-path", "x-format",
)  # fmt: skip


class FrameKind(enum.Enum):
    """What a raw record holds: a WebSocket message, a REST body fetched for the connection,
    or a control record written by ingestion itself (connection opened or lost)."""

    WEBSOCKET = "ws"
    REST = "rest"
    CONTROL = "ctl"


_KIND_BY_TEXT: dict[bytes, FrameKind] = {kind.value.encode(): kind for kind in FrameKind}
_TEXTS: dict[bytes, str] = {}
"""Header values seen before (exchanges, connection ids, formats), decoded once: every frame repeats them."""
_ENCODED: dict[str, bytes] = {}


def _remembered(cache: dict, key: Any, convert: Callable[[Any], Any]) -> Any:
    value = cache.get(key)
    if value is None:
        if len(cache) >= 65_536:
            cache.clear()
        value = cache[key] = convert(key)
    return value


def _text(value: bytes) -> str:
    return _remembered(_TEXTS, value, bytes.decode)


def _encoded(text: str) -> bytes:
    return _remembered(_ENCODED, text, str.encode)


class RawFrameError(ValueError):
    """An ``md.raw`` record without the headers every raw frame carries."""


class RawFrame(msgspec.Struct, frozen=True, gc=False):
    """One received frame and where it came from."""

    exchange: str
    connection_id: str
    sequence: int
    receive_ts_ns: int
    kind: FrameKind
    payload: bytes
    path: str = ""
    format: str = ""  # empty: the exchange's own wire format

    def headers(self) -> list[tuple[str, bytes]]:
        """The record headers that carry the frame's provenance (the value is ``payload``, the key ``connection_id``)."""
        headers = [
            (_EXCHANGE, _encoded(self.exchange)),
            (_CONNECTION, _encoded(self.connection_id)),
            (_SEQUENCE, b"%d" % self.sequence),
            (_RECEIVED, b"%d" % self.receive_ts_ns),
            (_KIND, _encoded(self.kind.value)),
        ]
        if self.path:
            headers.append((_PATH, self.path.encode()))
        if self.format:
            headers.append((_FORMAT, _encoded(self.format)))
        return headers

    @classmethod
    def from_record(cls, payload: bytes, headers: Sequence[tuple[str, bytes]] | None) -> RawFrame:
        """Rebuild a frame from a consumed record's value and headers."""
        fields = dict(headers or ())
        try:
            return cls(
                _text(fields[_EXCHANGE]),
                _text(fields[_CONNECTION]),
                int(fields[_SEQUENCE]),
                int(fields[_RECEIVED]),
                _KIND_BY_TEXT[fields.get(_KIND, b"ws")],
                payload,
                fields[_PATH].decode() if _PATH in fields else "",
                _text(fields[_FORMAT]) if _FORMAT in fields else "",
            )
        except (KeyError, ValueError, AttributeError) as exc:
            raise RawFrameError(f"md.raw record without valid provenance headers ({exc}); headers: {sorted(fields)}") from None


class ConnectionEvent(msgspec.Struct, frozen=True):
    """Payload of a ``ctl`` raw record: a connection session began (``connected``, with the
    exchange symbols it subscribes) or ended (``disconnected``). Books of those symbols must
    be rebuilt: frames may have been lost in between."""

    event: str
    symbols: list[str] = []
    reason: str = ""


CONNECTION_EVENT_DECODER = msgspec.json.Decoder(ConnectionEvent)
