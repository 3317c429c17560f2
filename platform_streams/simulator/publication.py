"""Subscriber lists and per-quantum frame delivery shared by the OKX and Kraken protocol hubs.

A :class:`SubscriptionTable` answers "who listens to channel c of instrument i" with
one list lookup on the hot path. A :class:`FramePublisher` queues each rendered
frame on its listeners (one render per message, whatever the fan-out), writes
every touched connection once per flush, and records each message in the ground
truth with its wire id, fan-out and emission time.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Generic, TypeVar

from platform_streams.simulator.ground_truth import GroundTruth
from platform_streams.simulator.websocket_connection import ClientConnection

C = TypeVar("C", bound=ClientConnection)


class SubscriptionTable(Generic[C]):
    """Connections listening to each (channel, instrument), and the instruments of each channel that have any."""

    def __init__(self, channels: int, instruments: int) -> None:
        self.rows: list[list[list[C] | None]] = [[None] * instruments for _ in range(channels)]
        self.active: list[dict[int, None]] = [{} for _ in range(channels)]

    def add(self, channel: int, instrument: int, connection: C) -> bool:
        """Add a listener; True when it is the first one of this channel and instrument."""
        row = self.rows[channel]
        listeners = row[instrument]
        first = listeners is None
        if listeners is None:
            listeners = row[instrument] = []
            self.active[channel][instrument] = None
        listeners.append(connection)
        return first

    def remove(self, channel: int, instrument: int, connection: C) -> bool:
        """Remove a listener; True when none is left."""
        row = self.rows[channel]
        listeners = row[instrument]
        if listeners is None or connection not in listeners:
            return False
        listeners.remove(connection)
        if listeners:
            return False
        row[instrument] = None
        self.active[channel].pop(instrument, None)
        return True

    def listeners(self, channel: int, instrument: int) -> list[C] | None:
        return self.rows[channel][instrument]


class FramePublisher:
    """Queues frames on connections and records every message sent, for one exchange."""

    def __init__(self, ground_truth: GroundTruth, exchange_code: int) -> None:
        self._ground_truth = ground_truth
        self._exchange_code = exchange_code
        self._dirty: list[ClientConnection] = []
        self._messages: list[int] = []  # channel, instrument, id, first id, fan-out of each message in turn

    def send(
        self, listeners: Iterable[ClientConnection], channel: int, instrument: int, event_id: int, first_id: int, data: bytes
    ) -> None:
        """Queue ``data`` on every listener and note the message for the ground truth."""
        dirty, count = self._dirty, 0
        for connection in listeners:
            pending = connection.pending
            if not pending:
                dirty.append(connection)
            pending.append(data)
            count += 1
        self._messages.extend((channel, instrument, event_id, first_id, count))

    def note(self, channel: int, instrument: int, event_id: int, first_id: int, fanout: int) -> None:
        """Record a message the caller sent itself (a snapshot right after a subscription reply)."""
        self._messages.extend((channel, instrument, event_id, first_id, fanout))

    def queue_control(self, connection: ClientConnection, data: bytes) -> None:
        """Queue a frame that is not a market message (heartbeats), written with the next flush."""
        if not connection.pending:
            self._dirty.append(connection)
        connection.pending.append(data)

    def flush(self) -> None:
        """Write every touched connection once, then record what went out."""
        for connection in self._dirty:
            connection.flush()
        self._dirty = []
        if self._messages:
            self._ground_truth.record_messages(self._exchange_code, self._messages, time.time_ns())
            self._messages = []
