"""The private-stream contract: what a venue's user stream (its account's order and fill pushes)
says, and the venue specifics a private-stream client needs to hear it.

Each venue that trades builds its :class:`UserStreamVenue` in ``exchanges/<venue>/user_stream.py``
(Binance's listenKey stream, OKX's ``orders`` channel, Kraken's ``executions``). The venue parses
its frames into :class:`OrderReport` / :class:`TradeReport`, venue-neutral and still in the
venue's decimal text: sizes only become integers at the order's own scales, in execution. The
connection itself (connect, reconnect, keep-alive) is written once, in
``platform_streams/execution/private_stream.py``. Nothing here does I/O but :meth:`UserStreamVenue.prepare`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

import aiohttp
import msgspec

from platform_streams.schemas import Liquidity, OrderStatus, Side


class UserStreamError(RuntimeError):
    """The venue refused the stream (a login, a token, a subscription) or sent what we cannot read."""


class OrderReport(msgspec.Struct, frozen=True, kw_only=True):
    """What the private stream said about one order: its state and cumulative filled size (decimal text)."""

    client_order_id: str
    exchange_order_id: str
    status: OrderStatus
    filled: str
    reason: str = ""
    exchange_ts_ns: int = 0


class TradeReport(msgspec.Struct, frozen=True, kw_only=True):
    """One fill of one order as the private stream pushed it (numbers as the venue's decimal text).
    ``fill_id`` is the id REST gives the same trade, so a fill heard both ways counts once."""

    fill_id: str
    client_order_id: str
    exchange_order_id: str
    side: Side
    price: str
    size: str
    fee: str  # positive: paid
    fee_asset: str
    liquidity: Liquidity
    exchange_ts_ns: int = 0


StreamReport = OrderReport | TradeReport


class StreamFrame(msgspec.Struct, frozen=True):
    """What one frame meant: reports, frames to send back (a login's next step), whether the
    subscription is now in force (from then on the stream speaks for the account's orders)."""

    reports: list[StreamReport] = msgspec.field(default_factory=list)
    replies: list[str] = msgspec.field(default_factory=list)
    subscribed: bool = False


NOTHING = StreamFrame()


class UserStreamVenue(Protocol):
    """One venue's private stream for one account: where to connect, what to say, how to read it."""

    exchange: str
    keepalive_interval_s: float  # how often :meth:`keepalive` runs while connected

    async def prepare(self, session: aiohttp.ClientSession) -> str:
        """Whatever the venue needs before connecting (a listenKey, a token, by REST); the URL to connect to."""
        ...

    def opening_messages(self) -> list[str]:
        """Frames to send once connected (a login, a subscription)."""
        ...

    def parse(self, text: str) -> StreamFrame:
        """One received text frame; raises :class:`UserStreamError` for a refusal."""
        ...

    async def keepalive(self, session: aiohttp.ClientSession) -> str | None:
        """Every ``keepalive_interval_s`` while connected: REST upkeep (a listenKey's), and the frame
        to send (an application ping), if any."""
        ...


class UserStreamSettings(msgspec.Struct, frozen=True, kw_only=True):
    """Where a venue's private stream is (empty URLs: the real venue's) and the account's keys."""

    rest_url: str = ""
    ws_url: str = ""
    credentials: Mapping[str, str] = msgspec.field(default_factory=dict)  # ccxt's names: apiKey, secret, password
