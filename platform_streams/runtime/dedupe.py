"""Drop duplicates by event id: at-least-once delivery plus this gives exactly-once effects."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable


class Deduplicator:
    """Remembers the last ``capacity`` event ids; :meth:`first_time` is True once per id."""

    def __init__(self, capacity: int = 1_000_000) -> None:
        self._capacity = capacity
        self._seen: OrderedDict[Hashable, None] = OrderedDict()

    def first_time(self, event_id: Hashable) -> bool:
        if event_id in self._seen:
            self._seen.move_to_end(event_id)
            return False
        self._seen[event_id] = None
        if len(self._seen) > self._capacity:
            self._seen.popitem(last=False)
        return True

    def __len__(self) -> int:
        return len(self._seen)
