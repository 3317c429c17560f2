"""Candle folding: exact OHLCV, interval boundaries, closing by trades and by the clock, out-of-order
trades, duplicates, late trades and the unpublished first candle."""

from __future__ import annotations

import random

import pytest

from platform_streams.processing.candle_definition import interval_open_ns, order_key
from platform_streams.processing.candles import CandleFolder, CandleScaleMismatch
from platform_streams.schemas import Candle
from tests.processing.trade_samples import MINUTE, SECOND, T0, as_oracle, oracle_candles, random_trades, trade

LATENESS = 250_000_000


def fold(folder: CandleFolder, trades: list) -> list[Candle]:
    closed: list[Candle] = []
    for t in trades:
        closed.extend(folder.add(t))
    return closed


def flush(folder: CandleFolder) -> list[Candle]:
    """Close everything: the clock far in the future."""
    return folder.advance_clock(T0 + 10**6 * SECOND)


def test_interval_open_is_the_floor_also_before_the_epoch() -> None:
    assert interval_open_ns(T0 + 59 * SECOND + 999_999_999, 60) == T0
    assert interval_open_ns(T0 + MINUTE, 60) == T0 + MINUTE
    assert interval_open_ns(-1, 1) == -SECOND


def test_order_key_puts_shorter_ids_first_at_equal_time() -> None:
    assert order_key(trade("9", T0, 1)) < order_key(trade("10", T0, 1)) < order_key(trade("2", T0 + 1, 1))


def test_a_hand_computed_one_second_candle() -> None:
    folder = CandleFolder([1], LATENESS, publish_first=True)
    trades = [
        trade("1", T0 + 100_000_000, 10_000, 5),
        trade("2", T0 + 200_000_000, 10_050, 1),
        trade("3", T0 + 300_000_000, 9_950, 2),
        trade("4", T0 + 999_999_999, 10_010, 3),  # the last nanosecond of the second
        trade("5", T0 + SECOND, 10_020, 1),  # the next second: opens a candle, closes nothing yet
    ]
    assert fold(folder, trades) == []
    (candle,) = folder.add(trade("6", T0 + SECOND + LATENESS, 10_030))  # lateness past the end: closes
    assert candle == Candle(
        exchange="test",
        symbol="BTC/USDT",
        exchange_ts_ns=T0 + 999_999_999,
        receive_ts_ns=T0 + 999_999_999 + 1_000_000,
        sequence=4,
        interval_s=1,
        open_ts_ns=T0,
        open=10_000,
        high=10_050,
        low=9_950,
        close=10_010,
        volume=11,
        trade_count=4,
        closed=True,
        price_scale=2,
        size_scale=3,
    )


def test_out_of_order_within_lateness_still_counts_and_open_close_follow_exchange_time() -> None:
    folder = CandleFolder([1], LATENESS, publish_first=True)
    trades = [
        trade("2", T0 + 500_000_000, 200),
        trade("3", T0 + SECOND + 100_000_000, 300),  # next second, within lateness of the first
        trade("1", T0 + 100_000_000, 100),  # arrives late but in time: becomes the open
        trade("4", T0 + 600_000_000, 400),  # becomes the close
    ]
    assert fold(folder, trades) == []
    closed = flush(folder)
    assert [(c.open_ts_ns, c.open, c.close, c.trade_count) for c in closed] == [(T0, 100, 400, 3), (T0 + SECOND, 300, 300, 1)]


def test_duplicates_change_nothing() -> None:
    folder = CandleFolder([1, 60], LATENESS, publish_first=True)
    first = trade("1", T0 + 1, 100, 7)
    fold(folder, [first, first, trade("2", T0 + 2, 90, 1), first])
    assert folder.duplicate_trades == 2
    closed = flush(folder)
    assert [(c.interval_s, c.volume, c.trade_count) for c in closed] == [(1, 8, 2), (60, 8, 2)]


