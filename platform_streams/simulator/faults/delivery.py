"""Delayed delivery of one connection's frames: held during a stall, late by an added latency, always in order.

Frames handed to :meth:`DelayedDelivery.route` get a due time (now + latency, or
the end of the stall) never earlier than the frames queued before them, and one
timer on the event loop writes whatever is due. The socket stays open throughout:
a stalled client sees silence, then everything at once, as after a network stall.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque

from platform_streams.simulator.websocket_connection import ClientConnection


class DelayedDelivery:
    """Stall and latency state of one connection, and the frames it is holding back."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self.stalled_until = 0.0  # monotonic seconds
        self.latency_s = 0.0
        self.held_frames = 0  # frames held by the current stall so far
        self._queue: deque[tuple[float, list[bytes]]] = deque()
        self._timer: asyncio.TimerHandle | None = None

    def is_stalled(self, now: float) -> bool:
        return now < self.stalled_until

    @property
    def idle(self) -> bool:
        """Nothing to delay and nothing queued: the connection can write directly again."""
        return not self._queue and self.latency_s <= 0 and self.stalled_until <= time.monotonic()

    def route(self, frames: list[bytes]) -> list[bytes]:
        """Frames to write now; the rest are queued and written when due."""
        now = time.monotonic()
        stalled = now < self.stalled_until
        if not stalled and self.latency_s <= 0 and not self._queue:
            return frames
        due = max(now + self.latency_s, self.stalled_until if stalled else 0.0, self._queue[-1][0] if self._queue else 0.0)
        if stalled:
            self.held_frames += len(frames)
        self._queue.append((due, frames))
        self._arm()
        return []

    def release(self) -> None:
        """The stall or latency was cleared: queued frames are due by the new rules (still in order)."""
        latest = time.monotonic() + max(0.0, self.latency_s)
        self._queue = deque((min(due, latest), frames) for due, frames in self._queue)
        self._arm()

    def _arm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self._queue:
            return
        due = max(self._queue[0][0], self.stalled_until)
        loop = asyncio.get_running_loop()
        self._timer = loop.call_at(loop.time() + max(0.0, due - time.monotonic()), self._drain)

    def _drain(self) -> None:
        self._timer = None
        now = time.monotonic()
        if now < self.stalled_until:
            self._arm()
            return
        ready: list[bytes] = []
        while self._queue and self._queue[0][0] <= now + 0.0005:
            ready.extend(self._queue.popleft()[1])
        if ready:
            self.connection.write_frames(ready)
        if not self._queue:
            self.held_frames = 0
        self._arm()

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._queue.clear()
