"""Kraken WebSocket v1 frames, rendered to bytes in the shape and key order of the real ones.

Market data is an array ``[channelID, payload..., channelName, pair]``; events are
objects whose keys Kraken sends in alphabetical order (``channelID``,
``channelName``, ``event``, ``pair``, ``reqid``, ``status``, ``subscription``), as in
``data/exchanges/kraken/*_v1_*``. Numbers are exact text from the caller.
"""

from __future__ import annotations

from itertools import repeat

import orjson

from platform_streams.simulator.kraken.channels import channel_id
from platform_streams.simulator.kraken.pairs import KrakenPairs, kraken_time


def book_level(price: bytes, volume: bytes, timestamp: bytes, republished: bool) -> bytes:
    """One level as sent: ``["price","volume","timestamp"]``, with ``"r"`` when republished."""
    if republished:
        return b'["%b","%b","%b","r"]' % (price, volume, timestamp)
    return b'["%b","%b","%b"]' % (price, volume, timestamp)


def book_snapshot(channel_id: int, asks: list[bytes], bids: list[bytes], channel_name: bytes, pair: bytes) -> bytes:
    """``asks`` and ``bids``: levels rendered by :func:`book_level`, best first."""
    return b'[%d,{"as":[%b],"bs":[%b]},"%b","%b"]' % (channel_id, b",".join(asks), b",".join(bids), channel_name, pair)


def book_update(
    channel_id: int, asks: list[bytes], bids: list[bytes], checksum: bytes, channel_name: bytes, pair: bytes
) -> bytes:
    """One update; with both sides the asks come first in their own object and the checksum ends the bids one."""
    if asks and bids:
        return b'[%d,{"a":[%b]},{"b":[%b],"c":"%b"},"%b","%b"]' % (
            channel_id,
            b",".join(asks),
            b",".join(bids),
            checksum,
            channel_name,
            pair,
        )
    if asks:
        return b'[%d,{"a":[%b],"c":"%b"},"%b","%b"]' % (channel_id, b",".join(asks), checksum, channel_name, pair)
    return b'[%d,{"b":[%b],"c":"%b"},"%b","%b"]' % (channel_id, b",".join(bids), checksum, channel_name, pair)


class V1BookFrames:
    """Book messages as v1 writes them (:class:`~platform_streams.simulator.kraken.book_feed.BookFrames`):
    arrays on the pair's ``book-<depth>`` channel, every level with its time, no checksum in snapshots."""

    checksum_in_snapshot = False

    def __init__(self, pairs: KrakenPairs) -> None:
        self._pairs = pairs
        self._names = {depth: b"book-%d" % depth for depth in (10, 25, 100, 500, 1000)}
        self._time = (-1, b"")  # the last quantum's time and its text: every level of a quantum repeats it

    def _time_text(self, now_ns: int) -> bytes:
        if self._time[0] != now_ns:
            self._time = (now_ns, kraken_time(now_ns))
        return self._time[1]

    def levels(self, prices: list[bytes], volumes: list[bytes], republished: list[bool], now_ns: int) -> list[bytes]:
        return list(map(book_level, prices, volumes, repeat(self._time_text(now_ns)), republished))

    def snapshot(
        self, instrument: int, depth: int, slot: int, asks: list[bytes], bids: list[bytes], checksum: bytes, now_ns: int
    ) -> bytes:
        return book_snapshot(channel_id(instrument, slot), asks, bids, self._names[depth], self._pairs.wsname_bytes[instrument])

    def update(
        self, instrument: int, depth: int, slot: int, asks: list[bytes], bids: list[bytes], checksum: bytes, now_ns: int
    ) -> bytes:
        return book_update(
            channel_id(instrument, slot), asks, bids, checksum, self._names[depth], self._pairs.wsname_bytes[instrument]
        )


def trades(channel_id: int, rows: list[bytes], pair: bytes) -> bytes:
    return b'[%d,[%b],"trade","%b"]' % (channel_id, b",".join(rows), pair)


def trade_row(price: bytes, volume: bytes, timestamp: bytes, side: bytes, order_type: bytes) -> bytes:
    return b'["%b","%b","%b","%b","%b",""]' % (price, volume, timestamp, side, order_type)


_TICKER = (
    b'[%d,{"a":["%b",%d,"%b"],"b":["%b",%d,"%b"],"c":["%b","%b"],"v":["%b","%b"],"p":["%b","%b"],"t":[%d,%d],'
    b'"l":["%b","%b"],"h":["%b","%b"],"o":["%b","%b"]},"ticker","%b"]'
)


def ticker(channel_id: int, values: tuple[bytes | int, ...], pair: bytes) -> bytes:
    """``values``: a (price, whole lot volume, volume), b (the same), then c (price, volume), v, p, t, l, h, o
    (today, last 24 h), as text except the whole lot volumes and the trade counts."""
    return _TICKER % (channel_id, *values, pair)


def ohlc(channel_id: int, row: bytes, channel_name: bytes, pair: bytes) -> bytes:
    return b'[%d,%b,"%b","%b"]' % (channel_id, row, channel_name, pair)


HEARTBEAT = b'{"event":"heartbeat"}'


def system_status(connection_id: int) -> bytes:
    return b'{"connectionID":%d,"event":"systemStatus","status":"online","version":"1.8.3"}' % connection_id


def subscription_status(
    channel_id: int | None,
    channel_name: str | None,
    pair: str | None,
    request_id: int | None,
    status: str,
    subscription: dict[str, object],
    error: str | None = None,
) -> bytes:
    """A ``subscriptionStatus`` event (keys in Kraken's alphabetical order; an error carries ``errorMessage`` first)."""
    body: dict[str, object] = {}
    if channel_id is not None:
        body["channelID"] = channel_id
    if channel_name is not None:
        body["channelName"] = channel_name
    if error is not None:
        body["errorMessage"] = error
    body["event"] = "subscriptionStatus"
    if pair is not None:
        body["pair"] = pair
    if request_id is not None:
        body["reqid"] = request_id
    body["status"] = status
    body["subscription"] = dict(sorted(subscription.items()))
    return orjson.dumps(body)


def pong(request_id: int | None) -> bytes:
    return b'{"event":"pong","reqid":%d}' % request_id if request_id is not None else b'{"event":"pong"}'


def error(message: str) -> bytes:
    return orjson.dumps({"errorMessage": message, "event": "error"})
