"""The matching engine against the simulated book: walks, time in force, resting orders, balances and fees."""

from __future__ import annotations

from dataclasses import replace

import pytest

from platform_streams.simulator.clock import SimClock
from platform_streams.simulator.market.world import MarketWorld
from platform_streams.simulator.matching.accounts import Account, AccountSpec
from platform_streams.simulator.matching.engine import MatchingEngine
from platform_streams.simulator.matching.filters import OrderRejected, RejectReason
from platform_streams.simulator.matching.orders import (
    ExecutionType,
    Fill,
    Order,
    OrderRequest,
    OrderSide,
    OrderStatus,
    OrderType,
    TimeInForce,
)
from tests.simulator.conftest import EPOCH_MS


class RecordingSink:
    """An order event sink that remembers what the engine reported."""

    def __init__(self) -> None:
        self.executions: list[tuple[int, ExecutionType, OrderStatus]] = []
        self.balance_events = 0

    def on_execution(self, account: Account, order: Order, execution: ExecutionType, fill: Fill | None, time_ms: int) -> None:
        self.executions.append((order.order_id, execution, order.status))

    def on_balances(self, account: Account, assets: list[str], time_ms: int) -> None:
        self.balance_events += 1


@pytest.fixture
def world() -> MarketWorld:
    return MarketWorld(4, {"binance": 10}, 2000.0, SimClock(EPOCH_MS * 1_000_000, 10_000_000))


@pytest.fixture
def engine(world: MarketWorld) -> MatchingEngine:
    engine = MatchingEngine(world.venues["binance"], world.clock)
    engine.sinks.append(RecordingSink())
    return engine


def account() -> Account:
    return Account(
        AccountSpec("key", "secret", {"USDT": "10000000", "ETH": "1000", "BTC": "100"}, maker_fee_bps=2, taker_fee_bps=10)
    )


def request(
    engine: MatchingEngine,
    side: OrderSide,
    lots: int,
    price_ticks: int = 0,
    tif: TimeInForce = TimeInForce.GTC,
    order_type: OrderType = OrderType.LIMIT,
    client_id: str = "c1",
) -> OrderRequest:
    spec = engine.market.instruments[0]
    return OrderRequest(0, side, order_type, tif, lots * spec.lot, price_ticks * spec.tick, 0, client_id)


