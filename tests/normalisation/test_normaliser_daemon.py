"""The normalisation daemon on the real broker: recorded raw frames in, canonical topics out."""

from __future__ import annotations

import time

from confluent_kafka import Producer

from platform_streams.ingestion.raw_frames import FrameKind, RawFrame
from platform_streams.kafka_clients import ProducerProfile, producer_settings
from platform_streams.normalisation.daemon import NormaliserDaemon, NormaliserSettings
from platform_streams.normalisation.normaliser import NormaliserTopics
from platform_streams.schemas import DeadLetter, Trade, TypedDecoder
from tests.exchanges.captures import read_capture
from tests.kafka_helpers import DaemonThread, read_until

BINANCE_2024 = "binance/2024-08-08_hftbacktest_spot_BTCUSDT.jsonl.gz"


def test_daemon_normalises_recorded_frames_and_dead_letters_garbage(kafka_bootstrap, topic_factory) -> None:
    raw, trades, book, bbo, candle, resync, instruments, dead = (
        topic_factory(n) for n in ("raw", "trade", "book", "bbo", "candle", "resync", "instr", "dead")
    )
    records = [r for r in read_capture(BINANCE_2024) if r.direction in ("in", "rest")][:3_000]
    producer = Producer(producer_settings(kafka_bootstrap, ProducerProfile.LATENCY))
    for sequence, record in enumerate(records):
        kind, path = (FrameKind.REST, "/api/v3/depth?symbol=BTCUSDT&limit=1000") if record.direction == "rest" else (FrameKind.WEBSOCKET, "")
        output = RawFrame("binance", "binance-000", sequence, record.receive_ts_ns, kind, record.frame, path).to_output(raw)
        producer.produce(output.topic, output.value, output.key, headers=output.headers)
    garbage = RawFrame("binance", "binance-000", 10**9, time.time_ns(), FrameKind.WEBSOCKET, b'{"stream":"x@trade","data":{').to_output(raw)
    producer.produce(garbage.topic, garbage.value, garbage.key, headers=garbage.headers)
    assert producer.flush(30) == 0
    expected_trades = sum(1 for r in records if b"@trade" in r.frame)
    settings = NormaliserSettings(
        name="normaliser-test", group=f"n-{time.time_ns()}", bootstrap_servers=kafka_bootstrap, inputs=[raw], metrics_port=-1,
        topics=NormaliserTopics(trade=trades, book=book, bbo=bbo, candle=candle, resync=resync),
        instrument_topic=instruments, deadletter_topic=dead,
    )  # fmt: skip
    daemon = NormaliserDaemon(settings)
    with DaemonThread(daemon):
        out = read_until(kafka_bootstrap, trades, lambda got: len(got) >= expected_trades)
        letters = read_until(kafka_bootstrap, dead, lambda got: len(got) >= 1)
    decoded = [TypedDecoder(Trade).decode(m.value()) for m in out]
    assert len(decoded) == expected_trades and all(t.symbol == "BTC/USDT" for t in decoded)
    letter = TypedDecoder(DeadLetter).decode(letters[0].value())
    assert letter.exchange == "binance" and letter.payload == b'{"stream":"x@trade","data":{'
    observed = daemon.metrics.registry.get_sample_value(
        "platform_normalisation_receive_to_produce_seconds_count", {"daemon": "normaliser-test"}
    )
    assert observed is not None and observed >= len(records)
