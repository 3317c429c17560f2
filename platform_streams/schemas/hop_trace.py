"""The upstream part of an order's latency trace, carried beside a market event in a record header.

The normaliser (``canonical``) and the processing stage (``indicator``) put the hops their events
went through in the ``x-hops`` header; a stage that decides on an event (the strategy host, the
trading chain) reads it back only when the event caused an intent, so the order request's
``hops`` run from the exchange to risk: ``feed`` (the exchange's timestamp → ingestion's
receipt), ``canonical``, ``indicator`` (when the decision used one), ``strategy``, ``risk``.
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from platform_streams.schemas.events import Hop

HOPS_HEADER = "x-hops"
FEED_STAGE = "feed"

_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(list[Hop])


def hops_header(hops: Sequence[Hop]) -> list[tuple[str, bytes]]:
    """The header carrying ``hops``; build it once per frame and share it among the frame's events."""
    return [(HOPS_HEADER, _encoder.encode(hops))]


def header_hops(headers: Sequence[tuple[str, bytes | None]] | None) -> list[Hop]:
    """The hops a record's headers carry (none when it has no such header, or an unreadable one:
    a trace is diagnostics, never a reason to refuse an event)."""
    for name, value in headers or ():
        if name == HOPS_HEADER and value:
            try:
                return _decoder.decode(value)
            except msgspec.DecodeError:
                return []
    return []


def upstream_hops(exchange_ts_ns: int, receive_ts_ns: int, headers: Sequence[tuple[str, bytes | None]] | None) -> list[Hop]:
    """The hops from the exchange to the stage reading a market event: the feed (the exchange's own
    clock, often in ms, to ingestion's receipt; none if the exchange gave no time) and the hops
    its headers carry."""
    feed = [Hop(FEED_STAGE, exchange_ts_ns, receive_ts_ns)] if exchange_ts_ns and receive_ts_ns else []
    return feed + header_hops(headers)
