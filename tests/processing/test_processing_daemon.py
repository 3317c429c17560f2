"""The processing daemon on the real broker: trades and tops of book in, candles and indicator values
out on their topics, keyed by instrument, equal to the pure processor's on the same input."""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest

from platform_streams.processing.candles import CandleFolder
from platform_streams.processing.daemon import ProcessingDaemon, ProcessingSettings
from platform_streams.processing.indicators import IndicatorSpec, resolve_all
from platform_streams.processing.processor import Processor
from platform_streams.schemas import BestBidOffer, Candle, DeadLetter, IndicatorValue, Trade, TypedDecoder
from platform_streams.schemas.hop_trace import header_hops
from platform_streams.settings import ConfigError
from platform_streams.supervisor.spec import load_spec, parse_spec
from tests.kafka_helpers import DaemonThread, produce_events, produce_raw, read_until
from tests.processing.trade_samples import SECOND, T0, random_trades, trade

SPECS = [
    IndicatorSpec("ema", {"period": 3}, 1),
    IndicatorSpec("sma", {"period": 2}, 60),
    IndicatorSpec("book_imbalance", instruments=["test:A/*"]),
]


def settings(bootstrap: str, topics: dict[str, str], **extra: object) -> ProcessingSettings:
    return ProcessingSettings(
        name="processing-test",
        group=f"processing-{time.time_ns()}",
        bootstrap_servers=bootstrap,
        inputs=[topics["trade"], topics["bbo"]],
        trade_topic=topics["trade"],
        bbo_topic=topics["bbo"],
        candle_topic=topics["candle"],
        indicator_topic=topics["indicator"],
        deadletter_topic=topics["dead"],
        metrics_port=-1,
        **extra,  # type: ignore[arg-type]
    )


def test_trades_in_candles_and_indicators_out_exactly(kafka_bootstrap: str, topic_factory) -> None:
    topics = {name: topic_factory(name) for name in ("trade", "bbo", "candle", "indicator", "dead")}
    trades = random_trades(random.Random(5), 3_000, symbols=("A/USD", "B/USD", "C/USD"), span_s=150)
    closing = [trade(str(10**9 + n), T0 + 3_600 * SECOND, 1, symbol=s) for n, s in enumerate(("A/USD", "B/USD", "C/USD"))]
    arrivals = trades + trades[::10] + closing  # a replay of every tenth trade changes nothing
    quotes = [BestBidOffer("test", s, T0 + n, T0 + n, n, 100, n + 1, 101, 5, 2, 3) for n, s in enumerate(["A/USD", "B/USD"] * 5)]

    expected = Processor(CandleFolder([1, 60], publish_first=True), resolve_all(SPECS))
    events = [e for t in arrivals for e in expected.on_trade(t)] + [e for q in quotes for e in expected.on_bbo(q)]
    want_candles = {c for c in events if isinstance(c, Candle)}
    want_values = {v for v in events if isinstance(v, IndicatorValue)}
    assert len(want_candles) > 300 and len(want_values) > 200

    produce_events(kafka_bootstrap, topics["trade"], arrivals)
    produce_events(kafka_bootstrap, topics["bbo"], quotes)
    produce_raw(kafka_bootstrap, topics["trade"], [(b"test:A/USD", b"not a trade")])
    daemon = ProcessingDaemon(
        settings(kafka_bootstrap, topics, indicators=SPECS, publish_first_candle=True, quiet_grace_ms=3_600_000)
    )
    with DaemonThread(daemon):
        candles = read_until(kafka_bootstrap, topics["candle"], lambda got: len(got) >= len(want_candles))
        values = read_until(kafka_bootstrap, topics["indicator"], lambda got: len(got) >= len(want_values))
        letters = read_until(kafka_bootstrap, topics["dead"], lambda got: len(got) >= 1)
    got_candles = [TypedDecoder(Candle).decode(m.value()) for m in candles]
    got_values = [TypedDecoder(IndicatorValue).decode(m.value()) for m in values]
    assert len(got_candles) == len(want_candles) and set(got_candles) == want_candles
    assert len(got_values) == len(want_values) and set(got_values) == want_values
    assert all(m.key() == TypedDecoder(Candle).decode(m.value()).key.encode() for m in candles)
    assert all(m.key() == TypedDecoder(IndicatorValue).decode(m.value()).key.encode() for m in values)
    assert all([h.stage for h in header_hops(m.headers())] == ["indicator"] for m in candles + values)  # the trace's hop
    (letter,) = (TypedDecoder(DeadLetter).decode(m.value()) for m in letters)
    assert letter.payload == b"not a trade" and "expected Trade" in letter.reason
    sample = daemon.metrics.registry.get_sample_value
    assert sample("platform_processing_candles_total", {"daemon": "processing-test", "interval_s": "1"}) > 0
    folder = daemon.processor.folder  # a replay is late where its candle closed, a duplicate where still open
    assert (folder.late_trades, folder.duplicate_trades) == (expected.folder.late_trades, expected.folder.duplicate_trades)
    assert folder.late_trades + folder.duplicate_trades >= len(trades[::10])


def test_the_clock_closes_a_quiet_instruments_candle(kafka_bootstrap: str, topic_factory) -> None:
    topics = {name: topic_factory(name) for name in ("trade", "bbo", "candle", "indicator", "dead")}
    now = time.time_ns()
    live = [
        Trade("test", "Q/USD", now + n * 1_000_000, now + n * 1_000_000, n, str(n), trade("1", 0, 1).side, 100 + n, 1, 2, 3)
        for n in range(3)
    ]
    produce_events(kafka_bootstrap, topics["trade"], live)
    daemon = ProcessingDaemon(
        settings(kafka_bootstrap, topics, candle_intervals_s=[1], publish_first_candle=True, lateness_ms=0, quiet_grace_ms=100)
    )
    with DaemonThread(daemon):
        (message,) = read_until(kafka_bootstrap, topics["candle"], lambda got: len(got) >= 1, timeout_s=30)
    candle = TypedDecoder(Candle).decode(message.value())
    # the trades may straddle a second boundary: the first candle holds at least the first trade
    assert candle.symbol == "Q/USD" and candle.open == 100 and candle.closed


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"indicators": [{"indicator": "ema", "params": {"period": 0}, "interval_s": 60}]}, "period must be at least 1"),
        ({"candle_intervals_s": [0]}, "positive whole seconds"),
        ({"indicators": [{"indicator": "ema", "params": {"period": 3}, "interval_s": 5}]}, "not one of candle_intervals_s"),
        ({"inputs": ["md.trade"], "indicators": [{"indicator": "book_imbalance"}]}, "need md.bbo in inputs"),
    ],
)
def test_a_deployment_with_bad_processing_settings_is_refused(extra: dict, message: str) -> None:
    spec = {"name": "d", "daemons": [{"name": "processing", "kind": "processing", "config": extra}]}
    with pytest.raises(ConfigError, match=message):
        parse_spec(spec)


def test_the_market_data_deployment_configures_processing(repo_root: Path) -> None:
    spec = load_spec(repo_root / "deployments" / "market-data.yaml")
    (processing,) = (daemon for daemon in spec.daemons if daemon.kind == "processing")
    assert processing.replicas == 1  # its cross-exchange spread reads every md.bbo partition
