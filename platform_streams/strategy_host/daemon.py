"""The strategy host daemon: the :class:`DeploymentFanout` under the stream runtime. It reads the
market data and its accounts' fills once, hands each event to the deployments of its instrument,
and publishes their intents to ``strat.intent``.

State: every ``snapshot_interval_s`` (and at a clean stop) each running deployment's snapshot goes
to the compacted ``strat.state`` topic as an output of the batch, with the input offsets it covers.
On start the host reads ``strat.state`` (a side input) before its first batch, restores each of its
deployments, starts its partitions at the snapshots' offsets, and skips for each deployment the
records its state already includes: a restart neither loses an event nor applies one twice.
Reference data (``ref.instrument``) is the other side input; a deployment waits until all its
instruments are known.

Deployments at run time (hot deploy): ``ctl.strategy`` is a third side input. A record naming this
host starts its deployment, or replaces the version running here by the record's (N+1 takes N's
state in memory, at the same offsets: no gap); one naming another host, or a stopped one, stops it
here (fenced: no more events, no more snapshots). A deployment started here from another host's
state restores the deployment's latest ``strat.state`` snapshot and catches up: the host reads its
inputs again from the snapshot's offsets (the other deployments skip what they have seen), and the
new version's intents are withheld until it has read as far as the host had. Its intents carry the
record's epoch; risk lets through only the current epoch's (``platform_streams/risk/fencing.py``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence
from typing import Any

import msgspec
from confluent_kafka import Consumer, Message, TopicPartition
from prometheus_client import Counter, Gauge

from platform_streams.kafka_clients import ConsumerProfile
from platform_streams.runtime import DaemonSettings, Output, StreamDaemon
from platform_streams.runtime.side_inputs import SideInput
from platform_streams.schemas import (
    BestBidOffer,
    Candle,
    EventDecodeError,
    Fill,
    Hop,
    IndicatorValue,
    Instrument,
    StrategyDeploymentControl,
    StrategyIntent,
    StrategySnapshot,
    Trade,
    TypedDecoder,
    decode,
)
from platform_streams.schemas.hop_trace import upstream_hops
from platform_streams.strategy_host.deployment_control import BadControlRecord, ControlAction, plan, spec_of
from platform_streams.strategy_host.fanout import Decisions, DeploymentFanout, RoutedEvent
from platform_streams.strategy_host.hosted_deployment import (
    DeploymentRefused,
    DeploymentState,
    HostedDeployment,
    Partition,
    build_deployment,
)
from platform_streams.strategy_host.intent_events import intent_event
from platform_streams.strategy_host.state_snapshots import snapshot_of
from platform_streams.strategy_host.strategy_deployment import StrategyDeploymentSpec
from platform_streams.topics import (
    BBO_TOPIC,
    CANDLE_TOPIC,
    FILL_TOPIC,
    INDICATOR_TOPIC,
    INSTRUMENT_TOPIC,
    INTENT_TOPIC,
    STRATEGY_CONTROL_TOPIC,
    STRATEGY_STATE_TOPIC,
    TRADE_TOPIC,
)

log = logging.getLogger(__name__)

ROUTED_TYPES = frozenset((Trade, BestBidOffer, Candle, IndicatorValue, Fill))


class StrategyHostSettings(DaemonSettings, kw_only=True):
    """A host: its deployments and where it reads and writes. Run one replica per host (its consumer
    group reads every partition); spread deployments over more hosts to use more cores."""

    inputs: list[str] = msgspec.field(default_factory=lambda: [TRADE_TOPIC, BBO_TOPIC, CANDLE_TOPIC, INDICATOR_TOPIC, FILL_TOPIC])
    deployments: list[StrategyDeploymentSpec] = msgspec.field(default_factory=list)
    output: str = INTENT_TOPIC
    state_topic: str = STRATEGY_STATE_TOPIC
    instrument_topic: str = INSTRUMENT_TOPIC
    control_topic: str = STRATEGY_CONTROL_TOPIC
    snapshot_interval_s: float = 10.0


class StrategyHostDaemon(StreamDaemon):
    """Many strategy deployments in one process, off one read of the market data."""

    consumer_profile = ConsumerProfile.TICK  # market data is busy: a fetch waits ≤ 1 ms for ~10 events, not one each

    settings: StrategyHostSettings

    def __init__(self, settings: StrategyHostSettings) -> None:
        super().__init__(settings)
        self.reference: dict[str, Instrument] = {}
        self.fanout = DeploymentFanout()
        self.refused: dict[str, str] = {}
        self._next_offsets: dict[Partition, int] = {}
        self._rewind: dict[Partition, int] = {}
        self._restoring = True
        self.latest_snapshots: dict[str, StrategySnapshot] = {}  # each deployment's latest snapshot read back
        self._catching_up: list[HostedDeployment] = []
        self._next_snapshot = time.monotonic() + settings.snapshot_interval_s
        registry = self.metrics.registry
        self._intents = Counter(
            "platform_strategy_host_intents_total", "Intents published", ("daemon", "deployment"), registry=registry
        )
        self._failures = Counter(
            "platform_strategy_host_deployment_failures_total",
            "Deployments stopped because their strategy raised",
            ("daemon", "deployment"),
            registry=registry,
        )
        self._handovers = Counter(
            "platform_strategy_host_control_actions_total",
            "Hand-over steps: ctl.strategy records applied (start, replace, stop) and catch-ups begun (catch_up)",
            ("daemon", "action"),
            registry=registry,
        )
        self._intent_counters: dict[str, Any] = {}  # the labelled child per deployment, looked up once
        self._states = Gauge("platform_strategy_host_deployments", "Deployments by state", ("daemon", "state"), registry=registry)
        for spec in settings.deployments:
            self._add(spec)
        self._count_states()

    def _add(self, spec: StrategyDeploymentSpec) -> None:
        try:
            self.fanout.add(build_deployment(spec, self.reference))
        except DeploymentRefused as refused:
            self.refused[spec.id] = refused.reason
            self.record_error("deployment refused", refused)
            log.error("strategy deployment refused", extra={"deployment": spec.id, "reason": refused.reason})

    # -- side inputs: reference data and restored state ----------------------------------------
    def side_inputs(self) -> Sequence[SideInput]:
        return [
            SideInput(self.settings.instrument_topic, TypedDecoder(Instrument).decode),
            SideInput(self.settings.state_topic, TypedDecoder(StrategySnapshot).decode),
            SideInput(self.settings.control_topic, TypedDecoder(StrategyDeploymentControl).decode),
        ]

    def on_side_input(self, topic: str, records: list[Any]) -> None:
        if topic == self.settings.state_topic:
            for snapshot in records:
                if snapshot is not None:
                    self.latest_snapshots[snapshot.deployment] = snapshot
                    if self._restoring:  # later records are this host's own snapshots coming back
                        self._restore(snapshot)
            return
        if topic == self.settings.control_topic:
            for control in records:
                if control is not None:
                    self._apply_control(control)
            self._count_states()
            return
        for instrument in records:
            if instrument is not None:
                self.reference[instrument.key] = instrument
        for deployment in self.fanout.activate_ready(self.reference):
            log.info("strategy deployment running", extra={"deployment": deployment.id, "strategy": deployment.spec.strategy})
        self._count_states()

    def _restore(self, snapshot: StrategySnapshot) -> None:
        try:
            deployment = self.fanout.restore(snapshot)
        except DeploymentRefused as refused:
            self.fanout.stop(self.fanout.deployments[snapshot.deployment], refused)
            self.record_error("deployment restore", refused)
            self._count_states()
            return
        if deployment is None:
            return
        for (topic, partition), offset in deployment.covered.items():
            known = self._rewind.get((topic, partition))
            self._rewind[(topic, partition)] = offset if known is None else min(known, offset)
        log.info("strategy deployment restored", extra={"deployment": deployment.id, "snapshot_ts_ns": snapshot.ts_ns})

    # -- deployments at run time: ctl.strategy ----------------------------------------------------
    def _apply_control(self, control: StrategyDeploymentControl) -> None:
        current = self.fanout.deployments.get(control.deployment)
        action = plan(self.settings.name, None if current is None else current.epoch, control)
        if action is ControlAction.NONE:
            return
        self._handovers.labels(self.settings.name, action.value).inc()
        log.info(
            "strategy deployment control",
            extra={"deployment": control.deployment, "epoch": control.epoch, "action": action.value, "host": control.host},
        )
        if action is ControlAction.STOP:
            assert current is not None
            self.fanout.retire(current)
            return
        was_running = current is not None and current.state is DeploymentState.RUNNING
        try:
            deployment = build_deployment(spec_of(control), self.reference, control.epoch)
            if current is None:
                self.fanout.add(deployment)
            else:
                self.fanout.replace(deployment)
        except (BadControlRecord, DeploymentRefused) as refused:
            if current is not None:
                self.fanout.retire(current)  # the record fences it whatever: risk refuses its epoch now
            self.refused[control.deployment] = str(refused)
            self.record_error("deployment refused", refused)
            log.error("strategy deployment refused", extra={"deployment": control.deployment, "reason": str(refused)})
            return
        self.refused.pop(control.deployment, None)
        self.fanout.activate_ready(self.reference)
        if current is not None and was_running:
            # replaced here while running: the new version takes its state at the very offsets it had read
            try:
                self.fanout.restore(snapshot_of(current, self._next_offsets, time.time_ns()))
            except DeploymentRefused as refused:  # e.g. the new version cannot read the old one's state version
                self.fanout.stop(deployment, refused)
                self.record_error("deployment restore", refused)
        else:
            self._take_over(deployment)

    def _take_over(self, deployment: HostedDeployment) -> None:
        """Start ``deployment`` from its latest snapshot (another host's, or an older run's) and catch up."""
        snapshot = self.latest_snapshots.get(deployment.id)
        if self._restoring:  # before the first batch: partitions start at the snapshot (``_on_assign``)
            if snapshot is not None:
                self._restore(snapshot)
            return
        if snapshot is not None:
            try:
                restored = self.fanout.restore(snapshot)
            except DeploymentRefused as refused:
                self.fanout.stop(deployment, refused)
                self.record_error("deployment restore", refused)
                return
            if restored is None:
                return
        target = dict(self._next_offsets)  # how far the host has read: the replay's end
        replay = {p: deployment.covered[p] for p, end in target.items() if deployment.covered.get(p, end) < end}
        if not replay:
            return
        self.fanout.cover(target, but=deployment)
        rewound = self.rewind(replay)
        for partition in rewound:
            self._next_offsets[partition] = replay[partition]
        deployment.catching_up = {p: target[p] for p in rewound}
        if deployment.catching_up:
            self._catching_up.append(deployment)
            self._handovers.labels(self.settings.name, "catch_up").inc()
            log.info(
                "strategy deployment catching up",
                extra={"deployment": deployment.id, "epoch": deployment.epoch, "partitions": len(rewound)},
            )

    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        """Start restored partitions where the snapshots left off, not at the committed offsets (which
        may be past them after a crash: the events in between are in no state yet)."""
        super()._on_assign(consumer, partitions)
        rewound = [tp for tp in partitions if (tp.topic, tp.partition) in self._rewind]
        if rewound:
            for tp in rewound:
                tp.offset = self._rewind.pop((tp.topic, tp.partition))
            consumer.incremental_assign(partitions)
            log.info(
                "partitions start at the strategy snapshots",
                extra={"partitions": [f"{t.topic}[{t.partition}]@{t.offset}" for t in rewound]},
            )

    # -- the stage -------------------------------------------------------------------------------------
    def handle(self, batch: Sequence[Message]) -> Iterable[Output]:
        self._restoring = False
        consumed_ns = time.time_ns()
        outputs: list[Output] = []
        dispatch, next_offsets = self.fanout.dispatch, self._next_offsets
        fanout = self.fanout
        for message in batch:
            topic, partition, offset = message.topic(), message.partition(), message.offset()
            next_offsets[(topic, partition)] = offset + 1
            key = message.key()
            if key is not None and key not in fanout.wanted_keys:
                continue  # no deployment reads this instrument (most of a market's): not even decoded
            try:
                event = decode(message.value())
            except EventDecodeError as error:
                outputs.append(self.dead_letter(message, error))
                continue
            if type(event) not in ROUTED_TYPES:
                continue  # e.g. book deltas on md.book: strategies see the top of book (md.bbo)
            decisions, failed = dispatch(event, topic, partition, offset)  # type: ignore[arg-type]
            if decisions:
                upstream = upstream_hops(event.exchange_ts_ns, event.receive_ts_ns, message.headers())  # type: ignore[union-attr]
                self._publish(decisions, event, consumed_ns, outputs, upstream)  # type: ignore[arg-type]
            for deployment in failed:
                self._failed(deployment)
        if self._catching_up:
            self._advance_catch_up()
        if time.monotonic() >= self._next_snapshot:
            self._next_snapshot = time.monotonic() + self.settings.snapshot_interval_s
            outputs.extend(self.snapshots())
        return outputs

    def _advance_catch_up(self) -> None:
        for deployment in [
            d for d in self._catching_up if d.caught_up(self._next_offsets) or d.state is not DeploymentState.RUNNING
        ]:
            self._catching_up.remove(deployment)
            log.info("strategy deployment caught up: live", extra={"deployment": deployment.id, "epoch": deployment.epoch})

    def _publish(
        self, decisions: Decisions, cause: RoutedEvent, consumed_ns: int, outputs: list[Output], upstream: list[Hop]
    ) -> None:
        cause_id = cause.event_id
        for deployment, intents in decisions:
            if deployment.catching_up:
                continue  # replaying input it has not seen: its state catches up, its intents were sent before
            try:
                events = [
                    intent_event(
                        deployment,
                        intent,
                        self._instrument_of(deployment, intent.instrument),
                        cause_id,
                        index,
                        cause.receive_ts_ns,
                        consumed_ns,
                        time.time_ns(),
                        upstream,
                    )
                    for index, intent in enumerate(intents)
                ]
                outputs_of_deployment = self.intent_outputs(events)
            except Exception as error:  # what the strategy returned is no valid intent: its fault, not the host's
                self.fanout.stop(deployment, error)
                self._failed(deployment)
                continue
            deployment.intents += len(events)
            counter = self._intent_counters.get(deployment.id)
            if counter is None:
                counter = self._intent_counters[deployment.id] = self._intents.labels(self.settings.name, deployment.id)
            counter.inc(len(events))
            outputs.extend(outputs_of_deployment)

    def intent_outputs(self, intents: list[StrategyIntent]) -> list[Output]:
        """What a deployment's intents become: ``strat.intent`` records (the trading chain adds its
        risk decisions on them)."""
        return [Output.event(self.settings.output, intent) for intent in intents]

    def _instrument_of(self, deployment: HostedDeployment, key: str) -> Instrument:
        if key not in deployment.instrument_keys:
            raise ValueError(f"intent for {key!r}, which is not one of the deployment's instruments")
        return self.reference[key]

    def _failed(self, deployment: HostedDeployment) -> None:
        self._failures.labels(self.settings.name, deployment.id).inc()
        self.record_error(f"deployment {deployment.id}", deployment.error)
        self._count_states()

    def snapshots(self) -> list[Output]:
        """Every running deployment's state as of the input read so far, for ``strat.state``; a
        strategy whose state cannot be taken is stopped (``handle`` must not raise: the runtime
        would replay the batch into the other strategies)."""
        now_ns = time.time_ns()
        outputs = []
        for deployment in self.fanout.running():
            try:
                snapshot = snapshot_of(deployment, self._next_offsets, now_ns)
                outputs.append(Output.event(self.settings.state_topic, snapshot))
            except Exception as error:  # the strategy's state() or snapshot() failed: its fault
                self.fanout.stop(deployment, error)
                self._failed(deployment)
        return outputs

    def _shutdown(self) -> None:
        """A clean stop snapshots every deployment exactly at the offsets about to be committed."""
        try:
            for output in self.snapshots():
                self.producers.produce(output)
        finally:
            super()._shutdown()

    def _count_states(self) -> None:
        counts = {state.value: 0 for state in DeploymentState}
        for deployment in self.fanout.deployments.values():
            counts[deployment.state.value] += 1
        counts["refused"] = len(self.refused)
        for state, count in counts.items():
            self._states.labels(self.settings.name, state).set(count)
