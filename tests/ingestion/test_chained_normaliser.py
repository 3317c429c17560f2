"""The normaliser chained into ingestion: on recorded Binance frames it makes exactly what the
normaliser makes, traces the canonical hop from each frame's receipt, and hands a bad frame back
with its reason without touching a book."""

from __future__ import annotations

import time

from platform_streams.exchanges.binance.instruments import parse_exchange_info
from platform_streams.ingestion.chained_normaliser import ChainedNormaliser
from platform_streams.normalisation.instrument_catalog import InstrumentCatalog
from platform_streams.normalisation.normaliser import CANONICAL_STAGE, Normaliser, NormaliserTopics
from platform_streams.schemas.hop_trace import header_hops
from platform_streams.schemas.raw_frames import FrameKind, RawFrame
from tests.exchanges.captures import read_capture, rest_bodies

BINANCE_2024 = "binance/2024-08-08_hftbacktest_spot_BTCUSDT.jsonl.gz"
EXCHANGE_INFO = "binance/2021-10-12_cryptofeed_exchangeInfo.rest.jsonl"
TOPICS = NormaliserTopics()


def _frames() -> list[RawFrame]:
    frames = []
    for sequence, record in enumerate(r for r in read_capture(BINANCE_2024) if r.direction in ("in", "rest")):
        if sequence == 3_000:
            break
        rest = record.direction == "rest"
        kind, path = (FrameKind.REST, "/api/v3/depth?symbol=BTCUSDT&limit=1000") if rest else (FrameKind.WEBSOCKET, "")
        frames.append(RawFrame("binance", "binance-000", sequence, record.receive_ts_ns, kind, record.frame, path))
    return frames


def _instruments() -> list:
    return [i for i in parse_exchange_info(rest_bodies(EXCHANGE_INFO)[0].frame) if i.exchange_symbol == "BTCUSDT"]


def test_it_makes_what_the_normaliser_makes_with_the_canonical_hop_from_the_receipt() -> None:
    instruments = _instruments()
    chained = ChainedNormaliser(TOPICS, 30_000_000_000, instruments)
    reference = Normaliser(TOPICS, 30_000_000_000, require_metadata=True)
    catalog = InstrumentCatalog()
    for exchange in catalog.apply(instruments):
        reference.set_instruments(exchange, catalog.registries[exchange])
    traced = 0
    for frame in _frames():
        before = time.time_ns()
        outputs, refused = chained.handle(frame)
        assert refused is None
        expected = reference.handle(frame)
        assert [(o.topic, o.key, bytes(o.value)) for o in outputs] == [(o.topic, o.key, bytes(o.value)) for o in expected]
        for output in outputs:
            if output.topic in (TOPICS.trade, TOPICS.bbo):
                (hop,) = header_hops(output.headers)
                assert hop.stage == CANONICAL_STAGE and hop.in_ts_ns == frame.receive_ts_ns
                assert before <= hop.out_ts_ns <= time.time_ns()
                traced += 1
            else:
                assert not output.headers
    assert traced > 100 and chained.books == 1 and chained.frames == 3_000 and chained.refused == 0


def test_a_bad_frame_comes_back_with_its_reason_and_no_book_changes() -> None:
    chained = ChainedNormaliser(TOPICS, 30_000_000_000, _instruments())
    frames = _frames()
    for frame in frames[:1_000]:
        chained.handle(frame)
    (sync,) = chained.normaliser.books().values()
    assert sync.live and sync.book is not None
    before = (sync.book.bids(), sync.book.asks(), sync.last_sequence)
    garbage = RawFrame("binance", "binance-000", 10**9, time.time_ns(), FrameKind.WEBSOCKET, b'{"stream":"x@trade","data":{')
    unlisted = RawFrame(
        "binance", "binance-000", 10**9 + 1, time.time_ns(), FrameKind.WEBSOCKET,
        b'{"stream":"adaeur@trade","data":{"e":"trade","E":1,"s":"ADAEUR","t":5,"p":"0.31","q":"10","T":1,"m":true,"M":true}}',
    )  # fmt: skip
    for bad, reason in ((garbage, "MalformedFrame"), (unlisted, "UnknownInstrument")):
        outputs, refused = chained.handle(bad)
        assert outputs == [] and type(refused).__name__ == reason
    assert chained.refused == 2
    assert (sync.book.bids(), sync.book.asks(), sync.last_sequence) == before and sync.live
    # the frames after the bad ones still flow
    assert any(chained.handle(frame)[0] for frame in frames[1_000:1_100])
