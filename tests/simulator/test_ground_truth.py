"""The ground truth: compact columns of emitted messages, order arrivals, queries and bounded memory."""

from __future__ import annotations

import pytest

from platform_streams.simulator.ground_truth import GroundTruth, GroundTruthError, OrderArrival


def recorder() -> GroundTruth:
    truth = GroundTruth(max_events=4_000_000)
    truth.register_exchange("binance", ["BTCUSDT", "ETHUSDT"], ["trade", "depth@100ms"])
    truth.register_exchange("okx", ["BTC-USDT"], ["trades"])
    return truth


def test_queries_filter_by_exchange_channel_and_symbol() -> None:
    truth = recorder()
    truth.record_emitted(0, [0, 0, 1], [0, 1, 0], [10, 11, 500], [10, 11, 490], [1, 2, 1], emit_ns=1_000)
    truth.record_emitted(1, [0], [0], [7], [7], [3], emit_ns=2_000)
    everything = truth.events()
    assert len(everything) == 4 and everything.exchange.tolist() == ["binance"] * 3 + ["okx"]
    trades = truth.events("binance", "trade")
    assert (
        trades.symbol.tolist() == ["BTCUSDT", "ETHUSDT"]
        and trades.event_id.tolist() == [10, 11]
        and trades.fanout.tolist() == [1, 2]
    )
    diff = truth.events("binance", "depth@100ms", "BTCUSDT")
    assert (diff.first_id.tolist(), diff.event_id.tolist(), diff.emit_ns.tolist()) == ([490], [500], [1_000])
    assert truth.emit_time_ns("okx", "trades", "BTC-USDT", 7) == 2_000
    assert truth.emit_time_ns("okx", "trades", "BTC-USDT", 8) is None
    with pytest.raises(GroundTruthError):
        truth.events("kraken")
    with pytest.raises(GroundTruthError):
        truth.events("binance", "bookTicker")
    with pytest.raises(GroundTruthError):
        truth.events(channel="trade")


def test_orders_are_recorded_with_their_arrival_time() -> None:
    truth = recorder()
    arrival = OrderArrival("binance", "key", "BTCUSDT", "BUY", "LIMIT", "c1", 42, 123_456_789, 0)
    truth.record_order(arrival)
    assert truth.orders("binance") == [arrival] and truth.orders("okx") == []


def test_the_last_emission_of_a_symbol_before_a_time_is_found_across_its_channels() -> None:
    truth = recorder()
    truth.record_emitted(0, [0, 1], [0, 1], [10, 500], [10, 490], [1, 1], emit_ns=1_000)
    truth.record_emitted(0, [1], [0], [501], [501], [1], emit_ns=2_000)
    truth.record_emitted(0, [0], [1], [11], [11], [1], emit_ns=3_000)
    queries = [("binance", "BTCUSDT", 999), ("binance", "BTCUSDT", 1_000), ("binance", "BTCUSDT", 2_999),
               ("binance", "ETHUSDT", 2_999), ("binance", "ETHUSDT", 5_000)]  # fmt: skip
    assert truth.last_emits_before(queries) == [None, 1_000, 2_000, 1_000, 3_000]
    with pytest.raises(GroundTruthError):
        truth.last_emits_before([("binance", "XRPUSDT", 1)])


def test_millions_of_events_fit_and_the_oldest_go_first_past_the_bound() -> None:
    truth = recorder()
    chunk = 100_000
    channels, instruments, fanouts = [0] * chunk, [1] * chunk, [1] * chunk
    for n in range(50):  # 5 million messages; the bound keeps 2 to 4 million
        ids = range(n * chunk, (n + 1) * chunk)
        truth.record_emitted(0, channels, instruments, ids, ids, fanouts, emit_ns=n)
    kept = len(truth)
    assert 2_000_000 <= kept <= 4_000_000 and truth.dropped_events == 5_000_000 - kept
    ids = truth.events("binance", "trade", "ETHUSDT").event_id
    assert ids[-1] == 5_000_000 - 1 and ids[0] == 5_000_000 - kept and (ids[1:] - ids[:-1] == 1).all()
