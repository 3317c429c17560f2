"""The ``ccxt`` raw-frame format: ccxt's unified trade and order book, numbers as decimal text."""

from __future__ import annotations

import msgspec


class UnifiedTrade(msgspec.Struct, tag_field="type", tag="trade", gc=False, forbid_unknown_fields=True):
    symbol: str
    id: str
    timestamp: int  # ms
    side: str  # buy | sell | "" (unknown)
    price: str
    amount: str


class UnifiedBook(msgspec.Struct, tag_field="type", tag="book", gc=False, forbid_unknown_fields=True):
    symbol: str
    timestamp: int  # ms (0 when the exchange gave none)
    nonce: int  # the exchange's update id (0 when none)
    bids: list[tuple[str, str]]
    asks: list[tuple[str, str]]


UnifiedFrame = UnifiedTrade | UnifiedBook
