"""Ground truth of a simulator run: every message it emitted and every order it received.

Emitted messages are kept in typed columns (``array``), a few tens of bytes per
message, appended once per flush, so millions of them fit; past ``max_events``
the oldest half is dropped and counted. Queries return numpy arrays. A message is
identified by exchange, channel, symbol and its id on the wire (trade id, aggregate
id, final update id ``u``, kline open time...); ``first_id`` carries the diff
stream's ``U`` (or the aggregate's first trade id), ``fanout`` how many connections
got it, ``emit_ns`` the wall-clock time it was written to their sockets.
Orders record their arrival time (wall clock, ns) so a benchmark can compute
tick-to-order latency against ``emit_ns``. Injected faults (see ``faults/``) are
recorded as :class:`FaultRecord` rows: what was done, when, to which connection and
which message, so a test can check the platform reacted to exactly that.
"""

from __future__ import annotations

import threading
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import repeat

import numpy as np


class GroundTruthError(LookupError):
    """A query named an exchange, channel or symbol the run never registered."""


@dataclass(frozen=True, slots=True)
class EmittedEvents:
    """Columns of the emitted messages matching a query, in emission order."""

    exchange: np.ndarray  # exchange names, object array
    channel: np.ndarray  # channel names, object array
    symbol: np.ndarray  # exchange-native symbols, object array
    event_id: np.ndarray  # int64
    first_id: np.ndarray  # int64
    emit_ns: np.ndarray  # int64
    fanout: np.ndarray  # int32

    def __len__(self) -> int:
        return len(self.event_id)


@dataclass(frozen=True, slots=True)
class OrderArrival:
    """One order request as it reached the simulator."""

    exchange: str
    account: str  # the API key's label, never the secret
    symbol: str
    side: str
    order_type: str
    client_order_id: str
    order_id: int  # -1 when rejected
    arrival_ns: int
    error_code: int  # 0 when accepted; the venue's numeric code (Binance -2010, OKX 51008), 1 for Kraken's strings
    error: str = ""  # the venue's error text when it has no numeric code (Kraken: "EOrder:Insufficient funds")


@dataclass(frozen=True, slots=True)
class FaultRecord:
    """One action of an injected fault: a frame dropped, duplicated, delayed..., a connection dropped or stalled."""

    fault_id: int
    kind: str  # drop, stall, gap, duplicate, reorder, malformed, latency, maintenance
    exchange: str
    connection: str  # connection id ("" when the action is exchange-wide)
    channel: str  # channel of the affected message, as the exchange names it ("" for connection-level actions)
    symbol: str  # symbol of the affected message, as the exchange names it
    event_id: int  # id of the affected message on the wire (update id, seqId, trade id, checksum), -1 when none
    detail: str
    at_ns: int  # wall clock


class _Exchange:
    __slots__ = ("name", "symbols", "symbol_codes", "channels", "channel_codes")

    def __init__(self, name: str, symbols: Sequence[str], channels: Sequence[str]) -> None:
        self.name = name
        self.symbols = list(symbols)
        self.symbol_codes = {symbol: code for code, symbol in enumerate(symbols)}
        self.channels = list(channels)
        self.channel_codes = {channel: code for code, channel in enumerate(channels)}


