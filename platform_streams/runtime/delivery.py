"""Delivery tracking: input offsets become committable only when every output they caused is acknowledged.

Batches are tracked in consumption order. The front batches whose outputs are all
acknowledged release their offsets; a batch still waiting holds back every later
batch, so a commit never passes an unacknowledged output (at-least-once).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

TopicPartitionKey = tuple[str, int]


class DeliveryFailed(RuntimeError):
    """An output could not be delivered; the batch's offsets must not be committed."""


class BatchTicket:
    """Outputs in flight for one consumed batch, and the offsets to commit once they land."""

    __slots__ = ("offsets", "pending", "sealed", "error")

    def __init__(self, offsets: dict[TopicPartitionKey, int]) -> None:
        self.offsets = offsets
        self.pending = 0
        self.sealed = False
        self.error: object | None = None

    def on_delivery(self, error: object | None, _message: object) -> None:
        """librdkafka delivery callback (runs inside ``producer.poll``/``flush`` on our thread)."""
        self.pending -= 1
        if error is not None and self.error is None:
            self.error = error

    @property
    def done(self) -> bool:
        return self.sealed and self.pending == 0


class DeliveryTracker:
    """Tickets in consumption order; :meth:`committable` pops the finished front."""

    def __init__(self) -> None:
        self._tickets: deque[BatchTicket] = deque()

    def open(self, offsets: dict[TopicPartitionKey, int]) -> BatchTicket:
        ticket = BatchTicket(offsets)
        self._tickets.append(ticket)
        return ticket

    def committable(self) -> dict[TopicPartitionKey, int]:
        """Offsets (next offset to read) released by finished batches; raises on a failed delivery."""
        released: dict[TopicPartitionKey, int] = {}
        while self._tickets and self._tickets[0].done:
            ticket = self._tickets.popleft()
            if ticket.error is not None:
                raise DeliveryFailed(f"output delivery failed: {ticket.error}")
            released.update(ticket.offsets)  # later batches carry later offsets
        return released

    def forget(self, partitions: Iterable[TopicPartitionKey]) -> None:
        """Drop offsets of partitions we lost without a clean revoke (they will be re-read elsewhere)."""
        lost = set(partitions)
        for ticket in self._tickets:
            for key in lost & ticket.offsets.keys():
                del ticket.offsets[key]

    @property
    def in_flight(self) -> int:
        return sum(ticket.pending for ticket in self._tickets)

    def __len__(self) -> int:
        return len(self._tickets)
