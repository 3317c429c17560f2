"""Kraken v1 subscriptions: ``book`` at a depth, ``trade``, ``ticker``, ``ohlc`` at an interval.

Each kind of subscription has a slot; a pair's channel for a slot has a fixed
``channelID`` (Kraken numbers a pair's channels close together: book, trade and
ticker of WAVES/EUR are 1664, 1665 and 1668 in the capture), and its slot is the
channel's ground-truth code.
"""

from __future__ import annotations

from dataclasses import dataclass

BOOK_DEPTHS = (10, 25, 100, 500, 1000)
OHLC_INTERVALS_MIN = (1, 5, 15, 30, 60, 240, 1440, 10080, 21600)
_SLOTS_PER_PAIR = 32


@dataclass(frozen=True, slots=True)
class Subscription:
    """One kind of subscription: name and depth (book) or interval in minutes (ohlc), 0 otherwise."""

    name: str
    parameter: int = 0

    @property
    def channel_name(self) -> str:
        if self.name == "book":
            return f"book-{self.parameter}"
        if self.name == "ohlc":
            return f"ohlc-{self.parameter}"
        return self.name

    def as_json(self) -> dict[str, object]:
        if self.name == "book":
            return {"depth": self.parameter, "name": "book"}
        if self.name == "ohlc":
            return {"interval": self.parameter, "name": "ohlc"}
        return {"name": self.name}


SUBSCRIPTIONS: tuple[Subscription, ...] = (
    *(Subscription("book", depth) for depth in BOOK_DEPTHS),
    Subscription("trade"),
    Subscription("ticker"),
    *(Subscription("ohlc", minutes) for minutes in OHLC_INTERVALS_MIN),
)
SLOT = {subscription: slot for slot, subscription in enumerate(SUBSCRIPTIONS)}
TRADE_SLOT, TICKER_SLOT = SLOT[Subscription("trade")], SLOT[Subscription("ticker")]
BOOK_SLOTS = tuple(SLOT[Subscription("book", depth)] for depth in BOOK_DEPTHS)
OHLC_SLOTS = tuple(SLOT[Subscription("ohlc", minutes)] for minutes in OHLC_INTERVALS_MIN)
CHANNEL_NAMES = [subscription.channel_name for subscription in SUBSCRIPTIONS]


def channel_id(instrument: int, slot: int) -> int:
    return (instrument + 1) * _SLOTS_PER_PAIR + slot


def from_channel_id(number: int) -> tuple[int, int]:
    """``(instrument, slot)`` of a channelID (the instrument may be out of range: the caller checks)."""
    return number // _SLOTS_PER_PAIR - 1, number % _SLOTS_PER_PAIR