class GroundTruth:
    """Records emitted messages and received orders; thread-safe, so tests may query while a server runs."""

    def __init__(self, max_events: int = 10_000_000) -> None:
        self.max_events = max_events
        self.dropped_events = 0
        self._lock = threading.Lock()
        self._exchanges: list[_Exchange] = []
        self._exchange_col = array("b")
        self._channel_col = array("b")
        self._symbol_col = array("i")
        self._event_id = array("q")
        self._first_id = array("q")
        self._emit_ns = array("q")
        self._fanout = array("i")
        self._orders: list[OrderArrival] = []
        self._faults: list[FaultRecord] = []

    def register_exchange(self, name: str, symbols: Sequence[str], channels: Sequence[str]) -> int:
        """Declare an exchange's symbols (by instrument index) and channel names; returns its code."""
        with self._lock:
            self._exchanges.append(_Exchange(name, symbols, channels))
            return len(self._exchanges) - 1

    def record_emitted(
        self,
        exchange: int,
        channels: Sequence[int],
        instruments: Sequence[int],
        event_ids: Sequence[int],
        first_ids: Sequence[int],
        fanouts: Sequence[int],
        emit_ns: int,
    ) -> None:
        """Append one flush worth of messages (parallel sequences), all written at ``emit_ns``."""
        count = len(channels)
        if not count:
            return
        with self._lock:
            self._exchange_col.extend(repeat(exchange, count))
            self._channel_col.extend(channels)
            self._symbol_col.extend(instruments)
            self._event_id.extend(event_ids)
            self._first_id.extend(first_ids)
            self._emit_ns.extend(repeat(emit_ns, count))
            self._fanout.extend(fanouts)
            if len(self._event_id) > self.max_events:
                self._drop_oldest(len(self._event_id) - self.max_events // 2)

    def record_messages(self, exchange: int, messages: list[int], emit_ns: int) -> None:
        """Append one flush worth of messages, given flat: ``channel, instrument, event_id, first_id, fanout`` of
        each in turn (what a publisher can collect with one ``extend`` per message)."""
        if messages:
            self.record_emitted(exchange, messages[0::5], messages[1::5], messages[2::5], messages[3::5], messages[4::5], emit_ns)

    def _drop_oldest(self, count: int) -> None:
        for column in (
            self._exchange_col,
            self._channel_col,
            self._symbol_col,
            self._event_id,
            self._first_id,
            self._emit_ns,
            self._fanout,
        ):
            del column[:count]
        self.dropped_events += count

    def record_order(self, arrival: OrderArrival) -> None:
        with self._lock:
            self._orders.append(arrival)

    def record_fault(self, record: FaultRecord) -> None:
        with self._lock:
            self._faults.append(record)

    def faults(self, exchange: str | None = None, kind: str | None = None) -> list[FaultRecord]:
        """Fault actions in the order they happened, optionally of one exchange and kind."""
        with self._lock:
            return [f for f in self._faults if (exchange is None or f.exchange == exchange) and (kind is None or f.kind == kind)]

    def summary(self) -> dict[str, object]:
        """Counts per exchange and channel, orders, faults: what ``GET /_control/ground_truth/summary`` returns."""
        with self._lock:
            exchanges = list(self._exchanges)
            exchange_col = np.frombuffer(self._exchange_col, dtype=np.int8).copy()
            channel_col = np.frombuffer(self._channel_col, dtype=np.int8).copy()
            orders, faults = list(self._orders), list(self._faults)
        per_exchange: dict[str, object] = {}
        for code, registered in enumerate(exchanges):
            rows = channel_col[exchange_col == code]
            counts = np.bincount(rows, minlength=len(registered.channels)) if rows.size else np.zeros(len(registered.channels))
            per_exchange[registered.name] = {
                "messages": int(rows.size),
                "channels": {name: int(n) for name, n in zip(registered.channels, counts.tolist(), strict=True) if n},
                "orders": sum(1 for o in orders if o.exchange == registered.name),
            }
        fault_counts: dict[str, int] = {}
        for record in faults:
            fault_counts[record.kind] = fault_counts.get(record.kind, 0) + 1
        return {
            "messages": int(exchange_col.size),
            "dropped_messages": self.dropped_events,
            "exchanges": per_exchange,
            "orders": len(orders),
            "fault_actions": fault_counts,
        }

    def __len__(self) -> int:
        with self._lock:
            return len(self._event_id)

    def events(self, exchange: str | None = None, channel: str | None = None, symbol: str | None = None) -> EmittedEvents:
        """The emitted messages matching every given filter, in emission order."""
        with self._lock:
            columns = {
                "exchange": np.frombuffer(self._exchange_col, dtype=np.int8).copy(),
                "channel": np.frombuffer(self._channel_col, dtype=np.int8).copy(),
                "symbol": np.frombuffer(self._symbol_col, dtype=np.int32).copy(),
                "event_id": np.frombuffer(self._event_id, dtype=np.int64).copy(),
                "first_id": np.frombuffer(self._first_id, dtype=np.int64).copy(),
                "emit_ns": np.frombuffer(self._emit_ns, dtype=np.int64).copy(),
                "fanout": np.frombuffer(self._fanout, dtype=np.int32).copy(),
            }
            exchanges = list(self._exchanges)
        mask = np.ones(len(columns["event_id"]), dtype=bool)
        if exchange is not None:
            code = self._exchange_code(exchanges, exchange)
            mask &= columns["exchange"] == code
            if channel is not None:
                mask &= columns["channel"] == self._channel_code(exchanges[code], channel)
            if symbol is not None:
                mask &= columns["symbol"] == self._symbol_code(exchanges[code], symbol)
        elif channel is not None or symbol is not None:
            raise GroundTruthError("filtering by channel or symbol needs the exchange too")
        return self._decode({name: column[mask] for name, column in columns.items()}, exchanges)

    def emit_time_ns(self, exchange: str, channel: str, symbol: str, event_id: int) -> int | None:
        """When the message with this id went out (the first time), or None if it never did."""
        found = self.events(exchange, channel, symbol)
        hits = np.flatnonzero(found.event_id == event_id)
        return int(found.emit_ns[hits[0]]) if hits.size else None

    def last_emits_before(self, queries: Sequence[tuple[str, str, int]]) -> list[int | None]:
        """For each ``(exchange, symbol, before_ns)``: when the last message of that symbol (any
        channel) went out at or before ``before_ns``, or None. A benchmark asks it for the market
        event an order reacted to, by the time the platform received it (symbols trade a few
        messages a second, so the last one before the receipt is the one received)."""
        with self._lock:
            exchange_col = np.frombuffer(self._exchange_col, dtype=np.int8).copy()
            symbol_col = np.frombuffer(self._symbol_col, dtype=np.int32).copy()
            emit_col = np.frombuffer(self._emit_ns, dtype=np.int64).copy()
            exchanges = list(self._exchanges)
        found: list[int | None] = []
        rows_of: dict[tuple[str, str], np.ndarray] = {}
        for exchange, symbol, before_ns in queries:
            rows = rows_of.get((exchange, symbol))
            if rows is None:
                code = self._exchange_code(exchanges, exchange)
                symbol_code = self._symbol_code(exchanges[code], symbol)
                rows = rows_of[(exchange, symbol)] = emit_col[(exchange_col == code) & (symbol_col == symbol_code)]
            earlier = rows[rows <= before_ns]  # emission order: emit times never decrease
            found.append(int(earlier[-1]) if earlier.size else None)
        return found

    def orders(self, exchange: str | None = None) -> list[OrderArrival]:
        with self._lock:
            return [o for o in self._orders if exchange is None or o.exchange == exchange]

    @staticmethod
    def _exchange_code(exchanges: list[_Exchange], name: str) -> int:
        for code, registered in enumerate(exchanges):
            if registered.name == name:
                return code
        raise GroundTruthError(f"no exchange {name!r} in this run")

    @staticmethod
    def _channel_code(exchange: _Exchange, channel: str) -> int:
        if channel not in exchange.channel_codes:
            raise GroundTruthError(f"{exchange.name} has no channel {channel!r} (has {exchange.channels})")
        return exchange.channel_codes[channel]

    @staticmethod
    def _symbol_code(exchange: _Exchange, symbol: str) -> int:
        if symbol not in exchange.symbol_codes:
            raise GroundTruthError(f"{exchange.name} has no symbol {symbol!r}")
        return exchange.symbol_codes[symbol]

    @staticmethod
    def _decode(columns: dict[str, np.ndarray], exchanges: list[_Exchange]) -> EmittedEvents:
        exchange_names = np.array([e.name for e in exchanges] or [""], dtype=object)
        channel_names = np.empty(len(columns["channel"]), dtype=object)
        symbol_names = np.empty(len(columns["symbol"]), dtype=object)
        for code, registered in enumerate(exchanges):
            rows = columns["exchange"] == code
            if rows.any():
                channel_names[rows] = np.array(registered.channels, dtype=object)[columns["channel"][rows]]
                symbol_names[rows] = np.array(registered.symbols, dtype=object)[columns["symbol"][rows]]
        return EmittedEvents(
            exchange=exchange_names[columns["exchange"]] if len(columns["exchange"]) else np.array([], dtype=object),
            channel=channel_names,
            symbol=symbol_names,
            event_id=columns["event_id"],
            first_id=columns["first_id"],
            emit_ns=columns["emit_ns"],
            fanout=columns["fanout"],
        )
