"""Binance spot's raw JSON messages as msgspec structs (field names as Binance sends them, renamed for reading).

Stream events carry their type in ``"e"``, which tags the union used for raw-stream
frames; ``bookTicker`` and partial-depth payloads have no ``"e"`` and are decoded by
their own decoders. Prices and quantities stay text until the parser scales them.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

import msgspec

Payload = TypeVar("Payload")

PriceLevel = tuple[str, str]
"""``[price, quantity]`` as text; quantity ``"0.00000000"`` removes the level."""


class Trade(msgspec.Struct, tag_field="e", tag="trade", gc=False):
    """``<symbol>@trade``: one trade."""

    event_time: int = msgspec.field(name="E")
    symbol: str = msgspec.field(name="s")
    trade_id: int = msgspec.field(name="t")
    price: str = msgspec.field(name="p")
    quantity: str = msgspec.field(name="q")
    trade_time: int = msgspec.field(name="T")
    buyer_is_maker: bool = msgspec.field(name="m")


class AggTrade(msgspec.Struct, tag_field="e", tag="aggTrade", gc=False):
    """``<symbol>@aggTrade``: trades of one taker order at one price, aggregated."""

    event_time: int = msgspec.field(name="E")
    symbol: str = msgspec.field(name="s")
    agg_trade_id: int = msgspec.field(name="a")
    price: str = msgspec.field(name="p")
    quantity: str = msgspec.field(name="q")
    first_trade_id: int = msgspec.field(name="f")
    last_trade_id: int = msgspec.field(name="l")
    trade_time: int = msgspec.field(name="T")
    buyer_is_maker: bool = msgspec.field(name="m")


class DepthUpdate(msgspec.Struct, tag_field="e", tag="depthUpdate", gc=False):
    """``<symbol>@depth[@100ms]``: changed levels for update ids ``first_update_id..final_update_id``.

    ``previous_final_update_id`` (``pu``) is sent by the futures streams only."""

    event_time: int = msgspec.field(name="E")
    symbol: str = msgspec.field(name="s")
    first_update_id: int = msgspec.field(name="U")
    final_update_id: int = msgspec.field(name="u")
    bids: list[PriceLevel] = msgspec.field(name="b")
    asks: list[PriceLevel] = msgspec.field(name="a")
    previous_final_update_id: int = msgspec.field(default=0, name="pu")


class KlineBar(msgspec.Struct, gc=False):
    """The bar inside a kline event."""

    open_time: int = msgspec.field(name="t")
    close_time: int = msgspec.field(name="T")
    symbol: str = msgspec.field(name="s")
    interval: str = msgspec.field(name="i")
    first_trade_id: int = msgspec.field(name="f")
    last_trade_id: int = msgspec.field(name="L")
    open: str = msgspec.field(name="o")
    close: str = msgspec.field(name="c")
    high: str = msgspec.field(name="h")
    low: str = msgspec.field(name="l")
    volume: str = msgspec.field(name="v")
    trade_count: int = msgspec.field(name="n")
    closed: bool = msgspec.field(name="x")


class Kline(msgspec.Struct, tag_field="e", tag="kline", gc=False):
    """``<symbol>@kline_<interval>``: the current bar, pushed as it changes."""

    event_time: int = msgspec.field(name="E")
    symbol: str = msgspec.field(name="s")
    bar: KlineBar = msgspec.field(name="k")


class BookTicker(msgspec.Struct, gc=False):
    """``<symbol>@bookTicker``: best bid and ask after order-book update ``update_id`` (spot sends no time)."""

    update_id: int = msgspec.field(name="u")
    symbol: str = msgspec.field(name="s")
    bid_price: str = msgspec.field(name="b")
    bid_quantity: str = msgspec.field(name="B")
    ask_price: str = msgspec.field(name="a")
    ask_quantity: str = msgspec.field(name="A")
    event_time: int = msgspec.field(default=0, name="E")


class DepthSnapshot(msgspec.Struct, gc=False):
    """REST ``/api/v3/depth`` body, and the payload of ``<symbol>@depth<N>`` partial-depth streams."""

    last_update_id: int = msgspec.field(name="lastUpdateId")
    bids: list[PriceLevel]
    asks: list[PriceLevel]


class StreamName(msgspec.Struct, gc=False):
    """Only the stream name of a combined-stream frame (``/stream?streams=...``)."""

    stream: str


class StreamFrame(msgspec.Struct, Generic[Payload], gc=False):
    """A combined-stream frame decoded straight into its payload type (the stream name is read separately)."""

    data: Payload


class ErrorDetail(msgspec.Struct, gc=False):
    """The ``error`` object of an error reply."""

    code: int | str
    msg: str


class AnyFrame(msgspec.Struct, gc=False):
    """Just enough of any Binance frame to tell what it is (the slow path, for frames the prefix checks do not recognise)."""

    stream: str | None = None
    e: str | None = None
    u: int | None = None
    last_update_id: int | None = msgspec.field(default=None, name="lastUpdateId")
    result: Any | msgspec.UnsetType = msgspec.UNSET
    id: int | str | None = None
    code: int | str | None = None
    msg: str | None = None
    error: ErrorDetail | None = None


StreamEvent = Trade | AggTrade | DepthUpdate | Kline
"""The events told apart by ``"e"``."""
