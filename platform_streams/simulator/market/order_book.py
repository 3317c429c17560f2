"""The L2 order book of one simulated instrument, in integer ticks and lots.

Each side is two parallel lists ordered best level first; bid keys are negated
prices so both sides sort ascending and ``bisect`` works on either. Every level
change bumps the book's update id and is appended to the caller's ``out`` list as
``(instrument, is_bid, price_ticks, lots_after, update_id)`` — the raw material of
every exchange's diff stream. Liquidity of our own (API) orders is tracked per
level in ``user_lots`` and is always filled after the simulated liquidity of the
same level (a conservative queue position).
"""

from __future__ import annotations

import random
from bisect import bisect_left

#: ``(instrument, is_bid, price_ticks, lots_after, update_id)``; ``lots_after == 0`` removes the level.
LevelChange = tuple[int, bool, int, int, int]
#: ``(price_ticks, simulated_lots_taken, user_lots_taken)`` for one level a taker walked through.
LevelFill = tuple[int, int, int]


class BookSide:
    """One side of a book: ``keys`` ascending (ask price, or minus bid price), ``lots`` per level."""

    __slots__ = ("is_bid", "keys", "lots")

    def __init__(self, is_bid: bool) -> None:
        self.is_bid = is_bid
        self.keys: list[int] = []
        self.lots: list[int] = []

    def price(self, k: int) -> int:
        key = self.keys[k]
        return -key if self.is_bid else key

    def levels(self, n: int | None = None) -> list[tuple[int, int]]:
        """``(price_ticks, lots)`` of the best ``n`` levels (all when ``n`` is None)."""
        keys, lots = self.keys[:n], self.lots[:n]
        if self.is_bid:
            return [(-k, q) for k, q in zip(keys, lots, strict=True)]
        return list(zip(keys, lots, strict=True))

    def __len__(self) -> int:
        return len(self.keys)


