"""An order's life cycle folded from reports that race, repeat and arrive out of order."""

from __future__ import annotations

import itertools

import pytest

from platform_streams.execution.order_lifecycle import InvalidOrderUpdate, OrderUpdate, TrackedOrder
from platform_streams.schemas import OrderRequest, OrderStatus, OrderType, Side, TimeInForce

S = OrderStatus


def order(size: int = 10) -> TrackedOrder:
    return TrackedOrder(
        OrderRequest(
            client_order_id="c-1", account="acct", exchange="binance", symbol="BTC/USDT", side=Side.BUY,
            order_type=OrderType.LIMIT, time_in_force=TimeInForce.GTC, price=6_500_000, size=size, price_scale=2,
            size_scale=3, strategy="s", intent_id="i-1", created_ts_ns=1, market_receive_ts_ns=1, hops=[],
        )
    )  # fmt: skip


def update(status: OrderStatus, filled: int = 0, **extra: object) -> OrderUpdate:
    return OrderUpdate(status=status, filled_size=filled, **extra)


def test_a_whole_life_gives_one_event_per_change_with_gap_free_sequences() -> None:
    tracked = order()
    events = [
        tracked.apply(update(S.NEW, exchange_order_id="x-9")),
        tracked.apply(update(S.PARTIALLY_FILLED, 4)),
        tracked.apply(update(S.PARTIALLY_FILLED, 7)),
        tracked.apply(update(S.FILLED, 10)),
    ]
    assert [(e.status, e.filled_size, e.sequence) for e in events if e] == [
        (S.NEW, 0, 1), (S.PARTIALLY_FILLED, 4, 2), (S.PARTIALLY_FILLED, 7, 3), (S.FILLED, 10, 4),
    ]  # fmt: skip
    assert all(e.exchange_order_id == "x-9" and e.client_order_id == "c-1" for e in events if e)
    assert tracked.terminal and tracked.remaining_size == 0 and not tracked.open


def test_duplicates_and_stale_reports_change_nothing() -> None:
    tracked = order()
    assert tracked.apply(update(S.PARTIALLY_FILLED, 5)) is not None
    assert tracked.apply(update(S.PARTIALLY_FILLED, 5)) is None  # the same report twice
    assert tracked.apply(update(S.NEW)) is None  # the stream's ack after the poll saw a fill
    assert tracked.apply(update(S.PARTIALLY_FILLED, 3)) is None  # an older fill count
    assert (tracked.status, tracked.filled_size, tracked.sequence, tracked.remaining_size) == (S.PARTIALLY_FILLED, 5, 1, 5)


def test_a_terminal_state_is_final_but_a_raced_fill_still_counts() -> None:
    tracked = order()
    tracked.apply(update(S.PARTIALLY_FILLED, 2))
    cancel = tracked.apply(update(S.CANCELED, 1))  # the cancel's report lags the fill already seen
    assert cancel is not None and (cancel.status, cancel.filled_size) == (S.CANCELED, 2)
    assert tracked.apply(update(S.PARTIALLY_FILLED, 3)) is None  # no way back from canceled
    raced = tracked.apply(update(S.CANCELED, 3))  # a fill that raced the cancel
    assert raced is not None and raced.filled_size == 3 and raced.sequence == 3
    assert tracked.apply(update(S.EXPIRED, 3)) is None


@pytest.mark.parametrize(
    ("known", "report", "message"),
    [
        (None, update(S.PARTIALLY_FILLED, 11), "outside 0..10"),
        (None, update(S.FILLED, 9), "filled with 9 of 10"),
        (None, update(S.PARTIALLY_FILLED, 10), "partially filled with 10 of 10"),
        (None, update(S.NEW, 1), "new with 1 filled"),
        (update(S.REJECTED), update(S.REJECTED, 1), "rejected with 1 filled"),
        (update(S.PARTIALLY_FILLED, 2), update(S.REJECTED), "rejected after 2 filled"),
    ],
)
def test_reports_no_exchange_could_send_are_refused(known: OrderUpdate | None, report: OrderUpdate, message: str) -> None:
    tracked = order()
    if known is not None:
        tracked.apply(known)
    with pytest.raises(InvalidOrderUpdate, match=message):
        tracked.apply(report)


def test_any_arrival_order_of_one_life_ends_in_the_same_state() -> None:
    """Stream and polling deliver the same reports in any order: the outcome is the latest state."""
    life = [update(S.NEW), update(S.PARTIALLY_FILLED, 3), update(S.PARTIALLY_FILLED, 6), update(S.FILLED, 10)]
    for arrival in itertools.permutations(life):
        tracked = order()
        events = [e for e in (tracked.apply(u) for u in arrival) if e is not None]
        assert (tracked.status, tracked.filled_size) == (S.FILLED, 10)
        assert [e.sequence for e in events] == list(range(1, len(events) + 1))
        assert [e.filled_size for e in events] == sorted(e.filled_size for e in events)
