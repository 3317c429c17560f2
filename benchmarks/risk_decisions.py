"""Benchmark of pre-trade risk's pure decision: intents decided per second by one
:class:`RiskEngine` (sizing, every rule, the exposure view's update), without Kafka.

``--deployments`` deployments in ``--accounts`` accounts each send intents for one instrument
with growing targets, so every intent becomes an order request (and an open order the next
decision counts). The figure is the CPU time per decision (``process_time``: the machine is
shared), the median over ``--runs`` runs; the last line is JSON.

    .venv/bin/python benchmarks/risk_decisions.py --intents 20000
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from platform_streams.risk.decision import RiskEngine
from platform_streams.risk.limits import Limits, RiskLimits, RiskLimitsSettings
from platform_streams.schemas import BestBidOffer, Instrument, OrderRequest, Side, StrategyIntent

BTC = Instrument("binance", "BTC/USDT", "BTCUSDT", "BTC", "USDT", 2, 4, tick_size=1, lot_size=10, min_size=10, min_notional=5)
LIMITS = Limits(
    max_position_notional="1000000000",
    max_order_notional="1000000",
    max_open_orders=10**9,
    price_band_bps=100,
    max_daily_loss="1000",
)


def intents(count: int, deployments: int, accounts: int) -> list[StrategyIntent]:
    now = time.time_ns()
    return [
        StrategyIntent(
            f"i-{n}",
            "bench",
            "1",
            "binance",
            "BTC/USDT",
            Side.UNKNOWN,
            10 * (n // deployments + 1),
            2_000_000,
            2,
            4,
            "",
            now,
            now,
            [],
            deployment=f"d-{n % deployments}",
            account=f"a-{n % deployments % accounts}",
        )  # fmt: skip
        for n in range(count)
    ]


def run(batch: list[StrategyIntent]) -> tuple[float, int]:
    engine = RiskEngine(RiskLimits(RiskLimitsSettings(default=LIMITS)))
    engine.add_instrument(BTC)
    engine.exposure.apply_bbo(BestBidOffer("binance", "BTC/USDT", 0, 0, 1, 1_999_900, 10_000, 2_000_100, 10_000, 2, 4))
    started = time.process_time()
    orders = sum(isinstance(engine.decide(intent, 0, 0), OrderRequest) for intent in batch)
    return (time.process_time() - started) / len(batch), orders


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--intents", type=int, default=20_000)
    parser.add_argument("--deployments", type=int, default=100)
    parser.add_argument("--accounts", type=int, default=10)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    batch = intents(args.intents, args.deployments, args.accounts)
    results = [run(batch) for _ in range(args.runs)]
    per_decision = statistics.median(seconds for seconds, _ in results)
    print(
        f"{args.intents} intents, {results[0][1]} orders per run; {per_decision * 1e6:.1f} us CPU per decision (median of {args.runs})"
    )
    print(
        json.dumps(
            {"us_per_decision": round(per_decision * 1e6, 2), "decisions_per_s": round(1 / per_decision), "orders": results[0][1]}
        )
    )


if __name__ == "__main__":
    main()
