"""Kraken WebSocket v1's raw JSON messages as msgspec structs.

Data frames are arrays ``[channelID, payload, channelName, pair]``; a book update that
changes both sides comes as ``[channelID, {"a": ...}, {"b": ..., "c": ...}, channelName, pair]``.
The parser decodes the outer array into raw parts and each payload with its channel's
type. Everything else is an event object (``{"event": "heartbeat"}``, ...).
"""

from __future__ import annotations

import msgspec


class BookLevel(msgspec.Struct, array_like=True, gc=False):
    """``[price, volume, timestamp]``, plus ``"r"`` when the level is republished; volume 0 removes it."""

    price: str
    volume: str
    timestamp: str
    update_type: str = ""


class BookPayload(msgspec.Struct, gc=False):
    """A book snapshot (``as``/``bs``) or one part of an update (``a``/``b``, checksum ``c`` in the last part)."""

    snapshot_asks: list[BookLevel] | None = msgspec.field(default=None, name="as")
    snapshot_bids: list[BookLevel] | None = msgspec.field(default=None, name="bs")
    asks: list[BookLevel] | None = msgspec.field(default=None, name="a")
    bids: list[BookLevel] | None = msgspec.field(default=None, name="b")
    checksum: str | None = msgspec.field(default=None, name="c")


class TradeEntry(msgspec.Struct, array_like=True, gc=False):
    """``[price, volume, time, side b|s, order type m|l, misc]``; Kraken v1 sends no trade id."""

    price: str
    volume: str
    time: str
    side: str
    order_type: str
    misc: str = ""


class TickerPayload(msgspec.Struct, gc=False):
    """The ``ticker`` payload (only best ask ``a`` and bid ``b``: ``[price, wholeLotVolume, lotVolume]``)."""

    ask: tuple[str, int | str, str] = msgspec.field(name="a")
    bid: tuple[str, int | str, str] = msgspec.field(name="b")


class SpreadPayload(msgspec.Struct, array_like=True, gc=False):
    """``[bid, ask, timestamp, bidVolume, askVolume]``."""

    bid: str
    ask: str
    timestamp: str
    bid_volume: str
    ask_volume: str


class OhlcPayload(msgspec.Struct, array_like=True, gc=False):
    """``[time, etime, open, high, low, close, vwap, volume, count]``; ``etime`` ends the interval."""

    time: str
    end_time: str
    open: str
    high: str
    low: str
    close: str
    vwap: str
    volume: str
    count: int


class EventMessage(msgspec.Struct, gc=False):
    """An event object: ``heartbeat``, ``systemStatus``, ``subscriptionStatus``, ``pong``, ``error``."""

    event: str
    status: str | None = None
    error_message: str | None = msgspec.field(default=None, name="errorMessage")
    pair: str | None = None
    channel_name: str | None = msgspec.field(default=None, name="channelName")


Frame = EventMessage | list[msgspec.Raw]
"""Any v1 frame: an event object, or a data array of undecoded parts."""
