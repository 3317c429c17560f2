"""The normalisation daemon on the real broker: recorded raw frames in, canonical topics out."""

from __future__ import annotations

import time

from confluent_kafka import Consumer, Producer

from platform_streams.exchanges.binance.instruments import parse_exchange_info
from platform_streams.kafka_clients import ProducerProfile, producer_settings
from platform_streams.normalisation.daemon import NormaliserDaemon, NormaliserSettings
from platform_streams.normalisation.normaliser import NormaliserTopics
from platform_streams.runtime import Output
from platform_streams.schemas import DeadLetter, Trade, TypedDecoder
from platform_streams.schemas.hop_trace import header_hops
from platform_streams.schemas.raw_frames import FrameKind, RawFrame
from tests.exchanges.captures import read_capture, rest_bodies
from tests.kafka_helpers import DaemonThread, read_until
from tests.waiting import wait_until

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
    for message, trade in zip(out, decoded, strict=True):  # the latency trace's canonical hop, after the receipt
        (hop,) = header_hops(message.headers())
        assert hop.stage == "canonical" and trade.receive_ts_ns <= hop.in_ts_ns <= hop.out_ts_ns
    garbled, unknown = sorted((TypedDecoder(DeadLetter).decode(m.value()) for m in letters), key=lambda d: len(d.payload))
    assert garbled.exchange == "binance" and garbled.payload == b'{"stream":"x@trade","data":{'
    assert unknown.payload == UNLISTED_TRADE and "ADAEUR" in unknown.reason
    observed = daemon.metrics.registry.get_sample_value(
        "platform_normalisation_receive_to_produce_seconds_count", {"daemon": "normaliser-test"}
    )
    assert observed is not None and observed >= len(records)


class LaggingSideInputNormaliser(NormaliserDaemon):
    """A normaliser whose side-input consumer is slow to see new records (as one on a busy broker is):
    a fetch waits up to 3 s for far more bytes than arrive, so ref.instrument lags md.raw."""

    def create_side_input_consumer(self, settings: dict) -> Consumer:
        return Consumer({**settings, "fetch.wait.max.ms": 3_000, "fetch.min.bytes": 50_000_000})


def trade_frame(symbol: str, trade_id: int) -> bytes:
    return (
        b'{"stream":"%s@trade","data":{"e":"trade","E":1723161255208,"s":"%s","t":%d,"p":"0.31000000",'
        b'"q":"10.00000000","T":1723161255208,"m":true,"M":true}}' % (symbol.lower().encode(), symbol.encode(), trade_id)
    )


def test_a_frame_listed_just_before_it_waits_for_the_lagging_side_input_instead_of_dying(kafka_bootstrap, topic_factory) -> None:
    """Ingestion lists an instrument (acknowledged) and then sends its first frame. A normaliser whose
    side input has not read that far yet holds the frame's partition, in order, until ref.instrument is
    read to its end as of then: the frame is normalised, not dead-lettered. A frame whose instrument was
    never listed is dead-lettered once the side input has been read that far."""
    raw, trades, book, bbo, candle, resync, instruments, dead = (
        topic_factory(n, 1) for n in ("raw", "trade", "book", "bbo", "candle", "resync", "instr", "dead")
    )
    settings = NormaliserSettings(
        name="lagging-normaliser", group=f"n-{time.time_ns()}", bootstrap_servers=kafka_bootstrap, inputs=[raw],
        metrics_port=-1, topics=NormaliserTopics(trade=trades, book=book, bbo=bbo, candle=candle, resync=resync),
        instrument_topic=instruments, deadletter_topic=dead,
    )  # fmt: skip
    daemon = LaggingSideInputNormaliser(settings)
    producer = Producer(producer_settings(kafka_bootstrap, ProducerProfile.LATENCY))
    listed = next(i for i in parse_exchange_info(rest_bodies(EXCHANGE_INFO)[0].frame) if i.exchange_symbol == "NKNUSDT")
    with DaemonThread(daemon):
        # past its start-up read of the (empty) side input
        wait_until(lambda: daemon._state == "running", 60, "the normaliser to start")  # noqa: SLF001
        listing = Output.event(instruments, listed)
        producer.produce(listing.topic, listing.value, listing.key)
        assert producer.flush(30) == 0  # acknowledged before the frames, as ingestion does
        for sequence, payload in enumerate((trade_frame("NKNUSDT", 1), trade_frame("ADAEUR", 2), trade_frame("NKNUSDT", 3))):
            produce_frame(
                producer, raw, RawFrame("binance", "binance-000", sequence, time.time_ns(), FrameKind.WEBSOCKET, payload)
            )
        assert producer.flush(30) == 0
        out = read_until(kafka_bootstrap, trades, lambda got: len(got) >= 2)
        letters = read_until(kafka_bootstrap, dead, lambda got: len(got) >= 1)
    normalised = [TypedDecoder(Trade).decode(m.value()) for m in out]
    assert [(t.symbol, t.sequence) for t in normalised] == [("NKN/USDT", 1), ("NKN/USDT", 3)]  # in order, none lost
    (letter,) = [TypedDecoder(DeadLetter).decode(m.value()) for m in letters]
    assert letter.payload == trade_frame("ADAEUR", 2) and "read to their end" in letter.reason
    holds = daemon.metrics.registry.get_sample_value("platform_runtime_side_input_holds_total", {"daemon": "lagging-normaliser"})
    assert holds is not None and holds >= 1  # the first NKNUSDT frame really waited
