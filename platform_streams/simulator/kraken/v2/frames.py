"""Kraken WebSocket v2 frames, rendered to bytes in the shape and key order of the real ones.

Data messages are ``{"channel": ..., "type": "snapshot"|"update", "data": [...]}`` with prices
and quantities as bare JSON numbers written with the pair's fixed decimals (the same text as
v1's, unquoted: ``{"price":63388.7,"qty":0.25761908}``), and RFC 3339 timestamps with
microseconds; replies to requests are ``{"method": ..., "result": {...}, "success": true,
"time_in": ..., "time_out": ...}``, as in ``data/exchanges/kraken/*_crossbook_v2_*`` and Kraken's
documented examples.
"""

from __future__ import annotations

import time

import orjson

from platform_streams.simulator.kraken.pairs import KrakenPairs

HEARTBEAT = b'{"channel":"heartbeat"}'


def rfc3339(ts_ns: int) -> bytes:
    """``2026-08-02T03:35:51.302928Z`` (UTC, microseconds), as v2 writes times."""
    seconds, nanoseconds = divmod(ts_ns, 1_000_000_000)
    return b"%b.%06dZ" % (time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)).encode(), nanoseconds // 1000)


class TimeText:
    """The text of the latest time asked for, kept: every message of a quantum repeats it."""

    __slots__ = ("ts_ns", "text")

    def __init__(self) -> None:
        self.ts_ns, self.text = -1, b""

    def __call__(self, ts_ns: int) -> bytes:
        if ts_ns != self.ts_ns:
            self.ts_ns, self.text = ts_ns, rfc3339(ts_ns)
        return self.text


class V2BookFrames:
    """Book messages as v2 writes them (:class:`~platform_streams.simulator.kraken.book_feed.BookFrames`):
    one object per message with the symbol, the changed levels, the checksum (snapshots too) and the time."""

    checksum_in_snapshot = True

    def __init__(self, pairs: KrakenPairs) -> None:
        self._pairs = pairs
        self._time = TimeText()

    def levels(self, prices: list[bytes], volumes: list[bytes], republished: list[bool], now_ns: int) -> list[bytes]:
        return [b'{"price":%b,"qty":%b}' % level for level in zip(prices, volumes, strict=True)]

    def snapshot(
        self, instrument: int, depth: int, slot: int, asks: list[bytes], bids: list[bytes], checksum: bytes, now_ns: int
    ) -> bytes:
        return self._message(b"snapshot", instrument, asks, bids, checksum, now_ns)

    def update(
        self, instrument: int, depth: int, slot: int, asks: list[bytes], bids: list[bytes], checksum: bytes, now_ns: int
    ) -> bytes:
        return self._message(b"update", instrument, asks, bids, checksum, now_ns)

    def _message(self, kind: bytes, instrument: int, asks: list[bytes], bids: list[bytes], checksum: bytes, now_ns: int) -> bytes:
        return (
            b'{"channel":"book","type":"%b","data":[{"symbol":"%b","bids":[%b],"asks":[%b],"checksum":%b,"timestamp":"%b"}]}'
            % (
                kind,
                self._pairs.v2_name_bytes[instrument],
                b",".join(bids),
                b",".join(asks),
                checksum,
                self._time(now_ns),
            )
        )


def trade_entry(
    symbol: bytes, side: bytes, price: bytes, qty: bytes, order_type: bytes, trade_id: int, timestamp: bytes
) -> bytes:
    return b'{"symbol":"%b","side":"%b","price":%b,"qty":%b,"ord_type":"%b","trade_id":%d,"timestamp":"%b"}' % (
        symbol,
        side,
        price,
        qty,
        order_type,
        trade_id,
        timestamp,
    )


def trades(kind: bytes, entries: list[bytes]) -> bytes:
    return b'{"channel":"trade","type":"%b","data":[%b]}' % (kind, b",".join(entries))


_TICKER = (
    b'{"channel":"ticker","type":"%b","data":[{"symbol":"%b","bid":%b,"bid_qty":%b,"ask":%b,"ask_qty":%b,"last":%b,'
    b'"volume":%b,"vwap":%b,"low":%b,"high":%b,"change":%b,"change_pct":%b,"timestamp":"%b"}]}'
)


def ticker(kind: bytes, symbol: bytes, values: tuple[bytes, ...], timestamp: bytes) -> bytes:
    """``values``: bid, bid_qty, ask, ask_qty, last, volume, vwap, low, high, change, change_pct, as number text."""
    return _TICKER % (kind, symbol, *values, timestamp)


def status(connection_id: int) -> bytes:
    return (
        b'{"channel":"status","type":"update","data":[{"version":"2.0.10","system":"online","api_version":"v2","connection_id":%d}]}'
        % (connection_id)
    )


def acknowledgement(method: str, result: dict[str, object], request_id: int | None, time_in: bytes, time_out: bytes) -> bytes:
    """A successful ``subscribe``/``unsubscribe`` of one symbol."""
    body: dict[str, object] = {"method": method, "result": result, "success": True}
    body["time_in"], body["time_out"] = time_in.decode(), time_out.decode()
    if request_id is not None:
        body["req_id"] = request_id
    return orjson.dumps(body)


def refusal(method: str, error: str, request_id: int | None, symbol: str | None, time_in: bytes, time_out: bytes) -> bytes:
    """A refused request (keys in Kraken's order: error, method, req_id, success, symbol, times)."""
    body: dict[str, object] = {"error": error, "method": method}
    if request_id is not None:
        body["req_id"] = request_id
    body["success"] = False
    if symbol is not None:
        body["symbol"] = symbol
    body["time_in"], body["time_out"] = time_in.decode(), time_out.decode()
    return orjson.dumps(body)


def pong(request_id: int | None, time_in: bytes, time_out: bytes) -> bytes:
    body: dict[str, object] = {"method": "pong"}
    if request_id is not None:
        body["req_id"] = request_id
    body["time_in"], body["time_out"] = time_in.decode(), time_out.decode()
    return orjson.dumps(body)
