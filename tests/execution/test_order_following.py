"""The poll plan (which orders REST asks about, given the private stream's health and what it said)
and the fill tally (an order stays followed until its fills add up; a fill heard twice counts once)."""

from __future__ import annotations

from platform_streams.execution.order_following import FillTally, PollPlan


def test_without_a_stream_every_followed_order_is_polled_every_interval() -> None:
    plan = PollPlan(poll_interval_s=1.0, stream_quiet_s=10.0)
    assert plan.due(["a", "b"], now=100.0) == ["a", "b"]
    assert plan.due(["a", "b"], now=100.5) == []
    assert plan.due(["a", "b", "c"], now=101.0) == ["a", "b", "c"]
    assert plan.due([], now=102.0) == []


def test_while_the_stream_is_up_only_orders_it_left_quiet_are_polled() -> None:
    plan = PollPlan(poll_interval_s=1.0, stream_quiet_s=10.0)
    plan.stream_connected([])
    assert plan.due(["a", "b"], now=100.0) == []  # first seen now: the stream has its chance first
    plan.heard("a", now=105.0)
    assert plan.due(["a", "b"], now=109.0) == []
    assert plan.due(["a", "b"], now=110.0) == ["b"]  # b: nothing for 10 s
    assert plan.due(["a", "b"], now=111.0) == []  # b was just asked about; a heard 6 s ago
    assert plan.due(["a", "b"], now=115.0) == ["a"]
    assert plan.due(["a", "b"], now=120.0) == ["b"]


def test_a_reconnect_polls_what_was_followed_once_then_the_stream_speaks_again() -> None:
    plan = PollPlan(poll_interval_s=1.0, stream_quiet_s=10.0)
    plan.stream_connected([])
    plan.due(["a"], now=100.0)
    plan.stream_lost()
    assert plan.due(["a", "b"], now=101.0) == ["a", "b"]  # down: the fallback polls everything
    assert plan.due(["a", "b"], now=101.5) == []
    plan.stream_connected(["a", "b"])
    assert plan.reconnects == 1
    assert plan.due(["a", "b", "c"], now=101.6) == ["a", "b"]  # c was placed since: the stream speaks for it
    assert plan.due(["a", "b", "c"], now=102.0) == []
    plan.stream_lost()
    plan.stream_connected(["c"])
    assert plan.reconnects == 2
    assert plan.due(["a"], now=103.0) == []  # c is over already; a was asked about at 101.6


def test_orders_no_longer_followed_are_forgotten() -> None:
    plan = PollPlan(poll_interval_s=1.0, stream_quiet_s=10.0)
    plan.stream_connected([])
    plan.heard("a", now=100.0)
    plan.due([], now=100.0)
    assert plan.due(["a"], now=105.0) == []  # a new "a" starts its own quiet period
    assert plan.due(["a"], now=115.0) == ["a"]


def test_fill_tally_counts_each_fill_once_and_owes_until_fills_add_up() -> None:
    tally = FillTally()
    assert tally.owed("o1", 10)
    assert tally.add("o1", "t1", 4) is True
    assert tally.add("o1", "t1", 4) is False  # the same trade by the other road
    assert tally.counted("o1", "t1") and not tally.counted("o2", "t1")
    assert (tally.accounted("o1"), tally.owed("o1", 10), tally.owed("o1", 4)) == (4, True, False)
    tally.add("o1", "t2", 6)
    assert not tally.owed("o1", 10)
    tally.forget("o1")
    assert tally.accounted("o1") == 0
    tally.add("o2", "t3", 1)
    tally.add("o3", "t4", 1)
    tally.keep_only(["o3"])
    assert (tally.accounted("o2"), tally.accounted("o3")) == (0, 1)
