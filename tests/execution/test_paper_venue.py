"""Paper fills from market data: crossing orders take the opposite best, resting orders queue
behind the displayed size, fees exact; and the executor runs on it as on a real venue."""

from __future__ import annotations

import asyncio

import pytest

from platform_streams.execution.executor import AccountExecutor
from platform_streams.execution.paper_venue import PaperOrderEntry, PaperVenue, paper_fee
from platform_streams.schemas import BestBidOffer, Liquidity, OrderRequest, OrderStatus, OrderType, Side, TimeInForce, Trade


def quote(bid: int, bid_size: int, ask: int, ask_size: int, symbol: str = "BTC/USDT") -> BestBidOffer:
    return BestBidOffer("binance", symbol, 1, 1, 1, bid, bid_size, ask, ask_size, 2, 3)


def trade(price: int, size: int, side: Side = Side.SELL) -> Trade:
    return Trade("binance", "BTC/USDT", 2, 2, 2, "t", side, price, size, 2, 3)


def request(name: str, side: Side, price: int | None, size: int, scale: int = 2) -> OrderRequest:
    return OrderRequest(
        client_order_id=name, account="paper", exchange="binance", symbol="BTC/USDT", side=side,
        order_type=OrderType.LIMIT if price else OrderType.MARKET, time_in_force=TimeInForce.GTC, price=price,
        size=size, price_scale=scale, size_scale=3, strategy="s", intent_id=name, created_ts_ns=0,
        market_receive_ts_ns=0, hops=[],
    )  # fmt: skip


def test_market_and_crossing_orders_fill_at_the_opposite_best_as_taker_with_exact_fees() -> None:
    venue = PaperVenue("binance", "paper", maker_fee_bps=2, taker_fee_bps=7)
    assert venue.place(request("none", Side.BUY, None, 1_000)).status is OrderStatus.REJECTED  # no market data yet
    venue.on_quote(quote(10_000, 5_000, 10_010, 4_000))
    market = venue.place(request("m", Side.BUY, None, 1_500))
    crossing = venue.place(request("x", Side.SELL, 9_990, 500))  # sells below the bid: takes the bid
    assert [(f.price, f.size, f.liquidity) for f in market.fills] == [(10_010, 1_500, Liquidity.TAKER)]
    assert [(f.price, f.size) for f in crossing.fills] == [(10_000, 500)]
    fee = market.fills[0]
    assert (fee.fee, fee.fee_scale, fee.fee_asset) == (10_510_500, 8, "USDT")  # 100.10 × 1.5 × 7 bp = 0.105105, exact at 8
    assert market.status is OrderStatus.FILLED and venue.place(request("m", Side.BUY, None, 1_500)) is market


def test_a_resting_order_queues_behind_the_displayed_size_then_fills_as_maker() -> None:
    venue = PaperVenue("binance", "paper")
    venue.on_quote(quote(10_000, 2_000, 10_010, 4_000))
    order = venue.place(request("r", Side.BUY, 10_000, 1_000))  # joins the bid: 2.000 ahead of it
    assert order.status is OrderStatus.NEW and order.queue_ahead == 2_000
    assert venue.on_trade(trade(10_000, 1_500)) == [] and order.queue_ahead == 500
    assert venue.on_trade(trade(10_000, 800)) == [order]  # 0.5 more ahead, then 0.3 for us
    assert (order.status, order.filled) == (OrderStatus.PARTIALLY_FILLED, 300)
    venue.on_trade(trade(10_005, 5_000))  # above our price: nothing for a buy at 100.00
    assert order.filled == 300
    venue.on_trade(trade(9_990, 100))  # through our price: we were hit
    assert order.filled == 400
    venue.on_quote(quote(9_980, 1_000, 9_995, 1_000))  # the ask came down through our bid
    assert (order.status, order.filled) == (OrderStatus.FILLED, 1_000)
    assert {f.liquidity for f in order.fills} == {Liquidity.MAKER}
    assert venue.cancel("r") is order and order.status is OrderStatus.FILLED  # too late to cancel


