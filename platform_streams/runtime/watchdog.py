"""Stall detection: a partition whose position stays behind its high watermark without progress.

Pure logic, fed by the daemon with positions and high watermarks; it decides, the
daemon recovers (recreates its consumer from the committed offsets). Watermarks that
were read too long ago mean the broker is not answering (down, restarting): nothing
can progress then and a new consumer would not help, so the watchdog judges nothing
and, once the broker answers again, gives every partition a whole stall timeout anew.
"""

from __future__ import annotations

from collections.abc import Mapping

from platform_streams.runtime.delivery import TopicPartitionKey


class StallWatchdog:
    """Flags partitions that are behind and have not advanced for ``stall_after_ns``."""

    def __init__(self, stall_after_ns: int, stale_after_ns: int | None = None) -> None:
        if stall_after_ns <= 0:
            raise ValueError("stall_after_ns must be positive")
        self._stall_after_ns = stall_after_ns
        self._stale_after_ns = stale_after_ns
        self._progress: dict[TopicPartitionKey, tuple[int, int]] = {}

    def observe(
        self,
        now_ns: int,
        positions: Mapping[TopicPartitionKey, int],
        high_watermarks: Mapping[TopicPartitionKey, int],
        read_at_ns: int | None = None,
    ) -> list[TopicPartitionKey]:
        """Record positions at ``now_ns`` (watermarks read at ``read_at_ns``); return the partitions that are stalled."""
        if read_at_ns is not None and self._stale_after_ns is not None and now_ns - read_at_ns > self._stale_after_ns:
            self.reset()  # the broker is not answering: no judgement now, a fresh start once it does
            return []
        stalled: list[TopicPartitionKey] = []
        for key, position in positions.items():
            high = high_watermarks.get(key)
            last = self._progress.get(key)
            if last is None or last[0] != position or high is None or high <= position:
                self._progress[key] = (position, now_ns)  # progress, caught up, or unknown: the clock restarts
                continue
            if now_ns - last[1] >= self._stall_after_ns:
                stalled.append(key)
        for key in self._progress.keys() - positions.keys():
            del self._progress[key]
        return stalled

    def reset(self) -> None:
        self._progress.clear()
