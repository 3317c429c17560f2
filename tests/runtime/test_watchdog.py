import pytest

from platform_streams.runtime.watchdog import StallWatchdog

S = 1_000_000_000
TP = ("in", 0)


def test_no_progress_while_behind_is_a_stall() -> None:
    dog = StallWatchdog(10 * S)
    assert dog.observe(0, {TP: 5}, {TP: 100}) == []
    assert dog.observe(9 * S, {TP: 5}, {TP: 120}) == []
    assert dog.observe(10 * S, {TP: 5}, {TP: 130}) == [TP]


def test_progress_restarts_the_clock() -> None:
    dog = StallWatchdog(10 * S)
    dog.observe(0, {TP: 5}, {TP: 100})
    dog.observe(8 * S, {TP: 6}, {TP: 100})
    assert dog.observe(15 * S, {TP: 6}, {TP: 100}) == []
    assert dog.observe(18 * S, {TP: 6}, {TP: 100}) == [TP]


def test_a_caught_up_idle_consumer_is_not_stalled() -> None:
    dog = StallWatchdog(10 * S)
    dog.observe(0, {TP: 100}, {TP: 100})
    assert dog.observe(60 * S, {TP: 100}, {TP: 100}) == []


def test_unknown_high_watermark_is_not_a_stall() -> None:
    dog = StallWatchdog(S)
    dog.observe(0, {TP: 1}, {})
    assert dog.observe(5 * S, {TP: 1}, {}) == []


def test_revoked_partitions_are_forgotten_and_reset_clears() -> None:
    dog = StallWatchdog(S)
    dog.observe(0, {TP: 1}, {TP: 9})
    dog.observe(S // 2, {}, {TP: 9})
    assert dog.observe(2 * S, {TP: 1}, {TP: 9}) == []  # re-assigned: the clock starts again
    dog.reset()
    assert dog.observe(3 * S, {TP: 1}, {TP: 9}) == []


def test_no_judgement_while_the_broker_does_not_answer_and_a_fresh_start_after() -> None:
    """Watermarks read long ago mean the broker is away: a consumer waiting for it is not stalled, and
    recreating it would only block on a broker that is not there."""
    dog = StallWatchdog(10 * S, stale_after_ns=5 * S)
    assert dog.observe(0, {TP: 5}, {TP: 100}, read_at_ns=0) == []
    assert dog.observe(9 * S, {TP: 5}, {TP: 100}, read_at_ns=6 * S) == []
    # the broker stops answering at 6 s; at 60 s nothing has moved for a minute, but nothing could
    assert dog.observe(60 * S, {TP: 5}, {TP: 100}, read_at_ns=6 * S) == []
    # it answers again at 61 s: the partition gets a whole stall timeout from then
    assert dog.observe(62 * S, {TP: 5}, {TP: 100}, read_at_ns=61 * S) == []
    assert dog.observe(71 * S, {TP: 5}, {TP: 100}, read_at_ns=70 * S) == []
    assert dog.observe(72 * S, {TP: 5}, {TP: 100}, read_at_ns=71 * S) == [TP]


def test_rejects_non_positive_timeout() -> None:
    with pytest.raises(ValueError):
        StallWatchdog(0)
