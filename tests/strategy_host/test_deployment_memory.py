"""Memory per deployment: 100 deployments of the four strategies, each warmed with its own
instruments' events, allocate far less than the issue's 10 MB each (traced allocations, not RSS:
a deterministic count of what the deployments themselves hold)."""

from __future__ import annotations

import tracemalloc

from platform_streams.schemas import Side
from platform_streams.strategy_host.fanout import DeploymentFanout
from platform_streams.strategy_host.hosted_deployment import build_deployment
from platform_streams.strategy_host.strategy_deployment import StrategyDeploymentSpec
from tests.strategies.market import bbo, candle, fill, instrument

DEPLOYMENTS = 100
LIMIT_BYTES = 1_000_000  # a tenth of the budget, so a regression shows long before it matters


def specs() -> list[StrategyDeploymentSpec]:
    found = []
    for n in range(DEPLOYMENTS):
        btc, okx = f"binance:C{n}/USDT", f"okx:C{n}/USDT"
        strategy, instruments, parameters = [
            ("ema-crossover", [btc], {"position_size": "1"}),
            ("mean-reversion", [btc], {"position_size": "1", "window": 60}),
            ("cross-exchange-arbitrage", [btc, okx], {"trade_size": "1", "max_inventory": "5"}),
            ("inventory-market-maker", [btc], {"quote_size": "1", "max_inventory": "5"}),
        ][n % 4]
        found.append(
            StrategyDeploymentSpec(id=f"d{n}", strategy=strategy, instruments=instruments, account=f"a{n}", parameters=parameters)
        )
    return found


def test_a_hundred_deployments_hold_well_under_a_megabyte_each() -> None:
    reference = {}
    for n in range(DEPLOYMENTS):
        for exchange in ("binance", "okx"):
            i = instrument(exchange, f"C{n}/USDT")
            reference[i.key] = i
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        fanout = DeploymentFanout()
        for spec in specs():
            fanout.add(build_deployment(spec, reference))
        fanout.activate_ready(reference)
        intents = 0
        for step in range(120):
            for n in range(DEPLOYMENTS):
                key = f"binance:C{n}/USDT"
                price = 100_00 + (step * 37 + n) % 300
                for event in (
                    candle(price, step, key=key),
                    bbo(price, price + 10, step, key=key),
                    bbo(price + 40, price + 50, step, key=f"okx:C{n}/USDT"),
                ):
                    intents += sum(len(i) for _, i in fanout.dispatch(event, "t", 0, step)[0])
                if step % 50 == 0:
                    fanout.dispatch(fill(Side.BUY, price, 100, step, key=key, account=f"a{n}"), "f", 0, step)
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    held = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    assert intents > DEPLOYMENTS and len(fanout.running()) == DEPLOYMENTS
    assert held / DEPLOYMENTS < LIMIT_BYTES, f"{held / DEPLOYMENTS:.0f} bytes per deployment"
