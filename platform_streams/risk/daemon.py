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

import time
from collections.abc import Iterable, Sequence
from typing import Any

import msgspec
from confluent_kafka import Message
from quicktions import Fraction

from platform_streams.risk.budgets import AccountAllocationSettings, deployment_budgets
from platform_streams.risk.decision import UnknownInstrument
from platform_streams.risk.fencing import EpochNotYetKnown
from platform_streams.risk.limits import RiskLimits, RiskLimitsSettings
from platform_streams.risk.risk_stage import RiskStage, RiskTopics
from platform_streams.runtime import DaemonSettings, Output, StreamDaemon
from platform_streams.runtime.delivery import TopicPartitionKey
from platform_streams.runtime.side_inputs import SideInput
from platform_streams.schemas import EventDecodeError, StrategyIntent, TypedDecoder
from platform_streams.topics import INTENT_TOPIC

__all__ = ["CatchingUp", "RiskDaemon", "RiskSettings", "RiskTopics"]


class CatchingUp(Exception):
    """Why the first intent of a newly assigned partition waits: the exposure inputs are read first."""


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
        self.stage = RiskStage(*settings.engine_parts(), settings.topics, self.metrics.registry, settings.name)
        self.engine = self.stage.engine
        self._intents = TypedDecoder(StrategyIntent)
        self._synced: set[TopicPartitionKey] = set()

    # -- side inputs ---------------------------------------------------------------------------
    def side_inputs(self) -> Sequence[SideInput]:
        return self.stage.side_inputs()

    def on_side_input(self, topic: str, records: list[Any]) -> None:
        self.stage.on_side_input(topic, records)

    # -- intents -------------------------------------------------------------------------------
    def handle(self, batch: Sequence[Message]) -> Iterable[Output]:
        outputs: list[Output] = []
        received_ns = time.time_ns()
        decide = self.stage.decide
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
            try:
                decide(intent, received_ns, outputs)
            except (UnknownInstrument, EpochNotYetKnown) as error:
                letter = self.hold_for_side_inputs(message, error)
                if letter is not None:
                    outputs.append(letter)
        return outputs

    def on_partitions_released(self, partitions: list[TopicPartitionKey]) -> None:
        """Another replica owns these accounts now; if they come back, they are synced again first."""
        self._synced.difference_update(partitions)