class OrderBook:
    """L2 book of one instrument: levels, update id, and the resting lots of API orders per level."""

    __slots__ = ("instrument", "bids", "asks", "update_id", "user_lots")

    def __init__(self, instrument: int, first_update_id: int) -> None:
        self.instrument = instrument
        self.bids = BookSide(is_bid=True)
        self.asks = BookSide(is_bid=False)
        self.update_id = first_update_id
        self.user_lots: dict[int, int] = {}  # side key -> lots of API orders resting at that level

    def best_bid(self) -> int:
        """Best bid in ticks, 0 when the side is empty."""
        return -self.bids.keys[0] if self.bids.keys else 0

    def best_ask(self) -> int:
        """Best ask in ticks, 0 when the side is empty."""
        return self.asks.keys[0] if self.asks.keys else 0

    def top(self) -> tuple[int, int, int, int]:
        """``(bid_ticks, bid_lots, ask_ticks, ask_lots)`` of the best levels (zeros for an empty side)."""
        bids, asks = self.bids, self.asks
        bid = (-bids.keys[0], bids.lots[0]) if bids.keys else (0, 0)
        ask = (asks.keys[0], asks.lots[0]) if asks.keys else (0, 0)
        return bid[0], bid[1], ask[0], ask[1]

    def side(self, is_bid: bool) -> BookSide:
        return self.bids if is_bid else self.asks

    def _record(self, out: list[LevelChange], is_bid: bool, price: int, lots: int) -> None:
        self.update_id += 1
        out.append((self.instrument, is_bid, price, lots, self.update_id))

    def add(self, is_bid: bool, price: int, lots: int, out: list[LevelChange]) -> None:
        """Add simulated liquidity at ``price`` (the caller keeps it from crossing the other side)."""
        side = self.bids if is_bid else self.asks
        key = -price if is_bid else price
        keys = side.keys
        k = bisect_left(keys, key)
        if k < len(keys) and keys[k] == key:
            level_lots = side.lots
            lots = level_lots[k] = level_lots[k] + lots
        else:
            keys.insert(k, key)
            side.lots.insert(k, lots)
        self.update_id = update_id = self.update_id + 1  # _record, inlined on the hot path
        out.append((self.instrument, is_bid, price, lots, update_id))

    def cancel(self, is_bid: bool, k: int, lots: int, out: list[LevelChange]) -> None:
        """Cancel up to ``lots`` of simulated liquidity at level index ``k``; API orders there stay."""
        side = self.bids if is_bid else self.asks
        key, current = side.keys[k], side.lots[k]
        user = self.user_lots.get(key, 0) if self.user_lots else 0
        remaining = current - lots if current - lots > user else user
        if remaining == current:
            return
        if remaining == 0:
            del side.keys[k]
            del side.lots[k]
        else:
            side.lots[k] = remaining
        self.update_id = update_id = self.update_id + 1
        out.append((self.instrument, is_bid, -key if is_bid else key, remaining, update_id))

    def take(self, taker_is_buy: bool, lots: int, limit: int | None, out: list[LevelChange]) -> list[LevelFill]:
        """Consume up to ``lots`` from the opposite side, best level first, not beyond price ``limit``."""
        side = self.asks if taker_is_buy else self.bids
        keys, level_lots = side.keys, side.lots
        limit_key = None if limit is None else (limit if taker_is_buy else -limit)
        user_lots = self.user_lots
        instrument, maker_is_bid, update_id = self.instrument, not taker_is_buy, self.update_id
        fills: list[LevelFill] = []
        remaining = lots
        while remaining > 0 and keys:
            key = keys[0]
            if limit_key is not None and key > limit_key:
                break
            available = level_lots[0]
            taken = remaining if remaining < available else available
            user = user_lots.get(key, 0) if user_lots else 0
            simulated = min(taken, available - user)
            from_user = taken - simulated
            if from_user:
                if user > from_user:
                    user_lots[key] = user - from_user
                else:
                    del user_lots[key]
            price = key if taker_is_buy else -key
            update_id += 1
            if taken == available:
                del keys[0]
                del level_lots[0]
                out.append((instrument, maker_is_bid, price, 0, update_id))
            else:
                level_lots[0] = available - taken
                out.append((instrument, maker_is_bid, price, available - taken, update_id))
            fills.append((price, simulated, from_user))
            remaining -= taken
        self.update_id = update_id
        return fills

    def available(self, taker_is_buy: bool, limit: int | None) -> int:
        """Lots a taker could get from the opposite side without going beyond ``limit``."""
        side = self.asks if taker_is_buy else self.bids
        if limit is None:
            return sum(side.lots)
        limit_key = limit if taker_is_buy else -limit
        total = 0
        for key, lots in zip(side.keys, side.lots, strict=False):
            if key > limit_key:
                break
            total += lots
        return total

    def add_user(self, is_bid: bool, price: int, lots: int, out: list[LevelChange]) -> None:
        """Rest ``lots`` of an API order at ``price``."""
        self.add(is_bid, price, lots, out)
        key = -price if is_bid else price
        self.user_lots[key] = self.user_lots.get(key, 0) + lots

    def remove_user(self, is_bid: bool, price: int, lots: int, out: list[LevelChange]) -> None:
        """Withdraw ``lots`` of a resting API order at ``price`` (a cancel or an expiry)."""
        side = self.bids if is_bid else self.asks
        key = -price if is_bid else price
        left = self.user_lots.get(key, 0) - lots
        if left > 0:
            self.user_lots[key] = left
        else:
            self.user_lots.pop(key, None)
        k = bisect_left(side.keys, key)
        if k >= len(side.keys) or side.keys[k] != key:
            return
        remaining = side.lots[k] - lots
        if remaining <= 0:
            del side.keys[k]
            del side.lots[k]
            remaining = 0
        else:
            side.lots[k] = remaining
        self._record(out, is_bid, price, remaining)

    def replenish(
        self, is_bid: bool, depth: int, start_price: int, typical_lots: int, rand: random.Random, out: list[LevelChange]
    ) -> None:
        """Add levels beyond the deepest one until the side has ``depth`` levels; an empty side starts at ``start_price``."""
        side = self.bids if is_bid else self.asks
        keys, level_lots = side.keys, side.lots
        expovariate, lognormvariate = rand.expovariate, rand.lognormvariate
        instrument, update_id = self.instrument, self.update_id
        while len(keys) < depth:
            if keys:
                gap = 1 + int(expovariate(0.8))
                price = (-keys[-1] - gap) if is_bid else (keys[-1] + gap)
            else:
                price = start_price
            if price < 1:
                break
            lots = max(1, int(typical_lots * (1.0 + len(keys) / 20.0) * lognormvariate(0.0, 0.7)))
            keys.append(-price if is_bid else price)
            level_lots.append(lots)
            update_id += 1
            out.append((instrument, is_bid, price, lots, update_id))
        self.update_id = update_id

    def trim(self, is_bid: bool, max_levels: int, out: list[LevelChange]) -> None:
        """Drop the deepest levels beyond ``max_levels`` (a level holding API orders is kept)."""
        side = self.bids if is_bid else self.asks
        keys = side.keys
        while len(keys) > max_levels and keys[-1] not in self.user_lots:
            key = keys.pop()
            side.lots.pop()
            self._record(out, is_bid, -key if is_bid else key, 0)
