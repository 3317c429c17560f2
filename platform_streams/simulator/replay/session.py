"""One client connection playing one recorded connection, paced like the recording (or ``speed`` times faster).

Frames the exchange sent before the recorder's first request go out on connect;
the rest wait for the client's first message (at most ``first_message_wait_s``), and
are then paced from it: a frame recorded ``t`` after that request goes out ``t /
speed`` after the client's. Frames due together go out in one write; ``speed`` 0
sends everything as fast as the socket takes it. Until the first message has
started the feed, the recording may still be swapped for one whose first request
matches the client's (several recorded connections to the same URL).
"""

from __future__ import annotations

import asyncio
import time

from platform_streams.simulator.replay.recording import OUT, RecordedConnection, RecordedFrame
from platform_streams.simulator.websocket_connection import ClientConnection

_BATCH_WHEN_UNPACED = 500
_SLEEP_RESOLUTION_S = 0.001


class ReplaySession:
    """Plays one recorded connection to one client connection."""

    def __init__(
        self, connection: ClientConnection, recorded: RecordedConnection, speed: float, first_message_wait_s: float
    ) -> None:
        self.connection = connection
        self.recorded = recorded
        self.speed = speed
        self.first_message_wait_s = first_message_wait_s
        self.frames_sent = 0
        self.finished = False
        self.feed_started = asyncio.Event()
        self._origin_ns = recorded.start_ns
        self._origin_monotonic = time.monotonic()

    def position_ns(self) -> int:
        """Where on the recording's clock the replay is now (REST bodies recorded up to here are current)."""
        if self.speed <= 0 or self.finished:
            return 1 << 62
        return self._origin_ns + int((time.monotonic() - self._origin_monotonic) * self.speed * 1e9)

    def swap(self, recorded: RecordedConnection) -> bool:
        """Play ``recorded`` instead, if nothing has been sent yet; True when swapped."""
        if self.frames_sent or self.feed_started.is_set():
            return False
        self.recorded = recorded
        self._origin_ns = recorded.start_ns
        return True

    async def play(self) -> None:
        frames = self.recorded.frames
        first_out = next((i for i, frame in enumerate(frames) if frame.direction == OUT), None)
        if first_out is None:
            await self._play(frames, self.recorded.start_ns)
        else:
            played = self.recorded
            await self._play(frames[:first_out], played.start_ns)
            try:
                await asyncio.wait_for(self.feed_started.wait(), self.first_message_wait_s)
            except TimeoutError:
                self.feed_started.set()
            frames = self.recorded.frames
            first_out = next(i for i, frame in enumerate(frames) if frame.direction == OUT)
            if self.recorded is not played:  # swapped for a better match: its greeting goes out now
                self._send([frame.payload for frame in frames[:first_out]])
            await self._play(frames[first_out + 1 :], frames[first_out].time_ns)
        self.finished = True

    async def _play(self, frames: list[RecordedFrame], origin_ns: int) -> None:
        self._origin_ns, self._origin_monotonic = origin_ns, time.monotonic()
        speed, batch = self.speed, []
        for frame in frames:
            if frame.direction == OUT:
                continue
            if speed > 0:
                delay = self._origin_monotonic + (frame.time_ns - origin_ns) / 1e9 / speed - time.monotonic()
                if delay > _SLEEP_RESOLUTION_S:
                    self._send(batch)
                    batch = []
                    await asyncio.sleep(delay)
            elif len(batch) >= _BATCH_WHEN_UNPACED:
                self._send(batch)
                batch = []
                await asyncio.sleep(0)
            if self.connection.closed:
                return
            batch.append(frame.payload)
        self._send(batch)

    def _send(self, payloads: list[bytes]) -> None:
        if payloads and not self.connection.closed:
            self.connection.pending.extend(payloads)
            self.connection.flush()
            self.frames_sent += len(payloads)
