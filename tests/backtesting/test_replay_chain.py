"""The trading chain replayed in-process: the paper venue fills a market maker's quotes from trades,
risk rejects what breaks a limit, fills reach the strategy and the positions, and the same events
always give the same record."""

from __future__ import annotations

from fractions import Fraction

from platform_streams.backtesting.replay_chain import ReplayChain
from platform_streams.risk.budgets import AccountAllocationSettings, deployment_budgets
from platform_streams.risk.limits import Limits, RiskLimits, RiskLimitsSettings
from platform_streams.schemas import Liquidity, Side
from platform_streams.strategy_host.strategy_deployment import StrategyDeploymentSpec
from tests.strategies.market import bbo, candle, instrument, trade

BTC = "binance:BTC/USDT"
REFERENCE = {BTC: instrument(tick=1, lot=10)}
MAKER = StrategyDeploymentSpec(
    id="mm", strategy="inventory-market-maker", instruments=[BTC], account="paper",
    parameters={"quote_size": "0.1", "max_inventory": "0.2", "half_spread_bps": "10"},
)  # fmt: skip
EVENTS = [bbo(100_00, 100_10, 0), trade(99_80, 500, 1), trade(99_90, 2000, 2), trade(100_30, 500, 3), trade(100_20, 5000, 4)]


def chain(spec: StrategyDeploymentSpec = MAKER, limits: RiskLimitsSettings | None = None) -> ReplayChain:
    budgets = deployment_budgets({spec.account: AccountAllocationSettings(capital="100000", deployments=[spec.id])})
    return ReplayChain(spec, REFERENCE, Fraction(100_000), RiskLimits(limits or RiskLimitsSettings()), budgets, 2, 7, 1)


def test_quotes_are_filled_as_a_maker_from_trades_and_the_equity_is_exact() -> None:
    replay = chain()
    record = replay.run(EVENTS)
    fills = [(f.side, f.price, f.size, f.liquidity) for f in record.fills]
    assert fills == [
        (Side.BUY, 99_94, 500, Liquidity.MAKER),  # bid at mid − 10 bps, through by the 99.80 sell
        (Side.BUY, 99_92, 1_000, Liquidity.MAKER),  # skewed lower once long
        (Side.SELL, 100_08, 500, Liquidity.MAKER),
        (Side.SELL, 100_10, 1_000, Liquidity.MAKER),
    ]
    assert replay.deployment.driver.context.position(BTC) == 0  # each fill reached the strategy's on_fill
    assert record.realized == Fraction(1, 40)  # the sells against the buys' average entry, exactly
    assert record.fees == Fraction(30003, 5_000_000)  # 2 bps of each fill's notional
    assert record.samples[-1].equity == Fraction(100_000) + record.realized - record.fees
    assert record.closing_fills == 2 and record.winning_fills == 2 and record.rejections == {}


def test_risk_rejects_what_breaks_a_limit_and_nothing_is_sent() -> None:
    tight = RiskLimitsSettings(default=Limits(max_order_notional="1", max_open_orders=50, price_band_bps=500))
    record = chain(limits=tight).run(EVENTS)
    assert record.fills == [] and record.orders == 0 and record.rejections == {"max_order_notional": record.intents}


def test_a_momentum_strategy_trades_at_market_against_the_book() -> None:
    spec = StrategyDeploymentSpec(
        id="ema", strategy="ema-crossover", instruments=[BTC], account="paper",
        parameters={"fast_period": 2, "slow_period": 3, "position_size": "0.01"},
    )  # fmt: skip
    closes = [100_00, 99_00, 98_00, 99_50, 101_00, 102_00, 99_00, 97_00]
    events = []
    for i, close in enumerate(closes):
        bar = candle(close, i)
        events += [bbo(close - 5, close + 5, 60 * i), bar]
    events.sort(key=lambda e: e.receive_ts_ns)
    record = chain(spec).run(events)
    assert record.fills and all(f.liquidity is Liquidity.TAKER for f in record.fills)
    assert all(f.price in (c + 5 for c in closes) or f.price in (c - 5 for c in closes) for f in record.fills)


def test_the_same_events_give_the_same_record() -> None:
    assert chain().run(EVENTS) == chain().run(EVENTS)
