"""An order book of one instrument: price levels as integer mantissas, no I/O.

Each side keeps a dict from price to size and a sorted list of keys whose last element
is the best level (bid keys are prices, ask keys are negated prices), so changes near
the top of the book, where most of them happen, move little memory.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterable

from platform_streams.schemas.events import Level


class InvalidLevel(ValueError):
    """A level with a negative price or size."""


class _Side:
    """One side's levels; ``sign`` is +1 for bids and -1 for asks so the best key is always last."""

    __slots__ = ("sign", "sizes", "keys")

    def __init__(self, sign: int) -> None:
        self.sign = sign
        self.sizes: dict[int, int] = {}
        self.keys: list[int] = []

    def set(self, price: int, size: int) -> None:
        sizes = self.sizes
        if size == 0:
            if price in sizes:
                del sizes[price]
                keys = self.keys
                del keys[bisect_left(keys, self.sign * price)]
            return
        if size < 0 or price < 0:
            raise InvalidLevel(f"level ({price}, {size}) has a negative price or size")
        if price not in sizes:
            insort(self.keys, self.sign * price)
        sizes[price] = size

    def apply(self, levels: Iterable[Level]) -> None:
        """:meth:`set` for each level in order, inlined: this loop runs for every level of every delta."""
        sizes, keys, sign = self.sizes, self.keys, self.sign
        for price, size in levels:
            if size == 0:
                if price in sizes:
                    del sizes[price]
                    del keys[bisect_left(keys, sign * price)]
                continue
            if size < 0 or price < 0:
                raise InvalidLevel(f"level ({price}, {size}) has a negative price or size")
            if price not in sizes:
                insort(keys, sign * price)
            sizes[price] = size

    def load(self, levels: Iterable[Level]) -> None:
        sizes = {price: size for price, size in levels if size}
        if any(price < 0 or size < 0 for price, size in sizes.items()):
            raise InvalidLevel("snapshot has a level with a negative price or size")
        self.sizes = sizes
        sign = self.sign
        self.keys = sorted(sign * price for price in sizes)

    def best(self) -> Level | None:
        if not self.keys:
            return None
        price = self.sign * self.keys[-1]
        return price, self.sizes[price]

    def top(self, depth: int) -> list[Level]:
        sign, sizes = self.sign, self.sizes
        keys = self.keys[-depth:] if depth > 0 else []
        return [(sign * key, sizes[sign * key]) for key in reversed(keys)]

    def truncate(self, depth: int) -> list[int]:
        """Drop the levels beyond the best ``depth``; returns their prices."""
        excess = len(self.keys) - depth
        if excess <= 0:
            return []
        sign, sizes = self.sign, self.sizes
        removed = [sign * key for key in self.keys[:excess]]
        for price in removed:
            del sizes[price]
        del self.keys[:excess]
        return removed


class OrderBook:
    """Bids and asks of one instrument at fixed scales; a level of size 0 is a removal.

    Pure and synchronous: callers (the exchange sync rules) decide when a change is valid."""

    __slots__ = ("price_scale", "size_scale", "_bids", "_asks")

    def __init__(self, price_scale: int, size_scale: int) -> None:
        self.price_scale = price_scale
        self.size_scale = size_scale
        self._bids = _Side(1)
        self._asks = _Side(-1)

    def load(self, bids: Iterable[Level], asks: Iterable[Level]) -> None:
        """Replace the whole book (a snapshot), in any level order; zero sizes are skipped."""
        self._bids.load(bids)
        self._asks.load(asks)

    def clear(self) -> None:
        self._bids = _Side(1)
        self._asks = _Side(-1)

    def apply(self, bids: Iterable[Level], asks: Iterable[Level]) -> None:
        """Apply changed levels in order: each sets its price's size, 0 removes the level."""
        self._bids.apply(bids)
        self._asks.apply(asks)

    def set_bid(self, price: int, size: int) -> None:
        self._bids.set(price, size)

    def set_ask(self, price: int, size: int) -> None:
        self._asks.set(price, size)

    def best_bid(self) -> Level | None:
        """Highest bid as ``(price, size)``, or None when there are no bids."""
        return self._bids.best()

    def best_ask(self) -> Level | None:
        """Lowest ask as ``(price, size)``, or None when there are no asks."""
        return self._asks.best()

    def top_bids(self, depth: int) -> list[Level]:
        """The best ``depth`` bids, best (highest) first."""
        return self._bids.top(depth)

    def top_asks(self, depth: int) -> list[Level]:
        """The best ``depth`` asks, best (lowest) first."""
        return self._asks.top(depth)

    def bids(self) -> list[Level]:
        return self._bids.top(len(self._bids.keys))

    def asks(self) -> list[Level]:
        return self._asks.top(len(self._asks.keys))

    def bid_size(self, price: int) -> int:
        """Size at a bid price (0 when there is no such level)."""
        return self._bids.sizes.get(price, 0)

    def ask_size(self, price: int) -> int:
        """Size at an ask price (0 when there is no such level)."""
        return self._asks.sizes.get(price, 0)

    def is_crossed(self) -> bool:
        """True when the best bid is at or above the best ask (a locked book counts as crossed)."""
        bids, asks = self._bids.keys, self._asks.keys
        return bool(bids and asks) and bids[-1] >= -asks[-1]

    def truncate(self, depth: int) -> int:
        """Keep only the best ``depth`` levels on each side; returns how many levels were dropped."""
        bids, asks = self.truncate_levels(depth)
        return len(bids) + len(asks)

    def truncate_levels(self, depth: int) -> tuple[list[int], list[int]]:
        """Keep only the best ``depth`` levels on each side; returns the dropped bid and ask prices."""
        return self._bids.truncate(depth), self._asks.truncate(depth)

    @property
    def bid_depth(self) -> int:
        return len(self._bids.keys)

    @property
    def ask_depth(self) -> int:
        return len(self._asks.keys)

    def __repr__(self) -> str:
        return f"OrderBook(bids={self.bid_depth}, asks={self.ask_depth}, best_bid={self.best_bid()}, best_ask={self.best_ask()})"
