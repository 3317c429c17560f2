"""The faults armed on one exchange, the connections they act on, and what they do to each outgoing flush.

Every WebSocket connection of the exchange is attached here (it gets its id,
``<exchange>-<n>``). While nothing is armed, :attr:`ExchangeFaults.engaged` is
False and a flush costs one attribute check. While a frame fault is armed, each
frame of a targeted connection is read (``frame_inspection``) and the fault may
drop it (a gap), send it twice, swap it with the next matching one, or corrupt it;
then stall and latency decide when what is left is written. Every action is
recorded in the ground truth.
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass, field

from platform_streams.simulator.faults.delivery import DelayedDelivery
from platform_streams.simulator.faults.frame_inspection import FrameInfo, FrameReader, channel_matches
from platform_streams.simulator.faults.malformed import malformed
from platform_streams.simulator.faults.spec import FRAME_FAULTS, FaultKind, FaultSpec
from platform_streams.simulator.ground_truth import FaultRecord, GroundTruth
from platform_streams.simulator.websocket_connection import ClientConnection

log = logging.getLogger(__name__)


@dataclass(slots=True)
class ArmedFault:
    """A fault in force on one exchange: its spec, what is left of it, and its own random stream."""

    fault_id: int
    spec: FaultSpec
    expires_at: float | None  # monotonic seconds; None: one-shot, until its count is used or it is cleared
    remaining: int
    rng: random.Random
    held: dict[str, tuple[bytes, FrameInfo]] = field(default_factory=dict)  # reorder: the frame waiting per connection
    last_ids: dict[tuple[str, str], int] = field(default_factory=dict)  # gap: last update id per (connection, symbol)

    @property
    def is_frame_fault(self) -> bool:
        return self.spec.kind in FRAME_FAULTS

    @property
    def spent(self) -> bool:
        """A one-shot fault whose frames are all used (and that holds nothing back)."""
        return self.expires_at is None and self.remaining <= 0 and not self.held

    def targets(self, connection: ClientConnection) -> bool:
        return self.spec.connection is None or self.spec.connection == connection.connection_id

    def selects(self, info: FrameInfo) -> bool:
        spec = self.spec
        if spec.symbol is not None and spec.symbol.upper() != info.symbol.upper():
            return False
        return spec.channel is None or channel_matches(spec.channel, info.channel)

    def take(self) -> bool:
        """Use one frame of the budget (one-shot) or draw against the probability (for a duration)."""
        if self.expires_at is None:
            if self.remaining <= 0:
                return False
            self.remaining -= 1
            return True
        return self.spec.probability >= 1.0 or self.rng.random() < self.spec.probability


class ExchangeFaults:
    """Connections and armed faults of one exchange; the per-flush hook of its connections."""

    def __init__(self, exchange: str, read_frame: FrameReader, ground_truth: GroundTruth) -> None:
        self.exchange = exchange
        self.engaged = False
        self.connections: dict[str, ClientConnection] = {}
        self._read_frame = read_frame
        self._ground_truth = ground_truth
        self._next_connection = 1
        self._armed: list[ArmedFault] = []
        self._delivery: dict[str, DelayedDelivery] = {}

    # connections -----------------------------------------------------------

    def attach(self, connection: ClientConnection) -> None:
        connection.connection_id = f"{self.exchange}-{self._next_connection}"
        self._next_connection += 1
        connection.faults = self
        self.connections[connection.connection_id] = connection

    def detach(self, connection: ClientConnection) -> None:
        self.connections.pop(connection.connection_id, None)
        delivery = self._delivery.pop(connection.connection_id, None)
        if delivery is not None:
            delivery.cancel()
        for fault in self._armed:
            fault.held.pop(connection.connection_id, None)
        self._update_engaged()

    def targeted(self, spec: FaultSpec) -> list[ClientConnection]:
        return [c for c in self.connections.values() if not c.closed and (spec.connection in (None, c.connection_id))]

    # arming ------------------------------------------------------------------

    def arm(self, fault: ArmedFault) -> None:
        self._armed.append(fault)
        if fault.spec.kind is FaultKind.STALL:
            assert fault.expires_at is not None
            for connection in self.targeted(fault.spec):
                delivery = self._delivery_of(connection)
                delivery.stalled_until = max(delivery.stalled_until, fault.expires_at)
                self.record(fault, connection, None, f"stalled for {fault.spec.duration_s} s")
        elif fault.spec.kind is FaultKind.LATENCY:
            for connection in self.targeted(fault.spec):
                self.record(fault, connection, None, f"+{fault.spec.latency_ms} ms on every frame")
        self._update_engaged()

    def disarm(self, fault: ArmedFault, reason: str) -> None:
        """End a fault: release what it holds back, lift its stall or latency."""
        if fault not in self._armed:
            return
        self._armed.remove(fault)
        for connection_id, (data, info) in list(fault.held.items()):
            connection = self.connections.get(connection_id)
            if connection is not None:
                self._write(connection, [data])
                self.record(fault, connection, info, "held frame released unswapped: " + reason)
        fault.held.clear()
        if fault.spec.kind in (FaultKind.STALL, FaultKind.LATENCY):
            for connection_id, delivery in list(self._delivery.items()):
                connection = delivery.connection
                if not fault.targets(connection):
                    continue
                if fault.spec.kind is FaultKind.STALL:
                    self.record(fault, connection, None, f"stall ended ({reason}), {delivery.held_frames} frames released")
                    delivery.stalled_until = self._stall_end(connection)
                delivery.latency_s = self._latency_s(connection)
                delivery.release()
                if delivery.idle:
                    self._delivery.pop(connection_id, None)
        self._update_engaged()

    def armed(self) -> list[ArmedFault]:
        return list(self._armed)

    def in_maintenance(self) -> bool:
        return any(f.spec.kind is FaultKind.MAINTENANCE for f in self._armed)

    def refuses_order(self) -> bool:
        """Whether a ``rate_limit`` fault refuses this new-order request (using one of a one-shot fault's count)."""
        for fault in self._armed:
            if fault.spec.kind is FaultKind.RATE_LIMIT and fault.take():
                self.record(fault, None, None, "order request refused with the rate-limit reply")
                if fault.spent:
                    self._armed.remove(fault)
                return True
        return False

    def is_stalled(self, connection: ClientConnection) -> bool:
        delivery = self._delivery.get(connection.connection_id)
        return delivery is not None and delivery.is_stalled(time.monotonic())

    def _update_engaged(self) -> None:
        self.engaged = bool(self._delivery) or any(
            f.spec.kind not in (FaultKind.MAINTENANCE, FaultKind.RATE_LIMIT) for f in self._armed
        )

    def _stall_end(self, connection: ClientConnection) -> float:
        ends = [f.expires_at for f in self._armed if f.spec.kind is FaultKind.STALL and f.targets(connection)]
        return max([end for end in ends if end is not None], default=0.0)

    def _latency_s(self, connection: ClientConnection) -> float:
        delays = [f.spec.latency_ms for f in self._armed if f.spec.kind is FaultKind.LATENCY and f.targets(connection)]
        return max(delays, default=0.0) / 1000.0

    def _delivery_of(self, connection: ClientConnection) -> DelayedDelivery:
        delivery = self._delivery.get(connection.connection_id)
        if delivery is None:
            delivery = self._delivery[connection.connection_id] = DelayedDelivery(connection)
        return delivery

    # the flush hook ---------------------------------------------------------------

    def outgoing(self, connection: ClientConnection, frames: list[bytes]) -> list[bytes]:
        """What to write now of one flush (called by ``ClientConnection.flush`` while engaged)."""
        frame_faults = [f for f in self._armed if f.is_frame_fault and f.targets(connection) and not f.spent]
        if frame_faults:
            frames = self._apply_frame_faults(connection, frames, frame_faults)
            for fault in frame_faults:
                if fault.spent:
                    self.disarm(fault, "used")
        latency_s = self._latency_s(connection)
        delivery = self._delivery.get(connection.connection_id)
        if delivery is None and latency_s <= 0:
            return frames
        delivery = delivery or self._delivery_of(connection)
        delivery.latency_s = latency_s
        ready = delivery.route(frames)
        if delivery.idle:
            self._delivery.pop(connection.connection_id, None)
            self._update_engaged()
        return ready

    def _apply_frame_faults(self, connection: ClientConnection, frames: list[bytes], faults: list[ArmedFault]) -> list[bytes]:
        out: list[bytes] = []
        for data in frames:
            info = self._read_frame(data)
            if info is None:
                out.append(data)
                continue
            for fault in faults:
                if fault.targets(connection) and fault.selects(info) and self._hit(fault, connection, data, info, out):
                    break
            else:
                out.append(data)
        return out

    def _hit(self, fault: ArmedFault, connection: ClientConnection, data: bytes, info: FrameInfo, out: list[bytes]) -> bool:
        """Apply ``fault`` to one selected frame if it takes it; True when the frame was handled."""
        kind, key = fault.spec.kind, connection.connection_id
        if kind is FaultKind.REORDER and key in fault.held:
            held, held_info = fault.held.pop(key)
            out += [data, held]
            self.record(fault, connection, held_info, f"sent after the next frame (id {info.event_id})")
            return True
        if kind is FaultKind.GAP:
            if not info.is_book_update:
                return False
            previous = fault.last_ids.get((key, info.symbol))
            fault.last_ids[(key, info.symbol)] = info.event_id
            if not info.sequenced and (previous is None or previous == info.event_id):
                return False  # unnumbered updates: skip one that changes the book's checksum, so the gap shows
        if not fault.take():
            return False
        if kind is FaultKind.GAP:
            self.record(fault, connection, info, "book update not sent")
        elif kind is FaultKind.DUPLICATE:
            out += [data, data]
            self.record(fault, connection, info, "sent twice")
        elif kind is FaultKind.MALFORMED:
            out.append(malformed(data, fault.spec.malformed))
            self.record(fault, connection, info, f"sent {fault.spec.malformed}")
        else:
            fault.held[key] = (data, info)
        return True

    def _write(self, connection: ClientConnection, frames: list[bytes]) -> None:
        delivery = self._delivery.get(connection.connection_id)
        ready = delivery.route(frames) if delivery is not None else frames
        if ready:
            connection.write_frames(ready)

    def record(self, fault: ArmedFault, connection: ClientConnection | None, info: FrameInfo | None, detail: str) -> None:
        self._ground_truth.record_fault(
            FaultRecord(
                fault_id=fault.fault_id,
                kind=str(fault.spec.kind),
                exchange=self.exchange,
                connection=connection.connection_id if connection is not None else "",
                channel=info.channel if info is not None else "",
                symbol=info.symbol if info is not None else "",
                event_id=info.event_id if info is not None else -1,
                detail=detail,
                at_ns=time.time_ns(),
            )
        )
        log.debug(
            "fault action",
            extra={
                "exchange": self.exchange,
                "fault": str(fault.spec.kind),
                "connection": connection and connection.connection_id,
            },
        )
