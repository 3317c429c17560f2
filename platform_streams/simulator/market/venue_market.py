"""One exchange's simulated market: its books driven by order flow toward the exchange's fair price.

Each arrival is a taker (direction biased by where the fair price sits against the
book's mid; when the fair price has moved past the other side, the taker sweeps
everything up to it, as arbitrage would), a limit add around the fair price, or a
cancel near the touch. Levels a taker consumes are replenished at the far end, so
every side keeps at least ``book_depth`` levels. Orders from the API go through the
same :meth:`VenueMarket.execute_taker`, and resting API liquidity hit by a taker is
handed to the :class:`MakerFillListener` (the matching engine).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from platform_streams.simulator.market.candles import CandleBook
from platform_streams.simulator.market.market_batch import MarketBatch
from platform_streams.simulator.market.order_book import LevelChange, OrderBook
from platform_streams.simulator.market.order_flow import OrderFlow
from platform_streams.simulator.market.price_model import SharedPriceModel, VenuePriceNoise
from platform_streams.simulator.market.trade_tape import TradeTape
from platform_streams.simulator.market.universe import SCALE_FACTOR, Instrument, stable_seed

_SWEEP = 1 << 62  # "as many lots as it takes": a sweep is bounded by its limit price


@dataclass(frozen=True, slots=True)
class MarketParameters:
    """Shape of every book and of the order-flow mix."""

    book_depth: int = 50
    extra_levels: int = 20  # a side may grow this far past book_depth before its deepest levels drop
    taker_share: float = 0.25
    add_share: float = 0.40  # the rest of the arrivals are cancels
    history_minutes: int = 720
    recent_trades: int = 200  # trades and aggregate trades kept per instrument for the recent-trades endpoints


class MakerFillListener(Protocol):
    """Told when a taker consumed API liquidity resting in a book (the matching engine)."""

    def fill_resting(
        self, market: VenueMarket, instrument: int, maker_is_bid: bool, price: int, lots: int, ts_ns: int
    ) -> list[tuple[int, int]]:
        """Fill resting API orders at ``price`` for ``lots`` in time priority; returns ``(trade_id, lots)`` per fill."""
        ...


class VenueMarket:
    """Books, order flow, trade ids and candles of one exchange."""

    def __init__(
        self,
        exchange: str,
        instruments: tuple[Instrument, ...],
        prices: SharedPriceModel,
        seed: int,
        rate_per_s: float,
        start_ns: int,
        parameters: MarketParameters | None = None,
    ) -> None:
        self.exchange = exchange
        self.instruments = instruments
        self.parameters = parameters or MarketParameters()
        self._max_levels = self.parameters.book_depth + self.parameters.extra_levels  # a side trims past this
        self._prices = prices
        self._base = np.array([i.base_asset for i in instruments], dtype=np.int64)
        self._quote = np.array([i.quote_asset for i in instruments], dtype=np.int64)
        self._ticks_per_unit = np.array([SCALE_FACTOR / i.tick for i in instruments])
        self._by_asset = _instruments_by_asset(instruments)
        self.noise = VenuePriceNoise(len(instruments), seed, exchange)
        self.flow = OrderFlow(np.array([i.activity for i in instruments]), rate_per_s, seed, exchange)
        self._rand = random.Random(stable_seed("book", exchange, seed))
        self._next_trade_id = [self._rand.randrange(10**6, 10**9) for _ in instruments]
        self._next_aggregate_id = [self._rand.randrange(10**5, 10**8) for _ in instruments]
        self.books = [OrderBook(i.index, self._rand.randrange(10**8, 10**10)) for i in instruments]
        for instrument in instruments:
            self._seed_book(instrument)
        self.candles = CandleBook(
            [i.start_price_ticks for i in instruments], start_ns // 1_000_000, self.parameters.history_minutes
        )
        self._tape = TradeTape(len(instruments), self.parameters.recent_trades)
        self._taped = (0, 0)  # trades and aggregates of the current batch already on the tape
        self.batch = MarketBatch()
        self.maker_listener: MakerFillListener | None = None

    def take_batch(self) -> MarketBatch:
        """Hand over everything that happened since the last call, and start a new batch."""
        batch = self.batch
        self._tape_batch()
        self.batch, self._taped = MarketBatch(), (0, 0)
        return batch

    def recent_trades(self, instrument: int) -> list[tuple[int, ...]]:
        """The last trades of ``instrument`` (see :data:`trade_tape.TRADE_WIDTH`), oldest first."""
        self._tape_batch()
        return self._tape.trades(instrument)

    def recent_aggregates(self, instrument: int) -> list[tuple[int, ...]]:
        """The last aggregate trades of ``instrument`` (see :data:`trade_tape.AGGREGATE_WIDTH`), oldest first."""
        self._tape_batch()
        return self._tape.aggregates(instrument)

    def _tape_batch(self) -> None:
        """Put the current batch's trades on the tape (in one pass per batch, not one call per trade)."""
        trades, aggregates = self.batch.trades, self.batch.aggregates
        taped_trades, taped_aggregates = self._taped
        if len(trades) > taped_trades:
            self._tape.add_trades(trades[taped_trades:] if taped_trades else trades)
        if len(aggregates) > taped_aggregates:
            self._tape.add_aggregates(aggregates[taped_aggregates:] if taped_aggregates else aggregates)
        self._taped = (len(trades), len(aggregates))

    def fair_ticks(self, instrument: int) -> float:
        """This exchange's fair price of ``instrument``, in (fractional) ticks."""
        log_usd = self._prices.log_usd
        log_price = log_usd[self._base[instrument]] - log_usd[self._quote[instrument]] + self.noise.log_noise[instrument]
        return math.exp(float(log_price)) * float(self._ticks_per_unit[instrument])

    def allocate_trade_id(self, instrument: int) -> int:
        trade_id = self._next_trade_id[instrument]
        self._next_trade_id[instrument] = trade_id + 1
        return trade_id

    def step(self, t0_ns: int, dt_ns: int) -> None:
        """Apply one quantum of simulated order flow; its effects accumulate in :attr:`batch`."""
        self.noise.step(dt_ns / 1e9)
        for asset in self._prices.jumped.tolist():
            if asset in self._by_asset:
                self.flow.boost(self._by_asset[asset])
        draws = self.flow.draw(dt_ns)
        if not draws:
            return
        chosen = np.array(draws.instruments, dtype=np.int64)
        log_usd = self._prices.log_usd
        fair = (
            np.exp(log_usd[self._base[chosen]] - log_usd[self._quote[chosen]] + self.noise.log_noise[chosen])
            * self._ticks_per_unit[chosen]
        )
        taker_cut = self.parameters.taker_share
        add_cut = taker_cut + self.parameters.add_share
        taker, add, cancel = self._simulated_taker, self._simulated_add, self._simulated_cancel
        for instrument, fair_ticks, kind, side_u, size, level, offset in zip(
            draws.instruments, fair.tolist(), draws.kinds, draws.sides, draws.sizes, draws.levels, draws.offsets_ns, strict=True
        ):
            if kind < taker_cut:
                taker(instrument, fair_ticks, side_u, size, t0_ns + offset)
            elif kind < add_cut:
                add(instrument, fair_ticks, side_u, size, level)
            else:
                cancel(instrument, fair_ticks, side_u, size, level)

    def execute_taker(
        self, instrument: int, is_buy: bool, lots: int, limit: int | None, ts_ns: int
    ) -> list[tuple[int, int, int]]:
        """Walk the book as a taker; returns ``(trade_id, price_ticks, lots)`` of every trade it printed."""
        prints: list[tuple[int, int, int]] = []
        self._take(instrument, is_buy, lots, limit, ts_ns, prints)
        return prints

    def _take(
        self, instrument: int, is_buy: bool, lots: int, limit: int | None, ts_ns: int, prints: list[tuple[int, int, int]] | None
    ) -> None:
        """:meth:`execute_taker`, with its prints appended to ``prints`` when given (simulated takers need none)."""
        batch, book = self.batch, self.books[instrument]
        fills = book.take(is_buy, lots, limit, batch.levels)
        if not fills:
            return
        buyer_is_maker = not is_buy
        trades, aggregates, random, on_trade = batch.trades, batch.aggregates, self._rand.random, self.candles.on_trade
        next_trade_ids, next_aggregate_ids, listener = self._next_trade_id, self._next_aggregate_id, self.maker_listener
        for price, simulated, from_user in fills:
            first = trade_id = next_trade_ids[instrument]
            if simulated < 2 or random() < 0.7:
                made = [(trade_id, simulated)] if simulated else []
                trade_id += 1 if simulated else 0
            else:
                half = simulated // 2
                made = [(trade_id, half), (trade_id + 1, simulated - half)]
                trade_id += 2
            next_trade_ids[instrument] = trade_id
            if from_user and listener is not None:
                made += listener.fill_resting(self, instrument, buyer_is_maker, price, from_user, ts_ns)
            for made_id, part in made:
                trades.append((instrument, made_id, price, part, buyer_is_maker, ts_ns))
                on_trade(instrument, price, part, is_buy, made_id, ts_ns)
                if prints is not None:
                    prints.append((made_id, price, part))
            aggregate_id = next_aggregate_ids[instrument]
            next_aggregate_ids[instrument] = aggregate_id + 1
            last = next_trade_ids[instrument] - 1
            aggregates.append((instrument, aggregate_id, price, simulated + from_user, first, last, buyer_is_maker, ts_ns))
        if len(book.bids.keys if buyer_is_maker else book.asks.keys) < self.parameters.book_depth:
            self._refill(instrument, buyer_is_maker)

    def rest_api_order(self, instrument: int, is_bid: bool, price: int, lots: int) -> None:
        self.books[instrument].add_user(is_bid, price, lots, self.batch.levels)

    def withdraw_api_order(self, instrument: int, is_bid: bool, price: int, lots: int) -> None:
        self.books[instrument].remove_user(is_bid, price, lots, self.batch.levels)

    def _simulated_taker(self, instrument: int, fair: float, side_u: float, size: float, ts_ns: int) -> None:
        book = self.books[instrument]
        bid_keys, asks = book.bids.keys, book.asks.keys
        bid, ask = -bid_keys[0] if bid_keys else 0, asks[0] if asks else 0
        spread = max(ask - bid, 1)
        is_buy = side_u < 0.5 + 0.45 * math.tanh((2.0 * fair - bid - ask) / spread)
        lots, limit = max(1, int(self.instruments[instrument].typical_lots * 0.4 * size)), None
        if is_buy and ask and fair > ask + spread:
            lots, limit = _SWEEP, int(fair)
        elif not is_buy and bid and fair < bid - spread:
            lots, limit = _SWEEP, math.ceil(fair)
        self._take(instrument, is_buy, lots, limit, ts_ns, None)

    def _simulated_add(self, instrument: int, fair: float, side_u: float, size: float, distance: int) -> None:
        book, spec = self.books[instrument], self.instruments[instrument]
        out = self.batch.levels
        half_spread = spec.spread_ticks / 2.0
        if side_u < 0.5:
            price = math.floor(fair - half_spread) - distance
            asks = book.asks.keys
            if asks and price >= asks[0]:
                price = asks[0] - 1
            if price < 1:
                return
            book.add(True, price, max(1, int(spec.typical_lots * size)), out)
            if len(book.bids.keys) > self._max_levels:
                book.trim(True, self._max_levels, out)
        else:
            price = max(1, math.ceil(fair + half_spread) + distance)
            bids = book.bids.keys
            if bids and price <= -bids[0]:
                price = -bids[0] + 1
            book.add(False, price, max(1, int(spec.typical_lots * size)), out)
            if len(book.asks.keys) > self._max_levels:
                book.trim(False, self._max_levels, out)

    def _simulated_cancel(self, instrument: int, fair: float, side_u: float, size: float, distance: int) -> None:
        book = self.books[instrument]
        is_bid = side_u < 0.5
        side = book.bids if is_bid else book.asks
        keys = side.keys
        if keys:
            k = min(distance, len(keys) - 1)
            fraction = 0.35 * size
            lots = side.lots[k] if fraction >= 0.8 else max(1, int(side.lots[k] * fraction))
            book.cancel(is_bid, k, lots, self.batch.levels)
        if len(keys) < self.parameters.book_depth:
            self._refill(instrument, is_bid, fair)

    def _refill(self, instrument: int, is_bid: bool, fair: float | None = None) -> None:
        book, spec = self.books[instrument], self.instruments[instrument]
        side = book.bids if is_bid else book.asks
        depth = self.parameters.book_depth
        if len(side.keys) >= depth:
            return
        if fair is None:
            fair = self.fair_ticks(instrument)
        half_spread = spec.spread_ticks / 2.0
        if is_bid:
            start = math.floor(fair - half_spread)
            ask = book.best_ask()
            start = min(start, ask - spec.spread_ticks) if ask else start
        else:
            start = math.ceil(fair + half_spread)
            bid = book.best_bid()
            start = max(start, bid + spec.spread_ticks)
        book.replenish(is_bid, depth, max(1, start), spec.typical_lots, self._rand, self.batch.levels)

    def _seed_book(self, instrument: Instrument) -> None:
        book = self.books[instrument.index]
        bid = max(1, instrument.start_price_ticks - (instrument.spread_ticks + 1) // 2)
        scratch: list[LevelChange] = []
        depth = self.parameters.book_depth + self.parameters.extra_levels // 2
        book.replenish(True, depth, bid, instrument.typical_lots, self._rand, scratch)
        book.replenish(False, depth, bid + instrument.spread_ticks, instrument.typical_lots, self._rand, scratch)


def _instruments_by_asset(instruments: tuple[Instrument, ...]) -> dict[int, np.ndarray]:
    by_asset: dict[int, list[int]] = {}
    for instrument in instruments:
        by_asset.setdefault(instrument.base_asset, []).append(instrument.index)
        by_asset.setdefault(instrument.quote_asset, []).append(instrument.index)
    return {asset: np.array(indices, dtype=np.int64) for asset, indices in by_asset.items()}
