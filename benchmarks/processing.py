"""Benchmark of the processing logic: events per second through the pure :class:`Processor`.

Random trades over ``--instruments`` instruments (in exchange-time order, 1 ms apart on average per
instrument set) are folded into 1 s and 1 m candles with the indicator set the market-data deployment
configures (EMA, SMA, RSI, ATR, VWAP, Bollinger, realised volatility on 1 m and 1 s candles), then
the same number of tops of book go through the book imbalance; no Kafka, no decoding, one process.
Each of ``--runs`` runs uses a fresh processor; CPU time (``time.process_time``) is what is timed,
so the figure is the logic's cost, not the machine's other load. Prints min/median/max events/s
and, last, one JSON line: ``{"trades_eps": ..., "bbo_eps": ...}`` (medians).

    .venv/bin/python benchmarks/processing.py --trades 200000 --runs 5
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time

from platform_streams.processing.candles import CandleFolder
from platform_streams.processing.indicators import IndicatorSpec, resolve_all
from platform_streams.processing.processor import Processor
from platform_streams.schemas import BestBidOffer, Side, Trade

T0 = 1_764_000_000_000_000_000


def specs() -> list[IndicatorSpec]:
    per_interval = [
        ("ema", {"period": 20}),
        ("sma", {"period": 20}),
        ("rsi", {"period": 14}),
        ("atr", {"period": 14}),
        ("vwap", {"period": 20}),
        ("bollinger", {"period": 20, "k": 2}),
        ("realised_volatility", {"period": 20}),
    ]
    candle = [IndicatorSpec(name, params, interval) for interval in (1, 60) for name, params in per_interval]
    return [*candle, IndicatorSpec("book_imbalance")]


def market(count: int, instruments: int, seed: int) -> tuple[list[Trade], list[BestBidOffer]]:
    rng = random.Random(seed)
    symbols = [f"S{n}/USDT" for n in range(instruments)]
    trades, quotes = [], []
    for n in range(count):
        ts = T0 + n * 1_000_000
        symbol = symbols[rng.randrange(instruments)]
        price = 100_000 + rng.randint(-500, 500)
        trades.append(Trade("bench", symbol, ts, ts, n, str(n), Side.BUY, price, rng.randint(1, 1000), 2, 3))
        quotes.append(BestBidOffer("bench", symbol, ts, ts, n, price, rng.randint(1, 99), price + 1, rng.randint(1, 99), 2, 3))
    return trades, quotes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trades", type=int, default=200_000)
    parser.add_argument("--instruments", type=int, default=1_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    trades, quotes = market(args.trades, args.instruments, seed=1)
    resolved = resolve_all(specs())
    trade_rates, quote_rates, produced = [], [], 0
    for _ in range(args.runs):
        processor = Processor(CandleFolder([1, 60]), resolved)
        on_trade, on_bbo = processor.on_trade, processor.on_bbo
        started = time.process_time()
        for trade in trades:
            on_trade(trade)
        middle = time.process_time()
        for quote in quotes:
            on_bbo(quote)
        ended = time.process_time()
        trade_rates.append(len(trades) / (middle - started))
        quote_rates.append(len(quotes) / (ended - middle))
        produced = processor.candles_closed + processor.indicator_values
    for name, rates in (("trades", trade_rates), ("tops of book", quote_rates)):
        print(f"{name}: min {min(rates):,.0f} median {statistics.median(rates):,.0f} max {max(rates):,.0f} events/s")
    print(f"outputs per run: {produced:,} candles and indicator values")
    print(json.dumps({"trades_eps": round(statistics.median(trade_rates)), "bbo_eps": round(statistics.median(quote_rates))}))


if __name__ == "__main__":
    main()