def lots_worth(engine: MatchingEngine, price_ticks: int, min_notionals: int = 3) -> int:
    """Lots of instrument 0 worth ``min_notionals`` times its minimum notional at ``price_ticks``."""
    spec = engine.market.instruments[0]
    return -(-min_notionals * spec.min_notional * 10**8 // (price_ticks * spec.tick * spec.lot))


def test_a_marketable_limit_order_walks_the_levels_at_their_prices(engine: MatchingEngine) -> None:
    trader, spec, book = account(), engine.market.instruments[0], engine.market.books[0]
    asks = book.asks.levels(3)
    wanted = asks[0][1] + asks[1][1] + asks[2][1] // 2
    quote_before = trader.free[spec.quote]
    order = engine.place(trader, request(engine, OrderSide.BUY, wanted, asks[2][0]))
    assert order.status is OrderStatus.FILLED and order.executed_lots == wanted
    assert [f.price_ticks for f in order.fills][0] == asks[0][0] and {f.price_ticks for f in order.fills} == {p for p, _ in asks}
    assert book.best_ask() == asks[2][0] and book.asks.lots[0] == asks[2][1] - asks[2][1] // 2
    cost = sum(f.quote_amount for f in order.fills)
    assert trader.free[spec.quote] == quote_before - cost and trader.locked[spec.quote] == 0
    commission = sum(f.commission for f in order.fills)
    assert commission == sum(f.lots * spec.lot * 10 // 10_000 for f in order.fills) and all(
        f.commission_asset == spec.base for f in order.fills
    )
    assert trader.free[spec.base] == 1000 * 10**8 + wanted * spec.lot - commission
    trades = engine.market.take_batch().trades
    assert [t[1] for t in trades] == [f.trade_id for f in order.fills]


def test_ioc_expires_the_rest_and_fok_fills_all_or_nothing(engine: MatchingEngine) -> None:
    trader, book = account(), engine.market.books[0]
    best_ask, best_lots = book.asks.levels(1)[0]
    ioc = engine.place(trader, request(engine, OrderSide.BUY, best_lots + 5, best_ask, TimeInForce.IOC, client_id="ioc"))
    assert ioc.status is OrderStatus.EXPIRED and ioc.executed_lots == best_lots and trader.locked.get("USDT", 0) == 0
    next_ask, next_lots = book.asks.levels(1)[0]
    fok = engine.place(trader, request(engine, OrderSide.BUY, next_lots + 1, next_ask, TimeInForce.FOK, client_id="fok"))
    assert fok.status is OrderStatus.EXPIRED and fok.executed_lots == 0 and book.asks.levels(1)[0] == (next_ask, next_lots)


def test_a_resting_order_is_in_the_book_and_simulated_takers_fill_it(world: MarketWorld, engine: MatchingEngine) -> None:
    trader, spec, book = account(), engine.market.instruments[0], engine.market.books[0]
    price = book.best_bid() + 1 if book.best_ask() - book.best_bid() > 1 else book.best_bid()
    lots = lots_worth(engine, price)
    order = engine.place(trader, request(engine, OrderSide.BUY, lots, price))
    assert order.status is OrderStatus.NEW and dict(book.bids.levels())[price] >= lots
    assert trader.locked[spec.quote] > 0
    for _ in range(20_000):
        if not order.status.is_open:
            break
        world.step()
    assert order.status is OrderStatus.FILLED and all(f.is_maker for f in order.fills)
    assert all(f.commission == f.lots * spec.lot * 2 // 10_000 for f in order.fills)  # the maker fee
    assert trader.locked[spec.quote] == 0
    sink = engine.sinks[0]
    assert isinstance(sink, RecordingSink) and [e for _, e, _ in sink.executions][0] is ExecutionType.NEW


def test_cancel_duplicate_client_id_and_balance_checks(engine: MatchingEngine) -> None:
    trader, spec, book = account(), engine.market.instruments[0], engine.market.books[0]
    price = book.best_bid() - 10
    lots = lots_worth(engine, price)
    order = engine.place(trader, request(engine, OrderSide.BUY, lots, price, client_id="dup"))
    with pytest.raises(OrderRejected) as duplicate:
        engine.place(trader, request(engine, OrderSide.BUY, lots, price, client_id="dup"))
    assert duplicate.value.reason is RejectReason.DUPLICATE_ORDER
    lots_at_price = dict(book.bids.levels())[price]
    engine.cancel(trader, 0, order.order_id, None)
    assert order.status is OrderStatus.CANCELED and dict(book.bids.levels()).get(price, 0) == lots_at_price - lots
    assert trader.locked[spec.quote] == 0 and trader.free[spec.quote] == 10_000_000 * 10**8
    with pytest.raises(OrderRejected) as unknown:
        engine.cancel(trader, 0, order.order_id, None)
    assert unknown.value.reason is RejectReason.UNKNOWN_ORDER
    with pytest.raises(OrderRejected) as poor:
        engine.place(trader, request(engine, OrderSide.SELL, 10**9 // spec.lot * 10**4, book.best_ask() + 5, client_id="big"))
    assert poor.value.reason in (RejectReason.INSUFFICIENT_BALANCE, RejectReason.LOT_SIZE)
    with pytest.raises(OrderRejected) as maker:
        engine.place(
            trader, request(engine, OrderSide.BUY, lots, book.best_ask(), order_type=OrderType.LIMIT_MAKER, client_id="mk")
        )
    assert maker.value.reason is RejectReason.WOULD_TAKE


def test_market_orders_by_quantity_and_by_quote_amount(engine: MatchingEngine) -> None:
    trader, spec = account(), engine.market.instruments[0]
    lots = lots_worth(engine, engine.market.books[0].best_bid())
    sell = engine.place(
        trader, request(engine, OrderSide.SELL, lots, order_type=OrderType.MARKET, tif=TimeInForce.IOC, client_id="m1")
    )
    assert (
        sell.status is OrderStatus.FILLED
        and sell.executed_lots == lots
        and all(f.commission_asset == spec.quote for f in sell.fills)
    )
    spend = 200 * 10**8  # 200 quote units
    buy = engine.place(trader, OrderRequest(0, OrderSide.BUY, OrderType.MARKET, TimeInForce.IOC, 0, 0, spend, "m2"))
    assert buy.status is OrderStatus.FILLED and 0 < buy.cumulative_quote <= spend
    assert trader.locked[spec.quote] == 0


def test_a_fee_from_the_spent_asset_is_locked_on_top_and_charged_there(engine: MatchingEngine) -> None:
    trader, spec, book = account(), engine.market.instruments[0], engine.market.books[0]
    resting_price = book.best_bid() - 5
    lots = lots_worth(engine, resting_price)
    resting_request = replace(request(engine, OrderSide.BUY, lots, resting_price, client_id="quote-fee"), fee_from_spent=True)
    resting = engine.place(trader, resting_request)
    notional = -(-resting_price * spec.tick * lots * spec.lot // 10**8)
    assert trader.locked[spec.quote] == notional + -(-notional * 10 // 10_000)  # the higher (taker) rate, rounded up
    engine.cancel(trader, 0, resting.order_id, None)
    assert trader.locked[spec.quote] == 0

    ask, ask_lots = book.asks.levels(1)[0]
    quote_before, base_before = trader.free[spec.quote], trader.free[spec.base]
    taker = request(engine, OrderSide.BUY, min(ask_lots, lots), ask, TimeInForce.IOC, client_id="taker")
    order = engine.place(trader, replace(taker, fee_from_spent=True))
    cost, commission = sum(f.quote_amount for f in order.fills), sum(f.commission for f in order.fills)
    assert order.executed_lots == min(ask_lots, lots) and {f.commission_asset for f in order.fills} == {spec.quote}
    assert commission == sum(f.quote_amount * 10 // 10_000 for f in order.fills) > 0
    assert trader.free[spec.quote] == quote_before - cost - commission and trader.locked[spec.quote] == 0
    assert trader.free[spec.base] == base_before + order.executed_lots * spec.lot  # the base arrives whole
