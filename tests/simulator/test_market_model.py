"""The simulated market: universe, cross-exchange prices, order flow rate and bursts, books and determinism."""

from __future__ import annotations

import numpy as np

from platform_streams.simulator.clock import SimClock
from platform_streams.simulator.market.universe import build_universe
from platform_streams.simulator.market.world import MarketWorld
from tests.simulator.conftest import EPOCH_MS

QUANTUM_NS = 10_000_000


def world(counts: dict[str, int], rate: float, seed: int = 3) -> MarketWorld:
    return MarketWorld(seed, counts, rate, SimClock(EPOCH_MS * 1_000_000, QUANTUM_NS))


def test_every_exchange_lists_a_thousand_plausible_instruments_sharing_the_majors() -> None:
    universe = build_universe(7, {"binance": 1000, "okx": 1000, "kraken": 1000})
    listings = {name: {i.symbol for i in listing} for name, listing in universe.listings.items()}
    assert all(len(symbols) == 1000 for symbols in listings.values())
    shared = listings["binance"] & listings["okx"] & listings["kraken"]
    assert {"BTC/USDT", "ETH/USDT"} <= shared and len(shared) > 100
    assert "ETH/BTC" in listings["binance"] and "BTC/USD" in listings["kraken"]
    for instrument in universe.listings["binance"]:
        assert instrument.base != instrument.quote and "/" not in instrument.base
        assert instrument.tick >= 1 and instrument.lot >= 1 and instrument.min_notional >= 1
        assert 1_000 <= instrument.start_price_ticks <= 10**6  # 0.1 to 10 basis points per tick


def test_the_same_pair_is_correlated_but_not_identical_across_exchanges() -> None:
    market = world({"binance": 200, "okx": 200}, rate=0.0)
    binance, okx = market.venues["binance"], market.venues["okx"]
    pair = next(i for i in binance.instruments if i.symbol == "BTC/USDT")
    other = next(i for i in okx.instruments if i.symbol == "BTC/USDT")
    prices = []
    for _ in range(3000):  # 30 simulated seconds
        market.step()
        prices.append((binance.fair_ticks(pair.index) * pair.tick, okx.fair_ticks(other.index) * other.tick))
    a, b = np.log(np.array(prices)).T
    spread_bps = (a - b) * 1e4
    assert 0.1 < np.abs(spread_bps).mean() < 50  # a cross-exchange spread exists and stays small
    assert np.corrcoef(np.diff(a[::100]), np.diff(b[::100]))[0, 1] > 0.3


def test_arrivals_follow_the_configured_rate_with_bursts() -> None:
    market = world({"binance": 300}, rate=5000.0)
    flow = market.venues["binance"].flow
    per_second = []
    for _ in range(60):
        count = 0
        for _ in range(100):
            count += len(flow.draw(QUANTUM_NS))
        per_second.append(count)
    counts = np.array(per_second)
    assert 0.6 * 5000 < counts.mean() < 1.6 * 5000
    assert counts.var() > 3 * counts.mean()  # over-dispersed: bursts, not a plain Poisson process


def test_a_rate_of_one_event_per_second_is_possible() -> None:
    market = world({"binance": 50}, rate=1.0)
    arrivals = sum(len(market.venues["binance"].flow.draw(QUANTUM_NS)) for _ in range(30_000))  # 300 s
    assert 100 < arrivals < 900


def test_books_stay_deep_uncrossed_and_trades_walk_through_levels() -> None:
    market = world({"binance": 40}, rate=20000.0)
    venue = market.venues["binance"]
    trades = levels = 0
    walks: set[tuple[int, int]] = set()
    for _ in range(500):
        market.step()
        batch = venue.take_batch()
        trades += len(batch.trades)
        levels += len(batch.levels)
        prices_per_taker: dict[tuple[int, int], set[int]] = {}
        for instrument, _, price, *_, ts in batch.aggregates:
            prices_per_taker.setdefault((instrument, ts), set()).add(price)
        walks |= {taker for taker, prices in prices_per_taker.items() if len(prices) > 1}
        for book in venue.books:
            assert len(book.bids) >= 50 and len(book.asks) >= 50
            assert 0 < book.best_bid() < book.best_ask()
    assert trades > 1000 and levels > trades
    assert len(walks) > 10  # takers that consumed the touch and went on to the next levels
    fair = venue.fair_ticks(0)
    assert abs(venue.books[0].best_bid() - fair) / fair < 0.01  # the book follows its fair price


def test_update_ids_and_trade_ids_are_consecutive_per_instrument() -> None:
    market = world({"binance": 20}, rate=8000.0)
    venue = market.venues["binance"]
    last_update: dict[int, int] = {}
    last_trade: dict[int, int] = {}
    for _ in range(300):
        market.step()
        batch = venue.take_batch()
        for instrument, _, _, _, update_id in batch.levels:
            assert update_id == last_update.get(instrument, update_id - 1) + 1
            last_update[instrument] = update_id
        for instrument, trade_id, *_ in batch.trades:
            assert trade_id == last_trade.get(instrument, trade_id - 1) + 1
            last_trade[instrument] = trade_id


def test_same_seed_same_market() -> None:
    def run(seed: int) -> list[tuple]:
        market = world({"binance": 30, "okx": 30}, rate=3000.0, seed=seed)
        out: list[tuple] = []
        for _ in range(200):
            market.step()
            for venue in market.venues.values():
                batch = venue.take_batch()
                out += batch.levels + batch.trades
        return out

    assert run(1) == run(1)
    assert run(1) != run(2)