def test_a_better_price_is_first_in_its_queue_and_cancel_stops_it() -> None:
    venue = PaperVenue("binance", "paper")
    venue.on_quote(quote(10_000, 2_000, 10_010, 4_000))
    order = venue.place(request("b", Side.SELL, 10_005, 1_000))  # inside the spread: nobody ahead
    assert order.queue_ahead == 0
    venue.on_trade(trade(10_005, 400, Side.BUY))
    assert order.filled == 400
    venue.cancel("b")
    venue.on_trade(trade(10_006, 400, Side.BUY))
    assert (order.status, order.filled) == (OrderStatus.CANCELED, 400)


def test_the_executor_runs_on_paper_as_on_a_venue() -> None:
    class MemoryStore:
        """The order store's interface in memory (the PostgreSQL one is tested on its own)."""

        def __init__(self) -> None:
            self.recorded: set[str] = set()

        async def record(self, r: OrderRequest, sent_ts_ns: int | None = None) -> bool:
            new = r.client_order_id not in self.recorded
            self.recorded.add(r.client_order_id)
            return new

        async def record_many(self, requests: list[tuple[OrderRequest, int | None]]) -> set[str]:
            return {r.client_order_id for r, sent in requests if await self.record(r, sent)}

        async def mark_sent(self, *_: object) -> None: ...
        async def apply(self, _: object) -> None: ...
        async def record_fill(self, _: object) -> bool:
            return True

        async def save_position(self, _: object) -> None: ...

    venue = PaperVenue("binance", "paper")
    venue.on_quote(quote(10_000, 2_000, 10_010, 4_000))
    executor = AccountExecutor(PaperOrderEntry(venue), MemoryStore())  # type: ignore[arg-type]

    async def scenario() -> None:
        await executor.submit([request("p1", Side.BUY, None, 1_000), request("p2", Side.SELL, 10_020, 500)])
        assert list(executor.open_orders) == ["p2"]
        venue.on_trade(trade(10_025, 500, Side.BUY))
        events = await executor.poll()
        assert [getattr(e, "status", None) for e in events][0] is OrderStatus.FILLED and executor.open_orders == {}
        position = executor.positions.get("paper", "binance", "BTC/USDT")
        assert position is not None and position.snapshot().size == 500  # bought 1.000, sold 0.500
        # one batch: the same id twice and a third order: one placement each, recorded in one round trip
        placed = venue.place
        calls: list[str] = []
        venue.place = lambda r: (calls.append(r.client_order_id), placed(r))[1]  # type: ignore[method-assign]
        again = request("p3", Side.SELL, 10_040, 100)
        await executor.submit([again, again, request("p4", Side.SELL, 10_050, 100)])
        assert calls == ["p3", "p4"] and set(executor.open_orders) == {"p3", "p4"}

    asyncio.run(scenario())


def test_fees_outside_a_sane_range_are_refused() -> None:
    with pytest.raises(ValueError, match="basis points"):
        PaperVenue("binance", "paper", taker_fee_bps=5_000)


def test_fees_are_charged_to_8_decimals_rounded_down() -> None:
    """Binance's BTC/USDT at price and size scale 8: 60,000.12345678 × 0.12345678 × 10 bp has 20
    decimals, past 64 bits (it made fills, then positions summing fees, unpublishable)."""
    price, size = 6_000_012_345_678, 12_345_678
    assert paper_fee(price, size, 10, 8, 8) == (740_742_204, 8)  # 7.40742204 USDT, the exact 7.407422047... rounded down
    assert paper_fee(6_000_000_000_000, 1_000_000, 10, 8, 8) == (60_000_000, 8)  # 0.6 USDT, exact
    assert paper_fee(10_010, 1_500, 7, 1, 1) == (10_010 * 1_500 * 7, 6)  # fewer digits: as they are
