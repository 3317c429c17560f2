"""OKX v5's raw JSON messages as msgspec structs.

A push is ``{"arg": {"channel", "instId"}, "action"?, "data": [...]}``; a reply is
``{"event": ..., "arg"?, "code"?, "msg"?}``. The parser reads the envelope first and
decodes ``data`` with the channel's own type. Book levels are
``[price, size, liquidated orders (deprecated, "0"), orders]`` as text.
"""

from __future__ import annotations

import msgspec


class BookLevel(msgspec.Struct, array_like=True, gc=False):
    """One ``[px, sz, liq, orders]`` book entry; size ``"0"`` removes the level."""

    price: str
    size: str
    liquidated_orders: str = "0"
    orders: str = "0"


class Book(msgspec.Struct, gc=False):
    """One entry of a ``books``/``books-l2-tbt``/``books50-l2-tbt``/``books5`` push.

    ``seqId``/``prevSeqId`` appeared in 2022 (the captures predate them); ``checksum`` is
    the signed CRC32 of the top 25 levels after this push."""

    asks: list[BookLevel]
    bids: list[BookLevel]
    ts: str
    checksum: int | None = None
    seq_id: int | None = msgspec.field(default=None, name="seqId")
    prev_seq_id: int | None = msgspec.field(default=None, name="prevSeqId")
    inst_id: str | None = msgspec.field(default=None, name="instId")


class Trade(msgspec.Struct, gc=False):
    """One entry of a ``trades`` push; ``side`` is the taker's."""

    inst_id: str = msgspec.field(name="instId")
    trade_id: str = msgspec.field(name="tradeId")
    price: str = msgspec.field(name="px")
    size: str = msgspec.field(name="sz")
    side: str
    ts: str


class Ticker(msgspec.Struct, gc=False):
    """One entry of a ``tickers`` push (only the best bid and ask are read); empty text when a side is empty."""

    inst_id: str = msgspec.field(name="instId")
    bid_price: str = msgspec.field(name="bidPx")
    bid_size: str = msgspec.field(name="bidSz")
    ask_price: str = msgspec.field(name="askPx")
    ask_size: str = msgspec.field(name="askSz")
    ts: str


class Candle(msgspec.Struct, array_like=True, gc=False):
    """One ``[ts, o, h, l, c, vol, volCcy, volCcyQuote, confirm]`` entry of a ``candle<bar>`` push."""

    open_ts: str
    open: str
    high: str
    low: str
    close: str
    volume: str
    volume_currency: str = ""
    volume_quote: str = ""
    confirm: str = "0"


class ChannelArg(msgspec.Struct, gc=False):
    """The ``arg`` naming a push's channel and instrument."""

    channel: str
    inst_id: str | None = msgspec.field(default=None, name="instId")


class Envelope(msgspec.Struct, gc=False):
    """Any OKX frame: a push (``arg`` + ``data``) or a reply (``event``)."""

    arg: ChannelArg | None = None
    action: str | None = None
    data: msgspec.Raw = msgspec.Raw()
    event: str | None = None
    code: str | None = None
    msg: str | None = None
