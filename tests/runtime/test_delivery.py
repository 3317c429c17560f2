import pytest

from platform_streams.runtime.delivery import DeliveryFailed, DeliveryTracker


def test_offsets_wait_for_every_output_of_their_batch() -> None:
    tracker = DeliveryTracker()
    ticket = tracker.open({("in", 0): 10})
    ticket.pending = 2
    ticket.sealed = True
    assert tracker.committable() == {}
    ticket.on_delivery(None, None)
    assert tracker.committable() == {}
    ticket.on_delivery(None, None)
    assert tracker.committable() == {("in", 0): 10}
    assert len(tracker) == 0


def test_a_later_batch_never_commits_past_an_earlier_unacknowledged_one() -> None:
    tracker = DeliveryTracker()
    first = tracker.open({("in", 0): 5})
    first.pending, first.sealed = 1, True
    second = tracker.open({("in", 0): 9, ("in", 1): 3})
    second.sealed = True  # no outputs: done at once
    assert tracker.committable() == {}
    first.on_delivery(None, None)
    assert tracker.committable() == {("in", 0): 9, ("in", 1): 3}


def test_unsealed_batches_are_not_committable() -> None:
    tracker = DeliveryTracker()
    tracker.open({("in", 0): 1})
    assert tracker.committable() == {}


def test_a_failed_delivery_blocks_the_commit() -> None:
    tracker = DeliveryTracker()
    ticket = tracker.open({("in", 0): 4})
    ticket.pending, ticket.sealed = 1, True
    ticket.on_delivery("MSG_TIMED_OUT", None)
    with pytest.raises(DeliveryFailed, match="MSG_TIMED_OUT"):
        tracker.committable()


def test_forget_drops_lost_partitions_only() -> None:
    tracker = DeliveryTracker()
    ticket = tracker.open({("in", 0): 4, ("in", 1): 7})
    ticket.sealed = True
    tracker.forget([("in", 1)])
    assert tracker.committable() == {("in", 0): 4}


def test_in_flight_counts_pending_outputs() -> None:
    tracker = DeliveryTracker()
    a = tracker.open({})
    a.pending = 3
    b = tracker.open({})
    b.pending = 2
    assert tracker.in_flight == 5
