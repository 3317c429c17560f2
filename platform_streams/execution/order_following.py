"""Which of an account's orders REST polling asks about, given what the private stream has said.

The private stream drives the orders' states; REST polling is the fallback. :class:`PollPlan`
decides, from the stream's health and when each order was last spoken about, which orders to
ask about now:

- the stream is down, reconnecting, or there is none: every followed order, every ``poll_interval_s``;
- the stream has just (re)connected: every order followed at that moment once, at once — whatever
  was said while it was away is not said again (an order placed since, the stream speaks for);
- the stream is up: only orders it has said nothing about for ``stream_quiet_s`` (a resting order,
  or a report the stream lost), each then counted as spoken about.

"Followed" orders are the open ones and the finished ones whose fills are not all in yet
(:class:`FillTally`). No I/O and no clock of its own: times come in as arguments.
"""

from __future__ import annotations

from collections.abc import Iterable


class PollPlan:
    """The poll schedule of one account's orders."""

    def __init__(self, poll_interval_s: float, stream_quiet_s: float) -> None:
        self.poll_interval_s = poll_interval_s
        self.stream_quiet_s = stream_quiet_s
        self.stream_up = False
        self.reconnects = 0
        self._connected_before = False
        self._reconcile: set[str] = set()  # followed when the stream (re)connected: asked about once
        self._next_poll = 0.0
        self._last_word: dict[str, float] = {}  # client order id → when the stream or REST last spoke of it

    def stream_connected(self, followed: Iterable[str]) -> None:
        """The stream's subscription is in force (again): the orders followed now are asked about once."""
        self.stream_up = True
        self._reconcile = set(followed)
        if self._connected_before:
            self.reconnects += 1
        self._connected_before = True

    def stream_lost(self) -> None:
        self.stream_up = False

    def heard(self, client_order_id: str, now: float) -> None:
        """The stream spoke about the order (or REST answered for it)."""
        self._last_word[client_order_id] = now

    def due(self, followed: Iterable[str], now: float) -> list[str]:
        """The orders to ask about by REST now (each counted as spoken about at ``now``)."""
        followed = list(followed)
        known = set(followed)
        for gone in [cid for cid in self._last_word if cid not in known]:
            del self._last_word[gone]
        if not self.stream_up:
            if now < self._next_poll:
                return []
            self._next_poll = now + self.poll_interval_s
            chosen = followed
        else:
            quiet = self.stream_quiet_s
            chosen = [cid for cid in followed if cid in self._reconcile or now - self._last_word.setdefault(cid, now) >= quiet]
            self._reconcile.clear()
        for cid in chosen:
            self._last_word[cid] = now
        return chosen


class FillTally:
    """How much of each order's filled size its recorded fills account for: an order stays followed
    until they add up (the stream may report an order filled before, or without, its trades)."""

    def __init__(self) -> None:
        self._fill_ids: dict[str, set[str]] = {}
        self._sizes: dict[str, int] = {}

    def counted(self, client_order_id: str, fill_id: str) -> bool:
        return fill_id in self._fill_ids.get(client_order_id, ())

    def add(self, client_order_id: str, fill_id: str, size: int) -> bool:
        """Count one fill of the order; False if it was counted before (heard both ways)."""
        ids = self._fill_ids.setdefault(client_order_id, set())
        if fill_id in ids:
            return False
        ids.add(fill_id)
        self._sizes[client_order_id] = self._sizes.get(client_order_id, 0) + size
        return True

    def accounted(self, client_order_id: str) -> int:
        return self._sizes.get(client_order_id, 0)

    def owed(self, client_order_id: str, filled_size: int) -> bool:
        """Whether the order's fills fall short of its filled size."""
        return self._sizes.get(client_order_id, 0) < filled_size

    def keep_only(self, client_order_ids: Iterable[str]) -> None:
        """Forget every order but these (the followed ones): finished orders need no tally."""
        kept = set(client_order_ids)
        for gone in [cid for cid in self._fill_ids if cid not in kept]:
            self.forget(gone)

    def forget(self, client_order_id: str) -> None:
        self._fill_ids.pop(client_order_id, None)
        self._sizes.pop(client_order_id, None)
