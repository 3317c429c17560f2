"""Benchmark of the processing logic: events per second through the pure :class:`Processor`.

Random trades over ``--instruments`` instruments (in exchange-time order, 1 ms apart on average per
instrument set) are folded into 1 s and 1 m candles with the indicator set the market-data deployment
configures (EMA, SMA, RSI, ATR, VWAP, Bollinger, realised volatility on 1 m and 1 s candles), then
the same number of tops of book go through the book imbalance; no Kafka, no decoding, one process.
Each of ``--runs`` runs uses a fresh processor; CPU time (``time.process_time``) is what is timed,
so the figure is the logic's cost, not the machine's other load. Prints min/median/max events/s
and, last, one JSON line: ``{"trades_eps": ..., "bbo_eps": ...}`` (medians).

``--daemon`` measures instead the whole daemon on an embedded broker, configured as
``deployments/market-data.yaml`` configures it: trades and tops of book (one of each per event,
``--instruments`` over three exchanges) are loaded first, then the daemon consumes them all; the
figure is the process's CPU time (all threads: decoding, librdkafka, producing) per input event,
the cost to set against the deployment's rate. Last line: ``{"daemon_cpu_us_per_event": ...}``.

    .venv/bin/python benchmarks/processing.py --trades 200000 --runs 5
    .venv/bin/python benchmarks/processing.py --daemon --trades 100000 --runs 3
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from typing import Any

import msgspec

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


def market(
    count: int, instruments: int, seed: int, exchanges: tuple[str, ...] = ("bench",)
) -> tuple[list[Trade], list[BestBidOffer]]:
    """``count`` trades and as many tops of book over ``instruments`` instruments (BTC/USDT and ETH/USDT
    among them, on every exchange), 1 ms apart."""
    rng = random.Random(seed)
    names = ["BTC/USDT", "ETH/USDT", *(f"S{n}/USDT" for n in range(instruments // len(exchanges)))]
    listed = [(exchange, name) for exchange in exchanges for name in names][:instruments]
    trades, quotes = [], []
    for n in range(count):
        ts = T0 + n * 1_000_000
        exchange, symbol = listed[rng.randrange(len(listed))]
        price = 100_000 + rng.randint(-500, 500)
        trades.append(Trade(exchange, symbol, ts, ts, n, str(n), Side.BUY, price, rng.randint(1, 1000), 2, 3))
        quotes.append(BestBidOffer(exchange, symbol, ts, ts, n, price, rng.randint(1, 99), price + 1, rng.randint(1, 99), 2, 3))
    return trades, quotes


def measure_daemon(args: argparse.Namespace) -> None:
    """CPU per input event of the processing daemon as the market-data deployment configures it."""
    import tempfile
    import threading
    from pathlib import Path

    from confluent_kafka import Producer

    from platform_streams.embedded.kafka_broker import EmbeddedKafka
    from platform_streams.embedded.paths import kafka_libs_dir
    from platform_streams.kafka_clients import ProducerProfile, producer_settings
    from platform_streams.processing.daemon import ProcessingDaemon, ProcessingSettings
    from platform_streams.schemas import encode
    from platform_streams.settings import convert_settings
    from platform_streams.supervisor.spec import load_spec
    from platform_streams.topics import TOPICS, TOPICS_BY_NAME, TRADE_TOPIC, ensure_topics

    spec = load_spec(Path(__file__).resolve().parents[1] / "deployments" / "market-data.yaml")
    (deployed,) = (daemon for daemon in spec.daemons if daemon.kind == "processing")
    with tempfile.TemporaryDirectory() as state:
        broker = EmbeddedKafka(Path(state), kafka_libs_dir())
        broker.start()
        try:
            bootstrap = broker.bootstrap_servers
            costs = []
            for run in range(args.runs):
                inputs = [f"md.trade.bench{run}", f"md.bbo.bench{run}"]  # fresh topics: each run reads only its own
                ensure_topics(
                    bootstrap,
                    default_partitions=24,
                    specs=TOPICS + tuple(_like(TOPICS_BY_NAME[TRADE_TOPIC], name) for name in inputs),
                )
                trades, quotes = market(args.trades, args.instruments, seed=run, exchanges=("binance", "okx", "kraken"))
                producer = Producer(producer_settings(bootstrap, ProducerProfile.BULK))
                for topic, events in ((inputs[0], trades), (inputs[1], quotes)):
                    for event in events:
                        while True:
                            try:
                                producer.produce(topic, encode(event), event.key)
                                break
                            except BufferError:
                                producer.poll(0.05)
                assert producer.flush(120) == 0
                settings = convert_settings(
                    ProcessingSettings,
                    {
                        **deployed.config,
                        "inputs": inputs,
                        "trade_topic": inputs[0],
                        "bbo_topic": inputs[1],
                        "name": f"processing-bench-{run}",
                        "bootstrap_servers": bootstrap,
                        "metrics_port": -1,
                    },
                )
                daemon = ProcessingDaemon(settings)
                thread = threading.Thread(target=daemon.run, daemon=True)
                started = time.process_time()
                thread.start()
                total = len(trades) + len(quotes)
                while daemon.messages_in < total:
                    time.sleep(0.05)
                used = time.process_time() - started
                daemon.stop()
                thread.join(60)
                costs.append(used / total * 1e6)
                print(
                    f"run {run + 1}: {total:,} events, {used:.1f} s CPU, {costs[-1]:.1f} µs per event, {daemon.messages_out:,} outputs"
                )
        finally:
            broker.stop()
    print(json.dumps({"daemon_cpu_us_per_event": round(statistics.median(costs), 1)}))


def _like(spec: Any, name: str) -> Any:
    return msgspec.structs.replace(spec, name=name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trades", type=int, default=200_000)
    parser.add_argument("--instruments", type=int, default=1_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--daemon", action="store_true", help="the whole daemon on an embedded broker (CPU per event)")
    args = parser.parse_args()
    if args.daemon:
        measure_daemon(args)
        return
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
