"""The trading chain: a strategy host whose deployments' intents go through risk in the same call,
so an order request leaves with the batch that caused it instead of one broker hop later.

It is the strategy host (:class:`StrategyHostDaemon`: the fan-out, state snapshots, isolation)
with the risk stage (:class:`RiskStage`: the engine and its exposure side inputs) chained after
it. Both topics are still published: ``strat.intent`` for the audit and every other consumer,
``exec.order_request`` (and ``risk.rejection``) as the risk daemon would. The chain owns the risk
of its deployments' accounts: no risk daemon may decide those accounts' intents too (it would
let through the same requests again, deduplicated downstream by client order id, but doubly
counted in its exposure).

Use it when the strategies and risk share a host; the execution daemons stay per account.
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
from platform_streams.runtime import Output
from platform_streams.runtime.side_inputs import SideInput
from platform_streams.schemas import BestBidOffer, EventDecodeError, RiskRejection, StrategyIntent, TypedDecoder
from platform_streams.strategy_host.daemon import StrategyHostDaemon, StrategyHostSettings


class ChainedRiskSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """The risk part of a chain: what the risk daemon's settings say beside its inputs."""

    topics: RiskTopics = msgspec.field(default_factory=RiskTopics)
    limits: RiskLimitsSettings = msgspec.field(default_factory=RiskLimitsSettings)
    allocations: dict[str, AccountAllocationSettings] = {}

    def __post_init__(self) -> None:
        self.engine_parts()  # limits and allocations checked when the settings are read

    def engine_parts(self) -> tuple[RiskLimits, dict[tuple[str, str], Fraction]]:
        return RiskLimits(self.limits), deployment_budgets(self.allocations)


class TradingChainSettings(StrategyHostSettings, kw_only=True):
    risk: ChainedRiskSettings = msgspec.field(default_factory=ChainedRiskSettings)


class TradingChainDaemon(StrategyHostDaemon):
    """Strategy deployments and the risk of their accounts in one process, one call per event."""

    settings: TradingChainSettings

    def __init__(self, settings: TradingChainSettings) -> None:
        super().__init__(settings)
        self.risk = RiskStage(*settings.risk.engine_parts(), settings.risk.topics, self.metrics.registry, settings.name)
        self._tops_in_inputs = settings.risk.topics.top_of_book in settings.inputs
        self._tops = TypedDecoder(BestBidOffer)
        self._host_side_topics = {side.topic for side in super().side_inputs()}

    def side_inputs(self) -> list[SideInput]:
        host = list(super().side_inputs())
        read = {side.topic for side in host}
        if self._tops_in_inputs:
            read.add(self.risk.topics.top_of_book)  # read as an input already, for the deployments' instruments
        return host + [side for side in self.risk.side_inputs() if side.topic not in read]  # ref.instrument once

    def handle(self, batch: Sequence[Message]) -> Iterable[Output]:
        """Risk's view of the top of book comes from the chain's own input (for the instruments its
        deployments trade, which are all it decides on) instead of a second read of every book."""
        if self._tops_in_inputs:
            tops, wanted, apply = self.risk.topics.top_of_book, self.fanout.wanted_keys, self.risk.engine.exposure.apply_bbo
            for message in batch:
                if message.topic() == tops and message.key() in wanted:
                    try:
                        apply(self._tops.decode(message.value()))
                    except EventDecodeError:
                        pass  # the host's handle dead-letters it
        return super().handle(batch)

    def on_side_input(self, topic: str, records: list[Any]) -> None:
        if topic in self._host_side_topics:  # ref.instrument, strat.state, ctl.strategy
            super().on_side_input(topic, records)
        if self.risk.reads(topic):
            self.risk.on_side_input(topic, records)

    def intent_outputs(self, intents: list[StrategyIntent]) -> list[Output]:
        """The intents on ``strat.intent``, each followed at once by what risk makes of it."""
        outputs: list[Output] = []
        for intent in intents:
            outputs.append(Output.event(self.settings.output, intent))
            try:
                self.risk.decide(intent, time.time_ns(), outputs)
            except (UnknownInstrument, EpochNotYetKnown) as error:  # the host knows both before it runs a deployment
                rule = "unknown_instrument" if isinstance(error, UnknownInstrument) else "epoch_unknown"
                outputs.append(Output.event(self.risk.topics.rejections, _refused(intent, rule, str(error))))
        return outputs


def _refused(intent: StrategyIntent, rule: str, detail: str) -> RiskRejection:
    return RiskRejection(
        intent_id=intent.intent_id,
        account=intent.account,
        deployment=intent.deployment or intent.strategy,
        strategy=intent.strategy,
        exchange=intent.exchange,
        symbol=intent.symbol,
        rule=rule,
        detail=detail,
        decided_ts_ns=time.time_ns(),
    )
