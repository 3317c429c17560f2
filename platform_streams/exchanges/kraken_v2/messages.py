"""Kraken WebSocket v2's raw JSON messages as msgspec structs.

Data messages are objects tagged by ``channel`` (``book``, ``trade``, ``ticker``,
``heartbeat``, ``status``) with a ``type`` (``snapshot``/``update``) and a ``data`` list;
replies to requests carry ``method`` (``subscribe``, ``unsubscribe``, ``pong``) instead.
Prices and quantities are bare JSON numbers whose text is exact (Kraken's checksum is over
it): the fields holding them are untyped, and the parser's decoders turn every JSON float
into its text (``float_hook=str``), never a float; an integer literal stays an int, whose
text is its own.
"""

from __future__ import annotations

from typing import Any

import msgspec

Number = Any
"""A price or quantity as decoded with ``float_hook=str``: its JSON text (``"0.00005100"``), or an int."""


class PriceLevel(msgspec.Struct, gc=False):
    """``{"price": 63388.7, "qty": 0.25761908}``; ``qty`` 0 removes the level."""

    price: Number
    qty: Number


class BookData(msgspec.Struct, kw_only=True, gc=False):
    """One book snapshot or update: the levels that changed, the CRC32 of the top 10 levels after it."""

    symbol: str
    bids: list[PriceLevel] = []
    asks: list[PriceLevel] = []
    checksum: int
    timestamp: str = ""


class TradeData(msgspec.Struct, kw_only=True, gc=False):
    """One trade; ``side`` is the taker's, ``trade_id`` a sequence number unique per book."""

    symbol: str
    side: str
    price: Number
    qty: Number
    ord_type: str = ""
    trade_id: int
    timestamp: str


class TickerData(msgspec.Struct, kw_only=True, gc=False):
    """Level 1 (only the fields the adapter reads): best bid and ask with their quantities."""

    symbol: str
    bid: Number
    bid_qty: Number
    ask: Number
    ask_qty: Number
    timestamp: str = ""


class BookMessage(msgspec.Struct, tag_field="channel", tag="book", gc=False):
    type: str
    data: list[BookData]


class TradeMessage(msgspec.Struct, tag_field="channel", tag="trade", gc=False):
    type: str
    data: list[TradeData]


class TickerMessage(msgspec.Struct, tag_field="channel", tag="ticker", gc=False):
    type: str
    data: list[TickerData]


class HeartbeatMessage(msgspec.Struct, tag_field="channel", tag="heartbeat", gc=False):
    """Kraken's once-a-second heartbeat: nothing but its channel."""


class StatusMessage(msgspec.Struct, tag_field="channel", tag="status", gc=False):
    type: str = ""


ChannelMessage = BookMessage | TradeMessage | TickerMessage | HeartbeatMessage | StatusMessage
"""Every data message this adapter reads, by its ``channel``."""


class SubscriptionResult(msgspec.Struct, kw_only=True, gc=False):
    """What a subscribe or unsubscribe acknowledges: one symbol of one channel (``depth`` for book)."""

    channel: str
    symbol: str = ""
    depth: int | None = None


class MethodReply(msgspec.Struct, kw_only=True, gc=False):
    """A reply to a request: ``subscribe``/``unsubscribe`` (``result``, or ``error`` when not
    ``success``), ``pong``."""

    method: str
    result: SubscriptionResult | None = None
    success: bool = True
    error: str = ""
    symbol: str = ""
    req_id: int | None = None


class AnyMessage(msgspec.Struct, kw_only=True, gc=False):
    """Just enough to tell an unknown channel from a malformed frame."""

    channel: str | None = None
    method: str | None = None
