"""The risk daemon: :class:`RiskEngine` on ``strat.intent`` under the stream runtime; sized order
requests to ``exec.order_request`` and refusals to ``risk.rejection``, both keyed by account.

Partitioning. Intents are keyed by account, so a replica of the risk group owns whole accounts:
every limit of an account, and of the deployments trading in it, is checked by one process, and
two replicas can never each let through half of a limit. The global kill switch is read by all.

The exposure view is built from side inputs every replica reads whole: fills, order life-cycle
events and the requests risk itself let through (``exec.order_request``, so a replica that takes
over an account counts the orders its predecessor sent), kill switches (``ctl.risk``), instruments,
and top of book from the moment of start-up. When a replica is given a partition, the first
intent it reads there waits until the side inputs are read to their end as of that moment: the
previous owner's requests were acknowledged before it committed, so they are all counted by then.

Kill switch. A ``ctl.risk`` record is applied between batches: once it is read, no order leaves
after the batch in flight.

Fencing (hot deploy). ``ctl.strategy`` is read whole too: once a deployment's record of epoch E is
read, its intents of older epochs are refused (rule ``fenced``), and an intent of a newer epoch waits
for the side inputs like an unknown instrument. An account's intents are decided in order by one
replica, so its orders go out as all of version N's, then all of N+1's, never interleaved.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from fractions import Fraction
from typing import Any

import msgspec
from confluent_kafka import Message
from prometheus_client import Counter, Gauge, Histogram

from platform_streams.risk.budgets import AccountAllocationSettings, deployment_budgets
from platform_streams.risk.decision import RiskEngine, UnknownInstrument
from platform_streams.risk.fencing import EpochNotYetKnown
from platform_streams.risk.kill_switch import KillSwitchError
from platform_streams.risk.limits import RiskLimits, RiskLimitsSettings
from platform_streams.runtime import DaemonSettings, Output, StreamDaemon
from platform_streams.runtime.delivery import TopicPartitionKey
from platform_streams.runtime.side_inputs import SideInput
from platform_streams.schemas import (
    BestBidOffer,
    CancelRequest,
    EventDecodeError,
    Fill,
    Instrument,
    OrderEvent,
    OrderRequest,
    RiskControl,
    RiskRejection,
    StrategyDeploymentControl,
    StrategyIntent,
    TypedDecoder,
)
from platform_streams.topics import (
    BBO_TOPIC,
    FILL_TOPIC,
    INSTRUMENT_TOPIC,
    INTENT_TOPIC,
    ORDER_EVENT_TOPIC,
    ORDER_REQUEST_TOPIC,
    RISK_CONTROL_TOPIC,
    RISK_REJECTION_TOPIC,
    STRATEGY_CONTROL_TOPIC,
)

log = logging.getLogger(__name__)

_DECISION_BUCKETS = (0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05)


class CatchingUp(Exception):
    """Why the first intent of a newly assigned partition waits: the exposure inputs are read first."""


class RiskTopics(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """Where the daemon writes and what it reads beside its intents."""

    order_requests: str = ORDER_REQUEST_TOPIC
    rejections: str = RISK_REJECTION_TOPIC
    controls: str = RISK_CONTROL_TOPIC
    deployments: str = STRATEGY_CONTROL_TOPIC
    instruments: str = INSTRUMENT_TOPIC
    fills: str = FILL_TOPIC
    order_events: str = ORDER_EVENT_TOPIC
    top_of_book: str = BBO_TOPIC


class RiskSettings(DaemonSettings, kw_only=True):
    inputs: list[str] = msgspec.field(default_factory=lambda: [INTENT_TOPIC])
    topics: RiskTopics = msgspec.field(default_factory=RiskTopics)
    limits: RiskLimitsSettings = msgspec.field(default_factory=RiskLimitsSettings)
    allocations: dict[str, AccountAllocationSettings] = {}

    def __post_init__(self) -> None:
        """Limits and allocations are checked when the settings are read (a deployment spec too),
        with the field named (``msgspec`` reports the ValueError as a validation error)."""
        self.engine_parts()

    def engine_parts(self) -> tuple[RiskLimits, dict[tuple[str, str], Fraction]]:
        """The validated limits and the per-deployment budgets these settings describe."""
        return RiskLimits(self.limits), deployment_budgets(self.allocations)


class RiskDaemon(StreamDaemon):
    """Turns intents into order requests or rejections, one exposure view per replica's accounts."""

    settings: RiskSettings

    def __init__(self, settings: RiskSettings) -> None:
        super().__init__(settings)
        self.engine = engine = RiskEngine(*settings.engine_parts())
        self._intents = TypedDecoder(StrategyIntent)
        self._synced: set[TopicPartitionKey] = set()
        topics = settings.topics
        self._appliers = {
            topics.instruments: self._apply_instruments,
            topics.controls: self._apply_controls,
            topics.deployments: self._each(engine.epochs.apply),
            topics.fills: self._each(engine.exposure.apply_fill),
            topics.order_events: self._each(engine.exposure.apply_order_event),
            topics.order_requests: self._each(self._apply_request),
            topics.top_of_book: self._each(engine.exposure.apply_bbo),
        }
        registry, name = self.metrics.registry, settings.name
        self._decisions = Counter(
            "platform_risk_decisions", "Intents decided, by outcome", ("daemon", "outcome"), registry=registry
        )
        self._orders = self._decisions.labels(name, "order")
        self._nothing = self._decisions.labels(name, "nothing")
        self._rejections = Counter("platform_risk_rejections", "Intents refused, by rule", ("daemon", "rule"), registry=registry)
        self._decision_seconds = Histogram(
            "platform_risk_decision_seconds",
            "Time to decide one intent",
            ("daemon",),
            buckets=_DECISION_BUCKETS,
            registry=registry,
        ).labels(name)
        self._halts = Gauge("platform_risk_kill_switches", "Kill switches set", ("daemon",), registry=registry).labels(name)

    # -- side inputs ---------------------------------------------------------------------------
    def side_inputs(self) -> Sequence[SideInput]:
        topics = self.settings.topics
        return [
            SideInput(topics.instruments, TypedDecoder(Instrument).decode),
            SideInput(topics.controls, TypedDecoder(RiskControl).decode),
            SideInput(topics.deployments, TypedDecoder(StrategyDeploymentControl).decode),
            SideInput(topics.fills, TypedDecoder(Fill).decode),
            SideInput(topics.order_events, TypedDecoder(OrderEvent).decode),
            SideInput(topics.order_requests, TypedDecoder(OrderRequest, CancelRequest).decode),
            SideInput(topics.top_of_book, TypedDecoder(BestBidOffer).decode, from_end=True),
        ]

    def _apply_request(self, request: OrderRequest | CancelRequest) -> None:
        """Risk's own requests read back: orders count as open, withdrawn ones no longer."""
        if isinstance(request, CancelRequest):
            self.engine.exposure.withdraw(request.client_order_id)
        else:
            self.engine.exposure.apply_order_request(request)

    def on_side_input(self, topic: str, records: list[Any]) -> None:
        self._appliers[topic](records)

    @staticmethod
    def _each(apply: Callable[[Any], None]) -> Callable[[list[Any]], None]:
        def apply_all(records: list[Any]) -> None:
            for record in records:
                if record is not None:
                    apply(record)

        return apply_all

    def _apply_instruments(self, records: list[Any]) -> None:
        for instrument in records:
            if instrument is not None:
                self.engine.add_instrument(instrument)

    def _apply_controls(self, records: list[Any]) -> None:
        for control in records:
            if control is None:
                continue
            try:
                self.engine.kill_switches.apply(control)
            except KillSwitchError as exc:
                log.warning("kill switch record ignored", extra={"scope": control.scope, "error": str(exc)})
                continue
            log.warning("kill switch", extra={"scope": control.scope, "halted": control.halted, "reason": control.reason})
        self._halts.set(len(self.engine.kill_switches.halted))

    # -- intents -------------------------------------------------------------------------------
    def handle(self, batch: Sequence[Message]) -> Iterable[Output]:
        outputs: list[Output] = []
        topics = self.settings.topics
        received_ns = time.time_ns()
        decide, observe = self.engine.decide, self._decision_seconds.observe
        for message in batch:
            if self.held(message):
                continue
            partition = (message.topic(), message.partition())
            if partition not in self._synced:
                # newly ours: count every order the previous owner sent before deciding anything here
                self._synced.add(partition)
                self.hold_for_side_inputs(
                    message, CatchingUp(f"partition {partition[1]} newly assigned: exposure inputs read first")
                )
                continue
            try:
                intent = self._intents.decode(message.value())
            except EventDecodeError as error:
                outputs.append(self.dead_letter(message, error))
                continue
            started = time.perf_counter()
            try:
                for cancel in self.engine.withdrawals(intent, time.time_ns()):
                    outputs.append(Output.event(topics.order_requests, cancel))
                decision = decide(intent, received_ns, time.time_ns())
            except (UnknownInstrument, EpochNotYetKnown) as error:
                letter = self.hold_for_side_inputs(message, error)
                if letter is not None:
                    outputs.append(letter)
                continue
            observe(time.perf_counter() - started)
            if decision is None:
                self._nothing.inc()
            elif isinstance(decision, RiskRejection):
                self._rejections.labels(self.settings.name, decision.rule).inc()
                outputs.append(Output.event(topics.rejections, decision))
            else:
                self._orders.inc()
                outputs.append(Output.event(topics.order_requests, decision))
        return outputs

    def on_partitions_released(self, partitions: list[TopicPartitionKey]) -> None:
        """Another replica owns these accounts now; if they come back, they are synced again first."""
        self._synced.difference_update(partitions)
