"""The normalisation daemon on the real broker: recorded raw frames in, canonical topics out."""

from __future__ import annotations

import time

from confluent_kafka import Producer

from platform_streams.exchanges.binance.instruments import parse_exchange_info
from platform_streams.kafka_clients import ProducerProfile, producer_settings
from platform_streams.normalisation.daemon import NormaliserDaemon, NormaliserSettings
from platform_streams.normalisation.normaliser import NormaliserTopics
from platform_streams.runtime import Output
from platform_streams.schemas import DeadLetter, Trade, TypedDecoder
from platform_streams.schemas.raw_frames import FrameKind, RawFrame
from tests.exchanges.captures import read_capture, rest_bodies
from tests.kafka_helpers import DaemonThread, read_until

BINANCE_2024 = "binance/2024-08-08_hftbacktest_spot_BTCUSDT.jsonl.gz"
EXCHANGE_INFO = "binance/2021-10-12_cryptofeed_exchangeInfo.rest.jsonl"
UNLISTED_TRADE = (
    b'{"stream":"adaeur@trade","data":{"e":"trade","E":1723161255208,"s":"ADAEUR","t":5,"p":"0.31000000",'
    b'"q":"10.00000000","T":1723161255208,"m":true,"M":true}}'
)


def produce_frame(producer: Producer, topic: str, frame: RawFrame) -> None:
    producer.produce(topic, frame.payload, frame.connection_id, headers=frame.headers())


def test_daemon_normalises_recorded_frames_and_dead_letters_garbage(kafka_bootstrap, topic_factory) -> None:
    raw, trades, book, bbo, candle, resync, instruments, dead = (
        topic_factory(n) for n in ("raw", "trade", "book", "bbo", "candle", "resync", "instr", "dead")
    )
    records = [r for r in read_capture(BINANCE_2024) if r.direction in ("in", "rest")][:3_000]
    producer = Producer(producer_settings(kafka_bootstrap, ProducerProfile.LATENCY))
    for sequence, record in enumerate(records):
        kind, path = (
            (FrameKind.REST, "/api/v3/depth?symbol=BTCUSDT&limit=1000")
            if record.direction == "rest"
            else (FrameKind.WEBSOCKET, "")
        )
        produce_frame(producer, raw, RawFrame("binance", "binance-000", sequence, record.receive_ts_ns, kind, record.frame, path))
    garbage = RawFrame("binance", "binance-000", 10**9, time.time_ns(), FrameKind.WEBSOCKET, b'{"stream":"x@trade","data":{')
    produce_frame(producer, raw, garbage)
    # a trade of an instrument ingestion never listed: not named by guesswork (ADA/EUR or AD/AEUR?) but dead-lettered
    produce_frame(
        producer, raw, RawFrame("binance", "binance-000", 10**9 + 1, time.time_ns(), FrameKind.WEBSOCKET, UNLISTED_TRADE)
    )
    # the instruments ingestion listed (the daemon reads them all when it starts)
    for instrument in parse_exchange_info(rest_bodies(EXCHANGE_INFO)[0].frame):
        if instrument.exchange_symbol == "BTCUSDT":
            listing = Output.event(instruments, instrument)
            producer.produce(listing.topic, listing.value, listing.key)
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
        letters = read_until(kafka_bootstrap, dead, lambda got: len(got) >= 2)
    decoded = [TypedDecoder(Trade).decode(m.value()) for m in out]
    assert len(decoded) == expected_trades and all(t.symbol == "BTC/USDT" for t in decoded)
    garbled, unknown = sorted((TypedDecoder(DeadLetter).decode(m.value()) for m in letters), key=lambda d: len(d.payload))
    assert garbled.exchange == "binance" and garbled.payload == b'{"stream":"x@trade","data":{'
    assert unknown.payload == UNLISTED_TRADE and "ADAEUR" in unknown.reason
    observed = daemon.metrics.registry.get_sample_value(
        "platform_normalisation_receive_to_produce_seconds_count", {"daemon": "normaliser-test"}
    )
    assert observed is not None and observed >= len(records)