def test_a_late_trade_misses_its_closed_second_but_joins_the_open_minute() -> None:
    folder = CandleFolder([1, 60], LATENESS, publish_first=True)
    (second,) = fold(folder, [trade("1", T0 + 1, 100), trade("2", T0 + 2 * SECOND, 110)])
    assert second.interval_s == 1 and second.trade_count == 1
    assert folder.add(trade("3", T0 + 5, 50)) == []  # second 0 is closed: late there
    assert folder.late_trades == 1
    closed = flush(folder)
    minute = next(c for c in closed if c.interval_s == 60)
    assert (minute.low, minute.trade_count, minute.open) == (50, 3, 100)  # open: trade 1 (T0+1) precedes trade 3 (T0+5)


def test_candles_close_in_time_order_across_intervals() -> None:
    folder = CandleFolder([1, 60], 0, publish_first=True)
    fold(folder, [trade("1", T0 + 59 * SECOND, 100)])
    closed = folder.add(trade("2", T0 + MINUTE, 101))
    assert [(c.interval_s, c.open_ts_ns) for c in closed] == [(1, T0 + 59 * SECOND), (60, T0)]


def test_gaps_make_no_candles() -> None:
    folder = CandleFolder([1], 0, publish_first=True)
    closed = fold(folder, [trade("1", T0, 100), trade("2", T0 + 10 * SECOND, 100)]) + flush(folder)
    assert [c.open_ts_ns for c in closed] == [T0, T0 + 10 * SECOND]


def test_the_first_candle_is_not_published_unless_the_input_starts_at_its_beginning() -> None:
    folder = CandleFolder([1], 0)
    closed = fold(folder, [trade("1", T0 + 500_000_000, 100), trade("2", T0 + SECOND, 101), trade("3", T0 + 2 * SECOND, 102)])
    assert [c.open_ts_ns for c in closed] == [T0 + SECOND]
    assert folder.unpublished_first_candles == 1


def test_the_clock_closes_a_quiet_instruments_candle_by_its_own_time() -> None:
    folder = CandleFolder([1], LATENESS, quiet_grace_ns=SECOND, publish_first=True)
    replayed = trade("1", T0 + 100, 100)  # received 1 ms after its exchange time
    folder.add(replayed)
    wall_end = replayed.receive_ts_ns - replayed.exchange_ts_ns + T0 + SECOND  # its second's end on the wall clock
    assert folder.advance_clock(wall_end + LATENESS + SECOND - 1) == []
    (candle,) = folder.advance_clock(wall_end + LATENESS + SECOND)
    assert candle.trade_count == 1
    assert folder.add(trade("2", T0 + 200, 100)) == [] and folder.late_trades == 1


def test_a_trade_at_another_scale_is_refused_before_it_changes_anything() -> None:
    folder = CandleFolder([1], publish_first=True)
    folder.add(trade("1", T0, 100))
    odd = trade("2", T0 + 1, 100)
    odd = type(odd)(**{**{f: getattr(odd, f) for f in odd.__struct_fields__}, "price_scale": 3})
    with pytest.raises(CandleScaleMismatch, match="scales 3/3"):
        folder.add(odd)
    (candle,) = flush(folder)
    assert candle.trade_count == 1


def test_bad_intervals_are_refused() -> None:
    with pytest.raises(ValueError, match="positive"):
        CandleFolder([0])
    with pytest.raises(ValueError, match="positive"):
        CandleFolder([])


@pytest.mark.parametrize("seed", range(5))
def test_random_trades_shuffled_within_lateness_with_duplicates_equal_the_oracle(seed: int) -> None:
    rng = random.Random(seed)
    trades = random_trades(rng, 3_000)
    # disorder: each trade (and a replay of every tenth) arrives up to the lateness after its time
    copies = trades + trades[::10]
    arrivals = [t for _, t in sorted(((t.exchange_ts_ns + rng.randrange(LATENESS), n), t) for n, t in enumerate(copies))]
    assert arrivals != sorted(copies, key=lambda t: t.exchange_ts_ns)
    folder = CandleFolder([1, 60], LATENESS, publish_first=True)
    closed = fold(folder, arrivals) + flush(folder)
    assert folder.late_trades == 0
    for interval in (1, 60):
        assert as_oracle([c for c in closed if c.interval_s == interval]) == oracle_candles(trades, interval)
