"""An exchange's documented connection, subscription and REST limits, as data: the shard planner
paces connections by them, and the host's request budget keeps every REST call within them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import msgspec

#: The REST calls the platform makes, as the request budget names them. Every venue's
#: :class:`RequestLimits` prices each (``snapshot`` per unit of the snapshot's own weight).
OPERATIONS = ("markets", "place", "cancel", "query", "open_orders", "fills", "snapshot", "history")


class RateLimit(msgspec.Struct, frozen=True):
    """At most ``count`` of what ``counts`` says per ``window_s`` seconds, per ``scope`` (``ip``, ``connection``)."""

    count: int
    window_s: float
    scope: str
    counts: str


class RequestLimit(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One counter an exchange meters REST calls with, kept per ``scope``: ``ip`` (the host) or
    ``account``. Either fixed windows (at most ``count`` per ``window_s``) or, with
    ``decay_per_s`` (Kraken), a counter that may not pass ``count`` and falls by ``decay_per_s``."""

    count: int
    scope: Literal["ip", "account"]
    counts: str = ""
    window_s: float = 0.0
    decay_per_s: float = 0.0

    def __post_init__(self) -> None:
        if self.count <= 0 or (self.window_s > 0) == (self.decay_per_s > 0) or min(self.window_s, self.decay_per_s) < 0:
            raise ValueError(f"a request limit needs a positive count and exactly one of window_s, decay_per_s: {self}")


class LimitOverride(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A setting that replaces one declared :class:`RequestLimit` (same scope): ``count`` per
    ``window_s``, or a counter of at most ``count`` decaying by ``decay_per_s``."""

    count: int
    window_s: float = 0.0
    decay_per_s: float = 0.0


class RequestLimits(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """What one exchange meters REST calls by, and what each call the platform makes costs on
    which limit (``costs[operation][limit name]``; a ``snapshot`` costs that times its weight).
    The ``rest`` limit is the public REST budget snapshots are charged to."""

    limits: dict[str, RequestLimit]
    costs: dict[str, dict[str, int]]

    def __post_init__(self) -> None:
        for operation, costs in self.costs.items():
            unknown = sorted(set(costs) - set(self.limits))
            if operation not in OPERATIONS or unknown or any(cost < 1 for cost in costs.values()):
                raise ValueError(f"operation {operation!r} costs {costs}: unknown operation or limits {unknown}")

    def replaced(self, overrides: Mapping[str, LimitOverride]) -> RequestLimits:
        """These limits with some replaced (the simulator's, a tier above the documented one); scopes and costs stay."""
        unknown = sorted(set(overrides) - set(self.limits))
        if unknown:
            raise ValueError(f"no limit {unknown} to replace; the limits are {sorted(self.limits)}")
        limits = dict(self.limits)
        for name, override in overrides.items():
            old = limits[name]
            limits[name] = RequestLimit(override.count, old.scope, old.counts, override.window_s, override.decay_per_s)
        return RequestLimits(limits, self.costs)

    def costs_of(self, operation: str, weight: int = 1) -> dict[str, int]:
        """Limit name → what one ``operation`` costs on it (a snapshot: ``weight`` times its price)."""
        costs = self.costs.get(operation)
        if costs is None:
            raise ValueError(f"no cost declared for {operation!r}; declared: {sorted(self.costs)}")
        return {name: cost * weight for name, cost in costs.items()} if operation == "snapshot" else dict(costs)


def rest_only(count: int, window_s: float, source: str = "") -> RequestLimits:
    """A budget of public REST weight alone (``count`` per ``window_s`` per IP), for snapshots."""
    return RequestLimits(
        limits={"rest": RequestLimit(count, "ip", source or "public REST weight", window_s=window_s)},
        costs={"snapshot": {"rest": 1}, "history": {"rest": 1}},
    )


class ExchangeLimits(msgspec.Struct, frozen=True):
    """The limits one exchange documents; ``None`` where it documents none.

    ``requests`` are the REST limits (public and private) and each call's cost on them; ``rest_weights`` gives the weight (or request cost) of the REST calls the adapters
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
    requests: RequestLimits | None = None  # the REST limits every daemon's calls share; None: ``rest_budget`` alone

    def request_limits(self) -> RequestLimits:
        """The limits the request budget keeps: the declared ones, else ``rest_budget`` alone (snapshots only)."""
        if self.requests is not None:
            return self.requests
        if self.rest_budget is None:
            raise ValueError(f"{self.exchange} documents no REST limits")
        return rest_only(self.rest_budget.count, self.rest_budget.window_s, self.source)
