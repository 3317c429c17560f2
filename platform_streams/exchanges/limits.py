"""An exchange's documented connection, subscription and REST limits, as data for the shard planner."""

from __future__ import annotations

import msgspec


class RateLimit(msgspec.Struct, frozen=True):
    """At most ``count`` of what ``counts`` says per ``window_s`` seconds, per ``scope`` (``ip``, ``connection``)."""

    count: int
    window_s: float
    scope: str
    counts: str


class ExchangeLimits(msgspec.Struct, frozen=True):
    """The limits one exchange documents for public market data; ``None`` where it documents none.

    ``rest_weights`` gives the weight (or request cost) of the REST calls the adapters
    make, by endpoint path; ``source`` is where the figures come from."""

    exchange: str
    streams_per_connection: int | None
    subscribe_messages: RateLimit | None
    new_connections: RateLimit | None
    connection_lifetime_s: int | None
    rest_budget: RateLimit | None
    rest_weights: dict[str, int]
    source: str
    notes: str = ""
