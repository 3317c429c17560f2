"""What a stage returns: records to produce, with topic, key and already-encoded value."""

from __future__ import annotations

from typing import Any

import msgspec

from platform_streams.schemas import encode


class Output(msgspec.Struct, frozen=True, gc=False):
    """One record for the runtime to produce. ``value`` is bytes; use :meth:`event` to encode one.
    ``partition``: where it goes; None lets the producer's partitioner choose by ``key``."""

    topic: str
    value: bytes
    key: bytes | str | None = None
    headers: list[tuple[str, bytes]] | None = None
    partition: int | None = None

    @classmethod
    def event(cls, topic: str, event: Any, key: bytes | str | None = None) -> Output:
        """An output carrying a canonical event, keyed by the event's own key unless given."""
        return cls(topic, encode(event), key if key is not None else event.key)
