"""What a replay serves: recorded WebSocket connections (their frames, in order, with receive times) and REST bodies.

Times are nanoseconds on the recording's own clock; only differences matter, and
a REST body's time places it on the same clock as the connections recorded with
it. Frames are kept as the exact bytes the exchange sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

IN, OUT = "in", "out"
#: Query parameters that do not select a REST body: sizes (the recorded snapshot answers any limit).
UNSELECTIVE_PARAMETERS = frozenset({"limit", "sz", "count"})


class ReplayError(ValueError):
    """A recording that cannot be replayed (unknown format, exchange, unreadable file)."""


@dataclass(frozen=True, slots=True)
class RecordedFrame:
    """One WebSocket frame: received from the exchange (``in``) or sent by the recorder (``out``)."""

    time_ns: int
    direction: str
    payload: bytes


@dataclass(slots=True)
class RecordedConnection:
    """One recorded WebSocket connection: where it was opened and every frame, in order."""

    exchange: str
    source: str  # file (and connection id) it comes from, for messages
    path: str | None = None  # URL path the recorder opened, None when not recorded
    query: str = ""
    opened_ns: int | None = None
    frames: list[RecordedFrame] = field(default_factory=list)

    @property
    def start_ns(self) -> int:
        if self.opened_ns is not None:
            return self.opened_ns
        return self.frames[0].time_ns if self.frames else 0

    @property
    def end_ns(self) -> int:
        return self.frames[-1].time_ns if self.frames else self.start_ns

    @property
    def received(self) -> list[RecordedFrame]:
        return [frame for frame in self.frames if frame.direction == IN]

    @property
    def first_sent(self) -> RecordedFrame | None:
        return next((frame for frame in self.frames if frame.direction == OUT), None)


@dataclass(frozen=True, slots=True)
class RecordedRest:
    """One REST body, served at ``path`` to requests carrying the same selective parameters."""

    exchange: str
    time_ns: int
    path: str
    parameters: tuple[tuple[str, str], ...]
    body: bytes

    def answers(self, path: str, query: dict[str, str]) -> bool:
        return path == self.path and all(query.get(key) == value for key, value in self.parameters)


def rest_target(url: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """Path and selective parameters of a recorded REST URL."""
    parts = urlsplit(url)
    parameters = tuple(sorted((k, v) for k, v in parse_qsl(parts.query) if k not in UNSELECTIVE_PARAMETERS))
    return parts.path or "/", parameters


@dataclass(slots=True)
class Recording:
    """Every recorded connection and REST body, per exchange."""

    connections: list[RecordedConnection] = field(default_factory=list)
    rest: list[RecordedRest] = field(default_factory=list)

    @property
    def exchanges(self) -> list[str]:
        names = {c.exchange for c in self.connections} | {r.exchange for r in self.rest}
        return sorted(names)

    def connections_of(self, exchange: str) -> list[RecordedConnection]:
        return [c for c in self.connections if c.exchange == exchange and c.frames]

    def rest_of(self, exchange: str) -> list[RecordedRest]:
        return sorted((r for r in self.rest if r.exchange == exchange), key=lambda r: r.time_ns)

    def extend(self, other: Recording) -> None:
        self.connections += other.connections
        self.rest += other.rest
