"""Simulator-wide fault control: inject a fault on one or every exchange, list, expire and clear them.

This is the Python API (``Simulator.faults``, ``SimulatorThread.inject_fault``) and
what the HTTP control API calls. Call it on the simulator's event loop. A drop
acts at once; a fault with ``duration_s`` ends by itself (a timer on the loop);
a one-shot frame fault ends when its frames are used; anything ends when cleared.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time

from platform_streams.simulator.faults.injector import ArmedFault, ExchangeFaults
from platform_streams.simulator.faults.spec import FaultError, FaultKind, FaultSpec, checked_spec
from platform_streams.simulator.market.universe import stable_seed
from platform_streams.simulator.websocket_connection import ClientConnection

log = logging.getLogger(__name__)

CLOSE_GOING_AWAY = 1001


class FaultController:
    """Every exchange's :class:`ExchangeFaults`, and the faults armed across them by id."""

    def __init__(self, exchanges: dict[str, ExchangeFaults], seed: int) -> None:
        self.exchanges = exchanges
        self._seed = seed
        self._next_id = 1
        self._armed: dict[int, list[tuple[ExchangeFaults, ArmedFault]]] = {}
        self._timers: dict[int, asyncio.TimerHandle] = {}
        self._closing: set[asyncio.Task[None]] = set()

    def inject(self, spec: FaultSpec | dict[str, object]) -> int:
        """Arm (or, for a drop, perform) ``spec``; returns the fault's id (its ground-truth records carry it)."""
        spec = checked_spec(spec)
        targets = self._exchanges_of(spec)
        fault_id = self._next_id
        self._next_id += 1
        expires_at = time.monotonic() + spec.duration_s if spec.duration_s is not None else None
        log.info("injecting a fault", extra={"fault_id": fault_id, "fault": spec.to_json()})
        if spec.kind is FaultKind.DROP:
            for exchange in targets:
                self._drop(exchange, ArmedFault(fault_id, spec, None, 0, random.Random()), spec.close_code)
            return fault_id
        armed = []
        for exchange in targets:
            fault = ArmedFault(
                fault_id,
                spec,
                expires_at,
                spec.count,
                random.Random(stable_seed("fault", self._seed, fault_id, exchange.exchange)),
            )
            exchange.arm(fault)
            if spec.kind is FaultKind.MAINTENANCE:
                exchange.record(fault, None, None, "exchange in maintenance")
                for connection in exchange.targeted(spec):
                    self._close(connection, CLOSE_GOING_AWAY, "System maintenance")
                    exchange.record(fault, connection, None, "closed for maintenance")
            armed.append((exchange, fault))
        self._armed[fault_id] = armed
        if spec.duration_s is not None:
            self._timers[fault_id] = asyncio.get_running_loop().call_later(spec.duration_s, self._expire, fault_id)
        return fault_id

    def clear(self, fault_id: int | None = None) -> list[int]:
        """End one fault (or all); returns the ids ended."""
        ids = list(self._armed) if fault_id is None else [fault_id] if fault_id in self._armed else []
        for ended in ids:
            self._end(ended, "cleared")
        return ids

    def armed(self) -> list[dict[str, object]]:
        """The faults in force, as JSON-ready mappings."""
        self._forget_spent()
        now = time.monotonic()
        rows: list[dict[str, object]] = []
        for fault_id, pairs in self._armed.items():
            fault = pairs[0][1]
            rows.append(
                {
                    "id": fault_id,
                    **fault.spec.to_json(),
                    "exchanges": [exchange.exchange for exchange, _ in pairs],
                    "remaining": fault.remaining if fault.expires_at is None else None,
                    "ends_in_s": round(fault.expires_at - now, 3) if fault.expires_at is not None else None,
                }
            )
        return rows

    def connections(self) -> list[dict[str, object]]:
        return [
            {"exchange": name, "connection": connection_id, "peer": connection.peer}
            for name, exchange in self.exchanges.items()
            for connection_id, connection in exchange.connections.items()
            if not connection.closed
        ]

    def _exchanges_of(self, spec: FaultSpec) -> list[ExchangeFaults]:
        if spec.exchange is None:
            return list(self.exchanges.values())
        if spec.exchange not in self.exchanges:
            raise FaultError(f"no exchange {spec.exchange!r} in this run (has {sorted(self.exchanges)})")
        exchange = self.exchanges[spec.exchange]
        if spec.connection is not None and spec.connection not in exchange.connections:
            raise FaultError(f"no open connection {spec.connection!r} on {spec.exchange}")
        return [exchange]

    def _drop(self, exchange: ExchangeFaults, fault: ArmedFault, close_code: int | None) -> None:
        for connection in exchange.targeted(fault.spec):
            if close_code is None:
                connection.abort()
                exchange.record(fault, connection, None, "TCP connection aborted")
            else:
                self._close(connection, close_code, "Connection dropped")
                exchange.record(fault, connection, None, f"closed with code {close_code}")

    def _close(self, connection: ClientConnection, code: int, reason: str) -> None:
        task = asyncio.get_running_loop().create_task(connection.close(code, reason))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    def _expire(self, fault_id: int) -> None:
        self._timers.pop(fault_id, None)
        self._end(fault_id, "expired")

    def _end(self, fault_id: int, reason: str) -> None:
        timer = self._timers.pop(fault_id, None)
        if timer is not None:
            timer.cancel()
        for exchange, fault in self._armed.pop(fault_id, []):
            if fault.spec.kind is FaultKind.MAINTENANCE:
                exchange.record(fault, None, None, f"maintenance ended ({reason})")
            exchange.disarm(fault, reason)

    def _forget_spent(self) -> None:
        for fault_id in [i for i, pairs in self._armed.items() if all(f not in e.armed() for e, f in pairs)]:
            self._armed.pop(fault_id, None)

    def shutdown(self) -> None:
        """Cancel the expiry timers (the server is stopping)."""
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
