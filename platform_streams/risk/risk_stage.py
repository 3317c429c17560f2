"""The risk stage without its consumer: the :class:`RiskEngine`, the side inputs its exposure view is
built from, and one intent's decision as outputs with its metrics. The risk daemon runs it on
``strat.intent``; the trading chain runs it on the intents of its own strategies, in the same call.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import msgspec
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from quicktions import Fraction

from platform_streams.risk.decision import RiskEngine
from platform_streams.risk.kill_switch import KillSwitchError
from platform_streams.risk.limits import RiskLimits
from platform_streams.runtime import Output
from platform_streams.runtime.side_inputs import SideInput
from platform_streams.schemas import (
    BestBidOffer,
    CancelRequest,
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
    ORDER_EVENT_TOPIC,
    ORDER_REQUEST_TOPIC,
    RISK_CONTROL_TOPIC,
    RISK_REJECTION_TOPIC,
    STRATEGY_CONTROL_TOPIC,
)

log = logging.getLogger(__name__)

_DECISION_BUCKETS = (0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05)


class RiskTopics(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """Where risk writes and what it reads beside its intents."""

    order_requests: str = ORDER_REQUEST_TOPIC
    rejections: str = RISK_REJECTION_TOPIC
    controls: str = RISK_CONTROL_TOPIC
    deployments: str = STRATEGY_CONTROL_TOPIC
    instruments: str = INSTRUMENT_TOPIC
    fills: str = FILL_TOPIC
    order_events: str = ORDER_EVENT_TOPIC
    top_of_book: str = BBO_TOPIC


class RiskStage:
    """Decides intents into order requests, cancels and rejections, against the exposure view its
    side inputs keep (fills, order events, risk's own requests read back, kill switches, the
    deployments' epochs, instruments, top of book)."""

    def __init__(
        self,
        limits: RiskLimits,
        budgets: dict[tuple[str, str], Fraction],
        topics: RiskTopics,
        registry: CollectorRegistry,
        daemon_name: str,
    ) -> None:
        self.engine = engine = RiskEngine(limits, budgets)
        self.topics = topics
        self._daemon_name = daemon_name
        self._appliers: dict[str, Callable[[list[Any]], None]] = {
            topics.instruments: self._apply_instruments,
            topics.controls: self._apply_controls,
            topics.deployments: _each(engine.epochs.apply),
            topics.fills: _each(engine.exposure.apply_fill),
            topics.order_events: _each(engine.exposure.apply_order_event),
            topics.order_requests: _each(self._apply_request),
            topics.top_of_book: _each(engine.exposure.apply_bbo),
        }
        self._decisions = Counter(
            "platform_risk_decisions", "Intents decided, by outcome", ("daemon", "outcome"), registry=registry
        )
        self._orders = self._decisions.labels(daemon_name, "order")
        self._nothing = self._decisions.labels(daemon_name, "nothing")
        self._rejections = Counter("platform_risk_rejections", "Intents refused, by rule", ("daemon", "rule"), registry=registry)
        self._decision_seconds = Histogram(
            "platform_risk_decision_seconds", "Time to decide one intent", ("daemon",), buckets=_DECISION_BUCKETS,
            registry=registry,
        ).labels(daemon_name)  # fmt: skip
        self._halts = Gauge("platform_risk_kill_switches", "Kill switches set", ("daemon",), registry=registry).labels(
            daemon_name
        )

    # -- side inputs ---------------------------------------------------------------------------
    def side_inputs(self) -> list[SideInput]:
        topics = self.topics
        return [
            SideInput(topics.instruments, TypedDecoder(Instrument).decode),
            SideInput(topics.controls, TypedDecoder(RiskControl).decode),
            SideInput(topics.deployments, TypedDecoder(StrategyDeploymentControl).decode),
            SideInput(topics.fills, TypedDecoder(Fill).decode),
            SideInput(topics.order_events, TypedDecoder(OrderEvent).decode),
            SideInput(topics.order_requests, TypedDecoder(OrderRequest, CancelRequest).decode),
            SideInput(topics.top_of_book, TypedDecoder(BestBidOffer).decode, from_end=True),
        ]

    def reads(self, topic: str) -> bool:
        return topic in self._appliers

    def on_side_input(self, topic: str, records: list[Any]) -> None:
        self._appliers[topic](records)

    def _apply_request(self, request: OrderRequest | CancelRequest) -> None:
        """Risk's own requests read back: orders count as open, withdrawn ones no longer."""
        if isinstance(request, CancelRequest):
            self.engine.exposure.withdraw(request.client_order_id)
        else:
            self.engine.exposure.apply_order_request(request)

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
    def decide(self, intent: StrategyIntent, received_ns: int, outputs: list[Output]) -> None:
        """Append what ``intent`` becomes to ``outputs``: the cancels it asks for, then its order
        request or rejection (nothing when there is nothing to do). Raises
        :class:`~platform_streams.risk.decision.UnknownInstrument` before deciding anything
        beyond the cancels if the instrument is not known yet, and
        :class:`~platform_streams.risk.fencing.EpochNotYetKnown` for an epoch newer than read."""
        topics = self.topics
        started = time.perf_counter()
        for cancel in self.engine.withdrawals(intent, time.time_ns()):
            outputs.append(Output.event(topics.order_requests, cancel))
        decision = self.engine.decide(intent, received_ns, time.time_ns())
        self._decision_seconds.observe(time.perf_counter() - started)
        if decision is None:
            self._nothing.inc()
        elif isinstance(decision, RiskRejection):
            self._rejections.labels(self._daemon_name, decision.rule).inc()
            outputs.append(Output.event(topics.rejections, decision))
        else:
            self._orders.inc()
            outputs.append(Output.event(topics.order_requests, decision))


def _each(apply: Callable[[Any], None]) -> Callable[[list[Any]], None]:
    def apply_all(records: list[Any]) -> None:
        for record in records:
            if record is not None:
                apply(record)

    return apply_all
