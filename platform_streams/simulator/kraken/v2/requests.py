"""Requests on a Kraken v2 connection: ``subscribe``, ``unsubscribe`` and ``ping``, answered as Kraken does.

A request is ``{"method": ..., "params": {"channel": ..., "symbol": [...], ...}, "req_id": n}``;
symbols are v2 names (``BTC/USD``). A connection holds one book subscription per symbol (v2's
book messages do not say which depth they are of): another depth is ``Already subscribed``. Each symbol gets its own acknowledgement (or a refusal
with Kraken's ``error``), the client's ``req_id`` echoed; a subscription's snapshot (book:
always unless ``snapshot`` is false; ticker: the same; trade: the last 50 trades when asked)
follows its acknowledgement.
"""

from __future__ import annotations

from typing import Any

import orjson

from platform_streams.simulator.kraken.pairs import KrakenPairs
from platform_streams.simulator.kraken.subscriptions import KrakenConnection
from platform_streams.simulator.kraken.v2 import frames
from platform_streams.simulator.kraken.v2.channels import (
    BOOK_DEPTHS,
    BOOK_SLOTS,
    TICKER_BBO_SLOT,
    TICKER_SLOT,
    TICKER_TRIGGERS,
    TRADE_SLOT,
)
from platform_streams.simulator.kraken.v2.hub import KrakenV2Hub


class _Refused(Exception):
    """A request Kraken would refuse, with its error message."""


class _Subscription:
    """What one request subscribes: the slot, the book depth (0: not a book), the snapshot flag, and the
    acknowledgement's ``result`` without the symbol."""

    __slots__ = ("slot", "depth", "snapshot", "result")

    def __init__(self, slot: int, depth: int, snapshot: bool, result: dict[str, object]) -> None:
        self.slot, self.depth, self.snapshot, self.result = slot, depth, snapshot, result


def _subscription(method: str, params: dict[str, Any]) -> _Subscription:
    channel = params.get("channel")
    snapshot = params.get("snapshot", True)  # Kraken's default for every channel
    if not isinstance(snapshot, bool):
        raise _Refused("Invalid snapshot")
    shown: dict[str, object] = {"channel": channel}
    if channel == "book":
        depth = params.get("depth", 10)
        if depth not in BOOK_DEPTHS:
            raise _Refused(f"Invalid depth {depth}")
        shown["depth"] = depth
        return _Subscription(BOOK_SLOTS[depth], depth, snapshot, _with_snapshot(method, shown, snapshot))
    if channel == "ticker":
        trigger = params.get("event_trigger", "trades")
        if trigger not in TICKER_TRIGGERS:
            raise _Refused(f"Invalid event_trigger {trigger}")
        if method == "subscribe":
            shown["event_trigger"] = trigger
        return _Subscription(
            TICKER_BBO_SLOT if trigger == "bbo" else TICKER_SLOT, 0, snapshot, _with_snapshot(method, shown, snapshot)
        )
    if channel == "trade":
        return _Subscription(TRADE_SLOT, 0, snapshot, _with_snapshot(method, shown, snapshot))
    raise _Refused(f"Channel {channel} not supported")


def _with_snapshot(method: str, shown: dict[str, object], snapshot: bool) -> dict[str, object]:
    return {**shown, "snapshot": snapshot} if method == "subscribe" else shown


class KrakenV2Requests:
    """Answers the requests of one venue's v2 connections."""

    def __init__(self, hub: KrakenV2Hub, pairs: KrakenPairs) -> None:
        self._hub = hub
        self._pairs = pairs

    def greeting(self, connection: KrakenConnection) -> bytes:
        """The ``status`` message a connection gets before anything else."""
        return frames.status(connection.connection_number)

    def handle(self, connection: KrakenConnection, text: str, now_ns: int) -> list[bytes]:
        """The frames to send in answer to one text frame, in order."""
        time_in = frames.rfc3339(now_ns)
        try:
            body: Any = orjson.loads(text)
        except orjson.JSONDecodeError:
            return [frames.refusal("", "Malformed request", None, None, time_in, time_in)]
        if not isinstance(body, dict) or not isinstance(body.get("method"), str):
            return [frames.refusal("", "Malformed request", None, None, time_in, time_in)]
        method, request_id = body["method"], body.get("req_id") if isinstance(body.get("req_id"), int) else None
        if method == "ping":
            return [frames.pong(request_id, time_in, time_in)]
        if method not in ("subscribe", "unsubscribe"):
            return [frames.refusal(method, f"Method {method} not supported", request_id, None, time_in, time_in)]
        params = body.get("params")
        symbols = params.get("symbol") if isinstance(params, dict) else None
        if not isinstance(symbols, list) or not symbols or not all(isinstance(symbol, str) for symbol in symbols):
            return [frames.refusal(method, "Invalid symbol", request_id, None, time_in, time_in)]
        try:
            subscription = _subscription(method, params)
        except _Refused as exc:
            return [frames.refusal(method, str(exc), request_id, None, time_in, time_in)]
        return [
            frame
            for symbol in symbols
            for frame in self._one(connection, method, subscription, symbol, request_id, time_in, now_ns)
        ]

    def _one(
        self,
        connection: KrakenConnection,
        method: str,
        subscription: _Subscription,
        symbol: str,
        request_id: int | None,
        time_in: bytes,
        now_ns: int,
    ) -> list[bytes]:
        instrument = self._pairs.by_v2_name(symbol)
        if instrument is None:
            return [frames.refusal(method, f"Currency pair not supported {symbol}", request_id, symbol, time_in, time_in)]
        key = (subscription.slot, instrument)
        ack = frames.acknowledgement(method, {**subscription.result, "symbol": symbol}, request_id, time_in, time_in)
        if method == "unsubscribe":
            if key not in connection.subscriptions:
                return [frames.refusal(method, "Subscription Not Found", request_id, symbol, time_in, time_in)]
            self._hub.unsubscribe(connection, subscription.slot, instrument)
            return [ack]
        # one book of a symbol per connection, at one depth (v2 updates do not say which depth they are of)
        taken = [(slot, instrument) for slot in BOOK_SLOTS.values()] if subscription.depth else [key]
        if any(held in connection.subscriptions for held in taken):
            return [frames.refusal(method, "Already subscribed", request_id, symbol, time_in, time_in)]
        snapshot = self._hub.subscribe(connection, subscription.slot, instrument, subscription.snapshot, now_ns)
        return [ack] if snapshot is None else [ack, snapshot]
