"""A deployment's ``StrategySnapshot`` for the compacted ``strat.state`` topic: its strategy's state,
its positions, and the input offsets that state includes."""

from __future__ import annotations

from collections.abc import Mapping

from platform_streams.schemas import InputOffset, StrategySnapshot
from platform_streams.strategy_host.hosted_deployment import HostedDeployment, Partition


def snapshot_of(deployment: HostedDeployment, next_offsets: Mapping[Partition, int], now_ns: int) -> StrategySnapshot:
    """The snapshot of ``deployment`` having read each input partition up to ``next_offsets``;
    partitions not read since it was restored keep the offsets its restored state covered, and so do
    partitions the host reads again below them (rewound for another deployment's catch-up)."""
    covered = dict(deployment.covered)
    for partition, offset in next_offsets.items():
        if offset > covered.get(partition, 0):
            covered[partition] = offset
    strategy = deployment.driver.strategy
    return StrategySnapshot(
        deployment=deployment.id,
        strategy=strategy.name,
        strategy_version=strategy.version,
        state=strategy.snapshot(),
        instrument_positions=deployment.driver.context.positions(),
        input_offsets=[InputOffset(topic, partition, offset) for (topic, partition), offset in sorted(covered.items())],
        ts_ns=now_ns,
        epoch=deployment.epoch,
    )
